/* Forensics of refused calls: the stack and the code at the syscall site.
 *
 * Two halves. In the caller (the sentry's dispatcher, with the task held in
 * its stop): the registers are completed from /proc/<tid>/syscall, and a
 * bounded snapshot is taken of the code around the instruction pointer and of
 * the top of the stack, with process_vm_readv — reads that fail give
 * "unreadable", never a wait. Then a forked helper does the parsing: it maps
 * the instruction pointer to /proc/<tid>/maps, disassembles the snapshot with
 * capstone, and unwinds the snapshot with libunwind, whose memory accessor
 * reads only the snapshot and whose unwind tables and symbol names come from
 * the mapped files (libunwind-ptrace's _UPT_find_proc_info/_UPT_get_proc_name,
 * which read the ELF files named in /proc/<tid>/maps; no ptrace request is
 * made). The helper has JH_FORENSICS_TIMEOUT_MS and is killed past it: a
 * crafted ELF file or a huge symbol table cannot crash or stall the sentry.
 *
 * The helper is a fork of a multi-threaded process; glibc's fork resets the
 * malloc and stdio locks in the child, which is what libunwind and capstone
 * need. It is held on a pipe until the parent has a pidfd for it, so the kill
 * at the deadline can never hit a reused pid. */
#include "platform/forensics.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libunwind-ptrace.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/macro.h"

#define REG_SP 7
#define REG_IP 16
#define SYSCALL_INSN_LEN 2 /* x86_64 `syscall`: 0f 05 */
#define RESULT_MAX 8192
#define SHOW_BEFORE 8 /* instructions shown before the syscall one */
#define SHOW_AFTER 3

struct snapshot {
	pid_t tid;
	struct jh_task_regs regs;
	uint64_t site; /* address of the syscall instruction */
	uint64_t code_lo;
	size_t code_len;
	uint8_t code[JH_FORENSICS_BYTES_BEFORE + SYSCALL_INSN_LEN + JH_FORENSICS_BYTES_AFTER];
	uint64_t stack_lo;
	size_t stack_len;
	uint8_t *stack; /* JH_FORENSICS_STACK_SNAPSHOT bytes */
};

struct out {
	char *p;
	size_t cap, len;
};

JH_PRINTF(2, 3) static void outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->cap == 0 || o->len >= o->cap - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len = JH_MIN(o->len + (size_t)n, o->cap - 1);
}

/* --- Parent side: registers and memory snapshot. --- */

/* /proc/<tid>/syscall: "nr a1 a2 a3 a4 a5 a6 sp pc" while blocked in a call. */
static void regs_from_proc(pid_t tid, struct jh_task_regs *r)
{
	char path[64], buf[512];
	unsigned long long v[9];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (sscanf(buf, "%llx %llx %llx %llx %llx %llx %llx %llx %llx", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) != 9)
		return;
	if (!(r->known & (1u << REG_SP))) {
		r->r[REG_SP] = v[7];
		r->known |= 1u << REG_SP;
	}
	if (!(r->known & (1u << REG_IP))) {
		r->r[REG_IP] = v[8];
		r->known |= 1u << REG_IP;
	}
}

