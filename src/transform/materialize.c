/* Materializations: what turns a compiled model into a relation. A
 * materialization is a vtable entry in a registry (view, table,
 * incremental, ephemeral); the SQL of each step comes from the warehouse's
 * dialect. Every materialization runs in one transaction with the model's
 * pre- and post-hooks, so a failure leaves the old relation as it was
 * (hooks with transaction: false run before BEGIN / after COMMIT):
 *
 *   view         create or replace view (a table of that name is dropped first)
 *   table        create <name>__dbt_tmp as (sql); rename the old relation to
 *                <name>__dbt_backup; rename the new one in; drop the backup
 *   incremental  first run, --full-refresh or a view in the way: as table.
 *                Otherwise a temporary table of the new rows, on_schema_change
 *                (ignore, fail, append_new_columns, sync_all_columns), then the
 *                strategy: append, delete+insert or merge on unique_key (with
 *                incremental_predicates), insert_overwrite (partition_by),
 *                microbatch (an event_time window)
 *   ephemeral    nothing: the model is a CTE of its children
 *
 * A project's own {% materialization %} of a name wins over these: the
 * dispatcher at the end calls its macro with the model's context. */
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

/* Run the model's hooks of one kind that belong on one side of the
 * transaction, as dbt orders them: pre-hooks with `transaction: false`
 * (before_begin) before BEGIN, the others inside it; post-hooks inside
 * it, then those with `transaction: false` (after_commit) after COMMIT.
 * A hook is a string or {sql, transaction}. */
