/* Snapshots: type-2 slowly changing dimensions, with dbt's semantics row
 * for row. The first run creates the table from the snapshot's query with
 * dbt_scd_id, dbt_updated_at, dbt_valid_from and dbt_valid_to (NULL, or
 * dbt_valid_to_current); later runs build dbt's staging table (insertions,
 * updates, deletes and, for hard_deletes: new_record, deletion records)
 * against the current rows of the snapshot, close the changed rows
 * (dbt_valid_to) and insert the new versions, in one transaction.
 *
 * Strategies: timestamp (updated_at column; a row changed when its
 * updated_at is after the current version's dbt_valid_from) and check
 * (check_cols: all or a list; a row changed when a checked column differs,
 * NULLs included; the time is the snapshot's run time unless updated_at is
 * set). unique_key is one column or a list. The meta column names can be
 * renamed with snapshot_meta_column_names. Every time this invocation
 * records is one instant (p->snapshot_us), as dbt's snapshot_get_time. */
#include "transform/tf_int.h"

#include "core/mem.h"
#include "core/str.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------ blocks */

ig_rc ig__tf_snapshot_blocks(const char *file, const char *src, size_t len,
                             ig_rc (*fn)(void *ud, const char *name, char *body, size_t blen,
                                         ig_error *err),
                             void *ud, ig_error *err)
{
    const char *p = src, *end = src + len;
    while (p < end) {
        const char *o = strstr(p, "{%");
        if (!o || o >= end) break;
        const char *q = o + 2;
        if (*q == '-') q++;
        while (q < end && isspace((unsigned char)*q)) q++;
        if (strncmp(q, "snapshot", 8) || !isspace((unsigned char)q[8])) {
            p = o + 2;
            continue;
        }
        q += 8;
        while (q < end && isspace((unsigned char)*q)) q++;
        const char *nm = q;
        while (q < end && (isalnum((unsigned char)*q) || *q == '_')) q++;
        size_t nl = (size_t)(q - nm);
        const char *close = strstr(q, "%}");
        if (!nl || !close) {
            int line = 1;
            for (const char *c = src; c < o; c++) line += *c == '\n';
            ig_err(err, IG_ERR_TEMPLATE, "%s:%d: a snapshot block starts {%% snapshot name %%}", file, line);
            ig_err_hint(err, "name the snapshot: {%% snapshot orders_snapshot %%} ... {%% endsnapshot %%}");
            return IG_ERR_TEMPLATE;
        }
        const char *body = close + 2;
        const char *stop = NULL, *after = NULL;
        for (const char *s = body; (s = strstr(s, "{%")); s += 2) {
            const char *r = s + 2;
            if (*r == '-') r++;
            while (isspace((unsigned char)*r)) r++;
            if (!strncmp(r, "endsnapshot", 11)) {
                stop = s;
                const char *c2 = strstr(r, "%}");
                after = c2 ? c2 + 2 : r + 11;
                break;
            }
        }
        if (!stop) {
            ig_err(err, IG_ERR_TEMPLATE, "%s: snapshot '%.*s' has no {%% endsnapshot %%}", file, (int)nl, nm);
            ig_err_hint(err, "close the block with {%% endsnapshot %%}");
            return IG_ERR_TEMPLATE;
        }
        /* keep line numbers: blank everything before the body, newlines kept */
        size_t pre = (size_t)(body - src), blen = pre + (size_t)(stop - body);
        char *text = ig_malloc(blen + 1);
        for (size_t i = 0; i < pre; i++) text[i] = src[i] == '\n' ? '\n' : ' ';
        memcpy(text + pre, body, (size_t)(stop - body));
        text[blen] = 0;
        char *name = ig_strndup(nm, nl);
        ig_rc rc = fn(ud, name, text, blen, err);
        free(name);
        free(text);
        if (rc) return rc;
        p = after;
    }
    return 0;
}

/* -------------------------------------------------------------- run */

typedef struct snap {
    tf_thread *t;
    tf_node *n;
    const char *scd, *upd, *vf, *vt, *del; /* meta column names */
    const char *current;                   /* dbt_valid_to_current SQL, or NULL */
    const char **keys;
    size_t nkeys;
    bool list_key; /* unique_key given as a list */
    const char *strategy, *updated_at, *hard_deletes;
    const char **check;
    size_t ncheck;
    char now[64]; /* 'YYYY-MM-DD HH:MM:SS.ffffff'::timestamp */
    char **cols;  /* the source query's columns */
    char **types;
    size_t ncols;
} snap;

