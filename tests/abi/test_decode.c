/* The argument decoder: strace-style output, flag lists, escaping, cutting of
 * long strings, and the buffer contract (never past len, always terminated),
 * with strings that end at a guard page.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/abi.h"
#include "base/macro.h"

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))
#define FDCWD ((uint64_t)(int64_t)AT_FDCWD)
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080 /* <linux/sched.h>, which clashes with <sched.h> */
#endif
#define HUGE_2MB (21ULL << MAP_HUGE_SHIFT)
#define HUGE_1GB (30ULL << MAP_HUGE_SHIFT)

static const struct jh_syscall_info *sys(const char *name)
{
	const struct jh_syscall_info *s = jh_abi_syscall_by_name(jh_abi_native_arch(), name);
	cr_assert_not_null(s, "no syscall %s", name);
	return s;
}

/* Formats a call into a roomy buffer. */
static const char *fmt(const char *name, const uint64_t args[6], const char *const strs[6])
{
	static char buf[2048];
	size_t n = jh_abi_format_args(buf, sizeof(buf), sys(name), args, strs);
	cr_assert_eq(n, strlen(buf), "%s: returned %zu for a %zu-byte string", name, n,
		     strlen(buf));
	return buf;
}

static const char *flags(enum jh_argtype type, uint64_t v)
{
	static char buf[512];
	size_t n = jh_abi_format_flags(buf, sizeof(buf), type, v);
	cr_assert_eq(n, strlen(buf));
	return buf;
}

static const char *result(int64_t v, int err)
{
	static char buf[256];
	size_t n = jh_abi_format_result(buf, sizeof(buf), v, err);
	cr_assert_eq(n, strlen(buf));
	return buf;
}

Test(unit, openat_of_a_path_reads_like_strace)
{
	uint64_t args[6] = {FDCWD, 0x7ffd1000, O_RDONLY, 0};
	const char *strs[6] = {NULL, "/etc/passwd"};

	cr_expect_str_eq(fmt("openat", args, strs), "AT_FDCWD, \"/etc/passwd\", O_RDONLY");
}

Test(unit, open_mode_is_printed_only_with_o_creat_or_o_tmpfile)
{
	uint64_t args[6] = {3, 0x1000, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644};
	const char *strs[6] = {NULL, "out.txt"};

	cr_expect_str_eq(fmt("openat", args, strs),
			 "3, \"out.txt\", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644");
	args[2] = O_RDWR | O_TMPFILE;
	args[3] = 0600;
	cr_expect_str_eq(fmt("openat", args, strs), "3, \"out.txt\", O_RDWR|O_TMPFILE, 0600");
	args[2] = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
	cr_expect_str_eq(fmt("openat", args, strs),
			 "3, \"out.txt\", O_RDONLY|O_DIRECTORY|O_NOFOLLOW");
	args[2] = O_CREAT;
	args[3] = 0;
	cr_expect_str_eq(fmt("openat", args, strs), "3, \"out.txt\", O_RDONLY|O_CREAT, 000");
}

Test(unit, open_flags_name_composites_and_unknown_bits)
{
	cr_expect_str_eq(flags(JH_ARG_OFLAGS, 0), "O_RDONLY");
	cr_expect_str_eq(flags(JH_ARG_OFLAGS, O_RDWR | O_APPEND | O_NONBLOCK),
			 "O_RDWR|O_APPEND|O_NONBLOCK");
	cr_expect_str_eq(flags(JH_ARG_OFLAGS, O_WRONLY | O_SYNC), "O_WRONLY|O_SYNC");
	cr_expect_str_eq(flags(JH_ARG_OFLAGS, O_WRONLY | O_DSYNC), "O_WRONLY|O_DSYNC");
	cr_expect_str_eq(flags(JH_ARG_OFLAGS, O_PATH | O_CLOEXEC), "O_RDONLY|O_CLOEXEC|O_PATH");
	cr_expect_str_eq(flags(JH_ARG_OFLAGS, O_RDONLY | 0x40000000), "O_RDONLY|0x40000000");
	cr_expect_str_eq(flags(JH_ARG_OFLAGS, 3), "0x3");
	/* The kernel's value, which glibc hides (O_LARGEFILE is 0 in its headers). */
#if defined(__x86_64__)
	cr_expect_str_eq(flags(JH_ARG_OFLAGS, 0100000), "O_RDONLY|O_LARGEFILE");
	cr_expect_str_eq(flags(JH_ARG_OFLAGS, 0200000), "O_RDONLY|O_DIRECTORY");
#elif defined(__aarch64__)
	cr_expect_str_eq(flags(JH_ARG_OFLAGS, 0400000), "O_RDONLY|O_LARGEFILE");
	cr_expect_str_eq(flags(JH_ARG_OFLAGS, 040000), "O_RDONLY|O_DIRECTORY");
#endif
	/* int argument: the upper half of the register is not the kernel's. */
	cr_expect_str_eq(flags(JH_ARG_OFLAGS, 0xdead000000000000ULL | O_WRONLY), "O_WRONLY");
}

