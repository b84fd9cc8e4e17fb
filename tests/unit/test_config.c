/* Unit tests for src/project/config.c and init.c: loading ingot.yml into an
 * ig_project (defaults, paths, every kind of error), finding the project,
 * and `ingot init`'s scaffold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/mem.h"
#include "project/config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ig_arena *A;
static ig_error E;
static char Dir[PATH_MAX];  /* a fresh temporary directory per test, the cwd */
static char Home[PATH_MAX]; /* the cwd before */

static int setup(void **state)
{
    A = ig_arena_new();
    ig_error_clear(&E);
    assert_non_null(getcwd(Home, sizeof Home));
    snprintf(Dir, sizeof Dir, "/tmp/ig-config-XXXXXX");
    assert_non_null(mkdtemp(Dir));
    char *real = ig_path_real(Dir);
    snprintf(Dir, sizeof Dir, "%s", real);
    free(real);
    assert_int_equal(chdir(Dir), 0);
    return 0;
}

static int teardown(void **state)
{
    assert_int_equal(chdir(Home), 0);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", Dir);
    assert_int_equal(system(cmd), 0);
    ig_arena_free(A);
    return 0;
}

static void write_file(const char *rel, const char *text)
{
    char *p = ig_path_join(Dir, rel);
    char *d = ig_path_dirname(p);
    assert_int_equal(ig_fs_mkdirs(d, &E), 0);
    assert_int_equal(ig_fs_write_atomic(p, text, strlen(text), 0644, &E), 0);
    free(d);
    free(p);
}

/* Load ingot.yml with the given text; NULL on error (E holds it). */
static ig_project *load(const char *text)
{
    write_file("ingot.yml", text);
    ig_project *p = NULL;
    ig_error_clear(&E);
    if (ig_project_load(A, Dir, &p, &E)) return NULL;
    return p;
}

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        if (!strstr((hay), (needle))) fail_msg("'%s' does not contain '%s'", (hay), (needle));     \
    } while (0)

static char *at(const char *rel) { return ig_arena_printf(A, "%s/%s", Dir, rel); }

static void defaults(void **state)
{
    ig_project *p = load("name: shop\n");
    assert_non_null(p);
    assert_string_equal(p->name, "shop");
    assert_string_equal(p->dir, Dir);
    assert_string_equal(p->file, at("ingot.yml"));
    assert_int_equal(p->config_version, 1);
    assert_string_equal(p->warehouse.type, "duckdb");
    assert_string_equal(p->warehouse.path, at("warehouse/shop.duckdb"));
    assert_int_equal(p->warehouse.threads, 0);
    assert_null(p->warehouse.memory_limit);
    assert_string_equal(p->lake.path, at("lake"));
    assert_string_equal(p->transform.project_dir, Dir);
    assert_null(p->transform.profiles_dir);
    assert_null(p->transform.target);
    assert_string_equal(p->serve.listen, "127.0.0.1:8080");
    assert_non_null(p->root);
}

static void full_file(void **state)
{
    setenv("HOME", "/home/tester", 1);
    setenv("IG_T_THREADS", "6", 1);
    ig_project *p = load("name: shop_2\n"
                         "version: 1\n"
                         "warehouse:\n"
                         "  type: duckdb\n"
                         "  path: ./data/../db/shop.duckdb\n"
                         "  threads: ${IG_T_THREADS}\n"
                         "  memory_limit: 4GB\n"
                         "lake:\n"
                         "  path: /srv/lake\n"
                         "transform:\n"
                         "  project_dir: dbt\n"
                         "  profiles_dir: ~/.dbt\n"
                         "  target: prod\n"
                         "serve:\n"
                         "  listen: 9000\n"
                         "sources:\n"
                         "  anything: [goes, here]\n"
                         "pipelines: []\n"
                         "vars: {a: 1}\n"
                         "log: {level: info}\n");
    assert_non_null(p);
    assert_string_equal(p->warehouse.path, at("db/shop.duckdb"));
    assert_int_equal(p->warehouse.threads, 6);
    assert_string_equal(p->warehouse.memory_limit, "4GB");
    assert_string_equal(p->lake.path, "/srv/lake");
    assert_string_equal(p->transform.project_dir, at("dbt"));
    assert_string_equal(p->transform.profiles_dir, "/home/tester/.dbt");
    assert_string_equal(p->transform.target, "prod");
    assert_string_equal(p->serve.listen, "127.0.0.1:9000");
    assert_non_null(ig_yaml_get(p->root, "sources"));
    /* empty values mean "not set" */
    p = load("name: a\nwarehouse:\n  memory_limit:\nserve:\n");
    assert_non_null(p);
    assert_null(p->warehouse.memory_limit);
    p = load("name: a\nserve: {listen: '[::1]:8443'}\n");
    assert_string_equal(p->serve.listen, "[::1]:8443");
}

