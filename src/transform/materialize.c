/* Materializations: what turns a compiled model into a relation. A
 * materialization is a vtable entry in a registry (view, table,
 * incremental, ephemeral); the SQL of each step comes from the warehouse's
 * dialect. Every materialization runs in one transaction with the model's
 * pre- and post-hooks, so a failure leaves the old relation as it was:
 *
 *   view         create or replace view (a table of that name is dropped first)
 *   table        create <name>__dbt_tmp as (sql); rename the old relation to
 *                <name>__dbt_backup; rename the new one in; drop the backup
 *   incremental  first run, --full-refresh or a view in the way: as table.
 *                Otherwise a temporary table of the new rows, on_schema_change
 *                (ignore, fail, append_new_columns, sync_all_columns), then the
 *                strategy: append, delete+insert or merge on unique_key
 *   ephemeral    nothing: the model is a CTE of its children */
#include "transform/tf_int.h"

#include "core/clock.h"
#include "core/mem.h"
#include "core/str.h"

#include <stdlib.h>
#include <string.h>

typedef struct step_ctx {
    tf_thread *t;
    tf_node *n;
    ig_buf *log; /* target/run text */
    ig_error *err;
} step_ctx;

/* Run one statement, appending it to the run log; *rows (may be NULL) gets
 * the count a CTAS/INSERT reports. */
static ig_rc exec_sql(step_ctx *s, const char *sql, int64_t *rows)
{
    if (s->log->len) ig_buf_puts(s->log, ";\n\n");
    ig_buf_puts(s->log, sql);
    ig_wh_cursor *c;
    uint64_t t0 = ig_now_ns(), c0 = ig__tf_cpu_ns();
    ig_rc rc = ig_wh_query(s->t->wh, sql, &c, s->err);
    if (rc) {
        s->t->db_ns += ig_now_ns() - t0;
    s->t->db_cpu_ns += ig__tf_cpu_ns() - c0;
        return rc;
    }
    if (rows) {
        if (ig_wh_cursor_is_query(c)) {
            if (ig_wh_cursor_next(c, s->err) == 1) {
                const ig_value *v = ig_wh_cursor_value(c, 0);
                *rows = v->is_null ? 0 : v->i;
            }
        } else *rows = ig_wh_cursor_rows_changed(c);
    }
    ig_wh_cursor_close(c);
    s->t->db_ns += ig_now_ns() - t0;
    s->t->db_cpu_ns += ig__tf_cpu_ns() - c0;
    return 0;
}

static ig_rc run_hooks(step_ctx *s, const char *key)
{
    json_t *hooks = json_object_get(s->n->config, key);
    size_t i;
    json_t *h;
    json_array_foreach(hooks, i, h) {
        if (!json_is_string(h)) continue;
        ig_buf sql = IG_BUF_INIT;
        ig_rc rc = ig__tf_render_text(s->t, key, json_string_value(h), &sql, s->err);
        if (rc) {
            ig__tf_err_node(s->err, s->n, "Compilation Error in hook");
            ig_buf_free(&sql);
            return rc;
        }
        bool blank = true;
        for (size_t k = 0; k < sql.len && blank; k++) blank = strchr(" \t\r\n;", sql.data[k]) != NULL;
        if (!blank) rc = exec_sql(s, ig_buf_cstr(&sql), NULL);
        ig_buf_free(&sql);
        if (rc) return rc;
    }
    return 0;
}

/* The model's SQL without a trailing semicolon, which would end the
 * statement it is wrapped in. Caller frees. */
static char *body_sql(const tf_node *n)
{
    size_t len = n->compiled_len;
    while (len && (n->compiled[len - 1] == ';' || n->compiled[len - 1] == ' ' ||
                   n->compiled[len - 1] == '\n' || n->compiled[len - 1] == '\t' ||
                   n->compiled[len - 1] == '\r'))
        len--;
    return ig_strndup(n->compiled, len);
}

static pthread_mutex_t schema_lock = PTHREAD_MUTEX_INITIALIZER;

/* create schema if not exists, once per schema per run, outside of the
 * model's transaction (two transactions creating one schema conflict) */
