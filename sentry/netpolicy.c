/* The network policy: rule parsing, address normalisation and the decision.
 * See netpolicy.h for the decision order. Pure code: no I/O beyond the FILE
 * handed to jh_net_policy_load(), no logging; rule tables are fixed-size
 * arrays so that a decision allocates nothing. */
#include "sentry/netpolicy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/macro.h"

#define MAX_CIDR 128
#define MAX_HOSTS 128
#define MAX_ADD 128
#define MAX_UNIX 32
#define MAX_PINS 1024
#define UNIX_PATH 108

struct cidr {
	struct jh_net_addr net; /* port unused */
	unsigned prefix;        /* bits */
	uint16_t lo, hi;        /* port range */
	char text[96];          /* as written, for explanations */
};

struct host_rule {
	char pattern[JH_NET_NAME_MAX + 1]; /* "api.example.com" or ".example.com" for "*.example.com" */
	bool wildcard;
	uint16_t lo, hi;
	char text[JH_NET_NAME_MAX + 16];
};

struct add_host {
	char name[JH_NET_NAME_MAX + 1];
	struct jh_net_addr addr;
};

struct unix_rule {
	char path[UNIX_PATH + 1]; /* path, a directory prefix ending in '/', or abstract name */
	bool abstract;
};

struct pin {
	char name[JH_NET_NAME_MAX + 1];
	struct jh_net_addr addr;
};

struct jh_net_policy {
	bool host;
	bool own_netns;
	struct cidr allow[MAX_CIDR], deny[MAX_CIDR];
	size_t nallow, ndeny;
	struct host_rule hosts[MAX_HOSTS];
	size_t nhosts;
	struct add_host adds[MAX_ADD];
	size_t nadds;
	struct unix_rule unixes[MAX_UNIX];
	size_t nunix;

	pthread_mutex_t lock; /* guards pins */
	struct pin *pins;     /* [MAX_PINS] */
	size_t npins;
};

/* Always refused, whatever the policy says: cloud metadata services. */
static const struct {
	const char *addr;
	unsigned prefix;
} metadata_nets[] = {
	{"169.254.0.0", 16},     /* link-local: AWS/GCP/Azure/OCI/DO metadata at .254, ECS at .170.2 */
	{"100.100.100.200", 32}, /* Alibaba Cloud */
	{"192.0.0.192", 32},     /* Oracle Cloud (classic) */
	{"fd00:ec2::254", 128},  /* AWS IMDS over IPv6 */
	{"fe80::a9fe:a9fe", 128},
	{"255.255.255.255", 32}, /* limited broadcast: the whole local segment */
};

static const char *const metadata_names[] = {
	"metadata.google.internal", "metadata.goog",	  "metadata", "instance-data",
	"instance-data.ec2.internal", "metadata.azure.internal", "metadata.packet.net",
	"metadata.platformequinix.com",
};

int jh_net_policy_new(struct jh_net_policy **ret)
{
	struct jh_net_policy *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->pins = calloc(MAX_PINS, sizeof(*p->pins));
	if (!p->pins) {
		free(p);
		return -ENOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	*ret = p;
	return 0;
}

void jh_net_policy_free(struct jh_net_policy *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p->pins);
	free(p);
}

bool jh_net_policy_is_host(const struct jh_net_policy *p)
{
	return p->host;
}

void jh_net_policy_set_own_netns(struct jh_net_policy *p, bool own)
{
	p->own_netns = own;
}

bool jh_net_policy_own_netns(const struct jh_net_policy *p)
{
	return p->own_netns;
}

bool jh_net_policy_needs_host_netns(const struct jh_net_policy *p, const char **ret_why)
{
	const char *why = NULL;

	if (!p)
		return false;
	if (p->host)
		why = "--net host";
	else if (p->nallow)
		why = "an --allow-net rule";
	else if (p->nhosts)
		why = "an --allow-host rule";
	else if (p->nadds)
		why = "an --add-host name (answered on the host's loopback)";
	else
		for (size_t i = 0; i < p->nunix && !why; i++)
			if (p->unixes[i].abstract)
				why = "an abstract unix socket rule (unix:@NAME)";
	if (why && ret_why)
		*ret_why = why;
	return why != NULL;
}

/* --- Addresses --- */

static void set_v4(struct jh_net_addr *a, const uint8_t *v4)
{
	uint8_t b[4];

	memcpy(b, v4, 4); /* v4 may point into a->a */
	a->family = AF_INET;
	memset(a->a, 0, sizeof(a->a));
	memcpy(a->a, b, 4);
}

