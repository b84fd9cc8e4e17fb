/* The dbt context: the functions and values a model or macro sees (ref,
 * source, config, var, env_var, this, target, is_incremental, run_query,
 * statement / load_result, log, print, exceptions, doc, return, model,
 * graph, execute, flags, invocation_id, run_started_at, dbt_version),
 * registered once per worker thread in the thread's template environment.
 *
 * Per-node names (this, model, execute, graph) are not globals: the
 * environment's resolver answers them from the thread's current node, so
 * moving to the next node costs nothing. Macros are resolved lazily by the
 * same resolver (root project first, then packages, then the built-in dbt
 * macros) and cached as globals of the thread's environment.
 *
 * The parse render (TF_MODE_PARSE) runs before the DAG is known: ref() and
 * `this` render as markers (\x01R<i>\x02, \x01T\x02) that compile.c replaces
 * with relation names, and anything whose answer needs the warehouse or the
 * graph (execute, run_query, is_incremental, attributes of a ref) marks the
 * node impure, so that compile renders it again. */
#include "transform/tf_int.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --------------------------------------------------------- json <-> val */

ig_tmpl_val ig__tf_json_to_val(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        ig_tmpl_val d = ig_tmpl_dict_new();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v) ig_tmpl_dict_set(d, k, ig__tf_json_to_val(v));
        return d;
    }
    case JSON_ARRAY: {
        ig_tmpl_val l = ig_tmpl_list_new();
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) ig_tmpl_list_append(l, ig__tf_json_to_val(v));
        return l;
    }
    case JSON_STRING: return ig_tmpl_strn(json_string_value(j), json_string_length(j));
    case JSON_INTEGER: return ig_tmpl_int(json_integer_value(j));
    case JSON_REAL: return ig_tmpl_float(json_real_value(j));
    case JSON_TRUE: return ig_tmpl_bool(true);
    case JSON_FALSE: return ig_tmpl_bool(false);
    default: return ig_tmpl_none();
    }
}

json_t *ig__tf_val_to_json(ig_tmpl_val v)
{
    switch (v.type) {
    case IG_TMPL_UNDEFINED:
    case IG_TMPL_NONE: return json_null();
    case IG_TMPL_BOOL: return json_boolean(v.u.b);
    case IG_TMPL_INT: return json_integer(v.u.i);
    case IG_TMPL_FLOAT: return json_real(v.u.f);
    case IG_TMPL_STR: return json_stringn(ig_tmpl_str_ptr(v), ig_tmpl_str_len(v));
    case IG_TMPL_LIST:
    case IG_TMPL_TUPLE: {
        json_t *a = json_array();
        for (size_t i = 0; i < ig_tmpl_list_len(v); i++)
            json_array_append_new(a, ig__tf_val_to_json(ig_tmpl_list_get(v, i)));
        return a;
    }
    case IG_TMPL_DICT: {
        json_t *o = json_object();
        ig_tmpl_val k, x;
        for (size_t i = 0; ig_tmpl_dict_entry(v, i, &k, &x); i++) {
            ig_buf b = IG_BUF_INIT;
            ig_tmpl_to_str(k, &b);
            json_object_set_new(o, ig_buf_cstr(&b), ig__tf_val_to_json(x));
            ig_buf_free(&b);
        }
        return o;
    }
    default: {
        ig_buf b = IG_BUF_INIT;
        ig_tmpl_to_str(v, &b);
        json_t *s = json_string(ig_buf_cstr(&b));
        ig_buf_free(&b);
        return s ? s : json_null();
    }
    }
}

/* ------------------------------------------------------------- helpers */

#define T(ud) ((tf_thread *)(ud))

static const char *sval(ig_tmpl_val v) { return v.type == IG_TMPL_STR ? ig_tmpl_str_ptr(v) : NULL; }

static void impure(tf_thread *t)
{
    if (t->mode == TF_MODE_PARSE && t->node) t->node->impure = true;
}

static const char *node_kind_word(const tf_node *n)
{
    switch (n->kind) {
    case TF_MODEL: return "model";
    case TF_SEED: return "seed";
    case TF_SNAPSHOT: return "snapshot";
    case TF_TEST: return "test";
    case TF_ANALYSIS: return "analysis";
    case TF_SOURCE: return "source";
    default: return "operation";
    }
}

void ig__tf_err_node(ig_error *err, const tf_node *n, const char *what)
{
    if (!n) return;
    char msg[sizeof err->message];
    snprintf(msg, sizeof msg, "%s in %s %s (%s): %s", what, node_kind_word(n), n->name,
             n->original_file_path ? n->original_file_path : "", err->message);
    snprintf(err->message, sizeof err->message, "%s", msg);
}

static tf_package *find_pkg(tf_project *p, const char *name)
{
    for (size_t i = 0; i < p->npkgs; i++)
        if (!strcmp(p->pkgs[i]->name, name)) return p->pkgs[i];
    return NULL;
}

const tf_macro *ig__tf_find_macro(tf_project *p, const char *package, const char *name)
{
    if (package) {
        char key[512];
        snprintf(key, sizeof key, "%s.%s", package, name);
        return ig__tf_map_get(&p->macros, key);
    }
    return ig__tf_map_get(&p->macros, name);
}

