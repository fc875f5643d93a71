/* Net-class handlers: every socket call that names a destination is decided
 * by the network policy (netpolicy.c) and performed by the sentry itself.
 *
 * How a call is performed. The handler takes its own reference to the task's
 * socket with pidfd_getfd(2) (the same open file description, so flags such
 * as O_NONBLOCK are shared and the task's fd ends up connected or bound
 * without any injection), copies the address once, decides on the copy, and
 * calls connect/bind/sendto/sendmsg on its reference with the copy. The
 * task's memory is never read again after the decision, so a thread that
 * rewrites the sockaddr meanwhile changes nothing (TOCTOU rule).
 *
 * Blocking connects. The dispatcher is one thread and must not sit in a
 * connect for the kernel's two minutes of SYN retries. For a blocking socket
 * the sentry sets O_NONBLOCK on the shared description for the connect call
 * only, restores the flags at once, and then waits for completion with
 * poll() for at most CONNECT_WAIT_MS, answering ETIMEDOUT past it (Linux
 * would keep waiting). Loopback and local connects complete within the
 * connect call. While the flag is flipped, another thread of the task using
 * the same fd would see a non-blocking socket for a few microseconds; the
 * socket is not connected yet, so there is little such a thread could do with
 * it. A worker-thread design (answering later) needs deferred answers in the
 * dispatcher; see the report of the network issue.
 *
 * Names. The sandbox's libc sends DNS queries over UDP to the nameserver of
 * the host's /etc/resolv.conf. A datagram socket connected (or sending) to
 * port 53 anywhere is redirected to the sentry's answerer on loopback
 * (dns.c), and recvfrom() on such a socket reports the nameserver the task
 * asked as the source, as libc checks it. Allowed names are resolved on the
 * host (--add-host first, then getaddrinfo) and pinned for the run.
 *
 * Unix sockets. Without a network namespace the host's services listen on
 * unix sockets: a path connect is allowed only below the workspace (its host
 * path, from the filesystem view; never "/") or under an `allow-net unix:`
 * rule, decided on the socket file the
 * sentry opened (O_PATH) and performed through /proc/self/fd/N, so a symlink
 * swapped in afterwards is not followed. Abstract sockets need a rule.
 *
 * Sockets: unix, inet, inet6 (stream with TCP, datagram with UDP/UDP-Lite/
 * ICMP echo) and route netlink; raw and packet sockets are refused with EPERM
 * (what Linux says without CAP_NET_RAW), other families with EAFNOSUPPORT.
 * sendto() and recvfrom() without an address pass in the filter. */
#include "sentry/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/macro.h"
#include "gofer/view.h"
#include "sentry/dns.h"
#include "sentry/sentry-internal.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define CONNECT_WAIT_MS 10000
#define SEND_MAX (256 * 1024) /* bytes copied per send; stream sends are short beyond */
#define CONTROL_MAX 65536
#define MMSG_MAX 64
#define DNS_SOCKS 128
#define DETAIL_MAX JH_CALL_STR_CAP /* a call's string buffer holds the detail */

struct dns_sock {
	ino_t ino;
	struct sockaddr_storage ns; /* what the task addressed */
	socklen_t nslen;
};

struct jh_net {
	struct jh_net_policy *pol;
	struct jh_net_policy *owned; /* the empty policy used when none was given */
	struct jh_sink sink;
	int dns4, dns6, stop;
	struct sockaddr_in dns4_addr;
	struct sockaddr_in6 dns6_addr;
	pthread_t th;
	bool th_started;
	char workspace[PATH_MAX]; /* "" when there is none */
	unsigned priv_port;

	pthread_mutex_t lock; /* guards dnss */
	struct dns_sock dnss[DNS_SOCKS];
	unsigned dns_next;
};

static __thread uint8_t send_buf[SEND_MAX];

/* --- Bookkeeping of redirected DNS sockets --- */

static void dns_sock_add(struct jh_net *n, ino_t ino, const void *ns, socklen_t len)
{
	pthread_mutex_lock(&n->lock);
	for (unsigned i = 0; i < DNS_SOCKS; i++)
		if (n->dnss[i].ino == ino) {
			n->dnss[i].nslen = 0;
			n->dnss[i].ino = 0;
		}
	struct dns_sock *d = &n->dnss[n->dns_next++ % DNS_SOCKS];
	d->ino = ino;
	memcpy(&d->ns, ns, len);
	d->nslen = len;
	pthread_mutex_unlock(&n->lock);
}

static bool dns_sock_find(struct jh_net *n, ino_t ino, struct sockaddr_storage *ns, socklen_t *len)
{
	bool found = false;

	pthread_mutex_lock(&n->lock);
	for (unsigned i = 0; i < DNS_SOCKS && !found; i++)
		if (n->dnss[i].ino == ino && n->dnss[i].nslen) {
			*ns = n->dnss[i].ns;
			*len = n->dnss[i].nslen;
			found = true;
		}
	pthread_mutex_unlock(&n->lock);
	return found;
}

/* --- The DNS answerer --- */

static void emit_net_event(const struct jh_sink *sink, const char *syscall, const char *args,
			   enum jh_decision d, const char *detail)
{
	struct timespec ts;
	struct jh_event ev = {
		.cls = "net",
		.syscall = syscall,
		.args = args,
		.decision = d,
		.detail = detail,
	};

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ev.mono_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	jh_sink_emit(sink, &ev);
}

static size_t resolve_on_host(const char *name, struct jh_net_addr *out, size_t max)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	size_t n = 0;

	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return 0;
	for (struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next)
		if (jh_net_addr_from_sockaddr(ai->ai_addr, ai->ai_addrlen, &out[n]) == 0)
			n++;
	freeaddrinfo(res);
	return n;
}

