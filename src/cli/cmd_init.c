/* `ingot init [DIR] [--name NAME] [--force]`: scaffold a project (the work is
 * ig_project_init_ex in project/init.c) and say what was created and what to
 * run next. */
#include "cli/cli.h"

#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"

#include <stdlib.h>
#include <string.h>

static const char *opt_name;
static bool opt_force;

const ig_opt ig_opts_init[] = {
    {"name", 'n', IG_OPT_STR, &opt_name, "NAME",
     "project name (default: from the folder name): lowercase letters, digits and _"},
    {"force", 'f', IG_OPT_FLAG, &opt_force, NULL,
     "replace an existing ingot.yml (the old one is kept as ingot.yml.bak)"},
    {0},
};

ig_rc cmd_init(ig_cli *cli)
{
    const char *name = opt_name;
    bool force = opt_force;
    opt_name = NULL; /* the options are read once per run */
    opt_force = false;
    if (cli->argc > 1) {
        ig_err(&cli->err, IG_ERR_USAGE, "ingot init takes one folder, got %d arguments", cli->argc);
        ig_err_hint(&cli->err, "ingot init [DIR] [--name NAME] [--force]");
        return IG_ERR_USAGE;
    }
    /* DIR is relative to -C */
    const char *base = cli->dir && *cli->dir ? cli->dir : ".";
    char *dir = !cli->argc           ? ig_strdup(base)
                : !strcmp(base, ".") ? ig_strdup(cli->argv[0])
                                     : ig_path_join(base, cli->argv[0]);
    const char **made = NULL;
    size_t nmade = 0;
    ig_rc rc = ig_project_init_ex(cli->arena, dir, name, force, &made, &nmade, &cli->err);
    if (rc) {
        free(dir);
        return rc;
    }
    bool here = !strcmp(dir, ".");
    const char *shown = here ? "" : dir;
    if (!here && !strncmp(shown, "./", 2)) shown += 2;
    for (size_t i = 0; i < nmade; i++) {
        bool bak = ig_str_ends(made[i], ".bak");
        printf("%s %s%s%s\n", bak ? "kept the old ingot.yml as" : "created", shown,
               *shown ? "/" : "", made[i]);
    }
    char *real = ig_path_real(dir);
    printf("\nProject ready in %s. Next:\n", real ? real : dir);
    if (!here) printf("  cd %s\n", shown);
    printf("  ingot validate          # check ingot.yml\n"
           "  ingot query 'select 42' # talk to the warehouse\n");
    free(real);
    free(dir);
    return 0;
}
