/* The sync engine: runs a source's streams through their connector and lands
 * what it reads. For each stream it decides the mode and cursor from
 * ingot.yml, loads the saved state, checks the columns against the last sync,
 * and gives the connector an ig_conn_out. Records go into a lake batch
 * (src/lake: <lake>/raw/<source>/<stream>/dt=YYYY-MM-DD/, hashed as they are
 * written). At each checkpoint of an incremental stream the batch is sealed
 * and landed, and ig_lake_commit runs one warehouse transaction that loads it
 * into bronze, merges silver, saves the state and records the load — so a
 * crash anywhere resumes from the last committed state without losing or
 * duplicating a row. A full-refresh stream is one batch, committed (bronze
 * replaced or appended to) at the end.
 *
 * Control flow: ig_conn_sync -> sync_stream (per stream) -> vt->read ->
 * ig_conn_out_record / ig_conn_out_checkpoint -> commit_batch -> (loader
 * thread) ig_lake_commit -> load_batch.
 * The reader fills batch N+1 while batch N loads; at most one load is in
 * flight, so batches commit in order. */
#include "ingest/connectors/internal.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "lake/lake.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define OUTBUF (1u << 20)

/* One landed batch handed to the loader thread: everything load_batch needs,
 * copied (malloc) so the reader can go on changing its own fields. */
typedef struct load_job {
    ig_conn_out *o;
    ig_lake_batch *lb;
    ig_lake_manifest *m;
    int batch;
    int64_t file_bytes, seq;
    char *cursor_value, *state;
    ig_rc rc;
    ig_error err;
} load_job;

typedef struct warning {
    const char *kind, *first;
    int64_t count;
} warning;

struct ig_conn_out {
    ig_conn *c;
    ig_wh *wh;
    ig_arena *a;
    ig__conn_target t;
    const ig_conn_sync_opts *opt;
    bool deferred;          /* full refresh: one batch, loaded at the end */
    size_t batch_bytes, batch_rows;
    /* the batch being written, through the lake */
    ig_lake *lake;
    const char *lake_source, *lake_stream; /* names valid for the lake */
    const char *run_id;
    ig_lake_batch *lb;      /* NULL when no batch is open */
    char *buf;
    size_t blen;
    int64_t file_rows, file_bytes;
    int batch;              /* number of the next batch */
    /* state */
    const char *cursor_value, *state, *columns;
    /* totals */
    int64_t rows, bytes, batches;
    uint64_t started, last_progress;
    warning warns[16];
    size_t nwarns;
    bool tty;
    /* the loader thread (incremental streams): loads batch N while the
     * reader writes batch N+1. It uses wh itself, not a clone: the reader
     * never touches the warehouse while a load is in flight (every use of
     * wh in this file comes after wait_loader), so the connection is used
     * by one thread at a time, handed over by pthread_create/join. */
    pthread_t loader;
    load_job *job;          /* the batch being loaded, NULL when none */
    bool serial;            /* INGOT_CONN_SERIAL=1: load in the reader's thread */
};

static volatile sig_atomic_t interrupted;
static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

bool ig_conn_out_interrupted(const ig_conn_out *o) { return interrupted != 0; }

void ig_conn_out_warn(ig_conn_out *o, const char *kind, const char *fmt, ...)
{
    for (size_t i = 0; i < o->nwarns; i++)
        if (!strcmp(o->warns[i].kind, kind)) {
            o->warns[i].count++;
            return;
        }
    if (o->nwarns == sizeof o->warns / sizeof o->warns[0]) return;
    va_list ap;
    va_start(ap, fmt);
    o->warns[o->nwarns++] = (warning){kind, ig_arena_vprintf(o->a, fmt, ap), 1};
    va_end(ap);
}

/* ---- batches in the lake ---- */

static ig_rc flush_buf(ig_conn_out *o, ig_error *err)
{
    if (!o->blen) return IG_OK;
    ig_rc rc = ig_lake_batch_write(o->lb, o->buf, o->blen, err);
    o->blen = 0;
    return rc;
}

static ig_rc open_batch(ig_conn_out *o, ig_error *err)
{
    char name[64];
    snprintf(name, sizeof name, "%05d.csv", o->batch);
    o->file_rows = o->file_bytes = 0;
    return ig_lake_batch_begin(o->lake, o->lake_source, o->lake_stream, name, &o->lb, err);
}

/* Seal and land the open batch (durable, hashed, manifest written). */
static ig_rc land_batch(ig_conn_out *o, ig_lake_manifest **m, ig_error *err)
{
    ig_rc rc = flush_buf(o, err);
    if (!rc) rc = ig_lake_batch_seal(o->lb, err);
    if (!rc) {
        ig_buf opts = IG_BUF_INIT;
        ig_buf_printf(&opts, "{\"connector\":\"%s\",\"stream\":", o->c->vt->type);
        ig_json_quote(&opts, o->t.stream);
        ig_buf_printf(&opts, ",\"columns\":%s}", o->columns ? o->columns : "null");
        rc = ig_lake_batch_land(o->lb, "csv", ig_buf_cstr(&opts), NULL, m, err);
        ig_buf_free(&opts);
    }
    return rc;
}

