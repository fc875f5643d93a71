/* Memory for the --memory tests.
 *
 *   memhog [N [HOLD]]    allocates N MiB (default 2048) with one malloc and
 *                        touches every page; prints "allocated" on success,
 *                        "refused" when malloc fails; then, with HOLD, keeps
 *                        the memory HOLD seconds before exiting
 *   memhog reserve N     maps N MiB of address space it never touches;
 *                        prints "reserved" (or "refused")
 *   memhog fds           the file-descriptor hog: raises its soft
 *                        RLIMIT_NOFILE to the hard one, opens /dev/null until
 *                        that fails, prints "fds N ERRNO-NAME max M"
 *
 * The writes go through a volatile pointer: otherwise the compiler may drop
 * the stores to a buffer nobody reads, and the malloc with them, and nothing
 * is ever resident. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t mib, len, page = (size_t)sysconf(_SC_PAGESIZE);
	volatile char *p;

	if (argc > 1 && strcmp(argv[1], "fds") == 0) {
		struct rlimit rl;
		long n = 0;
		int e = 0;

		if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return 2;
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		for (;; n++)
			if (open("/dev/null", O_RDONLY) < 0) {
				e = errno;
				break;
			}
		printf("fds %ld %s max %llu\n", n, e == EMFILE ? "EMFILE" : strerror(e),
		       (unsigned long long)rl.rlim_max);
		return 0;
	}
	if (argc > 2 && strcmp(argv[1], "reserve") == 0) {
		len = strtoul(argv[2], NULL, 10) << 20;
		if (mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) ==
		    MAP_FAILED) {
			printf("refused\n");
			return 3;
		}
		printf("reserved\n");
		return 0;
	}
	mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 2048;
	len = mib << 20;
	p = malloc(len);
	if (!p) {
		printf("refused\n");
		return 3;
	}
	for (size_t i = 0; i < len; i += page)
		p[i] = 1;
	printf("allocated\n");
	fflush(stdout);
	if (argc > 2)
		sleep((unsigned)strtoul(argv[2], NULL, 10));
	free((void *)p);
	return 0;
}
