/* Structured logging to stderr. */
#include "log.h"
#include "buf.h"
#include "str.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static ig_log_level g_level = IG_LOG_INFO;
static ig_log_format g_format = IG_LOG_TEXT;
static const char *names[] = {"debug", "info", "warn", "error", "off"};

void ig_log_setup(ig_log_level level, ig_log_format format)
{
    g_level = level;
    g_format = format;
}

ig_log_level ig_log_get_level(void) { return g_level; }
ig_log_format ig_log_get_format(void) { return g_format; }

int ig_log_parse_level(const char *s)
{
    for (int i = 0; i <= IG_LOG_OFF; i++)
        if (!strcmp(s, names[i])) return i;
    if (!strcmp(s, "warning")) return IG_LOG_WARN;
    return -1;
}

static void emit(ig_log_level level, const char *event, const char *msg, va_list *kv)
{
    if (level < g_level || g_level == IG_LOG_OFF) return;
    ig_buf b = IG_BUF_INIT;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    if (g_format == IG_LOG_JSON) {
        ig_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":", when, names[level]);
        ig_json_quote(&b, event);
        ig_buf_puts(&b, ",\"msg\":");
        ig_json_quote(&b, msg);
        if (kv) {
            const char *k;
            while ((k = va_arg(*kv, const char *))) {
                const char *v = va_arg(*kv, const char *);
                ig_buf_putc(&b, ',');
                ig_json_quote(&b, k);
                ig_buf_putc(&b, ':');
                ig_json_quote(&b, v ? v : "");
            }
        }
        ig_buf_puts(&b, "}\n");
    } else {
        ig_buf_printf(&b, "%s %-5s %s", when, names[level], msg);
        if (kv) {
            const char *k;
            while ((k = va_arg(*kv, const char *))) {
                const char *v = va_arg(*kv, const char *);
                ig_buf_printf(&b, " %s=%s", k, v ? v : "");
            }
        }
        ig_buf_putc(&b, '\n');
    }
    ssize_t w = write(2, b.data, b.len);
    (void)w;
    ig_buf_free(&b);
}

void ig_log(ig_log_level level, const char *event, const char *fmt, ...)
{
    if (level < g_level) return;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    emit(level, event, msg, NULL);
}

void ig_log_kv(ig_log_level level, const char *event, const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    emit(level, event, msg, &ap);
    va_end(ap);
}
