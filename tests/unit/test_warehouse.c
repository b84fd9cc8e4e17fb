/* Unit tests for the warehouse interface on the DuckDB driver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/fs.h"
#include "warehouse/warehouse.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[64];

static int setup(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ingot-test-wh.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd);
}

static ig_wh *mem(void)
{
    ig_wh *wh = NULL;
    ig_error e;
    assert_int_equal(ig_wh_open(&(ig_wh_options){.path = ":memory:"}, &wh, &e), 0);
    return wh;
}

/* the text of row 0 of a one-row query */
static void expect_row(ig_wh *wh, const char *sql, const char *const *texts, const ig_type *types,
                       size_t n)
{
    ig_wh_cursor *c;
    ig_error e;
    int rc = ig_wh_query(wh, sql, &c, &e);
    if (rc) fail_msg("%s: %s", sql, e.message);
    assert_int_equal(ig_wh_cursor_ncols(c), n);
    assert_int_equal(ig_wh_cursor_next(c, &e), 1);
    for (size_t i = 0; i < n; i++) {
        const ig_value *v = ig_wh_cursor_value(c, i);
        if (!texts[i]) {
            assert_true(v->is_null);
            continue;
        }
        assert_false(v->is_null);
        if (strcmp(v->text, texts[i])) fail_msg("column %zu of %s: got '%s', want '%s'", i, sql, v->text, texts[i]);
        if (types && v->type != types[i]) fail_msg("column %zu of %s: type %d, want %d", i, sql, v->type, types[i]);
    }
    assert_int_equal(ig_wh_cursor_next(c, &e), 0);
    ig_wh_cursor_close(c);
}

static void types(void **state)
{
    ig_wh *wh = mem();
    expect_row(wh, "select 42, -7::tinyint, 3000000000::ubigint, 18446744073709551615::ubigint, "
                   "170141183460469231731687303715884105727::hugeint",
               (const char *[]){"42", "-7", "3000000000", "18446744073709551615",
                                "170141183460469231731687303715884105727"},
               (ig_type[]){IG_T_INT, IG_T_INT, IG_T_INT, IG_T_BIGNUM, IG_T_BIGNUM}, 5);
    expect_row(wh, "select 0.1::double, 1.5::float, 12.34::decimal(10,2), -0.05::decimal(18,3), "
                   "123456789012345678901234.5::decimal(38,1)",
               (const char *[]){"0.1", "1.5", "12.34", "-0.050", "123456789012345678901234.5"},
               (ig_type[]){IG_T_DOUBLE, IG_T_DOUBLE, IG_T_DECIMAL, IG_T_DECIMAL, IG_T_DECIMAL}, 5);
    expect_row(wh, "select 'héllo', true, null::int, ''::varchar, 'a''b'",
               (const char *[]){"héllo", "true", NULL, "", "a'b"},
               (ig_type[]){IG_T_TEXT, IG_T_BOOL, IG_T_NULL, IG_T_TEXT, IG_T_TEXT}, 5);
    expect_row(wh, "select date '2024-02-29', time '13:45:01.5', timestamp '2024-01-02 03:04:05', "
                   "timestamp '2024-01-02 03:04:05.123456', interval '1 year 2 days 3 hours'",
               (const char *[]){"2024-02-29", "13:45:01.5", "2024-01-02 03:04:05",
                                "2024-01-02 03:04:05.123456", "1 year 2 days 03:00:00"},
               (ig_type[]){IG_T_DATE, IG_T_TIME, IG_T_TIMESTAMP, IG_T_TIMESTAMP, IG_T_INTERVAL}, 5);
    expect_row(wh, "select [1,2,3], {'a': 1, 'b': 'x'}, map {'k': 2}, "
                   "'6f1c2a7e-1111-4222-8333-444455556666'::uuid, 'ab\\x00'::blob",
               (const char *[]){"[1, 2, 3]", "{'a': 1, 'b': 'x'}", "{'k'=2}",
                                "6f1c2a7e-1111-4222-8333-444455556666", "ab\\x00"},
               (ig_type[]){IG_T_NESTED, IG_T_NESTED, IG_T_NESTED, IG_T_UUID, IG_T_BLOB}, 5);
    expect_row(wh, "select [[1, null], []], ['a', 'b'], [1,2]::int[2], '{\"a\":1}'::json",
               (const char *[]){"[[1, NULL], []]", "['a', 'b']", "[1, 2]", "{\"a\":1}"},
               (ig_type[]){IG_T_NESTED, IG_T_NESTED, IG_T_NESTED, IG_T_JSON}, 4);
    /* typed members */
    ig_wh_cursor *c;
    ig_error e;
    assert_int_equal(ig_wh_query(wh, "select date '1970-01-02', timestamp '1970-01-01 00:00:01', "
                                     "2.5::decimal(4,1)", &c, &e), 0);
    assert_int_equal(ig_wh_cursor_next(c, &e), 1);
    assert_int_equal(ig_wh_cursor_value(c, 0)->i, 1);
    assert_int_equal(ig_wh_cursor_value(c, 1)->i, 1000000);
    assert_true(ig_wh_cursor_value(c, 2)->d == 2.5);
    assert_string_equal(ig_wh_cursor_coltype_name(c, 2), "DECIMAL(4,1)");
    assert_string_equal(ig_wh_cursor_coltype_name(c, 0), "DATE");
    ig_wh_cursor_close(c);
    ig_wh_close(wh);
}

