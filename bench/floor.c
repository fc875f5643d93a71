/* jh-bench-floor: the floor probe. What a mediated syscall costs on this
 * machine with the least possible supervisor: one seccomp filter intercepting
 * one syscall, one thread blocked in SECCOMP_IOCTL_NOTIF_RECV answering it, no
 * dispatch, no audit. jhansi-exec's sentry is measured against this, in the
 * same run, so the ratio does not depend on the machine (ARCHITECTURE.md,
 * "Performance budget").
 *
 *   jh-bench-floor [--no-sync] MODE [MAX_OPS [BUDGET_MS]]
 *   MODE: value  getppid, answered with a value (the bare round trip)
 *         errno  setns, answered with EPERM (what a refused call costs)
 *         uname  uname, the supervisor writes a struct utsname into the task
 *         stat   stat, the supervisor reads the path, stats it, writes the result
 *         open   open, the supervisor reads the path, opens it and injects the
 *                fd with SECCOMP_IOCTL_NOTIF_ADDFD + SECCOMP_ADDFD_FLAG_SEND
 *
 * SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6) is set unless --no-sync: the
 * kernel then wakes the supervisor on the task's CPU, which halves the round
 * trip. Prints "<ns> ns/op floor-<MODE> <n> ops sync_wakeup=<0|1>".
 *
 * This is a measuring probe, not a sandbox: the filter checks the
 * architecture, nothing else, and the supervisor serves AT_FDCWD paths only. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/ops.h"

/* Debian 12's kernel headers (6.1) lack these. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1UL
#endif

#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "jh-bench-floor: unsupported architecture"
#endif

enum mode { MODE_VALUE, MODE_ERRNO, MODE_UNAME, MODE_STAT, MODE_OPEN, MODE_COUNT };

static const struct {
	const char *name;
	enum bench_op op;
} modes[MODE_COUNT] = {
	[MODE_VALUE] = {"value", BENCH_OP_GETPPID}, [MODE_ERRNO] = {"errno", BENCH_OP_SETNS},
	[MODE_UNAME] = {"uname", BENCH_OP_UNAME},   [MODE_STAT] = {"stat", BENCH_OP_STAT},
	[MODE_OPEN] = {"open", BENCH_OP_OPEN},
};

struct result {
	int r;
	double ns;
	uint64_t ops;
};

struct supervisor {
	int listener;
	enum mode mode;
	struct seccomp_notif_sizes sizes;
};

static int install_filter(long nr)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(insns) / sizeof(insns[0]), .filter = insns};
	int fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			  &prog);
	return fd < 0 ? -errno : fd;
}

static int send_fd(int sock, int fd)
{
	char byte = 0;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	memset(&u, 0, sizeof(u));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -EIO;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EIO;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* The task: filter, hand the listener over, wait for the go, measure, report. */
static void run_task(int sock, enum mode mode, uint64_t max_ops, uint64_t budget_ns)
	__attribute__((noreturn));
static void run_task(int sock, enum mode mode, uint64_t max_ops, uint64_t budget_ns)
{
	struct result res = {0};
	char go;
	int fd = install_filter(bench_op_syscall(modes[mode].op));

	if (fd < 0 || send_fd(sock, fd) < 0)
		_exit(2);
	close(fd);
	if (read(sock, &go, 1) != 1)
		_exit(2);
	res.r = bench_op_measure(modes[mode].op, max_ops, budget_ns, &res.ns, &res.ops);
	/* write(), not stdio: glibc's first printf stats stdout, which the stat
	 * mode would intercept. */
	_exit(write(sock, &res, sizeof(res)) == (ssize_t)sizeof(res) ? 0 : 2);
}

/* Copies a NUL-terminated path out of the task, one page at a time (a read
 * that crosses into an unmapped page fails whole). */
static int read_path(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	size_t got = 0;

	while (got < size) {
		size_t chunk = 4096 - ((addr + got) & 4095);
		struct iovec local, remote;
		ssize_t n;

		if (chunk > size - got)
			chunk = size - got;
		local = (struct iovec){.iov_base = buf + got, .iov_len = chunk};
		remote = (struct iovec){.iov_base = (void *)(uintptr_t)(addr + got), .iov_len = chunk};
		n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (n <= 0)
			return -EFAULT;
		if (memchr(buf + got, '\0', (size_t)n))
			return 0;
		got += (size_t)n;
	}
	return -ENAMETOOLONG;
}

