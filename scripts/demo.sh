#!/bin/sh
# `make demo`: runs a small script of the kind an AI assistant writes under
# jhansi-exec, with actions the sandbox refuses, then shows from the audit
# store what was refused and that the record verifies. Everything the demo
# writes (its script, its audit store, its workspace) lives in one temporary
# directory, removed at the end.
set -u
BUILD_DIR=${1:-build}
JX="$BUILD_DIR/tools/jhansi-exec"
JA="$BUILD_DIR/tools/jhansi-audit"
[ -x "$JX" ] || { echo "demo: $JX is not built; run 'make' first" >&2; exit 1; }

DEMO_DIR=$(mktemp -d /tmp/jhansi-demo-XXXXXX)
trap 'rm -rf "$DEMO_DIR"' EXIT
mkdir -p "$DEMO_DIR/src"
chmod 755 "$DEMO_DIR" "$DEMO_DIR/src"
export JHANSI_STATE_DIR="$DEMO_DIR/state"
cat > "$DEMO_DIR/src/agent_script.py" <<'PY'
# A script an AI assistant might write: summarise some data, save a report in
# its workspace, then try to "clean up" the machine and peek at secrets in
# ways no sandbox should allow.
import ctypes, csv, io, os, platform, statistics

data = io.StringIO("city,temp\nJhansi,31\nPune,27\nDelhi,34\n")
temps = [int(row["temp"]) for row in csv.DictReader(data)]
print(f"mean temperature: {statistics.mean(temps):.1f} over {len(temps)} cities")
with open("report.txt", "w") as f:
    f.write(f"mean={statistics.mean(temps):.1f}\n")
print(f"saved report.txt in {os.getcwd()}")
print(f"running on host: {platform.node()!r}")

libc = ctypes.CDLL(None, use_errno=True)
r = libc.mount(b"none", b"/mnt", b"tmpfs", 0, None)
print(f"mount('none', '/mnt', 'tmpfs') -> {r} ({os.strerror(ctypes.get_errno()) if r else 'ok'})")
r = libc.unshare(0x10000000)  # CLONE_NEWUSER
print(f"unshare(CLONE_NEWUSER) -> {r} ({os.strerror(ctypes.get_errno()) if r else 'ok'})")
for path in ("/etc/shadow", os.path.expanduser("~root/.ssh/id_rsa")):
    try:
        open(path).read()
        print(f"read {path}: !!")
    except OSError as e:
        print(f"read {path}: {e.strerror}")
PY
chmod 644 "$DEMO_DIR/src/agent_script.py"

echo "== jhansi-exec --prompt ... --ro src -- python3 src/agent_script.py"
echo
"$JX" --actor demo --prompt "summarise the temperatures and tidy up the machine" \
	--ro "$DEMO_DIR/src" -- /usr/bin/python3 "$DEMO_DIR/src/agent_script.py"
status=$?
echo
echo "== exit status: $status"
echo
echo "== what the sentry refused (jhansi-audit show 1 --decision denied)"
"$JA" show 1 --decision denied | sed -n '/^events/,$p'
echo
echo "== jhansi-audit runs; jhansi-audit verify"
"$JA" runs
"$JA" verify
echo
echo "Harmless work ran at native speed; files were opened by the sentry within"
echo "the view (the workspace read-write, system directories read-only, secrets"
echo "hidden); uname hid the host name; mount and unshare were refused with EPERM;"
echo "every refusal is in the hash-chained audit record, with the prompt."
exit $status
