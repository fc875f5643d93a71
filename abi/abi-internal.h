/* Internal interface of abi/: the generated syscall tables and the name lists
 * (xlat) the decoder prints from. Never included from outside abi/ (tests
 * excepted).
 */
#ifndef JH_ABI_ABI_INTERNAL_H
#define JH_ABI_ABI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "abi/abi.h"

/* One architecture's table, emitted by gen-syscalls into syscalls-gen.c. */
struct jh_abi_table {
	const struct jh_syscall_info *sys; /* in number order */
	size_t count;
	const int16_t *by_nr; /* [0 .. max_nr]: index into sys, -1 for a gap */
	int max_nr;
	const uint16_t *by_name; /* indices into sys, sorted by strcmp of the name */
};

extern const struct jh_abi_table jh_abi_tables[JH_ARCH_COUNT];

/* A value and its name; lists are searched in order, so composite flags
 * (O_TMPFILE, O_SYNC) come before the bits they contain. */
struct jh_xlat {
	uint64_t val;
	const char *str;
};

struct jh_xlat_list {
	const struct jh_xlat *data;
	size_t n;
};

#define JH_XLAT_LIST(name, array)                                                                  \
	const struct jh_xlat_list name = {array, sizeof(array) / sizeof(array[0])}

/* From the kernel's uapi headers (xlat-kernel.c): values as the kernel sees them,
 * which differ from libc's where libc hides a flag (O_LARGEFILE is 0 in glibc on
 * 64-bit targets). */
extern const struct jh_xlat_list jh_xlat_open_access; /* O_RDONLY, O_WRONLY, O_RDWR (exact) */
extern const struct jh_xlat_list jh_xlat_open_flags;  /* O_* minus the access mode */
extern const struct jh_xlat_list jh_xlat_at_flags;    /* AT_* in most *at() calls */
extern const struct jh_xlat_list jh_xlat_at_access;   /* AT_* of faccessat2 (AT_EACCESS) */
extern const struct jh_xlat_list jh_xlat_clone_flags; /* CLONE_* for clone(2) */
extern const struct jh_xlat_list jh_xlat_ns_flags;    /* CLONE_NEW* for unshare/setns */
extern const struct jh_xlat_list jh_xlat_prot;	      /* PROT_* */
extern const struct jh_xlat_list jh_xlat_mmap_type;   /* MAP_SHARED ... (exact) */
extern const struct jh_xlat_list jh_xlat_mmap_flags;  /* MAP_* bits */
extern const struct jh_xlat_list jh_xlat_ioctl;	      /* ioctl requests (exact) */
extern const uint64_t jh_xlat_o_accmode;
extern const uint64_t jh_xlat_o_mode_flags; /* O_CREAT | __O_TMPFILE */
extern const int jh_xlat_at_fdcwd;
extern const uint64_t jh_xlat_csignal;
extern const uint64_t jh_xlat_map_type_mask;
extern const unsigned jh_xlat_map_huge_shift;
extern const uint64_t jh_xlat_map_huge_mask;

/* From libc headers (xlat-libc.c). */
extern const struct jh_xlat_list jh_xlat_af;	     /* AF_* (exact) */
extern const struct jh_xlat_list jh_xlat_sock_type;  /* SOCK_STREAM ... (exact) */
extern const struct jh_xlat_list jh_xlat_sock_flags; /* SOCK_NONBLOCK, SOCK_CLOEXEC */
extern const struct jh_xlat_list jh_xlat_file_type;  /* S_IF* (exact) */
extern const uint64_t jh_xlat_sock_type_mask;
extern const uint64_t jh_xlat_s_ifmt;

/* Description of an errno value ("Operation not permitted"), NULL if unknown.
 * Does not allocate (errno.c). */
const char *jh_abi_errno_desc(int err);

/* Exact lookup in a list; NULL if absent. */
const char *jh_xlat_find(const struct jh_xlat_list *list, uint64_t val);

#endif
