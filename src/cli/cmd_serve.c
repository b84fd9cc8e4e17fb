/* `ingot serve`: run the project's daemon in the foreground (the event
 * collector and the scheduler today; the SQL endpoint and web UI later). The
 * work is in src/serve/; this file maps ingot.yml's serve: section and the
 * options (which win) to ig_serve_options. */
#include "cli/cli.h"

#include "serve/serve.h"

#include <stdio.h>

static const char *o_listen, *o_wal_dir, *o_ready_file;
static long o_workers, o_max_body, o_interval;
static bool o_no_fsync, o_once, o_status, o_no_scheduler;

const ig_opt ig_opts_serve[] = {
    {"listen", 'l', IG_OPT_STR, &o_listen, "HOST:PORT", "listen here instead of serve.listen (port 0: any free port)"},
    {"workers", 'w', IG_OPT_INT, &o_workers, "N", "HTTP worker threads (default: serve.workers, else one per CPU)"},
    {"wal-dir", 0, IG_OPT_STR, &o_wal_dir, "DIR", "event write-ahead log folder (default: serve.wal.dir, else beside the warehouse)"},
    {"max-body", 0, IG_OPT_INT, &o_max_body, "BYTES", "largest request body as sent (default: serve.limits.max_body, else 4 MiB)"},
    {"load-interval", 0, IG_OPT_INT, &o_interval, "MS", "load events into bronze at least this often (default: serve.loader.interval, else 1000; -1: only at stop)"},
    {"once", 0, IG_OPT_FLAG, &o_once, NULL, "load what the event WAL holds into bronze, then exit"},
    {"status", 0, IG_OPT_FLAG, &o_status, NULL, "say whether the daemon of this project runs, and where"},
    {"ready-file", 0, IG_OPT_STR, &o_ready_file, "FILE", "write the bound address here once listening"},
    {"no-fsync", 0, IG_OPT_FLAG, &o_no_fsync, NULL, "UNSAFE, benchmarks only: answer without fsync"},
    {"no-scheduler", 0, IG_OPT_FLAG, &o_no_scheduler, NULL, "do not fire the project's pipelines"},
    {0},
};

ig_rc cmd_serve(ig_cli *cli)
{
    if (cli->argc > 0) {
        ig_err(&cli->err, IG_ERR_USAGE, "ingot serve takes no arguments");
        ig_err_hint(&cli->err, "use --listen HOST:PORT to choose the address");
        return IG_ERR_USAGE;
    }
    if (o_status) {
        ig_serve_info info;
        if (ig_serve_find(cli->project, &info)) {
            printf("ingot serve is running: pid %d, http://%s, since %s (ingot %s)\n", info.pid,
                   info.listen, info.started_at, info.version);
            return IG_OK;
        }
        ig_err(&cli->err, IG_ERR_NOT_FOUND, "ingot serve is not running for project %s",
               cli->project->name);
        ig_err_hint(&cli->err, "start it with `ingot serve`");
        return IG_ERR_NOT_FOUND;
    }
    if (o_workers < 0 || o_workers > 64) {
        ig_err(&cli->err, IG_ERR_USAGE, "--workers must be between 1 and 64");
        return IG_ERR_USAGE;
    }
    /* ingot.yml's serve: section, each value overridden by its flag */
    const ig_project *p = cli->project;
    ig_serve_options o = {.listen = o_listen,
                          .workers = o_workers ? (int)o_workers : p->serve.workers,
                          .wal_dir = o_wal_dir ? o_wal_dir : p->serve.wal_dir,
                          .no_fsync = o_no_fsync || p->serve.no_fsync,
                          .no_scheduler = o_no_scheduler,
                          .max_body_bytes = o_max_body > 0 ? (size_t)o_max_body : p->serve.max_body,
                          .loader_interval_ms = o_interval > 0   ? (int)o_interval
                                                : o_interval < 0 ? -1
                                                                 : p->serve.load_interval_ms,
                          .max_lag_bytes = p->serve.max_lag,
                          .min_free_bytes = p->serve.min_free_disk,
                          .wal_max_disk = p->serve.wal_max_disk,
                          .group_commit_us = p->serve.group_commit_us,
                          .once = o_once,
                          .ready_file = o_ready_file};
    return ig_serve_run(cli->project, &o, &cli->err);
}
