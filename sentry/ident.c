/* Identity handlers: what the sandbox learns about the machine.
 *
 * uname(2) reports a hostname that does not reveal the host (default
 * "jhansi"), and "(none)" as the NIS domain name, as a fresh UTS namespace
 * would. Release, version and machine are the host's: programs need them to
 * pick code paths, and they identify a kernel, not a machine.
 * sethostname/setdomainname are refused by the deny table. */
#include "sentry/sentry-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

static void handle_uname(struct jh_call *c)
{
	struct utsname u;
	int r;

	if (uname(&u) < 0) {
		jh_call_emulated(c, -1, EFAULT);
		return;
	}
	snprintf(u.nodename, sizeof(u.nodename), "%s", jh_sentry_hostname(c->s));
	memset(u.domainname, 0, sizeof(u.domainname));
	snprintf(u.domainname, sizeof(u.domainname), "(none)");
	r = c->ops->write(c->p, c->sc, c->sc->args[0], &u, sizeof(u));
	/* -ESRCH: the task is gone; the answer below is then dropped by the kernel. */
	jh_call_emulated(c, 0, r < 0 ? EFAULT : 0);
}

const struct jh_handler_entry jh_ident_handlers[] = {
	{"uname", handle_uname},
	{NULL, NULL},
};
