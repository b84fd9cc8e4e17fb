/* Loading a landed batch into bronze, inside the transaction ig_lake_commit
 * opened: read the file through the warehouse's own readers (or the XLSX
 * staging table), evolve the bronze table's schema (new columns added,
 * changed types widened, each change recorded in ingot.schema_changes),
 * insert the rows with the _ingot_* columns, divert bad rows to the
 * __rejects table, and fail past max_bad_rows / max_bad_fraction. External
 * streams get a view over their raw files instead of a table. */
#include "ingest/files/ingest_int.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

typedef struct col {
    char *name, *type;
} col;

static void cols_free(col *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].name);
        free(c[i].type);
    }
    free(c);
}

void ig__load_ctx_free(ig__load_ctx *lc)
{
    for (size_t i = 0; i < lc->nvarchar; i++) free(lc->varchar_cols[i]);
    free(lc->varchar_cols);
    lc->varchar_cols = NULL;
    lc->nvarchar = 0;
}

void ig__bronze_name(const char *source, const char *stream, char *out, size_t n)
{
    snprintf(out, n, "%s__%s", source, stream);
}

/* The columns and type names a SELECT would return (it runs with LIMIT 0). */
static ig_rc describe(ig_wh *wh, const char *sel, const char *from, col **out, size_t *n,
                      ig_error *err)
{
    ig_buf q = IG_BUF_INIT;
    ig_buf_printf(&q, "SELECT %s FROM %s LIMIT 0", sel, from);
    ig_wh_cursor *c;
    ig_rc rc = ig_wh_query(wh, q.data, &c, err);
    ig_buf_free(&q);
    if (rc) return rc;
    *n = ig_wh_cursor_ncols(c);
    *out = ig_calloc(*n ? *n : 1, sizeof **out);
    for (size_t i = 0; i < *n; i++) {
        (*out)[i].name = ig_strdup(ig_wh_cursor_colname(c, i));
        (*out)[i].type = ig_strdup(ig_wh_cursor_coltype_name(c, i));
    }
    ig_wh_cursor_close(c);
    return IG_OK;
}