Test(unit, at_flags_and_dirfds)
{
	uint64_t args[6] = {FDCWD, 0x1000, AT_REMOVEDIR};
	const char *strs[6] = {NULL, "dir"};

	cr_expect_str_eq(fmt("unlinkat", args, strs), "AT_FDCWD, \"dir\", AT_REMOVEDIR");
	args[0] = 7;
	args[2] = 0;
	cr_expect_str_eq(fmt("unlinkat", args, strs), "7, \"dir\", 0");

	uint64_t st[6] = {5, 0x1000, 0x2000, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH};
	const char *empty[6] = {NULL, ""};
	cr_expect_str_eq(fmt("newfstatat", st, empty),
			 "5, \"\", 0x2000, AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH");

	/* faccessat2's AT_EACCESS shares AT_REMOVEDIR's bit. */
	uint64_t acc[6] = {FDCWD, 0x1000, R_OK | W_OK, AT_EACCESS};
	const char *p[6] = {NULL, "/tmp"};
	cr_expect_str_eq(fmt("faccessat2", acc, p), "AT_FDCWD, \"/tmp\", 6, AT_EACCESS");
	cr_expect_str_eq(flags(JH_ARG_ATFLAGS, 0x200 | 0x80000000), "AT_REMOVEDIR|0x80000000");
	cr_expect_str_eq(flags(JH_ARG_DIRFD, (uint64_t)-1), "-1");
}

Test(unit, null_and_unread_pointers)
{
	uint64_t args[6] = {FDCWD, 0, 0x7ffe12345678, AT_EMPTY_PATH};

	/* A NULL path, and a buffer pointer: no strings were read. */
	cr_expect_str_eq(fmt("newfstatat", args, NULL),
			 "AT_FDCWD, NULL, 0x7ffe12345678, AT_EMPTY_PATH");
	args[1] = 0xdeadbeef;
	cr_expect_str_eq(fmt("newfstatat", args, NULL),
			 "AT_FDCWD, 0xdeadbeef, 0x7ffe12345678, AT_EMPTY_PATH");
	/* A string given for a non-string argument is ignored. */
	const char *wrong[6] = {"x", NULL, "y"};
	cr_expect_str_eq(fmt("newfstatat", args, wrong),
			 "AT_FDCWD, 0xdeadbeef, 0x7ffe12345678, AT_EMPTY_PATH");
}

