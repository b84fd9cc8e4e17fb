/* Unit tests for the lake's raw zone (src/lake/) and the progress reporter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/fs.h"
#include "core/progress.h"
#include "lake/lake.h"
#include "warehouse/runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/ingot-test-lake.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static void test_names(void **state)
{
    assert_true(ig_lake_name_valid("shop"));
    assert_true(ig_lake_name_valid("_x9"));
    assert_false(ig_lake_name_valid("Shop"));
    assert_false(ig_lake_name_valid("9a"));
    assert_false(ig_lake_name_valid("a-b"));
    assert_false(ig_lake_name_valid(""));
    char out[64];
    ig_lake_name_from("Orders 2024 (v2)", out, sizeof out);
    assert_string_equal(out, "orders_2024_v2");
    ig_lake_name_from("2024-sales", out, sizeof out);
    assert_string_equal(out, "s_2024_sales");
    ig_lake_name_from("!!!", out, sizeof out);
    assert_string_equal(out, "stream");
}

static void test_ids_sort(void **state)
{
    char a[40], b[40];
    ig_wh_new_id(a, sizeof a);
    usleep(2);
    ig_wh_new_id(b, sizeof b);
    assert_int_equal(strlen(a), 30);
    assert_true(strcmp(a, b) < 0);
}

static ig_wh *open_wh(void)
{
    ig_wh *wh;
    ig_error e;
    assert_int_equal(ig_wh_open(&(ig_wh_options){.path = ":memory:"}, &wh, &e), 0);
    return wh;
}

static ig_rc load_ok(void *ctx, ig_wh *wh, const ig_lake_manifest *m, ig_lake_load_result *res,
                     ig_error *err)
{
    int *calls = ctx;
    (*calls)++;
    res->rows_accepted = 2;
    res->relation = strdup("bronze.s__t");
    return ig_wh_exec(wh, "CREATE TABLE IF NOT EXISTS bronze.s__t (x INT); INSERT INTO bronze.s__t VALUES (1), (2)", err);
}

static ig_rc load_fail(void *ctx, ig_wh *wh, const ig_lake_manifest *m, ig_lake_load_result *res,
                       ig_error *err)
{
    ig_wh_exec(wh, "CREATE TABLE bronze.s__bad (x INT)", err);
    return ig_err(err, IG_ERR_DATA, "nope");
}

static void test_land_commit_pending(void **state)
{
    ig_error e;
    ig_lake *lake;
    assert_int_equal(ig_lake_open(dir, &lake, &e), 0);
    ig_wh *wh = open_wh();
    ig_lake_batch *b;
    assert_int_equal(ig_lake_batch_begin(lake, "s", "t", "some/dir/Data file ü.csv", &b, &e), 0);
    assert_int_equal(ig_lake_batch_write(b, "abc", 3, &e), 0);
    ig_lake_manifest *m;
    assert_int_equal(ig_lake_batch_land(b, "csv", "{\"format\":\"csv\"}", "{\"cursor\":42}", &m, &e), 0);
    assert_string_equal(ig_lake_batch_sha256(b),
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_non_null(strstr(m->raw_path, "-Data_file_ü.csv"));
    assert_true(ig_fs_exists(m->raw_path));
    assert_true(ig_fs_exists(m->manifest_path));
    m = ig_lake_batch_take_manifest(b);
    ig_lake_batch_free(b);

    /* landed, not loaded: pending */
    ig_lake_manifest **ms;
    size_t n;
    assert_int_equal(ig_lake_pending(lake, wh, NULL, false, &ms, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ms[0]->batch_id, m->batch_id);
    assert_non_null(strstr(ms[0]->state_json, "42"));
    ig_lake_manifests_free(ms, n);

    /* a failing load leaves nothing and records 'failed' */
    assert_int_not_equal(ig_lake_commit(lake, wh, m, load_fail, NULL, NULL, &e), 0);
    assert_false(ig_wh_relation_exists(wh, "bronze", "s__bad"));
    assert_string_equal(m->status, "failed");
    assert_int_equal(ig_lake_pending(lake, wh, NULL, false, &ms, &n, &e), 0);
    assert_int_equal(n, 0);
    ig_lake_manifests_free(ms, n);

    /* a good load: rows, loads row and state in one commit */
    int calls = 0;
    assert_int_equal(ig_lake_commit(lake, wh, m, load_ok, &calls, NULL, &e), 0);
    assert_int_equal(calls, 1);
    int64_t v;
    assert_int_equal(ig_wh_query_int(wh, "SELECT count(*) FROM ingot.loads WHERE status = 'loaded'", &v, &e), 0);
    assert_int_equal(v, 1);
    char *st;
    assert_int_equal(ig_lake_state_get(wh, "s", "t", "cursor", &st, &e), 0);
    assert_string_equal(st, "42");
    free(st);
    bool found;
    char id[40];
    assert_int_equal(ig_lake_find_loaded(wh, "s", "t", m->sha256, &found, id, &e), 0);
    assert_true(found);
    assert_string_equal(id, m->batch_id);

    /* a crash before the manifest: rebuilt; a stale temp file: removed */
    char *dtdir = strdup(m->raw_path);
    *strrchr(dtdir, '/') = '\0';
    char p[512];
    snprintf(p, sizeof p, "%s/20200101T000000000000-deadbeef-orphan.csv", dtdir);
    ig_fs_write_atomic(p, "x,y\n", 4, 0644, &e);
    snprintf(p, sizeof p, "%s/.20200101T000000000001-deadbeef-half.csv.tmp", dtdir);
    ig_fs_write_atomic(p, "x", 1, 0644, &e);
    assert_int_equal(ig_lake_pending(lake, wh, "s", false, &ms, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ms[0]->batch_id, "20200101T000000000000-deadbeef");
    assert_int_equal(ms[0]->bytes, 4);
    assert_string_equal(ms[0]->format, "csv");
    assert_false(ig_fs_exists(p));
    snprintf(p, sizeof p, "%s/20200101T000000000000-deadbeef.manifest.json", dtdir);
    assert_true(ig_fs_exists(p));
    ig_lake_manifests_free(ms, n);
    free(dtdir);
    ig_lake_manifest_free(m);
    ig_wh_close(wh);
    ig_lake_close(lake);
}

static void test_manifest_roundtrip(void **state)
{
    ig_error e;
    ig_lake *lake;
    assert_int_equal(ig_lake_open(dir, &lake, &e), 0);
    ig_lake_batch *b;
    assert_int_equal(ig_lake_batch_begin(lake, "r", "t", "x.ndjson", &b, &e), 0);
    ig_lake_batch_set_origin(b, "https://example.com/x.ndjson", 10, 1700000000000000);
    assert_int_equal(ig_lake_batch_write(b, "{}\n", 3, &e), 0);
    ig_lake_manifest *m;
    assert_int_equal(ig_lake_batch_land(b, "ndjson", NULL, NULL, &m, &e), 0);
    ig_lake_manifest *r;
    assert_int_equal(ig_lake_manifest_read(m->manifest_path, &r, &e), 0);
    assert_string_equal(r->batch_id, m->batch_id);
    assert_string_equal(r->raw_path, m->raw_path);
    assert_string_equal(r->source_uri, "https://example.com/x.ndjson");
    assert_int_equal(r->source_mtime_us, 1700000000000000);
    assert_int_equal(r->received_us / 1000, m->received_us / 1000);
    assert_string_equal(r->format, "ndjson");
    assert_string_equal(r->status, "landed");
    ig_lake_manifest_free(r);
    ig_lake_batch_free(b);
    /* not a manifest */
    char p[256];
    snprintf(p, sizeof p, "%s/bad.json", dir);
    ig_fs_write_atomic(p, "{\"batch_id\": 1}", 15, 0644, &e);
    assert_int_equal(ig_lake_manifest_read(p, &r, &e), IG_ERR_DATA);
    ig_lake_close(lake);
}

static int sink_calls;
static void sink(void *ctx, const ig_progress_result *r)
{
    sink_calls++;
    assert_string_equal(r->status, "ok");
    assert_int_equal(r->rows, 7);
}

static void test_progress(void **state)
{
    char b[32];
    ig_format_bytes(1500000, b, sizeof b);
    assert_string_equal(b, "1.50 MB");
    ig_format_count(1234567, b, sizeof b);
    assert_string_equal(b, "1,234,567");
    ig_format_eta(3725, b, sizeof b);
    assert_string_equal(b, "1:02:05");
    ig_progress *p = ig_progress_start(&(ig_progress_opts){.kind = "t", .name = "n", .tty = 0,
                                                            .quiet = true, .sink = sink});
    ig_progress_add(p, 10, 3);
    ig_progress_add(p, 5, 4);
    assert_int_equal(ig_progress_bytes(p), 15);
    ig_progress_finish(p, "ok", 7, 15, NULL, NULL);
    assert_int_equal(sink_calls, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_ids_sort),
        cmocka_unit_test_setup_teardown(test_land_commit_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manifest_roundtrip, setup, teardown),
        cmocka_unit_test(test_progress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
