/* File types in a mode (the S_IFMT bits, one value), from <sys/stat.h>; X(name). */
X(S_IFSOCK)
X(S_IFLNK)
X(S_IFREG)
X(S_IFBLK)
X(S_IFDIR)
X(S_IFCHR)
X(S_IFIFO)
