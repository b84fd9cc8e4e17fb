/* dbt's node selection (see select.h for the grammar). A criterion is
 * evaluated to a set (one char per node): the nodes its method matches, then
 * its graph operators, then the tests it selects indirectly; sets combine by
 * intersection (comma), union (space) and difference (--exclude, YAML
 * `exclude:`). Sets are plain char arrays of p->nnodes: projects have at
 * most tens of thousands of nodes, and every operation is one pass. */
#include "transform/select.h"

#include "transform/artifacts.h"

#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NEST 32 /* selectors referring to selectors */

typedef struct selctx {
    tf_project *p;
    const ig_tf_select_opts *o;
    size_t n;
    json_t *state;     /* DIR/manifest.json, loaded on first use */
    json_t *results;   /* DIR/run_results.json: unique_id -> status */
    json_t *selectors; /* name -> {definition, default} */
    bool selectors_loaded;
    int nest;
    const char *indirect; /* current indirect selection mode */
} selctx;

static bool alive(const tf_node *n) { return n->enabled; }

static void warn(selctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(selctx *c, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->o->out) {
        fprintf(c->o->out, "[WARNING]: %s\n", msg);
        fflush(c->o->out);
    } else ig_warn("transform.select", "%s", msg);
}

static bool has_glob(const char *s) { return strpbrk(s, "*?[]") != NULL; }

static bool glob(const char *pat, const char *s) { return s && fnmatch(pat, s, 0) == 0; }

static const char *kind_name(tf_kind k)
{
    switch (k) {
    case TF_MODEL: return "model";
    case TF_SOURCE: return "source";
    case TF_SEED: return "seed";
    case TF_SNAPSHOT: return "snapshot";
    case TF_TEST: return "test";
    case TF_ANALYSIS: return "analysis";
    case TF_OPERATION: return "operation";
    }
    return "?";
}

static bool is_unit_test(const tf_node *n)
{
    return n->kind == TF_TEST && (n->unit || (n->unique_id && !strncmp(n->unique_id, "unit_test.", 10)));
}

/* ------------------------------------------------------------ methods */

/* dbt's fqn rule: the selector's dot-separated parts are a prefix of the
 * node's fqn (a part with a wildcard globs the rest), or it equals the
 * node's name. Ingot also globs a wildcard selector against the name, so
 * `stg_*` selects every stg_ model as users expect, and takes a bare folder
 * name (`staging`) for the nodes under it, as its first releases did. */
static bool fqn_match(const tf_node *n, const char *sel)
{
    if (!n->name) return false;
    if (!strcmp(n->name, sel)) return true;
    if (n->unique_id && !strcmp(n->unique_id, sel)) return true;
    if (n->version) {
        char buf[400];
        snprintf(buf, sizeof buf, "%s.v%s", n->name, n->version);
        if (!strcmp(buf, sel)) return true;
    }
    if (has_glob(sel) && !strchr(sel, '.') && glob(sel, n->name)) return true;
    if (!n->nfqn) return false;
    /* ingot's older form, kept: a bare folder name selects what is under it */
    if (!strchr(sel, '.') && !has_glob(sel))
        for (size_t i = 1; i + 1 < n->nfqn; i++)
            if (!strcmp(n->fqn[i], sel)) return true;
    /* flatten: parts of fqn split at dots */
    char flat[2048];
    size_t fl = 0;
    for (size_t i = 0; i < n->nfqn && fl < sizeof flat - 2; i++)
        fl += (size_t)snprintf(flat + fl, sizeof flat - fl, "%s%s", i ? "." : "", n->fqn[i]);
    if (fl >= sizeof flat) return false;
    const char *f = flat, *s = sel;
    for (;;) {
        const char *sd = strchr(s, '.');
        size_t sl = sd ? (size_t)(sd - s) : strlen(s);
        char part[512];
        if (sl >= sizeof part) return false;
        memcpy(part, s, sl);
        part[sl] = 0;
        if (has_glob(part)) return glob(s, f); /* the rest of the selector globs the rest */
        const char *fd = strchr(f, '.');
        size_t flen = fd ? (size_t)(fd - f) : strlen(f);
        if (flen != sl || memcmp(f, part, sl)) return false;
        if (!sd) return true; /* every selector part matched a prefix */
        if (!fd) return false; /* the selector is longer than the fqn */
        s = sd + 1;
        f = fd + 1;
    }
}

