/* Connectors: the Airbyte part of ingot. A connector reads a database or an
 * API and hands its records, in batches with a state, to the sync engine,
 * which lands them in the raw zone and bronze (and silver for deduplicated
 * streams) and commits each batch together with the state that covers it, in
 * one warehouse transaction.
 *
 * A connector type is a vtable (ig_conn_vtable) found by name in a registry
 * (registry.c), like curl's vtls/ backends: postgres, mysql (alias mariadb),
 * rest. Every connector has the same four operations:
 *   spec      the configuration keys it takes (a static table);
 *   check     can it connect, with a clear reason when not;
 *   discover  the streams, with columns, warehouse types, primary keys and
 *             cursor candidates;
 *   read      the records of one stream, from a cursor value or state, into an
 *             ig_conn_out; at safe points the connector checkpoints with the
 *             state that covers every record written so far.
 *
 * Lifetimes: an ig_conn lives in the arena given to ig_conn_open; the
 * connector's handles (PGconn, MYSQL, CURL) are released by ig_conn_close or
 * when that arena is freed. Streams returned by discover live in the same
 * arena. Not thread-safe: one ig_conn, one thread. */
#ifndef IG_CONN_H
#define IG_CONN_H

#include "core/arena.h"
#include "core/error.h"
#include "project/config.h"
#include "project/yaml.h"
#include "warehouse/warehouse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sync modes, as Airbyte defines them. */
typedef enum {
    IG_CONN_FULL_OVERWRITE, /* every sync replaces bronze with the whole source */
    IG_CONN_FULL_APPEND,    /* every sync appends the whole source */
    IG_CONN_INCR_APPEND,    /* rows with cursor >= last state are appended */
    IG_CONN_INCR_DEDUP,     /* as INCR_APPEND, plus silver keeps the latest row per key */
    IG_CONN_CDC,            /* change data capture: a snapshot, then every insert, update
                             * and delete from the source's log (bronze: each change with
                             * _ingot_op/_ingot_lsn; silver: the current rows) */
} ig_conn_mode;

/* The columns a cdc stream's records carry after the stream's own columns
 * (the sync engine appends them to the stream it hands the connector):
 *   _ingot_op     'r' snapshot row, 'c' insert, 'u' update, 'd' delete,
 *                 't' truncate (every other field NULL);
 *   _ingot_lsn    the source's log position of the change (0 for snapshot rows),
 *                 as an integer: changes of one key are ordered by it;
 *   _ingot_toast  NULL, or "|col|col|": columns the source did not send because
 *                 they did not change (PostgreSQL TOAST); the load fills them from
 *                 the key's previous row. */
#define IG_CONN_CDC_NCOLS 3

/* "full_refresh_overwrite" etc.; -1 when unknown. */
int ig_conn_mode_parse(const char *s);
const char *ig_conn_mode_name(ig_conn_mode m);

/* One column of a stream. How records carry it:
 *   the record is a CSV line (RFC 4180, empty unquoted field = NULL), one
 *   field per column in order. `csv_type` is the type the loader reads the
 *   field as; `load_expr` (may be NULL) a warehouse expression with one %s
 *   (the field) that turns it into wh_type, e.g. "from_base64(%s)". */
typedef struct ig_conn_column {
    const char *name;
    const char *source_type; /* as the source names it: "numeric(12,2)" */
    const char *wh_type;     /* warehouse type of the bronze column: "DECIMAL(12,2)" */
    const char *csv_type;    /* type read from the CSV field (wh_type or VARCHAR) */
    const char *load_expr;   /* NULL, or an expression of %s giving wh_type */
    const char *read_expr;   /* connector-private: the source-side select expression */
    bool nullable;
    bool cursor_ok;          /* can be a cursor (ordered scalar) */
    int kind;                /* connector-private rendering hint */
} ig_conn_column;

/* One stream (a table, or an API endpoint). */
typedef struct ig_conn_stream {
    const char *name;        /* as the user names it: "orders", "sales.orders" */
    const char *ns;          /* namespace (schema), may be NULL */
    const char *object;      /* the object in the source (table name, endpoint) */
    ig_conn_column *cols;
    size_t ncols;
    const char **pk;         /* primary key columns (may be empty) */
    size_t npk;
    const char *default_cursor; /* suggested cursor, or NULL */
    void *priv;              /* connector-private */
} ig_conn_stream;

