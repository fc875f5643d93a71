/* Compiles a jh_filter_spec into a classic BPF program with libseccomp.
 *
 * The program checks the architecture once (a foreign one, including x32 on
 * x86_64, kills the process), then tests syscall numbers as a binary tree
 * (SCMP_FLTATR_CTL_OPTIMIZE=2) with the hot ones prioritised. Whatever no rule
 * allows or refuses is intercepted (SECCOMP_RET_USER_NOTIF, or SECCOMP_RET_TRACE
 * for the ptrace backend): unknown and future
 * syscall numbers reach the sentry, which answers ENOSYS and records them.
 *
 * The program is exported to memory here, in the supervisor, and installed by
 * the spawned child with seccomp(2) directly, so that the child controls the
 * flags (SECCOMP_FILTER_FLAG_NEW_LISTENER) and does no libseccomp work. */
#include "platform/platform.h"

#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/macro.h"

JH_DEFINE_TRIVIAL_CLEANUP(scmp_filter_ctx, seccomp_release, seccomp_releasep)

static int add_rule(scmp_filter_ctx ctx, const struct jh_filter_rule *r)
{
	uint32_t action;

	switch (r->action) {
	case JH_FILTER_ALLOW:
		action = SCMP_ACT_ALLOW;
		break;
	case JH_FILTER_ERRNO:
		if (r->err <= 0 || r->err > 4095)
			return -EINVAL;
		action = SCMP_ACT_ERRNO((uint32_t)r->err);
		break;
	case JH_FILTER_INTERCEPT:
		/* the default action: nothing to add */
		return 0;
	default:
		return -EINVAL;
	}
	if (r->nr < 0)
		return -EINVAL;
	if (r->arg < 0)
		return seccomp_rule_add_exact(ctx, action, r->nr, 0);
	if (r->arg >= JH_SYSCALL_MAX_ARGS)
		return -EINVAL;
	return seccomp_rule_add_exact(
		ctx, action, r->nr, 1,
		SCMP_CMP((unsigned)r->arg, SCMP_CMP_MASKED_EQ, r->mask, r->value & r->mask));
}

int jh_filter_compile(const struct jh_filter_spec *spec, void **ret_prog, size_t *ret_len)
{
	return jh_filter_compile_ex(spec, JH_INTERCEPT_NOTIFY, ret_prog, ret_len);
}

static const struct jh_prebuilt_filter *prebuilt;
static size_t nprebuilt;

void jh_filter_register_prebuilt(const struct jh_prebuilt_filter *list, size_t n)
{
	prebuilt = list;
	nprebuilt = list ? n : 0;
}

static void fnv(uint64_t *h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		*h ^= p[i];
		*h *= 0x100000001b3ull;
	}
}

uint64_t jh_filter_spec_key(const struct jh_filter_spec *spec, enum jh_filter_intercept how)
{
	uint64_t h = 0xcbf29ce484222325ull;
	int32_t v = (int32_t)how;

	fnv(&h, &v, sizeof(v));
	for (size_t i = 0; i < spec->nrules; i++) {
		const struct jh_filter_rule *r = &spec->rules[i];
		int32_t f[4] = {r->nr, (int32_t)r->action, r->err, r->arg};
		uint64_t m[2] = {r->mask, r->value};

		fnv(&h, f, sizeof(f));
		fnv(&h, m, sizeof(m));
	}
	v = -1; /* separates rules from hot list */
	fnv(&h, &v, sizeof(v));
	for (size_t i = 0; i < spec->nhot; i++) {
		v = spec->hot[i];
		fnv(&h, &v, sizeof(v));
	}
	return h;
}

int jh_filter_compile_ex(const struct jh_filter_spec *spec, enum jh_filter_intercept how,
			 void **ret_prog, size_t *ret_len)
{
	if (nprebuilt) {
		uint64_t key = jh_filter_spec_key(spec, how);

		for (size_t i = 0; i < nprebuilt; i++) {
			void *copy;

			if (prebuilt[i].key != key)
				continue;
			copy = malloc(prebuilt[i].len * 8);
			if (!copy)
				return -ENOMEM;
			memcpy(copy, prebuilt[i].insns, prebuilt[i].len * 8);
			*ret_prog = copy;
			*ret_len = prebuilt[i].len;
			return 0;
		}
	}
	return jh_filter_compile_fresh(spec, how, ret_prog, ret_len);
}

int jh_filter_compile_fresh(const struct jh_filter_spec *spec, enum jh_filter_intercept how,
			    void **ret_prog, size_t *ret_len)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
	_cleanup_close_ int mfd = -1;
	_cleanup_free_ void *prog = NULL;
	struct stat st;
	ssize_t n;
	int r;

	/* RET_TRACE carries no data we rely on: the ptrace backend treats every
	 * seccomp stop as an interception, whichever filter produced it. */
	ctx = seccomp_init(how == JH_INTERCEPT_TRACE ? SCMP_ACT_TRACE(0) : SCMP_ACT_NOTIFY);
	if (!ctx)
		return -ENOMEM;
	/* Only the native architecture: i386 (int 0x80) and x32 kill. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		return r;
	/* The child sets NO_NEW_PRIVS itself before installing. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		return r;
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r < 0)
		return r;

	for (size_t i = 0; i < spec->nhot; i++) {
		r = seccomp_syscall_priority(ctx, spec->hot[i], (uint8_t)(255 - JH_MIN(i, 254)));
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < spec->nrules; i++) {
		r = add_rule(ctx, &spec->rules[i]);
		if (r < 0)
			return r;
	}

	mfd = memfd_create("jhansi-filter", MFD_CLOEXEC);
	if (mfd < 0)
		return jh_negerrno();
	r = seccomp_export_bpf(ctx, mfd);
	if (r < 0)
		return r;
	if (fstat(mfd, &st) < 0)
		return jh_negerrno();
	if (st.st_size <= 0 || st.st_size % 8 != 0 || st.st_size > 65536 * 8)
		return -E2BIG;
	prog = malloc((size_t)st.st_size);
	if (!prog)
		return -ENOMEM;
	n = pread(mfd, prog, (size_t)st.st_size, 0);
	if (n != st.st_size)
		return n < 0 ? jh_negerrno() : -EIO;

	*ret_len = (size_t)st.st_size / 8;
	*ret_prog = TAKE_PTR(prog);
	return 0;
}
