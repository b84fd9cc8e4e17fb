/* Data tests: the generic tests of properties YAML (`tests:` / `data_tests:`
 * of models, seeds, snapshots, sources and their columns) become TF_TEST
 * nodes named as dbt names them; singular tests (SQL files of the test
 * paths) are nodes made by parse.c. A generic test's raw code is a call of
 * its macro (`test_<name>`: root project, then packages, then the built-in
 * packages; `ns.name` picks package ns) with dbt's kwargs, so the parse
 * render learns its refs and compile.c compiles it like a model. Running a
 * test counts its failing rows with fail_calc and compares them with
 * warn_if / error_if, as dbt's test materialization does; store_failures
 * keeps the failing rows in <schema>_dbt_test__audit.<test>. */
#include "transform/tf_int.h"

#include "core/clock.h"
#include "core/mem.h"
#include "core/str.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

const char *ig__tf_builtin_tests(void)
{
    return
        "{% macro get_where_subquery(relation) -%}"
        "{% do return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) %}"
        "{%- endmacro %}\n"
        "{% macro default__get_where_subquery(relation) -%}"
        "{% set where = config.get('where', '') %}"
        "{% if where %}{% do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') %}"
        "{% else %}{% do return(relation) %}{% endif %}"
        "{%- endmacro %}\n"
        "{% macro should_store_failures() %}{{ return(config.get('store_failures') or false) }}{% endmacro %}\n"
        "{% macro test_unique(model, column_name) %}"
        "{{ return(adapter.dispatch('test_unique', 'dbt')(model, column_name)) }}{% endmacro %}\n"
        "{% macro default__test_unique(model, column_name) %}\n"
        "select\n    {{ column_name }} as unique_field,\n    count(*) as n_records\n\n"
        "from {{ model }}\nwhere {{ column_name }} is not null\ngroup by {{ column_name }}\n"
        "having count(*) > 1\n{% endmacro %}\n"
        "{% macro test_not_null(model, column_name) %}"
        "{{ return(adapter.dispatch('test_not_null', 'dbt')(model, column_name)) }}{% endmacro %}\n"
        "{% macro default__test_not_null(model, column_name) %}\n"
        "{% set column_list = '*' if should_store_failures() else column_name %}\n"
        "select {{ column_list }}\nfrom {{ model }}\nwhere {{ column_name }} is null\n"
        "{% endmacro %}\n"
        "{% macro test_accepted_values(model, column_name, values, quote=True) %}"
        "{{ return(adapter.dispatch('test_accepted_values', 'dbt')(model, column_name, values, quote)) }}"
        "{% endmacro %}\n"
        "{% macro default__test_accepted_values(model, column_name, values, quote=True) %}\n"
        "with all_values as (\n\n    select\n        {{ column_name }} as value_field,\n"
        "        count(*) as n_records\n\n    from {{ model }}\n    group by {{ column_name }}\n\n)\n\n"
        "select *\nfrom all_values\nwhere value_field not in (\n"
        "    {% for value in values -%}{% if quote -%}'{{ value }}'{%- else -%}{{ value }}{%- endif -%}"
        "{%- if not loop.last -%},{%- endif %}{%- endfor %}\n)\n{% endmacro %}\n"
        "{% macro test_relationships(model, column_name, to, field) %}"
        "{{ return(adapter.dispatch('test_relationships', 'dbt')(model, column_name, to, field)) }}"
        "{% endmacro %}\n"
        "{% macro default__test_relationships(model, column_name, to, field) %}\n"
        "with child as (\n    select {{ column_name }} as from_field\n    from {{ model }}\n"
        "    where {{ column_name }} is not null\n),\n\nparent as (\n"
        "    select {{ field }} as to_field\n    from {{ to }}\n)\n\n"
        "select\n    from_field\n\nfrom child\nleft join parent\n"
        "    on child.from_field = parent.to_field\n\nwhere parent.to_field is null\n"
        "{% endmacro %}\n";
}

/* ------------------------------------------------------------- naming */

