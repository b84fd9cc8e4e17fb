/* Parsing a loaded project: find the files of every package (macros, docs
 * blocks, models, properties YAML), register macros, build a node per model
 * and per source table, give each node its config (dbt_project.yml, then
 * YAML `config:`, then the model's own config() call), and parse-render the
 * models in parallel to learn their refs, sources and config. The parse
 * render's output, with markers where refs go, is kept: compile.c turns it
 * into SQL without rendering again unless the node is impure.
 *
 * Precedence of macros with one name: the root project, then packages in
 * name order, then ingot's built-in `dbt` package. */
#include "transform/tf_int.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

#include <ctype.h>
#include <dirent.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *ig__tf_builtin_macros(void);
ig_tmpl_val ig__tf_node_val(tf_thread *t, const tf_node *n);

/* ----------------------------------------------------------- file walk */

typedef struct flist {
    char **rel; /* relative to the walked root, sorted */
    size_t n, cap;
} flist;

static void walk(const char *root, const char *sub, const char *const *exts, flist *out)
{
    char *dir = sub[0] ? ig_path_join(root, sub) : ig_strdup(root);
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *rel = sub[0] ? ig_asprintf("%s/%s", sub, e->d_name) : ig_strdup(e->d_name);
        char *full = ig_path_join(root, rel);
        struct stat st;
        bool isdir = e->d_type == DT_DIR ||
                     ((e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) && stat(full, &st) == 0 && S_ISDIR(st.st_mode));
        if (isdir) walk(root, rel, exts, out);
        else {
            bool want = false;
            for (size_t i = 0; exts[i] && !want; i++) want = ig_str_ends(e->d_name, exts[i]);
            if (want) {
                if (out->n == out->cap) {
                    out->cap = out->cap ? out->cap * 2 : 64;
                    out->rel = ig_realloc(out->rel, out->cap * sizeof *out->rel);
                }
                out->rel[out->n++] = rel;
                rel = NULL;
            }
        }
        free(rel);
        free(full);
    }
    closedir(d);
    free(dir);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void flist_free(flist *f)
{
    for (size_t i = 0; i < f->n; i++) free(f->rel[i]);
    free(f->rel);
    memset(f, 0, sizeof *f);
}

/* Path of a file for messages: relative to the root project's folder. */
static const char *display_path(tf_project *p, const char *abs)
{
    size_t n = strlen(p->root->dir);
    if (!strncmp(abs, p->root->dir, n) && abs[n] == '/') return ig_arena_strdup(p->arena, abs + n + 1);
    return ig_arena_strdup(p->arena, abs);
}

/* -------------------------------------------------------------- macros */

/* `{% test name(...) %}` and `{% materialization name, adapter='x' %}` are
 * dbt's own block tags; rewrite them into macros (test_name,
 * materialization_name_x) the engine knows, keeping every line where it was. */
static char *rewrite_blocks(const char *src, size_t len, size_t *outlen)
{
    ig_buf b = IG_BUF_INIT;
    const char *p = src, *end = src + len;
    while (p < end) {
        const char *o = strstr(p, "{%");
        if (!o || o >= end) {
            ig_buf_append(&b, p, (size_t)(end - p));
            break;
        }
        ig_buf_append(&b, p, (size_t)(o - p));
        const char *q = o + 2;
        bool dash = *q == '-';
        if (dash) q++;
        while (q < end && (*q == ' ' || *q == '\t')) q++;
        const char *kw = q;
        while (q < end && (isalnum((unsigned char)*q) || *q == '_')) q++;
        size_t kl = (size_t)(q - kw);
        if ((kl == 4 && !strncmp(kw, "test", 4)) || (kl == 15 && !strncmp(kw, "materialization", 15))) {
            bool mat = kl == 15;
            while (q < end && *q == ' ') q++;
            const char *nm = q;
            while (q < end && (isalnum((unsigned char)*q) || *q == '_')) q++;
            ig_buf_printf(&b, "{%%%s macro %s", dash ? "-" : "", mat ? "materialization_" : "test_");
            ig_buf_append(&b, nm, (size_t)(q - nm));
            if (mat) { /* , adapter='duckdb' -> _duckdb ; then the rest up to %} */
                const char *close = strstr(q, "%}");
                if (!close) close = end;
                const char *ad = strstr(q, "adapter");
                if (ad && ad < close) {
                    const char *qq = strpbrk(ad, "'\"");
                    if (qq && qq < close) {
                        const char *qe = strchr(qq + 1, *qq);
                        if (qe && qe < close) {
                            ig_buf_putc(&b, '_');
                            ig_buf_append(&b, qq + 1, (size_t)(qe - qq - 1));
                        }
                    }
                } else ig_buf_puts(&b, "_default");
                ig_buf_puts(&b, "()");
                bool cdash = close > q && close[-1] == '-';
                ig_buf_puts(&b, cdash ? " -%}" : " %}");
                p = close < end ? close + 2 : end;
            } else p = q;
            continue;
        }
        if ((kl == 7 && !strncmp(kw, "endtest", 7)) || (kl == 18 && !strncmp(kw, "endmaterialization", 18))) {
            ig_buf_printf(&b, "{%%%s endmacro", dash ? "-" : "");
            p = q;
            continue;
        }
        ig_buf_append(&b, o, (size_t)(q - o));
        p = q;
    }
    *outlen = b.len;
    return b.data ? ig_buf_steal(&b) : ig_strdup("");
}

