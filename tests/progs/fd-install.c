/* Checks what an fd installed by the sentry looks like from inside, as the
 * kernel's own open would make it: the lowest free number, FD_CLOEXEC exactly
 * when O_CLOEXEC was asked, no other fd left behind, EMFILE at the fd limit,
 * opens racing in 8 threads each getting their own file, and opens that keep
 * working whatever the task does to an extra socket the platform keeps. Prints one line
 * per check ("ok NAME" or "FAIL NAME: why") and exits 1 on any failure. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *name, const char *why)
{
	if (ok)
		printf("ok %s\n", name);
	else {
		printf("FAIL %s: %s (errno %d)\n", name, why, errno);
		failures++;
	}
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

static const char *path;

static void *opener(void *arg)
{
	struct stat want, got;

	(void)arg;
	if (stat(path, &want) < 0)
		return (void *)1;
	for (int i = 0; i < 300; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &got) < 0 || got.st_ino != want.st_ino)
			return (void *)1;
		close(fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int fd, fd2, before, n;
	struct rlimit rl, saved;
	pthread_t t[8];
	int bad = 0;

	path = argc > 1 ? argv[1] : "/etc/hostname";

	/* lowest free number: 0 once stdin is closed */
	close(0);
	fd = open(path, O_RDONLY);
	check(fd == 0, "lowest_free_number", "open after close(0) did not return 0");
	fd2 = open(path, O_RDONLY | O_CLOEXEC);
	check(fd2 >= 3 && (fcntl(fd2, F_GETFD) & FD_CLOEXEC), "cloexec_when_asked",
	      "O_CLOEXEC open lacks FD_CLOEXEC");
	check(fd == 0 && !(fcntl(fd, F_GETFD) & FD_CLOEXEC), "no_cloexec_otherwise",
	      "plain open has FD_CLOEXEC");
	close(fd2);

	before = count_fds();
	for (int i = 0; i < 50; i++) {
		fd2 = open(path, O_RDONLY);
		close(fd2);
	}
	check(count_fds() == before, "nothing_left_behind", "fd count changed after 50 opens");

	/* at the limit: EMFILE, and the fds held are all the program's own */
	getrlimit(RLIMIT_NOFILE, &saved);
	rl.rlim_cur = 16;
	rl.rlim_max = saved.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	n = 0;
	for (;;) {
		fd2 = open(path, O_RDONLY);
		if (fd2 < 0)
			break;
		n++;
	}
	check(errno == EMFILE, "emfile_at_the_limit", "the last open did not fail with EMFILE");
	check(count_fds() <= 16 && n > 0, "limit_counts_only_own_fds", "more fds than the limit");
	for (int i = 3; i < 16; i++)
		close(i);
	setrlimit(RLIMIT_NOFILE, &saved);

	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, opener, NULL);
	for (int i = 0; i < 8; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad |= r != NULL;
	}
	check(!bad, "racing_threads_get_their_own_files", "a thread got a wrong or no file");

	/* Whatever extra socket the platform keeps in the fd table (ptrace: the
	 * channel fds are installed through), the task may close it, put another
	 * file at its number, or read from it while opening: opens keep working. */
	{
		int chan = -1;
		DIR *d = opendir("/proc/self/fd");
		struct dirent *e;
		struct stat st;
		char *end;

		while (d && (e = readdir(d))) {
			long num = strtol(e->d_name, &end, 10);
			if (*end || num < 3 || num == dirfd(d))
				continue;
			if (fstat((int)num, &st) == 0 && S_ISSOCK(st.st_mode))
				chan = (int)num;
		}
		if (d)
			closedir(d);
		if (chan >= 0) {
			close(chan);
			fd = open(path, O_RDONLY);
			check(fd >= 0, "open_after_closing_the_channel", "open failed");
			close(fd);
			for (int i = 0; i < 3 && fd >= 0; i++) {
				fd = open(path, O_RDONLY); /* the channel is back */
				close(fd);
			}
			dup2(1, chan);
			fd = open(path, O_RDONLY);
			check(fd >= 0 && fd != chan, "open_with_another_file_at_its_number", "open failed");
			close(fd);
			check(fcntl(chan, F_GETFD) >= 0 && write(chan, "", 0) == 0,
			      "its_file_at_that_number_is_left_alone", "the task's fd was replaced");
			close(chan);
			/* a thread stealing from the channel while another opens */
			fd = open(path, O_RDONLY); /* reinstalls it */
			close(fd);
			bad = 0;
			for (int i = 0; i < 200; i++) {
				char b;
				struct iovec iov = {.iov_base = &b, .iov_len = 1};
				char cbuf[64];
				struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1,
						   .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
				(void)!recvmsg(chan, &m, MSG_DONTWAIT);
				fd = open(path, O_RDONLY);
				bad |= fd < 0;
				close(fd);
			}
			check(!bad, "opens_work_while_the_channel_is_read", "an open failed");
		} else
			printf("ok no_extra_socket\n");
	}
	return failures ? 1 : 0;
}
