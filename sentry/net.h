/* The sentry's network runtime (net.c): the policy in force for one run, the
 * DNS answerer's loopback sockets and thread, and the bookkeeping of sockets
 * whose DNS traffic it redirected. Internal to sentry/. */
#ifndef JH_SENTRY_NET_H
#define JH_SENTRY_NET_H

#include "audit/event.h"
#include "sentry/netpolicy.h"

struct jh_net;
struct jh_sentry;

/* Starts the network runtime for a run: takes `policy` (NULL: no network; not
 * owned, must outlive the run), pins the `--add-host` addresses and
 * pre-resolves the exact `--allow-host` names on the host, opens the DNS
 * answerer's sockets on loopback and starts its thread. Events for DNS
 * answers go to `sink`. Unix sockets below `workspace` (its host path; NULL:
 * none) may be connected to without a rule. */
int jh_net_new(struct jh_net_policy *policy, const struct jh_sink *sink, const char *workspace,
	       struct jh_net **ret);
/* Stops the DNS thread and frees everything. NULL is fine. */
void jh_net_free(struct jh_net *n);

/* The runtime of the sentry `s` (defined in sentry.c). */
struct jh_net *jh_sentry_net(const struct jh_sentry *s);

#endif
