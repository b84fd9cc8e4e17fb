/* Unit tests of node selection (src/transform/select.c): a hand-built graph
 * of sources, a seed, models in two folders and a package, a snapshot,
 * generic and singular tests and a disabled model, with the known answer of
 * every method, graph operator, set operation, indirect test selection
 * mode, state and result comparison, and YAML selector.
 *
 *   src_orders -> stg_orders -> customer_orders -> daily -> report
 *   src_customers -> stg_customers -> customer_orders, snap_customers
 *   country_codes (seed) -> customer_orders
 *   tests: t_nn (stg_orders), t_unique (customer_orders),
 *          t_rel (customer_orders, stg_customers), t_singular (daily)
 *   old_model (disabled), util_hello (package util) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/fs.h"
#include "core/mem.h"
#include "transform/artifacts.h"
#include "transform/select.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SRC_O, SRC_C, SEED, STG_O, STG_C, CO, DAILY, REPORT, SNAP, T_NN, T_UNIQ, T_REL, T_SING, OLD, UTIL, N };

typedef struct fixture {
    tf_project p;
    tf_package root, util;
    tf_node nodes[N];
    tf_node *ptrs[N];
    char dir[64];
} fixture;

static fixture F;

static void node(int i, tf_kind kind, const char *name, const char *file, const char *tags,
                 const char *mat, tf_package *pkg)
{
    tf_node *n = &F.nodes[i];
    memset(n, 0, sizeof *n);
    n->index = i;
    n->kind = kind;
    n->name = name;
    n->pkg = pkg;
    n->enabled = true;
    n->attached = -1;
    n->failures = -1;
    n->original_file_path = file;
    n->materialized = mat;
    static const char *kinds[] = {"model", "source", "seed", "snapshot", "test", "analysis", "operation"};
    n->unique_id = ig_asprintf("%s.%s.%s", kinds[kind], pkg->name, name);
    n->config = json_object();
    if (tags) json_object_set_new(n->config, "tags", json_loads(tags, 0, NULL));
    if (mat) json_object_set_new(n->config, "materialized", json_string(mat));
    /* fqn: package, folders under the resource path, name */
    const char **fqn = ig_calloc(8, sizeof *fqn);
    size_t k = 0;
    fqn[k++] = pkg->name;
    if (file && kind != TF_SOURCE) {
        char *copy = ig_strdup(file);
        char *save, *w = strtok_r(copy, "/", &save); /* skip models/ */
        for (w = strtok_r(NULL, "/", &save); w; w = strtok_r(NULL, "/", &save))
            if (strchr(w, '.') == NULL) fqn[k++] = ig_strdup(w);
        free(copy);
    }
    fqn[k++] = name;
    n->fqn = fqn;
    n->nfqn = k;
    n->raw = ig_asprintf("select 1 as %s", name);
    n->raw_len = strlen(n->raw);
}

static void dep(int child, int parent)
{
    tf_node *c = &F.nodes[child], *p = &F.nodes[parent];
    c->deps = ig_realloc(c->deps, (c->ndeps + 1) * sizeof *c->deps);
    c->deps[c->ndeps++] = parent;
    p->kids = ig_realloc(p->kids, (p->nkids + 1) * sizeof *p->kids);
    p->kids[p->nkids++] = child;
}