static ig_rc register_macros(tf_project *p, const char *pkg, const char *path, ig_tmpl *t,
                             bool root, ig_error *err)
{
    for (size_t i = 0; i < ig_tmpl_macro_count(t); i++) {
        const char *name = ig_tmpl_macro_name(t, i);
        tf_macro *m = ig_arena_zalloc(p->arena, sizeof *m);
        m->name = ig_arena_strdup(p->arena, name);
        m->package = pkg;
        m->path = path;
        m->tmpl = t;
        char *key = ig_arena_printf(p->arena, "%s.%s", pkg, name);
        tf_macro *old = ig__tf_map_put(&p->macros, key, m);
        if (old) {
            ig_err(err, IG_ERR_TEMPLATE, "two macros are named '%s' in package %s: %s and %s", name,
                   pkg, old->path, path);
            ig_err_hint(err, "rename or remove one of them");
            return IG_ERR_TEMPLATE;
        }
        tf_macro *cur = ig__tf_map_get(&p->macros, m->name);
        /* root beats packages beats the built-in dbt package */
        if (!cur || root || (!strcmp(cur->package, "dbt") && strcmp(pkg, "dbt")))
            ig__tf_map_put(&p->macros, m->name, m);
        if (root) {
            if (!strcmp(name, "generate_schema_name")) p->has_schema_macro = true;
            if (!strcmp(name, "generate_alias_name")) p->has_alias_macro = true;
            if (!strcmp(name, "generate_database_name")) p->has_database_macro = true;
        }
    }
    return 0;
}

static ig_rc load_macro_file(tf_project *p, tf_package *k, const char *abs, ig_error *err)
{
    char *src;
    size_t len;
    ig_rc rc = ig_fs_read(abs, TF_FILE_CAP, &src, &len, err);
    if (rc) return rc;
    size_t nlen;
    char *rw = rewrite_blocks(src, len, &nlen);
    free(src);
    ig_tmpl *t;
    const char *shown = display_path(p, abs);
    rc = ig_tmpl_parse(shown, rw, nlen, &t, err);
    free(rw);
    if (rc) return rc;
    ig__tf_keep_tmpl(p, t);
    return register_macros(p, k->name, shown, t, k->is_root, err);
}

/* ---------------------------------------------------------------- docs */

static void load_docs_file(tf_project *p, tf_package *k, const char *abs)
{
    char *src;
    size_t len;
    ig_error e;
    if (ig_fs_read(abs, TF_FILE_CAP, &src, &len, &e)) return;
    const char *s = src;
    while ((s = strstr(s, "{%"))) {
        const char *q = s + 2;
        if (*q == '-') q++;
        while (*q == ' ') q++;
        if (strncmp(q, "docs", 4) || (q[4] != ' ' && q[4] != '\t')) {
            s += 2;
            continue;
        }
        q += 4;
        while (*q == ' ' || *q == '\t') q++;
        const char *nm = q;
        while (isalnum((unsigned char)*q) || *q == '_') q++;
        size_t nl = (size_t)(q - nm);
        const char *close = strstr(q, "%}");
        if (!close) break;
        const char *body = close + 2;
        const char *endt = body;
        const char *stop = NULL;
        while ((endt = strstr(endt, "{%"))) {
            const char *r = endt + 2;
            if (*r == '-') r++;
            while (*r == ' ') r++;
            if (!strncmp(r, "enddocs", 7)) {
                stop = endt;
                break;
            }
            endt += 2;
        }
        if (!stop) break;
        const char *b0 = body, *b1 = stop;
        while (b0 < b1 && (*b0 == '\n' || *b0 == '\r')) b0++;
        while (b1 > b0 && isspace((unsigned char)b1[-1])) b1--;
        char *name = ig_arena_strndup(p->arena, nm, nl);
        char *text = ig_arena_strndup(p->arena, b0, (size_t)(b1 - b0));
        ig__tf_map_put(&p->docs, ig_arena_printf(p->arena, "%s.%s", k->name, name), text);
        if (k->is_root || !ig__tf_map_get(&p->docs, name)) ig__tf_map_put(&p->docs, name, text);
        const char *after = strstr(stop, "%}");
        s = after ? after + 2 : stop + 2;
    }
    free(src);
}

/* --------------------------------------------------------------- nodes */

tf_node *ig__tf_new_node(tf_project *p, tf_kind kind)
{
    if (p->nnodes == p->nodes_cap) {
        p->nodes_cap = p->nodes_cap ? p->nodes_cap * 2 : 256;
        p->nodes = ig_realloc(p->nodes, p->nodes_cap * sizeof *p->nodes);
    }
    tf_node *n = ig_arena_zalloc(p->arena, sizeof *n);
    n->index = (int)p->nnodes;
    n->kind = kind;
    n->enabled = true;
    n->config = json_object();
    n->attached = -1;
    n->failures = -1;
    p->nodes[p->nnodes++] = n;
    return n;
}

static tf_node *new_node(tf_project *p, tf_kind kind) { return ig__tf_new_node(p, kind); }

/* fqn: package, the folders of rel, name */
static void set_fqn(tf_project *p, tf_node *n, const char *rel, const char *last)
{
    size_t rl = strlen(rel), nf = 3;
    for (size_t i = 0; i < rl; i++) nf += rel[i] == '/';
    n->fqn = ig_arena_alloc(p->arena, nf * sizeof *n->fqn);
    n->fqn[0] = n->pkg->name;
    size_t j = 1;
    const char *s = rel;
    for (const char *c; (c = strchr(s, '/')); s = c + 1) n->fqn[j++] = ig_arena_strndup(p->arena, s, (size_t)(c - s));
    if (last) n->fqn[j++] = last;
    n->fqn[j++] = n->name;
    n->nfqn = j;
}

static tf_node *add_file_node(tf_project *p, tf_package *k, tf_kind kind, const char *word,
                              const char *mpath, const char *rel, const char *name)
{
    tf_node *n = new_node(p, kind);
    n->pkg = k;
    n->name = ig_arena_strdup(p->arena, name);
    n->path = ig_arena_strdup(p->arena, rel);
    n->original_file_path = ig_arena_printf(p->arena, "%s/%s", mpath, rel);
    char *d = ig_path_join(k->dir, mpath);
    char *abs = ig_path_join(d, rel);
    n->abs_path = ig_arena_strdup(p->arena, abs);
    free(d);
    free(abs);
    n->unique_id = ig_arena_printf(p->arena, "%s.%s.%s", word, k->name, n->name);
    return n;
}

