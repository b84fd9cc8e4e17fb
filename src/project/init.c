/* `ingot init`: scaffold a new project. Writes a commented ingot.yml that
 * explains each key, the folders the layers expect (models/, seeds/, tests/,
 * macros/, lake/, warehouse/), a .gitignore for data and build output, and
 * one example model. Files that already exist are never touched, except
 * ingot.yml with `force` (the old one is kept as ingot.yml.bak). */
#include "project/config.h"

#include "core/fs.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

static const char yml_template[] =
    "# ingot.yml: the project file of an ingot project.\n"
    "# Every key is described in the manual (docs/project.md). `ingot validate`\n"
    "# checks this file and tells you what is wrong and where.\n"
    "#\n"
    "# Any value may read the environment: ${VAR} (an error when VAR is not set)\n"
    "# or ${VAR:-default}. Keep passwords and tokens in the environment, never in\n"
    "# this file. Write $${ for a literal ${.\n"
    "\n"
    "# The project's name: lowercase letters, digits and _, starting with a letter\n"
    "# or _. It names the warehouse file.\n"
    "name: %s\n"
    "\n"
    "# The format of this file. This ingot reads version 1.\n"
    "version: 1\n"
    "\n"
    "# Where the data is stored and queried.\n"
    "warehouse:\n"
    "  # The engine: duckdb (embedded, one file, nothing to install).\n"
    "  type: duckdb\n"
    "  # The database file, relative to this folder (default shown).\n"
    "  # path: warehouse/%s.duckdb\n"
    "  # Threads for queries; 0 lets the engine decide (one per core).\n"
    "  threads: 0\n"
    "  # The most memory the engine may use, e.g. 4GB or 512MiB; by default the\n"
    "  # engine takes up to 80%% of the machine's memory.\n"
    "  # memory_limit: 4GB\n"
    "\n"
    "# The raw zone: every file exactly as received, plus a manifest per batch.\n"
    "lake:\n"
    "  path: lake\n"
    "\n"
    "# Transformations: a dbt project (models/, seeds/, tests/, macros/).\n"
    "transform:\n"
    "  # The dbt project folder, relative to this folder.\n"
    "  project_dir: .\n"
    "  # Where profiles.yml is, when you keep one (default: dbt's own search).\n"
    "  # profiles_dir: ~/.dbt\n"
    "  # The profile target to run against (default: the profile's own).\n"
    "  # target: dev\n"
    "\n"
    "# `ingot serve`: event collector, scheduler, SQL endpoint and web UI.\n"
    "serve:\n"
    "  # HOST:PORT. 127.0.0.1 keeps it to this machine; 0.0.0.0 opens it to the\n"
    "  # network.\n"
    "  listen: 127.0.0.1:8080\n";

static const char gitignore[] = "# ingot: data and build output, not source\n"
                                "/warehouse/\n"
                                "/lake/\n"
                                "/target/\n"
                                "/logs/\n"
                                "*.duckdb\n"
                                "*.duckdb.wal\n"
                                "ingot.yml.bak\n";

static const char example_model[] =
    "-- An example model. Each .sql file under models/ is one select statement;\n"
    "-- the transformation layer builds it into a view or table named after the\n"
    "-- file (here: example). Replace it with your own.\n"
    "select 1 as id\n";

typedef struct {
    ig_arena *a;
    const char *dir;
    const char **list;
    size_t n, cap;
} created;

static void note(created *c, const char *rel)
{
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 16;
        const char **nl = ig_arena_alloc(c->a, ncap * sizeof *nl);
        if (c->n) memcpy(nl, c->list, c->n * sizeof *nl);
        c->list = nl;
        c->cap = ncap;
    }
    c->list[c->n++] = ig_arena_strdup(c->a, rel);
}

static ig_rc make_dir(created *c, const char *rel, ig_error *err)
{
    char *p = ig_path_join(c->dir, rel);
    ig_rc rc = 0;
    if (!ig_fs_is_dir(p)) {
        if (ig_fs_exists(p)) {
            rc = ig_err(err, IG_ERR_USAGE, "%s exists and is not a directory", p);
            ig_err_hint(err, "move it out of the way and run `ingot init` again");
        } else if (!(rc = ig_fs_mkdirs(p, err))) {
            char *r = ig_asprintf("%s/", rel);
            note(c, r);
            free(r);
        }
    }
    free(p);
    return rc;
}

