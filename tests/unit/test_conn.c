/* Unit tests for src/ingest/connectors: CSV helpers, globs, modes, table
 * names, schema-change detection, source configuration errors, and the sync
 * engine driven by a fake connector against an in-memory warehouse (state
 * committed with rows, the >= boundary deduplicated by key, silver). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "ingest/connectors/internal.h"
#include "project/yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void csv_fields(void **state)
{
    ig_buf b = IG_BUF_INIT, f = IG_BUF_INIT;
    ig__conn_csv_field(&b, "plain", 5);
    ig_buf_putc(&b, ',');
    ig__conn_csv_field(&b, "a,\"b\"\nc", 7);
    ig_buf_putc(&b, ',');
    ig_buf_putc(&b, ','); /* NULL */
    ig__conn_csv_field(&b, "", 0);
    ig_buf_putc(&b, '\n');
    assert_string_equal(ig_buf_cstr(&b), "plain,\"a,\"\"b\"\"\nc\",,\"\"\n");
    assert_int_equal(ig__conn_csv_get(b.data, b.len, 0, &f), 1);
    assert_string_equal(ig_buf_cstr(&f), "plain");
    assert_int_equal(ig__conn_csv_get(b.data, b.len, 1, &f), 1);
    assert_string_equal(ig_buf_cstr(&f), "a,\"b\"\nc");
    assert_int_equal(ig__conn_csv_get(b.data, b.len, 2, &f), 0);
    assert_int_equal(ig__conn_csv_get(b.data, b.len, 3, &f), 1);
    assert_string_equal(ig_buf_cstr(&f), "");
    assert_int_equal(ig__conn_csv_get(b.data, b.len, 4, &f), -1);
    ig_buf_reset(&b);
    ig__conn_hex(&b, (const unsigned char *)"\x00\xff\x10", 3);
    assert_string_equal(ig_buf_cstr(&b), "00ff10");
    ig_buf_free(&b);
    ig_buf_free(&f);
}

static void globs_modes_names(void **state)
{
    assert_true(ig_conn_glob("orders", "orders"));
    assert_true(ig_conn_glob("ord*", "orders"));
    assert_true(ig_conn_glob("*_log", "audit_log"));
    assert_true(ig_conn_glob("a?c*", "abcdef"));
    assert_false(ig_conn_glob("ord*s", "orderz"));
    assert_true(ig_conn_glob("*", ""));
    assert_int_equal(ig_conn_mode_parse("incremental_dedup"), IG_CONN_INCR_DEDUP);
    assert_int_equal(ig_conn_mode_parse("incremental_deduped_history"), IG_CONN_INCR_DEDUP);
    assert_int_equal(ig_conn_mode_parse("full_refresh_append"), IG_CONN_FULL_APPEND);
    assert_int_equal(ig_conn_mode_parse("nope"), -1);
    assert_string_equal(ig_conn_mode_name(IG_CONN_FULL_OVERWRITE), "full_refresh_overwrite");
    ig_arena *a = ig_arena_new();
    assert_string_equal(ig_conn_table_name(a, "Shop", "sales.Orders-2"), "shop__sales_orders_2");
    assert_non_null(ig_conn_find_type("mariadb"));
    assert_string_equal(ig_conn_find_type("postgresql")->type, "postgres");
    assert_null(ig_conn_find_type("oracle"));
    ig_arena_free(a);
}

