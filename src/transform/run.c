/* Executing a parsed project: selection, then either compile (every
 * selected node, in parallel, in any order: compile needs no upstream
 * relation) or run (a DAG scheduler: a node becomes ready when its selected
 * parents are done; `threads` workers, each with its own warehouse
 * connection, compile and materialize ready nodes; a failure marks every
 * descendant to be skipped). The kinds executed are tf_project.kinds:
 * models (materializations), seeds, snapshots, tests (data and unit); in
 * build, tests also gate the children of the nodes they test. Progress
 * lines and the summary follow dbt's format. The public entry points of
 * transform.h live here too, and the artifacts are written after each. */
#include "transform/tf_int.h"
#include "transform/artifacts.h"
#include "transform/select.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/version.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ selection */

ig_rc ig__tf_select_nodes(tf_project *p, char *sel, ig_error *err)
{
    const ig_transform_options *o = p->opts;
    /* the full grammar of select.c: indirect test selection and the kinds
     * of the command included */
    ig_tf_select_opts so = {.select = o->select, .exclude = o->exclude, .selector = o->selector,
                            .state_dir = o->state,
                            .resource_types = p->kinds ? p->kinds : TF_BIT(TF_MODEL),
                            .out = o->out};
    return ig__tf_select(p, &so, sel, err);
}

/* ------------------------------------------------------------- output */