static int write_task(pid_t pid, uint64_t addr, const void *src, size_t len)
{
	struct iovec local = {.iov_base = (void *)src, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};

	return process_vm_writev(pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

/* Serves one notification; fills `resp` unless it answered with ADDFD (returns 1). */
static int serve(struct supervisor *s, const struct seccomp_notif *req,
		 struct seccomp_notif_resp *resp)
{
	const __u64 *a = req->data.args;
	char path[4096];
	struct utsname u;
	struct stat st;
	int r = 0, fd;

	resp->id = req->id;
	switch (s->mode) {
	case MODE_VALUE:
		resp->val = 1;
		return 0;
	case MODE_ERRNO:
		r = -EPERM;
		break;
	case MODE_UNAME:
		if (uname(&u) < 0)
			r = -errno;
		else
			r = write_task(req->pid, a[0], &u, sizeof(u));
		break;
	case MODE_STAT:
	case MODE_OPEN:
		if ((int)a[0] != AT_FDCWD) {
			r = -ENOSYS;
			break;
		}
		r = read_path(req->pid, a[1], path, sizeof(path));
		if (r < 0)
			break;
		/* Copied once; is the task still the one that asked? */
		if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
			return 1;
		if (s->mode == MODE_STAT) {
			if (fstatat(AT_FDCWD, path, &st, (int)a[3]) < 0)
				r = -errno;
			else
				r = write_task(req->pid, a[2], &st, sizeof(st));
			break;
		}
		fd = openat(AT_FDCWD, path, (int)a[2] | O_CLOEXEC, (mode_t)a[3]);
		if (fd < 0) {
			r = -errno;
			break;
		}
		{
			struct seccomp_notif_addfd addfd = {
				.id = req->id,
				.flags = SECCOMP_ADDFD_FLAG_SEND,
				.srcfd = (uint32_t)fd,
				.newfd_flags = (uint32_t)((int)a[2] & O_CLOEXEC),
			};
			/* Fails only when the task is gone: nothing to answer then. */
			(void)ioctl(s->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
		}
		close(fd);
		return 1;
	default:
		r = -ENOSYS;
	}
	resp->error = r;
	resp->val = 0;
	return 0;
}

static void *supervise(void *arg)
{
	struct supervisor *s = arg;
	struct seccomp_notif *req = calloc(1, s->sizes.seccomp_notif);
	struct seccomp_notif_resp *resp = calloc(1, s->sizes.seccomp_notif_resp);

	if (!req || !resp)
		abort();
	for (;;) {
		memset(req, 0, s->sizes.seccomp_notif);
		if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
			struct pollfd pfd = {.fd = s->listener, .events = POLLIN};

			if (errno == EINTR)
				continue;
			if (errno != ENOENT)
				break;
			/* ENOENT: withdrawn, or no task left (then POLLHUP). */
			if (poll(&pfd, 1, -1) < 0 || ((pfd.revents & POLLHUP) && !(pfd.revents & POLLIN)))
				break;
			continue;
		}
		memset(resp, 0, s->sizes.seccomp_notif_resp);
		if (serve(s, req, resp) == 0)
			(void)ioctl(s->listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
	}
	free(req);
	free(resp);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: jh-bench-floor [--no-sync] value|errno|uname|stat|open "
			"[MAX_OPS [BUDGET_MS]]\n");
}

int main(int argc, char **argv)
{
	uint64_t max_ops = 1000000, budget_ms = 200;
	struct supervisor s = {.listener = -1, .mode = MODE_COUNT};
	struct result res;
	bool sync_wakeup = true, synced = false;
	pthread_t thread;
	int sv[2], status, i = 1;
	pid_t pid;

	if (i < argc && strcmp(argv[i], "--no-sync") == 0) {
		sync_wakeup = false;
		i++;
	}
	if (i < argc)
		for (int m = 0; m < MODE_COUNT; m++)
			if (strcmp(argv[i], modes[m].name) == 0)
				s.mode = (enum mode)m;
	if (s.mode == MODE_COUNT || argc - i > 3 ||
	    (argc - i > 1 && !bench_parse_u64(argv[i + 1], &max_ops)) ||
	    (argc - i > 2 && !bench_parse_u64(argv[i + 2], &budget_ms))) {
		usage();
		return 1;
	}
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &s.sizes) < 0) {
		fprintf(stderr, "jh-bench-floor: seccomp user notification unavailable: %s\n",
			strerror(errno));
		return 1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("jh-bench-floor: socketpair");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("jh-bench-floor: fork");
		return 1;
	}
	if (pid == 0) {
		close(sv[0]);
		run_task(sv[1], s.mode, max_ops, budget_ms * 1000000u);
	}
	close(sv[1]);
	s.listener = recv_fd(sv[0]);
	if (s.listener < 0) {
		fprintf(stderr, "jh-bench-floor: the task could not install its filter\n");
		waitpid(pid, NULL, 0);
		return 1;
	}
	/* The flag is passed by value, not through a pointer. */
	if (sync_wakeup)
		synced = ioctl(s.listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
			       SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0;
	if (pthread_create(&thread, NULL, supervise, &s) != 0 || write(sv[0], "g", 1) != 1) {
		fprintf(stderr, "jh-bench-floor: cannot start the supervisor\n");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 1;
	}
	if (read(sv[0], &res, sizeof(res)) != (ssize_t)sizeof(res) || waitpid(pid, &status, 0) < 0 ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "jh-bench-floor: the task died\n");
		return 1;
	}
	if (res.r < 0) {
		fprintf(stderr, "jh-bench-floor: %s failed: %s\n", modes[s.mode].name,
			strerror(-res.r));
		return 1;
	}
	printf("%.1f ns/op floor-%s %llu ops sync_wakeup=%d\n", res.ns, modes[s.mode].name,
	       (unsigned long long)res.ops, synced);
	/* The supervisor thread is still blocked on the listener: exit, don't join. */
	fflush(stdout);
	_exit(0);
}
