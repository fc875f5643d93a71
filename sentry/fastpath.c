/* The seccomp filter spec: which calls pass natively and which reach the sentry.
 *
 * From the abi table: pass → allow; emulate and deny → intercepted (the
 * filter's default), so every refusal is recorded by the sentry. On top, a few
 * argument fast paths let harmless forms of an emulated syscall pass without a
 * round trip. They compare register arguments only (never memory), so they
 * cannot be raced:
 *
 *   clone        passes without namespace flags (fork, threads)
 *   personality  passes for the query (0xffffffff) and PER_LINUX
 *   seccomp      passes without SECCOMP_FILTER_FLAG_NEW_LISTENER
 *   ioctl        passes except TIOCSTI and TIOCLINUX
 *   sendto       passes without a destination address (send() on a connected
 *                socket: the peer was decided at connect)
 *   recvfrom     passes without a source-address buffer
 *   kill, getpgid, getsid, prlimit64, sched_set* ... (pids.c)
 *                passes when the target pid is 0: the caller itself
 *
 * `personality` and `ioctl` take an unsigned int: the kernel ignores the upper
 * 32 bits of the register, so the rules compare the low 32 bits only, or a task
 * could hide TIOCSTI as 0xffffffff00005412.
 *
 * "Pass unless the low 32 bits are one of a few values" is not expressible as
 * one libseccomp rule (no masked not-equal; one comparison per argument per
 * rule), so it is built as a union of bit cubes: for each bit on which all
 * refused values agree, "this bit differs" passes; the values that agree with
 * the refused ones on all those bits are then listed one by one. Pure code,
 * unit-tested by evaluating the rules against the refused values. */
#include "sentry/sentry-internal.h"

#include <errno.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "base/macro.h"

#define LO32 0xffffffffull

/* The most frequent passed calls of typical workloads, most frequent first. */
static const char *const hot_names[] = {
	"read",  "write",	"futex",      "mmap",	    "close",	"newfstatat", "fstat",
	"lseek", "openat",	"rt_sigprocmask", "munmap", "brk",	"mprotect",   "getpid",
	"poll",  "ppoll",	"epoll_wait", "pread64",   "readv",	"writev",     "getdents64",
};

struct spec_builder {
	struct jh_filter_rule *rules;
	size_t n, cap;
	int *hot;
	size_t nhot;
};

static int push(struct spec_builder *b, struct jh_filter_rule rule)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 512;
		struct jh_filter_rule *n = realloc(b->rules, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		b->rules = n;
		b->cap = cap;
	}
	b->rules[b->n++] = rule;
	return 0;
}

static int allow_if(struct spec_builder *b, int nr, int arg, uint64_t mask, uint64_t value)
{
	return push(b, (struct jh_filter_rule){
			       .nr = nr,
			       .action = JH_FILTER_ALLOW,
			       .arg = arg,
			       .mask = mask,
			       .value = value & mask,
		       });
}

/* Allows syscall `nr` unless the low 32 bits of argument `arg` equal one of
 * `refused[0..n)`. See the file comment. */
static int allow_unless_lo32(struct spec_builder *b, int nr, int arg, const uint32_t *refused,
			     size_t n)
{
	uint32_t agree = 0xffffffffu, free_bits, base;
	int r;

	for (size_t i = 1; i < n; i++)
		agree &= ~(refused[0] ^ refused[i]);
	base = refused[0] & agree;
	free_bits = ~agree;

	/* Cubes from the lowest bit up: typical values differ early. */
	for (unsigned k = 0; k < 32; k++) {
		uint32_t m = 1u << k;
		if (!(agree & m))
			continue;
		r = allow_if(b, nr, arg, m, ~base & m);
		if (r < 0)
			return r;
	}
	/* Every value agreeing on all `agree` bits: enumerate the free bits. */
	for (uint32_t s = 0;; s = (s - free_bits) & free_bits) {
		uint32_t v = base | s;
		bool bad = false;

		for (size_t i = 0; i < n; i++)
			bad |= v == refused[i];
		if (!bad) {
			r = allow_if(b, nr, arg, LO32, v);
			if (r < 0)
				return r;
		}
		if (s == free_bits)
			break;
	}
	return 0;
}

