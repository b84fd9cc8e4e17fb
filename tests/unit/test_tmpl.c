/* Golden tests of the template engine: every tests/golden/tmpl/<name>.tmpl
 * is rendered with <name>.json (optional) as its context and compared with
 * <name>.out, or, when <name>.err exists, the render must fail and print
 * that error (ig_error_print). A <name>.lib file is loaded as a macro
 * module, registered as the global `lib` and its macros as globals, as the
 * transform layer does with a package's macros. One trailing newline of an
 * expected file is ignored (Jinja drops the template's own). Each golden
 * file is one cmocka test; run from the repository root. Set
 * TMPL_GOLDEN=name to run one; TMPL_FILL_ERR=1 fills empty .err files with
 * the error printed (to review before committing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmpl/tmpl.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_DIR "tests/golden/tmpl"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    fclose(f);
    s[got] = '\0';
    if (len) *len = got;
    return s;
}

static ig_tmpl_val from_json(json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        ig_tmpl_val d = ig_tmpl_dict_new();
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) ig_tmpl_dict_set(d, k, from_json(v));
        return d;
    }
    case JSON_ARRAY: {
        ig_tmpl_val l = ig_tmpl_list_new();
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) ig_tmpl_list_append(l, from_json(v));
        return l;
    }
    case JSON_STRING: return ig_tmpl_strn(json_string_value(j), json_string_length(j));
    case JSON_INTEGER: return ig_tmpl_int(json_integer_value(j));
    case JSON_REAL: return ig_tmpl_float(json_real_value(j));
    case JSON_TRUE: return ig_tmpl_bool(true);
    case JSON_FALSE: return ig_tmpl_bool(false);
    default: return ig_tmpl_none();
    }
}

/* a host object for the goldens: a dbt-like relation */
typedef struct relation {
    const char *db, *schema, *name;
} relation;

static void rel_str(void *self, ig_buf *out)
{
    relation *r = self;
    ig_buf_printf(out, "\"%s\".\"%s\".\"%s\"", r->db, r->schema, r->name);
}

static ig_rc rel_getattr(ig_tmpl_call *c, void *self, const char *name, ig_tmpl_val *out)
{
    relation *r = self;
    if (!strcmp(name, "database")) *out = ig_tmpl_str(r->db);
    else if (!strcmp(name, "schema")) *out = ig_tmpl_str(r->schema);
    else if (!strcmp(name, "identifier") || !strcmp(name, "name")) *out = ig_tmpl_str(r->name);
    return 0;
}

static void rel_free(void *self)
{
    relation *r = self;
    free((char *)r->name);
    free(r);
}

static const ig_tmpl_class relation_class = {"Relation", rel_getattr, NULL, NULL, rel_str,
                                             NULL, NULL, rel_free};

static ig_rc fn_ref(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    if (a->npos != 1 || ig_tmpl_str_len(a->pos[0]) == 0) return ig_tmpl_fail(c, "ref() takes a model name");
    relation *r = malloc(sizeof *r);
    r->db = "db";
    r->schema = "analytics";
    r->name = strdup(ig_tmpl_str_ptr(a->pos[0]));
    *out = ig_tmpl_object_new(&relation_class, r);
    return 0;
}

static ig_rc fn_raise(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    return ig_tmpl_fail(c, "Compilation Error: %s", a->npos ? ig_tmpl_str_ptr(a->pos[0]) : "");
}

static ig_rc fn_config(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    *out = ig_tmpl_str("");
    return 0;
}

static ig_tmpl_env *golden_env(void)
{
    ig_tmpl_env *env = ig_tmpl_env_new();
    ig_tmpl_env_add_func(env, "return", ig_tmpl_native_return, NULL);
    ig_tmpl_env_add_func(env, "raise_compiler_error", fn_raise, NULL);
    ig_tmpl_env_add_func(env, "ref", fn_ref, NULL);
    ig_tmpl_env_add_func(env, "config", fn_config, NULL);
    ig_tmpl_limits lim;
    ig_tmpl_env_get_limits(env, &lim);
    lim.max_iterations = 100000;
    lim.max_output = 1 << 20;
    lim.max_depth = 50;
    ig_tmpl_env_limits(env, &lim);
    return env;
}

static char *path_with(const char *base, const char *ext)
{
    size_t n = strlen(base) + strlen(ext) + 1;
    char *p = malloc(n);
    snprintf(p, n, "%s%s", base, ext);
    return p;
}