static void stamp(FILE *f)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    fprintf(f, "%02d:%02d:%02d  ", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void say(tf_project *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(tf_project *p, const char *fmt, ...)
{
    FILE *f = p->opts->out;
    if (!f) return;
    flockfile(f);
    stamp(f);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    funlockfile(f);
    fflush(f);
}

static const char *color(tf_project *p, const char *c) { return p->opts->color ? c : ""; }
#define GREEN "\033[32m"
#define RED "\033[31m"
#define YELLOW "\033[33m"
#define RESET "\033[0m"

/* "N of M MSG ....... [STATUS]" padded like dbt's lines */
static void progress(tf_project *p, int i, int total, const char *msg, const char *col,
                     const char *status)
{
    char left[600];
    int n = snprintf(left, sizeof left, "%d of %d %s ", i, total, msg);
    int dots = 80 - n;
    if (dots < 5) dots = 5;
    char pad[128];
    memset(pad, '.', (size_t)(dots < 120 ? dots : 120));
    pad[dots < 120 ? dots : 120] = 0;
    say(p, "%s%s [%s%s%s]", left, pad, color(p, col), status, color(p, RESET));
}

static const char *mat_word(const tf_node *n) { return n->materialized ? n->materialized : "view"; }

static void rel_short(const tf_node *n, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s.%s", n->schema ? n->schema : "", n->alias ? n->alias : n->name);
}

/* ------------------------------------------------------------ results */

typedef struct runner {
    tf_project *p;
    bool run;
    char *sel;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int *ready;
    size_t nready, rhead;
    size_t remaining; /* selected nodes not finished */
    int total;        /* shown in "N of M" (not ephemeral) */
    int started;
    char *skip;       /* per node: an upstream failed or was skipped */
    ig_transform_result *res;
    size_t res_cap;
    uint64_t db_ns;
    uint64_t db_cpu_ns, cpu_ns;
    ig_error fatal;
    ig_rc fatal_rc;
    size_t next; /* compile: next index */
    int *list;   /* compile: selected nodes */
    size_t nlist;
    /* build: per node, the tests that gate its start (tests of its parents) */
    int **gates;
    size_t *ngates;
    int **gated; /* per test: the nodes it gates */
    size_t *ngated;
    bool stop;   /* --fail-fast: an error or failure happened */
} runner;

static const char *kind_word(const tf_node *n)
{
    switch (n->kind) {
    case TF_SEED: return "seed";
    case TF_SNAPSHOT: return "snapshot";
    case TF_TEST: return "test";
    case TF_SOURCE: return "source";
    default: return "model";
    }
}

/* dbt's status words (run_results.json) */
static const char *status_word(const tf_node *n, ig_tf_status st)
{
    bool test = n->kind == TF_TEST;
    switch (st) {
    case IG_TF_SUCCESS: return test ? "pass" : "success";
    case IG_TF_ERROR: return "error";
    case IG_TF_SKIPPED: return "skipped";
    case IG_TF_WARN: return "warn";
    case IG_TF_FAIL: return "fail";
    }
    return "error";
}

static void add_result(runner *r, tf_node *n, ig_tf_status st, double secs, int64_t rows,
                       const char *msg)
{
    ig_transform_result *res = r->res;
    if (res->nnodes == r->res_cap) {
        r->res_cap = r->res_cap ? r->res_cap * 2 : 64;
        res->nodes = ig_realloc(res->nodes, r->res_cap * sizeof *res->nodes);
    }
    ig_transform_node_result *x = &res->nodes[res->nnodes++];
    memset(x, 0, sizeof *x);
    x->unique_id = ig_strdup(n->unique_id);
    x->name = ig_strdup(n->name);
    ig_buf b = IG_BUF_INIT;
    ig__tf_node_relation(r->p, n, &b);
    x->relation = ig_strdup(ig_buf_cstr(&b));
    ig_buf_free(&b);
    x->materialized = ig_strdup(mat_word(n));
    x->compiled_path = n->compiled_ok ? ig__tf_target_file(r->p, "compiled", n) : NULL;
    x->status = st;
    x->seconds = secs;
    x->rows = rows;
    x->message = msg ? ig_strdup(msg) : NULL;
    x->resource_type = ig_strdup(kind_word(n));
    x->status_text = status_word(n, st);
    x->failures = n->kind == TF_TEST ? n->failures : -1;
    n->status = x->status_text;
    if (st == IG_TF_SUCCESS) res->n_success++;
    else if (st == IG_TF_ERROR) res->n_error++;
    else if (st == IG_TF_WARN) res->n_warn++;
    else if (st == IG_TF_FAIL) res->n_fail++;
    else res->n_skipped++;
}

static char *error_text(tf_project *p, const tf_node *n, const ig_error *e, bool sql)
{
    ig_buf b = IG_BUF_INIT;
    if (sql) {
        ig_buf_printf(&b, "Database Error in %s %s (%s)\n  %s", kind_word(n), n->name,
                      n->original_file_path, e->message);
        if (e->hint[0]) ig_buf_printf(&b, "\n  hint: %s", e->hint);
        char *f = ig__tf_target_file(p, "run", n);
        ig_buf_printf(&b, "\n  compiled code at %s", f);
        free(f);
    } else {
        ig_buf_puts(&b, e->message);
        if (e->file[0] && e->line)
            ig_buf_printf(&b, "\n  at %s:%d:%d", e->file, e->line, e->column);
        if (e->detail[0]) ig_buf_printf(&b, "\n%s", e->detail);
        if (e->hint[0]) ig_buf_printf(&b, "\n  hint: %s", e->hint);
    }
    return ig_buf_steal(&b);
}

/* --------------------------------------------------------------- run */

static void finish_node(runner *r, tf_node *n, bool ok)
{
    /* under r->lock. A test's failure does not skip what depends on it
     * through ref() (a test has no children) but, in build, the children
     * of the node it tests: r->gated */
    for (size_t i = 0; i < n->nkids; i++) {
        tf_node *k = r->p->nodes[n->kids[i]];
        if (!r->sel[k->index]) continue;
        if (!ok) r->skip[k->index] = 1;
        if (--k->waiting == 0) r->ready[r->nready++] = k->index;
    }
    if (r->gated)
        for (size_t i = 0; i < r->ngated[n->index]; i++) {
            tf_node *k = r->p->nodes[r->gated[n->index][i]];
            if (!ok) r->skip[k->index] = 1;
            if (--k->waiting == 0) r->ready[r->nready++] = k->index;
        }
    r->remaining--;
    pthread_cond_broadcast(&r->cond);
}

/* Progress words of a kind: START line, OK line, ERROR line. */
static void progress_start(runner *r, tf_node *n, int idx, const char *rel)
{
    char msg[700];
    switch (n->kind) {
    case TF_SEED: snprintf(msg, sizeof msg, "START seed file %s", rel); break;
    case TF_SNAPSHOT: snprintf(msg, sizeof msg, "START snapshot %s", rel); break;
    case TF_TEST: snprintf(msg, sizeof msg, "START test %s", n->name); break;
    default: snprintf(msg, sizeof msg, "START sql %s model %s", mat_word(n), rel); break;
    }
    progress(r->p, idx, r->total, msg, "", "RUN");
}

static void progress_end(runner *r, tf_node *n, int idx, const char *rel, ig_tf_status st,
                         int64_t rows, int64_t failures, double secs)
{
    tf_project *p = r->p;
    char msg[700], stx[96];
    const char *col = GREEN;
    if (n->kind == TF_TEST) {
        switch (st) {
        case IG_TF_SUCCESS:
            snprintf(msg, sizeof msg, "PASS %s", n->name);
            snprintf(stx, sizeof stx, "PASS in %.2fs", secs);
            break;
        case IG_TF_WARN:
            col = YELLOW;
            snprintf(msg, sizeof msg, "WARN %lld %s", (long long)failures, n->name);
            snprintf(stx, sizeof stx, "WARN %lld in %.2fs", (long long)failures, secs);
            break;
        case IG_TF_FAIL:
            col = RED;
            snprintf(msg, sizeof msg, "FAIL %lld %s", (long long)failures, n->name);
            snprintf(stx, sizeof stx, "FAIL %lld in %.2fs", (long long)failures, secs);
            break;
        default:
            col = RED;
            snprintf(msg, sizeof msg, "ERROR %s", n->name);
            snprintf(stx, sizeof stx, "ERROR in %.2fs", secs);
        }
        progress(p, idx, r->total, msg, col, stx);
        return;
    }
    if (st == IG_TF_ERROR) {
        col = RED;
        if (n->kind == TF_SEED) snprintf(msg, sizeof msg, "ERROR loading seed file %s", rel);
        else if (n->kind == TF_SNAPSHOT) snprintf(msg, sizeof msg, "ERROR snapshotting %s", rel);
        else snprintf(msg, sizeof msg, "ERROR creating sql %s model %s", mat_word(n), rel);
        snprintf(stx, sizeof stx, "ERROR in %.2fs", secs);
    } else if (n->kind == TF_SEED) {
        snprintf(msg, sizeof msg, "OK loaded seed file %s", rel);
        snprintf(stx, sizeof stx, "INSERT %lld in %.2fs", (long long)(rows < 0 ? 0 : rows), secs);
    } else if (n->kind == TF_SNAPSHOT) {
        snprintf(msg, sizeof msg, "OK snapshotted %s", rel);
        snprintf(stx, sizeof stx, "OK in %.2fs", secs);
    } else {
        snprintf(msg, sizeof msg, "OK created sql %s model %s", mat_word(n), rel);
        if (rows >= 0 && strcmp(mat_word(n), "view"))
            snprintf(stx, sizeof stx, "%s %lld in %.2fs",
                     strcmp(mat_word(n), "incremental") ? "SELECT" : "INSERT", (long long)rows, secs);
        else snprintf(stx, sizeof stx, "OK in %.2fs", secs);
    }
    progress(p, idx, r->total, msg, col, stx);
}

static void run_one(runner *r, tf_thread *t, tf_node *n)
{
    tf_project *p = r->p;
    bool eph = n->kind == TF_MODEL && n->materialized && !strcmp(n->materialized, "ephemeral");
    char rel[600];
    rel_short(n, rel, sizeof rel);
    int idx = 0;
    pthread_mutex_lock(&r->lock);
    bool cancel = (p->opts->cancel && *p->opts->cancel) || r->stop;
    bool skip = r->skip[n->index] || cancel;
    if (!eph) idx = ++r->started;
    pthread_mutex_unlock(&r->lock);
    if (skip) {
        if (!eph) {
            char msg[700];
            if (n->kind == TF_TEST) snprintf(msg, sizeof msg, "SKIP test %s", n->name);
            else snprintf(msg, sizeof msg, "SKIP relation %s", rel);
            progress(p, idx, r->total, msg, YELLOW, "SKIP");
        }
        pthread_mutex_lock(&r->lock);
        add_result(r, n, IG_TF_SKIPPED, 0, -1,
                   p->opts->cancel && *p->opts->cancel ? "interrupted"
                   : r->stop && !r->skip[n->index] ? "skipped by --fail-fast"
                                                   : "an upstream node failed");
        finish_node(r, n, false);
        pthread_mutex_unlock(&r->lock);
        return;
    }
    if (!eph) progress_start(r, n, idx, rel);
    uint64_t t0 = ig_now_ns();
    ig_error e;
    ig_error_clear(&e);
    tf_outcome o = {.status = IG_TF_SUCCESS, .rows = -1, .failures = -1};
    ig__tf_thread_node(t, n);
    ig_rc rc = 0;
    if (n->kind != TF_SEED && !n->unit) {
        rc = ig__tf_compile_node(t, n, &e);
        if (!rc) rc = ig__tf_write_target(p, "compiled", n, n->compiled, n->compiled_len, &e);
    }
    if (!rc && !eph) {
        ig__tf_thread_node(t, n);
        t->mode = TF_MODE_COMPILE;
        ig_buf log = IG_BUF_INIT;
        switch (n->kind) {
        case TF_SEED: rc = ig__tf_seed_run(t, n, &log, &o, &e); break;
        case TF_SNAPSHOT: rc = ig__tf_snapshot_run(t, n, &log, &o, &e); break;
        case TF_TEST:
            rc = n->unit ? ig__tf_unit_run(t, n, &log, &o, &e) : ig__tf_test_run(t, n, &log, &o, &e);
            break;
        default: {
            const tf_materialization *m = ig__tf_materialization(mat_word(n));
            if (!m) {
                rc = ig_err(&e, IG_ERR_CONFIG, "unknown materialization '%s' in model %s (%s)",
                            mat_word(n), n->name, n->original_file_path);
                ig_err_hint(&e, "use view, table, incremental or ephemeral");
            } else {
                rc = m->run(t, n, &log, &o.rows, &e);
                o.sql_error = rc == IG_ERR_SQL;
            }
        }
        }
        if (rc && e.code == IG_ERR_SQL) o.sql_error = true;
        ig_error we;
        if (log.len && n->kind != TF_SEED) ig__tf_write_target(p, "run", n, log.data, log.len, &we);
        ig_buf_free(&log);
    }
    ig__tf_thread_node(t, NULL);
    double secs = (double)(ig_now_ns() - t0) / 1e9;
    ig_tf_status st = rc ? IG_TF_ERROR : o.status;
    n->failures = o.failures;
    char *text = rc ? error_text(p, n, &e, o.sql_error) : NULL;
    if (!rc && (st == IG_TF_WARN || st == IG_TF_FAIL)) {
        ig_buf b = IG_BUF_INIT;
        char *f = ig__tf_target_file(p, n->unit ? "run" : "compiled", n);
        ig_buf_printf(&b, "%s in %s %s (%s)\n  %s\n\n  compiled code at %s",
                      st == IG_TF_FAIL ? "Failure" : "Warning", n->unit ? "unit_test" : "test", n->name,
                      n->original_file_path,
                      o.message ? o.message : "", f);
        free(f);
        text = ig_buf_steal(&b);
    }
    if (!eph) progress_end(r, n, idx, rel, st, o.rows, o.failures, secs);
    pthread_mutex_lock(&r->lock);
    add_result(r, n, st, secs, o.rows, text);
    bool first_stop = (st == IG_TF_ERROR || st == IG_TF_FAIL) && p->opts->fail_fast && !r->stop;
    if (first_stop) r->stop = true;
    finish_node(r, n, st != IG_TF_ERROR && st != IG_TF_FAIL);
    pthread_mutex_unlock(&r->lock);
    if (first_stop)
        say(p, "Failing fast (--fail-fast): %s failed; the nodes not started yet are skipped", n->name);
    free(o.message);
    free(text);
}

typedef struct worker {
    runner *r;
    ig_wh *wh;
    bool own;
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    runner *r = w->r;
    tf_thread *t = ig__tf_thread_new(r->p, w->wh);
    uint64_t c0 = ig__tf_cpu_ns();
    for (;;) {
        pthread_mutex_lock(&r->lock);
        while (r->rhead == r->nready && r->remaining > 0) pthread_cond_wait(&r->cond, &r->lock);
        if (r->remaining == 0) {
            pthread_mutex_unlock(&r->lock);
            break;
        }
        tf_node *n = r->p->nodes[r->ready[r->rhead++]];
        pthread_mutex_unlock(&r->lock);
        run_one(r, t, n);
    }
    pthread_mutex_lock(&r->lock);
    r->db_ns += t->db_ns;
    r->db_cpu_ns += t->db_cpu_ns;
    r->cpu_ns += ig__tf_cpu_ns() - c0;
    pthread_mutex_unlock(&r->lock);
    ig__tf_thread_free(t);
    return NULL;
}

static void *compile_worker(void *arg)
{
    worker *w = arg;
    runner *r = w->r;
    tf_thread *t = ig__tf_thread_new(r->p, w->wh);
    for (;;) {
        pthread_mutex_lock(&r->lock);
        size_t i = r->next++;
        bool stop = r->fatal_rc != 0;
        pthread_mutex_unlock(&r->lock);
        if (i >= r->nlist || stop) break;
        tf_node *n = r->p->nodes[r->list[i]];
        ig_error e;
        ig_error_clear(&e);
        ig_rc rc = ig__tf_compile_node(t, n, &e);
        if (!rc) rc = ig__tf_write_target(r->p, "compiled", n, n->compiled, n->compiled_len, &e);
        pthread_mutex_lock(&r->lock);
        if (rc && !r->fatal_rc) {
            r->fatal_rc = rc;
            r->fatal = e;
        }
        if (!rc) add_result(r, n, IG_TF_SUCCESS, 0, -1, NULL);
        pthread_mutex_unlock(&r->lock);
    }
    ig__tf_thread_free(t);
    return NULL;
}

static ig_rc run_hooks_global(tf_project *p, tf_thread *t, const ig_yaml *hooks, const char *what,
                              ig_error *err)
{
    if (!hooks) return 0;
    size_t n = hooks->kind == IG_Y_SEQ ? hooks->n : 1;
    for (size_t i = 0; i < n; i++) {
        const ig_yaml *h = hooks->kind == IG_Y_SEQ ? hooks->items[i] : hooks;
        if (h->kind != IG_Y_SCALAR || !h->str) continue;
        ig_buf sql = IG_BUF_INIT;
        ig_rc rc = ig__tf_render_text(t, what, h->str, &sql, err);
        bool blank = true;
        for (size_t k = 0; k < sql.len && blank; k++) blank = strchr(" \t\r\n;", sql.data[k]) != NULL;
        if (!rc && !blank) {
            rc = ig_wh_exec(t->wh, ig_buf_cstr(&sql), err);
            if (rc) ig_err_prefix(err, "%s hook (%s:%d)", what, h->file, h->line);
        }
        ig_buf_free(&sql);
        if (rc) return rc;
    }
    if (n) say(p, "Ran %zu %s hook%s", n, what, n == 1 ? "" : "s");
    return 0;
}

static void count_word(char *what, size_t cap, size_t *w, int n, const char *one, const char *many)
{
    if (!n || *w >= cap) return;
    *w += (size_t)snprintf(what + *w, cap - *w, "%s%d %s", *w ? ", " : "", n, n == 1 ? one : many);
}

static void summary(tf_project *p, runner *r, double secs)
{
    ig_transform_result *res = r->res;
    int views = 0, tables = 0, incs = 0, seeds = 0, snaps = 0, tests = 0, units = 0;
    for (size_t i = 0; i < p->nnodes; i++) {
        tf_node *n = p->nodes[i];
        if (!r->sel[i]) continue;
        if (n->kind == TF_SEED) seeds++;
        else if (n->kind == TF_SNAPSHOT) snaps++;
        else if (n->kind == TF_TEST) *(n->unit ? &units : &tests) += 1;
        else {
            const char *m = mat_word(n);
            views += !strcmp(m, "view");
            tables += !strcmp(m, "table");
            incs += !strcmp(m, "incremental");
        }
    }
    char what[300] = "";
    size_t w = 0;
    count_word(what, sizeof what, &w, seeds, "seed", "seeds");
    count_word(what, sizeof what, &w, tables, "table model", "table models");
    count_word(what, sizeof what, &w, incs, "incremental model", "incremental models");
    count_word(what, sizeof what, &w, views, "view model", "view models");
    count_word(what, sizeof what, &w, snaps, "snapshot", "snapshots");
    count_word(what, sizeof what, &w, tests, "data test", "data tests");
    count_word(what, sizeof what, &w, units, "unit test", "unit tests");
    if (!w) snprintf(what, sizeof what, "0 nodes");
    say(p, "%s", "");
    int s = (int)secs;
    say(p, "Finished running %s in %d hours %d minutes and %.2f seconds (%.2fs).", what, s / 3600,
        (s / 60) % 60, secs - (s / 60) * 60, secs);
    say(p, "%s", "");
    size_t nerr = res->n_error + res->n_fail;
    if (!nerr && !res->n_warn) say(p, "%sCompleted successfully%s", color(p, GREEN), color(p, RESET));
    else {
        say(p, "%sCompleted with %zu error%s and %zu warning%s:%s", color(p, nerr ? RED : YELLOW),
            nerr, nerr == 1 ? "" : "s", res->n_warn, res->n_warn == 1 ? "" : "s", color(p, RESET));
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < res->nnodes; i++) {
                ig_tf_status st = res->nodes[i].status;
                bool want = pass == 0 ? st == IG_TF_ERROR || st == IG_TF_FAIL : st == IG_TF_WARN;
                if (!want) continue;
                say(p, "%s", "");
                say(p, "  %s", res->nodes[i].message ? res->nodes[i].message : "");
            }
    }
    say(p, "%s", "");
    size_t shown = 0, eph_ok = 0, eph_skip = 0;
    for (size_t i = 0; i < res->nnodes; i++) {
        bool eph = !strcmp(res->nodes[i].materialized, "ephemeral");
        shown += !eph;
        eph_ok += eph && res->nodes[i].status == IG_TF_SUCCESS;
        eph_skip += eph && res->nodes[i].status == IG_TF_SKIPPED;
    }
    say(p, "Done. PASS=%zu WARN=%zu ERROR=%zu SKIP=%zu TOTAL=%zu", res->n_success - eph_ok,
        res->n_warn, nerr, res->n_skipped - eph_skip, shown);
}

/* Is a an ancestor of c (through deps)? */
static bool is_ancestor(tf_project *p, int a, int c, char *seen)
{
    tf_node *n = p->nodes[c];
    for (size_t i = 0; i < n->ndeps; i++) {
        int d = n->deps[i];
        if (d == a) return true;
        if (seen[d]) continue;
        seen[d] = 1;
        if (is_ancestor(p, a, d, seen)) return true;
    }
    return false;
}

/* build: a selected node waits for the tests of its parents, as dbt build
 * does, when every node the test depends on comes before it (a
 * relationships test between two models gates only what is downstream of
 * both). */
static void add_gates(runner *r)
{
    tf_project *p = r->p;
    r->gated = ig_calloc(p->nnodes + 1, sizeof *r->gated);
    r->ngated = ig_calloc(p->nnodes + 1, sizeof *r->ngated);
    char *seen = ig_calloc(p->nnodes + 1, 1);
    for (size_t ti = 0; ti < p->nnodes; ti++) {
        tf_node *t = p->nodes[ti];
        if (!r->sel[ti] || t->kind != TF_TEST) continue;
        for (size_t di = 0; di < t->ndeps; di++) {
            tf_node *d = p->nodes[t->deps[di]];
            for (size_t ki = 0; ki < d->nkids; ki++) {
                int c = d->kids[ki];
                tf_node *cn = p->nodes[c];
                if (!r->sel[c] || cn->kind == TF_TEST) continue;
                bool ok = true;
                for (size_t x = 0; x < t->ndeps && ok; x++) {
                    if (t->deps[x] == c) ok = false;
                    else if (t->deps[x] != d->index) {
                        memset(seen, 0, p->nnodes);
                        ok = is_ancestor(p, t->deps[x], c, seen);
                    }
                }
                if (!ok) continue;
                bool dup = false;
                for (size_t x = 0; x < r->ngated[ti] && !dup; x++) dup = r->gated[ti][x] == c;
                if (dup) continue;
                r->gated[ti] = ig_realloc(r->gated[ti], (r->ngated[ti] + 1) * sizeof **r->gated);
                r->gated[ti][r->ngated[ti]++] = c;
                cn->waiting++;
            }
        }
    }
    free(seen);
}

ig_wh_options ig__tf_wh_options(const tf_project *p, const ig_project *proj)
{
    if (proj && p->target.path && !strcmp(p->target.path, proj->warehouse.path))
        return ig_project_wh_options(proj); /* the project's own, with its settings */
    return (ig_wh_options){.path = p->target.path ? p->target.path : ":memory:", .no_migrate = true};
}

ig_rc ig__tf_execute(tf_project *p, bool run, ig_transform_result *res, ig_error *err)
{
    runner r;
    memset(&r, 0, sizeof r);
    r.p = p;
    r.run = run;
    r.res = res;
    r.sel = ig_calloc(p->nnodes + 1, 1);
    r.skip = ig_calloc(p->nnodes + 1, 1);
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.cond, NULL);
    ig_rc rc = ig__tf_select_nodes(p, r.sel, err);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    p->snapshot_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    int threads = p->opts->threads > 0 ? p->opts->threads : p->target.threads > 0 ? p->target.threads : 1;
    if (threads > 64) threads = 64;
    worker ws[64];
    int nw = 0;
    uint64_t t0 = ig_now_ns();
    if (!rc) {
        for (int i = 0; i < threads; i++) {
            ws[i].r = &r;
            ws[i].own = i > 0;
            ws[i].wh = p->wh;
            if (i > 0 && (rc = ig_wh_clone(p->wh, &ws[i].wh, err))) break;
            nw++;
        }
    }
    tf_thread *main_t = NULL;
    if (!rc && run) {
        main_t = ig__tf_thread_new(p, p->wh);
        say(p, "Concurrency: %d thread%s (target='%s')", threads, threads == 1 ? "" : "s", p->target.name);
        say(p, "%s", "");
        rc = run_hooks_global(p, main_t, p->on_run_start, "on-run-start", err);
    }
    if (!rc && run) {
        r.ready = ig_malloc((p->nnodes + 1) * sizeof *r.ready);
        for (size_t i = 0; i < p->nnodes; i++) {
            tf_node *n = p->nodes[i];
            if (!r.sel[i]) continue;
            r.remaining++;
            if (!(n->kind == TF_MODEL && n->materialized && !strcmp(n->materialized, "ephemeral")))
                r.total++;
            n->waiting = 0;
            for (size_t k = 0; k < n->ndeps; k++) n->waiting += r.sel[n->deps[k]] != 0;
        }
        if (p->build) add_gates(&r);
        /* ready in topological order, so the first lines read in DAG order */
        int *order = ig_malloc((p->nnodes + 1) * sizeof *order);
        size_t cnt;
        ig__tf_toposort(p, order, &cnt, err);
        for (size_t i = 0; i < cnt; i++)
            if (r.sel[order[i]] && p->nodes[order[i]]->waiting == 0) r.ready[r.nready++] = order[i];
        free(order);
        pthread_t th[64];
        int started = 0;
        for (int i = 1; i < nw; i++)
            if (!pthread_create(&th[started], NULL, run_worker, &ws[i])) started++;
        run_worker(&ws[0]);
        for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
        free(r.ready);
        res->run_seconds = (double)(ig_now_ns() - t0) / 1e9;
        res->outside_db_seconds = res->run_seconds - (double)r.db_ns / 1e9 / (nw ? nw : 1);
        res->outside_db_cpu_seconds = (double)(r.cpu_ns - r.db_cpu_ns) / 1e9;
        ig_debug("transform.overhead",
                 "run %.3fs, in the warehouse %.3fs, outside %.3fs: %.3f ms per model (CPU outside "
                 "the warehouse %.3f ms per model)",
                 res->run_seconds, (double)r.db_ns / 1e9, res->outside_db_seconds,
                 r.total ? res->outside_db_seconds * 1e3 / r.total : 0.0,
                 r.total ? res->outside_db_cpu_seconds * 1e3 / r.total : 0.0);
        ig_error he;
        ig_error_clear(&he);
        if (run_hooks_global(p, main_t, p->on_run_end, "on-run-end", &he)) {
            say(p, "on-run-end hook failed: %s", he.message);
            if (!res->n_error) {
                *err = he;
                rc = he.code;
            }
        }
        summary(p, &r, res->run_seconds);
        bool models_only = !p->kinds || p->kinds == TF_BIT(TF_MODEL);
        if (!rc && res->n_error + res->n_fail) {
            rc = ig_err(err, IG_ERR_FAILED, "%zu of %zu %s failed%s", res->n_error + res->n_fail,
                        (size_t)r.total, models_only ? "models" : "nodes",
                        res->n_skipped ? (models_only ? " (downstream models skipped)" : " (downstream nodes skipped)") : "");
            ig_err_hint(err, "the errors are listed above; compiled SQL is under %s/run",
                        p->target_path);
        }
        if (r.gated) {
            for (size_t i = 0; i < p->nnodes; i++) free(r.gated[i]);
            free(r.gated);
            free(r.ngated);
        }
    } else if (!rc) {
        r.list = ig_malloc((p->nnodes + 1) * sizeof *r.list);
        for (size_t i = 0; i < p->nnodes; i++)
            if (r.sel[i]) r.list[r.nlist++] = (int)i;
        pthread_t th[64];
        int started = 0;
        for (int i = 1; i < nw; i++)
            if (!pthread_create(&th[started], NULL, compile_worker, &ws[i])) started++;
        compile_worker(&ws[0]);
        for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
        res->compile_seconds = (double)(ig_now_ns() - t0) / 1e9;
        if (r.fatal_rc) {
            *err = r.fatal;
            rc = r.fatal_rc;
        } else if (r.nlist == 1 && p->opts->out) {
            /* one model: show its SQL, as `dbt compile --select x` does */
            tf_node *n = p->nodes[r.list[0]];
            say(p, "Compiled node '%s' is:", n->name);
            fprintf(p->opts->out, "%s\n", n->compiled ? n->compiled : "");
        } else say(p, "Compiled %zu model%s to %s/compiled", res->n_success,
                   res->n_success == 1 ? "" : "s", p->target_path);
        free(r.list);
    }
    ig__tf_thread_free(main_t);
    for (int i = 1; i < nw; i++) ig_wh_close(ws[i].wh);
    pthread_mutex_destroy(&r.lock);
    pthread_cond_destroy(&r.cond);
    free(r.sel);
    free(r.skip);
    return rc;
}