static void md5_hex(const char *s, size_t n, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(s, n, md, &len, EVP_md5(), NULL);
    for (unsigned i = 0; i < len && i < 16; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[32] = 0;
}

/* str() of a value as Python prints it (names and hashes use it) */
static void py_str(const json_t *v, ig_buf *b, bool repr)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        if (repr) ig_buf_printf(b, "'%s'", json_string_value(v));
        else ig_buf_puts(b, json_string_value(v));
        break;
    case JSON_INTEGER: ig_buf_printf(b, "%lld", (long long)json_integer_value(v)); break;
    case JSON_REAL: {
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%.17g", json_real_value(v));
        double d = json_real_value(v);
        for (int prec = 1; prec < 18; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, d);
            if (strtod(tmp, NULL) == d) break;
        }
        ig_buf_puts(b, tmp);
        if (!strpbrk(tmp, ".eEn")) ig_buf_puts(b, ".0");
        break;
    }
    case JSON_TRUE: ig_buf_puts(b, "True"); break;
    case JSON_FALSE: ig_buf_puts(b, "False"); break;
    case JSON_NULL: ig_buf_puts(b, "None"); break;
    case JSON_ARRAY: {
        ig_buf_putc(b, '[');
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (i) ig_buf_puts(b, ", ");
            py_str(x, b, true);
        }
        ig_buf_putc(b, ']');
        break;
    }
    case JSON_OBJECT: {
        ig_buf_putc(b, '{');
        const char *k;
        json_t *x;
        bool first = true;
        json_object_foreach((json_t *)v, k, x) {
            ig_buf_printf(b, "%s'%s': ", first ? "" : ", ", k);
            py_str(x, b, true);
            first = false;
        }
        ig_buf_putc(b, '}');
        break;
    }
    }
}

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* dbt's synthesize_generic_test_names: <type>_<target>_<args flattened>,
 * cut to 30 characters and an md5 when 64 or longer. */
static void test_names(const char *type, const char *target, const json_t *args, char **short_name,
                       char **full_name)
{
    const char **keys = ig_malloc((json_object_size(args) + 1) * sizeof *keys);
    size_t nk = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)args, k, v) if (strcmp(k, "model")) keys[nk++] = k;
    qsort(keys, nk, sizeof *keys, cmp_cstr);
    ig_buf flat = IG_BUF_INIT;
    size_t parts = 0;
    for (size_t i = 0; i < nk; i++) {
        json_t *a = json_object_get(args, keys[i]);
        json_t *list = json_array();
        if (json_is_object(a)) {
            const char *kk;
            json_t *vv;
            json_object_foreach(a, kk, vv) json_array_append(list, vv);
        } else if (json_is_array(a)) json_array_extend(list, a);
        else json_array_append(list, a);
        size_t j;
        json_t *x;
        json_array_foreach(list, j, x) {
            ig_buf s = IG_BUF_INIT;
            py_str(x, &s, false);
            if (parts++) ig_buf_puts(&flat, "__");
            /* re.sub("[^0-9a-zA-Z_]+", "_", arg) */
            const char *c = ig_buf_cstr(&s);
            while (*c) {
                if (isalnum((unsigned char)*c) || *c == '_') ig_buf_putc(&flat, *c++);
                else {
                    ig_buf_putc(&flat, '_');
                    while (*c && !(isalnum((unsigned char)*c) || *c == '_')) c++;
                }
            }
            ig_buf_free(&s);
        }
        json_decref(list);
    }
    free(keys);
    char *ident = ig_asprintf("%s_%s", type, target);
    char *full = ig_asprintf("%s_%s", ident, ig_buf_cstr(&flat));
    ig_buf_free(&flat);
    if (strlen(full) >= 64) {
        char h[33];
        md5_hex(full, strlen(full), h);
        *short_name = ig_asprintf("%.30s_%s", ident, h);
    } else *short_name = ig_strdup(full);
    *full_name = full;
    free(ident);
}

/* ----------------------------------------------------------- creation */

