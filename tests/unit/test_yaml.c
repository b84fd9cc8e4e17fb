/* Unit tests for src/project/yaml.c: positions, anchors and merges,
 * duplicate keys, ${VAR} interpolation, typed getters, syntax errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "project/yaml.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ig_arena *A;
static ig_error E;

static int setup(void **state)
{
    A = ig_arena_new();
    ig_error_clear(&E);
    return 0;
}

static int teardown(void **state)
{
    ig_arena_free(A);
    return 0;
}

/* Parse text; NULL on error (then E holds it). */
static ig_yaml *parse(const char *text, bool interp)
{
    ig_yaml_options o = {.interpolate_env = interp};
    ig_yaml *root = NULL;
    ig_error_clear(&E);
    if (ig_yaml_parse(A, "t.yml", text, strlen(text), &o, &root, &E)) return NULL;
    assert_non_null(root);
    return root;
}

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        if (!strstr((hay), (needle))) fail_msg("'%s' does not contain '%s'", (hay), (needle));     \
    } while (0)

static void positions(void **state)
{
    ig_yaml *r = parse("name: shop\n"
                       "warehouse:\n"
                       "  threads: 4\n"
                       "  list:\n"
                       "    - a\n"
                       "    - {x: 1}\n",
                       false);
    assert_non_null(r);
    assert_int_equal(r->kind, IG_Y_MAP);
    assert_int_equal(r->n, 2);
    assert_string_equal(r->keys[0]->str, "name");
    assert_int_equal(r->keys[0]->line, 1);
    assert_int_equal(r->keys[0]->column, 1);
    assert_int_equal(r->items[0]->column, 7);
    ig_yaml *w = ig_yaml_get(r, "warehouse");
    assert_int_equal(w->kind, IG_Y_MAP);
    ig_yaml *t = ig_yaml_get(w, "threads");
    assert_int_equal(t->line, 3);
    assert_int_equal(t->column, 12);
    assert_string_equal(t->file, "t.yml");
    ig_yaml *l = ig_yaml_get(w, "list");
    assert_int_equal(l->kind, IG_Y_SEQ);
    assert_int_equal(l->n, 2);
    assert_int_equal(l->items[1]->kind, IG_Y_MAP);
    assert_int_equal(l->items[1]->line, 6);
    assert_int_equal(l->items[1]->column, 7);
    assert_null(ig_yaml_get(r, "nope"));
    assert_null(ig_yaml_get(t, "x"));
    /* columns count characters, not bytes */
    r = parse("a: \"é\"\nb: ü\n", false);
    assert_int_equal(ig_yaml_get(r, "b")->column, 4);
}

static void nulls_and_quotes(void **state)
{
    ig_yaml *r = parse("a:\nb: ~\nc: null\nd: NULL\ne: ''\nf: 'null'\ng: nulls\nh: !!str null\n"
                       "i: |\n  text\n",
                       false);
    assert_non_null(r);
    for (const char *k = "abcd"; *k; k++) {
        char key[2] = {*k, 0};
        assert_int_equal(ig_yaml_get(r, key)->kind, IG_Y_NULL);
        assert_null(ig_yaml_get(r, key)->str);
    }
    ig_yaml *e = ig_yaml_get(r, "e");
    assert_int_equal(e->kind, IG_Y_SCALAR);
    assert_true(e->quoted);
    assert_string_equal(e->str, "");
    assert_string_equal(ig_yaml_get(r, "f")->str, "null");
    assert_false(ig_yaml_get(r, "g")->quoted);
    assert_int_equal(ig_yaml_get(r, "h")->kind, IG_Y_SCALAR);
    assert_string_equal(ig_yaml_get(r, "i")->str, "text\n");
    /* an empty document, and one of comments only */
    r = parse("", false);
    assert_int_equal(r->kind, IG_Y_NULL);
    r = parse("# nothing here\n\n", false);
    assert_int_equal(r->kind, IG_Y_NULL);
}

