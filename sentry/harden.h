/* The sentry's own seccomp filter, installed once the sandbox is spawned.
 *
 * ARCHITECTURE.md: the sentry is "hardened after setup". From the moment the
 * gofer and the first task are forked, jhansi-exec never again runs a
 * program, makes or enters a namespace, mounts, loads a module or a BPF
 * program, or touches keyrings, userfaultfd, perf or io_uring; a bug in a
 * handler that a hostile task could steer (the sentry reads and parses its
 * memory all run long) then cannot be turned into any of those. */
#ifndef JH_SENTRY_HARDEN_H
#define JH_SENTRY_HARDEN_H

/* Installs the filter on every thread of the process (TSYNC; sets
 * PR_SET_NO_NEW_PRIVS). Refused calls fail with EPERM (clone3: ENOSYS, so
 * that libc falls back to clone, whose namespace flags are refused). 0 or
 * -errno. */
int jh_sentry_harden(void);

#endif
