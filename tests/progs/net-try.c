/* Network attempts made from inside the sandbox, for tests/integration/test_net.c.
 * Prints one line per attempt: "OK <what the server said>" or the errno name.
 *
 *   net-try connect IP PORT         TCP connect (v4, v6, v4-mapped), read the banner
 *   net-try udp IP PORT             sendto a datagram, read an echo (1 s)
 *   net-try unix PATH | abstract NAME
 *   net-try raw | packet            socket() of those kinds
 *   net-try race GOODIP BADIP PORT  a thread flips the sockaddr while connect is checked */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *ename(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case ENOENT: return "ENOENT";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ENETUNREACH: return "ENETUNREACH";
	case EINVAL: return "EINVAL";
	default: return strerror(e);
	}
}

static int fill(const char *ip, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		return sizeof(*sin6);
	}
	exit(2);
}

static void read_banner(int fd)
{
	char buf[256];
	struct pollfd p = {fd, POLLIN, 0};
	ssize_t n = 0;

	if (poll(&p, 1, 2000) > 0)
		n = read(fd, buf, sizeof(buf) - 1);
	char *tag;

	buf[n > 0 ? n : 0] = '\0';
	tag = strstr(buf, "X-Server: "); /* the test's HTTP servers name themselves */
	tag = tag ? tag + 10 : buf;
	tag[strcspn(tag, "\r\n")] = '\0';
	printf("OK %s\n", tag);
}

static int do_connect(const char *ip, int port)
{
	struct sockaddr_storage ss;
	int len = fill(ip, port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return printf("socket %s\n", ename(errno)), 0;
	if (connect(fd, (struct sockaddr *)&ss, (socklen_t)len) < 0)
		return printf("%s\n", ename(errno)), 0;
	read_banner(fd);
	return 0;
}

static int do_udp(const char *ip, int port)
{
	struct sockaddr_storage ss;
	int len = fill(ip, port, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (sendto(fd, "ping", 4, 0, (struct sockaddr *)&ss, (socklen_t)len) < 0)
		return printf("%s\n", ename(errno)), 0;
	read_banner(fd);
	return 0;
}

static int do_unix(const char *name, int abstract)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	socklen_t len;

	if (abstract) {
		strncpy(sun.sun_path + 1, name, sizeof(sun.sun_path) - 2);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	} else {
		strncpy(sun.sun_path, name, sizeof(sun.sun_path) - 1);
		len = sizeof(sun);
	}
	if (connect(fd, (struct sockaddr *)&sun, len) < 0)
		return printf("%s\n", ename(errno)), 0;
	read_banner(fd);
	return 0;
}

static struct sockaddr_storage race_ss;
static struct sockaddr_in race_good, race_bad;
static atomic_bool race_stop;

static void *flipper(void *arg)
{
	(void)arg;
	while (!atomic_load(&race_stop)) {
		memcpy(&race_ss, &race_bad, sizeof(race_bad));
		memcpy(&race_ss, &race_good, sizeof(race_good));
	}
	return NULL;
}

/* Connects 300 times while a thread flips the address between the allowed
 * one and a forbidden one; counts which server answered. */
static int do_race(const char *good, const char *bad, int port)
{
	pthread_t th;
	int ngood = 0, nbad = 0, nrefused = 0;

	fill(good, port, (struct sockaddr_storage *)&race_good);
	fill(bad, port, (struct sockaddr_storage *)&race_bad);
	memcpy(&race_ss, &race_good, sizeof(race_good));
	pthread_create(&th, NULL, flipper, NULL);
	for (int i = 0; i < 300; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		char buf[64] = "";
		ssize_t n;

		if (connect(fd, (struct sockaddr *)&race_ss, sizeof(struct sockaddr_in)) < 0) {
			nrefused++;
			close(fd);
			continue;
		}
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		if (strstr(buf, "metadata"))
			nbad++;
		else
			ngood++;
		close(fd);
	}
	atomic_store(&race_stop, true);
	pthread_join(th, NULL);
	printf("good=%d bad=%d refused=%d\n", ngood, nbad, nrefused);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 4 && strcmp(argv[1], "connect") == 0)
		return do_connect(argv[2], atoi(argv[3]));
	if (argc == 4 && strcmp(argv[1], "udp") == 0)
		return do_udp(argv[2], atoi(argv[3]));
	if (argc == 3 && strcmp(argv[1], "unix") == 0)
		return do_unix(argv[2], 0);
	if (argc == 3 && strcmp(argv[1], "abstract") == 0)
		return do_unix(argv[2], 1);
	if (argc == 2 && strcmp(argv[1], "raw") == 0) {
		int a = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
		int e1 = errno;
		int b = socket(AF_PACKET, SOCK_RAW, 0);
		int e2 = errno;
		printf("raw=%s packet=%s\n", a < 0 ? ename(e1) : "OPEN", b < 0 ? ename(e2) : "OPEN");
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "race") == 0)
		return do_race(argv[2], argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: net-try connect|udp|unix|abstract|raw|race ...\n");
	return 2;
}