static void missing_file(void **state)
{
    ig_project *p;
    assert_int_equal(ig_project_load(A, Dir, &p, &E), IG_ERR_NOT_FOUND);
    assert_contains(E.message, "no ingot.yml");
    assert_contains(E.hint, "ingot init");
    assert_int_equal(ig_project_load(A, "/nonexistent/dir", &p, &E), IG_ERR_NOT_FOUND);
}

static void empty_file(void **state)
{
    assert_null(load(""));
    assert_int_equal(E.code, IG_ERR_CONFIG);
    assert_string_equal(E.message, "ingot.yml is empty");
    assert_string_equal(E.file, "ingot.yml");
    assert_contains(E.hint, "name:");
    assert_null(load("# only a comment\n"));
    assert_string_equal(E.message, "ingot.yml is empty");
    assert_null(load("- a\n- b\n"));
    assert_contains(E.message, "must be a mapping");
    assert_int_equal(E.line, 1);
}

static void syntax_error(void **state)
{
    assert_null(load("name: shop\nwarehouse:\n  type: duckdb\n   threads: 4\n"));
    assert_int_equal(E.code, IG_ERR_CONFIG);
    assert_string_equal(E.file, "ingot.yml");
    assert_int_equal(E.line, 4);
    assert_contains(E.message, "YAML syntax error");
    assert_contains(E.detail, "threads: 4");
}

static void wrong_type(void **state)
{
    assert_null(load("name: shop\nwarehouse:\n  threads: two\n"));
    assert_int_equal(E.code, IG_ERR_CONFIG);
    assert_string_equal(E.message, "warehouse.threads: expected an integer, got 'two'");
    assert_string_equal(E.file, "ingot.yml");
    assert_int_equal(E.line, 3);
    assert_int_equal(E.column, 12);
    assert_null(load("name: shop\nwarehouse: duckdb\n"));
    assert_contains(E.message, "warehouse: expected a mapping");
    assert_null(load("name: shop\nwarehouse:\n  threads: -1\n"));
    assert_contains(E.message, "warehouse.threads: must be between 0");
    assert_null(load("name: shop\nwarehouse:\n  memory_limit: 80%\n"));
    assert_contains(E.message, "warehouse.memory_limit: expected a size");
    assert_null(load("name: shop\nserve:\n  listen: localhost\n"));
    assert_contains(E.message, "serve.listen: expected HOST:PORT");
    assert_null(load("name: shop\nlake:\n  path: [a]\n"));
    assert_contains(E.message, "lake.path: expected a string, got a list");
    assert_null(load("name: shop\ntransform:\n  target: ''\n"));
    assert_contains(E.message, "transform.target: empty string");
}

static void unknown_keys(void **state)
{
    assert_null(load("name: shop\nwarehous:\n  type: duckdb\n"));
    assert_int_equal(E.code, IG_ERR_CONFIG);
    assert_string_equal(E.message,
                        "unknown key 'warehous' in ingot.yml; did you mean 'warehouse'?");
    assert_int_equal(E.line, 2);
    assert_int_equal(E.column, 1);
    assert_null(load("name: shop\nwarehouse:\n  thread: 2\n"));
    assert_string_equal(
        E.message,
        "unknown key 'warehouse.thread' in ingot.yml; did you mean 'warehouse.threads'?");
    assert_int_equal(E.line, 3);
    assert_int_equal(E.column, 3);
}

