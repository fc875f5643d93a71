/* Net-class handlers: socket syscalls checked against the network policy
 * (network issue). Until they exist, socket syscalls keep the pass fate in
 * abi/syscalls.tsv and this registry is empty. */
#include "sentry/sentry-internal.h"

const struct jh_handler_entry jh_net_handlers[] = {
	{NULL, NULL},
};
