/* Executing one pipeline run. See runner.h. */
#include "orchestrate/runner.h"
#include "orchestrate/alert.h"
#include "orchestrate/task.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef enum {
    T_WAITING, T_RUNNING, T_RETRY_WAIT, T_SENSING,            /* not finished */
    T_SUCCESS, T_FAILED, T_UPSTREAM_FAILED, T_SKIPPED          /* finished */
} tstate;
static const char *const state_names[] = {"waiting", "running", "up_for_retry", "sensing", "success",
                                          "failed", "upstream_failed", "skipped"};

typedef struct run_ctx run_ctx;

/* A task's history as the writer thread will record it: the latest state
 * of one try. Events of the same try that queue up together are coalesced,
 * so each batch writes one row per try, in one transaction. */
typedef struct hist_entry {
    size_t task;
    int try_number;
    char state[20];
    char error[512];
    char log_path[1024];
    int64_t started_us, finished_us; /* wall clock; 0 = not yet */
    double queue_ms;                 /* < 0: not known */
} hist_entry;

typedef struct hist_writer {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    hist_entry *q;
    size_t n, cap;
    bool stop;
    uint64_t queued_seq;  /* events queued so far */
    uint64_t written_seq; /* events committed so far (atomic reads) */
    pthread_t thread;
    ig_wh *wh;
    run_ctx *run;
} hist_writer;

typedef struct task_state {
    run_ctx *run;
    size_t index;
    tstate st;
    int try_number;         /* of the current or last try */
    int64_t next_try_ms;    /* monotonic, for T_RETRY_WAIT */
    int64_t queued_ns;      /* when it became ready */
    int64_t started_ms;
    pthread_t thread;
    bool thread_done;
    ig_rc rc;
    ig_error err;
    volatile sig_atomic_t cancel;
    ig_task_ctx ctx;
    char log_path[1024];
    bool alerted;
    int64_t next_poke_ms, poke_ms, sensor_timeout_ms; /* sensors */
    uint64_t durable_seq;  /* its success is on disk once written_seq reaches this */
} task_state;

struct run_ctx {
    const ig_project *project;
    const ig_pipeline *pl;
    ig_wh *wh;
    const ig_run_request *req;
    char run_id[64];
    char vars[5][40];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    task_state *ts;
    int running;
    hist_writer hist;
};

/* --- the process-wide limit */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_limit, g_running;

void ig_runner_set_global_limit(int n)
{
    pthread_mutex_lock(&g_lock);
    g_limit = n;
    pthread_mutex_unlock(&g_lock);
}

static bool global_take(void)
{
    pthread_mutex_lock(&g_lock);
    bool ok = !g_limit || g_running < g_limit;
    if (ok) g_running++;
    pthread_mutex_unlock(&g_lock);
    return ok;
}

static void global_give(void)
{
    pthread_mutex_lock(&g_lock);
    g_running--;
    pthread_mutex_unlock(&g_lock);
}

static int64_t mono_ms(void) { return (int64_t)(ig_now_ns() / 1000000); }

void ig_run_vars(const ig_pipeline *pl, int64_t start, int64_t end, char vals[5][40])
{
    int64_t local = start + ig_tz_offset(pl->tz, start, NULL);
    int64_t day = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    int y;
    unsigned m, d;
    ig_civil_from_days(day, &y, &m, &d);
    snprintf(vals[0], 40, "%04d-%02u-%02u", y, m, d);
    snprintf(vals[1], 40, "%04d%02u%02u", y, m, d);
    ig_format_iso(start * 1000000, vals[2], 40);
    ig_format_iso(end * 1000000, vals[3], 40);
    memcpy(vals[4], vals[2], 40);
}

static void make_run_id(char *out, size_t n, const char *type)
{
    int64_t us = ig_wall_us();
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    unsigned r = (unsigned)(us ^ (int64_t)getpid() * 2654435761u) & 0xffffff;
    snprintf(out, n, "%s__%04d%02d%02dT%02d%02d%02d_%06x", type, tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, r);
}