static const char *meta_name(tf_node *n, const char *key, const char *dflt)
{
    json_t *m = json_object_get(n->config, "snapshot_meta_column_names");
    json_t *v = json_is_object(m) ? json_object_get(m, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : dflt;
}

static ig_rc config_error(tf_node *n, ig_error *err, const char *msg, const char *hint)
{
    ig_err(err, IG_ERR_CONFIG, "snapshot %s (%s): %s", n->name, n->original_file_path, msg);
    ig_err_hint(err, "%s", hint);
    return IG_ERR_CONFIG;
}

static ig_rc read_config(snap *s, ig_error *err)
{
    tf_node *n = s->n;
    s->scd = meta_name(n, "dbt_scd_id", "dbt_scd_id");
    s->upd = meta_name(n, "dbt_updated_at", "dbt_updated_at");
    s->vf = meta_name(n, "dbt_valid_from", "dbt_valid_from");
    s->vt = meta_name(n, "dbt_valid_to", "dbt_valid_to");
    s->del = meta_name(n, "dbt_is_deleted", "dbt_is_deleted");
    json_t *cur = json_object_get(n->config, "dbt_valid_to_current");
    s->current = json_is_string(cur) && json_string_length(cur) ? json_string_value(cur) : NULL;
    s->strategy = ig__tf_cfg_str(n->config, "strategy", NULL);
    if (!s->strategy)
        return config_error(n, err, "no strategy", "set strategy='timestamp' (with updated_at) or strategy='check' (with check_cols) in its config");
    if (strcmp(s->strategy, "timestamp") && strcmp(s->strategy, "check"))
        return config_error(n, err, "unknown strategy", "strategy is 'timestamp' or 'check'");
    s->updated_at = ig__tf_cfg_str(n->config, "updated_at", NULL);
    if (!strcmp(s->strategy, "timestamp") && !s->updated_at)
        return config_error(n, err, "the timestamp strategy needs updated_at", "set updated_at to the column that says when a row last changed");
    json_t *uk = json_object_get(n->config, "unique_key");
    if (json_is_string(uk)) {
        s->keys = ig_calloc(1, sizeof *s->keys);
        s->keys[s->nkeys++] = json_string_value(uk);
    } else if (json_is_array(uk) && json_array_size(uk)) {
        s->list_key = true;
        s->keys = ig_calloc(json_array_size(uk), sizeof *s->keys);
        size_t i;
        json_t *x;
        json_array_foreach(uk, i, x) if (json_is_string(x)) s->keys[s->nkeys++] = json_string_value(x);
    }
    if (!s->nkeys)
        return config_error(n, err, "no unique_key", "set unique_key to the column (or list of columns) that identifies a row");
    const char *hd = ig__tf_cfg_str(n->config, "hard_deletes", NULL);
    if (!hd) hd = ig__tf_cfg_bool(n->config, "invalidate_hard_deletes", false) ? "invalidate" : "ignore";
    if (strcmp(hd, "ignore") && strcmp(hd, "invalidate") && strcmp(hd, "new_record"))
        return config_error(n, err, "unknown hard_deletes", "hard_deletes is 'ignore', 'invalidate' or 'new_record'");
    s->hard_deletes = hd;
    if (!strcmp(s->strategy, "check")) {
        json_t *cc = json_object_get(n->config, "check_cols");
        if (json_is_string(cc) && !strcmp(json_string_value(cc), "all")) {
            s->check = ig_calloc(s->ncols + 1, sizeof *s->check);
            for (size_t i = 0; i < s->ncols; i++) s->check[s->ncheck++] = s->cols[i];
        } else if (json_is_array(cc) && json_array_size(cc)) {
            s->check = ig_calloc(json_array_size(cc), sizeof *s->check);
            size_t i;
            json_t *x;
            json_array_foreach(cc, i, x) if (json_is_string(x)) s->check[s->ncheck++] = json_string_value(x);
        } else
            return config_error(n, err, "the check strategy needs check_cols", "set check_cols to 'all' or a list of columns");
    }
    return 0;
}

static bool new_record(const snap *s) { return !strcmp(s->hard_deletes, "new_record"); }
static bool track_deletes(const snap *s) { return strcmp(s->hard_deletes, "ignore") != 0; }

/* the updated_at expression of the strategy, in the source's scope */
static const char *upd_expr(const snap *s)
{
    return s->updated_at ? s->updated_at : s->now;
}

static void hash_args(ig_buf *b, const snap *s, const char *prefix, const char *last)
{
    ig_buf_puts(b, "md5(");
    for (size_t i = 0; i < s->nkeys; i++)
        ig_buf_printf(b, "coalesce(cast(%s%s as varchar ), '') || '|' || ", prefix, s->keys[i]);
    ig_buf_printf(b, "coalesce(cast(%s as varchar ), ''))", last);
}

static void uk_fields(ig_buf *b, const snap *s)
{
    for (size_t i = 0; i < s->nkeys; i++) {
        if (s->list_key) ig_buf_printf(b, ", %s as dbt_unique_key_%zu", s->keys[i], i + 1);
        else ig_buf_printf(b, ", %s as dbt_unique_key", s->keys[i]);
    }
}

static void uk_join(ig_buf *b, const snap *s, const char *a, const char *c)
{
    for (size_t i = 0; i < s->nkeys; i++) {
        if (i) ig_buf_puts(b, " and ");
        if (s->list_key) ig_buf_printf(b, "%s.dbt_unique_key_%zu = %s.dbt_unique_key_%zu", a, i + 1, c, i + 1);
        else ig_buf_printf(b, "%s.dbt_unique_key = %s.dbt_unique_key", a, c);
    }
}

static void uk_null(ig_buf *b, const snap *s, const char *rel)
{
    ig_buf_printf(b, "%s.dbt_unique_key%s is null", rel, s->list_key ? "_1" : "");
}

static void row_changed(ig_buf *b, const snap *s)
{
    if (!strcmp(s->strategy, "timestamp")) {
        ig_buf_printf(b, "(snapshotted_data.%s < source_data.%s)", s->vf, s->updated_at);
        return;
    }
    ig_buf_putc(b, '(');
    for (size_t i = 0; i < s->ncheck; i++) {
        const char *c = s->check[i];
        if (i) ig_buf_puts(b, "\n        or\n        ");
        ig_buf_printf(b,
                      "snapshotted_data.%s != source_data.%s\n        or\n        (\n"
                      "            ((snapshotted_data.%s is null) and not (source_data.%s is null))\n"
                      "            or\n            ((not snapshotted_data.%s is null) and (source_data.%s is null))\n        )",
                      c, c, c, c, c, c);
    }
    ig_buf_putc(b, ')');
}

static void valid_to_current(ig_buf *b, const snap *s, const char *rel)
{
    if (s->current) ig_buf_printf(b, "(%s%s%s = %s or %s%s%s is null)", rel, *rel ? "." : "", s->vt, s->current, rel, *rel ? "." : "", s->vt);
    else ig_buf_printf(b, "%s%s%s is null", rel, *rel ? "." : "", s->vt);
}

static void build_staging(ig_buf *b, const snap *s, const char *target, const char *src)
{
    const char *upd = upd_expr(s);
    const char *cur = s->current ? s->current : NULL;
    ig_buf_printf(b, "with snapshot_query as (\n\n    %s\n\n),\n\nsnapshotted_data as (\n\n    select *", src);
    uk_fields(b, s);
    ig_buf_printf(b, "\n    from %s\n    where ", target);
    valid_to_current(b, s, "");
    ig_buf_puts(b, "\n\n),\n\ninsertions_source_data as (\n\n    select *");
    uk_fields(b, s);
    ig_buf_printf(b, ",\n        %s as %s,\n        %s as %s,\n", upd, s->upd, upd, s->vf);
    if (cur) ig_buf_printf(b, "        coalesce(nullif(%s, %s), %s) as %s,\n", upd, upd, cur, s->vt);
    else ig_buf_printf(b, "        nullif(%s, %s) as %s,\n", upd, upd, s->vt);
    ig_buf_puts(b, "        ");
    hash_args(b, s, "", upd);
    ig_buf_printf(b, " as %s\n\n    from snapshot_query\n),\n\nupdates_source_data as (\n\n    select *", s->scd);
    uk_fields(b, s);
    ig_buf_printf(b, ",\n        %s as %s,\n        %s as %s,\n        %s as %s\n\n    from snapshot_query\n),\n\n",
                  upd, s->upd, upd, s->vf, upd, s->vt);
    if (track_deletes(s)) {
        ig_buf_puts(b, "deletes_source_data as (\n\n    select *");
        uk_fields(b, s);
        ig_buf_puts(b, "\n    from snapshot_query\n),\n\n");
    }
    ig_buf_puts(b, "insertions as (\n\n    select\n        'insert' as dbt_change_type,\n        source_data.*");
    if (new_record(s)) ig_buf_printf(b, ",\n        'False' as %s", s->del);
    ig_buf_puts(b, "\n\n    from insertions_source_data as source_data\n    left outer join snapshotted_data\n        on ");
    uk_join(b, s, "snapshotted_data", "source_data");
    ig_buf_puts(b, "\n    where ");
    uk_null(b, s, "snapshotted_data");
    ig_buf_puts(b, "\n        or (");
    ig_buf_puts(b, "not ");
    uk_null(b, s, "snapshotted_data");
    ig_buf_puts(b, " and (\n           ");
    row_changed(b, s);
    if (new_record(s)) ig_buf_printf(b, " or snapshotted_data.%s = 'True'", s->del);
    ig_buf_puts(b, "\n        )\n    )\n\n),\n\nupdates as (\n\n    select\n        'update' as dbt_change_type,\n        source_data.*,\n");
    ig_buf_printf(b, "        snapshotted_data.%s", s->scd);
    if (new_record(s)) ig_buf_printf(b, ",\n        snapshotted_data.%s", s->del);
    ig_buf_puts(b, "\n\n    from updates_source_data as source_data\n    join snapshotted_data\n        on ");
    uk_join(b, s, "snapshotted_data", "source_data");
    ig_buf_puts(b, "\n    where (\n        ");
    row_changed(b, s);
    ig_buf_puts(b, "\n    )");
    if (new_record(s)) ig_buf_printf(b, " or snapshotted_data.%s = 'True'", s->del);
    ig_buf_puts(b, "\n)");
    if (track_deletes(s)) {
        ig_buf_printf(b, ",\n\ndeletes as (\n\n    select\n        'delete' as dbt_change_type,\n        source_data.*,\n"
                         "        %s as %s,\n        %s as %s,\n        %s as %s,\n        snapshotted_data.%s",
                      s->now, s->upd, s->now, s->vf, s->now, s->vt, s->scd);
        if (new_record(s)) ig_buf_printf(b, ",\n        snapshotted_data.%s", s->del);
        ig_buf_puts(b, "\n\n    from snapshotted_data\n    left join deletes_source_data as source_data\n        on ");
        uk_join(b, s, "snapshotted_data", "source_data");
        ig_buf_puts(b, "\n    where ");
        uk_null(b, s, "source_data");
        if (new_record(s)) ig_buf_printf(b, "\n      and not (snapshotted_data.%s = 'True')", s->del);
        ig_buf_puts(b, "\n)");
    }
    if (new_record(s)) {
        ig_buf_puts(b, ",\n\ndeletion_records as (\n\n    select\n        'insert' as dbt_change_type,\n");
        for (size_t i = 0; i < s->ncols; i++) ig_buf_printf(b, "        snapshotted_data.%s,\n", s->cols[i]);
        for (size_t i = 0; i < s->nkeys; i++) {
            if (s->list_key) ig_buf_printf(b, "        snapshotted_data.dbt_unique_key_%zu,\n", i + 1);
            else ig_buf_puts(b, "        snapshotted_data.dbt_unique_key,\n");
        }
        ig_buf_printf(b, "        %s as %s,\n        %s as %s,\n        snapshotted_data.%s as %s,\n        ",
                      s->now, s->upd, s->now, s->vf, s->vt, s->vt);
        hash_args(b, s, "snapshotted_data.", s->now);
        ig_buf_printf(b, " as %s,\n        'True' as %s\n    from snapshotted_data\n"
                         "    left join deletes_source_data as source_data\n        on ",
                      s->scd, s->del);
        uk_join(b, s, "snapshotted_data", "source_data");
        ig_buf_puts(b, "\n    where ");
        uk_null(b, s, "source_data");
        ig_buf_printf(b, "\n      and not (snapshotted_data.%s = 'True')\n)", s->del);
    }
    ig_buf_puts(b, "\n\nselect * from insertions\nunion all\nselect * from updates");
    if (track_deletes(s)) ig_buf_puts(b, "\nunion all\nselect * from deletes");
    if (new_record(s)) ig_buf_puts(b, "\nunion all\nselect * from deletion_records");
}

static ig_rc source_columns(snap *s, const char *src, ig_error *err)
{
    char *q = ig_asprintf("select * from (\n%s\n) as dbt_sbq limit 0", src);
    ig_wh_cursor *c;
    ig_rc rc = ig_wh_query(s->t->wh, q, &c, err);
    free(q);
    if (rc) return rc;
    size_t n = ig_wh_cursor_ncols(c);
    s->cols = ig_calloc(n + 1, sizeof *s->cols);
    s->types = ig_calloc(n + 1, sizeof *s->types);
    for (size_t i = 0; i < n; i++) {
        s->cols[i] = ig_strdup(ig_wh_cursor_colname(c, i));
        const char *ty = ig_wh_cursor_coltype_name(c, i);
        s->types[i] = ig_strdup(ty ? ty : "VARCHAR");
    }
    s->ncols = n;
    ig_wh_cursor_close(c);
    return 0;
}

static void snap_free(snap *s)
{
    for (size_t i = 0; i < s->ncols; i++) {
        free(s->cols[i]);
        free(s->types[i]);
    }
    free(s->cols);
    free(s->types);
    free(s->keys);
    free(s->check);
}

static bool has_col(const ig_wh_columns *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcasecmp(c->items[i].name, name)) return true;
    return false;
}