Test(unit, memory_process_and_socket_arguments)
{
	uint64_t mm[6] = {
	    0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0};
	cr_expect_str_eq(fmt("mmap", mm, NULL),
			 "NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0");
	cr_expect_str_eq(flags(JH_ARG_PROT, 0), "PROT_NONE");
	cr_expect_str_eq(flags(JH_ARG_PROT, PROT_EXEC | 0x100), "PROT_EXEC|0x100");
	cr_expect_str_eq(flags(JH_ARG_MMAP, MAP_SHARED | MAP_FIXED), "MAP_SHARED|MAP_FIXED");
	cr_expect_str_eq(flags(JH_ARG_MMAP, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | HUGE_2MB),
			 "MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|MAP_HUGE_2MB");
	cr_expect_str_eq(flags(JH_ARG_MMAP, MAP_SHARED | MAP_HUGETLB | HUGE_1GB),
			 "MAP_SHARED|MAP_HUGETLB|MAP_HUGE_1GB");

	uint64_t cl[6] = {CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			      CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
			      CLONE_CHILD_CLEARTID,
			  0x7f0000001000, 0x7f0000002000, 0x7f0000003000, 0x7f0000004000};
	cr_expect_str_eq(fmt("clone", cl, NULL),
			 "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|"
			 "CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, 0x7f0000001000, "
			 "0x7f0000002000, 0x7f0000003000, 0x7f0000004000");
	cr_expect_str_eq(flags(JH_ARG_CLONE, SIGCHLD), "SIGCHLD");
	cr_expect_str_eq(flags(JH_ARG_CLONE, CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD),
			 "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD");
	cr_expect_str_eq(flags(JH_ARG_CLONE, 0), "0");

	uint64_t un[6] = {CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWTIME};
	cr_expect_str_eq(fmt("unshare", un, NULL), "CLONE_NEWNS|CLONE_NEWUSER|CLONE_NEWTIME");

	uint64_t k[6] = {1234, SIGKILL};
	cr_expect_str_eq(fmt("kill", k, NULL), "1234, SIGKILL");
	uint64_t k2[6] = {(uint64_t)-1, 0};
	cr_expect_str_eq(fmt("kill", k2, NULL), "-1, 0");
	cr_expect_str_eq(flags(JH_ARG_SIGNAL, 40), "SIGRT_8");
	cr_expect_str_eq(flags(JH_ARG_SIGNAL, 200), "200");

	uint64_t so[6] = {AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0};
	cr_expect_str_eq(fmt("socket", so, NULL), "AF_INET6, SOCK_STREAM|SOCK_CLOEXEC, 0");
	uint64_t so2[6] = {AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | 0x100000, 0};
	cr_expect_str_eq(fmt("socket", so2, NULL), "AF_UNIX, SOCK_DGRAM|SOCK_NONBLOCK|0x100000, 0");
	cr_expect_str_eq(flags(JH_ARG_FAMILY, 12345), "12345");
	uint64_t ac[6] = {3, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC};
	cr_expect_str_eq(fmt("accept4", ac, NULL), "3, NULL, NULL, SOCK_NONBLOCK|SOCK_CLOEXEC");

	uint64_t io[6] = {0, TIOCSTI, 0x7ffc00000010};
	cr_expect_str_eq(fmt("ioctl", io, NULL), "0, TIOCSTI, 0x7ffc00000010");
	cr_expect_str_eq(flags(JH_ARG_IOCTL, TCGETS), "TCGETS");
	cr_expect_str_eq(flags(JH_ARG_IOCTL, TIOCLINUX), "TIOCLINUX");
	cr_expect_str_eq(flags(JH_ARG_IOCTL, FIONREAD), "FIONREAD");
	cr_expect_str_eq(flags(JH_ARG_IOCTL, 0xc0de1234), "0xc0de1234");
}

