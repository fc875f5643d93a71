/* Unit tests of the network policy (sentry/netpolicy.c) and the DNS answerer
 * (sentry/dns.c): pure code, crafted inputs. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sentry/dns.h"
#include "sentry/netpolicy.h"

static struct jh_net_policy *pol;

static void setup(void)
{
	cr_assert_eq(jh_net_policy_new(&pol), 0);
}

static void teardown(void)
{
	jh_net_policy_free(pol);
}

static void add(const char *key, const char *value)
{
	const char *err = NULL;
	cr_assert_eq(jh_net_policy_add(pol, key, value, &err), 0, "%s %s: %s", key, value, err);
}

static bool bad(const char *key, const char *value)
{
	const char *err = NULL;
	return jh_net_policy_add(pol, key, value, &err) < 0 && err;
}

/* Decides "ip:port" given as text (port separate). */
static bool allowed(const char *ip, unsigned port)
{
	struct jh_net_addr a;
	char why[JH_NET_WHY_MAX], name[JH_NET_NAME_MAX + 1];

	cr_assert_eq(jh_net_addr_parse(ip, &a), 0, "%s", ip);
	a.port = (uint16_t)port;
	return jh_net_policy_check(pol, &a, why, name);
}

static bool allowed_sockaddr6(const char *ip6, unsigned port)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
	struct jh_net_addr a;
	char why[JH_NET_WHY_MAX], name[JH_NET_NAME_MAX + 1];

	cr_assert_eq(inet_pton(AF_INET6, ip6, &sin6.sin6_addr), 1);
	cr_assert_eq(jh_net_addr_from_sockaddr(&sin6, sizeof(sin6), &a), 0);
	return jh_net_policy_check(pol, &a, why, name);
}

TestSuite(netpolicy, .init = setup, .fini = teardown);

Test(netpolicy, nothing_is_allowed_by_default)
{
	cr_assert_not(allowed("10.1.2.3", 80));
	cr_assert_not(allowed("2001:db8::1", 443));
	cr_assert_not(allowed("127.0.0.1", 8080));
}

Test(netpolicy, allow_net_is_port_scoped)
{
	add("allow-net", "10.0.0.0/8:443");
	add("allow-net", "192.0.2.7:8000-8010");
	add("allow-net", "[2001:db8::/32]:443");
	cr_assert(allowed("10.200.3.4", 443));
	cr_assert_not(allowed("10.200.3.4", 22));
	cr_assert_not(allowed("11.0.0.1", 443));
	cr_assert(allowed("192.0.2.7", 8005));
	cr_assert_not(allowed("192.0.2.7", 8011));
	cr_assert(allowed("2001:db8:1::5", 443));
	cr_assert_not(allowed("2001:db8:1::5", 80));
}

Test(netpolicy, metadata_is_refused_whatever_the_rules_in_every_spelling)
{
	add("allow-net", "0.0.0.0/0");
	add("allow-net", "::/0");
	add("net", "host");
	cr_assert_not(allowed("169.254.169.254", 80));
	cr_assert_not(allowed("169.254.169.253", 53));
	cr_assert_not(allowed("169.254.170.2", 80));
	cr_assert_not(allowed("100.100.100.200", 80));
	cr_assert_not(allowed("fd00:ec2::254", 80));
	cr_assert_not(allowed_sockaddr6("::ffff:169.254.169.254", 80));
	cr_assert_not(allowed_sockaddr6("::169.254.169.254", 80));
	cr_assert_not(allowed_sockaddr6("64:ff9b::a9fe:a9fe", 80)); /* NAT64 */
	cr_assert_not(allowed_sockaddr6("2002:a9fe:a9fe::1", 80)); /* 6to4 */
	cr_assert_not(allowed("255.255.255.255", 67));
	cr_assert(allowed("10.1.2.3", 80)); /* net host lets the rest through */
}

Test(netpolicy, ipv4_in_ipv6_is_decided_as_ipv4)
{
	add("allow-net", "10.1.2.3:80");
	add("deny-net", "10.9.0.0/16");
	add("allow-net", "10.0.0.0/8");
	cr_assert(allowed_sockaddr6("::ffff:10.1.2.3", 80));
	cr_assert_not(allowed_sockaddr6("::ffff:10.9.1.1", 80));
	cr_assert_not(allowed_sockaddr6("64:ff9b::a09:101", 80)); /* NAT64 of 10.9.1.1 */
	cr_assert_not(allowed("10.9.1.1", 80));
}