/* path:DIR or path:FILE (globs allowed), relative to the project. */
static bool path_match(const tf_node *n, const char *sel)
{
    const char *f = n->original_file_path;
    if (!f) return false;
    char pat[1024];
    snprintf(pat, sizeof pat, "%s", sel);
    if (!strncmp(pat, "./", 2)) memmove(pat, pat + 2, strlen(pat + 2) + 1);
    size_t l = strlen(pat);
    while (l > 1 && pat[l - 1] == '/') pat[--l] = 0;
    if (!l || !strcmp(pat, ".")) return true;
    if (glob(pat, f)) return true;
    /* a folder: any parent of the file */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", f);
    for (char *slash = strrchr(dir, '/'); slash; slash = strrchr(dir, '/')) {
        *slash = 0;
        if (glob(pat, dir)) return true;
    }
    return false;
}

static bool file_match(const tf_node *n, const char *sel)
{
    const char *f = n->original_file_path;
    if (!f) return false;
    const char *base = strrchr(f, '/');
    base = base ? base + 1 : f;
    if (glob(sel, base)) return true;
    const char *dot = strrchr(base, '.');
    size_t stem = dot ? (size_t)(dot - base) : strlen(base);
    return strlen(sel) == stem && !strncmp(base, sel, stem);
}

static bool tag_match(const tf_node *n, const char *sel)
{
    const json_t *tags = n->config ? json_object_get(n->config, "tags") : NULL;
    if (json_is_string(tags)) return glob(sel, json_string_value(tags));
    size_t i;
    const json_t *t;
    json_array_foreach(tags, i, t) if (json_is_string(t) && glob(sel, json_string_value(t))) return true;
    return false;
}

/* One config value against a selector value: strings glob, numbers and
 * booleans compare as text (true/false), lists hold a matching element. */
static bool value_match(const json_t *v, const char *sel)
{
    char buf[64];
    switch (json_typeof(v)) {
    case JSON_STRING: return glob(sel, json_string_value(v));
    case JSON_TRUE: return !strcasecmp(sel, "true");
    case JSON_FALSE: return !strcasecmp(sel, "false");
    case JSON_INTEGER:
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        return !strcmp(buf, sel);
    case JSON_REAL:
        snprintf(buf, sizeof buf, "%g", json_real_value(v));
        return !strcmp(buf, sel);
    case JSON_ARRAY: {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e) if (value_match(e, sel)) return true;
        return false;
    }
    default: return false;
    }
}

/* config.KEY[.SUBKEY]:value */
static bool config_match(const tf_node *n, const char *key, const char *sel)
{
    json_t *v = n->config;
    char k[256];
    snprintf(k, sizeof k, "%s", key);
    for (char *save, *part = strtok_r(k, ".", &save); part && v; part = strtok_r(NULL, ".", &save)) {
        json_t *next = json_object_get(v, part);
        if (!next && strchr(part, '_')) { /* pre_hook = pre-hook */
            char alt[256];
            snprintf(alt, sizeof alt, "%s", part);
            for (char *c = alt; *c; c++) if (*c == '_') *c = '-';
            next = json_object_get(v, alt);
        }
        v = next;
    }
    if (!v && !strcmp(key, "materialized") && n->materialized) return glob(sel, n->materialized);
    if (!v && !strcmp(key, "enabled")) return value_match(n->enabled ? json_true() : json_false(), sel);
    return v && value_match(v, sel);
}

/* source:SRC, source:SRC.TABLE, source:PKG.SRC.TABLE (globs in each part) */
static bool source_match(const tf_node *n, const char *sel)
{
    if (n->kind != TF_SOURCE) return false;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", sel);
    char *parts[3];
    int np = 0;
    for (char *save, *w = strtok_r(buf, ".", &save); w && np < 3; w = strtok_r(NULL, ".", &save))
        parts[np++] = w;
    if (np == 0) return false;
    const char *src = n->source_name, *tbl = n->name, *pkg = n->pkg ? n->pkg->name : "";
    if (np == 1) return glob(parts[0], src);
    if (np == 2) return glob(parts[0], src) && glob(parts[1], tbl);
    return glob(parts[0], pkg) && glob(parts[1], src) && glob(parts[2], tbl);
}

static bool test_type_match(const tf_node *n, const char *sel)
{
    if (n->kind != TF_TEST) return false;
    if (!strcmp(sel, "unit")) return is_unit_test(n);
    if (is_unit_test(n)) return false;
    if (!strcmp(sel, "data")) return true; /* dbt's old name: generic and singular */
    if (!strcmp(sel, "generic") || !strcmp(sel, "schema")) return n->test_meta != NULL;
    if (!strcmp(sel, "singular")) return n->test_meta == NULL;
    return false;
}

/* ------------------------------------------------------- state, result */

