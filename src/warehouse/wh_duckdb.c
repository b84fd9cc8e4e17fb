/* The DuckDB warehouse driver: the only file (with duckdb_values.c) that
 * includes duckdb.h. One duckdb_database is shared (refcounted) by the
 * connections cloned from the first; each ig_wh is one duckdb_connection. */
#include "warehouse/driver.h"
#include "warehouse/duckdb_values.h"

#include "core/log.h"
#include "core/mem.h"
#include "core/sqlsplit.h"
#include "core/str.h"

#include <ctype.h>
#include <duckdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct shared_db {
    duckdb_database db;
    int refs;
    pthread_mutex_t lock;
} shared_db;

typedef struct duck_wh {
    ig_wh base;
    shared_db *shared;
    duckdb_connection con;
} duck_wh;

typedef struct duck_cursor {
    ig_wh_cursor base;
    duckdb_result result;
    bool has_result;
    size_t ncols;
    char **names;
    char **type_names;
    ig_type *types;
    duckdb_logical_type *ltypes;
    duckdb_data_chunk chunk;
    idx_t chunk_size, chunk_row; /* chunk_row: index of the current row + 1 */
    ig_value *values;
    ig_buf text;
    bool done, is_query;
    int64_t changed;
    const char *statement;
} duck_cursor;

typedef struct duck_appender {
    ig_wh_appender base;
    duckdb_appender app;
    char *table;
} duck_appender;

/* Map DuckDB's own error text onto our codes and hints. */
static ig_rc open_error(const char *path, const char *msg, ig_error *err)
{
    if (strstr(msg, "Could not set lock") || strstr(msg, "Conflicting lock")) {
        ig_err(err, IG_ERR_LOCKED, "the warehouse %s is in use by another process", path);
        const char *pid = strstr(msg, "PID ");
        long p = pid ? strtol(pid + 4, NULL, 10) : 0;
        char cmd[256] = "";
        if (p > 0) {
            char procpath[64];
            snprintf(procpath, sizeof procpath, "/proc/%ld/cmdline", p);
            FILE *f = fopen(procpath, "r");
            if (f) {
                size_t n = fread(cmd, 1, sizeof cmd - 1, f);
                fclose(f);
                for (size_t i = 0; i + 1 < n; i++)
                    if (!cmd[i]) cmd[i] = ' ';
                cmd[n] = '\0';
            }
            ig_err_detail(err, "held by process %ld%s%s%s", p, cmd[0] ? " (" : "", cmd,
                          cmd[0] ? ")" : "");
        } else {
            ig_err_detail(err, "%s", msg);
        }
        ig_err_hint(err, "DuckDB allows one writing process per file: wait for that process to "
                         "finish, or stop it%s%ld, then run the command again",
                    p > 0 ? " with `kill " : "", p > 0 ? p : 0L);
        if (p > 0) {
            size_t l = strlen(err->hint);
            /* close the backquote after the pid */
            char *at = strstr(err->hint, ", then");
            if (at) {
                memmove(at + 1, at, l - (size_t)(at - err->hint) + 1);
                *at = '`';
            }
        }
        return err ? err->code : IG_ERR_LOCKED;
    }
    if (strstr(msg, "not a valid DuckDB database file") || strstr(msg, "Not a valid DuckDB")) {
        ig_err(err, IG_ERR_DATA, "%s is not a DuckDB warehouse file", path);
        ig_err_hint(err, "point warehouse.path in ingot.yml at a DuckDB file, or move this file "
                         "away to let ingot create a new warehouse");
        return IG_ERR_DATA;
    }
    if (strstr(msg, "version number") || strstr(msg, "newer version") ||
        strstr(msg, "storage version")) {
        ig_err(err, IG_ERR_VERSION, "%s was written by a newer DuckDB than this ingot uses (%s)",
               path, duckdb_library_version());
        ig_err_detail(err, "%s", msg);
        ig_err_hint(err, "upgrade ingot; the file was left untouched");
        return IG_ERR_VERSION;
    }
    ig_err(err, IG_ERR_IO, "cannot open the warehouse %s", path);
    ig_err_detail(err, "%s", msg);
    return IG_ERR_IO;
}

