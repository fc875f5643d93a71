/* Namespace and Landlock backstops (see layers.h). The child enters what the host allows
 * and reports the mask to the supervisor, which records it in the run's audit
 * record and lets --require turn a missing layer into an error. */
#include "platform/layers.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/landlock.h"
#include "base/macro.h"
#include "platform/mountns.h"

static const struct {
	enum jh_layer layer;
	const char *name;
} names[] = {
	{JH_LAYER_USERNS, "userns"},
	{JH_LAYER_IPCNS, "ipcns"},
	{JH_LAYER_UTSNS, "utsns"},
	{JH_LAYER_CGROUPNS, "cgroupns"},
	{JH_LAYER_LANDLOCK_SCOPE, "landlock-scope"},
	{JH_LAYER_LANDLOCK_NET, "landlock-net"},
	{JH_LAYER_MOUNTNS, "mountns"},
};

const char *jh_layer_name(enum jh_layer l)
{
	for (size_t i = 0; i < JH_ARRAY_SIZE(names); i++)
		if (names[i].layer == l)
			return names[i].name;
	return "?";
}

int jh_layers_parse(const char *list, unsigned *ret)
{
	unsigned mask = 0;
	const char *p = list;

	if (!list || !*list)
		return -EINVAL;
	for (;;) {
		const char *end = strchrnul(p, ',');
		size_t n = (size_t)(end - p);
		bool found = false;

		for (size_t i = 0; i < JH_ARRAY_SIZE(names); i++)
			if (strlen(names[i].name) == n && strncmp(p, names[i].name, n) == 0) {
				mask |= names[i].layer;
				found = true;
			}
		if (!found)
			return -EINVAL;
		if (!*end)
			break;
		p = end + 1;
	}
	*ret = mask;
	return 0;
}

void jh_layers_format(unsigned mask, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < JH_ARRAY_SIZE(names); i++) {
		int n;
		if (!(mask & names[i].layer))
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? "," : "", names[i].name);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}

/* Writes a short string to a /proc file; async-signal-safe. */
static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* Formats "<id> <id> 1\n" without stdio's locale machinery. */
static void id_map_line(char *buf, unsigned id)
{
	char digits[16];
	int n = 0;
	char *p = buf;

	do {
		digits[n++] = (char)('0' + id % 10);
		id /= 10;
	} while (id);
	for (int r = 0; r < 2; r++) {
		for (int i = n - 1; i >= 0; i--)
			*p++ = digits[i];
		*p++ = ' ';
	}
	*p++ = '1';
	*p++ = '\n';
	*p = '\0';
}

unsigned jh_layers_enter(unsigned want, const char *hostname)
{
	unsigned got = 0;

	if ((want & JH_LAYER_USERNS) && geteuid() != 0) {
		uid_t uid = geteuid();
		gid_t gid = getegid();
		char line[48];

		if (unshare(CLONE_NEWUSER) == 0) {
			id_map_line(line, uid);
			if (write_file("/proc/self/setgroups", "deny") == 0 &&
			    write_file("/proc/self/uid_map", line) == 0) {
				id_map_line(line, gid);
				if (write_file("/proc/self/gid_map", line) == 0)
					got |= JH_LAYER_USERNS;
			}
			if (!(got & JH_LAYER_USERNS))
				return got; /* a half-made user namespace: take nothing more */
		}
	}
	/* Without a user namespace only root may make the others. */
	if (!(got & JH_LAYER_USERNS) && geteuid() != 0)
		return got;
	if ((want & JH_LAYER_IPCNS) && unshare(CLONE_NEWIPC) == 0)
		got |= JH_LAYER_IPCNS;
	if ((want & JH_LAYER_UTSNS) && unshare(CLONE_NEWUTS) == 0) {
		got |= JH_LAYER_UTSNS;
		if (hostname)
			(void)!sethostname(hostname, strlen(hostname));
		(void)!setdomainname("(none)", 6);
	}
	if ((want & JH_LAYER_CGROUPNS) && unshare(CLONE_NEWCGROUP) == 0)
		got |= JH_LAYER_CGROUPNS;
	return got;
}

int jh_landlock_ruleset(unsigned want, unsigned *ret_layers)
{
	int abi = jh_landlock_abi();
	uint64_t net = 0, scoped = 0;
	unsigned got = 0;
	int fd;

	if ((want & JH_LAYER_LANDLOCK_NET) && abi >= 4) {
		/* handled, with no rule allowing any port: refused */
		net = JH_LL_NET_BIND_TCP | JH_LL_NET_CONNECT_TCP;
		got |= JH_LAYER_LANDLOCK_NET;
	}
	if ((want & JH_LAYER_LANDLOCK_SCOPE) && abi >= 6) {
		scoped = JH_LL_SCOPE_ABSTRACT_UNIX_SOCKET | JH_LL_SCOPE_SIGNAL;
		got |= JH_LAYER_LANDLOCK_SCOPE;
	}
	if (!got)
		return -EOPNOTSUPP;
	fd = jh_landlock_create(0, net, scoped);
	if (fd < 0)
		return fd;
	*ret_layers = got;
	return fd;
}

unsigned jh_layers_probe(void)
{
	int fds[2];
	unsigned got = 0;
	pid_t pid;
	int st;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return 0;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return 0;
	}
	if (pid == 0) {
		unsigned m = jh_layers_enter(JH_LAYERS_NS_ALL, NULL);
		if (jh_mountns_try())
			m |= JH_LAYER_MOUNTNS;
		(void)!write(fds[1], &m, sizeof(m));
		_exit(0);
	}
	close(fds[1]);
	if (JH_RETRY_EINTR(read(fds[0], &got, sizeof(got))) != sizeof(got))
		got = 0;
	close(fds[0]);
	JH_RETRY_EINTR(waitpid(pid, &st, 0));
	if (jh_landlock_abi() >= 4)
		got |= JH_LAYER_LANDLOCK_NET;
	if (jh_landlock_abi() >= 6)
		got |= JH_LAYER_LANDLOCK_SCOPE;
	return got;
}
