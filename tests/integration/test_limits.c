/* Environment, identity, limits and the audit record of real runs. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

#define RUN(r, ...) cr_assert_eq(run_jx(&(r), __VA_ARGS__, NULL), 0, "spawning jhansi-exec failed")

Test(environment, caller_secrets_stay_out_unless_passed)
{
	struct run_result r;

	setenv("AWS_SECRET_ACCESS_KEY", "hunter2-secret", 1);
	setenv("JH_TEST_PASSED", "visible", 1);
	RUN(r, "--", "env");
	cr_assert_eq(r.status, 0);
	cr_assert_null(strstr(r.out, "hunter2-secret"), "secret leaked: %s", r.out);
	cr_assert_null(strstr(r.out, "JH_TEST_PASSED"));
	cr_assert(strstr(r.out, "PATH="));
	cr_assert(strstr(r.out, "HOME="));
	run_result_free(&r);

	RUN(r, "--env", "JH_TEST_PASSED", "--env", "EXTRA=set-here", "--", "env");
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "JH_TEST_PASSED=visible\n"), "%s", r.out);
	cr_assert(strstr(r.out, "EXTRA=set-here\n"));
	cr_assert_null(strstr(r.out, "hunter2-secret"));
	run_result_free(&r);

	RUN(r, "--env", "1BAD", "--", "true");
	cr_assert_eq(r.status, 125);
	run_result_free(&r);
}

Test(identity, tasks_never_run_as_root)
{
	struct run_result r;
	char want[32];

	RUN(r, "--", "id", "-u");
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(want, sizeof(want), "%d\n", geteuid() == 0 ? 65534 : (int)geteuid());
	cr_assert_str_eq(r.out, want);
	run_result_free(&r);
	/* and they cannot read what only root may */
	RUN(r, "--", "cat", "/etc/shadow");
	cr_assert_neq(r.status, 0, "read /etc/shadow: %s", r.out);
	run_result_free(&r);
}

Test(limits, timeout_kills_the_tree_with_124, .timeout = 60)
{
	struct run_result r;

	RUN(r, "--timeout", "1", "--", "sh", "-c", "sleep 100 & sleep 100");
	cr_assert_eq(r.status, 124, "status %d", r.status);
	cr_assert(strstr(r.err, "timed out"), "%s", r.err);
	run_result_free(&r);
	RUN(r, "--timeout", "abc", "--", "true");
	cr_assert_eq(r.status, 125);
	run_result_free(&r);
}

/* How many processes have `marker` as an argument of their command line
 * (a unique one per test: other tests run at the same time). */
static int count_with_arg(const char *marker)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	cr_assert(d);
	while ((de = readdir(d))) {
		char path[300], buf[4096];
		ssize_t len;
		int fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		for (char *a = buf; a < buf + len; a += strlen(a) + 1)
			if (strcmp(a, marker) == 0)
				n++;
	}
	closedir(d);
	return n;
}

/* The test: --memory 256M and a process that allocates 2 GiB with one
 * malloc and touches it. The address space is no longer the limit (the
 * malloc succeeds); the resident memory is: the tree is killed, jhansi-exec
 * says so and exits 123, the audit record carries the reason, and a task the
 * command left in the background is gone too. */