static ig_rc table_cols(ig_wh *wh, const char *schema, const char *table, col **out, size_t *n,
                        ig_error *err)
{
    ig_param p[2] = {IG_P_TEXT(schema), IG_P_TEXT(table)};
    ig_wh_cursor *c;
    ig_rc rc = ig_wh_query_params(wh,
                                  "SELECT column_name, data_type FROM information_schema.columns "
                                  "WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
                                  p, 2, &c, err);
    if (rc) return rc;
    size_t cap = 0;
    *n = 0;
    *out = NULL;
    int r;
    while ((r = ig_wh_cursor_next(c, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = ig_realloc(*out, cap * sizeof **out);
        }
        (*out)[*n].name = ig_strdup(ig_wh_cursor_value(c, 0)->text);
        (*out)[*n].type = ig_strdup(ig_wh_cursor_value(c, 1)->text);
        (*n)++;
    }
    ig_wh_cursor_close(c);
    return r < 0 ? IG_ERR_SQL : IG_OK;
}

/* Run a statement that inserts rows; the number inserted. */
static ig_rc exec_count(ig_wh *wh, const char *sql, int64_t *count, ig_error *err)
{
    ig_wh_cursor *c;
    ig_rc rc = ig_wh_query(wh, sql, &c, err);
    if (rc) return rc;
    *count = ig_wh_cursor_is_query(c) ? 0 : ig_wh_cursor_rows_changed(c);
    if (*count == 0 && ig_wh_cursor_ncols(c) > 0) {
        /* a count comes back as a one-row result ("Count") */
        int r = ig_wh_cursor_next(c, err);
        if (r < 0) rc = IG_ERR_SQL;
        else if (r == 1 && !ig_wh_cursor_value(c, 0)->is_null) *count = ig_wh_cursor_value(c, 0)->i;
    }
    ig_wh_cursor_close(c);
    return rc;
}

static ig_rc record_change(ig_wh *wh, const ig_lake_manifest *m, const char *relation,
                           const char *column, const char *change, const char *old_type,
                           const char *new_type, ig_error *err)
{
    ig_param p[7] = {IG_P_TEXT(m->batch_id), IG_P_TEXT(relation), IG_P_TEXT(column),
                     IG_P_TEXT(change), old_type ? IG_P_TEXT(old_type) : IG_P_NULL,
                     IG_P_TEXT(new_type), IG_P_TS(ig_wall_us())};
    ig_info("ingest.schema", "%s: %s %s %s%s%s", relation, change, column, old_type ? old_type : "",
            old_type ? " -> " : "", new_type);
    return ig_wh_exec_params(wh,
                             "INSERT INTO ingot.schema_changes (batch_id, relation, column_name, "
                             "change, old_type, new_type, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                             p, 7, NULL, err);
}

static const col *find_col(const col *c, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(c[i].name, name)) return &c[i];
    return NULL;
}

/* Bring the existing table's schema up to what the batch has. */
static ig_rc evolve(ig__load_ctx *lc, ig_wh *wh, const ig_lake_manifest *m, const char *table,
                    const char *relation, const col *incoming, size_t nin, ig_error *err)
{
    col *have;
    size_t nhave;
    ig_rc rc = table_cols(wh, "bronze", table, &have, &nhave, err);
    if (rc) return rc;
    ig_buf q = IG_BUF_INIT;
    for (size_t i = 0; !rc && i < nin; i++) {
        const col *h = find_col(have, nhave, incoming[i].name);
        ig_buf_reset(&q);
        if (!h) {
            ig_buf_puts(&q, "ALTER TABLE ");
            ig_wh_quote_relation(wh, &q, "bronze", table);
            ig_buf_puts(&q, " ADD COLUMN ");
            ig_wh_quote_ident(wh, &q, incoming[i].name);
            ig_buf_printf(&q, " %s", !strcasecmp(incoming[i].type, "NULL") ? lc->d->text_type
                                                                             : incoming[i].type);
            rc = ig_wh_exec(wh, q.data, err);
            if (!rc) rc = record_change(wh, m, relation, incoming[i].name, "add_column", NULL,
                                        incoming[i].type, err);
            continue;
        }
        char wide[256];
        lc->d->widen(h->type, incoming[i].type, wide, sizeof wide);
        if (!strcasecmp(wide, h->type)) continue;
        ig_buf_puts(&q, "ALTER TABLE ");
        ig_wh_quote_relation(wh, &q, "bronze", table);
        ig_buf_puts(&q, " ALTER COLUMN ");
        ig_wh_quote_ident(wh, &q, h->name);
        ig_buf_printf(&q, " SET DATA TYPE %s", wide);
        rc = ig_wh_exec(wh, q.data, err);
        if (!rc) rc = record_change(wh, m, relation, h->name, "widen", h->type, wide, err);
    }
    ig_buf_free(&q);
    cols_free(have, nhave);
    return rc;
}

/* A bad line, for the rejects table and for error details. */
typedef struct reject {
    int64_t line;
    char *raw, *reason, *column, *type;
} reject;

typedef struct rejects {
    reject *items;
    size_t n, cap;
} rejects;

static void rejects_push(rejects *r, int64_t line, const char *raw, size_t rawlen, const char *reason,
                         const char *column, const char *type)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->items = ig_realloc(r->items, r->cap * sizeof *r->items);
    }
    reject *x = &r->items[r->n++];
    x->line = line;
    x->raw = raw ? ig_strndup(raw, rawlen) : NULL;
    x->reason = ig_strdup(reason ? reason : "unreadable");
    x->column = column ? ig_strdup(column) : NULL;
    x->type = type ? ig_strdup(type) : NULL;
}

static void rejects_free(rejects *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].raw);
        free(r->items[i].reason);
        free(r->items[i].column);
        free(r->items[i].type);
    }
    free(r->items);
}

