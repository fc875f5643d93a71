/* AT_* flags of the *at() family, from <linux/fcntl.h>; X(name).
 * AT_EACCESS shares AT_REMOVEDIR's bit: it is in at-access.h, used for faccessat2. */
X(AT_SYMLINK_NOFOLLOW)
X(AT_REMOVEDIR)
X(AT_SYMLINK_FOLLOW)
X(AT_NO_AUTOMOUNT)
X(AT_EMPTY_PATH)
X(AT_STATX_FORCE_SYNC)
X(AT_STATX_DONT_SYNC)
X(AT_RECURSIVE)