Test(unit, numbers_modes_and_widths)
{
	cr_expect_str_eq(flags(JH_ARG_MODE, 0644), "0644");
	cr_expect_str_eq(flags(JH_ARG_MODE, 04755), "04755");
	cr_expect_str_eq(flags(JH_ARG_MODE, 0), "000");
	cr_expect_str_eq(flags(JH_ARG_MODE, 07), "007");
	cr_expect_str_eq(flags(JH_ARG_MODE, S_IFIFO | 0600), "S_IFIFO|0600");
	cr_expect_str_eq(flags(JH_ARG_INT, (uint64_t)-5), "-5");
	cr_expect_str_eq(flags(JH_ARG_INT, 0xffffffffULL), "-1");
	cr_expect_str_eq(flags(JH_ARG_UINT, 0xffffffffULL), "4294967295");
	cr_expect_str_eq(flags(JH_ARG_FD, 0x1234500000003ULL), "3");
	cr_expect_str_eq(flags(JH_ARG_SIZE, UINT64_MAX), "18446744073709551615");
	cr_expect_str_eq(flags(JH_ARG_LONG, (uint64_t)INT64_MIN), "-9223372036854775808");
	cr_expect_str_eq(flags(JH_ARG_LONG, 1ULL << 40), "1099511627776");
	cr_expect_str_eq(flags(JH_ARG_HEX, 0), "0");
	cr_expect_str_eq(flags(JH_ARG_HEX, 0xabc), "0xabc");
	cr_expect_str_eq(flags(JH_ARG_PTR, 0), "NULL");
	cr_expect_str_eq(flags(JH_ARG_PTR, UINT64_MAX), "0xffffffffffffffff");
	cr_expect_str_eq(flags(JH_ARG_PID, 42), "42");

	uint64_t none[6] = {1, 2, 3};
	cr_expect_str_eq(fmt("getpid", none, NULL), "");
	uint64_t ls[6] = {3, (uint64_t)-4096, SEEK_END};
	cr_expect_str_eq(fmt("lseek", ls, NULL), "3, -4096, 2");
}

Test(unit, strings_are_escaped)
{
	uint64_t args[6] = {FDCWD, 0x1000, O_RDONLY};
	const char *strs[6] = {NULL, "a\nb\"c\x1b[0m\\d\te\r\x7f\xff"};

	cr_expect_str_eq(fmt("openat", args, strs),
			 "AT_FDCWD, \"a\\nb\\\"c\\x1b[0m\\\\d\\te\\r\\x7f\\xff\", O_RDONLY");
	const char *ctl[6] = {NULL, "\x01\v\f"};
	cr_expect_str_eq(fmt("openat", args, ctl), "AT_FDCWD, \"\\x01\\v\\f\", O_RDONLY");
}

Test(unit, strings_longer_than_256_bytes_are_cut)
{
	char s[400], expect[600];
	uint64_t args[6] = {0x1000, 0x2000};
	const char *strs[6] = {s, s};

	/* Exactly 256: printed whole. */
	memset(s, 'a', 256);
	s[256] = '\0';
	strcpy(expect, "\"");
	strcat(expect, s);
	strcat(expect, "\", \"");
	strcat(expect, s);
	strcat(expect, "\"");
	cr_expect_str_eq(fmt("rename", args, strs), expect);

	/* 300: the first 256 bytes, then "...". */
	memset(s, 'a', 300);
	s[300] = '\0';
	memset(expect, 0, sizeof(expect));
	expect[0] = '"';
	memset(expect + 1, 'a', 256);
	strcat(expect, "\"..., \"");
	memset(expect + strlen(expect), 'a', 256);
	strcat(expect, "\"...");
	cr_expect_str_eq(fmt("rename", args, strs), expect);
}

