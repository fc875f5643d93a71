/* Races on paths from inside the sandbox (run in a workspace). Each mode
 * races a second thread against the sentry's checks for a few thousand
 * rounds and prints "leaks=N": how often a file outside the view was read.
 *
 *   fs-race path-flip SECRET_FILE  a thread rewrites the path buffer between
 *                                  "ok.txt" and SECRET_FILE while openat runs
 *   fs-race dir-swap SECRET_DIR    a thread swaps directory "d" for a symlink
 *                                  to SECRET_DIR while openat("d/f") and
 *                                  rename("d/f", "d/g") run */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROUNDS 3000

static atomic_bool stop;
static char path[4096];
static const char *secret;

static void *flipper(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		strcpy(path, "ok.txt");
		strcpy(path, secret);
	}
	return NULL;
}

static void *swapper(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		(void)!rename("d", "d.real");
		(void)!symlink(secret, "d");
		(void)!unlink("d");
		(void)!rename("d.real", "d");
	}
	return NULL;
}

static int read_is_secret(int fd)
{
	char buf[64] = "";
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	close(fd);
	return n > 0 && strstr(buf, "SECRET") != NULL;
}

static void write_file(const char *p, const char *s)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, s, strlen(s)) < 0) {
		perror(p);
		exit(2);
	}
	close(fd);
}

int main(int argc, char **argv)
{
	pthread_t th;
	int leaks = 0, opened = 0;

	if (argc != 3)
		return 2;
	secret = argv[2];
	if (strcmp(argv[1], "path-flip") == 0) {
		write_file("ok.txt", "OK");
		strcpy(path, "ok.txt");
		pthread_create(&th, NULL, flipper, NULL);
		for (int i = 0; i < ROUNDS; i++) {
			int fd = openat(AT_FDCWD, path, O_RDONLY);
			if (fd >= 0) {
				opened++;
				leaks += read_is_secret(fd);
			}
		}
	} else if (strcmp(argv[1], "dir-swap") == 0) {
		mkdir("d", 0755);
		write_file("d/f", "OK");
		pthread_create(&th, NULL, swapper, NULL);
		for (int i = 0; i < ROUNDS; i++) {
			int fd = openat(AT_FDCWD, "d/f", O_RDONLY);
			if (fd >= 0) {
				opened++;
				leaks += read_is_secret(fd);
			}
			/* a rename through the swapped directory must not move a host file */
			if (rename("d/f", "d/g") == 0)
				/* back, once "d" is the directory again */
				for (int t = 0; t < 100000 && rename("d/g", "d/f") != 0; t++)
					;
		}
	} else
		return 2;
	atomic_store(&stop, true);
	pthread_join(th, NULL);
	printf("opened=%d leaks=%d\n", opened, leaks);
	return 0;
}