Test(netpolicy, host_loopback_needs_a_rule_naming_it)
{
	add("allow-net", "0.0.0.0/0");
	add("allow-net", "::/0");
	cr_assert_not(allowed("127.0.0.1", 5432));
	cr_assert_not(allowed("::1", 5432));
	cr_assert_not(allowed("0.0.0.0", 5432)); /* Linux connects that to loopback */
	cr_assert_not(allowed_sockaddr6("::", 5432));
	cr_assert_not(allowed_sockaddr6("::ffff:127.0.0.1", 5432));
	add("allow-net", "127.0.0.1:8080");
	cr_assert(allowed("127.0.0.1", 8080));
	cr_assert(allowed("0.0.0.0", 8080));
	cr_assert_not(allowed("127.0.0.1", 8081));
}

Test(netpolicy, own_netns_loopback_is_the_sandboxs)
{
	jh_net_policy_set_own_netns(pol, true);
	add("allow-net", "0.0.0.0/0");
	cr_assert(allowed("127.0.0.1", 5432));
}

Test(netpolicy, own_netns_loopback_needs_no_rule_but_deny_net_still_refuses_it)
{
	char why[JH_NET_WHY_MAX];

	cr_assert_not(jh_net_policy_own_netns(pol));
	cr_assert_not(allowed("127.0.0.1", 8080)); /* the host's: refused */
	jh_net_policy_set_own_netns(pol, true);
	cr_assert(jh_net_policy_own_netns(pol));
	cr_assert(allowed("127.0.0.1", 8080));
	cr_assert(allowed("127.255.0.9", 22));
	cr_assert(allowed("::1", 8080));
	cr_assert(allowed("0.0.0.0", 8080)); /* Linux connects it to loopback */
	cr_assert(allowed_sockaddr6("::ffff:127.0.0.1", 8080));
	/* everything else stays refused, metadata above all */
	cr_assert_not(allowed("10.1.2.3", 80));
	cr_assert_not(allowed("169.254.169.254", 80));
	cr_assert_not(allowed("255.255.255.255", 80));
	cr_assert(jh_net_policy_check_unix(pol, "anything", true, false, why)); /* its own */
	cr_assert_not(jh_net_policy_check_unix(pol, "/var/run/docker.sock", false, false, why));
	add("deny-net", "127.0.0.0/8");
	cr_assert_not(allowed("127.0.0.1", 8080));
}

Test(netpolicy, only_rules_that_reach_past_the_sandbox_need_the_hosts_network_namespace)
{
	static const char *const needs[][2] = {
		{"allow-net", "10.0.0.0/8"},  {"allow-net", "127.0.0.1:5432"},
		{"allow-host", "api.example.com:443"}, {"add-host", "db.test=10.1.2.3"},
		{"net", "host"},	      {"allow-net", "unix:@dbus"},
	};
	const char *why = NULL;

	cr_assert_not(jh_net_policy_needs_host_netns(NULL, &why)); /* no rules at all */
	cr_assert_not(jh_net_policy_needs_host_netns(pol, &why));
	cr_assert_null(why);
	/* narrowing, and a socket found through the filesystem: no */
	add("deny-net", "10.0.0.0/8");
	add("allow-net", "unix:/run/app.sock");
	add("net", "none");
	cr_assert_not(jh_net_policy_needs_host_netns(pol, &why));
	for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++) {
		jh_net_policy_free(pol);
		cr_assert_eq(jh_net_policy_new(&pol), 0);
		why = NULL;
		add(needs[i][0], needs[i][1]);
		cr_assert(jh_net_policy_needs_host_netns(pol, &why), "%s %s", needs[i][0],
			  needs[i][1]);
		cr_assert_not_null(why);
		cr_assert(jh_net_policy_needs_host_netns(pol, NULL));
	}
}