/* ------------------------------------------------------------ ref, source */

static tf_node *lookup_ref(tf_project *p, tf_node *from, const char *pkg, const char *name,
                           const char *version)
{
    char key[600];
    tf_node *n = NULL;
    const char *vs = version ? version : "";
    const char *vsep = version ? ".v" : "";
    if (pkg) {
        snprintf(key, sizeof key, "%s.%s%s%s", pkg, name, vsep, vs);
        return ig__tf_map_get(&p->node_by_name, key);
    }
    if (from && from->pkg) {
        snprintf(key, sizeof key, "%s.%s%s%s", from->pkg->name, name, vsep, vs);
        n = ig__tf_map_get(&p->node_by_name, key);
    }
    if (!n) {
        snprintf(key, sizeof key, "%s%s%s", name, vsep, vs);
        n = ig__tf_map_get(&p->node_by_name, key);
    }
    return n;
}

static ig_rc version_arg(ig_tmpl_call *c, const ig_tmpl_args *a, char *buf, size_t cap,
                         const char **out)
{
    *out = NULL;
    for (size_t i = 0; i < a->nkw; i++) {
        if (strcmp(a->kwnames[i], "v") && strcmp(a->kwnames[i], "version")) {
            return ig_tmpl_fail(c, "ref() got an unexpected keyword argument '%s'", a->kwnames[i]);
        }
        ig_tmpl_val v = a->kw[i];
        if (v.type == IG_TMPL_NONE || v.type == IG_TMPL_UNDEFINED) continue;
        ig_buf b = IG_BUF_INIT;
        ig_tmpl_to_str(v, &b);
        snprintf(buf, cap, "%s", ig_buf_cstr(&b));
        ig_buf_free(&b);
        *out = buf;
    }
    return 0;
}

static void add_ref(ig_tmpl_call *c, tf_ref **arr, size_t *n, size_t *cap, const char *pkg,
                    const char *name, const char *version, ig_arena *a)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *arr = ig_realloc(*arr, *cap * sizeof **arr);
    }
    tf_ref *r = &(*arr)[(*n)++];
    memset(r, 0, sizeof *r);
    r->package = pkg ? ig_arena_strdup(a, pkg) : NULL;
    r->name = ig_arena_strdup(a, name);
    r->version = version ? ig_arena_strdup(a, version) : NULL;
    r->target = -1;
    ig_tmpl_call_position(c, NULL, &r->line, &r->col); /* for the linker's errors */
}

static ig_rc fn_ref(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_thread *t = T(ud);
    if (a->npos < 1 || a->npos > 2 || !sval(a->pos[0]) || (a->npos == 2 && !sval(a->pos[1])))
        return ig_tmpl_fail(c, "ref() takes a model name, or a package and a model name, as "
                               "strings");
    const char *pkg = a->npos == 2 ? sval(a->pos[0]) : NULL;
    const char *name = sval(a->pos[a->npos - 1]);
    char vb[64];
    const char *version;
    if (version_arg(c, a, vb, sizeof vb, &version)) return IG_ERR_TEMPLATE;
    tf_project *p = t->p;
    if (t->mode == TF_MODE_PARSE && t->node) {
        tf_node *n = t->node;
        size_t i;
        for (i = 0; i < n->nrefs; i++) {
            tf_ref *r = &n->refs[i];
            if (!strcmp(r->name, name) && !(r->package ? pkg == NULL || strcmp(r->package, pkg)
                                                       : pkg != NULL) &&
                !(r->version ? version == NULL || strcmp(r->version, version) : version != NULL))
                break;
        }
        if (i == n->nrefs) {
            pthread_mutex_lock(&p->tmpl_lock);
            add_ref(c, &n->refs, &n->nrefs, &n->refs_cap, pkg, name, version, p->arena);
            pthread_mutex_unlock(&p->tmpl_lock);
        }
        *out = ig__tf_relation_new(t, NULL, NULL, name, NULL);
        tf_relation *rel = ig_tmpl_object_self(*out, &ig__tf_relation_class);
        rel->marker = (int)i + 1;
        return 0;
    }
    tf_node *target = lookup_ref(p, t->node, pkg, name, version);
    if (!target || !target->enabled) {
        if (pkg) return ig_tmpl_fail(c, "model '%s.%s' was not found (ref)", pkg, name);
        return ig_tmpl_fail(c, "model '%s'%s%s was not found (ref)", name,
                            version ? " version " : "", version ? version : "");
    }
    *out = ig__tf_node_relation_val(t, target);
    return 0;
}

