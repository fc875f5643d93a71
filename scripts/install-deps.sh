#!/bin/sh
# Installs the Debian packages that building and testing jhansi-exec need.
# Idempotent: does nothing when everything is present.
#   --check-or-install  install only what is missing (default)
#   --list              print the package list and exit
set -eu

PACKAGES="libseccomp-dev libcapstone-dev libunwind-dev libmsgpack-dev libsqlite3-dev
libcriterion-dev libssl-dev libjansson-dev cmake pkg-config gcc clang make python3
sqlite3 git util-linux procps"

if [ "${1:-}" = "--list" ]; then
	echo $PACKAGES
	exit 0
fi

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "install-deps: missing packages:$missing (run as root to install them)" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