Test(limits, memory_limit_kills_a_2gib_allocation_with_a_recorded_reason, .timeout = 120)
{
	struct run_result r;
	char *dir = make_tmpdir();
	char db[4096], marker[64], script[4096];
	const char *show[] = {JA_PATH, "--db", db, "show", "1", NULL};
	const char *verify[] = {JA_PATH, "--db", db, "verify", NULL};

	snprintf(db, sizeof(db), "%s/audit.db", dir);
	/* a sleep of a unique length, to find it afterwards among all processes */
	snprintf(marker, sizeof(marker), "9%d.25", (int)getpid());
	snprintf(script, sizeof(script), "sleep %s & exec %s 2048", marker, prog_path("memhog"));
	RUN(r, "--audit-db", db, "--memory", "256M", "--ro", PROGS_DIR, "--", "sh", "-c", script);
	cr_assert_eq(r.status, 123, "status %d out %s err %s", r.status, r.out, r.err);
	cr_assert_null(strstr(r.out, "allocated"), "2 GiB allocated under --memory 256M");
	cr_assert(strstr(r.err, "memory limit 256M exceeded") && strstr(r.err, "killed"), "%s",
		  r.err);
	run_result_free(&r);
	cr_assert_eq(count_with_arg(marker), 0, "a sandbox task outlived the memory kill");

	cr_assert_eq(run_argv(show, &r), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "killed by SIGKILL: memory limit 256M exceeded"), "%s", r.out);
	cr_assert(strstr(r.out, "limits-watchdog") || strstr(r.out, "limits-cgroup2"), "%s",
		  r.out);
	run_result_free(&r);
	cr_assert_eq(run_argv(verify, &r), 0);
	cr_assert_eq(r.status, 0, "%s %s", r.out, r.err);
	run_result_free(&r);
	rmtree(dir);
	free(dir);

	RUN(r, "--memory", "lots", "--", "true");
	cr_assert_eq(r.status, 125);
	run_result_free(&r);
}

/* The limit is for the whole sandbox: three tasks of 100 MiB each stay under
 * 256M one by one, not together. They hold their memory until killed, so the
 * outcome does not depend on timing. */
Test(limits, memory_limit_counts_every_task_together, .timeout = 120)
{
	struct run_result r;
	char script[4096];
	const char *hog = prog_path("memhog");

	snprintf(script, sizeof(script), "%s 100 600 & %s 100 600 & %s 100 600 & wait", hog, hog,
		 hog);
	RUN(r, "--audit", "off", "--memory", "256M", "--ro", PROGS_DIR, "--", "sh", "-c", script);
	cr_assert_eq(r.status, 123, "status %d out %s err %s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, "memory limit 256M exceeded"), "%s", r.err);
	run_result_free(&r);
}

/* Under the limit nothing happens, and address space reserved but never
 * touched (as runtimes do: Go, the JVM, V8) is not memory. */
Test(limits, memory_limit_leaves_runs_under_it_and_reservations_alone, .timeout = 120)
{
	struct run_result r;

	RUN(r, "--audit", "off", "--memory", "256M", "--", prog_path("memhog"), "64");
	cr_assert_eq(r.status, 0, "status %d err %s", r.status, r.err);
	cr_assert_str_eq(r.out, "allocated\n");
	cr_assert_str_eq(r.err, "");
	run_result_free(&r);
	RUN(r, "--audit", "off", "--memory", "256M", "--", prog_path("memhog"), "reserve", "2048");
	cr_assert_eq(r.status, 0, "status %d out %s err %s", r.status, r.out, r.err);
	cr_assert_str_eq(r.out, "reserved\n");
	run_result_free(&r);
	/* only the sandbox's memory counts: not that of jhansi-exec's own first
	 * task before it execs, nor init (a pid namespace), which once took
	 * 11 MiB of 4M */
	RUN(r, "--audit", "off", "--memory", "6M", "--", "/bin/sh", "-c", "sleep 0.2; echo done");
	cr_assert_eq(r.status, 0, "status %d err %s", r.status, r.err);
	cr_assert_str_eq(r.out, "done\n");
	run_result_free(&r);
}

/* A file-descriptor hog raises its soft limit to the hard one and opens
 * until refused: the sandbox's hard limit is at most 65536 whatever the
 * caller's (raised to 1M here when the test may), the hog ends with EMFILE
 * and a normal status, and the host still runs the next command. */
Test(limits, a_file_descriptor_hog_ends_at_the_sandbox_bound, .timeout = 120)
{
	struct run_result r;
	struct rlimit rl;
	long n = -1;
	unsigned long long max = 0;
	char err[32] = "";

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max < (1u << 20)) {
		rl.rlim_max = 1u << 20; /* only as root: otherwise stays as it was */
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	RUN(r, "--audit", "off", "--", prog_path("memhog"), "fds");
	cr_assert_eq(r.status, 0, "status %d out %s err %s", r.status, r.out, r.err);
	cr_assert_eq(sscanf(r.out, "fds %ld %31s max %llu", &n, err, &max), 3, "%s", r.out);
	cr_assert_str_eq(err, "EMFILE", "%s", r.out);
	cr_assert_leq(max, 65536, "%s", r.out);
	cr_assert_leq(n, 65536, "%s", r.out);
	cr_assert_gt(n, 0, "%s", r.out);
	run_result_free(&r);
	RUN(r, "--audit", "off", "--", "true");
	cr_assert_eq(r.status, 0);
	run_result_free(&r);
}

Test(limits, explain_says_which_mechanism_enforces_the_limits)
{
	struct run_result r;

	RUN(r, "--explain");
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "cgroup v2 "), "%s", r.out);
	cr_assert(strstr(r.out, "RSS watchdog") || strstr(r.out, "a cgroup per run"), "%s", r.out);
	run_result_free(&r);
}

