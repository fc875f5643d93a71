/* open(2) access modes (the O_ACCMODE bits, one value), from <linux/fcntl.h>; X(name). */
X(O_RDONLY)
X(O_WRONLY)
X(O_RDWR)
