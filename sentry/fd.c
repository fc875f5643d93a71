/* Fd-class handlers: ioctl requests that reach the sentry.
 *
 * The filter passes every ioctl except TIOCSTI and TIOCLINUX (compared on the
 * low 32 bits, as the kernel reads the request). TIOCSTI pushes keystrokes into
 * a terminal's input queue; with the caller's terminal inherited on fds 0-2,
 * that would type commands into the user's shell after the run
 * (CVE-2017-5226). The sandbox also runs in its own session, so the kernel
 * would refuse TIOCSTI too; this is the second lock. */
#include "sentry/sentry-internal.h"

#include <errno.h>
#include <sys/ioctl.h>

static void handle_ioctl(struct jh_call *c)
{
	uint32_t req = (uint32_t)c->sc->args[1];

	if (req == TIOCSTI || req == TIOCLINUX) {
		jh_call_deny(c, EPERM, "terminal input injection");
		return;
	}
	jh_call_continue(c, NULL);
}

const struct jh_handler_entry jh_fd_handlers[] = {
	{"ioctl", handle_ioctl},
	{NULL, NULL},
};
