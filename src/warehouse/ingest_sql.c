/* DuckDB's ingest SQL: read_csv / read_json / read_parquet with their
 * options, the rejects tables of read_csv, and type widening over DuckDB's
 * type names. See ingest_sql.h. */
#include "warehouse/ingest_sql.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static void opt_str(const ig_wh *wh, ig_buf *b, const char *name, const char *v)
{
    if (!v) return;
    ig_buf_printf(b, ", %s=", name);
    ig_wh_quote_literal(wh, b, v);
}

static void path_list(const ig_wh *wh, ig_buf *b, const ig_wh_read_spec *s)
{
    ig_buf_putc(b, '[');
    for (size_t i = 0; i < s->npaths; i++) {
        if (i) ig_buf_puts(b, ", ");
        ig_wh_quote_literal(wh, b, s->paths[i]);
    }
    ig_buf_putc(b, ']');
}

static void types_struct(const ig_wh *wh, ig_buf *b, const ig_wh_read_spec *s)
{
    if (!s->ntypes) return;
    ig_buf_puts(b, ", types={");
    for (size_t i = 0; i < s->ntypes; i++) {
        if (i) ig_buf_puts(b, ", ");
        ig_wh_quote_literal(wh, b, s->types[i].name);
        ig_buf_puts(b, ": ");
        ig_wh_quote_literal(wh, b, s->types[i].type);
    }
    ig_buf_putc(b, '}');
}

static ig_rc duck_read_files(const ig_wh *wh, ig_buf *b, const ig_wh_read_spec *s, ig_error *err)
{
    const char *f = s->format ? s->format : "csv";
    if (!strcmp(f, "csv") || !strcmp(f, "tsv")) {
        ig_buf_puts(b, "read_csv(");
        path_list(wh, b, s);
        opt_str(wh, b, "delim", s->delimiter ? s->delimiter : !strcmp(f, "tsv") ? "\t" : NULL);
        opt_str(wh, b, "quote", s->quote);
        opt_str(wh, b, "escape", s->escape);
        opt_str(wh, b, "nullstr", s->null_str);
        opt_str(wh, b, "dateformat", s->date_format);
        opt_str(wh, b, "timestampformat", s->timestamp_format);
        opt_str(wh, b, "encoding", s->encoding);
        if (s->header >= 0) ig_buf_printf(b, ", header=%s", s->header ? "true" : "false");
        if (s->skip_rows > 0) ig_buf_printf(b, ", skip=%ld", s->skip_rows);
        if (s->all_varchar) ig_buf_puts(b, ", all_varchar=true");
        if (s->null_padding) ig_buf_puts(b, ", null_padding=true");
        if (s->max_line_size > 0) ig_buf_printf(b, ", max_line_size=%ld", s->max_line_size);
        types_struct(wh, b, s);
        if (s->union_by_name) ig_buf_puts(b, ", union_by_name=true");
        if (s->filename) ig_buf_puts(b, ", filename=true");
        ig_buf_puts(b, ", hive_partitioning=false");
        if (s->rejects_table) {
            ig_buf_puts(b, ", store_rejects=true");
            opt_str(wh, b, "rejects_table", s->rejects_table);
            opt_str(wh, b, "rejects_scan", s->rejects_scan);
        } else if (s->ignore_errors) {
            ig_buf_puts(b, ", ignore_errors=true");
        }
        ig_buf_putc(b, ')');
        return IG_OK;
    }
    if (!strcmp(f, "json") || !strcmp(f, "ndjson")) {
        ig_buf_puts(b, "read_json(");
        path_list(wh, b, s);
        ig_buf_printf(b, ", format='%s'", !strcmp(f, "ndjson") ? "newline_delimited" : "auto");
        ig_buf_puts(b, ", maximum_object_size=268435456, hive_partitioning=false");
        if (s->union_by_name) ig_buf_puts(b, ", union_by_name=true");
        if (s->filename) ig_buf_puts(b, ", filename=true");
        if (s->ignore_errors) ig_buf_puts(b, ", ignore_errors=true");
        ig_buf_putc(b, ')');
        return IG_OK;
    }
    if (!strcmp(f, "parquet")) {
        ig_buf_puts(b, "read_parquet(");
        path_list(wh, b, s);
        ig_buf_puts(b, ", hive_partitioning=false");
        if (s->union_by_name) ig_buf_puts(b, ", union_by_name=true");
        if (s->filename) ig_buf_puts(b, ", filename=true");
        ig_buf_putc(b, ')');
        return IG_OK;
    }
    return ig_err(err, IG_ERR_USAGE, "the warehouse cannot read %s files directly", f);
}