static void add_model(tf_project *p, tf_package *k, const char *mpath, const char *rel)
{
    tf_node *n = new_node(p, TF_MODEL);
    n->pkg = k;
    size_t rl = strlen(rel);
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    n->name = ig_arena_strndup(p->arena, base, strlen(base) - 4); /* .sql */
    n->path = ig_arena_strdup(p->arena, rel);
    n->original_file_path = ig_arena_printf(p->arena, "%s/%s", mpath, rel);
    char *d = ig_path_join(k->dir, mpath);
    char *abs = ig_path_join(d, rel);
    n->abs_path = ig_arena_strdup(p->arena, abs);
    free(d);
    free(abs);
    n->unique_id = ig_arena_printf(p->arena, "model.%s.%s", k->name, n->name);
    /* for matching properties YAML to files; index_nodes adds the ref keys */
    ig__tf_map_put(&p->node_by_name, ig_arena_printf(p->arena, "%s.%s", k->name, n->name), n);
    /* fqn: package, folders, name */
    size_t nf = 2;
    for (size_t i = 0; i < rl; i++) nf += rel[i] == '/';
    n->fqn = ig_arena_alloc(p->arena, nf * sizeof *n->fqn);
    n->fqn[0] = k->name;
    size_t j = 1;
    const char *s = rel;
    for (const char *c; (c = strchr(s, '/')); s = c + 1) n->fqn[j++] = ig_arena_strndup(p->arena, s, (size_t)(c - s));
    n->fqn[j++] = n->name;
    n->nfqn = j;
}

/* ------------------------------------------------------ properties YAML */

static ig_rc render_description(tf_project *p, tf_thread *t, json_t *obj, ig_error *err)
{
    json_t *d = json_object_get(obj, "description");
    if (!json_is_string(d)) return 0;
    const char *s = json_string_value(d);
    if (!strstr(s, "{{") && !strstr(s, "{%")) return 0;
    ig_buf b = IG_BUF_INIT;
    ig_rc rc = ig__tf_render_text(t, "description", s, &b, err);
    if (!rc) json_object_set_new(obj, "description", json_string(ig_buf_cstr(&b)));
    ig_buf_free(&b);
    return rc;
}

static ig_rc apply_model_props(tf_project *p, tf_thread *t, tf_package *k, const ig_yaml *m,
                               const char *file, ig_error *err)
{
    const ig_yaml *nm = ig_yaml_get(m, "name");
    if (!nm || nm->kind != IG_Y_SCALAR) return ig_yaml_error(m, err, "a model entry needs a name");
    const char *name = nm->str;
    json_t *props = ig__tf_yaml_to_json(m);
    if (render_description(p, t, props, err)) {
        ig_err_at(err, nm->file, nm->line, nm->column);
        json_decref(props);
        return err->code;
    }
    json_t *cols = json_object_get(props, "columns");
    size_t ci;
    json_t *col;
    json_array_foreach(cols, ci, col) if (render_description(p, t, col, err)) {
        json_decref(props);
        return err->code;
    }
    const ig_yaml *versions = ig_yaml_get(m, "versions");
    size_t nv = versions && versions->kind == IG_Y_SEQ ? versions->n : 0;
    const ig_yaml *latest = ig_yaml_get(m, "latest_version");
    bool found = false;
    for (size_t vi = 0; vi < (nv ? nv : 1); vi++) {
        const char *file_name = name, *version = NULL;
        char fbuf[512];
        if (nv) {
            const ig_yaml *vv = ig_yaml_get(versions->items[vi], "v");
            if (!vv || !vv->str) continue;
            version = vv->str;
            const ig_yaml *di = ig_yaml_get(versions->items[vi], "defined_in");
            if (di && di->str) file_name = di->str;
            else {
                snprintf(fbuf, sizeof fbuf, "%s_v%s", name, version);
                file_name = fbuf;
            }
        }
        char key[600];
        snprintf(key, sizeof key, "%s.%s", k->name, file_name);
        tf_node *n = ig__tf_map_get(&p->node_by_name, key);
        if (n && n->props) n = NULL;
        if (!n) continue;
        found = true;
        if (ig__tf_add_generic_tests(p, n, m, file, err)) {
            json_decref(props);
            return err->code;
        }
        n->props = json_incref(props);
        n->patch_path = file;
        const ig_yaml *cfg = ig_yaml_get(m, "config");
        json_t *jc = cfg ? ig__tf_yaml_to_json(cfg) : json_object();
        /* legacy top-level keys that are configs */
        static const char *const legacy[] = {"docs", "meta", "tags", "access", "group", NULL};
        for (size_t i = 0; legacy[i]; i++) {
            json_t *x = json_object_get(props, legacy[i]);
            if (x && !json_object_get(jc, legacy[i])) json_object_set(jc, legacy[i], x);
        }
        if (nv) {
            const ig_yaml *vc = ig_yaml_get(versions->items[vi], "config");
            if (vc) {
                json_t *j = ig__tf_yaml_to_json(vc);
                ig__tf_config_merge(jc, j);
                json_decref(j);
            }
            n->name = name;
            n->version = version;
            n->unique_id = ig_arena_printf(p->arena, "model.%s.%s.v%s", k->name, name, version);
            n->fqn[n->nfqn - 1] = name;
            json_object_set_new(props, "latest_version",
                                latest && latest->str ? json_string(latest->str) : json_null());
        }
        /* YAML config sits above dbt_project.yml: keep it aside until the
         * project config is applied (see configure) */
        json_object_set_new(n->props, "__config", jc);
        if (!nv) break;
    }
    if (!found)
        ig_warn("transform.patch", "%s:%d: properties for model '%s', which was not found",
                nm->file, nm->line, name);
    json_decref(props);
    return 0;
}

