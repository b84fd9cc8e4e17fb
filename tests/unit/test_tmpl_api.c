/* Unit tests of the template engine's value layer and C API: what the
 * transform layer relies on (natives, host objects, modules, calling
 * macros from C, return(), resolver, limits, ownership across frees). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmpl/tmpl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *render_str(ig_tmpl_env *env, const char *src, ig_tmpl_val ctx, ig_error *err)
{
    ig_tmpl *t = NULL;
    if (ig_tmpl_parse("t.sql", src, strlen(src), &t, err)) return NULL;
    ig_buf out = IG_BUF_INIT;
    ig_rc rc = ig_tmpl_render(env, t, ctx, &out, err);
    ig_tmpl_free(t);
    if (rc) {
        ig_buf_free(&out);
        return NULL;
    }
    return ig_buf_steal(&out);
}

static void expect(ig_tmpl_env *env, const char *src, ig_tmpl_val ctx, const char *want)
{
    ig_error err;
    char *got = render_str(env, src, ctx, &err);
    if (!got) {
        print_error("render failed: %s (%s:%d:%d)\n", err.message, err.file, err.line, err.column);
        fail();
    }
    assert_string_equal(got, want);
    free(got);
}

static char *str_of(ig_tmpl_val v)
{
    ig_buf b = IG_BUF_INIT;
    ig_tmpl_to_str(v, &b);
    return ig_buf_steal(&b);
}

static char *repr_of(ig_tmpl_val v)
{
    ig_buf b = IG_BUF_INIT;
    ig_tmpl_to_repr(v, &b);
    return ig_buf_steal(&b);
}

/* ---------------------------------------------------------------- values */

static void test_scalars(void **state)
{
    (void)state;
    struct { double f; const char *s; } fl[] = {
        {1.0, "1.0"}, {0.1, "0.1"}, {1e16, "1e+16"}, {1e15, "1000000000000000.0"},
        {1e-5, "1e-05"}, {0.0001, "0.0001"}, {-2.5, "-2.5"}, {1.0 / 3, "0.3333333333333333"},
        {123456789012345678.0, "1.2345678901234568e+17"}, {-0.0, "-0.0"}};
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) {
        char *s = str_of(ig_tmpl_float(fl[i].f));
        assert_string_equal(s, fl[i].s);
        free(s);
    }
    char *s = str_of(ig_tmpl_none());
    assert_string_equal(s, "None");
    free(s);
    s = str_of(ig_tmpl_bool(true));
    assert_string_equal(s, "True");
    free(s);
    s = str_of(ig_tmpl_undefined());
    assert_string_equal(s, "");
    free(s);
    s = str_of(ig_tmpl_int(INT64_MIN));
    assert_string_equal(s, "-9223372036854775808");
    free(s);
    assert_true(ig_tmpl_equal(ig_tmpl_int(1), ig_tmpl_float(1.0)));
    assert_true(ig_tmpl_equal(ig_tmpl_bool(true), ig_tmpl_int(1)));
    assert_false(ig_tmpl_truthy(ig_tmpl_float(0.0)));
    assert_string_equal(ig_tmpl_type_name(ig_tmpl_none()), "NoneType");
}

static void test_strings_and_repr(void **state)
{
    (void)state;
    ig_tmpl_val a = ig_tmpl_str("it's"), b = ig_tmpl_strn("a\0b", 3);
    assert_int_equal(ig_tmpl_str_len(b), 3);
    char *r = repr_of(a);
    assert_string_equal(r, "\"it's\"");
    free(r);
    ig_tmpl_val l = ig_tmpl_list_new();
    ig_tmpl_list_append(l, ig_tmpl_ref(a));
    ig_tmpl_list_append(l, ig_tmpl_str("x\ny"));
    ig_tmpl_list_append(l, ig_tmpl_none());
    r = str_of(l);
    assert_string_equal(r, "[\"it's\", 'x\\ny', None]");
    free(r);
    ig_tmpl_val t = ig_tmpl_tuple_new();
    ig_tmpl_list_append(t, ig_tmpl_int(1));
    r = str_of(t);
    assert_string_equal(r, "(1,)");
    free(r);
    assert_string_equal(ig_tmpl_str_ptr(ig_tmpl_int(3)), "");
    ig_tmpl_unref(a);
    ig_tmpl_unref(b);
    ig_tmpl_unref(l);
    ig_tmpl_unref(t);
}