typedef struct ig_conn_catalog {
    ig_conn_stream *streams;
    size_t n;
} ig_conn_catalog;

/* A configuration key of a connector type (for `ingot source spec`, key
 * checking, and the docs). */
typedef struct ig_conn_spec_key {
    const char *name;
    const char *type;   /* "string", "integer", "boolean", "list", "map" */
    bool required;
    bool secret;        /* must come from ${VAR} or a secrets file */
    const char *dflt;   /* default shown in help, or NULL */
    const char *help;
} ig_conn_spec_key;

typedef struct ig_conn ig_conn;
typedef struct ig_conn_out ig_conn_out;

/* What to read: one stream, from a state. */
typedef struct ig_conn_read {
    const ig_conn_stream *stream;
    ig_conn_mode mode;
    const char *cursor;       /* cursor column / field; NULL for full refresh */
    const char *cursor_value; /* read records with cursor >= this (NULL: all) */
    const char *state;        /* the connector's own state JSON, or NULL */
    const ig_yaml *stream_cfg; /* the stream's settings in ingot.yml, or NULL */
} ig_conn_read;

typedef struct ig_conn_vtable {
    const char *type;       /* "postgres" */
    const char *summary;
    const ig_conn_spec_key *spec; /* NULL-name terminated */
    /* Keys a stream's settings may have besides mode, cursor, primary_key,
     * deleted_column (NULL-terminated; NULL for none). */
    const char *const *stream_keys;
    /* Read the configuration (c->cfg) into c->priv; no network. */
    ig_rc (*open)(ig_conn *c, ig_error *err);
    ig_rc (*check)(ig_conn *c, ig_error *err);
    ig_rc (*discover)(ig_conn *c, ig_conn_catalog *out, ig_error *err);
    /* Write the records of rq->stream to out, calling ig_conn_out_checkpoint
     * at safe points and once at the end. */
    ig_rc (*read)(ig_conn *c, const ig_conn_read *rq, ig_conn_out *out, ig_error *err);
    void (*close)(ig_conn *c);
    /* NULL unless the connector supports IG_CONN_CDC. Release what a cdc
     * stream holds in the source (a replication slot) given its saved state
     * JSON (may be NULL); `ingot source reset` calls it. */
    ig_rc (*cdc_release)(ig_conn *c, const ig_conn_stream *st, const ig_yaml *stream_cfg,
                         const char *state, ig_error *err);
} ig_conn_vtable;

struct ig_conn {
    const ig_conn_vtable *vt;
    const char *name;        /* the source's name in ingot.yml */
    const ig_yaml *cfg;      /* its mapping */
    const ig_project *project; /* may be NULL (tests) */
    ig_arena *arena;
    void *priv;
};

/* The registry. */
const ig_conn_vtable *ig_conn_find_type(const char *type);
/* NULL-terminated list of every vtable (for help and docs). */
const ig_conn_vtable *const *ig_conn_types(void);

/* Keys every source takes besides its connector's spec. */
extern const char *const ig_conn_common_keys[];

/* Find source `name` in project->root's `sources:` and open it (config read
 * and checked against the spec; no network). Errors: IG_ERR_NOT_FOUND with
 * the nearest name suggested, IG_ERR_CONFIG at file:line:col. */
ig_rc ig_conn_open(ig_arena *a, const ig_project *p, const char *name, ig_conn **out,
                   ig_error *err);
/* Open from a YAML mapping directly (tests). */
ig_rc ig_conn_open_cfg(ig_arena *a, const char *name, const ig_yaml *cfg, ig_conn **out,
                       ig_error *err);
void ig_conn_close(ig_conn *c);

ig_rc ig_conn_check(ig_conn *c, ig_error *err);
/* Discover then apply the source's stream filters (include/exclude). */
ig_rc ig_conn_discover(ig_conn *c, ig_conn_catalog *out, ig_error *err);

