/* The argument decoder: syscall arguments and results as strace prints them,
 * for audit records and trace output.
 *
 * It runs in the sentry's hot path, on values the sandbox chose: it never
 * allocates, never reads task memory (strings arrive already copied), never
 * writes past the caller's buffer and always NUL-terminates it. Output that
 * does not fit is cut. Names come from the lists in abi/xlat/ (xlat-*.c);
 * values a list does not name are printed as numbers, so nothing is hidden.
 *
 * Argument widths follow the kernel's prototypes: an `int` argument is the low
 * 32 bits of the register (the kernel ignores the rest), `long`, `size_t` and
 * pointers are the whole register.
 */
#include <stdbool.h>
#include <string.h>

#include "abi/abi-internal.h"
#include "base/macro.h"

/* Strings are cut after this many bytes, like strace -s 256. */
#define STR_MAX 256

struct out {
	char *buf;
	size_t len;
	size_t pos; /* bytes written; always < len when len > 0 */
};

static void out_init(struct out *o, char *buf, size_t len)
{
	o->buf = buf;
	o->len = buf ? len : 0;
	o->pos = 0;
	if (o->len)
		o->buf[0] = '\0';
}

static size_t out_end(struct out *o)
{
	if (o->len)
		o->buf[o->pos] = '\0';
	return o->pos;
}

static void put_char(struct out *o, char c)
{
	if (o->pos + 1 < o->len)
		o->buf[o->pos++] = c;
}

static void put_str(struct out *o, const char *s)
{
	for (; *s; s++)
		put_char(o, *s);
}

static void put_uint_base(struct out *o, uint64_t v, unsigned base, unsigned min_digits)
{
	char digits[24]; /* 64 bits in octal: 22 digits */
	unsigned n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n < min_digits && n < sizeof(digits))
		digits[n++] = '0';
	while (n)
		put_char(o, digits[--n]);
}

static void put_udec(struct out *o, uint64_t v)
{
	put_uint_base(o, v, 10, 1);
}

static void put_dec(struct out *o, int64_t v)
{
	if (v < 0) {
		put_char(o, '-');
		put_udec(o, -(uint64_t)v);
	} else {
		put_udec(o, v);
	}
}

static void put_hex(struct out *o, uint64_t v)
{
	put_str(o, "0x");
	put_uint_base(o, v, 16, 1);
}

/* Octal as strace writes a mode (printf "%#03o"): 0644, 04755, 007, 000. */
static void put_oct(struct out *o, uint64_t v)
{
	put_char(o, '0');
	put_uint_base(o, v, 8, 2);
}

const char *jh_xlat_find(const struct jh_xlat_list *list, uint64_t val)
{
	for (size_t i = 0; i < list->n; i++)
		if (list->data[i].val == val)
			return list->data[i].str;
	return NULL;
}

/* Joins names with '|'. */
struct joiner {
	struct out *o;
	bool any;
};

static void join(struct joiner *j, const char *name)
{
	if (j->any)
		put_char(j->o, '|');
	put_str(j->o, name);
	j->any = true;
}

/* Names every entry of `list` whose bits are all set in *v, in list order, and
 * clears them from *v. */
static void join_bits(struct joiner *j, const struct jh_xlat_list *list, uint64_t *v)
{
	for (size_t i = 0; i < list->n && *v; i++) {
		uint64_t f = list->data[i].val;
		if (f && (*v & f) == f) {
			join(j, list->data[i].str);
			*v &= ~f;
		}
	}
}

/* Bits no list named, in hex; "0" when nothing at all was printed. */
static void join_rest(struct joiner *j, uint64_t v)
{
	if (v) {
		if (j->any)
			put_char(j->o, '|');
		put_hex(j->o, v);
		j->any = true;
	}
	if (!j->any)
		put_char(j->o, '0');
}

static void put_flags(struct out *o, const struct jh_xlat_list *list, uint64_t v)
{
	struct joiner j = {o, false};

	if (v == 0) {
		const char *zero = jh_xlat_find(list, 0);
		put_str(o, zero ? zero : "0");
		return;
	}
	join_bits(&j, list, &v);
	join_rest(&j, v);
}

/* A value with one name, else a number. */
static void put_exact_hex(struct out *o, const struct jh_xlat_list *list, uint64_t v)
{
	const char *name = jh_xlat_find(list, v);
	if (name)
		put_str(o, name);
	else
		put_hex(o, v);
}

static void put_exact_dec(struct out *o, const struct jh_xlat_list *list, int64_t v)
{
	const char *name = jh_xlat_find(list, (uint64_t)v);
	if (name)
		put_str(o, name);
	else
		put_dec(o, v);
}

static void put_signal(struct out *o, int sig)
{
	const char *name = jh_abi_signal_name(sig);
	if (name)
		put_str(o, name);
	else
		put_dec(o, sig);
}

