/* Task kinds that run other layers: `ingest` (a files / http_file source
 * through the lake, or a connector sync) and the dbt commands `run`,
 * `build`, `test`, `seed`, `snapshot` (through the transform layer, with the
 * run's data interval as dbt vars). */
#include "orchestrate/task.h"

#include "core/buf.h"
#include "core/mem.h"
#include "core/str.h"
#include "ingest/connectors/conn.h"
#include "ingest/files/sources.h"
#include "lake/lake.h"
#include "transform/transform.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- ingest */

const char *const ig__ingest_task_keys[] = {"source", "stream", "full_refresh", "force", NULL};

ig_rc ig__ingest_task_check(const ig_project *p, const ig_yaml *node, ig_error *err)
{
    const ig_yaml *s = ig_yaml_get(node, "source");
    if (!s) return ig_yaml_error(node, err, "an ingest task needs source: (a source of ingot.yml)");
    const char *name;
    ig_rc rc = ig_yaml_str(s, "source", &name, err);
    if (rc) return rc;
    const ig_yaml *v;
    bool b;
    if ((v = ig_yaml_get(node, "full_refresh")) && (rc = ig_yaml_bool(v, "full_refresh", &b, err))) return rc;
    if ((v = ig_yaml_get(node, "force")) && (rc = ig_yaml_bool(v, "force", &b, err))) return rc;
    const ig_yaml *sources = p && p->root ? ig_yaml_get(p->root, "sources") : NULL;
    if (p && (!sources || !ig_yaml_get(sources, name))) {
        ig_yaml_error(s, err, "ingest task: the project has no source named '%s'", name);
        const char *names[256];
        size_t n = 0;
        for (size_t i = 0; sources && sources->kind == IG_Y_MAP && i < sources->n && n < 256; i++)
            names[n++] = sources->keys[i]->str;
        const char *sug = ig_str_suggest(name, names, n);
        if (sug) ig_err_hint(err, "did you mean '%s'?", sug);
        else ig_err_hint(err, "declare it under 'sources:' in ingot.yml (docs/ingest.md, docs/connectors.md)");
        return IG_ERR_CONFIG;
    }
    return IG_OK;
}

static bool flag(const ig_yaml *node, const char *key)
{
    const ig_yaml *v = ig_yaml_get(node, key);
    bool b = false;
    if (v) ig_yaml_bool(v, key, &b, NULL);
    return b;
}

ig_rc ig__ingest_task_run(ig_task_ctx *ctx, ig_error *err)
{
    const ig_yaml *node = ctx->task->node;
    const char *name = ig_yaml_get(node, "source")->str;
    ig_arena *a = ig_arena_new();
    ig_rc rc;
    if (ig_ingest_is_file_source(ctx->project, name)) {
        ig_lake *lake;
        rc = ig_lake_open(ctx->project->lake.path, &lake, err);
        if (!rc) {
            ig_ingest_run_opts ro = {.force = flag(node, "force"), .quiet = true};
            ig_ingest_counts counts = {0};
            rc = ig_ingest_source(a, ctx->project, lake, ctx->wh, name, &ro, &counts, err);
            fprintf(ctx->log, "[ingot] ingest %s: %zu file(s) loaded, %zu unchanged, %zu failed; %lld rows, %lld rejected\n",
                    name, counts.loaded, counts.unchanged, counts.failed, (long long)counts.rows,
                    (long long)counts.rejected);
            ig_lake_close(lake);
        }
    } else {
        ig_conn *c;
        rc = ig_conn_open(a, ctx->project, name, &c, err);
        if (!rc) {
            const ig_yaml *st = ig_yaml_get(node, "stream");
            ig_conn_sync_opts o = {.stream = st ? st->str : NULL, .full_refresh = flag(node, "full_refresh"),
                                   .quiet = true};
            ig_conn_sync_result res = {0};
            rc = ig_conn_sync(c, ctx->wh, &o, &res, err);
            fprintf(ctx->log, "[ingot] sync %s: %zu stream(s), %zu failed; %lld rows in %lld batch(es)\n", name,
                    res.streams, res.failed, (long long)res.rows, (long long)res.batches);
            ig_conn_close(c);
        }
    }
    if (rc) fprintf(ctx->log, "[ingot] error: %s\n", err->message);
    ig_arena_free(a);
    return rc;
}