static size_t dns_lookup(void *ctx, const char *name, struct jh_net_addr *out, size_t max,
			 bool *allowed, char *why)
{
	struct jh_net *n = ctx;
	struct jh_net_addr found[JH_DNS_MAX_ANSWERS];
	size_t k;

	*allowed = jh_net_policy_name_allowed(n->pol, name, why);
	if (!*allowed)
		return 0;
	k = jh_net_policy_static_hosts(n->pol, name, found, JH_ARRAY_SIZE(found));
	if (k == 0)
		k = resolve_on_host(name, found, JH_ARRAY_SIZE(found));
	return jh_net_policy_pin(n->pol, name, found, k, out, max);
}

static void serve_query(struct jh_net *n, int sock)
{
	uint8_t q[JH_DNS_MAX_MSG * 2], a[JH_DNS_MAX_MSG];
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof(from);
	char name[JH_NET_NAME_MAX + 1], why[JH_NET_WHY_MAX], args[JH_NET_NAME_MAX + 32];
	char detail[JH_NET_WHY_MAX + 64];
	uint16_t qtype;
	ssize_t len;
	int r;

	len = recvfrom(sock, q, sizeof(q), MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);
	if (len < 0)
		return;
	r = jh_dns_answer(q, (size_t)len, a, sizeof(a), dns_lookup, n, name, &qtype, why);
	if (r < 0)
		return;
	(void)sendto(sock, a, (size_t)r, MSG_DONTWAIT, (struct sockaddr *)&from, fromlen);
	snprintf(args, sizeof(args), "\"%s\", type %u", name, qtype);
	snprintf(detail, sizeof(detail), "rcode %u, %u answers: %s", a[3] & 0xf,
		 (unsigned)(a[6] << 8 | a[7]), why);
	emit_net_event(&n->sink, "dns", args,
		       (a[3] & 0xf) == 0 ? JH_DECISION_ALLOWED : JH_DECISION_DENIED, detail);
}

static void *dns_main(void *arg)
{
	struct jh_net *n = arg;

	for (;;) {
		struct pollfd pfd[3] = {{n->stop, POLLIN, 0}, {n->dns4, POLLIN, 0}, {n->dns6, POLLIN, 0}};

		if (poll(pfd, n->dns6 >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents)
			break;
		if (pfd[1].revents & POLLIN)
			serve_query(n, n->dns4);
		if (n->dns6 >= 0 && (pfd[2].revents & POLLIN))
			serve_query(n, n->dns6);
	}
	return NULL;
}

static int open_dns_sockets(struct jh_net *n)
{
	socklen_t len;

	n->dns4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->dns4 < 0)
		return jh_negerrno();
	n->dns4_addr = (struct sockaddr_in){.sin_family = AF_INET,
					     .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	len = sizeof(n->dns4_addr);
	if (bind(n->dns4, (struct sockaddr *)&n->dns4_addr, len) < 0 ||
	    getsockname(n->dns4, (struct sockaddr *)&n->dns4_addr, &len) < 0)
		return jh_negerrno();
	/* IPv6 is optional: a host without ::1 answers over IPv4 only. */
	n->dns6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->dns6 >= 0) {
		n->dns6_addr = (struct sockaddr_in6){.sin6_family = AF_INET6,
						      .sin6_addr = IN6ADDR_LOOPBACK_INIT};
		len = sizeof(n->dns6_addr);
		if (bind(n->dns6, (struct sockaddr *)&n->dns6_addr, len) < 0 ||
		    getsockname(n->dns6, (struct sockaddr *)&n->dns6_addr, &len) < 0)
			jh_closep(&n->dns6);
	}
	return 0;
}

struct preresolve {
	struct jh_net *n;
};

static void preresolve_one(const char *name, void *ctx)
{
	struct jh_net *n = ((struct preresolve *)ctx)->n;
	struct jh_net_addr found[JH_DNS_MAX_ANSWERS], out[JH_DNS_MAX_ANSWERS];
	size_t k;

	/* Names in the host's /etc/hosts never reach the DNS answerer: the
	 * sandbox's libc reads that file itself. Pinning the exact names at
	 * start makes them connectable all the same. An --add-host name is
	 * pinned only when the sandbox asks for it: until then its address is
	 * a raw IP like any other. */
	if (jh_net_policy_static_hosts(n->pol, name, found, JH_ARRAY_SIZE(found)))
		return;
	k = resolve_on_host(name, found, JH_ARRAY_SIZE(found));
	if (k)
		jh_net_policy_pin(n->pol, name, found, k, out, JH_ARRAY_SIZE(out));
}

int jh_net_new(struct jh_net_policy *policy, const struct jh_sink *sink, const char *workspace,
	       struct jh_net **ret)
{
	struct jh_net *n = calloc(1, sizeof(*n));
	struct preresolve pr = {n};
	FILE *f;
	int r;

	if (!n)
		return -ENOMEM;
	n->dns4 = n->dns6 = n->stop = -1;
	pthread_mutex_init(&n->lock, NULL);
	if (sink)
		n->sink = *sink;
	if (!policy) {
		r = jh_net_policy_new(&n->owned);
		if (r < 0)
			goto fail;
		policy = n->owned;
	}
	n->pol = policy;
	n->priv_port = 1024;
	f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");
	if (f) {
		if (fscanf(f, "%u", &n->priv_port) != 1)
			n->priv_port = 1024;
		fclose(f);
	}
	/* canonical, so that a connect path is compared with what it resolves to */
	if (workspace && !realpath(workspace, n->workspace))
		n->workspace[0] = '\0';
	if (strcmp(n->workspace, "/") == 0)
		n->workspace[0] = '\0';

	if (!jh_net_policy_is_host(policy))
		jh_net_policy_each_exact_name(policy, preresolve_one, &pr);

	r = open_dns_sockets(n);
	if (r < 0)
		goto fail;
	n->stop = eventfd(0, EFD_CLOEXEC);
	if (n->stop < 0) {
		r = jh_negerrno();
		goto fail;
	}
	r = -pthread_create(&n->th, NULL, dns_main, n);
	if (r < 0)
		goto fail;
	n->th_started = true;
	*ret = n;
	return 0;
fail:
	jh_net_free(n);
	return r;
}