static void anchors_and_merges(void **state)
{
    ig_yaml *r = parse("base: &b\n"
                       "  type: duckdb\n"
                       "  threads: 2\n"
                       "copy: *b\n"
                       "over:\n"
                       "  <<: *b\n"
                       "  threads: 8\n"
                       "two:\n"
                       "  <<: [{x: 1}, {x: 2, y: 3}]\n"
                       "s: &s hello\n"
                       "t: *s\n",
                       false);
    assert_non_null(r);
    assert_ptr_equal(ig_yaml_get(r, "copy"), ig_yaml_get(r, "base"));
    ig_yaml *o = ig_yaml_get(r, "over");
    assert_int_equal(o->n, 2);
    assert_string_equal(ig_yaml_get(o, "threads")->str, "8"); /* explicit key wins */
    assert_string_equal(ig_yaml_get(o, "type")->str, "duckdb");
    ig_yaml *t = ig_yaml_get(r, "two");
    assert_string_equal(ig_yaml_get(t, "x")->str, "1"); /* earlier mapping wins */
    assert_string_equal(ig_yaml_get(t, "y")->str, "3");
    assert_null(ig_yaml_get(t, "<<"));
    assert_string_equal(ig_yaml_get(r, "t")->str, "hello");
    /* a quoted '<<' is an ordinary key */
    r = parse("'<<': 1\n", false);
    assert_string_equal(ig_yaml_get(r, "<<")->str, "1");
}

static void alias_errors(void **state)
{
    assert_null(parse("a: *nope\n", false));
    assert_int_equal(E.code, IG_ERR_CONFIG);
    assert_contains(E.message, "unknown alias *nope");
    assert_int_equal(E.line, 1);
    assert_int_equal(E.column, 4);
    assert_null(parse("a: &x [1, *x]\n", false));
    assert_contains(E.message, "refers to a node that contains it");
    assert_null(parse("a: {<<: 3}\n", false));
    assert_contains(E.message, "merge key");
}

