#!/usr/bin/env bash
# Make sure a headless Chromium exists for the report-rendering test (`make test` runs this
# before pytest). The test renders the demo's HTML report to PNG with it. Installs Debian's
# `chromium` package when no browser is found; never starts anything.
set -euo pipefail

have_chromium() {
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
    || command -v google-chrome >/dev/null 2>&1
}

have_chromium && exit 0
"$(dirname "$0")/apt-install.sh" ensure-chromium chromium chromium fonts-dejavu-core
if ! have_chromium; then
  echo "ensure-chromium: chromium was installed but no chromium binary was found" >&2
  exit 1
fi