/* Render one golden case; returns a malloc'd description of the mismatch or NULL. */
static char *run_golden(const char *name)
{
    char base[512];
    snprintf(base, sizeof base, GOLDEN_DIR "/%s", name);
    char *p_tmpl = path_with(base, ".tmpl"), *p_json = path_with(base, ".json"),
         *p_out = path_with(base, ".out"), *p_err = path_with(base, ".err"),
         *p_lib = path_with(base, ".lib");
    size_t len;
    char *src = slurp(p_tmpl, &len), *want_out = slurp(p_out, NULL), *want_err = slurp(p_err, NULL),
         *json = slurp(p_json, NULL), *lib = slurp(p_lib, NULL);
    char *problem = NULL;
    ig_tmpl_env *env = golden_env();
    ig_tmpl_val ctx = ig_tmpl_undefined();
    ig_error err;
    ig_error_clear(&err);
    ig_buf out;
    ig_buf_init(&out, 0);
    ig_tmpl *t = NULL, *lt = NULL;
    ig_rc rc = 0;
    if (!want_out && !want_err) {
        problem = strdup("no .out or .err file");
        goto done;
    }
    if (json) {
        json_error_t je;
        json_t *j = json_loads(json, JSON_PRESERVE_ORDER, &je);
        if (!j) {
            problem = strdup("bad .json");
            goto done;
        }
        ctx = from_json(j);
        json_decref(j);
    }
    if (lib) {
        char lname[600];
        snprintf(lname, sizeof lname, "%s.lib", name);
        rc = ig_tmpl_parse(lname, lib, strlen(lib), &lt, &err);
        ig_tmpl_val mod = ig_tmpl_undefined();
        if (!rc) rc = ig_tmpl_module(env, lt, ctx, &mod, &err);
        if (!rc) {
            for (size_t i = 0; i < ig_tmpl_dict_len(mod); i++) {
                ig_tmpl_val k, v;
                ig_tmpl_dict_entry(mod, i, &k, &v);
                ig_tmpl_env_set_global(env, ig_tmpl_str_ptr(k), ig_tmpl_ref(v));
            }
            ig_tmpl_env_set_global(env, "lib", mod);
        }
    }
    char tname[600];
    snprintf(tname, sizeof tname, "%s.tmpl", name);
    if (!rc) rc = ig_tmpl_parse(tname, src, len, &t, &err);
    if (!rc) rc = ig_tmpl_render(env, t, ctx, &out, &err);
    if (want_err) {
        if (!rc) {
            problem = malloc(out.len + 100);
            sprintf(problem, "expected an error, rendered:\n%s", ig_buf_cstr(&out));
            goto done;
        }
        char *got = NULL;
        size_t glen = 0;
        FILE *m = open_memstream(&got, &glen);
        ig_error_print(&err, m);
        fclose(m);
        size_t wl = strlen(want_err);
        if (!wl && getenv("TMPL_FILL_ERR")) { /* a new case: record what we print, for review */
            FILE *w = fopen(p_err, "w");
            if (w) {
                fputs(got, w);
                fclose(w);
            }
        }
        if (wl && want_err[wl - 1] == '\n' && !(glen && got[glen - 1] == '\n')) want_err[--wl] = 0;
        if (strcmp(got, want_err) != 0) {
            problem = malloc(glen + wl + 100);
            sprintf(problem, "error differs\n--- want\n%s--- got\n%s", want_err, got);
        }
        free(got);
    } else if (rc) {
        char *got = NULL;
        size_t glen = 0;
        FILE *m = open_memstream(&got, &glen);
        ig_error_print(&err, m);
        fclose(m);
        problem = got;
    } else {
        size_t wl = strlen(want_out);
        if (wl && want_out[wl - 1] == '\n') want_out[--wl] = 0;
        if (wl != out.len || memcmp(want_out, ig_buf_cstr(&out), wl) != 0) {
            problem = malloc(wl + out.len + 100);
            sprintf(problem, "output differs\n--- want\n%s\n--- got\n%s\n", want_out, ig_buf_cstr(&out));
        }
    }
done:
    ig_tmpl_unref(ctx);
    ig_tmpl_free(t);
    ig_tmpl_free(lt);
    ig_tmpl_env_free(env);
    ig_buf_free(&out);
    free(src);
    free(want_out);
    free(want_err);
    free(json);
    free(lib);
    free(p_tmpl);
    free(p_json);
    free(p_out);
    free(p_err);
    free(p_lib);
    return problem;
}

static void golden_case(void **state)
{
    const char *name = *state;
    char *problem = run_golden(name);
    if (problem) {
        print_error("golden %s: %s\n", name, problem);
        free(problem);
        fail();
    }
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    DIR *d = opendir(GOLDEN_DIR);
    if (!d) {
        fprintf(stderr, "cannot open %s (run from the repository root)\n", GOLDEN_DIR);
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    const char *only = getenv("TMPL_GOLDEN");
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".tmpl")) continue;
        char *nm = strndup(e->d_name, l - 5);
        if (only && strcmp(only, nm)) {
            free(nm);
            continue;
        }
        if (n == cap) names = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
        names[n++] = nm;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    struct CMUnitTest *tests = calloc(n + 1, sizeof *tests);
    for (size_t i = 0; i < n; i++) {
        tests[i].name = names[i];
        tests[i].test_func = golden_case;
        tests[i].initial_state = names[i];
    }
    int rc = _cmocka_run_group_tests("tmpl_golden", tests, n, NULL, NULL);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    free(tests);
    return rc;
}
