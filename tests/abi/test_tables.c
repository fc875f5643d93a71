/* Syscall tables: checked against the kernel headers' numbers, for a class
 * and a valid fate on every entry, for the deny list of this stage, and for
 * the generic numbering of aarch64.
 */
#include <asm/unistd.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/audit.h>
#include <seccomp.h>
#include <string.h>

#include "abi/abi.h"

static const struct {
	const char *name;
	long nr;
} kernel_syscalls[] = {
#include "kernel-unistd-gen.h"
};

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct jh_syscall_info *native(const char *name)
{
	return jh_abi_syscall_by_name(jh_abi_native_arch(), name);
}

Test(unit, every_kernel_header_syscall_is_in_the_native_table_with_its_number)
{
	enum jh_arch arch = jh_abi_native_arch();

	cr_assert_gt(N_ELEM(kernel_syscalls), 250, "<asm/unistd.h> gave only %zu syscalls",
		     N_ELEM(kernel_syscalls));
	for (size_t i = 0; i < N_ELEM(kernel_syscalls); i++) {
		const char *name = kernel_syscalls[i].name;
		long nr = kernel_syscalls[i].nr;
		const struct jh_syscall_info *info = jh_abi_syscall_by_name(arch, name);

		cr_expect_not_null(info, "%s (%ld in <asm/unistd.h>) is missing from the %s table",
				   name, nr, jh_abi_arch_name(arch));
		if (!info)
			continue;
		cr_expect_eq(info->nr, nr, "%s is %d in the table, %ld in <asm/unistd.h>", name,
			     info->nr, nr);
		cr_expect_eq(jh_abi_syscall_by_nr(arch, nr), info,
			     "%s: lookup by number %ld differs", name, nr);
		cr_expect_neq(info->cls, JH_CLASS_UNKNOWN, "%s has no class in abi/syscalls.tsv",
			      name);
		cr_expect_lt((unsigned)info->fate, JH_FATE_COUNT, "%s has an invalid fate", name);
	}
}

Test(unit, every_syscall_libseccomp_knows_has_a_class)
{
	for (int a = 0; a < JH_ARCH_COUNT; a++)
		for (size_t i = 0; i < jh_abi_syscall_count(a); i++) {
			const struct jh_syscall_info *info = jh_abi_syscall_at(a, i);
			cr_expect_neq(info->cls, JH_CLASS_UNKNOWN,
				      "%s syscall %s (%d) is not in abi/syscalls.tsv",
				      jh_abi_arch_name(a), info->name, info->nr);
		}
}

Test(unit, libseccomp_agrees_with_the_native_table)
{
	enum jh_arch arch = jh_abi_native_arch();

	for (size_t i = 0; i < jh_abi_syscall_count(arch); i++) {
		const struct jh_syscall_info *info = jh_abi_syscall_at(arch, i);
		int nr = seccomp_syscall_resolve_name_arch(jh_abi_scmp_arch(arch), info->name);
		cr_expect_eq(nr, info->nr, "libseccomp says %s is %d, the table %d", info->name, nr,
			     info->nr);
	}
}

Test(unit, every_entry_has_a_consistent_fate_handler_and_signature)
{
	for (int a = 0; a < JH_ARCH_COUNT; a++)
		for (size_t i = 0; i < jh_abi_syscall_count(a); i++) {
			const struct jh_syscall_info *s = jh_abi_syscall_at(a, i);
			const char *an = jh_abi_arch_name(a);

			switch (s->fate) {
			case JH_FATE_PASS:
				cr_expect_eq(s->deny_errno, 0, "%s/%s passes but has an errno", an,
					     s->name);
				cr_expect_null(s->handler, "%s/%s passes but has a handler", an,
					       s->name);
				break;
			case JH_FATE_EMULATE:
				cr_expect(s->handler && *s->handler,
					  "%s/%s is emulated without a handler", an, s->name);
				break;
			case JH_FATE_DENY:
				cr_expect_not_null(
				    jh_abi_errno_name(s->deny_errno),
				    "%s/%s is denied with errno %d, which has no name", an, s->name,
				    s->deny_errno);
				cr_expect_null(s->handler, "%s/%s is denied but has a handler", an,
					       s->name);
				break;
			default:
				cr_expect_fail("%s/%s has fate %d", an, s->name, s->fate);
			}
			cr_expect_leq(s->nargs, JH_SYSCALL_MAX_ARGS, "%s/%s has %u arguments", an,
				      s->name, s->nargs);
			for (unsigned k = 0; k < JH_SYSCALL_MAX_ARGS; k++) {
				if (k < s->nargs)
					cr_expect(s->argtype[k] > JH_ARG_NONE &&
						      s->argtype[k] < JH_ARG_COUNT,
						  "%s/%s argument %u has type %u", an, s->name, k,
						  s->argtype[k]);
				else
					cr_expect_eq(s->argtype[k], JH_ARG_NONE,
						     "%s/%s has a type past its last argument", an,
						     s->name);
			}
		}
}

