/* Name lists whose values come from the kernel's uapi headers.
 *
 * The decoder prints what the kernel receives, so values are taken from
 * <linux/...> and <asm/...>, not from libc: glibc defines O_LARGEFILE as 0 on
 * 64-bit targets and hides the kernel's __O_TMPFILE, and the bit positions of
 * O_DIRECTORY, O_NOFOLLOW, O_DIRECT and O_LARGEFILE differ between x86_64 and
 * aarch64. This file must not include libc's <fcntl.h>, <sys/mman.h> or
 * <termios.h>, which clash with these headers.
 */
#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <linux/fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/mman.h>
#include <linux/sched.h>
#include <linux/sockios.h>

#include "abi/abi-internal.h"

#define X(name) {(uint64_t)(name), #name},

static const struct jh_xlat open_access[] = {
#include "abi/xlat/open-access.h"
};
static const struct jh_xlat open_flags[] = {
#include "abi/xlat/open.h"
};
static const struct jh_xlat at_flags[] = {
#include "abi/xlat/at.h"
};
static const struct jh_xlat at_access[] = {
#include "abi/xlat/at-access.h"
};
static const struct jh_xlat clone_flags[] = {
#include "abi/xlat/clone.h"
};
static const struct jh_xlat ns_flags[] = {
#include "abi/xlat/namespaces.h"
};
static const struct jh_xlat prot[] = {
#include "abi/xlat/prot.h"
};
static const struct jh_xlat mmap_type[] = {
#include "abi/xlat/mmap-type.h"
};
static const struct jh_xlat mmap_flags[] = {
#include "abi/xlat/mmap.h"
};
static const struct jh_xlat ioctls[] = {
#include "abi/xlat/ioctl.h"
};

#undef X

JH_XLAT_LIST(jh_xlat_open_access, open_access);
JH_XLAT_LIST(jh_xlat_open_flags, open_flags);
JH_XLAT_LIST(jh_xlat_at_flags, at_flags);
JH_XLAT_LIST(jh_xlat_at_access, at_access);
JH_XLAT_LIST(jh_xlat_clone_flags, clone_flags);
JH_XLAT_LIST(jh_xlat_ns_flags, ns_flags);
JH_XLAT_LIST(jh_xlat_prot, prot);
JH_XLAT_LIST(jh_xlat_mmap_type, mmap_type);
JH_XLAT_LIST(jh_xlat_mmap_flags, mmap_flags);
JH_XLAT_LIST(jh_xlat_ioctl, ioctls);

const uint64_t jh_xlat_o_accmode = O_ACCMODE;
/* open(2) reads its mode only with these (fs/open.c build_open_how()). */
const uint64_t jh_xlat_o_mode_flags = O_CREAT | __O_TMPFILE;
const int jh_xlat_at_fdcwd = AT_FDCWD;
const uint64_t jh_xlat_csignal = CSIGNAL;
const uint64_t jh_xlat_map_type_mask = MAP_TYPE;
const unsigned jh_xlat_map_huge_shift = MAP_HUGE_SHIFT;
const uint64_t jh_xlat_map_huge_mask = MAP_HUGE_MASK;