static void unset_variable(void **state)
{
    unsetenv("IG_T_NOPE");
    assert_null(load("name: shop\nwarehouse:\n  path: ${IG_T_NOPE}/x.duckdb\n"));
    assert_int_equal(E.code, IG_ERR_CONFIG);
    assert_string_equal(E.message, "warehouse.path: environment variable IG_T_NOPE is not set");
    assert_int_equal(E.line, 3);
    assert_int_equal(E.column, 9);
    assert_contains(E.hint, "${IG_T_NOPE:-default}");
}

static void secrets_not_shown(void **state)
{
    setenv("IG_T_SECRET", "s3cr3t-Value", 1);
    assert_null(load("name: ${IG_T_SECRET}\n"));
    assert_null(strstr(E.message, "s3cr3t"));
    assert_null(strstr(E.hint, "s3cr3t"));
    assert_contains(E.message, "${IG_T_SECRET}");
    assert_null(load("name: a\nwarehouse:\n  type: ${IG_T_SECRET}\n"));
    assert_null(strstr(E.message, "s3cr3t"));
    assert_null(strstr(E.hint, "s3cr3t"));
}

static void names(void **state)
{
    assert_null(load("version: 1\n"));
    assert_contains(E.message, "missing required key 'name'");
    assert_null(load("name: My-Shop\n"));
    assert_string_equal(E.message, "name: 'My-Shop' is not a valid project name");
    assert_contains(E.hint, "'my_shop'");
    assert_int_equal(E.line, 1);
    assert_int_equal(E.column, 7);
    assert_null(load("name: 1shop\n"));
    assert_null(load("name: [a]\n"));
    assert_non_null(load("name: _x9\n"));
    assert_true(ig_project_name_valid("shop"));
    assert_false(ig_project_name_valid(""));
    assert_false(ig_project_name_valid("Shop"));
    assert_string_equal(ig_project_name_from(A, "My Shop!"), "my_shop");
    assert_string_equal(ig_project_name_from(A, "2024-data"), "p_2024_data");
    assert_string_equal(ig_project_name_from(A, "---"), "my_project");
}

static void versions(void **state)
{
    assert_null(load("name: shop\nversion: 2\nnew_section: {}\n"));
    assert_int_equal(E.code, IG_ERR_VERSION);
    assert_contains(E.message, "version 2");
    assert_contains(E.message, "too old");
    assert_int_equal(E.line, 2);
    assert_null(load("name: shop\nversion: 0\n"));
    assert_int_equal(E.code, IG_ERR_CONFIG);
    assert_null(load("name: shop\nversion: one\n"));
    assert_contains(E.message, "version: expected an integer");
}

static void warehouse_types(void **state)
{
    assert_null(load("name: shop\nwarehouse:\n  type: postgres\n"));
    assert_contains(E.message, "'postgres' is not supported yet");
    assert_null(load("name: shop\nwarehouse:\n  type: duckbd\n"));
    assert_contains(E.message, "did you mean 'duckdb'?");
}

static void all_problems(void **state)
{
    write_file("ingot.yml", "name: Bad\n"
                            "warehouse:\n"
                            "  threads: two\n"
                            "  tpye: duckdb\n"
                            "lake: 3\n"
                            "serve:\n"
                            "  listen: nowhere\n"
                            "extra: 1\n");
    ig_problems probs = {0};
    ig_project *p = NULL;
    assert_int_equal(ig_project_load_all(A, Dir, &p, &probs, &E), IG_ERR_CONFIG);
    assert_null(p);
    assert_int_equal(probs.n, 6);
    assert_int_equal(probs.kept, 6);
    /* in file order */
    for (size_t i = 1; i < probs.kept; i++)
        assert_true(probs.items[i - 1].line <= probs.items[i].line);
    assert_int_equal(probs.items[0].line, 1);
    assert_int_equal(probs.items[5].line, 8);
    assert_string_equal(E.message, probs.items[0].message);
    /* a clean file: no problems */
    write_file("ingot.yml", "name: ok\n");
    ig_problems none = {0};
    assert_int_equal(ig_project_load_all(A, Dir, &p, &none, &E), 0);
    assert_int_equal(none.n, 0);
    assert_non_null(p);
}

