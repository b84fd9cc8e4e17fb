/* The interactive SQL shell (`ingot query` with no SQL on a terminal).
 *
 * Control flow: read a line with readline; at the start of a statement a
 * line that begins with '.' is a dot-command (table `meta[]`); otherwise the
 * line is added to the statement being typed, and once ig_shell_complete()
 * says it ends with a `;` the whole statement goes into the history (one
 * entry, appended to ~/.ingot_history at once so a crash loses nothing) and
 * runs through ig_query_print, the same path as `ingot query "SQL"`.
 * Ctrl-C while typing drops the statement being typed; while a statement
 * runs it interrupts it. Ctrl-D or .quit leaves. */
#include "cli/shell.h"
#include "core/sqlsplit.h"

#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"
#include "govern/query.h"

#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#define PROMPT "ingot> "
#define PROMPT_MORE "  ...> "
#define HISTORY_FILE ".ingot_history"
#define HISTORY_MAX 2000
#define STATEMENT_CAP ((size_t)64 << 20)

typedef struct shell {
    ig_cli *cli;
    ig_out_options o;
    bool timer;
    bool quit;
    char *history; /* path, or NULL when there is no $HOME */
    ig_buf stmt;   /* the statement being typed */
} shell;

/* --- statement completeness -------------------------------------------- */

bool ig_shell_complete(const char *s)
{
    ig_sql_scan r = ig_sql_split(s, strlen(s), NULL, 0);
    return r.ends_with_semicolon;
}

/* --- output helpers ------------------------------------------------------ */

/* Print rows of text (NULL for SQL NULL) through a writer in the current
 * format. */
static void print_rows(shell *sh, const ig_out_column *cols, size_t ncols, const char *const *cells,
                       size_t nrows)
{
    ig_out_options o = sh->o;
    o.start_ns = 0;
    o.width = ig_out_terminal_width(1);
    ig_out_writer *w;
    ig_error err;
    ig_error_clear(&err);
    ig_rc rc = ig_out_open(&o, NULL, stdout, &w, &err);
    if (!rc) rc = ig_out_begin(w, cols, ncols, &err);
    ig_value *vals = ig_calloc(ncols ? ncols : 1, sizeof *vals);
    for (size_t r = 0; r < nrows && !rc; r++) {
        for (size_t c = 0; c < ncols; c++) {
            const char *t = cells[r * ncols + c];
            vals[c] = (ig_value){
                .type = cols[c].type, .is_null = !t, .text = t, .len = t ? strlen(t) : 0};
        }
        rc = ig_out_row(w, vals, &err);
    }
    if (!rc) rc = ig_out_finish(w, &err);
    if (rc) ig_error_print(&err, stderr);
    ig_out_free(w);
    free(vals);
    fflush(stdout);
}

static void print_error(ig_error *err)
{
    fflush(stdout);
    if (err->code == IG_ERR_INTERRUPTED) fputc('\n', stderr); /* after the echoed ^C */
    ig_error_print(err, stderr);
    fflush(stderr);
}

/* --- dot-commands -------------------------------------------------------- */

typedef void (*meta_fn)(shell *sh, const char *arg);

static void m_help(shell *sh, const char *arg);

static void m_quit(shell *sh, const char *arg) { sh->quit = true; }

/* The platform's own schema is left out unless asked for by name. */
#define PLATFORM_SCHEMA "ingot"

static void m_tables(shell *sh, const char *arg)
{
    ig_wh_relation *rels = NULL;
    size_t n = 0, shown = 0, hidden = 0;
    ig_error err;
    ig_error_clear(&err);
    if (ig_wh_list_relations(sh->cli->wh, *arg ? arg : NULL, &rels, &n, &err)) {
        print_error(&err);
        return;
    }
    const char **cells = ig_calloc(n * 3 + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        if (!*arg && !strcmp(rels[i].schema, PLATFORM_SCHEMA)) {
            hidden++;
            continue;
        }
        cells[shown * 3] = rels[i].schema;
        cells[shown * 3 + 1] = rels[i].name;
        cells[shown * 3 + 2] = rels[i].kind;
        shown++;
    }
    if (!shown)
        printf(*arg ? "no tables or views in schema %s\n" : "no tables or views yet%s\n", arg);
    else {
        ig_out_column cols[] = {{"schema", IG_T_TEXT}, {"name", IG_T_TEXT}, {"kind", IG_T_TEXT}};
        print_rows(sh, cols, 3, cells, shown);
    }
    if (hidden)
        printf("(%zu platform tables in schema %s: .tables %s)\n", hidden, PLATFORM_SCHEMA,
               PLATFORM_SCHEMA);
    free(cells);
    ig_wh_relations_free(rels, n);
}