static ig_rc d_open(const ig_wh_options *opt, ig_wh **out, ig_error *err)
{
    duckdb_config config;
    if (duckdb_create_config(&config) == DuckDBError)
        return ig_err(err, IG_ERR_INTERNAL, "cannot create DuckDB configuration");
    if (opt->read_only) duckdb_set_config(config, "access_mode", "READ_ONLY");
    char buf[32];
    if (opt->threads > 0) {
        snprintf(buf, sizeof buf, "%d", opt->threads);
        duckdb_set_config(config, "threads", buf);
    }
    if (opt->memory_limit && duckdb_set_config(config, "memory_limit", opt->memory_limit) == DuckDBError) {
        duckdb_destroy_config(&config);
        return ig_err(err, IG_ERR_CONFIG, "warehouse.memory_limit: '%s' is not a memory size (e.g. 4GB)",
                      opt->memory_limit);
    }
    /* Spill beyond memory_limit to a known place (DuckDB's default for a
     * file database; none for :memory: unless given). */
    if (opt->temp_directory && *opt->temp_directory &&
        duckdb_set_config(config, "temp_directory", opt->temp_directory) == DuckDBError) {
        duckdb_destroy_config(&config);
        return ig_err(err, IG_ERR_CONFIG, "warehouse.temp_directory: '%s' is not usable",
                      opt->temp_directory);
    }
    duckdb_set_config(config, "autoinstall_known_extensions", "false");
    duckdb_set_config(config, "autoload_known_extensions", "true");
    const char *path = opt->path && *opt->path ? opt->path : ":memory:";
    duckdb_database db;
    char *msg = NULL;
    if (duckdb_open_ext(strcmp(path, ":memory:") ? path : NULL, &db, config, &msg) == DuckDBError) {
        ig_rc rc = open_error(path, msg ? msg : "unknown error", err);
        duckdb_free(msg);
        duckdb_destroy_config(&config);
        return rc;
    }
    duckdb_destroy_config(&config);
    duck_wh *w = ig_calloc(1, sizeof *w);
    w->base.drv = &ig__wh_duckdb;
    w->shared = ig_calloc(1, sizeof *w->shared);
    w->shared->db = db;
    w->shared->refs = 1;
    pthread_mutex_init(&w->shared->lock, NULL);
    if (duckdb_connect(db, &w->con) == DuckDBError) {
        duckdb_close(&db);
        free(w->shared);
        free(w);
        return ig_err(err, IG_ERR_IO, "cannot connect to the warehouse %s", path);
    }
    *out = &w->base;
    return IG_OK;
}

static ig_rc d_clone(ig_wh *wh, ig_wh **out, ig_error *err)
{
    duck_wh *src = (duck_wh *)wh;
    duck_wh *w = ig_calloc(1, sizeof *w);
    w->base.drv = &ig__wh_duckdb;
    w->shared = src->shared;
    if (duckdb_connect(w->shared->db, &w->con) == DuckDBError) {
        free(w);
        return ig_err(err, IG_ERR_IO, "cannot open another warehouse connection");
    }
    pthread_mutex_lock(&w->shared->lock);
    w->shared->refs++;
    pthread_mutex_unlock(&w->shared->lock);
    *out = &w->base;
    return IG_OK;
}

static void d_close(ig_wh *wh)
{
    duck_wh *w = (duck_wh *)wh;
    duckdb_disconnect(&w->con);
    pthread_mutex_lock(&w->shared->lock);
    int left = --w->shared->refs;
    pthread_mutex_unlock(&w->shared->lock);
    if (!left) {
        duckdb_close(&w->shared->db);
        pthread_mutex_destroy(&w->shared->lock);
        free(w->shared);
    }
    free(w);
}

static const char *d_engine_version(const ig_wh *wh) { return duckdb_library_version(); }

/* DuckDB's messages look like "Parser Error: syntax error at or near "x"\n\n
 * LINE 1: selec 1\n        ^". Keep the first line as the message; find the
 * character position from the caret when there is one. */
