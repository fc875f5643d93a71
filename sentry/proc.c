/* Process-class handlers: the forms of clone, personality and seccomp that the
 * filter's fast paths did not pass. Decisions here look at register arguments
 * only, so answering "continue" for a harmless form is race-free. */
#include "sentry/sentry-internal.h"

#include <errno.h>
#include <linux/sched.h>
#include <linux/seccomp.h>

/* clone(2) with namespace flags: namespaces are the sentry's backstops, and a
 * task that makes its own could remap ids or mounts under us. The kernel would
 * answer EPERM to an unprivileged caller for most of them too. clone3 is
 * refused with ENOSYS by the table (its flags live in memory), and libc then
 * falls back to clone. */
static void handle_clone(struct jh_call *c)
{
	if (c->sc->args[0] & JH_NS_CLONE_FLAGS) {
		jh_call_deny(c, EPERM, "namespace creation");
		return;
	}
	jh_call_continue(c, NULL);
}

/* personality(2): the query and PER_LINUX pass in the filter. Any other
 * persona or flag (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE ...) weakens the
 * task's own protections and is refused. Linux would accept it; we answer
 * EPERM, as seccomp-based container runtimes do. */
static void handle_personality(struct jh_call *c)
{
	jh_call_deny(c, EPERM, "personality changes are refused");
}

/* seccomp(2) with SECCOMP_FILTER_FLAG_NEW_LISTENER: a second listener would let
 * the task answer its own calls. Under our listener the kernel says EBUSY
 * anyway; the ptrace platform has no listener, so refuse it for both. */
static void handle_seccomp(struct jh_call *c)
{
	if (c->sc->args[0] == SECCOMP_SET_MODE_FILTER &&
	    (c->sc->args[1] & SECCOMP_FILTER_FLAG_NEW_LISTENER)) {
		jh_call_deny(c, EPERM, "seccomp listener refused");
		return;
	}
	jh_call_continue(c, NULL);
}

const struct jh_handler_entry jh_proc_handlers[] = {
	{"clone", handle_clone},
	{"personality", handle_personality},
	{"seccomp", handle_seccomp},
	{NULL, NULL},
};
