/* ingot pipeline list|run|status|history|logs|backfill|pause|unpause. */
#include "cli/cli.h"
#include "cli/daemon.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"
#include "orchestrate/runner.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *o_run, *o_task, *o_from, *o_to, *o_resume;
static long o_limit = 20, o_try;
static bool o_quiet;

const ig_opt ig_opts_pipeline[] = {
    {"run", 0, IG_OPT_STR, &o_run, "RUN_ID", "logs/status: that run (default: the latest)"},
    {"task", 0, IG_OPT_STR, &o_task, "TASK", "logs: only that task"},
    {"try", 0, IG_OPT_INT, &o_try, "N", "logs: only that try"},
    {"from", 0, IG_OPT_STR, &o_from, "DATE", "backfill: first interval starts at or after DATE"},
    {"to", 0, IG_OPT_STR, &o_to, "DATE", "backfill: last interval ends at or before DATE"},
    {"limit", 'n', IG_OPT_INT, &o_limit, "N", "history: how many runs (20)"},
    {"resume", 0, IG_OPT_STR, &o_resume, "RUN_ID", "run: continue an interrupted run"},
    {"quiet", 'q', IG_OPT_FLAG, &o_quiet, NULL, "run/backfill: no progress lines"},
    {0},
};

static volatile sig_atomic_t g_cancel;
static void on_sigint(int sig) { g_cancel = 1; }

static ig_rc need_name(ig_cli *cli, const char *sub)
{
    if (cli->argc >= 2) return IG_OK;
    ig_err(&cli->err, IG_ERR_USAGE, "'ingot pipeline %s' needs the pipeline's name", sub);
    ig_err_hint(&cli->err, "'ingot pipeline list' shows them");
    return IG_ERR_USAGE;
}

static ig_rc find(ig_cli *cli, const ig_pipeline_set *set, const char *name, const ig_pipeline **out)
{
    *out = ig_pipeline_find(set, name);
    if (*out) return IG_OK;
    ig_err(&cli->err, IG_ERR_NOT_FOUND, "no pipeline named '%s'", name);
    const char *names[256];
    size_t n = 0;
    for (size_t i = 0; i < set->n && n < 256; i++) names[n++] = set->items[i].name;
    const char *s = ig_str_suggest(name, names, n);
    if (s) ig_err_hint(&cli->err, "did you mean '%s'?", s);
    else if (!set->n) ig_err_hint(&cli->err, "the project has no pipelines: add them under 'pipelines:' in ingot.yml (docs/pipelines.md)");
    else ig_err_hint(&cli->err, "'ingot pipeline list' shows them");
    return IG_ERR_NOT_FOUND;
}

static void fmt_utc(int64_t s, char *out, size_t n)
{
    if (s < 0) {
        snprintf(out, n, "-");
        return;
    }
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%d %H:%M UTC", &tm);
}

static int64_t now_s(void) { return ig_wall_us() / 1000000; }

static ig_rc sub_list(ig_cli *cli, const ig_pipeline_set *set)
{
    if (!set->n) {
        printf("no pipelines (add them under 'pipelines:' in ingot.yml or in pipelines/*.yml)\n");
        return IG_OK;
    }
    printf("%-20s %-16s %-18s %-6s %-7s %-10s %s\n", "PIPELINE", "SCHEDULE", "TIMEZONE", "TASKS",
           "PAUSED", "LAST RUN", "NEXT RUN");
    for (size_t i = 0; i < set->n; i++) {
        const ig_pipeline *pl = &set->items[i];
        bool paused = pl->paused;
        char *last = NULL;
        ig_param p = IG_P_TEXT(pl->name);
        ig_wh_cursor *c;
        ig_error e;
        if (!ig_wh_query_params(cli->wh, "SELECT paused FROM ingot.pipeline_state WHERE pipeline = $1", &p, 1, &c, &e)) {
            if (ig_wh_cursor_next(c, &e) > 0) paused = ig_wh_cursor_value(c, 0)->b;
            ig_wh_cursor_close(c);
        }
        if (!ig_wh_query_params(cli->wh, "SELECT state FROM ingot.pipeline_runs WHERE pipeline = $1 ORDER BY started_at DESC LIMIT 1", &p, 1, &c, &e)) {
            if (ig_wh_cursor_next(c, &e) > 0) last = ig_strdup(ig_wh_cursor_value(c, 0)->text);
            ig_wh_cursor_close(c);
        }
        char next[40] = "manual";
        if (pl->schedule) fmt_utc(ig_cron_next(&pl->cron, pl->tz, now_s()), next, sizeof next);
        printf("%-20s %-16s %-18s %-6zu %-7s %-10s %s\n", pl->name, pl->schedule ? pl->schedule : "-",
               ig_tz_name(pl->tz), pl->ntasks, paused ? "yes" : "no", last ? last : "-", next);
        free(last);
    }
    return IG_OK;
}