/* ------------------------------------------------------------ public API */

void ig_transform_result_free(ig_transform_result *res)
{
    if (!res) return;
    for (size_t i = 0; i < res->nnodes; i++) {
        ig_transform_node_result *x = &res->nodes[i];
        free(x->unique_id);
        free(x->name);
        free(x->relation);
        free(x->materialized);
        free(x->compiled_path);
        free(x->message);
        free(x->resource_type);
        free(x->max_loaded_at);
        free(x->snapshotted_at);
    }
    free(res->nodes);
    memset(res, 0, sizeof *res);
}

static ig_rc prepare(const ig_project *proj, ig_wh *wh, const ig_transform_options *opts,
                     bool need_wh, tf_project **out, ig_wh **opened, ig_transform_result *res,
                     ig_error *err)
{
    static const ig_transform_options none = {0};
    if (!opts) opts = &none;
    memset(res, 0, sizeof *res);
    *opened = NULL;
    uint64_t t0 = ig_now_ns();
    tf_project *p;
    ig_rc rc = ig__tf_load(proj, opts, &p, err);
    if (rc) return rc;
    snprintf(res->invocation_id, sizeof res->invocation_id, "%s", p->invocation_id);
    if (need_wh) {
        if (!wh) {
            ig_wh_options wo = ig__tf_wh_options(p, proj);
            if (wo.path[0] != ':' ) {
                char *dir = ig_path_dirname(wo.path);
                ig_fs_mkdirs(dir, err);
                free(dir);
            }
            if ((rc = ig_wh_open(&wo, opened, err))) {
                ig__tf_free(p);
                return rc;
            }
            wh = *opened;
        }
        p->wh = wh;
        p->dialect = ig_wh_dialect_of(wh);
        p->execute = true;
        if (!p->target.database) {
            char *db = NULL;
            if (!p->dialect->current_database(wh, &db, err) && db) {
                p->target.database = ig_arena_strdup(p->arena, db);
                json_object_set_new(p->target.json, "database", json_string(db));
            }
            free(db);
        }
        if ((rc = ig__tf_relcache_load(p, err))) goto fail;
    } else {
        p->dialect = NULL;
        if (!p->target.database) {
            /* without a connection: the file's stem, which is DuckDB's catalog name */
            const char *path = p->target.path ? p->target.path : "memory";
            const char *b = strrchr(path, '/');
            b = b ? b + 1 : path;
            const char *dot = strrchr(b, '.');
            p->target.database = ig_arena_strndup(p->arena, b, dot ? (size_t)(dot - b) : strlen(b));
            if (!strcmp(path, ":memory:")) p->target.database = "memory";
            json_object_set_new(p->target.json, "database", json_string(p->target.database));
        }
    }
    if (opts->out) {
        say(p, "Running with ingot=%s (dbt=%s compatible)", IG_VERSION, TF_DBT_VERSION);
    }
    rc = ig__tf_parse(p, err);
    res->parse_seconds = (double)(ig_now_ns() - t0) / 1e9;
    if (rc) goto fail;
    size_t models = 0, sources = 0, macros = 0, seeds = 0, snaps = 0, tests = 0, units = 0;
    for (size_t i = 0; i < p->nnodes; i++) {
        tf_node *n = p->nodes[i];
        models += n->kind == TF_MODEL && n->enabled;
        sources += n->kind == TF_SOURCE;
        seeds += n->kind == TF_SEED && n->enabled;
        snaps += n->kind == TF_SNAPSHOT && n->enabled;
        tests += n->kind == TF_TEST && n->enabled && !n->unit;
        units += n->kind == TF_TEST && n->enabled && n->unit;
    }
    for (size_t i = 0; i < p->macros.cap; i++)
        if (p->macros.keys[i] && strchr(p->macros.keys[i], '.') &&
            strncmp(p->macros.keys[i], "dbt.", 4))
            macros++;
    res->n_models = models;
    if (opts->out) {
        /* dbt's line: kinds with none are left out (models and macros always shown) */
        char found[400];
        size_t w = (size_t)snprintf(found, sizeof found, "Found %zu model%s", models, models == 1 ? "" : "s");
        const struct { size_t n; const char *one, *many; } kinds[] = {
            {seeds, "seed", "seeds"}, {snaps, "snapshot", "snapshots"},
            {tests, "data test", "data tests"}, {sources, "source", "sources"}};
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0] && w < sizeof found; k++)
            if (kinds[k].n || k == 3)
                w += (size_t)snprintf(found + w, sizeof found - w, ", %zu %s", kinds[k].n,
                                      kinds[k].n == 1 ? kinds[k].one : kinds[k].many);
        if (w < sizeof found)
            w += (size_t)snprintf(found + w, sizeof found - w, ", %zu macro%s", macros, macros == 1 ? "" : "s");
        if (units && w < sizeof found)
            snprintf(found + w, sizeof found - w, ", %zu unit test%s", units, units == 1 ? "" : "s");
        say(p, "%s", found);
        say(p, "%s", "");
    }
    *out = p;
    return 0;
