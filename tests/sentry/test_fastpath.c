/* The filter spec the sentry builds: fates from the abi table, and the
 * argument fast paths, checked by evaluating the rules in C exactly as the
 * kernel's filter would (rules ORed, masked compare on one argument). */
#include <criterion/criterion.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "sentry/sentry.h"

static struct jh_filter_spec spec;

static void setup(void)
{
	cr_assert_eq(jh_sentry_filter_spec(&spec), 0);
}

static void teardown(void)
{
	jh_sentry_filter_spec_free(&spec);
}

static int nr(const char *name)
{
	const struct jh_syscall_info *i = jh_abi_syscall_by_name(jh_abi_native_arch(), name);
	cr_assert(i, "no syscall %s", name);
	return i->nr;
}

/* true if the filter passes the call natively */
static bool passes(int sysnr, const uint64_t args[6])
{
	for (size_t i = 0; i < spec.nrules; i++) {
		const struct jh_filter_rule *r = &spec.rules[i];
		if (r->nr != sysnr || r->action != JH_FILTER_ALLOW)
			continue;
		if (r->arg < 0 || (args[r->arg] & r->mask) == r->value)
			return true;
	}
	return false;
}

TestSuite(fastpath, .init = setup, .fini = teardown);

Test(fastpath, pass_fates_pass_and_the_rest_is_intercepted)
{
	uint64_t a[6] = {0};

	cr_assert(passes(nr("read"), a));
	cr_assert(passes(nr("getppid"), a));
	cr_assert_not(passes(nr("mount"), a));
	cr_assert_not(passes(nr("uname"), a));
	cr_assert_not(passes(nr("bpf"), a));
	cr_assert_not(passes(nr("clone3"), a));
}

Test(fastpath, clone_passes_only_without_namespace_flags)
{
	uint64_t fork_like[6] = {SIGCHLD};
	uint64_t thread[6] = {CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			      CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
			      CLONE_CHILD_CLEARTID};
	uint64_t vfork_like[6] = {CLONE_VM | CLONE_VFORK | SIGCHLD};
	const uint64_t ns[] = {CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
			       CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWCGROUP};

	cr_assert(passes(nr("clone"), fork_like));
	cr_assert(passes(nr("clone"), thread));
	cr_assert(passes(nr("clone"), vfork_like));
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		uint64_t a[6] = {SIGCHLD | ns[i]};
		cr_assert_not(passes(nr("clone"), a), "flag 0x%llx passed",
			      (unsigned long long)ns[i]);
	}
}

Test(fastpath, ioctl_refuses_tiocsti_and_tioclinux_whatever_the_upper_bits)
{
	const uint64_t hi[] = {0, 1ull << 32, 0xffffffff00000000ull, 0xdead000000000000ull};
	const uint32_t ok[] = {TCGETS, TCSETS, TIOCGWINSZ, TIOCSWINSZ, FIONREAD, FIONBIO, TIOCGPGRP,
			       TIOCSPGRP, 0x5410, 0x5414, 0x541e, 0, 0xffffffff, 0x80045430};

	for (size_t h = 0; h < sizeof(hi) / sizeof(hi[0]); h++) {
		uint64_t sti[6] = {0, hi[h] | TIOCSTI};
		uint64_t linux_[6] = {0, hi[h] | TIOCLINUX};
		cr_assert_not(passes(nr("ioctl"), sti));
		cr_assert_not(passes(nr("ioctl"), linux_));
	}
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t a[6] = {1, ok[i]};
		cr_assert(passes(nr("ioctl"), a), "ioctl 0x%x intercepted", ok[i]);
	}
	/* exhaustively: every request in the tty range around them */
	for (uint32_t v = 0x5400; v < 0x5500; v++) {
		uint64_t a[6] = {1, v};
		cr_assert_eq(passes(nr("ioctl"), a), v != TIOCSTI && v != TIOCLINUX, "0x%x", v);
	}
	/* and a pseudo-random sweep of the rest */
	srand(42);
	for (int i = 0; i < 200000; i++) {
		uint32_t v = (uint32_t)rand() ^ ((uint32_t)rand() << 16);
		uint64_t a[6] = {1, v};
		cr_assert_eq(passes(nr("ioctl"), a), v != TIOCSTI && v != TIOCLINUX, "0x%x", v);
	}
}

Test(fastpath, personality_passes_the_query_and_per_linux_only)
{
	uint64_t query[6] = {0xffffffff};
	uint64_t linux_[6] = {0};
	uint64_t rie[6] = {0x0400000 /* READ_IMPLIES_EXEC */};
	uint64_t hidden[6] = {0xffffffff00000000ull | 0x0040000 /* ADDR_NO_RANDOMIZE */};

	cr_assert(passes(nr("personality"), query));
	cr_assert(passes(nr("personality"), linux_));
	cr_assert_not(passes(nr("personality"), rie));
	cr_assert_not(passes(nr("personality"), hidden));
}

