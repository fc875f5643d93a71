#!/bin/sh
# `make bench`: runs bench/bench.py over the build in BUILD_DIR (default build).
#
# The peer sandboxes come from Debian's packages: bubblewrap, proot and runsc
# (gVisor). When run as root, missing ones are installed with apt-get, and this
# script says so first; BENCH_INSTALL_PEERS=0 turns that off. A peer that is
# not installed is skipped and named as skipped in the results. See bench.py
# for BENCH_QUICK, BENCH_REPS, BENCH_ONLY, BENCH_RUNNERS, BENCH_UPDATE_README.
set -eu

BUILD_DIR=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
PEERS="bubblewrap proot runsc"

missing=""
for p in $PEERS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -eq 0 ] && [ "${BENCH_INSTALL_PEERS:-1}" = 1 ]; then
		echo "bench: installing peer sandboxes with apt-get:$missing (BENCH_INSTALL_PEERS=0 to skip)" >&2
		export DEBIAN_FRONTEND=noninteractive
		# shellcheck disable=SC2086
		if ! apt-get install -y -q --no-install-recommends $missing >/dev/null; then
			apt-get update -q >/dev/null || true
			# shellcheck disable=SC2086
			apt-get install -y -q --no-install-recommends $missing >/dev/null ||
				echo "bench: could not install:$missing; those runners will be skipped" >&2
		fi
	else
		echo "bench: not installed:$missing; those runners will be skipped" >&2
	fi
fi

# Debian's interpreter, not whatever python3 comes first on PATH.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
exec "$PY" "$SRC/bench/bench.py" "$BUILD_DIR"