/* IPv6 forms that carry an IPv4 address the kernel (or a NAT64 gateway)
 * delivers to: mapped, compatible (deprecated but still parsed), NAT64. */
static void normalise(struct jh_net_addr *a)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t zero12[12] = {0};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};

	if (a->family != AF_INET6)
		return;
	if (memcmp(a->a, mapped, 12) == 0 || memcmp(a->a, nat64, 12) == 0) {
		set_v4(a, a->a + 12);
		return;
	}
	/* ::a.b.c.d, but not :: and ::1 (unspecified and loopback) */
	if (memcmp(a->a, zero12, 12) == 0 && (a->a[12] | a->a[13] | a->a[14]) != 0)
		set_v4(a, a->a + 12);
}

int jh_net_addr_from_sockaddr(const void *sa, size_t len, struct jh_net_addr *ret)
{
	sa_family_t fam;
	struct jh_net_addr a = {0};

	if (len < sizeof(sa_family_t))
		return -EINVAL;
	memcpy(&fam, sa, sizeof(fam));
	if (fam == AF_INET) {
		struct sockaddr_in sin;
		if (len < sizeof(sin))
			return -EINVAL;
		memcpy(&sin, sa, sizeof(sin));
		a.family = AF_INET;
		memcpy(a.a, &sin.sin_addr, 4);
		a.port = ntohs(sin.sin_port);
	} else if (fam == AF_INET6) {
		struct sockaddr_in6 sin6;
		if (len < sizeof(sin6))
			return -EINVAL;
		memcpy(&sin6, sa, sizeof(sin6));
		a.family = AF_INET6;
		memcpy(a.a, &sin6.sin6_addr, 16);
		a.port = ntohs(sin6.sin6_port);
	} else
		return -EAFNOSUPPORT;
	normalise(&a);
	*ret = a;
	return 0;
}

int jh_net_addr_parse(const char *s, struct jh_net_addr *ret)
{
	struct jh_net_addr a = {0};

	if (inet_pton(AF_INET, s, a.a) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, a.a) == 1)
		a.family = AF_INET6;
	else
		return -EINVAL;
	normalise(&a);
	*ret = a;
	return 0;
}

void jh_net_addr_format(const struct jh_net_addr *a, bool with_port, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN] = "?";

	inet_ntop(a->family, a->a, s, sizeof(s));
	if (!with_port)
		snprintf(buf, len, "%s", s);
	else if (a->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", s, a->port);
	else
		snprintf(buf, len, "%s:%u", s, a->port);
}

static bool prefix_match(const uint8_t *x, const uint8_t *net, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(x, net, full) != 0)
		return false;
	if (rest) {
		uint8_t m = (uint8_t)(0xff00 >> rest);
		return (x[full] & m) == (net[full] & m);
	}
	return true;
}

static bool in_net(const struct jh_net_addr *a, const struct jh_net_addr *net, unsigned prefix)
{
	return a->family == net->family && prefix_match(a->a, net->a, prefix);
}

static bool is_metadata(const struct jh_net_addr *a)
{
	for (size_t i = 0; i < JH_ARRAY_SIZE(metadata_nets); i++) {
		struct jh_net_addr n;
		if (jh_net_addr_parse(metadata_nets[i].addr, &n) == 0 &&
		    in_net(a, &n, metadata_nets[i].prefix))
			return true;
	}
	return false;
}

/* The IPv4 address a 6to4 (2002:AABB:CCDD::/16) or Teredo (2001:0::/32,
 * client address inverted in the last 32 bits) address leads to, for the
 * always-refused check: a relay would deliver there. */
static bool embedded_v4(const struct jh_net_addr *a, struct jh_net_addr *ret)
{
	uint8_t v4[4];

	if (a->family != AF_INET6)
		return false;
	if (a->a[0] == 0x20 && a->a[1] == 0x02) {
		memcpy(v4, a->a + 2, 4);
	} else if (a->a[0] == 0x20 && a->a[1] == 0x01 && a->a[2] == 0 && a->a[3] == 0) {
		for (int i = 0; i < 4; i++)
			v4[i] = (uint8_t)~a->a[12 + i];
	} else
		return false;
	*ret = (struct jh_net_addr){.port = a->port};
	set_v4(ret, v4);
	return true;
}

static bool always_refused(const struct jh_net_addr *a)
{
	struct jh_net_addr e;

	if (is_metadata(a))
		return true;
	return embedded_v4(a, &e) && is_metadata(&e);
}