/* Reads [addr, addr+len) page by page; returns how many leading bytes were read. */
static size_t read_prefix(pid_t tid, uint8_t *dst, uint64_t addr, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), got = 0;

	while (got < len) {
		uint64_t at = addr + got;
		size_t chunk = JH_MIN(page - (size_t)(at & (page - 1)), len - got);
		struct iovec l = {.iov_base = dst + got, .iov_len = chunk};
		struct iovec r = {.iov_base = (void *)(uintptr_t)at, .iov_len = chunk};
		ssize_t n = process_vm_readv(tid, &l, 1, &r, 1, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static void snapshot_code(struct snapshot *s)
{
	uint64_t lo = s->site >= JH_FORENSICS_BYTES_BEFORE ? s->site - JH_FORENSICS_BYTES_BEFORE : 0;
	uint64_t hi = s->site + SYSCALL_INSN_LEN + JH_FORENSICS_BYTES_AFTER;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	/* The bytes before the site may lie on an unmapped page: then start at
	 * the site's own page. */
	s->code_lo = lo;
	s->code_len = read_prefix(s->tid, s->code, lo, (size_t)(hi - lo));
	if (s->code_lo + s->code_len < s->site + SYSCALL_INSN_LEN) {
		uint64_t p = s->site & ~((uint64_t)page - 1);
		s->code_lo = JH_MAX(lo, p);
		s->code_len = read_prefix(s->tid, s->code, s->code_lo, (size_t)(hi - s->code_lo));
	}
}

/* --- Helper side. --- */

/* The task's mappings, read once by the helper from /proc/<tid>/maps. */
struct mapping {
	uint64_t lo, hi, off;
	char perms[5];
	char *path; /* "" for anonymous memory */
};
#define MAX_MAPPINGS 8192
static struct mapping *maps;
static size_t nmaps;

static void load_maps(pid_t tid)
{
	char fn[64], line[4096 + 128];
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/maps", (int)tid);
	f = fopen(fn, "re");
	if (!f)
		return;
	maps = calloc(MAX_MAPPINGS, sizeof(*maps));
	while (maps && nmaps < MAX_MAPPINGS && fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi, off;
		char pm[5] = "";
		int pos = 0;

		if (sscanf(line, "%llx-%llx %4s %llx %*s %*s %n", &lo, &hi, pm, &off, &pos) < 4)
			continue;
		line[strcspn(line, "\n")] = '\0';
		maps[nmaps] = (struct mapping){.lo = lo, .hi = hi, .off = off};
		memcpy(maps[nmaps].perms, pm, 5);
		maps[nmaps].path = strdup(pos > 0 ? line + pos : "");
		if (maps[nmaps].path)
			nmaps++;
	}
	fclose(f);
}

static const struct mapping *find_mapping(uint64_t addr)
{
	for (size_t i = 0; i < nmaps; i++)
		if (addr >= maps[i].lo && addr < maps[i].hi)
			return &maps[i];
	return NULL;
}

static void describe_mapping(struct out *o, uint64_t addr)
{
	const struct mapping *m = find_mapping(addr);

	if (!m)
		outf(o, "site 0x%" PRIx64 ": in no mapping", addr);
	else if (m->path[0] == '/')
		outf(o, "site 0x%" PRIx64 ": %s+0x%" PRIx64 " (%s)", addr, m->path,
		     addr - m->lo + m->off, m->perms);
	else if (m->path[0])
		outf(o, "site 0x%" PRIx64 ": %s %s (not file-backed code)", addr, m->path, m->perms);
	else
		outf(o, "site 0x%" PRIx64 ": [anonymous %.3s] (not file-backed code: injected or "
			"generated at run time)",
		     addr, m->perms);
}

static void disassemble(struct out *o, const struct snapshot *s)
{
	csh cs;
	cs_insn *insn = NULL;
	size_t n = 0;
	uint64_t start;

	describe_mapping(o, s->site);
	if (s->code_len == 0 || s->code_lo + s->code_len < s->site + SYSCALL_INSN_LEN) {
		outf(o, "\ncode unreadable");
		return;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		outf(o, "\ndisassembler unavailable");
		return;
	}
	/* x86 instructions have no fixed length: take the earliest start in
	 * the snapshot from which decoding lands exactly on the syscall site. */
	for (start = s->code_lo; start <= s->site; start++) {
		bool synced = false;

		n = cs_disasm(cs, s->code + (start - s->code_lo), s->code_len - (start - s->code_lo),
			      start, 0, &insn);
		for (size_t i = 0; i < n && !synced; i++)
			synced = insn[i].address == s->site;
		if (synced)
			break;
		cs_free(insn, n);
		insn = NULL;
		n = 0;
	}
	/* Decoded from as far back as the bytes allow, for alignment; shown:
	 * the last few instructions before the site and a few after. */
	{
		size_t at = 0, from, to;

		while (at < n && insn[at].address != s->site)
			at++;
		from = at > SHOW_BEFORE ? at - SHOW_BEFORE : 0;
		to = JH_MIN(n, at + 1 + SHOW_AFTER);
		for (size_t i = from; i < to; i++)
			outf(o, "\n%s 0x%" PRIx64 ": %s %s",
			     insn[i].address == s->site ? "=>" : "  ", insn[i].address,
			     insn[i].mnemonic, insn[i].op_str);
	}
	if (n == 0)
		outf(o, "\ncode does not decode");
	cs_free(insn, n);
	cs_close(&cs);
}

/* libunwind reads the snapshot only; registers from the snapshot's set. */
static const struct snapshot *cur_snap;

static int acc_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg)
{
	const struct snapshot *s = cur_snap;

	if (write)
		return -UNW_EINVAL;
	if (addr >= s->stack_lo && addr + sizeof(*val) <= s->stack_lo + s->stack_len) {
		memcpy(val, s->stack + (addr - s->stack_lo), sizeof(*val));
		return 0;
	}
	if (addr >= s->code_lo && addr + sizeof(*val) <= s->code_lo + s->code_len) {
		memcpy(val, s->code + (addr - s->code_lo), sizeof(*val));
		return 0;
	}
	/* Unwind tables (.eh_frame_hdr, .eh_frame) are read through here too:
	 * take them from the mapped file, which needs no access to the task
	 * (Yama's ptrace_scope=1 refuses process_vm_readv to a non-ancestor),
	 * else from the task. */
	{
		const struct mapping *m = find_mapping(addr);
		static int fd = -1;
		static const struct mapping *fd_map;
		struct iovec l = {.iov_base = val, .iov_len = sizeof(*val)};
		struct iovec r = {.iov_base = (void *)(uintptr_t)addr, .iov_len = sizeof(*val)};

		if (m && m->path[0] == '/' && addr + sizeof(*val) <= m->hi) {
			if (fd_map != m) {
				if (fd >= 0)
					close(fd);
				fd = open(m->path, O_RDONLY | O_CLOEXEC);
				fd_map = m;
			}
			if (fd >= 0 && pread(fd, val, sizeof(*val), (off_t)(addr - m->lo + m->off)) ==
					       (ssize_t)sizeof(*val))
				return 0;
		}
		if (process_vm_readv(s->tid, &l, 1, &r, 1, 0) == (ssize_t)sizeof(*val))
			return 0;
	}
	return -UNW_EINVAL;
}

static int acc_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write, void *arg)
{
	const struct snapshot *s = cur_snap;

	if (write || reg < 0 || reg >= JH_TASK_REGS_MAX || !(s->regs.known & (1u << reg)))
		return -UNW_EBADREG;
	*val = s->regs.r[reg];
	return 0;
}