static ig_rc update_existing(snap *s, const char *rel, const char *src, ig_buf *log, int64_t *rows,
                             ig_error *err)
{
    tf_thread *t = s->t;
    tf_node *n = s->n;
    tf_project *p = t->p;
    ig_wh_columns have = {0};
    ig_rc rc = p->dialect->get_columns(t->wh, n->database, n->schema, n->alias, &have, err);
    if (rc) return rc;
    /* columns the query gained since the snapshot was made */
    for (size_t i = 0; i < s->ncols && !rc; i++) {
        if (has_col(&have, s->cols[i])) continue;
        char *q = ig_asprintf("alter table %s add column %s %s", rel, s->cols[i], s->types[i]);
        rc = ig__tf_exec(t, log, q, NULL, err);
        free(q);
    }
    if (!rc && new_record(s) && !has_col(&have, s->del)) {
        char *q = ig_asprintf("alter table %s add column %s varchar", rel, s->del);
        rc = ig__tf_exec(t, log, q, NULL, err);
        free(q);
    }
    ig_wh_columns_free(&have);
    if (rc) return rc;
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s__dbt_tmp", n->alias);
    ig_buf qt = IG_BUF_INIT;
    ig_wh_quote_ident(t->wh, &qt, tmp);
    ig_buf b = IG_BUF_INIT;
    ig_buf_printf(&b, "create or replace temporary table %s as (\n", ig_buf_cstr(&qt));
    build_staging(&b, s, rel, src);
    ig_buf_puts(&b, "\n)");
    rc = ig__tf_exec(t, log, ig_buf_cstr(&b), NULL, err);
    ig_buf_reset(&b);
    if (!rc) {
        ig_buf_printf(&b,
                      "update %s as DBT_INTERNAL_TARGET\n    set %s = DBT_INTERNAL_SOURCE.%s\n"
                      "    from %s as DBT_INTERNAL_SOURCE\n"
                      "    where DBT_INTERNAL_SOURCE.%s::text = DBT_INTERNAL_TARGET.%s::text\n"
                      "      and DBT_INTERNAL_SOURCE.dbt_change_type::text in ('update', 'delete')\n      and ",
                      rel, s->vt, s->vt, ig_buf_cstr(&qt), s->scd, s->scd);
        valid_to_current(&b, s, "DBT_INTERNAL_TARGET");
        int64_t upd = 0;
        rc = ig__tf_exec(t, log, ig_buf_cstr(&b), &upd, err);
        ig_buf_reset(&b);
        if (!rc) {
            ig_buf cols = IG_BUF_INIT;
            for (size_t i = 0; i < s->ncols; i++) ig_buf_printf(&cols, "%s, ", s->cols[i]);
            ig_buf_printf(&cols, "%s, %s, %s, %s", s->scd, s->upd, s->vf, s->vt);
            if (new_record(s)) ig_buf_printf(&cols, ", %s", s->del);
            ig_buf_printf(&b, "insert into %s (%s)\n    select %s\n    from %s as DBT_INTERNAL_SOURCE\n"
                              "    where DBT_INTERNAL_SOURCE.dbt_change_type::text = 'insert'",
                          rel, ig_buf_cstr(&cols), ig_buf_cstr(&cols), ig_buf_cstr(&qt));
            ig_buf_free(&cols);
            int64_t ins = 0;
            rc = ig__tf_exec(t, log, ig_buf_cstr(&b), &ins, err);
            *rows = upd + ins;
        }
        ig_buf_reset(&b);
        ig_buf_printf(&b, "drop table if exists %s", ig_buf_cstr(&qt));
        ig_error e2;
        if (!rc) rc = ig__tf_exec(t, log, ig_buf_cstr(&b), NULL, err);
        else ig__tf_exec(t, NULL, ig_buf_cstr(&b), NULL, &e2);
    }
    ig_buf_free(&b);
    ig_buf_free(&qt);
    return rc;
}

