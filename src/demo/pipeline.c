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

static char *quoted_relation(ig_wh *wh, const char *schema, const char *name)
{
    ig_buf b = IG_BUF_INIT;
    ig_wh_quote_relation(wh, &b, schema, name);
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
    /* the raw zone first: a crash after it leaves loads without files,
     * which the next run's reset removes too */
    char *raw = ig_path_join(d->lake, "raw/" IG_DEMO_SOURCE);
    if (ig_fs_exists(raw) && nftw(raw, rm_entry, 16, FTW_DEPTH | FTW_PHYS)) {
        ig_err(err, IG_ERR_IO, "cannot remove the demo's raw files in %s: %s", raw,
               strerror(errno));
        free(raw);
        return IG_ERR_IO;
    }
    free(raw);
    ig_wh_relation *rels = NULL;
    size_t n = 0;
    ig_rc rc = ig_wh_list_relations(d->wh, "bronze", &rels, &n, err);
    if (rc) return rc;
    rc = ig_wh_begin(d->wh, err);
    for (size_t i = 0; i < n && !rc; i++) {
        if (strncmp(rels[i].name, IG_DEMO_SOURCE "__", strlen(IG_DEMO_SOURCE "__"))) continue;
        ig_buf sql = IG_BUF_INIT;
        ig_buf_puts(&sql, strcmp(rels[i].kind, "view") ? "DROP TABLE " : "DROP VIEW ");
        ig_wh_quote_relation(d->wh, &sql, "bronze", rels[i].name);
        rc = ig_wh_exec(d->wh, sql.data, err);
        ig_buf_free(&sql);
    }
    ig_wh_relations_free(rels, n);
    if (!rc) {
        char *source = quoted_literal(d->wh, IG_DEMO_SOURCE);
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
    if (r.files != IG_DEMO_NSTREAMS || counts.rejected) {
        ig_err(err, IG_ERR_INTERNAL,
               "the demo source ingested %zu files (%lld rows rejected); expected %d and none",
               r.files, (long long)counts.rejected, IG_DEMO_NSTREAMS);
        ig_err_hint(err, "see sources.demo in the demo's ingot.yml and SELECT * FROM ingot.loads");
        return IG_ERR_INTERNAL;
    }
    int64_t total = 0;
    for (int s = 0; s < IG_DEMO_NSTREAMS && !rc; s++) {
        char table[64];
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

static ig_rc build_models(ig_demo_ctx *d, const ig_demo_model *models, int layer, ig_error *err)
{
    int64_t total = 0;
    int tables = 0;
    ig_rc rc = ig_wh_begin(d->wh, err);
    if (rc) return rc;
    for (const ig_demo_model *m = models; m->name && !rc; m++) {
        char *relation = quoted_relation(d->wh, m->schema, m->name);
        const char *kv[] = {"relation", relation, "sql", m->sql};
        ig_buf sql = IG_BUF_INIT;
        rc = fill(&sql, d->sql->materialize, kv, 4, err);
        if (!rc) rc = ig_wh_exec(d->wh, sql.data, err);
        int64_t n = 0;
        if (!rc) rc = count_rows(d->wh, m->schema, m->name, &n, err);
        if (rc) ig_err_prefix(err, "building %s.%s", m->schema, m->name);
        total += n;
        tables++;
        ig_buf_free(&sql);
        free(relation);
    }
    if (!rc) rc = ig_wh_commit(d->wh, err);
    if (rc) {
        ig_wh_rollback(d->wh);
        return rc;
    }
    d->stats.layer_rows[layer] = total;
    d->stats.layer_tables[layer] = tables;
    char n[32];
    ig__demo_thousands(n, sizeof n, total);
    const char *name = layer == 1 ? "silver" : "gold";
    ig__demo_progress(d, layer == 1 ? "demo.silver" : "demo.gold", "%s: %d tables, %s rows", name,
                      tables, n);
    return IG_OK;
}

ig_rc ig__demo_silver(ig_demo_ctx *d, ig_error *err)
{
    uint64_t t0 = ig_now_ns();
    ig_rc rc = build_models(d, d->sql->silver, 1, err);
    d->stats.ns_silver = ig_now_ns() - t0;
    return rc;
}

ig_rc ig__demo_gold(ig_demo_ctx *d, ig_error *err)
{
    uint64_t t0 = ig_now_ns();
    ig_rc rc = build_models(d, d->sql->gold, 2, err);
    d->stats.ns_gold = ig_now_ns() - t0;
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
