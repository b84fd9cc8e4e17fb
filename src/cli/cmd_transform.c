/* `ingot compile | run | parse | deps | seed | snapshot | test | build`
 * and `ingot source freshness`: the dbt commands, over the
 * transform layer's C API (transform/transform.h). They work in an ingot
 * project (the dbt project is transform.project_dir, default the project
 * folder; the warehouse is the project's unless profiles.yml names another
 * file) and in a plain dbt project folder without ingot.yml (the warehouse
 * is the profile's path). */
#include "cli/cli.h"

#include "transform/transform.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *o_project_dir, *o_profiles_dir, *o_target, *o_profile, *o_vars, *o_select,
    *o_exclude, *o_target_path, *o_selector, *o_state;
static long o_threads;
static bool o_full_refresh, o_fail_fast, o_store_failures;

#define COMMON_OPTS                                                                          \
    {"project-dir", 0, IG_OPT_STR, &o_project_dir, "DIR",                                     \
     "the dbt project folder (default: transform.project_dir of ingot.yml, else the project " \
     "folder)"},                                                                              \
        {"profiles-dir", 0, IG_OPT_STR, &o_profiles_dir, "DIR",                               \
         "where profiles.yml is (default: $DBT_PROFILES_DIR, the project folder, ~/.dbt)"},   \
        {"profile", 0, IG_OPT_STR, &o_profile, "NAME", "the profile (default: dbt_project.yml's)"}, \
        {"target", 't', IG_OPT_STR, &o_target, "NAME", "the profile's target (default: its target:)"}, \
        {"vars", 0, IG_OPT_STR, &o_vars, "YAML",                                              \
         "variables for var(), a YAML or JSON mapping: --vars '{key: value}'"},               \
        {"target-path", 0, IG_OPT_STR, &o_target_path, "DIR", "where compiled SQL goes (default: target)"}

#define SELECT_OPTS                                                                          \
    {"select", 's', IG_OPT_STR, &o_select, "SPEC",                                            \
     "models to include: names, +name (with ancestors), name+ (with descendants), path:DIR"}, \
        {"exclude", 0, IG_OPT_STR, &o_exclude, "SPEC", "models to leave out (same forms)"},    \
        {"selector", 0, IG_OPT_STR, &o_selector, "NAME", "a selector of selectors.yml"},       \
        {"state", 0, IG_OPT_STR, &o_state, "DIR", "a previous target/ for state: selectors"},  \
        {"threads", 0, IG_OPT_INT, &o_threads, "N",                                            \
         "models built at once, each on its own connection (default: the profile's, else 1)"}

const ig_opt ig_opts_run[] = {
    COMMON_OPTS,
    SELECT_OPTS,
    {"full-refresh", 0, IG_OPT_FLAG, &o_full_refresh, NULL,
     "rebuild incremental models from scratch"},
    {0},
};

const ig_opt ig_opts_compile[] = {COMMON_OPTS, SELECT_OPTS, {0}};
const ig_opt ig_opts_seed[] = {
    COMMON_OPTS,
    SELECT_OPTS,
    {"full-refresh", 0, IG_OPT_FLAG, &o_full_refresh, NULL, "drop and reload every seed table"},
    {0},
};
const ig_opt ig_opts_snapshot[] = {COMMON_OPTS, SELECT_OPTS, {0}};
const ig_opt ig_opts_test[] = {
    COMMON_OPTS,
    SELECT_OPTS,
    {"fail-fast", 'x', IG_OPT_FLAG, &o_fail_fast, NULL, "stop at the first failing test"},
    {"store-failures", 0, IG_OPT_FLAG, &o_store_failures, NULL,
     "keep each test's failing rows in <schema>_dbt_test__audit.<test>"},
    {0},
};
const ig_opt ig_opts_build[] = {
    COMMON_OPTS,
    SELECT_OPTS,
    {"full-refresh", 0, IG_OPT_FLAG, &o_full_refresh, NULL,
     "rebuild incremental models and seeds from scratch"},
    {"fail-fast", 'x', IG_OPT_FLAG, &o_fail_fast, NULL,
     "stop at the first error or failing test (the rest is skipped)"},
    {"store-failures", 0, IG_OPT_FLAG, &o_store_failures, NULL,
     "keep each test's failing rows in <schema>_dbt_test__audit.<test>"},
    {0},
};
const ig_opt ig_opts_parse[] = {COMMON_OPTS, {0}};
const ig_opt ig_opts_deps[] = {
    {"project-dir", 0, IG_OPT_STR, &o_project_dir, "DIR", "the dbt project folder"},
    {0},
};

static volatile sig_atomic_t g_cancel;
static void on_sigint(int sig)
{
    (void)sig;
    if (g_cancel) _exit(130); /* a second Ctrl-C: stop now */
    g_cancel = 1;
}

