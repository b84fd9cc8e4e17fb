/* The loader (see loader.h). One batch:
 *   1. read durable WAL records from the checkpoint, grouping their lines by
 *      (source, stream, event date);
 *   2. write each group to the raw zone as an NDJSON file named after the
 *      batch (which carries the batch's first WAL position), plus a manifest,
 *      each durably (temporary name, fsync, rename, fsync of the folder);
 *   3. in one warehouse transaction: create missing tables, insert every
 *      group's rows into bronze straight from the raw files (DuckDB parses
 *      the JSON: the loader never does), flag duplicate messageIds, record
 *      the batch and move the checkpoint;
 *   4. release the WAL segments wholly before the new checkpoint.
 * A crash between 2 and 3 leaves raw files past the checkpoint: the next
 * start deletes them before loading (cleanup_orphans). */
#include "ingest/events/loader.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const STREAMS[] = {"events", "events__rejects", "webhooks", "messages", NULL};

struct ig_ev_loader {
    ig_ev_loader_options opt;
    _Atomic(const ig_ev_config *) cfg;
    char walid8[9];
    uint64_t ckpt;
    pthread_t thread;
    bool running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    ig_ev_loader_stats st;
    int64_t waiting_since_us;
};

typedef struct group {
    char source[64], stream[24], date[11];
    char sha[65];
    ig_buf data;
    size_t rows;
    char *path, *manifest;
} group;

typedef struct batch {
    group *g;
    size_t n, cap;
    uint64_t first, end;
    size_t rows, bytes;
} batch;

/* ---- checkpoint ------------------------------------------------------------- */

static ig_rc read_checkpoint(ig_ev_loader *l, ig_error *err)
{
    ig_param p = IG_P_TEXT(ig_wal_id(l->opt.wal));
    ig_wh_cursor *cur;
    ig_rc rc = ig_wh_query_params(l->opt.wh, "SELECT lsn FROM ingot.event_checkpoints WHERE wal_id = $1",
                                  &p, 1, &cur, err);
    if (rc) return rc;
    int r = ig_wh_cursor_next(cur, err);
    uint64_t first = ig_wal_first(l->opt.wal), durable = ig_wal_durable(l->opt.wal);
    if (r < 0) {
        ig_wh_cursor_close(cur);
        return err->code;
    }
    if (r == 0) {
        l->ckpt = first;
    } else {
        l->ckpt = (uint64_t)ig_wh_cursor_value(cur, 0)->i;
        if (l->ckpt < first) {
            ig_warn("events.loader", "the loader checkpoint (%" PRIu64 ") is before the first WAL "
                    "segment (%" PRIu64 "): segments were removed by hand; loading from there",
                    l->ckpt, first);
            l->ckpt = first;
        } else if (l->ckpt > durable) {
            ig_warn("events.loader", "the loader checkpoint (%" PRIu64 ") is past the end of the "
                    "WAL (%" PRIu64 "); continuing at the end", l->ckpt, durable);
            l->ckpt = durable;
        }
    }
    ig_wh_cursor_close(cur);
    return IG_OK;
}

/* ---- raw zone --------------------------------------------------------------- */

static bool stream_known(const char *s)
{
    for (int i = 0; STREAMS[i]; i++)
        if (!strcmp(STREAMS[i], s)) return true;
    return false;
}

static void batch_id(const ig_ev_loader *l, uint64_t first, char out[64])
{
    snprintf(out, 64, "ev-%s-%020" PRIu64, l->walid8, first);
}

