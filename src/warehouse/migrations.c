/* Numbered migrations of the platform's own tables (schema `ingot`) and the
 * medallion schemas. Each runs in a transaction with the row that records
 * it in ingot.schema_version. A warehouse whose recorded version is higher
 * than this ingot knows was written by a newer ingot: it is refused and left
 * untouched. Append new migrations at the end; never edit a released one. */
#include "warehouse/driver.h"

#include "core/log.h"
#include "core/version.h"

#include <stdio.h>

typedef struct migration {
    int version;
    const char *description;
    const char *sql;
} migration;

static const migration migrations[] = {
    {1, "medallion schemas, schema_version, runs",
     "CREATE SCHEMA IF NOT EXISTS bronze;"
     "CREATE SCHEMA IF NOT EXISTS silver;"
     "CREATE SCHEMA IF NOT EXISTS gold;"
     "CREATE SCHEMA IF NOT EXISTS ingot;"
     "CREATE TABLE IF NOT EXISTS ingot.schema_version ("
     "  version INTEGER PRIMARY KEY, description VARCHAR NOT NULL,"
     "  applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp, ingot_version VARCHAR NOT NULL);"
     /* One place where every long task (ingest, sync, build, pipeline) records
      * its outcome; the layers add their own detail tables keyed by run_id. */
     "CREATE TABLE ingot.runs ("
     "  run_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, name VARCHAR,"
     "  status VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP,"
     "  rows BIGINT, bytes BIGINT, message VARCHAR, details JSON);"},
    {2, "pipeline and task run history",
     "CREATE TABLE ingot.pipeline_runs ("
     "  run_id VARCHAR PRIMARY KEY, pipeline VARCHAR NOT NULL, run_type VARCHAR NOT NULL,"
     "  data_interval_start TIMESTAMP, data_interval_end TIMESTAMP, state VARCHAR NOT NULL,"
     "  pid BIGINT, message VARCHAR, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP,"
     "  sla_missed BOOLEAN NOT NULL DEFAULT false);"
     "CREATE INDEX pipeline_runs_by_pipeline ON ingot.pipeline_runs (pipeline, data_interval_start);"
     "CREATE TABLE ingot.task_runs ("
     "  run_id VARCHAR NOT NULL, task VARCHAR NOT NULL, try_number INTEGER NOT NULL,"
     "  state VARCHAR NOT NULL, log_path VARCHAR, error VARCHAR, pid BIGINT, queue_ms DOUBLE,"
     "  started_at TIMESTAMP, finished_at TIMESTAMP, PRIMARY KEY (run_id, task, try_number));"
     /* the daemon's live state of each pipeline (paused or not) */
     "CREATE TABLE ingot.pipeline_state ("
     "  pipeline VARCHAR PRIMARY KEY, paused BOOLEAN NOT NULL, updated_at TIMESTAMP NOT NULL);"},
    {3, "lake: loads, schema_changes, source_state",
     /* One row per batch landed in the lake (lake/raw/...) and its outcome
      * ('loaded' or 'failed'), written in the transaction that loads it. No
      * PRIMARY KEY: DuckDB checks keys eagerly inside a transaction, and a
      * retried batch replaces its 'failed' row (delete + insert) in one. */
     "CREATE TABLE ingot.loads ("
     "  batch_id VARCHAR NOT NULL, source VARCHAR NOT NULL, stream VARCHAR NOT NULL,"
     "  relation VARCHAR, original_name VARCHAR, source_uri VARCHAR, source_size BIGINT,"
     "  source_mtime TIMESTAMP, raw_path VARCHAR NOT NULL, format VARCHAR, bytes BIGINT,"
     "  sha256 VARCHAR, rows_accepted BIGINT, rows_rejected BIGINT, status VARCHAR NOT NULL,"
     "  message VARCHAR, received_at TIMESTAMP, loaded_at TIMESTAMP, run_id VARCHAR);"
     /* Bronze schema evolution: columns added and types widened, by batch. */
     "CREATE TABLE ingot.schema_changes ("
     "  batch_id VARCHAR NOT NULL, relation VARCHAR NOT NULL, column_name VARCHAR NOT NULL,"
     "  change VARCHAR NOT NULL, old_type VARCHAR, new_type VARCHAR, changed_at TIMESTAMP NOT NULL);"
     /* State of a lake source (an HTTP ETag, a cursor) committed with the
      * load that used it; one row per (source, stream, key). */
     "CREATE TABLE ingot.source_state ("
     "  source VARCHAR NOT NULL, stream VARCHAR NOT NULL, key VARCHAR NOT NULL, value JSON,"
     "  batch_id VARCHAR, updated_at TIMESTAMP NOT NULL);"},
    {4, "connector state and batches",
     /* One row per (source, stream): the state that covers every row in
      * bronze, written in the same transaction as those rows. No PRIMARY KEY:
      * DuckDB checks unique keys eagerly inside a transaction, and the sync
      * engine updates a row several times in one. */
     "CREATE TABLE ingot.connector_state ("
     "  source VARCHAR NOT NULL, stream VARCHAR NOT NULL, mode VARCHAR NOT NULL,"
     "  cursor_field VARCHAR, cursor_value VARCHAR, state JSON, columns JSON,"
     "  load_id VARCHAR, updated_at TIMESTAMP NOT NULL);"
     /* Each committed batch of a connector sync and its raw file. */
     "CREATE TABLE ingot.connector_batches ("
     "  load_id VARCHAR NOT NULL, batch INTEGER NOT NULL, source VARCHAR NOT NULL,"
     "  stream VARCHAR NOT NULL, raw_file VARCHAR, rows BIGINT, bytes BIGINT, sha256 VARCHAR,"
     "  cursor_value VARCHAR, committed_at TIMESTAMP NOT NULL);"},
    {5, "event collector: loader checkpoint",
     /* Where the event loader has loaded its write-ahead log up to, written
      * in the transaction that loads the rows (once per transaction, so the
      * key and ON CONFLICT are safe here). wal_id names the log. */
     "CREATE TABLE ingot.event_checkpoints ("
     "  wal_id VARCHAR PRIMARY KEY, lsn BIGINT NOT NULL, events BIGINT NOT NULL,"
     "  updated_at TIMESTAMP NOT NULL);"},
    {6, "dbt result history: invocations and node results",
     /* One row per dbt command (run, test, build, seed, snapshot, source
      * freshness) and one per node it ran: what the observability layer
      * reads. No keys, as in loads: rows are only appended. */
     "CREATE TABLE ingot.dbt_invocations ("
     "  invocation_id VARCHAR NOT NULL, command VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL,"
     "  finished_at TIMESTAMP, status VARCHAR NOT NULL, selection VARCHAR, args JSON,"
     "  dbt_version VARCHAR, ingot_version VARCHAR, target VARCHAR, project VARCHAR,"
     "  nodes INTEGER, errors INTEGER, elapsed_seconds DOUBLE);"
     "CREATE TABLE ingot.dbt_node_results ("
     "  invocation_id VARCHAR NOT NULL, unique_id VARCHAR NOT NULL, resource_type VARCHAR NOT NULL,"
     "  name VARCHAR NOT NULL, relation VARCHAR, materialized VARCHAR, status VARCHAR NOT NULL,"
     "  finished_at TIMESTAMP, seconds DOUBLE, rows_affected BIGINT, failures BIGINT,"
     "  message VARCHAR, compiled_path VARCHAR);"},
};

