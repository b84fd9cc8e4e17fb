/* `ingot validate`: check the project without running anything, and report
 * every problem found, each with file:line:column.
 *
 * The checks are a table: the project file first (it must load for the
 * others to mean anything), then one function per later layer (models,
 * pipelines, ...), each appending what it finds to the problem list. To add
 * a check, write `static void check_x(ig_cli *, const ig_project *,
 * ig_problems *)` and add it to `checks[]`. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>

const ig_opt ig_opts_validate[] = {{0}};

typedef void (*check_fn)(ig_cli *cli, const ig_project *p, ig_problems *probs);

static const struct {
    const char *what;
    check_fn fn;
} checks[] = {
    /* {"models", check_models}, {"pipelines", check_pipelines}, ... */
    {NULL, NULL},
};

ig_rc cmd_validate(ig_cli *cli)
{
    if (cli->argc > 0) {
        ig_err(&cli->err, IG_ERR_USAGE, "ingot validate takes no arguments");
        ig_err_hint(&cli->err, "use `ingot -C DIR validate` to check the project in DIR");
        return IG_ERR_USAGE;
    }
    char *dir = NULL;
    ig_rc rc = ig_project_find(cli->dir, &dir, &cli->err);
    if (rc) return rc;
    ig_problems probs = {0};
    ig_project *p = NULL;
    rc = ig_project_load_all(cli->arena, dir, &p, &probs, &cli->err);
    free(dir);
    if (!rc)
        for (size_t i = 0; checks[i].fn; i++)
            checks[i].fn(cli, p, &probs);
    if (!probs.n) {
        printf("%s is valid (project %s)\n", IG_PROJECT_FILE, p->name);
        return 0;
    }
    if (probs.n == 1) {
        cli->err = probs.items[0]; /* the dispatcher prints it */
        return cli->err.code;
    }
    for (size_t i = 0; i < probs.kept; i++) {
        ig_error_print(&probs.items[i], stderr);
        fputc('\n', stderr);
    }
    int code = probs.items[0].code;
    if (probs.n > probs.kept)
        ig_err(&cli->err, code, "%zu problems in the project (the first %zu shown)", probs.n,
               probs.kept);
    else
        ig_err(&cli->err, code, "%zu problems in the project", probs.n);
    return code;
}
