/* The DuckDB dialect of the statements materializations need (dialect.h).
 * DuckDB has CREATE OR REPLACE, ALTER ... RENAME inside transactions, and
 * MERGE INTO (1.4), so every materialization is one transaction that either
 * lands whole or leaves the old relation as it was. */
#include "warehouse/dialect.h"

#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

void ig_wh_columns_free(ig_wh_columns *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->items[i].name);
        free(c->items[i].type);
    }
    free(c->items);
    c->items = NULL;
    c->n = 0;
}

static void q(const ig_wh *wh, ig_buf *b, const char *ident) { ig_wh_quote_ident(wh, b, ident); }

static void col_list(const ig_wh *wh, ig_buf *b, const char *prefix, const char *const *cols,
                     size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i) ig_buf_puts(b, ", ");
        if (prefix) ig_buf_printf(b, "%s.", prefix);
        q(wh, b, cols[i]);
    }
}

static void dk_create_view(const ig_wh *wh, ig_buf *b, const char *rel, const char *sql)
{
    ig_buf_printf(b, "create or replace view %s as (\n%s\n)", rel, sql);
}

static void dk_create_table_as(const ig_wh *wh, ig_buf *b, const char *rel, const char *sql,
                               bool temporary)
{
    ig_buf_printf(b, "create or replace %stable %s as (\n%s\n)", temporary ? "temporary " : "",
                  rel, sql);
}

static void dk_rename(const ig_wh *wh, ig_buf *b, const char *kind, const char *rel,
                      const char *new_ident)
{
    ig_buf_printf(b, "alter %s %s rename to ", strcmp(kind, "view") ? "table" : "view", rel);
    q(wh, b, new_ident);
}

static void dk_drop(const ig_wh *wh, ig_buf *b, const char *kind, const char *rel)
{
    ig_buf_printf(b, "drop %s if exists %s cascade", strcmp(kind, "view") ? "table" : "view", rel);
}

static void dk_create_schema(const ig_wh *wh, ig_buf *b, const char *database, const char *schema)
{
    ig_buf_puts(b, "create schema if not exists ");
    if (database && *database) {
        q(wh, b, database);
        ig_buf_putc(b, '.');
    }
    q(wh, b, schema);
}

static void dk_add_column(const ig_wh *wh, ig_buf *b, const char *rel, const char *col,
                          const char *type)
{
    ig_buf_printf(b, "alter table %s add column ", rel);
    q(wh, b, col);
    ig_buf_printf(b, " %s", type);
}

static void dk_drop_column(const ig_wh *wh, ig_buf *b, const char *rel, const char *col)
{
    ig_buf_printf(b, "alter table %s drop column ", rel);
    q(wh, b, col);
}

static void dk_alter_type(const ig_wh *wh, ig_buf *b, const char *rel, const char *col,
                          const char *type)
{
    ig_buf_printf(b, "alter table %s alter column ", rel);
    q(wh, b, col);
    ig_buf_printf(b, " type %s", type);
}

static void dk_insert_select(const ig_wh *wh, ig_buf *b, const char *target, const char *source,
                             const char *const *cols, size_t ncols)
{
    ig_buf_printf(b, "insert into %s (", target);
    col_list(wh, b, NULL, cols, ncols);
    ig_buf_puts(b, ")\nselect ");
    col_list(wh, b, NULL, cols, ncols);
    ig_buf_printf(b, "\nfrom %s", source);
}

static void dk_delete_insert(const ig_wh *wh, ig_buf *b, const char *target, const char *source,
                             const char *const *keys, size_t nkeys, const char *const *cols,
                             size_t ncols)
{
    if (nkeys == 1) {
        ig_buf_printf(b, "delete from %s\nwhere (", target);
        q(wh, b, keys[0]);
        ig_buf_puts(b, ") in (\n    select (");
        q(wh, b, keys[0]);
        ig_buf_printf(b, ")\n    from %s\n);\n", source);
    } else {
        ig_buf_printf(b, "delete from %s as DBT_INTERNAL_DEST\nusing %s as DBT_INTERNAL_SOURCE\nwhere ",
                      target, source);
        for (size_t i = 0; i < nkeys; i++) {
            if (i) ig_buf_puts(b, "\n    and ");
            ig_buf_puts(b, "DBT_INTERNAL_SOURCE.");
            q(wh, b, keys[i]);
            ig_buf_puts(b, " = DBT_INTERNAL_DEST.");
            q(wh, b, keys[i]);
        }
        ig_buf_puts(b, ";\n");
    }
    dk_insert_select(wh, b, target, source, cols, ncols);
}

