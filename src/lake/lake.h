/* The lake's raw zone ("the bucket"): where every source lands what it
 * received, exactly as received, before anything is loaded. Files,
 * events, connector batches and API pages all land through this module.
 *
 * Layout (docs/internals/lake.md):
 *   <lake>/raw/<source>/<stream>/dt=YYYY-MM-DD/<batch-id>-<name>      the data
 *   <lake>/raw/<source>/<stream>/dt=YYYY-MM-DD/<batch-id>.manifest.json
 * A batch is written to a temporary name (".<batch-id>-<name>.tmp" in the
 * same folder) while its SHA-256 is computed in the same pass, fsynced,
 * renamed, the folder fsynced, then its manifest is written atomically.
 * Raw files are never modified after landing; only the manifest is
 * rewritten (status, counts, loaded time).
 *
 * Loading: ig_lake_commit runs the caller's load function (bronze tables)
 * and records the batch in ingot.loads, plus any source state the batch
 * carries, in ONE warehouse transaction. ingot.loads is the truth about
 * what is loaded; the manifest follows it. After a crash anywhere,
 * ig_lake_pending lists the landed batches that ingot.loads does not hold
 * as loaded, so a rerun loads each exactly once.
 *
 * Lifetimes: an ig_lake is opened per command (or per daemon) and closed by
 * the caller; an ig_lake_batch lives from begin to ig_lake_batch_free;
 * manifests returned in lists are freed with ig_lake_manifests_free.
 * Concurrency: one process writes a lake at a time (the warehouse's writer
 * lock is held while ingesting); recovery must not run while a batch of the
 * same lake is being written. */
#ifndef IG_LAKE_H
#define IG_LAKE_H

#include "core/error.h"
#include "core/progress.h"
#include "warehouse/warehouse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ig_lake ig_lake;
typedef struct ig_lake_batch ig_lake_batch;

/* Open the lake at `path` (the project's lake.path), creating raw/ when
 * missing. Caller frees with ig_lake_close. */
ig_rc ig_lake_open(const char *path, ig_lake **out, ig_error *err);
void ig_lake_close(ig_lake *lake);
/* Absolute <lake>/raw; borrowed. */
const char *ig_lake_raw_dir(const ig_lake *lake);

/* Source and stream names: [a-z0-9_]+, starting with a letter or '_', at
 * most 63 bytes (they become parts of table names and folders). */
bool ig_lake_name_valid(const char *s);
/* A valid name made from s (a file name stem): lower case, runs of other
 * characters to one '_', "s_" before a leading digit, "stream" when empty. */
void ig_lake_name_from(const char *s, char *out, size_t size);

/* What the lake knows about a batch: its manifest. Strings are owned by
 * the manifest. JSON fields are JSON texts (NULL when absent). */
typedef struct ig_lake_manifest {
    char batch_id[40];
    char *source, *stream;
    char *original_name;   /* the name it arrived with ("orders 2024.csv", a URL) */
    char *source_uri;      /* where it came from (absolute path, URL), or NULL */
    int64_t source_size;   /* size at the origin (-1: unknown) */
    int64_t source_mtime_us; /* modification time at the origin (0: unknown) */
    char *raw_path;        /* absolute path of the landed file */
    char *manifest_path;   /* absolute path of the manifest */
    char *format;          /* "csv", "ndjson", "xlsx", ... */
    uint64_t bytes;
    char sha256[65];       /* lower-case hex */
    int64_t received_us, loaded_us; /* loaded_us 0 until loaded */
    int64_t rows_accepted, rows_rejected; /* -1 until known */
    char *status;          /* "landed", "loaded", "failed" */
    char *message;         /* why it failed, or NULL */
    char *relation;        /* the bronze relation it was loaded into, or NULL */
    char *options_json;    /* how to load it (format options), as given at landing */
    char *state_json;      /* source state to commit with the load: {"key": value} */
    char *schema_json;     /* detected schema: [{"name": ..., "type": ...}] */
} ig_lake_manifest;

void ig_lake_manifest_free(ig_lake_manifest *m);
void ig_lake_manifests_free(ig_lake_manifest **m, size_t n);
/* Read a manifest file. IG_ERR_DATA when it is not one. Caller frees. */
ig_rc ig_lake_manifest_read(const char *path, ig_lake_manifest **out, ig_error *err);
/* Rewrite m's manifest file atomically from m. */
ig_rc ig_lake_manifest_write(const ig_lake_manifest *m, ig_error *err);

/* Start a batch for source/stream (valid names) named `original_name`
 * (only its last path component is used in the raw file name, made safe).
 * Opens the temporary file. Caller frees with ig_lake_batch_free (which
 * removes the temporary file when the batch was not landed). */
ig_rc ig_lake_batch_begin(ig_lake *lake, const char *source, const char *stream,
                          const char *original_name, ig_lake_batch **out, ig_error *err);
/* Append bytes (hashing them). */
ig_rc ig_lake_batch_write(ig_lake_batch *b, const void *data, size_t n, ig_error *err);
/* Append a whole file's bytes (copy and hash in one pass), reporting bytes
 * to prog (may be NULL). The file's size and mtime are recorded as the
 * batch's origin. Where the filesystem can share blocks (reflink) the copy
 * costs no space. */
