/* ingot.runs: the one table where every long task (an ingest, a sync, a
 * build, a pipeline) records that it started and how it ended. A task
 * starts a run (a row with status 'running'), reports progress through
 * core/progress.h, and hands ig_wh_run_sink to the reporter, so the
 * outcome lands here when the reporter finishes. A run left 'running' by
 * a killed process stays so; readers treat a 'running' run whose process
 * is gone as interrupted. */
#ifndef IG_WH_RUNS_H
#define IG_WH_RUNS_H

#include "core/progress.h"
#include "warehouse/warehouse.h"

/* A time-ordered unique id: "20261125T070600123456-9f3a1c2e" (UTC time to
 * the microsecond, then 32 random bits), sortable as text. out >= 32 bytes. */
void ig_wh_new_id(char *out, size_t size);

typedef struct ig_wh_run {
    ig_wh *wh;     /* borrowed; must outlive the run */
    char id[40];
} ig_wh_run;

/* Insert the run's row (status 'running'). On error the run is still
 * usable (its finish is then a no-op insert attempt); the error is
 * returned so callers may log it. Not inside the caller's transaction:
 * call it outside one. */
ig_rc ig_wh_run_start(ig_wh *wh, ig_wh_run *run, const char *kind, const char *name, ig_error *err);

/* A progress sink (ctx: ig_wh_run *) that writes the result into the
 * run's row. Failures are logged, never fatal. Must not be called inside
 * an open transaction of the same connection that may roll back. */
void ig_wh_run_sink(void *ctx, const ig_progress_result *r);

#endif
