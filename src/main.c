/* ingot's entry point: global options, then the command from the table in
 * cli/commands.c, with the shared work (find and load the project, open the
 * warehouse) done here so each cmd_<name>() stays small. */
#include "cli/cli.h"
#include "cli/daemon.h"

#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/version.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const global_flags[] = {"--help", "--version", "--log-level", "--log-format",
                                           "-C"};

static int fail(const ig_error *err)
{
    ig_error_print(err, stderr);
    return ig_errcode_exit(err->code);
}

static int usage_error(const char *fmt, const char *arg, const char *hint)
{
    ig_error e;
    ig_err(&e, IG_ERR_USAGE, fmt, arg);
    if (hint) ig_err_hint(&e, "%s", hint);
    return fail(&e);
}

ig_rc ig_cli_open_warehouse(ig_cli *cli, bool read_only)
{
    if (cli->wh) return IG_OK;
    ig_project *p = cli->project;
    ig_wh_options opt = ig_project_wh_options(p);
    opt.read_only = read_only;
    char *dir = ig_path_dirname(p->warehouse.path);
    ig_rc rc = ig_fs_mkdirs(dir, &cli->err);
    free(dir);
    if (rc) return rc;
    rc = ig_wh_open(&opt, &cli->wh, &cli->err);
    if (rc == IG_ERR_LOCKED) ig_cli_daemon_lock_error(cli); /* name the daemon, say what to do */
    return rc;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    const char *dir = ".";
    int level = IG_LOG_INFO;
    ig_log_format fmt = IG_LOG_TEXT;
    const char *env_level = getenv("INGOT_LOG_LEVEL");
    if (env_level && ig_log_parse_level(env_level) >= 0) level = ig_log_parse_level(env_level);
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            ig_cli_print_help(stdout);
            return 0;
        }
        if (!strcmp(a, "--version")) {
            printf("ingot %s\n", IG_VERSION);
            return 0;
        }
        if (!strcmp(a, "-C") || !strcmp(a, "--log-level") || !strcmp(a, "--log-format")) {
            if (i + 1 >= argc) return usage_error("option %s needs a value", a, NULL);
            val = argv[++i];
        } else if (!strncmp(a, "-C", 2)) {
            val = a + 2;
            a = "-C";
        } else if (!strncmp(a, "--log-level=", 12)) {
            val = a + 12;
            a = "--log-level";
        } else if (!strncmp(a, "--log-format=", 13)) {
            val = a + 13;
            a = "--log-format";
        } else {
            const char *s = ig_str_suggest(a, global_flags, sizeof global_flags / sizeof *global_flags);
            char hint[128];
            snprintf(hint, sizeof hint, "did you mean '%s'? See 'ingot --help'", s ? s : "");
            return usage_error("unknown option '%s'", a, s ? hint : "see 'ingot --help'");
        }
        if (!strcmp(a, "-C")) dir = val;
        else if (!strcmp(a, "--log-level")) {
            level = ig_log_parse_level(val);
            if (level < 0)
                return usage_error("unknown log level '%s'", val,
                                   "use debug, info, warn, error or off");
        } else {
            if (!strcmp(val, "text")) fmt = IG_LOG_TEXT;
            else if (!strcmp(val, "json")) fmt = IG_LOG_JSON;
            else return usage_error("unknown log format '%s'", val, "use text or json");
        }
    }
    ig_log_setup((ig_log_level)level, fmt);
    if (i >= argc) {
        ig_cli_print_help(stderr);
        return ig_errcode_exit(IG_ERR_USAGE);
    }
    const char *name = argv[i++];
    const ig_command *cmd = ig_cli_find(name);
    if (!cmd) {
        const char *names[64];
        size_t n = 0;
        for (const ig_command *c = ig_commands; c->name && n < 64; c++) names[n++] = c->name;
        const char *s = ig_str_suggest(name, names, n);
        char hint[128];
        snprintf(hint, sizeof hint, "did you mean 'ingot %s'? See 'ingot --help'", s ? s : "");
        return usage_error("unknown command '%s'", name, s ? hint : "see 'ingot --help' for the commands");
    }
    for (int k = i; k < argc; k++) {
        if (!strcmp(argv[k], "--")) break;
        if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
            ig_cli_print_command_help(cmd, stdout);
            return 0;
        }
    }

    ig_cli cli = {0};
    cli.cmd = cmd;
    cli.arena = ig_arena_new();
    cli.dir = dir;
    cli.stdout_tty = isatty(1);
    cli.stderr_tty = isatty(2);
    ig_error_clear(&cli.err);
    int status = 0;
    ig_rc rc = ig_cli_parse_opts(cli.arena, cmd->name, cmd->opts, argc - i, argv + i, &cli.argc,
                                 &cli.argv, &cli.err);
    if (!rc && (cmd->flags & (IG_CMD_PROJECT | IG_CMD_WAREHOUSE))) {
        char *found = NULL;
        rc = ig_project_find(dir, &found, &cli.err);
        if (!rc) {
            rc = ig_project_load(cli.arena, found, &cli.project, &cli.err);
            free(found);
        }
    }
    if (!rc && (cmd->flags & IG_CMD_WAREHOUSE) && !ig_cli_daemon_routes(&cli))
        rc = ig_cli_open_warehouse(&cli, false); /* else `ingot serve` runs it (cli/daemon.h) */
    if (!rc) rc = cmd->fn(&cli);
    if (rc) {
        if (cli.err.code == IG_OK) ig_err(&cli.err, rc, "ingot %s failed", cmd->name);
        status = fail(&cli.err);
    }
    ig_wh_close(cli.wh);
    ig_arena_free(cli.arena);
    fflush(stdout);
    return status;
}
