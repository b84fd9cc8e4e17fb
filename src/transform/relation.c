/* Relations, query results and the `adapter` object as template values.
 *
 *   Relation  what ref(), source(), this and adapter.get_relation return:
 *             database, schema, identifier, type; renders as the quoted
 *             name ("db"."schema"."name") per the project's quoting policy.
 *   Table     run_query()'s result, shaped like agate's: .columns[i].name,
 *             .columns[i].values(), .rows (rows index by position or name),
 *             .column_names.
 *   Column    adapter.get_columns_in_relation's items: .name, .data_type,
 *             .dtype, .quoted, .is_string(), .is_number() ...
 *   adapter   dispatch (with the package search order of `dispatch:`),
 *             get_relation, get_columns_in_relation, quote, type, and the
 *             schema / relation management calls materialization macros use.
 * All SQL goes through the warehouse's dialect (warehouse/dialect.h). */
#include "transform/tf_int.h"

#include "core/mem.h"
#include "core/str.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *sval(ig_tmpl_val v) { return v.type == IG_TMPL_STR ? ig_tmpl_str_ptr(v) : NULL; }

static ig_rc noop_fn(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    *out = ig_tmpl_str("");
    return 0;
}

static void quote_part(tf_project *p, ig_buf *b, const char *s, bool q)
{
    if (!q) {
        ig_buf_puts(b, s);
        return;
    }
    if (p && p->wh) {
        ig_wh_quote_ident(p->wh, b, s);
        return;
    }
    ig_buf_putc(b, '"');
    for (const char *c = s; *c; c++) {
        if (*c == '"') ig_buf_putc(b, '"');
        ig_buf_putc(b, *c);
    }
    ig_buf_putc(b, '"');
}

/* ------------------------------------------------------------- relation */

static tf_project *g_quote_project; /* for str(), which has no thread; set by every new relation */

void ig__tf_relation_render(const tf_relation *r, ig_buf *out)
{
    tf_project *p = r->t ? r->t->p : g_quote_project;
    bool first = true;
    if (r->incl_db && r->database && *r->database) {
        quote_part(p, out, r->database, r->qdb);
        first = false;
    }
    if (r->incl_schema && r->schema && *r->schema) {
        if (!first) ig_buf_putc(out, '.');
        quote_part(p, out, r->schema, r->qschema);
        first = false;
    }
    if (r->incl_ident && r->identifier) {
        if (!first) ig_buf_putc(out, '.');
        quote_part(p, out, r->identifier, r->qident);
    }
}

static void rel_str(void *self, ig_buf *out)
{
    tf_relation *r = self;
    if (r->marker > 0) ig_buf_printf(out, "\x01R%d\x02", r->marker - 1);
    else if (r->marker < 0) ig_buf_puts(out, "\x01T\x02");
    else ig__tf_relation_render(r, out);
}

static void rel_free(void *self)
{
    tf_relation *r = self;
    free(r->database);
    free(r->schema);
    free(r->identifier);
    free(r);
}

static tf_relation *rel_alloc(tf_thread *t, const char *db, const char *schema, const char *ident,
                              const char *type)
{
    tf_relation *r = ig_calloc(1, sizeof *r);
    r->database = db ? ig_strdup(db) : NULL;
    r->schema = schema ? ig_strdup(schema) : NULL;
    r->identifier = ident ? ig_strdup(ident) : NULL;
    r->type = type;
    tf_project *p = t ? t->p : NULL;
    r->qdb = p ? p->quote_database : true;
    r->qschema = p ? p->quote_schema : true;
    r->qident = p ? p->quote_identifier : true;
    r->incl_db = r->incl_schema = r->incl_ident = true;
    r->t = t;
    return r;
}

ig_tmpl_val ig__tf_relation_new(tf_thread *t, const char *db, const char *schema,
                                const char *ident, const char *type)
{
    if (t) g_quote_project = t->p;
    return ig_tmpl_object_new(&ig__tf_relation_class, rel_alloc(t, db, schema, ident, type));
}

static tf_relation *rel_copy(const tf_relation *r)
{
    tf_relation *c = rel_alloc(r->t, r->database, r->schema, r->identifier, r->type);
    c->qdb = r->qdb;
    c->qschema = r->qschema;
    c->qident = r->qident;
    c->incl_db = r->incl_db;
    c->incl_schema = r->incl_schema;
    c->incl_ident = r->incl_ident;
    return c;
}

ig_tmpl_val ig__tf_node_relation_val(tf_thread *t, const tf_node *n)
{
    const char *mat = n->materialized ? n->materialized : "";
    if (!strcmp(mat, "ephemeral")) {
        char name[512];
        snprintf(name, sizeof name, "__dbt__cte__%s", n->alias ? n->alias : n->name);
        ig_tmpl_val v = ig__tf_relation_new(t, NULL, NULL, name, "cte");
        tf_relation *r = ig_tmpl_object_self(v, &ig__tf_relation_class);
        r->qident = false;
        return v;
    }
    const char *type = n->kind == TF_SOURCE ? "table" : !strcmp(mat, "view") ? "view" : "table";
    ig_tmpl_val v = ig__tf_relation_new(t, n->database, n->schema, n->alias ? n->alias : n->name, type);
    if (n->kind == TF_SOURCE && n->config) {
        tf_relation *r = ig_tmpl_object_self(v, &ig__tf_relation_class);
        json_t *q = json_object_get(n->config, "quoting");
        if (json_is_object(q)) {
            json_t *x;
            if ((x = json_object_get(q, "database")) && json_is_boolean(x)) r->qdb = json_is_true(x);
            if ((x = json_object_get(q, "schema")) && json_is_boolean(x)) r->qschema = json_is_true(x);
            if ((x = json_object_get(q, "identifier")) && json_is_boolean(x)) r->qident = json_is_true(x);
        }
    }
    return v;
}

