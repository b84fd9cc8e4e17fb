/* Unit tests for src/transform/: the config rules (YAML typing, merging of
 * tags, hooks and meta, the project config tree), the string map, and the
 * golden tests of the dbt context (tests/golden/transform/: each case is a
 * model compiled into a copy of a small project; its compiled SQL, or its
 * error, must equal the .out file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "transform/tf_int.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *yj(const char *text)
{
    ig_arena *a = ig_arena_new();
    ig_yaml *y;
    ig_error e;
    ig_yaml_options o = {0};
    assert_int_equal(ig_yaml_parse(a, "t.yml", text, strlen(text), &o, &y, &e), 0);
    json_t *j = ig__tf_yaml_to_json(y);
    ig_arena_free(a);
    return j;
}

static char *dumps(json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
}

static void test_yaml_typing(void **state)
{
    json_t *j = yj("a: 1\nb: '1'\nc: yes\nd: ~\ne: 1.5\nf: x1\ng: [on, Off]\nh: -3\ni: 1e3\n");
    char *s = dumps(j);
    assert_string_equal(s, "{\"a\":1,\"b\":\"1\",\"c\":true,\"d\":null,\"e\":1.5,\"f\":\"x1\","
                           "\"g\":[true,false],\"h\":-3,\"i\":\"1e3\"}");
    free(s);
    json_decref(j);
}

static void test_config_merge(void **state)
{
    json_t *cfg = yj("materialized: view\ntags: [a]\nmeta: {x: 1}\npre-hook: one\n+schema: s\n");
    json_t *base = json_object();
    ig__tf_config_merge(base, cfg);
    json_t *over = yj("materialized: table\ntags: [b, a]\nmeta: {y: 2}\npre_hook: [two]\n");
    ig__tf_config_merge(base, over);
    char *s = dumps(base);
    assert_string_equal(s, "{\"materialized\":\"table\",\"tags\":[\"a\",\"b\"],\"meta\":{\"x\":1,\"y\":2},"
                           "\"pre-hook\":[\"one\",\"two\"],\"schema\":\"s\"}");
    free(s);
    json_t *tags = yj("tags: single\n");
    json_t *c2 = json_object();
    ig__tf_config_merge(c2, tags);
    s = dumps(c2);
    assert_string_equal(s, "{\"tags\":[\"single\"]}");
    free(s);
    json_decref(cfg);
    json_decref(over);
    json_decref(base);
    json_decref(tags);
    json_decref(c2);
}

static void test_map(void **state)
{
    tf_map m = {0};
    char keys[1000][16];
    for (int i = 0; i < 1000; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        assert_null(ig__tf_map_put(&m, keys[i], (void *)(intptr_t)(i + 1)));
    }
    for (int i = 0; i < 1000; i++) assert_int_equal((intptr_t)ig__tf_map_get(&m, keys[i]), i + 1);
    assert_null(ig__tf_map_get(&m, "k1000"));
    assert_int_equal((intptr_t)ig__tf_map_getn(&m, "k12xyz", 3), 13);
    assert_int_equal((intptr_t)ig__tf_map_put(&m, keys[5], (void *)7), 6);
    ig__tf_map_free(&m);
}

/* ------------------------------------------------------------- golden */

static const char *golden_dir(void)
{
    static char dir[4096];
    const char *env = getenv("IG_GOLDEN_DIR");
    if (env) return env;
    const char *cands[] = {"tests/golden/transform", "../tests/golden/transform",
                           "../../tests/golden/transform"};
    for (size_t i = 0; i < 3; i++)
        if (ig_fs_is_dir(cands[i])) {
            char *r = ig_path_real(cands[i]);
            snprintf(dir, sizeof dir, "%s", r);
            free(r);
            return dir;
        }
    return NULL;
}

static char *read_all(const char *path)
{
    char *s = NULL;
    size_t n;
    ig_error e;
    if (ig_fs_read(path, 0, &s, &n, &e)) return NULL;
    return s;
}

/* Compile one case; returns the text to compare (malloc). */
static char *run_case(const char *gdir, const char *name)
{
    char tmpl[] = "/tmp/ig-golden-XXXXXX";
    char *tmp = mkdtemp(tmpl);
    assert_non_null(tmp);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cp -r '%s/project/.' '%s/' && cp '%s/cases/%s.sql' '%s/models/'", gdir,
             tmp, gdir, name, tmp);
    assert_int_equal(system(cmd), 0);
    ig_wh *wh;
    ig_error e;
    ig_error_clear(&e);
    ig_wh_options wo = {.path = ":memory:", .no_migrate = true};
    assert_int_equal(ig_wh_open(&wo, &wh, &e), 0);
    ig_transform_options o = {.project_dir = tmp, .select = name, .vars = "{cli_var: 7}"};
    ig_transform_result res;
    ig_rc rc = ig_transform_compile(NULL, wh, &o, &res, &e);
    ig_transform_result_free(&res);
    ig_wh_close(wh);
    char *out;
    if (rc) {
        ig_buf b = IG_BUF_INIT;
        if (e.file[0]) ig_buf_printf(&b, "%s:%d:%d: ", e.file, e.line, e.column);
        ig_buf_printf(&b, "%s\n", e.message);
        if (e.detail[0]) ig_buf_printf(&b, "%s\n", e.detail);
        if (e.hint[0]) ig_buf_printf(&b, "hint: %s\n", e.hint);
        out = ig_buf_steal(&b);
    } else {
        char path[4096];
        snprintf(path, sizeof path, "%s/target/compiled/golden/models/%s.sql", tmp, name);
        out = read_all(path);
        assert_non_null(out);
    }
    /* the temporary folder is in the messages of errors: make it stable */
    for (char *p; (p = strstr(out, tmp));) memmove(p, "<tmp>", 5), memmove(p + 5, p + strlen(tmp), strlen(p + strlen(tmp)) + 1);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd)) {}
    return out;
}

static void test_golden(void **state)
{
    const char *gdir = golden_dir();
    if (!gdir) skip();
    setenv("GOLDEN_ENV", "env-value", 1);
    unsetenv("GOLDEN_UNSET");
    unsetenv("GOLDEN_NOT_SET");
    char cases[4096];
    snprintf(cases, sizeof cases, "%s/cases", gdir);
    DIR *d = opendir(cases);
    assert_non_null(d);
    struct dirent *en;
    int n = 0, failed = 0;
    bool update = getenv("IG_GOLDEN_UPDATE") != NULL;
    while ((en = readdir(d))) {
        size_t l = strlen(en->d_name);
        if (l < 5 || strcmp(en->d_name + l - 4, ".sql")) continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(l - 4), en->d_name);
        char *got = run_case(gdir, name);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.out", cases, name);
        char *want = read_all(path);
        n++;
        if (update) {
            ig_error e;
            assert_int_equal(ig_fs_write_atomic(path, got, strlen(got), 0644, &e), 0);
        } else if (!want || strcmp(got, want)) {
            failed++;
            fprintf(stderr, "golden %s differs:\n--- expected\n%s\n--- got\n%s\n", name,
                    want ? want : "(no .out file)", got);
        }
        free(got);
        free(want);
    }
    closedir(d);
    assert_true(n > 10);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_typing),
        cmocka_unit_test(test_config_merge),
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_golden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
