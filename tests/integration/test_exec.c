/* Integration tests: real programs under jhansi-exec. Run as root and, by
 * CTest, again as an unprivileged uid. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

extern char **environ;

#define RUN(r, ...) cr_assert_eq(run_jx(&(r), __VA_ARGS__, NULL), 0, "spawning jhansi-exec failed")

Test(exec, exit_status_is_the_commands_own)
{
	struct run_result r;

	RUN(r, "--", "sh", "-c", "exit 7");
	cr_assert_eq(r.status, 7, "status %d, stderr: %s", r.status, r.err);
	run_result_free(&r);
	RUN(r, "--", "true");
	cr_assert_eq(r.status, 0);
	run_result_free(&r);
}

Test(exec, death_by_signal_is_128_plus_n)
{
	struct run_result r;

	RUN(r, "--", "sh", "-c", "kill -9 $$");
	cr_assert_eq(r.status, 137, "status %d, stderr: %s", r.status, r.err);
	run_result_free(&r);
}

Test(exec, unknown_option_is_125_with_one_line)
{
	struct run_result r;

	RUN(r, "--frobnicate", "--", "true");
	cr_assert_eq(r.status, 125);
	cr_assert(strstr(r.err, "--frobnicate"), "stderr: %s", r.err);
	cr_assert_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1, "not one line: %s", r.err);
	run_result_free(&r);
}

Test(exec, missing_command_is_127)
{
	struct run_result r;

	RUN(r, "--", "no-such-command-jhansi");
	cr_assert_eq(r.status, 127, "status %d", r.status);
	cr_assert(strstr(r.err, "no-such-command-jhansi"), "stderr: %s", r.err);
	run_result_free(&r);
	RUN(r, "--", "/nonexistent/dir/prog");
	cr_assert_eq(r.status, 127);
	run_result_free(&r);
}

Test(exec, non_executable_is_126)
{
	struct run_result r;
	char *dir = make_tmpdir();
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/script", dir);
	f = fopen(path, "w");
	cr_assert(f);
	fputs("echo hi\n", f);
	fclose(f);
	chmod(path, 0644);
	RUN(r, "--", path);
	cr_assert_eq(r.status, 126, "status %d stderr %s", r.status, r.err);
	run_result_free(&r);
	RUN(r, "--", dir);
	cr_assert_eq(r.status, 126, "a directory: status %d", r.status);
	run_result_free(&r);
	rmtree(dir);
	free(dir);
}

Test(exec, no_command_is_125)
{
	struct run_result r;

	RUN(r, "--log-events");
	cr_assert_eq(r.status, 125);
	cr_assert(strstr(r.err, "missing command"), "stderr: %s", r.err);
	run_result_free(&r);
}

Test(exec, help_and_version_exit_0)
{
	struct run_result r;

	RUN(r, "--help");
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "usage: jhansi-exec"));
	cr_assert(strstr(r.out, "--log-events") && strstr(r.out, "--explain"));
	run_result_free(&r);
	RUN(r, "--version");
	cr_assert_eq(r.status, 0);
	cr_assert(strncmp(r.out, "jhansi-exec ", 12) == 0);
	run_result_free(&r);
}

Test(exec, explain_lists_platform_layers_and_fates_without_running)
{
	struct run_result r;

	RUN(r, "--explain", "--", "sh", "-c", "echo SHOULD-NOT-RUN");
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "platform: unotify"), "%s", r.out);
	cr_assert(strstr(r.out, "protection layers"));
	cr_assert(strstr(r.out, "no_new_privs"));
	cr_assert(strstr(r.out, "fates by class"));
	cr_assert(strstr(r.out, "mount"));
	cr_assert_null(strstr(r.out, "SHOULD-NOT-RUN"));
	run_result_free(&r);
}

static void assert_same_as_native(const char *cmd)
{
	struct run_result n, s;

	cr_assert_eq(run_native_sh(cmd, &n), 0);
	RUN(s, "--", "/bin/sh", "-c", cmd);
	cr_assert_eq(s.status, n.status, "%s: status %d natively, %d sandboxed; stderr: %s", cmd,
		     n.status, s.status, s.err);
	cr_assert_str_eq(s.out, n.out, "%s: output differs", cmd);
	cr_assert_eq(s.status, 0, "%s exited %d: %s", cmd, s.status, s.err);
	run_result_free(&n);
	run_result_free(&s);
}

Test(programs, python_prints_what_it_prints_natively, .timeout = 120)
{
	/* the system python: a per-user one (pyenv under /root) is not visible to
	 * the sandbox's uid 65534 when the suite runs as root */
	assert_same_as_native("/usr/bin/python3 -c 'import sys,json,sqlite3; print(sys.version)'");
}