static void m_schema(shell *sh, const char *arg)
{
    ig_error err;
    ig_error_clear(&err);
    if (!*arg) {
        ig_err(&err, IG_ERR_USAGE, ".schema needs a table name");
        ig_err_hint(&err, "e.g. .schema gold.orders; .tables lists them");
        print_error(&err);
        return;
    }
    char *want = ig_strdup(arg);
    char *dot = strchr(want, '.');
    const char *schema = NULL, *name = want;
    if (dot) {
        *dot = '\0';
        schema = want;
        name = dot + 1;
    }
    ig_wh_relation *rels = NULL;
    size_t n = 0;
    if (ig_wh_list_relations(sh->cli->wh, NULL, &rels, &n, &err)) {
        print_error(&err);
        free(want);
        return;
    }
    size_t found = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rels[i].name, name) || (schema && strcmp(rels[i].schema, schema))) continue;
        found++;
        ig_buf sql = IG_BUF_INIT;
        ig_buf_puts(&sql, "SELECT column_name AS \"column\", data_type AS \"type\", "
                          "is_nullable AS \"nullable\" FROM information_schema.columns "
                          "WHERE table_schema = ");
        ig_wh_quote_literal(sh->cli->wh, &sql, rels[i].schema);
        ig_buf_puts(&sql, " AND table_name = ");
        ig_wh_quote_literal(sh->cli->wh, &sql, rels[i].name);
        ig_buf_puts(&sql, " ORDER BY ordinal_position");
        printf("%s.%s (%s)\n", rels[i].schema, rels[i].name, rels[i].kind);
        fflush(stdout);
        ig_out_options o = sh->o;
        o.start_ns = 0;
        o.footer = false;
        o.max_rows = 0;
        o.width = ig_out_terminal_width(1);
        if (ig_query_print(sh->cli, ig_buf_cstr(&sql), NULL, &o, NULL, &err)) print_error(&err);
        ig_buf_free(&sql);
    }
    if (!found) {
        const char **names = ig_calloc(n ? n : 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
            names[i] = rels[i].name;
        const char *s = ig_str_suggest(name, names, n);
        ig_err(&err, IG_ERR_NOT_FOUND, "no table or view named %s", arg);
        if (s)
            ig_err_hint(&err, "did you mean %s? .tables lists them", s);
        else
            ig_err_hint(&err, ".tables lists them");
        print_error(&err);
        free(names);
    }
    ig_wh_relations_free(rels, n);
    free(want);
}

static void m_format(shell *sh, const char *arg)
{
    ig_out_format f;
    if (!*arg) {
        printf("format: %s\n", ig_out_format_name(sh->o.format));
        return;
    }
    ig_error err;
    if (!ig_out_format_parse(arg, &f)) {
        ig_err(&err, IG_ERR_USAGE, "unknown format '%s'", arg);
        ig_err_hint(&err, "the formats are %s", ig_out_format_list());
        print_error(&err);
        return;
    }
    if (f == IG_OUT_XLSX) {
        ig_err(&err, IG_ERR_USAGE, "the shell cannot show XLSX");
        ig_err_hint(&err, "export with: ingot query --output result.xlsx \"SQL\"");
        print_error(&err);
        return;
    }
    sh->o.format = f;
}

static bool on_off(const char *arg, bool *out)
{
    if (!strcasecmp(arg, "on") || !strcmp(arg, "1") || !strcasecmp(arg, "true"))
        *out = true;
    else if (!strcasecmp(arg, "off") || !strcmp(arg, "0") || !strcasecmp(arg, "false"))
        *out = false;
    else
        return false;
    return true;
}

static void m_timer(shell *sh, const char *arg)
{
    if (!*arg) {
        printf("timer: %s\n", sh->timer ? "on" : "off");
        return;
    }
    if (!on_off(arg, &sh->timer)) {
        ig_error err;
        ig_err(&err, IG_ERR_USAGE, ".timer takes on or off, not '%s'", arg);
        print_error(&err);
    }
}

static void m_maxrows(shell *sh, const char *arg)
{
    long v;
    if (!*arg) {
        printf("maxrows: %ld%s\n", sh->o.max_rows, sh->o.max_rows ? "" : " (all)");
        return;
    }
    if (!ig_parse_long(arg, &v) || v < 0) {
        ig_error err;
        ig_err(&err, IG_ERR_USAGE, ".maxrows takes a count of rows (0 for all), not '%s'", arg);
        print_error(&err);
        return;
    }
    sh->o.max_rows = v;
}

