/* Landing connector batches in the warehouse: bronze tables (every row as
 * received plus _ingot_* load columns), the silver current table of
 * deduplicated streams, and the connector state — all written by statements
 * the sync engine runs inside one transaction per batch, so the state never
 * claims rows that are not there, nor misses rows that are.
 *
 * Raw CSV files (landed by sync.c through the lake) are read with the
 * warehouse's CSV reader; each column is read as its csv_type and turned into
 * its warehouse type with the column's load_expr. This is the only file of
 * the connectors that writes warehouse SQL. */
#include "ingest/connectors/internal.h"

#include "core/clock.h"
#include "core/mem.h"
#include "core/str.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define Q(b, ident) ig_wh_quote_ident(wh, (b), (ident))

static void rel(ig_wh *wh, ig_buf *b, const char *schema, const char *table)
{
    ig_wh_quote_relation(wh, b, schema, table);
}

static ig_rc run(ig_wh *wh, ig_buf *sql, const ig_param *p, size_t np, int64_t *changed,
                 ig_error *err)
{
    ig_rc rc = np || changed ? ig_wh_exec_params(wh, ig_buf_cstr(sql), p, np, changed, err)
                             : ig_wh_exec(wh, ig_buf_cstr(sql), err);
    ig_buf_free(sql);
    return rc;
}

/* ---- state ---- */

ig_rc ig__conn_state_get(ig_wh *wh, ig_arena *a, const char *source, const char *stream,
                         ig__conn_state *out, ig_error *err)
{
    memset(out, 0, sizeof *out);
    ig_wh_cursor *c;
    ig_param p[2] = {IG_P_TEXT(source), IG_P_TEXT(stream)};
    ig_rc rc = ig_wh_query_params(wh,
                                  "SELECT mode, cursor_field, cursor_value, state::VARCHAR, "
                                  "columns::VARCHAR, load_id FROM ingot.connector_state "
                                  "WHERE source = $1 AND stream = $2",
                                  p, 2, &c, err);
    if (rc) return rc;
    int r = ig_wh_cursor_next(c, err);
    if (r == 1) {
        const char **f[6] = {&out->mode, &out->cursor_field, &out->cursor_value,
                             &out->state, &out->columns, &out->load_id};
        for (size_t i = 0; i < 6; i++) {
            const ig_value *v = ig_wh_cursor_value(c, i);
            *f[i] = v->is_null ? NULL : ig_arena_strndup(a, v->text, v->len);
        }
        out->found = true;
    }
    ig_wh_cursor_close(c);
    return r < 0 ? err->code : IG_OK;
}

ig_rc ig__conn_state_put(ig_wh *wh, const char *source, const char *stream, const char *mode,
                         const char *cursor_field, const char *cursor_value, const char *state,
                         const char *columns, const char *load_id, ig_error *err)
{
    /* No PRIMARY KEY on the table: DuckDB checks unique keys eagerly within a
     * transaction, so update-then-insert is the dependable upsert. */
    ig_param p[9] = {
        IG_P_TEXT(source),
        IG_P_TEXT(stream),
        IG_P_TEXT(mode),
        cursor_field ? IG_P_TEXT(cursor_field) : IG_P_NULL,
        cursor_value ? IG_P_TEXT(cursor_value) : IG_P_NULL,
        state ? IG_P_TEXT(state) : IG_P_NULL,
        columns ? IG_P_TEXT(columns) : IG_P_NULL,
        load_id ? IG_P_TEXT(load_id) : IG_P_NULL,
        IG_P_TS(ig_wall_us()),
    };
    int64_t n = 0;
    ig_rc rc = ig_wh_exec_params(wh,
                                 "UPDATE ingot.connector_state SET mode = $3, cursor_field = $4, "
                                 "cursor_value = $5, state = $6::JSON, columns = $7::JSON, "
                                 "load_id = $8, updated_at = $9 WHERE source = $1 AND stream = $2",
                                 p, 9, &n, err);
    if (rc || n) return rc;
    return ig_wh_exec_params(wh,
                             "INSERT INTO ingot.connector_state (source, stream, mode, cursor_field, "
                             "cursor_value, state, columns, load_id, updated_at) VALUES "
                             "($1, $2, $3, $4, $5, $6::JSON, $7::JSON, $8, $9)",
                             p, 9, NULL, err);
}