Test(programs, sh_ls_usr_counts_like_natively, .timeout = 60)
{
	assert_same_as_native("ls /usr | wc -l");
}

Test(programs, fork_exec_chains_work, .timeout = 60)
{
	assert_same_as_native("for i in 1 2 3 4 5; do sh -c \"echo $i; (echo sub$i) | cat\"; done");
}

Test(programs, gcc_compiles_and_runs_hello_world, .timeout = 180)
{
	char *dir = make_tmpdir();
	char cmd[8192];

	snprintf(cmd, sizeof(cmd),
		 "cd %s && printf '#include <stdio.h>\\nint main(void){puts(\"hello, world\");return "
		 "0;}\\n' > hello.c && gcc -O1 -o hello hello.c && ./hello",
		 dir);
	{
		struct run_result s;
		/* Outside the workspace: the directory must be in the view. */
		RUN(s, "--rw", dir, "--", "/bin/sh", "-c", cmd);
		cr_assert_eq(s.status, 0, "status %d stderr %s", s.status, s.err);
		cr_assert_str_eq(s.out, "hello, world\n");
		run_result_free(&s);
	}
	rmtree(dir);
	free(dir);
}

Test(programs, vfork_and_posix_spawn_work)
{
	struct run_result r;

	RUN(r, "--", prog_path("fds"), "spawn");
	cr_assert_eq(r.status, 0, "status %d out %s err %s", r.status, r.out, r.err);
	cr_assert_str_eq(r.out, "spawn ok\n");
	run_result_free(&r);
}

Test(isolation, only_fds_0_1_2_are_inherited)
{
	struct run_result r;
	int fd = open("/dev/null", O_RDONLY); /* not close-on-exec: must not leak in */

	cr_assert(fd >= 3);
	RUN(r, "--", prog_path("fds"));
	close(fd);
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "fds: none\n", "leaked: %s", r.out);
	run_result_free(&r);
}

Test(isolation, uname_hides_the_host_name)
{
	struct run_result r;

	RUN(r, "--", "uname", "-n");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "jhansi\n");
	run_result_free(&r);
	RUN(r, "--hostname", "agent-7", "--", "hostname");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "agent-7\n");
	run_result_free(&r);
}

Test(isolation, bad_hostname_option_is_125)
{
	struct run_result r;

	RUN(r, "--hostname", "", "--", "true");
	cr_assert_eq(r.status, 125);
	run_result_free(&r);
}

Test(supervision, background_tasks_do_not_outlive_the_run, .timeout = 60)
{
	struct run_result r;
	char path[64];
	long pid;
	FILE *f;
	char cmdline[256] = "";

	/* The orphan ignores the polite signals: only SIGKILL ends it. */
	RUN(r, "--", "sh", "-c", "trap '' TERM HUP INT; sleep 1000 & echo $!");
	cr_assert_eq(r.status, 0, "%s", r.err);
	pid = strtol(r.out, NULL, 10);
	cr_assert_gt(pid, 1);
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	f = fopen(path, "r");
	if (f) {
		size_t n = fread(cmdline, 1, sizeof(cmdline) - 1, f);
		cmdline[n] = '\0';
		fclose(f);
	}
	cr_assert(strcmp(cmdline, "sleep") != 0, "sleep %ld still runs after the run", pid);
	run_result_free(&r);
}

Test(supervision, sigterm_to_jhansi_exec_reaches_the_sandbox, .timeout = 60)
{
	const char *argv[] = {JX_PATH, "--", "sh", "-c",
			      "trap 'echo got-term; exit 3' TERM; echo ready; "
			      "while :; do sleep 0.05; done",
			      NULL};
	int outp[2];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	char buf[256] = "";
	size_t len = 0;
	int st;

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
	kill(pid, SIGTERM);
	for (;;) {
		ssize_t n = read(outp[0], buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3, "status 0x%x", st);
	cr_assert(strstr(buf, "got-term"), "output: %s", buf);
	close(outp[0]);
}