Test(netpolicy, bad_rules_are_rejected_with_a_message)
{
	cr_assert(bad("allow-net", "10.0.0.0/33"));
	cr_assert(bad("allow-net", "10.0.0.1:0"));
	cr_assert(bad("allow-net", "10.0.0.1:80-70"));
	cr_assert(bad("allow-net", "10.0.0.1:65536"));
	cr_assert(bad("allow-net", "example.com"));
	cr_assert(bad("allow-net", "[::1"));
	cr_assert(bad("allow-net", "unix:relative"));
	cr_assert(bad("deny-net", "10.0.0.0/8:80"));
	cr_assert(bad("allow-host", "bad host"));
	cr_assert(bad("allow-host", "a..b"));
	cr_assert(bad("allow-host", "x:http"));
	cr_assert(bad("add-host", "name"));
	cr_assert(bad("add-host", "name=not-an-ip"));
	cr_assert(bad("net", "bridge"));
	cr_assert(bad("allow-everything", "yes"));
}

static void pin(const char *name, const char *ip)
{
	struct jh_net_addr a, out[4];
	cr_assert_eq(jh_net_addr_parse(ip, &a), 0);
	jh_net_policy_pin(pol, name, &a, 1, out, 4);
}

Test(netpolicy, allow_host_allows_pinned_addresses_on_its_ports_only)
{
	struct jh_net_addr a;
	char why[JH_NET_WHY_MAX], name[JH_NET_NAME_MAX + 1];

	add("allow-host", "api.example.com:443");
	add("allow-host", "*.cdn.example.com");
	cr_assert_not(allowed("10.1.2.3", 443)); /* nothing pinned yet */
	pin("api.example.com", "10.1.2.3");
	cr_assert(allowed("10.1.2.3", 443));
	cr_assert_not(allowed("10.1.2.3", 22));
	jh_net_addr_parse("10.1.2.3", &a);
	a.port = 443;
	cr_assert(jh_net_policy_check(pol, &a, why, name));
	cr_assert_str_eq(name, "api.example.com");
	cr_assert(strstr(why, "allow-host api.example.com:443"), "%s", why);
	pin("a.b.cdn.example.com", "10.5.5.5");
	cr_assert(allowed("10.5.5.5", 22));
}

Test(netpolicy, wildcards_match_below_the_domain_only)
{
	char why[JH_NET_WHY_MAX];

	add("allow-host", "*.example.com");
	cr_assert(jh_net_policy_name_allowed(pol, "a.example.com", why));
	cr_assert(jh_net_policy_name_allowed(pol, "x.y.example.com", why));
	cr_assert_not(jh_net_policy_name_allowed(pol, "example.com", why));
	cr_assert_not(jh_net_policy_name_allowed(pol, "badexample.com", why));
	cr_assert_not(jh_net_policy_name_allowed(pol, "example.com.evil.net", why));
}

Test(netpolicy, metadata_names_are_never_resolved)
{
	char why[JH_NET_WHY_MAX];

	add("allow-host", "metadata.google.internal");
	add("net", "host");
	cr_assert_not(jh_net_policy_name_allowed(pol, "metadata.google.internal", why));
	cr_assert_not(jh_net_policy_name_allowed(pol, "metadata", why));
}

Test(netpolicy, pins_are_first_answer_wins_so_rebinding_cannot_widen)
{
	struct jh_net_addr a, b, out[4];
	size_t n;

	add("allow-host", "rebind.test");
	jh_net_addr_parse("10.1.2.3", &a);
	jh_net_addr_parse("10.6.6.6", &b);
	n = jh_net_policy_pin(pol, "rebind.test", &a, 1, out, 4);
	cr_assert_eq(n, 1);
	n = jh_net_policy_pin(pol, "rebind.test", &b, 1, out, 4);
	cr_assert_eq(n, 1);
	cr_assert_eq(memcmp(out[0].a, a.a, 4), 0, "second answer replaced the pin");
	cr_assert_not(allowed("10.6.6.6", 80));
	cr_assert(allowed("10.1.2.3", 80));
}

Test(netpolicy, metadata_answers_are_never_pinned)
{
	struct jh_net_addr a, out[4];

	add("allow-host", "evil.test");
	jh_net_addr_parse("169.254.169.254", &a);
	cr_assert_eq(jh_net_policy_pin(pol, "evil.test", &a, 1, out, 4), 0);
	cr_assert_not(allowed("169.254.169.254", 80));
}

