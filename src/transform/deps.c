/* `ingot deps`: install the packages named in packages.yml (or
 * dependencies.yml) into the packages folder (dbt_packages/ by default).
 * A `local:` package becomes a symbolic link named after the package's own
 * dbt_project.yml name, so edits to it are seen at once, as dbt's local
 * packages are. Hub (`package:`) and `git:` packages need the network and a
 * package index ingot does not have: they are an error that says so. */
#include "transform/tf_int.h"

#include "core/fs.h"
#include "core/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ig_rc ig_transform_deps(const ig_project *proj, const ig_transform_options *opts, ig_error *err)
{
    static const ig_transform_options none = {0};
    if (!opts) opts = &none;
    const char *dir = opts->project_dir;
    if (!dir && proj) dir = proj->transform.project_dir ? proj->transform.project_dir : proj->dir;
    if (!dir) dir = ".";
    char *root = ig_path_real(dir);
    if (!root) return ig_err(err, IG_ERR_NOT_FOUND, "dbt project folder %s does not exist", dir);
    ig_arena *a = ig_arena_new();
    ig_rc rc = 0;
    char *pf = ig_path_join(root, "packages.yml");
    if (!ig_fs_exists(pf)) {
        free(pf);
        pf = ig_path_join(root, "dependencies.yml");
    }
    ig_yaml *y = NULL, *proj_yml = NULL;
    ig_yaml_options yo = {.interpolate_env = false};
    if (!ig_fs_exists(pf)) {
        if (opts->out) fprintf(opts->out, "No packages.yml in %s: nothing to install\n", root);
        goto out;
    }
    if ((rc = ig_yaml_load(a, pf, &yo, &y, err))) goto out;
    char *dpf = ig_path_join(root, "dbt_project.yml");
    if (ig_fs_exists(dpf)) ig_yaml_load(a, dpf, &yo, &proj_yml, err);
    free(dpf);
    ig_error_clear(err);
    const ig_yaml *ip = proj_yml ? ig_yaml_get(proj_yml, "packages-install-path") : NULL;
    char *install = ig_path_join(root, ip && ip->str ? ip->str : "dbt_packages");
    const ig_yaml *pk = ig_yaml_get(y, "packages");
    if (!pk || pk->kind == IG_Y_NULL) {
        if (opts->out) fprintf(opts->out, "packages.yml lists no packages\n");
        free(install);
        goto out;
    }
    if (pk->kind != IG_Y_SEQ) {
        rc = ig_yaml_error(pk, err, "packages: expected a list");
        free(install);
        goto out;
    }
    if ((rc = ig_fs_mkdirs(install, err))) {
        free(install);
        goto out;
    }
    size_t installed = 0;
    for (size_t i = 0; i < pk->n && !rc; i++) {
        const ig_yaml *e = pk->items[i];
        const ig_yaml *loc = ig_yaml_get(e, "local");
        if (!loc) {
            const ig_yaml *what = ig_yaml_get(e, "package") ? ig_yaml_get(e, "package") : ig_yaml_get(e, "git");
            rc = ig_yaml_error(what ? what : e, err,
                               "only local: packages can be installed by ingot deps");
            ig_err_hint(err, "put the package's files in a folder (e.g. a git checkout) and list it as "
                             "'- local: path/to/package'");
            break;
        }
        const char *path;
        if ((rc = ig_yaml_str(loc, "local", &path, err))) break;
        char *abs = ig_path_join(root, path);
        char *real = ig_path_real(abs);
        if (!real) {
            rc = ig_yaml_error(loc, err, "local package folder %s does not exist", abs);
            free(abs);
            break;
        }
        char *ppf = ig_path_join(real, "dbt_project.yml");
        ig_yaml *py;
        if ((rc = ig_yaml_load(a, ppf, &yo, &py, err))) {
            if (rc == IG_ERR_NOT_FOUND) {
                ig_yaml_error(loc, err, "%s has no dbt_project.yml: not a dbt package", real);
                rc = IG_ERR_CONFIG;
            }
            free(ppf);
            free(real);
            free(abs);
            break;
        }
        free(ppf);
        const ig_yaml *nm = ig_yaml_get(py, "name");
        const char *name = nm && nm->str ? nm->str : NULL;
        if (!name) {
            rc = ig_yaml_error(py, err, "the package's dbt_project.yml has no name");
        } else {
            char *link = ig_path_join(install, name);
            unlink(link); /* a previous install; a real folder there is kept */
            if (symlink(real, link) != 0 && errno != EEXIST) {
                rc = ig_err(err, IG_ERR_IO, "cannot link %s to %s: %s", link, real, strerror(errno));
            } else {
                installed++;
                if (opts->out) fprintf(opts->out, "Installed %s from %s\n", name, path);
            }
            free(link);
        }
        free(real);
        free(abs);
    }
    if (!rc && opts->out)
        fprintf(opts->out, "Installed %zu package%s into %s\n", installed, installed == 1 ? "" : "s", install);
    free(install);
out:
    free(pf);
    free(root);
    ig_arena_free(a);
    return rc;
}
