/* Helpers shared by the node kinds beyond models (seed.c, snapshot.c,
 * dtest.c, unittest.c): a statement with its warehouse time counted, the
 * schema of a node created once per run, a node's relation as a string. */
#include "transform/tf_int.h"

#include "core/clock.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

ig_rc ig__tf_exec(tf_thread *t, ig_buf *log, const char *sql, int64_t *rows, ig_error *err)
{
    if (log) {
        if (log->len) ig_buf_puts(log, ";\n\n");
        ig_buf_puts(log, sql);
    }
    uint64_t t0 = ig_now_ns(), c0 = ig__tf_cpu_ns();
    ig_wh_cursor *c;
    ig_rc rc = ig_wh_query(t->wh, sql, &c, err);
    if (!rc) {
        if (rows) {
            if (ig_wh_cursor_is_query(c)) {
                if (ig_wh_cursor_next(c, err) == 1) {
                    const ig_value *v = ig_wh_cursor_value(c, 0);
                    *rows = v->is_null ? 0 : v->i;
                }
            } else *rows = ig_wh_cursor_rows_changed(c);
        }
        ig_wh_cursor_close(c);
    }
    t->db_ns += ig_now_ns() - t0;
    t->db_cpu_ns += ig__tf_cpu_ns() - c0;
    return rc;
}

static pthread_mutex_t schema_lock = PTHREAD_MUTEX_INITIALIZER;

ig_rc ig__tf_ensure_schema(tf_thread *t, const char *database, const char *schema, ig_error *err)
{
    tf_project *p = t->p;
    pthread_mutex_lock(&schema_lock);
    ig_rc rc = 0;
    if (!ig__tf_relcache_get(p, schema, "")) {
        ig_buf b = IG_BUF_INIT;
        p->dialect->create_schema(t->wh, &b, database, schema);
        rc = ig__tf_exec(t, NULL, ig_buf_cstr(&b), NULL, err);
        ig_buf_free(&b);
        if (!rc) ig__tf_relcache_set(p, schema, "", "schema");
    }
    pthread_mutex_unlock(&schema_lock);
    return rc;
}

char *ig__tf_relation_str(tf_project *p, const tf_node *n)
{
    tf_node tmp = *n;
    tmp.materialized = "table";
    ig_buf b = IG_BUF_INIT;
    ig__tf_node_relation(p, &tmp, &b);
    return ig_buf_steal(&b);
}

char *ig__tf_body_sql(const tf_node *n)
{
    size_t len = n->compiled ? n->compiled_len : 0;
    while (len && strchr("; \n\t\r", n->compiled[len - 1])) len--;
    return ig_strndup(len ? n->compiled : "", len);
}
