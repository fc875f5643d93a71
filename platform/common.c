/* Shared by the unotify and ptrace backends (see common.h). */
#include "platform/common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/macro.h"

int jh_vm_read(pid_t tid, void *dst, uint64_t addr, size_t len)
{
	struct iovec local = {.iov_base = dst, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	ssize_t n;

	if (len == 0)
		return 0;
	if (addr + len < addr)
		return -EFAULT;
	n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return errno == ESRCH ? -ESRCH : -EFAULT;
	return (size_t)n == len ? 0 : -EFAULT;
}

int jh_vm_write(pid_t tid, uint64_t addr, const void *src, size_t len)
{
	struct iovec local = {.iov_base = (void *)src, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	ssize_t n;

	if (len == 0)
		return 0;
	if (addr + len < addr)
		return -EFAULT;
	n = process_vm_writev(tid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return errno == ESRCH ? -ESRCH : -EFAULT;
	return (size_t)n == len ? 0 : -EFAULT;
}

int jh_vm_read_string(pid_t tid, char *dst, size_t cap, uint64_t addr)
{
	static size_t page;
	size_t got = 0;

	if (!page)
		page = (size_t)sysconf(_SC_PAGESIZE);
	if (cap == 0)
		return -ENAMETOOLONG;
	while (got < cap) {
		uint64_t at = addr + got;
		size_t chunk = page - (size_t)(at & (page - 1));
		struct iovec local, remote;
		ssize_t n;
		char *nul;

		if (at < addr)
			return -EFAULT;
		chunk = JH_MIN(chunk, cap - got);
		local.iov_base = dst + got;
		local.iov_len = chunk;
		remote.iov_base = (void *)(uintptr_t)at;
		remote.iov_len = chunk;
		n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
		if (n <= 0)
			return n < 0 && errno == ESRCH ? -ESRCH : -EFAULT;
		nul = memchr(dst + got, '\0', (size_t)n);
		if (nul)
			return (int)(nul - dst);
		got += (size_t)n;
	}
	dst[cap - 1] = '\0';
	return -ENAMETOOLONG;
}

size_t jh_list_children(const pid_t *keep, size_t nkeep, pid_t *pids, size_t cap)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d))) {
		char path[300];
		char buf[4096];
		ssize_t len;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/children", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		for (char *s = buf, *end; *s && n < cap; s = end) {
			long child = strtol(s, &end, 10);
			bool kept = false;

			if (end == s)
				break;
			for (size_t i = 0; i < nkeep; i++)
				kept |= keep[i] == (pid_t)child;
			if (child > 0 && !kept)
				pids[n++] = (pid_t)child;
		}
	}
	if (d)
		closedir(d);
	return n;
}

static void wake_handler(int sig)
{
	(void)sig;
}

int jh_wake_signal_install(void)
{
	struct sigaction sa = {.sa_handler = wake_handler}; /* no SA_RESTART */

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGRTMIN, &sa, NULL) < 0)
		return jh_negerrno();
	return SIGRTMIN;
}

int jh_timeout_fd(int64_t ms)
{
	struct itimerspec its = {
		.it_value = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000},
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (timerfd_settime(fd, 0, &its, NULL) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}
