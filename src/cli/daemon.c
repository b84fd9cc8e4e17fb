/* CLI commands and a running daemon (daemon.h): find it, route `ingot
 * query` and `ingot pipeline run` to its control API, and explain the lock
 * to every other warehouse command. */
#include "cli/daemon.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"
#include "serve/api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static ig_serve_info g_info;
static bool g_routed;

bool ig_cli_daemon_routes(ig_cli *cli)
{
    if (!cli->project || !cli->cmd) return false;
    const char *name = cli->cmd->name;
    bool query = !strcmp(name, "query") && !ig_query_wants_shell(cli);
    bool run = !strcmp(name, "pipeline") && cli->argc >= 1 && !strcmp(cli->argv[0], "run");
    if (!query && !run) return false;
    if (!ig_serve_find(cli->project, &g_info) || !g_info.listen[0]) return false;
    g_routed = true;
    return true;
}

const ig_serve_info *ig_cli_daemon(void) { return g_routed ? &g_info : NULL; }

void ig_cli_daemon_lock_error(ig_cli *cli)
{
    ig_serve_info info;
    if (!cli->project || !ig_serve_find(cli->project, &info)) return;
    const char *name = cli->cmd ? cli->cmd->name : "this command";
    char detail[sizeof cli->err.detail];
    snprintf(detail, sizeof detail, "%s", cli->err.detail); /* "held by process N (cmdline)" */
    ig_err(&cli->err, IG_ERR_LOCKED, "the warehouse is in use by another process: ingot serve "
           "(pid %d, http://%s) holds the warehouse of project %s, so `ingot %s` cannot open it",
           info.pid, info.listen, cli->project->name, name);
    if (detail[0]) ig_err_detail(&cli->err, "%s", detail);
    ig_err_hint(&cli->err, "`ingot query` and `ingot pipeline run` go through the daemon; for "
                "`ingot %s`, stop the daemon with `kill %d` (it finishes what is in flight), run "
                "the command, then start `ingot serve` again", name, info.pid);
}

/* ---- ingot query ---------------------------------------------------------- */

ig_rc ig_cli_query_remote(ig_cli *cli, const char *sql, const char *file, const ig_out_options *o,
                          const char *output, ig_error *err)
{
    /* the checks the local writer makes before running anything (an XLSX
     * workbook to a terminal, a missing --output directory), word for word */
    ig_out_writer *w = NULL;
    ig_rc rc = ig_out_open(o, output, stdout, &w, err);
    ig_out_free(w);
    if (rc) return rc;
    if (output && !strcmp(output, "-")) output = NULL;
    uint64_t start = ig_now_ns();
    json_t *j = json_object();
    json_object_set_new(j, "sql", json_string(sql));
    json_object_set_new(j, "format", json_string(ig_out_format_name(o->format)));
    json_object_set_new(j, "no_header", json_boolean(o->no_header));
    if (o->null_text) json_object_set_new(j, "null", json_string(o->null_text));
    json_object_set_new(j, "width", json_integer(o->width));
    json_object_set_new(j, "max_rows", json_integer(o->max_rows));
    json_object_set_new(j, "color", json_boolean(o->color));
    json_object_set_new(j, "footer", json_boolean(o->footer));
    json_object_set_new(j, "timing", json_boolean(o->start_ns != 0));
    char *body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    ig_serve_reply rep;
    rc = ig_serve_call(cli->project, &g_info, "POST", "/api/query", body, strlen(body), &rep, err);
    free(body);
    if (!rc && rep.status != 200) {
        rc = ig_serve_reply_error(&rep, err);
        if (rc == IG_ERR_SQL) {
            ig_out_sql_caret(err, sql, cli->stderr_tty ? ig_out_terminal_width(2) : IG_OUT_DEFAULT_WIDTH);
            if (file && err->line > 0) ig_err_at(err, file, err->line, err->column);
        }
    }
    if (rc) {
        ig_serve_reply_free(&rep);
        return rc;
    }
    size_t n;
    const char *kind = ig_serve_reply_header(&rep, "x-ingot-result", &n);
    if (kind && n == 7 && !strncmp(kind, "changed", 7)) {
        bool to_stdout = o->format == IG_OUT_TABLE && !output;
        FILE *fp = to_stdout ? stdout : stderr;
        fwrite(rep.body.data, 1, rep.body.len, fp);
        fputc('\n', fp);
        fflush(fp);
    } else if (output) {
        rc = ig_fs_write_atomic(output, rep.body.data ? rep.body.data : "", rep.body.len, 0644, err);
        const char *rows = ig_serve_reply_header(&rep, "x-ingot-rows", &n);
        long long nrows = rows ? strtoll(rows, NULL, 10) : 0;
        if (!rc && cli->stderr_tty) {
            char d[32];
            ig_format_duration(ig_now_ns() - start, d, sizeof d);
            fprintf(stderr, "wrote %lld row%s to %s (%s)\n", nrows, nrows == 1 ? "" : "s", output, d);
        }
    } else if (rep.body.len && fwrite(rep.body.data, 1, rep.body.len, stdout) != rep.body.len) {
        rc = IG_OK; /* a closed pipe (`ingot query ... | head`) is not worth reporting */
    }
    fflush(stdout);
    ig_serve_reply_free(&rep);
    return rc;
}