static ig_rc ensure_schema(step_ctx *s)
{
    tf_project *p = s->t->p;
    tf_node *n = s->n;
    pthread_mutex_lock(&schema_lock);
    ig_rc rc = 0;
    if (!ig__tf_relcache_get(p, n->schema, "")) {
        ig_buf b = IG_BUF_INIT;
        p->dialect->create_schema(s->t->wh, &b, n->database, n->schema);
        rc = ig_wh_exec(s->t->wh, ig_buf_cstr(&b), s->err);
        ig_buf_free(&b);
        if (!rc) ig__tf_relcache_set(p, n->schema, "", "schema");
    }
    pthread_mutex_unlock(&schema_lock);
    return rc;
}

static void rel_named(tf_project *p, const tf_node *n, const char *ident, ig_buf *out)
{
    tf_node tmp = *n;
    tmp.alias = ident;
    tmp.materialized = "table";
    ig__tf_node_relation(p, &tmp, out);
}

static ig_rc begin(step_ctx *s)
{
    uint64_t t0 = ig_now_ns(), c0 = ig__tf_cpu_ns();
    ig_rc rc = ig_wh_begin(s->t->wh, s->err);
    s->t->db_ns += ig_now_ns() - t0;
    s->t->db_cpu_ns += ig__tf_cpu_ns() - c0;
    return rc;
}

static ig_rc finish(step_ctx *s, ig_rc rc)
{
    if (rc) {
        ig_wh_rollback(s->t->wh);
        return rc;
    }
    uint64_t t0 = ig_now_ns(), c0 = ig__tf_cpu_ns();
    rc = ig_wh_commit(s->t->wh, s->err);
    s->t->db_ns += ig_now_ns() - t0;
    s->t->db_cpu_ns += ig__tf_cpu_ns() - c0;
    return rc;
}

/* ----------------------------------------------------------------- view */

static ig_rc mat_view(tf_thread *t, tf_node *n, ig_buf *log, int64_t *rows, ig_error *err)
{
    step_ctx s = {t, n, log, err};
    tf_project *p = t->p;
    ig_rc rc = ensure_schema(&s);
    if (rc) return rc;
    const char *existing = ig__tf_relcache_get(p, n->schema, n->alias);
    ig_buf rel = IG_BUF_INIT, sql = IG_BUF_INIT;
    ig__tf_node_relation(p, n, &rel);
    if ((rc = begin(&s))) goto out;
    rc = run_hooks(&s, "pre-hook");
    if (!rc && existing && strcmp(existing, "view")) {
        p->dialect->drop(t->wh, &sql, existing, ig_buf_cstr(&rel));
        rc = exec_sql(&s, ig_buf_cstr(&sql), NULL);
        ig_buf_reset(&sql);
    }
    if (!rc) {
        char *body = body_sql(n);
        p->dialect->create_view(t->wh, &sql, ig_buf_cstr(&rel), body);
        free(body);
        rc = exec_sql(&s, ig_buf_cstr(&sql), NULL);
    }
    if (!rc) rc = run_hooks(&s, "post-hook");
    rc = finish(&s, rc);
    if (!rc) ig__tf_relcache_set(p, n->schema, n->alias, "view");
out:
    ig_buf_free(&rel);
    ig_buf_free(&sql);
    return rc;
}

/* ---------------------------------------------------------------- table */

/* Build the table under a temporary name and swap it in; inside the
 * caller's transaction. */