static ig_rc fn_source(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_thread *t = T(ud);
    static const char *const names[] = {"source_name", "table_name", NULL};
    ig_tmpl_val v[2];
    if (ig_tmpl_bind(c, "source", a, names, 2, v)) return IG_ERR_TEMPLATE;
    const char *s = sval(v[0]), *tb = sval(v[1]);
    if (!s || !tb) return ig_tmpl_fail(c, "source() takes a source name and a table name");
    char key[600];
    snprintf(key, sizeof key, "%s.%s", s, tb);
    tf_node *src = ig__tf_map_get(&t->p->src_by_name, key);
    if (t->mode == TF_MODE_PARSE && t->node) {
        tf_node *n = t->node;
        bool have = false;
        for (size_t i = 0; i < n->nsrcs && !have; i++)
            have = !strcmp(n->srcs[i].package, s) && !strcmp(n->srcs[i].name, tb);
        if (!have) {
            pthread_mutex_lock(&t->p->tmpl_lock);
            add_ref(c, &n->srcs, &n->nsrcs, &n->srcs_cap, s, tb, NULL, t->p->arena);
            pthread_mutex_unlock(&t->p->tmpl_lock);
        }
    }
    if (!src) {
        if (t->mode == TF_MODE_PARSE) { /* reported with its node by the linker */
            *out = ig__tf_relation_new(t, NULL, s, tb, "table");
            return 0;
        }
        return ig_tmpl_fail(c, "source '%s.%s' was not found", s, tb);
    }
    *out = ig__tf_node_relation_val(t, src);
    return 0;
}

/* ---------------------------------------------------------------- config */

static ig_rc cfg_get(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_thread *t = T(ud);
    static const char *const names[] = {"name", "default", "validator", NULL};
    ig_tmpl_val v[3];
    if (ig_tmpl_bind(c, "config.get", a, names, 1, v)) return IG_ERR_TEMPLATE;
    const char *k = sval(v[0]);
    if (!k) return ig_tmpl_fail(c, "config.get() takes a key name");
    if (!strcmp(k, "pre_hook")) k = "pre-hook";
    if (!strcmp(k, "post_hook")) k = "post-hook";
    json_t *j = t->node && t->node->config ? json_object_get(t->node->config, k) : NULL;
    if (j) *out = ig__tf_json_to_val(j);
    else if (ig_tmpl_given(v[1])) *out = ig_tmpl_ref(v[1]);
    else *out = ig_tmpl_none();
    return 0;
}

static ig_rc cfg_require(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_thread *t = T(ud);
    const char *k = a->npos ? sval(a->pos[0]) : NULL;
    if (!k) return ig_tmpl_fail(c, "config.require() takes a key name");
    json_t *j = t->node && t->node->config ? json_object_get(t->node->config, k) : NULL;
    if (!j) return ig_tmpl_fail(c, "required config '%s' was not set", k);
    *out = ig__tf_json_to_val(j);
    return 0;
}

static ig_rc cfg_call(ig_tmpl_call *c, void *self, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_thread *t = self;
    *out = ig_tmpl_str("");
    if (t->mode != TF_MODE_PARSE || !t->node) return 0; /* settled at parse time */
    json_t *add = json_object();
    for (size_t i = 0; i < a->npos; i++) {
        if (a->pos[i].type != IG_TMPL_DICT) {
            json_decref(add);
            return ig_tmpl_fail(c, "config() takes keyword arguments or a dict");
        }
        json_t *d = ig__tf_val_to_json(a->pos[i]);
        json_object_update(add, d);
        json_decref(d);
    }
    for (size_t i = 0; i < a->nkw; i++)
        json_object_set_new(add, a->kwnames[i], ig__tf_val_to_json(a->kw[i]));
    ig__tf_config_merge(t->node->config, add);
    json_decref(add);
    return 0;
}

static ig_rc cfg_getattr(ig_tmpl_call *c, void *self, const char *name, ig_tmpl_val *out)
{
    tf_thread *t = self;
    if (!strcmp(name, "get")) *out = ig_tmpl_func_new("get", cfg_get, t);
    else if (!strcmp(name, "require")) *out = ig_tmpl_func_new("require", cfg_require, t);
    return 0;
}

static void cfg_str(void *self, ig_buf *out) { (void)self; (void)out; }

static const ig_tmpl_class config_class = {
    .name = "Config", .getattr = cfg_getattr, .call = cfg_call, .str = cfg_str};

/* ------------------------------------------------------------- var, env */

static json_t *var_lookup(tf_thread *t, const char *name)
{
    tf_project *p = t->p;
    json_t *j = t->vars_override ? json_object_get(t->vars_override, name) : NULL; /* unit tests */
    if (j) return j;
    j = json_object_get(p->cli_vars, name);
    if (j) return j;
    tf_package *pkg = t->node && t->node->pkg ? t->node->pkg : p->root;
    json_t *scoped = json_object_get(p->root->vars, pkg->name);
    if (json_is_object(scoped) && (j = json_object_get(scoped, name))) return j;
    if ((j = json_object_get(p->root->vars, name))) {
        /* a package-named mapping is a scope, not a value */
        if (!(json_is_object(j) && find_pkg(p, name))) return j;
    }
    if (pkg != p->root && (j = json_object_get(pkg->vars, name))) return j;
    return NULL;
}