static ig_rc store_rejects(ig_wh *wh, const ig_lake_manifest *m, const char *table,
                           const rejects *r, int64_t loaded_us, ig_error *err)
{
    if (!r->n) return IG_OK;
    char rt[200];
    snprintf(rt, sizeof rt, "%s__rejects", table);
    ig_buf q = IG_BUF_INIT;
    ig_buf_puts(&q, "CREATE TABLE IF NOT EXISTS ");
    ig_wh_quote_relation(wh, &q, "bronze", rt);
    ig_buf_puts(&q, " (_ingot_batch_id VARCHAR, _ingot_loaded_at TIMESTAMP, _ingot_source_file VARCHAR,"
                    " line BIGINT, raw VARCHAR, reason VARCHAR, column_name VARCHAR, error_type VARCHAR)");
    ig_rc rc = ig_wh_exec(wh, q.data, err);
    ig_buf_free(&q);
    if (rc) return rc;
    ig_wh_appender *a;
    rc = ig_wh_appender_open(wh, "bronze", rt, &a, err);
    if (rc) return rc;
    const char *file = m->original_name ? m->original_name : m->raw_path;
    for (size_t i = 0; !rc && i < r->n; i++) {
        const reject *x = &r->items[i];
        ig_wh_append_text(a, m->batch_id, strlen(m->batch_id));
        ig_wh_append_timestamp(a, loaded_us);
        ig_wh_append_text(a, file, strlen(file));
        if (x->line > 0) ig_wh_append_int(a, x->line);
        else ig_wh_append_null(a);
        if (x->raw) ig_wh_append_text(a, x->raw, strlen(x->raw));
        else ig_wh_append_null(a);
        ig_wh_append_text(a, x->reason, strlen(x->reason));
        if (x->column) ig_wh_append_text(a, x->column, strlen(x->column));
        else ig_wh_append_null(a);
        if (x->type) ig_wh_append_text(a, x->type, strlen(x->type));
        else ig_wh_append_null(a);
        rc = ig_wh_append_end_row(a, err);
    }
    ig_rc rc2 = ig_wh_appender_close(a, rc ? NULL : err);
    return rc ? rc : rc2;
}

/* CSV: the rows the reader diverted into its rejects tables. */
static ig_rc fetch_csv_rejects(ig__load_ctx *lc, ig_wh *wh, const char *rt, const char *rs,
                               rejects *out, ig_error *err)
{
    ig_buf q = IG_BUF_INIT;
    lc->d->rejects_query(wh, &q, rt, rs);
    ig_wh_cursor *c;
    ig_rc rc = ig_wh_query(wh, q.data, &c, err);
    ig_buf_free(&q);
    if (rc) return rc;
    int r;
    while ((r = ig_wh_cursor_next(c, err)) == 1) {
        const ig_value *line = ig_wh_cursor_value(c, 0), *raw = ig_wh_cursor_value(c, 1),
                       *reason = ig_wh_cursor_value(c, 2), *column = ig_wh_cursor_value(c, 3),
                       *type = ig_wh_cursor_value(c, 4);
        rejects_push(out, line->is_null ? 0 : line->i, raw->is_null ? NULL : raw->text,
                     raw->is_null ? 0 : raw->len, reason->is_null ? NULL : reason->text,
                     column->is_null ? NULL : column->text, type->is_null ? NULL : type->text);
    }
    ig_wh_cursor_close(c);
    return r < 0 ? IG_ERR_SQL : IG_OK;
}

/* NDJSON whose strict read failed: find the lines that are not JSON
 * objects, so they can be kept as rejects while the reader skips them. */
#define JSON_LINE_CAP ((size_t)256 << 20)
static ig_rc scan_json_lines(const char *path, const char *clean, rejects *out, int64_t *nlines,
                               ig_error *err)
{
    gzFile f = gzopen(path, "rb"); /* reads plain files too */
    if (!f) return ig_err(err, IG_ERR_IO, "cannot open %s", path);
    gzbuffer(f, 1 << 20);
    FILE *w = fopen(clean, "wb");
    if (!w) {
        gzclose(f);
        return ig_err(err, IG_ERR_IO, "cannot create %s", clean);
    }
    ig_buf line;
    ig_buf_init(&line, JSON_LINE_CAP);
    char chunk[65536];
    int64_t lineno = 0;
    *nlines = 0;
    ig_rc rc = IG_OK;
    bool eof = false, too_long = false;
    while (!eof && !rc) {
        ig_buf_reset(&line);
        too_long = false;
        for (;;) {
            if (!gzgets(f, chunk, sizeof chunk)) {
                eof = true;
                break;
            }
            size_t n = strlen(chunk);
            if (!too_long && ig_buf_append(&line, chunk, n) < 0) too_long = true;
            if (n && chunk[n - 1] == '\n') break;
        }
        if (eof && line.len == 0) break;
        lineno++;
        size_t len = line.len;
        while (len && (line.data[len - 1] == '\n' || line.data[len - 1] == '\r')) len--;
        size_t s = 0;
        while (s < len && (line.data[s] == ' ' || line.data[s] == '\t')) s++;
        if (s == len) continue;
        (*nlines)++;
        if (too_long) {
            rejects_push(out, lineno, line.data, 1 << 20, "the line is longer than 256 MB", NULL,
                         "LINE_TOO_LONG");
            continue;
        }
        json_error_t je;
        json_t *j = json_loadb(line.data + s, len - s, 0, &je);
        if (!j || !json_is_object(j)) {
            char reason[300];
            if (j) snprintf(reason, sizeof reason, "not a JSON object");
            else snprintf(reason, sizeof reason, "invalid JSON at column %d: %s", je.column, je.text);
            rejects_push(out, lineno, line.data, len, reason, NULL, "INVALID_JSON");
        } else {
            fwrite(line.data + s, 1, len - s, w);
            fputc('\n', w);
        }
        json_decref(j);
    }
    int errnum = 0;
    const char *gzmsg = gzerror(f, &errnum);
    if (errnum < 0 && errnum != Z_BUF_ERROR)
        rc = ig_err(err, IG_ERR_DATA, "cannot read %s: %s", path, gzmsg);
    gzclose(f);
    if (fclose(w) != 0 && !rc) rc = ig_err(err, IG_ERR_IO, "cannot write %s", clean);
    ig_buf_free(&line);
    return rc;
}

