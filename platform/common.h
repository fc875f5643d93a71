/* Pieces both backends share (internal to platform/): task memory through
 * process_vm_readv/writev, the children of the supervisor, the wake signal. */
#ifndef JH_PLATFORM_COMMON_H
#define JH_PLATFORM_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Copies `len` bytes at `addr` of task `tid`: 0, -EFAULT (any byte
 * unreadable, or the range wraps), -ESRCH (no such task). No validity check
 * of the intercepted call: the caller does it. */
int jh_vm_read(pid_t tid, void *dst, uint64_t addr, size_t len);
/* Writes `len` bytes into task `tid` at `addr`: 0, -EFAULT, -ESRCH. */
int jh_vm_write(pid_t tid, uint64_t addr, const void *src, size_t len);
/* Copies the NUL-terminated string at `addr` into dst (capacity `cap`), page by
 * page as the kernel's strncpy_from_user does: a string ending just before an
 * unmapped page is read whole, one running into it gives -EFAULT. Returns its
 * length; -ENAMETOOLONG without a NUL within cap bytes (dst then holds a
 * NUL-terminated prefix); -EFAULT; -ESRCH. */
int jh_vm_read_string(pid_t tid, char *dst, size_t cap, uint64_t addr);

/* Fills pids[] with the supervisor's children (of every thread), leaving out
 * those in keep[]; returns how many (at most cap). */
size_t jh_list_children(const pid_t *keep, size_t nkeep, pid_t *pids, size_t cap);

/* Installs the handler of the signal that interrupts a blocked next() (no
 * SA_RESTART: the blocking call returns EINTR) and returns its number. */
int jh_wake_signal_install(void);

/* A timerfd (CLOCK_MONOTONIC, close-on-exec) that fires once after `ms`
 * milliseconds: supervise()'s --timeout. The fd or -errno. */
int jh_timeout_fd(int64_t ms);

#endif