/* The ingot project when there is one; NULL in a plain dbt project. */
static ig_rc find_project(ig_cli *cli, ig_project **out)
{
    *out = NULL;
    char *found = NULL;
    ig_error e;
    ig_error_clear(&e);
    if (ig_project_find(cli->dir, &found, &e)) return 0;
    ig_rc rc = ig_project_load(cli->arena, found, out, &cli->err);
    free(found);
    return rc;
}

static void options(ig_cli *cli, ig_transform_options *o)
{
    memset(o, 0, sizeof *o);
    o->project_dir = o_project_dir;
    if (!o->project_dir && !cli->project) o->project_dir = cli->dir;
    o->profiles_dir = o_profiles_dir;
    o->target = o_target;
    o->profile = o_profile;
    o->vars = o_vars;
    o->select = o_select;
    o->exclude = o_exclude;
    o->selector = o_selector;
    o->state = o_state;
    o->fail_fast = o_fail_fast;
    o->store_failures = o_store_failures;
    o->threads = (int)o_threads;
    o->full_refresh = o_full_refresh;
    o->target_path = o_target_path;
    o->out = stdout;
    o->color = cli->stdout_tty;
    o->cancel = &g_cancel;
}

static ig_rc no_args(ig_cli *cli)
{
    if (cli->argc == 0) return 0;
    ig_err(&cli->err, IG_ERR_USAGE, "ingot %s takes no arguments (got '%s')", cli->cmd->name,
           cli->argv[0]);
    ig_err_hint(&cli->err, "select models with --select NAME");
    return IG_ERR_USAGE;
}

typedef ig_rc (*tf_entry)(const ig_project *, ig_wh *, const ig_transform_options *,
                         ig_transform_result *, ig_error *);

static ig_rc run_entry(ig_cli *cli, tf_entry fn)
{
    ig_rc rc = no_args(cli);
    if (rc || (!cli->project && (rc = find_project(cli, &cli->project)))) return rc;
    ig_transform_options o;
    options(cli, &o);
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    ig_transform_result res;
    rc = fn(cli->project, NULL, &o, &res, &cli->err);
    sigaction(SIGINT, &old, NULL);
    if (g_cancel && rc) ig_err(&cli->err, IG_ERR_INTERRUPTED, "interrupted: nodes not started were skipped");
    ig_transform_result_free(&res);
    return rc;
}

ig_rc cmd_seed(ig_cli *cli) { return run_entry(cli, ig_transform_seed); }
ig_rc cmd_snapshot(ig_cli *cli) { return run_entry(cli, ig_transform_snapshot); }
ig_rc cmd_test(ig_cli *cli) { return run_entry(cli, ig_transform_test); }
ig_rc cmd_build(ig_cli *cli) { return run_entry(cli, ig_transform_build); }

/* `ingot source freshness` (dispatched by cmd_source.c, in an ingot
 * project): the dbt sources' freshness. */
ig_rc ig_cmd_source_freshness(ig_cli *cli)
{
    cli->argc--;
    cli->argv++;
    return run_entry(cli, ig_transform_freshness);
}

static ig_rc run_or_compile(ig_cli *cli, bool run)
{
    ig_rc rc = no_args(cli);
    if (rc || (rc = find_project(cli, &cli->project))) return rc;
    ig_transform_options o;
    options(cli, &o);
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    ig_transform_result res;
    rc = run ? ig_transform_run(cli->project, NULL, &o, &res, &cli->err)
             : ig_transform_compile(cli->project, NULL, &o, &res, &cli->err);
    sigaction(SIGINT, &old, NULL);
    if (g_cancel && rc) ig_err(&cli->err, IG_ERR_INTERRUPTED, "interrupted: models not started were skipped");
    ig_transform_result_free(&res);
    return rc;
}

ig_rc cmd_run(ig_cli *cli) { return run_or_compile(cli, true); }
ig_rc cmd_compile(ig_cli *cli) { return run_or_compile(cli, false); }

ig_rc cmd_parse(ig_cli *cli)
{
    ig_rc rc = no_args(cli);
    if (rc || (rc = find_project(cli, &cli->project))) return rc;
    ig_transform_options o;
    options(cli, &o);
    ig_transform_result res;
    rc = ig_transform_parse(cli->project, &o, &res, &cli->err);
    if (!rc) printf("Parsed %zu models in %.3fs\n", res.n_models, res.parse_seconds);
    ig_transform_result_free(&res);
    return rc;
}

ig_rc cmd_deps(ig_cli *cli)
{
    ig_rc rc = no_args(cli);
    if (rc || (rc = find_project(cli, &cli->project))) return rc;
    ig_transform_options o;
    options(cli, &o);
    return ig_transform_deps(cli->project, &o, &cli->err);
}