Test(unit, tables_are_in_number_order_and_lookups_agree)
{
	for (int a = 0; a < JH_ARCH_COUNT; a++) {
		size_t n = jh_abi_syscall_count(a);
		int prev = -1;

		cr_assert_gt(n, 250, "%s table has only %zu syscalls", jh_abi_arch_name(a), n);
		for (size_t i = 0; i < n; i++) {
			const struct jh_syscall_info *s = jh_abi_syscall_at(a, i);
			cr_expect_gt(s->nr, prev, "%s: %s out of number order", jh_abi_arch_name(a),
				     s->name);
			prev = s->nr;
			cr_expect_eq(jh_abi_syscall_by_nr(a, s->nr), s, "%s: by_nr(%d)",
				     jh_abi_arch_name(a), s->nr);
			cr_expect_eq(jh_abi_syscall_by_name(a, s->name), s, "%s: by_name(%s)",
				     jh_abi_arch_name(a), s->name);
		}
		cr_expect_eq(jh_abi_syscall_max_nr(a), prev);
		cr_expect_null(jh_abi_syscall_at(a, n));
		cr_expect_null(jh_abi_syscall_by_nr(a, -1));
		cr_expect_null(jh_abi_syscall_by_nr(a, prev + 1));
		cr_expect_null(jh_abi_syscall_by_nr(a, 0x40000000L | 2)); /* x32 open */
		cr_expect_null(jh_abi_syscall_by_nr(a, 1L << 40));
		cr_expect_null(jh_abi_syscall_by_name(a, "no_such_syscall"));
		cr_expect_null(jh_abi_syscall_by_name(a, ""));
		cr_expect_null(jh_abi_syscall_by_name(a, NULL));
	}
	cr_expect_null(jh_abi_syscall_by_nr(JH_ARCH_COUNT, 0));
	cr_expect_eq(jh_abi_syscall_count(JH_ARCH_COUNT), 0);
	cr_expect_eq(jh_abi_syscall_max_nr(JH_ARCH_COUNT), -1);
}

static void expect_nr(enum jh_arch arch, const char *name, int nr)
{
	const struct jh_syscall_info *s = jh_abi_syscall_by_name(arch, name);
	cr_expect_not_null(s, "%s has no %s", jh_abi_arch_name(arch), name);
	if (s)
		cr_expect_eq(s->nr, nr, "%s %s is %d, expected %d", jh_abi_arch_name(arch), name,
			     s->nr, nr);
}

Test(unit, aarch64_table_has_the_generic_numbers)
{
	enum jh_arch a = JH_ARCH_AARCH64;

	expect_nr(a, "io_setup", 0);
	expect_nr(a, "openat", 56);
	expect_nr(a, "close", 57);
	expect_nr(a, "read", 63);
	expect_nr(a, "write", 64);
	expect_nr(a, "newfstatat", 79);
	expect_nr(a, "uname", 160);
	expect_nr(a, "clone", 220);
	expect_nr(a, "execve", 221);
	expect_nr(a, "mmap", 222);
	expect_nr(a, "io_uring_setup", 425);
	expect_nr(a, "clone3", 435);
	/* The legacy calls asm-generic leaves out. */
	const char *absent[] = {"open",	  "stat",   "lstat",	  "fork",   "vfork",  "pipe",
				"dup2",	  "access", "mkdir",	  "unlink", "rename", "poll",
				"select", "time",   "arch_prctl", "iopl",   "ioperm", "modify_ldt"};
	for (size_t i = 0; i < N_ELEM(absent); i++)
		cr_expect_null(jh_abi_syscall_by_name(a, absent[i]), "aarch64 has no %s",
			       absent[i]);
	cr_expect_null(jh_abi_syscall_by_nr(a, 1024));
}

