/* A bounded fork bomb: forks children that sleep until it cannot fork any
 * more (or 5000 succeeded), prints how many it made, and exits 0 leaving them
 * running: the sandbox must limit the count and kill them all at the end. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	int made = 0;

	for (; made < 5000; made++) {
		pid_t pid = fork();
		if (pid < 0)
			break;
		if (pid == 0) {
			sleep(300);
			_exit(0);
		}
	}
	printf("made %d\n", made);
	return 0;
}
