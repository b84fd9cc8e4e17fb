/* dbt artifacts and the result history: target/manifest.json (schema v12),
 * target/run_results.json (v6), target/sources.json (v3),
 * target/catalog.json (v1), in the shapes dbt writes so that tools that
 * read dbt artifacts read ours; and the warehouse tables
 * ingot.dbt_invocations / ingot.dbt_node_results (migration 6) that the
 * observability layer reads.
 *
 * Callers: run.c after parsing (manifest) and after executing (run
 * results, history); the freshness code (sources.json); `ingot docs
 * generate` (catalog, via docs_site.c). Every function reads the project
 * (read-only) and writes files atomically; none keeps state. */
#ifndef IG_TF_ARTIFACTS_H
#define IG_TF_ARTIFACTS_H

#include "transform/tf_int.h"

#define IG_TF_MANIFEST_SCHEMA "https://schemas.getdbt.com/dbt/manifest/v12.json"
#define IG_TF_RUN_RESULTS_SCHEMA "https://schemas.getdbt.com/dbt/run-results/v6.json"
#define IG_TF_SOURCES_SCHEMA "https://schemas.getdbt.com/dbt/sources/v3.json"
#define IG_TF_CATALOG_SCHEMA "https://schemas.getdbt.com/dbt/catalog/v1.json"

/* dbt's checksum of a node: sha256 of its raw file text, lower-case hex
 * (seeds: of the CSV). out holds 65 bytes. */
void ig__tf_node_checksum(const tf_node *n, char out[65]);

/* The node's config as the manifest shows it (its merged config plus
 * enabled, materialized, tags, meta). New reference. */
json_t *ig__tf_node_config_json(const tf_node *n);

/* The manifest as a JSON object (new reference): every enabled node,
 * source, macro and docs block, parent_map and child_map. For tests and
 * tools; ig__tf_write_manifest streams the same text without the tree. */
json_t *ig__tf_manifest_json(tf_project *p);

/* Write <target>/manifest.json. Call once the project is parsed and linked
 * (and again after a run if compiled SQL should appear: nodes with
 * compiled SQL carry compiled_code and compiled_path). */
ig_rc ig__tf_write_manifest(tf_project *p, ig_error *err);

/* Write <target>/run_results.json for the nodes of res (in res order).
 * `command` is the command's name (run, test, build, seed, snapshot,
 * compile) recorded in args.which. A test node's status is its
 * n->status ("pass", "fail", "warn", "error"), others' from res. */
ig_rc ig__tf_write_run_results(tf_project *p, const ig_transform_result *res, const char *command,
                               double elapsed, ig_error *err);

/* Write <target>/sources.json from the results of `ingot source
 * freshness`: per node max_loaded_at, snapshotted_at, age_seconds and the
 * status (status_text: pass, warn, error, runtime error); the criteria come
 * from the source's freshness config. */
ig_rc ig__tf_write_sources(tf_project *p, const ig_transform_result *res, double elapsed,
                           ig_error *err);

/* Write <target>/catalog.json from the warehouse (p->wh must be open):
 * every model, seed, snapshot and source relation that exists, with its
 * columns (name, type, index, description-free comment) and, for tables,
 * a row count statistic. Nodes whose relation is missing are left out
 * (dbt does the same). */
ig_rc ig__tf_write_catalog(tf_project *p, json_t **catalog_out, ig_error *err);

/* Record an invocation and its node results in ingot.dbt_invocations and
 * ingot.dbt_node_results (p->wh; needs warehouse migration 6). `command`
 * as above; `status` of the invocation ("success", "error"); started_us /
 * finished_us: wall-clock µs. Runs in one transaction. A warehouse without
 * the tables (a profile's own file opened with no_migrate) is skipped with
 * a debug log line and 0. */
ig_rc ig__tf_record_results(tf_project *p, const ig_transform_result *res, const char *command,
                            const char *status, int64_t started_us, int64_t finished_us,
                            ig_error *err);

/* The dbt status text of one node result ("success", "error", "skipped",
 * or the test status of the node). Borrowed. */
const char *ig__tf_result_status(tf_project *p, const ig_transform_node_result *r);

#endif