static ig_rc add_sources(tf_project *p, tf_thread *t, tf_package *k, const ig_yaml *s, ig_error *err)
{
    const ig_yaml *nm = ig_yaml_get(s, "name");
    if (!nm || nm->kind != IG_Y_SCALAR) return ig_yaml_error(s, err, "a source needs a name");
    const ig_yaml *sch = ig_yaml_get(s, "schema"), *db = ig_yaml_get(s, "database");
    const ig_yaml *tables = ig_yaml_get(s, "tables");
    json_t *sj = ig__tf_yaml_to_json(s);
    for (size_t i = 0; tables && tables->kind == IG_Y_SEQ && i < tables->n; i++) {
        const ig_yaml *tb = tables->items[i];
        const ig_yaml *tn = ig_yaml_get(tb, "name");
        if (!tn || tn->kind != IG_Y_SCALAR) {
            json_decref(sj);
            return ig_yaml_error(tb, err, "a source table needs a name");
        }
        tf_node *n = new_node(p, TF_SOURCE);
        n->pkg = k;
        n->name = tn->str;
        n->source_name = nm->str;
        n->unique_id = ig_arena_printf(p->arena, "source.%s.%s.%s", k->name, nm->str, tn->str);
        n->original_file_path = tb->file;
        n->props = ig__tf_yaml_to_json(tb);
        if (render_description(p, t, n->props, err)) {
            json_decref(sj);
            return err->code;
        }
        json_object_set(n->props, "source", sj);
        const ig_yaml *ident = ig_yaml_get(tb, "identifier");
        const ig_yaml *tq = ig_yaml_get(tb, "quoting"), *sq = ig_yaml_get(s, "quoting");
        json_t *q = json_object();
        if (sq) {
            json_t *x = ig__tf_yaml_to_json(sq);
            json_object_update(q, x);
            json_decref(x);
        }
        if (tq) {
            json_t *x = ig__tf_yaml_to_json(tq);
            json_object_update(q, x);
            json_decref(x);
        }
        json_object_set_new(n->config, "quoting", q);
        n->alias = ident && ident->str ? ident->str : tn->str;
        n->schema = sch && sch->str ? sch->str : nm->str;
        n->database = db && db->str ? db->str : p->target.database;
        /* schema, database and identifier may use Jinja ({{ env_var(...) }}) */
        const char **parts[] = {&n->alias, &n->schema, &n->database};
        for (size_t pi = 0; pi < 3; pi++) {
            if (!*parts[pi] || (!strstr(*parts[pi], "{{") && !strstr(*parts[pi], "{%"))) continue;
            ig_buf b = IG_BUF_INIT;
            if (ig__tf_render_text(t, "source", *parts[pi], &b, err)) {
                ig_buf_free(&b);
                json_decref(sj);
                ig_err_at(err, tb->file, tb->line, tb->column);
                return err->code;
            }
            *parts[pi] = ig_arena_strdup(p->arena, ig_buf_cstr(&b));
            ig_buf_free(&b);
        }
        n->fqn = ig_arena_alloc(p->arena, 3 * sizeof *n->fqn);
        n->fqn[0] = k->name;
        n->fqn[1] = nm->str;
        n->fqn[2] = tn->str;
        n->nfqn = 3;
        const char *key = ig_arena_printf(p->arena, "%s.%s", nm->str, tn->str);
        if (ig__tf_map_put(&p->src_by_name, key, n) && k->is_root) {
            json_decref(sj);
            return ig_yaml_error(tn, err, "source '%s' is defined twice", key);
        }
        if (ig__tf_add_generic_tests(p, n, tb, tb->file, err)) {
            json_decref(sj);
            return err->code;
        }
    }
    json_decref(sj);
    return 0;
}

/* `seeds:` / `snapshots:` entries: properties, config and tests of a node
 * found by name; a `snapshots:` entry with `relation:` defines a snapshot
 * (dbt 1.9). */
static ig_rc apply_other_props(tf_project *p, tf_thread *t, tf_package *k, const ig_yaml *m,
                               tf_kind kind, const char *file, ig_error *err)
{
    const ig_yaml *nm = ig_yaml_get(m, "name");
    if (!nm || nm->kind != IG_Y_SCALAR)
        return ig_yaml_error(m, err, "a %s entry needs a name", kind == TF_SEED ? "seed" : "snapshot");
    char key[600];
    snprintf(key, sizeof key, "%s.%s", k->name, nm->str);
    tf_node *n = ig__tf_map_get(&p->node_by_name, key);
    if (n && n->kind != kind) n = NULL;
    const ig_yaml *relation = kind == TF_SNAPSHOT ? ig_yaml_get(m, "relation") : NULL;
    if (relation && relation->str) {
        if (n) return ig_yaml_error(nm, err, "snapshot '%s' is defined twice (a block in %s and here)",
                                    nm->str, n->original_file_path);
        n = new_node(p, TF_SNAPSHOT);
        n->pkg = k;
        n->name = nm->str;
        n->path = file;
        n->original_file_path = file;
        n->abs_path = ig_arena_printf(p->arena, "%s/%s", p->root->dir, file);
        n->unique_id = ig_arena_printf(p->arena, "snapshot.%s.%s", k->name, nm->str);
        const char *rel = relation->str;
        bool call = strstr(rel, "ref(") || strstr(rel, "source(");
        n->raw = ig_arena_printf(p->arena, "select * from %s%s%s", call ? "{{ " : "", rel,
                                 call ? " }}" : "");
        n->raw_len = strlen(n->raw);
        set_fqn(p, n, "", NULL);
        ig__tf_map_put(&p->node_by_name, ig_arena_strdup(p->arena, key), n);
    }
    if (!n) {
        ig_warn("transform.patch", "%s:%d: properties for %s '%s', which was not found", nm->file,
                nm->line, kind == TF_SEED ? "seed" : "snapshot", nm->str);
        return 0;
    }
    json_t *props = ig__tf_yaml_to_json(m);
    if (render_description(p, t, props, err)) {
        json_decref(props);
        return err->code;
    }
    const ig_yaml *cfg = ig_yaml_get(m, "config");
    json_t *jc = cfg ? ig__tf_yaml_to_json(cfg) : json_object();
    json_object_set_new(props, "__config", jc);
    json_decref(n->props);
    n->props = props;
    n->patch_path = file;
    return ig__tf_add_generic_tests(p, n, m, file, err);
}

static const char *const props_keys[] = {"version", "models", "sources", "seeds", "snapshots",
                                         "macros", "analyses", "exposures", "metrics",
                                         "semantic_models", "saved_queries", "unit_tests",
                                         "groups", "data_tests", "tests", NULL};

