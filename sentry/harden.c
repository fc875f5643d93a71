/* The sentry's own seccomp filter (see harden.h): a denylist, not an
 * allowlist, because the supervisor's threads (dispatcher, audit writer,
 * limits watchdog) and the libraries they use (sqlite, OpenSSL, libunwind in
 * the forensics helper it forks) make an exact list brittle; what it refuses
 * is what no code path after set-up needs. ptrace and process_vm_* stay: the
 * ptrace platform and the forensics helper use them. */
#include "sentry/harden.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/prctl.h>

#include "base/macro.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int jh_sentry_harden(void)
{
	static const char *const refused[] = {
		"execve", "execveat", "mount", "umount2", "pivot_root", "chroot", "setns",
		"unshare", "mount_setattr", "open_tree", "move_mount", "fsopen", "fsconfig",
		"fsmount", "fspick", "bpf", "kexec_load", "kexec_file_load", "init_module",
		"finit_module", "delete_module", "keyctl", "add_key", "request_key",
		"userfaultfd", "perf_event_open", "io_uring_setup", "io_uring_enter",
		"io_uring_register", "open_by_handle_at", "name_to_handle_at", "reboot",
		"swapon", "swapoff", "acct", "quotactl", "syslog", "personality",
	};
	static const unsigned long ns_flags[] = {
		CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,    CLONE_NEWUSER,
		CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP, CLONE_NEWTIME,
	};
	scmp_filter_ctx ctx;
	int r = 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < JH_ARRAY_SIZE(refused) && r == 0; i++) {
		int nr = seccomp_syscall_resolve_name(refused[i]);
		if (nr != __NR_SCMP_ERROR)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	/* Threads and forks are fine; new namespaces are not. */
	for (size_t i = 0; i < JH_ARRAY_SIZE(ns_flags) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r > 0 ? -r : r;
}
