#!/usr/bin/env bash
# Make sure PostgreSQL server binaries exist for the tests marked `postgres`
# (`make test` runs this before pytest). The tests start their own throwaway
# server; this script only installs the binaries, from Debian's `postgresql`
# package, when none are found. It never starts or configures a server.
set -euo pipefail

have_postgres() {
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1
}

have_postgres && exit 0
"$(dirname "$0")/apt-install.sh" ensure-postgres postgres postgresql
if ! have_postgres; then
  echo "ensure-postgres: postgresql was installed but initdb was not found" >&2
  exit 1
fi