static ig_rc build_swap(step_ctx *s, const char *existing, int64_t *rows)
{
    tf_thread *t = s->t;
    tf_project *p = t->p;
    tf_node *n = s->n;
    char *tmp = ig_asprintf("%s__dbt_tmp", n->alias);
    char *bak = ig_asprintf("%s__dbt_backup", n->alias);
    ig_buf rel = IG_BUF_INIT, trel = IG_BUF_INIT, brel = IG_BUF_INIT, sql = IG_BUF_INIT;
    ig__tf_node_relation(p, n, &rel);
    rel_named(p, n, tmp, &trel);
    rel_named(p, n, bak, &brel);
    ig_rc rc = 0;
    if (ig__tf_relcache_get(p, n->schema, tmp)) {
        p->dialect->drop(t->wh, &sql, "table", ig_buf_cstr(&trel));
        rc = exec_sql(s, ig_buf_cstr(&sql), NULL);
        ig_buf_reset(&sql);
    }
    if (!rc) {
        char *body = body_sql(n);
        p->dialect->create_table_as(t->wh, &sql, ig_buf_cstr(&trel), body, false);
        free(body);
        rc = exec_sql(s, ig_buf_cstr(&sql), NULL); /* DuckDB reports no count for CTAS */
        ig_buf_reset(&sql);
    }
    if (!rc && existing) {
        if (ig__tf_relcache_get(p, n->schema, bak)) {
            p->dialect->drop(t->wh, &sql, ig__tf_relcache_get(p, n->schema, bak), ig_buf_cstr(&brel));
            rc = exec_sql(s, ig_buf_cstr(&sql), NULL);
            ig_buf_reset(&sql);
        }
        if (!rc) {
            p->dialect->rename(t->wh, &sql, existing, ig_buf_cstr(&rel), bak);
            rc = exec_sql(s, ig_buf_cstr(&sql), NULL);
            ig_buf_reset(&sql);
        }
    }
    if (!rc) {
        p->dialect->rename(t->wh, &sql, "table", ig_buf_cstr(&trel), n->alias);
        rc = exec_sql(s, ig_buf_cstr(&sql), NULL);
        ig_buf_reset(&sql);
    }
    if (!rc && existing) {
        p->dialect->drop(t->wh, &sql, existing, ig_buf_cstr(&brel));
        rc = exec_sql(s, ig_buf_cstr(&sql), NULL);
    }
    ig_buf_free(&rel);
    ig_buf_free(&trel);
    ig_buf_free(&brel);
    ig_buf_free(&sql);
    free(tmp);
    free(bak);
    return rc;
}

static ig_rc mat_table(tf_thread *t, tf_node *n, ig_buf *log, int64_t *rows, ig_error *err)
{
    step_ctx s = {t, n, log, err};
    ig_rc rc = ensure_schema(&s);
    if (rc) return rc;
    const char *existing = ig__tf_relcache_get(t->p, n->schema, n->alias);
    if ((rc = begin(&s))) return rc;
    rc = run_hooks(&s, "pre-hook");
    if (!rc) rc = build_swap(&s, existing, rows);
    if (!rc) rc = run_hooks(&s, "post-hook");
    rc = finish(&s, rc);
    if (!rc) ig__tf_relcache_set(t->p, n->schema, n->alias, "table");
    return rc;
}

/* ---------------------------------------------------------- incremental */

typedef struct strlist {
    const char **v;
    size_t n;
} strlist;

static void sl_add(strlist *l, const char *s)
{
    l->v = ig_realloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n++] = s;
}

static const ig_wh_column *col_find(const ig_wh_columns *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcasecmp(c->items[i].name, name)) return &c->items[i];
    return NULL;
}

