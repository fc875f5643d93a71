/* Prints the open file descriptors above 2 ("fds: none" if there are none), and
 * checks that vfork+exec and posix_spawn work under the sandbox. */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	int any = 0;

	if (argc > 1 && strcmp(argv[1], "spawn") == 0) {
		char *args[] = {"/bin/sh", "-c", "exit 5", NULL};
		pid_t pid;
		int st;

		if (posix_spawn(&pid, "/bin/sh", NULL, NULL, args, environ) != 0)
			return 10;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 5)
			return 11;
		pid = vfork();
		if (pid == 0) {
			execve("/bin/sh", args, environ);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 5)
			return 12;
		printf("spawn ok\n");
		return 0;
	}
	printf("fds:");
	for (int fd = 3; fd < 4096; fd++) {
		if (fcntl(fd, F_GETFD) >= 0) {
			printf(" %d", fd);
			any = 1;
		}
	}
	printf("%s\n", any ? "" : " none");
	return 0;
}
