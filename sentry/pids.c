/* Calls that name another process: kill, tkill, tgkill, rt_sigqueueinfo,
 * rt_tgsigqueueinfo, pidfd_open, prlimit64, sched_set*, setpriority,
 * ioprio_set, getpgid, getsid, migrate_pages, move_pages, get_robust_list —
 * and setsid, which makes a new sandbox session.
 *
 * Without a pid namespace, host processes of the same uid are one kill() away.
 * These handlers let a call reach only the sandbox's own tasks and answer
 * ESRCH for any other, as if it did not exist. The filter passes the forms
 * aimed at the caller itself (pid 0) without a round trip.
 *
 * The decision is taken on register arguments (the pid), so answering
 * "continue" is race-free with respect to task memory. What remains is pid
 * reuse between the check and the kernel's lookup: a sandbox task it names
 * would have to die and its pid be taken by a host process within those
 * microseconds; a pid namespace (a backstop, when available) closes it.
 *
 * With a pid namespace (JH_LAYER_PIDNS) the numbers are the task's own
 * namespace's, and the kernel resolves them there: that namespace holds the
 * sandbox's tasks and nothing else (init, the command and what it starts; the
 * first task, the sentry, the gofer and the host are outside, with no number
 * in it). Translating them to host pids to ask "is it ours" would only
 * re-derive what the lookup already guarantees, and race with it; so every
 * pid-naming call is continued as it is, value-only, and the kernel's answer
 * (ESRCH for a number that names nothing there, a host pid included) is the
 * task's. Per call:
 *   kill(pid > 0), tkill, tgkill, rt_(tg)sigqueueinfo: the target is looked
 *     up in the caller's namespace;
 *   kill(0) and kill(-pgrp): process groups of the namespace's tasks only;
 *   kill(-1): every process of the caller's namespace but its init and the
 *     caller (the kernel skips what has no number there);
 *   pidfd_open, prlimit64, sched_set*, migrate_pages, move_pages,
 *   get_robust_list, getpgid, getsid: one pid, looked up there;
 *   setpriority/ioprio_set of a process or group: the same; of a user
 *     (PRIO_USER): still refused, the kernel walks every process of the uid.
 * The pids the sentry itself handles (notifications, ptrace stops, sessions)
 * are host pids, which it reads from its own /proc as before. The calls that
 * would name a process's memory (process_vm_*, kcmp, ptrace) stay refused by
 * the table.
 *
 * pid_t arguments are 32-bit: the kernel ignores the upper half of the
 * register, so every handler reads (int32_t)arg. */
#include "sentry/fs.h"
#include "sentry/sentry-internal.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#define PRIO_WHO_PROCESS 0 /* PRIO_PROCESS and IOPRIO_WHO_PROCESS - 1 */

static pid_t arg_pid(const struct jh_call *c, unsigned i)
{
	return (pid_t)(int32_t)c->sc->args[i];
}

/* In a pid namespace of its own, the task's numbers reach only the sandbox's
 * tasks: the kernel decides (see the top of this file). */
static bool ns_confines(const struct jh_call *c)
{
	return jh_sentry_pidns(c->s);
}

static void allow_if_ours(struct jh_call *c, pid_t pid)
{
	if (ns_confines(c))
		jh_call_continue(c, NULL);
	else if (jh_sentry_owns_pid(c->s, pid))
		jh_call_continue(c, NULL);
	else
		jh_call_deny(c, ESRCH, "not a sandbox task");
}

/* A process group is ours if some member is: its leader when alive, else any
 * process in it (scan of /proc; rare). */
static bool owns_pgrp(struct jh_call *c, pid_t pgid)
{
	DIR *d;
	struct dirent *de;
	bool ours = false;

	if (pgid <= 0)
		return false;
	if (getsid(pgid) >= 0)
		return jh_sentry_owns_pid(c->s, pgid);
	d = opendir("/proc");
	while (d && !ours && (de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name);
		if (pid > 0 && getpgid(pid) == pgid)
			ours = jh_sentry_owns_pid(c->s, pid);
	}
	if (d)
		closedir(d);
	return ours;
}

/* kill(-1, sig): every process the caller may signal. Performed here, limited
 * to the sandbox's tasks (the caller's own process excluded, as Linux does). */
static void kill_all_ours(struct jh_call *c, int sig)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t self = getsid(c->sc->tid) >= 0 ? c->sc->tid : -1;
	int sent = 0;
	char path[64];
	FILE *f;
	pid_t tgid = -1;

	/* the caller's thread-group id, to exclude its own process */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)c->sc->tid);
	f = fopen(path, "re");
	if (f) {
		char line[128];
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Tgid: %d", &tgid) == 1)
				break;
		fclose(f);
	}
	(void)self;
	while (d && (de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name);
		if (pid <= 0 || pid == tgid || !jh_sentry_owns_pid(c->s, pid))
			continue;
		if (kill(pid, sig) == 0)
			sent++;
	}
	if (d)
		closedir(d);
	jh_call_emulated(c, 0, sent ? 0 : ESRCH);
	c->detail = "kill(-1) limited to the sandbox's tasks";
}

