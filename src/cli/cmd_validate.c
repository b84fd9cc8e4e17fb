/* `ingot validate`: check the project without running anything, and report
 * every problem found, each with file:line:column.
 *
 * The checks are a table: the project file first (it must load for the
 * others to mean anything), then one function per later layer (models,
 * pipelines, ...), each appending what it finds to the problem list. To add
 * a check, write `static void check_x(ig_cli *, const ig_project *,
 * ig_problems *)` and add it to `checks[]`. */
#include "cli/cli.h"

#include "core/fs.h"
#include "ingest/files/sources.h"
#include "orchestrate/pipeline.h"
#include "transform/transform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const ig_opt ig_opts_validate[] = {{0}};

typedef void (*check_fn)(ig_cli *cli, const ig_project *p, ig_problems *probs);

/* pipelines: definitions, task kinds, cron strings, time zones, cycles */
static void check_pipelines(ig_cli *cli, const ig_project *p, ig_problems *probs)
{
    ig_pipeline_set set;
    ig_error e;
    ig_error_clear(&e);
    if (ig_pipelines_load(cli->arena, p, &set, &e)) ig_problems_add(cli->arena, probs, &e);
}

/* file sources (files, http_file): keys, paths, formats */
static void check_file_sources(ig_cli *cli, const ig_project *p, ig_problems *probs)
{
    const ig_yaml *sources = p->root ? ig_yaml_get(p->root, "sources") : NULL;
    for (size_t i = 0; sources && sources->kind == IG_Y_MAP && i < sources->n; i++) {
        const char *name = sources->keys[i]->str;
        if (!ig_ingest_is_file_source(p, name)) continue;
        ig_error e;
        ig_error_clear(&e);
        if (ig_ingest_source_check(cli->arena, p, name, &e)) ig_problems_add(cli->arena, probs, &e);
    }
}

/* the dbt project, when there is one: YAML, templates, refs, cycles */
static void check_models(ig_cli *cli, const ig_project *p, ig_problems *probs)
{
    const char *dir = p->transform.project_dir ? p->transform.project_dir : p->dir;
    char *file = ig_path_join(dir, "dbt_project.yml");
    bool present = ig_fs_exists(file);
    free(file);
    if (!present) return;
    ig_transform_options o = {0};
    ig_transform_result r;
    ig_error e;
    ig_error_clear(&e);
    memset(&r, 0, sizeof r);
    if (ig_transform_parse(p, &o, &r, &e)) ig_problems_add(cli->arena, probs, &e);
    ig_transform_result_free(&r);
}

static const struct {
    const char *what;
    check_fn fn;
} checks[] = {
    {"pipelines", check_pipelines},
    {"file sources", check_file_sources},
    {"models", check_models},
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