/* ------------------------------------------------------------------ run */

const char *const ig__run_task_keys[] = {"select", "exclude", "threads", "full_refresh", "vars", "fail_fast", NULL};

ig_rc ig__run_task_check(const ig_project *p, const ig_yaml *node, ig_error *err)
{
    static const char *const strs[] = {"select", "exclude"};
    ig_rc rc;
    const char *s;
    for (int i = 0; i < 2; i++) {
        const ig_yaml *v = ig_yaml_get(node, strs[i]);
        if (v && (rc = ig_yaml_str(v, strs[i], &s, err))) return rc;
    }
    const ig_yaml *v;
    long n;
    bool b;
    if ((v = ig_yaml_get(node, "threads")) && (rc = ig_yaml_int(v, "threads", &n, err))) return rc;
    if ((v = ig_yaml_get(node, "full_refresh")) && (rc = ig_yaml_bool(v, "full_refresh", &b, err))) return rc;
    if ((v = ig_yaml_get(node, "fail_fast")) && (rc = ig_yaml_bool(v, "fail_fast", &b, err))) return rc;
    if ((v = ig_yaml_get(node, "vars")) && v->kind != IG_Y_MAP)
        return ig_yaml_error(v, err, "vars: must be a map of names to values");
    return IG_OK;
}

typedef ig_rc (*dbt_fn)(const ig_project *, ig_wh *, const ig_transform_options *, ig_transform_result *,
                        ig_error *);

/* The task's error when dbt nodes failed: the failing tests (with their
 * failing rows) and the nodes in error, by name, so the alert and `ingot
 * pipeline status` say what broke without opening the log. */
static void failure_message(const char *cmd, const ig_transform_result *res, ig_error *err)
{
    ig_buf b = IG_BUF_INIT;
    size_t nfail = 0, nerr = 0;
    for (size_t i = 0; i < res->nnodes; i++) nfail += res->nodes[i].status == IG_TF_FAIL;
    for (size_t i = 0; i < res->nnodes; i++) nerr += res->nodes[i].status == IG_TF_ERROR;
    ig_buf_printf(&b, "dbt %s: ", cmd);
    if (nfail) {
        ig_buf_printf(&b, "%zu test%s failed: ", nfail, nfail == 1 ? "" : "s");
        size_t k = 0;
        for (size_t i = 0; i < res->nnodes; i++) {
            const ig_transform_node_result *n = &res->nodes[i];
            if (n->status != IG_TF_FAIL) continue;
            if (k++) ig_buf_puts(&b, ", ");
            ig_buf_puts(&b, n->name ? n->name : n->unique_id);
            if (n->failures >= 0) ig_buf_printf(&b, " (%lld failing row%s)", (long long)n->failures, n->failures == 1 ? "" : "s");
        }
    }
    if (nerr) {
        ig_buf_printf(&b, "%s%zu error%s: ", nfail ? "; " : "", nerr, nerr == 1 ? "" : "s");
        size_t k = 0;
        for (size_t i = 0; i < res->nnodes; i++) {
            const ig_transform_node_result *n = &res->nodes[i];
            if (n->status != IG_TF_ERROR) continue;
            if (k++) ig_buf_puts(&b, ", ");
            ig_buf_printf(&b, "%s %s", n->resource_type ? n->resource_type : "node", n->name ? n->name : n->unique_id);
            if (n->message) { /* first line only */
                size_t len = strcspn(n->message, "\n");
                ig_buf_printf(&b, " (%.*s)", (int)(len > 200 ? 200 : len), n->message);
            }
        }
    }
    if (!nfail && !nerr) ig_buf_puts(&b, err->message);
    if (res->n_skipped) ig_buf_printf(&b, "; %zu skipped", res->n_skipped);
    char msg[sizeof err->message];
    snprintf(msg, sizeof msg, "%s", b.data ? b.data : "");
    ig_buf_free(&b);
    ig_err(err, IG_ERR_FAILED, "%s", msg);
    ig_err_hint(err, "the task's log has dbt's output; fix the data or the test, then run the pipeline again");
}

