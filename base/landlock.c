/* Landlock primitives (see landlock.h). */
#include "base/landlock.h"

#include <errno.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/macro.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1

/* As in Linux 6.12: grown by handled_access_net (ABI 4) and scoped (ABI 6). */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

int jh_landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);

	return v < 0 ? 0 : (int)v;
}

uint64_t jh_landlock_fs_rights(int abi)
{
	uint64_t r = (JH_LL_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0-12 */

	if (abi >= 2)
		r |= JH_LL_FS_REFER;
	if (abi >= 3)
		r |= JH_LL_FS_TRUNCATE;
	if (abi >= 5)
		r |= JH_LL_FS_IOCTL_DEV;
	return abi >= 1 ? r : 0;
}

int jh_landlock_create(uint64_t fs, uint64_t net, uint64_t scoped)
{
	struct ll_ruleset_attr attr = {fs, net, scoped};
	size_t size = scoped ? sizeof(attr)
		      : net  ? offsetof(struct ll_ruleset_attr, scoped)
			     : offsetof(struct ll_ruleset_attr, handled_access_net);
	long fd = syscall(SYS_landlock_create_ruleset, &attr, size, 0);

	return fd < 0 ? jh_negerrno() : (int)fd;
}

int jh_landlock_allow_beneath(int ruleset_fd, int fd, uint64_t access)
{
	struct ll_path_beneath_attr pb = {.allowed_access = access, .parent_fd = fd};

	if (syscall(SYS_landlock_add_rule, ruleset_fd, LL_RULE_PATH_BENEATH, &pb, 0) < 0)
		return jh_negerrno();
	return 0;
}

int jh_landlock_enforce(int ruleset_fd)
{
	if (syscall(SYS_landlock_restrict_self, ruleset_fd, 0) < 0)
		return jh_negerrno();
	return 0;
}