static void streaming(void **state)
{
    ig_wh *wh = mem();
    ig_wh_cursor *c;
    ig_error e;
    assert_int_equal(ig_wh_query(wh, "select i, 'row ' || i as label from range(1000000) t(i)", &c, &e), 0);
    assert_string_equal(ig_wh_cursor_colname(c, 1), "label");
    long n = 0, sum = 0;
    int r;
    while ((r = ig_wh_cursor_next(c, &e)) > 0) {
        sum += ig_wh_cursor_value(c, 0)->i;
        n++;
    }
    assert_int_equal(r, 0);
    assert_int_equal(n, 1000000);
    assert_int_equal(sum, 499999500000L);
    ig_wh_cursor_close(c);
    /* closing a cursor early is fine */
    assert_int_equal(ig_wh_query(wh, "select * from range(10000000)", &c, &e), 0);
    assert_int_equal(ig_wh_cursor_next(c, &e), 1);
    ig_wh_cursor_close(c);
    ig_wh_close(wh);
}

static void statements_and_errors(void **state)
{
    ig_wh *wh = mem();
    ig_error e;
    assert_int_equal(ig_wh_exec(wh, "create table t(a int, b varchar); insert into t values (1, 'x'), (2, 'y')", &e), 0);
    int64_t changed = -1;
    ig_param p[2] = {IG_P_INT(5), IG_P_TEXT("it's")};
    assert_int_equal(ig_wh_exec_params(wh, "insert into t values ($1, $2)", p, 2, &changed, &e), 0);
    assert_int_equal(changed, 1);
    char *s;
    assert_int_equal(ig_wh_query_text(wh, "select b from t where a = 5", &s, &e), 0);
    assert_string_equal(s, "it's");
    free(s);
    /* several statements: the last one's result streams */
    int64_t n;
    assert_int_equal(ig_wh_query_int(wh, "insert into t values (9, 'z'); select count(*) from t", &n, &e), 0);
    assert_int_equal(n, 4);
    /* a syntax error carries the position */
    ig_wh_cursor *c;
    assert_int_equal(ig_wh_query(wh, "select 1,\n  2 frm t", &c, &e), IG_ERR_SQL);
    assert_non_null(strstr(e.message, "syntax error"));
    assert_int_equal(e.line, 2);
    assert_int_equal(e.column, 9); /* "2 frm" is "2 AS frm"; the error is at t */
    /* a later statement's error is placed in the whole text, and DuckDB's
     * candidates and suggestions become detail and hint */
    assert_int_equal(ig_wh_exec(wh, "create table u(nope1 int, other int)", &e), 0);
    assert_int_equal(ig_wh_query(wh, "select 1;\nselect\n  nope from u;", &c, &e), IG_ERR_SQL);
    assert_int_equal(e.line, 3);
    assert_int_equal(e.column, 3);
    assert_non_null(strstr(e.detail, "Candidate bindings"));
    assert_int_equal(ig_wh_query(wh, "select 1; select nope from u", &c, &e), IG_ERR_SQL);
    assert_int_equal(e.line, 1);
    assert_int_equal(e.column, 18);
    assert_int_equal(ig_wh_query(wh, "select * from uu", &c, &e), IG_ERR_SQL);
    assert_non_null(strstr(e.hint, "Did you mean \"u\"?"));
    /* statement kinds */
    assert_int_equal(ig_wh_query(wh, "create table v(a int)", &c, &e), 0);
    assert_string_equal(ig_wh_cursor_statement(c), "CREATE");
    ig_wh_cursor_close(c);
    assert_int_equal(ig_wh_query(wh, "insert into v values (1)", &c, &e), 0);
    assert_string_equal(ig_wh_cursor_statement(c), "INSERT");
    ig_wh_cursor_close(c);
    assert_int_equal(ig_wh_exec(wh, "select * from no_such_table", &e), IG_ERR_SQL);
    assert_non_null(strstr(e.message, "no_such_table"));
    assert_int_equal(ig_wh_query(wh, "  ", &c, &e), IG_ERR_SQL);
    /* changed rows for non-queries */
    assert_int_equal(ig_wh_query(wh, "update t set b = 'q' where a < 3", &c, &e), 0);
    assert_false(ig_wh_cursor_is_query(c));
    assert_int_equal(ig_wh_cursor_rows_changed(c), 2);
    ig_wh_cursor_close(c);
    /* transactions */
    assert_int_equal(ig_wh_begin(wh, &e), 0);
    assert_int_equal(ig_wh_exec(wh, "delete from t", &e), 0);
    ig_wh_rollback(wh);
    assert_int_equal(ig_wh_query_int(wh, "select count(*) from t", &n, &e), 0);
    assert_int_equal(n, 4);
    ig_wh_close(wh);
}