/* 0.0.0.0/8 and :: as destinations reach the local host (Linux routes an
 * unspecified destination to loopback): treat them as loopback. */
static void unspecified_to_loopback(struct jh_net_addr *a)
{
	static const uint8_t zero16[16] = {0};

	if (a->family == AF_INET && a->a[0] == 0) {
		a->a[0] = 127;
		a->a[1] = a->a[2] = 0;
		a->a[3] = 1;
	} else if (a->family == AF_INET6 && memcmp(a->a, zero16, 16) == 0)
		a->a[15] = 1;
}

static bool is_loopback(const struct jh_net_addr *a)
{
	static const uint8_t v6lo[16] = {[15] = 1};

	if (a->family == AF_INET)
		return a->a[0] == 127;
	return memcmp(a->a, v6lo, 16) == 0;
}

/* A rule "names" loopback when its whole network lies inside it. */
static bool rule_inside_loopback(const struct cidr *c)
{
	if (c->net.family == AF_INET)
		return c->prefix >= 8 && c->net.a[0] == 127;
	return c->prefix == 128 && is_loopback(&c->net);
}

/* --- Parsing --- */

static int parse_ports(const char *s, uint16_t *lo, uint16_t *hi)
{
	char *end;
	unsigned long a, b;

	if (!*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	a = strtoul(s, &end, 10);
	b = a;
	if (*end == '-') {
		if (!isdigit((unsigned char)end[1]))
			return -EINVAL;
		b = strtoul(end + 1, &end, 10);
	}
	if (*end || a < 1 || a > 65535 || b < a || b > 65535)
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

/* "CIDR[:PORTS]" or "[V6CIDR]:PORTS" or a bare IPv6 CIDR. */
static int parse_cidr(const char *value, bool ports_allowed, struct cidr *ret)
{
	char buf[96];
	const char *ports = NULL;
	char *slash, *addr = buf;
	struct cidr c = {.lo = 1, .hi = 65535};
	unsigned long prefix;

	if (strlen(value) >= sizeof(buf))
		return -EINVAL;
	snprintf(c.text, sizeof(c.text), "%s", value);
	strcpy(buf, value);
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		if (!close)
			return -EINVAL;
		*close = '\0';
		addr = buf + 1;
		if (close[1] == ':')
			ports = close + 2;
		else if (close[1])
			return -EINVAL;
	} else {
		char *colon = strchr(buf, ':');
		if (colon && !strchr(colon + 1, ':')) { /* exactly one colon: IPv4 with port */
			*colon = '\0';
			ports = colon + 1;
		}
	}
	if (ports && (!ports_allowed || parse_ports(ports, &c.lo, &c.hi) < 0))
		return -EINVAL;
	slash = strchr(addr, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, addr, c.net.a) == 1)
		c.net.family = AF_INET;
	else if (inet_pton(AF_INET6, addr, c.net.a) == 1)
		c.net.family = AF_INET6;
	else
		return -EINVAL;
	prefix = c.net.family == AF_INET ? 32 : 128;
	if (slash) {
		char *end;
		if (!isdigit((unsigned char)slash[1]))
			return -EINVAL;
		unsigned long v = strtoul(slash + 1, &end, 10);
		if (*end || v > prefix)
			return -EINVAL;
		prefix = v;
	}
	/* A rule written as ::ffff:10.0.0.0/104 means 10.0.0.0/8. */
	if (c.net.family == AF_INET6 && prefix >= 96) {
		struct jh_net_addr n = c.net;
		normalise(&n);
		if (n.family == AF_INET) {
			c.net = n;
			prefix -= 96;
		}
	}
	c.prefix = (unsigned)prefix;
	*ret = c;
	return 0;
}

int jh_net_name_normalise(const char *name, char *out)
{
	size_t len = strlen(name);
	bool label_empty = true;

	if (len && name[len - 1] == '.')
		len--;
	if (len == 0 || len > JH_NET_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch == '.') {
			if (label_empty)
				return -EINVAL;
			label_empty = true;
		} else if (isalnum(ch) || ch == '-' || ch == '_') {
			label_empty = false;
		} else
			return -EINVAL;
		out[i] = (char)tolower(ch);
	}
	if (label_empty)
		return -EINVAL;
	out[len] = '\0';
	return 0;
}

