/* Levelled logging: one formatted line per call, to stderr and syslog. Audit entries are a
 * level of their own that log_level never drops, and go to syslog's authpriv facility. */
#include "mcu/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static _Atomic int g_level = LOG_LVL_INFO;
static bool g_syslog;
static void (*g_syslog_hook)(int priority, const char *line); /* tests only; NULL = syslog(3) */

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const int syslog_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

void log_init(enum log_level level, bool use_syslog)
{
    atomic_store(&g_level, (int)level);
    g_syslog = use_syslog;
    if (use_syslog && !g_syslog_hook)
        openlog("mcu", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_close(void)
{
    if (g_syslog && !g_syslog_hook)
        closelog();
    g_syslog = false;
}

void log_set_syslog_hook(void (*fn)(int priority, const char *line))
{
    g_syslog_hook = fn;
}

int log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

bool log_enabled(enum log_level level)
{
    return (int)level <= atomic_load_explicit(&g_level, memory_order_relaxed);
}

/* One line, stamped, to stderr with a single write; then to syslog if it is on. */
static void emit(const char *level, int priority, const char *module, const char *msg)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char line[1200];
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %-9s %s\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level, module, msg);
    if (n > (int)sizeof line - 1) {
        n = (int)sizeof line - 1;
        line[n - 1] = '\n'; /* a cut line still ends its line */
    }
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
    if (!g_syslog)
        return;
    if (g_syslog_hook) {
        snprintf(line, sizeof line, "%s: %s", module, msg);
        g_syslog_hook(priority, line);
    } else {
        syslog(priority, "%s: %s", module, msg);
    }
}

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    emit(level_names[level], syslog_prio[level], module, msg);
}

/* Appends " name=value" to out (at *pos, capacity cap), quoting a value that is empty or holds
 * a space, '"', '\\', '=' or a control character; inside quotes '"' and '\\' are escaped and
 * control bytes written as \xNN, so no value can end the line or fake another field. */
static void put_field(char *out, size_t cap, size_t *pos, const char *name, const char *v)
{
    v = v ? v : "";
    bool quote = !v[0];
    for (const unsigned char *p = (const unsigned char *)v; *p && !quote; p++)
        quote = *p <= ' ' || *p == 0x7f || *p == '"' || *p == '\\' || *p == '=';
    int n = snprintf(out + *pos, cap - *pos, " %s=%s", name, quote ? "\"" : "");
    if (n < 0 || *pos + (size_t)n >= cap) { /* no room even for the name: the line ends here */
        out[*pos] = '\0';
        return;
    }
    *pos += (size_t)n;
    for (const unsigned char *p = (const unsigned char *)v; *p && *pos + 6 < cap; p++) {
        if (quote && (*p < ' ' || *p == 0x7f))
            *pos += (size_t)snprintf(out + *pos, cap - *pos, "\\x%02x", *p);
        else if (quote && (*p == '"' || *p == '\\'))
            *pos += (size_t)snprintf(out + *pos, cap - *pos, "\\%c", *p);
        else
            out[(*pos)++] = (char)*p;
    }
    if (quote && *pos + 1 < cap)
        out[(*pos)++] = '"';
    out[*pos] = '\0';
}

void log_audit(const char *actor, const char *action, const char *target, const char *address,
               const char *result, const char *detail)
{
    char msg[1024];
    size_t pos = 0;
    msg[0] = '\0';
    put_field(msg, sizeof msg, &pos, "actor", actor);
    put_field(msg, sizeof msg, &pos, "action", action);
    put_field(msg, sizeof msg, &pos, "target", target);
    put_field(msg, sizeof msg, &pos, "address", address);
    put_field(msg, sizeof msg, &pos, "result", result);
    if (detail && detail[0])
        put_field(msg, sizeof msg, &pos, "detail", detail);
    emit("audit", LOG_AUTHPRIV | LOG_NOTICE, "audit", msg + 1); /* without the leading space */
}
