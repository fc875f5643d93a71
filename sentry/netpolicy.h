/* The network policy: which destinations the sandbox may reach.
 *
 * Pure code, no I/O: parsing rules (`--allow-net`, `--deny-net`,
 * `--allow-host`, `--add-host`, `--net host` and the same keys in a policy
 * file), normalising socket addresses, and deciding on a destination. The
 * sentry's net handlers (net.c) and its DNS answerer (dns.c) ask it; unit
 * tests drive it directly.
 *
 * Decision order for an IP destination (first match wins):
 *   1. always refused: cloud metadata (169.254.0.0/16, 100.100.100.200,
 *      fd00:ec2::254, 192.0.0.192, fe80::a9fe:a9fe) and the limited broadcast
 *      address, in any spelling (IPv4-mapped/-compatible IPv6, NAT64, 6to4);
 *   2. `--net host`: everything else is allowed;
 *   3. `--deny-net` rules;
 *   4. `--allow-net` rules (port-scoped). Without a network namespace of its
 *      own the sandbox shares the host's loopback: a loopback destination
 *      (127.0.0.0/8, ::1, and 0.0.0.0 / :: which Linux connects to loopback)
 *      is allowed only by a rule whose network lies inside loopback. With a
 *      namespace of its own (jh_net_policy_set_own_netns), loopback is the
 *      sandbox's own and allowed;
 *   5. addresses pinned for a name allowed by `--allow-host`, on the ports of
 *      that rule;
 *   6. refused: no network by default.
 *
 * Pins are the addresses the sentry's DNS answers handed out (or `--add-host`
 * gave): the first answer for a name is kept for the whole run, so a second,
 * different answer (DNS rebinding) cannot widen what is reachable. The pin
 * table is the only mutable part and is guarded by a mutex (the resolver
 * thread pins, the dispatcher checks). */
#ifndef JH_SENTRY_NETPOLICY_H
#define JH_SENTRY_NETPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JH_NET_NAME_MAX 253 /* longest DNS name, without the trailing dot */
#define JH_NET_WHY_MAX 256  /* room for a decision's explanation */

/* A normalised IP endpoint. IPv4 in any IPv6 spelling becomes AF_INET. */
struct jh_net_addr {
	int family;    /* AF_INET or AF_INET6 */
	uint8_t a[16]; /* AF_INET: bytes 0..3 */
	uint16_t port; /* host byte order */
};

struct jh_net_policy;

/* An empty policy: no network. */
int jh_net_policy_new(struct jh_net_policy **ret);
void jh_net_policy_free(struct jh_net_policy *p);

/* Adds one rule. `key` is one of "allow-net" (CIDR[:PORT[-PORT]], IPv6 as
 * [CIDR]:PORT; or unix:/PATH, unix:@ABSTRACT), "deny-net" (CIDR), "allow-host"
 * (NAME[:PORT[-PORT]], NAME may start with "*."), "add-host" (NAME=IP) or "net"
 * ("host" or "none"). Returns 0, or -EINVAL with *ret_error set to a static
 * message; -ENOSPC when a rule table is full. */
int jh_net_policy_add(struct jh_net_policy *p, const char *key, const char *value,
		      const char **ret_error);

/* Reads a policy file: one "KEY VALUE" per line ("KEY = VALUE" also works),
 * '#' starts a comment; keys as above. Unknown keys are errors. Returns 0, or
 * -EINVAL with *ret_line (1-based) and *ret_error set. */
int jh_net_policy_load(struct jh_net_policy *p, FILE *f, unsigned *ret_line,
		       const char **ret_error);

/* `--net host` was given. */
bool jh_net_policy_is_host(const struct jh_net_policy *p);
/* The sandbox has a network namespace of its own (loopback and abstract unix
 * sockets are then its own, not the host's: a loopback destination not
 * refused by a `--deny-net` rule is allowed). Default false. */
