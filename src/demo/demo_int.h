/* Internal interface of the demo's pipeline: the SQL dialect table (one file
 * of SQL text per warehouse, sql_<driver>.c) and the steps, one function
 * each, that demo.c runs in order. Not for use outside src/demo/. */
#ifndef IG_DEMO_INT_H
#define IG_DEMO_INT_H

#include "demo/demo.h"

#include "core/buf.h"
#include "warehouse/warehouse.h"

/* A model: a SELECT whose result becomes schema.name. */
typedef struct ig_demo_model {
    const char *schema, *name, *sql;
} ig_demo_model;

/* Every piece of SQL the demo runs, in one warehouse's dialect. Templates
 * take {{placeholders}} that the pipeline fills with text already quoted by
 * ig_wh_quote_ident / ig_wh_quote_literal:
 *   bronze_csv, bronze_ndjson: {{relation}} {{path}} {{source_file}}
 *                              {{loaded_at}} {{batch_id}}
 *   materialize:               {{relation}} {{sql}}
 * The report queries return the columns report.c prints, in order. */
typedef struct ig_demo_dialect {
    const char *driver;
    const char *bronze_csv;
    const char *bronze_ndjson; /* web events; the column types live here */
    const char *materialize;
    const ig_demo_model *silver; /* terminated by {NULL} */
    const ig_demo_model *gold;   /* in build order; terminated by {NULL} */
    const char *report_revenue;  /* month, orders, revenue, bar (0..30) */
    const char *report_products; /* rank, name, category, units, revenue */
    const char *report_funnel;   /* step, sessions, pct_of_previous, pct_of_sessions */
} ig_demo_dialect;

extern const ig_demo_dialect ig__demo_sql_duckdb;

/* The dialect for an open warehouse; NULL when the demo has none for it. */
const ig_demo_dialect *ig__demo_dialect(const ig_wh *wh);

/* Timings and counts of one run, filled by the steps. */
typedef struct ig_demo_stats {
    int64_t raw_rows[IG_DEMO_NSTREAMS];
    uint64_t raw_bytes[IG_DEMO_NSTREAMS];
    int64_t layer_rows[3]; /* bronze, silver, gold */
    int layer_tables[3];
    uint64_t ns_generate, ns_bronze, ns_silver, ns_gold, ns_report;
} ig_demo_stats;

/* Progress and options shared by the steps. */
typedef struct ig_demo_ctx {
    const ig_demo_options *opt;
    const ig_demo_dialect *sql;
    ig_wh *wh;
    const char *lake; /* absolute lake folder */
    char batch_id[64];
    char loaded_at[40]; /* ISO UTC, when the batch was loaded */
    ig_demo_stats stats;
} ig_demo_ctx;

/* A progress line on stderr (plain on a terminal, a log line otherwise);
 * nothing when quiet. */
void ig__demo_progress(ig_demo_ctx *d, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "1,234,567" into out (>= 32 bytes). */
void ig__demo_thousands(char *out, size_t n, int64_t v);

/* The steps (pipeline.c). Each fills its part of d->stats. */
/* Generate the shop's data into <lake>/raw/demo/<stream>/dt=<date>/. Each
 * file is written under a temporary name, synced and renamed. */
ig_rc ig__demo_land(ig_demo_ctx *d, ig_error *err);
/* (Re)load bronze.demo__<stream> from the landed files, in one transaction.
 * Stand-in for the file-ingest layer: swap this function for it. */
ig_rc ig__demo_bronze(ig_demo_ctx *d, ig_error *err);
/* (Re)build the silver / gold models, one transaction per layer. Stand-in
 * for the dbt runner. */
ig_rc ig__demo_silver(ig_demo_ctx *d, ig_error *err);
ig_rc ig__demo_gold(ig_demo_ctx *d, ig_error *err);

/* Print the report from gold (report.c). */
ig_rc ig__demo_report(ig_demo_ctx *d, ig_error *err);

#endif