void ig__tf_node_relation(tf_project *p, const tf_node *n, ig_buf *out)
{
    if (n->materialized && !strcmp(n->materialized, "ephemeral")) {
        ig_buf_printf(out, "__dbt__cte__%s", n->alias ? n->alias : n->name);
        return;
    }
    tf_relation r = {.database = (char *)n->database, .schema = (char *)n->schema,
                     .identifier = (char *)(n->alias ? n->alias : n->name),
                     .qdb = p->quote_database, .qschema = p->quote_schema,
                     .qident = p->quote_identifier, .incl_db = true, .incl_schema = true,
                     .incl_ident = true};
    g_quote_project = p;
    ig__tf_relation_render(&r, out);
}

/* rel.include(database=False, ...), rel.quote(...), rel.incorporate(path=..., type=...) */
static ig_rc rel_method(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out,
                        int which, tf_relation *r)
{
    tf_relation *n = rel_copy(r);
    for (size_t i = 0; i < a->nkw; i++) {
        const char *k = a->kwnames[i];
        ig_tmpl_val v = a->kw[i];
        bool b = ig_tmpl_truthy(v);
        if (which == 0 || which == 1) {
            bool *fld = !strcmp(k, "database") ? (which ? &n->qdb : &n->incl_db)
                        : !strcmp(k, "schema") ? (which ? &n->qschema : &n->incl_schema)
                        : !strcmp(k, "identifier") ? (which ? &n->qident : &n->incl_ident) : NULL;
            if (fld && v.type != IG_TMPL_NONE) *fld = b;
        } else if (!strcmp(k, "type") && sval(v)) {
            n->type = !strcmp(sval(v), "view") ? "view" : !strcmp(sval(v), "cte") ? "cte" : "table";
        } else if (!strcmp(k, "path") && v.type == IG_TMPL_DICT) {
            static const char *const keys[] = {"database", "schema", "identifier"};
            char **flds[] = {&n->database, &n->schema, &n->identifier};
            for (int j = 0; j < 3; j++) {
                ig_tmpl_val x = ig_tmpl_dict_get(v, keys[j]);
                if (sval(x)) {
                    free(*flds[j]);
                    *flds[j] = ig_strdup(sval(x));
                }
            }
        }
    }
    *out = ig_tmpl_object_new(&ig__tf_relation_class, n);
    return 0;
}

/* Methods get their receiver through a small bound struct: the engine's
 * func values carry one ud pointer, so the relation itself is the ud and
 * stays alive through the reference the bound value holds below. */
typedef struct bound {
    ig_tmpl_val self;
    int which;
} bound;

static ig_rc bound_call(ig_tmpl_call *c, void *self, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    bound *b = self;
    tf_relation *r = ig_tmpl_object_self(b->self, &ig__tf_relation_class);
    if (b->which == 3) { /* render() */
        ig_buf s = IG_BUF_INIT;
        ig__tf_relation_render(r, &s);
        *out = ig_tmpl_str(ig_buf_cstr(&s));
        ig_buf_free(&s);
        return 0;
    }
    return rel_method(c, NULL, a, out, b->which, r);
}

static void bound_free(void *self)
{
    bound *b = self;
    ig_tmpl_unref(b->self);
    free(b);
}

static const ig_tmpl_class bound_class = {.name = "method", .call = bound_call, .free = bound_free};

static ig_tmpl_val bind_method(tf_relation *r, int which)
{
    bound *b = ig_calloc(1, sizeof *b);
    tf_relation *copy = rel_copy(r);
    b->self = ig_tmpl_object_new(&ig__tf_relation_class, copy);
    b->which = which;
    return ig_tmpl_object_new(&bound_class, b);
}

