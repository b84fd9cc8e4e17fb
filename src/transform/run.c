/* Executing a parsed project: selection, then either compile (every
 * selected node, in parallel, in any order: compile needs no upstream
 * relation) or run (a DAG scheduler: a node becomes ready when its selected
 * parents are done; `threads` workers, each with its own warehouse
 * connection, compile and materialize ready nodes; a failure marks every
 * descendant to be skipped). Progress lines and the summary follow dbt's
 * format. The public entry points of transform.h live here too. */
#include "transform/tf_int.h"

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

static bool selectable(const tf_node *n) { return n->kind == TF_MODEL && n->enabled; }

static void mark_up(tf_project *p, tf_node *n, char *sel)
{
    for (size_t i = 0; i < n->ndeps; i++) {
        tf_node *d = p->nodes[n->deps[i]];
        if (!selectable(d) || sel[d->index]) continue;
        sel[d->index] = 1;
        mark_up(p, d, sel);
    }
}

static void mark_down(tf_project *p, tf_node *n, char *sel)
{
    for (size_t i = 0; i < n->nkids; i++) {
        tf_node *d = p->nodes[n->kids[i]];
        if (!selectable(d) || sel[d->index]) continue;
        sel[d->index] = 1;
        mark_down(p, d, sel);
    }
}

/* Mark the nodes a space-separated spec names: name, +name, name+, path:x. */
static ig_rc apply_spec(tf_project *p, const char *spec, char *sel, ig_error *err)
{
    char *copy = ig_strdup(spec);
    ig_rc rc = 0;
    for (char *save, *w = strtok_r(copy, " ,", &save); w && !rc; w = strtok_r(NULL, " ,", &save)) {
        bool up = *w == '+', down = false;
        if (up) w++;
        size_t l = strlen(w);
        if (l && w[l - 1] == '+') {
            down = true;
            w[--l] = 0;
        }
        bool path = !strncmp(w, "path:", 5);
        const char *pat = path ? w + 5 : w;
        bool any = false;
        for (size_t i = 0; i < p->nnodes; i++) {
            tf_node *n = p->nodes[i];
            if (!selectable(n)) continue;
            bool hit = path ? !strncmp(n->original_file_path, pat, strlen(pat))
                            : !strcmp(n->name, pat) || !strcmp(n->unique_id, pat) ||
                                  (n->nfqn > 1 && !strcmp(n->fqn[n->nfqn - 2], pat));
            if (!hit) continue;
            any = true;
            sel[i] = 1;
            if (up) mark_up(p, n, sel);
            if (down) mark_down(p, n, sel);
        }
        if (!any) {
            const char **names = ig_malloc((p->nnodes + 1) * sizeof *names);
            size_t k = 0;
            for (size_t i = 0; i < p->nnodes; i++)
                if (selectable(p->nodes[i])) names[k++] = p->nodes[i]->name;
            const char *s = ig_str_suggest(pat, names, k);
            rc = ig_err(err, IG_ERR_NOT_FOUND, "the selection '%s' matches no model", w);
            if (s) ig_err_hint(err, "did you mean '%s'?", s);
            free(names);
        }
    }
    free(copy);
    return rc;
}

static ig_rc select_nodes(tf_project *p, char *sel, ig_error *err)
{
    const ig_transform_options *o = p->opts;
    if (o->select && *o->select) {
        ig_rc rc = apply_spec(p, o->select, sel, err);
        if (rc) return rc;
    } else
        for (size_t i = 0; i < p->nnodes; i++) sel[i] = selectable(p->nodes[i]);
    if (o->exclude && *o->exclude) {
        char *ex = ig_calloc(p->nnodes + 1, 1);
        ig_rc rc = apply_spec(p, o->exclude, ex, err);
        for (size_t i = 0; i < p->nnodes; i++) if (ex[i]) sel[i] = 0;
        free(ex);
        if (rc) return rc;
    }
    return 0;
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
} runner;

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
    x->compiled_path = n->compiled_ok ? ig_asprintf("%s/compiled/%s/%s", r->p->target_path,
                                                    n->pkg->name, n->original_file_path)
                                      : NULL;
    x->status = st;
    x->seconds = secs;
    x->rows = rows;
    x->message = msg ? ig_strdup(msg) : NULL;
    if (st == IG_TF_SUCCESS) res->n_success++;
    else if (st == IG_TF_ERROR) res->n_error++;
    else res->n_skipped++;
}