ig_rc ig_conn_out_record(ig_conn_out *o, const char *rec, size_t n, ig_error *err)
{
    if (!o->lb) {
        ig_rc rc = open_batch(o, err);
        if (rc) return rc;
    }
    if (n > OUTBUF - o->blen) {
        ig_rc rc = flush_buf(o, err);
        if (rc) return rc;
        if (n > OUTBUF) { /* a record bigger than the buffer: write through */
            rc = ig_lake_batch_write(o->lb, rec, n, err);
            if (rc) return rc;
            n = 0;
        }
    }
    memcpy(o->buf + o->blen, rec, n);
    o->blen += n;
    o->file_rows++;
    o->file_bytes += (int64_t)n;
    o->rows++;
    o->bytes += (int64_t)n;
    if ((o->rows & 0xfff) == 0) {
        uint64_t now = ig_now_ns();
        if (now - o->last_progress > 500000000ull) {
            o->last_progress = now;
            double s = (double)(now - o->started) / 1e9;
            if (o->tty && !o->opt->quiet)
                fprintf(stderr, "\r  %s: %lld rows, %.1f MB, %.1f MB/s   ", o->t.stream,
                        (long long)o->rows, (double)o->bytes / 1e6, (double)o->bytes / 1e6 / s);
            else if (now - o->started > 10000000000ull && (o->rows & 0xfffff) == 0)
                ig_info("source.progress", "%s.%s: %lld rows, %.1f MB", o->t.source, o->t.stream,
                        (long long)o->rows, (double)o->bytes / 1e6);
        }
    }
    return IG_OK;
}

bool ig_conn_out_full(const ig_conn_out *o)
{
    if (o->deferred || !o->lb) return false; /* a full refresh is one batch */
    return (size_t)o->file_bytes >= o->batch_bytes ||
           (o->batch_rows && (size_t)o->file_rows >= o->batch_rows);
}

/* The load function the lake runs inside its transaction: bronze (replaced
 * for a full refresh overwrite), silver, the connector state. ctx is a
 * load_job (its batch number, cursor and state are those of the batch, not
 * the reader's current ones). Runs in the loader thread: it touches neither
 * the arena nor the reader's fields other than the constant target. */
static ig_rc load_batch(void *ctx, ig_wh *wh, const ig_lake_manifest *m, ig_lake_load_result *res,
                        ig_error *err)
{
    load_job *j = ctx;
    ig_conn_out *o = j->o;
    ig_rc rc = IG_OK;
    if (o->deferred) {
        if (o->t.mode == IG_CONN_FULL_OVERWRITE) rc = ig__conn_drop_tables(wh, o->a, &o->t, err);
        if (!rc) rc = ig__conn_ensure_tables(wh, o->a, &o->t, NULL, 0, err);
    }
    int64_t loaded = 0;
    if (!rc && m) {
        const char *files[1] = {m->raw_path};
        rc = ig__conn_load_files(wh, o->a, &o->t, j->batch, files, 1, &loaded, err);
    }
    if (!rc)
        rc = ig__conn_state_put(wh, o->t.source, o->t.stream, ig_conn_mode_name(o->t.mode),
                                o->t.cursor, o->deferred ? NULL : j->cursor_value, j->state,
                                o->columns, o->t.load_id, err);
    if (!rc && m)
        rc = ig__conn_record_batch(wh, &o->t, j->batch, m->raw_path, loaded, j->file_bytes,
                                   m->sha256, j->cursor_value, err);
    if (!rc && res) {
        res->rows_accepted = loaded;
        res->relation = ig_asprintf("bronze.%s", o->t.table);
    }
    return rc;
}

/* A crash test hook: stop dead right after the Nth commit. */
static void kill_hook(int64_t committed)
{
    const char *kill_after = getenv("INGOT_TEST_KILL_AFTER_BATCH");
    if (kill_after && atoi(kill_after) == committed) raise(SIGKILL);
}

static void run_job(load_job *j, ig_wh *wh)
{
    ig_error_clear(&j->err);
    j->rc = ig_lake_commit(j->o->lake, wh, j->m, load_batch, j, j->o->run_id, &j->err);
    ig_lake_batch_free(j->lb);
    j->lb = NULL;
    if (!j->rc) kill_hook(j->seq);
}

static void *loader_main(void *arg)
{
    load_job *j = arg;
    run_job(j, j->o->wh);
    return NULL;
}

/* Wait for the batch being loaded (if any); its error becomes ours. Batches
 * commit in order: there is at most one load in flight. */
static ig_rc finish_job(ig_conn_out *o, load_job *j, ig_error *err)
{
    ig_rc rc = j->rc;
    if (rc) *err = j->err;
    else {
        o->batches++;
        ig_debug("source.batch", "%s.%s: batch %d committed (cursor %s)", o->t.source,
                 o->t.stream, j->batch, j->cursor_value ? j->cursor_value : "-");
    }
    free(j->cursor_value);
    free(j->state);
    free(j);
    return rc;
}