static int parse_host(const char *value, struct host_rule *ret)
{
	char buf[JH_NET_NAME_MAX + 16];
	struct host_rule h = {.lo = 1, .hi = 65535};
	char *colon, *name = buf;

	if (strlen(value) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, value);
	snprintf(h.text, sizeof(h.text), "%s", value);
	colon = strchr(buf, ':');
	if (colon) {
		*colon = '\0';
		if (parse_ports(colon + 1, &h.lo, &h.hi) < 0)
			return -EINVAL;
	}
	if (strncmp(name, "*.", 2) == 0) {
		h.wildcard = true;
		name += 2;
	}
	if (jh_net_name_normalise(name, h.pattern) < 0)
		return -EINVAL;
	*ret = h;
	return 0;
}

static bool host_matches(const struct host_rule *h, const char *name)
{
	size_t n, m;

	if (!h->wildcard)
		return strcmp(h->pattern, name) == 0;
	/* "*.example.com" matches any name below example.com, not example.com itself */
	n = strlen(name);
	m = strlen(h->pattern);
	return n > m + 1 && name[n - m - 1] == '.' && strcmp(name + n - m, h->pattern) == 0;
}

static bool is_metadata_name(const char *name)
{
	for (size_t i = 0; i < JH_ARRAY_SIZE(metadata_names); i++)
		if (strcmp(name, metadata_names[i]) == 0)
			return true;
	return false;
}

int jh_net_policy_add(struct jh_net_policy *p, const char *key, const char *value,
		      const char **ret_error)
{
	if (strcmp(key, "net") == 0) {
		if (strcmp(value, "host") == 0)
			p->host = true;
		else if (strcmp(value, "none") == 0)
			p->host = false;
		else
			return *ret_error = "expected 'host' or 'none'", -EINVAL;
		return 0;
	}
	if (strcmp(key, "allow-net") == 0 && strncmp(value, "unix:", 5) == 0) {
		struct unix_rule u = {0};
		const char *v = value + 5;

		if (p->nunix >= MAX_UNIX)
			return *ret_error = "too many unix socket rules", -ENOSPC;
		u.abstract = v[0] == '@';
		if (u.abstract)
			v++;
		if (!*v || strlen(v) > UNIX_PATH - 1 || (!u.abstract && v[0] != '/'))
			return *ret_error = "expected unix:/ABSOLUTE/PATH or unix:@ABSTRACT", -EINVAL;
		strcpy(u.path, v);
		p->unixes[p->nunix++] = u;
		return 0;
	}
	if (strcmp(key, "allow-net") == 0 || strcmp(key, "deny-net") == 0) {
		bool allow = key[0] == 'a';
		struct cidr c;

		if ((allow ? p->nallow : p->ndeny) >= MAX_CIDR)
			return *ret_error = "too many network rules", -ENOSPC;
		if (parse_cidr(value, allow, &c) < 0)
			return *ret_error = allow ? "expected CIDR[:PORT[-PORT]] ([IPv6/N]:PORT for IPv6)"
						  : "expected CIDR",
			       -EINVAL;
		if (allow)
			p->allow[p->nallow++] = c;
		else
			p->deny[p->ndeny++] = c;
		return 0;
	}
	if (strcmp(key, "allow-host") == 0) {
		struct host_rule h;

		if (p->nhosts >= MAX_HOSTS)
			return *ret_error = "too many host rules", -ENOSPC;
		if (parse_host(value, &h) < 0)
			return *ret_error = "expected NAME[:PORT[-PORT]] or *.DOMAIN[:PORT[-PORT]]", -EINVAL;
		p->hosts[p->nhosts++] = h;
		return 0;
	}
	if (strcmp(key, "add-host") == 0) {
		char buf[JH_NET_NAME_MAX + 64];
		struct add_host a;
		char *eq;

		if (p->nadds >= MAX_ADD)
			return *ret_error = "too many add-host entries", -ENOSPC;
		if (strlen(value) >= sizeof(buf))
			return *ret_error = "expected NAME=IP", -EINVAL;
		strcpy(buf, value);
		eq = strchr(buf, '=');
		if (!eq)
			return *ret_error = "expected NAME=IP", -EINVAL;
		*eq = '\0';
		if (jh_net_name_normalise(buf, a.name) < 0 || jh_net_addr_parse(eq + 1, &a.addr) < 0)
			return *ret_error = "expected NAME=IP", -EINVAL;
		p->adds[p->nadds++] = a;
		return 0;
	}
	*ret_error = "unknown key (allow-net, deny-net, allow-host, add-host, net)";
	return -EINVAL;
}