static ig_rc load_json(const char *dir, const char *file, const char *why, json_t **out,
                       ig_error *err)
{
    char *path = ig_asprintf("%s/%s", dir, file);
    json_error_t je;
    *out = json_load_file(path, 0, &je);
    ig_rc rc = 0;
    if (!*out) {
        if (!ig_fs_exists(path)) {
            rc = ig_err(err, IG_ERR_NOT_FOUND, "%s needs %s, which does not exist", why, path);
            ig_err_hint(err, "point --state at the target/ folder of an earlier run (copy it aside "
                             "before the next run overwrites it)");
        } else
            rc = ig_err(err, IG_ERR_DATA, "%s: %s:%d:%d: not valid JSON: %s", why, path, je.line,
                        je.column, je.text);
    }
    free(path);
    return rc;
}

static ig_rc need_state(selctx *c, const char *what, ig_error *err)
{
    if (c->state) return 0;
    if (!c->o->state_dir) {
        ig_err(err, IG_ERR_USAGE, "the selector '%s' compares with an earlier run, but no --state "
                                  "was given", what);
        ig_err_hint(err, "add --state DIR, DIR holding the manifest.json of the earlier run");
        return IG_ERR_USAGE;
    }
    return load_json(c->o->state_dir, "manifest.json", what, &c->state, err);
}

static const json_t *old_node(selctx *c, const tf_node *n)
{
    const json_t *o = json_object_get(json_object_get(c->state, "nodes"), n->unique_id);
    if (!o) o = json_object_get(json_object_get(c->state, "sources"), n->unique_id);
    return o;
}

/* A config value that means "not set": a key missing on one side equals one
 * of these on the other (manifests written by dbt carry every default). */
static bool empty_value(const json_t *v)
{
    return !v || json_is_null(v) || json_is_false(v) || (json_is_array(v) && !json_array_size(v)) ||
           (json_is_object(v) && !json_object_size(v)) ||
           (json_is_string(v) && !*json_string_value(v));
}

static bool configs_differ(const json_t *a, const json_t *b)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)a, k, v) {
        const json_t *w = json_object_get(b, k);
        if (w ? !json_equal(v, w) : !empty_value(v)) return true;
    }
    json_object_foreach((json_t *)b, k, v) if (!json_object_get(a, k) && !empty_value(v)) return true;
    return false;
}

/* state:new|old|modified[.body|.configs]|unmodified */
static ig_rc state_match(selctx *c, const char *what, char *out, ig_error *err)
{
    static const char *const known[] = {"new", "old", "modified", "modified.body",
                                        "modified.configs", "unmodified"};
    bool ok = false;
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) ok |= !strcmp(known[i], what);
    if (!ok) {
        ig_err(err, IG_ERR_USAGE, "unknown state selector 'state:%s'", what);
        ig_err_hint(err, "use state:new, state:old, state:modified, state:modified.body, "
                         "state:modified.configs or state:unmodified");
        return IG_ERR_USAGE;
    }
    char label[64];
    snprintf(label, sizeof label, "state:%s", what);
    ig_rc rc = need_state(c, label, err);
    if (rc) return rc;
    bool body = !strcmp(what, "modified") || !strcmp(what, "modified.body") || !strcmp(what, "unmodified");
    bool cfg = !strcmp(what, "modified") || !strcmp(what, "modified.configs") || !strcmp(what, "unmodified");
    for (size_t i = 0; i < c->n; i++) {
        tf_node *n = c->p->nodes[i];
        if (!alive(n)) continue;
        const json_t *o = old_node(c, n);
        if (!strcmp(what, "new")) { out[i] = o == NULL; continue; }
        if (!strcmp(what, "old")) { out[i] = o != NULL; continue; }
        bool mod = o == NULL;
        if (o && body && n->kind != TF_SOURCE) {
            char sum[65];
            ig__tf_node_checksum(n, sum);
            const char *was = json_string_value(json_object_get(json_object_get(o, "checksum"), "checksum"));
            mod = !was || strcmp(was, sum);
        }
        if (o && !mod && cfg) {
            json_t *now = ig__tf_node_config_json(n);
            mod = configs_differ(now, json_object_get(o, "config"));
            json_decref(now);
        }
        out[i] = !strcmp(what, "unmodified") ? !mod : mod;
    }
    return 0;
}

static ig_rc result_match(selctx *c, const char *status, char *out, ig_error *err)
{
    if (!c->results) {
        char label[100];
        snprintf(label, sizeof label, "result:%s", status);
        if (!c->o->state_dir) {
            ig_err(err, IG_ERR_USAGE, "the selector '%s' reads an earlier run's results, but no "
                                      "--state was given", label);
            ig_err_hint(err, "add --state DIR, DIR holding the run_results.json of the earlier run");
            return IG_ERR_USAGE;
        }
        json_t *rr;
        ig_rc rc = load_json(c->o->state_dir, "run_results.json", label, &rr, err);
        if (rc) return rc;
        c->results = json_object();
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(rr, "results"), i, r) {
            const char *id = json_string_value(json_object_get(r, "unique_id"));
            json_t *st = json_object_get(r, "status");
            if (id && json_is_string(st)) json_object_set(c->results, id, st);
        }
        json_decref(rr);
    }
    for (size_t i = 0; i < c->n; i++) {
        tf_node *n = c->p->nodes[i];
        if (!alive(n)) continue;
        const char *st = json_string_value(json_object_get(c->results, n->unique_id));
        out[i] = st && glob(status, st);
    }
    return 0;
}

