/* The demo's steps, one function each: land the generated files in the lake,
 * load bronze from them, build silver, build gold. Each is a stand-in for a
 * layer that comes later (file ingest, the dbt runner) and is meant to be
 * replaced by a call into that layer, keeping the demo on the most real path
 * there is. All SQL comes from the dialect table (sql_<driver>.c); every
 * identifier and value spliced into it is quoted by the warehouse. */
#include "demo/demo_int.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
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

/* ------------------------------------------------------------------ land */

/* The file sink: one stream at a time, into <file>.tmp, renamed on end. */
typedef struct lake_sink {
    ig_demo_ctx *d;
    FILE *f;
    char *path, *tmp;
    uint64_t bytes;
} lake_sink;

static char *stream_rel(int stream)
{
    return ig_asprintf("raw/%s/%s/dt=%s/%s.%s", IG_DEMO_SOURCE, ig_demo_stream_name(stream),
                       IG_DEMO_EXPORT_DATE, ig_demo_stream_name(stream),
                       ig_demo_stream_format(stream));
}

static ig_rc lake_write(void *ctx, int stream, const char *data, size_t len, ig_error *err)
{
    lake_sink *s = ctx;
    if (!s->f) {
        char *rel = stream_rel(stream);
        s->path = ig_path_join(s->d->lake, rel);
        free(rel);
        char *dir = ig_path_dirname(s->path);
        ig_rc rc = ig_fs_mkdirs(dir, err);
        free(dir);
        if (rc) return rc;
        s->tmp = ig_asprintf("%s.tmp", s->path);
        s->f = fopen(s->tmp, "wb");
        if (!s->f) {
            ig_err(err, IG_ERR_IO, "cannot write %s: %s", s->tmp, strerror(errno));
            ig_err_hint(err, "check that the project's lake folder is writable");
            return IG_ERR_IO;
        }
        s->bytes = 0;
    }
    if (len && fwrite(data, 1, len, s->f) != len)
        return ig_err(err, IG_ERR_IO, "cannot write %s: %s", s->tmp, strerror(errno));
    s->bytes += len;
    return IG_OK;
}

static void lake_close(lake_sink *s)
{
    if (s->f) fclose(s->f);
    if (s->tmp) unlink(s->tmp);
    free(s->path);
    free(s->tmp);
    s->f = NULL;
    s->path = s->tmp = NULL;
}

static ig_rc lake_end(void *ctx, int stream, int64_t rows, ig_error *err)
{
    lake_sink *s = ctx;
    ig_rc rc = s->f ? IG_OK : lake_write(ctx, stream, NULL, 0, err); /* an empty stream */
    if (rc) return rc;
    if (fflush(s->f) || fsync(fileno(s->f)) || fclose(s->f)) {
        s->f = NULL;
        return ig_err(err, IG_ERR_IO, "cannot write %s: %s", s->tmp, strerror(errno));
    }
    s->f = NULL;
    if (rename(s->tmp, s->path))
        return ig_err(err, IG_ERR_IO, "cannot rename %s: %s", s->tmp, strerror(errno));
    char *dir = ig_path_dirname(s->path);
    rc = ig_fs_sync_dir(dir, err);
    free(dir);
    free(s->tmp);
    s->tmp = NULL;
    free(s->path);
    s->path = NULL;
    if (rc) return rc;
    s->d->stats.raw_rows[stream] = rows;
    s->d->stats.raw_bytes[stream] = s->bytes;
    char n[32];
    ig__demo_thousands(n, sizeof n, rows);
    ig__demo_progress(s->d, "demo.generate", "generating %s… %s rows (%.1f MB)",
                      ig_demo_stream_name(stream), n, (double)s->bytes / 1e6);
    return IG_OK;
}

ig_rc ig__demo_land(ig_demo_ctx *d, ig_error *err)
{
    uint64_t t0 = ig_now_ns();
    lake_sink s = {.d = d};
    ig_demo_sink sink = {&s, lake_write, lake_end};
    ig_demo_gen_options g = {.seed = d->opt->seed, .scale = d->opt->scale};
    ig_rc rc = ig_demo_generate(&g, &sink, err);
    lake_close(&s);
    if (rc) {
        ig_err_prefix(err, "generating the demo data");
        return rc;
    }
    d->stats.ns_generate = ig_now_ns() - t0;
    return IG_OK;
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

/* ---------------------------------------------------------------- bronze */

static ig_rc load_stream(ig_demo_ctx *d, int stream, int64_t *rows, ig_error *err)
{
    char table[64];
    snprintf(table, sizeof table, "%s__%s", IG_DEMO_SOURCE, ig_demo_stream_name(stream));
    char *rel_file = stream_rel(stream);
    char *abs_file = ig_path_join(d->lake, rel_file);
    char *relation = quoted_relation(d->wh, "bronze", table);
    char *path = quoted_literal(d->wh, abs_file);
    char *source = quoted_literal(d->wh, rel_file);
    char *loaded = quoted_literal(d->wh, d->loaded_at);
    char *batch = quoted_literal(d->wh, d->batch_id);
    const char *kv[] = {"relation", relation,    "path", path,       "source_file",
                        source,     "loaded_at", loaded, "batch_id", batch};
    const char *tmpl =
        !strcmp(ig_demo_stream_format(stream), "csv") ? d->sql->bronze_csv : d->sql->bronze_ndjson;
    ig_buf sql = IG_BUF_INIT;
    ig_rc rc = fill(&sql, tmpl, kv, sizeof kv / sizeof kv[0], err);
    if (!rc) rc = ig_wh_exec(d->wh, sql.data, err);
    if (!rc) rc = count_rows(d->wh, "bronze", table, rows, err);
    if (rc) {
        ig_err_prefix(err, "loading %s into bronze.%s", rel_file, table);
        ig_err_at(err, abs_file, 0, 0);
    }
    ig_buf_free(&sql);
    free(rel_file), free(abs_file), free(relation), free(path), free(source), free(loaded),
        free(batch);
    return rc;
}

ig_rc ig__demo_bronze(ig_demo_ctx *d, ig_error *err)
{
    uint64_t t0 = ig_now_ns();
    int64_t total = 0;
    /* one transaction per layer: replaced whole or not at all, and a
     * reader never sees half of it */
    ig_rc rc = ig_wh_begin(d->wh, err);
    if (rc) return rc;
    for (int s = 0; s < IG_DEMO_NSTREAMS && !rc; s++) {
        int64_t n = 0;
        rc = load_stream(d, s, &n, err);
        total += n;
    }
    if (!rc) rc = ig_wh_commit(d->wh, err);
    if (rc) {
        ig_wh_rollback(d->wh);
        return rc;
    }
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