int jh_net_policy_load(struct jh_net_policy *p, FILE *f, unsigned *ret_line,
		       const char **ret_error)
{
	char line[1024];
	unsigned n = 0;

	while (fgets(line, sizeof(line), f)) {
		char *s = line, *key, *val, *hash, *end;
		int r;

		n++;
		if (!strchr(line, '\n') && !feof(f)) {
			*ret_line = n;
			*ret_error = "line too long";
			return -EINVAL;
		}
		hash = strchr(s, '#');
		if (hash)
			*hash = '\0';
		while (isspace((unsigned char)*s))
			s++;
		end = s + strlen(s);
		while (end > s && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (!*s)
			continue;
		key = s;
		while (*s && !isspace((unsigned char)*s) && *s != '=')
			s++;
		if (*s)
			*s++ = '\0';
		while (isspace((unsigned char)*s) || *s == '=')
			s++;
		val = s;
		if (!*val) {
			*ret_line = n;
			*ret_error = "missing value";
			return -EINVAL;
		}
		r = jh_net_policy_add(p, key, val, ret_error);
		if (r < 0) {
			*ret_line = n;
			return -EINVAL;
		}
	}
	return 0;
}

/* --- Decisions --- */

static bool port_in(uint16_t port, uint16_t lo, uint16_t hi)
{
	return port >= lo && port <= hi;
}

bool jh_net_policy_check(struct jh_net_policy *p, const struct jh_net_addr *orig, char *why,
			 char *name)
{
	struct jh_net_addr a = *orig;
	bool loop;

	name[0] = '\0';
	if (always_refused(&a)) {
		snprintf(why, JH_NET_WHY_MAX, "always refused: cloud metadata or broadcast address");
		return false;
	}
	if (p->host) {
		snprintf(why, JH_NET_WHY_MAX, "net host");
		return true;
	}
	unspecified_to_loopback(&a);
	loop = is_loopback(&a) && !p->own_netns;
	for (size_t i = 0; i < p->ndeny; i++)
		if (in_net(&a, &p->deny[i].net, p->deny[i].prefix)) {
			snprintf(why, JH_NET_WHY_MAX, "deny-net %s", p->deny[i].text);
			return false;
		}
	if (p->own_netns && is_loopback(&a)) {
		snprintf(why, JH_NET_WHY_MAX,
			 "the sandbox's own loopback (a network namespace of its own)");
		return true;
	}
	for (size_t i = 0; i < p->nallow; i++) {
		const struct cidr *c = &p->allow[i];
		if (in_net(&a, &c->net, c->prefix) && port_in(a.port, c->lo, c->hi) &&
		    (!loop || rule_inside_loopback(c))) {
			snprintf(why, JH_NET_WHY_MAX, "allow-net %s", c->text);
			return true;
		}
	}
	if (!loop) {
		pthread_mutex_lock(&p->lock);
		for (size_t i = 0; i < p->npins; i++) {
			const struct pin *pn = &p->pins[i];
			if (pn->addr.family != a.family || memcmp(pn->addr.a, a.a, 16) != 0)
				continue;
			for (size_t j = 0; j < p->nhosts; j++) {
				if (host_matches(&p->hosts[j], pn->name) &&
				    port_in(a.port, p->hosts[j].lo, p->hosts[j].hi)) {
					snprintf(why, JH_NET_WHY_MAX, "allow-host %.200s", p->hosts[j].text);
					snprintf(name, JH_NET_NAME_MAX + 1, "%s", pn->name);
					pthread_mutex_unlock(&p->lock);
					return true;
				}
			}
		}
		pthread_mutex_unlock(&p->lock);
	}
	if (loop)
		snprintf(why, JH_NET_WHY_MAX,
			 "host loopback: refused unless an allow-net rule names it");
	else
		snprintf(why, JH_NET_WHY_MAX, "no rule allows it (default: no network)");
	return false;
}

bool jh_net_policy_name_allowed(const struct jh_net_policy *p, const char *name, char *why)
{
	if (is_metadata_name(name)) {
		snprintf(why, JH_NET_WHY_MAX, "always refused: cloud metadata name");
		return false;
	}
	if (p->host) {
		snprintf(why, JH_NET_WHY_MAX, "net host");
		return true;
	}
	for (size_t j = 0; j < p->nhosts; j++)
		if (host_matches(&p->hosts[j], name)) {
			snprintf(why, JH_NET_WHY_MAX, "allow-host %.200s", p->hosts[j].text);
			return true;
		}
	snprintf(why, JH_NET_WHY_MAX, "no allow-host rule names it");
	return false;
}

size_t jh_net_policy_static_hosts(const struct jh_net_policy *p, const char *name,
				  struct jh_net_addr *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nadds && n < max; i++)
		if (strcmp(p->adds[i].name, name) == 0)
			out[n++] = p->adds[i].addr;
	return n;
}

