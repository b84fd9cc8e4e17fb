/* The scheduler thread and its run threads. See scheduler.h. */
#include "orchestrate/scheduler.h"
#include "orchestrate/alert.h"
#include "orchestrate/runner.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

size_t ig_sched_due(const ig_pipeline *pl, int64_t last_end, int64_t now, int64_t (*out)[2], size_t max)
{
    if (!pl->schedule || !max) return 0;
    int64_t latest_end = ig_cron_prev(&pl->cron, pl->tz, now + 1); /* the last fire time <= now */
    if (latest_end < 0) return 0;
    int64_t latest_start = ig_cron_prev(&pl->cron, pl->tz, latest_end);
    if (latest_start < 0) return 0;
    if (!pl->catchup || (last_end < 0 && pl->start_date < 0)) {
        if (latest_end <= last_end) return 0;
        if (pl->start_date >= 0 && latest_start < pl->start_date) return 0;
        out[0][0] = latest_start;
        out[0][1] = latest_end;
        return 1;
    }
    /* catch up: from the first interval starting at or after the later of
     * last_end and start_date */
    int64_t from = last_end >= 0 ? last_end : pl->start_date;
    if (pl->start_date > from) from = pl->start_date;
    size_t n = 0;
    int64_t s = ig_cron_next(&pl->cron, pl->tz, from - 1);
    while (s >= 0 && n < max) {
        int64_t e = ig_cron_next(&pl->cron, pl->tz, s);
        if (e < 0 || e > now) break;
        out[n][0] = s;
        out[n][1] = e;
        n++;
        s = e;
    }
    return n;
}

typedef struct run_slot {
    struct run_slot *next;
    ig_sched *sched;
    const ig_project *project; /* the definition the run started with (a reload keeps it alive) */
    const ig_pipeline *pl;
    pthread_t thread;
    ig_wh *wh;
    ig_run_request req;
    char resume_id[64];
    char run_type[24]; /* copied: the caller's string may be a cursor's, gone soon */
    bool done;
} run_slot;

struct ig_sched {
    const ig_project *project;   /* replaced by ig_sched_reload, under lock */
    const ig_pipeline_set *set;
    ig_wh *wh; /* the scheduler thread's own connection */
    ig_sched_options opt;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;
    volatile sig_atomic_t cancel; /* shared by every run */
    run_slot *runs;
    char **triggers; /* pipelines asked for by ig_sched_trigger */
    size_t ntriggers;
};

static int64_t sched_now(ig_sched *s) { return s->opt.now ? s->opt.now(s->opt.now_ud) : ig_wall_us() / 1000000; }

static void *run_thread(void *arg)
{
    run_slot *r = arg;
    ig_run_result res;
    ig_error e;
    ig_error_clear(&e);
    if (ig_run_pipeline(r->project, r->wh, &r->req, &res, &e) && e.code != IG_ERR_FAILED &&
        e.code != IG_ERR_INTERRUPTED)
        ig_warn("sched.run", "pipeline %s: %s", r->pl->name, e.message);
    pthread_mutex_lock(&r->sched->lock);
    r->done = true;
    pthread_cond_signal(&r->sched->cond);
    pthread_mutex_unlock(&r->sched->lock);
    return NULL;
}

/* lock held */
static int active_runs(ig_sched *s, const ig_pipeline *pl)
{
    int n = 0;
    /* by name: a run started before a reload holds the old definition */
    for (run_slot *r = s->runs; r; r = r->next) n += !strcmp(r->pl->name, pl->name) && !r->done;
    return n;
}