static const char *const config_args[] = {"severity", "tags", "enabled", "where", "limit",
                                          "warn_if", "error_if", "fail_calc", "store_failures",
                                          "store_failures_as", "meta", "database", "schema",
                                          "alias", NULL};

static bool is_config_arg(const char *k)
{
    for (size_t i = 0; config_args[i]; i++)
        if (!strcmp(config_args[i], k)) return true;
    return false;
}

/* A kwarg as a Jinja expression: strings that look like a call (ref(...),
 * source(...), var(...), env_var(...), doc(...)) are the call, as dbt's
 * add_rendered_test_kwargs does; other values are literals. */
static bool looks_like_func(const char *s)
{
    while (isspace((unsigned char)*s)) s++;
    static const char *const fns[] = {"env_var", "ref", "var", "source", "doc", NULL};
    for (size_t i = 0; fns[i]; i++) {
        size_t l = strlen(fns[i]);
        if (strncmp(s, fns[i], l)) continue;
        const char *q = s + l;
        while (isspace((unsigned char)*q)) q++;
        if (*q != '(') continue;
        size_t n = strlen(q);
        while (n && isspace((unsigned char)q[n - 1])) n--;
        if (n >= 2 && q[n - 1] == ')') return true;
    }
    return false;
}

static void jinja_literal(const json_t *v, ig_buf *b, bool top)
{
    switch (json_typeof(v)) {
    case JSON_STRING: {
        const char *s = json_string_value(v);
        if (top && looks_like_func(s)) {
            ig_buf_puts(b, s);
            break;
        }
        ig_buf_putc(b, '\'');
        for (; *s; s++) {
            if (*s == '\'' || *s == '\\') ig_buf_putc(b, '\\');
            if (*s == '\n') ig_buf_puts(b, "\\n");
            else ig_buf_putc(b, *s);
        }
        ig_buf_putc(b, '\'');
        break;
    }
    case JSON_INTEGER: ig_buf_printf(b, "%lld", (long long)json_integer_value(v)); break;
    case JSON_REAL: ig_buf_printf(b, "%.17g", json_real_value(v)); break;
    case JSON_TRUE: ig_buf_puts(b, "true"); break;
    case JSON_FALSE: ig_buf_puts(b, "false"); break;
    case JSON_NULL: ig_buf_puts(b, "none"); break;
    case JSON_ARRAY: {
        ig_buf_putc(b, '[');
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (i) ig_buf_puts(b, ", ");
            jinja_literal(x, b, true);
        }
        ig_buf_putc(b, ']');
        break;
    }
    case JSON_OBJECT: {
        ig_buf_putc(b, '{');
        const char *k;
        json_t *x;
        bool first = true;
        json_object_foreach((json_t *)v, k, x) {
            ig_buf_printf(b, "%s'%s': ", first ? "" : ", ", k);
            jinja_literal(x, b, true);
            first = false;
        }
        ig_buf_putc(b, '}');
        break;
    }
    }
}

static bool ident_ok(const char *s)
{
    if (!*s || isdigit((unsigned char)*s)) return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_') return false;
    return true;
}

/* One entry of a tests list: `- unique`, `- accepted_values: {values: [..]}`,
 * `- name: x\n  test_name: y\n  ...`, namespaced `- dbt_utils.x: {...}`. */
