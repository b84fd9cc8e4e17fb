/* The SQL that file ingestion needs from a warehouse, as a dialect: how to
 * read files as a relation (DuckDB's read_csv / read_json / read_parquet,
 * with its sniffer and its rejects tables), how bad rows read back, and
 * how two column types widen into one. DuckDB's builders live in
 * ingest_sql.c; a PostgreSQL driver would provide its own set (COPY into
 * a staging table, its type names) behind the same struct, so nothing
 * outside src/warehouse/ writes engine-specific ingest SQL.
 *
 * Every identifier and literal goes through ig_wh_quote_ident /
 * ig_wh_quote_literal. Builders append to a caller-owned ig_buf. */
#ifndef IG_WH_INGEST_SQL_H
#define IG_WH_INGEST_SQL_H

#include "core/buf.h"
#include "core/error.h"
#include "warehouse/warehouse.h"

#include <stdbool.h>
#include <stddef.h>

/* A column name and a type name in the warehouse's dialect. */
typedef struct ig_wh_coltype {
    const char *name;
    const char *type;
} ig_wh_coltype;

/* How to read one or more files. Strings NULL/0 mean "let the engine
 * detect". */
typedef struct ig_wh_read_spec {
    const char *format;            /* "csv", "json", "ndjson", "parquet" */
    const char *const *paths;      /* absolute file paths (or globs when `glob`) */
    size_t npaths;
    bool glob;                     /* paths may hold * and ? (external tables) */
    /* csv */
    const char *delimiter, *quote, *escape, *null_str;
    const char *date_format, *timestamp_format, *encoding;
    int header;                    /* -1 detect, 0 none, 1 first line */
    long skip_rows;                /* 0: none */
    bool all_varchar, null_padding;
    long max_line_size;            /* bytes; 0: engine default */
    const ig_wh_coltype *types;    /* column type overrides (csv, json) */
    size_t ntypes;
    /* several files */
    bool union_by_name, filename;  /* filename: add a column "filename" */
    /* bad rows: for csv, the names of two session tables that receive the
     * rows that cannot be read (NULL: a bad row fails the read); for json,
     * ignore_errors skips bad records (the caller counts them itself) */
    const char *rejects_table, *rejects_scan;
    bool ignore_errors;
} ig_wh_read_spec;

typedef struct ig_wh_ingest_dialect {
    const char *name;
    /* Append a relation expression that reads the files (usable after FROM).
     * IG_ERR_USAGE for a format the engine cannot read. */
    ig_rc (*read_files)(const ig_wh *wh, ig_buf *b, const ig_wh_read_spec *spec, ig_error *err);
    /* Append a query returning the bad rows a read diverted, one row per bad
     * line: line BIGINT (1-based, of the file), raw VARCHAR (the line as
     * read), reason VARCHAR, column_name VARCHAR (or NULL), error_type
     * VARCHAR; ordered by line. */
    void (*rejects_query)(const ig_wh *wh, ig_buf *b, const char *rejects_table,
                          const char *rejects_scan);
    /* Append statements dropping the rejects session tables (if they exist). */
    void (*rejects_drop)(const ig_wh *wh, ig_buf *b, const char *rejects_table,
                         const char *rejects_scan);
    /* Append the widest of two type names into out (n bytes): the same type,
     * a wider number, TIMESTAMP for a date and a timestamp, and the text
     * type for anything else. */
    void (*widen)(const char *a, const char *b, char *out, size_t n);
    /* Append a statement creating or replacing view schema.name over a read
     * made with union_by_name and filename: the files' columns, then
     * _ingot_batch_id (from the raw file's name) and _ingot_source_file. */
    void (*external_view)(const ig_wh *wh, ig_buf *b, const char *schema, const char *name,
                          const char *read_expr);
    /* An expression numbering the rows of a scan in file order, 1-based. */
    const char *row_number_expr;
    /* Type names. */
    const char *text_type, *bigint_type, *double_type, *bool_type, *date_type,
        *timestamp_type, *time_type;
} ig_wh_ingest_dialect;

/* The dialect of a warehouse's driver; NULL when the driver has none
 * (then files cannot be ingested into it). Static; never freed. */
const ig_wh_ingest_dialect *ig_wh_ingest_dialect_of(const ig_wh *wh);

/* True when type name t is the dialect's text type (case-insensitive). */
bool ig_wh_type_is_text(const ig_wh_ingest_dialect *d, const char *t);

#endif