static void put_open_flags(struct out *o, uint32_t v)
{
	struct joiner j = {o, true};
	uint64_t acc = v & jh_xlat_o_accmode;
	uint64_t rest = v & ~jh_xlat_o_accmode;

	/* The access mode is a value, not bits: O_RDONLY is 0 and always printed. */
	put_exact_hex(o, &jh_xlat_open_access, acc);
	join_bits(&j, &jh_xlat_open_flags, &rest);
	if (rest) {
		put_char(o, '|');
		put_hex(o, rest);
	}
}

/* mode_t: file type by name when present, permissions in octal (strace). */
static void put_mode(struct out *o, uint32_t v)
{
	uint64_t type = v & jh_xlat_s_ifmt;
	uint64_t perm = v & ~jh_xlat_s_ifmt;

	if (type) {
		put_exact_hex(o, &jh_xlat_file_type, type);
		put_char(o, '|');
	}
	put_oct(o, perm);
}

/* clone(2): flags, then the exit signal held in the low byte. */
static void put_clone_flags(struct out *o, uint64_t v)
{
	struct joiner j = {o, false};
	int sig = v & jh_xlat_csignal;
	uint64_t flags = v & ~jh_xlat_csignal;

	join_bits(&j, &jh_xlat_clone_flags, &flags);
	if (flags) {
		if (j.any)
			put_char(o, '|');
		put_hex(o, flags);
		j.any = true;
	}
	if (sig) {
		if (j.any)
			put_char(o, '|');
		put_signal(o, sig);
		j.any = true;
	}
	if (!j.any)
		put_char(o, '0');
}

static void put_mmap_flags(struct out *o, uint64_t v)
{
	struct joiner j = {o, false};
	uint64_t type = v & jh_xlat_map_type_mask;
	uint64_t huge = (v >> jh_xlat_map_huge_shift) & jh_xlat_map_huge_mask;
	uint64_t rest =
	    v & ~jh_xlat_map_type_mask & ~(jh_xlat_map_huge_mask << jh_xlat_map_huge_shift);

	if (type) {
		const char *name = jh_xlat_find(&jh_xlat_mmap_type, type);
		if (name) {
			join(&j, name);
		} else {
			put_hex(o, type);
			j.any = true;
		}
	}
	join_bits(&j, &jh_xlat_mmap_flags, &rest);
	if (huge) {
		/* MAP_HUGE_2MB is 21 << MAP_HUGE_SHIFT: log2 of the page size. */
		static const char *const units[] = {"B", "KB", "MB", "GB", "TB", "PB", "EB"};
		if (j.any)
			put_char(o, '|');
		put_str(o, "MAP_HUGE_");
		put_udec(o, UINT64_C(1) << (huge % 10));
		put_str(o, units[huge / 10 < JH_ARRAY_SIZE(units) ? huge / 10 : 0]);
		j.any = true;
	}
	join_rest(&j, rest);
}

static void put_socktype(struct out *o, uint32_t v)
{
	struct joiner j = {o, false};
	uint64_t type = v & jh_xlat_sock_type_mask;
	uint64_t flags = v & ~jh_xlat_sock_type_mask;

	/* accept4() passes only the flags: no type to print then. */
	if (type) {
		const char *name = jh_xlat_find(&jh_xlat_sock_type, type);
		if (name) {
			join(&j, name);
		} else {
			put_udec(o, type);
			j.any = true;
		}
	}
	join_bits(&j, &jh_xlat_sock_flags, &flags);
	join_rest(&j, flags);
}

/* Which of the lists sharing an argument type a syscall means. */
enum variant {
	VARIANT_DEFAULT,
	VARIANT_ACCESS,	    /* faccessat2: AT_EACCESS shares AT_REMOVEDIR's bit */
	VARIANT_NAMESPACES, /* unshare, setns: no exit signal in the low byte */
};

static void put_value(struct out *o, enum jh_argtype type, uint64_t v, enum variant variant)
{
	switch (type) {
	case JH_ARG_INT:
	case JH_ARG_FD:
	case JH_ARG_PID:
		put_dec(o, (int32_t)v);
		break;
	case JH_ARG_UINT:
		put_udec(o, (uint32_t)v);
		break;
	case JH_ARG_SIZE:
		put_udec(o, v);
		break;
	case JH_ARG_LONG:
		put_dec(o, (int64_t)v);
		break;
	case JH_ARG_HEX:
		if (v)
			put_hex(o, v);
		else
			put_char(o, '0');
		break;
	case JH_ARG_DIRFD:
		if ((int32_t)v == jh_xlat_at_fdcwd)
			put_str(o, "AT_FDCWD");
		else
			put_dec(o, (int32_t)v);
		break;
	case JH_ARG_OFLAGS:
		put_open_flags(o, (uint32_t)v);
		break;
	case JH_ARG_ATFLAGS:
		put_flags(o, variant == VARIANT_ACCESS ? &jh_xlat_at_access : &jh_xlat_at_flags,
			  (uint32_t)v);
		break;
	case JH_ARG_MODE:
		put_mode(o, (uint32_t)v);
		break;
	case JH_ARG_CLONE:
		if (variant == VARIANT_NAMESPACES)
			put_flags(o, &jh_xlat_ns_flags, v);
		else
			put_clone_flags(o, v);
		break;
	case JH_ARG_SIGNAL:
		put_signal(o, (int32_t)v);
		break;
	case JH_ARG_IOCTL:
		put_exact_hex(o, &jh_xlat_ioctl, (uint32_t)v);
		break;
	case JH_ARG_PROT:
		put_flags(o, &jh_xlat_prot, v);
		break;
	case JH_ARG_MMAP:
		put_mmap_flags(o, v);
		break;
	case JH_ARG_FAMILY:
		put_exact_dec(o, &jh_xlat_af, (int32_t)v);
		break;
	case JH_ARG_SOCKTYPE:
		put_socktype(o, (uint32_t)v);
		break;
	case JH_ARG_NONE:
	case JH_ARG_PTR:
	case JH_ARG_PATH:
	case JH_ARG_STR:
	case JH_ARG_COUNT:
	default:
		/* An address (a string that was not read is printed as its pointer). */
		if (v)
			put_hex(o, v);
		else
			put_str(o, "NULL");
		break;
	}
}