static ig_rc add_one(tf_project *p, tf_node *target, const ig_yaml *t, const char *column,
                     const char *file, ig_error *err)
{
    const char *tname = NULL;
    json_t *args = NULL;
    if (t->kind == IG_Y_SCALAR && t->str) {
        tname = t->str;
        args = json_object();
    } else if (t->kind == IG_Y_MAP) {
        const ig_yaml *tn = ig_yaml_get(t, "test_name");
        if (tn && tn->str) {
            tname = tn->str;
            args = ig__tf_yaml_to_json(t);
            json_object_del(args, "test_name");
        } else if (t->n == 1 && t->keys[0]->str) {
            tname = t->keys[0]->str;
            args = t->items[0]->kind == IG_Y_MAP ? ig__tf_yaml_to_json(t->items[0]) : json_object();
        }
    }
    if (!tname) return ig_yaml_error(t, err, "a test is a name (- unique) or a mapping of one test name to its arguments (- accepted_values: {values: [a, b]})");
    /* dbt 1.10's arguments: */
    json_t *argsub = json_object_get(args, "arguments");
    if (json_is_object(argsub)) {
        json_object_update(args, argsub);
        json_object_del(args, "arguments");
    }
    json_t *cfg = json_object();
    json_t *c = json_object_get(args, "config");
    if (json_is_object(c)) json_object_update(cfg, c);
    json_object_del(args, "config");
    const char *k;
    void *tmp;
    json_t *v;
    json_object_foreach_safe(args, tmp, k, v) {
        if (is_config_arg(k)) {
            if (!json_object_get(cfg, k)) json_object_set(cfg, k, v);
            json_object_del(args, k);
        }
    }
    char *custom = NULL;
    json_t *nm = json_object_get(args, "name");
    if (json_is_string(nm)) custom = ig_strdup(json_string_value(nm));
    json_object_del(args, "name");
    const char *dot = strchr(tname, '.');
    char *ns = dot ? ig_strndup(tname, (size_t)(dot - tname)) : NULL;
    const char *bare = dot ? dot + 1 : tname;
    if (!ident_ok(bare)) {
        free(ns);
        free(custom);
        json_decref(args);
        json_decref(cfg);
        return ig_yaml_error(t, err, "'%s' is not a test name", tname);
    }
    if (column) json_object_set_new(args, "column_name", json_string(column));
    /* names */
    bool src = target->kind == TF_SOURCE;
    char *type = ig_asprintf("%s%s%s%s", ns ? ns : "", ns ? "_" : "", src ? "source_" : "", bare);
    char *tgt = src ? ig_asprintf("%s_%s", target->source_name, target->name) : ig_strdup(target->name);
    char *sname, *fname;
    test_names(type, tgt, args, &sname, &fname);
    if (custom) {
        free(sname);
        free(fname);
        sname = ig_strdup(custom);
        fname = ig_strdup(custom);
    }
    tf_node *n = ig__tf_new_node(p, TF_TEST);
    n->pkg = target->pkg;
    n->name = ig_arena_strdup(p->arena, sname);
    n->original_file_path = file;
    n->path = ig_arena_printf(p->arena, "%s/%s.sql", file, sname);
    n->abs_path = ig_arena_printf(p->arena, "%s/%s", p->root->dir, file);
    n->attached = target->index;
    n->column_name = column ? ig_arena_strdup(p->arena, column) : NULL;
    n->materialized = "test";
    /* unique_id: test.<pkg>.<name>.<10 hex of md5(name + metadata)> */
    ig_buf hb = IG_BUF_INIT;
    ig_buf_puts(&hb, fname);
    py_str(args, &hb, true);
    char h[33];
    md5_hex(hb.data, hb.len, h);
    ig_buf_free(&hb);
    n->unique_id = ig_arena_printf(p->arena, "test.%s.%s.%s", target->pkg->name, sname, h + 22);
    n->fqn = ig_arena_alloc(p->arena, 3 * sizeof *n->fqn);
    n->fqn[0] = target->pkg->name;
    n->fqn[1] = ig_arena_strdup(p->arena, fname);
    n->nfqn = 2;
    /* the macro: ns.test_x, else test_x by precedence (root, packages, built-ins) */
    char *mname = ig_asprintf("test_%s", bare);
    const tf_macro *m = ig__tf_find_macro(p, ns, mname);
    if (!m && ns) {
        /* the built-in packages register under their own names too */
        char key[512];
        snprintf(key, sizeof key, "%s.%s", ns, mname);
        m = ig__tf_map_get(&p->macros, key);
    }
    if (!m) {
        ig_rc rc = ig_yaml_error(t, err, "%s %s: no generic test named '%s' (looked for a macro %s%s%s in the project, its packages and the built-ins)",
                                 src ? "source" : "node", target->name, tname, ns ? ns : "",
                                 ns ? "." : "", mname);
        ig_err_hint(err, "define it with {%% test %s(model, column_name) %%} in the macro or test paths, or install the package that has it", bare);
        free(mname), free(ns), free(custom), free(type), free(tgt), free(sname), free(fname);
        json_decref(args);
        json_decref(cfg);
        return rc;
    }
    n->test_macro = ig_arena_printf(p->arena, "%s.%s", m->package, m->name);
    /* raw code: __dbt_generic_test(model=get_where_subquery(<rel>), kwargs...) */
    ig_buf raw = IG_BUF_INIT;
    char *relcall = src ? ig_asprintf("source('%s', '%s')", target->source_name, target->name)
                        : ig_asprintf("ref('%s', '%s')", target->pkg->name, target->name);
    ig_buf_printf(&raw, "{{ __dbt_generic_test(model=get_where_subquery(%s)", relcall);
    json_object_foreach(args, k, v) {
        if (!ident_ok(k)) continue;
        ig_buf_printf(&raw, ", %s=", k);
        if (!strcmp(k, "column_name")) jinja_literal(v, &raw, false);
        else jinja_literal(v, &raw, true);
    }
    ig_buf_puts(&raw, ") }}");
    n->raw_len = raw.len;
    n->raw = ig_arena_strndup(p->arena, raw.data, raw.len);
    ig_buf_free(&raw);
    /* test_metadata as dbt has it */
    json_t *kw = json_deep_copy(args);
    json_object_set_new(kw, "model", json_sprintf("{{ get_where_subquery(%s) }}", relcall));
    n->test_meta = json_pack("{s:s, s:o, s:o}", "name", bare, "kwargs", kw, "namespace",
                             ns ? json_string(ns) : json_null());
    /* YAML config sits above dbt_project.yml (see configure in parse.c) */
    n->props = json_pack("{s:o}", "__config", cfg);
    free(relcall);
    free(mname), free(ns), free(custom), free(type), free(tgt), free(sname), free(fname);
    json_decref(args);
    return 0;
}

