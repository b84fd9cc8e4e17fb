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
/* Swap in a new definition of the pipelines (read from project p, e.g. by
 * a reload of the daemon's configuration). Runs in flight finish on the
 * definition they started with, so the caller keeps the old project and set
 * alive until ig_sched_stop; new schedules take effect at once; a pipeline
 * no longer in `set` is no longer fired or triggerable; max_active_runs
 * counts runs by pipeline name across definitions. p and set must outlive
 * the scheduler. Thread-safe. */
void ig_sched_reload(ig_sched *s, const ig_project *p, const ig_pipeline_set *set);
/* What a daemon's reload calls: ig_sched_reload when *s runs, otherwise
 * start a scheduler (default options) if the set has pipelines. */
ig_rc ig_sched_apply(ig_sched **s, const ig_project *p, const ig_pipeline_set *set, ig_wh *wh, ig_error *err);

/* Watching the files pipelines come from (ingot.yml and pipelines/ *.yml,
 * *.yaml) by polling their size, mtime and inode: cheap enough for a poll
 * each second, and it sees editors that replace a file by rename. */
typedef struct ig_pipeline_watch ig_pipeline_watch;
/* Caller frees with ig_pipeline_watch_free. Records the current state. */
ig_pipeline_watch *ig_pipeline_watch_new(const char *project_dir);
/* True once after the files changed and then stayed unchanged for one more
 * poll (so a file caught half-written is not read); false otherwise. */
bool ig_pipeline_watch_poll(ig_pipeline_watch *w);
void ig_pipeline_watch_free(ig_pipeline_watch *w);

/* Stop: running runs are cancelled (their tasks stopped; they are marked
 * interrupted and resumed at the next start), then the threads end. */
void ig_sched_stop(ig_sched *s);

#endif