Test(limits, pids_limit_contains_a_fork_bomb, .timeout = 120)
{
	struct run_result r;
	long made;

	RUN(r, "--pids", "150", "--", prog_path("forkbomb"));
	cr_assert_eq(r.status, 0, "status %d err %s", r.status, r.err);
	made = strtol(r.out + 5, NULL, 10);
	cr_assert_lt(made, 150, "%s", r.out);
	run_result_free(&r);
	/* the host still answers, and the children are gone */
	RUN(r, "--", "true");
	cr_assert_eq(r.status, 0);
	run_result_free(&r);
}

Test(audit, a_run_with_a_prompt_is_recorded_and_verifies)
{
	struct run_result r;
	char *dir = make_tmpdir();
	char db[4096];
	const char *runs[] = {JA_PATH, "--db", db, "runs", NULL};
	const char *show[] = {JA_PATH, "--db", db, "show", "1", NULL};
	const char *verify[] = {JA_PATH, "--db", db, "verify", NULL};

	snprintf(db, sizeof(db), "%s/audit.db", dir);
	RUN(r, "--audit-db", db, "--actor", "agent-42", "--prompt", "write a csv parser", "--",
	    prog_path("try-syscall"), "mount");
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(run_argv(runs, &r), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "agent-42") && strstr(r.out, "try-syscall"), "%s", r.out);
	run_result_free(&r);
	cr_assert_eq(run_argv(show, &r), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "write a csv parser"), "%s", r.out);
	cr_assert(strstr(r.out, "mount("), "%s", r.out);
	cr_assert(strstr(r.out, "EPERM"), "%s", r.out);
	run_result_free(&r);
	cr_assert_eq(run_argv(verify, &r), 0);
	cr_assert_eq(r.status, 0, "%s %s", r.out, r.err);
	run_result_free(&r);
	rmtree(dir);
	free(dir);
}

Test(audit, the_workspace_change_set_is_recorded_with_hashes)
{
	struct run_result r;
	char *dir = make_tmpdir();
	char db[4096];
	const char *show[] = {JA_PATH, "--db", db, "show", "1", NULL};

	snprintf(db, sizeof(db), "%s/audit.db", dir);
	RUN(r, "--audit-db", db, "--workspace", "changeset-test", "--", "sh", "-c",
	    "printf hello > made-by-run.txt");
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(run_argv(show, &r), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "workspace   changeset-test"), "%s", r.out);
	/* sha256("hello") */
	cr_assert(strstr(r.out, "made-by-run.txt  "
				"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
		  "%s", r.out);
	run_result_free(&r);
	rmtree(dir);
	free(dir);
}

Test(audit, audit_off_writes_no_store)
{
	struct run_result r;
	char *dir = make_tmpdir();
	char db[4096];

	snprintf(db, sizeof(db), "%s/audit.db", dir);
	RUN(r, "--audit", "off", "--audit-db", db, "--", "true");
	cr_assert_eq(r.status, 0);
	cr_assert_neq(access(db, F_OK), 0, "store created with --audit off");
	run_result_free(&r);
	RUN(r, "--audit", "maybe", "--", "true");
	cr_assert_eq(r.status, 125);
	run_result_free(&r);
	rmtree(dir);
	free(dir);
}

