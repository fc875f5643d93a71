/* Flags or'ed into a socket type (socket, socketpair, accept4), from <sys/socket.h>; X(name). */
X(SOCK_NONBLOCK)
X(SOCK_CLOEXEC)
