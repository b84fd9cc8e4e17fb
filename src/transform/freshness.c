/* `ingot source freshness`: for each source table with a freshness config
 * (`freshness:` of the table, else of its source; `warn_after` /
 * `error_after` as {count, period: minute|hour|day}, an optional `filter`)
 * and a `loaded_at_field`, the age of max(loaded_at_field) against the
 * thresholds: pass, warn, error (stale) or runtime error (the query failed).
 * Timestamps without a time zone are read as UTC, as dbt does. Results go
 * to the result (one node each) and to target/sources.json (dbt's sources
 * v3 artifact, written by artifacts.c). `freshness: null` on a table turns it off. */
#include "transform/tf_int.h"
#include "transform/artifacts.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/version.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double period_seconds(const json_t *t)
{
    if (!json_is_object(t)) return -1;
    json_t *c = json_object_get(t, "count"), *pe = json_object_get(t, "period");
    if (!json_is_number(c) || !json_is_string(pe)) return -1;
    const char *p = json_string_value(pe);
    double unit = !strcmp(p, "minute") ? 60 : !strcmp(p, "hour") ? 3600 : !strcmp(p, "day") ? 86400 : -1;
    return unit < 0 ? -1 : json_number_value(c) * unit;
}

static void iso(int64_t us, char *buf, size_t cap)
{
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us % 1000000));
}

static void stamp_line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void stamp_line(FILE *f, const char *fmt, ...)
{
    if (!f) return;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    fprintf(f, "%02d:%02d:%02d  ", tm.tm_hour, tm.tm_min, tm.tm_sec);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fflush(f);
}

static void line(FILE *f, int i, int total, const char *msg, const char *st)
{
    char left[600];
    int n = snprintf(left, sizeof left, "%d of %d %s ", i, total, msg);
    int dots = 80 - n;
    if (dots < 5) dots = 5;
    if (dots > 120) dots = 120;
    char pad[128];
    memset(pad, '.', (size_t)dots);
    pad[dots] = 0;
    stamp_line(f, "%s%s [%s]", left, pad, st);
}

/* The effective freshness of a source table: the table's, else the source's. */
static json_t *criteria(const tf_node *n, const char **field)
{
    json_t *src = json_object_get(n->props, "source");
    json_t *f = json_object_get(n->props, "freshness");
    bool table_has = json_object_get(n->props, "freshness") != NULL;
    if (!table_has) f = json_object_get(src, "freshness");
    json_t *lf = json_object_get(n->props, "loaded_at_field");
    if (!json_is_string(lf)) lf = json_object_get(src, "loaded_at_field");
    *field = json_is_string(lf) ? json_string_value(lf) : NULL;
    if (!json_is_object(f)) return NULL;
    /* a table's freshness overrides key by key over its source's */
    json_t *out = json_object();
    json_t *sf = json_object_get(src, "freshness");
    if (table_has && json_is_object(sf)) json_object_update(out, sf);
    json_object_update(out, f);
    return out;
}