static ig_rc schema_change(step_ctx *s, const char *rel, const ig_wh_columns *tgt,
                           const ig_wh_columns *src, strlist *dest)
{
    tf_project *p = s->t->p;
    const char *mode = ig__tf_cfg_str(s->n->config, "on_schema_change", "ignore");
    strlist added = {0}, removed = {0}, changed = {0};
    for (size_t i = 0; i < src->n; i++) {
        const ig_wh_column *c = col_find(tgt, src->items[i].name);
        if (!c) sl_add(&added, src->items[i].name);
        else if (strcasecmp(c->type, src->items[i].type)) sl_add(&changed, src->items[i].name);
    }
    for (size_t i = 0; i < tgt->n; i++)
        if (!col_find(src, tgt->items[i].name)) sl_add(&removed, tgt->items[i].name);
    ig_rc rc = 0;
    bool differs = added.n || removed.n || changed.n;
    if (!strcmp(mode, "fail") && differs) {
        ig_buf d = IG_BUF_INIT;
        ig_buf_puts(&d, "new columns:");
        for (size_t i = 0; i < added.n; i++) ig_buf_printf(&d, " %s", added.v[i]);
        ig_buf_puts(&d, "; missing columns:");
        for (size_t i = 0; i < removed.n; i++) ig_buf_printf(&d, " %s", removed.v[i]);
        ig_buf_puts(&d, "; changed types:");
        for (size_t i = 0; i < changed.n; i++) ig_buf_printf(&d, " %s", changed.v[i]);
        rc = ig_err(s->err, IG_ERR_DATA,
                    "The source and target schemas on this incremental model are out of sync! (%s)",
                    ig_buf_cstr(&d));
        ig_err_hint(s->err, "set on_schema_change to append_new_columns or sync_all_columns, or "
                            "run with --full-refresh");
        ig_buf_free(&d);
    } else if (!strcmp(mode, "append_new_columns") || !strcmp(mode, "sync_all_columns")) {
        bool sync = !strcmp(mode, "sync_all_columns");
        ig_buf sql = IG_BUF_INIT;
        for (size_t i = 0; i < added.n && !rc; i++) {
            ig_buf_reset(&sql);
            p->dialect->add_column(s->t->wh, &sql, rel, added.v[i], col_find(src, added.v[i])->type);
            rc = exec_sql(s, ig_buf_cstr(&sql), NULL);
        }
        for (size_t i = 0; sync && i < removed.n && !rc; i++) {
            ig_buf_reset(&sql);
            p->dialect->drop_column(s->t->wh, &sql, rel, removed.v[i]);
            rc = exec_sql(s, ig_buf_cstr(&sql), NULL);
        }
        for (size_t i = 0; sync && i < changed.n && !rc; i++) {
            ig_buf_reset(&sql);
            p->dialect->alter_column_type(s->t->wh, &sql, rel, changed.v[i], col_find(src, changed.v[i])->type);
            rc = exec_sql(s, ig_buf_cstr(&sql), NULL);
        }
        ig_buf_free(&sql);
        if (sync)
            for (size_t i = 0; i < src->n; i++) sl_add(dest, src->items[i].name);
        else {
            for (size_t i = 0; i < tgt->n; i++) sl_add(dest, tgt->items[i].name);
            for (size_t i = 0; i < added.n; i++) sl_add(dest, added.v[i]);
        }
    } else if (strcmp(mode, "ignore") && strcmp(mode, "fail")) {
        rc = ig_err(s->err, IG_ERR_CONFIG, "on_schema_change '%s' is not one of ignore, fail, "
                                           "append_new_columns, sync_all_columns", mode);
    } else {
        for (size_t i = 0; i < tgt->n; i++) sl_add(dest, tgt->items[i].name);
    }
    free(added.v);
    free(removed.v);
    free(changed.v);
    return rc;
}

static void config_list(json_t *cfg, const char *key, strlist *out)
{
    json_t *v = json_object_get(cfg, key);
    if (json_is_string(v)) {
        /* "a, b" is a compound key written as one string */
        const char *s = json_string_value(v);
        if (!strchr(s, ',')) {
            sl_add(out, s);
            return;
        }
        for (const char *c = s; *c;) {
            while (*c == ' ' || *c == ',') c++;
            const char *e = c;
            while (*e && *e != ',') e++;
            const char *t = e;
            while (t > c && t[-1] == ' ') t--;
            if (t > c) {
                /* leaked into the config's lifetime: these strings are tiny */
                sl_add(out, ig_strndup(c, (size_t)(t - c)));
            }
            c = e;
        }
        return;
    }
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) if (json_is_string(x)) sl_add(out, json_string_value(x));
}

