/* The ptrace platform against the unotify one, full trace, and forensics.
 *
 * Parity tests run each program under both platforms and require the same
 * status and output; the rest check what only ptrace does (--trace, `auto`
 * when no listener can be made) and the forensics a refusal carries on both. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

#define RUN(r, ...) cr_assert_eq(run_jx(&(r), __VA_ARGS__, NULL), 0, "spawning jhansi-exec failed")

static const char *const platforms[] = {"unotify", "ptrace"};

/* Runs `sh -c cmd` on both platforms: same status (0) and same output. */
static void same_on_both(const char *cmd)
{
	struct run_result r[2];

	for (int i = 0; i < 2; i++) {
		/* The scripts work in host temporary directories: put /tmp in the view. */
		RUN(r[i], "--audit", "off", "--rw", "/tmp", "--platform", platforms[i], "--",
		    "/bin/sh", "-c", cmd);
		cr_assert_eq(r[i].status, 0, "%s on %s: status %d, stderr: %s", cmd, platforms[i],
			     r[i].status, r[i].err);
	}
	cr_assert_str_eq(r[1].out, r[0].out, "%s: output differs between platforms", cmd);
	for (int i = 0; i < 2; i++)
		run_result_free(&r[i]);
}

Test(parity, sh_scripts_and_fork_exec_chains, .timeout = 60)
{
	same_on_both("for i in 1 2 3; do sh -c \"echo $i; (echo sub$i) | cat; uname -n\"; done; "
		     "ls /usr | wc -l; exec sh -c 'echo exec-ed'");
}

Test(parity, python3, .timeout = 120)
{
	if (access("/usr/bin/python3", X_OK) != 0)
		cr_skip_test("no /usr/bin/python3");
	same_on_both("/usr/bin/python3 -c 'import sys, json, threading, subprocess; "
		     "t = threading.Thread(target=print, args=(\"thread\",)); t.start(); t.join(); "
		     "print(subprocess.run([\"echo\", \"child\"], capture_output=True).stdout); "
		     "print(json.dumps({\"a\": 1}))'");
}

Test(parity, gcc_compiles_and_runs, .timeout = 180)
{
	char *dir = make_tmpdir();
	char cmd[4096];

	if (access("/usr/bin/gcc", X_OK) != 0)
		cr_skip_test("no gcc");
	chmod(dir, 0777); /* the sandbox runs as uid 65534 when the suite runs as root */
	snprintf(cmd, sizeof(cmd),
		 "cd %s && rm -f hello && printf '#include <stdio.h>\\nint main(void){puts(\"hi\");"
		 "return 0;}\\n' > hello.c && gcc -O1 -o hello hello.c && ./hello",
		 dir);
	same_on_both(cmd);
	rmtree(dir);
	free(dir);
}

Test(parity, git_init_commit_log, .timeout = 120)
{
	char *dir = make_tmpdir();
	char cmd[4096];

	if (access("/usr/bin/git", X_OK) != 0)
		cr_skip_test("no git");
	chmod(dir, 0777);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && rm -rf repo && export HOME=%s GIT_CONFIG_NOSYSTEM=1 && git init -q repo && "
		 "cd repo && echo a > a && git add a && git -c user.name=t -c user.email=t@t "
		 "commit -qm first && git log --format=%%s && git status --short | wc -l",
		 dir, dir);
	same_on_both(cmd);
	rmtree(dir);
	free(dir);
}

Test(parity, multi_threaded_program_racing_calls, .timeout = 120)
{
	for (int i = 0; i < 2; i++) {
		struct run_result r;

		RUN(r, "--audit", "off", "--platform", platforms[i], "--", prog_path("race"));
		cr_assert_eq(r.status, 0, "%s: status %d out %s err %s", platforms[i], r.status, r.out,
			     r.err);
		run_result_free(&r);
	}
}

