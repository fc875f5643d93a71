/* Makes refused calls from places a forensic reader must be able to tell
 * apart. Prints "<test>=<errno name>" for each argument:
 *   inline     mount(2) from an inline `syscall` instruction in try_mount()
 *   libc       mount(2) through libc, called from try_mount_libc()
 *   shellcode  mount(2) from raw bytes in an anonymous rwx mapping
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Global, so that their names are in the symbol table. */
long try_mount(void);
long try_mount_libc(void);
long try_shellcode(void);

static const char *errname(long r)
{
	if (r >= 0)
		return "OK";
	switch (-r) {
	case EPERM:
		return "EPERM";
	case ENOSYS:
		return "ENOSYS";
	default:
		return "OTHER";
	}
}

__attribute__((noinline)) long try_mount(void)
{
	long ret, nr = SYS_mount;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"("none"), "S"("/mnt"), "d"("tmpfs")
			 : "rcx", "r11", "memory");
	return ret;
}

__attribute__((noinline)) long try_mount_libc(void)
{
	return mount("none", "/mnt", "tmpfs", 0, NULL) < 0 ? -errno : 0;
}

__attribute__((noinline)) long try_shellcode(void)
{
	/* mov eax, SYS_mount; syscall; ret */
	static const unsigned char code[] = {0xb8, SYS_mount, 0, 0, 0, 0x0f, 0x05, 0xc3};
	unsigned char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long (*fn)(void);

	if (m == MAP_FAILED)
		return -errno;
	memset(m, 0x90, 64); /* nops before the code, as a sled would be */
	memcpy(m + 64, code, sizeof(code));
	fn = (long (*)(void))(void *)(m + 64);
	return fn();
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		long r;

		if (strcmp(argv[i], "inline") == 0)
			r = try_mount();
		else if (strcmp(argv[i], "libc") == 0)
			r = try_mount_libc();
		else if (strcmp(argv[i], "shellcode") == 0)
			r = try_shellcode();
		else
			return 2;
		printf("%s=%s\n", argv[i], errname(r));
	}
	return 0;
}