/* ------------------------------------------------------------- graph */

static void walk(selctx *c, char *set, bool up, long depth)
{
    /* breadth-first from every node in set, `depth` steps (<0: unlimited) */
    int *q = ig_malloc((c->n + 1) * sizeof *q);
    int *d = ig_malloc((c->n + 1) * sizeof *d);
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < c->n; i++)
        if (set[i]) { q[tail] = (int)i; d[tail++] = 0; }
    while (head < tail) {
        tf_node *n = c->p->nodes[q[head]];
        int nd = d[head++];
        if (depth >= 0 && nd >= depth) continue;
        const int *next = up ? n->deps : n->kids;
        size_t cnt = up ? n->ndeps : n->nkids;
        for (size_t k = 0; k < cnt; k++) {
            int j = next[k];
            if (j < 0 || (size_t)j >= c->n || set[j] || !alive(c->p->nodes[j])) continue;
            set[j] = 1;
            q[tail] = j;
            d[tail++] = nd + 1;
        }
    }
    free(q);
    free(d);
}

static bool parent_in(const selctx *c, const tf_node *t, const char *set, bool all)
{
    bool any = false, every = true, some = false;
    for (size_t k = 0; k < t->ndeps; k++) {
        int j = t->deps[k];
        if (j < 0 || (size_t)j >= c->n) continue;
        some = true;
        if (set[j]) any = true;
        else every = false;
    }
    if (t->attached >= 0 && (size_t)t->attached < c->n) {
        some = true;
        if (set[t->attached]) any = true;
        else every = false;
    }
    return all ? some && every : any;
}

/* Tests whose parents the set selects, per the indirect selection mode. */
static void indirect_tests(selctx *c, char *set)
{
    const char *mode = c->indirect ? c->indirect : "eager";
    if (!strcmp(mode, "empty")) return;
    bool all = strcmp(mode, "eager") != 0;
    char *ext = NULL;
    if (!strcmp(mode, "buildable")) { /* parents may also be ancestors of the selection */
        ext = ig_malloc(c->n + 1);
        memcpy(ext, set, c->n);
        walk(c, ext, true, -1);
    }
    for (size_t i = 0; i < c->n; i++) {
        tf_node *t = c->p->nodes[i];
        if (t->kind != TF_TEST || set[i] || !alive(t)) continue;
        /* buildable: a child of the selection whose other parents are
         * upstream of it; cautious: every parent selected; eager: any */
        bool hit = ext ? parent_in(c, t, set, false) && parent_in(c, t, ext, true)
                       : parent_in(c, t, set, all);
        if (hit) set[i] = 2; /* 2: added here (no cascade) */
    }
    for (size_t i = 0; i < c->n; i++) if (set[i]) set[i] = 1;
    free(ext);
}

/* ---------------------------------------------------------- criteria */

typedef struct crit {
    bool at;            /* @ */
    long parents, children; /* -1: none; 0: unlimited; N: depth */
    const char *method; /* NULL: default */
    const char *value;
} crit;

static const char *const methods[] = {"fqn", "path", "file", "tag", "config", "source",
                                      "resource_type", "test_type", "package", "state",
                                      "result", "test_name", "access", "group", "version"};

static void suggest_name(selctx *c, const char *value, ig_error *err)
{
    const char **names = ig_malloc((c->n + 1) * sizeof *names);
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++)
        if (alive(c->p->nodes[i]) && c->p->nodes[i]->kind != TF_TEST) names[k++] = c->p->nodes[i]->name;
    const char *s = ig_str_suggest(value, names, k);
    if (s) ig_err_hint(err, "did you mean '%s'?", s);
    else ig_err_hint(err, "check the names under models/, seeds/ and snapshots/, or select with "
                          "path:, tag: or source:");
    free(names);
}