static ig_rc incremental_merge(step_ctx *s, const char *rel, const char *tmp_ident,
                               int64_t *rows)
{
    tf_thread *t = s->t;
    tf_project *p = t->p;
    tf_node *n = s->n;
    ig_wh_columns tgt = {0}, src = {0};
    strlist dest = {0}, keys = {0}, upd = {0}, excl = {0};
    ig_buf sql = IG_BUF_INIT, trel = IG_BUF_INIT;
    ig_wh_quote_ident(t->wh, &trel, tmp_ident);
    char *body = body_sql(n);
        p->dialect->create_table_as(t->wh, &sql, ig_buf_cstr(&trel), body, true);
        free(body);
    ig_rc rc = exec_sql(s, ig_buf_cstr(&sql), NULL);
    if (!rc) rc = ig__tf_columns(t, n->schema, n->alias, &tgt, s->err);
    if (!rc) rc = p->dialect->get_columns(t->wh, "temp", NULL, tmp_ident, &src, s->err);
    if (!rc) rc = schema_change(s, rel, &tgt, &src, &dest);
    const char *strategy = ig__tf_cfg_str(n->config, "incremental_strategy", NULL);
    config_list(n->config, "unique_key", &keys);
    if (!strategy) strategy = keys.n ? "delete+insert" : "append";
    if (!rc) {
        ig_buf_reset(&sql);
        if (!strcmp(strategy, "append")) {
            p->dialect->insert_select(t->wh, &sql, rel, ig_buf_cstr(&trel), dest.v, dest.n);
        } else if (!strcmp(strategy, "delete+insert")) {
            if (!keys.n) {
                rc = ig_err(s->err, IG_ERR_CONFIG, "incremental_strategy 'delete+insert' needs a unique_key");
            } else p->dialect->delete_insert(t->wh, &sql, rel, ig_buf_cstr(&trel), keys.v, keys.n, dest.v, dest.n);
        } else if (!strcmp(strategy, "merge")) {
            config_list(n->config, "merge_update_columns", &upd);
            config_list(n->config, "merge_exclude_columns", &excl);
            if (!upd.n)
                for (size_t i = 0; i < dest.n; i++) {
                    bool ex = false;
                    for (size_t k = 0; k < excl.n && !ex; k++) ex = !strcasecmp(excl.v[k], dest.v[i]);
                    if (!ex) sl_add(&upd, dest.v[i]);
                }
            p->dialect->merge(t->wh, &sql, rel, ig_buf_cstr(&trel), keys.v, keys.n, dest.v, dest.n, upd.v, upd.n);
        } else {
            rc = ig_err(s->err, IG_ERR_CONFIG,
                        "incremental_strategy '%s' is not supported: use append, delete+insert or merge",
                        strategy);
        }
        if (!rc) rc = exec_sql(s, ig_buf_cstr(&sql), rows);
    }
    if (!rc) {
        ig_buf_reset(&sql);
        ig_buf_printf(&sql, "drop table if exists %s", ig_buf_cstr(&trel));
        rc = exec_sql(s, ig_buf_cstr(&sql), NULL);
    }
    ig_wh_columns_free(&tgt);
    ig_wh_columns_free(&src);
    free(dest.v);
    free(keys.v);
    free(upd.v);
    free(excl.v);
    ig_buf_free(&sql);
    ig_buf_free(&trel);
    return rc;
}

static ig_rc mat_incremental(tf_thread *t, tf_node *n, ig_buf *log, int64_t *rows, ig_error *err)
{
    step_ctx s = {t, n, log, err};
    tf_project *p = t->p;
    ig_rc rc = ensure_schema(&s);
    if (rc) return rc;
    const char *existing = ig__tf_relcache_get(p, n->schema, n->alias);
    json_t *fr = json_object_get(n->config, "full_refresh");
    bool full = json_is_boolean(fr) ? json_is_true(fr) : (p->opts && p->opts->full_refresh);
    if ((rc = begin(&s))) return rc;
    rc = run_hooks(&s, "pre-hook");
    if (!rc) {
        if (!existing || full || strcmp(existing, "table")) rc = build_swap(&s, existing, rows);
        else {
            ig_buf rel = IG_BUF_INIT;
            ig__tf_node_relation(p, n, &rel);
            char *tmp = ig_asprintf("%s__dbt_tmp", n->alias);
            rc = incremental_merge(&s, ig_buf_cstr(&rel), tmp, rows);
            free(tmp);
            ig_buf_free(&rel);
        }
    }
    if (!rc) rc = run_hooks(&s, "post-hook");
    rc = finish(&s, rc);
    if (!rc) ig__tf_relcache_set(p, n->schema, n->alias, "table");
    return rc;
}

static ig_rc mat_ephemeral(tf_thread *t, tf_node *n, ig_buf *log, int64_t *rows, ig_error *err)
{
    return 0;
}

static const tf_materialization registry[] = {
    {"view", mat_view},
    {"table", mat_table},
    {"incremental", mat_incremental},
    {"ephemeral", mat_ephemeral},
};

const tf_materialization *ig__tf_materialization(const char *name)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (!strcmp(registry[i].name, name)) return &registry[i];
    return NULL;
}
