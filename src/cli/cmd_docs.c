/* `ingot docs generate`: the dbt project's documentation site and
 * catalog (transform/docs.h). Works in an ingot project and in a plain
 * dbt project folder, like `ingot run`. */
#include "cli/cli.h"

#include "core/error.h"
#include "core/fs.h"
#include "transform/docs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const char *o_project_dir, *o_profiles_dir, *o_target, *o_profile, *o_vars, *o_target_path;
static bool o_no_compile;

const ig_opt ig_opts_docs[] = {
    {"project-dir", 0, IG_OPT_STR, &o_project_dir, "DIR",
     "the dbt project folder (default: transform.project_dir of ingot.yml, else the project "
     "folder)"},
    {"profiles-dir", 0, IG_OPT_STR, &o_profiles_dir, "DIR",
     "where profiles.yml is (default: $DBT_PROFILES_DIR, the project folder, ~/.dbt)"},
    {"profile", 0, IG_OPT_STR, &o_profile, "NAME", "the profile (default: dbt_project.yml's)"},
    {"target", 't', IG_OPT_STR, &o_target, "NAME", "the profile's target (default: its target:)"},
    {"vars", 0, IG_OPT_STR, &o_vars, "YAML", "variables for var(), a YAML or JSON mapping"},
    {"target-path", 0, IG_OPT_STR, &o_target_path, "DIR",
     "where catalog.json, manifest.json and index.html go (default: target)"},
    {"no-compile", 0, IG_OPT_FLAG, &o_no_compile, NULL,
     "do not compile the nodes: the site shows their raw SQL"},
    {0},
};

ig_rc cmd_docs(ig_cli *cli)
{
    if (cli->argc < 1 || strcmp(cli->argv[0], "generate")) {
        if (cli->argc >= 1 && !strcmp(cli->argv[0], "serve")) {
            ig_err(&cli->err, IG_ERR_USAGE, "ingot docs serve is not needed: the site is one file");
            ig_err_hint(&cli->err, "run `ingot docs generate`, then open target/index.html in a "
                                   "browser (or serve the target/ folder with any static server)");
            return IG_ERR_USAGE;
        }
        ig_err(&cli->err, IG_ERR_USAGE, cli->argc ? "unknown docs subcommand '%s'"
                                                  : "ingot docs needs a subcommand%s",
               cli->argc ? cli->argv[0] : "");
        ig_err_hint(&cli->err, "use `ingot docs generate`");
        return IG_ERR_USAGE;
    }
    if (cli->argc > 1) {
        ig_err(&cli->err, IG_ERR_USAGE, "ingot docs generate takes no arguments (got '%s')",
               cli->argv[1]);
        ig_err_hint(&cli->err, "options go before or after: --project-dir DIR, --target NAME");
        return IG_ERR_USAGE;
    }
    /* the ingot project when there is one; a plain dbt project otherwise */
    char *found = NULL;
    ig_error e;
    ig_error_clear(&e);
    if (!cli->project && !ig_project_find(cli->dir, &found, &e)) {
        ig_rc rc = ig_project_load(cli->arena, found, &cli->project, &cli->err);
        free(found);
        if (rc) return rc;
    }
    ig_transform_options o;
    memset(&o, 0, sizeof o);
    o.project_dir = o_project_dir;
    if (!o.project_dir && !cli->project) o.project_dir = cli->dir;
    o.profiles_dir = o_profiles_dir;
    o.target = o_target;
    o.profile = o_profile;
    o.vars = o_vars;
    o.target_path = o_target_path;
    o.out = stdout;
    o.color = cli->stdout_tty;
    ig_docs_result r;
    ig_rc rc = ig_transform_docs_generate(cli->project, cli->wh, &o, o_no_compile, &r, &cli->err);
    if (rc) return rc;
    if (r.compile_errors)
        printf("%zu node%s did not compile; the site shows %s raw SQL (run `ingot compile` for the "
               "errors)\n", r.compile_errors, r.compile_errors == 1 ? "" : "s",
               r.compile_errors == 1 ? "its" : "their");
    printf("Catalog written to %s (%zu relations)\n", r.catalog_path, r.relations);
    printf("Documentation of %zu nodes written to %s\n", r.nodes, r.index_path);
    printf("Open it in a browser: file://%s\n", r.index_path);
    ig_docs_result_free(&r);
    return 0;
}
