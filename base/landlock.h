/* Landlock primitives (raw syscalls; Debian 12's headers stop at ABI 2), used
 * by the sandbox's backstops (platform/layers.c) and by the gofer to confine
 * itself. ABI-version aware: callers ask jh_landlock_abi() and handle only
 * the rights the kernel knows. */
#ifndef JH_BASE_LANDLOCK_H
#define JH_BASE_LANDLOCK_H

#include <stdint.h>

/* Filesystem rights (LANDLOCK_ACCESS_FS_*), by the ABI that introduced them. */
#define JH_LL_FS_EXECUTE (1ULL << 0)
#define JH_LL_FS_WRITE_FILE (1ULL << 1)
#define JH_LL_FS_READ_FILE (1ULL << 2)
#define JH_LL_FS_READ_DIR (1ULL << 3)
#define JH_LL_FS_REMOVE_DIR (1ULL << 4)
#define JH_LL_FS_REMOVE_FILE (1ULL << 5)
#define JH_LL_FS_MAKE_CHAR (1ULL << 6)
#define JH_LL_FS_MAKE_DIR (1ULL << 7)
#define JH_LL_FS_MAKE_REG (1ULL << 8)
#define JH_LL_FS_MAKE_SOCK (1ULL << 9)
#define JH_LL_FS_MAKE_FIFO (1ULL << 10)
#define JH_LL_FS_MAKE_BLOCK (1ULL << 11)
#define JH_LL_FS_MAKE_SYM (1ULL << 12)
#define JH_LL_FS_REFER (1ULL << 13)    /* ABI 2 */
#define JH_LL_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#define JH_LL_FS_IOCTL_DEV (1ULL << 15) /* ABI 5: ioctl on a device opened under the domain */
#define JH_LL_FS_READ (JH_LL_FS_EXECUTE | JH_LL_FS_READ_FILE | JH_LL_FS_READ_DIR)
/* The rights that apply to a file (not a directory): a rule on a file with
 * any other right is refused (EINVAL). */
#define JH_LL_FS_FILE                                                                       \
	(JH_LL_FS_EXECUTE | JH_LL_FS_WRITE_FILE | JH_LL_FS_READ_FILE | JH_LL_FS_TRUNCATE |  \
	 JH_LL_FS_IOCTL_DEV)

#define JH_LL_NET_BIND_TCP (1ULL << 0)    /* ABI 4 */
#define JH_LL_NET_CONNECT_TCP (1ULL << 1) /* ABI 4 */
#define JH_LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define JH_LL_SCOPE_SIGNAL (1ULL << 1)               /* ABI 6 */

/* The running kernel's Landlock ABI version; 0 without Landlock. */
int jh_landlock_abi(void);
/* The filesystem rights this ABI version handles (all of them). */
uint64_t jh_landlock_fs_rights(int abi);
/* Creates a ruleset handling these rights (0 for a kind not wanted); the
 * struct passed is as small as the asked fields allow. Returns the ruleset
 * fd (close-on-exec) or -errno. */
int jh_landlock_create(uint64_t fs, uint64_t net, uint64_t scoped);
/* Allows `access` beneath the directory (or file) `fd` refers to (O_PATH is
 * fine). 0 or -errno. */
int jh_landlock_allow_beneath(int ruleset_fd, int fd, uint64_t access);
/* Restricts the calling thread's process (and all it starts) to the ruleset;
 * needs NO_NEW_PRIVS or CAP_SYS_ADMIN. Async-signal-safe. 0 or -errno. */
int jh_landlock_enforce(int ruleset_fd);

#endif
