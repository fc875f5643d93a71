/* Issues a syscall through a foreign ABI: `int80` uses the i386 entry (int
 * 0x80, getpid = 20), `x32` sets __X32_SYSCALL_BIT. The filter must kill the
 * process (SIGSYS) before the kernel runs either. Prints "survived" otherwise. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
#if defined(__x86_64__)
	long ret = 0;

	fflush(stdout);
	if (argc > 1 && strcmp(argv[1], "x32") == 0) {
		long nr = 0x40000000L | 39; /* x32 getpid */
		__asm__ volatile("syscall" : "=a"(ret) : "0"(nr) : "rcx", "r11", "memory");
	} else {
		long nr = 20; /* i386 getpid */
		__asm__ volatile("int $0x80" : "=a"(ret) : "0"(nr) : "memory");
	}
	printf("survived: %ld\n", ret);
	return 0;
#else
	(void)argc;
	(void)argv;
	printf("unsupported\n");
	return 3;
#endif
}