static ig_rc add_list(tf_project *p, tf_node *target, const ig_yaml *entry, const char *column,
                      const char *file, ig_error *err)
{
    static const char *const keys[] = {"data_tests", "tests", NULL};
    for (size_t ki = 0; keys[ki]; ki++) {
        const ig_yaml *l = ig_yaml_get(entry, keys[ki]);
        if (!l || l->kind == IG_Y_NULL) continue;
        if (l->kind != IG_Y_SEQ) return ig_yaml_error(l, err, "%s: expected a list of tests", keys[ki]);
        for (size_t i = 0; i < l->n; i++) {
            ig_rc rc = add_one(p, target, l->items[i], column, file, err);
            if (rc) return rc;
        }
    }
    return 0;
}

ig_rc ig__tf_add_generic_tests(tf_project *p, tf_node *target, const ig_yaml *entry,
                               const char *file, ig_error *err)
{
    ig_rc rc = add_list(p, target, entry, NULL, file, err);
    if (rc) return rc;
    const ig_yaml *cols = ig_yaml_get(entry, "columns");
    for (size_t i = 0; cols && cols->kind == IG_Y_SEQ && i < cols->n; i++) {
        const ig_yaml *c = cols->items[i];
        const ig_yaml *nm = ig_yaml_get(c, "name");
        if (!nm || !nm->str) continue;
        const ig_yaml *q = ig_yaml_get(c, "quote");
        const char *col = nm->str;
        char *quoted = NULL;
        if (q && q->str && !strcasecmp(q->str, "true")) col = quoted = ig_asprintf("\"%s\"", nm->str);
        rc = add_list(p, target, c, col, file, err);
        free(quoted);
        if (rc) return rc;
    }
    return 0;
}

void ig__tf_test_bind(tf_thread *t, const tf_node *n)
{
    if (!n || n->kind != TF_TEST || !n->test_macro) return;
    const tf_macro *m = ig__tf_map_get(&t->p->macros, n->test_macro);
    if (!m) return;
    ig_tmpl_env_set_global(t->env, "__dbt_generic_test", ig_tmpl_macro_get(m->tmpl, m->name));
}

