/* Eight threads race denied, emulated and passed calls; every result must be
 * the expected one, every time. Exit 0 when all were right; prints the first
 * wrong one otherwise. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#define THREADS 8
#define ROUNDS 300

static atomic_int failures;

static void *worker(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < ROUNDS; i++) {
		struct utsname u;
		long r;

		errno = 0;
		r = syscall(SYS_mount, (void *)1, (void *)1, (void *)1, 0, (void *)1);
		if (r != -1 || errno != EPERM) {
			fprintf(stderr, "thread %ld: mount gave %ld errno %d\n", id, r, errno);
			atomic_fetch_add(&failures, 1);
		}
		if (syscall(SYS_getppid) <= 0)
			atomic_fetch_add(&failures, 1);
		memset(&u, 0, sizeof(u));
		if (uname(&u) != 0 || strcmp(u.nodename, "jhansi") != 0) {
			fprintf(stderr, "thread %ld: uname nodename '%s'\n", id, u.nodename);
			atomic_fetch_add(&failures, 1);
		}
		errno = 0;
		r = syscall(SYS_unshare, 0x10000000 /* CLONE_NEWUSER */);
		if (r != -1 || errno != EPERM)
			atomic_fetch_add(&failures, 1);
	}
	return NULL;
}

int main(void)
{
	pthread_t th[THREADS];

	for (long i = 0; i < THREADS; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i) != 0)
			return 2;
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	if (atomic_load(&failures)) {
		printf("failures: %d\n", atomic_load(&failures));
		return 1;
	}
	printf("all %d calls right\n", THREADS * ROUNDS * 4);
	return 0;
}