static ig_rc sql_error(const char *sql, const char *msg, ig_error *err)
{
    if (!msg) msg = "unknown error";
    const char *nl = strchr(msg, '\n');
    ig_err(err, IG_ERR_SQL, "%.*s", nl ? (int)(nl - msg) : (int)strlen(msg), msg);
    if (!err) return IG_ERR_SQL;
    /* The position: DuckDB puts "LINE n: <text>" and a caret line. */
    const char *line = strstr(msg, "LINE ");
    if (line) {
        long lineno = strtol(line + 5, NULL, 10);
        const char *colon = strchr(line, ':');
        const char *eol = colon ? strchr(colon, '\n') : NULL;
        if (colon && eol) {
            const char *caret = strchr(eol + 1, '^');
            if (caret) {
                long caret_col = (long)(caret - (eol + 1)); /* 0-based in the caret line */
                long prefix = (long)(colon + 2 - line);     /* "LINE n: " */
                /* DuckDB may elide the start of long lines with "..." */
                const char *text = colon + 2;
                long offset_in_text = caret_col - prefix;
                if (offset_in_text >= 0 && lineno > 0) {
                    /* find the text in the original SQL to get a column */
                    char snippet[64];
                    long sn = eol - text;
                    bool elided = sn > 3 && !strncmp(text, "...", 3);
                    if (elided) { text += 3; sn -= 3; offset_in_text -= 3; }
                    if (sn > (long)sizeof snippet - 1) sn = sizeof snippet - 1;
                    memcpy(snippet, text, (size_t)sn);
                    snippet[sn] = '\0';
                    /* go to line `lineno` of sql */
                    const char *p = sql;
                    for (long l = 1; l < lineno && p; l++) {
                        p = strchr(p, '\n');
                        if (p) p++;
                    }
                    if (p) {
                        const char *found = sn > 0 ? strstr(p, snippet) : p;
                        long col = found ? (long)(found - p) + offset_in_text + 1 : offset_in_text + 1;
                        err->line = (int)lineno;
                        err->column = (int)col;
                    }
                }
            }
        }
    }
    /* The lines between the first and "LINE n:" say more: "Did you mean
     * ..." is a hint, the rest ("Candidate bindings: ...") detail. */
    if (nl) {
        ig_buf detail = IG_BUF_INIT;
        const char *p = nl + 1;
        while (*p) {
            const char *e = strchr(p, '\n');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            if (len >= 5 && !strncmp(p, "LINE ", 5)) break;
            if (len >= 12 && !strncmp(p, "Did you mean", 12)) {
                ig_err_hint(err, "%.*s", (int)len, p);
            } else if (len) {
                if (detail.len) ig_buf_putc(&detail, '\n');
                ig_buf_append(&detail, p, len);
            }
            if (!e) break;
            p = e + 1;
        }
        if (detail.len) ig_err_detail(err, "%s", detail.data);
        ig_buf_free(&detail);
    }
    return IG_ERR_SQL;
}

/* An error in statement k of n. DuckDB places positions of a later
 * statement against the whole text but shows that statement's own text,
 * so its caret is off (or missing). Prepare the statement's text alone to
 * get a position relative to it, then map that back onto the whole text;
 * when our split does not agree with DuckDB's, give no position rather
 * than a wrong one. */
static ig_rc stmt_error(duckdb_connection con, const char *sql, idx_t k, idx_t n, const char *msg,
                        ig_error *err)
{
    if (k == 0) return sql_error(sql, msg, err);
    size_t len = strlen(sql);
    ig_sql_span *spans = ig_malloc((n + 1) * sizeof *spans);
    ig_sql_scan scan = ig_sql_split(sql, len, spans, n + 1);
    ig_rc rc = IG_ERR_SQL;
    bool placed = false;
    if (scan.nstatements == n && !scan.unterminated) {
        char *text = ig_strndup(sql + spans[k].start, spans[k].end - spans[k].start);
        duckdb_prepared_statement st = NULL;
        if (duckdb_prepare(con, text, &st) == DuckDBError) {
            rc = sql_error(text, duckdb_prepare_error(st), err);
            if (err && err->line > 0) {
                int base = 0;
                size_t line_start = 0;
                for (size_t i = 0; i < spans[k].start; i++)
                    if (sql[i] == '\n') base++, line_start = i + 1;
                if (err->line == 1) err->column += (int)(spans[k].start - line_start);
                err->line += base;
            }
            placed = true;
        }
        duckdb_destroy_prepare(&st);
        free(text);
    }
    free(spans);
    if (!placed) {
        rc = sql_error("", msg, err);
        if (err) err->line = err->column = 0;
    }
    return rc;
}