ig_rc ig__conn_state_delete(ig_wh *wh, const char *source, const char *stream, ig_error *err)
{
    ig_param p[2] = {IG_P_TEXT(source), IG_P_TEXT(stream)};
    return ig_wh_exec_params(wh, "DELETE FROM ingot.connector_state WHERE source = $1 AND stream = $2",
                             p, 2, NULL, err);
}

const char *ig__conn_columns_json(ig_arena *a, const ig_conn_stream *st)
{
    ig_buf b = IG_BUF_INIT;
    ig_buf_putc(&b, '[');
    for (size_t i = 0; i < st->ncols; i++) {
        if (i) ig_buf_putc(&b, ',');
        ig_buf_putc(&b, '[');
        ig_json_quote(&b, st->cols[i].name);
        ig_buf_putc(&b, ',');
        ig_json_quote(&b, st->cols[i].wh_type);
        ig_buf_putc(&b, ']');
    }
    ig_buf_putc(&b, ']');
    const char *s = ig_arena_strdup(a, ig_buf_cstr(&b));
    ig_buf_free(&b);
    return s;
}

ig_rc ig__conn_columns_diff(ig_arena *a, const char *saved, const ig_conn_stream *st,
                            const char ***added, size_t *nadded, ig_error *err)
{
    *added = ig_arena_zalloc(a, (st->ncols + 1) * sizeof **added);
    *nadded = 0;
    json_error_t je;
    json_t *arr = saved ? json_loads(saved, 0, &je) : NULL;
    if (!json_is_array(arr)) {
        json_decref(arr);
        return IG_OK; /* nothing to compare with */
    }
    ig_rc rc = IG_OK;
    for (size_t i = 0; i < st->ncols && !rc; i++) {
        const ig_conn_column *col = &st->cols[i];
        const char *old = NULL;
        for (size_t j = 0; j < json_array_size(arr); j++) {
            json_t *e = json_array_get(arr, j);
            const char *nm = json_string_value(json_array_get(e, 0));
            if (nm && !strcmp(nm, col->name)) old = json_string_value(json_array_get(e, 1));
        }
        if (!old) (*added)[(*nadded)++] = col->name;
        else if (strcmp(old, col->wh_type)) {
            rc = ig_err(err, IG_ERR_DATA,
                        "column '%s' of stream '%s' changed type since the last sync: it was %s, "
                        "it is now %s (%s in the source)",
                        col->name, st->name, old, col->wh_type, col->source_type);
            ig_err_hint(err, "bronze keeps the old type; reload the stream with --full-refresh "
                        "(its bronze table is rebuilt with the new type)");
        }
    }
    json_decref(arr);
    return rc;
}

/* ---- tables ---- */

static void column_defs(ig_wh *wh, ig_buf *b, const ig_conn_stream *st)
{
    for (size_t i = 0; i < st->ncols; i++) {
        Q(b, st->cols[i].name);
        ig_buf_printf(b, " %s, ", st->cols[i].wh_type);
    }
}

