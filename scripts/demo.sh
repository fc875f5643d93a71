#!/bin/sh
# `make demo`: runs a small script of the kind an AI assistant writes under
# jhansi-exec, with one action the sandbox refuses, and shows what was allowed
# and what was refused.
set -u
BUILD_DIR=${1:-build}
JX="$BUILD_DIR/tools/jhansi-exec"
[ -x "$JX" ] || { echo "demo: $JX is not built; run 'make' first" >&2; exit 1; }

DEMO_DIR=$(mktemp -d /tmp/jhansi-demo-XXXXXX)
trap 'rm -rf "$DEMO_DIR"' EXIT
cat > "$DEMO_DIR/agent_script.py" <<'PY'
# A script an AI assistant might write: summarise some data, then try to
# "clean up" the machine in a way no sandbox should allow.
import ctypes, csv, io, os, platform, statistics

data = io.StringIO("city,temp\nJhansi,31\nPune,27\nDelhi,34\n")
temps = [int(row["temp"]) for row in csv.DictReader(data)]
print(f"mean temperature: {statistics.mean(temps):.1f} over {len(temps)} cities")
print(f"running on host: {platform.node()!r}")

libc = ctypes.CDLL(None, use_errno=True)
r = libc.mount(b"none", b"/mnt", b"tmpfs", 0, None)
err = ctypes.get_errno()
print(f"mount('none', '/mnt', 'tmpfs') -> {r} ({os.strerror(err) if r else 'ok'})")
r = libc.unshare(0x10000000)  # CLONE_NEWUSER
print(f"unshare(CLONE_NEWUSER) -> {r} ({os.strerror(ctypes.get_errno()) if r else 'ok'})")
PY

echo "== jhansi-exec --log-events -- python3 agent_script.py"
echo
"$JX" --log-events -- python3 "$DEMO_DIR/agent_script.py"
status=$?
echo
echo "== exit status: $status"
echo "The script ran natively for everything harmless; uname was answered by the"
echo "sentry (the host name stays hidden); mount and unshare were refused with"
echo "EPERM and each refusal was recorded (lines starting 'jhansi:' above)."