static ig_rc wait_loader(ig_conn_out *o, ig_error *err)
{
    load_job *j = o->job;
    if (!j) return IG_OK;
    pthread_join(o->loader, NULL);
    o->job = NULL;
    return finish_job(o, j, err);
}

/* Land the open batch and commit it with the state in one transaction.
 * Incremental batches are committed by the loader thread while the reader
 * goes on (one in flight: this waits for the
 * previous one first); a full refresh's one batch, and a state change
 * without rows, commit here. */
static ig_rc commit_batch(ig_conn_out *o, ig_error *err)
{
    ig_rc rc = wait_loader(o, err);
    if (rc) return rc;
    if (o->lb) {
        ig_lake_manifest *m = NULL;
        rc = land_batch(o, &m, err);
        ig_debug("source.landed", "%s.%s: batch %d landed (%lld rows), loading", o->t.source,
                 o->t.stream, o->batch, (long long)o->file_rows);
        if (rc) {
            ig_lake_batch_free(o->lb);
            o->lb = NULL;
            return rc;
        }
        load_job *j = ig_calloc(1, sizeof *j);
        *j = (load_job){.o = o, .lb = o->lb, .m = m, .batch = o->batch,
                        .file_bytes = o->file_bytes, .seq = o->batches + 1};
        if (o->cursor_value) j->cursor_value = ig_strdup(o->cursor_value);
        if (o->state) j->state = ig_strdup(o->state);
        o->lb = NULL;
        o->batch++;
        bool async = !o->deferred && !o->serial;
        if (async && pthread_create(&o->loader, NULL, loader_main, j) == 0) {
            o->job = j;
            return IG_OK;
        }
        run_job(j, o->wh); /* serially */
        return finish_job(o, j, err);
    }
    /* no rows, but a new state (or a full refresh of an empty source) */
    load_job j = {.o = o, .batch = o->batch, .file_bytes = o->file_bytes,
                  .cursor_value = (char *)o->cursor_value, .state = (char *)o->state};
    if ((rc = ig_wh_begin(o->wh, err))) return rc;
    rc = load_batch(&j, o->wh, NULL, NULL, err);
    if (!rc) rc = ig_wh_commit(o->wh, err);
    if (rc) {
        ig_wh_rollback(o->wh);
        return rc;
    }
    kill_hook(o->batches);
    return IG_OK;
}

ig_rc ig_conn_out_checkpoint(ig_conn_out *o, const char *cursor_value, const char *state,
                             ig_error *err)
{
    bool changed = (cursor_value && (!o->cursor_value || strcmp(cursor_value, o->cursor_value))) ||
                   (state && (!o->state || strcmp(state, o->state)));
    if (cursor_value) o->cursor_value = ig_arena_strdup(o->a, cursor_value);
    if (state) o->state = ig_arena_strdup(o->a, state);
    if (o->deferred) return IG_OK; /* committed once, at the end */
    if (!o->lb && !changed) return IG_OK; /* nothing new to commit */
    return commit_batch(o, err);
}

/* Batches a crash left landed but not loaded: their rows are read again
 * from the source (the state is older than them), so they are recorded as
 * superseded instead of loaded. */
static ig_rc supersede_pending(ig_conn_out *o, ig_error *err)
{
    ig_lake_manifest **ms = NULL;
    size_t n = 0;
    int64_t loads = 0;
    /* ig_lake_pending sorts an empty list with qsort(NULL, 0) (UB, reported);
     * with no load at all yet, what could be pending is picked up next time */
    ig_rc rc = ig_wh_query_int(o->wh, "SELECT count(*) FROM ingot.loads", &loads, err);
    if (rc || !loads) return rc;
    rc = ig_lake_pending(o->lake, o->wh, o->lake_source, true, &ms, &n, err);
    for (size_t i = 0; i < n && !rc; i++) {
        if (strcmp(ms[i]->stream, o->lake_stream)) continue;
        rc = ig_lake_record(o->wh, ms[i], "duplicate",
                            "superseded: a connector batch not committed before a crash; its "
                            "rows were read again from the source",
                            o->run_id, err);
    }
    ig_lake_manifests_free(ms, n);
    return rc;
}

/* ---- streams ---- */

typedef struct plan {
    ig_conn_stream *st;
    ig_conn_mode mode;
    const char *cursor, *deleted;
    const char **pk;
    size_t npk;
    const ig_yaml *cfg;
} plan;

#define IS_INCR(m) ((m) == IG_CONN_INCR_APPEND || (m) == IG_CONN_INCR_DEDUP)

static const char *const db_stream_keys[] = {"mode", "cursor", "primary_key", "deleted_column",
                                             NULL};