static ig_rc fn_var(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    static const char *const names[] = {"name", "default", NULL};
    ig_tmpl_val v[2];
    if (ig_tmpl_bind(c, "var", a, names, 1, v)) return IG_ERR_TEMPLATE;
    const char *name = sval(v[0]);
    if (!name) return ig_tmpl_fail(c, "var() takes a variable name");
    json_t *j = var_lookup(T(ud), name);
    if (j) *out = ig__tf_json_to_val(j);
    else if (ig_tmpl_given(v[1])) *out = ig_tmpl_ref(v[1]);
    else {
        ig_rc rc = ig_tmpl_fail(c, "Required var '%s' not found in config", name);
        ig_err_hint(ig_tmpl_call_error(c),
                    "define it under vars: in dbt_project.yml, pass --vars '{%s: ...}', or give "
                    "var() a default", name);
        return rc;
    }
    return 0;
}

static ig_rc fn_env_var(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    static const char *const names[] = {"var", "default", NULL};
    ig_tmpl_val v[2];
    if (ig_tmpl_bind(c, "env_var", a, names, 1, v)) return IG_ERR_TEMPLATE;
    const char *name = sval(v[0]);
    if (!name) return ig_tmpl_fail(c, "env_var() takes a variable name");
    const char *e = getenv(name);
    if (e) *out = ig_tmpl_str(e);
    else if (ig_tmpl_given(v[1])) {
        if (v[1].type == IG_TMPL_STR) *out = ig_tmpl_ref(v[1]);
        else {
            ig_buf b = IG_BUF_INIT;
            ig_tmpl_to_str(v[1], &b);
            *out = ig_tmpl_str(ig_buf_cstr(&b));
            ig_buf_free(&b);
        }
    } else {
        ig_rc rc = ig_tmpl_fail(c, "Env var required but not provided: '%s'", name);
        ig_err_hint(ig_tmpl_call_error(c), "export %s=..., or give env_var() a default", name);
        return rc;
    }
    return 0;
}

/* ------------------------------------------------------- log, print, errors */

static void out_line(tf_project *p, const char *prefix, const char *msg)
{
    FILE *f = p->opts && p->opts->out ? p->opts->out : stdout;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    flockfile(f);
    fprintf(f, "%02d:%02d:%02d  %s%s\n", tm.tm_hour, tm.tm_min, tm.tm_sec, prefix, msg);
    funlockfile(f);
    fflush(f);
}

static ig_rc fn_log(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    static const char *const names[] = {"msg", "info", NULL};
    ig_tmpl_val v[2];
    if (ig_tmpl_bind(c, "log", a, names, 1, v)) return IG_ERR_TEMPLATE;
    ig_buf b = IG_BUF_INIT;
    ig_tmpl_to_str(v[0], &b);
    if (ig_tmpl_given(v[1]) && ig_tmpl_truthy(v[1])) out_line(T(ud)->p, "", ig_buf_cstr(&b));
    else ig_debug("transform.log", "%s", ig_buf_cstr(&b));
    ig_buf_free(&b);
    *out = ig_tmpl_str("");
    return 0;
}

static ig_rc fn_print(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    ig_buf b = IG_BUF_INIT;
    for (size_t i = 0; i < a->npos; i++) {
        if (i) ig_buf_putc(&b, ' ');
        ig_tmpl_to_str(a->pos[i], &b);
    }
    FILE *f = T(ud)->p->opts && T(ud)->p->opts->out ? T(ud)->p->opts->out : stdout;
    fprintf(f, "%s\n", ig_buf_cstr(&b));
    fflush(f);
    ig_buf_free(&b);
    *out = ig_tmpl_str("");
    return 0;
}

static ig_rc fn_raise(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    ig_buf b = IG_BUF_INIT;
    if (a->npos) ig_tmpl_to_str(a->pos[0], &b);
    ig_rc rc = ig_tmpl_fail(c, "%s", ig_buf_cstr(&b));
    ig_buf_free(&b);
    return rc;
}

static ig_rc fn_warn(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    ig_buf b = IG_BUF_INIT;
    if (a->npos) ig_tmpl_to_str(a->pos[0], &b);
    out_line(T(ud)->p, "[WARNING]: ", ig_buf_cstr(&b));
    ig_buf_free(&b);
    *out = ig_tmpl_str("");
    return 0;
}

/* ------------------------------------------------------- incremental, doc */

static ig_rc fn_is_incremental(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_thread *t = T(ud);
    impure(t);
    *out = ig_tmpl_bool(t->mode != TF_MODE_PARSE && t->is_incremental);
    return 0;
}

static ig_rc fn_doc(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_project *p = T(ud)->p;
    if (a->npos < 1 || a->npos > 2 || !sval(a->pos[0]) || (a->npos == 2 && !sval(a->pos[1])))
        return ig_tmpl_fail(c, "doc() takes a docs block name, or a package and a name");
    char key[600];
    if (a->npos == 2) snprintf(key, sizeof key, "%s.%s", sval(a->pos[0]), sval(a->pos[1]));
    else snprintf(key, sizeof key, "%s", sval(a->pos[0]));
    const char *d = ig__tf_map_get(&p->docs, key);
    if (!d) return ig_tmpl_fail(c, "documentation for '%s' was not found", key);
    *out = ig_tmpl_str(d);
    return 0;
}

/* ----------------------------------------------------- run_query, statement */

