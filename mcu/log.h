/* Levelled logging to stderr and, optionally, syslog.
 * Safe to call from any thread: each line is formatted into a stack buffer and written
 * with one write(2), so lines from workers and the signaling thread never interleave. */
#ifndef MCU_LOG_H
#define MCU_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(enum log_level level, bool use_syslog);
void log_close(void);
int log_level_parse(const char *name); /* "error".."debug" -> level, or -1 */
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* One audit entry as a line "audit audit actor=.. action=.. target=.. address=.. result=..
 * [detail=..]", written whatever log_level says, and to syslog (when on) as
 * LOG_AUTHPRIV|LOG_NOTICE. A value with a space, quote, '=' or control character is quoted and
 * escaped, so no value can end the line or forge a field. NULL values are "". */
void log_audit(const char *actor, const char *action, const char *target, const char *address,
               const char *result, const char *detail);
/* Tests: with a hook, what would go to syslog(3) goes to fn instead ("module: message").
 * Set it before log_init; NULL restores syslog(3). */
void log_set_syslog_hook(void (*fn)(int priority, const char *line));

#define log_error(mod, ...) log_msg(LOG_LVL_ERROR, mod, __VA_ARGS__)
#define log_warn(mod, ...) log_msg(LOG_LVL_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...) log_msg(LOG_LVL_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) \
    do { if (log_enabled(LOG_LVL_DEBUG)) log_msg(LOG_LVL_DEBUG, mod, __VA_ARGS__); } while (0)

#endif
