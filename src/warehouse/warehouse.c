/* The warehouse interface: dispatch to the driver, plus what every engine
 * shares (convenience queries, quoting in standard SQL, relation listing). */
#include "warehouse/driver.h"

#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

#include <stdlib.h>
#include <string.h>

static const ig_wh_driver *const drivers[] = {&ig__wh_duckdb};

ig_rc ig_wh_open(const ig_wh_options *opt, ig_wh **out, ig_error *err)
{
    const char *name = opt->driver && *opt->driver ? opt->driver : "duckdb";
    const ig_wh_driver *drv = NULL;
    const char *names[sizeof drivers / sizeof drivers[0]];
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++) {
        names[i] = drivers[i]->name;
        if (!strcmp(drivers[i]->name, name)) drv = drivers[i];
    }
    if (!drv) {
        ig_err(err, IG_ERR_CONFIG, "unknown warehouse type '%s'", name);
        const char *s = ig_str_suggest(name, names, sizeof names / sizeof names[0]);
        if (s) ig_err_hint(err, "did you mean '%s'?", s);
        else ig_err_hint(err, "supported today: duckdb");
        return IG_ERR_CONFIG;
    }
    ig_wh *wh;
    ig_rc rc = drv->open(opt, &wh, err);
    if (rc) return rc;
    if (!opt->no_migrate) {
        rc = ig__wh_migrate(wh, opt->read_only, err);
        if (rc) {
            drv->close(wh);
            return rc;
        }
    }
    *out = wh;
    return IG_OK;
}

ig_rc ig_wh_clone(ig_wh *wh, ig_wh **out, ig_error *err) { return wh->drv->clone(wh, out, err); }
void ig_wh_close(ig_wh *wh)
{
    if (wh) wh->drv->close(wh);
}
const char *ig_wh_driver_name(const ig_wh *wh) { return wh->drv->name; }
const char *ig_wh_engine_version(const ig_wh *wh) { return wh->drv->engine_version(wh); }

ig_rc ig_wh_exec(ig_wh *wh, const char *sql, ig_error *err) { return wh->drv->exec(wh, sql, err); }

ig_rc ig_wh_exec_params(ig_wh *wh, const char *sql, const ig_param *params, size_t nparams,
                        int64_t *changed, ig_error *err)
{
    ig_wh_cursor *c;
    ig_rc rc = wh->drv->query(wh, sql, params, nparams, &c, err);
    if (rc) return rc;
    if (changed) *changed = c->drv->rows_changed(c);
    c->drv->cursor_close(c);
    return IG_OK;
}

ig_rc ig_wh_query(ig_wh *wh, const char *sql, ig_wh_cursor **out, ig_error *err)
{
    return wh->drv->query(wh, sql, NULL, 0, out, err);
}
ig_rc ig_wh_query_params(ig_wh *wh, const char *sql, const ig_param *params, size_t nparams,
                         ig_wh_cursor **out, ig_error *err)
{
    return wh->drv->query(wh, sql, params, nparams, out, err);
}
size_t ig_wh_cursor_ncols(const ig_wh_cursor *c) { return c->drv->ncols(c); }
const char *ig_wh_cursor_colname(const ig_wh_cursor *c, size_t col) { return c->drv->colname(c, col); }
ig_type ig_wh_cursor_coltype(const ig_wh_cursor *c, size_t col) { return c->drv->coltype(c, col); }
const char *ig_wh_cursor_coltype_name(const ig_wh_cursor *c, size_t col)
{
    return c->drv->coltype_name(c, col);
}
int ig_wh_cursor_next(ig_wh_cursor *c, ig_error *err) { return c->drv->next(c, err); }
const ig_value *ig_wh_cursor_value(ig_wh_cursor *c, size_t col) { return c->drv->value(c, col); }
int64_t ig_wh_cursor_rows_changed(const ig_wh_cursor *c) { return c->drv->rows_changed(c); }
bool ig_wh_cursor_is_query(const ig_wh_cursor *c) { return c->drv->is_query(c); }
const char *ig_wh_cursor_statement(const ig_wh_cursor *c) { return c->drv->statement(c); }
void ig_wh_cursor_close(ig_wh_cursor *c)
{
    if (c) c->drv->cursor_close(c);
}

ig_rc ig_wh_query_text(ig_wh *wh, const char *sql, char **out, ig_error *err)
{
    ig_wh_cursor *c;
    *out = NULL;
    ig_rc rc = ig_wh_query(wh, sql, &c, err);
    if (rc) return rc;
    int r = ig_wh_cursor_next(c, err);
    if (r < 0) rc = err ? err->code : IG_ERR_SQL;
    else if (r > 0 && ig_wh_cursor_ncols(c) > 0) {
        const ig_value *v = ig_wh_cursor_value(c, 0);
        if (!v->is_null) *out = ig_strndup(v->text, v->len);
    }
    ig_wh_cursor_close(c);
    return rc;
}

ig_rc ig_wh_query_int(ig_wh *wh, const char *sql, int64_t *out, ig_error *err)
{
    char *s;
    ig_rc rc = ig_wh_query_text(wh, sql, &s, err);
    if (rc) return rc;
    *out = s ? strtoll(s, NULL, 10) : 0;
    free(s);
    return IG_OK;
}

