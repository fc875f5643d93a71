/* Races exec against a swapped symlink, from inside the sandbox (run in a
 * workspace holding "ok", a copy of a harmless program): a thread flips the
 * symlink "prog" between "ok" and OUTSIDE (a program outside the view that
 * prints its arguments) while the process execs "prog ESCAPED". Repeated in
 * ROUNDS children; prints "done" at the end. The view checks the name, then
 * the kernel re-reads it: the exec hook must kill whatever runs from outside
 * before it prints.
 *
 *   exec-swap OUTSIDE */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS 150

static const char *outside;

static void *flipper(void *arg)
{
	(void)arg;
	for (;;) {
		(void)!symlink("ok", "prog.tmp");
		(void)!rename("prog.tmp", "prog");
		(void)!symlink(outside, "prog.tmp");
		(void)!rename("prog.tmp", "prog");
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	outside = argv[1];
	for (int i = 0; i < ROUNDS; i++) {
		pid_t pid = fork();
		if (pid < 0)
			return 3;
		if (pid == 0) {
			pthread_t th;
			char *args[] = {"prog", "ESCAPED", NULL};

			pthread_create(&th, NULL, flipper, NULL);
			usleep(200);
			execv("./prog", args);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
	}
	printf("done\n");
	return 0;
}