static ig_rc fn_run_query(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_thread *t = T(ud);
    impure(t);
    if (t->mode == TF_MODE_PARSE || !t->wh) return 0; /* none, as dbt's parse does */
    if (a->npos < 1) return ig_tmpl_fail(c, "run_query() takes the SQL to run");
    ig_buf b = IG_BUF_INIT;
    ig_tmpl_to_str(a->pos[0], &b);
    ig_rc rc = ig__tf_table_from_sql(t, c, ig_buf_cstr(&b), out);
    ig_buf_free(&b);
    return rc;
}

static void stmt_store(tf_thread *t, const char *name, ig_tmpl_val result)
{
    for (size_t i = 0; i < t->nstmts; i++)
        if (!strcmp(t->stmts[i].name, name)) {
            ig_tmpl_unref(t->stmts[i].result);
            t->stmts[i].result = result;
            return;
        }
    if (t->nstmts == t->stmts_cap) {
        t->stmts_cap = t->stmts_cap ? t->stmts_cap * 2 : 4;
        t->stmts = ig_realloc(t->stmts, t->stmts_cap * sizeof *t->stmts);
    }
    t->stmts[t->nstmts].name = ig_strdup(name);
    t->stmts[t->nstmts].result = result;
    t->nstmts++;
}

static ig_rc fn_statement(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_thread *t = T(ud);
    static const char *const names[] = {"name", "fetch_result", "auto_begin", "language", "caller",
                                        NULL};
    ig_tmpl_val v[5];
    if (ig_tmpl_bind(c, "statement", a, names, 0, v)) return IG_ERR_TEMPLATE;
    impure(t);
    if (!ig_tmpl_given(v[4])) return ig_tmpl_fail(c, "statement() is used as {%% call statement(...) %%}");
    ig_tmpl_val sqlv = ig_tmpl_undefined();
    ig_tmpl_args none = {0};
    ig_rc rc = ig_tmpl_call_callable(c, v[4], &none, &sqlv);
    if (rc) return rc;
    if (t->mode == TF_MODE_PARSE || !t->wh) {
        ig_tmpl_unref(sqlv);
        return 0;
    }
    ig_buf sql = IG_BUF_INIT;
    ig_tmpl_to_str(sqlv, &sql);
    ig_tmpl_unref(sqlv);
    bool fetch = ig_tmpl_given(v[1]) && ig_tmpl_truthy(v[1]);
    const char *name = ig_tmpl_given(v[0]) ? sval(v[0]) : NULL;
    ig_tmpl_val table = ig_tmpl_none();
    rc = ig__tf_table_from_sql(t, c, ig_buf_cstr(&sql), &table);
    ig_buf_free(&sql);
    if (rc) return rc;
    if (name) {
        ig_tmpl_val res = ig_tmpl_dict_new();
        ig_tmpl_val resp = ig_tmpl_dict_new();
        ig_tmpl_dict_set(resp, "_message", ig_tmpl_str("OK"));
        ig_tmpl_dict_set(resp, "code", ig_tmpl_str("OK"));
        ig_tmpl_dict_set(resp, "rows_affected", ig_tmpl_int(-1));
        ig_tmpl_dict_set(res, "response", resp);
        if (fetch) {
            ig_tmpl_val data = ig_tmpl_undefined();
            if (ig__tf_table_rows(table, &data)) data = ig_tmpl_list_new();
            ig_tmpl_dict_set(res, "data", data);
            ig_tmpl_dict_set(res, "table", ig_tmpl_ref(table));
        } else {
            ig_tmpl_dict_set(res, "data", ig_tmpl_none());
            ig_tmpl_dict_set(res, "table", ig_tmpl_none());
        }
        stmt_store(t, name, res);
    }
    ig_tmpl_unref(table);
    *out = ig_tmpl_str("");
    return 0;
}

static ig_rc fn_load_result(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_thread *t = T(ud);
    const char *name = a->npos ? sval(a->pos[0]) : NULL;
    if (!name) return ig_tmpl_fail(c, "load_result() takes a statement name");
    for (size_t i = 0; i < t->nstmts; i++)
        if (!strcmp(t->stmts[i].name, name)) {
            *out = ig_tmpl_ref(t->stmts[i].result);
            return 0;
        }
    *out = ig_tmpl_none();
    return 0;
}

/* ------------------------------------------------------ namespaces, macros */

typedef struct ns_self {
    tf_project *p;
    char *pkg;
} ns_self;

static ig_rc ns_getattr(ig_tmpl_call *c, void *self, const char *name, ig_tmpl_val *out)
{
    ns_self *s = self;
    const tf_macro *m = ig__tf_find_macro(s->p, s->pkg, name);
    if (m) *out = ig_tmpl_macro_get(m->tmpl, name);
    return 0;
}

static void ns_free(void *self)
{
    ns_self *s = self;
    free(s->pkg);
    free(s);
}

static void ns_str(void *self, ig_buf *out) { ig_buf_printf(out, "<namespace %s>", ((ns_self *)self)->pkg); }

static const ig_tmpl_class ns_class = {
    .name = "MacroNamespace", .getattr = ns_getattr, .str = ns_str, .free = ns_free};