ig_rc ig_wh_begin(ig_wh *wh, ig_error *err) { return ig_wh_exec(wh, "BEGIN TRANSACTION", err); }
ig_rc ig_wh_commit(ig_wh *wh, ig_error *err) { return ig_wh_exec(wh, "COMMIT", err); }
ig_rc ig_wh_rollback(ig_wh *wh)
{
    ig_error e;
    ig_error_clear(&e);
    ig_rc rc = ig_wh_exec(wh, "ROLLBACK", &e);
    if (rc) ig_debug("wh.rollback", "rollback: %s", e.message);
    return rc;
}

ig_rc ig_wh_appender_open(ig_wh *wh, const char *schema, const char *table, ig_wh_appender **out,
                          ig_error *err)
{
    return wh->drv->appender_open(wh, schema, table, out, err);
}
ig_rc ig_wh_append_null(ig_wh_appender *a) { return a->drv->append_null(a); }
ig_rc ig_wh_append_bool(ig_wh_appender *a, bool v) { return a->drv->append_bool(a, v); }
ig_rc ig_wh_append_int(ig_wh_appender *a, int64_t v) { return a->drv->append_int(a, v); }
ig_rc ig_wh_append_double(ig_wh_appender *a, double v) { return a->drv->append_double(a, v); }
ig_rc ig_wh_append_text(ig_wh_appender *a, const char *s, size_t len)
{
    return a->drv->append_text(a, s, len);
}
ig_rc ig_wh_append_timestamp(ig_wh_appender *a, int64_t us) { return a->drv->append_timestamp(a, us); }
ig_rc ig_wh_append_end_row(ig_wh_appender *a, ig_error *err) { return a->drv->append_end_row(a, err); }
ig_rc ig_wh_appender_close(ig_wh_appender *a, ig_error *err)
{
    return a ? a->drv->appender_close(a, err) : IG_OK;
}

void ig_wh_interrupt(ig_wh *wh) { wh->drv->interrupt(wh); }

void ig__wh_quote_ident_std(ig_buf *b, const char *ident)
{
    ig_buf_putc(b, '"');
    for (const char *p = ident; *p; p++) {
        if (*p == '"') ig_buf_putc(b, '"');
        ig_buf_putc(b, *p);
    }
    ig_buf_putc(b, '"');
}

void ig__wh_quote_literal_std(ig_buf *b, const char *value)
{
    if (!value) {
        ig_buf_puts(b, "NULL");
        return;
    }
    ig_buf_putc(b, '\'');
    for (const char *p = value; *p; p++) {
        if (*p == '\'') ig_buf_putc(b, '\'');
        ig_buf_putc(b, *p);
    }
    ig_buf_putc(b, '\'');
}

void ig_wh_quote_ident(const ig_wh *wh, ig_buf *b, const char *ident) { wh->drv->quote_ident(wh, b, ident); }
void ig_wh_quote_literal(const ig_wh *wh, ig_buf *b, const char *value)
{
    wh->drv->quote_literal(wh, b, value);
}
void ig_wh_quote_relation(const ig_wh *wh, ig_buf *b, const char *schema, const char *name)
{
    if (schema && *schema) {
        ig_wh_quote_ident(wh, b, schema);
        ig_buf_putc(b, '.');
    }
    ig_wh_quote_ident(wh, b, name);
}

ig_rc ig_wh_list_relations(ig_wh *wh, const char *schema, ig_wh_relation **out, size_t *n,
                           ig_error *err)
{
    const char *sql =
        "SELECT table_schema, table_name, CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END "
        "FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND ($1 IS NULL OR table_schema = $1) ORDER BY 1, 2";
    ig_param p = schema ? IG_P_TEXT(schema) : IG_P_NULL;
    ig_wh_cursor *c;
    ig_rc rc = ig_wh_query_params(wh, sql, &p, 1, &c, err);
    if (rc) return rc;
    size_t cap = 16, cnt = 0;
    ig_wh_relation *r = ig_malloc(cap * sizeof *r);
    int got;
    while ((got = ig_wh_cursor_next(c, err)) > 0) {
        if (cnt == cap) r = ig_realloc(r, (cap *= 2) * sizeof *r);
        r[cnt].schema = ig_strdup(ig_wh_cursor_value(c, 0)->text);
        r[cnt].name = ig_strdup(ig_wh_cursor_value(c, 1)->text);
        r[cnt].kind = ig_strdup(ig_wh_cursor_value(c, 2)->text);
        cnt++;
    }
    ig_wh_cursor_close(c);
    if (got < 0) {
        ig_wh_relations_free(r, cnt);
        return err ? err->code : IG_ERR_SQL;
    }
    *out = r;
    *n = cnt;
    return IG_OK;
}

void ig_wh_relations_free(ig_wh_relation *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].schema);
        free(r[i].name);
        free(r[i].kind);
    }
    free(r);
}

bool ig_wh_relation_exists(ig_wh *wh, const char *schema, const char *name)
{
    ig_param p[2] = {IG_P_TEXT(schema), IG_P_TEXT(name)};
    ig_wh_cursor *c;
    if (ig_wh_query_params(wh,
                           "SELECT 1 FROM information_schema.tables WHERE table_catalog = "
                           "current_database() AND table_schema = $1 AND table_name = $2",
                           p, 2, &c, NULL))
        return false;
    bool found = ig_wh_cursor_next(c, NULL) > 0;
    ig_wh_cursor_close(c);
    return found;
}