static int nr_of(const char *name)
{
	const struct jh_syscall_info *info = jh_abi_syscall_by_name(jh_abi_native_arch(), name);
	return info ? info->nr : -1;
}

static int add_fast_paths(struct spec_builder *b)
{
	static const uint32_t tty_refused[] = {TIOCSTI, TIOCLINUX};
	int nr, r;

	if ((nr = nr_of("clone")) >= 0 && (r = allow_if(b, nr, 0, JH_NS_CLONE_FLAGS, 0)) < 0)
		return r;
	if ((nr = nr_of("personality")) >= 0) {
		if ((r = allow_if(b, nr, 0, LO32, 0xffffffffu)) < 0)
			return r;
		if ((r = allow_if(b, nr, 0, LO32, 0 /* PER_LINUX */)) < 0)
			return r;
	}
	if ((nr = nr_of("seccomp")) >= 0 &&
	    (r = allow_if(b, nr, 1, SECCOMP_FILTER_FLAG_NEW_LISTENER, 0)) < 0)
		return r;
	/* Network: the address pointer (argument 4) is NULL (sentry/net.c). */
	if ((nr = nr_of("sendto")) >= 0 && (r = allow_if(b, nr, 4, ~0ull, 0)) < 0)
		return r;
	if ((nr = nr_of("recvfrom")) >= 0 && (r = allow_if(b, nr, 4, ~0ull, 0)) < 0)
		return r;
	/* Calls naming another process pass when they name the caller (0). */
	for (size_t i = 0; i < jh_abi_syscall_count(jh_abi_native_arch()); i++) {
		const struct jh_syscall_info *info = jh_abi_syscall_at(jh_abi_native_arch(), i);

		if (info->fate != JH_FATE_EMULATE || !info->handler)
			continue;
		if (strcmp(info->handler, "pid_arg0") == 0 || strcmp(info->handler, "kill") == 0) {
			r = allow_if(b, info->nr, 0, LO32, 0);
			if (r < 0)
				return r;
		}
	}
	if ((nr = nr_of("ioctl")) >= 0 &&
	    (r = allow_unless_lo32(b, nr, 1, tty_refused, JH_ARRAY_SIZE(tty_refused))) < 0)
		return r;
	return 0;
}

int jh_sentry_filter_spec(struct jh_filter_spec *ret)
{
	enum jh_arch arch = jh_abi_native_arch();
	struct spec_builder b = {0};
	int r = 0;

	for (size_t i = 0; i < jh_abi_syscall_count(arch) && r >= 0; i++) {
		const struct jh_syscall_info *info = jh_abi_syscall_at(arch, i);

		if (info->fate == JH_FATE_PASS)
			r = push(&b, (struct jh_filter_rule){
					     .nr = info->nr, .action = JH_FILTER_ALLOW, .arg = -1});
	}
	if (r >= 0)
		r = add_fast_paths(&b);
	if (r >= 0) {
		b.hot = calloc(JH_ARRAY_SIZE(hot_names), sizeof(int));
		if (!b.hot)
			r = -ENOMEM;
	}
	for (size_t i = 0; r >= 0 && i < JH_ARRAY_SIZE(hot_names); i++) {
		const struct jh_syscall_info *info = jh_abi_syscall_by_name(arch, hot_names[i]);
		if (info && info->fate == JH_FATE_PASS)
			b.hot[b.nhot++] = info->nr;
	}
	if (r < 0) {
		free(b.rules);
		free(b.hot);
		return r;
	}
	*ret = (struct jh_filter_spec){
		.rules = b.rules,
		.nrules = b.n,
		.hot = b.hot,
		.nhot = b.nhot,
	};
	return 0;
}

void jh_sentry_filter_spec_free(struct jh_filter_spec *spec)
{
	free((void *)spec->rules);
	free((void *)spec->hot);
	*spec = (struct jh_filter_spec){0};
}