static void display_names(void **state)
{
    /* from a sub-folder the file is ../ingot.yml */
    write_file("models/x.sql", "select 1");
    assert_int_equal(chdir("models"), 0);
    ig_project *p;
    write_file("ingot.yml", "name: a\nbad: 1\n");
    assert_int_equal(ig_project_load(A, Dir, &p, &E), IG_ERR_CONFIG);
    assert_string_equal(E.file, "../ingot.yml");
    /* from elsewhere, the path relative to the cwd */
    assert_int_equal(chdir(Dir), 0);
    assert_int_equal(ig_fs_mkdirs(at("sub"), &E), 0);
    write_file("sub/ingot.yml", "name: a\nbad: 1\n");
    assert_int_equal(ig_project_load(A, "sub", &p, &E), IG_ERR_CONFIG);
    assert_string_equal(E.file, "sub/ingot.yml");
}

static void find(void **state)
{
    char *found = NULL;
    assert_int_equal(ig_project_find(Dir, &found, &E), IG_ERR_NOT_FOUND);
    assert_contains(E.hint, "ingot init");
    write_file("ingot.yml", "name: a\n");
    write_file("models/staging/x.sql", "select 1");
    assert_int_equal(ig_project_find(at("models/staging"), &found, &E), 0);
    assert_string_equal(found, Dir);
    free(found);
    assert_int_equal(ig_project_find(".", &found, &E), 0);
    assert_string_equal(found, Dir);
    free(found);
    assert_int_equal(ig_project_find("/nonexistent/x", &found, &E), IG_ERR_NOT_FOUND);
}

static void init_fresh(void **state)
{
    const char **made;
    size_t n;
    assert_int_equal(ig_project_init_ex(A, "new-shop", NULL, false, &made, &n, &E), 0);
    assert_true(n >= 9);
    assert_string_equal(made[0], "ingot.yml");
    const char *want[] = {"ingot.yml", "models",     "seeds",
                          "tests",     "macros",     "lake",
                          "warehouse", ".gitignore", "models/example.sql"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        char *p = ig_path_join("new-shop", want[i]);
        if (!ig_fs_exists(p)) fail_msg("%s missing", p);
        free(p);
    }
    /* the written file loads, with the name from the folder */
    ig_project *p;
    assert_int_equal(ig_project_load(A, "new-shop", &p, &E), 0);
    assert_string_equal(p->name, "new_shop");
    assert_string_equal(p->warehouse.path, at("new-shop/warehouse/new_shop.duckdb"));
    /* refuses to overwrite */
    assert_int_equal(ig_project_init("new-shop", NULL, &E), IG_ERR_USAGE);
    assert_contains(E.message, "already has an ingot.yml");
    assert_contains(E.hint, "--force");
    /* --force replaces it and keeps the old one */
    write_file("new-shop/models/example.sql", "-- mine\nselect 2 as id\n");
    assert_int_equal(ig_project_init_ex(A, "new-shop", "other", true, &made, &n, &E), 0);
    assert_int_equal(ig_project_load(A, "new-shop", &p, &E), 0);
    assert_string_equal(p->name, "other");
    assert_true(ig_fs_exists("new-shop/ingot.yml.bak"));
    char *text;
    size_t len;
    assert_int_equal(ig_fs_read("new-shop/models/example.sql", 0, &text, &len, &E), 0);
    assert_string_equal(text, "-- mine\nselect 2 as id\n"); /* user files untouched */
    free(text);
}

static void init_errors(void **state)
{
    assert_int_equal(ig_project_init_ex(A, "x", "Bad Name", false, NULL, NULL, &E), IG_ERR_USAGE);
    assert_contains(E.message, "not a valid project name");
    assert_contains(E.hint, "bad_name");
    write_file("afile", "x");
    assert_int_equal(ig_project_init("afile", NULL, &E), IG_ERR_USAGE);
    assert_contains(E.message, "not a directory");
    /* init in the current directory */
    assert_int_equal(ig_project_init(".", "here", &E), 0);
    ig_project *p;
    assert_int_equal(ig_project_load(A, ".", &p, &E), 0);
    assert_string_equal(p->name, "here");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(defaults),   T(full_file),       T(missing_file),   T(empty_file),        T(syntax_error),
        T(wrong_type), T(unknown_keys),    T(unset_variable), T(secrets_not_shown), T(names),
        T(versions),   T(warehouse_types), T(all_problems),   T(display_names),     T(find),
        T(init_fresh), T(init_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