static ig_rc load_props_file(tf_project *p, tf_thread *t, tf_package *k, const char *abs,
                             ig_error *err)
{
    ig_yaml *y;
    ig_yaml_options yo = {0};
    ig_rc rc = ig_yaml_load(p->arena, abs, &yo, &y, err);
    if (rc) return rc;
    if (y->kind == IG_Y_NULL) return 0;
    if (y->kind != IG_Y_MAP) return ig_yaml_error(y, err, "a properties file is a mapping (version:, models:, sources:)");
    if (ig_yaml_check_keys(y, "", props_keys, err)) return err->code;
    const ig_yaml *models = ig_yaml_get(y, "models");
    for (size_t i = 0; models && models->kind == IG_Y_SEQ && i < models->n; i++)
        if ((rc = apply_model_props(p, t, k, models->items[i], display_path(p, abs), err))) return rc;
    const ig_yaml *sources = ig_yaml_get(y, "sources");
    for (size_t i = 0; sources && sources->kind == IG_Y_SEQ && i < sources->n; i++)
        if ((rc = add_sources(p, t, k, sources->items[i], err))) return rc;
    static const char *const kinds[] = {"seeds", "snapshots", NULL};
    for (size_t ki = 0; kinds[ki]; ki++) {
        const ig_yaml *list = ig_yaml_get(y, kinds[ki]);
        for (size_t i = 0; list && list->kind == IG_Y_SEQ && i < list->n; i++)
            if ((rc = apply_other_props(p, t, k, list->items[i], ki == 0 ? TF_SEED : TF_SNAPSHOT,
                                        display_path(p, abs), err)))
                return rc;
    }
    const ig_yaml *units = ig_yaml_get(y, "unit_tests");
    for (size_t i = 0; units && units->kind == IG_Y_SEQ && i < units->n; i++)
        if ((rc = ig__tf_add_unit_test(p, k, units->items[i], display_path(p, abs), err))) return rc;
    return 0;
}

/* ------------------------------------------------------ config, names */

static char *trimmed(const char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) n--;
    return ig_strndup(s, n);
}

static const ig_yaml *kind_tree(const tf_package *k, tf_kind kind)
{
    switch (kind) {
    case TF_MODEL: return k->models_cfg;
    case TF_SEED: return k->seeds_cfg;
    case TF_SNAPSHOT: return k->snapshots_cfg;
    case TF_TEST: return k->tests_cfg;
    default: return NULL;
    }
}

static void configure(tf_project *p, tf_node *n)
{
    json_t *cfg = json_object();
    /* dbt's defaults of the kinds beyond models */
    if (n->kind == TF_TEST) {
        json_object_set_new(cfg, "severity", json_string("ERROR"));
        json_object_set_new(cfg, "warn_if", json_string("!= 0"));
        json_object_set_new(cfg, "error_if", json_string("!= 0"));
        json_object_set_new(cfg, "fail_calc", json_string("count(*)"));
        json_object_set_new(cfg, "schema", json_string("dbt_test__audit"));
        json_object_set_new(cfg, "materialized", json_string("test"));
    } else if (n->kind == TF_SEED) {
        json_object_set_new(cfg, "materialized", json_string("seed"));
        json_object_set_new(cfg, "delimiter", json_string(","));
    } else if (n->kind == TF_SNAPSHOT)
        json_object_set_new(cfg, "materialized", json_string("snapshot"));
    const ig_yaml *tree = kind_tree(n->pkg, n->kind), *rtree = kind_tree(p->root, n->kind);
    if (!n->pkg->is_root && tree) ig__tf_project_config(p, n->pkg, tree, n, cfg);
    if (rtree) ig__tf_project_config(p, p->root, rtree, n, cfg);
    json_t *yc = n->props ? json_object_get(n->props, "__config") : NULL;
    if (yc) {
        ig__tf_config_merge(cfg, yc);
        json_object_del(n->props, "__config");
    }
    ig__tf_config_merge(cfg, n->config); /* anything set before (none for models) */
    json_decref(n->config);
    n->config = cfg;
}

/* `enabled` may be Jinja ("{{ target.name == 'prod' }}") for seeds and the
 * others: render it and read Python's truth words. */
static ig_rc node_enabled(tf_project *p, tf_node *n, ig_error *err)
{
    json_t *e = json_object_get(n->config, "enabled");
    if (json_is_string(e)) {
        char *out = NULL;
        ig_rc rc = ig__tf_render_string(p, "enabled", json_string_value(e), &out, err);
        if (rc) {
            ig__tf_err_node(err, n, "Compilation Error in config enabled");
            return rc;
        }
        char *tr = trimmed(out);
        bool on = !(!strcasecmp(tr, "false") || !strcmp(tr, "0") || !strcasecmp(tr, "none") || !*tr);
        free(tr);
        free(out);
        json_object_set_new(n->config, "enabled", json_boolean(on));
    }
    n->enabled = ig__tf_cfg_bool(n->config, "enabled", true);
    return 0;
}


static ig_rc call_name_macro(tf_project *p, tf_thread *t, tf_node *n, const char *macro,
                             json_t *custom, const char **out, ig_error *err)
{
    const tf_macro *m = ig__tf_find_macro(p, NULL, macro);
    ig_tmpl_val args[2] = {custom && !json_is_null(custom) ? ig__tf_json_to_val(custom) : ig_tmpl_none(),
                           ig__tf_node_val(t, n)};
    ig__tf_thread_node(t, n);
    t->mode = TF_MODE_COMPILE;
    ig_tmpl_val r = ig_tmpl_undefined();
    ig_rc rc = ig__tf_call_macro(t, m, args, 2, &r, err);
    ig_tmpl_unref(args[0]);
    ig_tmpl_unref(args[1]);
    ig__tf_thread_node(t, NULL);
    if (rc) {
        ig__tf_err_node(err, n, "Compilation Error");
        return rc;
    }
    ig_buf b = IG_BUF_INIT;
    ig_tmpl_to_str(r, &b);
    ig_tmpl_unref(r);
    char *s = trimmed(ig_buf_cstr(&b));
    ig_buf_free(&b);
    *out = ig_arena_strdup(p->arena, s);
    free(s);
    return 0;
}