static ig_rc d_exec(ig_wh *wh, const char *sql, ig_error *err)
{
    duck_wh *w = (duck_wh *)wh;
    duckdb_result res;
    if (duckdb_query(w->con, sql, &res) == DuckDBError) {
        ig_rc rc = sql_error(sql, duckdb_result_error(&res), err);
        duckdb_destroy_result(&res);
        return rc;
    }
    duckdb_destroy_result(&res);
    return IG_OK;
}

static ig_rc bind_params(duckdb_prepared_statement st, const ig_param *params, size_t n, ig_error *err)
{
    for (size_t i = 0; i < n; i++) {
        idx_t idx = i + 1;
        duckdb_state s;
        const ig_param *p = &params[i];
        switch (p->type) {
        case IG_T_NULL: s = duckdb_bind_null(st, idx); break;
        case IG_T_BOOL: s = duckdb_bind_boolean(st, idx, p->b); break;
        case IG_T_INT: s = duckdb_bind_int64(st, idx, p->i); break;
        case IG_T_DOUBLE: s = duckdb_bind_double(st, idx, p->d); break;
        case IG_T_TIMESTAMP:
        case IG_T_TIMESTAMPTZ: s = duckdb_bind_timestamp(st, idx, (duckdb_timestamp){p->i}); break;
        default:
            s = p->text ? duckdb_bind_varchar(st, idx, p->text) : duckdb_bind_null(st, idx);
            break;
        }
        if (s == DuckDBError)
            return ig_err(err, IG_ERR_SQL, "cannot bind parameter %zu: %s", i + 1,
                          duckdb_prepare_error(st) ? duckdb_prepare_error(st) : "bad value");
    }
    return IG_OK;
}

static void cursor_free(duck_cursor *c)
{
    if (c->chunk) duckdb_destroy_data_chunk(&c->chunk);
    for (size_t i = 0; i < c->ncols; i++) {
        free(c->names[i]);
        free(c->type_names[i]);
        if (c->ltypes[i]) duckdb_destroy_logical_type(&c->ltypes[i]);
    }
    free(c->names);
    free(c->type_names);
    free(c->types);
    free(c->ltypes);
    free(c->values);
    ig_buf_free(&c->text);
    if (c->has_result) duckdb_destroy_result(&c->result);
    free(c);
}

/* Prepare and run the last statement streaming; earlier statements run
 * fully first. */
