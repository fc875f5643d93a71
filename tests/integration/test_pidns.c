/* The pid-namespace layer: where the host allows it (root, or a user
 * namespace of our own, with the mount namespace its procfs goes into), the
 * command runs as pid 2 under a minimal init of ours (pid 1), /proc is the
 * namespace's own and shows only the sandbox's tasks, a host pid names
 * nothing there, signals sent to jhansi-exec reach the command, orphans are
 * reaped, and nothing is left once the run ends. Under the no-namespaces
 * wrapper the layer is off: the sentry alone keeps host processes out of
 * reach (the same ESRCH, the same /proc), and --require pidns is 125.
 *
 * Safety: the only host process a test touches is the `sleep` it started
 * itself (its pid is what the sandbox tries to reach); it is killed and
 * reaped by the test. The expectation is decided by the test itself, by
 * trying the namespaces in a forked child, never by asking jhansi-exec. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

#define RUN(r, ...) cr_assert_eq(run_jx(&(r), __VA_ARGS__, NULL), 0, "spawning jhansi-exec failed")

extern char **environ;

static char *state;

static void setup(void)
{
	state = state_dir_setup();
}

static void teardown(void)
{
	rmtree(state);
	free(state);
}

TestSuite(pidns, .init = setup, .fini = teardown, .timeout = 60);

/* Can a process like jhansi-exec make a pid namespace here, with a procfs of
 * its own mounted by its pid 1 in a mount namespace? Not root: in a user
 * namespace of its own. Tried in a forked child. */