/* --- history */

static void *hist_thread(void *arg)
{
    hist_writer *h = arg;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        while (!h->n && !h->stop) pthread_cond_wait(&h->cond, &h->lock);
        if (!h->n && h->stop) break;
        hist_entry *batch = h->q;
        size_t n = h->n;
        uint64_t upto = h->queued_seq;
        h->q = NULL;
        h->n = h->cap = 0;
        pthread_mutex_unlock(&h->lock);
        ig_error e;
        bool ok = !ig_wh_begin(h->wh, &e);
        for (size_t i = 0; ok && i < n; i++) {
            hist_entry *x = &batch[i];
            ig_param p[9] = {
                IG_P_TEXT(h->run->run_id), IG_P_TEXT(h->run->pl->tasks[x->task].name),
                IG_P_INT(x->try_number), IG_P_TEXT(x->state),
                x->log_path[0] ? IG_P_TEXT(x->log_path) : IG_P_NULL,
                x->error[0] ? IG_P_TEXT(x->error) : IG_P_NULL, IG_P_INT(getpid()),
                x->queue_ms >= 0 ? IG_P_DOUBLE(x->queue_ms) : IG_P_NULL,
                x->finished_us ? IG_P_TS(x->finished_us) : IG_P_NULL};
            ig_param q[10];
            memcpy(q, p, sizeof p);
            q[9] = x->started_us ? IG_P_TS(x->started_us) : IG_P_NULL;
            ok = !ig_wh_exec_params(
                h->wh,
                "INSERT INTO ingot.task_runs (run_id, task, try_number, state, log_path, error, pid, "
                "queue_ms, finished_at, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                "ON CONFLICT (run_id, task, try_number) DO UPDATE SET state = excluded.state, error = "
                "excluded.error, finished_at = excluded.finished_at, log_path = "
                "coalesce(excluded.log_path, task_runs.log_path), queue_ms = "
                "coalesce(excluded.queue_ms, task_runs.queue_ms), started_at = "
                "coalesce(task_runs.started_at, excluded.started_at)",
                q, 10, NULL, &e);
        }
        if (ok) ok = !ig_wh_commit(h->wh, &e);
        if (!ok) {
            ig_wh_rollback(h->wh);
            ig_warn("pipeline.history", "cannot record task history: %s", e.message);
        }
        free(batch);
        /* even a failed write moves on: the run must not wait forever */
        __atomic_store_n(&h->written_seq, upto, __ATOMIC_RELEASE);
        pthread_mutex_lock(&h->run->lock);
        pthread_cond_signal(&h->run->cond);
        pthread_mutex_unlock(&h->run->lock);
        pthread_mutex_lock(&h->lock);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

static void hist_start(run_ctx *r)
{
    hist_writer *h = &r->hist;
    h->run = r;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cond, NULL);
    ig_error e;
    if (ig_wh_clone(r->wh, &h->wh, &e)) {
        h->wh = NULL;
        ig_warn("pipeline.history", "no connection for the history: %s", e.message);
        return;
    }
    pthread_create(&h->thread, NULL, hist_thread, h);
}

/* Wait until everything queued is written, then stop the writer. */
static void hist_finish(run_ctx *r)
{
    hist_writer *h = &r->hist;
    if (!h->wh) return;
    pthread_mutex_lock(&h->lock);
    h->stop = true;
    pthread_cond_signal(&h->cond);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    ig_wh_close(h->wh);
    free(h->q);
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->lock);
}

/* Queue the task's current state (called by the runner's thread). Returns
 * the event's sequence number (see written_seq). */