ig_rc ig__conn_ensure_tables(ig_wh *wh, ig_arena *a, const ig__conn_target *t,
                             const char **added, size_t nadded, ig_error *err)
{
    ig_buf b = IG_BUF_INIT;
    ig_buf_puts(&b, "CREATE TABLE IF NOT EXISTS ");
    rel(wh, &b, "bronze", t->table);
    ig_buf_puts(&b, " (");
    column_defs(wh, &b, t->st);
    ig_buf_puts(&b, "_ingot_load_id VARCHAR, _ingot_batch INTEGER, _ingot_loaded_at TIMESTAMP)");
    ig_rc rc = run(wh, &b, NULL, 0, NULL, err);
    if (!rc && (t->mode == IG_CONN_INCR_DEDUP || t->mode == IG_CONN_CDC)) {
        ig_buf_puts(&b, "CREATE TABLE IF NOT EXISTS ");
        rel(wh, &b, "silver", t->table);
        ig_buf_puts(&b, " (");
        column_defs(wh, &b, t->st);
        ig_buf_puts(&b, "_ingot_load_id VARCHAR, _ingot_loaded_at TIMESTAMP)");
        rc = run(wh, &b, NULL, 0, NULL, err);
    }
    for (size_t i = 0; i < nadded && !rc; i++) {
        const ig_conn_column *col = NULL;
        for (size_t j = 0; j < t->st->ncols; j++)
            if (!strcmp(t->st->cols[j].name, added[i])) col = &t->st->cols[j];
        if (!col) continue;
        bool silver = t->mode == IG_CONN_INCR_DEDUP || t->mode == IG_CONN_CDC;
        for (int s = 0; s < (silver ? 2 : 1) && !rc; s++) {
            const char *schema = s ? "silver" : "bronze";
            ig_buf_puts(&b, "ALTER TABLE ");
            rel(wh, &b, schema, t->table);
            ig_buf_puts(&b, " ADD COLUMN IF NOT EXISTS ");
            Q(&b, col->name);
            ig_buf_printf(&b, " %s", col->wh_type);
            rc = run(wh, &b, NULL, 0, NULL, err);
        }
    }
    (void)a;
    return rc;
}

ig_rc ig__conn_drop_tables(ig_wh *wh, ig_arena *a, const ig__conn_target *t, ig_error *err)
{
    ig_buf b = IG_BUF_INIT;
    ig_buf_puts(&b, "DROP TABLE IF EXISTS ");
    rel(wh, &b, "bronze", t->table);
    ig_buf_puts(&b, "; DROP TABLE IF EXISTS ");
    rel(wh, &b, "silver", t->table);
    (void)a;
    return run(wh, &b, NULL, 0, NULL, err);
}

/* "s.a = k.a AND s.b = k.b" over the key columns (or every column). */
static void key_match(ig_wh *wh, ig_buf *b, const ig__conn_target *t, const char *l, const char *r,
                      bool null_safe)
{
    size_t n = t->npk ? t->npk : t->st->ncols;
    for (size_t i = 0; i < n; i++) {
        const char *k = t->npk ? t->pk[i] : t->st->cols[i].name;
        if (i) ig_buf_puts(b, " AND ");
        ig_buf_printf(b, "%s.", l);
        Q(b, k);
        ig_buf_puts(b, null_safe ? " IS NOT DISTINCT FROM " : " = ");
        ig_buf_printf(b, "%s.", r);
        Q(b, k);
    }
}

static const ig_conn_column *find_col(const ig_conn_stream *st, const char *name)
{
    for (size_t i = 0; i < st->ncols; i++)
        if (!strcmp(st->cols[i].name, name)) return &st->cols[i];
    return NULL;
}

static void select_list(ig_wh *wh, ig_buf *b, const ig_conn_stream *st, const char *prefix)
{
    for (size_t i = 0; i < st->ncols; i++) {
        if (i) ig_buf_puts(b, ", ");
        if (prefix) ig_buf_printf(b, "%s.", prefix);
        Q(b, st->cols[i].name);
    }
}

