/* The sentry's own seccomp filter (sentry/harden.c): after it, this process
 * and every thread it already had cannot exec, mount, make or enter a
 * namespace, load BPF; threads, forks and files still work. Each check runs
 * in a forked child, whose exit code names the first check that failed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sentry/harden.h"

static int gate[2];

/* A thread that exists before the filter: it must be filtered too (TSYNC). */
static void *early_thread(void *arg)
{
	char c;
	char *const argv[] = {"/bin/false", NULL}; /* exits 1 if it ran */

	(void)arg;
	if (read(gate[0], &c, 1) != 1)
		return (void *)1;
	execv("/bin/false", argv);
	return (void *)(intptr_t)(errno == EPERM ? 0 : 2);
}

static void *nothing(void *arg)
{
	return arg;
}

static int checks(void)
{
	char *const argv[] = {"/bin/false", NULL}; /* exits 1 if it ran */
	pthread_t th, th2;
	void *res;
	pid_t pid;
	int st, fd;
	union bpf_attr attr = {0};

	if (pipe(gate) < 0 || pthread_create(&th, NULL, early_thread, NULL) != 0)
		return 10;
	if (jh_sentry_harden() != 0)
		return 11;
	execv("/bin/false", argv);
	if (errno != EPERM)
		return 12;
	if (unshare(CLONE_NEWUTS) == 0 || errno != EPERM)
		return 13;
	if (syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0) != -1 || errno != EPERM)
		return 14;
	if (mount("none", "/tmp", "tmpfs", 0, NULL) == 0 || errno != EPERM)
		return 15;
	if (syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr)) != -1 || errno != EPERM)
		return 16;
	if (syscall(SYS_setns, 0, 0) != -1 || errno != EPERM)
		return 17;
	/* what the sentry does all run long still works */
	pid = fork();
	if (pid < 0)
		return 20;
	if (pid == 0)
		_exit(7);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
		return 21;
	if (pthread_create(&th2, NULL, nothing, NULL) != 0 || pthread_join(th2, NULL) != 0)
		return 22;
	fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 23;
	close(fd);
	if (write(gate[1], "x", 1) != 1 || pthread_join(th, &res) != 0)
		return 24;
	if (res != NULL)
		return 25;
	return 0;
}

Test(harden, exec_mounts_and_namespaces_are_refused_threads_and_forks_work)
{
	pid_t pid = fork();
	int st;

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(checks());
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "status 0x%x", st);
	cr_assert_eq(WEXITSTATUS(st), 0, "check %d failed (see checks())", WEXITSTATUS(st));
}
