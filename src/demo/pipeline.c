/* The demo's steps after generation (drop.c), one function each: clear the
 * previous run's demo data, ingest the drop folder into bronze through the
 * file-ingest layer (the files source `demo` of ingot.yml), build silver,
 * build gold. Silver and gold are stand-ins for the dbt runner and are meant
 * to be replaced by a call into it, keeping the demo on the most real path
 * there is. All SQL comes from the dialect table (sql_<driver>.c); every
 * identifier and value spliced into it is quoted by the warehouse. */
#include "demo/demo_int.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "ingest/files/sources.h"
#include "lake/lake.h"
#include "transform/transform.h"
#include "demo/dbt_project.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ig__demo_thousands(char *out, size_t n, int64_t v)
{
    char digits[32];
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)a);
    size_t o = 0;
    if (v < 0 && o + 1 < n) out[o++] = '-';
    for (int i = 0; i < len && o + 1 < n; i++) {
        if (i && (len - i) % 3 == 0 && o + 1 < n) out[o++] = ',';
        if (o + 1 < n) out[o++] = digits[i];
    }
    out[o] = 0;
}

void ig__demo_progress(ig_demo_ctx *d, const char *event, const char *fmt, ...)
{
    if (d->opt->quiet) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (d->opt->stderr_tty)
        fprintf(stderr, "%s\n", msg);
    else
        ig_log_kv(IG_LOG_INFO, event, msg, NULL);
}

/* ---------------------------------------------------------------- SQL */

/* Fill {{name}} placeholders of tmpl from (name, value) pairs; the values
 * are SQL already quoted. An unknown placeholder is a bug in the dialect
 * file: IG_ERR_INTERNAL. */
static ig_rc fill(ig_buf *out, const char *tmpl, const char *const *kv, size_t nkv, ig_error *err)
{
    const char *p = tmpl;
    for (;;) {
        const char *open = strstr(p, "{{");
        if (!open) break;
        ig_buf_append(out, p, (size_t)(open - p));
        const char *close = strstr(open, "}}");
        if (!close) return ig_err(err, IG_ERR_INTERNAL, "demo SQL: unclosed {{ in a template");
        size_t n = (size_t)(close - open - 2);
        size_t i = 0;
        for (; i < nkv; i += 2)
            if (strlen(kv[i]) == n && !memcmp(kv[i], open + 2, n)) break;
        if (i >= nkv)
            return ig_err(err, IG_ERR_INTERNAL, "demo SQL: unknown placeholder {{%.*s}}", (int)n,
                          open + 2);
        ig_buf_puts(out, kv[i + 1]);
        p = close + 2;
    }
    ig_buf_puts(out, p);
    return IG_OK;
}

static char *quoted_literal(ig_wh *wh, const char *s)
{
    ig_buf b = IG_BUF_INIT;
    ig_wh_quote_literal(wh, &b, s);
    return ig_buf_steal(&b);
}

static ig_rc count_rows(ig_wh *wh, const char *schema, const char *name, int64_t *n, ig_error *err)
{
    ig_buf sql = IG_BUF_INIT;
    ig_buf_puts(&sql, "SELECT count(*) FROM ");
    ig_wh_quote_relation(wh, &sql, schema, name);
    ig_rc rc = ig_wh_query_int(wh, sql.data, n, err);
    ig_buf_free(&sql);
    return rc;
}

/* ----------------------------------------------------------------- reset */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path) && errno != ENOENT ? -1 : 0;
}

