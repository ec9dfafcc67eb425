#!/usr/bin/env bash
# Install Debian packages non-interactively, as root or through passwordless sudo.
#   scripts/apt-install.sh WHO MARKER PACKAGE...
# WHO names the caller in messages; MARKER is the pytest marker that skips the tests needing
# the packages (shown in the hint when installing is not possible).
set -euo pipefail
who=$1 marker=$2
shift 2

if ! command -v apt-get >/dev/null 2>&1; then
  echo "$who: $* missing and no apt-get to install it;" >&2
  echo "$who: install $*, or run pytest with -m 'not $marker'" >&2
  exit 1
fi

SUDO=()
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "$who: installing $* needs root:" >&2
    echo "  sudo apt-get install -y $*   (or run pytest with -m 'not $marker')" >&2
    exit 1
  fi
fi

echo "$who: installing Debian's $* for the tests" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