static void test_dict(void **state)
{
    (void)state;
    ig_tmpl_val d = ig_tmpl_dict_new();
    char key[32];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "k%d", i);
        ig_tmpl_dict_set(d, key, ig_tmpl_int(i));
    }
    ig_tmpl_dict_set(d, "k5", ig_tmpl_str("five")); /* overwrite keeps the position */
    assert_int_equal(ig_tmpl_dict_len(d), 100);
    assert_string_equal(ig_tmpl_str_ptr(ig_tmpl_dict_get(d, "k5")), "five");
    assert_int_equal(ig_tmpl_dict_get(d, "k99").u.i, 99);
    assert_int_equal(ig_tmpl_dict_get(d, "nope").type, IG_TMPL_UNDEFINED);
    ig_tmpl_val k, v;
    assert_true(ig_tmpl_dict_entry(d, 5, &k, &v));
    assert_string_equal(ig_tmpl_str_ptr(k), "k5");
    assert_false(ig_tmpl_dict_entry(d, 100, &k, &v));
    /* non-string keys: 1 and 1.0 are the same key, as in Python */
    ig_tmpl_dict_setv(d, ig_tmpl_int(1), ig_tmpl_str("one"));
    ig_tmpl_dict_setv(d, ig_tmpl_float(1.0), ig_tmpl_str("uno"));
    assert_int_equal(ig_tmpl_dict_len(d), 101);
    /* deleting through a template and re-adding exercises the index */
    ig_tmpl_env *env = ig_tmpl_env_new();
    ig_tmpl_val ctx = ig_tmpl_dict_new();
    ig_tmpl_dict_set(ctx, "d", ig_tmpl_ref(d));
    expect(env,
           "{% for i in range(50) %}{% do d.pop('k' ~ i) %}{% endfor %}"
           "{% for i in range(50) %}{% do d.update({'n' ~ i: i}) %}{% endfor %}"
           "{{ d|length }} {{ d.k60 }} {{ d.n10 }} {{ d['k5'] }} {{ 'k5' in d }}",
           ctx, "101 60 10  False");
    ig_tmpl_unref(ctx);
    ig_tmpl_unref(d);
    ig_tmpl_env_free(env);
}

static void test_json(void **state)
{
    (void)state;
    ig_tmpl_val d = ig_tmpl_dict_new();
    ig_tmpl_dict_set(d, "b", ig_tmpl_float(1.5));
    ig_tmpl_dict_set(d, "a", ig_tmpl_str("é\"<"));
    ig_tmpl_val l = ig_tmpl_list_new();
    ig_tmpl_list_append(l, ig_tmpl_none());
    ig_tmpl_list_append(l, ig_tmpl_bool(false));
    ig_tmpl_dict_set(d, "c", l);
    ig_buf b = IG_BUF_INIT;
    assert_int_equal(ig_tmpl_to_json(d, &b, false, -1), 0);
    assert_string_equal(ig_buf_cstr(&b), "{\"b\": 1.5, \"a\": \"\\u00e9\\\"<\", \"c\": [null, false]}");
    ig_buf_reset(&b);
    assert_int_equal(ig_tmpl_to_json(d, &b, true, 1), 0);
    assert_string_equal(ig_buf_cstr(&b),
                        "{\n \"a\": \"\\u00e9\\\"<\",\n \"b\": 1.5,\n \"c\": [\n  null,\n  false\n ]\n}");
    ig_buf_free(&b);
    ig_tmpl_unref(d);
}

