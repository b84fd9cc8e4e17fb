/* Internal interface of the demo's pipeline: the SQL dialect table (one file
 * of SQL text per warehouse, sql_<driver>.c) and the steps, one function
 * each, that demo.c runs in order. Not for use outside src/demo/. */
#ifndef IG_DEMO_INT_H
#define IG_DEMO_INT_H

#include "demo/demo.h"

#include "core/arena.h"
#include "core/buf.h"
#include "project/config.h"
#include "warehouse/warehouse.h"

/* The SQL the demo runs itself, in one warehouse's dialect. Templates take
 * {{placeholders}} that the pipeline fills with text already quoted by
 * ig_wh_quote_literal. Bronze is loaded by the ingest layers, silver and gold
 * by the dbt project (dbt_project.c). The report queries return the columns
 * report.c prints, in order. */
typedef struct ig_demo_dialect {
    const char *driver;
    const char *reset_loads; /* forget the demo source's batches: {{source}} */
    const char *report_revenue;  /* month, orders, revenue, bar (0..30) */
    const char *report_products; /* rank, name, category, units, revenue */
    const char *report_funnel;   /* step, sessions, pct_of_previous, pct_of_sessions */
} ig_demo_dialect;

extern const ig_demo_dialect ig__demo_sql_duckdb;

/* The dialect for an open warehouse; NULL when the demo has none for it. */
const ig_demo_dialect *ig__demo_dialect(const ig_wh *wh);

/* What `ingot build` of the demo's dbt project reported. */
typedef struct ig_demo_tests {
    int pass, warn, fail, error; /* data tests and unit tests */
    int seeds, snapshots;
    char first_warning[160]; /* "name (N rows)" */
} ig_demo_tests;

/* Timings and counts of one run, filled by the steps. */
typedef struct ig_demo_stats {
    int64_t raw_rows[IG_DEMO_NSTREAMS];
    uint64_t raw_bytes[IG_DEMO_NSTREAMS];
    int64_t layer_rows[3]; /* bronze, silver, gold */
    int layer_tables[3];
    uint64_t ns_generate, ns_collect, ns_bronze, ns_build, ns_report;
    ig_demo_tests tests;
} ig_demo_stats;

/* Progress and options shared by the steps. */
typedef struct ig_demo_ctx {
    const ig_demo_options *opt;
    const ig_demo_dialect *sql;
    ig_wh *wh;
    ig_arena *arena;           /* the run's (project load) */
    const ig_project *project; /* its ingot.yml declares the files source */
    const char *lake;          /* absolute lake folder */
    const char *drop;          /* absolute drop folder (<project>/drop) */
    char batch_id[64];         /* the run's id in ingot.runs */
    ig_demo_stats stats;
} ig_demo_ctx;

/* A progress line on stderr (plain on a terminal, a log line otherwise);
 * nothing when quiet. */
void ig__demo_progress(ig_demo_ctx *d, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "1,234,567" into out (>= 32 bytes). */
void ig__demo_thousands(char *out, size_t n, int64_t v);

/* The drop folder (relative to the project) and the files source that
 * watches it, as declared in the demo's ingot.yml. */
#define IG_DEMO_DROP "drop"
/* The web events do not go to drop/: they are posted to the collector
 * (collect.c) as the events source `web`, with this write key (the
 * environment variable, else the default, written as ${VAR:-default} in the
 * demo's ingot.yml), from this file beside the project (deleted once sent). */
#define IG_DEMO_WEB_SOURCE "web"
#define IG_DEMO_WEB_KEY_ENV "INGOT_DEMO_WRITE_KEY"
#define IG_DEMO_WEB_KEY_DEFAULT "demo-web-write-key"
#define IG_DEMO_WEB_EVENTS_FILE ".demo-web-events.ndjson"
/* The file a stream is exported as: "customers.csv", "products.xlsx",
 * "web_events.ndjson", ... (static storage). */
const char *ig__demo_file_name(int stream);

/* The steps. Each fills its part of d->stats. */
/* Generate the shop's data into the drop folder (drop.c): CSV, NDJSON and
 * the products workbook. Each file is written under a temporary name,
 * synced and renamed. */
ig_rc ig__demo_land(ig_demo_ctx *d, ig_error *err);
/* Forget what earlier runs loaded from the demo source (pipeline.c): its
 * bronze tables, its raw files and manifests, its rows in ingot.loads,
 * ingot.schema_changes and ingot.source_state. The demo rebuilds from
 * scratch; nothing else is touched. */
ig_rc ig__demo_reset(ig_demo_ctx *d, ig_error *err);
/* Ingest the drop folder through the files source `demo` of ingot.yml (the
 * same call as `ingot ingest demo`): each file lands in the raw zone with a
 * manifest and loads into bronze.demo__<stream>, one batch each. */
ig_rc ig__demo_bronze(ig_demo_ctx *d, ig_error *err);
/* The snapshot of the demo's dbt project (silver.customers_history). */
#define IG_DEMO_SNAPSHOT "customers_history"
/* Write the demo's dbt project (dbt_project.c) into the folder and build
 * it as `ingot build` does: silver and gold, the seed, the snapshot, the
 * tests (pipeline.c). */
ig_rc ig__demo_build(ig_demo_ctx *d, ig_error *err);

/* Print the report from gold (report.c). */
ig_rc ig__demo_report(ig_demo_ctx *d, ig_error *err);

/* Send the generated web events through `ingot serve` (collect.c): the
 * daemon takes the warehouse meanwhile, so d->wh is closed and reopened. */
ig_rc ig__demo_collect(ig_demo_ctx *d, ig_error *err);

#endif