Test(unit, x86_64_table_has_its_own_numbers)
{
	enum jh_arch a = JH_ARCH_X86_64;

	expect_nr(a, "read", 0);
	expect_nr(a, "open", 2);
	expect_nr(a, "clone", 56);
	expect_nr(a, "fork", 57);
	expect_nr(a, "execve", 59);
	expect_nr(a, "uname", 63);
	expect_nr(a, "openat", 257);
	expect_nr(a, "clone3", 435);
}

Test(unit, native_arch_and_its_constants)
{
#if defined(__x86_64__)
	cr_expect_eq(jh_abi_native_arch(), JH_ARCH_X86_64);
#elif defined(__aarch64__)
	cr_expect_eq(jh_abi_native_arch(), JH_ARCH_AARCH64);
#endif
	cr_expect_str_eq(jh_abi_arch_name(JH_ARCH_X86_64), "x86_64");
	cr_expect_str_eq(jh_abi_arch_name(JH_ARCH_AARCH64), "aarch64");
	cr_expect_eq(jh_abi_audit_arch(JH_ARCH_X86_64), AUDIT_ARCH_X86_64);
	cr_expect_eq(jh_abi_audit_arch(JH_ARCH_AARCH64), AUDIT_ARCH_AARCH64);
	cr_expect_eq(jh_abi_scmp_arch(JH_ARCH_X86_64), SCMP_ARCH_X86_64);
	cr_expect_eq(jh_abi_scmp_arch(JH_ARCH_AARCH64), SCMP_ARCH_AARCH64);
	cr_expect_eq(jh_abi_scmp_arch(jh_abi_native_arch()), seccomp_arch_native());
	cr_expect_eq(jh_abi_arch_from_audit(AUDIT_ARCH_X86_64), JH_ARCH_X86_64);
	cr_expect_eq(jh_abi_arch_from_audit(AUDIT_ARCH_AARCH64), JH_ARCH_AARCH64);
	cr_expect_eq(jh_abi_arch_from_audit(AUDIT_ARCH_I386), -1);
	cr_expect_eq(jh_abi_arch_from_audit(AUDIT_ARCH_ARM), -1);
	cr_expect_eq(jh_abi_arch_from_audit(0), -1);
}

/* Checks `name` on every architecture that has it; at least one must. */
static void expect_fate(const char *name, enum jh_fate fate, int err, const char *handler)
{
	int found = 0;

	for (int a = 0; a < JH_ARCH_COUNT; a++) {
		const struct jh_syscall_info *s = jh_abi_syscall_by_name(a, name);
		if (!s)
			continue;
		found++;
		cr_expect_eq(s->fate, fate, "%s/%s is %s, expected %s", jh_abi_arch_name(a), name,
			     jh_abi_fate_name(s->fate), jh_abi_fate_name(fate));
		if (fate == JH_FATE_DENY)
			cr_expect_eq(s->deny_errno, err, "%s/%s is denied with %s, expected %s",
				     jh_abi_arch_name(a), name, jh_abi_errno_name(s->deny_errno),
				     jh_abi_errno_name(err));
		if (handler)
			cr_expect(s->handler && strcmp(s->handler, handler) == 0,
				  "%s/%s has handler %s, expected %s", jh_abi_arch_name(a), name,
				  s->handler ? s->handler : "(none)", handler);
	}
	cr_expect_gt(found, 0, "no architecture has %s", name);
}

Test(unit, deny_list_refuses_with_eperm)
{
	static const char *const denied[] = {
	    "mount",
	    "umount2",
	    "pivot_root",
	    "chroot",
	    "bpf",
	    "kexec_load",
	    "kexec_file_load",
	    "init_module",
	    "finit_module",
	    "delete_module",
	    "keyctl",
	    "add_key",
	    "request_key",
	    "userfaultfd",
	    "perf_event_open",
	    "io_uring_setup",
	    "io_uring_enter",
	    "io_uring_register",
	    "setns",
	    "unshare",
	    "ptrace",
	    "acct",
	    "swapon",
	    "swapoff",
	    "reboot",
	    "quotactl",
	    "quotactl_fd",
	    "open_by_handle_at",
	    "name_to_handle_at",
	    "open_tree",
	    "move_mount",
	    "fsopen",
	    "fsconfig",
	    "fsmount",
	    "fspick",
	    "mount_setattr",
	    "vhangup",
	    "syslog",
	    "settimeofday",
	    "clock_settime",
	    "clock_adjtime",
	    "adjtimex",
	    "iopl",
	    "ioperm",
	    "uselib",
	    "kcmp",
	    "process_vm_writev",
	    "process_vm_readv",
	    "pidfd_getfd",
	    "modify_ldt",
	    "sethostname",
	    "setdomainname",
	};
	for (size_t i = 0; i < N_ELEM(denied); i++)
		expect_fate(denied[i], JH_FATE_DENY, EPERM, NULL);
}

