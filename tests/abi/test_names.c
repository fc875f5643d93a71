/* Names: errno (checked against every E* macro of <errno.h>), signals,
 * classes, fates, argument types, and the sanity of the xlat lists.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "abi/abi-internal.h"

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name;
	int val;
} libc_errnos[] = {
#include "libc-errno-gen.h"
};

Test(unit, every_libc_errno_has_a_name_and_round_trips)
{
	cr_assert_gt(N_ELEM(libc_errnos), 120);
	for (size_t i = 0; i < N_ELEM(libc_errnos); i++) {
		const char *name = libc_errnos[i].name;
		int val = libc_errnos[i].val;

		cr_expect_not_null(jh_abi_errno_name(val), "%s (%d) has no name", name, val);
		cr_expect_eq(jh_abi_errno_from_name(name), val, "%s does not map back to %d", name,
			     val);
		cr_expect_not_null(jh_abi_errno_desc(val), "%s has no description", name);
	}
}

Test(unit, errno_names_are_the_canonical_ones)
{
	cr_expect_str_eq(jh_abi_errno_name(EPERM), "EPERM");
	cr_expect_str_eq(jh_abi_errno_name(ENOENT), "ENOENT");
	cr_expect_str_eq(jh_abi_errno_name(ENOSYS), "ENOSYS");
	cr_expect_str_eq(jh_abi_errno_name(EAGAIN), "EAGAIN");
	cr_expect_str_eq(jh_abi_errno_name(EOPNOTSUPP), "EOPNOTSUPP");
	cr_expect_str_eq(jh_abi_errno_name(EHWPOISON), "EHWPOISON");
	cr_expect_str_eq(jh_abi_errno_name(512), "ERESTARTSYS");
	cr_expect_str_eq(jh_abi_errno_name(516), "ERESTART_RESTARTBLOCK");
	cr_expect_null(jh_abi_errno_name(0));
	cr_expect_null(jh_abi_errno_name(-1));
	cr_expect_null(jh_abi_errno_name(41)); /* a hole in the numbering */
	cr_expect_null(jh_abi_errno_name(4095));
	cr_expect_eq(jh_abi_errno_from_name("EWOULDBLOCK"), EAGAIN);
	cr_expect_eq(jh_abi_errno_from_name("ENOTSUP"), EOPNOTSUPP);
	cr_expect_eq(jh_abi_errno_from_name("ERESTARTNOINTR"), 513);
	cr_expect_eq(jh_abi_errno_from_name("EBOGUS"), -EINVAL);
	cr_expect_eq(jh_abi_errno_from_name(""), -EINVAL);
	cr_expect_eq(jh_abi_errno_from_name(NULL), -EINVAL);
	cr_expect_str_eq(jh_abi_errno_desc(EPERM), "Operation not permitted");
}

Test(unit, signal_names_use_kernel_numbering)
{
	cr_expect_str_eq(jh_abi_signal_name(SIGHUP), "SIGHUP");
	cr_expect_str_eq(jh_abi_signal_name(9), "SIGKILL");
	cr_expect_str_eq(jh_abi_signal_name(SIGCHLD), "SIGCHLD");
	cr_expect_str_eq(jh_abi_signal_name(SIGSYS), "SIGSYS");
	cr_expect_str_eq(jh_abi_signal_name(32), "SIGRTMIN");
	cr_expect_str_eq(jh_abi_signal_name(33), "SIGRT_1");
	cr_expect_str_eq(jh_abi_signal_name(64), "SIGRT_32");
	cr_expect_null(jh_abi_signal_name(0));
	cr_expect_null(jh_abi_signal_name(65));
	cr_expect_null(jh_abi_signal_name(-9));
	for (int sig = 1; sig <= 64; sig++) {
		const char *name = jh_abi_signal_name(sig);
		cr_expect_not_null(name, "signal %d has no name", sig);
		if (name)
			cr_expect_eq(jh_abi_signal_from_name(name), sig, "%s", name);
	}
	cr_expect_eq(jh_abi_signal_from_name("KILL"), 9);
	cr_expect_eq(jh_abi_signal_from_name("SIGIOT"), SIGABRT);
	cr_expect_eq(jh_abi_signal_from_name("SIGPOLL"), SIGIO);
	cr_expect_eq(jh_abi_signal_from_name("SIGNOPE"), -EINVAL);
	cr_expect_eq(jh_abi_signal_from_name(NULL), -EINVAL);
}

