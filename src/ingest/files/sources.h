/* File sources configured in ingot.yml under `sources:` (the section the
 * connectors share; these two types are read here):
 *
 *   type: files      a drop folder: `path:` and glob `pattern(s):`, one
 *                    stream (`stream:`, default the source's name) or
 *                    several (`streams: {name: {pattern: ...}}`); each run
 *                    picks up the files whose content it has not loaded.
 *   type: http_file  a published file (a Google Sheet as CSV, any CSV or
 *                    JSON URL) fetched with libcurl; ETag / Last-Modified
 *                    make an unchanged file cost one request and no load.
 *
 * Both take the format options of ig_ingest_opts (format, delimiter,
 * columns, max_bad_rows, external, ...) at source or stream level. See
 * docs/ingest.md. */
#ifndef IG_INGEST_SOURCES_H
#define IG_INGEST_SOURCES_H

#include "core/arena.h"
#include "ingest/files/ingest.h"
#include "project/config.h"

/* How a source run reports each file: called once per file (or URL) with
 * its result, rc and error (err is NULL when rc is 0). */
typedef void (*ig_ingest_report_fn)(void *ctx, const char *what, const ig_ingest_result *res,
                                    ig_rc rc, const ig_error *err);

typedef struct ig_ingest_run_opts {
    bool force;
    int tty;
    bool quiet;
    ig_ingest_report_fn report;
    void *report_ctx;
} ig_ingest_run_opts;

typedef struct ig_ingest_counts {
    size_t loaded, unchanged, failed;
    int64_t rows, rejected;
} ig_ingest_counts;

/* True when `name` is a source of type files or http_file in the project. */
bool ig_ingest_is_file_source(const ig_project *p, const char *name);

/* The names of the project's file sources (in file order), allocated in a. */
size_t ig_ingest_file_sources(ig_arena *a, const ig_project *p, const char ***names);

/* Check a file source's configuration (unknown keys with suggestions, types
 * of values), as `ingot validate` would. */
ig_rc ig_ingest_source_check(ig_arena *a, const ig_project *p, const char *name, ig_error *err);

/* Run source `name`: every new file of a files source, or the URL of an
 * http_file source. Counts add into *counts. Returns the first failure
 * (after trying every file); config errors stop before any work. */
ig_rc ig_ingest_source(ig_arena *a, const ig_project *p, ig_lake *lake, ig_wh *wh,
                       const char *name, const ig_ingest_run_opts *ro, ig_ingest_counts *counts,
                       ig_error *err);

#endif