static ig_rc merge_silver(ig_wh *wh, const ig__conn_target *t, int batch, ig_error *err)
{
    ig_buf b = IG_BUF_INIT;
    ig_buf w = IG_BUF_INIT; /* the rows of this load (batch < 0: all of bronze) */
    if (batch >= 0) ig_buf_puts(&w, " WHERE _ingot_load_id = $1 AND _ingot_batch = $2");
    ig_param p[2] = {IG_P_TEXT(t->load_id), IG_P_INT(batch)};
    size_t np = batch >= 0 ? 2 : 0;

    ig_buf_puts(&b, "DELETE FROM ");
    rel(wh, &b, "silver", t->table);
    ig_buf_puts(&b, " USING (SELECT DISTINCT ");
    for (size_t i = 0; i < t->npk; i++) {
        if (i) ig_buf_puts(&b, ", ");
        Q(&b, t->pk[i]);
    }
    ig_buf_puts(&b, " FROM ");
    rel(wh, &b, "bronze", t->table);
    ig_buf_printf(&b, "%s) k WHERE ", ig_buf_cstr(&w));
    /* the target table's own name qualifies its columns */
    ig_buf q = IG_BUF_INIT;
    rel(wh, &q, "silver", t->table);
    key_match(wh, &b, t, ig_buf_cstr(&q), "k", false);
    ig_buf_free(&q);
    ig_rc rc = run(wh, &b, p, np, NULL, err);
    if (rc) goto done;

    ig_buf_puts(&b, "INSERT INTO ");
    rel(wh, &b, "silver", t->table);
    ig_buf_puts(&b, " (");
    select_list(wh, &b, t->st, NULL);
    ig_buf_puts(&b, ", _ingot_load_id, _ingot_loaded_at) SELECT ");
    select_list(wh, &b, t->st, NULL);
    ig_buf_puts(&b, ", _ingot_load_id, _ingot_loaded_at FROM (SELECT *, row_number() OVER "
                    "(PARTITION BY ");
    for (size_t i = 0; i < t->npk; i++) {
        if (i) ig_buf_puts(&b, ", ");
        Q(&b, t->pk[i]);
    }
    ig_buf_puts(&b, " ORDER BY ");
    if (t->cursor) {
        Q(&b, t->cursor);
        ig_buf_puts(&b, " DESC NULLS LAST, ");
    }
    ig_buf_puts(&b, "_ingot_batch DESC) AS _ingot_rn FROM ");
    rel(wh, &b, "bronze", t->table);
    ig_buf_printf(&b, "%s) x WHERE _ingot_rn = 1", ig_buf_cstr(&w));
    if (t->deleted) {
        const ig_conn_column *dc = find_col(t->st, t->deleted);
        ig_buf_puts(&b, " AND ");
        if (dc && !strcmp(dc->wh_type, "BOOLEAN")) {
            ig_buf_puts(&b, "NOT coalesce(");
            Q(&b, t->deleted);
            ig_buf_puts(&b, ", false)");
        } else {
            Q(&b, t->deleted);
            ig_buf_puts(&b, " IS NULL");
        }
    }
    rc = run(wh, &b, p, np, NULL, err);
done:
    ig_buf_free(&w);
    if (rc) ig_err_prefix(err, "updating silver.%s", t->table);
    return rc;
}

/* ---- cdc ---- */

static void pk_list(ig_wh *wh, ig_buf *b, const ig__conn_target *t)
{
    for (size_t i = 0; i < t->npk; i++) {
        if (i) ig_buf_puts(b, ", ");
        Q(b, t->pk[i]);
    }
}

/* Columns the source left out of an update because they did not change
 * (PostgreSQL TOAST: _ingot_toast = "|col|...|") take the value of the key's
 * previous row in bronze, batch rows in log order. */