static int setup(void **state)
{
    memset(&F, 0, sizeof F);
    snprintf(F.dir, sizeof F.dir, "/tmp/ig-sel-XXXXXX");
    assert_non_null(mkdtemp(F.dir));
    F.root = (tf_package){.name = "shop", .dir = F.dir, .is_root = true};
    F.util = (tf_package){.name = "util", .dir = F.dir};
    node(SRC_O, TF_SOURCE, "orders", "models/sources.yml", NULL, NULL, &F.root);
    node(SRC_C, TF_SOURCE, "customers", "models/sources.yml", NULL, NULL, &F.root);
    F.nodes[SRC_O].source_name = F.nodes[SRC_C].source_name = "raw";
    free((char *)F.nodes[SRC_O].unique_id);
    free((char *)F.nodes[SRC_C].unique_id);
    F.nodes[SRC_O].unique_id = "source.shop.raw.orders";
    F.nodes[SRC_C].unique_id = "source.shop.raw.customers";
    node(SEED, TF_SEED, "country_codes", "seeds/country_codes.csv", NULL, "seed", &F.root);
    node(STG_O, TF_MODEL, "stg_orders", "models/staging/stg_orders.sql", "[\"staging\", \"daily\"]", "view", &F.root);
    node(STG_C, TF_MODEL, "stg_customers", "models/staging/stg_customers.sql", "[\"staging\"]", "view", &F.root);
    node(CO, TF_MODEL, "customer_orders", "models/marts/customer_orders.sql", NULL, "table", &F.root);
    node(DAILY, TF_MODEL, "daily", "models/marts/daily.sql", "[\"daily\"]", "view", &F.root);
    node(REPORT, TF_MODEL, "report", "models/marts/report.sql", NULL, "view", &F.root);
    node(SNAP, TF_SNAPSHOT, "snap_customers", "snapshots/snap_customers.sql", NULL, "snapshot", &F.root);
    node(T_NN, TF_TEST, "not_null_stg_orders_id", "models/staging/schema.yml", NULL, NULL, &F.root);
    node(T_UNIQ, TF_TEST, "unique_customer_orders_id", "models/marts/schema.yml", NULL, NULL, &F.root);
    node(T_REL, TF_TEST, "relationships_co_cid", "models/marts/schema.yml", NULL, NULL, &F.root);
    node(T_SING, TF_TEST, "assert_daily_positive", "tests/assert_daily_positive.sql", NULL, NULL, &F.root);
    node(OLD, TF_MODEL, "old_model", "models/old_model.sql", NULL, "view", &F.root);
    node(UTIL, TF_MODEL, "util_hello", "models/util_hello.sql", NULL, "view", &F.util);
    F.nodes[OLD].enabled = false;
    F.nodes[T_NN].test_meta = json_pack("{s:s,s:n,s:{}}", "name", "not_null", "namespace", "kwargs");
    F.nodes[T_UNIQ].test_meta = json_pack("{s:s,s:n,s:{}}", "name", "unique", "namespace", "kwargs");
    F.nodes[T_REL].test_meta = json_pack("{s:s,s:n,s:{}}", "name", "relationships", "namespace", "kwargs");
    F.nodes[T_NN].attached = STG_O;
    F.nodes[T_UNIQ].attached = CO;
    F.nodes[T_REL].attached = CO;
    dep(STG_O, SRC_O);
    dep(STG_C, SRC_C);
    dep(CO, STG_O);
    dep(CO, STG_C);
    dep(CO, SEED);
    dep(DAILY, CO);
    dep(REPORT, DAILY);
    dep(SNAP, STG_C);
    dep(T_NN, STG_O);
    dep(T_UNIQ, CO);
    dep(T_REL, CO);
    dep(T_REL, STG_C);
    dep(T_SING, DAILY);
    for (int i = 0; i < N; i++) F.ptrs[i] = &F.nodes[i];
    F.p.nodes = F.ptrs;
    F.p.nnodes = N;
    F.p.root = &F.root;
    return 0;
}

