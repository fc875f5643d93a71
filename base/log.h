/* The one logger: writes whole lines to a pre-opened fd with a single write(2)
 * and no allocation, so it works inside the sentry after its own filter is in
 * place. Messages are lowercase, the failing operation first, user strings
 * quoted: "cannot open 'policy.json': No such file or directory".
 */
#ifndef JH_BASE_LOG_H
#define JH_BASE_LOG_H

#include <stdarg.h>

#include "base/macro.h"

enum jh_log_level { JH_LOG_ERROR, JH_LOG_WARNING, JH_LOG_INFO, JH_LOG_DEBUG };

/* Sets the program name prefix ("jhansi-exec") and the fd written to (stderr by
 * default). The fd must stay open for the process's life. */
void jh_log_setup(const char *prog, int fd);
/* Messages above `level` are dropped. Default JH_LOG_WARNING. */
void jh_log_set_level(enum jh_log_level level);
enum jh_log_level jh_log_get_level(void);
int jh_log_fd(void);

void jh_logv(enum jh_log_level level, const char *fmt, va_list ap) JH_PRINTF(2, 0);
void jh_log(enum jh_log_level level, const char *fmt, ...) JH_PRINTF(2, 3);

#define jh_error(...) jh_log(JH_LOG_ERROR, __VA_ARGS__)
#define jh_warn(...) jh_log(JH_LOG_WARNING, __VA_ARGS__)
#define jh_info(...) jh_log(JH_LOG_INFO, __VA_ARGS__)
#define jh_debug(...) jh_log(JH_LOG_DEBUG, __VA_ARGS__)

/* Logs at error level and returns `r` (a -errno), for `return jh_log_errno(r, ...)`. */
int jh_log_errno(int r, const char *fmt, ...) JH_PRINTF(2, 3);

#endif