Test(unit, class_fate_and_argtype_names_round_trip)
{
	for (int c = 0; c < JH_CLASS_COUNT; c++)
		cr_expect_eq(jh_abi_class_from_name(jh_abi_class_name(c)), c, "class %d", c);
	for (int f = 0; f < JH_FATE_COUNT; f++)
		cr_expect_eq(jh_abi_fate_from_name(jh_abi_fate_name(f)), f, "fate %d", f);
	for (int t = 0; t < JH_ARG_COUNT; t++) {
		cr_expect_not_null(jh_abi_argtype_name(t), "argtype %d", t);
		cr_expect_eq(jh_abi_argtype_from_name(jh_abi_argtype_name(t)), t, "argtype %d", t);
	}
	cr_expect_str_eq(jh_abi_class_name(JH_CLASS_FILE), "file");
	cr_expect_str_eq(jh_abi_class_name(JH_CLASS_UNKNOWN), "unknown");
	cr_expect_str_eq(jh_abi_class_name(JH_CLASS_COUNT), "unknown");
	cr_expect_str_eq(jh_abi_fate_name(JH_FATE_DENY), "deny");
	cr_expect_str_eq(jh_abi_argtype_name(JH_ARG_OFLAGS), "oflags");
	cr_expect_eq(jh_abi_class_from_name("files"), -1);
	cr_expect_eq(jh_abi_fate_from_name("deny:ENOSYS"), -1);
	cr_expect_eq(jh_abi_argtype_from_name(NULL), -1);
}

static void expect_unique_values(const char *what, const struct jh_xlat_list *l)
{
	cr_expect_gt(l->n, 0, "%s is empty", what);
	for (size_t i = 0; i < l->n; i++)
		for (size_t k = i + 1; k < l->n; k++)
			cr_expect_neq(l->data[i].val, l->data[k].val, "%s: %s and %s share 0x%llx",
				      what, l->data[i].str, l->data[k].str,
				      (unsigned long long)l->data[i].val);
}

/* An entry whose bits an earlier entry takes (all of the earlier one's bits
 * are in it) would never be printed: composites (O_TMPFILE, O_SYNC) must come
 * before the bits they contain, not after. */
static void expect_reachable_bits(const char *what, const struct jh_xlat_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		uint64_t v = l->data[i].val;
		if (!v)
			continue;
		for (size_t k = 0; k < i; k++) {
			uint64_t e = l->data[k].val;
			cr_expect(!e || (v & e) != e,
				  "%s: %s is hidden behind %s, listed before it", what,
				  l->data[i].str, l->data[k].str);
		}
	}
}

Test(unit, xlat_lists_have_one_name_per_value)
{
	expect_unique_values("ioctl", &jh_xlat_ioctl);
	expect_unique_values("af", &jh_xlat_af);
	expect_unique_values("socktype", &jh_xlat_sock_type);
	expect_unique_values("filetype", &jh_xlat_file_type);
	expect_unique_values("mmap-type", &jh_xlat_mmap_type);
	expect_unique_values("open-access", &jh_xlat_open_access);
	expect_reachable_bits("open", &jh_xlat_open_flags);
	expect_reachable_bits("at", &jh_xlat_at_flags);
	expect_reachable_bits("at-access", &jh_xlat_at_access);
	expect_reachable_bits("clone", &jh_xlat_clone_flags);
	expect_reachable_bits("namespaces", &jh_xlat_ns_flags);
	expect_reachable_bits("prot", &jh_xlat_prot);
	expect_reachable_bits("mmap", &jh_xlat_mmap_flags);
	expect_reachable_bits("sockflags", &jh_xlat_sock_flags);
	/* The access mode and the exit signal are values, not bits of these lists. */
	for (size_t i = 0; i < jh_xlat_open_flags.n; i++)
		cr_expect_eq(jh_xlat_open_flags.data[i].val & jh_xlat_o_accmode, 0, "%s",
			     jh_xlat_open_flags.data[i].str);
	for (size_t i = 0; i < jh_xlat_clone_flags.n; i++)
		cr_expect_eq(jh_xlat_clone_flags.data[i].val & jh_xlat_csignal, 0, "%s",
			     jh_xlat_clone_flags.data[i].str);
}