static const struct meta {
    const char *name, *args, *help;
    meta_fn fn;
} meta[] = {
    {".help", "", "show this list", m_help},
    {".tables", "[SCHEMA]", "list tables and views (of one schema)", m_tables},
    {".schema", "[SCHEMA.]TABLE", "show the columns of a table or view", m_schema},
    {".format", "FORMAT", "table, csv, tsv, json, ndjson or markdown", m_format},
    {".timer", "on|off", "show how long each statement took", m_timer},
    {".maxrows", "N", "rows a table shows (0: all)", m_maxrows},
    {".quit", "", "leave the shell (also .exit, Ctrl-D)", m_quit},
    {".exit", NULL, NULL, m_quit},
};
#define NMETA (sizeof meta / sizeof meta[0])

static void m_help(shell *sh, const char *arg)
{
    printf("Type SQL ending with ; to run it (it may span lines). Dot-commands:\n");
    for (size_t i = 0; i < NMETA; i++) {
        if (!meta[i].help) continue;
        char head[48];
        snprintf(head, sizeof head, "%s %s", meta[i].name, meta[i].args);
        printf("  %-24s %s\n", head, meta[i].help);
    }
    printf("Ctrl-C drops the statement being typed or stops the one running.\n");
}

static void run_meta(shell *sh, char *line)
{
    char *p = line;
    while (*p && !isspace((unsigned char)*p))
        p++;
    char *arg = p;
    if (*arg) *arg++ = '\0';
    while (isspace((unsigned char)*arg))
        arg++;
    size_t alen = strlen(arg);
    while (alen && (isspace((unsigned char)arg[alen - 1]) || arg[alen - 1] == ';'))
        arg[--alen] = '\0';
    for (size_t i = 0; i < NMETA; i++)
        if (!strcmp(line, meta[i].name)) {
            meta[i].fn(sh, arg);
            fflush(stdout);
            return;
        }
    const char *names[NMETA];
    for (size_t i = 0; i < NMETA; i++)
        names[i] = meta[i].name;
    const char *s = ig_str_suggest(line, names, NMETA);
    ig_error err;
    ig_err(&err, IG_ERR_USAGE, "unknown command %s", line);
    if (s)
        ig_err_hint(&err, "did you mean %s? .help lists the commands", s);
    else
        ig_err_hint(&err, ".help lists the commands");
    print_error(&err);
}

/* --- completion ---------------------------------------------------------- */

static const char *const keywords[] = {
    "select",      "from",         "where",       "group by",   "order by",  "having",
    "limit",       "join",         "left join",   "inner join", "on",        "as",
    "and",         "or",           "not",         "null",       "is",        "in",
    "between",     "like",         "case",        "when",       "then",      "else",
    "end",         "distinct",     "count",       "sum",        "avg",       "min",
    "max",         "with",         "insert into", "values",     "update",    "set",
    "delete from", "create table", "create view", "drop table", "drop view", "describe",
    "union all",   "cast",         "coalesce",    "date_trunc", NULL};

static ig_cli *g_cli;
static char **g_cands;
static size_t g_ncands;

static void cands_free(void)
{
    for (size_t i = 0; i < g_ncands; i++)
        free(g_cands[i]);
    free(g_cands);
    g_cands = NULL;
    g_ncands = 0;
}

static char *generator(const char *text, int state)
{
    static size_t idx;
    if (!state) idx = 0;
    size_t n = strlen(text);
    while (idx < g_ncands) {
        const char *c = g_cands[idx++];
        if (!strncasecmp(c, text, n)) return ig_strdup(c);
    }
    return NULL;
}

static char **complete(const char *text, int start, int end)
{
    rl_attempted_completion_over = 1; /* never complete file names in SQL */
    cands_free();
    size_t cap = 64;
    g_cands = ig_calloc(cap, sizeof(char *));
    bool meta_word = start == 0 && text[0] == '.';
    if (meta_word) {
        for (size_t i = 0; i < NMETA; i++) {
            g_cands = ig_realloc(g_cands, (g_ncands + 1) * sizeof(char *));
            g_cands[g_ncands++] = ig_strdup(meta[i].name);
        }
    } else {
        for (size_t i = 0; keywords[i]; i++) {
            if (g_ncands == cap) g_cands = ig_realloc(g_cands, (cap *= 2) * sizeof(char *));
            g_cands[g_ncands++] = ig_strdup(keywords[i]);
        }
        ig_wh_relation *rels = NULL;
        size_t n = 0;
        ig_error err;
        if (g_cli && !ig_wh_list_relations(g_cli->wh, NULL, &rels, &n, &err)) {
            for (size_t i = 0; i < n; i++) {
                if (g_ncands + 2 > cap) g_cands = ig_realloc(g_cands, (cap *= 2) * sizeof(char *));
                g_cands[g_ncands++] = ig_asprintf("%s.%s", rels[i].schema, rels[i].name);
                g_cands[g_ncands++] = ig_strdup(rels[i].name);
            }
            ig_wh_relations_free(rels, n);
        }
    }
    return rl_completion_matches(text, generator);
}