static bool is_forced_varchar(const ig__load_ctx *lc, const char *name)
{
    for (size_t i = 0; i < lc->nvarchar; i++)
        if (!strcasecmp(lc->varchar_cols[i], name)) return true;
    return false;
}

static bool is_override(const ig__load_ctx *lc, const char *name)
{
    for (size_t i = 0; i < lc->o->ntypes; i++)
        if (!strcasecmp(lc->o->types[i].name, name)) return true;
    return false;
}

/* Build the reader for this batch; rt/rs: the rejects tables (csv). */
static ig_rc build_read(ig__load_ctx *lc, ig_wh *wh, const char *const *paths, size_t npaths,
                        bool glob, const char *rt, const char *rs, bool ignore_errors, ig_buf *out,
                        ig_wh_coltype **types_alloc, ig_error *err)
{
    const ig_ingest_opts *o = lc->o;
    ig_wh_read_spec s = {
        .format = lc->format, .paths = paths, .npaths = npaths, .glob = glob,
        .delimiter = o->delimiter, .quote = o->quote, .escape = o->escape, .null_str = o->null_str,
        .date_format = o->date_format, .timestamp_format = o->timestamp_format,
        .encoding = o->encoding, .header = o->header, .skip_rows = o->skip_rows,
        .all_varchar = o->all_varchar, .null_padding = o->null_padding,
        .max_line_size = 64L << 20, .rejects_table = rt, .rejects_scan = rs,
        .ignore_errors = ignore_errors,
    };
    /* overrides plus the columns a failed cast forced to text */
    size_t nt = o->ntypes + lc->nvarchar;
    ig_wh_coltype *t = ig_calloc(nt ? nt : 1, sizeof *t);
    size_t k = 0;
    for (size_t i = 0; i < o->ntypes; i++) t[k++] = o->types[i];
    for (size_t i = 0; i < lc->nvarchar; i++)
        t[k++] = (ig_wh_coltype){lc->varchar_cols[i], lc->d->text_type};
    s.types = t;
    s.ntypes = k;
    *types_alloc = t;
    return lc->d->read_files(wh, out, &s, err);
}

static char *schema_json(const col *c, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(c[i].name));
        json_object_set_new(o, "type", json_string(c[i].type));
        json_array_append_new(a, o);
    }
    char *s = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(a);
    return s;
}

