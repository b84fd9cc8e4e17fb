/* The demo: `ingot demo [DIR]` builds a small but complete data platform for
 * a fictional online shop. It scaffolds a project, generates the shop's data
 * (deterministic: same seed and scale, same bytes on any machine), lands it
 * as files in a drop folder, ingests them into bronze through the file-ingest
 * layer (a files source in the project's ingot.yml), builds silver and gold
 * with SQL, and prints a report that is read back from gold.
 *
 * Two halves, usable apart:
 *   - the generator (generate.c): pure C, no warehouse; writes each stream
 *     through an ig_demo_sink (files in drop/, or a hash in the tests);
 *   - the pipeline (demo.c, pipeline.c, report.c, sql_duckdb.c): one function
 *     per step, so that each step can be swapped for the real layer when it
 *     exists (file ingest for bronze now, the dbt runner for silver and gold
 *     next). */
#ifndef IG_DEMO_H
#define IG_DEMO_H

#include "core/error.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The streams the shop exports, in the order the generator writes them. */
enum {
    IG_DEMO_CUSTOMERS,
    IG_DEMO_PRODUCTS,
    IG_DEMO_ORDERS,
    IG_DEMO_ORDER_ITEMS,
    IG_DEMO_PAYMENTS,
    IG_DEMO_WEB_EVENTS,
    IG_DEMO_NSTREAMS
};

/* "customers", ... (the stream name, also the file and bronze table stem). */
const char *ig_demo_stream_name(int stream);
/* The generator's format of the stream: "csv" or "ndjson" (the demo lays
 * the products CSV out as a workbook when it writes the drop folder). */
const char *ig_demo_stream_format(int stream);

/* The demo's files source (bronze.demo__<stream>) and the shop's (fixed)
 * export date, written into the files, so they are as deterministic as the
 * bytes. */
#define IG_DEMO_SOURCE "demo"
#define IG_DEMO_EXPORT_DATE "2026-01-01"

typedef struct ig_demo_gen_options {
    uint64_t seed; /* any value; 42 is the documented default */
    double scale;  /* multiplies the row counts; 1.0 is ~20k customers, 60k orders */
} ig_demo_gen_options;

/* Where the generator's bytes go. Each stream is written completely before
 * the next begins (in enum order): write() is called with consecutive chunks
 * of one stream, then end() once with the stream's row count (data lines: not
 * the CSV header; a duplicated line counts twice). A non-zero return stops the generator and is
 * returned by ig_demo_generate. */
typedef struct ig_demo_sink {
    void *ctx;
    ig_rc (*write)(void *ctx, int stream, const char *data, size_t len, ig_error *err);
    ig_rc (*end)(void *ctx, int stream, int64_t rows, ig_error *err);
} ig_demo_sink;

/* Generate the shop's six streams into `sink`. Deterministic: the bytes
 * depend only on opt (integer arithmetic, own PRNG, no locale). Fails with
 * IG_ERR_USAGE when the scale is outside (0, 100], or with the sink's error.
 * Memory: a few tens of MB at scale 1, freed before returning. */
ig_rc ig_demo_generate(const ig_demo_gen_options *opt, const ig_demo_sink *sink, ig_error *err);

/* Write "12.34" for 1234 cents (and "-0.05" for -5) into out (>= 24 bytes).
 * Exposed for the tests; integer formatting, no floating point. */
void ig__demo_cents(char *out, size_t n, int64_t cents);

/* The whole demo, as `ingot demo` runs it. */
typedef struct ig_demo_options {
    const char *dir; /* project folder; created when missing */
    uint64_t seed;
    double scale;
    bool quiet;      /* no progress lines on stderr */
    bool no_report;  /* build everything, print no report */
    bool stdout_tty; /* report with Unicode bars */
    bool stderr_tty; /* progress as plain lines (else log lines) */
    FILE *out;       /* the report; stdout */
} ig_demo_options;

/* Create (or rebuild) the demo project in opt->dir: scaffold, generate into
 * drop/, ingest into bronze, build silver and gold, print the report. Rerunning
 * in the same folder rebuilds the same result. Refuses (IG_ERR_USAGE, with a
 * hint) a folder that holds another project or other files. Errors from the
 * warehouse (a lock held by `ingot serve`, SQL) pass through. */
ig_rc ig_demo_run(const ig_demo_options *opt, ig_error *err);

/* The pipeline the demo declares in its ingot.yml (ingest, then build). */
#define IG_DEMO_PIPELINE "shop"

#endif