static ig_rc d_query(ig_wh *wh, const char *sql, const ig_param *params, size_t nparams,
                     ig_wh_cursor **out, ig_error *err)
{
    duck_wh *w = (duck_wh *)wh;
    duckdb_extracted_statements ex = NULL;
    idx_t n = duckdb_extract_statements(w->con, sql, &ex);
    if (n == 0) {
        const char *e = duckdb_extract_statements_error(ex);
        ig_rc rc = e ? sql_error(sql, e, err) : ig_err(err, IG_ERR_SQL, "no SQL statement to run");
        duckdb_destroy_extracted(&ex);
        return rc;
    }
    duck_cursor *c = ig_calloc(1, sizeof *c);
    c->base.drv = &ig__wh_duckdb;
    ig_buf_init(&c->text, 0);
    ig_rc rc = IG_OK;
    for (idx_t i = 0; i < n && !rc; i++) {
        duckdb_prepared_statement st = NULL;
        if (duckdb_prepare_extracted_statement(w->con, ex, i, &st) == DuckDBError) {
            rc = stmt_error(w->con, sql, i, n, duckdb_prepare_error(st), err);
            duckdb_destroy_prepare(&st);
            break;
        }
        bool last = i + 1 == n;
        if (last && nparams) rc = bind_params(st, params, nparams, err);
        else if (duckdb_nparams(st) > 0 && !last)
            rc = ig_err(err, IG_ERR_SQL, "statement %llu has parameters but only the last "
                                         "statement may take them", (unsigned long long)i + 1);
        else if (last && duckdb_nparams(st) > nparams)
            rc = ig_err(err, IG_ERR_SQL, "the statement has %llu parameters but %zu were given",
                        (unsigned long long)duckdb_nparams(st), nparams);
        if (rc) {
            duckdb_destroy_prepare(&st);
            break;
        }
        duckdb_result res;
        duckdb_state s;
        if (last) {
            duckdb_pending_result pending;
            s = duckdb_pending_prepared_streaming(st, &pending);
            if (s == DuckDBError) {
                rc = sql_error(sql, duckdb_pending_error(pending), err);
                duckdb_destroy_pending(&pending);
                duckdb_destroy_prepare(&st);
                break;
            }
            s = duckdb_execute_pending(pending, &res);
            duckdb_destroy_pending(&pending);
        } else {
            s = duckdb_execute_prepared(st, &res);
        }
        duckdb_destroy_prepare(&st);
        if (s == DuckDBError) {
            rc = sql_error(sql, duckdb_result_error(&res), err);
            duckdb_destroy_result(&res);
            break;
        }
        if (!last) {
            duckdb_destroy_result(&res);
            continue;
        }
        c->result = res;
        c->has_result = true;
    }
    duckdb_destroy_extracted(&ex);
    if (rc) {
        cursor_free(c);
        return rc;
    }
    c->is_query = duckdb_result_return_type(c->result) == DUCKDB_RESULT_TYPE_QUERY_RESULT;
    static const struct { duckdb_statement_type t; const char *name; } kinds[] = {
        {DUCKDB_STATEMENT_TYPE_SELECT, "SELECT"}, {DUCKDB_STATEMENT_TYPE_INSERT, "INSERT"},
        {DUCKDB_STATEMENT_TYPE_UPDATE, "UPDATE"}, {DUCKDB_STATEMENT_TYPE_DELETE, "DELETE"},
        {DUCKDB_STATEMENT_TYPE_CREATE, "CREATE"}, {DUCKDB_STATEMENT_TYPE_CREATE_FUNC, "CREATE"},
        {DUCKDB_STATEMENT_TYPE_DROP, "DROP"}, {DUCKDB_STATEMENT_TYPE_ALTER, "ALTER"},
        {DUCKDB_STATEMENT_TYPE_COPY, "COPY"}, {DUCKDB_STATEMENT_TYPE_EXPLAIN, "EXPLAIN"},
        {DUCKDB_STATEMENT_TYPE_TRANSACTION, "TRANSACTION"}, {DUCKDB_STATEMENT_TYPE_SET, "SET"},
        {DUCKDB_STATEMENT_TYPE_VARIABLE_SET, "SET"}, {DUCKDB_STATEMENT_TYPE_PRAGMA, "PRAGMA"},
        {DUCKDB_STATEMENT_TYPE_ATTACH, "ATTACH"}, {DUCKDB_STATEMENT_TYPE_DETACH, "DETACH"},
        {DUCKDB_STATEMENT_TYPE_EXPORT, "EXPORT"}, {DUCKDB_STATEMENT_TYPE_VACUUM, "VACUUM"},
        {DUCKDB_STATEMENT_TYPE_ANALYZE, "ANALYZE"}, {DUCKDB_STATEMENT_TYPE_CALL, "CALL"},
        {DUCKDB_STATEMENT_TYPE_LOAD, "LOAD"},
    };
    duckdb_statement_type stype = duckdb_result_statement_type(c->result);
    c->statement = "OTHER";
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (kinds[k].t == stype) c->statement = kinds[k].name;
    if (!c->is_query) c->changed = (int64_t)duckdb_rows_changed(&c->result);
    c->ncols = duckdb_column_count(&c->result);
    c->names = ig_calloc(c->ncols, sizeof(char *));
    c->type_names = ig_calloc(c->ncols, sizeof(char *));
    c->types = ig_calloc(c->ncols, sizeof(ig_type));
    c->ltypes = ig_calloc(c->ncols, sizeof(duckdb_logical_type));
    c->values = ig_calloc(c->ncols, sizeof(ig_value));
    for (size_t i = 0; i < c->ncols; i++) {
        c->names[i] = ig_strdup(duckdb_column_name(&c->result, i));
        c->ltypes[i] = duckdb_column_logical_type(&c->result, i);
        c->types[i] = ig__duck_map_type(c->ltypes[i]);
        char *alias = duckdb_logical_type_get_alias(c->ltypes[i]);
        if (alias) {
            c->type_names[i] = ig_strdup(alias);
            duckdb_free(alias);
        } else {
            ig_buf tn = IG_BUF_INIT;
            ig__duck_type_name(&tn, c->ltypes[i]);
            c->type_names[i] = ig_buf_steal(&tn);
        }
    }
    *out = &c->base;
    return IG_OK;
}