ig_rc ig_lake_batch_copy_file(ig_lake_batch *b, const char *path, ig_progress *prog,
                              ig_error *err);
/* Take over a file the caller wrote (it must be on the lake's filesystem,
 * e.g. in ig_lake_tmp_dir): it is moved into the batch and hashed. The
 * batch must have no bytes written yet. */
ig_rc ig_lake_batch_adopt(ig_lake_batch *b, const char *path, ig_error *err);
/* Finish writing: fsync the data and finalise the hash. After this,
 * ig_lake_batch_sha256 is known (so the caller can skip a duplicate before
 * landing it). */
ig_rc ig_lake_batch_seal(ig_lake_batch *b, ig_error *err);
const char *ig_lake_batch_sha256(const ig_lake_batch *b);
uint64_t ig_lake_batch_bytes(const ig_lake_batch *b);
const char *ig_lake_batch_id(const ig_lake_batch *b);
/* Set where the batch came from (defaults: none / what copy_file saw). */
void ig_lake_batch_set_origin(ig_lake_batch *b, const char *uri, int64_t size, int64_t mtime_us);

/* Land a sealed batch: rename into place, fsync the folder, write the
 * manifest (status "landed") with format, load options and the source
 * state to commit with the load (JSON texts, may be NULL). The returned
 * manifest is borrowed from the batch (valid until ig_lake_batch_free);
 * ig_lake_batch_take_manifest transfers it to the caller. */
ig_rc ig_lake_batch_land(ig_lake_batch *b, const char *format, const char *options_json,
                         const char *state_json, ig_lake_manifest **m, ig_error *err);
ig_lake_manifest *ig_lake_batch_take_manifest(ig_lake_batch *b);
void ig_lake_batch_free(ig_lake_batch *b);

/* A folder on the lake's filesystem for callers that write a file before
 * adopting it (<lake>/tmp). Borrowed. */
const char *ig_lake_tmp_dir(const ig_lake *lake);

/* What a load function reports. */
typedef struct ig_lake_load_result {
    int64_t rows_accepted, rows_rejected;
    char *relation;     /* "bronze.src__stream" (malloc'd; the lake frees it) */
    char *schema_json;  /* detected schema (malloc'd; the lake frees it) */
    bool retry;         /* set with an error: roll back and call again (the load
                         * function changed its plan, e.g. widened a column) */
} ig_lake_load_result;

/* A load function: loads batch m into the warehouse inside the open
 * transaction (never begins or commits one itself). On failure it returns
 * an error; everything it did is rolled back. */
typedef ig_rc (*ig_lake_load_fn)(void *ctx, ig_wh *wh, const ig_lake_manifest *m,
                                 ig_lake_load_result *res, ig_error *err);

/* Load a landed batch exactly once: in one transaction, fn(...), then the
 * ingot.loads row ('loaded'), then m->state_json into ingot.source_state;
 * commit; then the manifest is rewritten with status, counts and loaded
 * time. On failure: rollback, an ingot.loads row 'failed' with the message
 * (outside the transaction), the manifest marked failed, and the error
 * returned. run_id (may be NULL) links the load to ingot.runs. m is
 * updated in place. */
ig_rc ig_lake_commit(ig_lake *lake, ig_wh *wh, ig_lake_manifest *m, ig_lake_load_fn fn, void *ctx,
                     const char *run_id, ig_error *err);

/* Record batch m in ingot.loads with a status of the caller's ("duplicate"
 * for a batch whose content another batch already loaded), outside any
 * transaction; the manifest is updated too. Batches recorded 'loaded' or
 * 'duplicate' are never pending. */
ig_rc ig_lake_record(ig_wh *wh, ig_lake_manifest *m, const char *status, const char *message,
                     const char *run_id, ig_error *err);

/* The batch of source/stream whose content hash is sha256 and that is
 * loaded, if any: *found, and its id in batch_id (>= 40 bytes). */
ig_rc ig_lake_find_loaded(ig_wh *wh, const char *source, const char *stream, const char *sha256,
                          bool *found, char *batch_id, ig_error *err);
/* A loaded batch of source/stream that came from uri with this size and
 * mtime (a cheap "unchanged" check before hashing). */
ig_rc ig_lake_find_loaded_origin(ig_wh *wh, const char *source, const char *stream,
                                 const char *uri, int64_t size, int64_t mtime_us, bool *found,
                                 char *batch_id, ig_error *err);

/* Landed batches not loaded (not in ingot.loads as 'loaded'), oldest first,
 * for source (NULL: all sources) — what a crash left behind. Also:
 * temporary files of unfinished batches are removed; a raw file whose
 * manifest is missing (a crash between rename and manifest) gets one
 * rebuilt by hashing it; a manifest that lags ingot.loads is updated.
 * include_failed: also list batches whose last load failed. Caller frees
 * with ig_lake_manifests_free. */
ig_rc ig_lake_pending(ig_lake *lake, ig_wh *wh, const char *source, bool include_failed,
                      ig_lake_manifest ***out, size_t *n, ig_error *err);

/* The state value (JSON text) stored for source/stream/key, or NULL in
 * *out when none; caller frees with free(). */
ig_rc ig_lake_state_get(ig_wh *wh, const char *source, const char *stream, const char *key,
                        char **out, ig_error *err);

#endif