/* ---------------------------------------------------------- host natives */

static int frees;

typedef struct counter {
    int n;
} counter;

static ig_rc ctr_getattr(ig_tmpl_call *c, void *self, const char *name, ig_tmpl_val *out)
{
    counter *k = self;
    if (!strcmp(name, "n")) *out = ig_tmpl_int(k->n);
    return 0;
}

static ig_rc ctr_call(ig_tmpl_call *c, void *self, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    counter *k = self;
    k->n += a->npos ? (int)a->pos[0].u.i : 1;
    *out = ig_tmpl_int(k->n);
    return 0;
}

static void ctr_str(void *self, ig_buf *out) { ig_buf_printf(out, "<counter %d>", ((counter *)self)->n); }

static ig_rc ctr_iter(ig_tmpl_call *c, void *self, ig_tmpl_val *out)
{
    counter *k = self;
    *out = ig_tmpl_list_new();
    for (int i = 0; i < k->n; i++) ig_tmpl_list_append(*out, ig_tmpl_int(i));
    return 0;
}

static bool ctr_truth(void *self) { return ((counter *)self)->n != 0; }

static void ctr_free(void *self)
{
    frees++;
    free(self);
}

static const ig_tmpl_class counter_class = {"Counter", ctr_getattr, NULL, ctr_call, ctr_str,
                                            ctr_iter, ctr_truth, ctr_free};

static void test_host_object(void **state)
{
    (void)state;
    frees = 0;
    ig_tmpl_env *env = ig_tmpl_env_new();
    counter *k = calloc(1, sizeof *k);
    ig_tmpl_env_set_global(env, "ctr", ig_tmpl_object_new(&counter_class, k));
    expect(env,
           "{{ ctr }} {{ 'yes' if ctr else 'no' }} {{ ctr() }} {{ ctr(2) }} {{ ctr.n }} "
           "{% for i in ctr %}{{ i }}{% endfor %} {{ ctr|length }} [{{ ctr.nope }}] {{ ctr is callable }} "
           "{{ 2 in ctr }} {{ ctr.nope is defined }}",
           ig_tmpl_undefined(), "<counter 0> no 1 3 3 012 3 [] True True False");
    ig_error err;
    assert_null(render_str(env, "{{ ctr.nope.x }}", ig_tmpl_undefined(), &err));
    assert_string_equal(err.message, "'Counter object' has no attribute 'nope'");
    assert_int_equal(frees, 0);
    ig_tmpl_env_free(env);
    assert_int_equal(frees, 1);
}

static ig_rc fn_add(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    static const char *const names[] = {"a", "b", NULL};
    ig_tmpl_val v[2];
    ig_rc rc = ig_tmpl_bind(c, "add", a, names, 1, v);
    if (rc) return rc;
    int64_t b = ig_tmpl_given(v[1]) ? v[1].u.i : (int64_t)(intptr_t)ud;
    *out = ig_tmpl_int(v[0].u.i + b);
    return 0;
}

