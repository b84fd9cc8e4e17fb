/* The warehouse interface. Everything in ingot talks to the warehouse through
 * this header; only the driver files in this folder include duckdb.h (later
 * libpq for PostgreSQL, and a distributed engine). A driver is a vtable
 * (ig_wh_driver) found by name in a registry.
 *
 * Objects and lifetimes:
 *   ig_wh         one connection to an opened warehouse. ig_wh_open opens the
 *                 database and its first connection; ig_wh_clone makes another
 *                 connection to the same database (for parallel work, one per
 *                 thread). Close every clone and the original with ig_wh_close;
 *                 the database closes with its last connection.
 *   ig_wh_cursor  a streaming result: rows are fetched chunk by chunk, a large
 *                 result is never held whole. Values are borrowed until the
 *                 next ig_wh_cursor_next. Close with ig_wh_cursor_close.
 *   ig_wh_appender bulk row insertion into one table.
 * One ig_wh (and its cursors/appenders) is used by one thread at a time. */
#ifndef IG_WAREHOUSE_H
#define IG_WAREHOUSE_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ig_wh ig_wh;
typedef struct ig_wh_cursor ig_wh_cursor;
typedef struct ig_wh_appender ig_wh_appender;

/* Logical types of result values, as output writers need to know them. */
typedef enum {
    IG_T_NULL,      /* type unknown / always NULL */
    IG_T_BOOL,
    IG_T_INT,       /* signed 64-bit or smaller: v.i */
    IG_T_BIGNUM,    /* integer that may not fit 64 bits (hugeint, ubigint): text only */
    IG_T_DOUBLE,    /* float, double: v.d */
    IG_T_DECIMAL,   /* exact decimal: text, and v.d as a double approximation */
    IG_T_TEXT,
    IG_T_BLOB,      /* text is an escaped form (\xAB) */
    IG_T_DATE,      /* v.i = days since 1970-01-01 */
    IG_T_TIME,      /* v.i = microseconds since midnight */
    IG_T_TIMESTAMP, /* v.i = microseconds since the epoch, no time zone */
    IG_T_TIMESTAMPTZ, /* v.i = microseconds since the epoch, UTC */
    IG_T_INTERVAL,  /* text only */
    IG_T_UUID,      /* text only */
    IG_T_JSON,      /* text is JSON */
    IG_T_NESTED,    /* list, struct, map, array, union: text is the warehouse's rendering */
} ig_type;

/* One value of a result row. `text`/`len` are always set for a non-NULL
 * value (the display form); the typed members as the type says. Borrowed
 * until the next ig_wh_cursor_next or close. */
typedef struct ig_value {
    ig_type type;
    bool is_null;
    bool b;
    int64_t i;
    double d;
    const char *text;
    size_t len;
} ig_value;

/* A parameter bound to a statement ($1, $2, ... or ?). */
typedef struct ig_param {
    ig_type type; /* IG_T_NULL, IG_T_BOOL, IG_T_INT, IG_T_DOUBLE, IG_T_TEXT, IG_T_TIMESTAMP */
    bool b;
    int64_t i;
    double d;
    const char *text;
} ig_param;

#define IG_P_TEXT(s) ((ig_param){.type = IG_T_TEXT, .text = (s)})
#define IG_P_INT(v) ((ig_param){.type = IG_T_INT, .i = (v)})
#define IG_P_DOUBLE(v) ((ig_param){.type = IG_T_DOUBLE, .d = (v)})
#define IG_P_BOOL(v) ((ig_param){.type = IG_T_BOOL, .b = (v)})
#define IG_P_NULL ((ig_param){.type = IG_T_NULL})
/* microseconds since the epoch, UTC */
#define IG_P_TS(v) ((ig_param){.type = IG_T_TIMESTAMP, .i = (v)})

typedef struct ig_wh_options {
    const char *driver;       /* "duckdb" (default) */
    const char *path;         /* database file; ":memory:" for in-memory */
    bool read_only;
    int threads;              /* 0: the engine's default */
    const char *memory_limit; /* e.g. "4GB"; NULL: default */
    const char *temp_directory; /* where work beyond memory_limit spills; NULL: <path>.tmp */
    bool no_migrate;          /* open without creating schemas / running migrations */
} ig_wh_options;

/* Open a warehouse: the database file (created if missing unless read_only),
 * then schemas bronze/silver/gold/ingot and the platform tables through the
 * numbered migrations (unless no_migrate). Errors, each with a hint:
 *   IG_ERR_LOCKED  another process holds the file (its pid is named);
 *   IG_ERR_DATA    the file is not a warehouse of this engine;
 *   IG_ERR_VERSION the file was written by a newer ingot (left untouched).
 * Caller closes with ig_wh_close. */
ig_rc ig_wh_open(const ig_wh_options *opt, ig_wh **out, ig_error *err);
/* Another connection to the same database; close with ig_wh_close. */
ig_rc ig_wh_clone(ig_wh *wh, ig_wh **out, ig_error *err);
void ig_wh_close(ig_wh *wh);

/* The driver's name ("duckdb"), and its engine version string. */
const char *ig_wh_driver_name(const ig_wh *wh);
const char *ig_wh_engine_version(const ig_wh *wh);
/* The schema version this ingot writes (the highest migration). */
int ig_wh_schema_version(void);