ig_rc ig__tf_call_macro(tf_thread *t, const tf_macro *m, const ig_tmpl_val *args, size_t nargs,
                        ig_tmpl_val *out, ig_error *err)
{
    ig_tmpl_val mv = ig_tmpl_macro_get(m->tmpl, m->name);
    ig_tmpl_args a = {args, nargs, NULL, NULL, 0};
    ig_rc rc = ig_tmpl_call_value(t->env, mv, ig_tmpl_undefined(), &a, out, err);
    ig_tmpl_unref(mv);
    return rc;
}

/* The built node dict `model` sees. */
static ig_tmpl_val node_dict(tf_thread *t, const tf_node *n);

static ig_tmpl_val build_graph(tf_thread *t)
{
    tf_project *p = t->p;
    ig_tmpl_val g = ig_tmpl_dict_new(), nodes = ig_tmpl_dict_new(), srcs = ig_tmpl_dict_new();
    for (size_t i = 0; i < p->nnodes; i++) {
        tf_node *n = p->nodes[i];
        if (!n->enabled) continue;
        ig_tmpl_dict_set(n->kind == TF_SOURCE ? srcs : nodes, n->unique_id, node_dict(t, n));
    }
    ig_tmpl_dict_set(g, "nodes", nodes);
    ig_tmpl_dict_set(g, "sources", srcs);
    static const char *const empty[] = {"exposures", "metrics", "groups", "semantic_models",
                                        "saved_queries", "unit_tests", "macros", NULL};
    for (size_t i = 0; empty[i]; i++) ig_tmpl_dict_set(g, empty[i], ig_tmpl_dict_new());
    return g;
}

static ig_rc resolve(ig_tmpl_call *c, void *ud, const char *name, ig_tmpl_val *out)
{
    tf_thread *t = T(ud);
    tf_project *p = t->p;
    switch (name[0]) {
    case 't':
        if (!strcmp(name, "this")) {
            if (!t->node) return 0;
            if (t->mode == TF_MODE_PARSE) {
                *out = ig__tf_relation_new(t, NULL, NULL, t->node->name, NULL);
                ((tf_relation *)ig_tmpl_object_self(*out, &ig__tf_relation_class))->marker = -1;
            } else *out = ig__tf_node_relation_val(t, t->node);
            return 0;
        }
        break;
    case 'e':
        if (!strcmp(name, "execute")) {
            impure(t);
            *out = ig_tmpl_bool(t->mode != TF_MODE_PARSE && p->execute);
            return 0;
        }
        break;
    case 'm':
        if (!strcmp(name, "model")) {
            if (!t->node) return 0;
            impure(t);
            if (t->model_val.type == IG_TMPL_UNDEFINED) t->model_val = node_dict(t, t->node);
            *out = ig_tmpl_ref(t->model_val);
            return 0;
        }
        break;
    case 'g':
        if (!strcmp(name, "graph")) {
            impure(t);
            if (t->graph_val.type == IG_TMPL_UNDEFINED) t->graph_val = build_graph(t);
            *out = ig_tmpl_ref(t->graph_val);
            return 0;
        }
        break;
    case 's':
        if (!strcmp(name, "sql")) {
            if (t->node && t->node->compiled) *out = ig_tmpl_str(t->node->compiled);
            return 0;
        }
        break;
    case 'c':
        if (!strcmp(name, "compiled_code")) {
            if (t->node && t->node->compiled) *out = ig_tmpl_str(t->node->compiled);
            return 0;
        }
        break;
    }
    /* a package namespace: dbt_utils.star(...), dbt.current_timestamp() */
    if (!strcmp(name, "dbt") || find_pkg(p, name) || ig__tf_builtin_package(name)) {
        ns_self *s = ig_calloc(1, sizeof *s);
        s->p = p;
        s->pkg = ig_strdup(name);
        *out = ig_tmpl_object_new(&ns_class, s);
        ig_tmpl_env_set_global(t->env, name, ig_tmpl_ref(*out));
        return 0;
    }
    const tf_macro *m = ig__tf_find_macro(p, NULL, name);
    if (m) {
        *out = ig_tmpl_macro_get(m->tmpl, name);
        ig_tmpl_env_set_global(t->env, name, ig_tmpl_ref(*out));
    }
    return 0;
}

/* ---------------------------------------------------------------- model */

static ig_tmpl_val strlist(const char *const *items, size_t n)
{
    ig_tmpl_val l = ig_tmpl_list_new();
    for (size_t i = 0; i < n; i++) ig_tmpl_list_append(l, ig_tmpl_str(items[i]));
    return l;
}

