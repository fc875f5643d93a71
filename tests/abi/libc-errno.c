/* Probe for gen-defines.cmake: every E* macro of libc's <errno.h>. */
#include <errno.h>