Test(parity, refused_calls_get_the_same_errno, .timeout = 60)
{
	struct run_result r[2];

	for (int i = 0; i < 2; i++)
		RUN(r[i], "--audit", "off", "--platform", platforms[i], "--",
		    prog_path("try-syscall"), "mount", "unshare-user", "clone3", "unknown-nr",
		    "tiocsti", "getppid", "uname-bad", "seccomp-listener");
	cr_assert_eq(r[0].status, 0);
	cr_assert_eq(r[1].status, r[0].status);
	cr_assert_str_eq(r[1].out, r[0].out);
	run_result_free(&r[0]);
	run_result_free(&r[1]);
}

Test(parity, a_tasks_own_trace_filter_only_ever_gets_refusals, .timeout = 60)
{
	/* Under ptrace a task's own RET_TRACE stops reach our tracer like ours
	 * do; the data is not trusted, so a forged stop is serviced as an
	 * interception: getppid (which our filter passes) is refused ENOSYS,
	 * as it is natively without a tracer; mount stays EPERM. */
	for (int i = 0; i < 2; i++) {
		struct run_result r;

		RUN(r, "--audit", "off", "--platform", platforms[i], "--", prog_path("forensics"),
		    "own-filter");
		cr_assert_eq(r.status, 0, "%s: %d %s", platforms[i], r.status, r.err);
		cr_assert_str_eq(r.out, "own-filter=ENOSYS,EPERM\n", "%s", platforms[i]);
		run_result_free(&r);
	}
}

/* --- ptrace specifics: signals, group-stops, nothing left behind --- */

Test(ptrace, signals_reach_handlers_and_stopped_tasks_resume, .timeout = 60)
{
	struct run_result r;

	RUN(r, "--audit", "off", "--platform", "ptrace", "--", "/bin/sh", "-c",
	    "trap 'echo got-usr1' USR1; kill -USR1 $$; "
	    "sh -c 'kill -STOP $$; echo resumed' & pid=$!; "
	    /* 't' in /proc also means any ptrace stop, so keep continuing it
	     * until it has exited, however its stop and our SIGCONT interleave */
	    "while [ -e /proc/$pid ] && ! grep -q '^State:.*Z' /proc/$pid/status; do "
	    "kill -CONT $pid; sleep 0.01; done; wait $pid; echo done");
	cr_assert_eq(r.status, 0, "status %d err %s", r.status, r.err);
	cr_assert_str_eq(r.out, "got-usr1\nresumed\ndone\n");
	run_result_free(&r);
}

/* True if a process whose command line contains `marker` exists. */
static bool process_with(const char *marker)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	bool found = false;

	while (d && (de = readdir(d)) && !found) {
		char path[300], buf[4096];
		FILE *f;
		size_t n;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		for (size_t i = 0; i < n; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[n] = '\0';
		found = strstr(buf, marker) != NULL;
	}
	if (d)
		closedir(d);
	return found;
}

/* On the ptrace platform the sentry opens and the task receives the fd through
 * injected calls: hidden and outside paths stay invisible, read-only parts
 * refuse writes, the workspace takes them, and a symlink cannot carry a write
 * out. (The racing-thread cases run in integration.fs.ptrace.) */
Test(ptrace, the_view_holds_for_opens_with_injected_fds, .timeout = 60)
{
	struct run_result r;

	RUN(r, "--platform", "ptrace", "--audit", "off", "--", "/bin/sh", "-c",
	    "cat /etc/shadow 2>/dev/null || echo shadow-hidden; "
	    "ls /root 2>/dev/null || echo root-hidden; "
	    "(echo x > /etc/passwd) 2>/dev/null || echo etc-readonly; "
	    "echo kept > note.txt && cat note.txt; "
	    "ln -sf /etc/passwd out && { (echo y > out) 2>/dev/null || echo symlink-refused; }; "
	    "head -c 4 /etc/hostname >/dev/null && echo reads-work");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "shadow-hidden\nroot-hidden\netc-readonly\nkept\nsymlink-refused\n"
				"reads-work\n");
	run_result_free(&r);
}

