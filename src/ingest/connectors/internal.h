/* Internal to src/ingest/connectors/: the landing of batches (land.c: raw
 * files, bronze and silver loads, connector state in the warehouse) and small
 * helpers the connectors share (csv.c: CSV fields). Not for other layers.
 *
 * land.c holds the warehouse SQL of connector loads; sync.c runs it inside
 * the lake's batch commit (ig_lake_commit), so rows, silver and state share
 * one transaction (see docs/internals/connectors.md). */
#ifndef IG_CONN_INTERNAL_H
#define IG_CONN_INTERNAL_H

#include "core/buf.h"
#include "ingest/connectors/conn.h"

/* ---- csv.c ---- */

/* Append s (n bytes) as one CSV field: quoted when it holds ',', '"', CR,
 * LF or is empty (an empty unquoted field means NULL). */
void ig__conn_csv_field(ig_buf *b, const char *s, size_t n);
/* The text of field `idx` (0-based) of CSV line `line` (n bytes), unquoted,
 * into out (reset first). Returns 1 when found and not NULL, 0 when NULL
 * (empty unquoted), -1 when the line has fewer fields. */
int ig__conn_csv_get(const char *line, size_t n, size_t idx, ig_buf *out);
/* Lower-case hex of n bytes, appended. */
void ig__conn_hex(ig_buf *b, const unsigned char *p, size_t n);

/* ---- land.c ---- */

/* The saved state of one stream. Strings in the arena given to the reader. */
typedef struct ig__conn_state {
    bool found;
    const char *mode, *cursor_field, *cursor_value, *state, *columns, *load_id;
} ig__conn_state;

ig_rc ig__conn_state_get(ig_wh *wh, ig_arena *a, const char *source, const char *stream,
                         ig__conn_state *out, ig_error *err);
/* Upsert inside the caller's transaction. */
ig_rc ig__conn_state_put(ig_wh *wh, const char *source, const char *stream, const char *mode,
                         const char *cursor_field, const char *cursor_value, const char *state,
                         const char *columns, const char *load_id, ig_error *err);
ig_rc ig__conn_state_delete(ig_wh *wh, const char *source, const char *stream, ig_error *err);

/* The columns of a stream as the JSON the state keeps: [["id","BIGINT"],...]. */
const char *ig__conn_columns_json(ig_arena *a, const ig_conn_stream *st);
/* Compare the saved columns JSON with the stream's: IG_ERR_DATA naming the
 * first column whose type changed; *added gets the names of new columns
 * (allocated in a). */
ig_rc ig__conn_columns_diff(ig_arena *a, const char *saved, const ig_conn_stream *st,
                            const char ***added, size_t *nadded, ig_error *err);

/* What a load needs to know about its target. */
typedef struct ig__conn_target {
    const char *source, *stream; /* names */
    const char *table;           /* bronze/silver table name */
    const ig_conn_stream *st;
    ig_conn_mode mode;
    const char *cursor;          /* cursor column or NULL */
    const char **pk;
    size_t npk;
    const char *deleted;         /* deleted_column or NULL */
    const char *boundary;        /* cursor value the sync started from (dedup) or NULL */
    const char *load_id;
} ig__conn_target;

/* CREATE TABLE IF NOT EXISTS bronze (and silver for dedup), adding new
 * columns. In the caller's transaction. */
ig_rc ig__conn_ensure_tables(ig_wh *wh, ig_arena *a, const ig__conn_target *t,
                             const char **added, size_t nadded, ig_error *err);
/* Drop bronze and silver tables of the target (full refresh reset). */
ig_rc ig__conn_drop_tables(ig_wh *wh, ig_arena *a, const ig__conn_target *t, ig_error *err);
/* Load raw CSV files into bronze as batch `batch` (for overwrite the caller
 * has re-created the table), deduplicating the boundary rows, and merge into
 * silver for dedup streams. In the caller's transaction. *rows gets the rows
 * inserted into bronze. */
ig_rc ig__conn_load_files(ig_wh *wh, ig_arena *a, const ig__conn_target *t, int batch,
                          const char *const *files, size_t nfiles, int64_t *rows, ig_error *err);
/* Record a committed batch (ingot.connector_batches). */
ig_rc ig__conn_record_batch(ig_wh *wh, const ig__conn_target *t, int batch, const char *file,
                            int64_t rows, int64_t bytes, const char *sha256,
                            const char *cursor_value, ig_error *err);
/* Rebuild silver from all of bronze (after a full refresh of a dedup stream). */
ig_rc ig__conn_rebuild_silver(ig_wh *wh, ig_arena *a, const ig__conn_target *t, ig_error *err);

#endif
