/* AT_* flags of faccessat2(2), from <linux/fcntl.h>; X(name). */
X(AT_EACCESS)
X(AT_SYMLINK_NOFOLLOW)
X(AT_EMPTY_PATH)