static ig_rc run_one(ig_cli *cli, ig_wh *wh, const ig_pipeline *pl, const char *type, int64_t start,
                     int64_t end, const char *resume, ig_error *err)
{
    ig_run_request req = {.pipeline = pl, .run_type = type, .interval_start = start,
                          .interval_end = end, .resume_run_id = resume, .quiet = o_quiet,
                          .cancel = &g_cancel};
    ig_run_result res;
    return ig_run_pipeline(cli->project, wh, &req, &res, err);
}

static ig_rc sub_run(ig_cli *cli, const ig_pipeline *pl)
{
    if (!cli->wh && ig_cli_daemon()) { /* ingot serve holds the warehouse: it runs the pipeline */
        if (o_resume) {
            ig_err(&cli->err, IG_ERR_USAGE, "--resume runs in the daemon by itself: ingot serve "
                   "(pid %d) resumes interrupted runs when it starts", ig_cli_daemon()->pid);
            ig_err_hint(&cli->err, "to resume by hand, stop the daemon (`kill %d`) first",
                        ig_cli_daemon()->pid);
            return IG_ERR_USAGE;
        }
        return ig_cli_pipeline_run_remote(cli, pl->name, &g_cancel, &cli->err);
    }
    char **ids;
    size_t nids;
    if (!ig_runner_recover(cli->wh, &ids, &nids, &cli->err)) {
        for (size_t i = 0; i < nids; i++) {
            if (!o_resume)
                fprintf(stderr, "note: run %s was interrupted (its process stopped); continue it with "
                                "'ingot pipeline run NAME --resume %s'\n", ids[i], ids[i]);
            free(ids[i]);
        }
        free(ids);
    }
    int64_t end = now_s(), start = end;
    if (o_resume) {
        ig_param p = IG_P_TEXT(o_resume);
        ig_wh_cursor *c;
        ig_rc rc = ig_wh_query_params(cli->wh,
                                      "SELECT pipeline, epoch(data_interval_start)::BIGINT, "
                                      "epoch(data_interval_end)::BIGINT, state FROM ingot.pipeline_runs "
                                      "WHERE run_id = $1", &p, 1, &c, &cli->err);
        if (rc) return rc;
        int got = ig_wh_cursor_next(c, &cli->err);
        if (got <= 0 || strcmp(ig_wh_cursor_value(c, 0)->text, pl->name)) {
            ig_wh_cursor_close(c);
            return ig_err(&cli->err, IG_ERR_NOT_FOUND, "pipeline %s has no run %s", pl->name, o_resume);
        }
        start = ig_wh_cursor_value(c, 1)->i;
        end = ig_wh_cursor_value(c, 2)->i;
        bool done = !strcmp(ig_wh_cursor_value(c, 3)->text, "success");
        ig_wh_cursor_close(c);
        if (done) return ig_err(&cli->err, IG_ERR_USAGE, "run %s already succeeded", o_resume);
    } else if (pl->schedule) {
        /* a manual run covers the latest complete interval */
        int64_t e = ig_cron_prev(&pl->cron, pl->tz, end + 1);
        int64_t s = e > 0 ? ig_cron_prev(&pl->cron, pl->tz, e) : -1;
        if (e > 0 && s > 0) {
            start = s;
            end = e;
        }
    }
    return run_one(cli, cli->wh, pl, "manual", start, end, o_resume, &cli->err);
}

static ig_rc print_query(ig_cli *cli, const char *sql, const ig_param *p, size_t np, const char *empty)
{
    ig_wh_cursor *c;
    ig_rc rc = ig_wh_query_params(cli->wh, sql, p, np, &c, &cli->err);
    if (rc) return rc;
    size_t nc = ig_wh_cursor_ncols(c);
    int rows = 0, got;
    while ((got = ig_wh_cursor_next(c, &cli->err)) > 0) {
        if (!rows++) {
            for (size_t i = 0; i < nc; i++) printf("%-*s", i + 1 < nc ? 22 : 0, ig_wh_cursor_colname(c, i));
            printf("\n");
        }
        for (size_t i = 0; i < nc; i++) {
            const ig_value *v = ig_wh_cursor_value(c, i);
            printf("%-*s", i + 1 < nc ? 22 : 0, v->is_null ? "-" : v->text);
            if (i + 1 < nc) putchar(' ');
        }
        printf("\n");
    }
    ig_wh_cursor_close(c);
    if (got < 0) return cli->err.code;
    if (!rows) printf("%s\n", empty);
    return IG_OK;
}