void jh_net_policy_set_own_netns(struct jh_net_policy *p, bool own);
bool jh_net_policy_own_netns(const struct jh_net_policy *p);
/* Whether the policy grants something that only the host's network namespace
 * holds, so that a namespace of the sandbox's own would cut it off (the
 * sentry performs calls on the task's own socket, which lives in the task's
 * namespace): `--net host`, an `--allow-net` network, an `--allow-host` name,
 * an `--add-host` name (answered by the sentry's DNS on the host's loopback)
 * or an abstract unix socket (`unix:@NAME`: abstract names are per
 * namespace). Pathname unix sockets (`unix:/PATH`) are found through the
 * filesystem and work from any namespace; `--deny-net` only narrows. When
 * true, *ret_why (may be NULL) names the first such rule kind. NULL (no
 * rules): false. */
bool jh_net_policy_needs_host_netns(const struct jh_net_policy *p, const char **ret_why);

/* Normalises the socket address `sa` of `len` bytes (AF_INET or AF_INET6).
 * IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64
 * (64:ff9b::/96) forms become AF_INET. -EAFNOSUPPORT for other families,
 * -EINVAL if `len` is too short for the family. */
int jh_net_addr_from_sockaddr(const void *sa, size_t len, struct jh_net_addr *ret);
/* Parses a numeric address (no port) into *ret (port 0), normalised. -EINVAL. */
int jh_net_addr_parse(const char *s, struct jh_net_addr *ret);
/* "10.1.2.3:80", "[2001:db8::1]:443"; without the port when with_port is false. */
void jh_net_addr_format(const struct jh_net_addr *a, bool with_port, char *buf, size_t len);

/* Decides a connection or datagram to `a` (normalised). Writes the rule that
 * decided (or why nothing did) into why[JH_NET_WHY_MAX], and the name the
 * address was pinned for, if that decided, into name[JH_NET_NAME_MAX + 1]
 * (empty otherwise). True to allow. */
bool jh_net_policy_check(struct jh_net_policy *p, const struct jh_net_addr *a, char *why,
			 char *name);

/* Whether `name` may be resolved: a metadata name is never, an `--allow-host`
 * pattern must match (any port), or `--net host`. `why` as above. */
bool jh_net_policy_name_allowed(const struct jh_net_policy *p, const char *name, char *why);

/* The `--add-host` addresses for `name`, at most `max`; returns how many. */
size_t jh_net_policy_static_hosts(const struct jh_net_policy *p, const char *name,
				  struct jh_net_addr *out, size_t max);

/* Pins `name` to `addrs` unless it is pinned already, then returns the pinned
 * set (the first one ever pinned) in `out`, at most `max`; returns how many
 * (0 when nothing is pinned and n == 0). Addresses that are always refused
 * are dropped. Thread-safe. */
size_t jh_net_policy_pin(struct jh_net_policy *p, const char *name, const struct jh_net_addr *addrs,
			 size_t n, struct jh_net_addr *out, size_t max);

/* The exact names of `--allow-host` rules (no wildcards), for pre-resolution:
 * calls fn for each. */
void jh_net_policy_each_exact_name(const struct jh_net_policy *p,
				   void (*fn)(const char *name, void *ctx), void *ctx);

/* Decides a unix socket connect or bind. `path` is the canonical path of the
 * socket file, or for an abstract socket the name after '@' with `abstract`
 * true. `own` is true when the sandbox itself bound that socket. */
bool jh_net_policy_check_unix(const struct jh_net_policy *p, const char *path, bool abstract,
			      bool own, char *why);

/* Lowercases `name`, drops one trailing dot; -EINVAL if it is empty, longer
 * than JH_NET_NAME_MAX, or has bytes outside [A-Za-z0-9._-] or empty labels.
 * `out` has room for JH_NET_NAME_MAX + 1. */
int jh_net_name_normalise(const char *name, char *out);

/* One line per rule, for --explain and the audit's policy record. */
void jh_net_policy_describe(const struct jh_net_policy *p, FILE *out);

#endif