static ig_rc rel_getattr(ig_tmpl_call *c, void *self, const char *name, ig_tmpl_val *out)
{
    tf_relation *r = self;
    if (r->marker && r->t && r->t->mode == TF_MODE_PARSE && r->t->node) r->t->node->impure = true;
    if (!strcmp(name, "database")) *out = r->database ? ig_tmpl_str(r->database) : ig_tmpl_none();
    else if (!strcmp(name, "schema")) *out = r->schema ? ig_tmpl_str(r->schema) : ig_tmpl_none();
    else if (!strcmp(name, "identifier") || !strcmp(name, "name") || !strcmp(name, "table"))
        *out = r->identifier ? ig_tmpl_str(r->identifier) : ig_tmpl_none();
    else if (!strcmp(name, "type")) *out = r->type ? ig_tmpl_str(r->type) : ig_tmpl_none();
    else if (!strcmp(name, "is_table")) *out = ig_tmpl_bool(r->type && !strcmp(r->type, "table"));
    else if (!strcmp(name, "is_view")) *out = ig_tmpl_bool(r->type && !strcmp(r->type, "view"));
    else if (!strcmp(name, "is_cte")) *out = ig_tmpl_bool(r->type && !strcmp(r->type, "cte"));
    else if (!strcmp(name, "include")) *out = bind_method(r, 0);
    else if (!strcmp(name, "quote")) *out = bind_method(r, 1);
    else if (!strcmp(name, "incorporate")) *out = bind_method(r, 2);
    else if (!strcmp(name, "render")) *out = bind_method(r, 3);
    return 0;
}

const ig_tmpl_class ig__tf_relation_class = {
    .name = "Relation", .getattr = rel_getattr, .str = rel_str, .free = rel_free};

/* ----------------------------------------------------------- agate table */

typedef struct table {
    ig_tmpl_val names; /* tuple of str */
    ig_tmpl_val types; /* tuple of str */
    ig_tmpl_val rows;  /* list of tuples */
} table;

typedef struct row {
    ig_tmpl_val names; /* borrowed by reference */
    ig_tmpl_val vals;  /* tuple */
} row;

typedef struct column {
    ig_tmpl_val name, type;
    ig_tmpl_val rows; /* the table's rows */
    size_t index;
} column;

static void table_free(void *self)
{
    table *t = self;
    ig_tmpl_unref(t->names);
    ig_tmpl_unref(t->types);
    ig_tmpl_unref(t->rows);
    free(t);
}

static void row_free(void *self)
{
    row *r = self;
    ig_tmpl_unref(r->names);
    ig_tmpl_unref(r->vals);
    free(r);
}

static ig_rc row_getitem(ig_tmpl_call *c, void *self, ig_tmpl_val key, ig_tmpl_val *out)
{
    row *r = self;
    size_t n = ig_tmpl_list_len(r->vals);
    if (key.type == IG_TMPL_INT) {
        int64_t i = key.u.i < 0 ? key.u.i + (int64_t)n : key.u.i;
        if (i < 0 || (size_t)i >= n) return ig_tmpl_fail(c, "row index %lld out of range", (long long)key.u.i);
        *out = ig_tmpl_ref(ig_tmpl_list_get(r->vals, (size_t)i));
        return 0;
    }
    const char *k = sval(key);
    if (!k) return 0;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(ig_tmpl_str_ptr(ig_tmpl_list_get(r->names, i)), k)) {
            *out = ig_tmpl_ref(ig_tmpl_list_get(r->vals, i));
            return 0;
        }
    return 0;
}

static ig_rc row_getattr(ig_tmpl_call *c, void *self, const char *name, ig_tmpl_val *out)
{
    ig_tmpl_val k = ig_tmpl_str(name);
    ig_rc rc = row_getitem(c, self, k, out);
    ig_tmpl_unref(k);
    return rc;
}

static ig_rc row_iter(ig_tmpl_call *c, void *self, ig_tmpl_val *out)
{
    row *r = self;
    ig_tmpl_val l = ig_tmpl_list_new();
    for (size_t i = 0; i < ig_tmpl_list_len(r->vals); i++)
        ig_tmpl_list_append(l, ig_tmpl_ref(ig_tmpl_list_get(r->vals, i)));
    *out = l;
    return 0;
}

static void row_str(void *self, ig_buf *out) { ig_tmpl_to_repr(((row *)self)->vals, out); }

static const ig_tmpl_class row_class = {.name = "Row", .getattr = row_getattr, .getitem = row_getitem,
                                        .iter = row_iter, .str = row_str, .free = row_free};

static void col_free(void *self)
{
    column *k = self;
    ig_tmpl_unref(k->name);
    ig_tmpl_unref(k->type);
    ig_tmpl_unref(k->rows);
    free(k);
}

static ig_rc col_values_bound(ig_tmpl_call *c, void *self, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    column *k = self;
    ig_tmpl_val l = ig_tmpl_tuple_new();
    for (size_t i = 0; i < ig_tmpl_list_len(k->rows); i++)
        ig_tmpl_list_append(l, ig_tmpl_ref(ig_tmpl_list_get(ig_tmpl_list_get(k->rows, i), k->index)));
    *out = l;
    return 0;
}

static const ig_tmpl_class col_values_class = {.name = "method", .call = col_values_bound, .free = col_free};

static ig_rc col_getattr(ig_tmpl_call *c, void *self, const char *name, ig_tmpl_val *out)
{
    column *k = self;
    if (!strcmp(name, "name")) *out = ig_tmpl_ref(k->name);
    else if (!strcmp(name, "data_type")) *out = ig_tmpl_ref(k->type);
    else if (!strcmp(name, "values")) {
        /* the method borrows the column: keep it alive by holding a ref */
        column *cp = ig_calloc(1, sizeof *cp);
        cp->name = ig_tmpl_ref(k->name);
        cp->type = ig_tmpl_ref(k->type);
        cp->rows = ig_tmpl_ref(k->rows);
        cp->index = k->index;
        *out = ig_tmpl_object_new(&col_values_class, cp);
    }
    return 0;
}

