/* The sentry's DNS answerer: parses a query, answers allowed names with
 * their pinned addresses and everything else with NXDOMAIN. The message code
 * is pure (unit-tested on crafted packets); the server loop in dns.c serves
 * it on loopback UDP sockets for net.c, which redirects the sandbox's port-53
 * datagrams there. */
#ifndef JH_SENTRY_DNS_H
#define JH_SENTRY_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sentry/netpolicy.h"

#define JH_DNS_MAX_MSG 512    /* classic UDP limit; our answers always fit */
#define JH_DNS_MAX_ANSWERS 16

/* Looks `name` (normalised) up: returns the number of addresses written to
 * out[0..max) (all families), 0 with *allowed true for an allowed name without
 * addresses, or 0 with *allowed false for a refused name. `why` receives the
 * rule, JH_NET_WHY_MAX bytes. */
typedef size_t (*jh_dns_lookup_fn)(void *ctx, const char *name, struct jh_net_addr *out,
				   size_t max, bool *allowed, char *why);

/* Reads the (possibly compressed) name at *off of msg[0..len) into out
 * (JH_NET_NAME_MAX + 1 bytes, dotted, as sent) and advances *off past it.
 * -EINVAL for truncation, label or name overlong, pointer loops (more than
 * 16 jumps or a pointer not strictly backwards). */
int jh_dns_read_name(const uint8_t *msg, size_t len, size_t *off, char *out);

/* Answers the query q[0..qlen) into out[0..cap), cap >= JH_DNS_MAX_MSG.
 * Returns the answer's length; -EINVAL when the message gets no answer at all
 * (shorter than a header, or a response). Malformed questions get FORMERR,
 * other opcodes NOTIMP. *ret_name receives the normalised name asked for
 * (empty if none) and *ret_qtype its type, for the audit. */
int jh_dns_answer(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap, jh_dns_lookup_fn lookup,
		  void *ctx, char *ret_name, uint16_t *ret_qtype, char *why);

#endif