ig_rc ig__demo_reset(ig_demo_ctx *d, ig_error *err)
{
    /* the files source (demo) and the events source (web) */
    static const char *const sources[] = {IG_DEMO_SOURCE, IG_DEMO_WEB_SOURCE};
    /* the raw zone first: a crash after it leaves loads without files,
     * which the next run's reset removes too */
    for (size_t k = 0; k < 2; k++) {
        char *sub = ig_asprintf("raw/%s", sources[k]);
        char *raw = ig_path_join(d->lake, sub);
        free(sub);
        if (ig_fs_exists(raw) && nftw(raw, rm_entry, 16, FTW_DEPTH | FTW_PHYS)) {
            ig_err(err, IG_ERR_IO, "cannot remove the demo's raw files in %s: %s", raw,
                   strerror(errno));
            free(raw);
            return IG_ERR_IO;
        }
        free(raw);
    }
    ig_rc rc = ig_wh_begin(d->wh, err);
    for (int layer = 0; layer < 2 && !rc; layer++) {
        const char *schema = layer ? "silver" : "bronze";
        ig_wh_relation *rels = NULL;
        size_t n = 0;
        rc = ig_wh_list_relations(d->wh, schema, &rels, &n, err);
        for (size_t i = 0; i < n && !rc; i++) {
            bool ours = false;
            for (size_t k = 0; k < 2; k++) {
                size_t pl = strlen(sources[k]);
                if (!strncmp(rels[i].name, sources[k], pl) && !strncmp(rels[i].name + pl, "__", 2))
                    ours = layer == 0 || k == 1; /* silver: only the loader's web__events view */
            }
            if (!ours) continue;
            ig_buf sql = IG_BUF_INIT;
            ig_buf_puts(&sql, strcmp(rels[i].kind, "view") ? "DROP TABLE " : "DROP VIEW ");
            ig_wh_quote_relation(d->wh, &sql, schema, rels[i].name);
            rc = ig_wh_exec(d->wh, sql.data, err);
            ig_buf_free(&sql);
        }
        ig_wh_relations_free(rels, n);
    }
    if (!rc) {
        /* the snapshot keeps history across builds; a new demo starts it again */
        ig_buf sql = IG_BUF_INIT;
        ig_buf_puts(&sql, "DROP TABLE IF EXISTS ");
        ig_wh_quote_relation(d->wh, &sql, "silver", IG_DEMO_SNAPSHOT);
        rc = ig_wh_exec(d->wh, sql.data, err);
        ig_buf_free(&sql);
    }
    for (size_t k = 0; k < 2 && !rc; k++) {
        char *source = quoted_literal(d->wh, sources[k]);
        const char *kv[] = {"source", source};
        ig_buf sql = IG_BUF_INIT;
        rc = fill(&sql, d->sql->reset_loads, kv, 2, err);
        if (!rc) rc = ig_wh_exec(d->wh, sql.data, err);
        ig_buf_free(&sql);
        free(source);
    }
    if (!rc) rc = ig_wh_commit(d->wh, err);
    if (rc) {
        ig_wh_rollback(d->wh);
        ig_err_prefix(err, "clearing the previous demo data");
    }
    return rc;
}

/* ---------------------------------------------------------------- bronze */

typedef struct ingest_report {
    ig_demo_ctx *d;
    size_t files;
} ingest_report;

/* One line per file, as `ingot ingest demo` prints one. */
static void on_file(void *ctx, const char *what, const ig_ingest_result *res, ig_rc rc,
                    const ig_error *err)
{
    ingest_report *r = ctx;
    (void)err;
    const char *name = strrchr(what, '/');
    name = name ? name + 1 : what;
    if (rc) return; /* the error is returned by ig_ingest_source */
    r->files++;
    char n[32];
    ig__demo_thousands(n, sizeof n, res->rows_accepted);
    if (res->outcome == IG_INGEST_UNCHANGED)
        ig__demo_progress(r->d, "demo.ingest", "ingesting %s/%s… unchanged (batch %s)",
                          IG_DEMO_DROP, name, res->batch_id);
    else
        ig__demo_progress(r->d, "demo.ingest", "ingesting %s/%s… %s rows -> %s (batch %s)%s",
                          IG_DEMO_DROP, name, n, res->relation, res->batch_id,
                          res->rows_rejected ? ", with rejected rows" : "");
}

