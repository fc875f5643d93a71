/* Probe for gen-defines.cmake: the native syscall numbers of the kernel
 * headers. On x86_64, <asm/unistd.h> gives the 64-bit set (unistd_64.h); the
 * i386 and x32 sets need __i386__ or __ILP32__. */
#include <asm/unistd.h>