static const ig_tmpl_class column_class = {.name = "Column", .getattr = col_getattr, .free = col_free};

static ig_rc table_getattr(ig_tmpl_call *c, void *self, const char *name, ig_tmpl_val *out)
{
    table *t = self;
    if (!strcmp(name, "rows")) {
        ig_tmpl_val l = ig_tmpl_list_new();
        for (size_t i = 0; i < ig_tmpl_list_len(t->rows); i++) {
            row *r = ig_calloc(1, sizeof *r);
            r->names = ig_tmpl_ref(t->names);
            r->vals = ig_tmpl_ref(ig_tmpl_list_get(t->rows, i));
            ig_tmpl_list_append(l, ig_tmpl_object_new(&row_class, r));
        }
        *out = l;
    } else if (!strcmp(name, "columns")) {
        ig_tmpl_val l = ig_tmpl_list_new();
        for (size_t i = 0; i < ig_tmpl_list_len(t->names); i++) {
            column *k = ig_calloc(1, sizeof *k);
            k->name = ig_tmpl_ref(ig_tmpl_list_get(t->names, i));
            k->type = ig_tmpl_ref(ig_tmpl_list_get(t->types, i));
            k->rows = ig_tmpl_ref(t->rows);
            k->index = i;
            ig_tmpl_list_append(l, ig_tmpl_object_new(&column_class, k));
        }
        *out = l;
    } else if (!strcmp(name, "column_names")) *out = ig_tmpl_ref(t->names);
    else if (!strcmp(name, "column_types")) *out = ig_tmpl_ref(t->types);
    else if (!strcmp(name, "print_table")) *out = ig_tmpl_func_new("print_table", noop_fn, NULL);
    return 0;
}

static ig_rc table_iter(ig_tmpl_call *c, void *self, ig_tmpl_val *out)
{
    return table_getattr(c, self, "rows", out);
}

static ig_rc table_getitem(ig_tmpl_call *c, void *self, ig_tmpl_val key, ig_tmpl_val *out)
{
    table *t = self;
    if (key.type == IG_TMPL_INT) {
        ig_tmpl_val rows;
        table_getattr(c, self, "rows", &rows);
        int64_t i = key.u.i < 0 ? key.u.i + (int64_t)ig_tmpl_list_len(rows) : key.u.i;
        if (i >= 0 && (size_t)i < ig_tmpl_list_len(rows)) *out = ig_tmpl_ref(ig_tmpl_list_get(rows, (size_t)i));
        ig_tmpl_unref(rows);
        return 0;
    }
    (void)t;
    return sval(key) ? table_getattr(c, self, sval(key), out) : 0;
}

static void table_str(void *self, ig_buf *out)
{
    table *t = self;
    ig_buf_printf(out, "<agate.Table: %zu rows>", ig_tmpl_list_len(t->rows));
}

static const ig_tmpl_class table_class = {.name = "Table", .getattr = table_getattr,
                                          .getitem = table_getitem, .iter = table_iter,
                                          .str = table_str, .free = table_free};

ig_rc ig__tf_table_rows(ig_tmpl_val tv, ig_tmpl_val *out)
{
    table *t = ig_tmpl_object_self(tv, &table_class);
    if (!t) return -1;
    ig_tmpl_val l = ig_tmpl_list_new();
    for (size_t i = 0; i < ig_tmpl_list_len(t->rows); i++)
        ig_tmpl_list_append(l, ig_tmpl_ref(ig_tmpl_list_get(t->rows, i)));
    *out = l;
    return 0;
}

static ig_tmpl_val cell(const ig_value *v)
{
    if (v->is_null) return ig_tmpl_none();
    switch (v->type) {
    case IG_T_BOOL: return ig_tmpl_bool(v->b);
    case IG_T_INT: return ig_tmpl_int(v->i);
    case IG_T_DOUBLE:
    case IG_T_DECIMAL: return ig_tmpl_float(v->d);
    case IG_T_BIGNUM: {
        long l;
        if (ig_parse_long(v->text, &l)) return ig_tmpl_int(l);
        return ig_tmpl_strn(v->text, v->len);
    }
    default: return ig_tmpl_strn(v->text, v->len);
    }
}

#define MAX_RESULT_ROWS 1000000 /* run_query results are held whole: a cap */