/* lock held */
static void start_run(ig_sched *s, const ig_pipeline *pl, const char *type, int64_t start, int64_t end,
                      const char *resume)
{
    run_slot *r = ig_calloc(1, sizeof *r);
    ig_error e;
    if (ig_wh_clone(s->wh, &r->wh, &e)) {
        ig_warn("sched.run", "pipeline %s: cannot open a warehouse connection: %s", pl->name, e.message);
        free(r);
        return;
    }
    r->sched = s;
    r->project = s->project;
    r->pl = pl;
    if (resume) snprintf(r->resume_id, sizeof r->resume_id, "%s", resume);
    snprintf(r->run_type, sizeof r->run_type, "%s", type);
    r->req = (ig_run_request){.pipeline = pl, .run_type = r->run_type, .interval_start = start,
                              .interval_end = end, .resume_run_id = resume ? r->resume_id : NULL,
                              .resume_by_policy = resume != NULL, .quiet = true, .cancel = &s->cancel};
    ig_info("sched.start", "pipeline %s: starting a %s run", pl->name, type);
    if (pthread_create(&r->thread, NULL, run_thread, r)) {
        ig_wh_close(r->wh);
        free(r);
        return;
    }
    r->next = s->runs;
    s->runs = r;
}

/* lock held: join finished runs */
static void reap(ig_sched *s)
{
    for (run_slot **pp = &s->runs; *pp;) {
        run_slot *r = *pp;
        if (!r->done) {
            pp = &r->next;
            continue;
        }
        *pp = r->next;
        pthread_mutex_unlock(&s->lock);
        pthread_join(r->thread, NULL);
        ig_wh_close(r->wh);
        pthread_mutex_lock(&s->lock);
        free(r);
    }
}

static bool paused(ig_sched *s, const ig_pipeline *pl)
{
    ig_param p = IG_P_TEXT(pl->name);
    ig_wh_cursor *c;
    ig_error e;
    bool v = pl->paused;
    if (!ig_wh_query_params(s->wh, "SELECT paused FROM ingot.pipeline_state WHERE pipeline = $1", &p, 1, &c, &e)) {
        if (ig_wh_cursor_next(c, &e) > 0) v = ig_wh_cursor_value(c, 0)->b;
        ig_wh_cursor_close(c);
    }
    return v;
}

static int64_t last_end(ig_sched *s, const ig_pipeline *pl)
{
    ig_param p = IG_P_TEXT(pl->name);
    ig_wh_cursor *c;
    ig_error e;
    int64_t v = -1;
    if (!ig_wh_query_params(s->wh,
                            "SELECT epoch(max(data_interval_end))::BIGINT FROM ingot.pipeline_runs WHERE "
                            "pipeline = $1 AND run_type IN ('scheduled', 'backfill')", &p, 1, &c, &e)) {
        if (ig_wh_cursor_next(c, &e) > 0 && !ig_wh_cursor_value(c, 0)->is_null) v = ig_wh_cursor_value(c, 0)->i;
        ig_wh_cursor_close(c);
    }
    return v;
}

/* SLA: a run (or an interval not yet run) not finished `sla` after its
 * interval ended gets one alert. */
static void check_sla(ig_sched *s, const ig_pipeline *pl, int64_t now)
{
    if (!pl->sla_ms) return;
    /* deadline = interval end + sla; missed when it has passed and the run
     * had not finished by then (still running, or finished after it) */
    ig_param p[3] = {IG_P_TEXT(pl->name), IG_P_TS((now - pl->sla_ms / 1000) * 1000000), IG_P_INT(pl->sla_ms)};
    ig_wh_cursor *c;
    ig_error e;
    if (ig_wh_query_params(s->wh,
                           "SELECT run_id FROM ingot.pipeline_runs WHERE pipeline = $1 AND NOT sla_missed "
                           "AND run_type = 'scheduled' AND data_interval_end <= $2 AND (finished_at IS NULL "
                           "OR finished_at > data_interval_end + to_milliseconds($3))",
                           p, 3, &c, &e))
        return;
    char *ids[64];
    size_t n = 0;
    while (n < 64 && ig_wh_cursor_next(c, &e) > 0) ids[n++] = ig_strdup(ig_wh_cursor_value(c, 0)->text);
    ig_wh_cursor_close(c);
    for (size_t i = 0; i < n; i++) {
        ig_param q = IG_P_TEXT(ids[i]);
        ig_wh_exec_params(s->wh, "UPDATE ingot.pipeline_runs SET sla_missed = true WHERE run_id = $1", &q, 1, NULL, &e);
        char msg[200];
        snprintf(msg, sizeof msg, "the run was not finished %.0f minutes after its interval ended (sla)",
                 (double)pl->sla_ms / 60000);
        ig_alert a = {.event = "sla_missed", .pipeline = pl->name, .run_id = ids[i], .error = msg};
        ig_alert_send(s->project, pl, &a);
        free(ids[i]);
    }
}