static ig_rc dbt_task(ig_task_ctx *ctx, const char *cmd, dbt_fn fn, ig_error *err)
{
    const ig_yaml *node = ctx->task->node;
    /* dbt vars: the data interval, then the task's own (templated) */
    ig_buf vars = IG_BUF_INIT;
    ig_buf_putc(&vars, '{');
    for (size_t i = 0; i < ctx->nvars; i++) {
        if (i) ig_buf_putc(&vars, ',');
        ig_json_quote(&vars, ctx->vars[i][0]);
        ig_buf_putc(&vars, ':');
        ig_json_quote(&vars, ctx->vars[i][1]);
    }
    const ig_yaml *tv = ig_yaml_get(node, "vars");
    for (size_t i = 0; tv && i < tv->n; i++) {
        char *val, field[160];
        snprintf(field, sizeof field, "vars.%s", tv->keys[i]->str);
        ig_rc trc = ig_task_render(ctx, field, tv->items[i], NULL, tv->items[i]->str ? tv->items[i]->str : "", &val, err);
        if (trc) {
            ig_buf_free(&vars);
            return trc;
        }
        ig_buf_putc(&vars, ',');
        ig_json_quote(&vars, tv->keys[i]->str);
        ig_buf_putc(&vars, ':');
        ig_json_quote(&vars, val);
        free(val);
    }
    ig_buf_putc(&vars, '}');
    const ig_yaml *v;
    long threads = 0;
    if ((v = ig_yaml_get(node, "threads"))) ig_yaml_int(v, "threads", &threads, NULL);
    ig_transform_options o = {
        .vars = vars.data,
        .select = (v = ig_yaml_get(node, "select")) ? v->str : NULL,
        .exclude = (v = ig_yaml_get(node, "exclude")) ? v->str : NULL,
        .threads = (int)threads,
        .full_refresh = flag(node, "full_refresh"),
        .fail_fast = flag(node, "fail_fast"),
        .out = ctx->log,
        .cancel = ctx->cancel,
    };
    ig_transform_result res;
    memset(&res, 0, sizeof res);
    ig_rc rc = fn(ctx->project, ctx->wh, &o, &res, err);
    if (rc == IG_ERR_FAILED && !(ctx->cancel && *ctx->cancel)) failure_message(cmd, &res, err);
    if (rc) fprintf(ctx->log, "[ingot] error: %s\n", err->message);
    ig_transform_result_free(&res);
    ig_buf_free(&vars);
    return rc;
}

ig_rc ig__run_task_run(ig_task_ctx *ctx, ig_error *err) { return dbt_task(ctx, "run", ig_transform_run, err); }
ig_rc ig__build_task_run(ig_task_ctx *ctx, ig_error *err) { return dbt_task(ctx, "build", ig_transform_build, err); }
ig_rc ig__test_task_run(ig_task_ctx *ctx, ig_error *err) { return dbt_task(ctx, "test", ig_transform_test, err); }
ig_rc ig__seed_task_run(ig_task_ctx *ctx, ig_error *err) { return dbt_task(ctx, "seed", ig_transform_seed, err); }
ig_rc ig__snapshot_task_run(ig_task_ctx *ctx, ig_error *err)
{
    return dbt_task(ctx, "snapshot", ig_transform_snapshot, err);
}