ig_rc ig__tf_table_from_sql(tf_thread *t, ig_tmpl_call *call, const char *sql, ig_tmpl_val *out)
{
    ig_error e;
    ig_error_clear(&e);
    ig_wh_cursor *cur;
    if (ig_wh_query(t->wh, sql, &cur, &e)) return ig_tmpl_fail(call, "Database Error: %s", e.message);
    table *tb = ig_calloc(1, sizeof *tb);
    tb->names = ig_tmpl_tuple_new();
    tb->types = ig_tmpl_tuple_new();
    tb->rows = ig_tmpl_list_new();
    size_t nc = ig_wh_cursor_is_query(cur) ? ig_wh_cursor_ncols(cur) : 0;
    for (size_t i = 0; i < nc; i++) {
        ig_tmpl_list_append(tb->names, ig_tmpl_str(ig_wh_cursor_colname(cur, i)));
        ig_tmpl_list_append(tb->types, ig_tmpl_str(ig_wh_cursor_coltype_name(cur, i)));
    }
    int r = 0;
    size_t n = 0;
    while (nc && (r = ig_wh_cursor_next(cur, &e)) == 1) {
        if (++n > MAX_RESULT_ROWS) {
            ig_wh_cursor_close(cur);
            table_free(tb);
            return ig_tmpl_fail(call, "run_query: more than %d rows; aggregate in SQL first",
                                MAX_RESULT_ROWS);
        }
        ig_tmpl_val tup = ig_tmpl_tuple_new();
        for (size_t i = 0; i < nc; i++) ig_tmpl_list_append(tup, cell(ig_wh_cursor_value(cur, i)));
        ig_tmpl_list_append(tb->rows, tup);
    }
    ig_wh_cursor_close(cur);
    if (r < 0) {
        table_free(tb);
        return ig_tmpl_fail(call, "Database Error: %s", e.message);
    }
    *out = ig_tmpl_object_new(&table_class, tb);
    return 0;
}

/* ------------------------------------------------------- relation cache */

static char *relkey(const char *schema, const char *name)
{
    char *k = ig_asprintf("%s.%s", schema ? schema : "", name);
    for (char *c = k; *c; c++) *c = (char)tolower((unsigned char)*c);
    return k;
}

ig_rc ig__tf_relcache_load(tf_project *p, ig_error *err)
{
    ig_wh_relation *rels;
    size_t n;
    ig_rc rc = ig_wh_list_relations(p->wh, NULL, &rels, &n, err);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
        ig__tf_relcache_set(p, rels[i].schema, rels[i].name, rels[i].kind);
    }
    ig_wh_relations_free(rels, n);
    return 0;
}

const char *ig__tf_relcache_get(tf_project *p, const char *schema, const char *name)
{
    char *k = relkey(schema, name);
    pthread_mutex_lock(&p->rel_lock);
    const char *v = ig__tf_map_get(&p->relcache, k);
    pthread_mutex_unlock(&p->rel_lock);
    free(k);
    return v && *v ? v : NULL;
}

void ig__tf_relcache_set(tf_project *p, const char *schema, const char *name, const char *kind)
{
    char *k = relkey(schema, name);
    pthread_mutex_lock(&p->rel_lock);
    const char *stable = !kind ? "" : !strcmp(kind, "view") ? "view" : "table";
    if (ig__tf_map_get(&p->relcache, k)) {
        ig__tf_map_put(&p->relcache, k, (void *)stable); /* the stored key stays */
    } else {
        pthread_mutex_lock(&p->tmpl_lock);
        char *ak = ig_arena_strdup(p->arena, k);
        pthread_mutex_unlock(&p->tmpl_lock);
        ig__tf_map_put(&p->relcache, ak, (void *)stable);
    }
    pthread_mutex_unlock(&p->rel_lock);
    free(k);
}

ig_rc ig__tf_columns(tf_thread *t, const char *schema, const char *name, ig_wh_columns *cols,
                     ig_error *err)
{
    return t->p->dialect->get_columns(t->wh, NULL, schema, name, cols, err);
}

/* --------------------------------------------------------------- adapter */

typedef struct colobj {
    char *name, *type;
} colobj;

static void colobj_free(void *self)
{
    colobj *c = self;
    free(c->name);
    free(c->type);
    free(c);
}

static bool type_is(const char *t, const char *const *prefixes)
{
    for (size_t i = 0; prefixes[i]; i++)
        if (!strncasecmp(t, prefixes[i], strlen(prefixes[i]))) return true;
    return false;
}

