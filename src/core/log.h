/* Logging: levels, and text (for people) or JSON lines (for machines).
 * Lines go to stderr. Thread-safe: a line is written with one write(). */
#ifndef IG_LOG_H
#define IG_LOG_H

typedef enum { IG_LOG_DEBUG, IG_LOG_INFO, IG_LOG_WARN, IG_LOG_ERROR, IG_LOG_OFF } ig_log_level;
typedef enum { IG_LOG_TEXT, IG_LOG_JSON } ig_log_format;

void ig_log_setup(ig_log_level level, ig_log_format format);
ig_log_level ig_log_get_level(void);
ig_log_format ig_log_get_format(void);
/* Parse "debug|info|warn|error|off"; return -1 if unknown. */
int ig_log_parse_level(const char *s);

/* Log a message. `event` is a short stable name ("load.done"); fmt the human
 * text. Extra structured fields: a NULL-terminated list of key, value string
 * pairs passed to ig_log_kv. */
void ig_log(ig_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ig_log_kv(ig_log_level level, const char *event, const char *msg, ...);

#define ig_debug(ev, ...) ig_log(IG_LOG_DEBUG, ev, __VA_ARGS__)
#define ig_info(ev, ...) ig_log(IG_LOG_INFO, ev, __VA_ARGS__)
#define ig_warn(ev, ...) ig_log(IG_LOG_WARN, ev, __VA_ARGS__)
#define ig_error_log(ev, ...) ig_log(IG_LOG_ERROR, ev, __VA_ARGS__)

#endif