fail:
    ig__tf_free(p);
    if (*opened) ig_wh_close(*opened);
    *opened = NULL;
    return rc;
}

ig_rc ig_transform_parse(const ig_project *project, const ig_transform_options *opts,
                         ig_transform_result *res, ig_error *err)
{
    tf_project *p;
    ig_wh *opened;
    ig_rc rc = prepare(project, NULL, opts, false, &p, &opened, res, err);
    if (rc) return rc;
    ig__tf_free(p);
    return 0;
}

/* The artifacts of an invocation (artifacts.c): manifest.json,
 * run_results.json and the history tables. Their failure is a warning: the
 * nodes ran. */
static void write_artifacts(tf_project *p, const ig_transform_result *res, const char *command,
                            ig_rc rc, bool run)
{
    ig_error e;
    ig_error_clear(&e);
    if (ig__tf_write_manifest(p, &e)) ig_warn("transform.artifacts", "manifest.json: %s", e.message);
    if (!run) return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t fin = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    double elapsed = res->run_seconds;
    ig_error_clear(&e);
    if (ig__tf_write_run_results(p, res, command, elapsed, &e))
        ig_warn("transform.artifacts", "run_results.json: %s", e.message);
    ig_error_clear(&e);
    if (ig__tf_record_results(p, res, command, rc ? "error" : "success", p->started_us, fin, &e))
        ig_warn("transform.artifacts", "recording the results in the warehouse: %s", e.message);
}