static ig_rc filt_shout(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    ig_buf b = IG_BUF_INIT;
    ig_tmpl_to_str(a->pos[0], &b);
    ig_buf_puts(&b, "!");
    *out = ig_tmpl_strn(ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    return 0;
}

static ig_rc test_short(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    *out = ig_tmpl_bool(ig_tmpl_str_len(a->pos[0]) < 3);
    return 0;
}

/* calls its argument (a macro) twice, as adapter.dispatch-like helpers do */
static ig_rc fn_twice(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    ig_buf b = IG_BUF_INIT;
    for (int i = 0; i < 2; i++) {
        ig_tmpl_val arg = ig_tmpl_int(i), r;
        ig_tmpl_args ca = {&arg, 1, NULL, NULL, 0};
        ig_rc rc = ig_tmpl_call_callable(c, a->pos[0], &ca, &r);
        if (rc) {
            ig_buf_free(&b);
            return rc;
        }
        ig_tmpl_to_str(r, &b);
        ig_tmpl_unref(r);
    }
    *out = ig_tmpl_strn(ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    return 0;
}

static ig_rc fn_this(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    ig_tmpl_val v;
    ig_rc rc = ig_tmpl_call_lookup(c, "model_name", &v);
    if (rc) return rc;
    ig_buf b = IG_BUF_INIT;
    ig_buf_printf(&b, "%s@%s", ig_tmpl_str_ptr(v), ig_tmpl_call_template(c));
    *out = ig_tmpl_str(ig_buf_cstr(&b));
    ig_buf_free(&b);
    ig_tmpl_unref(v);
    return 0;
}

static void test_natives(void **state)
{
    (void)state;
    ig_tmpl_env *env = ig_tmpl_env_new();
    ig_tmpl_env_add_func(env, "add", fn_add, (void *)(intptr_t)100);
    ig_tmpl_env_add_filter(env, "shout", filt_shout, NULL);
    ig_tmpl_env_add_test(env, "short", test_short, NULL);
    ig_tmpl_env_add_func(env, "twice", fn_twice, NULL);
    ig_tmpl_env_add_func(env, "this_model", fn_this, NULL);
    ig_tmpl_val ctx = ig_tmpl_dict_new();
    ig_tmpl_dict_set(ctx, "model_name", ig_tmpl_str("orders"));
    expect(env,
           "{{ add(1) }} {{ add(1, 2) }} {{ add(b=3, a=4) }} {{ 'hi'|shout }} {{ 'ab' is short }} "
           "{{ ['a', 'abcd']|select('short')|list }} {% macro m(i) %}<{{ i }}>{% endmacro %}"
           "{{ twice(m) }} {{ this_model() }}",
           ctx, "101 3 7 hi! True ['a'] <0><1> orders@t.sql");
    ig_error err;
    assert_null(render_str(env, "\n  {{ add() }}", ctx, &err));
    assert_string_equal(err.message, "add() missing required argument 'a'");
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 6);
    assert_null(render_str(env, "{{ add(1, c=2) }}", ctx, &err));
    assert_string_equal(err.message, "add() got an unexpected keyword argument 'c'");
    assert_null(render_str(env, "{{ add(1, 2, 3) }}", ctx, &err));
    assert_string_equal(err.message, "add() takes at most 2 arguments (3 given)");
    ig_tmpl_unref(ctx);
    ig_tmpl_env_free(env);
}

/* where(): "file:line:col" of the call, as the transform layer records a
 * ref() for the errors it finds after rendering */
static ig_rc fn_where(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    const char *file;
    int line, col;
    ig_buf b = IG_BUF_INIT;
    if (ig_tmpl_call_position(c, &file, &line, &col)) ig_buf_printf(&b, "%s:%d:%d", file, line, col);
    else ig_buf_puts(&b, "?");
    *out = ig_tmpl_str(ig_buf_cstr(&b));
    ig_buf_free(&b);
    return 0;
}

static void test_call_position(void **state)
{
    (void)state;
    ig_tmpl_env *env = ig_tmpl_env_new();
    ig_tmpl_env_add_func(env, "where", fn_where, NULL);
    /* called directly: its own position; through macros (nested, and a
     * caller() body): the outermost call in the rendered template */
    expect(env,
           "{% macro inner() %}{{ where() }}{% endmacro %}"
           "{% macro outer() %}{{ inner() }}{% endmacro %}"
           "{% macro wrap() %}[{{ caller() }}]{% endmacro %}\n"
           "a {{ where() }}\n"
           "b   {{ outer() }}\n"
           "{% call wrap() %}{{ where() }}{% endcall %}",
           ig_tmpl_undefined(), "\na t.sql:2:6\nb   t.sql:3:8\n[t.sql:4:9]");
    /* from the host, outside any template: unknown */
    ig_tmpl_val f = ig_tmpl_func_new("where", fn_where, NULL), out;
    ig_tmpl_args none = {0};
    ig_error err;
    assert_int_equal(ig_tmpl_call_value(env, f, ig_tmpl_undefined(), &none, &out, &err), 0);
    assert_string_equal(ig_tmpl_str_ptr(out), "?");
    ig_tmpl_unref(out);
    ig_tmpl_unref(f);
    /* ig_tmpl_error_at: the engine's error format for a host's late error */
    ig_error_clear(&err);
    const char *src = "select 1\nfrom {{ ref('x') }}\n";
    ig_tmpl_error_at(&err, "m.sql", src, strlen(src), 2, 9);
    assert_string_equal(err.file, "m.sql");
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 9);
    assert_string_equal(err.detail, "from {{ ref('x') }}\n        ^");
    ig_tmpl_env_free(env);
}