/* Delete raw files of batches at or past the checkpoint (never committed). */
static void cleanup_orphans(ig_ev_loader *l)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "ev-%s-", l->walid8);
    size_t pl = strlen(prefix);
    char *raw = ig_path_join(l->opt.lake_dir, "raw");
    DIR *d = opendir(raw);
    if (!d) {
        free(raw);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        for (int s = 0; STREAMS[s]; s++) {
            char *sd = ig_asprintf("%s/%s/%s", raw, e->d_name, STREAMS[s]);
            DIR *d2 = opendir(sd);
            struct dirent *e2;
            while (d2 && (e2 = readdir(d2))) {
                if (strncmp(e2->d_name, "dt=", 3)) continue;
                char *dd = ig_asprintf("%s/%s", sd, e2->d_name);
                DIR *d3 = opendir(dd);
                struct dirent *e3;
                while (d3 && (e3 = readdir(d3))) {
                    if (strncmp(e3->d_name, prefix, pl)) continue;
                    uint64_t lsn = strtoull(e3->d_name + pl, NULL, 10);
                    if (lsn < l->ckpt) continue;
                    char *f = ig_asprintf("%s/%s", dd, e3->d_name);
                    if (unlink(f) == 0)
                        ig_info("events.loader", "removed %s: its batch never committed", f);
                    free(f);
                }
                if (d3) closedir(d3);
                free(dd);
            }
            if (d2) closedir(d2);
            free(sd);
        }
    }
    closedir(d);
    free(raw);
}

static group *group_for(batch *b, const char *source, size_t sl, const char *stream, size_t stl,
                        const char *date)
{
    for (size_t i = 0; i < b->n; i++) {
        group *g = &b->g[i];
        if (strlen(g->source) == sl && !memcmp(g->source, source, sl) && strlen(g->stream) == stl &&
            !memcmp(g->stream, stream, stl) && !strcmp(g->date, date))
            return g;
    }
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 8;
        b->g = ig_realloc(b->g, b->cap * sizeof *b->g);
    }
    group *g = &b->g[b->n++];
    memset(g, 0, sizeof *g);
    memcpy(g->source, source, sl);
    memcpy(g->stream, stream, stl);
    memcpy(g->date, date, 10);
    ig_buf_init(&g->data, 0);
    return g;
}

static void batch_free(batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        ig_buf_free(&b->g[i].data);
        free(b->g[i].path);
        free(b->g[i].manifest);
    }
    free(b->g);
    memset(b, 0, sizeof *b);
}

static bool is_date(const char *s)
{
    return s[4] == '-' && s[7] == '-' && strspn(s, "0123456789-") >= 10;
}