static ig_tmpl_val node_dict(tf_thread *t, const tf_node *n)
{
    ig_tmpl_val d = ig_tmpl_dict_new();
    ig_tmpl_dict_set(d, "unique_id", ig_tmpl_str(n->unique_id));
    ig_tmpl_dict_set(d, "name", ig_tmpl_str(n->name));
    ig_tmpl_dict_set(d, "resource_type", ig_tmpl_str(node_kind_word(n)));
    ig_tmpl_dict_set(d, "package_name", ig_tmpl_str(n->pkg ? n->pkg->name : ""));
    ig_tmpl_dict_set(d, "database", n->database ? ig_tmpl_str(n->database) : ig_tmpl_none());
    ig_tmpl_dict_set(d, "schema", n->schema ? ig_tmpl_str(n->schema) : ig_tmpl_none());
    ig_tmpl_dict_set(d, "alias", n->alias ? ig_tmpl_str(n->alias) : ig_tmpl_none());
    ig_tmpl_dict_set(d, "identifier", n->alias ? ig_tmpl_str(n->alias) : ig_tmpl_none());
    ig_tmpl_dict_set(d, "path", ig_tmpl_str(n->path ? n->path : ""));
    ig_tmpl_dict_set(d, "original_file_path",
                     ig_tmpl_str(n->original_file_path ? n->original_file_path : ""));
    ig_tmpl_dict_set(d, "fqn", strlist(n->fqn, n->nfqn));
    ig_tmpl_dict_set(d, "config", n->config ? ig__tf_json_to_val(n->config) : ig_tmpl_dict_new());
    json_t *tags = n->config ? json_object_get(n->config, "tags") : NULL;
    ig_tmpl_dict_set(d, "tags", tags ? ig__tf_json_to_val(tags) : ig_tmpl_list_new());
    json_t *meta = n->config ? json_object_get(n->config, "meta") : NULL;
    ig_tmpl_dict_set(d, "meta", meta ? ig__tf_json_to_val(meta) : ig_tmpl_dict_new());
    json_t *desc = n->props ? json_object_get(n->props, "description") : NULL;
    ig_tmpl_dict_set(d, "description", desc ? ig__tf_json_to_val(desc) : ig_tmpl_str(""));
    ig_tmpl_val cols = ig_tmpl_dict_new();
    json_t *jc = n->props ? json_object_get(n->props, "columns") : NULL;
    size_t i;
    json_t *col;
    json_array_foreach(jc, i, col) {
        json_t *cn = json_object_get(col, "name");
        if (!json_is_string(cn)) continue;
        ig_tmpl_val cd = ig__tf_json_to_val(col);
        if (ig_tmpl_dict_get(cd, "description").type == IG_TMPL_UNDEFINED)
            ig_tmpl_dict_set(cd, "description", ig_tmpl_str(""));
        ig_tmpl_dict_set(cols, json_string_value(cn), cd);
    }
    ig_tmpl_dict_set(d, "columns", cols);
    if (n->kind == TF_SOURCE) {
        ig_tmpl_dict_set(d, "source_name", ig_tmpl_str(n->source_name));
        ig_tmpl_dict_set(d, "identifier", ig_tmpl_str(n->alias));
        return d;
    }
    ig_tmpl_dict_set(d, "raw_code", ig_tmpl_strn(n->raw ? n->raw : "", n->raw_len));
    ig_tmpl_dict_set(d, "raw_sql", ig_tmpl_strn(n->raw ? n->raw : "", n->raw_len));
    ig_tmpl_dict_set(d, "language", ig_tmpl_str("sql"));
    if (n->version) ig_tmpl_dict_set(d, "version", ig_tmpl_str(n->version));
    ig_tmpl_val refs = ig_tmpl_list_new(), srcs = ig_tmpl_list_new(), dn = ig_tmpl_list_new();
    for (size_t k = 0; k < n->nrefs; k++) {
        ig_tmpl_val r = ig_tmpl_dict_new();
        ig_tmpl_dict_set(r, "name", ig_tmpl_str(n->refs[k].name));
        ig_tmpl_dict_set(r, "package", n->refs[k].package ? ig_tmpl_str(n->refs[k].package) : ig_tmpl_none());
        ig_tmpl_dict_set(r, "version", n->refs[k].version ? ig_tmpl_str(n->refs[k].version) : ig_tmpl_none());
        ig_tmpl_list_append(refs, r);
    }
    for (size_t k = 0; k < n->nsrcs; k++) {
        ig_tmpl_val s = ig_tmpl_list_new();
        ig_tmpl_list_append(s, ig_tmpl_str(n->srcs[k].package));
        ig_tmpl_list_append(s, ig_tmpl_str(n->srcs[k].name));
        ig_tmpl_list_append(srcs, s);
    }
    for (size_t k = 0; k < n->ndeps; k++)
        ig_tmpl_list_append(dn, ig_tmpl_str(t->p->nodes[n->deps[k]]->unique_id));
    ig_tmpl_val dep = ig_tmpl_dict_new();
    ig_tmpl_dict_set(dep, "nodes", dn);
    ig_tmpl_dict_set(dep, "macros", ig_tmpl_list_new());
    ig_tmpl_dict_set(d, "refs", refs);
    ig_tmpl_dict_set(d, "sources", srcs);
    ig_tmpl_dict_set(d, "depends_on", dep);
    if (n->compiled) {
        ig_tmpl_dict_set(d, "compiled_code", ig_tmpl_strn(n->compiled, n->compiled_len));
        ig_tmpl_dict_set(d, "compiled_sql", ig_tmpl_strn(n->compiled, n->compiled_len));
    }
    return d;
}

/* ------------------------------------------------------------- threads */

static void add(tf_thread *t, const char *name, ig_tmpl_fn fn)
{
    ig_tmpl_env_add_func(t->env, name, fn, t);
}

