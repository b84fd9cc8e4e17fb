/* The scheduler inside `ingot serve`: fires pipelines on their schedules,
 * catches up missed intervals when asked to, honours pause state and
 * max_active_runs, watches SLAs, and at start resumes the runs a crash
 * interrupted. One thread decides; each run executes in a thread of its
 * own (the runner), on a warehouse connection of its own.
 *
 * Time is read through a clock function so tests can control it. */
#ifndef IG_SCHEDULER_H
#define IG_SCHEDULER_H

#include "orchestrate/pipeline.h"
#include "warehouse/warehouse.h"

/* The intervals [start, end) to run for pipeline pl at time `now`, given
 * the end of the latest interval already run (`last_end`, -1 if never):
 *  - catchup: every complete interval after last_end (or after start_date
 *    when never run; without a start_date, only the latest);
 *  - no catchup: the latest complete interval, if it ends after last_end.
 * Writes at most `max` into out, oldest first; returns how many. */
size_t ig_sched_due(const ig_pipeline *pl, int64_t last_end, int64_t now, int64_t (*out)[2],
                    size_t max);

typedef struct ig_sched ig_sched;

typedef struct ig_sched_options {
    int64_t (*now)(void *ud); /* UTC seconds; NULL: the wall clock */
    void *now_ud;
    int global_concurrency;   /* tasks at once across all runs; 0: no limit */
    int tick_ms;              /* most time between checks (1000) */
} ig_sched_options;

/* Start scheduling the project's pipelines. `wh` is cloned for the
 * scheduler and for each run; the caller keeps its own connection. The
 * project and pipeline set must outlive the scheduler. */
ig_rc ig_sched_start(const ig_project *p, const ig_pipeline_set *set, ig_wh *wh,
                     const ig_sched_options *opt, ig_sched **out, ig_error *err);
/* Run a pipeline now (as `ingot pipeline run` would), in the background.
 * Fills run_id (the id is known once the run starts: may be "") */
ig_rc ig_sched_trigger(ig_sched *s, const char *pipeline, ig_error *err);
/* Stop: running runs are cancelled (their tasks stopped; they are marked
 * interrupted and resumed at the next start), then the threads end. */
void ig_sched_stop(ig_sched *s);

#endif
