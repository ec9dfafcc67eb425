#!/usr/bin/env bash
# Make sure PostgreSQL server binaries exist for the tests marked `postgres`
# (`make test` runs this before pytest). The tests start their own throwaway
# server; this script only installs the binaries, from Debian's `postgresql`
# package, when none are found. It never starts or configures a server.
set -euo pipefail

have_postgres() {
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1
}

if have_postgres; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-postgres: no PostgreSQL server binaries (initdb) and no apt-get to install them;" >&2
  echo "ensure-postgres: install PostgreSQL, or run pytest with -m 'not postgres'" >&2
  exit 1
fi

SUDO=()
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "ensure-postgres: PostgreSQL is missing; installing it needs root:" >&2
    echo "  sudo apt-get install -y postgresql   (or run pytest with -m 'not postgres')" >&2
    exit 1
  fi
fi

echo "ensure-postgres: installing Debian's postgresql package for the tests" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends postgresql >/dev/null

if ! have_postgres; then
  echo "ensure-postgres: postgresql was installed but initdb was not found" >&2
  exit 1
fi