/* -------------------------------------------------------------- run */

ig_rc ig__tf_test_run(tf_thread *t, tf_node *n, ig_buf *log, tf_outcome *o, ig_error *err)
{
    tf_project *p = t->p;
    const char *fail_calc = ig__tf_cfg_str(n->config, "fail_calc", "count(*)");
    const char *warn_if = ig__tf_cfg_str(n->config, "warn_if", "!= 0");
    const char *error_if = ig__tf_cfg_str(n->config, "error_if", "!= 0");
    const char *severity = ig__tf_cfg_str(n->config, "severity", "ERROR");
    json_t *lim = json_object_get(n->config, "limit");
    bool store = ig__tf_cfg_bool(n->config, "store_failures", false) ||
                 (p->opts && p->opts->store_failures);
    char *body = ig__tf_body_sql(n);
    ig_rc rc = 0;
    if (store) {
        rc = ig__tf_ensure_schema(t, n->database, n->schema, err);
        if (!rc) {
            char *rel = ig__tf_relation_str(p, n);
            char *sql = ig_asprintf("create or replace table %s as (\n%s\n)", rel, body);
            rc = ig__tf_exec(t, log, sql, NULL, err);
            if (!rc) ig__tf_relcache_set(p, n->schema, n->alias, "table");
            free(sql);
            free(rel);
        }
    }
    ig_buf q = IG_BUF_INIT;
    ig_buf_printf(&q,
                  "select\n      %s as failures,\n      %s %s as should_warn,\n      %s %s as should_error\n"
                  "    from (\n      %s\n      ",
                  fail_calc, fail_calc, warn_if, fail_calc, error_if, body);
    if (json_is_integer(lim)) ig_buf_printf(&q, "limit %lld", (long long)json_integer_value(lim));
    ig_buf_puts(&q, "\n    ) dbt_internal_test");
    free(body);
    if (rc) {
        ig_buf_free(&q);
        o->sql_error = true;
        return rc;
    }
    if (log->len) ig_buf_puts(log, ";\n\n");
    ig_buf_append(log, q.data, q.len);
    ig_wh_cursor *c = NULL;
    uint64_t t0 = ig_now_ns(), c0 = ig__tf_cpu_ns();
    rc = ig_wh_query(t->wh, ig_buf_cstr(&q), &c, err);
    int64_t failures = 0;
    bool should_warn = false, should_error = false;
    if (!rc) {
        int r = ig_wh_cursor_next(c, err);
        if (r < 0) rc = err->code ? err->code : IG_ERR_SQL;
        else if (r == 1) {
            const ig_value *v0 = ig_wh_cursor_value(c, 0), *v1 = ig_wh_cursor_value(c, 1),
                           *v2 = ig_wh_cursor_value(c, 2);
            failures = v0->is_null ? 0 : v0->i;
            should_warn = !v1->is_null && v1->b;
            should_error = !v2->is_null && v2->b;
            if (!v0->is_null && v0->type != IG_T_INT && v0->text) failures = strtoll(v0->text, NULL, 10);
        }
        ig_wh_cursor_close(c);
    }
    t->db_ns += ig_now_ns() - t0;
    t->db_cpu_ns += ig__tf_cpu_ns() - c0;
    ig_buf_free(&q);
    if (rc) {
        o->sql_error = true;
        return rc;
    }
    o->failures = failures;
    char results[64];
    snprintf(results, sizeof results, "%lld result%s", (long long)failures, failures == 1 ? "" : "s");
    if (!strcasecmp(severity, "error") && should_error) {
        o->status = IG_TF_FAIL;
        o->message = ig_asprintf("Got %s, configured to fail if %s", results, error_if);
    } else if (should_warn) {
        o->status = IG_TF_WARN;
        o->message = ig_asprintf("Got %s, configured to warn if %s", results, warn_if);
    } else o->status = IG_TF_SUCCESS;
    return 0;
}
