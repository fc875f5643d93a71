/* Socket types (one value, the low bits), from <sys/socket.h>; X(name). */
X(SOCK_STREAM)
X(SOCK_DGRAM)
X(SOCK_RAW)
X(SOCK_RDM)
X(SOCK_SEQPACKET)
X(SOCK_DCCP)
X(SOCK_PACKET)