Test(unit, unimplemented_syscalls_answer_enosys)
{
	static const char *const enosys[] = {
	    "clone3",	  "afs_syscall", "tuxcall",	    "security",	     "getpmsg",
	    "putpmsg",	  "vserver",	 "get_kernel_syms", "query_module",  "create_module",
	    "nfsservctl", "_sysctl",	 "lookup_dcookie",  "epoll_ctl_old", "epoll_wait_old",
	};
	for (size_t i = 0; i < N_ELEM(enosys); i++)
		expect_fate(enosys[i], JH_FATE_DENY, ENOSYS, NULL);
}

Test(unit, emulated_syscalls_name_their_handler)
{
	expect_fate("uname", JH_FATE_EMULATE, 0, "uname");
	expect_fate("clone", JH_FATE_EMULATE, 0, "clone");
	expect_fate("personality", JH_FATE_EMULATE, 0, "personality");
	expect_fate("seccomp", JH_FATE_EMULATE, 0, "seccomp");
	expect_fate("ioctl", JH_FATE_EMULATE, 0, "ioctl");
}

Test(unit, calls_naming_other_processes_are_checked_by_the_sentry)
{
	expect_fate("kill", JH_FATE_EMULATE, 0, "kill");
	expect_fate("tgkill", JH_FATE_EMULATE, 0, "tgid_tid");
	expect_fate("prlimit64", JH_FATE_EMULATE, 0, "prlimit");
	expect_fate("setrlimit", JH_FATE_EMULATE, 0, "setrlimit"); /* RLIMIT_FSIZE under --disk-quota */
	expect_fate("setsid", JH_FATE_EMULATE, 0, "setsid");
	/* network mediation: every call naming a destination reaches the sentry */
	expect_fate("socket", JH_FATE_EMULATE, 0, "net_socket");
	expect_fate("connect", JH_FATE_EMULATE, 0, "net_connect");
	expect_fate("bind", JH_FATE_EMULATE, 0, "net_bind");
	expect_fate("sendto", JH_FATE_EMULATE, 0, "net_sendto");
	expect_fate("sendmsg", JH_FATE_EMULATE, 0, "net_sendmsg");
	expect_fate("sendmmsg", JH_FATE_EMULATE, 0, "net_sendmmsg");
	expect_fate("setpriority", JH_FATE_EMULATE, 0, "priority");
}

Test(unit, everyday_syscalls_pass)
{
	static const char *const passed[] = {
	    "read",
	    "write",
	    "close",
	    "mmap",
	    "munmap",
	    "mprotect",
	    "brk",
	    "futex",
	    "fork",
	    "vfork",
	    "wait4",
	    "accept4",
	    "recvmsg",
	    "getpid",
	    "exit_group",
	    "rt_sigaction",
	    "clock_gettime",
	    "getrandom",
	    "getuid",
	    "setuid",
	    "sched_yield",
	    "pipe2",
	    "landlock_create_ruleset",
	    "landlock_add_rule",
	    "landlock_restrict_self",
	    "prctl",
	};
	for (size_t i = 0; i < N_ELEM(passed); i++)
		expect_fate(passed[i], JH_FATE_PASS, 0, NULL);
}

/* Path syscalls are serviced against the view (sentry/fs.c), by a handler of
 * their own name. */
Test(unit, path_syscalls_are_emulated)
{
	static const char *const emulated[] = {
	    "open", "openat", "openat2", "stat", "newfstatat", "statx", "execve", "execveat",
	    "unlinkat", "renameat2", "mkdirat", "chdir", "readlinkat", "faccessat2", "symlinkat",
	};
	for (size_t i = 0; i < N_ELEM(emulated); i++)
		expect_fate(emulated[i], JH_FATE_EMULATE, 0, emulated[i]);
}

