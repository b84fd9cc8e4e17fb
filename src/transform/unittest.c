/* dbt 1.8 unit tests (`unit_tests:` in properties YAML): a model's SQL run
 * on given rows instead of its inputs, compared with the expected rows.
 *
 *   unit_tests:
 *     - name: valid_emails
 *       model: dim_customers
 *       given:
 *         - input: ref('stg_customers')          # or source('s', 't')
 *           rows: [{id: 1, email: a@b.c}]          # format: dict (default)
 *         - input: ref('domains')
 *           format: csv
 *           rows: |
 *             tld
 *             b.c
 *       expect:
 *         rows: [{id: 1, valid: true}]
 *       overrides:
 *         vars: {cutoff: 3}
 *         macros: {is_incremental: true}
 *
 * How: the model is compiled again (rendered afresh when there are
 * overrides), every input's relation name in the SQL is replaced by a
 * subquery of the given rows (cast to the relation's column types when the
 * relation exists; columns a row leaves out are NULL), and the rows of the
 * model's query (the columns of `expect`) are compared with the expected
 * rows as multisets. A difference is a failure listing the rows missing
 * and the rows not expected. format: sql gives the rows as a query. A unit
 * test is a TF_TEST node whose `unit` is its YAML entry; it depends on the
 * model, so `--select model` runs it. */
#include "transform/tf_int.h"

#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

ig_rc ig__tf_add_unit_test(tf_project *p, tf_package *k, const ig_yaml *entry, const char *file,
                           ig_error *err)
{
    const ig_yaml *nm = ig_yaml_get(entry, "name"), *model = ig_yaml_get(entry, "model");
    if (!nm || !nm->str) return ig_yaml_error(entry, err, "a unit test needs a name");
    if (!model || !model->str)
        return ig_yaml_error(entry, err, "unit test '%s' needs model: (the model it tests)", nm->str);
    if (!ig_yaml_get(entry, "expect"))
        return ig_yaml_error(entry, err, "unit test '%s' needs expect: with the rows the model should give", nm->str);
    char key[600];
    snprintf(key, sizeof key, "%s.%s", k->name, model->str);
    tf_node *m = ig__tf_map_get(&p->node_by_name, key);
    if (!m || m->kind != TF_MODEL)
        return ig_yaml_error(model, err, "unit test '%s' tests model '%s', which was not found", nm->str, model->str);
    tf_node *n = ig__tf_new_node(p, TF_TEST);
    n->pkg = k;
    n->name = nm->str;
    n->original_file_path = file;
    n->path = file;
    n->abs_path = ig_arena_printf(p->arena, "%s/%s", p->root->dir, file);
    n->unique_id = ig_arena_printf(p->arena, "unit_test.%s.%s.%s", k->name, model->str, nm->str);
    n->unit = ig__tf_yaml_to_json(entry);
    n->attached = m->index;
    n->materialized = "unit";
    n->fqn = ig_arena_alloc(p->arena, 3 * sizeof *n->fqn);
    n->fqn[0] = k->name;
    n->fqn[1] = m->name;
    n->fqn[2] = n->name;
    n->nfqn = 3;
    /* depends on the model (selection, order); linked like a ref */
    n->refs = ig_calloc(1, sizeof *n->refs); /* freed with the node (project.c) */
    n->refs[0] = (tf_ref){.package = k->name, .name = m->name, .target = -1};
    n->nrefs = n->refs_cap = 1;
    const ig_yaml *cfg = ig_yaml_get(entry, "config");
    n->props = json_pack("{s:o}", "__config", cfg ? ig__tf_yaml_to_json(cfg) : json_object());
    return 0;
}

/* --------------------------------------------------------------- rows */

static void literal(tf_thread *t, const json_t *v, ig_buf *b)
{
    if (!v) {
        ig_buf_puts(b, "NULL");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING: ig_wh_quote_literal(t->wh, b, json_string_value(v)); break;
    case JSON_INTEGER: ig_buf_printf(b, "%lld", (long long)json_integer_value(v)); break;
    case JSON_REAL: ig_buf_printf(b, "%.17g", json_real_value(v)); break;
    case JSON_TRUE: ig_buf_puts(b, "true"); break;
    case JSON_FALSE: ig_buf_puts(b, "false"); break;
    default: ig_buf_puts(b, "NULL"); break;
    }
}

/* CSV text (header line, then rows) into a JSON list of objects of strings;
 * empty fields are NULL. Quoted fields may hold commas and "" quotes. */
