/* Hostile string arguments for the platform's string reader: calls mkdirat
 * (which the platform test intercepts) with a path that ends exactly at a
 * guard page, one that runs into it without a NUL, one of 4097 bytes, and a
 * NULL pointer. The test's supervisor answers with the length it read or the
 * error; this program prints each answer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void call(const char *label, const char *p)
{
	long r;

	errno = 0;
	r = syscall(SYS_mkdirat, AT_FDCWD, p, 0);
	if (r < 0)
		printf("%s=-%d\n", label, errno);
	else
		printf("%s=%ld\n", label, r);
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, (size_t)pg * 3, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	char *guard, *s;

	if (m == MAP_FAILED || mprotect(m + 2 * pg, (size_t)pg, PROT_NONE) < 0)
		return 2;
	guard = m + 2 * pg;
	/* "abc\0" whose NUL is the last byte before the guard page */
	s = guard - 4;
	memcpy(s, "abc", 4);
	call("at-guard", s);
	/* 10 bytes running into the guard page, no NUL */
	memset(guard - 10, 'x', 10);
	call("into-guard", guard - 10);
	/* a path spanning two pages, 5000 bytes without NUL -> too long */
	memset(m, 'y', (size_t)2 * pg);
	call("too-long", m + 100);
	/* exactly 4095 bytes + NUL fits PATH_MAX */
	memset(m, 'z', 4095);
	m[4095] = '\0';
	call("max", m);
	call("null", NULL);
	return 0;
}