Test(unit, classes_of_representative_syscalls)
{
	static const struct {
		const char *name;
		enum jh_class cls;
	} expect[] = {
	    {"openat", JH_CLASS_FILE},	       {"read", JH_CLASS_FD},
	    {"connect", JH_CLASS_NET},	       {"execve", JH_CLASS_PROC},
	    {"clone", JH_CLASS_PROC},	       {"mmap", JH_CLASS_MEM},
	    {"rt_sigaction", JH_CLASS_SIGNAL}, {"nanosleep", JH_CLASS_TIME},
	    {"futex", JH_CLASS_IPC},	       {"uname", JH_CLASS_IDENT},
	    {"getuid", JH_CLASS_IDENT},	       {"sched_yield", JH_CLASS_SCHED},
	    {"mount", JH_CLASS_SYSTEM},	       {"bpf", JH_CLASS_SYSTEM},
	    {"kill", JH_CLASS_PROC},
	};
	for (size_t i = 0; i < N_ELEM(expect); i++) {
		const struct jh_syscall_info *s = native(expect[i].name);
		cr_assert_not_null(s, "%s", expect[i].name);
		cr_expect_eq(s->cls, expect[i].cls, "%s is %s, expected %s", s->name,
			     jh_abi_class_name(s->cls), jh_abi_class_name(expect[i].cls));
	}
}

/* The sentry reads string arguments out of the task by these types: a path
 * syscall without a path argument would be mediated blind. */
Test(unit, file_syscalls_name_a_path)
{
	static const char *const no_path[] = {"fchdir", "getcwd", "sync",
					      "umask",	"ustat",  "open_by_handle_at"};
	for (int a = 0; a < JH_ARCH_COUNT; a++)
		for (size_t i = 0; i < jh_abi_syscall_count(a); i++) {
			const struct jh_syscall_info *s = jh_abi_syscall_at(a, i);
			bool exempt = false, has_path = false;

			if (s->cls != JH_CLASS_FILE)
				continue;
			for (size_t k = 0; k < N_ELEM(no_path); k++)
				exempt |= strcmp(s->name, no_path[k]) == 0;
			for (unsigned k = 0; k < s->nargs; k++)
				has_path |= s->argtype[k] == JH_ARG_PATH;
			cr_expect(exempt || has_path,
				  "%s/%s is a file syscall without a path argument",
				  jh_abi_arch_name(a), s->name);
		}
}

Test(unit, signatures_of_path_syscalls)
{
	static const struct {
		const char *name;
		const char *sig;
	} expect[] = {
	    {"openat", "dirfd,path,oflags,mode"},
	    {"openat2", "dirfd,path,ptr,size"},
	    {"newfstatat", "dirfd,path,ptr,atflags"},
	    {"statx", "dirfd,path,atflags,hex,ptr"},
	    {"execve", "path,ptr,ptr"},
	    {"execveat", "dirfd,path,ptr,ptr,atflags"},
	    {"renameat2", "dirfd,path,dirfd,path,hex"},
	    {"linkat", "dirfd,path,dirfd,path,atflags"},
	    {"symlinkat", "path,dirfd,path"},
	    {"readlinkat", "dirfd,path,ptr,size"},
	    {"unlinkat", "dirfd,path,atflags"},
	    {"mount", "path,path,str,hex,ptr"},
	    {"socket", "family,socktype,int"},
	    {"connect", "fd,ptr,int"},
	    {"clone", "clone,ptr,ptr,ptr,ptr"},
	    {"kill", "pid,signal"},
	    {"mmap", "ptr,size,prot,mmap,fd,hex"},
	    {"ioctl", "fd,ioctl,hex"},
	    {"uname", "ptr"},
	    {"getpid", ""},
	};
	for (size_t i = 0; i < N_ELEM(expect); i++) {
		const struct jh_syscall_info *s = native(expect[i].name);
		char sig[128] = "";

		cr_assert_not_null(s, "%s", expect[i].name);
		for (unsigned k = 0; k < s->nargs; k++) {
			if (k)
				strcat(sig, ",");
			strcat(sig, jh_abi_argtype_name(s->argtype[k]));
		}
		cr_expect_str_eq(sig, expect[i].sig, "%s has signature %s, expected %s", s->name,
				 sig, expect[i].sig);
	}
	cr_expect(jh_abi_arg_is_string(native("openat"), 1));
	cr_expect_not(jh_abi_arg_is_string(native("openat"), 0));
	cr_expect_not(jh_abi_arg_is_string(native("openat"), 4));
	cr_expect(jh_abi_arg_is_string(native("mount"), 2));
	cr_expect_not(jh_abi_arg_is_string(NULL, 0));
}