static json_t *csv_rows(const char *text)
{
    json_t *rows = json_array(), *header = json_array();
    const char *s = text;
    bool first = true;
    while (*s) {
        json_t *fields = json_array();
        while (*s && *s != '\n') {
            ig_buf f = IG_BUF_INIT;
            bool quoted = false;
            while (*s == ' ') s++;
            if (*s == '"') {
                quoted = true;
                s++;
                while (*s && !(*s == '"' && s[1] != '"')) {
                    if (*s == '"') s++;
                    ig_buf_putc(&f, *s++);
                }
                if (*s == '"') s++;
                while (*s && *s != ',' && *s != '\n') s++;
            } else
                while (*s && *s != ',' && *s != '\n' && *s != '\r') ig_buf_putc(&f, *s++);
            while (*s == '\r') s++;
            size_t l = f.len;
            while (!quoted && l && f.data[l - 1] == ' ') l--;
            json_array_append_new(fields, !quoted && !l ? json_null() : json_stringn(f.data ? f.data : "", l));
            ig_buf_free(&f);
            if (*s == ',') s++;
        }
        if (*s == '\n') s++;
        if (!json_array_size(fields)) {
            json_decref(fields);
            continue;
        }
        if (first) {
            json_decref(header);
            header = fields;
            first = false;
            continue;
        }
        json_t *row = json_object();
        size_t i;
        json_t *h;
        json_array_foreach(header, i, h) if (json_is_string(h))
            json_object_set(row, json_string_value(h), i < json_array_size(fields) ? json_array_get(fields, i) : json_null());
        json_array_append_new(rows, row);
        json_decref(fields);
    }
    json_decref(header);
    return rows;
}

/* The rows of a given/expect entry as JSON objects (dict or csv). */
static json_t *entry_rows(const json_t *e)
{
    const char *fmt = json_string_value(json_object_get(e, "format"));
    json_t *rows = json_object_get(e, "rows");
    if (fmt && !strcmp(fmt, "csv") && json_is_string(rows)) return csv_rows(json_string_value(rows));
    return json_is_array(rows) ? json_incref(rows) : json_array();
}

/* A query of rows: one select per row, union all; columns `cols` (the
 * relation's when known, with types) else the rows' keys. */
static void rows_sql(tf_thread *t, const json_t *rows, const ig_wh_columns *cols, ig_buf *b)
{
    json_t *names = json_array();
    if (cols && cols->n)
        for (size_t i = 0; i < cols->n; i++) json_array_append_new(names, json_string(cols->items[i].name));
    else {
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r) {
            const char *k;
            json_t *v;
            json_object_foreach(r, k, v) {
                bool have = false;
                size_t j;
                json_t *x;
                json_array_foreach(names, j, x) have |= !strcmp(json_string_value(x), k);
                if (!have) json_array_append_new(names, json_string(k));
            }
        }
    }
    size_t nrows = json_array_size(rows);
    for (size_t r = 0; r < (nrows ? nrows : 1); r++) {
        json_t *row = nrows ? json_array_get(rows, r) : NULL;
        ig_buf_puts(b, r ? "\n    union all select " : "select ");
        size_t i;
        json_t *nmv;
        json_array_foreach(names, i, nmv) {
            const char *name = json_string_value(nmv);
            json_t *v = NULL;
            if (row) {
                const char *k;
                json_t *x;
                json_object_foreach(row, k, x) if (!strcasecmp(k, name)) v = x;
            }
            if (i) ig_buf_puts(b, ", ");
            const char *type = cols && cols->n ? cols->items[i].type : NULL;
            if (type) ig_buf_puts(b, "cast(");
            literal(t, v, b);
            if (type) ig_buf_printf(b, " as %s)", type);
            ig_buf_puts(b, " as ");
            ig_wh_quote_ident(t->wh, b, name);
        }
        if (!json_array_size(names)) ig_buf_puts(b, "NULL as dbt_no_columns");
    }
    if (!nrows) ig_buf_puts(b, " where false");
    json_decref(names);
}

