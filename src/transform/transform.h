/* The transform layer: dbt projects run by ingot, without Python.
 *
 * A dbt project (dbt_project.yml, models, macros, properties YAML, local
 * packages in dbt_packages/) is loaded, its templates are parsed once and
 * rendered with dbt's context by the template engine (src/tmpl/), the DAG
 * of ref() and source() is built, models are compiled to SQL and
 * materialized in the warehouse (view, table, incremental, ephemeral) by
 * `--threads N` workers, each on its own warehouse connection.
 *
 * Callers: `ingot compile|run|parse|deps|seed|snapshot|test|build` and
 * `ingot source freshness` (src/cli/cmd_transform.c), the
 * orchestrator's build/run task kinds, the demo. Each entry point loads the
 * project afresh and frees everything before it returns, so calls are
 * independent; they are not meant to run concurrently on one warehouse
 * connection. */
#ifndef IG_TRANSFORM_H
#define IG_TRANSFORM_H

#include "core/error.h"
#include "project/config.h"
#include "warehouse/warehouse.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct ig_transform_options {
    /* dbt project folder; NULL: project->transform.project_dir, else the
     * ingot project's folder, else the current directory */
    const char *project_dir;
    const char *profiles_dir; /* NULL: --profiles-dir search as dbt does */
    const char *target;       /* NULL: the profile's default target */
    const char *profile;      /* NULL: dbt_project.yml's `profile:` */
    const char *vars;         /* --vars: a YAML or JSON mapping, or NULL */
    /* Node selection: space-separated names, `+name` / `name+` for
     * ancestors / descendants, `path:DIR` (select.c extends the grammar);
     * NULL: every node of the kinds the entry point runs. Tests of a
     * selected node are selected too (dbt's indirect selection, eager). */
    const char *select;
    const char *exclude;
    const char *selector; /* --selector: a name from selectors.yml, or NULL */
    const char *state;    /* --state DIR: a previous target/ for state: selectors, or NULL */
    int threads;      /* 0: the profile's threads, else 1 */
    bool full_refresh;
    bool fail_fast;       /* build/test: stop at the first error or failing test */
    bool store_failures;  /* test/build: --store-failures for every test */
    const char *target_path; /* NULL: <project_dir>/target */
    FILE *out;        /* progress lines and the summary; NULL: quiet */
    bool color;       /* ANSI colours in `out` */
    volatile sig_atomic_t *cancel; /* set to stop between models (may be NULL) */
} ig_transform_options;

/* Outcome of one node. Strings are owned by the result. */
typedef enum {
    IG_TF_SUCCESS, /* built, loaded, a test that passed, fresh */
    IG_TF_ERROR,   /* could not run (SQL or template error); freshness: error_after */
    IG_TF_SKIPPED, /* an upstream node failed or --fail-fast stopped the run */
    IG_TF_WARN,    /* a test (or freshness) over its warn threshold */
    IG_TF_FAIL     /* a test with severity error over its error threshold */
} ig_tf_status;

typedef struct ig_transform_node_result {
    char *unique_id;     /* model.shop.orders */
    char *name;          /* orders */
    char *relation;      /* "db"."schema"."orders" (as rendered) */
    char *materialized;  /* view, table, incremental, ephemeral */
    char *compiled_path; /* target/compiled/... (absolute), or NULL */
    ig_tf_status status;
    double seconds;      /* wall time of the node */
    int64_t rows;        /* rows affected, -1 when unknown */
    char *message;       /* error text, or the skip reason; NULL on success */
    char *resource_type; /* model, seed, snapshot, test, source */
    const char *status_text; /* dbt's words: success, error, skipped, pass, warn, fail,
                              * runtime error (static) */
    int64_t failures;    /* tests: failing rows (fail_calc), -1 when not run */
    /* source freshness only: ISO timestamps (UTC) and the age in seconds */
    char *max_loaded_at, *snapshotted_at;
    double age_seconds;
} ig_transform_node_result;

typedef struct ig_transform_result {
    ig_transform_node_result *nodes; /* in the order they finished */
    size_t nnodes;
    size_t n_success, n_error, n_skipped; /* n_success counts passed tests */
    size_t n_warn, n_fail;                /* tests and freshness */
    size_t n_models;      /* models in the project (enabled) */
    double parse_seconds; /* loading and parsing */
    double compile_seconds;
    double run_seconds;   /* executing (0 for parse / compile) */
    double outside_db_seconds; /* run time not spent inside warehouse calls */
    double outside_db_cpu_seconds; /* CPU time of the workers outside warehouse calls */
    char invocation_id[40];
} ig_transform_result;