ig_rc ig__tf_resolve_names(tf_project *p, tf_thread *t, ig_error *err)
{
    for (size_t i = 0; i < p->nnodes; i++) {
        tf_node *n = p->nodes[i];
        if (n->kind == TF_SOURCE || !n->enabled) continue;
        json_t *cs = json_object_get(n->config, "schema");
        json_t *ca = json_object_get(n->config, "alias");
        json_t *cd = json_object_get(n->config, "database");
        if (p->has_schema_macro) {
            if (call_name_macro(p, t, n, "generate_schema_name", cs, &n->schema, err)) return err->code;
        } else if (json_is_string(cs)) {
            char *tr = trimmed(json_string_value(cs));
            n->schema = ig_arena_printf(p->arena, "%s_%s", p->target.schema, tr);
            free(tr);
        } else n->schema = p->target.schema;
        if (p->has_alias_macro) {
            if (call_name_macro(p, t, n, "generate_alias_name", ca, &n->alias, err)) return err->code;
        } else if (json_is_string(ca) && json_string_length(ca)) {
            char *tr = trimmed(json_string_value(ca));
            n->alias = ig_arena_strdup(p->arena, tr);
            free(tr);
        } else if (n->version) {
            char *v = ig_strdup(n->version);
            for (char *c = v; *c; c++) if (*c == '.') *c = '_';
            n->alias = ig_arena_printf(p->arena, "%s_v%s", n->name, v);
            free(v);
        } else n->alias = n->name;
        if (p->has_database_macro) {
            if (call_name_macro(p, t, n, "generate_database_name", cd, &n->database, err)) return err->code;
        } else n->database = json_is_string(cd) ? json_string_value(cd) : p->target.database;
        if (n->kind == TF_SNAPSHOT) {
            /* legacy target_schema / target_database are used as they are */
            json_t *ts = json_object_get(n->config, "target_schema");
            json_t *td = json_object_get(n->config, "target_database");
            if (json_is_string(ts)) n->schema = json_string_value(ts);
            if (json_is_string(td)) n->database = json_string_value(td);
        }
    }
    return 0;
}

/* ------------------------------------------------------- parse render */

typedef struct parse_job {
    tf_project *p;
    atomic_size_t next;
    atomic_bool stop;
    pthread_mutex_t lock;
    ig_error err;
    ig_rc rc;
} parse_job;

static ig_rc parse_model(tf_project *p, tf_thread *t, tf_node *n, ig_error *err)
{
    ig_rc rc;
    size_t len = n->raw_len;
    const char *shown;
    if (!n->raw) {
        char *src;
        rc = ig_fs_read(n->abs_path, TF_FILE_CAP, &src, &len, err);
        if (rc) return rc;
        /* the raw text lives as long as the project: it is the model's raw_code */
        pthread_mutex_lock(&p->tmpl_lock);
        n->raw = ig_arena_strndup(p->arena, src, len);
        shown = display_path(p, n->abs_path);
        pthread_mutex_unlock(&p->tmpl_lock);
        n->raw_len = len;
        free(src);
    } else {
        pthread_mutex_lock(&p->tmpl_lock);
        shown = n->kind == TF_TEST && n->test_meta ? n->unique_id : display_path(p, n->abs_path);
        pthread_mutex_unlock(&p->tmpl_lock);
    }
    rc = ig_tmpl_parse(shown, n->raw, len, &n->tmpl, err);
    if (rc) {
        ig__tf_err_node(err, n, "Compilation Error");
        return rc;
    }
    ig__tf_thread_node(t, n);
    t->mode = TF_MODE_PARSE;
    ig__tf_test_bind(t, n);
    ig_buf out = IG_BUF_INIT;
    rc = ig__tf_render(t, n->tmpl, &out, err);
    ig__tf_thread_node(t, NULL);
    if (rc) {
        ig_buf_free(&out);
        ig__tf_keep_tmpl(p, n->tmpl);
        ig__tf_err_node(err, n, "Compilation Error");
        return rc;
    }
    n->parse_len = out.len;
    n->parse_out = out.data ? ig_buf_steal(&out) : ig_strdup("");
    /* a pure node compiles from its parse render: drop the template now, so
     * that its memory serves the next model (10k templates held to the end
     * cost more in page faults than the parse itself) */
    if (n->impure) ig__tf_keep_tmpl(p, n->tmpl);
    else {
        ig_tmpl_free(n->tmpl);
        n->tmpl = NULL;
    }
    n->enabled = ig__tf_cfg_bool(n->config, "enabled", true);
    n->materialized = ig__tf_cfg_str(n->config, "materialized", "view");
    if (n->kind == TF_SNAPSHOT) n->materialized = "snapshot";
    if (n->kind == TF_TEST) n->materialized = "test";
    return 0;
}

static void *parse_worker(void *arg)
{
    parse_job *j = arg;
    tf_project *p = j->p;
    tf_thread *t = ig__tf_thread_new(p, NULL);
    ig_error err;
    ig_error_clear(&err);
    while (!atomic_load(&j->stop)) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= p->nnodes) break;
        tf_node *n = p->nodes[i];
        if (!(n->kind == TF_MODEL || n->kind == TF_SNAPSHOT || (n->kind == TF_TEST && !n->unit)) ||
            !n->enabled)
            continue;
        ig_rc rc = parse_model(p, t, n, &err);
        if (rc) {
            pthread_mutex_lock(&j->lock);
            if (!j->rc) {
                j->rc = rc;
                j->err = err;
            }
            pthread_mutex_unlock(&j->lock);
            atomic_store(&j->stop, true);
        }
    }
    ig__tf_thread_free(t);
    return NULL;
}

static ig_rc parse_models(tf_project *p, ig_error *err)
{
    parse_job j;
    memset(&j, 0, sizeof j);
    j.p = p;
    atomic_init(&j.next, 0);
    atomic_init(&j.stop, false);
    pthread_mutex_init(&j.lock, NULL);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nthreads = p->nnodes < 64 ? 1 : (size_t)(ncpu > 8 ? 8 : ncpu < 1 ? 1 : ncpu);
    pthread_t th[8];
    size_t started = 0;
    for (size_t i = 1; i < nthreads; i++)
        if (!pthread_create(&th[started], NULL, parse_worker, &j)) started++;
    parse_worker(&j);
    for (size_t i = 0; i < started; i++) pthread_join(th[i], NULL);
    pthread_mutex_destroy(&j.lock);
    if (j.rc) *err = j.err;
    return j.rc;
}