/* Helpers for connectors reading their configuration. Each returns the
 * default when the key is absent; type errors point at the YAML. */
ig_rc ig_conn_cfg_str(const ig_conn *c, const char *key, const char *dflt, const char **out,
                      ig_error *err);
ig_rc ig_conn_cfg_int(const ig_conn *c, const char *key, long dflt, long *out, ig_error *err);
ig_rc ig_conn_cfg_bool(const ig_conn *c, const char *key, bool dflt, bool *out, ig_error *err);
/* A list of strings (a YAML list, or one string). *out allocated in c->arena. */
ig_rc ig_conn_cfg_list(const ig_conn *c, const char *key, const char ***out, size_t *n,
                       ig_error *err);
/* A secret: the value, which must have come from ${VAR} or the secrets file
 * (`secrets_file:` of the source, KEY=VALUE lines, key `<source>.<key>` or
 * `<key>`). A secret written in clear in ingot.yml is IG_ERR_CONFIG. */
ig_rc ig_conn_cfg_secret(const ig_conn *c, const char *key, const char **out, ig_error *err);

/* Glob match ('*' and '?') for stream filters. */
bool ig_conn_glob(const char *pattern, const char *s);

/* ---- Output of read (implemented by the sync engine, sync.c) ---- */

/* Append one record: a CSV line ending in '\n', one field per column of the
 * stream (REST streams carry the whole record as JSON in column `data`). */
ig_rc ig_conn_out_record(ig_conn_out *o, const char *rec, size_t n, ig_error *err);
/* True when the current batch is big enough that the connector should
 * checkpoint at its next safe point. */
bool ig_conn_out_full(const ig_conn_out *o);
/* Commit every record written so far with this state: cursor_value (text in
 * the source's own rendering; rows with cursor >= it are read next time) and
 * the connector's state JSON (may be NULL). Either may be NULL to keep the
 * previous one. */
ig_rc ig_conn_out_checkpoint(ig_conn_out *o, const char *cursor_value, const char *state,
                             ig_error *err);
/* Count a warning (e.g. a zero date kept as NULL); logged once per kind with
 * the count at the end of the stream. */
void ig_conn_out_warn(ig_conn_out *o, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* True when the user asked to stop (SIGINT/SIGTERM). */
bool ig_conn_out_interrupted(const ig_conn_out *o);

/* ---- Sync (sync.c) ---- */

typedef struct ig_conn_sync_opts {
    const char *stream;   /* only this stream, or NULL for every configured one */
    bool full_refresh;    /* reset state and reload from scratch */
    size_t batch_bytes;   /* checkpoint every this many bytes (0: 64 MiB) */
    size_t batch_rows;    /* ... or rows (0: no row limit) */
    bool quiet;
} ig_conn_sync_opts;

typedef struct ig_conn_sync_result {
    int64_t rows, bytes, batches;
    size_t streams, failed;
} ig_conn_sync_result;

/* Sync the source's configured streams into the warehouse wh. Each stream's
 * batches commit with their state; a failed stream is reported and the others
 * still run (the result counts them), the first error is returned. */
ig_rc ig_conn_sync(ig_conn *c, ig_wh *wh, const ig_conn_sync_opts *opt,
                   ig_conn_sync_result *res, ig_error *err);

/* `ingot source reset NAME [--stream S]`: forget the saved state of the
 * source's streams (or one), drop their bronze and silver tables, and release
 * what cdc streams hold in the source (replication slots). The next sync
 * starts from scratch. *n gets the number of streams reset. */
ig_rc ig_conn_reset(ig_conn *c, ig_wh *wh, const char *stream, size_t *n, ig_error *err);

/* The bronze table name of a stream: "<source>__<stream>" with characters
 * other than [a-z0-9_] turned to '_'. Allocated in a. */
const char *ig_conn_table_name(ig_arena *a, const char *source, const char *stream);

/* ---- Connector vtables (one file each) ---- */
extern const ig_conn_vtable ig_conn_postgres;
extern const ig_conn_vtable ig_conn_mysql;
extern const ig_conn_vtable ig_conn_rest;

#endif
