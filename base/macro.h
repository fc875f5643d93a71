/* Small shared helpers: cleanup attributes, ownership hand-off, array sizes.
 *
 * A function uses these cleanup helpers or `goto` cleanup, never both (clang
 * rejects jumps past cleanup variables). TAKE_PTR/TAKE_FD hand ownership on.
 */
#ifndef JH_BASE_MACRO_H
#define JH_BASE_MACRO_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define JH_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define JH_UNUSED __attribute__((unused))
#define JH_NORETURN __attribute__((noreturn))
#define JH_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define JH_LIKELY(x) __builtin_expect(!!(x), 1)
#define JH_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define JH_MIN(a, b) ((a) < (b) ? (a) : (b))
#define JH_MAX(a, b) ((a) > (b) ? (a) : (b))

static inline void jh_freep(void *p)
{
	free(*(void **)p);
}

/* Closes *fd if open and sets it to -1, so calling it twice is harmless. */
static inline void jh_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
		*fd = -1;
	}
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(jh_freep)
#define _cleanup_close_ _cleanup_(jh_closep)

/* Defines a cleanup function `name` that calls `fn(*p)` when *p is non-NULL. */
#define JH_DEFINE_TRIVIAL_CLEANUP(type, fn, name)                                                  \
	static inline void name(type *p)                                                           \
	{                                                                                          \
		if (*p)                                                                            \
			fn(*p);                                                                    \
	}

#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _tp = (p);                                                           \
		(p) = NULL;                                                                        \
		_tp;                                                                               \
	})

#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _tf = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_tf;                                                                               \
	})

/* Retries a call returning -1/errno on EINTR. */
#define JH_RETRY_EINTR(expr)                                                                       \
	({                                                                                         \
		__typeof__(expr) _r;                                                               \
		do                                                                                 \
			_r = (expr);                                                               \
		while (_r == -1 && errno == EINTR);                                                \
		_r;                                                                                \
	})

/* -errno of the last failed libc call, never 0. */
static inline int jh_negerrno(void)
{
	return errno > 0 ? -errno : -EIO;
}

#endif
