/* The command table — every `ingot` command in one place, like git's
 * commands[] — and the help text generated from it. */
#include "cli/cli.h"

#include "core/error.h"
#include "core/str.h"
#include "core/version.h"

#include <string.h>

const ig_command ig_commands[] = {
    {"init", cmd_init, 0, "Create a new project (ingot.yml, models/, seeds/, ...)",
     "ingot init [DIR] [--name NAME] [--force]",
     "Scaffolds a project in DIR (default: the current directory): ingot.yml, the\n"
     "folders for models, seeds, tests and macros, and where the lake and the\n"
     "warehouse live. An existing ingot.yml is never overwritten without --force.",
     ig_opts_init},
    {"validate", cmd_validate, 0, "Check the project without running anything",
     "ingot validate",
     "Reads ingot.yml (and later the models and pipelines it names) and reports\n"
     "every problem with file:line:column. Exits non-zero when anything is wrong.",
     ig_opts_validate},
    {"query", cmd_query, IG_CMD_WAREHOUSE, "Run SQL against the warehouse",
     "ingot query [options] [SQL]",
     "Runs SQL given as an argument, from a file (-f FILE) or from standard input,\n"
     "and prints the result as an aligned table or in another --format. With no\n"
     "SQL on a terminal, opens an interactive SQL shell.",
     ig_opts_query},
    {"demo", cmd_demo, 0, "Build a demo project: a fictional shop, bronze to gold",
     "ingot demo [DIR] [options]",
     "Creates a project in DIR (default: demo-shop), generates a deterministic\n"
     "fictional shop's data, lands it in bronze (files through the drop folder, web\n"
     "events through the collector), builds silver and gold with its dbt project\n"
     "(seed, snapshot, tests), and prints a short report (revenue by month, top\n"
     "products, conversion funnel, test summary). With --serve it then runs the\n"
     "daemon in the folder, which runs the demo's pipeline on its schedule.",
     ig_opts_demo},
    {"ingest", cmd_ingest, IG_CMD_WAREHOUSE, "Land files in the lake and load them into bronze",
     "ingot ingest file PATH... --source NAME [options] | ingot ingest SOURCE... | ingot ingest --all",
     "Lands each file in the lake's raw zone (lake/raw/SOURCE/STREAM/dt=.../), then loads it\n"
     "into bronze.SOURCE__STREAM exactly once: a file whose content is already loaded is\n"
     "skipped (unless --force); unreadable rows go to bronze.SOURCE__STREAM__rejects.\n"
     "SOURCE names a files or http_file source in ingot.yml. See docs/ingest.md.",
     ig_opts_ingest},
    {"source", cmd_source, IG_CMD_PROJECT, "Connectors: check, discover and sync a source",
     "ingot source list|spec|check|discover|sync|state|reset|freshness [NAME] [options]",
     "Databases (postgres, mysql/mariadb) and REST APIs declared in ingot.yml under\n"
     "'sources:'. 'check' tests the connection, 'discover' lists the streams with\n"
     "their columns and types, 'sync' lands them in bronze (and silver for\n"
     "incremental_dedup and cdc streams), committing each batch with its state.\n"
     "'reset' forgets a source's state and tables and drops its cdc replication\n"
     "slots. 'freshness' checks the dbt project's sources (warn_after/error_after).",
     ig_opts_source},
    {"compile", cmd_compile, 0, "Compile the dbt project's models to SQL",
     "ingot compile [--select SPEC] [options]",
     "Renders every selected model with the dbt context and writes the SQL to\n"
     "target/compiled/<package>/<path>. Templates that query the warehouse\n"
     "(run_query, is_incremental) see it as it is.",
     ig_opts_compile},
    {"run", cmd_run, 0, "Build the dbt project's models in the warehouse",
     "ingot run [--select SPEC] [--threads N] [--full-refresh] [options]",
     "Parses the dbt project (dbt_project.yml, models, macros, packages), compiles\n"
     "each selected model and materializes it (view, table, incremental, ephemeral)\n"
     "in DAG order, N at a time. A failed model skips its descendants. Writes the\n"
     "compiled SQL to target/compiled and what ran to target/run.",
     ig_opts_run},
    {"seed", cmd_seed, 0, "Load the dbt project's seeds (CSV files) into tables",
     "ingot seed [--select SPEC] [--full-refresh] [options]",
     "Loads each CSV of the seed paths into a table named after the file (its\n"
     "column_types, delimiter and schema from dbt_project.yml or properties YAML).\n"
     "Seeds are ref()-able like models.",
     ig_opts_seed},
    {"snapshot", cmd_snapshot, 0, "Record changes of the dbt project's snapshots (SCD2)",
     "ingot snapshot [--select SPEC] [options]",
     "Runs each snapshot ({% snapshot %} blocks, or snapshots: with relation: in\n"
     "YAML): new and changed rows get a new version with dbt_valid_from, the old\n"
     "version is closed with dbt_valid_to (strategies timestamp and check,\n"
     "hard_deletes ignore, invalidate or new_record).",
     ig_opts_snapshot},
    {"test", cmd_test, 0, "Run the dbt project's data tests",
     "ingot test [--select SPEC] [--fail-fast] [--store-failures] [options]",
     "Runs the generic tests of properties YAML (unique, not_null, accepted_values,\n"
     "relationships, {% test %} macros of the project and its packages) and the\n"
     "singular tests of the test paths; prints PASS, WARN or FAIL with the number\n"
     "of failing rows. Exits non-zero when a test fails or errors.",
     ig_opts_test},
    {"build", cmd_build, 0, "Seed, run, snapshot and test the dbt project in DAG order",
     "ingot build [--select SPEC] [--fail-fast] [--full-refresh] [options]",
     "Runs seeds, models, snapshots and tests together in DAG order: a node's\n"
     "tests run before its children, and a failing test (severity error) skips\n"
     "everything downstream of the node it tests.",
     ig_opts_build},
    {"parse", cmd_parse, 0, "Check the dbt project: templates, YAML, refs, cycles",
     "ingot parse [options]",
     "Reads and parses every file of the dbt project and its packages and builds\n"
     "the DAG, reporting the first problem with file:line:column.",
     ig_opts_parse},
    {"deps", cmd_deps, 0, "Install the dbt packages of packages.yml",
     "ingot deps [--project-dir DIR]",
     "Installs the local: packages listed in packages.yml into dbt_packages/.",
     ig_opts_deps},
    {"docs", cmd_docs, 0, "Generate the dbt project's documentation site",
     "ingot docs generate [--no-compile] [options]",
     "Writes target/catalog.json (the relations and columns in the warehouse),\n"
     "target/manifest.json and target/index.html: one self-contained page (no\n"
     "server, no network) with every model, source, seed, snapshot and test, their\n"
     "descriptions, columns, tests, SQL and a lineage graph you can click through.",
     ig_opts_docs},
    {"pipeline", cmd_pipeline, IG_CMD_WAREHOUSE, "Run, schedule and inspect pipelines",
     "ingot pipeline list|run|status|history|logs|backfill|pause|unpause [NAME] [options]",
     "Pipelines are named DAGs of tasks declared under 'pipelines:' in ingot.yml\n"
     "or in pipelines/*.yml. 'run' runs one now (covering the latest complete\n"
     "interval of its schedule) in the foreground; 'backfill' runs the intervals\n"
     "between --from and --to, up to max_active_runs at a time; 'pause' and\n"
     "'unpause' set what the daemon's scheduler does; 'status', 'history' and\n"
     "'logs' read the run history and each try's log.",
     ig_opts_pipeline},
    {"serve", cmd_serve, IG_CMD_PROJECT, "Run the daemon: event collector, scheduler",
     "ingot serve [--listen HOST:PORT] [options]",
     "Runs in the foreground until SIGTERM or Ctrl-C: the Segment/RudderStack-compatible\n"
     "event collector (/v1/track, /v1/batch, ...), webhooks (/hooks/SOURCE), Pub/Sub\n"
     "pull sources, /health and /metrics. Every accepted event is in the write-ahead\n"
     "log on disk before the 200, and is loaded into bronze.SOURCE__events. SIGHUP\n"
     "reloads ingot.yml. See docs/serve.md and docs/events.md.",
     ig_opts_serve},
    {"version", cmd_version, 0, "Print the versions of ingot and its warehouse engine",
     "ingot version", NULL, NULL},
    {"help", cmd_help, 0, "Show help for a command", "ingot help [COMMAND]", NULL, NULL},
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};