static char *error_text(tf_project *p, const tf_node *n, const ig_error *e, bool sql)
{
    ig_buf b = IG_BUF_INIT;
    if (sql) {
        ig_buf_printf(&b, "Database Error in model %s (%s)\n  %s", n->name, n->original_file_path,
                      e->message);
        if (e->hint[0]) ig_buf_printf(&b, "\n  hint: %s", e->hint);
        ig_buf_printf(&b, "\n  compiled code at %s/run/%s/%s", p->target_path, n->pkg->name,
                      n->original_file_path);
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
    /* under r->lock */
    for (size_t i = 0; i < n->nkids; i++) {
        tf_node *k = r->p->nodes[n->kids[i]];
        if (!r->sel[k->index]) continue;
        if (!ok) r->skip[k->index] = 1;
        if (--k->waiting == 0) r->ready[r->nready++] = k->index;
    }
    r->remaining--;
    pthread_cond_broadcast(&r->cond);
}

static void run_one(runner *r, tf_thread *t, tf_node *n)
{
    tf_project *p = r->p;
    bool eph = n->materialized && !strcmp(n->materialized, "ephemeral");
    char rel[600];
    rel_short(n, rel, sizeof rel);
    int idx = 0;
    pthread_mutex_lock(&r->lock);
    bool skip = r->skip[n->index] || (p->opts->cancel && *p->opts->cancel);
    if (!eph) idx = ++r->started;
    pthread_mutex_unlock(&r->lock);
    if (skip) {
        if (!eph) {
            char msg[700];
            snprintf(msg, sizeof msg, "SKIP relation %s", rel);
            progress(p, idx, r->total, msg, YELLOW, "SKIP");
        }
        pthread_mutex_lock(&r->lock);
        add_result(r, n, IG_TF_SKIPPED, 0, -1,
                   p->opts->cancel && *p->opts->cancel ? "interrupted" : "an upstream node failed");
        finish_node(r, n, false);
        pthread_mutex_unlock(&r->lock);
        return;
    }
    char msg[700];
    if (!eph) {
        snprintf(msg, sizeof msg, "START sql %s model %s", mat_word(n), rel);
        progress(p, idx, r->total, msg, "", "RUN");
    }
    uint64_t t0 = ig_now_ns();
    ig_error e;
    ig_error_clear(&e);
    int64_t rows = -1;
    bool sqlerr = false;
    ig__tf_thread_node(t, n);
    ig_rc rc = ig__tf_compile_node(t, n, &e);
    if (!rc) rc = ig__tf_write_target(p, "compiled", n, n->compiled, n->compiled_len, &e);
    if (!rc && !eph) {
        const tf_materialization *m = ig__tf_materialization(mat_word(n));
        if (!m) {
            rc = ig_err(&e, IG_ERR_CONFIG, "unknown materialization '%s' in model %s (%s)",
                        mat_word(n), n->name, n->original_file_path);
            ig_err_hint(&e, "use view, table, incremental or ephemeral");
        } else {
            ig__tf_thread_node(t, n);
            t->mode = TF_MODE_COMPILE;
            ig_buf log = IG_BUF_INIT;
            rc = m->run(t, n, &log, &rows, &e);
            sqlerr = rc == IG_ERR_SQL;
            ig_error we;
            if (log.len) ig__tf_write_target(p, "run", n, log.data, log.len, &we);
            ig_buf_free(&log);
        }
    }
    ig__tf_thread_node(t, NULL);
    double secs = (double)(ig_now_ns() - t0) / 1e9;
    char *text = rc ? error_text(p, n, &e, sqlerr) : NULL;
    if (!eph) {
        char st[64];
        if (rc) {
            snprintf(msg, sizeof msg, "ERROR creating sql %s model %s", mat_word(n), rel);
            snprintf(st, sizeof st, "ERROR in %.2fs", secs);
            progress(p, idx, r->total, msg, RED, st);
        } else {
            snprintf(msg, sizeof msg, "OK created sql %s model %s", mat_word(n), rel);
            if (rows >= 0 && strcmp(mat_word(n), "view"))
                snprintf(st, sizeof st, "%s %lld in %.2fs",
                         strcmp(mat_word(n), "incremental") ? "SELECT" : "INSERT", (long long)rows, secs);
            else snprintf(st, sizeof st, "OK in %.2fs", secs);
            progress(p, idx, r->total, msg, GREEN, st);
        }
    }
    pthread_mutex_lock(&r->lock);
    add_result(r, n, rc ? IG_TF_ERROR : IG_TF_SUCCESS, secs, rows, text);
    finish_node(r, n, rc == 0);
    pthread_mutex_unlock(&r->lock);
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

static void summary(tf_project *p, runner *r, double secs)
{
    ig_transform_result *res = r->res;
    int views = 0, tables = 0, incs = 0;
    for (size_t i = 0; i < p->nnodes; i++) {
        tf_node *n = p->nodes[i];
        if (!r->sel[i]) continue;
        const char *m = mat_word(n);
        views += !strcmp(m, "view");
        tables += !strcmp(m, "table");
        incs += !strcmp(m, "incremental");
    }
    char what[200] = "";
    size_t w = 0;
    if (tables) w += (size_t)snprintf(what + w, sizeof what - w, "%d table model%s", tables, tables == 1 ? "" : "s");
    if (incs) w += (size_t)snprintf(what + w, sizeof what - w, "%s%d incremental model%s", w ? ", " : "", incs, incs == 1 ? "" : "s");
    if (views) w += (size_t)snprintf(what + w, sizeof what - w, "%s%d view model%s", w ? ", " : "", views, views == 1 ? "" : "s");
    if (!w) snprintf(what, sizeof what, "0 models");
    say(p, "%s", "");
    int s = (int)secs;
    say(p, "Finished running %s in %d hours %d minutes and %.2f seconds (%.2fs).", what, s / 3600,
        (s / 60) % 60, secs - (s / 60) * 60, secs);
    say(p, "%s", "");
    if (!res->n_error) say(p, "%sCompleted successfully%s", color(p, GREEN), color(p, RESET));
    else {
        say(p, "%sCompleted with %zu error%s and 0 warnings:%s", color(p, RED), res->n_error,
            res->n_error == 1 ? "" : "s", color(p, RESET));
        for (size_t i = 0; i < res->nnodes; i++)
            if (res->nodes[i].status == IG_TF_ERROR) {
                say(p, "%s", "");
                say(p, "  %s", res->nodes[i].message ? res->nodes[i].message : "");
            }
    }
    say(p, "%s", "");
    size_t shown = 0;
    for (size_t i = 0; i < res->nnodes; i++)
        shown += strcmp(res->nodes[i].materialized, "ephemeral") != 0;
    size_t eph_ok = 0;
    for (size_t i = 0; i < res->nnodes; i++)
        eph_ok += !strcmp(res->nodes[i].materialized, "ephemeral") && res->nodes[i].status == IG_TF_SUCCESS;
    size_t eph_skip = 0;
    for (size_t i = 0; i < res->nnodes; i++)
        eph_skip += !strcmp(res->nodes[i].materialized, "ephemeral") && res->nodes[i].status == IG_TF_SKIPPED;
    say(p, "Done. PASS=%zu WARN=0 ERROR=%zu SKIP=%zu TOTAL=%zu", res->n_success - eph_ok,
        res->n_error, res->n_skipped - eph_skip, shown);
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
    ig_rc rc = select_nodes(p, r.sel, err);
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
            if (!(n->materialized && !strcmp(n->materialized, "ephemeral"))) r.total++;
            n->waiting = 0;
            for (size_t k = 0; k < n->ndeps; k++) n->waiting += r.sel[n->deps[k]] != 0;
        }
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
        if (!rc && res->n_error) {
            rc = ig_err(err, IG_ERR_FAILED, "%zu of %zu models failed%s", res->n_error,
                        (size_t)r.total, res->n_skipped ? " (downstream models skipped)" : "");
            ig_err_hint(err, "the errors are listed above; compiled SQL is under %s/run",
                        p->target_path);
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
            ig_wh_options wo = {.path = p->target.path ? p->target.path : ":memory:"};
            if (proj && p->target.path && !strcmp(p->target.path, proj->warehouse.path)) {
                wo.threads = proj->warehouse.threads;
                wo.memory_limit = proj->warehouse.memory_limit;
            } else wo.no_migrate = true;
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
    size_t models = 0, sources = 0, macros = 0;
    for (size_t i = 0; i < p->nnodes; i++) {
        models += p->nodes[i]->kind == TF_MODEL && p->nodes[i]->enabled;
        sources += p->nodes[i]->kind == TF_SOURCE;
    }
    for (size_t i = 0; i < p->macros.cap; i++)
        if (p->macros.keys[i] && strchr(p->macros.keys[i], '.') &&
            strncmp(p->macros.keys[i], "dbt.", 4))
            macros++;
    res->n_models = models;
    if (opts->out) {
        say(p, "Found %zu model%s, %zu source%s, %zu macro%s", models, models == 1 ? "" : "s",
            sources, sources == 1 ? "" : "s", macros, macros == 1 ? "" : "s");
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

static ig_rc execute(const ig_project *project, ig_wh *wh, const ig_transform_options *opts,
                     bool run, ig_transform_result *res, ig_error *err)
{
    tf_project *p;
    ig_wh *opened;
    ig_rc rc = prepare(project, wh, opts, true, &p, &opened, res, err);
    if (rc) return rc;
    rc = ig__tf_execute(p, run, res, err);
    ig__tf_free(p);
    if (opened) ig_wh_close(opened);
    return rc;
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
