/* The first task's set-up between fork and filter, the same for every backend
 * (see child.h). Only async-signal-safe calls: the supervisor may have threads
 * (the audit writer) whose locks a forked child must not touch. */
#include "platform/child.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/macro.h"
#include "platform/layers.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* Closes every fd >= 3 except those in keep[] (sorted ascending). */
static void close_all_except(const int *keep, size_t n)
{
	unsigned from = 3;

	for (size_t i = 0; i < n; i++) {
		if ((unsigned)keep[i] < from)
			continue;
		if ((unsigned)keep[i] > from)
			syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0);
		from = (unsigned)keep[i] + 1;
	}
	syscall(SYS_close_range, from, ~0U, 0);
}

int jh_child_prepare(const struct jh_spawn_spec *spec, pid_t parent, int *keep, size_t nkeep,
		     unsigned *ret_layers)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (setsid() < 0)
		return jh_negerrno();
	/* Backstops first: a user namespace needs the caller's ids, before any drop. */
	*ret_layers = jh_layers_enter(spec->layers, spec->hostname);

	/* insertion sort: at most a handful of fds */
	for (size_t i = 1; i < nkeep; i++)
		for (size_t j = i; j > 0 && keep[j] < keep[j - 1]; j--) {
			int x = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = x;
		}
	close_all_except(keep, nkeep);

	for (size_t i = 0; i < spec->nrlimits; i++) {
		struct rlimit rl = {.rlim_cur = spec->rlimits[i].cur, .rlim_max = spec->rlimits[i].max};
		if (setrlimit(spec->rlimits[i].resource, &rl) < 0)
			return jh_negerrno();
	}
	if (spec->cwd && chdir(spec->cwd) < 0)
		return jh_negerrno();
	if (spec->drop_ids) {
		if (setgroups(0, NULL) < 0 || setresgid(spec->gid, spec->gid, spec->gid) < 0 ||
		    setresuid(spec->uid, spec->uid, spec->uid) < 0)
			return jh_negerrno();
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return jh_negerrno();
	if (getppid() != parent)
		return -ESRCH;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return jh_negerrno();
	return 0;
}