/* The node an input names: ref('x'), ref('pkg', 'x'), source('s', 't'). */
static tf_node *input_node(tf_project *p, const char *in)
{
    char a[256] = "", c[256] = "";
    const char *q = strchr(in, '(');
    if (!q) return NULL;
    int n = 0;
    const char *s = q + 1;
    char *outs[2] = {a, c};
    while (*s && n < 2) {
        const char *o = strpbrk(s, "'\"");
        if (!o) break;
        const char *e = strchr(o + 1, *o);
        if (!e) break;
        snprintf(outs[n++], 256, "%.*s", (int)(e - o - 1), o + 1);
        s = e + 1;
    }
    while (isspace((unsigned char)*in)) in++;
    if (!strncmp(in, "source", 6)) {
        char key[600];
        snprintf(key, sizeof key, "%s.%s", a, c);
        return n == 2 ? ig__tf_map_get(&p->src_by_name, key) : NULL;
    }
    if (strncmp(in, "ref", 3)) return NULL;
    char key[600];
    if (n == 2) snprintf(key, sizeof key, "%s.%s", a, c);
    else snprintf(key, sizeof key, "%s", a);
    return ig__tf_map_get(&p->node_by_name, key);
}

static void replace_all(ig_buf *sql, const char *from, const char *to)
{
    if (!*from) return;
    ig_buf out = IG_BUF_INIT;
    const char *s = ig_buf_cstr(sql), *m;
    size_t fl = strlen(from);
    while ((m = strstr(s, from))) {
        ig_buf_append(&out, s, (size_t)(m - s));
        ig_buf_puts(&out, to);
        s = m + fl;
    }
    ig_buf_puts(&out, s);
    ig_buf_free(sql);
    *sql = out;
}

/* Columns of a relation that exists (cols->n 0 when it does not). */
static void rel_columns(tf_thread *t, const tf_node *n, ig_wh_columns *cols)
{
    memset(cols, 0, sizeof *cols);
    ig_error e;
    if (!n->schema || !ig__tf_relcache_get(t->p, n->schema, n->alias ? n->alias : n->name)) return;
    if (t->p->dialect->get_columns(t->wh, n->database, n->schema, n->alias ? n->alias : n->name, cols, &e))
        memset(cols, 0, sizeof *cols);
}

