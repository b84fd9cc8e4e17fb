/* `ingot serve`: the daemon of a project. Today it hosts the event collector
 * (HTTP API, webhooks, Pub/Sub pull, WAL, loader); the scheduler, the
 * Postgres-wire SQL endpoint and the web UI join it as more components of
 * the same process (README.md says how). It owns the project's warehouse
 * while it runs (DuckDB allows one writing process), so CLI commands find it
 * through its pid file and ask it instead of opening the warehouse.
 *
 * Process model: the main thread only waits for signals and runs a monitor
 * tick each second (backpressure, metrics gauges); HTTP worker threads
 * answer requests; the WAL writer, the loader and one thread per Pub/Sub
 * source do the rest. SIGTERM/SIGINT: graceful stop (stop accepting, answer
 * what is in flight, flush the WAL, load what it holds, close the
 * warehouse). SIGHUP: reload ingot.yml (sources, keys, limits) without
 * dropping a connection; a listen address change needs a restart. */
#ifndef IG_SERVE_H
#define IG_SERVE_H

#include "core/error.h"
#include "project/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ig_serve_options {
    const char *listen;         /* overrides serve.listen; NULL: the project's */
    int workers;                /* HTTP threads; 0: number of CPUs */
    const char *wal_dir;        /* NULL: <warehouse folder>/events-wal */
    bool no_fsync;              /* benchmarks of the ceiling only: NOT durable */
    size_t max_body_bytes;      /* HTTP body cap as sent; default 4 MiB */
    int loader_interval_ms;     /* default 1000 */
    uint64_t max_lag_bytes;     /* loader behind by more -> 429; default 1 GiB */
    uint64_t wal_max_disk;      /* WAL segments on disk above this -> 429; default 4 GiB */
    int group_commit_us;        /* WAL commit window (ig_wal_options); 0: none */
    uint64_t min_free_bytes;    /* free disk under the WAL below this -> 503; default 512 MiB */
    bool once;                  /* load what the WAL holds, then exit (no listener) */
    bool no_scheduler;          /* do not fire the project's pipelines */
    const char *ready_file;     /* written with the port once listening (tests) */
} ig_serve_options;

/* Run the daemon in the foreground until SIGTERM/SIGINT. Errors before it
 * is up: IG_ERR_LOCKED (another daemon of this project runs: its pid and
 * address in the message), IG_ERR_IO (port taken, WAL not writable),
 * IG_ERR_CONFIG (sources), warehouse errors. The project's arena must live
 * as long as the call. */
ig_rc ig_serve_run(ig_project *p, const ig_serve_options *opt, ig_error *err);

/* What a CLI command needs to find the running daemon of a project. */
typedef struct ig_serve_info {
    int pid;
    char listen[128]; /* host:port actually bound */
    char started_at[40];
    char version[32];
} ig_serve_info;

/* 1 and *out when a daemon of the project runs (its lock is held), 0 when
 * none does. Never fails loudly; safe to call often. */
int ig_serve_find(const ig_project *p, ig_serve_info *out);

/* Path of the pid/lock file: serve.pid_file, or beside the warehouse file it
 * guards: <warehouse>.serve.pid, e.g. warehouse/shop.duckdb.serve.pid (caller frees
 * with free()). It holds one JSON object {pid, listen, started_at, version}
 * and is flock()ed by the daemon for its whole life. */
char *ig_serve_pid_path(const ig_project *p);

#endif
