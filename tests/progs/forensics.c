/* Makes refused calls from places a forensic reader must be able to tell
 * apart. Prints "<test>=<errno name>" for each argument:
 *   inline     mount(2) from an inline `syscall` instruction in try_mount()
 *   libc       mount(2) through libc, called from try_mount_libc()
 *   shellcode  mount(2) from raw bytes in an anonymous rwx mapping
 *   own-filter installs its own seccomp filter answering SECCOMP_RET_TRACE for
 *              getppid and mount, then calls both: a task must not be able to
 *              forge a trace stop into anything but a refusal (prints
 *              "own-filter=<getppid's errno>,<mount's errno>")
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
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

/* RET_TRACE for getppid and mount, RET_ALLOW for the rest. */
static long own_filter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mount, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 1),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	return 0;
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
		else if (strcmp(argv[i], "own-filter") == 0) {
			long a, b;

			r = own_filter();
			if (r < 0) {
				printf("own-filter=install-failed(%ld)\n", -r);
				continue;
			}
			a = syscall(SYS_getppid) < 0 ? -errno : 0;
			b = try_mount_libc();
			printf("own-filter=%s,%s\n", errname(a), errname(b));
			continue;
		} else
			return 2;
		printf("%s=%s\n", argv[i], errname(r));
	}
	return 0;
}