static void dk_merge(const ig_wh *wh, ig_buf *b, const char *target, const char *source,
                     const char *const *keys, size_t nkeys, const char *const *cols, size_t ncols,
                     const char *const *upd, size_t nupd)
{
    ig_buf_printf(b, "merge into %s as DBT_INTERNAL_DEST\nusing %s as DBT_INTERNAL_SOURCE\non ",
                  target, source);
    if (!nkeys) ig_buf_puts(b, "(false)");
    for (size_t i = 0; i < nkeys; i++) {
        if (i) ig_buf_puts(b, " and ");
        ig_buf_puts(b, "(DBT_INTERNAL_SOURCE.");
        q(wh, b, keys[i]);
        ig_buf_puts(b, " = DBT_INTERNAL_DEST.");
        q(wh, b, keys[i]);
        ig_buf_puts(b, ")");
    }
    if (nkeys && nupd) {
        ig_buf_puts(b, "\nwhen matched then update set\n    ");
        for (size_t i = 0; i < nupd; i++) {
            if (i) ig_buf_puts(b, ",\n    ");
            q(wh, b, upd[i]);
            ig_buf_puts(b, " = DBT_INTERNAL_SOURCE.");
            q(wh, b, upd[i]);
        }
    }
    ig_buf_puts(b, "\nwhen not matched then insert (");
    col_list(wh, b, NULL, cols, ncols);
    ig_buf_puts(b, ")\nvalues (");
    col_list(wh, b, "DBT_INTERNAL_SOURCE", cols, ncols);
    ig_buf_puts(b, ")");
}

static ig_rc dk_get_columns(ig_wh *wh, const char *database, const char *schema, const char *name,
                            ig_wh_columns *out, ig_error *err)
{
    out->items = NULL;
    out->n = 0;
    /* duckdb_columns() sees temporary tables too (schema 'main' of catalog
     * 'temp'), which information_schema of the database does not. */
    const char *sql =
        "select column_name, data_type from duckdb_columns() "
        "where lower(table_name) = lower($1) and ($2 = '' or lower(schema_name) = lower($2)) "
        "and ($3 = '' or lower(database_name) = lower($3)) "
        "order by (database_name = 'temp') desc, column_index";
    ig_param ps[3] = {IG_P_TEXT(name), IG_P_TEXT(schema ? schema : ""),
                      IG_P_TEXT(database ? database : "")};
    ig_wh_cursor *c;
    ig_rc rc = ig_wh_query_params(wh, sql, ps, 3, &c, err);
    if (rc) return rc;
    size_t cap = 0;
    int r;
    while ((r = ig_wh_cursor_next(c, err)) == 1) {
        const ig_value *n = ig_wh_cursor_value(c, 0), *t = ig_wh_cursor_value(c, 1);
        if (n->is_null) continue;
        /* a temporary table shadows a table of the same name: keep the first set */
        bool dup = false;
        for (size_t i = 0; i < out->n && !dup; i++) dup = !strcmp(out->items[i].name, n->text);
        if (dup) continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            out->items = ig_realloc(out->items, cap * sizeof *out->items);
        }
        out->items[out->n].name = ig_strdup(n->text);
        out->items[out->n].type = ig_strdup(t->is_null ? "" : t->text);
        out->n++;
    }
    ig_wh_cursor_close(c);
    if (r < 0) {
        ig_wh_columns_free(out);
        return err->code ? err->code : IG_ERR_SQL;
    }
    return 0;
}

static ig_rc dk_current_database(ig_wh *wh, char **out, ig_error *err)
{
    return ig_wh_query_text(wh, "select current_database()", out, err);
}

static const ig_wh_dialect duckdb_dialect = {
    .name = "duckdb",
    .create_view = dk_create_view,
    .create_table_as = dk_create_table_as,
    .rename = dk_rename,
    .drop = dk_drop,
    .create_schema = dk_create_schema,
    .add_column = dk_add_column,
    .drop_column = dk_drop_column,
    .alter_column_type = dk_alter_type,
    .insert_select = dk_insert_select,
    .delete_insert = dk_delete_insert,
    .merge = dk_merge,
    .get_columns = dk_get_columns,
    .current_database = dk_current_database,
};

const ig_wh_dialect *ig_wh_dialect_of(const ig_wh *wh)
{
    (void)wh; /* one engine today; PostgreSQL adds a branch on ig_wh_driver_name */
    return &duckdb_dialect;
}
