/* ingot.runs: start and finish rows for long tasks. See runs.h. */
#include "warehouse/runs.h"

#include "core/clock.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void ig_wh_new_id(char *out, size_t size)
{
    int64_t us = ig_wall_us();
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) rnd = (uint32_t)(ig_now_ns() ^ (uint64_t)us);
    snprintf(out, size, "%04d%02d%02dT%02d%02d%02d%06ld-%08x", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(us % 1000000), rnd);
}

ig_rc ig_wh_run_start(ig_wh *wh, ig_wh_run *run, const char *kind, const char *name, ig_error *err)
{
    run->wh = wh;
    ig_wh_new_id(run->id, sizeof run->id);
    ig_param p[4] = {IG_P_TEXT(run->id), IG_P_TEXT(kind), IG_P_TEXT(name), IG_P_TS(ig_wall_us())};
    return ig_wh_exec_params(wh,
                             "INSERT INTO ingot.runs (run_id, kind, name, status, started_at) "
                             "VALUES ($1, $2, $3, 'running', $4)",
                             p, 4, NULL, err);
}

void ig_wh_run_sink(void *ctx, const ig_progress_result *r)
{
    ig_wh_run *run = ctx;
    if (!run || !run->wh) return;
    ig_error e;
    ig_error_clear(&e);
    ig_param p[9] = {
        IG_P_TEXT(run->id), IG_P_TEXT(r->kind), IG_P_TEXT(r->name), IG_P_TEXT(r->status),
        IG_P_TS(r->started_us), IG_P_TS(r->finished_us), IG_P_INT((int64_t)r->rows),
        IG_P_INT((int64_t)r->bytes), r->message ? IG_P_TEXT(r->message) : IG_P_NULL,
    };
    ig_param all[10];
    memcpy(all, p, sizeof p);
    all[9] = r->details ? IG_P_TEXT(r->details) : IG_P_NULL;
    ig_rc rc = ig_wh_exec_params(run->wh,
                                 "INSERT OR REPLACE INTO ingot.runs (run_id, kind, name, status, "
                                 "started_at, finished_at, rows, bytes, message, details) "
                                 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::JSON)",
                                 all, 10, NULL, &e);
    if (rc) ig_warn("runs.record", "could not record run %s in ingot.runs: %s", run->id, e.message);
}