static ig_rc read_plan(ig_conn *c, ig_conn_stream *st, const ig_yaml *scfg, int dmode, plan *p,
                       ig_error *err)
{
    memset(p, 0, sizeof *p);
    p->st = st;
    p->cfg = scfg;
    p->mode = (ig_conn_mode)dmode;
    p->pk = st->pk;
    p->npk = st->npk;
    p->cursor = NULL;
    if (scfg && scfg->kind == IG_Y_MAP) {
        const char *keys[64];
        size_t n = 0;
        for (size_t i = 0; db_stream_keys[i]; i++) keys[n++] = db_stream_keys[i];
        for (size_t i = 0; c->vt->stream_keys && c->vt->stream_keys[i] && n < 63; i++)
            keys[n++] = c->vt->stream_keys[i];
        keys[n] = NULL;
        char *what = ig_arena_printf(c->arena, "sources.%s.streams.%s", c->name, st->name);
        ig_rc rc = ig_yaml_check_keys(scfg, what, keys, err);
        if (rc) return rc;
        const ig_yaml *v;
        if ((v = ig_yaml_get(scfg, "mode")) && v->kind != IG_Y_NULL) {
            const char *m;
            if ((rc = ig_yaml_str(v, what, &m, err))) return rc;
            int k = ig_conn_mode_parse(m);
            if (k < 0) {
                ig_yaml_error(v, err, "unknown sync mode '%s' for stream '%s'", m, st->name);
                ig_err_hint(err, "modes: full_refresh_overwrite, full_refresh_append, "
                                 "incremental_append, incremental_dedup, cdc");
                return IG_ERR_CONFIG;
            }
            p->mode = (ig_conn_mode)k;
            if (p->mode == IG_CONN_CDC && !c->vt->cdc_release) {
                ig_yaml_error(v, err, "stream '%s': a %s source has no cdc mode", st->name,
                              c->vt->type);
                ig_err_hint(err, "cdc reads PostgreSQL's log; for this source use "
                                 "incremental_dedup with a cursor column");
                return IG_ERR_CONFIG;
            }
        }
        if ((v = ig_yaml_get(scfg, "cursor")) && v->kind != IG_Y_NULL)
            if ((rc = ig_yaml_str(v, what, &p->cursor, err))) return rc;
        if ((v = ig_yaml_get(scfg, "deleted_column")) && v->kind != IG_Y_NULL)
            if ((rc = ig_yaml_str(v, what, &p->deleted, err))) return rc;
        if ((v = ig_yaml_get(scfg, "primary_key")) && v->kind != IG_Y_NULL) {
            if (v->kind == IG_Y_SCALAR) {
                p->pk = ig_arena_alloc(c->arena, sizeof *p->pk);
                p->pk[0] = v->str;
                p->npk = 1;
            } else if (v->kind == IG_Y_SEQ) {
                p->pk = ig_arena_alloc(c->arena, (v->n + 1) * sizeof *p->pk);
                for (size_t i = 0; i < v->n; i++)
                    if ((rc = ig_yaml_str(v->items[i], what, &p->pk[i], err))) return rc;
                p->npk = v->n;
            }
        }
    }
    if (p->mode == IG_CONN_CDC && !c->vt->cdc_release) {
        ig_yaml_error(scfg ? scfg : c->cfg, err, "stream '%s': a %s source has no cdc mode",
                      st->name, c->vt->type);
        ig_err_hint(err, "cdc reads PostgreSQL's log; for this source use incremental_dedup "
                         "with a cursor column");
        return IG_ERR_CONFIG;
    }
    if (p->mode == IG_CONN_CDC) p->cursor = NULL; /* the log orders the changes */
    if (!p->cursor && IS_INCR(p->mode)) p->cursor = st->default_cursor;
    const ig_yaml *at = scfg ? scfg : c->cfg;
    if (IS_INCR(p->mode) && !p->cursor) {
        ig_yaml_error(at, err, "stream '%s' of source '%s' is %s but has no 'cursor:'", st->name,
                      c->name, ig_conn_mode_name(p->mode));
        ig_buf h = IG_BUF_INIT;
        for (size_t i = 0; i < st->ncols; i++)
            if (st->cols[i].cursor_ok) ig_buf_printf(&h, "%s%s", h.len ? ", " : "", st->cols[i].name);
        ig_err_hint(err, "name the column that grows with every change%s%s",
                    h.len ? "; candidates: " : "", ig_buf_cstr(&h));
        ig_buf_free(&h);
        return IG_ERR_CONFIG;
    }
    if (p->mode == IG_CONN_CDC && !p->npk) {
        ig_yaml_error(at, err, "stream '%s' is cdc but its table has no primary key", st->name);
        ig_err_hint(err, "set 'primary_key:' on the stream to the columns that identify a row "
                         "(and give the table REPLICA IDENTITY FULL in the source so deletes "
                         "carry them)");
        return IG_ERR_CONFIG;
    }
    if (p->mode == IG_CONN_INCR_DEDUP && !p->npk) {
        ig_yaml_error(at, err, "stream '%s' is incremental_dedup but has no primary key",
                      st->name);
        ig_err_hint(err, "set 'primary_key:' on the stream (the table has none in the source)");
        return IG_ERR_CONFIG;
    }
    const char *names[3] = {p->cursor, p->deleted, NULL};
    for (size_t k = 0; k < 2 + p->npk; k++) {
        const char *nm = k < 2 ? names[k] : p->pk[k - 2];
        if (!nm) continue;
        bool found = false;
        for (size_t i = 0; i < st->ncols && !found; i++) found = !strcmp(st->cols[i].name, nm);
        if (!found) {
            const char **cn = ig_arena_alloc(c->arena, st->ncols * sizeof *cn);
            for (size_t i = 0; i < st->ncols; i++) cn[i] = st->cols[i].name;
            const char *s = ig_str_suggest(nm, cn, st->ncols);
            ig_yaml_error(at, err, "stream '%s' has no column '%s'", st->name, nm);
            if (s) ig_err_hint(err, "did you mean '%s'?", s);
            return IG_ERR_CONFIG;
        }
        if (k == 0) {
            for (size_t i = 0; i < st->ncols; i++)
                if (!strcmp(st->cols[i].name, nm) && !st->cols[i].cursor_ok) {
                    ig_yaml_error(at, err, "column '%s' (%s) of stream '%s' cannot be a cursor",
                                  nm, st->cols[i].source_type, st->name);
                    ig_err_hint(err, "a cursor is a number, date, timestamp or text column that "
                                     "grows with every change");
                    return IG_ERR_CONFIG;
                }
        }
    }
    return IG_OK;
}