static ig_rc sub_status(ig_cli *cli, const ig_pipeline *pl)
{
    ig_param p[2] = {IG_P_TEXT(pl->name), o_run ? IG_P_TEXT(o_run) : IG_P_NULL};
    char *run = NULL;
    ig_wh_cursor *c;
    ig_rc rc = ig_wh_query_params(cli->wh,
                                  "SELECT run_id, state, run_type, strftime(data_interval_start, '%Y-%m-%d %H:%M'), "
                                  "strftime(data_interval_end, '%Y-%m-%d %H:%M'), started_at::VARCHAR, "
                                  "coalesce(finished_at::VARCHAR, '-'), coalesce(message, '') "
                                  "FROM ingot.pipeline_runs WHERE pipeline = $1 AND ($2 IS NULL OR run_id = $2) "
                                  "ORDER BY started_at DESC LIMIT 1", p, 2, &c, &cli->err);
    if (rc) return rc;
    if (ig_wh_cursor_next(c, &cli->err) > 0) {
        run = ig_strdup(ig_wh_cursor_value(c, 0)->text);
        printf("pipeline %s, run %s: %s\n  type %s, interval %s .. %s\n  started %s, finished %s\n  %s\n",
               pl->name, run, ig_wh_cursor_value(c, 1)->text, ig_wh_cursor_value(c, 2)->text,
               ig_wh_cursor_value(c, 3)->text, ig_wh_cursor_value(c, 4)->text,
               ig_wh_cursor_value(c, 5)->text, ig_wh_cursor_value(c, 6)->text, ig_wh_cursor_value(c, 7)->text);
    }
    ig_wh_cursor_close(c);
    if (!run) {
        printf("pipeline %s has not run yet\n", pl->name);
        return IG_OK;
    }
    ig_param q = IG_P_TEXT(run);
    printf("\n");
    rc = print_query(cli,
                     "SELECT task, max(try_number) AS tries, arg_max(state, coalesce(finished_at, started_at, "
                     "'-infinity'::timestamp)) AS state, arg_max(coalesce(error, ''), try_number) AS error "
                     "FROM ingot.task_runs WHERE run_id = $1 GROUP BY task ORDER BY min(started_at) NULLS LAST, task",
                     &q, 1, "no tasks started");
    free(run);
    return rc;
}

static ig_rc sub_history(ig_cli *cli, const ig_pipeline *pl)
{
    ig_param p[2] = {IG_P_TEXT(pl->name), IG_P_INT(o_limit > 0 ? o_limit : 20)};
    return print_query(cli,
                       "SELECT run_id, state, run_type, strftime(data_interval_start, '%Y-%m-%d %H:%M') AS interval_start, "
                       "strftime(started_at, '%Y-%m-%d %H:%M:%S') AS started, "
                       "coalesce(round(epoch(finished_at - started_at), 1)::VARCHAR || 's', '-') AS duration "
                       "FROM ingot.pipeline_runs WHERE pipeline = $1 ORDER BY started_at DESC LIMIT $2",
                       p, 2, "no runs yet");
}

/* by task, then by try number (numerically) */
static int cmp_names(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    const char *dx = strrchr(x, '.'), *dy = strrchr(y, '.');
    size_t lx = dx ? (size_t)(dx - x) : strlen(x), ly = dy ? (size_t)(dy - y) : strlen(y);
    const char *tx = x + lx, *ty = y + ly; /* ".N.log" parts */
    while (tx > x && *--tx != '.') {}
    while (ty > y && *--ty != '.') {}
    size_t bx = (size_t)(tx - x), by = (size_t)(ty - y);
    int c = strncmp(x, y, bx < by ? bx : by);
    if (c || bx != by) return c ? c : (bx < by ? -1 : 1);
    return atoi(tx + 1) - atoi(ty + 1);
}

