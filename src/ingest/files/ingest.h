/* File ingestion: CSV, TSV, JSON, NDJSON, Parquet and XLSX files (plain,
 * .gz or .zst) landed in the lake's raw zone and loaded into bronze.
 *
 *   ig_ingest_file        one local file: land it (copy + SHA-256 in one
 *                         pass), skip it when the same content is already
 *                         loaded into that stream, else load it into
 *                         bronze.<source>__<stream> exactly once.
 *   ig_ingest_batch       the same for a batch a caller has written itself
 *                         (an HTTP download, a connector page) through
 *                         ig_lake_batch_*; the batch may carry source state
 *                         committed with its load.
 *   ig_ingest_load_landed load a batch that is already in the raw zone,
 *                         with the options recorded in its manifest.
 *   ig_ingest_recover     load every batch a crash left landed but not
 *                         loaded (run before new work).
 *   ig_ingest_source      a source from ingot.yml (files, http_file); see
 *                         sources.h.
 *
 * Bronze tables hold the columns as received plus _ingot_batch_id,
 * _ingot_loaded_at, _ingot_source_file and _ingot_row_number; rows that
 * cannot be read go to bronze.<source>__<stream>__rejects. The SQL is built
 * through the warehouse's ingest dialect (warehouse/ingest_sql.h).
 * See docs/ingest.md (the user's page) and docs/internals/lake.md. */
#ifndef IG_INGEST_H
#define IG_INGEST_H

#include "core/arena.h"
#include "core/error.h"
#include "lake/lake.h"
#include "warehouse/ingest_sql.h"
#include "warehouse/warehouse.h"

#include <stdbool.h>
#include <stdint.h>

/* How to read and load a file. Initialise with ig_ingest_opts_init; every
 * string is borrowed for the call. */
typedef struct ig_ingest_opts {
    const char *source;         /* required: a valid lake name */
    const char *stream;         /* NULL: made from the file name */
    const char *format;         /* NULL or "auto": from the name, then the content;
                                 * "csv", "tsv", "json", "ndjson", "parquet", "xlsx" */
    /* xlsx */
    const char *sheet;          /* NULL: the first worksheet */
    long header_row;            /* 1-based sheet row of the header; 0: detect */
    /* csv / tsv: NULL / -1 means "let the sniffer decide" */
    const char *delimiter, *quote, *escape, *null_str;
    const char *date_format, *timestamp_format, *encoding;
    int header;                 /* -1 detect, 0 no header line, 1 header line */
    long skip_rows;
    bool all_varchar;           /* every column VARCHAR (no type detection) */
    bool null_padding;          /* short rows get NULLs instead of being rejected */
    const ig_wh_coltype *types; /* column type overrides (csv, tsv) */
    size_t ntypes;
    /* bad rows: the load fails when more are rejected than this */
    long max_bad_rows;          /* -1: no limit (default) */
    double max_bad_fraction;    /* of the file's rows; default 0.1; 1: no limit */
    bool external;              /* bronze is a view over the raw files */
    bool force;                 /* load even when the same content was loaded */
    /* origin and bookkeeping */
    const char *original_name;  /* default: the file's name */
    const char *state_json;     /* source state to commit with the load, {"key": value} */
    const char *run_id;         /* links the load to ingot.runs; NULL: none */
    int tty;                    /* progress: 1 bar, 0 log lines, -1 by isatty(2) */
    bool quiet;                 /* no progress output */
} ig_ingest_opts;

void ig_ingest_opts_init(ig_ingest_opts *o);

typedef enum {
    IG_INGEST_LOADED = 0,  /* loaded now */
    IG_INGEST_UNCHANGED,   /* the same content was already loaded: nothing done */
    IG_INGEST_FAILED,      /* landed, but the load failed (err says why) */
} ig_ingest_outcome;

typedef struct ig_ingest_result {
    ig_ingest_outcome outcome;
    char batch_id[40];      /* loaded: this batch; unchanged: the earlier one */
    char stream[64];
    char relation[160];     /* "bronze.src__stream" */
    int64_t rows_accepted, rows_rejected;
    uint64_t bytes;
    char sha256[65];
    char raw_path[1024];    /* the landed file ("" when unchanged) */
} ig_ingest_result;

/* Ingest one local file (see above). The format comes from o->format, else
 * the extension (.gz/.zst stripped), else the first bytes. On a load
 * failure the batch stays landed and recorded 'failed', res->outcome is
 * IG_INGEST_FAILED and the error is returned (IG_ERR_DATA for bad data,
 * with the file, the line and what to do). */
ig_rc ig_ingest_file(ig_lake *lake, ig_wh *wh, const char *path, const ig_ingest_opts *o,
                     ig_ingest_result *res, ig_error *err);

/* Seal, deduplicate (unless o->force), land and load a batch the caller
 * has written with ig_lake_batch_write. Takes ownership of b (freed). The
 * format must be known (o->format or o->original_name's extension). */
ig_rc ig_ingest_batch(ig_lake *lake, ig_wh *wh, ig_lake_batch *b, const ig_ingest_opts *o,
                      ig_ingest_result *res, ig_error *err);

/* Load a landed batch with the options its manifest recorded. */
ig_rc ig_ingest_load_landed(ig_lake *lake, ig_wh *wh, ig_lake_manifest *m, const char *run_id,
                            ig_ingest_result *res, ig_error *err);

/* Load every landed-but-not-loaded batch of source (NULL: all sources),
 * oldest first. Each failure is logged and counted; the call fails only
 * when the lake or warehouse cannot be read. */
ig_rc ig_ingest_recover(ig_lake *lake, ig_wh *wh, const char *source, size_t *nloaded,
                        size_t *nfailed, ig_error *err);

/* The format of a file from its name ("orders.csv.gz" -> "csv"), or NULL. */
const char *ig_ingest_format_from_name(const char *name);
/* True when fmt is one of the formats above. */
bool ig_ingest_format_valid(const char *fmt);

/* The options as a JSON object (what a manifest records), caller frees with
 * free(); and back, with strings allocated in arena a. */
char *ig_ingest_opts_to_json(const ig_ingest_opts *o);
ig_rc ig_ingest_opts_from_json(ig_arena *a, const char *json, ig_ingest_opts *o, ig_error *err);

#endif
