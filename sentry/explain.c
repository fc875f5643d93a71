/* The fate table by class, for `jhansi-exec --explain`. */
#include "sentry/sentry.h"

#include <string.h>

#include "base/macro.h"

static void print_list(FILE *out, enum jh_arch arch, enum jh_class cls, enum jh_fate fate)
{
	size_t col = 0;
	unsigned n = 0;

	for (size_t i = 0; i < jh_abi_syscall_count(arch); i++) {
		const struct jh_syscall_info *info = jh_abi_syscall_at(arch, i);

		if (info->cls == cls && info->fate == fate)
			n++;
	}
	if (!n)
		return;
	fprintf(out, "    %-8s (%u):", jh_abi_fate_name(fate), n);
	col = 19;
	for (size_t i = 0; i < jh_abi_syscall_count(arch); i++) {
		const struct jh_syscall_info *info = jh_abi_syscall_at(arch, i);
		size_t len;

		if (info->cls != cls || info->fate != fate)
			continue;
		len = strlen(info->name) + 1;
		if (col + len > 100) {
			fputs("\n                  ", out);
			col = 18;
		}
		fprintf(out, " %s", info->name);
		col += len;
	}
	fputc('\n', out);
}

void jh_sentry_explain_fates(FILE *out)
{
	enum jh_arch arch = jh_abi_native_arch();

	fprintf(out, "fates by class (%s; unknown syscall numbers are refused with ENOSYS):\n",
		jh_abi_arch_name(arch));
	for (int cls = 0; cls < JH_CLASS_COUNT; cls++) {
		bool any = false;

		for (size_t i = 0; i < jh_abi_syscall_count(arch) && !any; i++)
			any = jh_abi_syscall_at(arch, i)->cls == (enum jh_class)cls;
		if (!any)
			continue;
		fprintf(out, "  %s\n", jh_abi_class_name((enum jh_class)cls));
		for (int f = 0; f < JH_FATE_COUNT; f++)
			print_list(out, arch, (enum jh_class)cls, (enum jh_fate)f);
	}
	fputs("  argument fast paths (pass without a round trip): clone without namespace flags;\n"
	      "    personality query and PER_LINUX; seccomp without NEW_LISTENER;\n"
	      "    ioctl other than TIOCSTI/TIOCLINUX (low 32 bits compared)\n",
	      out);
}