static ig_rc sub_logs(ig_cli *cli, const ig_pipeline *pl)
{
    char *run = o_run ? ig_strdup(o_run) : NULL;
    if (!run) {
        ig_param p = IG_P_TEXT(pl->name);
        ig_wh_cursor *c;
        ig_rc rc;
        if ((rc = ig_wh_query_params(cli->wh, "SELECT run_id FROM ingot.pipeline_runs WHERE pipeline = $1 "
                                               "ORDER BY started_at DESC LIMIT 1", &p, 1, &c, &cli->err)))
            return rc;
        if (ig_wh_cursor_next(c, &cli->err) > 0) run = ig_strdup(ig_wh_cursor_value(c, 0)->text);
        ig_wh_cursor_close(c);
        if (!run) {
            printf("pipeline %s has not run yet\n", pl->name);
            return IG_OK;
        }
    }
    char *dir = ig_asprintf("%s/logs/pipelines/%s/%s", cli->project->dir, pl->name, run);
    DIR *d = opendir(dir);
    if (!d) {
        ig_err(&cli->err, IG_ERR_NOT_FOUND, "no logs for run %s of pipeline %s", run, pl->name);
        free(dir);
        free(run);
        return IG_ERR_NOT_FOUND;
    }
    char *names[4096];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 4096)
        if (ig_str_ends(e->d_name, ".log")) names[n++] = ig_strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof(char *), cmp_names);
    int shown = 0;
    for (size_t i = 0; i < n; i++) {
        char task[512];
        int tryn = 0;
        char *dot = strrchr(names[i], '.');
        *dot = '\0';
        char *dot2 = strrchr(names[i], '.');
        if (dot2) {
            tryn = atoi(dot2 + 1);
            snprintf(task, sizeof task, "%.*s", (int)(dot2 - names[i]), names[i]);
        } else {
            snprintf(task, sizeof task, "%s", names[i]);
        }
        *dot = '.';
        if ((o_task && strcmp(task, o_task)) || (o_try && tryn != o_try)) {
            free(names[i]);
            continue;
        }
        char *path = ig_path_join(dir, names[i]);
        char *text;
        size_t len;
        if (!ig_fs_read(path, 16u << 20, &text, &len, NULL)) {
            printf("==> %s try %d (%s)\n", task, tryn, path);
            fwrite(text, 1, len, stdout);
            if (len && text[len - 1] != '\n') putchar('\n');
            free(text);
            shown++;
        }
        free(path);
        free(names[i]);
    }
    free(dir);
    free(run);
    if (!shown && o_task) return ig_err(&cli->err, IG_ERR_NOT_FOUND, "no log for task '%s' in that run", o_task);
    return IG_OK;
}

typedef struct bf_job {
    ig_cli *cli;
    const ig_pipeline *pl;
    int64_t (*intervals)[2];
    size_t n, next;
    int failed;
    pthread_mutex_t lock;
} bf_job;

static void *bf_worker(void *arg)
{
    bf_job *j = arg;
    ig_wh *wh;
    ig_error e;
    if (ig_wh_clone(j->cli->wh, &wh, &e)) return NULL;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        size_t i = j->next++;
        pthread_mutex_unlock(&j->lock);
        if (i >= j->n || g_cancel) break;
        ig_error_clear(&e);
        if (run_one(j->cli, wh, j->pl, "backfill", j->intervals[i][0], j->intervals[i][1], NULL, &e)) {
            pthread_mutex_lock(&j->lock);
            j->failed++;
            pthread_mutex_unlock(&j->lock);
        }
    }
    ig_wh_close(wh);
    return NULL;
}