/* Split one WAL record into its groups. False when its head is malformed. */
static bool add_record(batch *b, const ig_wal_record *r)
{
    const char *p = r->data, *end = r->data + r->len;
    const char *nl = memchr(p, '\n', r->len);
    const char *tab = nl ? memchr(p, '\t', (size_t)(nl - p)) : NULL;
    if (!tab || tab == p || (size_t)(tab - p) >= 64 || (size_t)(nl - tab - 1) >= 24) return false;
    char stream[24];
    memcpy(stream, tab + 1, (size_t)(nl - tab - 1));
    stream[nl - tab - 1] = 0;
    if (!stream_known(stream)) return false;
    for (const char *c = p; c < tab; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) return false;
    p = nl + 1;
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e) e = end;
        if (e - p > 11 && p[10] == '\t' && is_date(p)) {
            char date[11];
            memcpy(date, p, 10);
            date[10] = 0;
            group *g = group_for(b, r->data, (size_t)(tab - r->data), stream, strlen(stream), date);
            ig_buf_append(&g->data, p + 11, (size_t)(e - p - 11) + 1); /* with its newline */
            if (e == end) ig_buf_putc(&g->data, '\n');
            g->rows++;
            b->rows++;
        }
        p = e + 1;
    }
    return true;
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int ml = 0;
    EVP_Digest(p, n, md, &ml, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static ig_rc write_raw(ig_ev_loader *l, batch *b, const char *bid, ig_error *err)
{
    for (size_t i = 0; i < b->n; i++) {
        group *g = &b->g[i];
        char *dir = ig_asprintf("%s/raw/%s/%s/dt=%s", l->opt.lake_dir, g->source, g->stream, g->date);
        ig_rc rc = ig_fs_mkdirs(dir, err);
        if (!rc) {
            g->path = ig_asprintf("%s/%s.ndjson", dir, bid);
            g->manifest = ig_asprintf("%s/%s.manifest.json", dir, bid);
            rc = ig_fs_write_atomic(g->path, g->data.data, g->data.len, 0644, err);
        }
        if (!rc) {
            char now[40];
            sha256_hex(g->data.data, g->data.len, g->sha);
            ig_format_iso(ig_wall_us(), now, sizeof now);
            ig_buf m = IG_BUF_INIT;
            ig_buf_printf(&m,
                          "{\"batch_id\":\"%s\",\"source\":\"%s\",\"stream\":\"%s\",\"dt\":\"%s\","
                          "\"file\":\"%s.ndjson\",\"format\":\"ndjson\",\"rows\":%zu,\"bytes\":%zu,"
                          "\"sha256\":\"%s\",\"wal_id\":\"%s\",\"wal_first\":%" PRIu64
                          ",\"wal_end\":%" PRIu64 ",\"written_at\":\"%s\"}\n",
                          bid, g->source, g->stream, g->date, bid, g->rows, g->data.len, g->sha,
                          ig_wal_id(l->opt.wal), b->first, b->end, now);
            rc = ig_fs_write_atomic(g->manifest, m.data, m.len, 0644, err);
            ig_buf_free(&m);
        }
        free(dir);
        if (rc) return rc;
        b->bytes += g->data.len;
    }
    return IG_OK;
}

static void remove_raw(batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        if (b->g[i].path) unlink(b->g[i].path);
        if (b->g[i].manifest) unlink(b->g[i].manifest);
    }
}

/* ---- bronze ------------------------------------------------------------------ */

static const char *EVENTS_COLS =
    "message_id VARCHAR, type VARCHAR, event VARCHAR, name VARCHAR, user_id VARCHAR, "
    "anonymous_id VARCHAR, group_id VARCHAR, previous_id VARCHAR, channel VARCHAR, "
    "\"timestamp\" TIMESTAMPTZ, original_timestamp TIMESTAMPTZ, sent_at TIMESTAMPTZ, "
    "received_at TIMESTAMPTZ, context JSON, properties JSON, traits JSON, integrations JSON, "
    "_ingot_duplicate BOOLEAN NOT NULL DEFAULT false, ";
/* Events are read with typed columns: DuckDB parses each line once (a
 * `j->>'key'` per column would parse it once per column). */
static const char *EVENTS_READ_COLUMNS =
    "{'messageId':'VARCHAR','type':'VARCHAR','event':'VARCHAR','name':'VARCHAR',"
    "'userId':'VARCHAR','anonymousId':'VARCHAR','groupId':'VARCHAR','previousId':'VARCHAR',"
    "'channel':'VARCHAR','timestamp':'VARCHAR','originalTimestamp':'VARCHAR','sentAt':'VARCHAR',"
    "'receivedAt':'VARCHAR','context':'JSON','properties':'JSON','traits':'JSON',"
    "'integrations':'JSON'}";
static const char *EVENTS_SELECT =
    "\"messageId\", \"type\", \"event\", \"name\", \"userId\", \"anonymousId\", \"groupId\", "
    "\"previousId\", \"channel\", try_cast(\"timestamp\" AS TIMESTAMPTZ), "
    "try_cast(\"originalTimestamp\" AS TIMESTAMPTZ), try_cast(\"sentAt\" AS TIMESTAMPTZ), "
    "try_cast(\"receivedAt\" AS TIMESTAMPTZ), \"context\", \"properties\", \"traits\", "
    "\"integrations\", ";