static void *sched_thread(void *arg)
{
    ig_sched *s = arg;
    pthread_mutex_lock(&s->lock);
    /* resume what a crash interrupted */
    char **ids;
    size_t nids;
    ig_error e;
    if (!ig_runner_recover(s->wh, &ids, &nids, &e)) {
        for (size_t i = 0; i < nids; i++) {
            ig_param p = IG_P_TEXT(ids[i]);
            ig_wh_cursor *c;
            if (!ig_wh_query_params(s->wh, "SELECT pipeline, run_type, epoch(data_interval_start)::BIGINT, "
                                           "epoch(data_interval_end)::BIGINT FROM ingot.pipeline_runs WHERE run_id = $1",
                                    &p, 1, &c, &e)) {
                if (ig_wh_cursor_next(c, &e) > 0) {
                    const ig_pipeline *pl = ig_pipeline_find(s->set, ig_wh_cursor_value(c, 0)->text);
                    if (pl) {
                        ig_info("sched.resume", "pipeline %s: resuming run %s, interrupted by a stop", pl->name, ids[i]);
                        start_run(s, pl, ig_wh_cursor_value(c, 1)->text, ig_wh_cursor_value(c, 2)->i,
                                  ig_wh_cursor_value(c, 3)->i, ids[i]);
                    }
                }
                ig_wh_cursor_close(c);
            }
            free(ids[i]);
        }
        free(ids);
    }
    while (!s->stopping) {
        reap(s);
        int64_t now = sched_now(s);
        int64_t wake_s = now + 3600;
        /* manual triggers, in order; one waits (queued) while its pipeline
         * is at max_active_runs, as a scheduled run would: two runs of one
         * pipeline would write the same tables at once */
        size_t kept = 0;
        for (size_t k = 0; k < s->ntriggers; k++) {
            const ig_pipeline *pl = ig_pipeline_find(s->set, s->triggers[k]);
            if (pl && active_runs(s, pl) >= pl->max_active_runs) {
                s->triggers[kept++] = s->triggers[k];
                continue;
            }
            if (pl) {
                int64_t end = now, start = now;
                if (pl->schedule) {
                    int64_t e2 = ig_cron_prev(&pl->cron, pl->tz, now + 1);
                    int64_t s2 = e2 > 0 ? ig_cron_prev(&pl->cron, pl->tz, e2) : -1;
                    if (s2 > 0) start = s2, end = e2;
                }
                start_run(s, pl, "manual", start, end, NULL);
            }
            free(s->triggers[k]);
        }
        s->ntriggers = kept;
        for (size_t i = 0; i < s->set->n; i++) {
            const ig_pipeline *pl = &s->set->items[i];
            if (!pl->schedule) continue;
            check_sla(s, pl, now);
            if (!paused(s, pl)) {
                int64_t due[64][2];
                size_t n = ig_sched_due(pl, last_end(s, pl), now, due, 64);
                for (size_t k = 0; k < n && active_runs(s, pl) < pl->max_active_runs; k++)
                    start_run(s, pl, "scheduled", due[k][0], due[k][1], NULL);
            }
            int64_t next = ig_cron_next(&pl->cron, pl->tz, now);
            if (next > 0 && next < wake_s) wake_s = next;
        }
        /* wait for the next fire time, a finished run, a trigger or a tick */
        int64_t wait_ms = (wake_s - now) * 1000;
        int tick = s->opt.tick_ms > 0 ? s->opt.tick_ms : 1000;
        if (wait_ms > tick || wait_ms <= 0) wait_ms = tick;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += wait_ms / 1000;
        ts.tv_nsec += (wait_ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&s->cond, &s->lock, &ts);
    }
    /* stopping: cancel the runs and wait for them */
    s->cancel = 1;
    while (s->runs) {
        reap(s);
        if (s->runs) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += 50000000;
            if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
            pthread_cond_timedwait(&s->cond, &s->lock, &ts);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

ig_rc ig_sched_start(const ig_project *p, const ig_pipeline_set *set, ig_wh *wh,
                     const ig_sched_options *opt, ig_sched **out, ig_error *err)
{
    ig_sched *s = ig_calloc(1, sizeof *s);
    s->project = p;
    s->set = set;
    if (opt) s->opt = *opt;
    ig_rc rc = ig_wh_clone(wh, &s->wh, err);
    if (rc) {
        free(s);
        return rc;
    }
    ig_runner_set_global_limit(s->opt.global_concurrency);
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&s->thread, NULL, sched_thread, s)) {
        ig_wh_close(s->wh);
        free(s);
        return ig_err(err, IG_ERR_INTERNAL, "cannot start the scheduler thread");
    }
    *out = s;
    return IG_OK;
}