static ig_rc run_hooks(step_ctx *s, const char *key, bool in_txn)
{
    json_t *hooks = json_object_get(s->n->config, key);
    size_t i;
    json_t *h;
    json_array_foreach(hooks, i, h) {
        bool txn = true;
        if (json_is_object(h)) {
            txn = !json_is_false(json_object_get(h, "transaction"));
            h = json_object_get(h, "sql");
        }
        if (!json_is_string(h) || txn != in_txn) continue;
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
    if ((rc = run_hooks(&s, "pre-hook", false)) || (rc = begin(&s))) goto out;
    rc = run_hooks(&s, "pre-hook", true);
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
    if (!rc) rc = run_hooks(&s, "post-hook", true);
    rc = finish(&s, rc);
    if (!rc) ig__tf_relcache_set(p, n->schema, n->alias, "view");
    if (!rc) rc = run_hooks(&s, "post-hook", false);
out:
    ig_buf_free(&rel);
    ig_buf_free(&sql);
    return rc;
}

/* ---------------------------------------------------------------- table */

/* Build the table under a temporary name and swap it in; inside the
 * caller's transaction. */
static ig_rc build_swap(step_ctx *s, const char *existing, const char *body_override, int64_t *rows)
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
        char *body = body_override ? ig_strdup(body_override) : body_sql(n);
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
    if ((rc = run_hooks(&s, "pre-hook", false)) || (rc = begin(&s))) return rc;
    rc = run_hooks(&s, "pre-hook", true);
    if (!rc) rc = build_swap(&s, existing, NULL, rows);
    if (!rc) rc = run_hooks(&s, "post-hook", true);
    rc = finish(&s, rc);
    if (!rc) ig__tf_relcache_set(t->p, n->schema, n->alias, "table");
    if (!rc) rc = run_hooks(&s, "post-hook", false);
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

/* ------------------------------------------------ microbatch windows */

/* The rows of a microbatch model the run rebuilds: event_time in
 * [start, end). The first run (and --full-refresh) starts at `begin`;
 * later runs at the start of the current batch minus `lookback` batches
 * (default 1). The end is the end of the current batch. Batches are whole
 * hours, days, months or years (batch_size). dbt runs one query per batch;
 * we run one over their union, which gives the same rows. */
static ig_rc microbatch_where(step_ctx *s, bool first, ig_buf *out)
{
    json_t *cfg = s->n->config;
    const char *et = ig__tf_cfg_str(cfg, "event_time", NULL);
    const char *bs = ig__tf_cfg_str(cfg, "batch_size", NULL);
    const char *begin = ig__tf_cfg_str(cfg, "begin", NULL);
    if (!et || !bs || !begin)
        return ig_err(s->err, IG_ERR_CONFIG,
                      "a microbatch model needs event_time, batch_size and begin in its config "
                      "(missing: %s)", !et ? "event_time" : !bs ? "batch_size" : "begin");
    if (strcmp(bs, "hour") && strcmp(bs, "day") && strcmp(bs, "month") && strcmp(bs, "year"))
        return ig_err(s->err, IG_ERR_CONFIG,
                      "batch_size '%s' is not one of hour, day, month, year", bs);
    json_t *lb = json_object_get(cfg, "lookback");
    long long lookback = json_is_integer(lb) ? (long long)json_integer_value(lb) : 1;
    if (lookback < 0) lookback = 0;
    for (const char *c = begin; *c; c++)
        if (!strchr("0123456789-: T", *c))
            return ig_err(s->err, IG_ERR_CONFIG,
                          "begin '%s' is not a date or timestamp (write it as YYYY-MM-DD)", begin);
    ig_buf col = IG_BUF_INIT;
    ig_wh_quote_ident(s->t->wh, &col, et);
    if (first) ig_buf_printf(out, "%s >= timestamp '%s'", ig_buf_cstr(&col), begin);
    else
        ig_buf_printf(out, "%s >= date_trunc('%s', now()::timestamp) - interval (%lld) %s",
                      ig_buf_cstr(&col), bs, lookback, bs);
    ig_buf_printf(out, " and %s < date_trunc('%s', now()::timestamp) + interval 1 %s",
                  ig_buf_cstr(&col), bs, bs);
    ig_buf_free(&col);
    return 0;
}

/* incremental_predicates: extra conditions (on DBT_INTERNAL_DEST and
 * DBT_INTERNAL_SOURCE) that narrow the delete of delete+insert and the
 * match of merge, so the warehouse scans less of the target. */
static void and_predicates(ig_buf *b, const strlist *preds)
{
    for (size_t i = 0; i < preds->n; i++) ig_buf_printf(b, "(%s) and ", preds->v[i]);
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
    const char *strategy = ig__tf_cfg_str(n->config, "incremental_strategy", NULL);
    config_list(n->config, "unique_key", &keys);
    if (!strategy) strategy = keys.n ? "delete+insert" : "append";
    bool micro = !strcmp(strategy, "microbatch");
    ig_buf window = IG_BUF_INIT;
    ig_rc rc = micro ? microbatch_where(s, false, &window) : 0;
    char *body = body_sql(n);
    if (micro && !rc) {
        char *f = ig_asprintf("select * from (\n%s\n) as DBT_MICROBATCH where %s", body,
                              ig_buf_cstr(&window));
        free(body);
        body = f;
    }
    p->dialect->create_table_as(t->wh, &sql, ig_buf_cstr(&trel), body, true);
    free(body);
    if (!rc) rc = exec_sql(s, ig_buf_cstr(&sql), NULL);
    if (!rc) rc = ig__tf_columns(t, n->schema, n->alias, &tgt, s->err);
    if (!rc) rc = p->dialect->get_columns(t->wh, "temp", NULL, tmp_ident, &src, s->err);
    if (!rc) rc = schema_change(s, rel, &tgt, &src, &dest);
    strlist preds = {0}, parts = {0};
    config_list(n->config, "incremental_predicates", &preds);
    if (!rc) {
        ig_buf_reset(&sql);
        if (!strcmp(strategy, "append")) {
            p->dialect->insert_select(t->wh, &sql, rel, ig_buf_cstr(&trel), dest.v, dest.n);
        } else if (!strcmp(strategy, "delete+insert") && preds.n && keys.n) {
            /* the dialect's delete+insert, with the predicates in its delete */
            ig_buf_printf(&sql, "delete from %s as DBT_INTERNAL_DEST\nwhere ", rel);
            and_predicates(&sql, &preds);
            ig_buf_puts(&sql, "exists (select 1 from ");
            ig_buf_printf(&sql, "%s as DBT_INTERNAL_SOURCE where ", ig_buf_cstr(&trel));
            for (size_t i = 0; i < keys.n; i++) {
                if (i) ig_buf_puts(&sql, " and ");
                ig_buf_puts(&sql, "DBT_INTERNAL_SOURCE.");
                ig_wh_quote_ident(t->wh, &sql, keys.v[i]);
                ig_buf_puts(&sql, " = DBT_INTERNAL_DEST.");
                ig_wh_quote_ident(t->wh, &sql, keys.v[i]);
            }
            ig_buf_puts(&sql, ");\n");
            p->dialect->insert_select(t->wh, &sql, rel, ig_buf_cstr(&trel), dest.v, dest.n);
        } else if (!strcmp(strategy, "delete+insert")) {
            if (!keys.n) {
                rc = ig_err(s->err, IG_ERR_CONFIG, "incremental_strategy 'delete+insert' needs a unique_key");
                ig_err_hint(s->err, "set unique_key in the model's config, or use incremental_strategy='append'");
            } else p->dialect->delete_insert(t->wh, &sql, rel, ig_buf_cstr(&trel), keys.v, keys.n, dest.v, dest.n);
        } else if (!strcmp(strategy, "insert_overwrite") || micro) {
            /* replace what the new rows cover: their partitions (partition_by),
             * the microbatch window, or with neither the whole table */
            json_t *pb = json_object_get(n->config, "partition_by");
            if (json_is_object(pb)) {
                json_t *f = json_object_get(pb, "field");
                if (json_is_string(f)) sl_add(&parts, json_string_value(f));
            } else config_list(n->config, "partition_by", &parts);
            ig_buf_printf(&sql, "delete from %s", rel);
            if (micro) ig_buf_printf(&sql, " where %s", ig_buf_cstr(&window));
            else if (parts.n) {
                ig_buf_puts(&sql, " where (");
                for (size_t i = 0; i < parts.n; i++) {
                    if (i) ig_buf_puts(&sql, ", ");
                    ig_wh_quote_ident(t->wh, &sql, parts.v[i]);
                }
                ig_buf_puts(&sql, ") in (select distinct ");
                for (size_t i = 0; i < parts.n; i++) {
                    if (i) ig_buf_puts(&sql, ", ");
                    ig_wh_quote_ident(t->wh, &sql, parts.v[i]);
                }
                ig_buf_printf(&sql, " from %s)", ig_buf_cstr(&trel));
            }
            ig_buf_puts(&sql, ";\n");
            p->dialect->insert_select(t->wh, &sql, rel, ig_buf_cstr(&trel), dest.v, dest.n);
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
            const char *on = preds.n ? strstr(ig_buf_cstr(&sql), "\non ") : NULL;
            if (on) { /* merge ... on (predicates) and (keys) */
                ig_buf m = IG_BUF_INIT;
                size_t at = (size_t)(on - sql.data) + 4;
                ig_buf_append(&m, sql.data, at);
                and_predicates(&m, &preds);
                ig_buf_append(&m, sql.data + at, sql.len - at);
                ig_buf_free(&sql);
                sql = m;
            }
        } else {
            rc = ig_err(s->err, IG_ERR_CONFIG,
                        "incremental_strategy '%s' is not supported: use append, delete+insert, "
                        "merge, insert_overwrite or microbatch",
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
    free(preds.v);
    free(parts.v);
    ig_buf_free(&window);
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
    if ((rc = run_hooks(&s, "pre-hook", false)) || (rc = begin(&s))) return rc;
    rc = run_hooks(&s, "pre-hook", true);
    if (!rc) {
        if (!existing || full || strcmp(existing, "table")) {
            const char *strategy = ig__tf_cfg_str(n->config, "incremental_strategy", "");
            char *body = NULL;
            if (!strcmp(strategy, "microbatch")) { /* from begin */
                ig_buf w = IG_BUF_INIT;
                rc = microbatch_where(&s, true, &w);
                char *inner = body_sql(n);
                body = ig_asprintf("select * from (\n%s\n) as DBT_MICROBATCH where %s", inner,
                                   ig_buf_cstr(&w));
                free(inner);
                ig_buf_free(&w);
            }
            if (!rc) rc = build_swap(&s, existing, body, rows);
            free(body);
        } else {
            ig_buf rel = IG_BUF_INIT;
            ig__tf_node_relation(p, n, &rel);
            char *tmp = ig_asprintf("%s__dbt_tmp", n->alias);
            rc = incremental_merge(&s, ig_buf_cstr(&rel), tmp, rows);
            free(tmp);
            ig_buf_free(&rel);
        }
    }
    if (!rc) rc = run_hooks(&s, "post-hook", true);
    rc = finish(&s, rc);
    if (!rc) ig__tf_relcache_set(p, n->schema, n->alias, "table");
    if (!rc) rc = run_hooks(&s, "post-hook", false);
    return rc;
}

static ig_rc mat_ephemeral(tf_thread *t, tf_node *n, ig_buf *log, int64_t *rows, ig_error *err)
{
    return 0;
}

/* ------------------------------------------- a project's materializations */

/* pre_hooks / post_hooks as dbt's materializations see them: a list of
 * {sql (rendered), transaction, index}, for the run_hooks() macro. */
static ig_rc hooks_val(step_ctx *s, const char *key, ig_tmpl_val *out)
{
    *out = ig_tmpl_list_new();
    json_t *hooks = json_object_get(s->n->config, key);
    size_t i;
    json_t *h;
    json_array_foreach(hooks, i, h) {
        bool txn = true;
        if (json_is_object(h)) {
            txn = !json_is_false(json_object_get(h, "transaction"));
            h = json_object_get(h, "sql");
        }
        if (!json_is_string(h)) continue;
        ig_buf sql = IG_BUF_INIT;
        ig_rc rc = ig__tf_render_text(s->t, key, json_string_value(h), &sql, s->err);
        if (rc) {
            ig__tf_err_node(s->err, s->n, "Compilation Error in hook");
            ig_buf_free(&sql);
            return rc;
        }
        ig_tmpl_val d = ig_tmpl_dict_new();
        ig_tmpl_dict_set(d, "sql", ig_tmpl_strn(ig_buf_cstr(&sql), sql.len));
        ig_tmpl_dict_set(d, "transaction", ig_tmpl_bool(txn));
        ig_tmpl_dict_set(d, "index", ig_tmpl_int((int64_t)i));
        ig_tmpl_list_append(*out, d);
        ig_buf_free(&sql);
    }
    return 0;
}

/* Run the project's `{% materialization name, adapter='duckdb' %}` (or
 * `default`) block, which parse.c turned into the macro
 * materialization_<name>_<adapter>. It runs with the model's context (this,
 * sql, config, adapter, statement, load_result, run_hooks) plus pre_hooks
 * and post_hooks, does its own statements (each commits unless the block
 * opens a transaction), and must end with return({'relations': [...]}), as
 * dbt requires; the relations it names go in the relation cache. */
static ig_rc mat_project(tf_thread *t, tf_node *n, const tf_macro *m, const char *mname,
                         ig_buf *log, ig_error *err)
{
    step_ctx s = {t, n, log, err};
    ig_rc rc = ensure_schema(&s);
    if (rc) return rc;
    ig_tmpl_val ctx = ig_tmpl_dict_new(), pre, post, out = ig_tmpl_undefined();
    rc = hooks_val(&s, "pre-hook", &pre); /* sets pre even when it fails */
    ig_tmpl_dict_set(ctx, "pre_hooks", pre);
    if (!rc) {
        rc = hooks_val(&s, "post-hook", &post);
        ig_tmpl_dict_set(ctx, "post_hooks", post);
    }
    if (rc) {
        ig_tmpl_unref(ctx);
        return rc;
    }
    ig_tmpl_val macro = ig_tmpl_macro_get(m->tmpl, mname);
    ig_tmpl_args none = {0};
    uint64_t t0 = ig_now_ns(), c0 = ig__tf_cpu_ns();
    rc = ig_tmpl_call_value(t->env, macro, ctx, &none, &out, err);
    t->db_ns += ig_now_ns() - t0; /* the block's time is mostly its statements */
    t->db_cpu_ns += ig__tf_cpu_ns() - c0;
    ig_tmpl_unref(macro);
    ig_tmpl_unref(ctx);
    if (rc) {
        ig_wh_rollback(t->wh); /* a transaction the block left open */
        ig__tf_err_node(err, n, "Compilation Error in materialization");
        ig_tmpl_unref(out);
        return rc;
    }
    ig_buf_printf(log, "-- materialization %s of the project (%s)", n->materialized, m->path);
    ig_tmpl_val rels = ig_tmpl_dict_get(out, "relations");
    if (rels.type != IG_TMPL_LIST) {
        ig_tmpl_unref(out);
        rc = ig_err(err, IG_ERR_TEMPLATE,
                    "materialization '%s' (%s) did not return the relations it built",
                    n->materialized, m->path);
        ig_err_hint(err, "end the materialization with {{ return({'relations': [target_relation]}) }}");
        return rc;
    }
    for (size_t i = 0; i < ig_tmpl_list_len(rels); i++) {
        tf_relation *r = ig_tmpl_object_self(ig_tmpl_list_get(rels, i), &ig__tf_relation_class);
        if (r && r->identifier)
            ig__tf_relcache_set(t->p, r->schema ? r->schema : n->schema, r->identifier,
                                r->type && !strcmp(r->type, "view") ? "view" : "table");
    }
    ig_tmpl_unref(out);
    return 0;
}

/* The project's materialization macro for name, if it defines one:
 * materialization_<name>_duckdb first, then _default (dbt's order). */
static const tf_macro *project_materialization(tf_project *p, const char *name, char *mname,
                                               size_t cap)
{
    static const char *const adapters[] = {"duckdb", "default"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(mname, cap, "materialization_%s_%s", name, adapters[i]);
        const tf_macro *m = ig__tf_find_macro(p, NULL, mname);
        if (m) return m;
    }
    return NULL;
}

static const tf_materialization registry[] = {
    {"view", mat_view},
    {"table", mat_table},
    {"incremental", mat_incremental},
    {"ephemeral", mat_ephemeral},
};

/* Every model goes through here: a project's own materialization of that
 * name wins over the built-in one, as in dbt. */
static ig_rc mat_dispatch(tf_thread *t, tf_node *n, ig_buf *log, int64_t *rows, ig_error *err)
{
    const char *name = n->materialized ? n->materialized : "view";
    char mname[300];
    const tf_macro *m = strcmp(name, "ephemeral") ? project_materialization(t->p, name, mname, sizeof mname) : NULL;
    if (m) return mat_project(t, n, m, mname, log, err);
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (!strcmp(registry[i].name, name)) return registry[i].run(t, n, log, rows, err);
    ig_rc rc = ig_err(err, IG_ERR_CONFIG, "unknown materialization '%s' in model %s (%s)", name,
                      n->name, n->original_file_path);
    ig_err_hint(err, "use view, table, incremental or ephemeral, or define it with "
                     "{%% materialization %s, default %%} in macros/", name);
    return rc;
}

static const tf_materialization dispatcher = {"*", mat_dispatch};

const tf_materialization *ig__tf_materialization(const char *name)
{
    (void)name; /* resolved per model, once the project's macros are known */
    return &dispatcher;
}