static const char *REJECTS_COLS =
    "received_at TIMESTAMPTZ, status INTEGER, code VARCHAR, message VARCHAR, item BIGINT, "
    "path VARCHAR, ip VARCHAR, body VARCHAR, body_base64 VARCHAR, body_bytes BIGINT, ";
static const char *REJECTS_SELECT =
    "try_cast(j->>'receivedAt' AS TIMESTAMPTZ), try_cast(j->>'status' AS INTEGER), j->>'code', "
    "j->>'message', try_cast(j->>'item' AS BIGINT), j->>'path', j->>'ip', j->>'body', "
    "j->>'body_base64', try_cast(j->>'body_bytes' AS BIGINT), ";
static const char *HOOKS_COLS =
    "id VARCHAR, received_at TIMESTAMPTZ, method VARCHAR, ip VARCHAR, verified BOOLEAN, "
    "headers JSON, content_type VARCHAR, body VARCHAR, body_json JSON, body_base64 VARCHAR, "
    "body_bytes BIGINT, ";
static const char *HOOKS_SELECT =
    "j->>'id', try_cast(j->>'receivedAt' AS TIMESTAMPTZ), j->>'method', j->>'ip', "
    "try_cast(j->>'verified' AS BOOLEAN), j->'headers', j->>'contentType', j->>'body', "
    "CASE WHEN json_valid(j->>'body') THEN (j->>'body')::JSON END, j->>'bodyBase64', "
    "try_cast(j->>'bodyBytes' AS BIGINT), ";
static const char *MSG_COLS =
    "message_id VARCHAR, publish_time TIMESTAMPTZ, subscription VARCHAR, attributes JSON, "
    "ordering_key VARCHAR, data VARCHAR, data_json JSON, data_base64 VARCHAR, "
    "received_at TIMESTAMPTZ, ";
static const char *MSG_SELECT =
    "j->>'messageId', try_cast(j->>'publishTime' AS TIMESTAMPTZ), j->>'subscription', "
    "j->'attributes', j->>'orderingKey', j->>'data', "
    "CASE WHEN json_valid(j->>'data') THEN (j->>'data')::JSON END, j->>'dataBase64', "
    "try_cast(j->>'receivedAt' AS TIMESTAMPTZ), ";
static const char *LOAD_COLS = "_ingot_batch_id VARCHAR, _ingot_loaded_at TIMESTAMPTZ, "
                               "_ingot_source_file VARCHAR, _ingot_row_number BIGINT";

static ig_rc ensure_table(ig_ev_loader *l, const char *source, const char *stream, ig_error *err)
{
    char table[128];
    snprintf(table, sizeof table, "%s__%s", source, stream);
    if (ig_wh_relation_exists(l->opt.wh, "bronze", table)) return IG_OK;
    const char *cols = !strcmp(stream, "events") ? EVENTS_COLS
                       : !strcmp(stream, "events__rejects") ? REJECTS_COLS
                       : !strcmp(stream, "webhooks") ? HOOKS_COLS : MSG_COLS;
    ig_buf q = IG_BUF_INIT;
    ig_buf_puts(&q, "CREATE TABLE IF NOT EXISTS ");
    ig_wh_quote_relation(l->opt.wh, &q, "bronze", table);
    ig_buf_printf(&q, " (%s%s);", cols, LOAD_COLS);
    if (!strcmp(stream, "events")) {
        ig_buf_puts(&q, "CREATE OR REPLACE VIEW ");
        ig_wh_quote_relation(l->opt.wh, &q, "silver", table);
        ig_buf_puts(&q, " AS SELECT * EXCLUDE (_ingot_duplicate) FROM ");
        ig_wh_quote_relation(l->opt.wh, &q, "bronze", table);
        ig_buf_puts(&q, " WHERE NOT _ingot_duplicate;");
    }
    ig_rc rc = ig_wh_exec(l->opt.wh, ig_buf_cstr(&q), err);
    ig_buf_free(&q);
    return rc;
}