ig_rc ig__tf_unit_run(tf_thread *t, tf_node *n, ig_buf *log, tf_outcome *o, ig_error *err)
{
    tf_project *p = t->p;
    tf_node *m = p->nodes[n->attached];
    json_t *ov = json_object_get(n->unit, "overrides");
    json_t *vars = json_object_get(ov, "vars");
    json_t *macros = json_object_get(ov, "macros");
    json_t *inc = json_object_get(macros, "is_incremental");
    t->vars_override = json_is_object(vars) ? vars : NULL;
    t->force_incremental = json_is_boolean(inc) ? (json_is_true(inc) ? 2 : 1) : 0;
    bool fresh = t->vars_override || t->force_incremental;
    ig_buf sql = IG_BUF_INIT;
    ig_rc rc = ig__tf_compile_sql(t, m, fresh, &sql, err);
    t->vars_override = NULL;
    t->force_incremental = 0;
    ig__tf_thread_node(t, n);
    if (rc) {
        ig_buf_free(&sql);
        return rc;
    }
    /* inputs */
    json_t *given = json_object_get(n->unit, "given");
    size_t gi;
    json_t *g;
    json_array_foreach(given, gi, g) {
        const char *in = json_string_value(json_object_get(g, "input"));
        if (!in) continue;
        bool is_this = !strcmp(in, "this");
        tf_node *src = is_this ? m : input_node(p, in);
        if (!src) {
            ig_buf_free(&sql);
            ig_err(err, IG_ERR_CONFIG, "unit test %s: the input %s names no node of the project", n->name, in);
            ig_err_hint(err, "write inputs as ref('model') or source('source', 'table')");
            return IG_ERR_CONFIG;
        }
        ig_buf fx = IG_BUF_INIT;
        const char *fmt = json_string_value(json_object_get(g, "format"));
        if (fmt && !strcmp(fmt, "sql")) {
            const char *rows = json_string_value(json_object_get(g, "rows"));
            ig_buf_printf(&fx, "(%s)", rows ? rows : "select 1 where false");
        } else {
            ig_wh_columns cols;
            rel_columns(t, src, &cols);
            json_t *rows = entry_rows(g);
            ig_buf_putc(&fx, '(');
            rows_sql(t, rows, &cols, &fx);
            ig_buf_putc(&fx, ')');
            json_decref(rows);
            ig_wh_columns_free(&cols);
        }
        ig_buf rel = IG_BUF_INIT;
        ig__tf_node_relation(p, src, &rel);
        replace_all(&sql, ig_buf_cstr(&rel), ig_buf_cstr(&fx));
        ig_buf_free(&rel);
        ig_buf_free(&fx);
    }
    /* expected rows, and the model's output on the columns they name */
    json_t *expect = json_object_get(n->unit, "expect");
    json_t *erows = entry_rows(expect);
    const char *efmt = json_string_value(json_object_get(expect, "format"));
    ig_wh_columns mcols;
    rel_columns(t, m, &mcols);
    /* the expected columns, typed as the model's relation types them */
    ig_wh_columns ecols = {0};
    json_t *enames = json_array();
    size_t ri;
    json_t *r;
    json_array_foreach(erows, ri, r) {
        const char *k;
        json_t *v;
        json_object_foreach(r, k, v) {
            bool have = false;
            size_t j;
            json_t *x;
            json_array_foreach(enames, j, x) have |= !strcasecmp(json_string_value(x), k);
            if (!have) json_array_append_new(enames, json_string(k));
        }
    }
    if (mcols.n && json_array_size(enames)) {
        ecols.items = ig_calloc(json_array_size(enames), sizeof *ecols.items);
        size_t j;
        json_t *x;
        json_array_foreach(enames, j, x) {
            const char *type = "VARCHAR";
            for (size_t c = 0; c < mcols.n; c++)
                if (!strcasecmp(mcols.items[c].name, json_string_value(x))) type = mcols.items[c].type;
            ecols.items[ecols.n].name = ig_strdup(json_string_value(x));
            ecols.items[ecols.n++].type = ig_strdup(type);
        }
    }
    ig_buf q = IG_BUF_INIT;
    char *body = ig_strdup(ig_buf_cstr(&sql));
    size_t bl = strlen(body);
    while (bl && strchr("; \n\t\r", body[bl - 1])) body[--bl] = 0;
    ig_buf_puts(&q, "with dbt_actual as (\n    select ");
    if (json_array_size(enames)) {
        size_t j;
        json_t *x;
        json_array_foreach(enames, j, x) {
            if (j) ig_buf_puts(&q, ", ");
            ig_wh_quote_ident(t->wh, &q, json_string_value(x));
        }
    } else ig_buf_puts(&q, "*");
    ig_buf_printf(&q, " from (\n%s\n    ) as dbt_model\n), dbt_expected as (\n    ", body);
    free(body);
    if (efmt && !strcmp(efmt, "sql"))
        ig_buf_puts(&q, json_string_value(json_object_get(expect, "rows")) ? json_string_value(json_object_get(expect, "rows")) : "select 1 where false");
    else rows_sql(t, erows, ecols.n ? &ecols : NULL, &q);
    ig_buf_puts(&q, "\n)\nselect '-' as dbt_diff, * from (select * from dbt_expected except all select * from dbt_actual)\n"
                    "union all\nselect '+' as dbt_diff, * from (select * from dbt_actual except all select * from dbt_expected)");
    ig_wh_columns_free(&mcols);
    ig_wh_columns_free(&ecols);
    json_decref(enames);
    json_decref(erows);
    ig_buf_free(&sql);
    if (log->len) ig_buf_puts(log, ";\n\n");
    ig_buf_append(log, q.data, q.len);
    ig_wh_cursor *c;
    rc = ig_wh_query(t->wh, ig_buf_cstr(&q), &c, err);
    ig_buf_free(&q);
    if (rc) {
        o->sql_error = true;
        ig_err_prefix(err, "unit test %s of model %s", n->name, m->name);
        return rc;
    }
    ig_buf diff = IG_BUF_INIT;
    int64_t nd = 0;
    size_t nc = ig_wh_cursor_ncols(c);
    int step;
    while ((step = ig_wh_cursor_next(c, err)) == 1) {
        if (nd++ >= 20) continue;
        ig_buf_puts(&diff, "\n    ");
        for (size_t i = 0; i < nc; i++) {
            const ig_value *v = ig_wh_cursor_value(c, i);
            if (i > 1) ig_buf_puts(&diff, " | ");
            else if (i == 1) ig_buf_putc(&diff, ' ');
            if (i) ig_buf_printf(&diff, "%s=", ig_wh_cursor_colname(c, i));
            ig_buf_puts(&diff, v->is_null ? "NULL" : v->text);
        }
    }
    ig_wh_cursor_close(c);
    if (step < 0) {
        ig_buf_free(&diff);
        o->sql_error = true;
        return err->code ? err->code : IG_ERR_SQL;
    }
    o->failures = nd;
    if (nd) {
        o->status = IG_TF_FAIL;
        o->message = ig_asprintf("actual differs from expected (- expected but missing, + not expected):%s%s",
                                 ig_buf_cstr(&diff), nd > 20 ? "\n    ..." : "");
    } else o->status = IG_TF_SUCCESS;
    ig_buf_free(&diff);
    return 0;
}
