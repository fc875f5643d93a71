/* Names of the enums in abi.h (architectures, classes, fates, argument types)
 * as they are spelled in syscalls.tsv and in audit output, and the
 * architecture constants of the kernel and libseccomp. Pure; also linked into
 * the build-time generator, which parses syscalls.tsv with these.
 */
#include <linux/audit.h>
#include <seccomp.h>
#include <string.h>

#include "abi/abi.h"
#include "base/macro.h"

static const struct {
	const char *name;
	uint32_t audit;
	uint32_t scmp;
} archs[JH_ARCH_COUNT] = {
    [JH_ARCH_X86_64] = {"x86_64", AUDIT_ARCH_X86_64, SCMP_ARCH_X86_64},
    [JH_ARCH_AARCH64] = {"aarch64", AUDIT_ARCH_AARCH64, SCMP_ARCH_AARCH64},
};

enum jh_arch jh_abi_native_arch(void)
{
#if defined(__x86_64__) && !defined(__ILP32__)
	return JH_ARCH_X86_64;
#elif defined(__aarch64__) && !defined(__ILP32__)
	return JH_ARCH_AARCH64;
#else
#error "jhansi-exec supports x86_64 and aarch64 only"
#endif
}

const char *jh_abi_arch_name(enum jh_arch arch)
{
	if ((unsigned)arch >= JH_ARCH_COUNT)
		return "?";
	return archs[arch].name;
}

uint32_t jh_abi_audit_arch(enum jh_arch arch)
{
	if ((unsigned)arch >= JH_ARCH_COUNT)
		return 0;
	return archs[arch].audit;
}

uint32_t jh_abi_scmp_arch(enum jh_arch arch)
{
	if ((unsigned)arch >= JH_ARCH_COUNT)
		return 0;
	return archs[arch].scmp;
}

int jh_abi_arch_from_audit(uint32_t audit_arch)
{
	for (int i = 0; i < JH_ARCH_COUNT; i++)
		if (archs[i].audit == audit_arch)
			return i;
	return -1;
}

static const char *const class_names[JH_CLASS_COUNT] = {
    [JH_CLASS_UNKNOWN] = "unknown",
    [JH_CLASS_FILE] = "file",
    [JH_CLASS_FD] = "fd",
    [JH_CLASS_NET] = "net",
    [JH_CLASS_PROC] = "proc",
    [JH_CLASS_MEM] = "mem",
    [JH_CLASS_SIGNAL] = "signal",
    [JH_CLASS_TIME] = "time",
    [JH_CLASS_IPC] = "ipc",
    [JH_CLASS_IDENT] = "ident",
    [JH_CLASS_SCHED] = "sched",
    [JH_CLASS_SYSTEM] = "system",
};

static const char *const fate_names[JH_FATE_COUNT] = {
    [JH_FATE_PASS] = "pass",
    [JH_FATE_EMULATE] = "emulate",
    [JH_FATE_DENY] = "deny",
};

static const char *const argtype_names[JH_ARG_COUNT] = {
    [JH_ARG_NONE] = "-",
    [JH_ARG_INT] = "int",
    [JH_ARG_UINT] = "uint",
    [JH_ARG_HEX] = "hex",
    [JH_ARG_PTR] = "ptr",
    [JH_ARG_FD] = "fd",
    [JH_ARG_DIRFD] = "dirfd",
    [JH_ARG_PATH] = "path",
    [JH_ARG_STR] = "str",
    [JH_ARG_OFLAGS] = "oflags",
    [JH_ARG_ATFLAGS] = "atflags",
    [JH_ARG_MODE] = "mode",
    [JH_ARG_CLONE] = "clone",
    [JH_ARG_SIGNAL] = "signal",
    [JH_ARG_IOCTL] = "ioctl",
    [JH_ARG_PROT] = "prot",
    [JH_ARG_MMAP] = "mmap",
    [JH_ARG_FAMILY] = "family",
    [JH_ARG_SOCKTYPE] = "socktype",
    [JH_ARG_PID] = "pid",
    [JH_ARG_SIZE] = "size",
    [JH_ARG_LONG] = "long",
};

static int index_of(const char *const *names, int n, const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *jh_abi_class_name(enum jh_class cls)
{
	if ((unsigned)cls >= JH_CLASS_COUNT)
		return "unknown";
	return class_names[cls];
}

int jh_abi_class_from_name(const char *name)
{
	return index_of(class_names, JH_CLASS_COUNT, name);
}

const char *jh_abi_fate_name(enum jh_fate fate)
{
	if ((unsigned)fate >= JH_FATE_COUNT)
		return "?";
	return fate_names[fate];
}

int jh_abi_fate_from_name(const char *name)
{
	return index_of(fate_names, JH_FATE_COUNT, name);
}

const char *jh_abi_argtype_name(enum jh_argtype type)
{
	if ((unsigned)type >= JH_ARG_COUNT)
		return "?";
	return argtype_names[type];
}

int jh_abi_argtype_from_name(const char *name)
{
	return index_of(argtype_names, JH_ARG_COUNT, name);
}