/* Run one or more statements, discarding results. On a SQL error, err gets
 * the engine's message, IG_ERR_SQL, and err->column the 1-based character
 * position in `sql` when the engine reports one. */
ig_rc ig_wh_exec(ig_wh *wh, const char *sql, ig_error *err);
/* Run one statement with bound parameters; *changed (may be NULL) receives
 * the rows changed. */
ig_rc ig_wh_exec_params(ig_wh *wh, const char *sql, const ig_param *params, size_t nparams,
                        int64_t *changed, ig_error *err);

/* Run SQL (one or more statements; the result of the last one streams) and
 * open a cursor on its result. Caller closes with ig_wh_cursor_close. */
ig_rc ig_wh_query(ig_wh *wh, const char *sql, ig_wh_cursor **out, ig_error *err);
ig_rc ig_wh_query_params(ig_wh *wh, const char *sql, const ig_param *params, size_t nparams,
                         ig_wh_cursor **out, ig_error *err);
size_t ig_wh_cursor_ncols(const ig_wh_cursor *c);
const char *ig_wh_cursor_colname(const ig_wh_cursor *c, size_t col);
ig_type ig_wh_cursor_coltype(const ig_wh_cursor *c, size_t col);
/* The engine's name for the column type ("DECIMAL(18,2)", "VARCHAR"). */
const char *ig_wh_cursor_coltype_name(const ig_wh_cursor *c, size_t col);
/* Advance to the next row: 1 when there is one, 0 at the end, -1 on error
 * (err filled). */
int ig_wh_cursor_next(ig_wh_cursor *c, ig_error *err);
/* Borrowed until the next ig_wh_cursor_next. */
const ig_value *ig_wh_cursor_value(ig_wh_cursor *c, size_t col);
/* Rows changed, for statements that are not queries (INSERT, UPDATE, ...). */
int64_t ig_wh_cursor_rows_changed(const ig_wh_cursor *c);
/* Whether the statement returns rows (a query) or a count of changed rows. */
bool ig_wh_cursor_is_query(const ig_wh_cursor *c);
/* The kind of the statement that produced the result, in upper case:
 * "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "COPY",
 * "SET", "TRANSACTION", ... or "OTHER". Static storage. */
const char *ig_wh_cursor_statement(const ig_wh_cursor *c);
void ig_wh_cursor_close(ig_wh_cursor *c);

/* Convenience: the first column of the first row as text (caller frees with
 * free()), or NULL when there is no row or it is NULL. */
ig_rc ig_wh_query_text(ig_wh *wh, const char *sql, char **out, ig_error *err);
ig_rc ig_wh_query_int(ig_wh *wh, const char *sql, int64_t *out, ig_error *err);

/* Transactions. */
ig_rc ig_wh_begin(ig_wh *wh, ig_error *err);
ig_rc ig_wh_commit(ig_wh *wh, ig_error *err);
ig_rc ig_wh_rollback(ig_wh *wh); /* never fails loudly; logs */

/* Bulk append to schema.table. Values are given per column in order; end
 * each row with ig_wh_append_end_row. Nothing is visible until
 * ig_wh_appender_close flushes (inside the current transaction, if any). */
ig_rc ig_wh_appender_open(ig_wh *wh, const char *schema, const char *table,
                          ig_wh_appender **out, ig_error *err);
ig_rc ig_wh_append_null(ig_wh_appender *a);
ig_rc ig_wh_append_bool(ig_wh_appender *a, bool v);
ig_rc ig_wh_append_int(ig_wh_appender *a, int64_t v);
ig_rc ig_wh_append_double(ig_wh_appender *a, double v);
ig_rc ig_wh_append_text(ig_wh_appender *a, const char *s, size_t len);
ig_rc ig_wh_append_timestamp(ig_wh_appender *a, int64_t us_since_epoch);
ig_rc ig_wh_append_end_row(ig_wh_appender *a, ig_error *err);
/* Flush and destroy. Returns the flush error, if any. */
ig_rc ig_wh_appender_close(ig_wh_appender *a, ig_error *err);

/* Stop the statement running on this connection (from another thread or a
 * signal handler's helper thread). */
void ig_wh_interrupt(ig_wh *wh);

/* Quoting: every identifier and every literal that reaches SQL goes through
 * these (in this warehouse's dialect). */
void ig_wh_quote_ident(const ig_wh *wh, ig_buf *b, const char *ident);
void ig_wh_quote_literal(const ig_wh *wh, ig_buf *b, const char *value);
/* schema.name, both quoted. */
void ig_wh_quote_relation(const ig_wh *wh, ig_buf *b, const char *schema, const char *name);

/* Relations (tables and views) in a schema, or in every schema when schema
 * is NULL. */
typedef struct ig_wh_relation {
    char *schema, *name, *kind; /* kind: "table" or "view" */
} ig_wh_relation;
ig_rc ig_wh_list_relations(ig_wh *wh, const char *schema, ig_wh_relation **out, size_t *n,
                           ig_error *err);
void ig_wh_relations_free(ig_wh_relation *r, size_t n);
bool ig_wh_relation_exists(ig_wh *wh, const char *schema, const char *name);

#endif
