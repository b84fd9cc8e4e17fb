/* Running a pipeline: one run covers one data interval and executes the
 * pipeline's tasks in dependency order, each try in a thread of its own,
 * with trigger rules, the pipeline's concurrency limit and a process-wide
 * one, retries with (exponential, capped) delays, execution timeouts, and
 * alerts on failure. History goes to ingot.pipeline_runs / ingot.task_runs
 * (and the run's outcome to ingot.runs); each try's log to
 * <project>/logs/pipelines/<pipeline>/<run_id>/<task>.<try>.log.
 *
 * ig_run_pipeline blocks until the run ends. The `wh` passed in is used only
 * by the calling thread (history); tasks that need SQL get a clone each.
 * `ingot pipeline run` calls it in the foreground; the daemon's scheduler
 * calls it from a thread per run. */
#ifndef IG_RUNNER_H
#define IG_RUNNER_H

#include "orchestrate/pipeline.h"
#include "warehouse/warehouse.h"

#include <signal.h>

typedef struct ig_run_request {
    const ig_pipeline *pipeline;
    const char *run_type;        /* "manual", "scheduled", "backfill" */
    int64_t interval_start;      /* UTC seconds */
    int64_t interval_end;
    const char *resume_run_id;   /* continue an interrupted run: its succeeded tasks are kept */
    bool resume_by_policy;       /* resuming after a crash: an interrupted try counts against the
                                  * task's retries (a task with none left fails); otherwise (a
                                  * person's --resume) interrupted tasks get another try */
    bool quiet;                  /* no progress lines on stderr */
    volatile sig_atomic_t *cancel; /* set to stop the run (SIGINT, daemon shutdown) */
} ig_run_request;

typedef struct ig_run_result {
    char run_id[64];
    char state[16];   /* "success", "failed", "interrupted" */
    int tasks_success, tasks_failed, tasks_skipped, tasks_upstream_failed;
} ig_run_result;

ig_rc ig_run_pipeline(const ig_project *p, ig_wh *wh, const ig_run_request *req,
                      ig_run_result *res, ig_error *err);

/* After a crash: runs and tries still marked running by a process that no
 * longer exists are marked interrupted. Fills *ids (caller frees each and
 * the array with free()) with the run ids to resume, oldest first. */
ig_rc ig_runner_recover(ig_wh *wh, char ***ids, size_t *n, ig_error *err);

/* A process-wide limit on tasks running at once across all runs (0: none). */
void ig_runner_set_global_limit(int n);

/* Format the data-interval variables of a run: ds (YYYY-MM-DD of the
 * interval start in the pipeline's zone), ds_nodash, data_interval_start,
 * data_interval_end (ISO-8601 UTC), ts. */
void ig_run_vars(const ig_pipeline *pl, int64_t start, int64_t end, char vals[5][40]);

#endif