static uint64_t history_task(run_ctx *r, task_state *t, const char *state)
{
    hist_writer *h = &r->hist;
    if (!h->wh) return 0;
    int64_t now = ig_wall_us();
    pthread_mutex_lock(&h->lock);
    hist_entry *x = NULL;
    for (size_t i = 0; i < h->n; i++)
        if (h->q[i].task == t->index && h->q[i].try_number == t->try_number) x = &h->q[i];
    if (!x) {
        if (h->n == h->cap) h->q = ig_realloc(h->q, (h->cap = h->cap * 2 + 16) * sizeof *h->q);
        x = &h->q[h->n++];
        memset(x, 0, sizeof *x);
        x->task = t->index;
        x->try_number = t->try_number;
        x->queue_ms = -1;
    }
    snprintf(x->state, sizeof x->state, "%s", state);
    bool starting = !strcmp(state, "running") || !strcmp(state, "sensing");
    if (starting) {
        x->started_us = now;
        if (t->queued_ns) x->queue_ms = (double)(ig_now_ns() - (uint64_t)t->queued_ns) / 1e6;
    } else {
        x->finished_us = now;
        if (!x->started_us && t->try_number == 0) x->started_us = now; /* skipped / upstream_failed */
        snprintf(x->error, sizeof x->error, "%s", t->err.message);
    }
    if (t->log_path[0]) snprintf(x->log_path, sizeof x->log_path, "%s", t->log_path);
    uint64_t seq = ++h->queued_seq;
    pthread_cond_signal(&h->cond);
    pthread_mutex_unlock(&h->lock);
    return seq;
}

/* A success is durable once the writer has committed it: downstream tasks
 * wait for that, so a crash can never make a resumed run repeat a task whose
 * dependents already started. */
static bool durable(run_ctx *r, const task_state *t)
{
    return t->st != T_SUCCESS || __atomic_load_n(&r->hist.written_seq, __ATOMIC_ACQUIRE) >= t->durable_seq;
}

static void history_run(run_ctx *r, const char *state, const char *message)
{
    ig_error e;
    ig_param p[8] = {IG_P_TEXT(r->run_id), IG_P_TEXT(r->pl->name), IG_P_TEXT(r->req->run_type),
                     IG_P_TS(r->req->interval_start * 1000000), IG_P_TS(r->req->interval_end * 1000000),
                     IG_P_TEXT(state), IG_P_INT(getpid()), message ? IG_P_TEXT(message) : IG_P_NULL};
    if (!strcmp(state, "running")) {
        if (ig_wh_exec_params(r->wh,
                              "INSERT INTO ingot.pipeline_runs (run_id, pipeline, run_type, "
                              "data_interval_start, data_interval_end, state, pid, message, started_at) "
                              "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()::timestamp) ON CONFLICT "
                              "(run_id) DO UPDATE SET state = excluded.state, pid = excluded.pid, "
                              "finished_at = NULL",
                              p, 8, NULL, &e))
            ig_warn("pipeline.history", "cannot record the run: %s", e.message);
    } else {
        ig_param u[3] = {p[0], p[5], p[7]};
        if (ig_wh_exec_params(r->wh,
                              "UPDATE ingot.pipeline_runs SET state = $2, message = $3, finished_at = "
                              "now()::timestamp WHERE run_id = $1",
                              u, 3, NULL, &e))
            ig_warn("pipeline.history", "cannot record the run: %s", e.message);
    }
    /* the one place every long task's outcome goes */
    ig_param q[4] = {IG_P_TEXT(r->run_id), IG_P_TEXT(r->pl->name), IG_P_TEXT(state),
                     message ? IG_P_TEXT(message) : IG_P_NULL};
    if (ig_wh_exec_params(r->wh,
                          "INSERT INTO ingot.runs (run_id, kind, name, status, started_at, message) "
                          "VALUES ($1, 'pipeline', $2, $3, now()::timestamp, $4) ON CONFLICT (run_id) DO "
                          "UPDATE SET status = excluded.status, message = excluded.message, "
                          "finished_at = CASE WHEN excluded.status = 'running' THEN NULL ELSE "
                          "now()::timestamp END",
                          q, 4, NULL, &e))
        ig_warn("pipeline.history", "cannot record the run: %s", e.message);
}

/* --- one try, in its own thread */