/* The nodes a method matches (before graph operators). */
static ig_rc method_match(selctx *c, const crit *cr, char *out, ig_error *err)
{
    const char *m = cr->method, *v = cr->value;
    tf_project *p = c->p;
    if (!m) {
        size_t l = strlen(v);
        if (strchr(v, '/')) m = "path";
        else if ((l > 4 && (!strcmp(v + l - 4, ".sql") || !strcmp(v + l - 4, ".csv"))) ||
                 (l > 3 && !strcmp(v + l - 3, ".py")))
            m = "file";
        else m = "fqn";
    }
    if (!strcmp(m, "state")) return state_match(c, v, out, err);
    if (!strcmp(m, "result")) return result_match(c, v, out, err);
    const char *key = NULL;
    if (!strncmp(m, "config.", 7)) {
        key = m + 7;
        m = "config";
    }
    bool known = false;
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) known |= !strcmp(methods[i], m);
    if (!known || (!strcmp(m, "config") && (!key || !*key))) {
        ig_err(err, IG_ERR_USAGE, "unknown selection method '%s' in '%s:%s'", cr->method,
               cr->method, v);
        const char *s = ig_str_suggest(m, methods, sizeof methods / sizeof *methods);
        if (s) ig_err_hint(err, "did you mean '%s:'? Methods: fqn, path, file, tag, config.KEY, "
                                "source, resource_type, test_type, package, state, result", s);
        else ig_err_hint(err, "methods: fqn, path, file, tag, config.KEY, source, resource_type, "
                              "test_type, package, state, result");
        return IG_ERR_USAGE;
    }
    if (!strcmp(m, "resource_type")) {
        static const char *const kinds[] = {"model", "source", "seed", "snapshot", "test",
                                            "analysis", "operation", "unit_test", "exposure",
                                            "metric", "semantic_model", "saved_query"};
        bool ok = false;
        for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) ok |= !strcmp(kinds[i], v);
        if (!ok) {
            ig_err(err, IG_ERR_USAGE, "unknown resource type 'resource_type:%s'", v);
            ig_err_hint(err, "use model, seed, snapshot, test, unit_test, source, analysis or operation");
            return IG_ERR_USAGE;
        }
    }
    if (!strcmp(m, "test_type") && strcmp(v, "generic") && strcmp(v, "singular") &&
        strcmp(v, "unit") && strcmp(v, "data") && strcmp(v, "schema")) {
        ig_err(err, IG_ERR_USAGE, "unknown test type 'test_type:%s'", v);
        ig_err_hint(err, "use test_type:generic, test_type:singular or test_type:unit");
        return IG_ERR_USAGE;
    }
    for (size_t i = 0; i < c->n; i++) {
        tf_node *n = p->nodes[i];
        if (!alive(n)) continue;
        bool hit = false;
        if (!strcmp(m, "fqn")) hit = fqn_match(n, v);
        else if (!strcmp(m, "path")) hit = path_match(n, v);
        else if (!strcmp(m, "file")) hit = file_match(n, v);
        else if (!strcmp(m, "tag")) hit = tag_match(n, v);
        else if (!strcmp(m, "config")) hit = config_match(n, key, v);
        else if (!strcmp(m, "source")) hit = source_match(n, v);
        else if (!strcmp(m, "resource_type"))
            hit = !strcmp(v, "unit_test") ? is_unit_test(n)
                                          : !strcmp(kind_name(n->kind), v) && !is_unit_test(n);
        else if (!strcmp(m, "test_type")) hit = test_type_match(n, v);
        else if (!strcmp(m, "package"))
            hit = n->pkg && (glob(v, n->pkg->name) || (!strcmp(v, "this") && n->pkg->is_root));
        else if (!strcmp(m, "test_name"))
            hit = n->test_meta && glob(v, json_string_value(json_object_get(n->test_meta, "name")));
        else if (!strcmp(m, "access")) hit = config_match(n, "access", v) ||
                                             (!strcmp(v, "protected") && n->kind == TF_MODEL &&
                                              !json_object_get(n->config, "access"));
        else if (!strcmp(m, "group")) hit = config_match(n, "group", v);
        else if (!strcmp(m, "version"))
            hit = n->version && (glob(v, n->version) || !strcmp(v, "latest") /* approximate */);
        out[i] = hit;
    }
    return 0;
}

/* Parse "[@][N+]method:value[+N]" into cr (pointers into buf). */
static ig_rc parse_crit(char *buf, crit *cr, ig_error *err)
{
    const char *orig = buf;
    memset(cr, 0, sizeof *cr);
    cr->parents = cr->children = -1;
    char *s = buf;
    if (*s == '@') {
        cr->at = true;
        s++;
    }
    char *q = s;
    while (isdigit((unsigned char)*q)) q++;
    if (*q == '+') {
        cr->parents = q > s ? strtol(s, NULL, 10) : 0;
        s = q + 1;
    }
    size_t l = strlen(s);
    size_t e = l;
    while (e > 0 && isdigit((unsigned char)s[e - 1])) e--;
    if (e > 0 && s[e - 1] == '+') {
        cr->children = e < l ? strtol(s + e, NULL, 10) : 0;
        s[e - 1] = 0;
    }
    char *colon = strchr(s, ':');
    if (colon) {
        bool word = colon > s;
        for (char *k = s; k < colon; k++) word &= isalnum((unsigned char)*k) || *k == '_' || *k == '.';
        if (word) {
            *colon = 0;
            cr->method = s;
            s = colon + 1;
        }
    }
    cr->value = s;
    if (!*s || (cr->at && (cr->parents >= 0))) {
        ig_err(err, IG_ERR_USAGE, "the selection criterion '%s' is malformed", orig);
        ig_err_hint(err, "write [@][N+]method:value[+N], e.g. +orders, tag:nightly+, @stg_orders; "
                         "@ cannot be combined with a leading +");
        return IG_ERR_USAGE;
    }
    if (cr->at && cr->children < 0) cr->children = 0;
    return 0;
}

