/* Loading a dbt project: dbt_project.yml of the root project and of each
 * package installed in dbt_packages/, profiles.yml (looked up as dbt does)
 * or the ingot project's warehouse, `--vars`, and the config tree
 * (`models:` with `+` keys) that gives each node its project-level config.
 * Configs are jansson objects merged by dbt's rules (config.c would be the
 * name of a bigger split; the rules are short enough to live here). */
#include "transform/tf_int.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ map */

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

void *ig__tf_map_getn(const tf_map *m, const char *key, size_t n)
{
    if (!m->cap) return NULL;
    size_t i = hash_bytes(key, n) & (m->cap - 1);
    while (m->keys[i]) {
        if (!strncmp(m->keys[i], key, n) && m->keys[i][n] == 0) return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

void *ig__tf_map_get(const tf_map *m, const char *key) { return ig__tf_map_getn(m, key, strlen(key)); }

static void map_grow(tf_map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    const char **nk = ig_calloc(ncap, sizeof *nk);
    void **nv = ig_calloc(ncap, sizeof *nv);
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = hash_bytes(m->keys[i], strlen(m->keys[i])) & (ncap - 1);
        while (nk[j]) j = (j + 1) & (ncap - 1);
        nk[j] = m->keys[i];
        nv[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = nk;
    m->vals = nv;
    m->cap = ncap;
}

void *ig__tf_map_put(tf_map *m, const char *key, void *val)
{
    if ((m->len + 1) * 2 > m->cap) map_grow(m);
    size_t i = hash_bytes(key, strlen(key)) & (m->cap - 1);
    while (m->keys[i]) {
        if (!strcmp(m->keys[i], key)) {
            void *old = m->vals[i];
            m->vals[i] = val;
            return old;
        }
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = key;
    m->vals[i] = val;
    m->len++;
    return NULL;
}

void ig__tf_map_free(tf_map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------- YAML -> JSON */

static bool ieq(const char *a, const char *b) { return !strcasecmp(a, b); }

static json_t *scalar_json(const ig_yaml *n)
{
    const char *s = n->str ? n->str : "";
    if (n->quoted) return json_string(s);
    if (!*s || !strcmp(s, "~") || ieq(s, "null")) return json_null();
    if (ieq(s, "true") || ieq(s, "yes") || ieq(s, "on")) return json_true();
    if (ieq(s, "false") || ieq(s, "no") || ieq(s, "off")) return json_false();
    const char *p = s;
    if (*p == '-' || *p == '+') p++;
    if (isdigit((unsigned char)*p)) {
        bool all = true, dot = false;
        for (const char *c = p; *c; c++) {
            if (*c == '.' || *c == 'e' || *c == 'E' || ((*c == '-' || *c == '+') && (c[-1] == 'e' || c[-1] == 'E')))
                dot = true;
            else if (!isdigit((unsigned char)*c) && *c != '_') all = false;
        }
        if (all && !dot) {
            long v;
            if (ig_parse_long(s, &v)) return json_integer(v);
        }
        double d;
        if (all && dot && strchr(s, '.') && ig_parse_double(s, &d)) return json_real(d);
    }
    return json_string(s);
}

json_t *ig__tf_yaml_to_json(const ig_yaml *n)
{
    if (!n) return json_null();
    switch (n->kind) {
    case IG_Y_NULL: return json_null();
    case IG_Y_SCALAR: return scalar_json(n);
    case IG_Y_SEQ: {
        json_t *a = json_array();
        for (size_t i = 0; i < n->n; i++) json_array_append_new(a, ig__tf_yaml_to_json(n->items[i]));
        return a;
    }
    case IG_Y_MAP: {
        json_t *o = json_object();
        for (size_t i = 0; i < n->n; i++)
            json_object_set_new(o, n->keys[i]->str ? n->keys[i]->str : "",
                                ig__tf_yaml_to_json(n->items[i]));
        return o;
    }
    }
    return json_null();
}

/* ------------------------------------------------------------- configs */

/* Config keys whose value is a mapping: at a non-`+` key of the config
 * tree they are configs, not folders. */
static const char *const dict_configs[] = {"meta", "docs", "persist_docs", "grants", "contract",
                                           "labels", "column_types", "quoting", NULL};

static bool is_dict_config(const char *k)
{
    for (size_t i = 0; dict_configs[i]; i++)
        if (!strcmp(dict_configs[i], k)) return true;
    return false;
}

static const char *norm_key(const char *k, char *buf, size_t cap)
{
    if (*k == '+') k++;
    if (!strcmp(k, "pre_hook")) return "pre-hook";
    if (!strcmp(k, "post_hook")) return "post-hook";
    snprintf(buf, cap, "%s", k);
    return buf;
}

/* Hooks become a list of SQL strings; tags a list of strings. */
static json_t *as_list(json_t *v, bool hooks)
{
    json_t *out = json_array();
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (hooks && json_is_object(x)) { /* {sql, transaction: false} stays an object */
                json_t *s = json_object_get(x, "sql");
                if (s) json_array_append(out, json_is_false(json_object_get(x, "transaction")) ? x : s);
            } else if (!json_is_null(x)) json_array_append(out, x);
        }
    } else if (hooks && json_is_object(v)) {
        json_t *s = json_object_get(v, "sql");
        if (s) json_array_append(out, json_is_false(json_object_get(v, "transaction")) ? v : s);
    } else if (v && !json_is_null(v)) json_array_append(out, v);
    return out;
}

void ig__tf_config_set(json_t *cfg, const char *key, json_t *val)
{
    char kb[128];
    const char *k = norm_key(key, kb, sizeof kb);
    bool hooks = !strcmp(k, "pre-hook") || !strcmp(k, "post-hook");
    if (hooks || !strcmp(k, "tags")) {
        json_t *add = as_list(val, hooks);
        json_decref(val);
        json_t *cur = json_object_get(cfg, k);
        if (!json_is_array(cur)) {
            json_object_set_new(cfg, k, add);
            return;
        }
        size_t i;
        json_t *x;
        json_array_foreach(add, i, x) {
            bool dup = false;
            if (!hooks) { /* tags are a set */
                size_t j;
                json_t *y;
                json_array_foreach(cur, j, y) if (json_equal(x, y)) dup = true;
            }
            if (!dup) json_array_append(cur, x);
        }
        json_decref(add);
        return;
    }
    json_t *cur = json_object_get(cfg, k);
    if (json_is_object(cur) && json_is_object(val) && strcmp(k, "quoting") != 0 &&
        is_dict_config(k)) {
        json_t *copy = json_deep_copy(cur);
        json_object_update(copy, val);
        json_decref(val);
        json_object_set_new(cfg, k, copy);
        return;
    }
    json_object_set_new(cfg, k, val);
}

void ig__tf_config_merge(json_t *dst, json_t *src)
{
    const char *k;
    json_t *v;
    json_object_foreach(src, k, v) ig__tf_config_set(dst, k, json_incref(v));
}

const char *ig__tf_cfg_str(const json_t *cfg, const char *key, const char *dflt)
{
    json_t *v = json_object_get(cfg, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

bool ig__tf_cfg_bool(const json_t *cfg, const char *key, bool dflt)
{
    json_t *v = json_object_get(cfg, key);
    if (json_is_boolean(v)) return json_is_true(v);
    if (json_is_string(v)) return ieq(json_string_value(v), "true");
    return dflt;
}

/* Apply the configs at one level of the tree, then descend along fqn. */
static void apply_level(tf_project *p, const ig_yaml *m, const tf_node *n, size_t level, json_t *cfg)
{
    if (!m || m->kind != IG_Y_MAP) return;
    const ig_yaml *next = NULL;
    for (size_t i = 0; i < m->n; i++) {
        const char *k = m->keys[i]->str ? m->keys[i]->str : "";
        const ig_yaml *v = m->items[i];
        if (*k == '+' || v->kind != IG_Y_MAP || is_dict_config(k)) {
            json_t *j = ig__tf_yaml_to_json(v);
            /* values with Jinja are rendered now, hooks at run time */
            char kb[128];
            const char *nk = norm_key(k, kb, sizeof kb);
            if (json_is_string(j) && strcmp(nk, "pre-hook") && strcmp(nk, "post-hook") &&
                (strstr(json_string_value(j), "{{") || strstr(json_string_value(j), "{%"))) {
                char *r = NULL;
                ig_error e;
                ig_error_clear(&e);
                if (!ig__tf_render_string(p, k, json_string_value(j), &r, &e)) {
                    json_decref(j);
                    j = json_string(r);
                }
                free(r);
            }
            ig__tf_config_set(cfg, k, j);
        } else if (level < n->nfqn && !strcmp(k, n->fqn[level])) {
            next = v;
        }
    }
    if (next) apply_level(p, next, n, level + 1, cfg);
}

void ig__tf_project_config(tf_project *p, tf_package *pkg, const ig_yaml *tree, tf_node *n,
                           json_t *cfg)
{
    (void)pkg;
    apply_level(p, tree, n, 0, cfg);
}

/* ------------------------------------------------------------ packages */

static const char *const project_keys[] = {
    "name", "version", "config-version", "profile", "model-paths", "source-paths", "macro-paths",
    "seed-paths", "data-paths", "test-paths", "analysis-paths", "snapshot-paths", "docs-paths",
    "asset-paths", "target-path", "log-path", "packages-install-path", "clean-targets",
    "require-dbt-version", "quoting", "vars", "models", "seeds", "snapshots", "tests",
    "data_tests", "sources", "on-run-start", "on-run-end", "dispatch", "flags", "query-comment",
    "restrict-access", "semantic-models", "metrics", "exposures", "saved-queries", "unit_tests",
    "analyses", "dbt-cloud", "modules-path", NULL};

static ig_rc str_list(tf_project *p, const ig_yaml *n, const char *what, const char *dflt,
                      const char ***out, size_t *cnt, ig_error *err)
{
    if (!n || n->kind == IG_Y_NULL) {
        *out = ig_arena_alloc(p->arena, sizeof **out);
        (*out)[0] = dflt;
        *cnt = 1;
        return 0;
    }
    if (n->kind == IG_Y_SCALAR) {
        *out = ig_arena_alloc(p->arena, sizeof **out);
        (*out)[0] = n->str;
        *cnt = 1;
        return 0;
    }
    if (n->kind != IG_Y_SEQ) return ig_yaml_error(n, err, "%s: expected a list of folders", what);
    *out = ig_arena_alloc(p->arena, (n->n + 1) * sizeof **out);
    *cnt = 0;
    for (size_t i = 0; i < n->n; i++) {
        const char *s;
        if (ig_yaml_str(n->items[i], what, &s, err)) return err->code;
        (*out)[(*cnt)++] = s;
    }
    return 0;
}

/* A version requirement like ">=1.0.0" or ["<2.0.0", ">=1.3"] against ours:
 * a mismatch is a warning, since ingot is not dbt-core of any exact version. */
static int vcmp(const char *a, const char *b)
{
    for (int i = 0; i < 3; i++) {
        long x = strtol(a, (char **)&a, 10), y = strtol(b, (char **)&b, 10);
        if (x != y) return x < y ? -1 : 1;
        if (*a == '.') a++;
        if (*b == '.') b++;
    }
    return 0;
}

static void check_version(const ig_yaml *n)
{
    if (!n) return;
    size_t cnt = n->kind == IG_Y_SEQ ? n->n : 1;
    for (size_t i = 0; i < cnt; i++) {
        const ig_yaml *it = n->kind == IG_Y_SEQ ? n->items[i] : n;
        if (it->kind != IG_Y_SCALAR || !it->str) continue;
        const char *s = it->str;
        char op[3] = {0};
        size_t k = 0;
        while (*s && strchr("<>=!", *s) && k < 2) op[k++] = *s++;
        while (*s == ' ') s++;
        int c = vcmp(TF_DBT_VERSION, s);
        bool ok = !strcmp(op, ">=") ? c >= 0 : !strcmp(op, ">") ? c > 0 : !strcmp(op, "<=") ? c <= 0
                : !strcmp(op, "<") ? c < 0 : !strcmp(op, "!=") ? c != 0 : c == 0;
        if (!ok)
            ig_warn("transform.version",
                    "%s:%d: require-dbt-version '%s' is not met by ingot's dbt compatibility "
                    "level %s; going on", it->file, it->line, it->str, TF_DBT_VERSION);
    }
}

static ig_rc load_package(tf_project *p, const char *dir, bool root, tf_package **out,
                          ig_error *err)
{
    char *file = ig_path_join(dir, "dbt_project.yml");
    ig_yaml *y;
    ig_yaml_options yo = {.interpolate_env = false};
    ig_rc rc = ig_yaml_load(p->arena, file, &yo, &y, err);
    free(file);
    if (rc == IG_ERR_NOT_FOUND) {
        ig_err(err, IG_ERR_NOT_FOUND, "no dbt_project.yml in %s", dir);
        ig_err_hint(err, root ? "run in a dbt project folder, or set transform.project_dir in "
                                "ingot.yml (or pass --project-dir)"
                              : "reinstall the package with 'ingot deps'");
        return rc;
    }
    if (rc) return rc;
    if (y->kind != IG_Y_MAP) return ig_yaml_error(y, err, "dbt_project.yml: expected a mapping");
    if (ig_yaml_check_keys(y, "", project_keys, err)) return err->code;
    tf_package *k = ig_arena_zalloc(p->arena, sizeof *k);
    k->dir = ig_arena_strdup(p->arena, dir);
    k->is_root = root;
    k->yml = y;
    const ig_yaml *name = ig_yaml_get(y, "name");
    if (!name) return ig_yaml_error(y, err, "dbt_project.yml has no 'name'");
    if (ig_yaml_str(name, "name", &k->name, err)) return err->code;
    const ig_yaml *mp = ig_yaml_get(y, "model-paths");
    if (!mp) mp = ig_yaml_get(y, "source-paths");
    const ig_yaml *sp = ig_yaml_get(y, "seed-paths");
    if (!sp) sp = ig_yaml_get(y, "data-paths");
    if (str_list(p, mp, "model-paths", "models", &k->model_paths, &k->nmodel_paths, err) ||
        str_list(p, ig_yaml_get(y, "macro-paths"), "macro-paths", "macros", &k->macro_paths,
                 &k->nmacro_paths, err) ||
        str_list(p, sp, "seed-paths", "seeds", &k->seed_paths, &k->nseed_paths, err) ||
        str_list(p, ig_yaml_get(y, "snapshot-paths"), "snapshot-paths", "snapshots",
                 &k->snapshot_paths, &k->nsnapshot_paths, err) ||
        str_list(p, ig_yaml_get(y, "test-paths"), "test-paths", "tests", &k->test_paths,
                 &k->ntest_paths, err) ||
        str_list(p, ig_yaml_get(y, "analysis-paths"), "analysis-paths", "analyses",
                 &k->analysis_paths, &k->nanalysis_paths, err))
        return err->code;
    /* docs blocks live in the docs paths, which default to the other paths */
    const ig_yaml *dp = ig_yaml_get(y, "docs-paths");
    if (dp) {
        if (str_list(p, dp, "docs-paths", "docs", &k->docs_paths, &k->ndocs_paths, err))
            return err->code;
    } else {
        size_t nd = k->nmodel_paths + k->nmacro_paths + k->nseed_paths + k->nsnapshot_paths +
                    k->ntest_paths + k->nanalysis_paths;
        k->docs_paths = ig_arena_alloc(p->arena, (nd + 1) * sizeof *k->docs_paths);
        const char **all[] = {k->model_paths, k->macro_paths, k->seed_paths, k->snapshot_paths,
                              k->test_paths, k->analysis_paths};
        size_t cnt[] = {k->nmodel_paths, k->nmacro_paths, k->nseed_paths, k->nsnapshot_paths,
                        k->ntest_paths, k->nanalysis_paths};
        for (size_t i = 0; i < 6; i++)
            for (size_t j = 0; j < cnt[i]; j++) k->docs_paths[k->ndocs_paths++] = all[i][j];
    }
    const ig_yaml *vars = ig_yaml_get(y, "vars");
    k->vars = vars ? ig__tf_yaml_to_json(vars) : json_object();
    if (!json_is_object(k->vars)) {
        json_decref(k->vars);
        k->vars = NULL;
        return ig_yaml_error(vars, err, "vars: expected a mapping");
    }
    k->models_cfg = ig_yaml_get(y, "models");
    k->seeds_cfg = ig_yaml_get(y, "seeds");
    k->snapshots_cfg = ig_yaml_get(y, "snapshots");
    k->tests_cfg = ig_yaml_get(y, "data_tests");
    if (!k->tests_cfg) k->tests_cfg = ig_yaml_get(y, "tests");
    k->sources_cfg = ig_yaml_get(y, "sources");
    if (root) check_version(ig_yaml_get(y, "require-dbt-version"));
    *out = k;
    return 0;
}

static void add_package(tf_project *p, tf_package *k)
{
    p->pkgs = ig_realloc(p->pkgs, (p->npkgs + 1) * sizeof *p->pkgs);
    p->pkgs[p->npkgs++] = k;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static ig_rc load_packages(tf_project *p, ig_error *err)
{
    const ig_yaml *ip = ig_yaml_get(p->root->yml, "packages-install-path");
    const char *rel = ip && ip->str ? ip->str : "dbt_packages";
    char *dir = ig_path_join(p->root->dir, rel);
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return 0;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        names = ig_realloc(names, (n + 1) * sizeof *names);
        names[n++] = ig_strdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_str);
    ig_rc rc = 0;
    for (size_t i = 0; i < n; i++) {
        char *pd = ig_path_join(dir, names[i]);
        char *pf = ig_path_join(pd, "dbt_project.yml");
        if (!rc && ig_fs_exists(pf)) {
            tf_package *k;
            char *real = ig_path_real(pd);
            rc = load_package(p, real ? real : pd, false, &k, err);
            free(real);
            if (!rc) {
                for (size_t j = 0; j < p->npkgs; j++)
                    if (!strcmp(p->pkgs[j]->name, k->name)) {
                        rc = ig_err(err, IG_ERR_CONFIG, "two packages are named '%s': %s and %s",
                                    k->name, p->pkgs[j]->dir, k->dir);
                        ig_err_hint(err, "remove one of them from %s and run 'ingot deps'", rel);
                    }
                if (!rc) add_package(p, k);
                else json_decref(k->vars);
            }
        }
        free(pf);
        free(pd);
        free(names[i]);
    }
    free(names);
    free(dir);
    return rc;
}

/* ------------------------------------------------------------ profiles */

static const char *find_profiles(tf_project *p, const ig_project *proj)
{
    const char *cands[4];
    size_t n = 0;
    if (p->opts->profiles_dir) cands[n++] = p->opts->profiles_dir;
    else if (proj && proj->transform.profiles_dir) cands[n++] = proj->transform.profiles_dir;
    else {
        const char *env = getenv("DBT_PROFILES_DIR");
        if (env && *env) cands[n++] = env;
        cands[n++] = p->root->dir;
        const char *home = getenv("HOME");
        if (home) cands[n++] = ig_arena_printf(p->arena, "%s/.dbt", home);
    }
    for (size_t i = 0; i < n; i++) {
        char *f = ig_path_join(cands[i], "profiles.yml");
        if (ig_fs_exists(f)) {
            const char *r = ig_arena_strdup(p->arena, f);
            free(f);
            return r;
        }
        free(f);
    }
    return NULL;
}

static ig_rc render_field(tf_project *p, const ig_yaml *n, const char *what, const char **out,
                          ig_error *err)
{
    const char *s;
    if (ig_yaml_str(n, what, &s, err)) return err->code;
    if (strstr(s, "{{") || strstr(s, "{%")) {
        char *r;
        if (ig__tf_render_string(p, what, s, &r, err)) {
            ig_err_at(err, n->file, n->line, n->column);
            return err->code;
        }
        s = ig_arena_strdup(p->arena, r);
        free(r);
    }
    *out = s;
    return 0;
}

static ig_rc load_profile(tf_project *p, const ig_project *proj, ig_error *err)
{
    tf_target *t = &p->target;
    const ig_yaml *pn = ig_yaml_get(p->root->yml, "profile");
    t->profile_name = p->opts->profile ? p->opts->profile : pn && pn->str ? pn->str : p->root->name;
    t->type = "duckdb";
    t->schema = "main";
    t->name = "dev";
    t->threads = 1;
    const char *file = find_profiles(p, proj);
    const ig_yaml *prof = NULL;
    if (file) {
        ig_yaml *y;
        ig_yaml_options yo = {0};
        if (ig_yaml_load(p->arena, file, &yo, &y, err)) return err->code;
        prof = ig_yaml_get(y, t->profile_name);
        if (!prof && !proj) {
            ig_err(err, IG_ERR_CONFIG, "profile '%s' not found in %s", t->profile_name, file);
            ig_err_hint(err, "add it to profiles.yml, or run inside an ingot project to use its "
                             "warehouse");
            return IG_ERR_CONFIG;
        }
    }
    if (!prof) {
        if (!proj) {
            ig_err(err, IG_ERR_CONFIG, "no profiles.yml found for profile '%s'", t->profile_name);
            ig_err_hint(err, "create profiles.yml in the project folder or ~/.dbt (type: duckdb, "
                             "path: ...), or add an ingot.yml (ingot init) to use its warehouse");
            return IG_ERR_CONFIG;
        }
        t->path = proj->warehouse.path;
        if (p->opts->target) t->name = p->opts->target;
    } else {
        p->profiles_file = file;
        const ig_yaml *tg = ig_yaml_get(prof, "target");
        const char *tname = p->opts->target;
        if (!tname && proj && proj->transform.target) tname = proj->transform.target;
        if (!tname && tg && render_field(p, tg, "target", &tname, err)) return err->code;
        if (!tname) tname = "dev";
        const ig_yaml *outs = ig_yaml_get(prof, "outputs");
        const ig_yaml *o = ig_yaml_get(outs, tname);
        if (!o) {
            ig_yaml_error(outs ? outs : prof, err, "profile '%s' has no target '%s'",
                          t->profile_name, tname);
            ig_err_hint(err, "the targets are under %s.outputs in %s", t->profile_name, file);
            return IG_ERR_CONFIG;
        }
        t->name = ig_arena_strdup(p->arena, tname);
        t->json = json_object();
        for (size_t i = 0; i < o->n; i++) {
            const char *k = o->keys[i]->str;
            const ig_yaml *v = o->items[i];
            json_t *j;
            if (v->kind == IG_Y_SCALAR) {
                const char *s;
                if (render_field(p, v, k, &s, err)) return err->code;
                ig_yaml tmp = *v;
                tmp.str = s;
                j = scalar_json(&tmp);
            } else j = ig__tf_yaml_to_json(v);
            json_object_set_new(t->json, k, j);
        }
        t->type = ig_arena_strdup(p->arena, ig__tf_cfg_str(t->json, "type", "duckdb"));
        if (strcmp(t->type, "duckdb") != 0) {
            ig_yaml_error(o, err, "target '%s' has type '%s'; ingot runs 'duckdb' targets",
                          tname, t->type);
            return IG_ERR_CONFIG;
        }
        t->schema = ig_arena_strdup(p->arena, ig__tf_cfg_str(t->json, "schema", "main"));
        const char *db = ig__tf_cfg_str(t->json, "database", NULL);
        t->database = db ? ig_arena_strdup(p->arena, db) : NULL;
        json_t *th = json_object_get(t->json, "threads");
        if (json_is_integer(th)) t->threads = (int)json_integer_value(th);
        const char *path = ig__tf_cfg_str(t->json, "path", NULL);
        if (path && strcmp(path, ":memory:") != 0) {
            char *abs = ig_path_join(p->root->dir, path);
            char *real = ig_path_real(abs);
            const char *mine = proj ? proj->warehouse.path : NULL;
            char *rmine = mine ? ig_path_real(mine) : NULL;
            /* the project's warehouse when the profile names it (or names a
             * file that does not exist yet at the same place) */
            if (mine && ((real && rmine && !strcmp(real, rmine)) || !strcmp(abs, mine)))
                t->path = mine;
            else t->path = ig_arena_strdup(p->arena, abs);
            free(abs);
            free(real);
            free(rmine);
        } else if (path) t->path = ":memory:";
        else t->path = proj ? proj->warehouse.path : ":memory:";
    }
    if (!t->json) t->json = json_object();
    json_object_set_new(t->json, "name", json_string(t->name));
    json_object_set_new(t->json, "target_name", json_string(t->name));
    json_object_set_new(t->json, "profile_name", json_string(t->profile_name));
    json_object_set_new(t->json, "type", json_string(t->type));
    json_object_set_new(t->json, "schema", json_string(t->schema));
    json_object_set_new(t->json, "threads", json_integer(t->threads));
    if (t->path) json_object_set_new(t->json, "path", json_string(t->path));
    return 0;
}

static void load_quoting(tf_project *p)
{
    p->quote_database = p->quote_schema = p->quote_identifier = true;
    const ig_yaml *qn = ig_yaml_get(p->root->yml, "quoting");
    if (!qn) return;
    bool b;
    ig_error e;
    const ig_yaml *x;
    if ((x = ig_yaml_get(qn, "database")) && !ig_yaml_bool(x, "quoting.database", &b, &e))
        p->quote_database = b;
    if ((x = ig_yaml_get(qn, "schema")) && !ig_yaml_bool(x, "quoting.schema", &b, &e))
        p->quote_schema = b;
    if ((x = ig_yaml_get(qn, "identifier")) && !ig_yaml_bool(x, "quoting.identifier", &b, &e))
        p->quote_identifier = b;
}

static ig_rc load_vars(tf_project *p, ig_error *err)
{
    const char *v = p->opts->vars;
    if (!v || !*v) {
        p->cli_vars = json_object();
        return 0;
    }
    ig_yaml *y;
    ig_yaml_options yo = {0};
    if (ig_yaml_parse(p->arena, "--vars", v, strlen(v), &yo, &y, err)) {
        ig_err_hint(err, "--vars takes a YAML or JSON mapping: --vars '{key: value}'");
        return err->code;
    }
    if (y->kind == IG_Y_NULL) {
        p->cli_vars = json_object();
        return 0;
    }
    if (y->kind != IG_Y_MAP) {
        ig_err(err, IG_ERR_USAGE, "--vars: expected a mapping, got %s", ig_yaml_kind_name(y));
        ig_err_hint(err, "--vars '{key: value, other: 2}'");
        return IG_ERR_USAGE;
    }
    p->cli_vars = ig__tf_yaml_to_json(y);
    return 0;
}

void ig__tf_keep_tmpl(tf_project *p, ig_tmpl *t)
{
    pthread_mutex_lock(&p->tmpl_lock);
    if (p->ntmpls == p->tmpls_cap) {
        p->tmpls_cap = p->tmpls_cap ? p->tmpls_cap * 2 : 256;
        p->tmpls = ig_realloc(p->tmpls, p->tmpls_cap * sizeof *p->tmpls);
    }
    p->tmpls[p->ntmpls++] = t;
    pthread_mutex_unlock(&p->tmpl_lock);
}

ig_rc ig__tf_render_string(tf_project *p, const char *what, const char *s, char **out,
                           ig_error *err)
{
    ig_tmpl *t;
    ig_rc rc = ig_tmpl_parse(what, s, strlen(s), &t, err);
    if (rc) return rc;
    tf_thread *th = ig__tf_thread_new(p, NULL);
    ig_buf b = IG_BUF_INIT;
    rc = ig__tf_render(th, t, &b, err);
    ig__tf_thread_free(th);
    ig_tmpl_free(t);
    if (rc) {
        ig_buf_free(&b);
        return rc;
    }
    *out = b.data ? ig_buf_steal(&b) : ig_strdup("");
    return 0;
}

ig_rc ig__tf_load(const ig_project *proj, const ig_transform_options *opts, tf_project **out,
                  ig_error *err)
{
    tf_project *p = ig_calloc(1, sizeof *p);
    p->arena = ig_arena_new();
    p->opts = opts;
    pthread_mutex_init(&p->tmpl_lock, NULL);
    pthread_mutex_init(&p->rel_lock, NULL);
    p->started_us = ig_wall_us();
    /* a version 4 UUID from the clock and the pid: unique enough for an id */
    uint64_t a = (uint64_t)p->started_us * 6364136223846793005ULL + (uint64_t)getpid();
    uint64_t b = a * 2862933555777941757ULL + 3037000493ULL;
    snprintf(p->invocation_id, sizeof p->invocation_id, "%08x-%04x-4%03x-%04x-%012llx",
             (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
             (unsigned)(0x8000 | ((b >> 48) & 0x3fff)), (unsigned long long)(b & 0xffffffffffffULL));
    const char *dir = opts->project_dir;
    if (!dir && proj) dir = proj->transform.project_dir ? proj->transform.project_dir : proj->dir;
    if (!dir) dir = ".";
    char *real = ig_path_real(dir);
    if (!real) {
        ig_err(err, IG_ERR_NOT_FOUND, "dbt project folder %s does not exist", dir);
        ig__tf_free(p);
        return IG_ERR_NOT_FOUND;
    }
    tf_package *root;
    ig_rc rc = load_package(p, real, true, &root, err);
    free(real);
    if (rc) {
        ig__tf_free(p);
        return rc;
    }
    p->root = root;
    add_package(p, root);
    if ((rc = load_packages(p, err)) || (rc = load_vars(p, err)) ||
        (rc = load_profile(p, proj, err))) {
        ig__tf_free(p);
        return rc;
    }
    load_quoting(p);
    const ig_yaml *tp = ig_yaml_get(root->yml, "target-path");
    p->target_path = opts->target_path ? opts->target_path
                     : ig_arena_printf(p->arena, "%s/%s", root->dir, tp && tp->str ? tp->str : "target");
    const ig_yaml *disp = ig_yaml_get(root->yml, "dispatch");
    p->dispatch = disp ? ig__tf_yaml_to_json(disp) : json_array();
    p->on_run_start = ig_yaml_get(root->yml, "on-run-start");
    p->on_run_end = ig_yaml_get(root->yml, "on-run-end");
    *out = p;
    return 0;
}

void ig__tf_free(tf_project *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->nnodes; i++) {
        tf_node *n = p->nodes[i];
        json_decref(n->config);
        json_decref(n->props);
        json_decref(n->test_meta);
        json_decref(n->unit);
        free(n->parse_out);
        free(n->compiled);
        free(n->message);
        free(n->refs);
        free(n->srcs);
        free(n->deps);
        free(n->kids);
    }
    free(p->nodes);
    for (size_t i = 0; i < p->npkgs; i++) json_decref(p->pkgs[i]->vars);
    free(p->pkgs);
    for (size_t i = 0; i < p->ntmpls; i++) ig_tmpl_free(p->tmpls[i]);
    free(p->tmpls);
    ig__tf_map_free(&p->node_by_name);
    ig__tf_map_free(&p->src_by_name);
    ig__tf_map_free(&p->macros);
    ig__tf_map_free(&p->docs);
    ig__tf_map_free(&p->relcache);
    json_decref(p->cli_vars);
    json_decref(p->target.json);
    json_decref(p->dispatch);
    pthread_mutex_destroy(&p->tmpl_lock);
    pthread_mutex_destroy(&p->rel_lock);
    ig_arena_free(p->arena);
    free(p);
}