static void schema_change(void **state)
{
    ig_arena *a = ig_arena_new();
    ig_conn_column cols[2] = {{.name = "id", .wh_type = "BIGINT", .source_type = "int8"},
                              {.name = "price", .wh_type = "VARCHAR", .source_type = "text"}};
    ig_conn_stream st = {.name = "t", .cols = cols, .ncols = 2};
    const char *json = ig__conn_columns_json(a, &st);
    assert_string_equal(json, "[[\"id\",\"BIGINT\"],[\"price\",\"VARCHAR\"]]");
    const char **added;
    size_t n;
    ig_error e;
    assert_int_equal(ig__conn_columns_diff(a, "[[\"id\",\"BIGINT\"]]", &st, &added, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(added[0], "price");
    assert_int_equal(ig__conn_columns_diff(a, "[[\"id\",\"BIGINT\"],[\"price\",\"INTEGER\"]]", &st,
                                           &added, &n, &e),
                     IG_ERR_DATA);
    assert_non_null(strstr(e.message, "column 'price' of stream 't' changed type"));
    ig_arena_free(a);
}

static ig_rc parse(ig_arena *a, const char *text, const char *name, ig_conn **c, ig_error *e)
{
    ig_yaml *doc;
    ig_yaml_options opt = {.interpolate_env = true};
    ig_rc rc = ig_yaml_parse(a, "ingot.yml", text, strlen(text), &opt, &doc, e);
    if (rc) return rc;
    return ig_conn_open_cfg(a, name, ig_yaml_get(doc, name), c, e);
}

static void config_errors(void **state)
{
    ig_arena *a = ig_arena_new();
    ig_conn *c;
    ig_error e;
    assert_int_equal(parse(a, "s:\n  type: postgress\n", "s", &c, &e), IG_ERR_CONFIG);
    assert_non_null(strstr(e.hint, "did you mean 'postgres'"));
    assert_int_equal(parse(a, "s:\n  type: postgres\n  host: h\n  database: d\n  user: u\n"
                              "  password: hunter2\n", "s", &c, &e), IG_ERR_CONFIG);
    assert_non_null(strstr(e.message, "is a secret"));
    assert_null(strstr(e.detail, "hunter2"));
    assert_int_equal(parse(a, "s:\n  type: postgres\n  host: h\n  user: u\n", "s", &c, &e),
                     IG_ERR_CONFIG);
    assert_non_null(strstr(e.message, "needs 'database'"));
    assert_int_equal(parse(a, "s:\n  type: mysql\n  host: h\n  database: d\n  user: u\n  prot: 1\n",
                           "s", &c, &e), IG_ERR_CONFIG);
    assert_non_null(strstr(e.message, "did you mean"));
    setenv("IG_TEST_PW", "pw", 1);
    assert_int_equal(parse(a, "s:\n  type: postgres\n  host: h\n  database: d\n  user: u\n"
                              "  password: ${IG_TEST_PW}\n", "s", &c, &e), 0);
    assert_int_equal(parse(a, "s:\n  type: rest\n  base_url: http://x\n  streams:\n    a:\n"
                              "      path: /a\n      paginator: {type: pages}\n", "s", &c, &e),
                     IG_ERR_CONFIG);
    assert_non_null(strstr(e.message, "unknown paginator type 'pages'"));
    assert_int_equal(parse(a, "s:\n  type: rest\n  base_url: http://x\n  streams:\n    a:\n"
                              "      path: /a\n      incremental: {step: fortnight}\n", "s", &c, &e),
                     IG_ERR_CONFIG);
    assert_int_equal(parse(a, "s:\n  type: rest\n  base_url: http://x\n  streams:\n    a:\n"
                              "      path: /a\n      parent: b\n", "s", &c, &e), IG_ERR_CONFIG);
    assert_non_null(strstr(e.message, "not a stream of this source"));
    ig_arena_free(a);
}

/* ---- the sync engine with a fake connector ---- */

static int fake_rows;       /* rows with ids 1..fake_rows, cursor = id / 3 */
static int fake_extra_tie;  /* an extra row written later with the boundary cursor */

static ig_rc fake_open(ig_conn *c, ig_error *err) { return IG_OK; }
static ig_rc fake_check(ig_conn *c, ig_error *err) { return IG_OK; }
static ig_rc fake_discover(ig_conn *c, ig_conn_catalog *out, ig_error *err)
{
    static ig_conn_column cols[3] = {
        {.name = "id", .wh_type = "INTEGER", .csv_type = "INTEGER", .cursor_ok = true},
        {.name = "v", .wh_type = "VARCHAR", .csv_type = "VARCHAR"},
        {.name = "c", .wh_type = "INTEGER", .csv_type = "INTEGER", .cursor_ok = true}};
    static const char *pk[1] = {"id"};
    static ig_conn_stream st = {.name = "things", .cols = cols, .ncols = 3, .pk = pk, .npk = 1};
    out->streams = &st;
    out->n = 1;
    return IG_OK;
}
static ig_rc fake_read(ig_conn *c, const ig_conn_read *rq, ig_conn_out *out, ig_error *err)
{
    long from = rq->cursor_value ? atol(rq->cursor_value) : 0;
    char line[64], cur[32] = "";
    int n = fake_rows + (fake_extra_tie ? 1 : 0);
    for (int i = 1; i <= n; i++) {
        int id = i <= fake_rows ? i : 1000, cv = i <= fake_rows ? i / 3 : fake_extra_tie;
        if (cv < from) continue;
        int len = snprintf(line, sizeof line, "%d,v%d,%d\n", id, id, cv);
        ig_rc rc = ig_conn_out_record(out, line, (size_t)len, err);
        if (rc) return rc;
        snprintf(cur, sizeof cur, "%d", cv);
        if (ig_conn_out_full(out) && (rc = ig_conn_out_checkpoint(out, cur, NULL, err))) return rc;
    }
    return ig_conn_out_checkpoint(out, cur[0] ? cur : NULL, NULL, err);
}
static const ig_conn_vtable fake_vt = {"fake", "test", NULL, NULL, fake_open, fake_check,
                                       fake_discover, fake_read, NULL, NULL};

static int64_t qint(ig_wh *wh, const char *sql)
{
    int64_t v = -1;
    ig_error e;
    if (ig_wh_query_int(wh, sql, &v, &e)) fail_msg("%s: %s", sql, e.message);
    return v;
}

static void sync_engine(void **state)
{
    char dir[] = "/tmp/ingot-test-conn.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    ig_arena *a = ig_arena_new();
    ig_error e;
    ig_wh *wh;
    assert_int_equal(ig_wh_open(&(ig_wh_options){.path = ":memory:"}, &wh, &e), 0);
    ig_yaml *doc;
    const char *y = "src:\n  type: fake\n  streams:\n    things:\n      mode: incremental_dedup\n"
                    "      cursor: c\n";
    assert_int_equal(ig_yaml_parse(a, "ingot.yml", y, strlen(y), NULL, &doc, &e), 0);
    ig_conn c = {.vt = &fake_vt, .name = "src", .cfg = ig_yaml_get(doc, "src"), .arena = a};
    ig_conn_sync_opts opt = {.batch_rows = 4, .quiet = true};
    ig_conn_sync_result res;
    fake_rows = 20;
    fake_extra_tie = 0;
    if (ig_conn_sync(&c, wh, &opt, &res, &e)) fail_msg("%s", e.message);
    assert_int_equal(res.rows, 20);
    assert_true(res.batches >= 5);
    assert_int_equal(qint(wh, "SELECT count(*) FROM bronze.src__things"), 20);
    assert_int_equal(qint(wh, "SELECT cursor_value::INT FROM ingot.connector_state"), 6);
    /* again: the boundary rows (c = 6) are read again but not loaded twice;
     * a row written later with the same cursor value is loaded */
    fake_extra_tie = 6;
    if (ig_conn_sync(&c, wh, &opt, &res, &e)) fail_msg("%s", e.message);
    assert_int_equal(qint(wh, "SELECT count(*) FROM bronze.src__things"), 21);
    assert_int_equal(qint(wh, "SELECT count(*) FROM silver.src__things"), 21);
    assert_int_equal(qint(wh, "SELECT count(*) FROM ingot.loads WHERE source = 'src' AND "
                              "status = 'loaded'"),
                     qint(wh, "SELECT count(*) FROM ingot.connector_batches"));
    /* a full refresh starts over */
    opt.full_refresh = true;
    if (ig_conn_sync(&c, wh, &opt, &res, &e)) fail_msg("%s", e.message);
    assert_int_equal(qint(wh, "SELECT count(*) FROM bronze.src__things"), 21);
    ig_wh_close(wh);
    ig_arena_free(a);
    assert_int_equal(chdir(cwd), 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_fields),
        cmocka_unit_test(globs_modes_names),
        cmocka_unit_test(schema_change),
        cmocka_unit_test(config_errors),
        cmocka_unit_test(sync_engine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