/* Expand a base set by cr's operators, then indirect tests. */
static void expand(selctx *c, const crit *cr, char *set)
{
    char *base = NULL;
    if (cr->parents >= 0 && (cr->children >= 0 || cr->at)) {
        base = ig_malloc(c->n + 1);
        memcpy(base, set, c->n);
    }
    if (cr->children >= 0) walk(c, set, false, cr->children ? cr->children : -1);
    if (cr->at) walk(c, set, true, -1); /* the parents of every child */
    if (cr->parents >= 0) {
        char *up = base ? base : set;
        walk(c, up, true, cr->parents ? cr->parents : -1);
        if (base)
            for (size_t i = 0; i < c->n; i++) set[i] |= base[i];
    }
    free(base);
    indirect_tests(c, set);
}

static ig_rc eval_crit(selctx *c, const char *text, char *out, ig_error *err)
{
    char *buf = ig_strdup(text);
    crit cr;
    ig_rc rc = parse_crit(buf, &cr, err);
    if (!rc) {
        memset(out, 0, c->n);
        rc = method_match(c, &cr, out, err);
    }
    if (!rc && !ig__tf_select_count(c->p, out)) {
        bool plain = !cr.method && !has_glob(cr.value) && !strchr(cr.value, '/');
        if (plain) {
            rc = ig_err(err, IG_ERR_NOT_FOUND,
                        "the selection '%s' matches no model, seed, snapshot, test or source",
                        cr.value);
            suggest_name(c, cr.value, err);
        } else
            warn(c, "The selection criterion '%s' does not match any enabled nodes", text);
    }
    if (!rc) expand(c, &cr, out);
    free(buf);
    return rc;
}

/* A CLI spec: words separated by spaces are united; within a word, parts
 * separated by commas are intersected. */
static ig_rc eval_spec(selctx *c, const char *spec, char *out, ig_error *err)
{
    memset(out, 0, c->n);
    char *copy = ig_strdup(spec);
    char *part = ig_malloc(c->n + 1), *acc = ig_malloc(c->n + 1);
    ig_rc rc = 0;
    for (char *s1, *w = strtok_r(copy, " \t\n", &s1); w && !rc; w = strtok_r(NULL, " \t\n", &s1)) {
        bool first = true;
        for (char *s2, *x = strtok_r(w, ",", &s2); x && !rc; x = strtok_r(NULL, ",", &s2)) {
            if ((rc = eval_crit(c, x, first ? acc : part, err))) break;
            if (!first)
                for (size_t i = 0; i < c->n; i++) acc[i] &= part[i];
            first = false;
        }
        if (!rc && !first)
            for (size_t i = 0; i < c->n; i++) out[i] |= acc[i];
    }
    free(copy);
    free(part);
    free(acc);
    return rc;
}

/* ------------------------------------------------------ selectors.yml */

static ig_rc load_selectors(selctx *c, ig_error *err)
{
    if (c->selectors_loaded) return 0;
    c->selectors_loaded = true;
    c->selectors = json_object();
    char *path = ig_asprintf("%s/selectors.yml", c->p->root->dir);
    ig_rc rc = 0;
    if (ig_fs_exists(path)) {
        ig_arena *a = ig_arena_new();
        ig_yaml *y;
        ig_yaml_options yo = {0};
        rc = ig_yaml_load(a, path, &yo, &y, err);
        json_t *j = rc ? NULL : ig__tf_yaml_to_json(y);
        ig_arena_free(a);
        json_t *list = json_object_get(j, "selectors");
        if (!rc && !json_is_array(list) && j && !json_is_null(j)) {
            rc = ig_err(err, IG_ERR_CONFIG, "%s: expected a top-level 'selectors:' list", path);
            ig_err_hint(err, "write selectors:\\n  - name: NAME\\n    definition: ...");
        }
        size_t i;
        json_t *s;
        json_array_foreach(list, i, s) {
            if (rc) break;
            const char *name = json_string_value(json_object_get(s, "name"));
            if (!name || !json_object_get(s, "definition")) {
                rc = ig_err(err, IG_ERR_CONFIG, "%s: selector %zu has no name or no definition",
                            path, i + 1);
                ig_err_hint(err, "each entry needs name: and definition:");
                break;
            }
            json_object_set(c->selectors, name, s);
        }
        json_decref(j);
    }
    free(path);
    return rc;
}