static size_t d_ncols(const ig_wh_cursor *c) { return ((const duck_cursor *)c)->ncols; }
static const char *d_colname(const ig_wh_cursor *c, size_t i) { return ((const duck_cursor *)c)->names[i]; }
static ig_type d_coltype(const ig_wh_cursor *c, size_t i) { return ((const duck_cursor *)c)->types[i]; }
static const char *d_coltype_name(const ig_wh_cursor *c, size_t i) { return ((const duck_cursor *)c)->type_names[i]; }
static int64_t d_rows_changed(const ig_wh_cursor *c) { return ((const duck_cursor *)c)->changed; }
static bool d_is_query(const ig_wh_cursor *c) { return ((const duck_cursor *)c)->is_query; }
static const char *d_statement(const ig_wh_cursor *c) { return ((const duck_cursor *)c)->statement; }

static int d_next(ig_wh_cursor *cur, ig_error *err)
{
    duck_cursor *c = (duck_cursor *)cur;
    if (c->done) return 0;
    while (!c->chunk || c->chunk_row >= c->chunk_size) {
        if (c->chunk) duckdb_destroy_data_chunk(&c->chunk);
        c->chunk = duckdb_fetch_chunk(c->result);
        if (!c->chunk) {
            const char *e = duckdb_result_error(&c->result);
            c->done = true;
            if (e) {
                sql_error("", e, err);
                return -1;
            }
            return 0;
        }
        c->chunk_size = duckdb_data_chunk_get_size(c->chunk);
        c->chunk_row = 0;
    }
    idx_t row = c->chunk_row++;
    ig_buf_reset(&c->text);
    size_t *offs = c->ncols <= 64 ? (size_t[64]){0} : ig_malloc(c->ncols * sizeof(size_t));
    for (size_t i = 0; i < c->ncols; i++) {
        offs[i] = c->text.len;
        duckdb_vector vec = duckdb_data_chunk_get_vector(c->chunk, i);
        ig__duck_decode(&c->text, vec, c->ltypes[i], row, &c->values[i]);
        ig_buf_putc(&c->text, '\0');
    }
    for (size_t i = 0; i < c->ncols; i++) {
        ig_value *v = &c->values[i];
        if (v->is_null) {
            v->text = NULL;
            v->len = 0;
        } else {
            v->text = c->text.data + offs[i];
            v->len = strlen(v->text);
            /* text may contain NUL bytes (VARCHAR can): recompute from offsets */
            size_t end = i + 1 < c->ncols ? offs[i + 1] - 1 : c->text.len - 1;
            v->len = end - offs[i];
        }
    }
    if (c->ncols > 64) free(offs);
    return 1;
}

static const ig_value *d_value(ig_wh_cursor *c, size_t col) { return &((duck_cursor *)c)->values[col]; }

static void d_cursor_close(ig_wh_cursor *c) { cursor_free((duck_cursor *)c); }

