/* Unit tests for src/core: errors, arena, buffers, strings, files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void error_codes(void **state)
{
    ig_error e;
    assert_int_equal(ig_err(&e, IG_ERR_CONFIG, "bad %s", "key"), IG_ERR_CONFIG);
    assert_string_equal(e.message, "bad key");
    assert_string_equal(ig_errcode_name(IG_ERR_CONFIG), "config");
    assert_int_equal(ig_errcode_exit(IG_ERR_USAGE), 2);
    assert_int_equal(ig_errcode_http(IG_ERR_AUTH), 401);
    assert_string_equal(ig_errcode_sqlstate(IG_ERR_LOCKED), "55006");
    ig_err_prefix(&e, "loading %s", "x.yml");
    assert_string_equal(e.message, "loading x.yml: bad key");
    /* an out-of-range code maps to internal, never crashes */
    assert_int_equal(ig_errcode_exit(9999), 70);
    assert_int_equal(ig_err(NULL, IG_ERR_IO, "ignored"), IG_ERR_IO);
}

static void error_print(void **state)
{
    ig_error e;
    ig_err(&e, IG_ERR_CONFIG, "unknown key 'warehous'");
    ig_err_at(&e, "ingot.yml", 3, 1);
    ig_err_detail(&e, "line one\nline two");
    ig_err_hint(&e, "did you mean 'warehouse'?");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ig_error_print(&e, f);
    fclose(f);
    assert_string_equal(buf, "error: ingot.yml:3:1: unknown key 'warehous'\n  line one\n  line two\n"
                             "hint: did you mean 'warehouse'?\n");
    free(buf);
}

static void cleanup_counter(void *p) { (*(int *)p)++; }

static void arena(void **state)
{
    ig_arena *a = ig_arena_new();
    int cleaned = 0;
    char *s = ig_arena_strdup(a, "hello");
    assert_string_equal(s, "hello");
    assert_string_equal(ig_arena_printf(a, "%d-%s", 42, "x"), "42-x");
    ig_arena_on_free(a, cleanup_counter, &cleaned);
    /* many small and one big allocation, all aligned and writable */
    for (int i = 0; i < 10000; i++) {
        char *p = ig_arena_alloc(a, (size_t)(i % 50) + 1);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, 'x', (size_t)(i % 50) + 1);
    }
    char *big = ig_arena_zalloc(a, 1 << 20);
    assert_int_equal(big[12345], 0);
    ig_arena_reset(a);
    assert_int_equal(cleaned, 1);
    assert_int_equal(ig_arena_used(a), 0);
    assert_string_equal(ig_arena_strdup(a, "again"), "again");
    ig_arena_free(a);
    assert_int_equal(cleaned, 1);
}

static void buffers(void **state)
{
    ig_buf b = IG_BUF_INIT;
    assert_string_equal(ig_buf_cstr(&b), "");
    for (int i = 0; i < 1000; i++) assert_int_equal(ig_buf_printf(&b, "%d,", i), 0);
    assert_true(ig_str_starts(b.data, "0,1,2,"));
    assert_true(ig_str_ends(b.data, "998,999,"));
    ig_buf_free(&b);
    /* a capped buffer refuses growth past the cap and keeps what it had */
    ig_buf c;
    ig_buf_init(&c, 8);
    assert_int_equal(ig_buf_puts(&c, "12345678"), 0);
    assert_int_equal(ig_buf_puts(&c, "9"), -1);
    assert_string_equal(ig_buf_cstr(&c), "12345678");
    char *owned = ig_buf_steal(&c);
    assert_string_equal(owned, "12345678");
    free(owned);
    ig_buf_free(&c);
}

static void suggestions(void **state)
{
    const char *cmds[] = {"init", "validate", "query", "demo", "version", "help"};
    assert_string_equal(ig_str_suggest("qeury", cmds, 6), "query");
    assert_string_equal(ig_str_suggest("valdate", cmds, 6), "validate");
    assert_string_equal(ig_str_suggest("valid", cmds, 6), "validate");
    assert_null(ig_str_suggest("transmogrify", cmds, 6));
    assert_int_equal(ig_str_distance("abc", "acb"), 1);
    assert_int_equal(ig_str_distance("", "abc"), 3);
}

static void json_quote(void **state)
{
    ig_buf b = IG_BUF_INIT;
    ig_json_quote(&b, "a\"b\\c\nd\x01");
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\nd\\u0001\"");
    ig_buf_free(&b);
}

static void utf8(void **state)
{
    assert_int_equal(ig_utf8_width("abc", 3), 3);
    assert_int_equal(ig_utf8_width("héllo", strlen("héllo")), 5);
    assert_int_equal(ig_utf8_width("日本", strlen("日本")), 4);
    assert_int_equal(ig_utf8_fit("日本語", strlen("日本語"), 5), 6); /* two chars fit in 5 cols */
    assert_true(ig_utf8_valid("héllo", strlen("héllo")));
    assert_false(ig_utf8_valid("\xff\xfe", 2));
    assert_false(ig_utf8_valid("\xc0\xaf", 2)); /* overlong */
    assert_false(ig_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
}

static void numbers(void **state)
{
    long l;
    double d;
    assert_true(ig_parse_long("42", &l));
    assert_int_equal(l, 42);
    assert_false(ig_parse_long("42x", &l));
    assert_false(ig_parse_long("", &l));
    assert_false(ig_parse_long("99999999999999999999999", &l));
    assert_true(ig_parse_double("1.5e3", &d));
    assert_true(d == 1500.0);
}

static void files(void **state)
{
    char dir[] = "/tmp/ingot-test-core.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *sub = ig_path_join(dir, "a/b/c");
    ig_error e;
    assert_int_equal(ig_fs_mkdirs(sub, &e), 0);
    assert_true(ig_fs_is_dir(sub));
    char *file = ig_path_join(sub, "f.txt");
    assert_int_equal(ig_fs_write_atomic(file, "data\n", 5, 0644, &e), 0);
    char *got;
    size_t len;
    assert_int_equal(ig_fs_read(file, 0, &got, &len, &e), 0);
    assert_int_equal(len, 5);
    assert_string_equal(got, "data\n");
    free(got);
    /* the cap is enforced */
    assert_int_equal(ig_fs_read(file, 3, &got, &len, &e), IG_ERR_LIMIT);
    /* a missing file is NOT_FOUND, a directory is IO */
    char *missing = ig_path_join(dir, "nope");
    assert_int_equal(ig_fs_read(missing, 0, &got, &len, &e), IG_ERR_NOT_FOUND);
    assert_int_equal(ig_fs_read(dir, 0, &got, &len, &e), IG_ERR_IO);
    /* a file in the way of mkdirs */
    char *under = ig_path_join(file, "x");
    assert_int_equal(ig_fs_mkdirs(under, &e), IG_ERR_IO);
    char *dn = ig_path_dirname("/a/b/c.txt");
    assert_string_equal(dn, "/a/b");
    char *j = ig_path_join("/p/", "./q");
    assert_string_equal(j, "/p/q");
    free(dn);
    free(j);
    free(under);
    free(missing);
    free(file);
    free(sub);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(error_codes), cmocka_unit_test(error_print), cmocka_unit_test(arena),
        cmocka_unit_test(buffers),     cmocka_unit_test(suggestions), cmocka_unit_test(json_quote),
        cmocka_unit_test(utf8),        cmocka_unit_test(numbers),     cmocka_unit_test(files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