/* --- Ctrl-C while typing -------------------------------------------------- */

/* Readline does not handle signals itself here (rl_catch_signals = 0): a
 * Ctrl-C while a line is edited clears it, moves to a fresh prompt and
 * marks the statement typed so far to be dropped. Readline is blocked in
 * read() when the signal arrives, which makes calling it from the handler
 * safe in practice (the way many REPLs do it). While a statement runs,
 * ig_query_print has its own handler that interrupts the warehouse. */
static volatile sig_atomic_t g_sigint, g_reading;

static void on_sigint(int sig)
{
    (void)sig;
    g_sigint = 1;
    if (!g_reading) return;
    rl_replace_line("", 0);
    rl_set_prompt(PROMPT);
    if (write(STDOUT_FILENO, "^C", 2) < 0) { /* nothing to do */
    }
    rl_crlf();
    rl_on_new_line();
    rl_redisplay();
}

/* --- the loop ------------------------------------------------------------ */

static void history_open(shell *sh)
{
    const char *home = getenv("HOME");
    using_history();
    stifle_history(HISTORY_MAX);
    if (!home || !*home) return;
    sh->history = ig_path_join(home, HISTORY_FILE);
    int fd = open(sh->history, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) close(fd);
    read_history(sh->history);
}

static void history_add(shell *sh, const char *entry)
{
    add_history(entry);
    if (sh->history) append_history(1, sh->history);
}

static void run_statement(shell *sh)
{
    ig_out_options o = sh->o;
    o.width = ig_out_terminal_width(1);
    o.start_ns = sh->timer ? 1 : 0;
    ig_error err;
    ig_error_clear(&err);
    if (ig_query_print(sh->cli, ig_buf_cstr(&sh->stmt), NULL, &o, NULL, &err)) print_error(&err);
    fflush(stdout);
}

/* Trimmed copy of the statement for the history: one entry per statement. */
static char *trimmed(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return ig_strndup(s, n);
}

ig_rc ig_shell_run(ig_cli *cli, const ig_out_options *base)
{
    shell sh = {.cli = cli, .o = *base, .timer = true};
    sh.o.footer = true;
    ig_buf_init(&sh.stmt, STATEMENT_CAP);
    g_cli = cli;
    history_open(&sh);
    rl_readline_name = "ingot";
    rl_attempted_completion_function = complete;
    rl_catch_signals = 0;
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);

    printf("ingot SQL shell, project %s (%s %s)\n", cli->project ? cli->project->name : "?",
           ig_wh_driver_name(cli->wh), ig_wh_engine_version(cli->wh));
    printf("End statements with ;  Type .help for commands, .quit or Ctrl-D to leave.\n");
    fflush(stdout);

    while (!sh.quit) {
        g_sigint = 0;
        g_reading = 1;
        char *line = readline(sh.stmt.len ? PROMPT_MORE : PROMPT);
        g_reading = 0;
        if (g_sigint) ig_buf_reset(&sh.stmt); /* Ctrl-C: the statement typed before is dropped */
        if (!line) {                          /* Ctrl-D */
            putchar('\n');
            break;
        }
        if (!sh.stmt.len) {
            char *p = line;
            while (isspace((unsigned char)*p))
                p++;
            if (!*p) {
                free(line);
                continue;
            }
            if (*p == '.') {
                history_add(&sh, p);
                run_meta(&sh, p);
                free(line);
                continue;
            }
        }
        if (ig_buf_puts(&sh.stmt, line) || ig_buf_putc(&sh.stmt, '\n')) {
            ig_error err;
            ig_err(&err, IG_ERR_LIMIT, "the statement is longer than %zu bytes; it was dropped",
                   (size_t)STATEMENT_CAP);
            print_error(&err);
            ig_buf_reset(&sh.stmt);
        }
        free(line);
        if (!ig_shell_complete(ig_buf_cstr(&sh.stmt))) continue;
        char *entry = trimmed(ig_buf_cstr(&sh.stmt));
        history_add(&sh, entry);
        free(entry);
        run_statement(&sh);
        ig_buf_reset(&sh.stmt);
    }
    if (sh.history) history_truncate_file(sh.history, HISTORY_MAX);
    sigaction(SIGINT, &old, NULL);
    clear_history();
    cands_free();
    g_cli = NULL;
    free(sh.history);
    ig_buf_free(&sh.stmt);
    fflush(stdout);
    return IG_OK;
}