Test(netpolicy, unix_sockets_need_a_rule)
{
	char why[JH_NET_WHY_MAX];

	cr_assert_not(jh_net_policy_check_unix(pol, "/var/run/docker.sock", false, false, why));
	cr_assert_not(jh_net_policy_check_unix(pol, "/tmp/.X11-unix/X0", true, false, why));
	cr_assert(jh_net_policy_check_unix(pol, "/work/ws/app.sock", false, true, why));
	add("allow-net", "unix:/run/app/");
	add("allow-net", "unix:@myname");
	cr_assert(jh_net_policy_check_unix(pol, "/run/app/x.sock", false, false, why));
	cr_assert_not(jh_net_policy_check_unix(pol, "/run/application.sock", false, false, why));
	cr_assert(jh_net_policy_check_unix(pol, "myname", true, false, why));
	cr_assert_not(jh_net_policy_check_unix(pol, "myname", false, false, why));
}

Test(netpolicy, policy_file_with_comments_and_errors_by_line)
{
	const char *text = "# network\n"
			   "allow-host api.example.com:443   # the API\n"
			   "allow-net = 10.0.0.0/8:80\n"
			   "\n"
			   "add-host api.example.com=10.1.2.3\n";
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	unsigned line = 0;
	const char *err = NULL;

	cr_assert_eq(jh_net_policy_load(pol, f, &line, &err), 0, "%u: %s", line, err);
	fclose(f);
	cr_assert(allowed("10.3.3.3", 80));
	text = "allow-net 10.0.0.0/8\nallow-net nonsense\n";
	f = fmemopen((void *)text, strlen(text), "r");
	cr_assert_eq(jh_net_policy_load(pol, f, &line, &err), -EINVAL);
	fclose(f);
	cr_assert_eq(line, 2);
}

Test(netpolicy, short_or_foreign_sockaddrs_are_refused)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct jh_net_addr a;
	uint16_t fam = AF_UNIX;

	cr_assert_eq(jh_net_addr_from_sockaddr(&sin, sizeof(sin) - 1, &a), -EINVAL);
	cr_assert_eq(jh_net_addr_from_sockaddr(&fam, sizeof(fam), &a), -EAFNOSUPPORT);
	cr_assert_eq(jh_net_addr_from_sockaddr(&fam, 1, &a), -EINVAL);
}

/* --- DNS --- */

static size_t fake_lookup(void *ctx, const char *name, struct jh_net_addr *out, size_t max,
			  bool *allowed_, char *why)
{
	(void)ctx;
	snprintf(why, JH_NET_WHY_MAX, "test");
	*allowed_ = strcmp(name, "api.test") == 0;
	if (!*allowed_ || max < 2)
		return 0;
	jh_net_addr_parse("10.1.2.3", &out[0]);
	jh_net_addr_parse("2001:db8::7", &out[1]);
	return 2;
}

/* A query for `name`, type `qtype`, into buf; returns its length. */
static size_t make_query(uint8_t *buf, const char *name, uint16_t qtype)
{
	size_t pos = 12;
	const char *s = name;

	memset(buf, 0, 12);
	buf[0] = 0x12;
	buf[1] = 0x34;
	buf[2] = 0x01; /* RD */
	buf[5] = 1;
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		buf[pos++] = (uint8_t)l;
		memcpy(buf + pos, s, l);
		pos += l;
		s += l + (dot ? 1 : 0);
	}
	buf[pos++] = 0;
	buf[pos++] = (uint8_t)(qtype >> 8);
	buf[pos++] = (uint8_t)qtype;
	buf[pos++] = 0;
	buf[pos++] = 1;
	return pos;
}

static int answer(const uint8_t *q, size_t len, uint8_t *out)
{
	char name[JH_NET_NAME_MAX + 1], why[JH_NET_WHY_MAX];
	uint16_t qt;
	return jh_dns_answer(q, len, out, JH_DNS_MAX_MSG, fake_lookup, NULL, name, &qt, why);
}

Test(dns, allowed_name_gets_its_addresses_by_type)
{
	uint8_t q[512], a[JH_DNS_MAX_MSG];
	size_t n = make_query(q, "API.test", 1);
	int r = answer(q, n, a);

	cr_assert_gt(r, (int)n);
	cr_assert_eq(a[0], 0x12);
	cr_assert_eq(a[1], 0x34);
	cr_assert(a[2] & 0x80, "QR set");
	cr_assert_eq(a[3] & 0xf, 0);
	cr_assert_eq(a[7], 1, "one A record");
	cr_assert_eq(memcmp(a + r - 4, "\x0a\x01\x02\x03", 4), 0);
	n = make_query(q, "api.test", 28);
	r = answer(q, n, a);
	cr_assert_eq(a[7], 1, "one AAAA record");
	n = make_query(q, "api.test", 16); /* TXT: no data, not an error */
	r = answer(q, n, a);
	cr_assert_eq(a[3] & 0xf, 0);
	cr_assert_eq(a[7], 0);
}