/* Fail past the configured limits, naming the first bad lines. */
static ig_rc check_limits(const ig__load_ctx *lc, const ig_lake_manifest *m, const char *relation,
                          const rejects *r, int64_t accepted, ig_error *err)
{
    int64_t bad = (int64_t)r->n, total = accepted + bad;
    const ig_ingest_opts *o = lc->o;
    bool over_rows = o->max_bad_rows >= 0 && bad > o->max_bad_rows;
    double frac = total ? (double)bad / (double)total : 0;
    bool over_frac = bad > 0 && o->max_bad_fraction < 1.0 && frac > o->max_bad_fraction;
    if (!over_rows && !over_frac) return IG_OK;
    ig_err(err, IG_ERR_DATA, "%lld of %lld rows could not be read (limit: %s)",
           (long long)bad, (long long)total,
           over_rows ? "max_bad_rows" : "max_bad_fraction");
    ig_buf d = IG_BUF_INIT;
    for (size_t i = 0; i < r->n && i < 5; i++) {
        const reject *x = &r->items[i];
        char raw[120] = "";
        if (x->raw) {
            size_t fit = ig_utf8_fit(x->raw, strlen(x->raw), 80);
            snprintf(raw, sizeof raw, " | %.*s%s", (int)fit, x->raw, fit < strlen(x->raw) ? "..." : "");
        }
        ig_buf_printf(&d, "%sline %lld: %s%s", i ? "\n" : "", (long long)x->line, x->reason, raw);
    }
    if (r->n > 5) ig_buf_printf(&d, "\n... and %zu more", r->n - 5);
    ig_err_detail(err, "%s", ig_buf_cstr(&d));
    ig_buf_free(&d);
    ig_err_at(err, m->original_name ? m->original_name : "", r->n ? (int)r->items[0].line : 0, 0);
    ig_err_hint(err, "fix the file, or allow more bad rows with --max-bad-rows / max_bad_fraction "
                     "(rejected rows are then kept in %s__rejects)", relation);
    return IG_ERR_DATA;
}

static void meta_cols(ig_wh *wh, ig_buf *q, const ig_lake_manifest *m, int64_t loaded_us,
                      const char *rownum)
{
    char ts[40];
    ig_format_iso(loaded_us, ts, sizeof ts);
    ts[strlen(ts) - 1] = '\0'; /* no Z: a TIMESTAMP in UTC */
    ig_buf_puts(q, ", ");
    ig_wh_quote_literal(wh, q, m->batch_id);
    ig_buf_puts(q, " AS _ingot_batch_id, CAST(");
    ig_wh_quote_literal(wh, q, ts);
    ig_buf_puts(q, " AS TIMESTAMP) AS _ingot_loaded_at, ");
    ig_wh_quote_literal(wh, q, m->original_name ? m->original_name : m->raw_path);
    ig_buf_printf(q, " AS _ingot_source_file, CAST(%s AS BIGINT) AS _ingot_row_number", rownum);
}

/* The view over every loaded raw file of an external stream, this batch
 * included. */
static ig_rc external_view(ig__load_ctx *lc, ig_wh *wh, const ig_lake_manifest *m,
                           const char *table, ig_error *err)
{
    ig_param p[3] = {IG_P_TEXT(m->source), IG_P_TEXT(m->stream), IG_P_TEXT(m->batch_id)};
    ig_wh_cursor *c;
    ig_rc rc = ig_wh_query_params(wh,
                                  "SELECT raw_path FROM ingot.loads WHERE source = $1 AND stream = $2 "
                                  "AND status = 'loaded' AND batch_id <> $3 ORDER BY batch_id",
                                  p, 3, &c, err);
    if (rc) return rc;
    size_t n = 0, cap = 8;
    char **paths = ig_malloc(cap * sizeof *paths);
    int r;
    while ((r = ig_wh_cursor_next(c, err)) == 1) {
        if (n + 1 >= cap) paths = ig_realloc(paths, (cap *= 2) * sizeof *paths);
        paths[n++] = ig_strdup(ig_wh_cursor_value(c, 0)->text);
    }
    ig_wh_cursor_close(c);
    paths[n++] = ig_strdup(m->raw_path);
    rc = r < 0 ? IG_ERR_SQL : IG_OK;
    ig_buf rd = IG_BUF_INIT, q = IG_BUF_INIT;
    if (!rc) {
        const ig_ingest_opts *o = lc->o;
        ig_wh_read_spec s = {
            .format = lc->format, .paths = (const char *const *)paths, .npaths = n,
            .delimiter = o->delimiter, .quote = o->quote, .escape = o->escape,
            .null_str = o->null_str, .date_format = o->date_format,
            .timestamp_format = o->timestamp_format, .encoding = o->encoding, .header = o->header,
            .skip_rows = o->skip_rows, .all_varchar = o->all_varchar,
            .null_padding = o->null_padding, .types = o->types, .ntypes = o->ntypes,
            .union_by_name = true, .filename = true, .ignore_errors = true,
            .max_line_size = 64L << 20,
        };
        rc = lc->d->read_files(wh, &rd, &s, err);
    }
    if (!rc) {
        lc->d->external_view(wh, &q, "bronze", table, rd.data);
        rc = ig_wh_exec(wh, q.data, err);
    }
    for (size_t i = 0; i < n; i++) free(paths[i]);
    free(paths);
    ig_buf_free(&rd);
    ig_buf_free(&q);
    return rc;
}

