/* errno and signal names, from the lists in abi/xlat/errno.h and
 * abi/xlat/signals.h. Lookups by value index a table built by the
 * preprocessor; nothing here allocates (the decoder calls it in the sentry's
 * hot path). Also linked into the build-time generator, which reads
 * "deny:ENOSYS" in syscalls.tsv.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "abi/abi-internal.h"
#include "base/macro.h"

struct errno_entry {
	int val;
	const char *name;
	const char *desc; /* only for kernel-internal values; libc describes the others */
};

/* Value -> name: every X and XKERNEL entry. */
static const struct errno_entry errnos[] = {
#define X(name) {name, #name, NULL},
#define XALIAS(name)
#define XKERNEL(name, val, desc) {val, #name, desc},
#include "abi/xlat/errno.h"
#undef X
#undef XALIAS
#undef XKERNEL
};

/* Name -> value also knows the aliases. */
static const struct errno_entry errno_aliases[] = {
#define X(name)
#define XALIAS(name) {name, #name, NULL},
#define XKERNEL(name, val, desc)
#include "abi/xlat/errno.h"
#undef X
#undef XALIAS
#undef XKERNEL
};

static const struct errno_entry *errno_find(int err)
{
	if (err <= 0)
		return NULL;
	for (size_t i = 0; i < JH_ARRAY_SIZE(errnos); i++)
		if (errnos[i].val == err)
			return &errnos[i];
	return NULL;
}

const char *jh_abi_errno_name(int err)
{
	const struct errno_entry *e = errno_find(err);
	return e ? e->name : NULL;
}

const char *jh_abi_errno_desc(int err)
{
	const struct errno_entry *e = errno_find(err);
	if (!e)
		return NULL;
	if (e->desc)
		return e->desc;
	/* strerrordesc_np() returns a constant string: no locale, no allocation. */
	return strerrordesc_np(err);
}

int jh_abi_errno_from_name(const char *name)
{
	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < JH_ARRAY_SIZE(errnos); i++)
		if (strcmp(errnos[i].name, name) == 0)
			return errnos[i].val;
	for (size_t i = 0; i < JH_ARRAY_SIZE(errno_aliases); i++)
		if (strcmp(errno_aliases[i].name, name) == 0)
			return errno_aliases[i].val;
	return -EINVAL;
}

/* The kernel's real-time signals start at 32 (libc's SIGRTMIN is a function
 * that skips the ones it reserves) and end at _NSIG = 64. */
#define KERNEL_SIGRTMIN 32
#define KERNEL_SIGRTMAX 64

static const char *const signal_names[KERNEL_SIGRTMAX + 1] = {
#define X(name) [name] = #name,
#define XALIAS(name)
#define XRT(n) [KERNEL_SIGRTMIN + n] = "SIGRT_" #n,
#include "abi/xlat/signals.h"
#undef X
#undef XALIAS
#undef XRT
    [KERNEL_SIGRTMIN] = "SIGRTMIN",
};

static const struct {
	int val;
	const char *name;
} signal_aliases[] = {
#define X(name)
#define XALIAS(name) {name, #name},
#define XRT(n)
#include "abi/xlat/signals.h"
#undef X
#undef XALIAS
#undef XRT
};

const char *jh_abi_signal_name(int sig)
{
	if (sig <= 0 || sig > KERNEL_SIGRTMAX)
		return NULL;
	return signal_names[sig];
}

int jh_abi_signal_from_name(const char *name)
{
	char buf[32];

	if (!name)
		return -EINVAL;
	if (strncmp(name, "SIG", 3) != 0) {
		size_t n = strlen(name);
		if (n + 4 > sizeof(buf))
			return -EINVAL;
		memcpy(buf, "SIG", 3);
		memcpy(buf + 3, name, n + 1);
		name = buf;
	}
	for (int i = 1; i <= KERNEL_SIGRTMAX; i++)
		if (signal_names[i] && strcmp(signal_names[i], name) == 0)
			return i;
	for (size_t i = 0; i < JH_ARRAY_SIZE(signal_aliases); i++)
		if (strcmp(signal_aliases[i].name, name) == 0)
			return signal_aliases[i].val;
	return -EINVAL;
}