static void duck_rejects_query(const ig_wh *wh, ig_buf *b, const char *rt, const char *rs)
{
    /* One row per bad line: a line can fail on several columns; keep the
     * first error of each line and list the others in the reason. */
    ig_buf_puts(b, "SELECT line::BIGINT AS line, any_value(csv_line) AS raw, "
                   "string_agg(error_message, '; ' ORDER BY column_idx) AS reason, "
                   "min(column_name) AS column_name, min(error_type::VARCHAR) AS error_type FROM ");
    ig_wh_quote_ident(wh, b, rt);
    ig_buf_puts(b, " GROUP BY line ORDER BY line");
    (void)rs;
}

static void duck_rejects_drop(const ig_wh *wh, ig_buf *b, const char *rt, const char *rs)
{
    ig_buf_puts(b, "DROP TABLE IF EXISTS ");
    ig_wh_quote_ident(wh, b, rt);
    ig_buf_puts(b, "; DROP TABLE IF EXISTS ");
    ig_wh_quote_ident(wh, b, rs);
    ig_buf_puts(b, ";");
}

static void duck_external_view(const ig_wh *wh, ig_buf *b, const char *schema, const char *name,
                               const char *read_expr)
{
    ig_buf_puts(b, "CREATE OR REPLACE VIEW ");
    ig_wh_quote_relation(wh, b, schema, name);
    ig_buf_printf(b, " AS SELECT * EXCLUDE (filename), regexp_extract(filename, "
                     "'(\\d{8}T\\d{12}-[0-9a-f]{8})-[^/]*$', 1) AS _ingot_batch_id, "
                     "filename AS _ingot_source_file FROM %s", read_expr);
}

/* Rank of an exact numeric type (0: not one). */
static int int_rank(const char *t)
{
    static const char *ints[] = {"BOOLEAN_NOT", "TINYINT", "UTINYINT", "SMALLINT", "USMALLINT",
                                 "INTEGER", "UINTEGER", "BIGINT", "UBIGINT", "HUGEINT", NULL};
    for (int i = 1; ints[i]; i++)
        if (!strcasecmp(t, ints[i])) return i;
    return 0;
}

static bool is_float(const char *t)
{
    return !strcasecmp(t, "DOUBLE") || !strcasecmp(t, "FLOAT") || !strncasecmp(t, "DECIMAL", 7);
}

static bool is_time_like(const char *t)
{
    return !strcasecmp(t, "DATE") || !strncasecmp(t, "TIMESTAMP", 9);
}

static void duck_widen(const char *a, const char *b, char *out, size_t n)
{
    if (!strcasecmp(a, b)) snprintf(out, n, "%s", a);
    else if (!strcasecmp(a, "NULL") || !strcasecmp(a, "\"NULL\"")) snprintf(out, n, "%s", b);
    else if (!strcasecmp(b, "NULL") || !strcasecmp(b, "\"NULL\"")) snprintf(out, n, "%s", a);
    else if (int_rank(a) && int_rank(b)) snprintf(out, n, "%s", int_rank(a) > int_rank(b) ? a : b);
    else if ((int_rank(a) || is_float(a)) && (int_rank(b) || is_float(b))) snprintf(out, n, "DOUBLE");
    else if (is_time_like(a) && is_time_like(b)) {
        bool tz = strstr(a, "TIME ZONE") || strstr(b, "TIME ZONE") || !strcasecmp(a, "TIMESTAMPTZ") ||
                  !strcasecmp(b, "TIMESTAMPTZ");
        snprintf(out, n, "%s", tz ? "TIMESTAMP WITH TIME ZONE" : "TIMESTAMP");
    } else snprintf(out, n, "VARCHAR");
}

static const ig_wh_ingest_dialect duck_dialect = {
    .name = "duckdb",
    .read_files = duck_read_files,
    .rejects_query = duck_rejects_query,
    .rejects_drop = duck_rejects_drop,
    .widen = duck_widen,
    .external_view = duck_external_view,
    .row_number_expr = "row_number() OVER ()",
    .text_type = "VARCHAR",
    .bigint_type = "BIGINT",
    .double_type = "DOUBLE",
    .bool_type = "BOOLEAN",
    .date_type = "DATE",
    .timestamp_type = "TIMESTAMP",
    .time_type = "TIME",
};

const ig_wh_ingest_dialect *ig_wh_ingest_dialect_of(const ig_wh *wh)
{
    if (!strcmp(ig_wh_driver_name(wh), "duckdb")) return &duck_dialect;
    return NULL;
}

bool ig_wh_type_is_text(const ig_wh_ingest_dialect *d, const char *t)
{
    return t && !strcasecmp(t, d->text_type);
}