static ig_rc execute_kinds(const ig_project *project, ig_wh *wh, const ig_transform_options *opts,
                           bool run, unsigned kinds, bool build, ig_transform_result *res,
                           ig_error *err)
{
    tf_project *p;
    ig_wh *opened;
    ig_rc rc = prepare(project, wh, opts, true, &p, &opened, res, err);
    if (rc) return rc;
    p->kinds = kinds;
    p->build = build;
    rc = ig__tf_execute(p, run, res, err);
    const char *command = !run ? "compile" : build ? "build" : kinds == TF_BIT(TF_SEED) ? "seed"
                        : kinds == TF_BIT(TF_SNAPSHOT) ? "snapshot" : kinds == TF_BIT(TF_TEST) ? "test"
                        : "run";
    if (!rc || rc == IG_ERR_FAILED) write_artifacts(p, res, command, rc, run);
    ig__tf_free(p);
    if (opened) ig_wh_close(opened);
    return rc;
}

static ig_rc execute(const ig_project *project, ig_wh *wh, const ig_transform_options *opts,
                     bool run, ig_transform_result *res, ig_error *err)
{
    return execute_kinds(project, wh, opts, run, TF_BIT(TF_MODEL), false, res, err);
}

ig_rc ig_transform_compile(const ig_project *project, ig_wh *wh, const ig_transform_options *opts,
                           ig_transform_result *res, ig_error *err)
{
    return execute(project, wh, opts, false, res, err);
}