static void appender_and_quoting(void **state)
{
    ig_wh *wh = mem();
    ig_error e;
    assert_int_equal(ig_wh_exec(wh, "create table bronze.\"we\"\"ird\"(i bigint, d double, s varchar, b boolean, ts timestamp)", &e), 0);
    ig_wh_appender *a;
    assert_int_equal(ig_wh_appender_open(wh, "bronze", "we\"ird", &a, &e), 0);
    for (int i = 0; i < 5000; i++) {
        ig_wh_append_int(a, i);
        ig_wh_append_double(a, i / 2.0);
        if (i % 10) ig_wh_append_text(a, "x\0y", 3);
        else ig_wh_append_null(a);
        ig_wh_append_bool(a, i % 2);
        ig_wh_append_timestamp(a, (int64_t)i * 1000000);
        assert_int_equal(ig_wh_append_end_row(a, &e), 0);
    }
    assert_int_equal(ig_wh_appender_close(a, &e), 0);
    ig_buf b = IG_BUF_INIT;
    ig_buf_puts(&b, "select count(*), count(s), sum(i) from ");
    ig_wh_quote_relation(wh, &b, "bronze", "we\"ird");
    int64_t n;
    assert_int_equal(ig_wh_query_int(wh, b.data, &n, &e), 0);
    assert_int_equal(n, 5000);
    ig_buf_reset(&b);
    ig_wh_quote_literal(wh, &b, "O'Brien; drop table x; --");
    assert_string_equal(b.data, "'O''Brien; drop table x; --'");
    ig_buf_free(&b);
    /* NUL bytes inside text survive */
    ig_wh_cursor *c;
    assert_int_equal(ig_wh_query(wh, "select s from bronze.\"we\"\"ird\" where i = 1", &c, &e), 0);
    assert_int_equal(ig_wh_cursor_next(c, &e), 1);
    assert_int_equal(ig_wh_cursor_value(c, 0)->len, 3);
    ig_wh_cursor_close(c);
    /* appending to a missing table is an error naming it */
    assert_int_equal(ig_wh_appender_open(wh, "bronze", "missing", &a, &e), IG_ERR_DATA);
    assert_non_null(strstr(e.message, "bronze.missing"));
    ig_wh_relation *rel;
    size_t nrel;
    assert_int_equal(ig_wh_list_relations(wh, "bronze", &rel, &nrel, &e), 0);
    assert_int_equal(nrel, 1);
    assert_string_equal(rel[0].name, "we\"ird");
    ig_wh_relations_free(rel, nrel);
    assert_true(ig_wh_relation_exists(wh, "ingot", "runs"));
    ig_wh_close(wh);
}