static ig_rc eval_def(selctx *c, const json_t *def, char *out, ig_error *err);

static ig_rc eval_list(selctx *c, const json_t *list, bool inter, char *out, ig_error *err)
{
    if (!json_is_array(list)) {
        ig_err(err, IG_ERR_CONFIG, "selectors.yml: %s: expects a list",
               inter ? "intersection" : "union");
        ig_err_hint(err, "write the parts as a YAML list (- item)");
        return IG_ERR_CONFIG;
    }
    char *part = ig_malloc(c->n + 1), *minus = ig_calloc(c->n + 1, 1);
    memset(out, 0, c->n);
    bool first = true;
    ig_rc rc = 0;
    size_t i;
    const json_t *d;
    json_array_foreach(list, i, d) {
        const json_t *ex = json_is_object(d) ? json_object_get(d, "exclude") : NULL;
        if (ex) { /* an exclude: inside a union/intersection is subtracted from it */
            if (!(rc = eval_list(c, json_is_array(ex) ? ex : NULL, false, part, err)))
                for (size_t k = 0; k < c->n; k++) minus[k] |= part[k];
            if (rc) break;
            continue;
        }
        if ((rc = eval_def(c, d, part, err))) break;
        for (size_t k = 0; k < c->n; k++)
            out[k] = first ? part[k] : inter ? (out[k] & part[k]) : (out[k] | part[k]);
        first = false;
    }
    for (size_t k = 0; k < c->n; k++) out[k] &= !minus[k];
    free(part);
    free(minus);
    return rc;
}

static long depth_of(const json_t *d, const char *key)
{
    const json_t *v = json_object_get(d, key);
    return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

static ig_rc eval_selector(selctx *c, const char *name, char *out, ig_error *err);

static ig_rc eval_def(selctx *c, const json_t *def, char *out, ig_error *err)
{
    if (json_is_string(def)) return eval_spec(c, json_string_value(def), out, err);
    if (!json_is_object(def)) {
        ig_err(err, IG_ERR_CONFIG, "selectors.yml: a definition must be a string or a mapping");
        ig_err_hint(err, "use a CLI-style string, union:, intersection:, or method:/value:");
        return IG_ERR_CONFIG;
    }
    const json_t *u = json_object_get(def, "union"), *in = json_object_get(def, "intersection");
    if (u) return eval_list(c, u, false, out, err);
    if (in) return eval_list(c, in, true, out, err);
    const char *method = json_string_value(json_object_get(def, "method"));
    const json_t *value = json_object_get(def, "value");
    if (!method && json_object_size(def) >= 1) { /* shorthand {tag: nightly} */
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)def, k, v) {
            if (strcmp(k, "children") && strcmp(k, "parents") && strcmp(k, "children_depth") &&
                strcmp(k, "parents_depth") && strcmp(k, "childrens_parents") &&
                strcmp(k, "indirect_selection") && strcmp(k, "description")) {
                method = k;
                value = v;
                break;
            }
        }
    }
    char vbuf[64];
    const char *vs = json_string_value(value);
    if (!vs && json_is_integer(value)) {
        snprintf(vbuf, sizeof vbuf, "%lld", (long long)json_integer_value(value));
        vs = vbuf;
    } else if (!vs && json_is_boolean(value)) vs = json_is_true(value) ? "true" : "false";
    if (!method || !vs) {
        ig_err(err, IG_ERR_CONFIG, "selectors.yml: a definition has no method and value");
        ig_err_hint(err, "write method: tag and value: nightly (or tag: nightly)");
        return IG_ERR_CONFIG;
    }
    const char *saved = c->indirect;
    const char *ind = json_string_value(json_object_get(def, "indirect_selection"));
    if (ind) c->indirect = ind;
    ig_rc rc;
    if (!strcmp(method, "selector")) rc = eval_selector(c, vs, out, err);
    else {
        crit cr = {.parents = -1, .children = -1, .method = method, .value = vs};
        if (!strcmp(method, "fqn")) cr.method = "fqn";
        if (json_is_true(json_object_get(def, "parents"))) cr.parents = depth_of(def, "parents_depth");
        if (json_is_true(json_object_get(def, "children"))) cr.children = depth_of(def, "children_depth");
        if (json_is_true(json_object_get(def, "childrens_parents"))) {
            cr.at = true;
            if (cr.children < 0) cr.children = 0;
        }
        memset(out, 0, c->n);
        rc = method_match(c, &cr, out, err);
        if (!rc && !ig__tf_select_count(c->p, out))
            warn(c, "The selection criterion '%s:%s' does not match any enabled nodes", method, vs);
        if (!rc) expand(c, &cr, out);
    }
    c->indirect = saved;
    return rc;
}

