/* The loop bodies of the micro-benchmarks (see ops.h).
 *
 * Time is read every BATCH iterations so that a cheap call (getppid, ~0.3 µs)
 * is not dominated by clock reads, and a slow one (under gVisor's ptrace
 * platform, ~50 µs) still stops near its time budget. Process start-up is
 * outside the measured interval: the programs print ns/op themselves. */
#include "bench/ops.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define BATCH 16

static const char *const names[BENCH_OP_COUNT] = {
	[BENCH_OP_GETPPID] = "getppid", [BENCH_OP_OPEN] = "open",   [BENCH_OP_STAT] = "stat",
	[BENCH_OP_UNAME] = "uname",     [BENCH_OP_CONNECT] = "connect", [BENCH_OP_SETNS] = "setns",
};

int bench_op_parse(const char *name)
{
	for (int i = 0; i < BENCH_OP_COUNT; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

const char *bench_op_name(enum bench_op op)
{
	return op < BENCH_OP_COUNT ? names[op] : "?";
}

long bench_op_syscall(enum bench_op op)
{
	switch (op) {
	case BENCH_OP_GETPPID:
		return SYS_getppid;
	case BENCH_OP_OPEN:
		return SYS_openat; /* glibc's open() */
	case BENCH_OP_STAT:
		return SYS_newfstatat; /* glibc 2.33+ stat() */
	case BENCH_OP_UNAME:
		return SYS_uname;
	case BENCH_OP_SETNS:
		return SYS_setns;
	default:
		return -1;
	}
}

bool bench_parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v == 0)
		return false;
	*ret = v;
	return true;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct loopback {
	int listen_fd;
	struct sockaddr_in addr;
};

static int loopback_open(struct loopback *lb)
{
	socklen_t len = sizeof(lb->addr);

	lb->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lb->listen_fd < 0)
		return -errno;
	memset(&lb->addr, 0, sizeof(lb->addr));
	lb->addr.sin_family = AF_INET;
	lb->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lb->listen_fd, (struct sockaddr *)&lb->addr, sizeof(lb->addr)) < 0 ||
	    listen(lb->listen_fd, 64) < 0 ||
	    getsockname(lb->listen_fd, (struct sockaddr *)&lb->addr, &len) < 0) {
		int e = -errno;
		close(lb->listen_fd);
		lb->listen_fd = -1;
		return e;
	}
	return 0;
}

/* One connection: the client resets it on close (SO_LINGER 0), so no
 * TIME_WAIT entries pile up and ephemeral ports are never exhausted. */
static int connect_once(const struct loopback *lb)
{
	static const struct linger rst = {.l_onoff = 1, .l_linger = 0};
	int c, a, r = 0;

	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0)
		return -errno;
	if (setsockopt(c, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst)) < 0 ||
	    connect(c, (const struct sockaddr *)&lb->addr, sizeof(lb->addr)) < 0) {
		r = -errno;
		close(c);
		return r;
	}
	a = accept4(lb->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (a < 0)
		r = -errno;
	close(c);
	if (a >= 0)
		close(a);
	return r;
}

static int op_once(enum bench_op op, const struct loopback *lb)
{
	struct stat st;
	struct utsname u;
	int fd;

	switch (op) {
	case BENCH_OP_GETPPID:
		/* The raw call: no libc caching can hide it. */
		return syscall(SYS_getppid) >= 0 ? 0 : -errno; /* 0 as pid 1 of a namespace */
	case BENCH_OP_OPEN:
		fd = open(BENCH_PATH, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		close(fd);
		return 0;
	case BENCH_OP_STAT:
		return stat(BENCH_PATH, &st) < 0 ? -errno : 0;
	case BENCH_OP_UNAME:
		return uname(&u) < 0 ? -errno : 0;
	case BENCH_OP_CONNECT:
		return connect_once(lb);
	case BENCH_OP_SETNS:
		/* Natively EBADF, under jhansi-exec EPERM from the sentry: both fine,
		 * success would mean something else ran. */
		return setns(-1, CLONE_NEWUSER) == 0 ? -EINVAL : 0;
	default:
		return -EINVAL;
	}
}

int bench_op_measure(enum bench_op op, uint64_t max_ops, uint64_t budget_ns, double *ret_ns_per_op,
		     uint64_t *ret_ops)
{
	struct loopback lb = {.listen_fd = -1};
	uint64_t warm = max_ops / 100 < 32 ? 32 : max_ops / 100;
	uint64_t start, elapsed = 0, n = 0;
	int r = 0;

	if (op >= BENCH_OP_COUNT)
		return -EINVAL;
	if (op == BENCH_OP_CONNECT) {
		r = loopback_open(&lb);
		if (r < 0)
			return r;
	}
	for (uint64_t i = 0; i < warm && r == 0; i++)
		r = op_once(op, &lb);
	start = now_ns();
	while (r == 0 && n < max_ops) {
		for (int i = 0; i < BATCH && n < max_ops && r == 0; i++, n++)
			r = op_once(op, &lb);
		elapsed = now_ns() - start;
		if (elapsed >= budget_ns)
			break;
	}
	if (lb.listen_fd >= 0)
		close(lb.listen_fd);
	if (r < 0)
		return r;
	*ret_ns_per_op = (double)elapsed / (double)n;
	*ret_ops = n;
	return 0;
}
