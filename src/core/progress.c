/* Progress reporting: a one-line bar redrawn with \r on a terminal, or
 * structured log lines every few seconds elsewhere. See progress.h. */
#include "progress.h"

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "str.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ig_progress {
    pthread_mutex_t lock;
    char *kind, *name;
    char phase[32];
    uint64_t total, bytes, rows;
    uint64_t start_ns, last_draw_ns, interval_ns;
    int64_t started_us;
    bool tty, quiet, drawn;
    ig_progress_sink sink;
    void *sink_ctx;
};

void ig_format_bytes(uint64_t n, char *out, unsigned size)
{
    static const char *units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1000.0 && u < 5) {
        v /= 1000.0;
        u++;
    }
    if (u == 0) snprintf(out, size, "%llu B", (unsigned long long)n);
    else snprintf(out, size, "%.*f %s", v < 10 ? 2 : v < 100 ? 1 : 0, v, units[u]);
}

void ig_format_count(uint64_t n, char *out, unsigned size)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    char buf[48];
    int o = 0;
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    snprintf(out, size, "%s", buf);
}

void ig_format_eta(uint64_t s, char *out, unsigned size)
{
    if (s >= 3600)
        snprintf(out, size, "%llu:%02llu:%02llu", (unsigned long long)(s / 3600),
                 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
    else snprintf(out, size, "%llu:%02llu", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
}

ig_progress *ig_progress_start(const ig_progress_opts *o)
{
    ig_progress *p = ig_calloc(1, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    p->kind = ig_strdup(o->kind ? o->kind : "task");
    p->name = ig_strdup(o->name ? o->name : "");
    p->total = o->total_bytes;
    p->tty = o->tty < 0 ? isatty(2) : o->tty != 0;
    p->quiet = o->quiet;
    p->interval_ns = (uint64_t)(o->interval_ms ? o->interval_ms : p->tty ? 100 : 5000) * 1000000u;
    p->start_ns = p->last_draw_ns = ig_now_ns();
    p->started_us = ig_wall_us();
    p->sink = o->sink;
    p->sink_ctx = o->sink_ctx;
    return p;
}

void ig_progress_set_total(ig_progress *p, uint64_t total)
{
    pthread_mutex_lock(&p->lock);
    p->total = total;
    pthread_mutex_unlock(&p->lock);
}

void ig_progress_set_phase(ig_progress *p, const char *phase)
{
    pthread_mutex_lock(&p->lock);
    snprintf(p->phase, sizeof p->phase, "%s", phase ? phase : "");
    pthread_mutex_unlock(&p->lock);
}

/* Draw (tty) or log (not) the current state; lock held. */
static void draw(ig_progress *p, uint64_t now)
{
    if (p->quiet) return;
    double secs = (double)(now - p->start_ns) / 1e9;
    double rate = secs > 0.05 ? (double)p->bytes / secs : 0;
    char b[32], t[32], r[32], rows[32], eta[32] = "";
    ig_format_bytes(p->bytes, b, sizeof b);
    ig_format_bytes(p->total, t, sizeof t);
    ig_format_bytes((uint64_t)rate, r, sizeof r);
    ig_format_count(p->rows, rows, sizeof rows);
    if (p->total && rate > 0 && p->bytes < p->total)
        ig_format_eta((uint64_t)((double)(p->total - p->bytes) / rate), eta, sizeof eta);
    if (p->tty) {
        char line[512];
        int n = snprintf(line, sizeof line, "\r%s %s", p->name, p->phase);
        if (p->total) {
            unsigned pct = (unsigned)(p->bytes >= p->total ? 100 : p->bytes * 100 / p->total);
            char bar[24];
            unsigned fill = pct * 20 / 100;
            for (unsigned i = 0; i < 20; i++) bar[i] = i < fill ? '#' : '.';
            bar[20] = '\0';
            n += snprintf(line + n, sizeof line - (size_t)n, " [%s] %3u%% %s / %s", bar, pct, b, t);
        } else {
            n += snprintf(line + n, sizeof line - (size_t)n, " %s", b);
        }
        if (n < (int)sizeof line && p->rows)
            n += snprintf(line + n, sizeof line - (size_t)n, "  %s rows", rows);
        if (n < (int)sizeof line && rate > 0)
            n += snprintf(line + n, sizeof line - (size_t)n, "  %s/s", r);
        if (n < (int)sizeof line && eta[0])
            n += snprintf(line + n, sizeof line - (size_t)n, "  ETA %s", eta);
        if (n >= (int)sizeof line) n = (int)sizeof line - 1;
        ssize_t w = write(2, line, (size_t)n);
        w = write(2, "\x1b[K", 3);
        (void)w;
        p->drawn = true;
    } else {
        char bytes_s[24], rows_s[24], total_s[24], rate_s[24];
        snprintf(bytes_s, sizeof bytes_s, "%llu", (unsigned long long)p->bytes);
        snprintf(rows_s, sizeof rows_s, "%llu", (unsigned long long)p->rows);
        snprintf(total_s, sizeof total_s, "%llu", (unsigned long long)p->total);
        snprintf(rate_s, sizeof rate_s, "%.0f", rate);
        char msg[256];
        snprintf(msg, sizeof msg, "%s %s: %s%s%s, %s rows", p->name, p->phase[0] ? p->phase : "running",
                 b, p->total ? " of " : "", p->total ? t : "", rows);
        ig_log_kv(IG_LOG_INFO, "progress", msg, "kind", p->kind, "name", p->name, "phase", p->phase,
                  "bytes", bytes_s, "total_bytes", total_s, "rows", rows_s, "bytes_per_s", rate_s,
                  "eta", eta, (const char *)NULL);
    }
    p->last_draw_ns = now;
}

static void maybe_draw(ig_progress *p)
{
    uint64_t now = ig_now_ns();
    if (now - p->last_draw_ns >= p->interval_ns) draw(p, now);
}

void ig_progress_update(ig_progress *p, uint64_t bytes, uint64_t rows)
{
    pthread_mutex_lock(&p->lock);
    p->bytes = bytes;
    p->rows = rows;
    maybe_draw(p);
    pthread_mutex_unlock(&p->lock);
}

void ig_progress_add(ig_progress *p, uint64_t bytes, uint64_t rows)
{
    pthread_mutex_lock(&p->lock);
    p->bytes += bytes;
    p->rows += rows;
    maybe_draw(p);
    pthread_mutex_unlock(&p->lock);
}

uint64_t ig_progress_bytes(const ig_progress *p) { return p->bytes; }
uint64_t ig_progress_rows(const ig_progress *p) { return p->rows; }

void ig_progress_finish(ig_progress *p, const char *status, uint64_t rows, uint64_t bytes,
                        const char *message, const char *details)
{
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    uint64_t took = ig_now_ns() - p->start_ns;
    if (p->tty && p->drawn && !p->quiet) {
        ssize_t w = write(2, "\r\x1b[K", 4);
        (void)w;
    } else if (!p->tty && !p->quiet) {
        char rows_s[24], bytes_s[24], ms[24], dur[24];
        snprintf(rows_s, sizeof rows_s, "%llu", (unsigned long long)rows);
        snprintf(bytes_s, sizeof bytes_s, "%llu", (unsigned long long)bytes);
        snprintf(ms, sizeof ms, "%llu", (unsigned long long)(took / 1000000));
        ig_format_duration(took, dur, sizeof dur);
        char msg[512];
        snprintf(msg, sizeof msg, "%s %s in %s%s%s", p->name, status ? status : "done", dur,
                 message ? ": " : "", message ? message : "");
        ig_log_kv(IG_LOG_INFO, "progress.done", msg, "kind", p->kind, "name", p->name, "status",
                  status ? status : "", "rows", rows_s, "bytes", bytes_s, "ms", ms,
                  (const char *)NULL);
    }
    pthread_mutex_unlock(&p->lock);
    if (p->sink) {
        ig_progress_result r = {
            .kind = p->kind, .name = p->name, .status = status ? status : "ok",
            .message = message, .details = details, .rows = rows, .bytes = bytes,
            .started_us = p->started_us, .finished_us = ig_wall_us(),
        };
        p->sink(p->sink_ctx, &r);
    }
    pthread_mutex_destroy(&p->lock);
    free(p->kind);
    free(p->name);
    free(p);
}
