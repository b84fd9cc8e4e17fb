/* `ingot query`: run SQL given as an argument, from a file (-f FILE), or from
 * standard input, and write the result in a format (src/output/) to the
 * terminal or to a file; with no SQL and a terminal on standard input, open
 * the interactive shell (shell.c). Every statement goes through the
 * governed path, ig_gov_query, so that policies apply to what people run. */
#include "cli/daemon.h"
#include "cli/shell.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"
#include "govern/query.h"
#include "output/output.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SQL_FILE_CAP ((size_t)64 << 20) /* a SQL script larger than this is a mistake */
#define TTY_MAX_ROWS 40                 /* rows shown on a terminal by default */

static const char *opt_file, *opt_format, *opt_output, *opt_null;
static bool opt_no_header;
static long opt_max_rows = -1;

const ig_opt ig_opts_query[] = {
    {"file", 'f', IG_OPT_STR, &opt_file, "FILE", "read the SQL from FILE ('-' for standard input)"},
    {"format", 0, IG_OPT_STR, &opt_format, "FORMAT",
     "table, csv, tsv, json, ndjson, markdown or xlsx (default: table, or what the --output "
     "file's extension says)"},
    {"output", 'o', IG_OPT_STR, &opt_output, "FILE",
     "write the result to FILE (complete or not at all) instead of standard output"},
    {"no-header", 0, IG_OPT_FLAG, &opt_no_header, NULL, "csv, tsv, xlsx: leave out the header row"},
    {"max-rows", 0, IG_OPT_INT, &opt_max_rows, "N",
     "table: show at most N rows, then '… N more rows' (default: 40 on a terminal, all "
     "otherwise; 0: all)"},
    {"null", 0, IG_OPT_STR, &opt_null, "TEXT",
     "how NULL reads in table, csv, tsv and markdown output (default: NULL in tables, empty in "
     "csv/tsv)"},
    {0},
};

/* Ctrl-C while a statement runs or streams: stop it, and let the writer
 * remove its temporary file. */
static volatile sig_atomic_t g_running, g_interrupted;
static ig_wh *g_wh;

static void on_sigint(int sig)
{
    (void)sig;
    g_interrupted = 1;
    if (g_running && g_wh) ig_wh_interrupt(g_wh);
}

bool ig_query_wants_shell(const ig_cli *cli) { return cli->argc == 0 && !opt_file && isatty(0); }

ig_rc ig_query_print(ig_cli *cli, const char *sql, const char *file, const ig_out_options *o,
                     const char *output, ig_error *err)
{
    if (!cli->wh && ig_cli_daemon()) /* ingot serve holds the warehouse: it runs the query */
        return ig_cli_query_remote(cli, sql, file, o, output, err);
    ig_principal who;
    ig_principal_cli(&who);
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    g_wh = cli->wh;
    g_interrupted = 0;
    g_running = 1;

    ig_out_options opts = *o;
    uint64_t start = ig_now_ns();
    opts.start_ns = o->start_ns ? start : 0; /* 0: no elapsed time shown */
    ig_wh_cursor *cur = NULL;
    ig_rc rc = ig_gov_query(cli->wh, &who, sql, &cur, err);
    if (rc == IG_ERR_SQL && !g_interrupted) {
        ig_out_sql_caret(err, sql,
                         cli->stderr_tty ? ig_out_terminal_width(2) : IG_OUT_DEFAULT_WIDTH);
        if (file && err->line > 0) ig_err_at(err, file, err->line, err->column);
    }
    if (!rc && !ig_wh_cursor_is_query(cur)) {
        ig_buf line = IG_BUF_INIT;
        ig_out_changed_line(&line, ig_wh_cursor_statement(cur), ig_wh_cursor_rows_changed(cur), opts.start_ns);
        bool to_stdout = o->format == IG_OUT_TABLE && !output;
        fprintf(to_stdout ? stdout : stderr, "%s\n", ig_buf_cstr(&line));
        fflush(to_stdout ? stdout : stderr);
        ig_buf_free(&line);
    } else if (!rc) {
        int64_t rows = 0;
        rc = ig_out_cursor(cur, &opts, output, stdout, (volatile const int *)&g_interrupted, &rows,
                           err);
        if (!rc && output && strcmp(output, "-") != 0 && cli->stderr_tty) {
            char d[32];
            ig_format_duration(ig_now_ns() - start, d, sizeof d);
            fprintf(stderr, "wrote %lld row%s to %s (%s)\n", (long long)rows, rows == 1 ? "" : "s",
                    output, d);
        }
        if (rc && ig_out_broken_pipe(err)) rc = IG_OK; /* `ingot query ... | head` */
    }
    if (cur) ig_wh_cursor_close(cur);
    g_running = 0;
    if (rc && g_interrupted) {
        ig_err(err, IG_ERR_INTERRUPTED, "query interrupted");
        if (output) ig_err_detail(err, "nothing was written to %s", output);
    }
    sigaction(SIGINT, &old, NULL);
    return rc;
}