size_t jh_net_policy_pin(struct jh_net_policy *p, const char *name, const struct jh_net_addr *addrs,
			 size_t n, struct jh_net_addr *out, size_t max)
{
	size_t got = 0;
	bool known = false;

	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->npins; i++)
		known |= strcmp(p->pins[i].name, name) == 0;
	if (!known) {
		for (size_t i = 0; i < n && p->npins < MAX_PINS; i++) {
			struct jh_net_addr a = addrs[i];
			bool dup = false;

			a.port = 0;
			if (always_refused(&a))
				continue;
			for (size_t k = 0; k < p->npins; k++)
				dup |= strcmp(p->pins[k].name, name) == 0 &&
				       p->pins[k].addr.family == a.family &&
				       memcmp(p->pins[k].addr.a, a.a, 16) == 0;
			if (dup)
				continue;
			snprintf(p->pins[p->npins].name, sizeof(p->pins[0].name), "%s", name);
			p->pins[p->npins].addr = a;
			p->npins++;
		}
	}
	for (size_t i = 0; i < p->npins && got < max; i++)
		if (strcmp(p->pins[i].name, name) == 0)
			out[got++] = p->pins[i].addr;
	pthread_mutex_unlock(&p->lock);
	return got;
}

void jh_net_policy_each_exact_name(const struct jh_net_policy *p,
				   void (*fn)(const char *name, void *ctx), void *ctx)
{
	for (size_t j = 0; j < p->nhosts; j++)
		if (!p->hosts[j].wildcard)
			fn(p->hosts[j].pattern, ctx);
}

bool jh_net_policy_check_unix(const struct jh_net_policy *p, const char *path, bool abstract,
			      bool own, char *why)
{
	for (size_t i = 0; i < p->nunix; i++) {
		const struct unix_rule *u = &p->unixes[i];
		size_t l = strlen(u->path);

		if (u->abstract != abstract)
			continue;
		if (strcmp(u->path, path) == 0 ||
		    (!abstract && l > 1 && u->path[l - 1] == '/' && strncmp(u->path, path, l) == 0)) {
			snprintf(why, JH_NET_WHY_MAX, "allow-net unix:%s%s", abstract ? "@" : "",
				 u->path);
			return true;
		}
	}
	if (p->host) {
		snprintf(why, JH_NET_WHY_MAX, "net host");
		return true;
	}
	if (own) {
		snprintf(why, JH_NET_WHY_MAX, "socket bound by the sandbox itself");
		return true;
	}
	if (abstract && p->own_netns) {
		snprintf(why, JH_NET_WHY_MAX, "abstract socket of the sandbox's own namespace");
		return true;
	}
	snprintf(why, JH_NET_WHY_MAX,
		 abstract ? "host abstract unix socket: refused unless an allow-net unix:@ rule names it"
			  : "unix socket outside the sandbox: refused unless an allow-net unix: rule "
			    "names it");
	return false;
}

void jh_net_policy_describe(const struct jh_net_policy *p, FILE *out)
{
	if (p->host)
		fprintf(out, "    net host: ESCAPE HATCH, every destination but cloud metadata\n");
	for (size_t i = 0; i < p->ndeny; i++)
		fprintf(out, "    deny-net %s\n", p->deny[i].text);
	for (size_t i = 0; i < p->nallow; i++)
		fprintf(out, "    allow-net %s\n", p->allow[i].text);
	for (size_t i = 0; i < p->nunix; i++)
		fprintf(out, "    allow-net unix:%s%s\n", p->unixes[i].abstract ? "@" : "",
			p->unixes[i].path);
	for (size_t i = 0; i < p->nhosts; i++)
		fprintf(out, "    allow-host %s\n", p->hosts[i].text);
	for (size_t i = 0; i < p->nadds; i++) {
		char s[64];
		jh_net_addr_format(&p->adds[i].addr, false, s, sizeof(s));
		fprintf(out, "    add-host %s=%s\n", p->adds[i].name, s);
	}
	if (!p->host && !p->nallow && !p->nhosts && !p->nunix)
		fprintf(out, "    (no rules: no network)\n");
}