ig_rc ig__tf_snapshot_run(tf_thread *t, tf_node *n, ig_buf *log, tf_outcome *o, ig_error *err)
{
    tf_project *p = t->p;
    snap s;
    memset(&s, 0, sizeof s);
    s.t = t;
    s.n = n;
    time_t secs = (time_t)(p->snapshot_us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(s.now, sizeof s.now, "'%04d-%02d-%02d %02d:%02d:%02d.%06d'::timestamp", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(p->snapshot_us % 1000000));
    char *src = ig__tf_body_sql(n);
    char *rel = ig__tf_relation_str(p, n);
    ig_rc rc = ig__tf_ensure_schema(t, n->database, n->schema, err);
    if (!rc) rc = source_columns(&s, src, err);
    if (rc) o->sql_error = true;
    if (!rc) rc = read_config(&s, err);
    bool exists = !rc && ig__tf_relcache_get(p, n->schema, n->alias) != NULL;
    if (!rc) rc = ig_wh_begin(t->wh, err);
    if (!rc) {
        o->sql_error = true;
        if (!exists) {
            ig_buf b = IG_BUF_INIT;
            const char *upd = upd_expr(&s);
            ig_buf_printf(&b, "create table %s as (\n    select *,\n        ", rel);
            hash_args(&b, &s, "", upd);
            ig_buf_printf(&b, " as %s,\n        %s as %s,\n        %s as %s,\n", s.scd, upd, s.upd, upd, s.vf);
            if (s.current) ig_buf_printf(&b, "        coalesce(nullif(%s, %s), %s) as %s", upd, upd, s.current, s.vt);
            else ig_buf_printf(&b, "        nullif(%s, %s) as %s", upd, upd, s.vt);
            if (new_record(&s)) ig_buf_printf(&b, ",\n        'False' as %s", s.del);
            ig_buf_printf(&b, "\n    from (\n%s\n    ) sbq\n)", src);
            rc = ig__tf_exec(t, log, ig_buf_cstr(&b), NULL, err);
            ig_buf_free(&b);
            if (!rc) {
                char *q = ig_asprintf("select count(*) from %s", rel);
                rc = ig__tf_exec(t, NULL, q, &o->rows, err);
                free(q);
            }
        } else rc = update_existing(&s, rel, src, log, &o->rows, err);
        if (!rc) rc = ig_wh_commit(t->wh, err);
        else ig_wh_rollback(t->wh);
        if (!rc && !exists) ig__tf_relcache_set(p, n->schema, n->alias, "table");
    }
    snap_free(&s);
    free(src);
    free(rel);
    o->status = rc ? IG_TF_ERROR : IG_TF_SUCCESS;
    return rc;
}