static int acc_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write,
		     void *arg)
{
	return -UNW_EBADREG;
}

static int acc_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	return -UNW_EINVAL;
}

/* Code outside any file has no unwind tables. If it was reached by a call and
 * has not touched the stack since, the return address is at [sp]: show that
 * caller, marked as a guess. */
static bool guess_caller(struct out *o, const struct snapshot *s, unw_addr_space_t as, void *upt)
{
	const struct mapping *m;
	unw_word_t ret, off = 0;
	char name[256] = "";
	const char *base;

	if (s->stack_len < sizeof(ret))
		return false;
	memcpy(&ret, s->stack, sizeof(ret));
	m = find_mapping(ret);
	if (!m || m->perms[2] != 'x' || m->path[0] != '/')
		return false;
	if (_UPT_get_proc_name(as, ret, name, sizeof(name), &off, upt) < 0)
		name[0] = '\0';
	base = strrchr(m->path, '/') + 1;
	outf(o, "\n#1? 0x%016" PRIx64 " %s%s+0x%" PRIx64 " (%s)  <- return address at [sp], a guess",
	     (uint64_t)ret, name[0] ? name : "??", "", (uint64_t)(name[0] ? off : ret - m->lo),
	     base);
	return true;
}

static void unwind(struct out *o, const struct snapshot *s)
{
	unw_accessors_t acc = {
		.find_proc_info = _UPT_find_proc_info,
		.put_unwind_info = _UPT_put_unwind_info,
		.get_dyn_info_list_addr = _UPT_get_dyn_info_list_addr,
		.access_mem = acc_mem,
		.access_reg = acc_reg,
		.access_fpreg = acc_fpreg,
		.resume = acc_resume,
		.get_proc_name = _UPT_get_proc_name,
	};
	unw_addr_space_t as;
	unw_cursor_t cur;
	void *upt;
	int frame = 0;

	cur_snap = s;
	upt = _UPT_create(s->tid);
	as = unw_create_addr_space(&acc, 0);
	if (!upt || !as || unw_init_remote(&cur, as, upt) < 0) {
		outf(o, "stack unavailable");
		goto out;
	}
	do {
		unw_word_t ip = 0, off = 0;
		char name[256] = "";
		const struct mapping *m;
		const char *path, *base;

		if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || ip == 0)
			break;
		if (unw_get_proc_name(&cur, name, sizeof(name), &off) < 0)
			name[0] = '\0';
		m = find_mapping(ip);
		if (frame > 0 && (!m || m->perms[2] != 'x'))
			break; /* a bogus return address: the walk has lost its way */
		path = m ? m->path : "";
		base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		outf(o, "%s#%-2d 0x%016" PRIx64 " ", frame ? "\n" : "", frame, (uint64_t)ip);
		if (name[0])
			outf(o, "%s+0x%" PRIx64, name, (uint64_t)off);
		else
			outf(o, "??");
		if (base[0])
			outf(o, " (%s)", base);
		else
			outf(o, " [%s %.3s]", m && m->path[0] ? m->path : "anonymous",
			     m ? m->perms : "?");
		frame++;
		if (frame == 1 && m && m->path[0] != '/' && guess_caller(o, s, as, upt))
			break;
	} while (frame < JH_FORENSICS_MAX_FRAMES && unw_step(&cur) > 0);
	if (frame == 0)
		outf(o, "stack unavailable");
