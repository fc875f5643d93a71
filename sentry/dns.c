/* DNS answering for the sandbox (RFC 1035 message format).
 *
 * The sandbox's libc sends its queries to the nameserver of the host's
 * /etc/resolv.conf; net.c redirects every datagram to port 53 to a loopback
 * socket served by the sentry, where this code answers: A and AAAA questions
 * for names the policy allows get the addresses pinned for the run, other
 * types for allowed names get an empty NOERROR answer, and every other name
 * gets NXDOMAIN. Nothing is forwarded to a real resolver: the host resolves
 * allowed names with getaddrinfo (in net.c), so the sandbox can neither
 * tunnel data out through DNS nor be handed a rebinding answer.
 *
 * The parser treats the query as hostile: every read is bounds-checked, name
 * compression pointers must point strictly backwards (so they cannot loop)
 * and are limited in number, counts other than the one question are ignored
 * rather than trusted. */
#include "sentry/dns.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define HDR 12
#define T_A 1
#define T_AAAA 28
#define C_IN 1
#define TTL 60

enum { RC_NOERROR = 0, RC_FORMERR = 1, RC_SERVFAIL = 2, RC_NXDOMAIN = 3, RC_NOTIMP = 4 };

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int jh_dns_read_name(const uint8_t *msg, size_t len, size_t *off, char *out)
{
	size_t pos = *off, end = 0, n = 0;
	unsigned jumps = 0;
	bool jumped = false;

	for (;;) {
		uint8_t l;

		if (pos >= len)
			return -EINVAL;
		l = msg[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= len)
				return -EINVAL;
			target = (size_t)(l & 0x3f) << 8 | msg[pos + 1];
			/* strictly backwards: no loops, no forward references */
			if (target >= pos || ++jumps > 16)
				return -EINVAL;
			if (!jumped)
				end = pos + 2;
			jumped = true;
			pos = target;
			continue;
		}
		if (l & 0xc0)
			return -EINVAL; /* extended label types */
		if (l == 0) {
			if (!jumped)
				end = pos + 1;
			break;
		}
		if (pos + 1 + l > len || n + l + (n ? 1 : 0) > JH_NET_NAME_MAX)
			return -EINVAL;
		if (n)
			out[n++] = '.';
		memcpy(out + n, msg + pos + 1, l);
		n += l;
		pos += 1 + (size_t)l;
	}
	out[n] = '\0';
	*off = end;
	return 0;
}

static int reply_header(const uint8_t *q, uint8_t *out, int rcode)
{
	/* id; QR, opcode and RD copied; RA set; counts zero */
	memcpy(out, q, 2);
	out[2] = (uint8_t)(0x80 | (q[2] & 0x79));
	out[3] = (uint8_t)(0x80 | (rcode & 0xf));
	memset(out + 4, 0, 8);
	return HDR;
}

/* Writes `name` (dotted) in wire form; returns bytes written or -ENOSPC. */
static int put_name(uint8_t *out, size_t cap, const char *name)
{
	size_t pos = 0;
	const char *s = name;

	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		if (l == 0 || l > 63 || pos + 1 + l >= cap)
			return -ENOSPC;
		out[pos++] = (uint8_t)l;
		memcpy(out + pos, s, l);
		pos += l;
		s += l + (dot ? 1 : 0);
	}
	if (pos >= cap)
		return -ENOSPC;
	out[pos++] = 0;
	return (int)pos;
}

int jh_dns_answer(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap, jh_dns_lookup_fn lookup,
		  void *ctx, char *ret_name, uint16_t *ret_qtype, char *why)
{
	char name[JH_NET_NAME_MAX + 1], norm[JH_NET_NAME_MAX + 1];
	struct jh_net_addr addrs[JH_DNS_MAX_ANSWERS];
	size_t off = HDR, n, pos;
	uint16_t qtype, qclass, ancount = 0;
	bool allowed = false;
	int r, nl;

	ret_name[0] = '\0';
	*ret_qtype = 0;
	snprintf(why, JH_NET_WHY_MAX, "malformed query");
	if (qlen < HDR || cap < JH_DNS_MAX_MSG || (q[2] & 0x80))
		return -EINVAL;
	if (((q[2] >> 3) & 0xf) != 0) {
		snprintf(why, JH_NET_WHY_MAX, "opcode not implemented");
		return reply_header(q, out, RC_NOTIMP);
	}
	if (get16(q + 4) != 1)
		return reply_header(q, out, RC_FORMERR);
	if (jh_dns_read_name(q, qlen, &off, name) < 0 || off + 4 > qlen)
		return reply_header(q, out, RC_FORMERR);
	qtype = get16(q + off);
	qclass = get16(q + off + 2);
	*ret_qtype = qtype;

	pos = (size_t)reply_header(q, out, RC_NOERROR);
	put16(out + 4, 1);
	nl = put_name(out + pos, cap - pos, name);
	if (nl < 0 || pos + (size_t)nl + 4 > cap)
		return reply_header(q, out, RC_FORMERR);
	pos += (size_t)nl;
	put16(out + pos, qtype);
	put16(out + pos + 2, qclass);
	pos += 4;

	if (jh_net_name_normalise(name, norm) < 0) {
		snprintf(why, JH_NET_WHY_MAX, "not a host name");
		out[3] = (uint8_t)((out[3] & 0xf0) | RC_NXDOMAIN);
		return (int)pos;
	}
	snprintf(ret_name, JH_NET_NAME_MAX + 1, "%s", norm);
	n = lookup(ctx, norm, addrs, JH_DNS_MAX_ANSWERS, &allowed, why);
	if (!allowed) {
		out[3] = (uint8_t)((out[3] & 0xf0) | RC_NXDOMAIN);
		return (int)pos;
	}
	if (qclass != C_IN || (qtype != T_A && qtype != T_AAAA))
		return (int)pos; /* NOERROR, no data */
	for (size_t i = 0; i < n; i++) {
		bool v4 = addrs[i].family == AF_INET;
		size_t rdlen = v4 ? 4 : 16;

		if ((qtype == T_A) != v4)
			continue;
		if (pos + 12 + rdlen > JH_DNS_MAX_MSG)
			break;
		put16(out + pos, 0xc000 | HDR); /* pointer to the question's name */
		put16(out + pos + 2, qtype);
		put16(out + pos + 4, C_IN);
		put16(out + pos + 6, 0);
		put16(out + pos + 8, TTL);
		put16(out + pos + 10, (uint16_t)rdlen);
		memcpy(out + pos + 12, addrs[i].a, rdlen);
		pos += 12 + rdlen;
		ancount++;
	}
	put16(out + 6, ancount);
	r = (int)pos;
	return r;
}