Test(unit, output_never_passes_len_and_is_always_terminated)
{
	uint64_t args[6] = {FDCWD, 0x1000, O_WRONLY | O_CREAT | O_EXCL, 0600};
	const char *strs[6] = {NULL, "/tmp/\"quoted\"\n\x1b"};
	char full[256];
	size_t full_len = jh_abi_format_args(full, sizeof(full), sys("openat"), args, strs);
	char res_full[256];
	size_t res_len = jh_abi_format_result(res_full, sizeof(res_full), -1, EACCES);

	cr_assert_gt(full_len, 40);
	for (size_t len = 0; len <= 80; len++) {
		unsigned char buf[96];

		memset(buf, 0xa5, sizeof(buf));
		size_t n = jh_abi_format_args((char *)buf, len, sys("openat"), args, strs);
		for (size_t i = len; i < sizeof(buf); i++)
			cr_assert_eq(buf[i], 0xa5, "len %zu: byte %zu written", len, i);
		if (len == 0) {
			cr_expect_eq(n, 0);
			continue;
		}
		cr_assert_lt(n, len, "len %zu: returned %zu", len, n);
		cr_assert_eq(buf[n], '\0', "len %zu: not terminated", len);
		cr_assert_eq(n, JH_MIN(full_len, len - 1), "len %zu: returned %zu", len, n);
		cr_assert(memcmp(buf, full, n) == 0, "len %zu: not a prefix", len);

		memset(buf, 0xa5, sizeof(buf));
		n = jh_abi_format_result((char *)buf, len, -1, EACCES);
		for (size_t i = len; i < sizeof(buf); i++)
			cr_assert_eq(buf[i], 0xa5, "result, len %zu: byte %zu written", len, i);
		cr_assert_eq(n, JH_MIN(res_len, len - 1));
		cr_assert(memcmp(buf, res_full, n) == 0 && buf[n] == '\0');

		memset(buf, 0xa5, sizeof(buf));
		n = jh_abi_format_flags((char *)buf, len, JH_ARG_CLONE,
					CLONE_VM | CLONE_FS | CLONE_FILES | SIGCHLD);
		for (size_t i = len; i < sizeof(buf); i++)
			cr_assert_eq(buf[i], 0xa5, "flags, len %zu: byte %zu written", len, i);
		cr_assert_eq(buf[n], '\0');
	}
	/* No buffer at all. */
	cr_expect_eq(jh_abi_format_args(NULL, 0, sys("openat"), args, strs), 0);
	cr_expect_eq(jh_abi_format_args(NULL, 10, sys("openat"), args, strs), 0);
	char one[1] = {'x'};
	cr_expect_eq(jh_abi_format_args(one, sizeof(one), NULL, args, strs), 0);
	cr_expect_eq(one[0], '\0');
}

Test(unit, results_and_errno_names)
{
	cr_expect_str_eq(result(3, 0), "3");
	cr_expect_str_eq(result(0, 0), "0");
	cr_expect_str_eq(result(-2, 0), "-2");
	cr_expect_str_eq(result(-1, EPERM), "-1 EPERM (Operation not permitted)");
	cr_expect_str_eq(result(-1, ENOENT), "-1 ENOENT (No such file or directory)");
	cr_expect_str_eq(result(-1, -ENOSYS), "-1 ENOSYS (Function not implemented)");
	cr_expect_str_eq(result(-1, 512), "-1 ERESTARTSYS (To be restarted if SA_RESTART is set)");
	cr_expect_str_eq(result(-1, 4000), "-1 errno 4000");
	cr_expect_str_eq(result(-1, 41), "-1 errno 41");
}

/* strace's tail_alloc: a string whose last byte is the last byte before a
 * PROT_NONE page. Reading one byte too far kills the test. */
static char *page_tail(size_t n, char **base_out, size_t *map_len)
{
	long page = sysconf(_SC_PAGESIZE);
	char *base =
	    mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(base, MAP_FAILED);
	cr_assert_eq(mprotect(base + page, page, PROT_NONE), 0);
	*base_out = base;
	*map_len = 2 * page;
	return base + page - n;
}

Test(unit, strings_ending_at_a_guard_page_are_not_over_read)
{
	static const size_t lengths[] = {0, 1, 11, 255, 256, 257, 300, 1000};
	uint64_t args[6] = {FDCWD, 0x1000, O_RDONLY};
	char out[1024];

	for (size_t i = 0; i < N_ELEM(lengths); i++) {
		size_t n = lengths[i];
		char *base;
		size_t map_len;
		char *s = page_tail(n + 1, &base, &map_len);

		memset(s, 'p', n);
		s[n] = '\0';
		const char *strs[6] = {NULL, s};
		size_t w = jh_abi_format_args(out, sizeof(out), sys("openat"), args, strs);
		cr_expect_gt(w, 0);
		cr_expect_eq(strstr(out, "...") != NULL, n > 256, "length %zu", n);
		munmap(base, map_len);
	}

	/* Not even terminated: the cut at 256 bytes bounds the read to 257 bytes. */
	char *base;
	size_t map_len;
	char *s = page_tail(257, &base, &map_len);
	memset(s, 'q', 257);
	const char *strs[6] = {NULL, s};
	jh_abi_format_args(out, sizeof(out), sys("openat"), args, strs);
	cr_expect(strstr(out, "\"...") != NULL, "%s", out);
	munmap(base, map_len);
}
