/* The command-line interface: one table of commands (commands.c, like git's
 * commands[]), a shared option parser, and the context every command gets.
 *
 * The dispatcher (main.c) parses the global options (-C, --log-level,
 * --log-format), finds the command, parses its options from its option
 * table (unknown flags get the nearest valid one suggested), loads the
 * project when the command's flags ask for it, opens the warehouse when they
 * ask for it, then calls cmd_<name>(cli). A command returns an ig_rc; on
 * failure it has filled cli->err and the dispatcher prints it and exits with
 * the code's exit status. */
#ifndef IG_CLI_H
#define IG_CLI_H

#include "core/arena.h"
#include "core/error.h"
#include "project/config.h"
#include "warehouse/warehouse.h"

#include <stdbool.h>
#include <stdio.h>

/* Option kinds. */
typedef enum { IG_OPT_FLAG, IG_OPT_STR, IG_OPT_INT, IG_OPT_MULTI } ig_opt_kind;

/* One option of a command. `out` points to: bool (FLAG), const char *
 * (STR), long (INT), or ig_strlist (MULTI, repeated or space-separated). */
typedef struct ig_opt {
    const char *name; /* long name without "--" */
    char shortname;   /* 0 for none */
    ig_opt_kind kind;
    void *out;
    const char *arg;  /* metavar in help, e.g. "FILE" */
    const char *help;
} ig_opt;

typedef struct ig_strlist {
    const char **items;
    size_t n;
} ig_strlist;

typedef struct ig_cli ig_cli;
typedef ig_rc (*ig_cmd_fn)(ig_cli *cli);

/* Command flags: what the dispatcher prepares before calling. */
enum {
    IG_CMD_PROJECT = 1 << 0,   /* load the project (error if none) */
    IG_CMD_WAREHOUSE = 1 << 1, /* open the warehouse (implies PROJECT) */
    IG_CMD_READONLY = 1 << 2,  /* warehouse may be opened read-only */
};

typedef struct ig_command {
    const char *name;
    ig_cmd_fn fn;
    int flags;
    const char *summary; /* one line for `ingot --help` */
    const char *usage;   /* "ingot query [options] [SQL]" */
    const char *description; /* paragraphs for `ingot help CMD` */
    const ig_opt *opts;  /* the command's options (NULL-name terminated), may be NULL */
} ig_command;

struct ig_cli {
    const ig_command *cmd;
    int argc;           /* positional arguments after option parsing */
    char **argv;
    const char *dir;    /* -C DIR, or "." */
    ig_project *project;  /* when IG_CMD_PROJECT */
    ig_wh *wh;            /* when IG_CMD_WAREHOUSE */
    ig_arena *arena;    /* lives for the whole command */
    ig_error err;
    bool stdout_tty, stderr_tty;
};

/* The command table (commands.c); terminated by a {NULL} entry. */
extern const ig_command ig_commands[];
const ig_command *ig_cli_find(const char *name);

/* Parse options in argv[0..argc) against opts, leaving positional arguments
 * in *pargc and *pargv (allocated in arena). "--" ends options. Errors name the
 * flag and suggest the nearest valid one. `--help` is handled by the caller
 * before this. */
ig_rc ig_cli_parse_opts(ig_arena *a, const char *cmdname, const ig_opt *opts, int argc,
                        char **argv, int *pargc, char ***pargv, ig_error *err);

/* Print `ingot help CMD` text for a command. */
void ig_cli_print_command_help(const ig_command *cmd, FILE *out);
/* Print `ingot --help`. */
void ig_cli_print_help(FILE *out);

/* Open the project's warehouse into cli->wh (for commands that only need it
 * conditionally). */
ig_rc ig_cli_open_warehouse(ig_cli *cli, bool read_only);

/* The commands; each lives in its own file (cmd_NAME.c). */
ig_rc cmd_init(ig_cli *cli);
ig_rc cmd_validate(ig_cli *cli);
ig_rc cmd_query(ig_cli *cli);
ig_rc cmd_demo(ig_cli *cli);
ig_rc cmd_version(ig_cli *cli);
ig_rc cmd_help(ig_cli *cli);
ig_rc cmd_pipeline(ig_cli *cli);
ig_rc cmd_ingest(ig_cli *cli);
ig_rc cmd_source(ig_cli *cli);
extern const ig_opt ig_opts_source[];
ig_rc cmd_compile(ig_cli *cli);
ig_rc cmd_run(ig_cli *cli);
ig_rc cmd_parse(ig_cli *cli);
ig_rc cmd_deps(ig_cli *cli);
extern const ig_opt ig_opts_compile[], ig_opts_run[], ig_opts_parse[], ig_opts_deps[];
ig_rc cmd_seed(ig_cli *cli);
ig_rc cmd_snapshot(ig_cli *cli);
ig_rc cmd_test(ig_cli *cli);
ig_rc cmd_build(ig_cli *cli);
extern const ig_opt ig_opts_seed[], ig_opts_snapshot[], ig_opts_test[], ig_opts_build[];
ig_rc ig_cmd_source_freshness(ig_cli *cli); /* `ingot source freshness` */
ig_rc cmd_docs(ig_cli *cli); /* cmd_docs.c */
extern const ig_opt ig_opts_docs[];
ig_rc cmd_serve(ig_cli *cli);
extern const ig_opt ig_opts_serve[];
extern const ig_opt ig_opts_ingest[];

/* Option tables of the commands (defined beside each command). */
extern const ig_opt ig_opts_init[], ig_opts_validate[], ig_opts_query[], ig_opts_demo[],
    ig_opts_pipeline[];

#endif