static int teardown(void **state)
{
    for (int i = 0; i < N; i++) {
        tf_node *n = &F.nodes[i];
        json_decref(n->config);
        json_decref(n->test_meta);
        free(n->deps);
        free(n->kids);
        free(n->raw);
        for (size_t k = 1; k + 1 < n->nfqn; k++) free((char *)n->fqn[k]);
        free((void *)n->fqn);
        if (i != SRC_O && i != SRC_C) free((char *)n->unique_id);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", F.dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* The names selected, space-separated in node order; "ERR:<code>" on error. */
static char *run_sel(const ig_tf_select_opts *o, ig_error *e)
{
    char sel[N];
    ig_error_clear(e);
    static char out[1024];
    ig_rc rc = ig__tf_select(&F.p, o, sel, e);
    if (rc) {
        snprintf(out, sizeof out, "ERR:%s", rc == IG_ERR_USAGE ? "usage" : rc == IG_ERR_CONFIG ? "config"
                                          : rc == IG_ERR_NOT_FOUND ? "not_found" : "other");
        return out;
    }
    size_t l = 0;
    out[0] = 0;
    for (int i = 0; i < N; i++)
        if (sel[i]) l += (size_t)snprintf(out + l, sizeof out - l, "%s%s", l ? " " : "", F.nodes[i].name);
    return out;
}

static void expect_ex(const char *select, const char *exclude, unsigned types, const char *want)
{
    FILE *quiet = fopen("/dev/null", "w");
    ig_tf_select_opts o = {.select = select, .exclude = exclude, .resource_types = types,
                           .state_dir = F.dir, .out = quiet};
    ig_error e;
    const char *got = run_sel(&o, &e);
    if (strcmp(got, want))
        fail_msg("--select '%s' --exclude '%s':\n  got  [%s]\n  want [%s]\n  (%s)", select,
                 exclude ? exclude : "", got, want, e.message);
    fclose(quiet);
}

static void expect(const char *select, const char *want) { expect_ex(select, NULL, 0, want); }

#define ALL_ENABLED                                                                          \
    "orders customers country_codes stg_orders stg_customers customer_orders daily report " \
    "snap_customers not_null_stg_orders_id unique_customer_orders_id relationships_co_cid "  \
    "assert_daily_positive util_hello"

static void test_names_and_graph_operators(void **state)
{
    expect(NULL, ALL_ENABLED);
    expect("stg_orders", "stg_orders not_null_stg_orders_id");
    expect("model.shop.stg_orders", "stg_orders not_null_stg_orders_id");
    expect("stg_orders+", "stg_orders customer_orders daily report not_null_stg_orders_id "
                          "unique_customer_orders_id relationships_co_cid assert_daily_positive");
    expect("+customer_orders", "orders customers country_codes stg_orders stg_customers "
                               "customer_orders not_null_stg_orders_id unique_customer_orders_id "
                               "relationships_co_cid");
    expect("1+customer_orders", "country_codes stg_orders stg_customers customer_orders "
                                "not_null_stg_orders_id unique_customer_orders_id relationships_co_cid");
    expect("customer_orders+1", "customer_orders daily unique_customer_orders_id "
                                "relationships_co_cid assert_daily_positive");
    expect("2+daily+1", "country_codes stg_orders stg_customers customer_orders daily report "
                        "not_null_stg_orders_id unique_customer_orders_id relationships_co_cid "
                        "assert_daily_positive");
    /* @: the children and every parent of the children */
    expect("@stg_customers", "orders customers country_codes stg_orders stg_customers customer_orders "
                             "daily report snap_customers not_null_stg_orders_id "
                             "unique_customer_orders_id relationships_co_cid assert_daily_positive");
    expect("@daily", "orders customers country_codes stg_orders stg_customers customer_orders daily "
                     "report not_null_stg_orders_id unique_customer_orders_id relationships_co_cid "
                     "assert_daily_positive");
}

static void test_methods(void **state)
{
    expect("tag:staging", "stg_orders stg_customers not_null_stg_orders_id relationships_co_cid");
    expect("tag:stag*", "stg_orders stg_customers not_null_stg_orders_id relationships_co_cid");
    expect("path:models/marts", "customer_orders daily report unique_customer_orders_id "
                                "relationships_co_cid assert_daily_positive");
    expect("path:models/marts/", "customer_orders daily report unique_customer_orders_id "
                                 "relationships_co_cid assert_daily_positive");
    expect("path:models/staging/stg_orders.sql", "stg_orders not_null_stg_orders_id");
    expect("models/staging", "stg_orders stg_customers not_null_stg_orders_id relationships_co_cid");
    expect("path:models/*/d*.sql", "daily assert_daily_positive");
    expect("file:daily.sql", "daily assert_daily_positive");
    expect("file:daily", "daily assert_daily_positive");
    expect("daily.sql", "daily assert_daily_positive");
    expect("config.materialized:table", "customer_orders unique_customer_orders_id relationships_co_cid");
    expect("config.tags:daily", "stg_orders daily not_null_stg_orders_id assert_daily_positive");
    expect("source:raw", "orders customers");
    expect("source:raw.orders", "orders");
    expect("source:shop.raw.cust*", "customers");
    expect("source:raw.orders+", "orders stg_orders customer_orders daily report not_null_stg_orders_id "
                                 "unique_customer_orders_id relationships_co_cid assert_daily_positive");
    expect("resource_type:seed", "country_codes");
    expect("resource_type:snapshot", "snap_customers");
    expect("resource_type:test", "not_null_stg_orders_id unique_customer_orders_id "
                                 "relationships_co_cid assert_daily_positive");
    expect("resource_type:source", "orders customers");
    expect("test_type:generic", "not_null_stg_orders_id unique_customer_orders_id relationships_co_cid");
    expect("test_type:singular", "assert_daily_positive");
    expect("test_name:unique", "unique_customer_orders_id");
    expect("package:util", "util_hello");
    expect("util", "util_hello"); /* fqn: the package prefix */
    expect("fqn:shop.staging.*", "stg_orders stg_customers not_null_stg_orders_id relationships_co_cid");
    expect("shop.marts", "customer_orders daily report unique_customer_orders_id "
                         "relationships_co_cid assert_daily_positive");
    expect("shop.marts.daily", "daily assert_daily_positive");
    expect("stg_*", "stg_orders stg_customers not_null_stg_orders_id relationships_co_cid");
    expect("staging", "stg_orders stg_customers not_null_stg_orders_id relationships_co_cid");
    expect("marts+", "customer_orders daily report unique_customer_orders_id "
                     "relationships_co_cid assert_daily_positive");
}

static void test_set_operations(void **state)
{
    /* comma: intersection; space: union */
    expect("tag:daily,tag:staging", "stg_orders not_null_stg_orders_id");
    /* as in dbt, each criterion brings its tests (eager): the models' tests stay */
    expect("tag:daily,resource_type:model", "stg_orders daily not_null_stg_orders_id assert_daily_positive");
    expect("tag:daily tag:staging", "stg_orders stg_customers daily not_null_stg_orders_id "
                                    "relationships_co_cid assert_daily_positive");
    expect("+customer_orders,tag:staging", "stg_orders stg_customers not_null_stg_orders_id "
                                           "relationships_co_cid");
    /* --exclude takes the excluded nodes' tests with them */
    expect_ex("+customer_orders", "stg_orders", 0,
              "orders customers country_codes stg_customers customer_orders "
              "unique_customer_orders_id relationships_co_cid");
    expect_ex("+customer_orders", "resource_type:test", 0,
              "orders customers country_codes stg_orders stg_customers customer_orders");
    expect_ex(NULL, "path:models/marts package:util", 0,
              "orders customers country_codes stg_orders stg_customers snap_customers "
              "not_null_stg_orders_id");
    /* resource types: what the command runs, applied last */
    expect_ex("stg_orders+", NULL, IG_TF_RT(TF_MODEL), "stg_orders customer_orders daily report");
    expect_ex("customer_orders", NULL, IG_TF_RT(TF_TEST),
              "unique_customer_orders_id relationships_co_cid");
    expect_ex(NULL, NULL, IG_TF_RT(TF_SEED) | IG_TF_RT(TF_SNAPSHOT), "country_codes snap_customers");
}

static void test_indirect_modes(void **state)
{
    FILE *quiet = fopen("/dev/null", "w");
    ig_tf_select_opts o = {.select = "tag:staging", .indirect_selection = "cautious", .out = quiet};
    ig_error e;
    assert_string_equal(run_sel(&o, &e), "stg_orders stg_customers not_null_stg_orders_id");
    o.indirect_selection = "empty";
    assert_string_equal(run_sel(&o, &e), "stg_orders stg_customers");
    o.indirect_selection = "buildable";
    o.select = "customer_orders";
    /* relationships also needs stg_customers, an ancestor: buildable */
    assert_string_equal(run_sel(&o, &e), "customer_orders unique_customer_orders_id relationships_co_cid");
    o.indirect_selection = "cautious";
    assert_string_equal(run_sel(&o, &e), "customer_orders unique_customer_orders_id");
    o.indirect_selection = "lazy";
    assert_string_equal(run_sel(&o, &e), "ERR:usage");
    assert_non_null(strstr(e.hint, "eager"));
    fclose(quiet);
}

static void test_errors_and_warnings(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    ig_tf_select_opts o = {.select = "stg_ordrs", .out = out};
    ig_error e;
    assert_string_equal(run_sel(&o, &e), "ERR:not_found");
    assert_non_null(strstr(e.message, "the selection 'stg_ordrs' matches no model"));
    assert_string_equal(e.hint, "did you mean 'stg_orders'?");
    o.select = "old_model"; /* disabled: not selectable */
    assert_string_equal(run_sel(&o, &e), "ERR:not_found");
    o.select = "bogus:x";
    assert_string_equal(run_sel(&o, &e), "ERR:usage");
    assert_non_null(strstr(e.message, "unknown selection method 'bogus'"));
    o.select = "tagg:x";
    assert_string_equal(run_sel(&o, &e), "ERR:usage");
    assert_non_null(strstr(e.hint, "did you mean 'tag:'?"));
    o.select = "resource_type:table";
    assert_string_equal(run_sel(&o, &e), "ERR:usage");
    o.select = "@+x";
    assert_string_equal(run_sel(&o, &e), "ERR:usage");
    assert_non_null(strstr(e.message, "malformed"));
    /* a criterion that matches nothing is a warning, like dbt's */
    o.select = "tag:nope";
    assert_string_equal(run_sel(&o, &e), "");
    fflush(out);
    assert_non_null(strstr(buf, "The selection criterion 'tag:nope' does not match any enabled nodes"));
    assert_non_null(strstr(buf, "Nothing to do."));
    o.select = "state:modified";
    o.state_dir = NULL;
    assert_string_equal(run_sel(&o, &e), "ERR:usage");
    assert_non_null(strstr(e.hint, "--state"));
    o.state_dir = "/nonexistent-dir";
    assert_string_equal(run_sel(&o, &e), "ERR:not_found");
    o.select = "state:changed";
    assert_string_equal(run_sel(&o, &e), "ERR:usage");
    fclose(out);
    free(buf);
}

static void write_file(const char *name, const char *text)
{
    char *path = ig_asprintf("%s/%s", F.dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(path);
}

static void test_state_and_result(void **state)
{
    /* the "previous" manifest: every node as now, except report (new),
     * stg_orders' body and customer_orders' config */
    json_t *nodes = json_object(), *sources = json_object();
    for (int i = 0; i < N; i++) {
        tf_node *n = &F.nodes[i];
        if (i == REPORT) continue;
        char sum[65];
        ig__tf_node_checksum(n, sum);
        if (i == STG_O) sum[0] = sum[0] == '0' ? '1' : '0';
        json_t *cfg = ig__tf_node_config_json(n);
        if (i == CO) json_object_set_new(cfg, "materialized", json_string("view"));
        json_object_set_new(n->kind == TF_SOURCE ? sources : nodes, n->unique_id,
                            json_pack("{s:{s:s,s:s},s:o}", "checksum", "name", "sha256", "checksum",
                                      sum, "config", cfg));
    }
    json_t *m = json_pack("{s:o,s:o}", "nodes", nodes, "sources", sources);
    char *path = ig_asprintf("%s/manifest.json", F.dir);
    assert_int_equal(json_dump_file(m, path, 0), 0);
    free(path);
    json_decref(m);
    expect("state:new", "report");
    /* as in dbt, a new node counts as modified in every sub-selector */
    expect("state:modified.body", "stg_orders report not_null_stg_orders_id");
    expect("state:modified.configs", "customer_orders report unique_customer_orders_id relationships_co_cid");
    expect("state:modified", "stg_orders customer_orders report not_null_stg_orders_id "
                             "unique_customer_orders_id relationships_co_cid");
    expect("state:modified+", "stg_orders customer_orders daily report not_null_stg_orders_id "
                              "unique_customer_orders_id relationships_co_cid assert_daily_positive");
    expect_ex("state:modified", NULL, IG_TF_RT(TF_MODEL), "stg_orders customer_orders report");
    expect("state:unmodified,resource_type:seed", "country_codes");

    write_file("run_results.json",
               "{\"results\": [{\"unique_id\": \"model.shop.customer_orders\", \"status\": \"error\"},"
               " {\"unique_id\": \"model.shop.daily\", \"status\": \"skipped\"},"
               " {\"unique_id\": \"test.shop.not_null_stg_orders_id\", \"status\": \"fail\"},"
               " {\"unique_id\": \"model.shop.stg_orders\", \"status\": \"success\"}]}");
    expect("result:fail", "not_null_stg_orders_id");
    expect("result:error+", "customer_orders daily report unique_customer_orders_id "
                            "relationships_co_cid assert_daily_positive");
    expect("result:error result:fail", "customer_orders not_null_stg_orders_id "
                                       "unique_customer_orders_id relationships_co_cid");
    expect("result:skipped", "daily assert_daily_positive");
}

static void test_yaml_selectors(void **state)
{
    write_file("selectors.yml",
               "selectors:\n"
               "  - name: marts_no_report\n"
               "    definition:\n"
               "      union:\n"
               "        - method: path\n"
               "          value: models/marts\n"
               "        - exclude:\n"
               "            - method: fqn\n"
               "              value: report\n"
               "  - name: staging_up\n"
               "    default: true\n"
               "    definition:\n"
               "      method: tag\n"
               "      value: staging\n"
               "      parents: true\n"
               "      indirect_selection: cautious\n"
               "  - name: inter\n"
               "    definition:\n"
               "      intersection:\n"
               "        - tag:daily\n"
               "        - resource_type: model\n"
               "  - name: nested\n"
               "    definition:\n"
               "      method: selector\n"
               "      value: inter\n"
               "  - name: kids\n"
               "    definition:\n"
               "      method: fqn\n"
               "      value: stg_customers\n"
               "      children: true\n"
               "      children_depth: 1\n"
               "  - name: loop\n"
               "    definition: {method: selector, value: loop}\n");
    FILE *quiet = fopen("/dev/null", "w");
    ig_tf_select_opts o = {.selector = "marts_no_report", .out = quiet};
    ig_error e;
    assert_string_equal(run_sel(&o, &e), "customer_orders daily unique_customer_orders_id "
                                         "relationships_co_cid assert_daily_positive");
    o.selector = "inter";
    assert_string_equal(run_sel(&o, &e), "stg_orders daily not_null_stg_orders_id assert_daily_positive");
    o.selector = "nested";
    assert_string_equal(run_sel(&o, &e), "stg_orders daily not_null_stg_orders_id assert_daily_positive");
    o.selector = "kids";
    assert_string_equal(run_sel(&o, &e), "stg_customers customer_orders snap_customers "
                                         "unique_customer_orders_id relationships_co_cid");
    /* default: true applies when neither --select nor --selector is given */
    o.selector = NULL;
    assert_string_equal(run_sel(&o, &e), "orders customers stg_orders stg_customers not_null_stg_orders_id");
    /* but --select wins over the default */
    o.select = "report";
    assert_string_equal(run_sel(&o, &e), "report");
    o.selector = "inter";
    assert_string_equal(run_sel(&o, &e), "ERR:usage");
    o.select = NULL;
    o.selector = "intr";
    assert_string_equal(run_sel(&o, &e), "ERR:not_found");
    assert_string_equal(e.hint, "did you mean 'inter'?");
    o.selector = "loop";
    assert_string_equal(run_sel(&o, &e), "ERR:config");
    write_file("selectors.yml", "selectors:\n  - name: x\n");
    o.selector = "x";
    assert_string_equal(run_sel(&o, &e), "ERR:config");
    char *p = ig_asprintf("%s/selectors.yml", F.dir);
    unlink(p);
    free(p);
    fclose(quiet);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_graph_operators),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_set_operations),
        cmocka_unit_test(test_indirect_modes),
        cmocka_unit_test(test_errors_and_warnings),
        cmocka_unit_test(test_state_and_result),
        cmocka_unit_test(test_yaml_selectors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