static ig_rc eval_selector(selctx *c, const char *name, char *out, ig_error *err)
{
    ig_rc rc = load_selectors(c, err);
    if (rc) return rc;
    const json_t *s = json_object_get(c->selectors, name);
    if (!s) {
        ig_err(err, IG_ERR_NOT_FOUND, "no selector named '%s' in %s/selectors.yml", name,
               c->p->root->dir);
        const char **names = ig_malloc((json_object_size(c->selectors) + 1) * sizeof *names);
        size_t k = 0;
        const char *key;
        json_t *v;
        json_object_foreach(c->selectors, key, v) names[k++] = key;
        const char *best = ig_str_suggest(name, names, k);
        if (best) ig_err_hint(err, "did you mean '%s'?", best);
        else ig_err_hint(err, "define it under selectors: with name: %s and a definition:", name);
        free(names);
        return IG_ERR_NOT_FOUND;
    }
    if (++c->nest > MAX_NEST) {
        c->nest--;
        ig_err(err, IG_ERR_CONFIG, "selectors.yml: selector '%s' refers to itself (through "
                                   "method: selector)", name);
        ig_err_hint(err, "break the cycle between the selectors");
        return IG_ERR_CONFIG;
    }
    rc = eval_def(c, json_object_get(s, "definition"), out, err);
    c->nest--;
    return rc;
}

/* ------------------------------------------------------------- entry */

size_t ig__tf_select_count(const tf_project *p, const char *sel)
{
    size_t k = 0;
    for (size_t i = 0; i < p->nnodes; i++) k += sel[i] != 0;
    return k;
}

ig_rc ig__tf_select(tf_project *p, const ig_tf_select_opts *o, char *sel, ig_error *err)
{
    static const ig_tf_select_opts none = {0};
    selctx c = {.p = p, .o = o ? o : &none, .n = p->nnodes};
    c.indirect = c.o->indirect_selection;
    if (c.indirect && strcmp(c.indirect, "eager") && strcmp(c.indirect, "cautious") &&
        strcmp(c.indirect, "buildable") && strcmp(c.indirect, "empty")) {
        ig_err(err, IG_ERR_USAGE, "unknown indirect selection mode '%s'", c.indirect);
        ig_err_hint(err, "use eager, cautious, buildable or empty");
        return IG_ERR_USAGE;
    }
    memset(sel, 0, p->nnodes);
    bool has_select = c.o->select && *c.o->select;
    ig_rc rc = 0;
    if (has_select && c.o->selector && *c.o->selector) {
        ig_err(err, IG_ERR_USAGE, "--select and --selector cannot be used together");
        ig_err_hint(err, "put the --select criteria into the selector's definition, or drop --selector");
        return IG_ERR_USAGE;
    }
    if (has_select) rc = eval_spec(&c, c.o->select, sel, err);
    else if (c.o->selector && *c.o->selector) rc = eval_selector(&c, c.o->selector, sel, err);
    else {
        /* a selector marked default: true, else everything */
        const char *dflt = NULL;
        if (!(rc = load_selectors(&c, err))) {
            const char *k;
            json_t *v;
            json_object_foreach(c.selectors, k, v) if (json_is_true(json_object_get(v, "default"))) dflt = k;
        }
        if (!rc && dflt) rc = eval_selector(&c, dflt, sel, err);
        else if (!rc)
            for (size_t i = 0; i < p->nnodes; i++) sel[i] = alive(p->nodes[i]);
    }
    if (!rc && c.o->exclude && *c.o->exclude) {
        char *ex = ig_malloc(p->nnodes + 1);
        rc = eval_spec(&c, c.o->exclude, ex, err);
        for (size_t i = 0; !rc && i < p->nnodes; i++) if (ex[i]) sel[i] = 0;
        free(ex);
    }
    if (!rc)
        for (size_t i = 0; i < p->nnodes; i++) {
            const tf_node *n = p->nodes[i];
            if (!alive(n) || (c.o->resource_types && !(c.o->resource_types & IG_TF_RT(n->kind))))
                sel[i] = 0;
        }
    if (!rc && !ig__tf_select_count(p, sel))
        warn(&c, "Nothing to do. Try checking your model configs and model specification args");
    json_decref(c.state);
    json_decref(c.results);
    json_decref(c.selectors);
    if (rc) memset(sel, 0, p->nnodes);
    return rc;
}