static const char *const str_types[] = {"VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR", NULL};
static const char *const int_types[] = {"INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT",
                                        "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "INT", NULL};
static const char *const float_types[] = {"DOUBLE", "FLOAT", "REAL", NULL};
static const char *const num_types[] = {"DECIMAL", "NUMERIC", NULL};

typedef struct colm {
    colobj *c;
    ig_tmpl_val keep;
    int which;
} colm;

static void colm_free(void *self)
{
    colm *m = self;
    ig_tmpl_unref(m->keep);
    free(m);
}

static ig_rc colm_call(ig_tmpl_call *call, void *self, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    colm *m = self;
    const char *t = m->c->type;
    bool r = false;
    switch (m->which) {
    case 0: r = type_is(t, str_types); break;
    case 1: r = type_is(t, int_types) || type_is(t, float_types) || type_is(t, num_types); break;
    case 2: r = type_is(t, int_types); break;
    case 3: r = type_is(t, float_types); break;
    case 4: r = type_is(t, num_types); break;
    }
    *out = ig_tmpl_bool(r);
    return 0;
}

static const ig_tmpl_class colm_class = {.name = "method", .call = colm_call, .free = colm_free};

static const ig_tmpl_class colobj_class;
static ig_tmpl_val colobj_val(const char *name, const char *type);

static ig_rc colobj_getattr(ig_tmpl_call *c, void *self, const char *name, ig_tmpl_val *out)
{
    colobj *k = self;
    if (!strcmp(name, "name") || !strcmp(name, "column")) *out = ig_tmpl_str(k->name);
    else if (!strcmp(name, "data_type") || !strcmp(name, "dtype")) *out = ig_tmpl_str(k->type);
    else if (!strcmp(name, "quoted")) {
        ig_buf b = IG_BUF_INIT;
        quote_part(g_quote_project, &b, k->name, true);
        *out = ig_tmpl_str(ig_buf_cstr(&b));
        ig_buf_free(&b);
    } else {
        static const char *const m[] = {"is_string", "is_number", "is_integer", "is_float",
                                        "is_numeric", NULL};
        for (int i = 0; m[i]; i++)
            if (!strcmp(name, m[i])) {
                colm *cm = ig_calloc(1, sizeof *cm);
                cm->c = k;
                cm->keep = colobj_val(k->name, k->type);
                cm->c = ig_tmpl_object_self(cm->keep, &colobj_class);
                cm->which = i;
                *out = ig_tmpl_object_new(&colm_class, cm);
            }
    }
    return 0;
}

static void colobj_str(void *self, ig_buf *out)
{
    colobj *k = self;
    ig_buf_printf(out, "<Column %s (%s)>", k->name, k->type);
}

static const ig_tmpl_class colobj_class = {.name = "Column", .getattr = colobj_getattr,
                                           .str = colobj_str, .free = colobj_free};

static ig_tmpl_val colobj_val(const char *name, const char *type)
{
    colobj *c = ig_calloc(1, sizeof *c);
    c->name = ig_strdup(name);
    c->type = ig_strdup(type);
    return ig_tmpl_object_new(&colobj_class, c);
}

/* ig_tmpl_object_self with a NULL class is not allowed by the API: a
 * colobj's method keeps its own copy instead (see colobj_getattr). */

#define AD(ud) ((tf_thread *)(ud))

static tf_relation *relarg(const ig_tmpl_args *a, size_t i)
{
    if (i < a->npos) return ig_tmpl_object_self(a->pos[i], &ig__tf_relation_class);
    return NULL;
}

static tf_relation *relkw(const ig_tmpl_args *a, const char *name, size_t pos)
{
    for (size_t i = 0; i < a->nkw; i++)
        if (!strcmp(a->kwnames[i], name)) return ig_tmpl_object_self(a->kw[i], &ig__tf_relation_class);
    return relarg(a, pos);
}

static ig_rc ad_get_relation(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_thread *t = AD(ud);
    static const char *const names[] = {"database", "schema", "identifier", NULL};
    ig_tmpl_val v[3];
    if (ig_tmpl_bind(c, "adapter.get_relation", a, names, 3, v)) return IG_ERR_TEMPLATE;
    if (t->mode == TF_MODE_PARSE) {
        if (t->node) t->node->impure = true;
        *out = ig_tmpl_none();
        return 0;
    }
    const char *schema = sval(v[1]), *ident = sval(v[2]);
    if (!schema || !ident) return ig_tmpl_fail(c, "adapter.get_relation() needs schema and identifier");
    const char *kind = ig__tf_relcache_get(t->p, schema, ident);
    if (!kind) {
        *out = ig_tmpl_none();
        return 0;
    }
    *out = ig__tf_relation_new(t, sval(v[0]), schema, ident, kind);
    return 0;
}

static ig_rc ad_get_columns(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_thread *t = AD(ud);
    tf_relation *r = relkw(a, "relation", 0);
    if (t->mode == TF_MODE_PARSE || !t->wh) {
        if (t->node) t->node->impure = true;
        *out = ig_tmpl_list_new();
        return 0;
    }
    if (!r) return ig_tmpl_fail(c, "adapter.get_columns_in_relation() takes a relation");
    ig_wh_columns cols;
    ig_error e;
    ig_error_clear(&e);
    if (ig__tf_columns(t, r->schema, r->identifier, &cols, &e))
        return ig_tmpl_fail(c, "Database Error: %s", e.message);
    ig_tmpl_val l = ig_tmpl_list_new();
    for (size_t i = 0; i < cols.n; i++) ig_tmpl_list_append(l, colobj_val(cols.items[i].name, cols.items[i].type));
    ig_wh_columns_free(&cols);
    *out = l;
    return 0;
}

static ig_rc ad_quote(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    const char *s = a->npos ? sval(a->pos[0]) : NULL;
    if (!s) return ig_tmpl_fail(c, "adapter.quote() takes an identifier");
    ig_buf b = IG_BUF_INIT;
    quote_part(AD(ud)->p, &b, s, true);
    *out = ig_tmpl_str(ig_buf_cstr(&b));
    ig_buf_free(&b);
    return 0;
}

static ig_rc ad_type(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    *out = ig_tmpl_str("duckdb");
    return 0;
}

static ig_rc ad_noop(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    *out = ig_tmpl_str("");
    return 0;
}

static ig_rc exec_sql(ig_tmpl_call *c, tf_thread *t, const char *sql)
{
    if (t->mode == TF_MODE_PARSE || !t->wh) {
        if (t->node) t->node->impure = true;
        return 0;
    }
    ig_error e;
    ig_error_clear(&e);
    if (ig_wh_exec(t->wh, sql, &e)) return ig_tmpl_fail(c, "Database Error: %s", e.message);
    return 0;
}

static ig_rc ad_create_schema(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_thread *t = AD(ud);
    tf_relation *r = relkw(a, "relation", 0);
    if (!r || !r->schema) return ig_tmpl_fail(c, "adapter.create_schema() takes a relation");
    ig_buf b = IG_BUF_INIT;
    t->p->dialect->create_schema(t->p->wh, &b, NULL, r->schema);
    ig_rc rc = exec_sql(c, t, ig_buf_cstr(&b));
    ig_buf_free(&b);
    return rc;
}

static ig_rc ad_drop_relation(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_thread *t = AD(ud);
    tf_relation *r = relkw(a, "relation", 0);
    if (!r) return ig_tmpl_fail(c, "adapter.drop_relation() takes a relation");
    const char *kind = ig__tf_relcache_get(t->p, r->schema, r->identifier);
    if (!kind) return 0;
    ig_buf b = IG_BUF_INIT, rel = IG_BUF_INIT;
    ig__tf_relation_render(r, &rel);
    t->p->dialect->drop(t->p->wh, &b, kind, ig_buf_cstr(&rel));
    ig_rc rc = exec_sql(c, t, ig_buf_cstr(&b));
    if (!rc && t->mode != TF_MODE_PARSE) ig__tf_relcache_set(t->p, r->schema, r->identifier, NULL);
    ig_buf_free(&b);
    ig_buf_free(&rel);
    return rc;
}

static ig_rc ad_rename_relation(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_thread *t = AD(ud);
    tf_relation *from = relkw(a, "from_relation", 0), *to = relkw(a, "to_relation", 1);
    if (!from || !to) return ig_tmpl_fail(c, "adapter.rename_relation() takes two relations");
    const char *kind = ig__tf_relcache_get(t->p, from->schema, from->identifier);
    ig_buf b = IG_BUF_INIT, rel = IG_BUF_INIT;
    ig__tf_relation_render(from, &rel);
    t->p->dialect->rename(t->p->wh, &b, kind ? kind : "table", ig_buf_cstr(&rel), to->identifier);
    ig_rc rc = exec_sql(c, t, ig_buf_cstr(&b));
    if (!rc && t->mode != TF_MODE_PARSE) {
        ig__tf_relcache_set(t->p, from->schema, from->identifier, NULL);
        ig__tf_relcache_set(t->p, to->schema, to->identifier, kind ? kind : "table");
    }
    ig_buf_free(&b);
    ig_buf_free(&rel);
    return rc;
}

static ig_rc ad_check_schema(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_thread *t = AD(ud);
    static const char *const names[] = {"database", "schema", NULL};
    ig_tmpl_val v[2];
    if (ig_tmpl_bind(c, "adapter.check_schema_exists", a, names, 2, v)) return IG_ERR_TEMPLATE;
    if (t->mode == TF_MODE_PARSE || !t->wh || !sval(v[1])) {
        *out = ig_tmpl_bool(false);
        return 0;
    }
    ig_param ps[1] = {IG_P_TEXT(sval(v[1]))};
    ig_wh_cursor *cur;
    ig_error e;
    ig_error_clear(&e);
    if (ig_wh_query_params(t->wh, "select 1 from information_schema.schemata where lower(schema_name) = lower($1)",
                           ps, 1, &cur, &e))
        return ig_tmpl_fail(c, "Database Error: %s", e.message);
    int r = ig_wh_cursor_next(cur, &e);
    ig_wh_cursor_close(cur);
    *out = ig_tmpl_bool(r == 1);
    return 0;
}

static ig_rc ad_execute(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_thread *t = AD(ud);
    static const char *const names[] = {"sql", "auto_begin", "fetch", "limit", NULL};
    ig_tmpl_val v[4];
    if (ig_tmpl_bind(c, "adapter.execute", a, names, 1, v)) return IG_ERR_TEMPLATE;
    if (t->mode == TF_MODE_PARSE || !t->wh) {
        if (t->node) t->node->impure = true;
        *out = ig_tmpl_none();
        return 0;
    }
    ig_buf b = IG_BUF_INIT;
    ig_tmpl_to_str(v[0], &b);
    ig_tmpl_val tb = ig_tmpl_none();
    ig_rc rc = ig__tf_table_from_sql(t, c, ig_buf_cstr(&b), &tb);
    ig_buf_free(&b);
    if (rc) return rc;
    ig_tmpl_val res = ig_tmpl_tuple_new();
    ig_tmpl_list_append(res, ig_tmpl_str("OK"));
    ig_tmpl_list_append(res, tb);
    *out = res;
    return 0;
}

/* adapter.dispatch(name, macro_namespace=None): the first of
 * <pkg>.duckdb__<name>, <pkg>.default__<name> over the search order. */
static ig_rc ad_dispatch(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_thread *t = AD(ud);
    tf_project *p = t->p;
    static const char *const names[] = {"macro_name", "macro_namespace", "packages", NULL};
    ig_tmpl_val v[3];
    if (ig_tmpl_bind(c, "adapter.dispatch", a, names, 1, v)) return IG_ERR_TEMPLATE;
    const char *name = sval(v[0]);
    if (!name) return ig_tmpl_fail(c, "adapter.dispatch() takes a macro name");
    if (strchr(name, '.'))
        return ig_tmpl_fail(c, "adapter.dispatch(): the macro name '%s' must not contain a dot; "
                               "pass the package as macro_namespace", name);
    const char *ns = ig_tmpl_given(v[1]) ? sval(v[1]) : NULL;
    const char *order[64];
    size_t no = 0;
    if (ns) {
        size_t i;
        json_t *d;
        json_array_foreach(p->dispatch, i, d) {
            json_t *mn = json_object_get(d, "macro_namespace");
            json_t *so = json_object_get(d, "search_order");
            if (json_is_string(mn) && !strcmp(json_string_value(mn), ns) && json_is_array(so)) {
                size_t j;
                json_t *x;
                json_array_foreach(so, j, x) if (json_is_string(x) && no < 63) order[no++] = json_string_value(x);
            }
        }
        if (!no) {
            bool installed = false;
            for (size_t k = 0; k < p->npkgs; k++) installed |= !strcmp(p->pkgs[k]->name, ns) && !p->pkgs[k]->is_root;
            /* the root project may override a package's (or dbt's own) implementations */
            if (installed || !strcmp(ns, "dbt")) order[no++] = p->root->name;
            order[no++] = ns;
        }
    } else {
        order[no++] = NULL; /* the global look-up: root project, packages, dbt */
    }
    static const char *const prefixes[] = {"duckdb", "default"};
    ig_buf searched = IG_BUF_INIT;
    for (size_t i = 0; i < no; i++) {
        for (size_t k = 0; k < 2; k++) {
            char mname[512];
            snprintf(mname, sizeof mname, "%s__%s", prefixes[k], name);
            const tf_macro *m = ig__tf_find_macro(p, order[i], mname);
            if (m) {
                ig_buf_free(&searched);
                *out = ig_tmpl_macro_get(m->tmpl, mname);
                return 0;
            }
            ig_buf_printf(&searched, "%s'%s%s%s'", searched.len ? ", " : "", order[i] ? order[i] : "",
                          order[i] ? "." : "", mname);
        }
    }
    ig_rc rc = ig_tmpl_fail(c, "In dispatch: No macro named '%s' found within namespace: '%s'\n"
                               "    Searched for: %s", name, ns ? ns : "None", ig_buf_cstr(&searched));
    ig_buf_free(&searched);
    return rc;
}

static ig_rc ad_getattr(ig_tmpl_call *c, void *self, const char *name, ig_tmpl_val *out)
{
    static const struct {
        const char *name;
        ig_tmpl_fn fn;
    } fns[] = {
        {"dispatch", ad_dispatch},
        {"get_relation", ad_get_relation},
        {"get_columns_in_relation", ad_get_columns},
        {"quote", ad_quote},
        {"type", ad_type},
        {"create_schema", ad_create_schema},
        {"drop_relation", ad_drop_relation},
        {"rename_relation", ad_rename_relation},
        {"check_schema_exists", ad_check_schema},
        {"execute", ad_execute},
        {"commit", ad_noop},
        {"expand_target_column_types", ad_noop},
        {"cache_added", ad_noop},
        {"cache_dropped", ad_noop},
        {"cache_renamed", ad_noop},
    };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        if (!strcmp(fns[i].name, name)) {
            *out = ig_tmpl_func_new(name, fns[i].fn, self);
            return 0;
        }
    return 0;
}

static void ad_str(void *self, ig_buf *out) { ig_buf_puts(out, "<DuckDBAdapter>"); }

static const ig_tmpl_class adapter_class = {.name = "Adapter", .getattr = ad_getattr, .str = ad_str};

/* api.Relation.create(database=, schema=, identifier=, type=) */
static ig_rc api_create(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    tf_thread *t = AD(ud);
    static const char *const names[] = {"database", "schema", "identifier", "type", NULL};
    ig_tmpl_val v[4];
    if (ig_tmpl_bind(c, "api.Relation.create", a, names, 0, v)) return IG_ERR_TEMPLATE;
    const char *type = sval(v[3]);
    *out = ig__tf_relation_new(t, sval(v[0]), sval(v[1]), sval(v[2]),
                               type && !strcmp(type, "view") ? "view" : type ? "table" : NULL);
    return 0;
}

ig_tmpl_val ig__tf_adapter_new(tf_thread *t)
{
    ig_tmpl_val api = ig_tmpl_dict_new(), rel = ig_tmpl_dict_new();
    ig_tmpl_dict_set(rel, "create", ig_tmpl_func_new("create", api_create, t));
    ig_tmpl_dict_set(api, "Relation", rel);
    ig_tmpl_env_set_global(t->env, "api", api);
    return ig_tmpl_object_new(&adapter_class, t);
}