static bool host_allows_pidns(void)
{
	pid_t pid = fork();
	int st;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		pid_t init;

		if (geteuid() != 0 && unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		if (unshare(CLONE_NEWNS | CLONE_NEWPID) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(1);
		init = fork();
		if (init == 0)
			_exit(mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) ==
				      0
				      ? 0
				      : 1);
		if (init < 0 || waitpid(init, &st, 0) != init)
			_exit(1);
		_exit(WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* A host process of the test's own: `sleep 60`. */
static pid_t start_host_sleep(void)
{
	const char *argv[] = {"sleep", "60", NULL};
	pid_t pid;

	cr_assert_eq(posix_spawnp(&pid, "sleep", NULL, NULL, (char *const *)argv, environ), 0);
	return pid;
}

/* Is our `sleep` still running (not killed, not a zombie)? */
static bool host_sleep_alive(pid_t pid)
{
	int st;

	return waitpid(pid, &st, WNOHANG) == 0 && kill(pid, 0) == 0;
}

static void stop_host_sleep(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
}

Test(pidns, the_command_is_pid_2_and_its_parent_is_init)
{
	bool on = host_allows_pidns();
	struct run_result r;

	RUN(r, "--audit", "off", "--", "/bin/sh", "-c",
	    "echo $$ $PPID; readlink /proc/self; grep -E '^(Pid|PPid):' /proc/self/status");
	cr_assert_eq(r.status, 0, "%s", r.err);
	if (on) {
		/* the shell is 2, its parent init; `readlink` and `grep` are its
		 * children, whose parent is 2 */
		cr_assert(strncmp(r.out, "2 1\n", 4) == 0, "%s", r.out);
		cr_assert(strstr(r.out, "\nPPid:\t2\n"), "%s", r.out);
	} else
		cr_assert(strncmp(r.out, "2 1\n", 4) != 0, "%s", r.out);
	run_result_free(&r);
	/* the same on the ptrace platform when it is the one under test: the
	 * numbers come from the kernel, not the backend */
	RUN(r, "--audit", "off", "--", "/bin/sh", "-c",
	    "cat /proc/1/comm; cat /proc/1/environ /proc/1/cmdline /proc/1/maps; echo rc=$?");
	cr_assert_eq(r.status, 0, "%s", r.err);
	if (on) /* pid 1 is jhansi-exec's init (a fork of jhansi-exec itself) */
		cr_assert(strncmp(r.out, "jhansi-exec\n", 12) == 0, "%s", r.out);
	else /* the host's init is not the sandbox's to see */
		cr_assert(strncmp(r.out, "rc=", 3) == 0, "%s", r.out);
	/* init's memory, environment (the caller's) and command line: not shown */
	cr_assert(strstr(r.out, "rc=1\n"), "%s", r.out);
	cr_assert(strstr(r.err, "/proc/1/environ: No such file"), "%s", r.err);
	cr_assert(strstr(r.err, "/proc/1/maps: No such file"), "%s", r.err);
	run_result_free(&r);
}

Test(pidns, proc_lists_only_the_sandbox_tasks_and_a_host_pid_names_nothing)
{
	bool on = host_allows_pidns();
	pid_t h = start_host_sleep();
	char script[1024];
	struct run_result r;
	unsigned n = 0;

	/* the host's sleep: absent from /proc (or, should its number happen to
	 * be a sandbox task's, not that sleep); kill(2) of its number fails */
	snprintf(script, sizeof(script),
		 "for p in /proc/[0-9]*; do echo \"P ${p#/proc/}\"; done; "
		 "tr '\\0' ' ' < /proc/%d/cmdline; echo; "
		 "kill -TERM %d 2>/dev/null; echo kill=$?; "
		 "python3 -c 'import os, errno\n"
		 "try: os.kill(%d, 0); print(\"signal0 ok\")\n"
		 "except OSError as e: print(\"signal0\", errno.errorcode[e.errno])'",
		 (int)h, (int)h, (int)h);
	RUN(r, "--audit", "off", "--", "/bin/sh", "-c", script);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_null(strstr(r.out, "sleep 60"), "%s", r.out);
	if (!on || h > 16) {
		cr_assert(strstr(r.out, "kill=1\n"), "%s", r.out);
		cr_assert(strstr(r.out, "signal0 ESRCH\n"), "%s", r.out);
	}
	/* the host side: our sleep was not signalled */
	cr_assert(host_sleep_alive(h), "the host's sleep %d was reached", (int)h);
	stop_host_sleep(h);
	if (on) {
		/* init, the shell, and the shell's children at that moment: a
		 * handful, never the host's hundreds */
		for (const char *p = r.out; (p = strstr(p, "P ")); p += 2)
			n++;
		cr_assert(n >= 2 && n <= 6, "%u tasks in /proc: %s", n, r.out);
		cr_assert(strstr(r.out, "P 1\n") && strstr(r.out, "P 2\n"), "%s", r.out);
	}
	run_result_free(&r);
}

Test(pidns, orphans_are_reaped_by_init_and_no_zombie_is_left)
{
	bool on = host_allows_pidns();
	struct run_result r;

	/* A child whose parent exits first: reparented (to init in the
	 * namespace), then reaped once it exits. The loops end when it is gone,
	 * or after 10 s (a zombie left: the test fails on "gone=no"). */
	RUN(r, "--audit", "off", "--", "/bin/sh", "-c",
	    "sh -c 'sleep 0.5 & echo $! > /tmp/orphan'; o=$(cat /tmp/orphan); "
	    "grep '^PPid:' /proc/$o/status; "
	    "i=0; while [ -e /proc/$o ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; "
	    "[ -e /proc/$o ] && echo gone=no || echo gone=yes; "
	    "for s in /proc/[0-9]*/stat; do cut -d' ' -f3 $s 2>/dev/null; done | grep -c Z");
	cr_assert(strstr(r.out, "gone=yes\n"), "%s\n%s", r.out, r.err);
	if (on) /* its new parent is init */
		cr_assert(strstr(r.out, "PPid:\t1\n"), "%s", r.out);
	/* no zombie in the sandbox (grep -c prints 0 and exits 1) */
	cr_assert(strstr(r.out, "\n0\n"), "%s", r.out);
	run_result_free(&r);
}

/* A sandbox task against init (jhansi-exec's fork, pid 1): its memory,
 * environment and command line by every path shape, through a directory fd
 * and as cwd; then signals it cannot ignore from outside (KILL, STOP) and
 * ones init blocks (TERM, TSTP). The run goes on and ends normally (a stopped
 * or dead init would hang or kill it). */
static const char init_attack_py[] =
	"import os, signal\n"
	"for p in ['/proc/1/environ', '/proc/1/mem', '/proc/1/maps', '/proc/1/cmdline',\n"
	"          '/proc/1/task/1/environ', '/proc/2/../1/environ', '/proc/self/../1/mem',\n"
	"          '/proc/1/./environ', '/proc/1//environ', '/proc/1/fd/0', '/proc/1/root/etc/hostname']:\n"
	"    try: open(p, 'rb').read(16); print(p, 'OPEN')\n"
	"    except OSError as e: print(p, 'errno', e.errno)\n"
	"try:\n"
	"    d = os.open('/proc/1', os.O_RDONLY | os.O_DIRECTORY)\n"
	"    for n in ['environ', 'mem', 'cmdline']:\n"
	"        try: os.close(os.open(n, os.O_RDONLY, dir_fd=d)); print('dirfd', n, 'OPEN')\n"
	"        except OSError as e: print('dirfd', n, 'errno', e.errno)\n"
	"    os.chdir('/proc/1')\n"
	"    try: open('environ', 'rb'); print('cwd OPEN')\n"
	"    except OSError as e: print('cwd errno', e.errno)\n"
	"except OSError as e: print('no /proc/1', e.errno)\n"
	"d = os.open('/proc', os.O_RDONLY | os.O_DIRECTORY)\n"
	"try: os.close(os.open('1/environ', os.O_RDONLY, dir_fd=d)); print('relative OPEN')\n"
	"except OSError as e: print('relative errno', e.errno)\n"
	"for s in (signal.SIGKILL, signal.SIGSTOP, signal.SIGTERM, signal.SIGTSTP):\n"
	"    try: os.kill(1, s)\n"
	"    except OSError as e: print('kill', s, 'errno', e.errno)\n"
	"print('alive', os.getpid(), os.getppid())\n";

Test(pidns, a_task_cannot_read_inits_memory_nor_stop_or_kill_it)
{
	bool on = host_allows_pidns();
	struct run_result r;

	RUN(r, "--audit", "off", "--", "/usr/bin/python3", "-c", init_attack_py);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_null(strstr(r.out, "OPEN"), "%s", r.out);
	if (on) {
		cr_assert(strstr(r.out, "/proc/1/environ errno 2\n"), "%s", r.out);
		cr_assert(strstr(r.out, "dirfd mem errno 2\n"), "%s", r.out);
		cr_assert(strstr(r.out, "cwd errno 2\n"), "%s", r.out);
		/* the signals "succeed" (init exists) and change nothing */
		cr_assert_null(strstr(r.out, "kill "), "%s", r.out);
		cr_assert(strstr(r.out, "alive 2 1\n"), "%s", r.out);
	} else
		cr_assert(strstr(r.out, "alive "), "%s", r.out);
	run_result_free(&r);
}

/* Starts jhansi-exec with `args` on a pipe for its stdout, reads up to "ready". */
static pid_t spawn_ready(const char *const *argv, int *ret_out)
{
	posix_spawn_file_actions_t fa;
	int outp[2];
	char buf[256] = "";
	size_t len = 0;
	pid_t pid;

	cr_assert_eq(pipe(outp), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_addclose(&fa, outp[0]);
	cr_assert_eq(posix_spawn(&pid, JX_PATH, &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(outp[1]);
	while (!strstr(buf, "ready") && len < sizeof(buf) - 1) {
		ssize_t n = read(outp[0], buf + len, sizeof(buf) - 1 - len);
		cr_assert_gt(n, 0, "no 'ready' from the sandbox");
		len += (size_t)n;
		buf[len] = '\0';
	}
	*ret_out = outp[0];
	return pid;
}

static void read_all(int fd, char *buf, size_t cap)
{
	size_t len = strlen(buf);

	for (;;) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
	}
	close(fd);
}

Test(pidns, signals_sent_to_jhansi_exec_reach_the_command_and_its_group)
{
	/* the command (pid 2) traps USR1 and TERM; a child of it in its group
	 * traps them too (set up before "ready"): both hear TERM, once each */
	const char *argv[] = {JX_PATH, "--audit", "off", "--", "sh", "-c",
			      "trap 'echo got-usr1' USR1; "
			      "trap 'echo got-term; wait; exit 3' TERM; "
			      "sh -c 'trap \"\" USR1; trap \"echo child-term; exit 0\" TERM; "
			      ": > /tmp/child-up; while :; do sleep 0.05; done' & "
			      "while [ ! -e /tmp/child-up ]; do sleep 0.01; done; "
			      "echo ready; while :; do sleep 0.05; done",
			      NULL};
	char buf[1024] = "";
	int out, st;
	pid_t pid = spawn_ready(argv, &out);

	kill(pid, SIGUSR1);
	/* USR1 first: read until it is heard, so that TERM comes after it */
	{
		size_t len = 0;
		while (!strstr(buf, "got-usr1") && len < sizeof(buf) - 1) {
			ssize_t n = read(out, buf + len, sizeof(buf) - 1 - len);
			cr_assert_gt(n, 0, "no got-usr1: %s", buf);
			len += (size_t)n;
			buf[len] = '\0';
		}
	}
	kill(pid, SIGTERM);
	read_all(out, buf, sizeof(buf));
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3, "status 0x%x: %s", st, buf);
	cr_assert(strstr(buf, "got-term"), "%s", buf);
	cr_assert(strstr(buf, "child-term"), "%s", buf);
	/* once: a second delivery would print it twice */
	cr_assert_null(strstr(strstr(buf, "got-term") + 1, "got-term"), "%s", buf);
}

Test(pidns, a_command_killed_by_a_signal_ends_the_run_with_that_signal)
{
	struct run_result r;

	RUN(r, "--audit", "off", "--", "/bin/sh", "-c", "kill -KILL $$");
	cr_assert_eq(r.status, 128 + SIGKILL, "%d %s", r.status, r.err);
	run_result_free(&r);
	RUN(r, "--audit", "off", "--", "/bin/sh", "-c", "exit 42");
	cr_assert_eq(r.status, 42, "%d %s", r.status, r.err);
	run_result_free(&r);
}

/* Host processes whose command line is `sleep <arg>`. */
static unsigned count_sleeps(const char *arg)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	unsigned n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d))) {
		char p[300], cmd[256] = "";
		FILE *f;
		size_t len;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/cmdline", de->d_name);
		f = fopen(p, "re");
		if (!f)
			continue;
		len = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
		if (len > 6 && strcmp(cmd, "sleep") == 0 && strcmp(cmd + 6, arg) == 0)
			n++;
	}
	closedir(d);
	return n;
}

