#!/bin/sh
# Runs a test binary as an unprivileged uid. As root: drops to nobody
# (65534) with setpriv, no supplementary groups, no capabilities, with a state
# directory of its own (removed afterwards). As any other user: runs it as is
# (already unprivileged), with a temporary state directory too.
set -eu
state=$(mktemp -d /tmp/jhansi-test-state-XXXXXX)
trap 'rm -rf "$state"' EXIT INT TERM
export JHANSI_STATE_DIR="$state"
if [ "$(id -u)" -ne 0 ]; then
	"$@"
	exit $?
fi
if ! command -v setpriv >/dev/null 2>&1; then
	echo "as-unprivileged: setpriv (util-linux) is missing" >&2
	exit 1
fi
chown 65534:65534 "$state"
export HOME=/nonexistent
cd /
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all -- "$@" || rc=$?
exit $rc
