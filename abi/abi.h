/* Linux ABI facts: syscall names, numbers, classes and fates per architecture,
 * errno names, and the argument decoder used for audit and trace output.
 *
 * Numbers and names are generated at build time from libseccomp; classes,
 * fates, handlers and argument signatures come from the data file
 * abi/syscalls.tsv. Nothing here knows about policy or processes: the table is
 * the *default* fate; the sentry may refine it.
 */
#ifndef JH_ABI_ABI_H
#define JH_ABI_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jh_arch {
	JH_ARCH_X86_64,
	JH_ARCH_AARCH64,
	JH_ARCH_COUNT,
};

enum jh_class {
	JH_CLASS_UNKNOWN = 0, /* not in the data file: a test fails on any of these */
	JH_CLASS_FILE,        /* names a path or changes the file tree */
	JH_CLASS_FD,          /* computation on fds already held: read, write, close, dup ... */
	JH_CLASS_NET,
	JH_CLASS_PROC,   /* process creation, exec, exit, wait, other tasks */
	JH_CLASS_MEM,    /* mmap, brk, madvise ... */
	JH_CLASS_SIGNAL, /* signal handling, signals to self */
	JH_CLASS_TIME,   /* clocks, timers, sleeps */
	JH_CLASS_IPC,    /* SysV/POSIX IPC, futex, eventfd ... */
	JH_CLASS_IDENT,  /* identity of the task and machine: uid, uname, hostname */
	JH_CLASS_SCHED,  /* scheduling, priorities, affinity */
	JH_CLASS_SYSTEM, /* system administration: mount, modules, reboot, bpf, ... */
	JH_CLASS_COUNT,
};

enum jh_fate {
	JH_FATE_PASS = 0, /* SECCOMP_RET_ALLOW */
	JH_FATE_EMULATE,  /* user notification; a sentry handler services it */
	JH_FATE_DENY,     /* refused with deny_errno through the sentry, recorded */
	JH_FATE_COUNT,
};

/* Kind of each argument, from the signature column of the data file; used by the
 * decoder and by the sentry to know which arguments are strings in task memory. */
enum jh_argtype {
	JH_ARG_NONE = 0, /* argument not used by this syscall */
	JH_ARG_INT,      /* signed decimal */
	JH_ARG_UINT,     /* unsigned decimal */
	JH_ARG_HEX,      /* unsigned hex */
	JH_ARG_PTR,      /* address in task memory, printed as hex or NULL */
	JH_ARG_FD,       /* file descriptor */
	JH_ARG_DIRFD,    /* fd or AT_FDCWD */
	JH_ARG_PATH,     /* NUL-terminated path in task memory */
	JH_ARG_STR,      /* NUL-terminated string in task memory */
	JH_ARG_OFLAGS,   /* open(2) flags */
	JH_ARG_ATFLAGS,  /* AT_* flags */
	JH_ARG_MODE,     /* file mode, octal */
	JH_ARG_CLONE,    /* clone(2)/unshare(2) flags */
	JH_ARG_SIGNAL,   /* signal number */
	JH_ARG_IOCTL,    /* ioctl request */
	JH_ARG_PROT,     /* mmap/mprotect PROT_* */
	JH_ARG_MMAP,     /* mmap MAP_* flags */
	JH_ARG_FAMILY,   /* socket address family AF_* */
	JH_ARG_SOCKTYPE, /* SOCK_* type with SOCK_NONBLOCK/CLOEXEC */
	JH_ARG_PID,      /* pid or tid */
	JH_ARG_SIZE,     /* size_t, decimal */
	JH_ARG_LONG,     /* signed 64-bit decimal: off_t, loff_t, long */
	JH_ARG_COUNT,
};

#define JH_SYSCALL_MAX_ARGS 6

struct jh_syscall_info {
	const char *name;
	int nr;             /* number on this table's architecture */
	enum jh_class cls;
	enum jh_fate fate;
	int deny_errno;     /* errno answered when fate is JH_FATE_DENY (EPERM, ENOSYS ...) */
	const char *handler; /* sentry handler name for JH_FATE_EMULATE, else NULL */
	uint8_t nargs;
	uint8_t argtype[JH_SYSCALL_MAX_ARGS]; /* enum jh_argtype */
};

