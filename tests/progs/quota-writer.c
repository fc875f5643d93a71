/* Runs inside the sandbox for the --disk-quota tests: opens N files for
 * writing while the workspace is still below its quota, writes a header to
 * each, then writes CHUNK bytes to each in turn (pausing PAUSE_US after each
 * write, so the rate is bounded and the overshoot a test allows does not
 * depend on the machine's speed) until a write to every file has failed.
 * Then it checks every header; with "delete", it deletes all files but the
 * first and overwrites a byte of the first until that works (or 30 s pass).
 *
 *   quota-writer N CHUNK PAUSE_US [delete]
 *
 * Prints "failed <errno name> after <bytes>", "headers intact" or "header
 * <i> damaged", and "writable again after delete" or "still failing: ...". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 64

static const char *errname(int e)
{
	switch (e) {
	case EFBIG:
		return "EFBIG";
	case EDQUOT:
		return "EDQUOT";
	case ENOSPC:
		return "ENOSPC";
	default:
		return strerror(e);
	}
}

static void pause_us(long us)
{
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	static char chunk[1 << 20];
	int fd[MAX_FILES], n, failed_errno = 0, bad = 0;
	size_t size;
	long pause;
	unsigned long long total = 0;
	char name[32], head[32], got[32];
	int done[MAX_FILES] = {0}, ndone = 0;

	if (argc != 4 && !(argc == 5 && strcmp(argv[4], "delete") == 0))
		return 2;
	n = atoi(argv[1]);
	size = strtoul(argv[2], NULL, 10);
	pause = atol(argv[3]);
	if (n < 1 || n > MAX_FILES || size < 1 || size > sizeof(chunk))
		return 2;
	memset(chunk, 'x', size);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		fd[i] = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd[i] < 0) {
			printf("open %s: %s\n", name, strerror(errno));
			return 1;
		}
		snprintf(head, sizeof(head), "header-%02d\n", i);
		if (write(fd[i], head, strlen(head)) != (ssize_t)strlen(head)) {
			printf("header %d: %s\n", i, strerror(errno));
			return 1;
		}
	}
	/* in turn; a file whose write failed is left alone. 1 GiB at most: the
	 * quota must have stopped it long before */
	while (ndone < n && total < (1ull << 30)) {
		for (int i = 0; i < n; i++) {
			ssize_t w;

			if (done[i])
				continue;
			w = write(fd[i], chunk, size);
			if (w < 0) {
				done[i] = 1;
				ndone++;
				failed_errno = errno;
			} else {
				total += (unsigned long long)w;
			}
			if (pause)
				pause_us(pause);
		}
	}
	if (ndone < n)
		printf("never failed after %llu\n", total);
	else
		printf("failed %s after %llu\n", errname(failed_errno), total);

	for (int i = 0; i < n; i++) {
		int r;

		snprintf(name, sizeof(name), "f%d", i);
		snprintf(head, sizeof(head), "header-%02d\n", i);
		r = open(name, O_RDONLY | O_CLOEXEC);
		memset(got, 0, sizeof(got));
		if (r < 0 || read(r, got, strlen(head)) != (ssize_t)strlen(head) ||
		    memcmp(got, head, strlen(head)) != 0) {
			printf("header %d damaged\n", i);
			bad = 1;
		}
		if (r >= 0)
			close(r);
	}
	if (!bad)
		printf("headers intact\n");
	if (argc == 4) {
		fflush(stdout);
		return 0;
	}

	for (int i = 1; i < n; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		close(fd[i]);
		if (unlink(name) < 0)
			printf("unlink %s: %s\n", name, strerror(errno));
	}
	for (int tries = 0;; tries++) {
		/* an overwrite after the header: f0 is at the quota's size itself,
		 * so appending would fail on its own (EFBIG) */
		if (pwrite(fd[0], "again\n", 6, 11) == 6) {
			printf("writable again after delete\n");
			break;
		}
		if (tries == 3000) {
			printf("still failing: %s\n", errname(errno));
			break;
		}
		pause_us(10000);
	}
	fflush(stdout);
	return 0;
}