const ig_command *ig_cli_find(const char *name)
{
    for (const ig_command *c = ig_commands; c->name; c++)
        if (!strcmp(c->name, name)) return c;
    return NULL;
}

void ig_cli_print_help(FILE *out)
{
    fprintf(out,
            "ingot %s — the data platform in one program\n\n"
            "Usage: ingot [-C DIR] [--log-level LEVEL] [--log-format text|json] COMMAND [ARGS]\n\n"
            "Commands:\n",
            IG_VERSION);
    for (const ig_command *c = ig_commands; c->name; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out,
            "\nGlobal options:\n"
            "  -C DIR                 run as if started in DIR (the project folder)\n"
            "  --log-level LEVEL      debug, info, warn, error or off (default: info)\n"
            "  --log-format FORMAT    text (default) or json: one JSON object per line\n"
            "  -h, --help             show this help; 'ingot help COMMAND' for a command\n"
            "  --version              print the version\n"
            "\nExit codes:\n"
            "  0  success\n");
    static const struct { int code; const char *what; } codes[] = {
        {IG_ERR_USAGE, "wrong command-line usage"},
        {IG_ERR_CONFIG, "the project file is invalid"},
        {IG_ERR_NOT_FOUND, "something named does not exist (file, project, table)"},
        {IG_ERR_IO, "a file or directory could not be read or written"},
        {IG_ERR_SQL, "the SQL failed (syntax, unknown table, ...)"},
        {IG_ERR_LOCKED, "the warehouse is in use by another process"},
        {IG_ERR_VERSION, "ingot.yml or the warehouse was written by a newer ingot or engine"},
        {IG_ERR_DATA, "input data or a file is not what it should be"},
        {IG_ERR_TEMPLATE, "a template (model, macro) failed to compile"},
        {IG_ERR_NETWORK, "a server could not be reached"},
        {IG_ERR_AUTH, "authentication failed or access was refused"},
        {IG_ERR_LIMIT, "a size or count limit was exceeded"},
        {IG_ERR_FAILED, "work ran but some of it failed (tests, models)"},
        {IG_ERR_INTERRUPTED, "interrupted (Ctrl-C)"},
        {IG_ERR_INTERNAL, "an internal error: please report it"},
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        fprintf(out, "  %-2d %s\n", ig_errcode_exit(codes[i].code), codes[i].what);
    fprintf(out, "\nDocumentation: docs/ in the source tree; 'ingot help COMMAND'.\n");
}

void ig_cli_print_command_help(const ig_command *cmd, FILE *out)
{
    fprintf(out, "Usage: %s\n\n%s\n", cmd->usage, cmd->summary);
    if (cmd->description) fprintf(out, "\n%s\n", cmd->description);
    if (cmd->opts && cmd->opts->name) {
        fprintf(out, "\nOptions:\n");
        for (const ig_opt *o = cmd->opts; o->name; o++) {
            char left[64];
            int n = 0;
            if (o->shortname) n = snprintf(left, sizeof left, "-%c, ", o->shortname);
            else n = snprintf(left, sizeof left, "    ");
            snprintf(left + n, sizeof left - (size_t)n, "--%s%s%s", o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
            fprintf(out, "  %-26s %s\n", left, o->help ? o->help : "");
        }
    }
}

ig_rc cmd_version(ig_cli *cli)
{
    printf("ingot %s\n", IG_VERSION);
    printf("warehouse schema version %d\n", ig_wh_schema_version());
    /* The engine version needs no warehouse file: an in-memory one will do. */
    ig_wh *wh;
    ig_error e;
    ig_error_clear(&e);
    if (!ig_wh_open(&(ig_wh_options){.path = ":memory:", .no_migrate = true}, &wh, &e)) {
        printf("%s %s\n", ig_wh_driver_name(wh), ig_wh_engine_version(wh));
        ig_wh_close(wh);
    }
    return IG_OK;
}

ig_rc cmd_help(ig_cli *cli)
{
    if (cli->argc == 0) {
        ig_cli_print_help(stdout);
        return IG_OK;
    }
    const ig_command *c = ig_cli_find(cli->argv[0]);
    if (!c) {
        const char *names[64];
        size_t n = 0;
        for (const ig_command *k = ig_commands; k->name && n < 64; k++) names[n++] = k->name;
        ig_err(&cli->err, IG_ERR_USAGE, "no command '%s'", cli->argv[0]);
        const char *s = ig_str_suggest(cli->argv[0], names, n);
        if (s) ig_err_hint(&cli->err, "did you mean 'ingot help %s'?", s);
        else ig_err_hint(&cli->err, "'ingot --help' lists the commands");
        return IG_ERR_USAGE;
    }
    ig_cli_print_command_help(c, stdout);
    return IG_OK;
}