/* Flag this batch's duplicate messageIds: those loaded by an earlier batch
 * within the window, then repeats inside the batch after their first copy.
 * Both start from the batch's own ids (small) and probe the table, so the
 * cost follows the batch, not the table; the window over repeats only sees
 * ids that occur twice. */
static ig_rc flag_duplicates(ig_ev_loader *l, const char *source, const char *table,
                             const char *bid, ig_error *err)
{
    const ig_ev_config *cfg = atomic_load(&l->cfg);
    const ig_ev_source *src = cfg ? ig_ev_config_find(cfg, source) : NULL;
    long long win = (src ? src->dedup_window_s : 7 * 86400) + 86400LL; /* + a day of loader lag */
    ig_buf t = IG_BUF_INIT, q = IG_BUF_INIT, lit = IG_BUF_INIT;
    ig_wh_quote_relation(l->opt.wh, &t, "bronze", table);
    ig_wh_quote_literal(l->opt.wh, &lit, bid);
    const char *T = ig_buf_cstr(&t), *B = ig_buf_cstr(&lit);
    ig_buf_printf(&q,
                  "UPDATE %s SET _ingot_duplicate = true WHERE _ingot_batch_id = %s AND message_id IN "
                  "(SELECT message_id FROM %s WHERE _ingot_batch_id <> %s AND received_at >= now() - "
                  "INTERVAL %lld SECOND AND message_id IN (SELECT message_id FROM %s WHERE "
                  "_ingot_batch_id = %s));"
                  "UPDATE %s SET _ingot_duplicate = true WHERE rowid IN (SELECT rid FROM (SELECT "
                  "rowid AS rid, row_number() OVER (PARTITION BY message_id ORDER BY "
                  "_ingot_source_file, _ingot_row_number) AS k FROM %s WHERE _ingot_batch_id = %s "
                  "AND message_id IN (SELECT message_id FROM %s WHERE _ingot_batch_id = %s GROUP BY 1 "
                  "HAVING count(*) > 1)) WHERE k > 1);",
                  T, B, T, B, win, T, B, T, T, B, T, B);
    ig_rc rc = ig_wh_exec(l->opt.wh, ig_buf_cstr(&q), err);
    if (rc) ig_err_prefix(err, "flagging duplicate messageIds of %s in bronze.%s", bid, table);
    ig_buf_free(&t);
    ig_buf_free(&q);
    ig_buf_free(&lit);
    return rc;
}

/* INSERT the rows of every group of (source, stream) from their raw files:
 * one statement per file, so the row number is a streaming row_number()
 * over the file in order (no partitioned window to materialise). */
static ig_rc insert_stream(ig_ev_loader *l, batch *b, const char *source, const char *stream,
                           const char *bid, ig_error *err)
{
    ig_rc rc = ensure_table(l, source, stream, err);
    if (rc) return rc;
    char table[128];
    snprintf(table, sizeof table, "%s__%s", source, stream);
    bool events = !strcmp(stream, "events");
    for (size_t i = 0; i < b->n && !rc; i++) {
        group *g = &b->g[i];
        if (strcmp(g->source, source) || strcmp(g->stream, stream)) continue;
        ig_buf file = IG_BUF_INIT, q = IG_BUF_INIT;
        ig_buf_putc(&file, '[');
        ig_wh_quote_literal(l->opt.wh, &file, g->path);
        ig_buf_putc(&file, ']');
        ig_buf_puts(&q, "INSERT INTO ");
        ig_wh_quote_relation(l->opt.wh, &q, "bronze", table);
        if (events) {
            ig_buf_printf(&q, " SELECT %s false, ", EVENTS_SELECT);
            ig_wh_quote_literal(l->opt.wh, &q, bid);
            ig_buf_printf(&q, ", now(), filename, row_number() OVER () FROM read_json(%s, "
                              "format='newline_delimited', filename=true, columns=%s)",
                          ig_buf_cstr(&file), EVENTS_READ_COLUMNS);
        } else {
            ig_buf_printf(&q, " SELECT %s",
                          !strcmp(stream, "events__rejects") ? REJECTS_SELECT
                          : !strcmp(stream, "webhooks")      ? HOOKS_SELECT
                                                             : MSG_SELECT);
            ig_wh_quote_literal(l->opt.wh, &q, bid);
            ig_buf_printf(&q, ", now(), f, row_number() OVER () FROM (SELECT json AS j, filename AS "
                              "f FROM read_json_objects(%s, format='newline_delimited', "
                              "filename=true))",
                          ig_buf_cstr(&file));
        }
        rc = ig_wh_exec(l->opt.wh, ig_buf_cstr(&q), err);
        if (rc) ig_err_prefix(err, "loading %s into bronze.%s", g->path, table);
        ig_buf_free(&q);
        ig_buf_free(&file);
    }
    if (!rc && events) rc = flag_duplicates(l, source, table, bid, err);
    return rc;
}

