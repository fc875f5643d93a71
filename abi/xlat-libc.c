/* Name lists whose values come from libc headers: address families and socket
 * types (the kernel's uapi does not export AF_*), and file types of a mode.
 * Kept apart from xlat-kernel.c because libc and uapi headers clash.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include "abi/abi-internal.h"

#define X(name) {(uint64_t)(name), #name},

static const struct jh_xlat af[] = {
#include "abi/xlat/af.h"
};
static const struct jh_xlat sock_type[] = {
#include "abi/xlat/socktype.h"
};
static const struct jh_xlat sock_flags[] = {
#include "abi/xlat/sockflags.h"
};
static const struct jh_xlat file_type[] = {
#include "abi/xlat/filetype.h"
};

#undef X

JH_XLAT_LIST(jh_xlat_af, af);
JH_XLAT_LIST(jh_xlat_sock_type, sock_type);
JH_XLAT_LIST(jh_xlat_sock_flags, sock_flags);
JH_XLAT_LIST(jh_xlat_file_type, file_type);

/* SOCK_TYPE_MASK is kernel-internal (include/linux/net.h); the types fit in it. */
const uint64_t jh_xlat_sock_type_mask = 0xf;
const uint64_t jh_xlat_s_ifmt = S_IFMT;