static ig_rc sub_backfill(ig_cli *cli, const ig_pipeline *pl)
{
    if (!pl->schedule)
        return ig_err(&cli->err, IG_ERR_USAGE, "pipeline %s has no schedule, so it has no intervals to backfill", pl->name);
    if (!o_from || !o_to) {
        ig_err(&cli->err, IG_ERR_USAGE, "backfill needs --from DATE and --to DATE");
        ig_err_hint(&cli->err, "e.g. ingot pipeline backfill %s --from 2026-01-01 --to 2026-02-01", pl->name);
        return IG_ERR_USAGE;
    }
    int64_t from, to;
    if (!ig_parse_local_time(o_from, pl->tz, &from)) return ig_err(&cli->err, IG_ERR_USAGE, "--from: '%s' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)", o_from);
    if (!ig_parse_local_time(o_to, pl->tz, &to)) return ig_err(&cli->err, IG_ERR_USAGE, "--to: '%s' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)", o_to);
    if (to <= from) return ig_err(&cli->err, IG_ERR_USAGE, "--to must be after --from");
    size_t cap = 64, n = 0;
    int64_t (*iv)[2] = ig_malloc(cap * sizeof *iv);
    int64_t s = ig_cron_next(&pl->cron, pl->tz, from - 1);
    while (s >= 0 && s < to) {
        int64_t e = ig_cron_next(&pl->cron, pl->tz, s);
        if (e < 0 || e > to) break;
        if (n == cap) iv = ig_realloc(iv, (cap *= 2) * sizeof *iv);
        iv[n][0] = s;
        iv[n][1] = e;
        n++;
        if (n > 100000) break;
        s = e;
    }
    if (!n) {
        free(iv);
        return ig_err(&cli->err, IG_ERR_USAGE, "no complete interval of '%s' lies between %s and %s", pl->schedule, o_from, o_to);
    }
    fprintf(stderr, "backfill %s: %zu intervals, up to %d at a time\n", pl->name, n, pl->max_active_runs);
    bf_job j = {.cli = cli, .pl = pl, .intervals = iv, .n = n};
    pthread_mutex_init(&j.lock, NULL);
    int workers = pl->max_active_runs < (int)n ? pl->max_active_runs : (int)n;
    pthread_t th[64];
    if (workers > 64) workers = 64;
    for (int i = 0; i < workers; i++) pthread_create(&th[i], NULL, bf_worker, &j);
    for (int i = 0; i < workers; i++) pthread_join(th[i], NULL);
    pthread_mutex_destroy(&j.lock);
    free(iv);
    if (g_cancel) return ig_err(&cli->err, IG_ERR_INTERRUPTED, "backfill interrupted");
    if (j.failed) return ig_err(&cli->err, IG_ERR_FAILED, "backfill %s: %d of %zu runs failed", pl->name, j.failed, n);
    fprintf(stderr, "backfill %s: %zu runs succeeded\n", pl->name, n);
    return IG_OK;
}

static ig_rc sub_pause(ig_cli *cli, const ig_pipeline *pl, bool paused)
{
    ig_param p[2] = {IG_P_TEXT(pl->name), IG_P_BOOL(paused)};
    ig_rc rc = ig_wh_exec_params(cli->wh,
                                 "INSERT INTO ingot.pipeline_state VALUES ($1, $2, now()::timestamp) ON CONFLICT "
                                 "(pipeline) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at",
                                 p, 2, NULL, &cli->err);
    if (!rc) printf("pipeline %s is %s\n", pl->name, paused ? "paused" : "unpaused");
    return rc;
}

ig_rc cmd_pipeline(ig_cli *cli)
{
    static const char *const subs[] = {"list", "run", "status", "history", "logs", "backfill", "pause", "unpause"};
    if (cli->argc < 1) {
        ig_err(&cli->err, IG_ERR_USAGE, "'ingot pipeline' needs a subcommand: list, run, status, history, logs, backfill, pause, unpause");
        return IG_ERR_USAGE;
    }
    const char *sub = cli->argv[0];
    int k = -1;
    for (int i = 0; i < 8; i++)
        if (!strcmp(sub, subs[i])) k = i;
    if (k < 0) {
        ig_err(&cli->err, IG_ERR_USAGE, "unknown subcommand 'ingot pipeline %s'", sub);
        const char *s = ig_str_suggest(sub, subs, 8);
        if (s) ig_err_hint(&cli->err, "did you mean 'ingot pipeline %s'?", s);
        return IG_ERR_USAGE;
    }
    ig_pipeline_set set;
    ig_rc rc = ig_pipelines_load(cli->arena, cli->project, &set, &cli->err);
    if (rc) return rc;
    if (k == 0) return sub_list(cli, &set);
    if ((rc = need_name(cli, sub))) return rc;
    const ig_pipeline *pl;
    if ((rc = find(cli, &set, cli->argv[1], &pl))) return rc;
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    switch (k) {
    case 1: rc = sub_run(cli, pl); break;
    case 2: rc = sub_status(cli, pl); break;
    case 3: rc = sub_history(cli, pl); break;
    case 4: rc = sub_logs(cli, pl); break;
    case 5: rc = sub_backfill(cli, pl); break;
    case 6: rc = sub_pause(cli, pl, true); break;
    case 7: rc = sub_pause(cli, pl, false); break;
    }
    sigaction(SIGINT, &old, NULL);
    return rc;
}
