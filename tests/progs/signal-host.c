/* Tries to reach a process outside the sandbox by pid: argv[1] is the pid
 * (argv[2], optional, its process group).
 * Prints one line per call: "NAME=OK" or "NAME=ERRNO". Every call is made with
 * signal 0 or a harmless request, so nothing is hurt should one succeed. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *name, long r)
{
	printf("%s=%s\n", name, r < 0 ? (errno == ESRCH ? "ESRCH" : errno == EPERM ? "EPERM" : strerror(errno)) : "OK");
}

int main(int argc, char **argv)
{
	pid_t pid = argc > 1 ? atoi(argv[1]) : 1;
	long hidden = 0x100000000L | pid; /* upper bits the kernel ignores */
	struct rlimit rl;
	cpu_set_t set;
	siginfo_t si;

	errno = 0; show("kill", kill(pid, 0));
	errno = 0; show("kill-hidden", syscall(SYS_kill, hidden, 0));
	/* the host process's group: argv[2] when given (inside a pid namespace
	 * getpgid() of a host pid fails, and kill(-(-1)) would name pid 1, the
	 * sandbox's own init) */
	{
		pid_t g = argc > 2 ? atoi(argv[2]) : getpgid(pid);
		errno = 0; show("kill-pgrp", g > 0 ? kill(-g, 0) : (errno = ESRCH, -1L));
	}
	errno = 0; show("tkill", syscall(SYS_tkill, pid, 0));
	errno = 0; show("tgkill", syscall(SYS_tgkill, pid, pid, 0));
	memset(&si, 0, sizeof(si));
	si.si_code = SI_QUEUE;
	errno = 0; show("rt_sigqueueinfo", syscall(SYS_rt_sigqueueinfo, pid, 0, &si));
	errno = 0; show("pidfd_open", syscall(SYS_pidfd_open, pid, 0));
	errno = 0; show("prlimit", prlimit(pid, RLIMIT_NOFILE, NULL, &rl));
	errno = 0; show("getsid", getsid(pid));
	errno = 0; show("getpgid", getpgid(pid));
	errno = 0; show("sched_getaffinity-self", sched_getaffinity(0, sizeof(set), &set));
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	errno = 0; show("sched_setaffinity", sched_setaffinity(pid, sizeof(set), &set));
	errno = 0; show("setpriority", setpriority(PRIO_PROCESS, (id_t)pid, 19));
	errno = 0; show("setpriority-user", setpriority(PRIO_USER, 0, 19));
	errno = 0; show("kill-self", kill(getpid(), 0));
	errno = 0; show("kill-own-group", kill(0, 0));
	return 0;
}
