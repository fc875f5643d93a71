/* Makes one syscall named on the command line and prints the outcome as
 * "NAME=OK" or "NAME=ERRNONAME", for tests that check what the sandbox refuses.
 * Where a call could succeed and do harm if the filter failed (mount, bpf ...)
 * it is made with arguments that the kernel would reject with EFAULT or EINVAL
 * after the permission check, so an EPERM is unambiguous (bubblewrap's
 * try-syscall). */
#include <errno.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case ENOSYS: return "ENOSYS";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case EBUSY: return "EBUSY";
	case ENOTTY: return "ENOTTY";
	case EBADF: return "EBADF";
	case EACCES: return "EACCES";
	case ENOENT: return "ENOENT";
	default: return strerror(e);
	}
}

#define BAD ((void *)1) /* an address the kernel cannot read: EFAULT if reached */

static long try(const char *name)
{
	/* bad pointers to the rlimit calls the sentry decides on registers */
	if (!strcmp(name, "setrlimit-fsize-badptr"))
		return syscall(SYS_setrlimit, 1 /* RLIMIT_FSIZE */, (void *)8);
	if (!strcmp(name, "setrlimit-nofile-badptr"))
		return syscall(SYS_setrlimit, 7 /* RLIMIT_NOFILE */, (void *)8);
	if (!strcmp(name, "prlimit-nofile-badptr"))
		return syscall(SYS_prlimit64, 0, 7, (void *)8, (void *)8);
	if (!strcmp(name, "mount"))
		return syscall(SYS_mount, BAD, BAD, BAD, 0, BAD);
	if (!strcmp(name, "umount2"))
		return syscall(SYS_umount2, BAD, 0);
	if (!strcmp(name, "unshare-user"))
		return syscall(SYS_unshare, CLONE_NEWUSER);
	if (!strcmp(name, "unshare-net"))
		return syscall(SYS_unshare, CLONE_NEWNET);
	if (!strcmp(name, "setns"))
		return syscall(SYS_setns, -1, 0);
	if (!strcmp(name, "bpf"))
		return syscall(SYS_bpf, 0, BAD, 64);
	if (!strcmp(name, "io_uring_setup"))
		return syscall(SYS_io_uring_setup, 1, BAD);
	if (!strcmp(name, "keyctl"))
		return syscall(SYS_keyctl, 0, 0, 0, 0, 0);
	if (!strcmp(name, "add_key"))
		return syscall(SYS_add_key, BAD, BAD, BAD, 0, 0);
	if (!strcmp(name, "perf_event_open"))
		return syscall(SYS_perf_event_open, BAD, 0, -1, -1, 0);
	if (!strcmp(name, "userfaultfd"))
		return syscall(SYS_userfaultfd, 0);
	if (!strcmp(name, "ptrace"))
		return syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, 0x3ffffff0, 0, 0); /* ESRCH natively */
	if (!strcmp(name, "pivot_root"))
		return syscall(SYS_pivot_root, BAD, BAD);
	if (!strcmp(name, "chroot"))
		return syscall(SYS_chroot, BAD);
	if (!strcmp(name, "open_by_handle_at"))
		return syscall(SYS_open_by_handle_at, -1, BAD, 0);
	if (!strcmp(name, "init_module"))
		return syscall(SYS_init_module, BAD, 0, BAD);
	if (!strcmp(name, "kexec_load"))
		return syscall(SYS_kexec_load, 0, 1, BAD, 0xffff0000UL); /* EINVAL natively */
	if (!strcmp(name, "sethostname"))
		return syscall(SYS_sethostname, BAD, 5);
	if (!strcmp(name, "fsopen"))
		return syscall(SYS_fsopen, BAD, 0);
	if (!strcmp(name, "clone-newuser")) {
		long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
		if (r == 0)
			_exit(0);
		return r;
	}
	if (!strcmp(name, "clone3"))
		return syscall(SYS_clone3, BAD, 88);
	if (!strcmp(name, "personality-exec"))
		return syscall(SYS_personality, READ_IMPLIES_EXEC);
	if (!strcmp(name, "personality-query"))
		return syscall(SYS_personality, 0xffffffffUL) < 0 ? -1 : 0;
	if (!strcmp(name, "personality-hidden"))
		/* upper bits set: the kernel reads an unsigned int, so this is ADDR_NO_RANDOMIZE */
		return syscall(SYS_personality, 0xffffffff00000000UL | ADDR_NO_RANDOMIZE);
	if (!strcmp(name, "seccomp-listener"))
		return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			       SECCOMP_FILTER_FLAG_NEW_LISTENER, BAD);
	if (!strcmp(name, "tiocsti"))
		return syscall(SYS_ioctl, 0, TIOCSTI, "x");
	if (!strcmp(name, "tiocsti-hidden"))
		return syscall(SYS_ioctl, 0, 0xdead000000000000UL | TIOCSTI, "x");
	if (!strcmp(name, "tcgets")) {
		char buf[64];
		return syscall(SYS_ioctl, 0, TCGETS, buf);
	}
	if (!strcmp(name, "uname-bad"))
		return syscall(SYS_uname, BAD);
	if (!strcmp(name, "unknown-nr"))
		return syscall(1000);
	if (!strcmp(name, "getppid"))
		return syscall(SYS_getppid) > 0 ? 0 : -1;
	fprintf(stderr, "try-syscall: unknown test '%s'\n", name);
	return -2;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		long r;
		errno = 0;
		r = try(argv[i]);
		if (r == -2)
			return 2;
		printf("%s=%s\n", argv[i], r < 0 ? errname(errno) : "OK");
	}
	return 0;
}