void jh_net_free(struct jh_net *n)
{
	if (!n)
		return;
	if (n->th_started) {
		uint64_t one = 1;
		(void)!write(n->stop, &one, sizeof(one));
		pthread_join(n->th, NULL);
	}
	jh_closep(&n->stop);
	jh_closep(&n->dns4);
	jh_closep(&n->dns6);
	jh_net_policy_free(n->owned);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

/* --- The task's socket --- */

struct sock {
	int fd; /* the sentry's reference to the task's socket */
	int domain, type, protocol;
	int fl; /* file status flags */
	ino_t ino;
};

static void sock_close(struct sock *s)
{
	jh_closep(&s->fd);
}

/* A pidfd for the calling thread (threads share the fd table; a thread that
 * is not the group leader needs PIDFD_THREAD, Linux 6.9, else its tgid). */
static int task_pidfd(struct jh_call *c)
{
	char path[64], line[256];
	int fd = (int)syscall(SYS_pidfd_open, c->sc->tid, PIDFD_THREAD);
	FILE *f;

	if (fd >= 0 || errno != EINVAL)
		return fd >= 0 ? fd : jh_negerrno();
	fd = (int)syscall(SYS_pidfd_open, c->sc->tid, 0);
	if (fd >= 0 || errno != EINVAL)
		return fd >= 0 ? fd : jh_negerrno();
	snprintf(path, sizeof(path), "/proc/%d/status", (int)c->sc->tid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	fd = -ESRCH;
	while (fgets(line, sizeof(line), f)) {
		int tgid;
		if (sscanf(line, "Tgid: %d", &tgid) == 1) {
			fd = (int)syscall(SYS_pidfd_open, tgid, 0);
			if (fd < 0)
				fd = jh_negerrno();
			break;
		}
	}
	fclose(f);
	return fd;
}

/* Takes a reference to the task's fd `tfd`: -EBADF, -ENOTSOCK, -ESRCH. */
static int task_getfd(struct jh_call *c, int pidfd, int tfd)
{
	int fd;

	if (tfd < 0)
		return -EBADF;
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, tfd, 0);
	if (fd < 0)
		return errno == EBADF ? -EBADF : jh_negerrno();
	/* The pidfd names the task we were asked about only while its call is
	 * still pending (pid reuse). */
	if (c->ops->read(c->p, c->sc, NULL, 0, 0) < 0) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

static int get_sock(struct jh_call *c, int tfd, struct sock *s)
{
	_cleanup_close_ int pidfd = -1;
	struct stat st;
	socklen_t l = sizeof(int);

	*s = (struct sock){.fd = -1};
	pidfd = task_pidfd(c);
	if (pidfd < 0)
		return pidfd;
	s->fd = task_getfd(c, pidfd, tfd);
	if (s->fd < 0)
		return s->fd;
	if (fstat(s->fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		sock_close(s);
		return -ENOTSOCK;
	}
	s->ino = st.st_ino;
	if (getsockopt(s->fd, SOL_SOCKET, SO_DOMAIN, &s->domain, &l) < 0 ||
	    getsockopt(s->fd, SOL_SOCKET, SO_TYPE, &s->type, &l) < 0 ||
	    getsockopt(s->fd, SOL_SOCKET, SO_PROTOCOL, &s->protocol, &l) < 0 ||
	    (s->fl = fcntl(s->fd, F_GETFL)) < 0) {
		int r = jh_negerrno();
		sock_close(s);
		return r;
	}
	return 0;
}

/* --- Outcomes --- */

static char *detail_buf(struct jh_call *c)
{
	static __thread char spare[DETAIL_MAX];

	if (c->nstrbuf < JH_ARRAY_SIZE(c->strbuf))
		return c->strbuf[c->nstrbuf++];
	return spare;
}

static void performed(struct jh_call *c, int64_t r, int err, const char *detail)
{
	c->decision = JH_DECISION_ALLOWED;
	c->result = err ? -1 : r;
	c->err = err;
	c->detail = detail;
}

static void answer_errno(struct jh_call *c, int r)
{
	/* Failures before any decision: the task's own mistake or its death. */
	jh_call_emulated(c, -1, r == -ESRCH ? ESRCH : -r);
}

/* Reads a socket address argument the way move_addr_to_kernel() does. */
static int read_addr(struct jh_call *c, uint64_t ptr, int64_t len, struct sockaddr_storage *ss)
{
	if (len < 0 || len > (int64_t)sizeof(*ss))
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (len == 0)
		return 0;
	return c->ops->read(c->p, c->sc, ss, ptr, (size_t)len);
}

/* --- Deciding a destination --- */

enum target_kind { T_IP, T_DNS, T_UNIX, T_NONE };

struct target {
	enum target_kind kind;
	struct sockaddr_storage sa; /* what the sentry passes to the kernel */
	socklen_t len;
	int pathfd; /* T_UNIX path: the socket file the sentry opened */
	char *detail;
	bool allow;
	int err; /* when refused */
};

static void target_free(struct target *t)
{
	jh_closep(&t->pathfd);
}

static bool under_workspace(const struct jh_net *n, const char *path)
{
	size_t l = strlen(n->workspace);

	return l && strncmp(path, n->workspace, l) == 0 && path[l] == '/';
}

/* In the view's mount namespace the task's names of the workspace start with
 * /workspace (what the socket's fd reads back as): below the workspace when
 * the same name beneath its host directory is the very socket `fd`. */
static bool under_workspace_fd(const struct jh_net *n, const char *path, int fd)
{
	size_t l = strlen(JH_VIEW_WORKSPACE);
	char host[PATH_MAX];
	struct stat a, b;

	if (under_workspace(n, path))
		return true;
	if (!n->workspace[0] || strncmp(path, JH_VIEW_WORKSPACE, l) != 0 || path[l] != '/' ||
	    (size_t)snprintf(host, sizeof(host), "%s%s", n->workspace, path + l) >= sizeof(host))
		return false;
	return lstat(host, &a) == 0 && fstat(fd, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static void escape(char *out, size_t cap, const char *in, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < cap; i++) {
		unsigned char ch = (unsigned char)in[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
	}
	out[o] = '\0';
}

static int open_task_relative(struct jh_call *c, const char *path)
{
	char cwd[64];
	_cleanup_close_ int dfd = -1;

	if (path[0] == '/') {
		/* As the task's kernel resolves it (its root is the view's mount
		 * namespace, when there is one); else a host socket by its host
		 * path, which only an allow-net unix: rule lets through. */
		struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
		_cleanup_close_ int root = -1;
		int fd;

		snprintf(cwd, sizeof(cwd), "/proc/%d/root", (int)c->sc->tid);
		root = open(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);
		fd = root < 0 ? -1 : (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
		return fd >= 0 ? fd : open(path, O_PATH | O_CLOEXEC);
	}
	snprintf(cwd, sizeof(cwd), "/proc/%d/cwd", (int)c->sc->tid);
	dfd = open(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	return openat(dfd, path, O_PATH | O_CLOEXEC);
}

/* Unix destination of connect/sendto. */
static void decide_unix(struct jh_call *c, struct jh_net *n, const struct sockaddr_storage *ss,
			socklen_t len, bool is_bind, struct target *t)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)ss;
	size_t plen = len > offsetof(struct sockaddr_un, sun_path)
			      ? len - offsetof(struct sockaddr_un, sun_path)
			      : 0;
	char why[JH_NET_WHY_MAX], name[200];
	struct stat st;

	t->kind = T_UNIX;
	if (plen == 0) {
		/* autobind (bind) or nothing (connect: EINVAL from the kernel) */
		t->allow = true;
		t->sa = *ss;
		t->len = len;
		snprintf(t->detail, DETAIL_MAX, "unix autobind");
		return;
	}
	if (sun->sun_path[0] == '\0') {
		escape(name, sizeof(name), sun->sun_path + 1, plen - 1);
		t->allow = jh_net_policy_check_unix(n->pol, name, true, false, why);
		t->sa = *ss;
		t->len = len;
		t->err = EPERM;
		snprintf(t->detail, DETAIL_MAX, "dst unix:@%s: %s", name, why);
		return;
	}
	char path[sizeof(sun->sun_path) + 1];
	memcpy(path, sun->sun_path, plen);
	path[plen] = '\0';
	if (is_bind) {
		/* The socket file is created where the task's path leads, seen
		 * from its working directory; creating files is the filesystem
		 * view's business. */
		t->allow = true;
		t->sa = *ss;
		t->len = len;
		snprintf(t->detail, DETAIL_MAX, "bind unix:%s", path);
		return;
	}
	t->pathfd = open_task_relative(c, path);
	if (t->pathfd < 0) {
		t->allow = false;
		t->err = errno;
		snprintf(t->detail, DETAIL_MAX, "dst unix:%s: %s", path, strerror(errno));
		return;
	}
	if (fstat(t->pathfd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		t->allow = false;
		t->err = ECONNREFUSED; /* what connect(2) says for a non-socket */
		snprintf(t->detail, DETAIL_MAX, "dst unix:%s: not a socket", path);
		return;
	}
	char canon[PATH_MAX], proc[64];
	ssize_t cl;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->pathfd);
	cl = readlink(proc, canon, sizeof(canon) - 1);
	canon[cl > 0 ? cl : 0] = '\0';
	bool below = under_workspace_fd(n, canon, t->pathfd);
	t->allow = jh_net_policy_check_unix(n->pol, canon, false, below, why);
	if (below && !strstr(why, "allow-net"))
		snprintf(why, sizeof(why), "below the workspace %.200s", n->workspace);
	t->err = EPERM;
	snprintf(t->detail, DETAIL_MAX, "dst unix:%.3000s: %s", canon, why);
	/* Connect to the inode decided on, not to the name. */
	struct sockaddr_un via = {.sun_family = AF_UNIX};
	snprintf(via.sun_path, sizeof(via.sun_path), "/proc/self/fd/%d", t->pathfd);
	memset(&t->sa, 0, sizeof(t->sa));
	memcpy(&t->sa, &via, sizeof(via));
	t->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(via.sun_path) + 1);
}

static void redirect_dns(struct jh_net *n, const struct sock *s, struct target *t)
{
	t->kind = T_DNS;
	t->allow = true;
	if (s->domain == AF_INET6) {
		if (n->dns6 >= 0) {
			memcpy(&t->sa, &n->dns6_addr, sizeof(n->dns6_addr));
		} else {
			struct sockaddr_in6 m = {.sin6_family = AF_INET6,
						 .sin6_port = n->dns4_addr.sin_port};
			m.sin6_addr.s6_addr[10] = m.sin6_addr.s6_addr[11] = 0xff;
			memcpy(&m.sin6_addr.s6_addr[12], &n->dns4_addr.sin_addr, 4);
			memcpy(&t->sa, &m, sizeof(m));
		}
		t->len = sizeof(struct sockaddr_in6);
	} else {
		memcpy(&t->sa, &n->dns4_addr, sizeof(n->dns4_addr));
		t->len = sizeof(struct sockaddr_in);
	}
}

/* Decides the destination `ss` (len bytes) of a connect/sendto/sendmsg on `s`. */
static void decide(struct jh_call *c, struct jh_net *n, const struct sock *s,
		   const struct sockaddr_storage *ss, socklen_t len, bool is_bind, struct target *t)
{
	char why[JH_NET_WHY_MAX], name[JH_NET_NAME_MAX + 1], dst[80];
	struct jh_net_addr a;
	int r;

	t->pathfd = -1;
	t->detail = detail_buf(c);
	t->err = EPERM;
	if (s->domain == AF_UNIX) {
		if (len >= sizeof(sa_family_t) && ss->ss_family != AF_UNIX) {
			t->allow = false;
			t->err = EINVAL;
			snprintf(t->detail, DETAIL_MAX, "not a unix address");
			return;
		}
		decide_unix(c, n, ss, len, is_bind, t);
		return;
	}
	if (s->domain == AF_NETLINK) {
		const struct sockaddr_nl *nl = (const struct sockaddr_nl *)ss;
		/* Only the kernel (nl_pid 0) is a destination; no multicast sends. */
		t->kind = T_NONE;
		t->sa = *ss;
		t->len = len;
		t->allow = is_bind || (len >= sizeof(*nl) && nl->nl_pid == 0 && nl->nl_groups == 0);
		snprintf(t->detail, DETAIL_MAX, "netlink %s",
			 t->allow ? "to the kernel" : "to a process or group: refused");
		return;
	}
	r = jh_net_addr_from_sockaddr(ss, len, &a);
	if (r < 0) {
		t->allow = false;
		t->err = -r;
		snprintf(t->detail, DETAIL_MAX, "unusable address: %s", strerror(-r));
		return;
	}
	t->kind = T_IP;
	t->sa = *ss;
	t->len = len;
	jh_net_addr_format(&a, true, dst, sizeof(dst));
	if (is_bind) {
		if (a.port && a.port < n->priv_port) {
			/* The sentry may hold privileges the task lacks: never bind
			 * a privileged port on its behalf. */
			t->allow = false;
			t->err = EACCES;
			snprintf(t->detail, DETAIL_MAX, "bind %s: privileged port", dst);
			return;
		}
		t->allow = jh_net_policy_check(n->pol, &a, why, name) || !a.port ||
			   a.port >= n->priv_port;
		snprintf(t->detail, DETAIL_MAX, "bind %s", dst);
		return;
	}
	/* In a network namespace of its own the sandbox's socket cannot reach
	 * the answerer on the host's loopback; such a run allows no name anyway
	 * (jh_net_policy_needs_host_netns), so the query is decided as any
	 * datagram: refused, or to the sandbox's own loopback. */
	if (s->type == SOCK_DGRAM && a.port == 53 && !jh_net_policy_is_host(n->pol) &&
	    !jh_net_policy_own_netns(n->pol) && s->protocol != IPPROTO_ICMP &&
	    s->protocol != IPPROTO_ICMPV6) {
		redirect_dns(n, s, t);
		snprintf(t->detail, DETAIL_MAX, "dst %s: DNS, answered by the sentry", dst);
		return;
	}
	t->allow = jh_net_policy_check(n->pol, &a, why, name);
	if (name[0])
		snprintf(t->detail, DETAIL_MAX, "dst %s name %s: %s", dst, name, why);
	else
		snprintf(t->detail, DETAIL_MAX, "dst %s: %s", dst, why);
}

/* --- Performing --- */

static int wait_fd(int fd, short events, int ms)
{
	struct pollfd pfd = {fd, events, 0};
	int r = JH_RETRY_EINTR(poll(&pfd, 1, ms));

	return r < 0 ? jh_negerrno() : r;
}

/* connect(2) on the sentry's reference; see the file comment. Returns 0 or -errno. */
static int do_connect(const struct sock *s, const struct sockaddr_storage *sa, socklen_t len)
{
	int r, e, soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (s->fl & O_NONBLOCK)
		return connect(s->fd, (const struct sockaddr *)sa, len) < 0 ? jh_negerrno() : 0;
	if (fcntl(s->fd, F_SETFL, s->fl | O_NONBLOCK) < 0)
		return jh_negerrno();
	r = connect(s->fd, (const struct sockaddr *)sa, len);
	e = errno;
	(void)fcntl(s->fd, F_SETFL, s->fl);
	if (r == 0)
		return 0;
	if (e != EINPROGRESS)
		return e == EAGAIN && s->domain == AF_UNIX ? -EAGAIN : -e;
	r = wait_fd(s->fd, POLLOUT, CONNECT_WAIT_MS);
	if (r < 0)
		return r;
	if (r == 0)
		return -ETIMEDOUT;
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		return jh_negerrno();
	return -soerr;
}

/* sendmsg(2) on the sentry's reference, never blocking for long. */
static ssize_t do_sendmsg(const struct sock *s, struct msghdr *m, int flags)
{
	ssize_t r = sendmsg(s->fd, m, flags | MSG_DONTWAIT);

	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !(s->fl & O_NONBLOCK) &&
	    !(flags & MSG_DONTWAIT)) {
		if (wait_fd(s->fd, POLLOUT, CONNECT_WAIT_MS) > 0)
			r = sendmsg(s->fd, m, flags | MSG_DONTWAIT);
	}
	return r < 0 ? jh_negerrno() : r;
}

/* --- Handlers --- */

static void handle_socket(struct jh_call *c)
{
	int domain = (int)c->sc->args[0];
	int type = (int)c->sc->args[1] & 0xf; /* SOCK_TYPE_MASK */
	int proto = (int)c->sc->args[2];

	/* Decided on register arguments only: continuing is race-free. */
	switch (domain) {
	case AF_UNIX:
		jh_call_continue(c, NULL);
		return;
	case AF_INET:
	case AF_INET6:
		if (type == SOCK_RAW) {
			jh_call_deny(c, EPERM, "raw sockets are refused");
			return;
		}
		if ((type == SOCK_STREAM && (proto == 0 || proto == IPPROTO_TCP)) ||
		    (type == SOCK_DGRAM &&
		     (proto == 0 || proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE ||
		      (domain == AF_INET && proto == IPPROTO_ICMP) ||
		      (domain == AF_INET6 && proto == IPPROTO_ICMPV6)))) {
			jh_call_continue(c, NULL);
			return;
		}
		/* SCTP (connectx through setsockopt), MPTCP, DCCP ...: their
		 * other ways to name peers are not mediated. */
		jh_call_deny(c, EPROTONOSUPPORT, "socket protocol not mediated");
		return;
	case AF_NETLINK:
		if (proto == NETLINK_ROUTE && (type == SOCK_RAW || type == SOCK_DGRAM)) {
			jh_call_continue(c, "route netlink (listing interfaces)");
			return;
		}
		jh_call_deny(c, EPROTONOSUPPORT, "netlink protocol refused");
		return;
	case AF_PACKET:
		jh_call_deny(c, EPERM, "packet sockets are refused");
		return;
	default:
		jh_call_deny(c, EAFNOSUPPORT, "socket family refused");
		return;
	}
}

static void handle_connect(struct jh_call *c)
{
	struct jh_net *n = jh_sentry_net(c->s);
	_cleanup_(sock_close) struct sock s = {.fd = -1};
	_cleanup_(target_free) struct target t = {.pathfd = -1};
	struct sockaddr_storage ss;
	int64_t len = (int)c->sc->args[2];
	int r;

	r = get_sock(c, (int)c->sc->args[0], &s);
	if (r < 0)
		return answer_errno(c, r);
	r = read_addr(c, c->sc->args[1], len, &ss);
	if (r < 0)
		return answer_errno(c, r);
	if (len >= (int64_t)sizeof(sa_family_t) && ss.ss_family == AF_UNSPEC) {
		/* Dissolves the association: no destination. */
		r = connect(s.fd, (struct sockaddr *)&ss, (socklen_t)len) < 0 ? jh_negerrno() : 0;
		return performed(c, 0, -r, "disconnect (AF_UNSPEC)");
	}
	decide(c, n, &s, &ss, (socklen_t)len, false, &t);
	if (!t.allow)
		return jh_call_deny(c, t.err, t.detail);
	r = do_connect(&s, &t.sa, t.len);
	if (t.kind == T_DNS && r == 0)
		dns_sock_add(n, s.ino, &ss, (socklen_t)len);
	performed(c, 0, -r, t.detail);
}

static void handle_bind(struct jh_call *c)
{
	struct jh_net *n = jh_sentry_net(c->s);
	_cleanup_(sock_close) struct sock s = {.fd = -1};
	_cleanup_(target_free) struct target t = {.pathfd = -1};
	struct sockaddr_storage ss;
	int64_t len = (int)c->sc->args[2];
	int r;

	r = get_sock(c, (int)c->sc->args[0], &s);
	if (r < 0)
		return answer_errno(c, r);
	r = read_addr(c, c->sc->args[1], len, &ss);
	if (r < 0)
		return answer_errno(c, r);
	decide(c, n, &s, &ss, (socklen_t)len, true, &t);
	if (!t.allow)
		return jh_call_deny(c, t.err, t.detail);
	if (s.domain == AF_UNIX && len > (int64_t)offsetof(struct sockaddr_un, sun_path) &&
	    ((struct sockaddr_un *)&ss)->sun_path[0] != '\0' &&
	    ((struct sockaddr_un *)&ss)->sun_path[0] != '/') {
		/* A relative path is created from the task's working directory:
		 * the dispatcher thread has its own fs context (CLONE_FS) and
		 * moves there for the call. */
		static __thread bool own_fs;
		char cwd[64];
		_cleanup_close_ int dfd = -1;

		if (!own_fs) {
			if (unshare(CLONE_FS) < 0)
				return jh_call_deny(c, EPERM, "relative unix bind unsupported");
			own_fs = true;
		}
		snprintf(cwd, sizeof(cwd), "/proc/%d/cwd", (int)c->sc->tid);
		dfd = open(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fchdir(dfd) < 0)
			return answer_errno(c, -ESRCH);
	}
	r = bind(s.fd, (struct sockaddr *)&t.sa, t.len) < 0 ? jh_negerrno() : 0;
	performed(c, 0, -r, t.detail);
}

static void handle_listen(struct jh_call *c)
{
	_cleanup_(sock_close) struct sock s = {.fd = -1};
	int r = get_sock(c, (int)c->sc->args[0], &s);

	if (r < 0)
		return answer_errno(c, r);
	r = listen(s.fd, (int)c->sc->args[1]) < 0 ? jh_negerrno() : 0;
	performed(c, 0, -r, NULL);
}

/* Refuses netlink messages that change anything: only RTM_GET* requests. */
static bool netlink_read_only(const uint8_t *buf, size_t len)
{
	size_t off = 0;

	while (off + sizeof(struct nlmsghdr) <= len) {
		struct nlmsghdr h;
		memcpy(&h, buf + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - off)
			return false;
		if (h.nlmsg_type < RTM_BASE || (h.nlmsg_type & 3) != 2)
			return false;
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
	return true;
}

/* Copies the iovecs of a message into send_buf; returns the byte count or -errno. */
static ssize_t gather(struct jh_call *c, const struct sock *s, uint64_t iov_ptr, uint64_t iovlen)
{
	struct iovec iov[64];
	size_t total = 0;
	bool stream = s->type == SOCK_STREAM;

	if (iovlen > 1024) /* UIO_MAXIOV */
		return -EMSGSIZE;
	for (uint64_t i = 0; i < iovlen; i += JH_ARRAY_SIZE(iov)) {
		size_t k = JH_MIN(JH_ARRAY_SIZE(iov), (size_t)(iovlen - i));
		int r = c->ops->read(c->p, c->sc, iov, iov_ptr + i * sizeof(struct iovec),
				     k * sizeof(struct iovec));
		if (r < 0)
			return r;
		for (size_t j = 0; j < k; j++) {
			size_t want = iov[j].iov_len;
			if (want > SEND_MAX - total) {
				if (!stream)
					return -EMSGSIZE;
				want = SEND_MAX - total; /* a short write, as stream sends may be */
			}
			if (want) {
				r = c->ops->read(c->p, c->sc, send_buf + total,
						 (uint64_t)(uintptr_t)iov[j].iov_base, want);
				if (r < 0)
					return r;
			}
			total += want;
			if (total == SEND_MAX && stream)
				return (ssize_t)total;
		}
	}
	return (ssize_t)total;
}

/* Control data: fds in SCM_RIGHTS are the task's numbers and are replaced by
 * the sentry's references to the same files; SCM_CREDENTIALS would be checked
 * against the sentry's identity, not the task's, and is refused. */
static int translate_control(struct jh_call *c, uint8_t *ctl, size_t len, int *fds, int *nfds)
{
	struct msghdr m = {.msg_control = ctl, .msg_controllen = len};
	_cleanup_close_ int pidfd = -1;

	*nfds = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
		if (cm->cmsg_len < CMSG_LEN(0) || cm->cmsg_len > len)
			return -EINVAL;
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SCM_CREDENTIALS)
			return -EPERM;
		if (cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (*nfds + (int)k > 253) /* SCM_MAX_FD */
			return -EINVAL;
		if (pidfd < 0 && (pidfd = task_pidfd(c)) < 0)
			return pidfd;
		for (size_t i = 0; i < k; i++) {
			int tfd, fd;
			memcpy(&tfd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			fd = task_getfd(c, pidfd, tfd);
			if (fd < 0)
				return fd;
			fds[(*nfds)++] = fd;
			memcpy(CMSG_DATA(cm) + i * sizeof(int), &fd, sizeof(int));
		}
	}
	return 0;
}

/* One message of sendmsg/sendmmsg at task address `mptr`. Returns bytes sent
 * or -errno; sets *denied when the policy refused it (t->detail says why). */
static ssize_t send_one(struct jh_call *c, struct jh_net *n, const struct sock *s, uint64_t mptr,
			int flags, struct target *t, bool *denied)
{
	struct msghdr tm, m = {0};
	struct sockaddr_storage ss;
	static __thread uint8_t ctl[CONTROL_MAX];
	int fds[253], nfds = 0;
	struct iovec iov;
	ssize_t len, r;

	*denied = false;
	r = c->ops->read(c->p, c->sc, &tm, mptr, sizeof(tm));
	if (r < 0)
		return r;
	if (!tm.msg_name)
		tm.msg_namelen = 0;
	if ((int)tm.msg_namelen < 0)
		return -EINVAL;
	if (tm.msg_namelen > sizeof(ss))
		tm.msg_namelen = sizeof(ss);
	if (tm.msg_controllen > CONTROL_MAX)
		return -ENOBUFS;
	r = read_addr(c, (uint64_t)(uintptr_t)tm.msg_name, tm.msg_namelen, &ss);
	if (r < 0)
		return r;
	len = gather(c, s, (uint64_t)(uintptr_t)tm.msg_iov, tm.msg_iovlen);
	if (len < 0)
		return len;
	if (tm.msg_controllen) {
		r = c->ops->read(c->p, c->sc, ctl, (uint64_t)(uintptr_t)tm.msg_control,
				 tm.msg_controllen);
		if (r < 0)
			return r;
	}
	if (tm.msg_namelen) {
		decide(c, n, s, &ss, tm.msg_namelen, false, t);
		if (!t->allow) {
			*denied = true;
			return -t->err;
		}
		m.msg_name = &t->sa;
		m.msg_namelen = t->len;
	} else if (!t->detail) {
		t->detail = detail_buf(c);
		snprintf(t->detail, DETAIL_MAX, "to the connected peer");
	}
	if (s->domain == AF_NETLINK && !netlink_read_only(send_buf, (size_t)len)) {
		*denied = true;
		snprintf(t->detail, DETAIL_MAX, "netlink request that changes state");
		return -EPERM;
	}
	if (tm.msg_controllen) {
		r = translate_control(c, ctl, tm.msg_controllen, fds, &nfds);
		if (r < 0)
			goto out;
		m.msg_control = ctl;
		m.msg_controllen = tm.msg_controllen;
	}
	iov = (struct iovec){send_buf, (size_t)len};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	r = do_sendmsg(s, &m, flags);
	if (r >= 0 && t->kind == T_DNS)
		dns_sock_add(n, s->ino, &ss, tm.msg_namelen);
out:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	return r;
}

static void handle_sendto(struct jh_call *c)
{
	struct jh_net *n = jh_sentry_net(c->s);
	_cleanup_(sock_close) struct sock s = {.fd = -1};
	_cleanup_(target_free) struct target t = {.pathfd = -1};
	struct sockaddr_storage ss;
	uint64_t buf = c->sc->args[1];
	size_t len = (size_t)c->sc->args[2];
	int flags = (int)c->sc->args[3];
	int64_t alen = (int)c->sc->args[5];
	struct msghdr m = {0};
	struct iovec iov;
	ssize_t r;

	r = get_sock(c, (int)c->sc->args[0], &s);
	if (r < 0)
		return answer_errno(c, (int)r);
	r = read_addr(c, c->sc->args[4], alen, &ss);
	if (r < 0)
		return answer_errno(c, (int)r);
	if (len > SEND_MAX) {
		if (s.type != SOCK_STREAM)
			return answer_errno(c, -EMSGSIZE);
		len = SEND_MAX;
	}
	if (len && (r = c->ops->read(c->p, c->sc, send_buf, buf, len)) < 0)
		return answer_errno(c, (int)r);
	if (alen) {
		decide(c, n, &s, &ss, (socklen_t)alen, false, &t);
		if (!t.allow)
			return jh_call_deny(c, t.err, t.detail);
		m.msg_name = &t.sa;
		m.msg_namelen = t.len;
	}
	if (s.domain == AF_NETLINK && !netlink_read_only(send_buf, len))
		return jh_call_deny(c, EPERM, "netlink request that changes state");
	iov = (struct iovec){send_buf, len};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	r = do_sendmsg(&s, &m, flags);
	if (r >= 0 && t.kind == T_DNS)
		dns_sock_add(n, s.ino, &ss, (socklen_t)alen);
	performed(c, r < 0 ? -1 : r, r < 0 ? (int)-r : 0, t.detail);
}

static void handle_sendmsg(struct jh_call *c)
{
	struct jh_net *n = jh_sentry_net(c->s);
	_cleanup_(sock_close) struct sock s = {.fd = -1};
	_cleanup_(target_free) struct target t = {.pathfd = -1};
	bool denied;
	ssize_t r;

	r = get_sock(c, (int)c->sc->args[0], &s);
	if (r < 0)
		return answer_errno(c, (int)r);
	r = send_one(c, n, &s, c->sc->args[1], (int)c->sc->args[2], &t, &denied);
	if (denied)
		return jh_call_deny(c, (int)-r, t.detail);
	performed(c, r < 0 ? -1 : r, r < 0 ? (int)-r : 0, t.detail);
}

static void handle_sendmmsg(struct jh_call *c)
{
	struct jh_net *n = jh_sentry_net(c->s);
	_cleanup_(sock_close) struct sock s = {.fd = -1};
	unsigned vlen = (unsigned)c->sc->args[2];
	uint64_t vec = c->sc->args[1];
	char *detail = NULL;
	unsigned sent = 0;
	ssize_t r = 0;

	r = get_sock(c, (int)c->sc->args[0], &s);
	if (r < 0)
		return answer_errno(c, (int)r);
	/* Linux sends at most UIO_MAXIOV; fewer is a legal answer. */
	vlen = JH_MIN(vlen, MMSG_MAX);
	for (; sent < vlen; sent++) {
		struct target t = {.pathfd = -1};
		uint64_t m = vec + (uint64_t)sent * sizeof(struct mmsghdr);
		unsigned int done;
		bool denied;

		r = send_one(c, n, &s, m, (int)c->sc->args[3], &t, &denied);
		target_free(&t);
		if (t.detail)
			detail = t.detail;
		if (r < 0) {
			if (denied && sent == 0)
				return jh_call_deny(c, (int)-r, detail);
			break;
		}
		done = (unsigned int)r;
		if (c->ops->write(c->p, c->sc, m + offsetof(struct mmsghdr, msg_len), &done,
				  sizeof(done)) < 0) {
			r = -EFAULT;
			break;
		}
		/* Each message takes call-owned detail buffers: stop before they run out. */
		if (c->nstrbuf >= JH_ARRAY_SIZE(c->strbuf)) {
			sent++;
			break;
		}
	}
	if (sent)
		performed(c, sent, 0, detail);
	else
		performed(c, -1, (int)-r, detail);
}

/* recvfrom(2) with a source address (without one it passes in the filter):
 * on a socket whose DNS the sentry answers, the answer is reported as coming
 * from the nameserver the task asked, as libc checks. Other sockets continue:
 * nothing is decided. */
static void handle_recvfrom(struct jh_call *c)
{
	struct jh_net *n = jh_sentry_net(c->s);
	_cleanup_(sock_close) struct sock s = {.fd = -1};
	struct sockaddr_storage ns, from;
	socklen_t nslen, fromlen = sizeof(from);
	uint64_t buf = c->sc->args[1], src = c->sc->args[4], srclen_ptr = c->sc->args[5];
	size_t len = JH_MIN((size_t)c->sc->args[2], (size_t)SEND_MAX);
	int flags = (int)c->sc->args[3];
	int32_t ulen;
	ssize_t r;

	if (get_sock(c, (int)c->sc->args[0], &s) < 0 || s.type != SOCK_DGRAM ||
	    !dns_sock_find(n, s.ino, &ns, &nslen))
		return jh_call_continue(c, NULL);
	if (srclen_ptr && c->ops->read(c->p, c->sc, &ulen, srclen_ptr, sizeof(ulen)) < 0)
		return answer_errno(c, -EFAULT);
	r = recvfrom(s.fd, send_buf, len, flags | MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);
	if (r < 0 && errno == EAGAIN && !(s.fl & O_NONBLOCK) && !(flags & MSG_DONTWAIT))
		return jh_call_continue(c, "nothing queued yet");
	if (r < 0)
		return performed(c, -1, errno, NULL);
	if (r > 0 && c->ops->write(c->p, c->sc, buf, send_buf, JH_MIN((size_t)r, len)) < 0)
		return answer_errno(c, -EFAULT);
	if ((fromlen == sizeof(struct sockaddr_in) &&
	     memcmp(&((struct sockaddr_in *)&from)->sin_port, &n->dns4_addr.sin_port, 2) == 0) ||
	    (fromlen == sizeof(struct sockaddr_in6) &&
	     (memcmp(&((struct sockaddr_in6 *)&from)->sin6_port, &n->dns4_addr.sin_port, 2) == 0 ||
	      memcmp(&((struct sockaddr_in6 *)&from)->sin6_port, &n->dns6_addr.sin6_port, 2) == 0))) {
		from = ns;
		fromlen = nslen;
	}
	if (srclen_ptr && ulen > 0) {
		if (c->ops->write(c->p, c->sc, src, &from, JH_MIN((size_t)ulen, (size_t)fromlen)) < 0)
			return answer_errno(c, -EFAULT);
	}
	if (srclen_ptr) {
		int32_t fl = (int32_t)fromlen;
		if (c->ops->write(c->p, c->sc, srclen_ptr, &fl, sizeof(fl)) < 0)
			return answer_errno(c, -EFAULT);
	}
	performed(c, (flags & MSG_TRUNC) ? r : (int64_t)JH_MIN((size_t)r, len), 0,
		  "DNS answer from the sentry");
}

const struct jh_handler_entry jh_net_handlers[] = {
	{"net_socket", handle_socket},	   {"net_connect", handle_connect},
	{"net_bind", handle_bind},	   {"net_listen", handle_listen},
	{"net_sendto", handle_sendto},	   {"net_sendmsg", handle_sendmsg},
	{"net_sendmmsg", handle_sendmmsg}, {"net_recvfrom", handle_recvfrom},
	{NULL, NULL},
};