/* ------------------------------------------------------ modules and macros */

static const char *LIB =
    "{% set prefix = 'p_' %}"
    "{% macro name(x, suffix='') %}{{ prefix }}{{ x }}{{ suffix }}{% endmacro %}"
    "{% macro cols(n) %}{{ return(range(n)|list) }}{% endmacro %}"
    "{% macro uses_ctx() %}{{ target_name }}/{{ name('y') }}{% endmacro %}"
    "{% macro label() %}{{ return('label') }}{% endmacro %}";

static void test_module_and_call_macro(void **state)
{
    (void)state;
    ig_tmpl_env *env = ig_tmpl_env_new();
    ig_tmpl_env_add_func(env, "return", ig_tmpl_native_return, NULL);
    ig_error err;
    ig_tmpl *t = NULL;
    assert_int_equal(ig_tmpl_parse("lib.sql", LIB, strlen(LIB), &t, &err), 0);
    assert_int_equal(ig_tmpl_macro_count(t), 4);
    assert_string_equal(ig_tmpl_macro_name(t, 1), "cols");
    ig_tmpl_val mod;
    assert_int_equal(ig_tmpl_module(env, t, ig_tmpl_undefined(), &mod, &err), 0);
    ig_tmpl_free(t); /* macros keep the template alive */
    assert_string_equal(ig_tmpl_str_ptr(ig_tmpl_dict_get(mod, "prefix")), "p_");

    ig_tmpl_val args[1] = {ig_tmpl_str("x")};
    const char *kn[1] = {"suffix"};
    ig_tmpl_val kv[1] = {ig_tmpl_str("_s")};
    ig_tmpl_args a = {args, 1, kn, kv, 1};
    ig_tmpl_val out;
    assert_int_equal(ig_tmpl_call_macro(env, mod, "name", ig_tmpl_undefined(), &a, &out, &err), 0);
    assert_string_equal(ig_tmpl_str_ptr(out), "p_x_s");
    ig_tmpl_unref(out);
    ig_tmpl_unref(args[0]);
    ig_tmpl_unref(kv[0]);

    ig_tmpl_val three = ig_tmpl_int(3);
    ig_tmpl_args a3 = {&three, 1, NULL, NULL, 0};
    assert_int_equal(ig_tmpl_call_macro(env, mod, "cols", ig_tmpl_undefined(), &a3, &out, &err), 0);
    assert_int_equal(out.type, IG_TMPL_LIST);
    assert_int_equal(ig_tmpl_list_len(out), 3);
    ig_tmpl_unref(out);

    /* the context passed at call time is what the macro sees after its module */
    ig_tmpl_val ctx = ig_tmpl_dict_new();
    ig_tmpl_dict_set(ctx, "target_name", ig_tmpl_str("dev"));
    assert_int_equal(ig_tmpl_call_macro(env, mod, "uses_ctx", ctx, NULL, &out, &err), 0);
    assert_string_equal(ig_tmpl_str_ptr(out), "dev/p_y");
    ig_tmpl_unref(out);

    /* a constant returned from a macro outlives the template */
    assert_int_equal(ig_tmpl_call_macro(env, mod, "label", ctx, NULL, &out, &err), 0);
    ig_tmpl_val label = out;
    assert_int_not_equal(ig_tmpl_call_macro(env, mod, "nope", ctx, NULL, &out, &err), 0);
    assert_int_equal(err.code, IG_ERR_NOT_FOUND);

    /* namespaces: the module as a global; its macros as globals */
    ig_tmpl_env_set_global(env, "dbt_utils", ig_tmpl_ref(mod));
    expect(env, "{{ dbt_utils.name('a') }} {{ dbt_utils.cols(2) }} {{ dbt_utils.uses_ctx() }}", ctx,
           "p_a [0, 1] dev/p_y");
    ig_tmpl_unref(ctx);
    ig_tmpl_unref(mod);
    ig_tmpl_env_free(env);
    assert_string_equal(ig_tmpl_str_ptr(label), "label"); /* everything else is gone */
    ig_tmpl_unref(label);
}