Test(ptrace, no_task_outlives_the_run, .timeout = 60)
{
	struct run_result r;
	char marker[64], cmd[256];

	/* A unique sleep length names the leftover processes, were there any. */
	snprintf(marker, sizeof(marker), "1000.%d", (int)getpid());
	snprintf(cmd, sizeof(cmd),
		 "sleep %s & sleep %s & (sleep %s &) ; kill -STOP $!; echo started", marker,
		 marker, marker);
	RUN(r, "--audit", "off", "--platform", "ptrace", "--", "/bin/sh", "-c", cmd);
	cr_assert_eq(r.status, 0, "status %d err %s", r.status, r.err);
	cr_assert_str_eq(r.out, "started\n");
	cr_assert_not(process_with(marker), "a sandboxed sleep %s survived the run", marker);
	run_result_free(&r);
}

Test(ptrace, auto_picks_ptrace_where_no_listener_can_be_made, .timeout = 60)
{
	struct run_result r;

	RUN(r, "--audit", "off", "--platform", "auto", "--explain");
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "platform: unotify"), "%s", r.out);
	cr_assert(strstr(r.out, "chosen because"), "%s", r.out);
	run_result_free(&r);
	/* Inside the sandbox a listener is refused (it would be a bypass): a
	 * nested jhansi-exec's `auto` must notice and say so. */
	RUN(r, "--audit", "off", "--", JX_PATH, "--audit", "off", "--platform", "auto",
	    "--explain");
	cr_assert_eq(r.status, 0, "status %d err %s", r.status, r.err);
	cr_assert(strstr(r.out, "platform: ptrace"), "%s", r.out);
	cr_assert(strstr(r.out, "chosen because: a seccomp listener cannot be created"), "%s",
		  r.out);
	run_result_free(&r);
}

/* --- --trace --- */

static int count_lines_with(const char *text, const char *needle)
{
	int n = 0;

	for (const char *l = text; l && *l;) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		if (memmem(l, len, needle, strlen(needle)))
			n++;
		l = e ? e + 1 : NULL;
	}
	return n;
}

Test(trace, python_pass_records_every_call_readably, .timeout = 120)
{
	struct run_result r;

	if (access("/usr/bin/python3", X_OK) != 0)
		cr_skip_test("no /usr/bin/python3");
	RUN(r, "--audit", "off", "--trace", "--log-events", "--", "/usr/bin/python3", "-c", "pass");
	cr_assert_eq(r.status, 0, "status %d err %.2000s", r.status, r.err);
	/* python3 makes a few hundred calls before it runs `pass` */
	cr_assert_gt(count_lines_with(r.err, "] passed "), 100, "%.3000s", r.err);
	cr_assert(strstr(r.err, "passed   exit_group(0)"), "%.3000s", r.err);
	/* decoded: flag names and paths, results with errno names */
	cr_assert(strstr(r.err, "O_RDONLY|O_CLOEXEC"), "%.3000s", r.err);
	cr_assert(strstr(r.err, "\"/usr/lib/python3"), "%.3000s", r.err);
	cr_assert(strstr(r.err, "ENOENT"), "%.3000s", r.err);
	/* mediated calls are still serviced, and recorded once */
	cr_assert_eq(count_lines_with(r.err, "uname("), count_lines_with(r.err, "emulated uname("));
	run_result_free(&r);
}

Test(trace, needs_the_ptrace_platform)
{
	struct run_result r;

	RUN(r, "--audit", "off", "--trace", "--platform", "unotify", "--", "true");
	cr_assert_eq(r.status, 125);
	cr_assert(strstr(r.err, "--trace needs --platform ptrace"), "%s", r.err);
	run_result_free(&r);
}

/* --- Forensics, on both platforms --- */

static void forensics_run(int i, const char *what, struct run_result *r)
{
	RUN(*r, "--audit", "off", "--log-events", "--platform", platforms[i], "--",
	    prog_path("forensics"), what);
	cr_assert_eq(r->status, 0, "%s: status %d err %s", platforms[i], r->status, r->err);
}