/* The architecture jhansi-exec was built for. */
enum jh_arch jh_abi_native_arch(void);
/* "x86_64", "aarch64". */
const char *jh_abi_arch_name(enum jh_arch arch);
/* AUDIT_ARCH_* value seen in seccomp_data.arch, and the libseccomp SCMP_ARCH_* token. */
uint32_t jh_abi_audit_arch(enum jh_arch arch);
uint32_t jh_abi_scmp_arch(enum jh_arch arch);
/* The jh_arch whose AUDIT_ARCH_* value is `audit_arch`, or -1 for a foreign one
 * (i386; x32 shares AUDIT_ARCH_X86_64 and is told by __X32_SYSCALL_BIT in the number). */
int jh_abi_arch_from_audit(uint32_t audit_arch);

/* Entry for syscall `nr` on `arch`, or NULL if the number is unknown. O(1). */
const struct jh_syscall_info *jh_abi_syscall_by_nr(enum jh_arch arch, long nr);
/* Entry by name, or NULL if `arch` has no such syscall. */
const struct jh_syscall_info *jh_abi_syscall_by_name(enum jh_arch arch, const char *name);
/* Iteration over all known syscalls of `arch`, in number order. */
size_t jh_abi_syscall_count(enum jh_arch arch);
const struct jh_syscall_info *jh_abi_syscall_at(enum jh_arch arch, size_t i);
/* Largest known syscall number on `arch` (table size - 1). */
int jh_abi_syscall_max_nr(enum jh_arch arch);

/* "file", "net" ...; "unknown" for JH_CLASS_UNKNOWN. Returns -1 from _from_name if unknown. */
const char *jh_abi_class_name(enum jh_class cls);
int jh_abi_class_from_name(const char *name);
/* "pass", "emulate", "deny"; "?" out of range. Returns -1 from _from_name if unknown. */
const char *jh_abi_fate_name(enum jh_fate fate);
int jh_abi_fate_from_name(const char *name);
/* Names used in the signature column of syscalls.tsv: "int", "path", "oflags" ...;
 * "-" for JH_ARG_NONE, "?" out of range. Returns -1 from _from_name if unknown. */
const char *jh_abi_argtype_name(enum jh_argtype type);
int jh_abi_argtype_from_name(const char *name);

/* "ENOENT" for ENOENT; NULL if unknown. Also names the kernel-internal values a
 * tracer can see (ERESTARTSYS 512 ...). */
const char *jh_abi_errno_name(int err);
/* ENOENT for "ENOENT" (aliases such as "EWOULDBLOCK" included); -EINVAL if unknown. */
int jh_abi_errno_from_name(const char *name);
/* "SIGKILL" for 9, "SIGRTMIN" for 32, "SIGRT_1" .. "SIGRT_32" for 33 .. 64 (kernel
 * numbering, as strace prints them); NULL if unknown. */
const char *jh_abi_signal_name(int sig);
/* 9 for "SIGKILL" (the "SIG" prefix is optional); -EINVAL if unknown. */
int jh_abi_signal_from_name(const char *name);

/* True if argument `i` of `info` is a string in task memory (PATH or STR). */
bool jh_abi_arg_is_string(const struct jh_syscall_info *info, unsigned i);

/* Formats the argument list of a call, strace style, without the name or
 * parentheses: `AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC`.
 * `strs[i]` holds the already-copied string for string arguments (or NULL when
 * it was not read: printed as the pointer, NULL for 0); `strs` itself may be
 * NULL. Strings are read up to their NUL and no further, escaped (\n, \", \x1b,
 * non-printables as \xNN) and cut at 256 bytes with "..." after the quote.
 * `int` arguments use the low 32 bits, as the kernel does. As strace, the mode
 * after open flags is left out unless they hold O_CREAT or O_TMPFILE. Always
 * NUL-terminates `buf` when len > 0; returns the length written (truncated if len
 * too small). Pure: reads no task memory, allocates nothing. */
size_t jh_abi_format_args(char *buf, size_t len, const struct jh_syscall_info *info,
			  const uint64_t args[JH_SYSCALL_MAX_ARGS], const char *const strs[JH_SYSCALL_MAX_ARGS]);

/* Formats a result: "3" for success, "-1 EPERM (Operation not permitted)" when
 * err != 0 (errno or -errno); "-1 errno 4000" for a value with no name. Same
 * buffer rules as above. */
size_t jh_abi_format_result(char *buf, size_t len, int64_t value, int err);

/* Formats flag words for readable output, from name lists (strace xlat style):
 * "O_RDONLY|O_CLOEXEC", unknown bits as "0x...". Any argument type is accepted
 * (numbers, pointers and signals too; clone flags with the exit signal in the
 * low byte). Same buffer rules. */
size_t jh_abi_format_flags(char *buf, size_t len, enum jh_argtype type, uint64_t value);

#endif
