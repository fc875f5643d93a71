/* Choosing a backend: by name, or `auto` — unotify where a seccomp listener
 * can be created here, ptrace otherwise.
 *
 * Probing the action is not enough: a process already under a filter with a
 * listener (a nested sandbox, some container runtimes) gets EBUSY when it asks
 * for a second one, and a host filter may refuse seccomp(2) flags outright. So
 * the probe forks a child that installs an allow-all filter with
 * SECCOMP_FILTER_FLAG_NEW_LISTENER, exactly as unotify's spawn() will. */
#include "platform/platform.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/macro.h"

/* 0 if a child of ours can create a listener; else -errno of the attempt. */
static int listener_works(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = {.len = 1, .filter = &allow};
	pid_t pid;
	int st;

	pid = fork();
	if (pid < 0)
		return jh_negerrno();
	if (pid == 0) {
		long fd;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(errno & 0x7f);
		fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			     &prog);
		_exit(fd < 0 ? (errno & 0x7f) : 0);
	}
	if (JH_RETRY_EINTR(waitpid(pid, &st, 0)) != pid)
		return jh_negerrno();
	if (WIFEXITED(st))
		return -WEXITSTATUS(st);
	return -ECHILD;
}

const struct jh_platform_ops *jh_platform_auto(const char **ret_reason)
{
	const char *reason = NULL;
	int r = jh_platform_unotify.probe(&reason);

	if (r == 0)
		r = listener_works();
	if (r == 0) {
		*ret_reason = "a seccomp listener can be created here";
		return &jh_platform_unotify;
	}
	if (r == -EBUSY)
		*ret_reason = "a seccomp listener cannot be created here (EBUSY: already "
			      "under one, e.g. a nested sandbox)";
	else
		*ret_reason = reason ? reason : "a seccomp listener cannot be created here";
	return &jh_platform_ptrace;
}