/* A cdc stream: the stream's columns and the change columns (conn.h). */
static ig_conn_stream *cdc_stream(ig_arena *a, const ig_conn_stream *st)
{
    ig_conn_stream *s = ig_arena_alloc(a, sizeof *s);
    *s = *st;
    s->ncols = st->ncols + IG_CONN_CDC_NCOLS;
    s->cols = ig_arena_zalloc(a, s->ncols * sizeof *s->cols);
    memcpy(s->cols, st->cols, st->ncols * sizeof *s->cols);
    static const struct {
        const char *name, *type, *read;
    } extra[IG_CONN_CDC_NCOLS] = {
        {"_ingot_op", "VARCHAR", "'r'"},
        {"_ingot_lsn", "BIGINT", "0"},
        {"_ingot_toast", "VARCHAR", "NULL"},
    };
    for (size_t i = 0; i < IG_CONN_CDC_NCOLS; i++) {
        ig_conn_column *col = &s->cols[st->ncols + i];
        col->name = extra[i].name;
        col->source_type = "ingot";
        col->wh_type = col->csv_type = extra[i].type;
        col->read_expr = extra[i].read;
        col->nullable = i == 2;
    }
    return s;
}

static char *new_load_id(ig_arena *a)
{
    unsigned char r[4] = {0};
    FILE *f = fopen("/dev/urandom", "rb");
    if (f) {
        if (fread(r, 1, sizeof r, f) != sizeof r) r[0] = (unsigned char)getpid();
        fclose(f);
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    return ig_arena_printf(a, "%04d%02d%02dT%02d%02d%02d-%02x%02x%02x%02x", tm.tm_year + 1900,
                           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, r[0], r[1],
                           r[2], r[3]);
}

static ig_rc sync_stream(ig_conn *c, ig_wh *wh, ig_lake *lake, const plan *p,
                         const ig_conn_sync_opts *opt, const char *run_id,
                         ig_conn_sync_result *res, ig_error *err)
{
    ig_arena *a = c->arena;
    ig_conn_out o = {0};
    o.c = c;
    o.wh = wh;
    o.a = a;
    o.opt = opt;
    o.lake = lake;
    o.run_id = run_id;
    o.tty = isatty(2);
    o.started = o.last_progress = ig_now_ns();
    o.t = (ig__conn_target){
        .source = c->name,
        .stream = p->st->name,
        .table = ig_conn_table_name(a, c->name, p->st->name),
        .st = p->st,
        .mode = p->mode,
        .cursor = IS_INCR(p->mode) ? p->cursor : NULL,
        .pk = p->pk,
        .npk = p->npk,
        .deleted = p->deleted,
        .load_id = ig_arena_printf(a, "%s", run_id),
    };
    if (p->mode == IG_CONN_CDC) {
        ig_conn_stream *cs = cdc_stream(a, p->st);
        cs->pk = p->pk; /* the configured key, if any: what identifies a row */
        cs->npk = p->npk;
        o.t.st = cs;
    }
    o.columns = ig__conn_columns_json(a, o.t.st);
    long brows = 0, bmb = 0;
    ig_rc rc = ig_conn_cfg_int(c, "batch_rows", 0, &brows, err);
    if (!rc) rc = ig_conn_cfg_int(c, "batch_mb", 0, &bmb, err);
    if (rc) return rc;
    o.batch_rows = opt->batch_rows ? opt->batch_rows : (size_t)(brows > 0 ? brows : 0);
    o.batch_bytes = opt->batch_bytes ? opt->batch_bytes
                                     : (bmb > 0 ? (size_t)bmb << 20 : (size_t)64 << 20);
    o.deferred = p->mode <= IG_CONN_FULL_APPEND;

    /* State and schema changes. */
    ig__conn_state s;
    rc = ig__conn_state_get(wh, a, c->name, p->st->name, &s, err);
    if (rc) return rc;
    if (o.deferred && s.found && s.mode && !strcmp(s.mode, "cdc") && c->vt->cdc_release &&
        (rc = c->vt->cdc_release(c, p->st, p->cfg, s.state, err)))
        return rc; /* no longer cdc: the slot goes */
    bool reset = opt->full_refresh && !o.deferred;
    /* a cdc stream saved without a log position: its snapshot did not finish */
    if (p->mode == IG_CONN_CDC && s.found && s.mode && !strcmp(s.mode, "cdc") && !s.cursor_value)
        reset = true;
    if (s.found && !reset && s.mode && strcmp(s.mode, ig_conn_mode_name(p->mode)) &&
        !o.deferred) {
        bool was_incr = !strncmp(s.mode, "incremental", 11) && p->mode != IG_CONN_CDC;
        if (!was_incr) reset = true; /* switching from full refresh: start over */
    }
    if (s.found && !reset && !o.deferred && s.cursor_field && o.t.cursor &&
        strcmp(s.cursor_field, o.t.cursor)) {
        ig_err(err, IG_ERR_CONFIG,
               "stream '%s': the cursor changed from '%s' to '%s' since the last sync",
               p->st->name, s.cursor_field, o.t.cursor);
        ig_err_hint(err, "run 'ingot source sync %s --stream %s --full-refresh' to start over "
                         "with the new cursor", c->name, p->st->name);
        return IG_ERR_CONFIG;
    }
    const char **added = NULL;
    size_t nadded = 0;
    if (s.found && !reset && p->mode != IG_CONN_FULL_OVERWRITE) {
        rc = ig__conn_columns_diff(a, s.columns, o.t.st, &added, &nadded, err);
        if (rc) {
            ig_err_hint(err, "reload it with 'ingot source sync %s --stream %s --full-refresh' "
                             "(bronze is rebuilt with the new type)", c->name, p->st->name);
            return rc;
        }
        for (size_t i = 0; i < nadded; i++)
            ig_warn("source.schema", "%s.%s: new column '%s' added to bronze.%s", c->name,
                    p->st->name, added[i], o.t.table);
    }
    if (reset || !o.deferred) {
        if ((rc = ig_wh_begin(wh, err))) return rc;
        if (reset) {
            /* leaving cdc: its slot would hold the source's WAL forever */
            if (s.found && s.mode && !strcmp(s.mode, "cdc") && p->mode != IG_CONN_CDC &&
                c->vt->cdc_release)
                rc = c->vt->cdc_release(c, p->st, p->cfg, s.state, err);
            if (!rc) rc = ig__conn_drop_tables(wh, a, &o.t, err);
            if (!rc) rc = ig__conn_state_delete(wh, c->name, p->st->name, err);
        }
        if (!rc) rc = ig__conn_ensure_tables(wh, a, &o.t, added, nadded, err);
        if (!rc) rc = ig_wh_commit(wh, err);
        if (rc) {
            ig_wh_rollback(wh);
            return rc;
        }
        if (reset) s = (ig__conn_state){0};
    }
    o.cursor_value = s.found && !o.deferred ? s.cursor_value : NULL;
    o.state = s.found ? s.state : NULL;
    o.t.boundary = o.cursor_value;

    char nm[64];
    ig_lake_name_from(c->name, nm, sizeof nm);
    o.lake_source = ig_arena_strdup(a, nm);
    ig_lake_name_from(p->st->name, nm, sizeof nm);
    o.lake_stream = ig_arena_strdup(a, nm);
    o.buf = ig_malloc(OUTBUF);
    const char *ser = getenv("INGOT_CONN_SERIAL");
    o.serial = ser && *ser && strcmp(ser, "0");
    /* cdc: a checkpoint returns once committed, so the connector may confirm
     * the position to the source right after it */
    if (p->mode == IG_CONN_CDC) o.serial = true;
    if ((rc = supersede_pending(&o, err))) {
        free(o.buf);
        return rc;
    }

    ig_conn_read rq = {
        .stream = o.t.st,
        .mode = p->mode,
        .cursor = o.t.cursor,
        .cursor_value = o.cursor_value,
        .state = o.deferred ? NULL : o.state,
        .stream_cfg = p->cfg,
    };
    rc = c->vt->read(c, &rq, &o, err);
    if (!rc && interrupted)
        rc = ig_err(err, IG_ERR_INTERRUPTED, "interrupted; committed batches are kept, the next "
                                             "sync resumes after them");
    /* the rest of an incremental stream, or the one batch of a full refresh */
    if (!rc && (o.lb || o.deferred)) rc = commit_batch(&o, err);
    /* the batch still loading (also after an error: it commits or fails on
     * its own; the first error is the one reported) */
    ig_error lerr;
    ig_error_clear(&lerr);
    ig_rc lrc = wait_loader(&o, &lerr);
    if (lrc && !rc) {
        rc = lrc;
        *err = lerr;
    }
    if (o.lb) ig_lake_batch_free(o.lb); /* not landed: its temporary file goes */
    if (o.tty && !opt->quiet && o.rows >= 4096) fprintf(stderr, "\r%*s\r", 70, "");
    free(o.buf);
    for (size_t i = 0; i < o.nwarns; i++)
        ig_warn("source.warning", "%s.%s: %s (%lld rows)", c->name, p->st->name, o.warns[i].first,
                (long long)o.warns[i].count);
    res->rows += o.rows;
    res->bytes += o.bytes;
    res->batches += o.batches;
    double secs = (double)(ig_now_ns() - o.started) / 1e9;
    if (rc) {
        ig_err_prefix(err, "stream '%s' of source '%s'", p->st->name, c->name);
        if (o.batches)
            ig_err_hint(err, "%lld batches were committed before the failure; the next sync "
                             "resumes after them", (long long)o.batches);
        return rc;
    }
    if (!opt->quiet)
        printf("%-28s %-22s %10lld rows %6lld batches %9.1f MB %7.2fs%s%s\n", p->st->name,
               ig_conn_mode_name(p->mode), (long long)o.rows, (long long)o.batches,
               (double)o.bytes / 1e6, secs,
               o.cursor_value ? (p->mode == IG_CONN_CDC ? "  lsn " : "  cursor ") : "",
               o.cursor_value ? o.cursor_value : "");
    return IG_OK;
}

static void record_run(ig_wh *wh, const char *run_id, const char *source, const char *status,
                       int64_t started, const ig_conn_sync_result *r, const char *msg)
{
    ig_error e;
    ig_error_clear(&e);
    if (!strcmp(status, "running")) {
        ig_param p[4] = {IG_P_TEXT(run_id), IG_P_TEXT(source), IG_P_TEXT(status), IG_P_TS(started)};
        ig_wh_exec_params(wh,
                          "INSERT INTO ingot.runs (run_id, kind, name, status, started_at) "
                          "VALUES ($1, 'sync', $2, $3, $4)",
                          p, 4, NULL, &e);
        return;
    }
    ig_param p[6] = {IG_P_TEXT(run_id), IG_P_TEXT(status), IG_P_TS(ig_wall_us()),
                     IG_P_INT(r->rows), IG_P_INT(r->bytes), msg ? IG_P_TEXT(msg) : IG_P_NULL};
    ig_wh_exec_params(wh,
                      "UPDATE ingot.runs SET status = $2, finished_at = $3, rows = $4, bytes = $5, "
                      "message = $6 WHERE run_id = $1",
                      p, 6, NULL, &e);
}

ig_rc ig_conn_sync(ig_conn *c, ig_wh *wh, const ig_conn_sync_opts *opt, ig_conn_sync_result *res,
                   ig_error *err)
{
    memset(res, 0, sizeof *res);
    const char *dm = NULL;
    ig_rc rc = ig_conn_cfg_str(c, "default_mode", "full_refresh_overwrite", &dm, err);
    if (rc) return rc;
    int dmode = ig_conn_mode_parse(dm);
    if (dmode < 0) {
        ig_yaml_error(ig_yaml_get(c->cfg, "default_mode"), err, "unknown sync mode '%s'", dm);
        ig_err_hint(err, "modes: full_refresh_overwrite, full_refresh_append, "
                         "incremental_append, incremental_dedup, cdc");
        return IG_ERR_CONFIG;
    }
    ig_conn_catalog cat;
    if ((rc = ig_conn_discover(c, &cat, err))) return rc;

    /* Which streams: those under `streams:`, else every discovered one. */
    const ig_yaml *streams = ig_yaml_get(c->cfg, "streams");
    plan *plans = ig_arena_zalloc(c->arena, (cat.n + (streams ? streams->n : 0) + 1) * sizeof *plans);
    size_t np = 0;
    const char **names = ig_arena_alloc(c->arena, (cat.n + 1) * sizeof *names);
    for (size_t i = 0; i < cat.n; i++) names[i] = cat.streams[i].name;
    if (streams && streams->kind == IG_Y_MAP) {
        for (size_t i = 0; i < streams->n; i++) {
            const char *nm = streams->keys[i]->str;
            ig_conn_stream *st = NULL;
            for (size_t j = 0; j < cat.n && !st; j++)
                if (!strcmp(cat.streams[j].name, nm)) st = &cat.streams[j];
            if (!st) {
                ig_yaml_error(streams->keys[i], err, "source '%s' has no stream '%s'", c->name, nm);
                const char *s = ig_str_suggest(nm, names, cat.n);
                if (s) ig_err_hint(err, "did you mean '%s'? 'ingot source discover %s' lists them", s, c->name);
                else ig_err_hint(err, "'ingot source discover %s' lists the streams (a table may "
                                      "have been dropped or renamed)", c->name);
                err->code = IG_ERR_NOT_FOUND;
                return IG_ERR_NOT_FOUND;
            }
            if (opt->stream && strcmp(opt->stream, nm)) continue;
            if ((rc = read_plan(c, st, streams->items[i], dmode, &plans[np], err))) return rc;
            np++;
        }
    } else if (streams && streams->kind != IG_Y_NULL) {
        return ig_yaml_error(streams, err, "sources.%s.streams: expected a mapping of stream "
                                           "name to settings", c->name);
    } else {
        for (size_t j = 0; j < cat.n; j++) {
            if (opt->stream && strcmp(opt->stream, cat.streams[j].name)) continue;
            if ((rc = read_plan(c, &cat.streams[j], NULL, dmode, &plans[np], err))) return rc;
            np++;
        }
    }
    if (opt->stream && np == 0) {
        ig_err(err, IG_ERR_NOT_FOUND, "source '%s' has no stream '%s'%s", c->name, opt->stream,
               streams ? " under 'streams:'" : "");
        const char *s = ig_str_suggest(opt->stream, names, cat.n);
        if (s) ig_err_hint(err, "did you mean '%s'?", s);
        else ig_err_hint(err, "'ingot source discover %s' lists the streams", c->name);
        return IG_ERR_NOT_FOUND;
    }

    ig_lake *lake = NULL;
    if ((rc = ig_lake_open(c->project ? c->project->lake.path : "lake", &lake, err))) return rc;
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    interrupted = 0;
    char *run_id = new_load_id(c->arena);
    int64_t started = ig_wall_us();
    record_run(wh, run_id, c->name, "running", started, res, NULL);
    ig_rc first = IG_OK;
    for (size_t i = 0; i < np && !interrupted; i++) {
        ig_error e;
        ig_error_clear(&e);
        res->streams++;
        rc = sync_stream(c, wh, lake, &plans[i], opt, run_id, res, &e);
        if (rc) {
            res->failed++;
            if (!first) {
                first = rc;
                *err = e;
            } else {
                ig_error_print(&e, stderr);
            }
        }
    }
    record_run(wh, run_id, c->name, first ? "failed" : "success", started, res,
               first ? err->message : NULL);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    ig_lake_close(lake);
    if (first && res->streams > 1 && res->failed < res->streams) {
        ig_error_print(err, stderr);
        ig_err(err, first, "%zu of %zu streams of source '%s' failed (the first error is above)",
               res->failed, res->streams, c->name);
    }
    return first;
}

ig_rc ig_conn_reset(ig_conn *c, ig_wh *wh, const char *stream, size_t *n, ig_error *err)
{
    *n = 0;
    ig_conn_catalog cat;
    ig_rc rc = ig_conn_discover(c, &cat, err);
    if (rc) return rc;
    const ig_yaml *streams = ig_yaml_get(c->cfg, "streams");
    bool found = false;
    for (size_t i = 0; i < cat.n && !rc; i++) {
        ig_conn_stream *st = &cat.streams[i];
        if (stream && strcmp(stream, st->name)) continue;
        found = true;
        ig__conn_state s;
        if ((rc = ig__conn_state_get(wh, c->arena, c->name, st->name, &s, err))) break;
        const ig_yaml *scfg = streams && streams->kind == IG_Y_MAP ? ig_yaml_get(streams, st->name)
                                                                   : NULL;
        if (c->vt->cdc_release && ((s.found && s.mode && !strcmp(s.mode, "cdc")) ||
                                   (!s.found && scfg && ig_yaml_get(scfg, "mode") &&
                                    ig_yaml_get(scfg, "mode")->kind == IG_Y_SCALAR &&
                                    !strcmp(ig_yaml_get(scfg, "mode")->str, "cdc"))))
            rc = c->vt->cdc_release(c, st, scfg, s.found ? s.state : NULL, err);
        if (rc) break;
        if (!s.found) continue;
        ig__conn_target t = {.source = c->name, .stream = st->name,
                             .table = ig_conn_table_name(c->arena, c->name, st->name), .st = st};
        if ((rc = ig_wh_begin(wh, err))) break;
        rc = ig__conn_drop_tables(wh, c->arena, &t, err);
        if (!rc) rc = ig__conn_state_delete(wh, c->name, st->name, err);
        if (!rc) rc = ig_wh_commit(wh, err);
        if (rc) ig_wh_rollback(wh);
        else (*n)++;
    }
    if (!rc && stream && !found) {
        ig_err(err, IG_ERR_NOT_FOUND, "source '%s' has no stream '%s'", c->name, stream);
        ig_err_hint(err, "'ingot source discover %s' lists the streams", c->name);
        return IG_ERR_NOT_FOUND;
    }
    return rc;
}