ig_rc ig__demo_bronze(ig_demo_ctx *d, ig_error *err)
{
    uint64_t t0 = ig_now_ns();
    ig_lake *lake = NULL;
    ig_rc rc = ig_lake_open(d->lake, &lake, err);
    if (rc) return rc;
    ingest_report r = {.d = d};
    ig_ingest_run_opts ro = {.quiet = true, .tty = 0, .report = on_file, .report_ctx = &r};
    ig_ingest_counts counts = {0};
    rc = ig_ingest_source(d->arena, d->project, lake, d->wh, IG_DEMO_SOURCE, &ro, &counts, err);
    ig_lake_close(lake);
    if (rc) {
        ig_err_prefix(err, "ingesting the demo's files");
        return rc;
    }
    if (r.files != IG_DEMO_NSTREAMS - 1 || counts.rejected) { /* web events: the collector */
        ig_err(err, IG_ERR_INTERNAL,
               "the demo source ingested %zu files (%lld rows rejected); expected %d and none",
               r.files, (long long)counts.rejected, IG_DEMO_NSTREAMS - 1);
        ig_err_hint(err, "see sources.demo in the demo's ingot.yml and SELECT * FROM ingot.loads");
        return IG_ERR_INTERNAL;
    }
    int64_t total = 0;
    for (int s = 0; s < IG_DEMO_NSTREAMS && !rc; s++) {
        char table[64];
        if (s == IG_DEMO_WEB_EVENTS) /* loaded by the collector's loader */
            snprintf(table, sizeof table, "%s__events", IG_DEMO_WEB_SOURCE);
        else
            snprintf(table, sizeof table, "%s__%s", IG_DEMO_SOURCE, ig_demo_stream_name(s));
        int64_t n = 0;
        rc = count_rows(d->wh, "bronze", table, &n, err);
        total += n;
    }
    if (rc) return rc;
    d->stats.layer_rows[0] = total;
    d->stats.layer_tables[0] = IG_DEMO_NSTREAMS;
    d->stats.ns_bronze = ig_now_ns() - t0;
    char n[32];
    ig__demo_thousands(n, sizeof n, total);
    ig__demo_progress(d, "demo.bronze", "bronze: %d tables, %s rows", IG_DEMO_NSTREAMS, n);
    return IG_OK;
}

/* ----------------------------------------------------------- silver, gold */

/* The silver and gold layers are the demo's dbt project (dbt_project.c),
 * written into the demo folder and built as `ingot build` builds it: the
 * seed, the models, the customers snapshot, then every data test, expectation
 * and unit test, each after what it tests. A failing test is a bug in the
 * demo (its data is made to pass); the warning (customers without an email)
 * is expected and shown in the report. */
