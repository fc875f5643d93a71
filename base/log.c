/* The logger (see log.h). Formats into a stack buffer and emits the line with
 * one write(2), so concurrent threads never interleave within a line and no
 * heap allocation happens on the way. Lines longer than the buffer are cut. */
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *log_prog = "jhansi";
static int log_fd = STDERR_FILENO;
static enum jh_log_level log_level = JH_LOG_WARNING;

void jh_log_setup(const char *prog, int fd)
{
	if (prog)
		log_prog = prog;
	if (fd >= 0)
		log_fd = fd;
}

void jh_log_set_level(enum jh_log_level level)
{
	log_level = level;
}

enum jh_log_level jh_log_get_level(void)
{
	return log_level;
}

int jh_log_fd(void)
{
	return log_fd;
}

void jh_logv(enum jh_log_level level, const char *fmt, va_list ap)
{
	static const char *const prefix[] = {
		[JH_LOG_ERROR] = "",
		[JH_LOG_WARNING] = "warning: ",
		[JH_LOG_INFO] = "",
		[JH_LOG_DEBUG] = "debug: ",
	};
	char buf[1024];
	int saved = errno;
	size_t n;
	int r;

	if (level > log_level)
		return;
	r = snprintf(buf, sizeof(buf), "%s: %s", log_prog, prefix[level]);
	n = r < 0 ? 0 : JH_MIN((size_t)r, sizeof(buf) - 1);
	r = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	if (r > 0)
		n = JH_MIN(n + (size_t)r, sizeof(buf) - 2);
	buf[n++] = '\n';
	(void)!write(log_fd, buf, n);
	errno = saved;
}

void jh_log(enum jh_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	jh_logv(level, fmt, ap);
	va_end(ap);
}

int jh_log_errno(int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	jh_logv(JH_LOG_ERROR, fmt, ap);
	va_end(ap);
	return r;
}