static ig_rc fill_toast(ig_wh *wh, const ig__conn_target *t, int batch, ig_error *err)
{
    ig_param p[2] = {IG_P_TEXT(t->load_id), IG_P_INT(batch)};
    ig_buf b = IG_BUF_INIT;
    ig_buf_puts(&b, "SELECT DISTINCT unnest(string_split(trim(_ingot_toast, '|'), '|')) FROM ");
    rel(wh, &b, "bronze", t->table);
    ig_buf_puts(&b, " WHERE _ingot_load_id = $1 AND _ingot_batch = $2 AND _ingot_toast IS NOT NULL");
    ig_wh_cursor *cur;
    ig_rc rc = ig_wh_query_params(wh, ig_buf_cstr(&b), p, 2, &cur, err);
    ig_buf_free(&b);
    if (rc) return rc;
    char *names[256];
    size_t n = 0;
    int r;
    while ((r = ig_wh_cursor_next(cur, err)) == 1 && n < 256) {
        const ig_value *v = ig_wh_cursor_value(cur, 0);
        if (!v->is_null) names[n++] = ig_strndup(v->text, v->len);
    }
    ig_wh_cursor_close(cur);
    if (r < 0) rc = err->code;
    for (size_t i = 0; i < n && !rc; i++) {
        if (!find_col(t->st, names[i])) continue;
        ig_buf mark = IG_BUF_INIT;
        ig_buf_printf(&mark, "|%s|", names[i]);
        ig_buf_puts(&b, "UPDATE ");
        rel(wh, &b, "bronze", t->table);
        ig_buf_puts(&b, " AS u SET ");
        Q(&b, names[i]);
        ig_buf_puts(&b, " = f.prev.v FROM (SELECT rowid AS rid, _ingot_load_id AS lid, "
                        "_ingot_batch AS bat, _ingot_toast AS tst, last_value(CASE WHEN "
                        "_ingot_toast IS NULL OR NOT contains(_ingot_toast, $3) THEN "
                        "struct_pack(v := ");
        Q(&b, names[i]);
        ig_buf_puts(&b, ") END IGNORE NULLS) OVER (PARTITION BY ");
        pk_list(wh, &b, t);
        ig_buf_puts(&b, " ORDER BY _ingot_lsn, _ingot_batch ROWS BETWEEN UNBOUNDED PRECEDING AND "
                        "1 PRECEDING) AS prev FROM ");
        rel(wh, &b, "bronze", t->table);
        ig_buf_puts(&b, " WHERE (");
        pk_list(wh, &b, t);
        ig_buf_puts(&b, ") IN (SELECT (");
        pk_list(wh, &b, t);
        ig_buf_puts(&b, ") FROM ");
        rel(wh, &b, "bronze", t->table);
        ig_buf_puts(&b, " WHERE _ingot_load_id = $1 AND _ingot_batch = $2 AND contains(_ingot_toast, $3))"
                        ") f WHERE u.rowid = f.rid AND f.lid = $1 AND f.bat = $2 AND "
                        "contains(f.tst, $3) AND f.prev IS NOT NULL");
        ig_param p3[3] = {p[0], p[1], IG_P_TEXT(ig_buf_cstr(&mark))};
        rc = run(wh, &b, p3, 3, NULL, err);
        ig_buf_free(&mark);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    if (rc) ig_err_prefix(err, "filling unchanged TOAST columns of bronze.%s", t->table);
    return rc;
}

/* Apply a cdc batch to silver: a truncate empties it; every key the batch
 * touches is replaced by its last change, unless that is a delete. */
static ig_rc merge_cdc(ig_wh *wh, const ig__conn_target *t, int batch, ig_error *err)
{
    ig_param p[2] = {IG_P_TEXT(t->load_id), IG_P_INT(batch)};
    const char *w = " WHERE _ingot_load_id = $1 AND _ingot_batch = $2";
    ig_buf b = IG_BUF_INIT;
    /* A snapshot batch (every row 'r', each key once, silver emptied with the
     * tables before a snapshot) is a plain insert: no sort of the batch. */
    ig_buf_puts(&b, "SELECT count(*) FILTER (WHERE _ingot_op <> 'r') FROM ");
    rel(wh, &b, "bronze", t->table);
    ig_buf_puts(&b, w);
    int64_t changes = -1;
    ig_wh_cursor *cur;
    ig_rc rc = ig_wh_query_params(wh, ig_buf_cstr(&b), p, 2, &cur, err);
    ig_buf_free(&b);
    if (rc) goto done;
    if (ig_wh_cursor_next(cur, err) == 1) {
        const ig_value *v = ig_wh_cursor_value(cur, 0);
        if (!v->is_null) changes = strtoll(v->text, NULL, 10);
    }
    ig_wh_cursor_close(cur);
    if (changes == 0) {
        ig_buf_puts(&b, "INSERT INTO ");
        rel(wh, &b, "silver", t->table);
        ig_buf_puts(&b, " (");
        select_list(wh, &b, t->st, NULL);
        ig_buf_puts(&b, ", _ingot_load_id, _ingot_loaded_at) SELECT ");
        select_list(wh, &b, t->st, NULL);
        ig_buf_puts(&b, ", _ingot_load_id, _ingot_loaded_at FROM ");
        rel(wh, &b, "bronze", t->table);
        ig_buf_puts(&b, w);
        rc = run(wh, &b, p, 2, NULL, err);
        goto done;
    }
    ig_buf_puts(&b, "DELETE FROM ");
    rel(wh, &b, "silver", t->table);
    ig_buf_puts(&b, " WHERE EXISTS (SELECT 1 FROM ");
    rel(wh, &b, "bronze", t->table);
    ig_buf_printf(&b, "%s AND _ingot_op = 't')", w);
    rc = run(wh, &b, p, 2, NULL, err);
    if (rc) goto done;

    ig_buf_puts(&b, "DELETE FROM ");
    rel(wh, &b, "silver", t->table);
    ig_buf_puts(&b, " USING (SELECT DISTINCT ");
    pk_list(wh, &b, t);
    ig_buf_puts(&b, " FROM ");
    rel(wh, &b, "bronze", t->table);
    ig_buf_printf(&b, "%s AND _ingot_op <> 't') k WHERE ", w);
    ig_buf q = IG_BUF_INIT;
    rel(wh, &q, "silver", t->table);
    key_match(wh, &b, t, ig_buf_cstr(&q), "k", false);
    ig_buf_free(&q);
    if ((rc = run(wh, &b, p, 2, NULL, err))) goto done;

    ig_buf_puts(&b, "INSERT INTO ");
    rel(wh, &b, "silver", t->table);
    ig_buf_puts(&b, " (");
    select_list(wh, &b, t->st, NULL);
    ig_buf_puts(&b, ", _ingot_load_id, _ingot_loaded_at) SELECT ");
    select_list(wh, &b, t->st, NULL);
    ig_buf_puts(&b, ", _ingot_load_id, _ingot_loaded_at FROM (SELECT *, row_number() OVER "
                    "(PARTITION BY ");
    pk_list(wh, &b, t);
    ig_buf_puts(&b, " ORDER BY _ingot_lsn DESC) AS _ingot_rn FROM ");
    rel(wh, &b, "bronze", t->table);
    ig_buf_printf(&b, "%s AND _ingot_op <> 't' AND _ingot_lsn > coalesce((SELECT max(_ingot_lsn) "
                      "FROM ", w);
    rel(wh, &b, "bronze", t->table);
    ig_buf_printf(&b, "%s AND _ingot_op = 't'), -1)) x WHERE _ingot_rn = 1 AND _ingot_op <> 'd'", w);
    rc = run(wh, &b, p, 2, NULL, err);
done:
    if (rc) ig_err_prefix(err, "applying changes to silver.%s", t->table);
    return rc;
}

ig_rc ig__conn_load_files(ig_wh *wh, ig_arena *a, const ig__conn_target *t, int batch,
                          const char *const *files, size_t nfiles, int64_t *rows, ig_error *err)
{
    const ig_conn_stream *st = t->st;
    *rows = 0;
    if (nfiles == 0) return IG_OK;
    ig_buf b = IG_BUF_INIT;
    ig_buf_puts(&b, "INSERT INTO ");
    rel(wh, &b, "bronze", t->table);
    ig_buf_puts(&b, " (");
    select_list(wh, &b, st, NULL);
    ig_buf_puts(&b, ", _ingot_load_id, _ingot_batch, _ingot_loaded_at) SELECT s.*, $1, $2, $3 "
                    "FROM (SELECT ");
    for (size_t i = 0; i < st->ncols; i++) {
        const ig_conn_column *c = &st->cols[i];
        if (i) ig_buf_puts(&b, ", ");
        char field[32];
        snprintf(field, sizeof field, "c%zu", i);
        if (c->load_expr) ig_buf_printf(&b, c->load_expr, field);
        else if (strcmp(c->csv_type, c->wh_type)) ig_buf_printf(&b, "CAST(%s AS %s)", field, c->wh_type);
        else ig_buf_puts(&b, field);
        ig_buf_puts(&b, " AS ");
        Q(&b, c->name);
    }
    ig_buf_puts(&b, " FROM read_csv([");
    for (size_t i = 0; i < nfiles; i++) {
        if (i) ig_buf_puts(&b, ", ");
        ig_wh_quote_literal(wh, &b, files[i]);
    }
    ig_buf_puts(&b, "], columns = {");
    for (size_t i = 0; i < st->ncols; i++)
        ig_buf_printf(&b, "%s'c%zu': '%s'", i ? ", " : "", i, st->cols[i].csv_type);
    ig_buf_puts(&b, "}, header = false, delim = ',', quote = '\"', escape = '\"', nullstr = '', "
                    "allow_quoted_nulls = false, auto_detect = false, strict_mode = true, "
                    "max_line_size = 67108864, buffer_size = 67108864)) s");
    size_t np = 3;
    const ig_conn_column *cc = t->cursor ? find_col(st, t->cursor) : NULL;
    if (t->boundary && cc) {
        /* Rows at the boundary cursor value were read again (>=); keep only
         * those bronze does not already hold from an earlier batch. */
        ig_buf_puts(&b, " WHERE NOT (s.");
        Q(&b, cc->name);
        ig_buf_printf(&b, " IS NOT DISTINCT FROM CAST($4 AS %s) AND EXISTS (SELECT 1 FROM ",
                      cc->wh_type);
        rel(wh, &b, "bronze", t->table);
        ig_buf_puts(&b, " b WHERE b.");
        Q(&b, cc->name);
        ig_buf_printf(&b, " = CAST($4 AS %s) AND ", cc->wh_type);
        key_match(wh, &b, t, "b", "s", true);
        ig_buf_puts(&b, "))");
        np = 4;
    }
    ig_param p[4] = {IG_P_TEXT(t->load_id), IG_P_INT(batch), IG_P_TS(ig_wall_us()),
                     t->boundary ? IG_P_TEXT(t->boundary) : IG_P_NULL};
    ig_rc rc = run(wh, &b, p, np, rows, err);
    if (rc) {
        ig_err_prefix(err, "loading batch %d of stream '%s' into bronze.%s", batch, t->stream,
                      t->table);
        return rc;
    }
    if (t->mode == IG_CONN_INCR_DEDUP && t->npk) rc = merge_silver(wh, t, batch, err);
    if (t->mode == IG_CONN_CDC && t->npk) {
        rc = fill_toast(wh, t, batch, err);
        if (!rc) rc = merge_cdc(wh, t, batch, err);
    }
    (void)a;
    return rc;
}

ig_rc ig__conn_rebuild_silver(ig_wh *wh, ig_arena *a, const ig__conn_target *t, ig_error *err)
{
    ig_buf b = IG_BUF_INIT;
    ig_buf_puts(&b, "DELETE FROM ");
    rel(wh, &b, "silver", t->table);
    ig_rc rc = run(wh, &b, NULL, 0, NULL, err);
    (void)a;
    return rc ? rc : merge_silver(wh, t, -1, err);
}

ig_rc ig__conn_record_batch(ig_wh *wh, const ig__conn_target *t, int batch, const char *file,
                            int64_t rows, int64_t bytes, const char *sha256,
                            const char *cursor_value, ig_error *err)
{
    ig_param p[10] = {
        IG_P_TEXT(t->load_id),      IG_P_INT(batch),
        IG_P_TEXT(t->source),       IG_P_TEXT(t->stream),
        file ? IG_P_TEXT(file) : IG_P_NULL,
        IG_P_INT(rows),             IG_P_INT(bytes),
        sha256 ? IG_P_TEXT(sha256) : IG_P_NULL,
        cursor_value ? IG_P_TEXT(cursor_value) : IG_P_NULL,
        IG_P_TS(ig_wall_us()),
    };
    return ig_wh_exec_params(wh,
                             "INSERT INTO ingot.connector_batches (load_id, batch, source, stream, "
                             "raw_file, rows, bytes, sha256, cursor_value, committed_at) VALUES "
                             "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                             p, 10, NULL, err);
}