ig_rc ig__demo_build(ig_demo_ctx *d, ig_error *err)
{
    uint64_t t0 = ig_now_ns();
    char *dir = ig_path_dirname(d->drop);
    ig_rc rc = ig__demo_write_dbt(dir, err);
    if (rc) {
        free(dir);
        return rc;
    }
    ig_transform_options o = {.project_dir = dir, .threads = 0};
    ig_transform_result res;
    rc = ig_transform_build(d->project, d->wh, &o, &res, err);
    free(dir);
    d->stats.ns_build = ig_now_ns() - t0;
    ig_demo_tests *t = &d->stats.tests;
    for (size_t i = 0; i < res.nnodes; i++) {
        const ig_transform_node_result *n = &res.nodes[i];
        const char *rt = n->resource_type ? n->resource_type : "model";
        bool test = !strcmp(rt, "test") || !strcmp(rt, "unit_test");
        if (test) {
            switch (n->status) {
            case IG_TF_SUCCESS: t->pass++; break;
            case IG_TF_WARN:
                if (t->warn++ == 0)
                    snprintf(t->first_warning, sizeof t->first_warning, "%s (%lld rows)", n->name,
                             (long long)n->failures);
                break;
            case IG_TF_FAIL: t->fail++; break;
            default: t->error++; break;
            }
        } else if (!strcmp(rt, "seed")) {
            t->seeds++;
        } else if (!strcmp(rt, "snapshot")) {
            t->snapshots++;
        }
    }
    if (rc == IG_ERR_FAILED) {
        /* name the first failure: the demo's data is made to pass its tests */
        for (size_t i = 0; i < res.nnodes; i++) {
            const ig_transform_node_result *n = &res.nodes[i];
            if (n->status != IG_TF_ERROR && n->status != IG_TF_FAIL) continue;
            ig_err(err, IG_ERR_INTERNAL, "the demo's dbt project failed at %s: %s", n->name,
                   n->message ? n->message : "failed");
            ig_err_hint(err, "run `ingot build` in the demo folder to see every result; "
                             "target/run_results.json has them too");
            break;
        }
        rc = IG_ERR_INTERNAL;
    }
    /* models, seeds and snapshots per layer (by the schema of their relation) */
    static const char *const schemas[] = {"silver", "gold"};
    int kinds[3][3] = {{0}}; /* [layer][model, seed, snapshot] */
    for (size_t i = 0; i < res.nnodes && !rc; i++) {
        const ig_transform_node_result *n = &res.nodes[i];
        const char *rt = n->resource_type ? n->resource_type : "model";
        int kind = !strcmp(rt, "model") ? 0 : !strcmp(rt, "seed") ? 1 : !strcmp(rt, "snapshot") ? 2 : -1;
        if (kind < 0 || !n->relation) continue;
        for (int layer = 1; layer <= 2; layer++) {
            char q[32];
            snprintf(q, sizeof q, ".\"%s\".", schemas[layer - 1]);
            if (strstr(n->relation, q)) kinds[layer][kind]++;
        }
    }
    ig_transform_result_free(&res);
    if (rc) return rc;
    /* rows per layer, as the report shows them: every table of its schema */
    for (int layer = 1; layer <= 2 && !rc; layer++) {
        ig_wh_cursor *c;
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT table_name FROM information_schema.tables WHERE table_schema = '%s' "
                 "ORDER BY table_name",
                 schemas[layer - 1]);
        rc = ig_wh_query(d->wh, sql, &c, err);
        if (rc) break;
        char names[64][64];
        int k = 0;
        while (k < 64 && ig_wh_cursor_next(c, err) > 0)
            snprintf(names[k++], sizeof names[0], "%s", ig_wh_cursor_value(c, 0)->text);
        ig_wh_cursor_close(c);
        int64_t total = 0;
        for (int i = 0; i < k && !rc; i++) {
            int64_t n = 0;
            rc = count_rows(d->wh, schemas[layer - 1], names[i], &n, err);
            total += n;
        }
        d->stats.layer_rows[layer] = total;
        d->stats.layer_tables[layer] = k;
        char n[32], extra[96] = "";
        ig__demo_thousands(n, sizeof n, total);
        if (kinds[layer][1] || kinds[layer][2])
            snprintf(extra, sizeof extra, ", %d seed%s, %d snapshot%s", kinds[layer][1],
                     kinds[layer][1] == 1 ? "" : "s", kinds[layer][2], kinds[layer][2] == 1 ? "" : "s");
        ig__demo_progress(d, layer == 1 ? "demo.silver" : "demo.gold", "%s: %d models%s; %d tables, %s rows",
                          schemas[layer - 1], kinds[layer][0], extra, k, n);
    }
    if (!rc)
        ig__demo_progress(d, "demo.tests", "tests: %d passed, %d warned, %d failed", t->pass,
                          t->warn, t->fail + t->error);
    return rc;
}

const ig_demo_dialect *ig__demo_dialect(const ig_wh *wh)
{
    static const ig_demo_dialect *const dialects[] = {&ig__demo_sql_duckdb};
    const char *name = ig_wh_driver_name(wh);
    for (size_t i = 0; i < sizeof dialects / sizeof dialects[0]; i++)
        if (!strcmp(dialects[i]->driver, name)) return dialects[i];
    return NULL;
}
