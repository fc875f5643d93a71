#!/usr/bin/env python3
"""jhansi-exec benchmarks: every workload natively, under jhansi-exec (each
platform, audit on and off) and under the peer sandboxes that are installed
(bubblewrap, PRoot, gVisor's runsc on its ptrace platform), alternating the
runners inside each repetition on the same machine, in one run. Reports
medians and ratios to native as a Markdown table on stdout and in
bench/results/<date>-<host>.md (raw samples beside it, .json).

Usage: bench/bench.py BUILD_DIR   (normally through `make bench`)

Environment:
  BENCH_QUICK=1          3 repetitions, shorter micro-benchmark budgets
  BENCH_REPS=N           repetitions (default 7; 3 with BENCH_QUICK)
  BENCH_ONLY=a,b         only these workloads (names as in the table's first column)
  BENCH_RUNNERS=a,b      only these runners (native is always kept)
  BENCH_UPDATE_README=1  also write the table into README.md's Performance section

Start-up and the macro workloads are timed by jh-bench-time (fork to reap,
so no Python or shell start-up is counted); the micro-benchmarks print their
own ns/op, so the sandbox's start-up is not counted in them. Nothing here
asserts a number: the targets are printed as met or missed.
"""
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TAR_FILES = 2000
SQL_ROWS = 20000
PY_MODULES = ("json, re, argparse, asyncio, csv, datetime, decimal, email.message, "
              "http.client, logging, sqlite3, subprocess")
GIT = ["git", "-c", "safe.directory=*", "-c", "user.name=bench",
       "-c", "user.email=bench@localhost", "-c", "gc.auto=0"]


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run_quiet(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, **kw)


# --------------------------------------------------------------------------
# Runners

class Runner:
    def __init__(self, name, prefix, uid, note=""):
        self.name = name
        self._prefix = prefix  # function(cwd) -> argv prefix
        self.uid = uid         # the uid the command runs as (for workdir ownership)
        self.note = note

    def argv(self, cwd, cmd):
        return self._prefix(cwd) + cmd


def first_line(text):
    lines = [l.strip() for l in (text or "").splitlines() if l.strip()]
    return lines[-1] if lines else "no output"


def probe(argv, env, cwd):
    """Runs argv; returns None if it worked, else a one-line reason."""
    if not shutil.which(argv[0]):
        return f"{argv[0]} not installed"
    try:
        p = run_quiet(argv, env=env, cwd=cwd, timeout=120)
    except subprocess.TimeoutExpired:
        return "timed out after 120 s"
    if p.returncode != 0:
        return f"exit {p.returncode}: {first_line(p.stderr or p.stdout)}"
    return None


def detect_runners(jx, tmp, env, wanted):
    runners, skipped = [], []
    me = os.getuid()
    runners.append(Runner("native", lambda cwd: [], me))

    # jhansi-exec: each platform, audit on and off when the options exist.
    audit_ok = probe([jx, "--audit", "off", "--", "/bin/true"], env, tmp) is None
    if not audit_ok:
        skipped.append(("jhansi-*/audit-off", "jhansi-exec has no working --audit off"))
    for plat in ("unotify", "ptrace"):
        base = [jx, "--platform", plat]
        why = probe(base + ["--", "/bin/true"], env, tmp)
        if why:
            skipped.append((f"jhansi-{plat}", why))
            continue
        uid_out = run_quiet(base + ["--", "/usr/bin/id", "-u"], env=env, cwd=tmp)
        uid = int(uid_out.stdout.strip() or me)
        variants = [("", ["--audit", "on"] if audit_ok else [])]
        if audit_ok:
            variants.append(("/audit-off", ["--audit", "off"]))
        for suffix, opts in variants:
            # the micro-benchmarks' own loopback listener is allowed; the
            # inputs in the bench's temporary directory are visible read-only,
            # the workload's own directory read-write, and it starts there
            argv = base + opts + ["--allow-net", "127.0.0.1/32"]
            runners.append(Runner(f"jhansi-{plat}{suffix}",
                                  lambda cwd, a=argv, t=tmp: list(a) + ["--ro", t, "--ro", SRC, "--rw", cwd,
                                                                        "--cwd", cwd, "--env",
                                                                        "TMPDIR=" + cwd, "--"],
                                  uid))

    def bwrap(cwd):
        return ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                "--bind", tmp, tmp, "--unshare-all", "--die-with-parent",
                "--chdir", cwd, "--"]

    def proot(cwd):
        return ["proot", "-w", cwd]

    runsc_base = ["runsc", "--network=none", "--platform=ptrace", "--ignore-cgroups"]
    if me != 0:
        runsc_base.append("--rootless")

    def runsc(cwd):
        # The host filesystem without runsc's default in-memory overlay, so
        # that workspace writes reach the disk as for every other runner.
        return runsc_base + ["do", "--force-overlay=false", "--cwd", cwd, "--"]

    for name, fn in (("bwrap", bwrap), ("proot", proot), ("runsc-ptrace", runsc)):
        why = probe(fn(tmp) + ["/bin/true"], env, tmp)
        if why:
            skipped.append((name, why))
        else:
            runners.append(Runner(name, fn, me))

    if wanted:
        keep = set(wanted) | {"native"}
        for r in runners:
            if r.name not in keep:
                skipped.append((r.name, "not in BENCH_RUNNERS"))
        runners = [r for r in runners if r.name in keep]
    return runners, skipped