Test(fastpath, seccomp_passes_without_a_new_listener)
{
	uint64_t plain[6] = {SECCOMP_SET_MODE_FILTER, 0};
	uint64_t tsync[6] = {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC};
	uint64_t listener[6] = {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER};

	cr_assert(passes(nr("seccomp"), plain));
	cr_assert(passes(nr("seccomp"), tsync));
	cr_assert_not(passes(nr("seccomp"), listener));
}

Test(fastpath, hot_syscalls_are_passed_ones)
{
	cr_assert_gt(spec.nhot, 5);
	for (size_t i = 0; i < spec.nhot; i++) {
		const struct jh_syscall_info *info =
			jh_abi_syscall_by_nr(jh_abi_native_arch(), spec.hot[i]);
		cr_assert(info);
		cr_assert_eq(info->fate, JH_FATE_PASS, "%s", info->name);
	}
}

Test(resolve, finds_commands_like_execvp)
{
	char *envp[] = {"PATH=/nonexistent:/usr/bin:/bin", NULL};
	char *path = NULL;

	cr_assert_eq(jh_sentry_resolve_command("sh", envp, &path), 0);
	cr_assert(strstr(path, "/sh"));
	free(path);
	cr_assert_eq(jh_sentry_resolve_command("no-such-cmd-jh", envp, &path), -ENOENT);
	cr_assert_eq(jh_sentry_resolve_command("/etc/passwd", envp, &path), -EACCES);
	cr_assert_eq(jh_sentry_resolve_command("/etc", envp, &path), -EACCES);
	cr_assert_eq(jh_sentry_resolve_command("", envp, &path), -ENOENT);
}

/* Prebuilt filters (platform.h): a spec's key covers every rule, and the
 * compiler returns the registered program only for the spec it was built
 * from. */
TestSuite(prebuilt, .init = setup, .fini = teardown);

Test(prebuilt, the_key_changes_with_any_rule_and_the_intercept_kind)
{
	struct jh_filter_rule *copy = malloc(spec.nrules * sizeof(*copy));
	struct jh_filter_spec changed = spec;
	uint64_t base = jh_filter_spec_key(&spec, JH_INTERCEPT_NOTIFY);

	cr_assert(copy);
	cr_assert_eq(base, jh_filter_spec_key(&spec, JH_INTERCEPT_NOTIFY));
	cr_assert_neq(base, jh_filter_spec_key(&spec, JH_INTERCEPT_TRACE));
	memcpy(copy, spec.rules, spec.nrules * sizeof(*copy));
	changed.rules = copy;
	for (size_t i = 0; i < spec.nrules; i += 37) {
		copy[i].value ^= 1;
		cr_assert_neq(jh_filter_spec_key(&changed, JH_INTERCEPT_NOTIFY), base, "rule %zu", i);
		copy[i].value ^= 1;
		copy[i].action = copy[i].action == JH_FILTER_ALLOW ? JH_FILTER_INTERCEPT
								   : JH_FILTER_ALLOW;
		cr_assert_neq(jh_filter_spec_key(&changed, JH_INTERCEPT_NOTIFY), base, "rule %zu", i);
		copy[i] = spec.rules[i];
	}
	changed.nrules--;
	cr_assert_neq(jh_filter_spec_key(&changed, JH_INTERCEPT_NOTIFY), base);
	free(copy);
}

Test(prebuilt, a_registered_program_is_used_only_for_its_spec)
{
	void *fresh, *got;
	size_t nfresh, ngot;
	struct jh_prebuilt_filter pre;
	struct jh_filter_spec other = spec;

	cr_assert_eq(jh_filter_compile_fresh(&spec, JH_INTERCEPT_NOTIFY, &fresh, &nfresh), 0);
	/* a recognisable fake program: the compiler must hand it back as is */
	pre = (struct jh_prebuilt_filter){
		.key = jh_filter_spec_key(&spec, JH_INTERCEPT_NOTIFY),
		.insns = "\x06\0\0\0\0\0\xff\x7f", /* RET ALLOW */
		.len = 1,
	};
	jh_filter_register_prebuilt(&pre, 1);
	cr_assert_eq(jh_filter_compile(&spec, &got, &ngot), 0);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(memcmp(got, pre.insns, 8), 0);
	free(got);
	/* another spec (one rule less) is compiled afresh */
	other.nrules--;
	cr_assert_eq(jh_filter_compile(&other, &got, &ngot), 0);
	cr_assert_gt(ngot, 1);
	free(got);
	/* the trace kind of the same spec too */
	cr_assert_eq(jh_filter_compile_ex(&spec, JH_INTERCEPT_TRACE, &got, &ngot), 0);
	cr_assert_gt(ngot, 1);
	free(got);
	jh_filter_register_prebuilt(NULL, 0);
	free(fresh);
}