static void *try_thread(void *arg)
{
    task_state *t = arg;
    run_ctx *r = t->run;
    const ig_task *task = &r->pl->tasks[t->index];
    FILE *log = fopen(t->log_path, "a");
    ig_rc rc;
    ig_error_clear(&t->err);
    if (!log) {
        rc = ig_err(&t->err, IG_ERR_IO, "cannot open the task log %s: %s", t->log_path, strerror(errno));
    } else {
        char when[40];
        ig_format_iso(ig_wall_us(), when, sizeof when);
        fprintf(log, "[ingot] %s task %s try %d of %d (run %s)\n", when, task->name, t->try_number,
                task->policy.retries + 1, r->run_id);
        t->ctx.log = log;
        rc = task->kind->run(&t->ctx, &t->err);
        if (rc) fprintf(log, "[ingot] failed: %s\n", t->err.message);
        fclose(log);
    }
    if (t->ctx.wh) {
        ig_wh_close(t->ctx.wh);
        t->ctx.wh = NULL;
    }
    pthread_mutex_lock(&r->lock);
    t->rc = rc;
    t->thread_done = true;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* called with r->lock held */
static void start_try(run_ctx *r, task_state *t)
{
    const ig_task *task = &r->pl->tasks[t->index];
    t->try_number++;
    t->st = T_RUNNING;
    t->thread_done = false;
    t->cancel = 0;
    t->started_ms = mono_ms();
    char *dir = ig_asprintf("%s/logs/pipelines/%s/%s", r->project->dir, r->pl->name, r->run_id);
    ig_error e;
    if (ig_fs_mkdirs(dir, &e)) ig_warn("pipeline.log", "%s", e.message);
    snprintf(t->log_path, sizeof t->log_path, "%s/%s.%d.log", dir, task->name, t->try_number);
    free(dir);
    t->ctx = (ig_task_ctx){
        .project = r->project, .pipeline = r->pl, .task = task, .run_id = r->run_id,
        .try_number = t->try_number, .interval_start = r->req->interval_start,
        .interval_end = r->req->interval_end, .cancel = &t->cancel,
        .deadline_ms = task->policy.timeout_ms ? t->started_ms + task->policy.timeout_ms : 0,
    };
    static const char *const names[5] = {"ds", "ds_nodash", "data_interval_start", "data_interval_end", "ts"};
    for (int i = 0; i < 5; i++) {
        t->ctx.vars[i][0] = names[i];
        t->ctx.vars[i][1] = r->vars[i];
    }
    t->ctx.vars[5][0] = "run_id";
    t->ctx.vars[5][1] = r->run_id;
    t->ctx.nvars = 6;
    if (ig_wh_clone(r->wh, &t->ctx.wh, &e)) t->ctx.wh = NULL;
    r->running++;
    history_task(r, t, "running");
    if (!r->req->quiet)
        fprintf(stderr, "  %-24s started (try %d)\n", task->name, t->try_number);
    if (pthread_create(&t->thread, NULL, try_thread, t)) {
        t->rc = ig_err(&t->err, IG_ERR_INTERNAL, "cannot start a thread");
        t->thread_done = true;
    }
}

/* called with r->lock held; the thread has ended */
static void finish_try(run_ctx *r, task_state *t)
{
    const ig_task *task = &r->pl->tasks[t->index];
    pthread_mutex_unlock(&r->lock);
    pthread_join(t->thread, NULL);
    pthread_mutex_lock(&r->lock);
    r->running--;
    global_give();
    double secs = (double)(mono_ms() - t->started_ms) / 1000;
    if (!t->rc) {
        t->st = T_SUCCESS;
        t->durable_seq = history_task(r, t, "success");
        if (!r->req->quiet) fprintf(stderr, "  %-24s success (%.1fs)\n", task->name, secs);
        return;
    }
    bool cancelled = r->req->cancel && *r->req->cancel;
    if (!cancelled && t->try_number <= task->policy.retries) {
        int64_t delay = ig_retry_delay_ms(&task->policy, t->try_number + 1);
        t->st = T_RETRY_WAIT;
        t->next_try_ms = mono_ms() + delay;
        history_task(r, t, "up_for_retry");
        if (!r->req->quiet)
            fprintf(stderr, "  %-24s failed (%.1fs): %s; retry %d of %d in %.1fs\n", task->name, secs,
                    t->err.message, t->try_number, task->policy.retries, (double)delay / 1000);
        return;
    }
    t->st = T_FAILED;
    history_task(r, t, cancelled ? "interrupted" : "failed");
    if (!r->req->quiet)
        fprintf(stderr, "  %-24s FAILED (%.1fs): %s\n    log: %s\n", task->name, secs, t->err.message,
                t->log_path);
    if (!cancelled && !t->alerted) {
        t->alerted = true; /* one alert per incident, not per retry */
        ig_alert a = {.event = t->try_number > 1 ? "retries_exhausted" : "task_failed",
                      .pipeline = r->pl->name, .task = task->name, .run_id = r->run_id,
                      .try_number = t->try_number, .error = t->err.message, .log_path = t->log_path};
        ig_alert_send(r->project, r->pl, &a);
    }
}

static bool terminal(tstate s) { return s >= T_SUCCESS; }

/* A sensor becomes ready: no thread and no slot; it is poked from the loop. */
static void start_sensor(run_ctx *r, task_state *t)
{
    const ig_task *task = &r->pl->tasks[t->index];
    t->try_number++;
    t->st = T_SENSING;
    t->started_ms = mono_ms();
    t->next_poke_ms = t->started_ms;
    ig_sensor_settings(task, &t->poke_ms, &t->sensor_timeout_ms);
    char *dir = ig_asprintf("%s/logs/pipelines/%s/%s", r->project->dir, r->pl->name, r->run_id);
    ig_error e;
    if (ig_fs_mkdirs(dir, &e)) ig_warn("pipeline.log", "%s", e.message);
    snprintf(t->log_path, sizeof t->log_path, "%s/%s.%d.log", dir, task->name, t->try_number);
    free(dir);
    history_task(r, t, "sensing");
    if (!r->req->quiet) {
        char every[32], limit[32];
        ig_format_duration((uint64_t)t->poke_ms * 1000000, every, sizeof every);
        ig_format_duration((uint64_t)t->sensor_timeout_ms * 1000000, limit, sizeof limit);
        fprintf(stderr, "  %-24s waiting (poke every %s, timeout %s)\n", task->name, every, limit);
    }
}

static void sensor_done(run_ctx *r, task_state *t, bool ok)
{
    const ig_task *task = &r->pl->tasks[t->index];
    t->st = ok ? T_SUCCESS : T_FAILED;
    t->durable_seq = history_task(r, t, ok ? "success" : "failed");
    double secs = (double)(mono_ms() - t->started_ms) / 1000;
    if (!r->req->quiet) {
        if (ok) fprintf(stderr, "  %-24s success (%.1fs)\n", task->name, secs);
        else fprintf(stderr, "  %-24s FAILED (%.1fs): %s\n", task->name, secs, t->err.message);
    }
    if (!ok && !t->alerted) {
        t->alerted = true;
        ig_alert a = {.event = "task_failed", .pipeline = r->pl->name, .task = task->name,
                      .run_id = r->run_id, .try_number = t->try_number, .error = t->err.message,
                      .log_path = t->log_path};
        ig_alert_send(r->project, r->pl, &a);
    }
}

/* Poke a sensor (lock held; pokes are quick). */
static void poke(run_ctx *r, task_state *t)
{
    const ig_task *task = &r->pl->tasks[t->index];
    FILE *log = fopen(t->log_path, "a");
    if (!log) {
        ig_err(&t->err, IG_ERR_IO, "cannot open the task log %s", t->log_path);
        sensor_done(r, t, false);
        return;
    }
    ig_task_ctx ctx = {.project = r->project, .pipeline = r->pl, .task = task, .run_id = r->run_id,
                       .try_number = t->try_number, .interval_start = r->req->interval_start,
                       .interval_end = r->req->interval_end, .log = log, .wh = r->wh};
    static const char *const names[5] = {"ds", "ds_nodash", "data_interval_start", "data_interval_end", "ts"};
    for (int i = 0; i < 5; i++) {
        ctx.vars[i][0] = names[i];
        ctx.vars[i][1] = r->vars[i];
    }
    ctx.nvars = 5;
    ig_error_clear(&t->err);
    int got = task->kind->poke(&ctx, &t->err);
    int64_t now = mono_ms();
    if (got > 0) {
        fprintf(log, "[ingot] condition met\n");
        fclose(log);
        sensor_done(r, t, true);
    } else if (got < 0) {
        fprintf(log, "[ingot] error: %s\n", t->err.message);
        fclose(log);
        sensor_done(r, t, false);
    } else if (now - t->started_ms >= t->sensor_timeout_ms) {
        char limit[32];
        ig_format_duration((uint64_t)t->sensor_timeout_ms * 1000000, limit, sizeof limit);
        ig_err(&t->err, IG_ERR_FAILED, "sensor timed out after %s without its condition holding", limit);
        fprintf(log, "[ingot] %s\n", t->err.message);
        fclose(log);
        sensor_done(r, t, false);
    } else {
        fclose(log);
        t->next_poke_ms = now + t->poke_ms;
        if (t->next_poke_ms > t->started_ms + t->sensor_timeout_ms)
            t->next_poke_ms = t->started_ms + t->sensor_timeout_ms;
    }
}

/* Decide a waiting task's fate from its upstreams (lock held). Returns
 * true when it is ready to run. */
static bool evaluate(run_ctx *r, task_state *t)
{
    const ig_task *task = &r->pl->tasks[t->index];
    int failed = 0, success = 0, skipped = 0;
    for (size_t i = 0; i < task->ndeps; i++) {
        tstate s = r->ts[task->deps[i]].st;
        if (!terminal(s) || !durable(r, &r->ts[task->deps[i]])) return false;
        if (s == T_SUCCESS) success++;
        else if (s == T_SKIPPED) skipped++;
        else failed++;
    }
    switch (task->trigger) {
    case IG_TRIGGER_ALL_SUCCESS:
        if (failed) t->st = T_UPSTREAM_FAILED;
        else if (skipped) t->st = T_SKIPPED;
        else return true;
        break;
    case IG_TRIGGER_ALL_DONE:
        return true;
    case IG_TRIGGER_ONE_FAILED:
        if (failed) return true;
        t->st = T_SKIPPED;
        break;
    }
    history_task(r, t, state_names[t->st]);
    if (!r->req->quiet) fprintf(stderr, "  %-24s %s\n", task->name, state_names[t->st]);
    return false;
}

/* Tasks that succeeded in an earlier attempt of this run. */
static void load_resume(run_ctx *r)
{
    ig_wh_cursor *c;
    ig_error e;
    ig_param p = IG_P_TEXT(r->run_id);
    if (ig_wh_query_params(r->wh,
                           "SELECT task, max(try_number), bool_or(state = 'success') FROM "
                           "ingot.task_runs WHERE run_id = $1 GROUP BY task",
                           &p, 1, &c, &e))
        return;
    while (ig_wh_cursor_next(c, &e) > 0) {
        const char *name = ig_wh_cursor_value(c, 0)->text;
        for (size_t i = 0; i < r->pl->ntasks; i++) {
            if (strcmp(r->pl->tasks[i].name, name)) continue;
            r->ts[i].try_number = (int)ig_wh_cursor_value(c, 1)->i;
            if (ig_wh_cursor_value(c, 2)->b) {
                r->ts[i].st = T_SUCCESS;
            } else if (r->req->resume_by_policy && r->ts[i].try_number > r->pl->tasks[i].policy.retries) {
                r->ts[i].st = T_FAILED;
                ig_err(&r->ts[i].err, IG_ERR_FAILED, "interrupted on its last try (retries: %d)",
                       r->pl->tasks[i].policy.retries);
                history_task(r, &r->ts[i], "failed");
            }
        }
    }
    ig_wh_cursor_close(c);
}

ig_rc ig_run_pipeline(const ig_project *p, ig_wh *wh, const ig_run_request *req, ig_run_result *res,
                      ig_error *err)
{
    const ig_pipeline *pl = req->pipeline;
    run_ctx r = {.project = p, .pl = pl, .wh = wh, .req = req};
    if (req->resume_run_id) snprintf(r.run_id, sizeof r.run_id, "%s", req->resume_run_id);
    else make_run_id(r.run_id, sizeof r.run_id, req->run_type);
    ig_run_vars(pl, req->interval_start, req->interval_end, r.vars);
    pthread_mutex_init(&r.lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r.cond, &ca);
    pthread_condattr_destroy(&ca);
    r.ts = ig_calloc(pl->ntasks, sizeof(task_state));
    for (size_t i = 0; i < pl->ntasks; i++) {
        r.ts[i].run = &r;
        r.ts[i].index = i;
    }
    history_run(&r, "running", NULL);
    hist_start(&r);
    if (req->resume_run_id) load_resume(&r);
    if (!req->quiet)
        fprintf(stderr, "pipeline %s: run %s (%s, interval %s .. %s)\n", pl->name, r.run_id,
                req->run_type, r.vars[2], r.vars[3]);
    bool interrupted = false;
    pthread_mutex_lock(&r.lock);
    for (;;) {
        int64_t now = mono_ms();
        int64_t wake = now + 1000;
        bool all_done = true;
        if (req->cancel && *req->cancel && !interrupted) {
            interrupted = true;
            for (size_t i = 0; i < pl->ntasks; i++)
                if (r.ts[i].st == T_RUNNING) {
                    r.ts[i].cancel = 1;
                    if (r.ts[i].ctx.wh) ig_wh_interrupt(r.ts[i].ctx.wh);
                }
        }
        for (size_t k = 0; k < pl->ntasks; k++) {
            task_state *t = &r.ts[pl->order[k]];
            if (t->st == T_RUNNING && t->thread_done) finish_try(&r, t);
            if (t->st == T_RUNNING) {
                /* SQL kinds need an interrupt to notice the deadline */
                if (t->ctx.deadline_ms && now >= t->ctx.deadline_ms && !t->cancel) {
                    t->cancel = 1;
                    if (t->ctx.wh) ig_wh_interrupt(t->ctx.wh);
                }
                /* wake for a deadline still ahead; one already acted on is
                 * followed by polling until the try's thread reports */
                if (t->ctx.deadline_ms && t->ctx.deadline_ms > now && t->ctx.deadline_ms < wake)
                    wake = t->ctx.deadline_ms;
                else if (t->cancel && now + 20 < wake)
                    wake = now + 20;
            }
            if (interrupted && (t->st == T_WAITING || t->st == T_RETRY_WAIT || t->st == T_SENSING)) {
                t->st = T_SKIPPED;
                continue;
            }
            if (t->st == T_SENSING) {
                if (now >= t->next_poke_ms) poke(&r, t);
                if (t->st == T_SENSING && t->next_poke_ms < wake) wake = t->next_poke_ms;
            }
            if (t->st == T_WAITING && evaluate(&r, t)) {
                if (!t->queued_ns) t->queued_ns = (int64_t)ig_now_ns(); /* ready since now */
                if (pl->tasks[t->index].kind->poke) {
                    start_sensor(&r, t);
                    if (now >= t->next_poke_ms) poke(&r, t);
                    if (t->st == T_SENSING && t->next_poke_ms < wake) wake = t->next_poke_ms;
                } else if (r.running < pl->concurrency && global_take()) start_try(&r, t);
                else t->st = T_WAITING, wake = now + 5; /* a slot frees soon */
            } else if (t->st == T_RETRY_WAIT) {
                if (now >= t->next_try_ms) {
                    t->queued_ns = (int64_t)ig_now_ns() - (now - t->next_try_ms) * 1000000;
                    if (r.running < pl->concurrency && global_take()) start_try(&r, t);
                    else wake = now + 5;
                } else if (t->next_try_ms < wake) {
                    wake = t->next_try_ms;
                }
            }
            if (!terminal(t->st)) all_done = false;
        }
        if (all_done) break;
        /* anything finished meanwhile? then loop at once */
        bool pending = false;
        for (size_t i = 0; i < pl->ntasks; i++) pending |= r.ts[i].st == T_RUNNING && r.ts[i].thread_done;
        if (pending) continue;
        if (wake <= now) wake = now + 1; /* always wait a little: the lock must be let go */
        {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t ms = wake - now;
            ts.tv_sec += ms / 1000;
            ts.tv_nsec += (ms % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&r.cond, &r.lock, &ts);
        }
    }
    pthread_mutex_unlock(&r.lock);
    memset(res, 0, sizeof *res);
    snprintf(res->run_id, sizeof res->run_id, "%s", r.run_id);
    for (size_t i = 0; i < pl->ntasks; i++) {
        switch (r.ts[i].st) {
        case T_SUCCESS: res->tasks_success++; break;
        case T_FAILED: res->tasks_failed++; break;
        case T_UPSTREAM_FAILED: res->tasks_upstream_failed++; break;
        default: res->tasks_skipped++; break;
        }
    }
    const char *state = interrupted ? "interrupted"
                        : (res->tasks_failed || res->tasks_upstream_failed) ? "failed" : "success";
    snprintf(res->state, sizeof res->state, "%s", state);
    char msg[200];
    snprintf(msg, sizeof msg, "%d succeeded, %d failed, %d upstream failed, %d skipped",
             res->tasks_success, res->tasks_failed, res->tasks_upstream_failed, res->tasks_skipped);
    hist_finish(&r);
    history_run(&r, state, msg);
    if (!req->quiet) fprintf(stderr, "pipeline %s: %s (%s)\n", pl->name, state, msg);
    free(r.ts);
    pthread_cond_destroy(&r.cond);
    pthread_mutex_destroy(&r.lock);
    if (interrupted) return ig_err(err, IG_ERR_INTERRUPTED, "pipeline %s: run %s was interrupted", pl->name, r.run_id);
    if (strcmp(state, "success")) {
        ig_err(err, IG_ERR_FAILED, "pipeline %s: run %s failed (%s)", pl->name, r.run_id, msg);
        ig_err_hint(err, "see 'ingot pipeline logs %s --run %s'", pl->name, r.run_id);
        return IG_ERR_FAILED;
    }
    return IG_OK;
}

static bool pid_alive(int64_t pid) { return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM); }

