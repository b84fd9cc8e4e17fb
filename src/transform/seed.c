/* Seeds: a CSV file of the seed paths loaded into a table named after it
 * (ref()-able like a model). The warehouse reads the file itself
 * (read_csv: header, the seed's `delimiter`, types detected as agate would
 * and overridden per column by `column_types`), and the table is replaced in
 * one transaction on every load, so a file whose columns or types changed
 * reloads cleanly — dbt needs --full-refresh for that; ingot does the full
 * refresh whenever the file changed shape, which is the same table. */
#include "transform/tf_int.h"

#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

ig_rc ig__tf_seed_run(tf_thread *t, tf_node *n, ig_buf *log, tf_outcome *o, ig_error *err)
{
    tf_project *p = t->p;
    ig_rc rc = ig__tf_ensure_schema(t, n->database, n->schema, err);
    if (rc) {
        o->sql_error = true;
        return rc;
    }
    const char *delim = ig__tf_cfg_str(n->config, "delimiter", ",");
    json_t *types = json_object_get(n->config, "column_types");
    char *rel = ig__tf_relation_str(p, n);
    ig_buf b = IG_BUF_INIT;
    ig_buf_printf(&b, "create or replace table %s as select * from read_csv(", rel);
    ig_wh_quote_literal(t->wh, &b, n->abs_path);
    ig_buf_puts(&b, ", header = true, auto_detect = true, delim = ");
    ig_wh_quote_literal(t->wh, &b, delim);
    if (json_is_object(types) && json_object_size(types)) {
        ig_buf_puts(&b, ", types = {");
        const char *k;
        json_t *v;
        bool first = true;
        json_object_foreach(types, k, v) {
            if (!json_is_string(v)) continue;
            if (!first) ig_buf_puts(&b, ", ");
            ig_wh_quote_literal(t->wh, &b, k);
            ig_buf_puts(&b, ": ");
            ig_wh_quote_literal(t->wh, &b, json_string_value(v));
            first = false;
        }
        ig_buf_putc(&b, '}');
    }
    ig_buf_putc(&b, ')');
    rc = ig_wh_begin(t->wh, err);
    if (!rc) rc = ig__tf_exec(t, log, ig_buf_cstr(&b), NULL, err);
    if (!rc) rc = ig_wh_commit(t->wh, err);
    else ig_wh_rollback(t->wh);
    ig_buf_free(&b);
    if (!rc) {
        ig__tf_relcache_set(p, n->schema, n->alias, "table");
        char *q = ig_asprintf("select count(*) from %s", rel);
        rc = ig__tf_exec(t, NULL, q, &o->rows, err);
        free(q);
    }
    free(rel);
    if (rc) {
        o->sql_error = true;
        if (strstr(err->message, "CSV") || strstr(err->message, "csv"))
            ig_err_hint(err, "check the file's delimiter (+delimiter) and its column_types");
    }
    o->status = rc ? IG_TF_ERROR : IG_TF_SUCCESS;
    return rc;
}