# --------------------------------------------------------------------------
# Workloads

class Workload:
    """kind: 'loop' (prints ns/op) or 'time' (wall clock by jh-bench-time).
    group: 'startup', 'micro' or 'macro'. prep(runner) -> cwd for one
    measurement; check(cwd) -> None or what is wrong."""

    def __init__(self, name, label, kind, group, cmd, prep=None, check=None, count=1,
                 floor=None):
        self.name, self.label, self.kind, self.group = name, label, kind, group
        self.cmd, self.prep, self.check, self.count, self.floor = cmd, prep, check, count, floor


class Bench:
    def __init__(self, build):
        self.build = build
        self.jx = os.path.join(build, "tools", "jhansi-exec")
        self.loop = os.path.join(build, "bench", "jh-bench-loop")
        self.floor = os.path.join(build, "bench", "jh-bench-floor")
        self.timer = os.path.join(build, "bench", "jh-bench-time")
        self.quick = os.environ.get("BENCH_QUICK") == "1"
        self.reps = int(os.environ.get("BENCH_REPS") or (3 if self.quick else 7))
        self.budget_ms = 80 if self.quick else 150
        self.tmp = tempfile.mkdtemp(prefix="jh-bench.")
        os.chmod(self.tmp, 0o755)  # the sandbox may run as another uid
        self.home = self.mkdir("home", os.getuid())
        self.env = {"PATH": CLEAN_PATH, "HOME": self.home, "LANG": "C.UTF-8",
                    "TMPDIR": self.tmp, "JHANSI_STATE_DIR": os.path.join(self.tmp, "state")}
        self.log = os.path.join(self.tmp, "output.log")
        self.serial = 0

    def mkdir(self, name, uid):
        path = os.path.join(self.tmp, name)
        os.makedirs(path, exist_ok=True)
        os.chmod(path, 0o777)
        if os.getuid() == 0 and uid != 0:
            os.chown(path, uid, uid)
        return path

    def fresh_dir(self, runner):
        self.serial += 1
        return self.mkdir(f"w{self.serial:05d}", runner.uid)

    def chown_tree(self, top, uid):
        if os.getuid() != 0 or uid == 0:
            return
        for root, dirs, files in os.walk(top):
            for n in dirs + files:
                os.lchown(os.path.join(root, n), uid, uid)
        os.chown(top, uid, uid)

    def clean(self, cwd):
        if cwd.startswith(self.tmp + "/w"):
            shutil.rmtree(cwd, ignore_errors=True)

    # -- fixtures, made once

    def make_fixtures(self):
        payload = os.path.join(self.tmp, "payload", "files")
        for i in range(TAR_FILES):
            d = os.path.join(payload, f"d{i // 20:03d}")
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, f"f{i % 20:02d}.txt"), "w") as f:
                f.write(f"file {i}\n" + "x" * (100 + (i * 37) % 300) + "\n")
        self.tarball = os.path.join(self.tmp, "files.tar")
        subprocess.run(["tar", "-cf", self.tarball, "-C", os.path.dirname(payload), "files"],
                       check=True)
        self.sql = os.path.join(self.tmp, "rows.sql")
        with open(self.sql, "w") as f:
            f.write("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, value REAL);\n")
            for tx in range(SQL_ROWS // 1000):  # 20 transactions: 20 journal files
                f.write("BEGIN;\n")
                for i in range(tx * 1000, tx * 1000 + 1000):
                    f.write(f"INSERT INTO t(name, value) VALUES('row {i}', {i * 0.5});\n")
                f.write("COMMIT;\n")
        for p in (self.tarball, self.sql):
            os.chmod(p, 0o644)

    def workloads(self):
        loop, b = self.loop, str(self.budget_ms)

        def micro(op, label, floor):
            return Workload(op, label, "loop", "micro", [loop, op, "1000000", b], floor=floor)

        def empty(runner):
            return self.fresh_dir(runner)

        def with_files(runner):
            d = self.fresh_dir(runner)
            subprocess.run(["tar", "-xf", self.tarball], cwd=d, check=True)
            subprocess.run(GIT + ["init", "-q"], cwd=d, check=True, env=self.env)
            self.chown_tree(d, runner.uid)
            return d

        def count_files(d):
            n = sum(len(fs) for _, _, fs in os.walk(os.path.join(d, "files")))
            return None if n == TAR_FILES else f"{n} files extracted, not {TAR_FILES}"

        def git_committed(d):
            p = run_quiet(GIT + ["rev-list", "--count", "HEAD"], cwd=d, env=self.env)
            return None if p.stdout.strip() == "1" else "no commit: " + first_line(p.stderr)

        def sql_rows(d):
            p = run_quiet(["sqlite3", os.path.join(d, "bench.db"), "SELECT count(*) FROM t"])
            ok = p.stdout.strip() == str(SQL_ROWS)
            return None if ok else f"{p.stdout.strip() or first_line(p.stderr)} rows"

        def compiled(d):
            return None if os.path.exists(os.path.join(d, "prog")) else "no binary"

        return [
            Workload("startup", "start-up: `/bin/true`", "time", "startup", ["/bin/true"],
                     count=5),
            micro("getppid", "`getppid` (passed)", "value"),
            micro("open", "`open`+`close`", "open"),
            micro("stat", "`stat`", "stat"),
            micro("connect", "`connect` to loopback (+accept, close)", None),
            micro("uname", "`uname` (emulated: lookup answered with a value)", "uname"),
            micro("setns", "`setns` (refused through the sentry)", "errno"),
            Workload("python", "`python3` importing 12 stdlib modules", "time", "macro",
                     ["/usr/bin/python3", "-I", "-B", "-c", f"import {PY_MODULES}"],
                     prep=empty),
            Workload("gcc", "`gcc -O2` of two C files, linked", "time", "macro",
                     ["/usr/bin/gcc", "-O2", "-D_GNU_SOURCE", "-I", SRC, "-o", "prog",
                      os.path.join(SRC, "bench", "loop.c"), os.path.join(SRC, "bench", "ops.c")],
                     prep=empty, check=compiled),
            Workload("forkexec", "shell loop of 200 fork+exec", "time", "macro",
                     ["/bin/sh", "-c",
                      'i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done'],
                     prep=empty),
            Workload("sqlite", f"`sqlite3`: {SQL_ROWS // 1000}k rows in 20 transactions",
                     "time", "macro", ["sqlite3", "bench.db", f".read {self.sql}"],
                     prep=empty, check=sql_rows),
            Workload("tar", f"`tar -x` of {TAR_FILES} small files", "time", "macro",
                     ["tar", "-xf", self.tarball], prep=empty, check=count_files),
            Workload("git", f"`git add` + `commit` of {TAR_FILES} files", "time", "macro",
                     ["/bin/sh", "-c", " ".join(GIT) + " add -A && "
                      + " ".join(GIT) + " commit -q -m bench"],
                     prep=with_files, check=git_committed),
        ]

    # -- measuring

    def measure_loop(self, runner, w):
        cwd = self.tmp
        argv = runner.argv(cwd, w.cmd) if runner else [self.floor, w.floor] + w.cmd[2:]
        p = run_quiet(argv, cwd=cwd, env=self.env, timeout=300)
        m = re.match(r"([0-9.]+) ns/op", p.stdout.strip())
        if p.returncode != 0 or not m:
            return None, f"exit {p.returncode}: {first_line(p.stderr or p.stdout)}"
        return [float(m.group(1)) / 1000.0], None  # µs/op

    def measure_time(self, runner, w):
        cwd = w.prep(runner) if w.prep else self.tmp
        try:
            argv = [self.timer, "-n", str(w.count), "-o", self.log, "-C", cwd, "--"]
            p = run_quiet(argv + runner.argv(cwd, w.cmd), env=self.env, timeout=600)
            samples, bad = [], None
            for line in p.stdout.splitlines():
                ns, status = line.split()
                if status != "0":
                    bad = f"exit status {status}"
                samples.append(int(ns) / 1e6)  # ms
            if not samples:
                bad = f"timer failed: {first_line(p.stderr)}"
            if not bad and w.check:
                bad = w.check(cwd)
            if bad:
                with open(self.log, errors="replace") as f:
                    tail = first_line(f.read()[-2000:])
                return None, f"{bad} ({tail})"
            return samples, None
        finally:
            self.clean(cwd)

    def run(self, runners, workloads):
        data = {w.name: {} for w in workloads}
        errors = {}
        for rep in range(self.reps):
            log(f"repetition {rep + 1}/{self.reps}")
            for w in workloads:
                order = runners[rep % len(runners):] + runners[:rep % len(runners)]
                if w.floor:
                    order = order + [None]  # the floor probe, after the runners
                    if rep % 2:
                        order = [None] + order[:-1]
                for r in order:
                    name = r.name if r else "floor"
                    if (w.name, name) in errors:
                        continue
                    if w.kind == "loop":
                        samples, err = self.measure_loop(r, w)
                    else:
                        samples, err = self.measure_time(r, w)
                    if err:
                        errors[(w.name, name)] = err
                        log(f"{w.name} under {name} failed: {err}")
                        continue
                    data[w.name].setdefault(name, []).extend(samples)
        return data, errors


# --------------------------------------------------------------------------
# Reporting

def fmt(v):
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def machine_facts(build, runners):
    def read(path):
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return ""
    cpu = re.search(r"^model name\s*:\s*(.*)$", read("/proc/cpuinfo"), re.M)
    mem = re.search(r"^MemTotal:\s*(\d+)", read("/proc/meminfo"), re.M)
    rev = run_quiet(["git", "-C", SRC, "describe", "--always", "--dirty"]).stdout.strip()
    vers = {}
    for cmd, args in (("bwrap", ["--version"]), ("proot", ["--version"]),
                      ("runsc", ["--version"])):
        if shutil.which(cmd):
            p = run_quiet([cmd] + args)
            out = [l for l in (p.stdout + p.stderr).splitlines() if re.search(r"\d+\.\d", l)]
            vers[cmd] = out[0].strip(" |_\\/") if out else "?"
    return {
        "host": platform.node(),
        "nproc": os.cpu_count(),
        "kernel": platform.release(),
        "cpu": cpu.group(1).strip() if cpu else "?",
        "memory_gib": round(int(mem.group(1)) / 1048576, 1) if mem else None,
        "debian": read("/etc/debian_version").strip(),
        "revision": rev or "?",
        "peer_versions": vers,
    }


def medians(data):
    return {w: {r: statistics.median(v) for r, v in rs.items() if v} for w, rs in data.items()}


def report(bench, facts, runners, skipped, workloads, data, errors, started, load):
    med = medians(data)
    cols = ["native"] + (["floor"] if any(w.floor for w in workloads) else []) \
        + [r.name for r in runners if r.name != "native"]
    out = []
    p = out.append
    p(f"### {started:%Y-%m-%d} on `{facts['host']}`")
    p("")
    p(f"Machine: {facts['nproc']} cores ({facts['cpu']}), {facts['memory_gib']} GiB, "
      f"Linux {facts['kernel']}, Debian {facts['debian']}; jhansi-exec {facts['revision']}; "
      f"{bench.reps} repetitions, runners alternating within each; load average "
      f"{load[0]} at the start, {load[1]} at the end.")
    if facts["peer_versions"]:
        p("Peers: " + ", ".join(f"{k} {v}" for k, v in facts["peer_versions"].items()) + ".")
    p("")
    p("Medians; in brackets the ratio to native. Micro-benchmarks in µs per call "
      "(timed inside the program, so start-up is excluded); the rest in ms of wall "
      "clock, sandbox start-up included. `floor` is `jh-bench-floor`: the same loop "
      "under a minimal seccomp-notify supervisor that mediates the call (the cost "
      "of mediating it at all).")
    p("")
    p("| workload | unit | " + " | ".join(cols) + " |")
    p("|---|---|" + "---|" * len(cols))
    for w in workloads:
        row = med.get(w.name, {})
        nat = row.get("native")
        cells = []
        for c in cols:
            if c == "floor" and not w.floor:
                cells.append("")
            elif c in row:
                v = row[c]
                cells.append(fmt(v) if c == "native" or not nat else f"{fmt(v)} ({v / nat:.2f}×)")
            elif (w.name, c) in errors:
                cells.append("failed")
            else:
                cells.append("–")
        unit = "µs/call" if w.kind == "loop" else "ms"
        p(f"| {w.label} | {unit} | " + " | ".join(cells) + " |")
    p("")
    if skipped:
        p("Skipped: " + "; ".join(f"{n} ({why})" for n, why in skipped) + ".")
    for (wn, rn), why in sorted(errors.items()):
        p(f"Failed: {wn} under {rn}: {why}.")
    p("Under jhansi-exec every path syscall (`open`, `stat` …) is mediated by the sentry "
      "against the filesystem view, `connect` is performed by the sentry after the network "
      "policy (the runners allow `127.0.0.1/32` for the loopback benchmark), `uname` is "
      "emulated and `setns` refused through the sentry; `getppid` passes natively. Each "
      "workload's directory is made visible read-write (`--rw DIR --cwd DIR`). "
      "jhansi-exec started as root runs the command as uid 65534; the other runners as root. "
      "The floor is the seccomp user-notification floor; the ptrace platform has no floor "
      "of its own here, and it installs an opened fd with one `recvmsg` injected in the "
      "task (one more stop).")
    p("")
    p("#### Targets")
    p("")
    p("Each cell: the measured value, then met or **missed**. Ratios below 1× are noise "
      "between alternating runs of the same native work.")
    p("")
    rows, floors = targets(med, runners, workloads)
    jx = [r.name for r in runners if r.name.startswith("jhansi-")]
    labels = list(dict.fromkeys(label for label, _, _, _ in rows))
    cells = {(label, r): (m, ok) for label, r, m, ok in rows}
    if jx:
        p("| target | " + " | ".join(jx) + " |")
        p("|---|" + "---|" * len(jx))
        for label in labels:
            line = []
            for r in jx:
                m, ok = cells.get((label, r), ("–", None))
                line.append(m if ok is None else f"{m} {'met' if ok else '**missed**'}")
            p(f"| {label} | " + " | ".join(line) + " |")
        p("")
    for label, m in floors:
        p(f"Floor: {label}: {m}.")
    return "\n".join(out) + "\n"


def targets(med, runners, workloads):
    rows = []
    jx = [r.name for r in runners if r.name.startswith("jhansi-")]
    mac = [w.name for w in workloads if w.group == "macro"]

    def get(w, r):
        return med.get(w, {}).get(r)

    for r in jx:
        for w in ("getppid", "open", "stat", "connect"):
            a, n = get(w, r), get(w, "native")
            if a and n:
                rows.append((f"passed `{w}` ≤ 1.05× native", r, f"{a / n:.2f}×", a / n <= 1.05))
        a, n = get("startup", r), get("startup", "native")
        if a and n:
            rows.append(("start-up ≤ native + 5 ms", r, f"+{a - n:.2f} ms", a - n <= 5))
        for w, what, budget in (("uname", "mediated lookup (`uname`)", 1.2),
                                ("setns", "refused call (`setns`)", 1.2)):
            a, f = get(w, r), get(w, "floor")
            if a and f:
                rows.append((f"{what} ≤ {budget}× its floor", r,
                             f"{a / f:.2f}×", a / f <= budget))
        for w, budget in (("python", 1.3), ("gcc", 2.0)):
            a, n = get(w, r), get(w, "native")
            if a and n:
                rows.append((f"`{w}` ≤ {budget}× native", r, f"{a / n:.2f}×", a / n <= budget))
        if "runsc-ptrace" in [x.name for x in runners]:
            for w in [w.name for w in workloads]:
                a, g = get(w, r), get(w, "runsc-ptrace")
                if a and g:
                    need = 5 if w in mac else 3
                    rows.append((f"`{w}` ≥ {need}× faster than runsc-ptrace", r,
                                 f"{g / a:.1f}×", g / a >= need))
        if not r.endswith("/audit-off") and f"{r}/audit-off" in jx:
            worst, wname = 0, ""
            for w in [w.name for w in workloads]:
                on, off = get(w, r), get(w, f"{r}/audit-off")
                if on and off and on / off - 1 > worst:
                    worst, wname = on / off - 1, w
            rows.append(("audit on costs ≤ 10% over audit off (worst workload)", r,
                         f"+{worst * 100:.0f}% ({wname or 'none'})", worst <= 0.10))
    floors = []
    for w, kind, budget in (("stat", "lookup answered with a value", 10),
                            ("open", "open answered with an fd (ADDFD)", 25)):
        f = get(w, "floor")
        if f:
            floors.append((f"{kind} (ARCHITECTURE.md: ~{budget} µs)", f"{f:.2f} µs"))
    return rows, floors


def update_readme(text):
    path = os.path.join(SRC, "README.md")
    with open(path) as f:
        readme = f.read()
    begin, end = "<!-- bench-results:begin -->", "<!-- bench-results:end -->"
    if begin not in readme or end not in readme:
        log("README.md has no bench-results markers: not updated")
        return
    head, rest = readme.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w") as f:
        f.write(head + begin + "\n" + text + end + tail)
    log("README.md Performance section updated")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    bench = Bench(build)
    for exe in (bench.jx, bench.loop, bench.floor, bench.timer):
        if not os.access(exe, os.X_OK):
            log(f"missing {exe}: build first (make)")
            return 1
    started = datetime.datetime.now()
    load0 = os.getloadavg()[0]
    try:
        wanted = [x for x in os.environ.get("BENCH_RUNNERS", "").split(",") if x]
        runners, skipped = detect_runners(bench.jx, bench.tmp, bench.env, wanted)
        for n, why in skipped:
            log(f"skipping {n}: {why}")
        log("runners: " + ", ".join(r.name for r in runners))
        bench.make_fixtures()
        workloads = bench.workloads()
        only = [x for x in os.environ.get("BENCH_ONLY", "").split(",") if x]
        if only:
            workloads = [w for w in workloads if w.name in only]
        data, errors = bench.run(runners, workloads)
    finally:
        shutil.rmtree(bench.tmp, ignore_errors=True)
    load1 = os.getloadavg()[0]
    facts = machine_facts(build, runners)
    text = report(bench, facts, runners, skipped, workloads, data, errors, started,
                  (f"{load0:.2f}", f"{load1:.2f}"))
    print(text)
    results = os.path.join(SRC, "bench", "results")
    os.makedirs(results, exist_ok=True)
    stem = os.path.join(results, f"{started:%Y-%m-%d}-{facts['host']}")
    with open(stem + ".md", "w") as f:
        f.write(text)
    with open(stem + ".json", "w") as f:
        json.dump({"facts": facts, "reps": bench.reps, "started": started.isoformat(),
                   "load": [load0, load1], "medians": medians(data),
                   "samples": data,
                   "errors": {f"{w}/{r}": e for (w, r), e in errors.items()},
                   "skipped": dict(skipped)}, f, indent=1, sort_keys=True)
    log(f"written {stem}.md and .json")
    if os.environ.get("BENCH_UPDATE_README") == "1":
        update_readme(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