Test(audit, an_unusable_store_is_a_one_line_125)
{
	struct run_result r;
	char *dir = make_tmpdir();
	char db[4096];
	FILE *f;

	snprintf(db, sizeof(db), "%s/audit.db", dir);
	f = fopen(db, "w");
	cr_assert(f);
	fputs("this is not a database, just some text long enough to not be empty\n", f);
	fclose(f);
	RUN(r, "--audit-db", db, "--", "true");
	cr_assert_eq(r.status, 125, "status %d", r.status);
	cr_assert(strstr(r.err, "audit"), "%s", r.err);
	run_result_free(&r);
	rmtree(dir);
	free(dir);
}

/* A host process of the same uid as the sandbox: without a pid namespace it
 * is one kill() away, and must look as if it did not exist. */
static void check_host_process_unreachable(pid_t target)
{
	static const char *const esrch[] = {
		"kill",	   "kill-hidden", "kill-pgrp", "tkill",	      "tgkill", "rt_sigqueueinfo",
		"pidfd_open", "prlimit",   "getsid",    "getpgid",     "sched_setaffinity",
		"setpriority",
	};
	struct run_result r;
	char pid[32], pgid[32], want[64];

	snprintf(pid, sizeof(pid), "%d", (int)target);
	snprintf(pgid, sizeof(pgid), "%d", (int)getpgid(target));
	RUN(r, "--", prog_path("signal-host"), pid, pgid);
	cr_assert_eq(r.status, 0, "%s", r.err);
	for (size_t i = 0; i < sizeof(esrch) / sizeof(esrch[0]); i++) {
		snprintf(want, sizeof(want), "\n%s=ESRCH\n", esrch[i]);
		cr_assert(strstr(r.out, want) || strncmp(r.out, want + 1, strlen(want) - 1) == 0,
			  "%s reached pid %s:\n%s", esrch[i], pid, r.out);
	}
	cr_assert(strstr(r.out, "setpriority-user=EPERM"), "%s", r.out);
	cr_assert(strstr(r.out, "kill-self=OK") && strstr(r.out, "kill-own-group=OK"), "%s", r.out);
	run_result_free(&r);
}

Test(processes, host_processes_cannot_be_signalled_or_touched, .timeout = 60)
{
	pid_t sleeper = fork();
	int st;

	cr_assert_geq(sleeper, 0);
	if (sleeper == 0) {
		/* same uid as the sandbox when root: it drops to 65534 */
		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(1);
		execlp("sleep", "sleep", "300", (char *)NULL);
		_exit(127);
	}
	usleep(100 * 1000);
	check_host_process_unreachable(sleeper);
	/* still alive: */
	cr_assert_eq(kill(sleeper, 0), 0);
	kill(sleeper, SIGKILL);
	waitpid(sleeper, &st, 0);
}

Test(processes, the_sentry_itself_cannot_be_signalled, .timeout = 60)
{
	struct run_result r;

	/* $PPID of the first task is jhansi-exec (the sentry); in a pid
	 * namespace it is the sandbox's own init (pid 1), which ignores signals
	 * from inside, and the sentry has no number there at all */
	RUN(r, "--", "sh", "-c", "kill -TERM $PPID; echo rc=$? ppid=$PPID");
	cr_assert_eq(r.status, 0, "jhansi-exec got the signal: %d %s", r.status, r.err);
	cr_assert(strstr(r.out, "rc=1") || strstr(r.out, "rc=0 ppid=1\n"), "%s", r.out);
	run_result_free(&r);
}

Test(processes, sandbox_tasks_signal_each_other_and_new_sessions, .timeout = 60)
{
	struct run_result r;

	/* The pattern is unique to this run (the shell's pid) and matches the
	 * sleep's command line, never the shell's, which only holds "$n.5". */
	RUN(r, "--", "sh", "-c",
	    "sleep 100 & p=$!; kill $p && wait $p; echo first=$?; "
	    "n=1$$; setsid sleep $n.5 & sleep 0.3; pkill -f \"sleep $n[.]5\"; echo pkill=$?; "
	    "sleep 0.2; pgrep -f \"sleep $n[.]5\" || echo gone");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "first=143"), "%s", r.out);
	cr_assert(strstr(r.out, "pkill=0"), "a task in a new session was not signalled: %s", r.out);
	cr_assert(strstr(r.out, "gone"), "%s", r.out);
	run_result_free(&r);
}