static ig_rc appender_error(duck_appender *a, ig_error *err, const char *what)
{
    duckdb_error_data ed = duckdb_appender_error_data(a->app);
    const char *m = ed ? duckdb_error_data_message(ed) : NULL;
    ig_err(err, IG_ERR_DATA, "%s %s: %s", what, a->table, m ? m : "unknown error");
    if (ed) duckdb_destroy_error_data(&ed);
    return IG_ERR_DATA;
}

static ig_rc d_appender_open(ig_wh *wh, const char *schema, const char *table, ig_wh_appender **out,
                             ig_error *err)
{
    duck_wh *w = (duck_wh *)wh;
    duck_appender *a = ig_calloc(1, sizeof *a);
    a->base.drv = &ig__wh_duckdb;
    a->table = ig_asprintf("%s.%s", schema, table);
    if (duckdb_appender_create_ext(w->con, NULL, schema, table, &a->app) == DuckDBError) {
        ig_rc rc = appender_error(a, err, "cannot append to");
        duckdb_appender_destroy(&a->app);
        free(a->table);
        free(a);
        return rc;
    }
    *out = &a->base;
    return IG_OK;
}

#define APP(a) (((duck_appender *)(a))->app)
static ig_rc st(duckdb_state s) { return s == DuckDBError ? IG_ERR_DATA : IG_OK; }
static ig_rc d_append_null(ig_wh_appender *a) { return st(duckdb_append_null(APP(a))); }
static ig_rc d_append_bool(ig_wh_appender *a, bool v) { return st(duckdb_append_bool(APP(a), v)); }
static ig_rc d_append_int(ig_wh_appender *a, int64_t v) { return st(duckdb_append_int64(APP(a), v)); }
static ig_rc d_append_double(ig_wh_appender *a, double v) { return st(duckdb_append_double(APP(a), v)); }
static ig_rc d_append_text(ig_wh_appender *a, const char *s, size_t n)
{
    return st(duckdb_append_varchar_length(APP(a), s, n));
}
static ig_rc d_append_timestamp(ig_wh_appender *a, int64_t us)
{
    return st(duckdb_append_timestamp(APP(a), (duckdb_timestamp){us}));
}
static ig_rc d_append_end_row(ig_wh_appender *a, ig_error *err)
{
    if (duckdb_appender_end_row(APP(a)) == DuckDBError)
        return appender_error((duck_appender *)a, err, "cannot append a row to");
    return IG_OK;
}

static ig_rc d_appender_close(ig_wh_appender *ap, ig_error *err)
{
    duck_appender *a = (duck_appender *)ap;
    ig_rc rc = IG_OK;
    if (duckdb_appender_flush(a->app) == DuckDBError) rc = appender_error(a, err, "cannot write rows to");
    duckdb_appender_destroy(&a->app);
    free(a->table);
    free(a);
    return rc;
}

static void d_interrupt(ig_wh *wh) { duckdb_interrupt(((duck_wh *)wh)->con); }

static void d_quote_ident(const ig_wh *wh, ig_buf *b, const char *ident) { ig__wh_quote_ident_std(b, ident); }
static void d_quote_literal(const ig_wh *wh, ig_buf *b, const char *v) { ig__wh_quote_literal_std(b, v); }

const ig_wh_driver ig__wh_duckdb = {
    .name = "duckdb",
    .open = d_open,
    .clone = d_clone,
    .close = d_close,
    .engine_version = d_engine_version,
    .exec = d_exec,
    .query = d_query,
    .ncols = d_ncols,
    .colname = d_colname,
    .coltype = d_coltype,
    .coltype_name = d_coltype_name,
    .next = d_next,
    .value = d_value,
    .rows_changed = d_rows_changed,
    .is_query = d_is_query,
    .statement = d_statement,
    .cursor_close = d_cursor_close,
    .appender_open = d_appender_open,
    .append_null = d_append_null,
    .append_bool = d_append_bool,
    .append_int = d_append_int,
    .append_double = d_append_double,
    .append_text = d_append_text,
    .append_timestamp = d_append_timestamp,
    .append_end_row = d_append_end_row,
    .appender_close = d_appender_close,
    .interrupt = d_interrupt,
    .quote_ident = d_quote_ident,
    .quote_literal = d_quote_literal,
};