static void files_and_versions(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/w.duckdb", tmpdir);
    ig_wh *wh;
    ig_error e;
    assert_int_equal(ig_wh_open(&(ig_wh_options){.path = path}, &wh, &e), 0);
    int64_t v;
    assert_int_equal(ig_wh_query_int(wh, "select max(version) from ingot.schema_version", &v, &e), 0);
    assert_int_equal(v, ig_wh_schema_version());
    ig_wh *clone;
    assert_int_equal(ig_wh_clone(wh, &clone, &e), 0);
    assert_int_equal(ig_wh_exec(clone, "create table gold.x as select 1 as a", &e), 0);
    ig_wh_close(wh);
    int64_t a;
    assert_int_equal(ig_wh_query_int(clone, "select a from gold.x", &a, &e), 0);
    assert_int_equal(a, 1);
    /* pretend a newer ingot wrote it */
    assert_int_equal(ig_wh_exec(clone, "insert into ingot.schema_version values (999, 'future', now(), '9.0')", &e), 0);
    ig_wh_close(clone);
    assert_int_equal(ig_wh_open(&(ig_wh_options){.path = path}, &wh, &e), IG_ERR_VERSION);
    assert_non_null(strstr(e.message, "newer ingot"));
    assert_non_null(strstr(e.hint, "untouched"));

    /* not a DuckDB file */
    char bad[128];
    snprintf(bad, sizeof bad, "%s/bad.duckdb", tmpdir);
    FILE *f = fopen(bad, "w");
    for (int i = 0; i < 1000; i++) fputs("this is not a database ", f);
    fclose(f);
    assert_int_equal(ig_wh_open(&(ig_wh_options){.path = bad}, &wh, &e), IG_ERR_DATA);
    assert_non_null(strstr(e.message, "not a DuckDB warehouse file"));

    /* held by another process */
    char held[128];
    snprintf(held, sizeof held, "%s/held.duckdb", tmpdir);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        ig_wh *w2;
        if (ig_wh_open(&(ig_wh_options){.path = held}, &w2, NULL)) _exit(1);
        if (write(pfd[1], "k", 1) != 1) _exit(1);
        pause();
        _exit(0);
    }
    char k;
    assert_int_equal(read(pfd[0], &k, 1), 1);
    int rc = ig_wh_open(&(ig_wh_options){.path = held}, &wh, &e);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_int_equal(rc, IG_ERR_LOCKED);
    char pidtxt[32];
    snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
    assert_non_null(strstr(e.detail, pidtxt));
    assert_non_null(strstr(e.hint, "kill"));
    /* once it is gone, the file opens */
    assert_int_equal(ig_wh_open(&(ig_wh_options){.path = held}, &wh, &e), 0);
    ig_wh_close(wh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(types),
        cmocka_unit_test(streaming),
        cmocka_unit_test(statements_and_errors),
        cmocka_unit_test(appender_and_quoting),
        cmocka_unit_test(files_and_versions),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