/* Free what a result holds (not the struct). NULL-safe; idempotent. */
void ig_transform_result_free(ig_transform_result *res);

/* `ingot parse`: load the project and parse every file (templates, YAML,
 * macros), build the DAG. Errors name file:line:col. `project` may be NULL
 * (a dbt project without ingot.yml). Fills res->n_models and timings. */
ig_rc ig_transform_parse(const ig_project *project, const ig_transform_options *opts,
                         ig_transform_result *res, ig_error *err);

/* `ingot compile`: parse, then compile the selected models to SQL and write
 * target/compiled/<package>/<path>. `wh` is used by templates that query
 * (run_query, is_incremental, adapter.get_relation); it may be NULL, then
 * the warehouse is opened from the profile's path or the project's. */
ig_rc ig_transform_compile(const ig_project *project, ig_wh *wh,
                           const ig_transform_options *opts, ig_transform_result *res,
                           ig_error *err);

/* `ingot run`: parse, compile and materialize the selected models in DAG
 * order on opts->threads connections (clones of wh), with pre/post hooks,
 * writing target/compiled and target/run. A failed node skips its
 * descendants; the others go on. Returns 0 when every node succeeded,
 * IG_ERR_FAILED when some failed (res says which), or another code when
 * the project could not be loaded or parsed. wh as for compile. */
ig_rc ig_transform_run(const ig_project *project, ig_wh *wh, const ig_transform_options *opts,
                       ig_transform_result *res, ig_error *err);

/* The dbt commands beyond run. Each parses the project like run, selects
 * (opts->select / exclude / selector; tests of selected nodes come along)
 * and executes the selected nodes of its kinds in DAG order on
 * opts->threads connections, printing dbt's progress lines and summary.
 * Return: 0 when every node succeeded or passed (warnings included),
 * IG_ERR_FAILED when a node failed or a test failed (res says which),
 * another code when the project could not be loaded or parsed. wh as for
 * compile.
 *
 *   ig_transform_seed      `ingot seed`: CSVs of the seed paths into tables
 *                          (replaced when the file changed or --full-refresh)
 *   ig_transform_snapshot  `ingot snapshot`: SCD2 snapshot tables (timestamp
 *                          or check strategy)
 *   ig_transform_test      `ingot test`: data tests (generic and singular) and
 *                          unit tests; IG_TF_WARN / IG_TF_FAIL with failures
 *   ig_transform_build     `ingot build`: seeds, models, snapshots and tests in
 *                          DAG order; a failing test skips the tested node's
 *                          descendants; opts->fail_fast stops at the first
 *   ig_transform_freshness `ingot source freshness`: max(loaded_at_field) of
 *                          each source table with a freshness config against
 *                          warn_after / error_after; writes target/sources.json */
ig_rc ig_transform_seed(const ig_project *project, ig_wh *wh, const ig_transform_options *opts,
                        ig_transform_result *res, ig_error *err);
ig_rc ig_transform_snapshot(const ig_project *project, ig_wh *wh,
                            const ig_transform_options *opts, ig_transform_result *res,
                            ig_error *err);
ig_rc ig_transform_test(const ig_project *project, ig_wh *wh, const ig_transform_options *opts,
                        ig_transform_result *res, ig_error *err);
ig_rc ig_transform_build(const ig_project *project, ig_wh *wh, const ig_transform_options *opts,
                         ig_transform_result *res, ig_error *err);
ig_rc ig_transform_freshness(const ig_project *project, ig_wh *wh,
                             const ig_transform_options *opts, ig_transform_result *res,
                             ig_error *err);

/* `ingot deps`: install the packages of packages.yml (`local:` entries)
 * into dbt_packages/ (a symbolic link per package). Prints one line per
 * package to opts->out. Other kinds (hub `package:`, `git:`) are an error
 * naming the entry: ingot has no network package index. */
ig_rc ig_transform_deps(const ig_project *project, const ig_transform_options *opts,
                        ig_error *err);

#endif