ig_rc ig_transform_run(const ig_project *project, ig_wh *wh, const ig_transform_options *opts,
                       ig_transform_result *res, ig_error *err)
{
    return execute(project, wh, opts, true, res, err);
}

ig_rc ig_transform_seed(const ig_project *project, ig_wh *wh, const ig_transform_options *opts,
                        ig_transform_result *res, ig_error *err)
{
    return execute_kinds(project, wh, opts, true, TF_BIT(TF_SEED), false, res, err);
}

ig_rc ig_transform_snapshot(const ig_project *project, ig_wh *wh,
                            const ig_transform_options *opts, ig_transform_result *res,
                            ig_error *err)
{
    return execute_kinds(project, wh, opts, true, TF_BIT(TF_SNAPSHOT), false, res, err);
}

ig_rc ig_transform_test(const ig_project *project, ig_wh *wh, const ig_transform_options *opts,
                        ig_transform_result *res, ig_error *err)
{
    return execute_kinds(project, wh, opts, true, TF_BIT(TF_TEST), false, res, err);
}

ig_rc ig_transform_build(const ig_project *project, ig_wh *wh, const ig_transform_options *opts,
                         ig_transform_result *res, ig_error *err)
{
    return execute_kinds(project, wh, opts, true,
                         TF_BIT(TF_MODEL) | TF_BIT(TF_SEED) | TF_BIT(TF_SNAPSHOT) | TF_BIT(TF_TEST),
                         true, res, err);
}

ig_rc ig_transform_freshness(const ig_project *project, ig_wh *wh,
                             const ig_transform_options *opts, ig_transform_result *res,
                             ig_error *err)
{
    tf_project *p;
    ig_wh *opened;
    ig_rc rc = prepare(project, wh, opts, true, &p, &opened, res, err);
    if (rc) return rc;
    rc = ig__tf_freshness(p, res, err);
    ig__tf_free(p);
    if (opened) ig_wh_close(opened);
    return rc;
}