ig_rc ig__ingest_load_fn(void *ctx, ig_wh *wh, const ig_lake_manifest *m, ig_lake_load_result *res,
                         ig_error *err)
{
    ig__load_ctx *lc = ctx;
    char table[160], relation[200];
    ig__bronze_name(m->source, m->stream, table, sizeof table);
    snprintf(relation, sizeof relation, "bronze.%s", table);
    res->relation = ig_strdup(relation);
    if (m->bytes == 0) {
        /* an empty file: nothing to read, nothing to change */
        res->rows_accepted = res->rows_rejected = 0;
        return IG_OK;
    }
    bool is_xlsx = !strcmp(lc->format, "xlsx");
    bool is_csv = !strcmp(lc->format, "csv") || !strcmp(lc->format, "tsv");
    bool is_json = !strcmp(lc->format, "json") || !strcmp(lc->format, "ndjson");
    if (lc->o->external && is_xlsx)
        return ig_err(err, IG_ERR_USAGE, "an xlsx stream cannot be external (the warehouse cannot "
                                         "read workbooks); set external: false for %s", relation);
    int64_t loaded_us = ig_wall_us();
    char rt[80], rs[80], stage[80];
    snprintf(rt, sizeof rt, "ig_rejects_%.8s%.6s", m->batch_id + 22, m->batch_id + 15);
    snprintf(rs, sizeof rs, "ig_rejscan_%.8s%.6s", m->batch_id + 22, m->batch_id + 15);
    snprintf(stage, sizeof stage, "_stage_%.8s%.6s", m->batch_id + 22, m->batch_id + 15);
    ig_buf from = IG_BUF_INIT, sel = IG_BUF_INIT, q = IG_BUF_INIT;
    ig_wh_coltype *types = NULL;
    rejects rj = {0};
    col *cols = NULL;
    size_t ncols = 0;
    const char *rownum = lc->d->row_number_expr;
    const char *paths[1] = {m->raw_path};
    char *clean = NULL;
    ig_rc rc = IG_OK;
    int64_t staged = -1;

    if (is_xlsx) {
        rc = ig__xlsx_stage(lc, wh, m, stage, &sel, &staged, err);
        ig_wh_quote_relation(wh, &from, "ingot", stage);
        rownum = "_rn";
    } else {
        if (is_json && lc->json_lenient) {
            /* the good lines go to a clean copy outside the raw zone (the
             * raw file is never changed); the reader loads the copy */
            int64_t nlines = 0;
            clean = ig_asprintf("%s/%s.clean.ndjson", lc->tmp_dir, m->batch_id);
            paths[0] = clean;
            rc = scan_json_lines(m->raw_path, clean, &rj, &nlines, err);
            if (!rc && rj.n == 0) {
                /* every line is JSON: the file is one document the reader
                 * could not take (a broken array); reject it whole */
                rc = ig_err(err, IG_ERR_DATA, "%s is not valid JSON or NDJSON",
                            m->original_name ? m->original_name : m->raw_path);
                ig_err_hint(err, "check the file with a JSON validator; NDJSON needs one object per line");
            }
            lc->format = "ndjson";
        }
        /* a clean file is read once, without the rejects machinery; when
         * the read fails on a bad row, it is planned again with it */
        bool divert = is_csv; /* always: without the rejects tables the reader may drop ragged rows silently */
        if (!rc)
            rc = build_read(lc, wh, paths, 1, false, divert ? rt : NULL, divert ? rs : NULL, false,
                            &from, &types, err);
        ig_buf_puts(&sel, "*");
    }
    bool exists = ig_wh_relation_exists(wh, "bronze", table);
    bool divert = is_csv; /* always: without the rejects tables the reader may drop ragged rows silently */
    if (!rc && (exists || lc->o->external)) {
        rc = describe(wh, sel.data, from.data, &cols, &ncols, err);
        if (rc && is_json && !lc->json_lenient) {
            lc->json_lenient = true;
            res->retry = true;
        } else if (rc && is_csv && !lc->csv_rejects) {
            lc->csv_rejects = true;
            res->retry = true;
        }
    }
    if (!rc && lc->o->external) {
        /* count and keep the bad rows now; the view reads the files later */
        ig_buf_printf(&q, "SELECT count(*) FROM %s", from.data);
        rc = exec_count(wh, q.data, &res->rows_accepted, err);
        if (!rc && divert) rc = fetch_csv_rejects(lc, wh, rt, rs, &rj, err);
        if (!rc) rc = check_limits(lc, m, relation, &rj, res->rows_accepted, err);
        if (!rc) rc = store_rejects(wh, m, table, &rj, loaded_us, err);
        if (!rc) rc = external_view(lc, wh, m, table, err);
    } else if (!rc) {
        if (exists) rc = evolve(lc, wh, m, table, relation, cols, ncols, err);
        if (!rc) {
            ig_buf_reset(&q);
            if (!exists) {
                ig_buf_puts(&q, "CREATE TABLE ");
                ig_wh_quote_relation(wh, &q, "bronze", table);
                ig_buf_puts(&q, " AS");
            } else {
                ig_buf_puts(&q, "INSERT INTO ");
                ig_wh_quote_relation(wh, &q, "bronze", table);
                ig_buf_puts(&q, " BY NAME");
            }
            ig_buf_printf(&q, " SELECT %s", sel.data);
            meta_cols(wh, &q, m, loaded_us, rownum);
            ig_buf_printf(&q, " FROM %s", from.data);
            if (lc->prog) ig_progress_set_phase(lc->prog, "loading");
            rc = exec_count(wh, q.data, &res->rows_accepted, err);
            if (rc && is_json && !lc->json_lenient) {
                lc->json_lenient = true;
                res->retry = true;
            } else if (rc && is_csv && !lc->csv_rejects) {
                lc->csv_rejects = true;
                res->retry = true;
            }
        }
        if (!rc && !exists) {
            /* the schema as created, for the manifest */
            cols_free(cols, ncols);
            cols = NULL;
            rc = table_cols(wh, "bronze", table, &cols, &ncols, err);
            for (size_t i = 0; !rc && i < ncols;)
                if (ig_str_starts(cols[i].name, "_ingot_")) {
                    free(cols[i].name);
                    free(cols[i].type);
                    memmove(&cols[i], &cols[i + 1], (ncols - i - 1) * sizeof *cols);
                    ncols--;
                } else i++;
        }
        if (!rc && divert) rc = fetch_csv_rejects(lc, wh, rt, rs, &rj, err);
        /* a sniffed column whose later values do not fit its type: read it
         * as text instead (schema widening, never a lost row) */
        if (!rc && is_csv) {
            bool widened = false;
            for (size_t i = 0; i < rj.n; i++) {
                const reject *x = &rj.items[i];
                if (!x->type || strcmp(x->type, "CAST") || !x->column) continue;
                if (is_override(lc, x->column) || is_forced_varchar(lc, x->column)) continue;
                lc->varchar_cols = ig_realloc(lc->varchar_cols, (lc->nvarchar + 1) * sizeof(char *));
                lc->varchar_cols[lc->nvarchar++] = ig_strdup(x->column);
                widened = true;
            }
            if (widened) {
                res->retry = true;
                rc = ig_err(err, IG_ERR_DATA, "a detected column type did not fit every value");
            }
        }
        if (!rc) rc = check_limits(lc, m, relation, &rj, res->rows_accepted, err);
        if (!rc) rc = store_rejects(wh, m, table, &rj, loaded_us, err);
    }
    if (!rc && divert) {
        ig_buf_reset(&q);
        lc->d->rejects_drop(wh, &q, rt, rs);
        rc = ig_wh_exec(wh, q.data, err);
    }
    if (!rc && is_xlsx) {
        ig_buf_reset(&q);
        ig_buf_puts(&q, "DROP TABLE ");
        ig_wh_quote_relation(wh, &q, "ingot", stage);
        rc = ig_wh_exec(wh, q.data, err);
    }
    if (!rc) {
        res->rows_rejected = (int64_t)rj.n;
        res->schema_json = schema_json(cols, ncols);
    }
    if (rc && err && !res->retry && !err->file[0] &&
        !strstr(err->message, m->original_name ? m->original_name : "\x01")) {
        ig_err_prefix(err, "%s", m->original_name ? m->original_name : m->raw_path);
    }
    if (clean) {
        unlink(clean);
        free(clean);
    }
    free(types);
    cols_free(cols, ncols);
    rejects_free(&rj);
    ig_buf_free(&from);
    ig_buf_free(&sel);
    ig_buf_free(&q);
    return rc;
}
