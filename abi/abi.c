/* Syscall table lookups over the tables gen-syscalls wrote into
 * syscalls-gen.c: by number in O(1) (the sentry does this for every
 * notification), by name by binary search over a name-sorted index, and in
 * number order for building filters.
 */
#include <string.h>

#include "abi/abi-internal.h"

static const struct jh_abi_table *table(enum jh_arch arch)
{
	if ((unsigned)arch >= JH_ARCH_COUNT)
		return NULL;
	return &jh_abi_tables[arch];
}

const struct jh_syscall_info *jh_abi_syscall_by_nr(enum jh_arch arch, long nr)
{
	const struct jh_abi_table *t = table(arch);

	if (!t || nr < 0 || nr > t->max_nr)
		return NULL;
	int i = t->by_nr[nr];
	return i < 0 ? NULL : &t->sys[i];
}

const struct jh_syscall_info *jh_abi_syscall_by_name(enum jh_arch arch, const char *name)
{
	const struct jh_abi_table *t = table(arch);

	if (!t || !name)
		return NULL;
	size_t lo = 0, hi = t->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct jh_syscall_info *s = &t->sys[t->by_name[mid]];
		int c = strcmp(name, s->name);
		if (c == 0)
			return s;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

size_t jh_abi_syscall_count(enum jh_arch arch)
{
	const struct jh_abi_table *t = table(arch);
	return t ? t->count : 0;
}

const struct jh_syscall_info *jh_abi_syscall_at(enum jh_arch arch, size_t i)
{
	const struct jh_abi_table *t = table(arch);

	if (!t || i >= t->count)
		return NULL;
	return &t->sys[i];
}

int jh_abi_syscall_max_nr(enum jh_arch arch)
{
	const struct jh_abi_table *t = table(arch);
	return t ? t->max_nr : -1;
}

bool jh_abi_arg_is_string(const struct jh_syscall_info *info, unsigned i)
{
	if (!info || i >= info->nargs || i >= JH_SYSCALL_MAX_ARGS)
		return false;
	return info->argtype[i] == JH_ARG_PATH || info->argtype[i] == JH_ARG_STR;
}