static ig_rc commit_batch(ig_ev_loader *l, batch *b, const char *bid, ig_error *err)
{
    ig_rc rc = ig_wh_begin(l->opt.wh, err);
    if (rc) return rc;
    /* each (source, stream) once */
    for (size_t i = 0; i < b->n && !rc; i++) {
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = !strcmp(b->g[k].source, b->g[i].source) && !strcmp(b->g[k].stream, b->g[i].stream);
        if (!seen) rc = insert_stream(l, b, b->g[i].source, b->g[i].stream, bid, err);
    }
    /* the lake's load history: one row per raw file */
    for (size_t i = 0; i < b->n && !rc; i++) {
        group *g = &b->g[i];
        char rel[160];
        const char *sha = g->sha;
        snprintf(rel, sizeof rel, "bronze.%s__%s", g->source, g->stream);
        ig_param p[9] = {IG_P_TEXT(bid),  IG_P_TEXT(g->source), IG_P_TEXT(g->stream),
                         IG_P_TEXT(rel),  IG_P_TEXT(g->path),   IG_P_INT((int64_t)g->data.len),
                         IG_P_TEXT(sha),  IG_P_INT((int64_t)g->rows),
                         IG_P_TEXT(ig_wal_id(l->opt.wal))};
        rc = ig_wh_exec_params(l->opt.wh,
                               "INSERT INTO ingot.loads (batch_id, source, stream, relation, "
                               "original_name, source_uri, raw_path, format, bytes, sha256, "
                               "rows_accepted, rows_rejected, status, received_at, loaded_at) "
                               "VALUES ($1, $2, $3, $4, NULL, 'wal:' || $9, $5, 'ndjson', $6, $7, "
                               "$8, 0, 'loaded', now()::TIMESTAMP, now()::TIMESTAMP)",
                               p, 9, NULL, err);
    }
    if (!rc) {
        ig_param p[3] = {IG_P_TEXT(ig_wal_id(l->opt.wal)), IG_P_INT((int64_t)b->end),
                         IG_P_INT((int64_t)b->rows)};
        rc = ig_wh_exec_params(l->opt.wh,
                               "INSERT INTO ingot.event_checkpoints (wal_id, lsn, events, updated_at) "
                               "VALUES ($1, $2, $3, now()) ON CONFLICT (wal_id) DO UPDATE SET "
                               "lsn = excluded.lsn, events = ingot.event_checkpoints.events + "
                               "excluded.events, updated_at = now()",
                               p, 3, NULL, err);
    }
    if (!rc) rc = ig_wh_commit(l->opt.wh, err);
    if (rc) ig_wh_rollback(l->opt.wh);
    return rc;
}