out:
	if (as)
		unw_destroy_addr_space(as);
	if (upt)
		_UPT_destroy(upt);
}

JH_NORETURN static void helper_main(const struct snapshot *s, int go_r, int res_w)
{
	static char stack[RESULT_MAX / 2], disasm[RESULT_MAX / 2];
	struct out os = {stack, sizeof(stack), 0}, od = {disasm, sizeof(disasm), 0};
	char c;

	if (JH_RETRY_EINTR(read(go_r, &c, 1)) != 1)
		_exit(1);
	alarm(1); /* a backstop: the parent kills at its deadline anyway */
	load_maps(s->tid);
	disassemble(&od, s);
	if (s->stack_len == 0)
		outf(&os, "stack unreadable");
	else
		unwind(&os, s);
	(void)!write(res_w, stack, os.len + 1);
	(void)!write(res_w, disasm, od.len + 1);
	_exit(0);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the helper's two NUL-terminated strings until EOF or the deadline. */
static int read_result(int fd, char *buf, size_t cap, size_t *ret_len)
{
	int64_t deadline = mono_ms() + JH_FORENSICS_TIMEOUT_MS;
	size_t len = 0;

	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - mono_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if (len == cap)
			break;
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	*ret_len = len;
	return 0;
}

int jh_forensics_collect(pid_t tid, uint64_t ip, const struct jh_task_regs *regs, char *stack,
			 size_t stack_cap, char *disasm, size_t disasm_cap)
{
	_cleanup_free_ uint8_t *stackbuf = NULL;
	_cleanup_free_ char *res = NULL;
	_cleanup_close_ int go_r = -1, go_w = -1, res_r = -1, res_w = -1, pidfd = -1;
	struct snapshot s = {.tid = tid};
	struct out os = {stack, stack_cap, 0}, od = {disasm, disasm_cap, 0};
	size_t len = 0;
	int fds[2], r;
	pid_t pid;

	if (stack_cap)
		stack[0] = '\0';
	if (disasm_cap)
		disasm[0] = '\0';
	if (regs)
		s.regs = *regs;
	if (!(s.regs.known & (1u << REG_IP)) && ip) {
		s.regs.r[REG_IP] = ip;
		s.regs.known |= 1u << REG_IP;
	}
	regs_from_proc(tid, &s.regs);
	if (!(s.regs.known & (1u << REG_IP)) || s.regs.r[REG_IP] < SYSCALL_INSN_LEN) {
		outf(&os, "stack unavailable: no instruction pointer");
		outf(&od, "code unavailable: no instruction pointer");
		return -ENODATA;
	}
	s.site = s.regs.r[REG_IP] - SYSCALL_INSN_LEN;
	snapshot_code(&s);
	stackbuf = malloc(JH_FORENSICS_STACK_SNAPSHOT);
	if (!stackbuf)
		return -ENOMEM;
	s.stack = stackbuf;
	if (s.regs.known & (1u << REG_SP)) {
		s.stack_lo = s.regs.r[REG_SP];
		s.stack_len = read_prefix(tid, stackbuf, s.stack_lo, JH_FORENSICS_STACK_SNAPSHOT);
	}
	res = malloc(RESULT_MAX);
	if (!res)
		return -ENOMEM;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return jh_negerrno();
	go_r = fds[0], go_w = fds[1];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return jh_negerrno();
	res_r = fds[0], res_w = fds[1];
	pid = fork();
	if (pid < 0)
		return jh_negerrno();
	if (pid == 0)
		helper_main(&s, go_r, res_w);
	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0) {
		/* It waits on go_r and cannot have exited: the pid is still its own. */
		r = jh_negerrno();
		kill(pid, SIGKILL);
		return r;
	}
	jh_closep(&go_r);
	jh_closep(&res_w);
	if (JH_RETRY_EINTR(write(go_w, "g", 1)) != 1)
		r = jh_negerrno();
	else
		r = read_result(res_r, res, RESULT_MAX, &len);
	pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
	{
		siginfo_t si;
		/* Another thread reaping every child (a platform's supervisor) may
		 * have taken it already: ECHILD is fine. */
		(void)waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
	}
	if (r < 0 || len == 0) {
		outf(&os, "stack not collected: %s", r < 0 ? strerror(-r) : "the helper failed");
		outf(&od, "code not collected: %s", r < 0 ? strerror(-r) : "the helper failed");
		return r < 0 ? r : -EIO;
	}
	{
		const char *a = res, *b = memchr(res, '\0', len);
		if (!b || !memchr(b + 1, '\0', len - (size_t)(b + 1 - res)))
			return -EIO;
		outf(&os, "%s", a);
		outf(&od, "%s", b + 1);
	}
	return 0;
}