/* -------------------------------------------------------------- parse */

static ig_rc load_builtins(tf_project *p, ig_error *err)
{
    const char *src = ig__tf_builtin_macros();
    ig_tmpl *t;
    ig_rc rc = ig_tmpl_parse("<dbt built-in macros>", src, strlen(src), &t, err);
    if (rc) {
        ig_err_prefix(err, "internal");
        return IG_ERR_INTERNAL;
    }
    ig__tf_keep_tmpl(p, t);
    rc = register_macros(p, "dbt", "<built-in>", t, false, err);
    if (rc) return rc;
    src = ig__tf_builtin_tests();
    if ((rc = ig_tmpl_parse("<dbt built-in tests>", src, strlen(src), &t, err))) {
        ig_err_prefix(err, "internal");
        return IG_ERR_INTERNAL;
    }
    ig__tf_keep_tmpl(p, t);
    return register_macros(p, "dbt", "<built-in>", t, false, err);
}

static ig_rc for_files(tf_project *p, tf_package *k, const char **paths, size_t npaths,
                       const char *const *exts,
                       ig_rc (*fn)(tf_project *, tf_package *, const char *mpath, const char *rel,
                                   const char *abs, void *ud, ig_error *),
                       void *ud, ig_error *err)
{
    for (size_t i = 0; i < npaths; i++) {
        char *root = ig_path_join(k->dir, paths[i]);
        flist f = {0};
        walk(root, "", exts, &f);
        if (f.n) qsort(f.rel, f.n, sizeof *f.rel, cmp_str);
        ig_rc rc = 0;
        for (size_t j = 0; j < f.n && !rc; j++) {
            char *abs = ig_path_join(root, f.rel[j]);
            rc = fn(p, k, paths[i], f.rel[j], abs, ud, err);
            free(abs);
        }
        flist_free(&f);
        free(root);
        if (rc) return rc;
    }
    return 0;
}

static ig_rc on_macro(tf_project *p, tf_package *k, const char *mp, const char *rel,
                      const char *abs, void *ud, ig_error *err)
{
    return load_macro_file(p, k, abs, err);
}

static ig_rc on_doc(tf_project *p, tf_package *k, const char *mp, const char *rel,
                    const char *abs, void *ud, ig_error *err)
{
    load_docs_file(p, k, abs);
    return 0;
}

static ig_rc on_model(tf_project *p, tf_package *k, const char *mp, const char *rel,
                      const char *abs, void *ud, ig_error *err)
{
    add_model(p, k, mp, rel);
    return 0;
}

static ig_rc on_seed(tf_project *p, tf_package *k, const char *mp, const char *rel,
                     const char *abs, void *ud, ig_error *err)
{
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    char *name = ig_strndup(base, strlen(base) - 4); /* .csv */
    tf_node *n = add_file_node(p, k, TF_SEED, "seed", mp, rel, name);
    free(name);
    n->materialized = "seed";
    set_fqn(p, n, rel, NULL);
    ig__tf_map_put(&p->node_by_name, ig_arena_printf(p->arena, "%s.%s", k->name, n->name), n);
    return 0;
}

typedef struct snap_ud {
    tf_project *p;
    tf_package *k;
    const char *mp, *rel;
} snap_ud;

static ig_rc on_snapshot_block(void *ud, const char *name, char *body, size_t blen, ig_error *err)
{
    snap_ud *s = ud;
    tf_project *p = s->p;
    char key[600];
    snprintf(key, sizeof key, "%s.%s", s->k->name, name);
    tf_node *old = ig__tf_map_get(&p->node_by_name, key);
    if (old) {
        ig_err(err, IG_ERR_TEMPLATE, "two snapshots or models are named '%s': %s and %s/%s", name,
               old->original_file_path, s->mp, s->rel);
        ig_err_hint(err, "names are unique within a package: rename one of them");
        return IG_ERR_TEMPLATE;
    }
    tf_node *n = add_file_node(p, s->k, TF_SNAPSHOT, "snapshot", s->mp, s->rel, name);
    n->raw = ig_arena_strndup(p->arena, body, blen);
    n->raw_len = blen;
    /* fqn: package, folders, the file's stem, the snapshot */
    const char *base = strrchr(s->rel, '/');
    base = base ? base + 1 : s->rel;
    set_fqn(p, n, s->rel, ig_arena_strndup(p->arena, base, strlen(base) - 4));
    ig__tf_map_put(&p->node_by_name, ig_arena_strdup(p->arena, key), n);
    return 0;
}

static ig_rc on_snapshot_file(tf_project *p, tf_package *k, const char *mp, const char *rel,
                              const char *abs, void *ud, ig_error *err)
{
    char *src;
    size_t len;
    ig_rc rc = ig_fs_read(abs, TF_FILE_CAP, &src, &len, err);
    if (rc) return rc;
    snap_ud s = {p, k, mp, rel};
    rc = ig__tf_snapshot_blocks(display_path(p, abs), src, len, on_snapshot_block, &s, err);
    free(src);
    return rc;
}

static ig_rc on_test_file(tf_project *p, tf_package *k, const char *mp, const char *rel,
                          const char *abs, void *ud, ig_error *err)
{
    /* tests/generic/ holds {% test %} blocks: macros, loaded with the others */
    if (!strncmp(rel, "generic/", 8)) return 0;
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    char *name = ig_strndup(base, strlen(base) - 4);
    tf_node *n = add_file_node(p, k, TF_TEST, "test", mp, rel, name);
    free(name);
    set_fqn(p, n, rel, NULL);
    return 0;
}

static ig_rc on_test_macros(tf_project *p, tf_package *k, const char *mp, const char *rel,
                            const char *abs, void *ud, ig_error *err)
{
    if (strncmp(rel, "generic/", 8)) return 0;
    return load_macro_file(p, k, abs, err);
}

