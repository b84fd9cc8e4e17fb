/* Unit tests for the SQL statement splitter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/sqlsplit.h"

#include <string.h>

static ig_sql_scan split(const char *s, ig_sql_span *sp, size_t max) { return ig_sql_split(s, strlen(s), sp, max); }

static void statements(void **state)
{
    ig_sql_span sp[8];
    const char *s = "select 1; select ';' as x;\n-- a comment; with a semicolon\nselect $$a;b$$, $t$;$t$ /* ; /* nested; */ */";
    ig_sql_scan r = split(s, sp, 8);
    assert_int_equal(r.nstatements, 3);
    assert_false(r.unterminated);
    assert_false(r.ends_with_semicolon);
    assert_int_equal(sp[0].start, 0);
    assert_int_equal(sp[0].end, 8);
    assert_memory_equal(s + sp[1].start, " select ';' as x", sp[1].end - sp[1].start);
    assert_true(strstr(s + sp[2].start, "select $$a;b$$") != NULL);
    /* empty statements and comments alone do not count */
    r = split(";; -- nothing\n ; /* x */", sp, 8);
    assert_int_equal(r.nstatements, 0);
    assert_true(r.ends_with_semicolon);
    /* doubled quotes stay inside */
    r = split("select 'it''s;' ; select \"a\"\"b;\"", sp, 8);
    assert_int_equal(r.nstatements, 2);
}

static void completeness(void **state)
{
    assert_true(split("select 1;", NULL, 0).ends_with_semicolon);
    assert_true(split("select 1; -- done\n", NULL, 0).ends_with_semicolon);
    assert_false(split("select 1", NULL, 0).ends_with_semicolon);
    assert_false(split("select ';", NULL, 0).ends_with_semicolon);
    assert_true(split("select ';", NULL, 0).unterminated);
    assert_true(split("select 1 /* ; ", NULL, 0).unterminated);
    assert_true(split("select $x$ ;", NULL, 0).unterminated);
    /* $1 parameters and identifiers with $ are not dollar quotes */
    assert_true(split("select a$b, $1;", NULL, 0).ends_with_semicolon);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(statements), cmocka_unit_test(completeness)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