/* Resolve the output options from the flags. */
static ig_rc options(ig_cli *cli, ig_out_options *o, ig_error *err)
{
    memset(o, 0, sizeof *o);
    o->format = IG_OUT_TABLE;
    if (opt_format) {
        if (!ig_out_format_parse(opt_format, &o->format)) {
            static const char *const f[] = {"table",  "csv",      "tsv", "json",
                                            "ndjson", "markdown", "xlsx"};
            const char *s = ig_str_suggest(opt_format, f, sizeof f / sizeof f[0]);
            ig_err(err, IG_ERR_USAGE, "unknown format '%s'", opt_format);
            if (s)
                ig_err_hint(err, "did you mean --format %s? The formats are %s", s,
                            ig_out_format_list());
            else
                ig_err_hint(err, "the formats are %s", ig_out_format_list());
            return IG_ERR_USAGE;
        }
    } else if (opt_output) {
        ig_out_format_from_path(opt_output, &o->format);
    }
    bool to_term = !opt_output && cli->stdout_tty;
    if (opt_max_rows < -1) {
        ig_err(err, IG_ERR_USAGE, "--max-rows takes a count of rows (0 for all), not %ld",
               opt_max_rows);
        return IG_ERR_USAGE;
    }
    o->max_rows = opt_max_rows >= 0 ? opt_max_rows : to_term ? TTY_MAX_ROWS : 0;
    o->no_header = opt_no_header;
    o->null_text = opt_null;
    o->width = to_term ? ig_out_terminal_width(1) : ig_out_terminal_width(-1);
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
    o->color = to_term && !(nc && *nc) && !(term && !strcmp(term, "dumb"));
    o->footer = true;
    o->start_ns = 1; /* show the elapsed time; ig_query_print sets the real start */
    return IG_OK;
}

ig_rc cmd_query(ig_cli *cli)
{
    ig_error *err = &cli->err;
    if (cli->argc > 1) {
        ig_err(err, IG_ERR_USAGE, "ingot query takes the SQL as one argument, got %d", cli->argc);
        ig_err_hint(err, "quote the whole statement: ingot query \"select * from t\"");
        return IG_ERR_USAGE;
    }
    if (cli->argc == 1 && opt_file) {
        ig_err(err, IG_ERR_USAGE, "give the SQL either as an argument or with -f FILE, not both");
        return IG_ERR_USAGE;
    }
    ig_out_options o;
    ig_rc rc = options(cli, &o, err);
    if (rc) return rc;

    const char *sql = cli->argc == 1 ? cli->argv[0] : NULL;
    const char *file = NULL;
    char *text = NULL;
    bool from_stdin = opt_file && !strcmp(opt_file, "-");
    if (!sql && !opt_file && !isatty(0)) from_stdin = true;
    if (!sql && !opt_file && !from_stdin) {
        if (opt_output) {
            ig_err(err, IG_ERR_USAGE, "--output needs SQL to run");
            ig_err_hint(err, "give the SQL as an argument, with -f FILE, or on standard input");
            return IG_ERR_USAGE;
        }
        o.start_ns = 1;
        return ig_shell_run(cli, &o);
    }
    if (!sql) {
        size_t len;
        file = from_stdin ? "<stdin>" : opt_file;
        rc = ig_fs_read(from_stdin ? "/dev/stdin" : opt_file, SQL_FILE_CAP, &text, &len, err);
        if (rc == IG_ERR_NOT_FOUND) {
            ig_err(err, IG_ERR_NOT_FOUND, "SQL file %s does not exist", opt_file);
            ig_err_hint(err, "check the path; a relative path is taken from the current directory");
        }
        if (rc) return rc;
        if (memchr(text, '\0', len)) {
            free(text);
            return ig_err(err, IG_ERR_DATA, "%s is not a SQL text file (it holds NUL bytes)", file);
        }
        sql = text;
        if (from_stdin) file = NULL; /* positions are shown with the echoed line instead */
    }
    rc = ig_query_print(cli, sql, file, &o, opt_output, err);
    free(text);
    return rc;
}