ig_rc ig__tf_freshness(tf_project *p, ig_transform_result *res, ig_error *err)
{
    FILE *out = p->opts->out;
    int total = 0;
    for (size_t i = 0; i < p->nnodes; i++) {
        tf_node *n = p->nodes[i];
        if (n->kind != TF_SOURCE) continue;
        const char *field;
        json_t *c = criteria(n, &field);
        if (c && field && (period_seconds(json_object_get(c, "warn_after")) > 0 ||
                           period_seconds(json_object_get(c, "error_after")) > 0))
            total++;
        json_decref(c);
    }
    stamp_line(out, "Concurrency: 1 thread (target='%s')", p->target.name);
    stamp_line(out, "%s", "");
    uint64_t t0 = ig_now_ns();
    int idx = 0;
    size_t cap = 0;
    for (size_t i = 0; i < p->nnodes; i++) {
        tf_node *n = p->nodes[i];
        if (n->kind != TF_SOURCE) continue;
        const char *field;
        json_t *c = criteria(n, &field);
        double warn = c ? period_seconds(json_object_get(c, "warn_after")) : -1;
        double error = c ? period_seconds(json_object_get(c, "error_after")) : -1;
        if (!c || !field || (warn <= 0 && error <= 0)) {
            json_decref(c);
            continue;
        }
        idx++;
        char what[600];
        snprintf(what, sizeof what, "freshness of %s.%s", n->source_name, n->name);
        char msg[700];
        snprintf(msg, sizeof msg, "START %s", what);
        line(out, idx, total, msg, "RUN");
        uint64_t n0 = ig_now_ns();
        char *rel = ig__tf_relation_str(p, n);
        json_t *filter = json_object_get(c, "filter");
        char *sql = ig_asprintf("select epoch_us(max(%s)), epoch_us(now()) from %s%s%s", field, rel,
                                json_is_string(filter) ? " where " : "",
                                json_is_string(filter) ? json_string_value(filter) : "");
        free(rel);
        ig_error e;
        ig_error_clear(&e);
        ig_wh_cursor *cur = NULL;
        int64_t max_us = 0, now_us = 0;
        bool empty = false;
        ig_rc rc = ig_wh_query(p->wh, sql, &cur, &e);
        free(sql);
        if (!rc) {
            if (ig_wh_cursor_next(cur, &e) == 1) {
                const ig_value *a = ig_wh_cursor_value(cur, 0), *b = ig_wh_cursor_value(cur, 1);
                empty = a->is_null;
                max_us = a->i;
                now_us = b->i;
            } else rc = e.code ? e.code : IG_ERR_SQL;
            ig_wh_cursor_close(cur);
        }
        double secs = (double)(ig_now_ns() - n0) / 1e9;
        double age = (double)(now_us - max_us) / 1e6;
        ig_tf_status st;
        const char *word, *status;
        char *text = NULL;
        if (rc) {
            st = IG_TF_ERROR;
            status = "runtime error";
            word = "ERROR";
            text = ig_asprintf("Runtime Error in source %s (%s)\n  %s", what + 13,
                               n->original_file_path ? n->original_file_path : "", e.message);
        } else if (empty) {
            st = IG_TF_ERROR;
            status = "runtime error";
            word = "ERROR";
            text = ig_asprintf("Runtime Error in source %s: no rows (max(%s) is null)", what + 13, field);
        } else if (error > 0 && age > error) {
            st = IG_TF_ERROR;
            status = "error";
            word = "ERROR STALE";
            text = ig_asprintf("source %s is %.0f s old, configured to error after %.0f s", what + 13, age, error);
        } else if (warn > 0 && age > warn) {
            st = IG_TF_WARN;
            status = "warn";
            word = "WARN";
            text = ig_asprintf("source %s is %.0f s old, configured to warn after %.0f s", what + 13, age, warn);
        } else {
            st = IG_TF_SUCCESS;
            status = "pass";
            word = "PASS";
        }
        snprintf(msg, sizeof msg, "%s %s", word, what);
        char stx[64];
        snprintf(stx, sizeof stx, "%s in %.2fs", word, secs);
        line(out, idx, total, msg, stx);
        /* the result */
        if (res->nnodes == cap) {
            cap = cap ? cap * 2 : 16;
            res->nodes = ig_realloc(res->nodes, cap * sizeof *res->nodes);
        }
        ig_transform_node_result *x = &res->nodes[res->nnodes++];
        memset(x, 0, sizeof *x);
        x->unique_id = ig_strdup(n->unique_id);
        x->name = ig_strdup(n->name);
        x->relation = ig__tf_relation_str(p, n);
        x->materialized = ig_strdup("source");
        x->resource_type = ig_strdup("source");
        x->status = st;
        x->status_text = status;
        n->status = status;
        x->seconds = secs;
        x->rows = -1;
        x->failures = -1;
        x->message = text;
        char b1[40], b2[40];
        iso(max_us, b1, sizeof b1);
        iso(now_us, b2, sizeof b2);
        if (!rc && !empty) {
            x->max_loaded_at = ig_strdup(b1);
            x->snapshotted_at = ig_strdup(b2);
            x->age_seconds = age;
        }
        if (st == IG_TF_SUCCESS) res->n_success++;
        else if (st == IG_TF_WARN) res->n_warn++;
        else res->n_error++;
        json_decref(c);
    }
    double elapsed = (double)(ig_now_ns() - t0) / 1e9;
    stamp_line(out, "%s", "");
    stamp_line(out, "Finished running %d source%s in %.2fs.", total, total == 1 ? "" : "s", elapsed);
    for (size_t i = 0; i < res->nnodes; i++)
        if (res->nodes[i].message) {
            stamp_line(out, "%s", "");
            stamp_line(out, "  %s", res->nodes[i].message);
        }
    stamp_line(out, "%s", "");
    stamp_line(out, "Done. PASS=%zu WARN=%zu ERROR=%zu SKIP=0 TOTAL=%zu", res->n_success, res->n_warn,
               res->n_error, res->nnodes);
    /* target/sources.json (artifacts.c) */
    ig_rc rc = ig__tf_write_sources(p, res, elapsed, err);
    if (rc) return rc;
    if (res->n_error) {
        ig_err(err, IG_ERR_FAILED, "%zu of %zu sources are stale or could not be checked",
               res->n_error, res->nnodes);
        ig_err_hint(err, "load fresh data into them, or raise error_after in their freshness config");
        return IG_ERR_FAILED;
    }
    return 0;
}