Test(dns, other_names_get_nxdomain)
{
	uint8_t q[512], a[JH_DNS_MAX_MSG];
	size_t n = make_query(q, "evil.test", 1);

	answer(q, n, a);
	cr_assert_eq(a[3] & 0xf, 3);
	cr_assert_eq(a[7], 0);
}

Test(dns, truncated_and_bogus_queries_never_overread)
{
	uint8_t q[512], a[JH_DNS_MAX_MSG];
	size_t n = make_query(q, "api.test", 1);
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);

	cr_assert_neq(map, MAP_FAILED);
	mprotect(map + page, (size_t)page, PROT_NONE);
	/* every prefix, placed to end at a guard page */
	for (size_t len = 0; len < n; len++) {
		uint8_t *p = map + page - len;
		memcpy(p, q, len);
		int r = answer(p, len, a);
		if (len < 12)
			cr_assert_eq(r, -EINVAL);
		else
			cr_assert(r < 0 || (a[3] & 0xf) == 1, "len %zu: rcode %d", len, a[3] & 0xf);
	}
	munmap(map, (size_t)page * 2);
	/* a response is not answered */
	q[2] |= 0x80;
	cr_assert_eq(answer(q, n, a), -EINVAL);
}

Test(dns, compression_pointer_loops_and_forward_pointers_are_formerr)
{
	uint8_t q[64] = {0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	uint8_t a[JH_DNS_MAX_MSG];

	/* name at 12 is a pointer to itself */
	q[12] = 0xc0;
	q[13] = 12;
	memset(q + 14, 0, 4);
	answer(q, 18, a);
	cr_assert_eq(a[3] & 0xf, 1);
	/* forward pointer */
	q[13] = 20;
	answer(q, 30, a);
	cr_assert_eq(a[3] & 0xf, 1);
	/* a label longer than the message */
	q[12] = 60;
	answer(q, 20, a);
	cr_assert_eq(a[3] & 0xf, 1);
}

Test(dns, backward_pointer_chain_is_followed_but_bounded)
{
	uint8_t m[128];
	char out[JH_NET_NAME_MAX + 1];
	size_t off;

	/* "a" at 0, then 40 pointers each to the previous one */
	m[0] = 1;
	m[1] = 'a';
	m[2] = 0;
	for (int i = 0; i < 40; i++) {
		m[3 + 2 * i] = 0xc0;
		m[4 + 2 * i] = (uint8_t)(i == 0 ? 0 : 3 + 2 * (i - 1));
	}
	off = 3;
	cr_assert_eq(jh_dns_read_name(m, sizeof(m), &off, out), 0);
	cr_assert_str_eq(out, "a");
	off = 3 + 2 * 39;
	cr_assert_eq(jh_dns_read_name(m, sizeof(m), &off, out), -EINVAL, "40 jumps accepted");
}

Test(dns, huge_counts_and_other_opcodes)
{
	uint8_t q[512], a[JH_DNS_MAX_MSG];
	size_t n = make_query(q, "api.test", 1);

	q[4] = q[5] = 0xff; /* 65535 questions */
	q[6] = q[7] = q[8] = q[9] = q[10] = q[11] = 0xff;
	answer(q, n, a);
	cr_assert_eq(a[3] & 0xf, 1);
	n = make_query(q, "api.test", 1);
	q[6] = q[7] = q[10] = q[11] = 0xff; /* bogus answer/additional counts are ignored */
	answer(q, n, a);
	cr_assert_eq(a[3] & 0xf, 0);
	q[2] = 0x10; /* opcode 2: STATUS */
	answer(q, n, a);
	cr_assert_eq(a[3] & 0xf, 4);
}

Test(dns, overlong_names_are_refused)
{
	uint8_t q[600], a[JH_DNS_MAX_MSG];
	char name[400];
	size_t n;

	for (int i = 0; i < 5; i++)
		memset(name + i * 64, 'a', 63), name[i * 64 + 63] = '.';
	name[5 * 64 - 1] = '\0';
	n = make_query(q, name, 1);
	answer(q, n, a);
	cr_assert_eq(a[3] & 0xf, 1);
}