/* Keep a copy of a segment with a corrupt record before it is released. */
static void quarantine_segment(ig_ev_loader *l, const ig_error *e)
{
    ig_error_log("events.loader", "%s", e->message);
    char *q = ig_path_join(ig_wal_dir(l->opt.wal), "quarantine");
    ig_error e2;
    if (!ig_fs_mkdirs(q, &e2)) {
        const char *f = strstr(e->message, ig_wal_dir(l->opt.wal));
        if (f) {
            char src[1024];
            snprintf(src, sizeof src, "%.*s", (int)strcspn(f, " "), f);
            char *text = NULL;
            size_t len = 0;
            if (!ig_fs_read(src, (size_t)1 << 30, &text, &len, &e2)) {
                const char *base = strrchr(src, '/');
                char *dst = ig_asprintf("%s%s", q, base ? base : "/segment");
                ig_fs_write_atomic(dst, text, len, 0644, &e2);
                free(dst);
            }
            free(text);
        }
    }
    free(q);
}

/* One batch; *n gets the rows loaded, 0 when nothing was waiting. */
static ig_rc load_batch(ig_ev_loader *l, uint64_t *n, ig_error *err)
{
    *n = 0;
    uint64_t limit = ig_wal_durable(l->opt.wal);
    if (l->ckpt >= limit) return IG_OK;
    ig_wal_reader *r;
    ig_rc rc = ig_wal_reader_open(ig_wal_dir(l->opt.wal), l->ckpt, &r, err);
    if (rc) return rc;
    batch b = {.first = l->ckpt, .end = l->ckpt};
    size_t cap = l->opt.batch_bytes * 4;
    size_t bytes = 0;
    uint64_t corrupt = 0;
    for (;;) {
        ig_wal_record rec;
        ig_error e;
        int k = ig_wal_reader_next(r, limit, &rec, &e);
        if (k < 0) {
            quarantine_segment(l, &e);
            corrupt++;
            b.end = ig_wal_reader_pos(r);
            if (b.end >= limit) break;
            continue;
        }
        if (k == 0) break;
        if (!add_record(&b, &rec))
            ig_error_log("events.loader", "WAL record at %" PRIu64 " has no valid source/stream "
                         "head; skipped", rec.lsn);
        b.end = rec.end;
        bytes += rec.len;
        if (bytes >= cap) break;
    }
    ig_wal_reader_close(r);
    char bid[64];
    batch_id(l, b.first, bid);
    rc = write_raw(l, &b, bid, err);
    if (!rc) rc = commit_batch(l, &b, bid, err);
    if (rc) {
        remove_raw(&b);
        batch_free(&b);
        return rc;
    }
    l->ckpt = b.end;
    pthread_mutex_lock(&l->mu);
    l->st.checkpoint = b.end;
    l->st.events += b.rows;
    l->st.batches++;
    l->st.corrupt_records += corrupt;
    l->st.last_load_us = ig_wall_us();
    pthread_mutex_unlock(&l->mu);
    ig_debug("events.loader", "loaded batch %s: %zu rows, %zu files", bid, b.rows, b.n);
    *n = b.rows;
    batch_free(&b);
    ig_error e;
    if (ig_wal_release(l->opt.wal, l->ckpt, &e)) ig_warn("events.loader", "%s", e.message);
    return IG_OK;
}

ig_rc ig_ev_loader_run(ig_ev_loader *l, uint64_t *loaded, ig_error *err)
{
    uint64_t total = 0;
    for (;;) {
        uint64_t n;
        ig_rc rc = load_batch(l, &n, err);
        if (rc) return rc;
        total += n;
        if (l->ckpt >= ig_wal_durable(l->opt.wal)) break;
    }
    if (loaded) *loaded = total;
    return IG_OK;
}