static void alias_bomb(void **state)
{
    ig_buf b = IG_BUF_INIT;
    ig_buf_puts(&b, "a: &a [x,x,x,x,x,x,x,x,x,x]\n");
    for (char c = 'b'; c <= 'j'; c++)
        ig_buf_printf(&b, "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", c, c, c - 1, c - 1,
                      c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
    assert_null(parse(ig_buf_cstr(&b), false));
    assert_contains(E.message, "document too large");
    ig_buf_free(&b);
    /* deep nesting */
    ig_buf_init(&b, 0);
    for (int i = 0; i < IG_YAML_MAX_DEPTH + 5; i++)
        ig_buf_putc(&b, '[');
    assert_null(parse(ig_buf_cstr(&b), false));
    assert_contains(E.message, "nesting deeper");
    ig_buf_free(&b);
}

static void duplicate_keys(void **state)
{
    assert_null(parse("name: a\nwarehouse:\n  threads: 1\n  threads: 2\n", false));
    assert_int_equal(E.code, IG_ERR_CONFIG);
    assert_contains(E.message, "duplicate key 'warehouse.threads'");
    assert_contains(E.message, "line 3");
    assert_int_equal(E.line, 4);
    assert_int_equal(E.column, 3);
    assert_string_equal(E.file, "t.yml");
    /* many keys: the hash table path */
    ig_buf b = IG_BUF_INIT;
    for (int i = 0; i < 200; i++)
        ig_buf_printf(&b, "k%d: %d\n", i, i);
    ig_buf_puts(&b, "k7: again\n");
    assert_null(parse(ig_buf_cstr(&b), false));
    assert_contains(E.message, "duplicate key 'k7'");
    assert_int_equal(E.line, 201);
    ig_buf_free(&b);
    assert_null(parse("? [a]\n: 1\n", false));
    assert_contains(E.message, "mapping key");
}

static void syntax_errors(void **state)
{
    assert_null(parse("name: shop\nwarehouse:\n  type: duckdb\n threads: 4\n", false));
    assert_int_equal(E.code, IG_ERR_CONFIG);
    assert_contains(E.message, "YAML syntax error");
    assert_string_equal(E.file, "t.yml");
    assert_int_equal(E.line, 4);
    assert_int_equal(E.column, 2);
    assert_contains(E.detail, "4 |  threads: 4");
    assert_contains(E.detail, "  |  ^");
    assert_true(E.hint[0]);
    /* a tab */
    assert_null(parse("a:\n\tb: 1\n", false));
    assert_int_equal(E.line, 2);
    assert_contains(E.hint, "tabs");
    /* unclosed quote */
    assert_null(parse("a: \"open\nb: 1\n", false));
    assert_contains(E.message, "YAML syntax error");
    assert_int_equal(E.line, 1); /* where the quote opened, not the end of the file */
    assert_int_equal(E.column, 4);
    assert_contains(E.hint, "not closed");
    /* two documents */
    assert_null(parse("a: 1\n---\nb: 2\n", false));
    assert_contains(E.message, "second YAML document");
    assert_int_equal(E.line, 2);
    /* invalid UTF-8 */
    assert_null(parse("a: \xff\xfe\xfd\n", false));
    assert_contains(E.message, "YAML syntax error");
    assert_contains(E.hint, "UTF-8");
    /* an unknown tag */
    assert_null(parse("a: !Ref x\n", false));
    assert_contains(E.message, "unsupported YAML tag");
}

static void interpolation(void **state)
{
    setenv("IG_T_HOST", "db.example", 1);
    setenv("IG_T_EMPTY", "", 1);
    unsetenv("IG_T_UNSET");
    ig_yaml *r = parse("a: ${IG_T_HOST}\n"
                       "b: \"postgres://${IG_T_HOST}:5432/x\"\n"
                       "c: ${IG_T_UNSET:-fallback}\n"
                       "d: ${IG_T_EMPTY:-used when empty}\n"
                       "e: \"${IG_T_EMPTY}\"\n"
                       "f: $${IG_T_HOST} and $$ and $x\n"
                       "g: plain\n"
                       "${IG_T_HOST}: keys are not interpolated\n",
                       true);
    assert_non_null(r);
    assert_string_equal(ig_yaml_get(r, "a")->str, "db.example");
    assert_string_equal(ig_yaml_get(r, "a")->var, "IG_T_HOST");
    assert_string_equal(ig_yaml_get(r, "b")->str, "postgres://db.example:5432/x");
    assert_string_equal(ig_yaml_get(r, "c")->str, "fallback");
    assert_string_equal(ig_yaml_get(r, "d")->str, "used when empty");
    assert_string_equal(ig_yaml_get(r, "e")->str, "");
    assert_string_equal(ig_yaml_get(r, "f")->str, "${IG_T_HOST} and $$ and $x");
    assert_null(ig_yaml_get(r, "f")->var);
    assert_null(ig_yaml_get(r, "g")->var);
    assert_non_null(ig_yaml_get(r, "${IG_T_HOST}"));
    /* without the option nothing changes */
    r = parse("a: ${IG_T_HOST}\n", false);
    assert_string_equal(ig_yaml_get(r, "a")->str, "${IG_T_HOST}");
}

static void interpolation_errors(void **state)
{
    unsetenv("IG_T_UNSET");
    assert_null(parse("sources:\n  pg:\n    password: \"x-${IG_T_UNSET}\"\n", true));
    assert_int_equal(E.code, IG_ERR_CONFIG);
    assert_contains(E.message, "sources.pg.password");
    assert_contains(E.message, "IG_T_UNSET is not set");
    assert_int_equal(E.line, 3);
    assert_int_equal(E.column, 18); /* at the ${ */
    assert_contains(E.hint, "export IG_T_UNSET");
    assert_contains(E.hint, "${IG_T_UNSET:-default}");
    assert_contains(E.detail, "^");
    assert_null(parse("list:\n  - ok\n  - ${IG_T_UNSET}\n", true));
    assert_contains(E.message, "list[1]");
    assert_null(parse("a: ${}\n", true));
    assert_contains(E.message, "variable name");
    assert_null(parse("a: ${1X}\n", true));
    assert_null(parse("a: ${X-y}\n", true));
    assert_contains(E.message, "expected '}' or ':-'");
    assert_null(parse("a: ${X:-y\n", true));
    assert_contains(E.message, "no closing");
}

static void typed_getters(void **state)
{
    setenv("IG_T_SECRET", "hunter2", 1);
    ig_yaml *r =
        parse("i: 42\nneg: -7\nbig: 1_000_000\nq: '12'\nbad: two\nhuge: 99999999999999999999\n"
              "t: true\ny: yes\nOff: Off\nno_: no\nf: 1.5\nm: {a: 1}\nl: [1]\nn:\n"
              "s: ${IG_T_SECRET}\n",
              true);
    assert_non_null(r);
    long v;
    bool bv;
    double d;
    const char *s;
    assert_int_equal(ig_yaml_int(ig_yaml_get(r, "i"), "i", &v, &E), 0);
    assert_int_equal(v, 42);
    assert_int_equal(ig_yaml_int(ig_yaml_get(r, "neg"), "neg", &v, &E), 0);
    assert_int_equal(v, -7);
    assert_int_equal(ig_yaml_int(ig_yaml_get(r, "big"), "big", &v, &E), 0);
    assert_int_equal(v, 1000000);
    assert_int_equal(ig_yaml_int(ig_yaml_get(r, "q"), "q", &v, &E), 0);
    assert_int_equal(v, 12);
    assert_int_equal(ig_yaml_int(ig_yaml_get(r, "bad"), "warehouse.threads", &v, &E),
                     IG_ERR_CONFIG);
    assert_string_equal(E.message, "warehouse.threads: expected an integer, got 'two'");
    assert_int_equal(E.line, 5);
    assert_int_equal(E.column, 6);
    assert_contains(E.detail, "5 | bad: two");
    assert_int_equal(ig_yaml_int(ig_yaml_get(r, "huge"), "huge", &v, &E), IG_ERR_CONFIG);
    assert_contains(E.message, "out of range");
    assert_int_equal(ig_yaml_int(ig_yaml_get(r, "f"), "f", &v, &E), IG_ERR_CONFIG);
    assert_int_equal(ig_yaml_int(ig_yaml_get(r, "m"), "m", &v, &E), IG_ERR_CONFIG);
    assert_string_equal(E.message, "m: expected an integer, got a mapping");
    assert_int_equal(ig_yaml_int(ig_yaml_get(r, "n"), "n", &v, &E), IG_ERR_CONFIG);
    assert_contains(E.message, "got null");
    assert_int_equal(ig_yaml_int(NULL, "x.y", &v, &E), IG_ERR_CONFIG);
    assert_contains(E.message, "x.y: missing");

    assert_int_equal(ig_yaml_bool(ig_yaml_get(r, "t"), "t", &bv, &E), 0);
    assert_true(bv);
    assert_int_equal(ig_yaml_bool(ig_yaml_get(r, "y"), "y", &bv, &E), 0);
    assert_true(bv);
    assert_int_equal(ig_yaml_bool(ig_yaml_get(r, "Off"), "Off", &bv, &E), 0);
    assert_false(bv);
    assert_int_equal(ig_yaml_bool(ig_yaml_get(r, "no_"), "no_", &bv, &E), 0);
    assert_false(bv);
    assert_int_equal(ig_yaml_bool(ig_yaml_get(r, "i"), "i", &bv, &E), IG_ERR_CONFIG);
    assert_string_equal(E.message, "i: expected true or false, got '42'");

    assert_int_equal(ig_yaml_double(ig_yaml_get(r, "f"), "f", &d, &E), 0);
    assert_true(d == 1.5);
    assert_int_equal(ig_yaml_double(ig_yaml_get(r, "i"), "i", &d, &E), 0);
    assert_int_equal(ig_yaml_double(ig_yaml_get(r, "bad"), "bad", &d, &E), IG_ERR_CONFIG);

    /* strings stay strings: `yes` and `42` read as text for a string key */
    assert_int_equal(ig_yaml_str(ig_yaml_get(r, "y"), "y", &s, &E), 0);
    assert_string_equal(s, "yes");
    assert_int_equal(ig_yaml_str(ig_yaml_get(r, "l"), "l", &s, &E), IG_ERR_CONFIG);
    assert_string_equal(E.message, "l: expected a string, got a list");

    /* a value from the environment is never shown */
    assert_int_equal(ig_yaml_int(ig_yaml_get(r, "s"), "s", &v, &E), IG_ERR_CONFIG);
    assert_null(strstr(E.message, "hunter2"));
    assert_null(strstr(E.detail, "hunter2"));
    assert_contains(E.message, "${IG_T_SECRET}");
    char buf[128];
    assert_string_equal(ig_yaml_shown(ig_yaml_get(r, "bad"), buf, sizeof buf), "'two'");
}

static void check_keys(void **state)
{
    static const char *const top[] = {"name", "warehouse", "lake", NULL};
    static const char *const wh[] = {"type", "path", "threads", NULL};
    ig_yaml *r = parse("name: a\nwarehous:\n  x: 1\n", false);
    assert_int_equal(ig_yaml_check_keys(r, "", top, &E), IG_ERR_CONFIG);
    assert_string_equal(E.message, "unknown key 'warehous' in t.yml; did you mean 'warehouse'?");
    assert_int_equal(E.line, 2);
    assert_int_equal(E.column, 1);
    assert_contains(E.hint, "name, warehouse, lake");
    r = parse("warehouse:\n  thread: 1\n  zzzzzzzz: 2\n", false);
    ig_yaml *w = ig_yaml_get(r, "warehouse");
    assert_int_equal(ig_yaml_check_keys(w, "warehouse", wh, &E), IG_ERR_CONFIG);
    assert_string_equal(
        E.message, "unknown key 'warehouse.thread' in t.yml; did you mean 'warehouse.threads'?");
    assert_int_equal(E.line, 2);
    assert_int_equal(E.column, 3);
    assert_int_equal(ig_yaml_check_key(w, 1, "warehouse", wh, &E), IG_ERR_CONFIG);
    assert_string_equal(E.message, "unknown key 'warehouse.zzzzzzzz' in t.yml");
    r = parse("name: a\n", false);
    assert_int_equal(ig_yaml_check_keys(r, NULL, top, &E), 0);
}

static void error_helper(void **state)
{
    ig_yaml *r = parse("a:\n  b: [1, 2]\n", false);
    ig_yaml *b = ig_yaml_get(ig_yaml_get(r, "a"), "b");
    assert_int_equal(ig_yaml_error(b->items[1], &E, "bad %s", "thing"), IG_ERR_CONFIG);
    assert_string_equal(E.message, "bad thing");
    assert_int_equal(E.line, 2);
    assert_int_equal(E.column, 10);
    assert_string_equal(E.detail, "2 |   b: [1, 2]\n  |          ^");
    assert_int_equal(ig_yaml_error(NULL, &E, "no node"), IG_ERR_CONFIG);
    assert_int_equal(E.line, 0);
    assert_string_equal(ig_yaml_kind_name(b), "a list");
    /* a long line is shown as a window around the column */
    ig_buf lb = IG_BUF_INIT;
    ig_buf_puts(&lb, "k: [");
    for (int i = 0; i < 100; i++)
        ig_buf_puts(&lb, "1, ");
    ig_buf_puts(&lb, "x]\n");
    r = parse(ig_buf_cstr(&lb), false);
    ig_yaml *l = ig_yaml_get(r, "k");
    ig_yaml_error(l->items[100], &E, "here");
    assert_contains(E.detail, "...");
    assert_true(strlen(E.detail) < 400);
    ig_buf_free(&lb);
}

static void load_file(void **state)
{
    ig_yaml *r;
    ig_yaml_options o = {0};
    assert_int_equal(ig_yaml_load(A, "/nonexistent/x.yml", &o, &r, &E), IG_ERR_NOT_FOUND);
    char path[] = "/tmp/ig-yaml-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "a: 1\n", 5), 5);
    close(fd);
    assert_int_equal(ig_yaml_load(A, path, NULL, &r, &E), 0);
    assert_string_equal(ig_yaml_get(r, "a")->file, path);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(positions, setup, teardown),
        cmocka_unit_test_setup_teardown(nulls_and_quotes, setup, teardown),
        cmocka_unit_test_setup_teardown(anchors_and_merges, setup, teardown),
        cmocka_unit_test_setup_teardown(alias_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(alias_bomb, setup, teardown),
        cmocka_unit_test_setup_teardown(duplicate_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(syntax_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(interpolation, setup, teardown),
        cmocka_unit_test_setup_teardown(interpolation_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(typed_getters, setup, teardown),
        cmocka_unit_test_setup_teardown(check_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(error_helper, setup, teardown),
        cmocka_unit_test_setup_teardown(load_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