/* Write rel unless it exists. */
static ig_rc make_file(created *c, const char *rel, const char *text, bool listed, ig_error *err)
{
    char *p = ig_path_join(c->dir, rel);
    ig_rc rc = 0;
    if (!ig_fs_exists(p)) {
        rc = ig_fs_write_atomic(p, text, strlen(text), 0644, err);
        if (!rc && listed) note(c, rel);
    }
    free(p);
    return rc;
}

ig_rc ig_project_init_ex(ig_arena *a, const char *dir, const char *name, bool force,
                         const char ***out, size_t *nout, ig_error *err)
{
    if (!dir || !*dir) dir = ".";
    if (name && !ig_project_name_valid(name)) {
        ig_err(err, IG_ERR_USAGE, "'%s' is not a valid project name", name);
        ig_err_hint(err,
                    "use lowercase letters, digits and _, starting with a letter or _ (at most "
                    "63), e.g. --name %s",
                    ig_project_name_from(a, name));
        return IG_ERR_USAGE;
    }
    if (ig_fs_exists(dir) && !ig_fs_is_dir(dir)) {
        ig_err(err, IG_ERR_USAGE, "%s exists and is not a directory", dir);
        ig_err_hint(err, "give `ingot init` a new or existing folder");
        return IG_ERR_USAGE;
    }
    char *yml = ig_path_join(dir, IG_PROJECT_FILE);
    bool exists = ig_fs_exists(yml);
    free(yml);
    if (exists && !force) {
        ig_err(err, IG_ERR_USAGE, "%s already has an %s", strcmp(dir, ".") ? dir : "this directory",
               IG_PROJECT_FILE);
        ig_err_hint(err,
                    "`ingot validate` checks it; `ingot init --force` replaces it (the old "
                    "one is kept as %s.bak)",
                    IG_PROJECT_FILE);
        return IG_ERR_USAGE;
    }
    ig_rc rc = ig_fs_mkdirs(dir, err);
    if (rc) return rc;
    if (!name) {
        char *real = ig_path_real(dir);
        const char *base = real ? strrchr(real, '/') : NULL;
        name = ig_project_name_from(a, base && base[1] ? base + 1 : "");
        free(real);
    }

    created c = {.a = a, .dir = dir};
    if (exists) {
        /* --force: keep the old file beside the new one */
        char *p = ig_path_join(dir, IG_PROJECT_FILE), *bak = ig_asprintf("%s.bak", p), *old;
        size_t len;
        rc = ig_fs_read(p, (size_t)16 << 20, &old, &len, err);
        if (!rc) {
            rc = ig_fs_write_atomic(bak, old, len, 0644, err);
            free(old);
        }
        free(p);
        free(bak);
        if (rc) return rc;
        note(&c, IG_PROJECT_FILE ".bak");
    }
    char *text = ig_asprintf(yml_template, name, name);
    char *p = ig_path_join(dir, IG_PROJECT_FILE);
    rc = ig_fs_write_atomic(p, text, strlen(text), 0644, err);
    free(p);
    free(text);
    if (rc) return rc;
    note(&c, IG_PROJECT_FILE);

    static const char *const dirs[] = {"models", "seeds", "tests", "macros", "lake", "warehouse"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
        if ((rc = make_dir(&c, dirs[i], err))) return rc;
    if ((rc = make_file(&c, ".gitignore", gitignore, true, err))) return rc;
    if ((rc = make_file(&c, "models/example.sql", example_model, true, err))) return rc;
    /* git keeps no empty folder */
    static const char *const keep[] = {"seeds/.gitkeep", "tests/.gitkeep", "macros/.gitkeep"};
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++)
        if ((rc = make_file(&c, keep[i], "", false, err))) return rc;
    if (out) *out = c.list;
    if (nout) *nout = c.n;
    return 0;
}

ig_rc ig_project_init(const char *dir, const char *name, ig_error *err)
{
    ig_arena *a = ig_arena_new();
    ig_rc rc = ig_project_init_ex(a, dir, name, false, NULL, NULL, err);
    ig_arena_free(a);
    return rc;
}