Test(forensics, stack_names_try_mount_and_code_shows_the_syscall, .timeout = 60)
{
	for (int i = 0; i < 2; i++) {
		struct run_result r;
		char *stack;

		forensics_run(i, "inline", &r);
		cr_assert_str_eq(r.out, "inline=EPERM\n");
		stack = strstr(r.err, "stack  #0");
		cr_assert(stack, "%s: no stack: %s", platforms[i], r.err);
		/* the inline syscall is in try_mount itself: frame 0 */
		cr_assert(strstr(stack, "#0  0x") && strstr(stack, "try_mount+0x"), "%s: %s",
			  platforms[i], r.err);
		cr_assert(strstr(r.err, "main+0x"), "%s: callers: %s", platforms[i], r.err);
		cr_assert(strstr(r.err, "=> 0x") && strstr(r.err, ": syscall"), "%s: %s",
			  platforms[i], r.err);
		cr_assert(strstr(r.err, "tests/progs/forensics+0x"), "%s: site: %s", platforms[i],
			  r.err);
		run_result_free(&r);

		forensics_run(i, "libc", &r);
		cr_assert(strstr(r.err, "mount+0x") && strstr(r.err, "try_mount_libc+0x") &&
				  strstr(r.err, "libc.so"),
			  "%s: %s", platforms[i], r.err);
		run_result_free(&r);
	}
}

Test(forensics, shellcode_in_anonymous_memory_is_shown_as_such, .timeout = 60)
{
	for (int i = 0; i < 2; i++) {
		struct run_result r;

		forensics_run(i, "shellcode", &r);
		cr_assert_str_eq(r.out, "shellcode=EPERM\n");
		cr_assert(strstr(r.err, "[anonymous rwx] (not file-backed code"), "%s: %s",
			  platforms[i], r.err);
		cr_assert(strstr(r.err, "mov eax, 0xa5"), "%s: %s", platforms[i], r.err);
		cr_assert(strstr(r.err, ": syscall"), "%s: %s", platforms[i], r.err);
		run_result_free(&r);
	}
}

Test(forensics, a_refusal_loop_is_bounded_and_the_run_completes, .timeout = 120)
{
	/* 200 refusals: forensics for the first ones only, the rest plain */
	struct run_result r;

	for (int i = 0; i < 2; i++) {
		RUN(r, "--audit", "off", "--log-events", "--ro", PROGS_DIR, "--platform",
		    platforms[i], "--", "/bin/sh", "-c",
		    "i=0; while [ $i -lt 100 ]; do " PROGS_DIR "/forensics inline libc >/dev/null; "
		    "i=$((i+1)); done; echo ok");
		cr_assert_eq(r.status, 0, "%s: %d %s", platforms[i], r.status, r.err);
		cr_assert_str_eq(r.out, "ok\n");
		cr_assert_eq(count_lines_with(r.err, "] denied"), 200, "%s", platforms[i]);
		/* per-run cap: 32 refusals carry forensics */
		cr_assert_eq(count_lines_with(r.err, "stack  #0"), 32, "%s", platforms[i]);
		run_result_free(&r);
	}
}

Test(forensics, a_task_killed_for_int80_shows_its_site_under_ptrace, .timeout = 60)
{
	struct run_result r;

#if !defined(__x86_64__)
	cr_skip_test("x86_64 only");
#endif
	/* Under ptrace the killed task stops at its exit (PTRACE_EVENT_EXIT),
	 * registers intact; unotify has no such stop and reports the death only. */
	RUN(r, "--audit", "off", "--log-events", "--platform", "ptrace", "--",
	    prog_path("foreign-abi"), "int80");
	cr_assert_eq(r.status, 128 + 31, "status %d err %s", r.status, r.err);
	cr_assert(strstr(r.err, "killed   (filtered)(nr 20"), "%s", r.err);
	cr_assert(strstr(r.err, "=> 0x") && strstr(r.err, ": int 0x80"), "%s", r.err);
	cr_assert(strstr(r.err, "main+0x"), "%s", r.err);
	/* reported once, not again when the exit is reaped */
	cr_assert_eq(count_lines_with(r.err, "] killed "), 1, "%s", r.err);
	run_result_free(&r);
}
