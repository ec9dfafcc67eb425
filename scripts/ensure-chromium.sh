#!/usr/bin/env bash
# Make sure a headless Chromium exists for the report-rendering test (`make test` runs this
# before pytest). The test renders the demo's HTML report to PNG with it. Installs Debian's
# `chromium` package when no browser is found; never starts anything.
set -euo pipefail

have_chromium() {
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
    || command -v google-chrome >/dev/null 2>&1
}

if have_chromium; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: no Chromium and no apt-get to install it;" >&2
  echo "ensure-chromium: install chromium, or run pytest with -m 'not chromium'" >&2
  exit 1
fi

SUDO=()
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "ensure-chromium: Chromium is missing; installing it needs root:" >&2
    echo "  sudo apt-get install -y chromium   (or run pytest with -m 'not chromium')" >&2
    exit 1
  fi
fi

echo "ensure-chromium: installing Debian's chromium package for the report test" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null

if ! have_chromium; then
  echo "ensure-chromium: chromium was installed but no chromium binary was found" >&2
  exit 1
fi