static void *loader_main(void *arg)
{
    ig_ev_loader *l = arg;
    /* Accepting events comes first: the HTTP workers must not wait for a
     * CPU behind a big load (the loader catches up; backpressure covers a
     * loader that falls far behind). Linux applies nice per thread. */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10) < 0)
        ig_debug("events.loader", "cannot lower the loader's priority: %s", strerror(errno));
    int64_t last = ig_wall_us();
    int backoff_ms = 0;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&l->cv, &l->mu, &ts);
        if (l->stop) break;
        uint64_t durable = ig_wal_durable(l->opt.wal);
        int64_t now = ig_wall_us();
        if (durable > l->ckpt && !l->waiting_since_us) l->waiting_since_us = now;
        l->st.oldest_waiting_us = l->waiting_since_us ? (uint64_t)(now - l->waiting_since_us) : 0;
        bool due = l->opt.interval_ms > 0 && durable > l->ckpt &&
                   (durable - l->ckpt >= l->opt.batch_bytes ||
                    now - last >= (int64_t)l->opt.interval_ms * 1000 + backoff_ms * 1000L);
        if (!due) continue;
        pthread_mutex_unlock(&l->mu);
        uint64_t n;
        ig_error e;
        ig_error_clear(&e);
        ig_rc rc = load_batch(l, &n, &e);
        last = ig_wall_us();
        pthread_mutex_lock(&l->mu);
        if (rc) {
            l->st.errors++;
            backoff_ms = backoff_ms ? (backoff_ms * 2 > 30000 ? 30000 : backoff_ms * 2) : 1000;
            ig_error_log("events.loader", "loading events failed (retrying in %d ms): %s%s%s",
                         backoff_ms, e.message, e.detail[0] ? ": " : "", e.detail);
        } else {
            backoff_ms = 0;
            l->waiting_since_us = l->ckpt < ig_wal_durable(l->opt.wal) ? last : 0;
        }
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

ig_rc ig_ev_loader_start(const ig_ev_loader_options *opt, bool no_thread, ig_ev_loader **out,
                         ig_error *err)
{
    ig_ev_loader *l = ig_calloc(1, sizeof *l);
    l->opt = *opt;
    if (!l->opt.interval_ms) l->opt.interval_ms = 1000; /* < 0: only at shutdown (benchmarks) */
    if (!l->opt.batch_bytes) l->opt.batch_bytes = 8u << 20;
    atomic_store(&l->cfg, opt->cfg);
    snprintf(l->walid8, sizeof l->walid8, "%.8s", ig_wal_id(opt->wal));
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    ig_rc rc = read_checkpoint(l, err);
    if (rc) {
        ig_err_prefix(err, "reading the event loader's checkpoint");
        free(l);
        return rc;
    }
    l->st.checkpoint = l->ckpt;
    cleanup_orphans(l);
    if (!no_thread) {
        if (pthread_create(&l->thread, NULL, loader_main, l)) {
            free(l);
            return ig_err(err, IG_ERR_INTERNAL, "cannot start the event loader thread");
        }
        l->running = true;
    }
    *out = l;
    return IG_OK;
}

void ig_ev_loader_stop(ig_ev_loader *l, bool drain, int drain_ms)
{
    if (!l) return;
    if (l->running) {
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_cond_signal(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
        l->running = false;
    }
    if (drain) {
        uint64_t until = ig_now_ns() + (uint64_t)drain_ms * 1000000ull;
        while (l->ckpt < ig_wal_durable(l->opt.wal) && ig_now_ns() < until) {
            uint64_t n;
            ig_error e;
            if (load_batch(l, &n, &e)) {
                ig_error_log("events.loader", "loading at shutdown failed: %s (the events stay in "
                             "the WAL and load at the next start)", e.message);
                break;
            }
        }
    }
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}

void ig_ev_loader_set_config(ig_ev_loader *l, const ig_ev_config *cfg) { atomic_store(&l->cfg, cfg); }

void ig_ev_loader_get_stats(ig_ev_loader *l, ig_ev_loader_stats *o)
{
    pthread_mutex_lock(&l->mu);
    *o = l->st;
    pthread_mutex_unlock(&l->mu);
}