/* The namespace backstops: what the host allows is entered, --require insists.
 * Under the no-namespaces wrapper (as Docker's default profile) none can be
 * made: then --require must fail with a clear 125 and the run must still be
 * contained by the sentry alone. Both outcomes are checked, never skipped. */
Test(layers, require_enters_the_namespaces_or_refuses_to_run, .timeout = 60)
{
	struct run_result r;

	RUN(r, "--require", "utsns,ipcns", "--", "sh", "-c",
	    "cat /proc/sys/kernel/hostname 2>/dev/null || echo jhansi-view-hides-it; "
	    "readlink /proc/self/ns/ipc");
	if (r.status == 0) {
		char host_ipc[256] = "";
		ssize_t n = readlink("/proc/self/ns/ipc", host_ipc, sizeof(host_ipc) - 1);

		cr_assert_gt(n, 0);
		host_ipc[n] = '\0';
		/* the host's name never shows, even outside uname (where the
		 * filesystem view shows /proc/sys at all) */
		cr_assert(strncmp(r.out, "jhansi\n", 7) == 0 ||
			      strncmp(r.out, "jhansi-view-hides-it\n", 21) == 0,
			  "%s", r.out);
		cr_assert_null(strstr(r.out, host_ipc), "same ipc namespace as the host: %s", r.out);
	} else {
		cr_assert_eq(r.status, 125, "status %d: %s", r.status, r.err);
		cr_assert(strstr(r.err, "required protection layer unavailable"), "%s", r.err);
	}
	run_result_free(&r);

	RUN(r, "--require", "netns-please", "--", "true");
	cr_assert_eq(r.status, 125);
	cr_assert(strstr(r.err, "--require"), "%s", r.err);
	run_result_free(&r);
}

Test(layers, explain_names_the_namespaces_it_can_use)
{
	struct run_result r;

	RUN(r, "--explain");
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "namespaces "), "%s", r.out);
	run_result_free(&r);
}

/* Started as root, the sandbox runs as 65534 with NO_NEW_PRIVS: a setuid-root
 * binary runs with the caller's ids, not root's. (As any other user there is
 * no setuid-root binary the test could make; the root run covers it.) */
Test(identity, setuid_binaries_gain_nothing, .timeout = 60)
{
	struct run_result r;
	char *dir;
	char path[4096], cmd[3 * 4096 + 64];

	if (geteuid() != 0)
		return;
	dir = make_tmpdir();
	snprintf(path, sizeof(path), "%s/suid-id", dir);
	snprintf(cmd, sizeof(cmd), "cp /usr/bin/id '%s' && chown 0:0 '%s' && chmod 4755 '%s'", path,
		 path, path);
	cr_assert_eq(system(cmd), 0);
	RUN(r, "--", path, "-u");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "65534\n", "a setuid-root binary ran as %s", r.out);
	run_result_free(&r);
	rmtree(dir);
	free(dir);
}

/* TIOCSTI on the terminal the sandbox inherits: refused (it would type into
 * the caller's shell after the run). A real pseudo-terminal stands in for the
 * caller's terminal. */
Test(isolation, tiocsti_on_an_inherited_terminal_fails, .timeout = 60)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	const char *argv[] = {JX_PATH, "--", prog_path("try-syscall"), "tiocsti", NULL};
	char out[256] = "", *slave;
	pid_t pid;
	int st, fd;
	ssize_t n;

	cr_assert_geq(master, 0);
	cr_assert_eq(grantpt(master), 0);
	cr_assert_eq(unlockpt(master), 0);
	slave = ptsname(master);
	cr_assert(slave);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		fd = open(slave, O_RDWR | O_NOCTTY);
		if (fd < 0)
			_exit(120);
		dup2(fd, 0);
		dup2(fd, 1);
		execv(JX_PATH, (char *const *)argv);
		_exit(121);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
	n = read(master, out, sizeof(out) - 1);
	cr_assert_gt(n, 0);
	out[n] = '\0';
	cr_assert(strstr(out, "tiocsti=EPERM"), "%s", out);
	close(master);
}