ig_rc ig_runner_recover(ig_wh *wh, char ***ids, size_t *n, ig_error *err)
{
    *ids = NULL;
    *n = 0;
    ig_wh_cursor *c;
    ig_rc rc = ig_wh_query(wh, "SELECT run_id, pid FROM ingot.pipeline_runs WHERE state = 'running' "
                               "ORDER BY started_at", &c, err);
    if (rc) return rc;
    size_t cap = 0;
    char **list = NULL;
    while (ig_wh_cursor_next(c, err) > 0) {
        int64_t pid = ig_wh_cursor_value(c, 1)->i;
        if (pid == getpid() || pid_alive(pid)) continue;
        if (*n == cap) list = ig_realloc(list, (cap = cap * 2 + 4) * sizeof(char *));
        list[(*n)++] = ig_strdup(ig_wh_cursor_value(c, 0)->text);
    }
    ig_wh_cursor_close(c);
    for (size_t i = 0; i < *n; i++) {
        ig_param p = IG_P_TEXT(list[i]);
        ig_wh_exec_params(wh, "UPDATE ingot.task_runs SET state = 'interrupted', finished_at = "
                              "now()::timestamp, error = 'the process running it stopped' WHERE run_id = $1 "
                              "AND state = 'running'", &p, 1, NULL, err);
        ig_wh_exec_params(wh, "UPDATE ingot.pipeline_runs SET state = 'interrupted' WHERE run_id = $1",
                          &p, 1, NULL, err);
    }
    *ids = list;
    return IG_OK;
}