/* "...", escaped, cut after STR_MAX bytes. Reads s[i] only after s[0 .. i-1]
 * were found non-NUL, so a string ending at the end of a mapping is safe. */
static void put_quoted(struct out *o, const char *s)
{
	size_t i;

	put_char(o, '"');
	for (i = 0; i < STR_MAX && s[i]; i++) {
		unsigned char c = s[i];
		switch (c) {
		case '"':
			put_str(o, "\\\"");
			break;
		case '\\':
			put_str(o, "\\\\");
			break;
		case '\n':
			put_str(o, "\\n");
			break;
		case '\t':
			put_str(o, "\\t");
			break;
		case '\r':
			put_str(o, "\\r");
			break;
		case '\v':
			put_str(o, "\\v");
			break;
		case '\f':
			put_str(o, "\\f");
			break;
		default:
			if (c < 0x20 || c >= 0x7f) {
				put_str(o, "\\x");
				put_uint_base(o, c, 16, 2);
			} else {
				put_char(o, c);
			}
		}
	}
	put_char(o, '"');
	if (i == STR_MAX && s[i])
		put_str(o, "...");
}

static enum variant variant_of(const struct jh_syscall_info *info)
{
	if (!info->name)
		return VARIANT_DEFAULT;
	if (strcmp(info->name, "faccessat2") == 0)
		return VARIANT_ACCESS;
	if (strcmp(info->name, "unshare") == 0 || strcmp(info->name, "setns") == 0)
		return VARIANT_NAMESPACES;
	return VARIANT_DEFAULT;
}

size_t jh_abi_format_args(char *buf, size_t len, const struct jh_syscall_info *info,
			  const uint64_t args[JH_SYSCALL_MAX_ARGS],
			  const char *const strs[JH_SYSCALL_MAX_ARGS])
{
	struct out o;

	out_init(&o, buf, len);
	if (!info || !args)
		return out_end(&o);

	enum variant variant = variant_of(info);
	unsigned nargs = JH_MIN(info->nargs, JH_SYSCALL_MAX_ARGS);
	for (unsigned i = 0; i < nargs; i++) {
		/* After open flags come the mode (and mq_open's attributes), which
		 * the kernel reads only for O_CREAT or O_TMPFILE: strace leaves
		 * them out otherwise, and so do we. */
		if (i && info->argtype[i - 1] == JH_ARG_OFLAGS &&
		    !(args[i - 1] & jh_xlat_o_mode_flags))
			break;
		if (i)
			put_str(&o, ", ");
		if (strs && strs[i] && jh_abi_arg_is_string(info, i))
			put_quoted(&o, strs[i]);
		else
			put_value(&o, info->argtype[i], args[i], variant);
	}
	return out_end(&o);
}

size_t jh_abi_format_result(char *buf, size_t len, int64_t value, int err)
{
	struct out o;

	out_init(&o, buf, len);
	if (err == 0) {
		put_dec(&o, value);
		return out_end(&o);
	}

	/* Accept -errno as well as errno. */
	unsigned e = err < 0 ? -(unsigned)err : (unsigned)err;
	const char *name = e <= 4095 ? jh_abi_errno_name(e) : NULL;
	put_str(&o, "-1 ");
	if (!name) {
		put_str(&o, "errno ");
		put_udec(&o, e);
		return out_end(&o);
	}
	put_str(&o, name);
	const char *desc = jh_abi_errno_desc(e);
	if (desc) {
		put_str(&o, " (");
		put_str(&o, desc);
		put_char(&o, ')');
	}
	return out_end(&o);
}

size_t jh_abi_format_flags(char *buf, size_t len, enum jh_argtype type, uint64_t value)
{
	struct out o;

	out_init(&o, buf, len);
	put_value(&o, type, value, VARIANT_DEFAULT);
	return out_end(&o);
}