/* ---- ingot pipeline run --------------------------------------------------- */

static ig_rc call_json(ig_cli *cli, const char *method, const char *path, const char *body,
                       int want, json_t **out, ig_error *err)
{
    ig_serve_reply rep;
    ig_rc rc = ig_serve_call(cli->project, &g_info, method, path, body, body ? strlen(body) : 0,
                             &rep, err);
    if (!rc && rep.status != want) rc = ig_serve_reply_error(&rep, err);
    if (!rc && out) {
        *out = json_loadb(rep.body.data ? rep.body.data : "", rep.body.len, 0, NULL);
        if (!*out)
            rc = ig_err(err, IG_ERR_IO, "ingot serve (pid %d) answered %s %s with something that "
                        "is not JSON", g_info.pid, method, path);
    }
    ig_serve_reply_free(&rep);
    return rc;
}

ig_rc ig_cli_pipeline_run_remote(ig_cli *cli, const char *pipeline, volatile sig_atomic_t *cancel,
                                 ig_error *err)
{
    /* the warehouse's clock, as the run's started_at is written with it */
    json_t *t = NULL;
    ig_serve_reply rep;
    const char *q = "{\"sql\":\"SELECT strftime(now()::TIMESTAMP, '%Y-%m-%d %H:%M:%S.%f')\","
                    "\"format\":\"csv\",\"no_header\":true}";
    ig_rc rc = ig_serve_call(cli->project, &g_info, "POST", "/api/query", q, strlen(q), &rep, err);
    if (!rc && rep.status != 200) rc = ig_serve_reply_error(&rep, err);
    char since[64] = "";
    if (!rc) {
        snprintf(since, sizeof since, "%.*s", (int)(rep.body.len < 63 ? rep.body.len : 63),
                 rep.body.data ? rep.body.data : "");
        since[strcspn(since, "\r\n")] = 0;
        for (char *s = since; *s; s++)
            if (*s == ' ') *s = '+';
    }
    ig_serve_reply_free(&rep);
    if (rc) return rc;
    char *path = ig_asprintf("/api/pipelines/%s/runs", pipeline);
    rc = call_json(cli, "POST", path, "", 202, NULL, err);
    if (rc) {
        free(path);
        return rc;
    }
    fprintf(stderr, "pipeline %s: started on ingot serve (pid %d); following the run (Ctrl-C stops "
                    "following, not the run)\n", pipeline, g_info.pid);
    char *poll = ig_asprintf("%s?since=%s", path, since);
    free(path);
    char run_id[128] = "", state[32] = "", msg[512] = "";
    uint64_t t0 = ig_now_ns();
    for (;;) {
        if (cancel && *cancel) {
            fprintf(stderr, "pipeline %s: no longer following; the run goes on in the daemon "
                            "(see `ingot pipeline status %s` once it is stopped, or its log)\n",
                    pipeline, pipeline);
            rc = ig_err(err, IG_ERR_INTERRUPTED, "stopped following pipeline %s", pipeline);
            break;
        }
        rc = call_json(cli, "GET", poll, NULL, 200, &t, err);
        if (rc) break;
        json_t *r = json_array_get(t, 0);
        if (r) {
            snprintf(run_id, sizeof run_id, "%s", json_string_value(json_object_get(r, "run_id")) ?: "");
            snprintf(state, sizeof state, "%s", json_string_value(json_object_get(r, "state")) ?: "");
            snprintf(msg, sizeof msg, "%s", json_string_value(json_object_get(r, "message")) ?: "");
        }
        json_decref(t);
        if (!strcmp(state, "success") || !strcmp(state, "failed") || !strcmp(state, "interrupted"))
            break;
        if (!run_id[0] && ig_now_ns() - t0 > 60ull * 1000000000ull) {
            rc = ig_err(err, IG_ERR_FAILED, "ingot serve (pid %d) accepted the run of %s but has not "
                        "started it after 60 s", g_info.pid, pipeline);
            ig_err_hint(err, "the pipeline may be at its max_active_runs or the daemon busy; see "
                             "the daemon's log");
            break;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    free(poll);
    if (rc) return rc;
    fprintf(stderr, "pipeline %s: %s (%s)\n", pipeline, state, msg);
    if (!strcmp(state, "interrupted"))
        return ig_err(err, IG_ERR_INTERRUPTED, "pipeline %s: run %s was interrupted", pipeline, run_id);
    if (strcmp(state, "success")) {
        ig_err(err, IG_ERR_FAILED, "pipeline %s: run %s failed (%s)", pipeline, run_id, msg);
        ig_err_hint(err, "see 'ingot pipeline logs %s --run %s' (after stopping the daemon), or "
                         "logs/pipelines/%s/%s/", pipeline, run_id, pipeline, run_id);
        return IG_ERR_FAILED;
    }
    return IG_OK;
}