Test(pidns, the_timeout_and_the_end_of_the_command_leave_no_task)
{
	struct run_result r;
	char a[32], b[32], script[256];

	/* arguments unique to this test process (the variants run at once) */
	snprintf(a, sizeof(a), "97.%d1", (int)getpid());
	snprintf(b, sizeof(b), "97.%d2", (int)getpid());
	/* sleeps in the background, one in a session of its own: all killed */
	snprintf(script, sizeof(script), "sleep %s & setsid sleep %s & sleep %s", a, a, a);
	RUN(r, "--audit", "off", "--timeout", "1", "--", "/bin/sh", "-c", script);
	cr_assert_eq(r.status, 124, "%d %s", r.status, r.err);
	run_result_free(&r);
	cr_assert_eq(count_sleeps(a), 0);
	/* the command exits, leaving a background task: gone with the run */
	snprintf(script, sizeof(script), "sleep %s & exit 0", b);
	RUN(r, "--audit", "off", "--", "/bin/sh", "-c", script);
	cr_assert_eq(r.status, 0, "%d %s", r.status, r.err);
	run_result_free(&r);
	cr_assert_eq(count_sleeps(b), 0);
}

Test(pidns, explain_and_require_show_and_insist_on_the_layer)
{
	bool on = host_allows_pidns();
	char db[4200];
	const char *show[] = {JA_PATH, "--db", db, "show", "1", NULL};
	struct run_result r;

	RUN(r, "--explain");
	cr_assert_eq(r.status, 0, "%s", r.err);
	if (on) {
		cr_assert(strstr(r.out, "pid namespace            on: the command is pid 2"), "%s",
			  r.out);
		cr_assert(strstr(r.out, ",pidns"), "%s", r.out);
	} else {
		cr_assert(strstr(r.out, "pid namespace            off:"), "%s", r.out);
		cr_assert_null(strstr(r.out, "pidns"), "%s", r.out);
	}
	run_result_free(&r);

	snprintf(db, sizeof(db), "%s/audit.db", state);
	RUN(r, "--audit-db", db, "--require", "pidns", "--", "/bin/sh", "-c", "echo $$");
	if (!on) {
		cr_assert_eq(r.status, 125, "status %d: %s", r.status, r.err);
		cr_assert(strstr(r.err, "required protection layer unavailable on this host: pidns"),
			  "%s", r.err);
		run_result_free(&r);
		return;
	}
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "2\n");
	run_result_free(&r);
	/* the run's audit record names the layer */
	cr_assert_eq(run_argv(show, &r), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "pidns"), "%s", r.out);
	run_result_free(&r);
}