ig_rc ig_sched_trigger(ig_sched *s, const char *pipeline, ig_error *err)
{
    pthread_mutex_lock(&s->lock);
    if (!ig_pipeline_find(s->set, pipeline)) {
        pthread_mutex_unlock(&s->lock);
        return ig_err(err, IG_ERR_NOT_FOUND, "no pipeline named '%s'", pipeline);
    }
    s->triggers = ig_realloc(s->triggers, (s->ntriggers + 1) * sizeof(char *));
    s->triggers[s->ntriggers++] = ig_strdup(pipeline);
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return IG_OK;
}

void ig_sched_stop(ig_sched *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    for (size_t k = 0; k < s->ntriggers; k++) free(s->triggers[k]);
    free(s->triggers);
    ig_wh_close(s->wh);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* names in a but not in b, comma-separated, into buf */
static void names_missing(const ig_pipeline_set *a, const ig_pipeline_set *b, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < a->n && len + 1 < cap; i++)
        if (!ig_pipeline_find(b, a->items[i].name)) {
            int k = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", a->items[i].name);
            if (k < 0) break;
            len += (size_t)k < cap - len ? (size_t)k : cap - len - 1;
        }
    if (!len) snprintf(buf, cap, "none");
}

void ig_sched_reload(ig_sched *s, const ig_project *p, const ig_pipeline_set *set)
{
    char added[512], removed[512];
    pthread_mutex_lock(&s->lock);
    names_missing(set, s->set, added, sizeof added);
    names_missing(s->set, set, removed, sizeof removed);
    int running = 0;
    for (run_slot *r = s->runs; r; r = r->next) running += !r->done;
    s->project = p;
    s->set = set;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    ig_info("sched.reload", "pipelines reloaded: %zu pipelines (added: %s; removed: %s); %d runs in flight "
            "finish on the definition they started with", set->n, added, removed, running);
}

ig_rc ig_sched_apply(ig_sched **s, const ig_project *p, const ig_pipeline_set *set, ig_wh *wh, ig_error *err)
{
    if (*s) {
        ig_sched_reload(*s, p, set);
        return IG_OK;
    }
    if (!set->n) return IG_OK;
    ig_rc rc = ig_sched_start(p, set, wh,
                              &(ig_sched_options){.global_concurrency = p->serve.max_running_tasks},
                              s, err);
    if (!rc) ig_info("sched.reload", "pipelines reloaded: scheduler started for %zu pipelines", set->n);
    return rc;
}
