/* CLI commands and a running `ingot serve` (docs/serve.md, "CLI commands and
 * the daemon"): DuckDB allows one writing process, and the daemon holds the
 * warehouse while it runs. `ingot query` (with SQL) and `ingot pipeline run`
 * then ask the daemon to do the work through its control API
 * (src/serve/api.h); any other warehouse command gets an error naming the
 * daemon's pid and what to do. */
#ifndef IG_CLI_DAEMON_H
#define IG_CLI_DAEMON_H

#include "cli/cli.h"
#include "output/output.h"
#include "serve/serve.h"

#include <signal.h>
#include <stdbool.h>

/* For the dispatcher, before it opens the warehouse: true when this command
 * goes to the running daemon instead (then cli->wh stays NULL). */
bool ig_cli_daemon_routes(ig_cli *cli);
/* The daemon routed to, or NULL when the command runs locally. */
const ig_serve_info *ig_cli_daemon(void);
/* For the dispatcher, after opening the warehouse failed with
 * IG_ERR_LOCKED: when the holder is this project's daemon, say so in
 * cli->err with its pid and what to do. */
void ig_cli_daemon_lock_error(ig_cli *cli);

/* `ingot query` through the daemon: the same output, errors and exit codes
 * as ig_query_print. */
ig_rc ig_cli_query_remote(ig_cli *cli, const char *sql, const char *file, const ig_out_options *o,
                          const char *output, ig_error *err);
/* `ingot pipeline run NAME` through the daemon: trigger it, follow the run
 * to its end (*cancel set by Ctrl-C stops following, not the run). */
ig_rc ig_cli_pipeline_run_remote(ig_cli *cli, const char *pipeline,
                                 volatile sig_atomic_t *cancel, ig_error *err);
/* cmd_query.c: true when `ingot query` would open the interactive shell. */
bool ig_query_wants_shell(const ig_cli *cli);

#endif