static void test_macro_get_and_errors(void **state)
{
    (void)state;
    ig_tmpl_env *env = ig_tmpl_env_new();
    ig_error err;
    ig_tmpl *t = NULL;
    const char *src = "{% macro boom(x) %}\n  {{ x.missing.attr }}\n{% endmacro %}";
    assert_int_equal(ig_tmpl_parse("boom.sql", src, strlen(src), &t, &err), 0);
    ig_tmpl_val m = ig_tmpl_macro_get(t, "boom");
    assert_int_equal(m.type, IG_TMPL_MACRO);
    assert_int_equal(ig_tmpl_macro_get(t, "nope").type, IG_TMPL_UNDEFINED);
    ig_tmpl_free(t);
    ig_tmpl_val d = ig_tmpl_dict_new();
    ig_tmpl_args a = {&d, 1, NULL, NULL, 0};
    ig_tmpl_val out;
    assert_int_equal(ig_tmpl_call_value(env, m, ig_tmpl_undefined(), &a, &out, &err), IG_ERR_TEMPLATE);
    assert_string_equal(err.file, "boom.sql");
    assert_int_equal(err.line, 2);
    assert_string_equal(err.message, "'dict object' has no attribute 'missing'");
    ig_tmpl_unref(d);
    ig_tmpl_unref(m);
    ig_tmpl_env_free(env);
}

static void test_parse_errors(void **state)
{
    (void)state;
    ig_error err;
    ig_tmpl *t = NULL;
    const char *src = "select 1\n{% if x %}\n{{ y + }}\n{% endif %}";
    assert_int_equal(ig_tmpl_parse("m.sql", src, strlen(src), &t, &err), IG_ERR_TEMPLATE);
    assert_null(t);
    assert_string_equal(err.file, "m.sql");
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 8);
    assert_string_equal(err.detail, "{{ y + }}\n       ^");
    /* a source that is not NUL-terminated */
    char buf[4] = {'{', '{', ' ', 'x'};
    assert_int_equal(ig_tmpl_parse("n.sql", buf, sizeof buf, &t, &err), IG_ERR_TEMPLATE);
    /* deep nesting is refused, not a stack overflow */
    char deep[2000];
    size_t n = 0;
    n += (size_t)snprintf(deep, sizeof deep, "{{ ");
    for (int i = 0; i < 500; i++) deep[n++] = '(';
    deep[n++] = '1';
    for (int i = 0; i < 500; i++) deep[n++] = ')';
    memcpy(deep + n, " }}", 3);
    n += 3;
    assert_int_equal(ig_tmpl_parse("d.sql", deep, n, &t, &err), IG_ERR_TEMPLATE);
    assert_non_null(strstr(err.message, "nesting too deep"));
}

/* ------------------------------------------------ resolver, strict, limits */

static ig_rc resolver(ig_tmpl_call *c, void *ud, const char *name, ig_tmpl_val *out)
{
    if (!strncmp(name, "lazy_", 5)) *out = ig_tmpl_str(name + 5);
    return 0;
}