static void handle_kill(struct jh_call *c)
{
	pid_t pid = arg_pid(c, 0);
	int sig = (int)(int32_t)c->sc->args[1];

	if (pid > 0 || ns_confines(c))
		allow_if_ours(c, pid);
	else if (pid == 0)
		jh_call_continue(c, NULL); /* own process group */
	else if (pid == -1) {
		if (sig < 0 || sig >= NSIG)
			jh_call_emulated(c, -1, EINVAL);
		else
			kill_all_ours(c, sig);
	} else if (pid == INT32_MIN)
		jh_call_continue(c, NULL); /* the kernel answers ESRCH */
	else if (owns_pgrp(c, -pid))
		jh_call_continue(c, NULL);
	else
		jh_call_deny(c, ESRCH, "not a sandbox process group");
}

/* The target is argument 0; 0 means the caller. */
static void handle_pid_arg0(struct jh_call *c)
{
	pid_t pid = arg_pid(c, 0);

	if (pid <= 0)
		jh_call_continue(c, NULL); /* self, or invalid: the kernel answers */
	else
		allow_if_ours(c, pid);
}

/* With --disk-quota, RLIMIT_FSIZE is the quota's: the supervisor lowers it
 * while the workspace is full, and a task raising it back would write on past
 * the quota. Setting it is refused (EPERM, as for an unprivileged raise) —
 * decided on the registers alone (resource, and whether a new value is
 * given), so the kernel may run everything else. */
static bool sets_fsize_under_quota(int resource, uint64_t new_ptr)
{
	return resource == RLIMIT_FSIZE && new_ptr != 0 && jh_fs_quota() != 0;
}

/* prlimit64(pid, resource, new, old) */
static void handle_prlimit(struct jh_call *c)
{
	if (sets_fsize_under_quota((int)c->sc->args[1], c->sc->args[2])) {
		jh_call_deny(c, EPERM, "RLIMIT_FSIZE is held by --disk-quota");
		return;
	}
	handle_pid_arg0(c);
}

/* setrlimit(resource, rlim) */
static void handle_setrlimit(struct jh_call *c)
{
	if (sets_fsize_under_quota((int)c->sc->args[0], c->sc->args[1]))
		jh_call_deny(c, EPERM, "RLIMIT_FSIZE is held by --disk-quota");
	else
		jh_call_continue(c, NULL);
}

/* tgkill(tgid, tid, sig), rt_tgsigqueueinfo(tgid, tid, sig, info). */
static void handle_tgid_tid(struct jh_call *c)
{
	pid_t tid = arg_pid(c, 1);

	if (tid <= 0)
		jh_call_continue(c, NULL); /* the kernel answers EINVAL */
	else
		allow_if_ours(c, tid);
}

/* setpriority(which, who, prio) and ioprio_set(which, who, ioprio). */
static void handle_priority(struct jh_call *c)
{
	int which = (int)(int32_t)c->sc->args[0];
	pid_t who = arg_pid(c, 1);
	bool io = c->info && c->info->name[0] == 'i';
	int process = io ? 1 : PRIO_PROCESS, pgrp = io ? 2 : PRIO_PGRP, user = io ? 3 : PRIO_USER;

	if (which == user) {
		/* every process of a uid: host processes included */
		jh_call_deny(c, EPERM, "per-user priority changes reach host processes");
		return;
	}
	if (who == 0 || (which != process && which != pgrp)) {
		jh_call_continue(c, NULL);
		return;
	}
	if (which == process || ns_confines(c))
		allow_if_ours(c, who);
	else if (owns_pgrp(c, who))
		jh_call_continue(c, NULL);
	else
		jh_call_deny(c, ESRCH, "not a sandbox process group");
}

/* setsid(): the caller becomes the leader of a new session, whose id is its
 * process id. Record it before letting the call run, unless it will fail
 * (the caller already leads a process group: EPERM). */
static void handle_setsid(struct jh_call *c)
{
	char path[64], line[128];
	pid_t tgid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)c->sc->tid);
	f = fopen(path, "re");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Tgid: %d", &tgid) == 1)
				break;
		fclose(f);
	}
	if (tgid <= 0) {
		jh_call_emulated(c, -1, ESRCH);
		return;
	}
	if (getpgid(tgid) != tgid && jh_sentry_add_session(c->s, tgid) < 0) {
		jh_call_deny(c, EPERM, "too many sessions in the sandbox");
		return;
	}
	jh_call_continue(c, NULL);
}

const struct jh_handler_entry jh_pid_handlers[] = {
	{"kill", handle_kill},
	{"pid_arg0", handle_pid_arg0},
	{"prlimit", handle_prlimit},
	{"setrlimit", handle_setrlimit},
	{"tgid_tid", handle_tgid_tid},
	{"priority", handle_priority},
	{"setsid", handle_setsid},
	{NULL, NULL},
};