static ig_rc on_props(tf_project *p, tf_package *k, const char *mp, const char *rel,
                      const char *abs, void *ud, ig_error *err)
{
    return load_props_file(p, ud, k, abs, err);
}

static void index_nodes(tf_project *p)
{
    for (size_t i = 0; i < p->nnodes; i++) {
        tf_node *n = p->nodes[i];
        if (!(n->kind == TF_MODEL || n->kind == TF_SEED || n->kind == TF_SNAPSHOT) || !n->enabled)
            continue;
        const char *v = n->version;
        json_t *latest = n->props ? json_object_get(n->props, "latest_version") : NULL;
        bool is_latest = !v || (json_is_string(latest) ? !strcmp(json_string_value(latest), v) : true);
        if (v) {
            ig__tf_map_put(&p->node_by_name, ig_arena_printf(p->arena, "%s.v%s", n->name, v), n);
            ig__tf_map_put(&p->node_by_name, ig_arena_printf(p->arena, "%s.%s.v%s", n->pkg->name, n->name, v), n);
        }
        if (!is_latest) {
            /* without latest_version the highest version wins: keep the max */
            continue;
        }
        tf_node *old = ig__tf_map_get(&p->node_by_name, n->name);
        if (!old || n->pkg->is_root || (v && old->version && strcmp(v, old->version) > 0))
            ig__tf_map_put(&p->node_by_name, n->name, n);
        ig__tf_map_put(&p->node_by_name, ig_arena_printf(p->arena, "%s.%s", n->pkg->name, n->name), n);
    }
}

static ig_rc check_duplicates(tf_project *p, ig_error *err)
{
    tf_map seen = {0};
    ig_rc rc = 0;
    for (size_t i = 0; i < p->nnodes && !rc; i++) {
        tf_node *n = p->nodes[i];
        if (n->kind != TF_MODEL) continue;
        tf_node *o = ig__tf_map_put(&seen, n->unique_id, n);
        if (o) {
            rc = ig_err(err, IG_ERR_TEMPLATE, "two models are named '%s': %s and %s", n->name,
                        o->original_file_path, n->original_file_path);
            ig_err_hint(err, "model names are unique within a package: rename one of the files");
        }
    }
    ig__tf_map_free(&seen);
    return rc;
}

ig_rc ig__tf_parse(tf_project *p, ig_error *err)
{
    uint64_t t0 = ig_now_ns();
#define PHASE(what) ig_debug("transform.parse", "%s: %.1f ms", what, (double)(ig_now_ns() - t0) / 1e6)
    static const char *const sql_ext[] = {".sql", NULL};
    static const char *const md_ext[] = {".md", NULL};
    static const char *const yml_ext[] = {".yml", ".yaml", NULL};
    ig_rc rc = load_builtins(p, err);
    if (rc) return rc;
    /* packages first, the root last: register_macros lets the root win anyway */
    for (size_t i = 0; i < p->npkgs && !rc; i++) {
        tf_package *k = p->pkgs[i];
        rc = for_files(p, k, k->macro_paths, k->nmacro_paths, sql_ext, on_macro, NULL, err);
        if (!rc) rc = for_files(p, k, k->test_paths, k->ntest_paths, sql_ext, on_test_macros, NULL, err);
        if (!rc) rc = for_files(p, k, k->docs_paths, k->ndocs_paths, md_ext, on_doc, NULL, err);
    }
    if (!rc) rc = ig__tf_load_builtin_tests(p, err); /* after packages: an installed one wins */
    if (rc) return rc;
    for (size_t i = 0; i < p->npkgs && !rc; i++) {
        tf_package *k = p->pkgs[i];
        static const char *const csv_ext[] = {".csv", NULL};
        rc = for_files(p, k, k->model_paths, k->nmodel_paths, sql_ext, on_model, NULL, err);
        if (!rc) rc = for_files(p, k, k->seed_paths, k->nseed_paths, csv_ext, on_seed, NULL, err);
        if (!rc)
            rc = for_files(p, k, k->snapshot_paths, k->nsnapshot_paths, sql_ext, on_snapshot_file,
                           NULL, err);
        if (!rc && k->is_root)
            rc = for_files(p, k, k->test_paths, k->ntest_paths, sql_ext, on_test_file, NULL, err);
    }
    if (rc) return rc;
    PHASE("macros, docs, model files");
    if ((rc = check_duplicates(p, err))) return rc;
    tf_thread *t = ig__tf_thread_new(p, p->wh);
    for (size_t i = 0; i < p->npkgs && !rc; i++) {
        tf_package *k = p->pkgs[i];
        rc = for_files(p, k, k->model_paths, k->nmodel_paths, yml_ext, on_props, t, err);
        if (!rc) rc = for_files(p, k, k->seed_paths, k->nseed_paths, yml_ext, on_props, t, err);
        if (!rc)
            rc = for_files(p, k, k->snapshot_paths, k->nsnapshot_paths, yml_ext, on_props, t, err);
        if (!rc && k->is_root)
            rc = for_files(p, k, k->test_paths, k->ntest_paths, yml_ext, on_props, t, err);
    }
    if (!rc) {
        for (size_t i = 0; i < p->nnodes && !rc; i++) {
            tf_node *n = p->nodes[i];
            if (n->kind == TF_MODEL || n->kind == TF_SEED || n->kind == TF_SNAPSHOT ||
                n->kind == TF_TEST) {
                configure(p, n);
                rc = node_enabled(p, n, err);
            }
        }
        /* a test of a disabled node is disabled with it, as in dbt */
        for (size_t i = 0; i < p->nnodes && !rc; i++) {
            tf_node *n = p->nodes[i];
            if (n->kind == TF_TEST && n->attached >= 0 && !p->nodes[n->attached]->enabled)
                n->enabled = false;
        }
    }
    if (!rc) {
        PHASE("properties, configs");
        rc = parse_models(p, err);
        PHASE("parse render");
    }
    if (!rc) {
        index_nodes(p);
        rc = ig__tf_link(p, err);
    }
    PHASE("link");
    if (!rc) rc = ig__tf_resolve_names(p, t, err);
    PHASE("names");
    ig__tf_thread_free(t);
    return rc;
}
