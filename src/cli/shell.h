/* The interactive SQL shell of `ingot query` (no SQL given, standard input
 * a terminal): GNU readline line editing, history kept in ~/.ingot_history,
 * statements that run over several lines until a `;`, dot-commands (.help,
 * .tables, .schema, .format, .timer, .maxrows, .quit). Every statement goes
 * through the governed query path (ig_gov_query). Errors are printed and the
 * shell goes on. */
#ifndef IG_CLI_SHELL_H
#define IG_CLI_SHELL_H

#include "cli/cli.h"
#include "output/output.h"

#include <stdbool.h>

/* Run one piece of SQL (one or more statements; the last one's result is
 * shown) through ig_gov_query and write the result with `o` to `output` (a
 * file path, written atomically) or to stdout. A statement that returns no
 * rows prints "OK, N rows changed" (to stdout for the table format, else to
 * stderr so that machine-readable output stays clean). On a SQL error, err
 * gets the offending line and a caret in its detail, and `file` (may be
 * NULL) as its file. Ctrl-C interrupts the running statement
 * (IG_ERR_INTERRUPTED). Defined in cmd_query.c. */
ig_rc ig_query_print(ig_cli *cli, const char *sql, const char *file, const ig_out_options *o,
                     const char *output, ig_error *err);

/* Run the shell on cli->wh until .quit or end of input. `base` gives the
 * starting output options (format, null text, max rows). Returns IG_OK at
 * the end; errors of single statements do not end it. */
ig_rc ig_shell_run(ig_cli *cli, const ig_out_options *base);

/* True when `sql` holds at least one statement and ends with a `;` that is
 * outside quotes ('...', "...", $$...$$ or $tag$...$tag$) and comments
 * (-- and nested block comments): the point where the shell runs what was
 * typed. */
bool ig_shell_complete(const char *sql);

#endif