tf_thread *ig__tf_thread_new(tf_project *p, ig_wh *wh)
{
    tf_thread *t = ig_calloc(1, sizeof *t);
    t->p = p;
    t->wh = wh;
    t->mode = TF_MODE_COMPILE;
    t->model_val = ig_tmpl_undefined();
    t->graph_val = ig_tmpl_undefined();
    t->env = ig_tmpl_env_new();
    ig_tmpl_env_set_resolver(t->env, resolve, t);
    add(t, "ref", fn_ref);
    add(t, "source", fn_source);
    add(t, "var", fn_var);
    add(t, "env_var", fn_env_var);
    add(t, "log", fn_log);
    add(t, "print", fn_print);
    add(t, "is_incremental", fn_is_incremental);
    add(t, "doc", fn_doc);
    add(t, "run_query", fn_run_query);
    add(t, "statement", fn_statement);
    add(t, "load_result", fn_load_result);
    ig_tmpl_env_add_func(t->env, "return", ig_tmpl_native_return, NULL);
    ig_tmpl_env_set_global(t->env, "config", ig_tmpl_object_new(&config_class, t));
    ig_tmpl_val ex = ig_tmpl_dict_new();
    ig_tmpl_dict_set(ex, "raise_compiler_error", ig_tmpl_func_new("raise_compiler_error", fn_raise, t));
    ig_tmpl_dict_set(ex, "raise_not_implemented", ig_tmpl_func_new("raise_not_implemented", fn_raise, t));
    ig_tmpl_dict_set(ex, "raise_database_error", ig_tmpl_func_new("raise_database_error", fn_raise, t));
    ig_tmpl_dict_set(ex, "raise_fail_fast_error", ig_tmpl_func_new("raise_fail_fast_error", fn_raise, t));
    ig_tmpl_dict_set(ex, "warn", ig_tmpl_func_new("warn", fn_warn, t));
    ig_tmpl_env_set_global(t->env, "exceptions", ex);
    ig_tmpl_env_set_global(t->env, "target",
                           p->target.json ? ig__tf_json_to_val(p->target.json) : ig_tmpl_dict_new());
    ig_tmpl_val flags = ig_tmpl_dict_new();
    ig_tmpl_dict_set(flags, "FULL_REFRESH", ig_tmpl_bool(p->opts && p->opts->full_refresh));
    ig_tmpl_dict_set(flags, "STORE_FAILURES", ig_tmpl_bool(false));
    ig_tmpl_dict_set(flags, "WARN_ERROR", ig_tmpl_bool(false));
    ig_tmpl_dict_set(flags, "WHICH", ig_tmpl_str(p->execute ? "run" : "compile"));
    ig_tmpl_dict_set(flags, "EMPTY", ig_tmpl_bool(false));
    ig_tmpl_env_set_global(t->env, "flags", flags);
    ig_tmpl_env_set_global(t->env, "invocation_id", ig_tmpl_str(p->invocation_id));
    ig_tmpl_env_set_global(t->env, "run_started_at", ig__tf_datetime_new(p->started_us));
    ig_tmpl_env_set_global(t->env, "dbt_version", ig_tmpl_str(TF_DBT_VERSION));
    ig_tmpl_env_set_global(t->env, "project_name", ig_tmpl_str(p->root ? p->root->name : ""));
    ig_tmpl_env_set_global(t->env, "adapter", ig__tf_adapter_new(t));
    ig__tf_add_modules(t);
    return t;
}

void ig__tf_thread_free(tf_thread *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->nstmts; i++) {
        free(t->stmts[i].name);
        ig_tmpl_unref(t->stmts[i].result);
    }
    free(t->stmts);
    ig_tmpl_unref(t->model_val);
    ig_tmpl_unref(t->graph_val);
    ig_tmpl_env_free(t->env);
    ig_buf_free(&t->sqlbuf);
    free(t);
}

void ig__tf_thread_node(tf_thread *t, tf_node *n)
{
    t->node = n;
    ig_tmpl_unref(t->model_val);
    t->model_val = ig_tmpl_undefined();
    for (size_t i = 0; i < t->nstmts; i++) {
        free(t->stmts[i].name);
        ig_tmpl_unref(t->stmts[i].result);
    }
    t->nstmts = 0;
}

ig_rc ig__tf_render(tf_thread *t, const ig_tmpl *tm, ig_buf *out, ig_error *err)
{
    return ig_tmpl_render(t->env, tm, ig_tmpl_undefined(), out, err);
}

ig_rc ig__tf_render_text(tf_thread *t, const char *what, const char *text, ig_buf *out,
                         ig_error *err)
{
    if (!strstr(text, "{{") && !strstr(text, "{%")) return ig_buf_puts(out, text) ? IG_ERR_LIMIT : 0;
    ig_tmpl *tm;
    ig_rc rc = ig_tmpl_parse(what, text, strlen(text), &tm, err);
    if (rc) return rc;
    rc = ig__tf_render(t, tm, out, err);
    ig_tmpl_free(tm);
    return rc;
}


ig_tmpl_val ig__tf_node_val(tf_thread *t, const tf_node *n) { return node_dict(t, n); }
