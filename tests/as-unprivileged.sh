#!/bin/sh
# Runs a test binary as an unprivileged uid. As root: drops to nobody
# (65534) with setpriv, no supplementary groups, no capabilities. As any other
# user: runs it as is (already unprivileged).
set -eu
if [ "$(id -u)" -ne 0 ]; then
	exec "$@"
fi
if ! command -v setpriv >/dev/null 2>&1; then
	echo "as-unprivileged: setpriv (util-linux) is missing" >&2
	exit 1
fi
export HOME=/nonexistent
cd /
exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all -- "$@"