#define N_MIGRATIONS (sizeof migrations / sizeof migrations[0])

int ig_wh_schema_version(void) { return migrations[N_MIGRATIONS - 1].version; }

ig_rc ig__wh_migrate(ig_wh *wh, bool read_only, ig_error *err)
{
    /* Read the version directly: a missing table (a new file) means 0. This
     * runs on every open, and a catalog query (information_schema) costs
     * tens of milliseconds where this costs one. */
    int64_t current = 0;
    ig_error probe;
    ig_error_clear(&probe);
    if (ig_wh_query_int(wh, "SELECT coalesce(max(version), 0) FROM ingot.schema_version", &current,
                        &probe)) {
        current = 0;
        if (ig_wh_relation_exists(wh, "ingot", "schema_version")) { /* it exists: a real failure */
            if (err) *err = probe;
            return probe.code;
        }
    }
    int known = ig_wh_schema_version();
    if (current > known) {
        ig_err(err, IG_ERR_VERSION,
               "this warehouse was written by a newer ingot (schema version %lld; this ingot %s "
               "knows up to %d)", (long long)current, IG_VERSION, known);
        ig_err_hint(err, "upgrade ingot to use this warehouse; the file was left untouched");
        return IG_ERR_VERSION;
    }
    if (read_only || current == known) return IG_OK;
    for (size_t i = 0; i < N_MIGRATIONS; i++) {
        const migration *m = &migrations[i];
        if (m->version <= current) continue;
        ig_rc rc = ig_wh_begin(wh, err);
        if (rc) return rc;
        rc = ig_wh_exec(wh, m->sql, err);
        if (!rc) {
            ig_param p[3] = {IG_P_INT(m->version), IG_P_TEXT(m->description), IG_P_TEXT(IG_VERSION)};
            rc = ig_wh_exec_params(wh,
                                   "INSERT INTO ingot.schema_version (version, description, "
                                   "ingot_version) VALUES ($1, $2, $3)",
                                   p, 3, NULL, err);
        }
        if (!rc) rc = ig_wh_commit(wh, err);
        if (rc) {
            ig_wh_rollback(wh);
            ig_err_prefix(err, "warehouse migration %d (%s) failed", m->version, m->description);
            return rc;
        }
        ig_debug("wh.migrate", "applied warehouse migration %d: %s", m->version, m->description);
    }
    return IG_OK;
}