static void test_resolver_strict_limits(void **state)
{
    (void)state;
    ig_tmpl_env *env = ig_tmpl_env_new();
    ig_tmpl_env_set_resolver(env, resolver, NULL);
    expect(env, "{{ lazy_abc }}|{{ other }}|", ig_tmpl_undefined(), "abc||");
    ig_error err;
    ig_tmpl_env_strict(env, true);
    assert_null(render_str(env, "{{ other }}", ig_tmpl_undefined(), &err));
    assert_string_equal(err.message, "'other' is undefined");
    expect(env, "{{ other is defined }}{{ other|default('d') }}", ig_tmpl_undefined(), "Falsed");
    ig_tmpl_env_strict(env, false);

    ig_tmpl_limits lim;
    ig_tmpl_env_get_limits(env, &lim);
    lim.max_output = 100;
    lim.max_iterations = 1000;
    lim.max_depth = 10;
    lim.max_items = 50;
    ig_tmpl_env_limits(env, &lim);
    assert_null(render_str(env, "{% for i in range(40) %}xxxxx{% endfor %}", ig_tmpl_undefined(), &err));
    assert_int_equal(err.code, IG_ERR_LIMIT);
    assert_null(render_str(env, "{{ range(51)|length }}", ig_tmpl_undefined(), &err));
    assert_int_equal(err.code, IG_ERR_LIMIT);
    assert_null(render_str(env, "{% set l = [] %}{% for i in range(60) %}{% do l.append(i) %}{% endfor %}",
                           ig_tmpl_undefined(), &err));
    assert_int_equal(err.code, IG_ERR_LIMIT);
    assert_null(render_str(env, "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", ig_tmpl_undefined(), &err));
    assert_int_equal(err.code, IG_ERR_LIMIT);
    assert_null(render_str(env, "{% for i in range(50) %}{% for j in range(50) %}{% endfor %}{% endfor %}",
                           ig_tmpl_undefined(), &err));
    assert_int_equal(err.code, IG_ERR_LIMIT);
    /* the caller's buffer cap is honoured too */
    ig_tmpl *t = NULL;
    assert_int_equal(ig_tmpl_parse("c", "0123456789", 10, &t, &err), 0);
    ig_buf out;
    ig_buf_init(&out, 5);
    assert_int_equal(ig_tmpl_render(env, t, ig_tmpl_undefined(), &out, &err), IG_ERR_LIMIT);
    ig_buf_free(&out);
    ig_tmpl_free(t);
    ig_tmpl_env_free(env);
}

static void test_shared_template(void **state)
{
    (void)state;
    /* one parsed template, two environments: constants are never counted */
    const char *src = "{% set l = ['a', 'b'] %}{{ l }}{{ g }}";
    ig_error err;
    ig_tmpl *t = NULL;
    assert_int_equal(ig_tmpl_parse("s", src, strlen(src), &t, &err), 0);
    ig_tmpl_env *e1 = ig_tmpl_env_new(), *e2 = ig_tmpl_env_new();
    ig_tmpl_env_set_global(e1, "g", ig_tmpl_int(1));
    ig_tmpl_env_set_global(e2, "g", ig_tmpl_int(2));
    for (int i = 0; i < 3; i++) {
        ig_buf o1 = IG_BUF_INIT, o2 = IG_BUF_INIT;
        assert_int_equal(ig_tmpl_render(e1, t, ig_tmpl_undefined(), &o1, &err), 0);
        assert_int_equal(ig_tmpl_render(e2, t, ig_tmpl_undefined(), &o2, &err), 0);
        assert_string_equal(ig_buf_cstr(&o1), "['a', 'b']1");
        assert_string_equal(ig_buf_cstr(&o2), "['a', 'b']2");
        ig_buf_free(&o1);
        ig_buf_free(&o2);
    }
    /* a template constant stored into a global survives the template */
    ig_tmpl_env_set_global(e1, "keep", ig_tmpl_list_new());
    ig_tmpl *t2 = NULL;
    const char *s2 = "{% do keep.append('constant') %}{% do keep.append(['x']) %}";
    assert_int_equal(ig_tmpl_parse("s2", s2, strlen(s2), &t2, &err), 0);
    ig_buf o = IG_BUF_INIT;
    assert_int_equal(ig_tmpl_render(e1, t2, ig_tmpl_undefined(), &o, &err), 0);
    ig_tmpl_free(t2);
    ig_tmpl_free(t);
    ig_tmpl_val keep = ig_tmpl_env_get_global(e1, "keep");
    char *s = str_of(keep);
    assert_string_equal(s, "['constant', ['x']]");
    free(s);
    ig_buf_free(&o);
    ig_tmpl_env_free(e1);
    ig_tmpl_env_free(e2);
}

static void test_closures_and_callers(void **state)
{
    (void)state;
    ig_tmpl_env *env = ig_tmpl_env_new();
    /* a nested macro sees its enclosing frame while it lives */
    expect(env,
           "{% macro outer(v) %}{% macro inner() %}[{{ v }}]{% endmacro %}{{ inner() }}{{ inner() }}"
           "{% endmacro %}{{ outer(1) }}{{ outer(2) }}",
           ig_tmpl_undefined(), "[1][1][2][2]");
    /* a caller kept past its call block no longer sees the call site's frame */
    ig_tmpl_env_set_global(env, "box", ig_tmpl_dict_new());
    expect(env,
           "{% macro keep() %}{% do box.update({'c': caller}) %}{% endmacro %}"
           "{% for x in [7] %}{% call keep() %}<{{ x }}>{% endcall %}{% endfor %}{{ box.c() }}",
           ig_tmpl_undefined(), "<>");
    ig_tmpl_env_free(env);
}

static void test_self_reference_and_depth(void **state)
{
    (void)state;
    ig_tmpl_env *env = ig_tmpl_env_new();
    /* printing a namespace that holds itself is bounded (fuzzer finding) */
    expect(env,
           "{% set ns = namespace(a=1) %}{% set ns.me = ns %}{{ (ns|string)[:15] }} "
           "{{ (ns|string)|length > 100 }}{% set ns.me = none %}",
           ig_tmpl_undefined(), "<Namespace a=1, True");
    /* equal and compare give up on cycles instead of recursing forever */
    expect(env,
           "{% set a = [] %}{% do a.append(a) %}{% set b = [] %}{% do b.append(b) %}"
           "{{ a == b }} {{ a == a }}{% do a.pop() %}{% do b.pop() %}",
           ig_tmpl_undefined(), "False True");
    /* a list nested 50,000 deep is built, measured and freed without recursion */
    expect(env,
           "{% set ns = namespace(l=[], t=()) %}{% for i in range(50000) %}{% set ns.l = [ns.l] %}"
           "{% set ns.t = (ns.t,) %}{% endfor %}{{ ns.l|length }} {{ (ns.l|string)[:5] }}",
           ig_tmpl_undefined(), "1 [[[[[");
    ig_error err;
    assert_null(render_str(env,
                           "{% set ns = namespace(t=()) %}{% for i in range(500) %}{% set ns.t = (ns.t,) %}"
                           "{% endfor %}{{ {ns.t: 1} }}",
                           ig_tmpl_undefined(), &err));
    assert_string_equal(err.message, "unhashable type: 'tuple'");
    ig_tmpl_env_free(env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_strings_and_repr),
        cmocka_unit_test(test_dict),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_host_object),
        cmocka_unit_test(test_natives),
        cmocka_unit_test(test_call_position),
        cmocka_unit_test(test_module_and_call_macro),
        cmocka_unit_test(test_macro_get_and_errors),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_resolver_strict_limits),
        cmocka_unit_test(test_shared_template),
        cmocka_unit_test(test_closures_and_callers),
        cmocka_unit_test(test_self_reference_and_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
