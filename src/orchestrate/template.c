/* Task templating: the text fields of a task (a shell command, SQL, a
 * sensor's path, dbt vars, params) are Jinja templates rendered with the
 * project's template engine (src/tmpl) in a context describing the run: the
 * data interval (ds, ds_nodash, ts, ts_nodash, data_interval_start/end),
 * run_id, pipeline, task, try_number, params, and Airflow-like helpers
 * (macros.ds_add, macros.ds_format, the same as filters, env_var()).
 * Undefined names are errors (StrictUndefined): a misspelt variable in a
 * shell command must not silently become "". A field without `{{`, `{%` or
 * `{#` is returned as is, so trivial tasks pay nothing. */
#include "orchestrate/task.h"

#include "core/mem.h"
#include "core/str.h"
#include "orchestrate/tz.h"
#include "tmpl/tmpl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool has_template(const char *s) { return strstr(s, "{{") || strstr(s, "{%") || strstr(s, "{#"); }

/* ---------------------------------------------------------------- helpers */

static bool parse_ds(const char *s, int *y, unsigned *m, unsigned *d)
{
    char tail;
    return sscanf(s, "%4d-%2u-%2u%c", y, m, d, &tail) == 3 && *m >= 1 && *m <= 12 && *d >= 1 && *d <= 31;
}

/* ds_add(ds, days): the date `days` after (or before) ds, YYYY-MM-DD */
static ig_rc fn_ds_add(ig_tmpl_call *call, void *ud, const ig_tmpl_args *args, ig_tmpl_val *out)
{
    (void)ud;
    static const char *const names[] = {"ds", "days", NULL};
    ig_tmpl_val v[2];
    ig_rc rc = ig_tmpl_bind(call, "ds_add", args, names, 2, v);
    if (rc) return rc;
    int y;
    unsigned m, d;
    if (v[0].type != IG_TMPL_STR || !parse_ds(ig_tmpl_str_ptr(v[0]), &y, &m, &d))
        return ig_tmpl_fail(call, "ds_add: the date must be a string YYYY-MM-DD (like ds)");
    if (v[1].type != IG_TMPL_INT) return ig_tmpl_fail(call, "ds_add: days must be a whole number, like ds_add(ds, -1)");
    if (v[1].u.i > 3660000 || v[1].u.i < -3660000) return ig_tmpl_fail(call, "ds_add: days is out of range");
    ig_civil_from_days(ig_days_from_civil(y, m, d) + v[1].u.i, &y, &m, &d);
    char buf[32];
    snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
    *out = ig_tmpl_str(buf);
    return IG_OK;
}

/* ds_format(ds, input_format, output_format): strptime then strftime */
static ig_rc fn_ds_format(ig_tmpl_call *call, void *ud, const ig_tmpl_args *args, ig_tmpl_val *out)
{
    (void)ud;
    static const char *const names[] = {"ds", "input_format", "output_format", NULL};
    ig_tmpl_val v[3];
    ig_rc rc = ig_tmpl_bind(call, "ds_format", args, names, 3, v);
    if (rc) return rc;
    for (int i = 0; i < 3; i++)
        if (v[i].type != IG_TMPL_STR) return ig_tmpl_fail(call, "ds_format: %s must be a string", names[i]);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(ig_tmpl_str_ptr(v[0]), ig_tmpl_str_ptr(v[1]), &tm);
    if (!end || *end)
        return ig_tmpl_fail(call, "ds_format: '%s' does not match the input format '%s'", ig_tmpl_str_ptr(v[0]),
                            ig_tmpl_str_ptr(v[1]));
    char buf[256];
    size_t n = strftime(buf, sizeof buf, ig_tmpl_str_ptr(v[2]), &tm);
    if (!n && *ig_tmpl_str_ptr(v[2])) return ig_tmpl_fail(call, "ds_format: the output is empty or too long");
    *out = ig_tmpl_strn(buf, n);
    return IG_OK;
}

/* env_var(name, default): as in dbt; an unset variable without a default is
 * an error, never "" */
static ig_rc fn_env_var(ig_tmpl_call *call, void *ud, const ig_tmpl_args *args, ig_tmpl_val *out)
{
    (void)ud;
    static const char *const names[] = {"name", "default", NULL};
    ig_tmpl_val v[2];
    ig_rc rc = ig_tmpl_bind(call, "env_var", args, names, 1, v);
    if (rc) return rc;
    if (v[0].type != IG_TMPL_STR) return ig_tmpl_fail(call, "env_var: the name must be a string");
    const char *val = getenv(ig_tmpl_str_ptr(v[0]));
    if (val) {
        *out = ig_tmpl_str(val);
        return IG_OK;
    }
    if (ig_tmpl_given(v[1])) {
        *out = ig_tmpl_ref(v[1]);
        return IG_OK;
    }
    return ig_tmpl_fail(call, "env_var: the environment variable '%s' is not set: set it for ingot, or give "
                        "a default: env_var('%s', 'value')", ig_tmpl_str_ptr(v[0]), ig_tmpl_str_ptr(v[0]));
}

/* ---------------------------------------------------------------- context */

static const char *var(const ig_task_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->nvars; i++)
        if (!strcmp(ctx->vars[i][0], name)) return ctx->vars[i][1];
    return NULL;
}

static ig_tmpl_env *new_env(void)
{
    ig_tmpl_env *env = ig_tmpl_env_new();
    ig_tmpl_env_strict(env, true);
    ig_tmpl_env_add_func(env, "env_var", fn_env_var, NULL);
    ig_tmpl_env_add_filter(env, "ds_add", fn_ds_add, NULL);
    ig_tmpl_env_add_filter(env, "ds_format", fn_ds_format, NULL);
    ig_tmpl_val macros = ig_tmpl_dict_new();
    ig_tmpl_dict_set(macros, "ds_add", ig_tmpl_func_new("ds_add", fn_ds_add, NULL));
    ig_tmpl_dict_set(macros, "ds_format", ig_tmpl_func_new("ds_format", fn_ds_format, NULL));
    ig_tmpl_env_set_global(env, "macros", macros);
    return env;
}

static ig_tmpl_val base_context(const ig_task_ctx *ctx)
{
    ig_tmpl_val d = ig_tmpl_dict_new();
    for (size_t i = 0; i < ctx->nvars; i++) ig_tmpl_dict_set(d, ctx->vars[i][0], ig_tmpl_str(ctx->vars[i][1]));
    const char *ts = var(ctx, "ts");
    if (ts) { /* 2026-11-24T01:30:00.000000Z -> 20261124T013000 */
        char nd[32];
        size_t n = 0;
        for (const char *c = ts; *c && *c != '.' && *c != 'Z' && n + 1 < sizeof nd; c++)
            if (*c != '-' && *c != ':') nd[n++] = *c;
        nd[n] = 0;
        ig_tmpl_dict_set(d, "ts_nodash", ig_tmpl_str(nd));
    }
    if (ctx->run_id && !var(ctx, "run_id")) ig_tmpl_dict_set(d, "run_id", ig_tmpl_str(ctx->run_id));
    if (ctx->pipeline) ig_tmpl_dict_set(d, "pipeline", ig_tmpl_str(ctx->pipeline->name));
    if (ctx->task) ig_tmpl_dict_set(d, "task", ig_tmpl_str(ctx->task->name));
    ig_tmpl_dict_set(d, "try_number", ig_tmpl_int(ctx->try_number));
    return d;
}

/* position of a template error inside the project's file: the scalar's own
 * position plus the offset in the template (exact for one-line values; for
 * block scalars the line) */
static void place(ig_error *err, const ig_task_ctx *ctx, const char *field, const ig_yaml *node, const char *text,
                  bool in_message)
{
    char msg[sizeof err->message];
    if (ctx->task)
        snprintf(msg, sizeof msg, "task '%s' (pipeline '%s'), %s: %s", ctx->task->name,
                 ctx->pipeline ? ctx->pipeline->name : "?", field, err->message);
    else
        snprintf(msg, sizeof msg, "pipeline '%s', %s: %s", ctx->pipeline ? ctx->pipeline->name : "?", field,
                 err->message);
    snprintf(err->message, sizeof err->message, "%s", msg);
    if (!node || !node->file) return;
    int line = node->line, col = 0;
    if (err->line > 0) {
        if (!strchr(text, '\n')) col = node->column + (err->column > 0 ? err->column - 1 : 0) + (node->quoted ? 1 : 0);
        else line = node->line + err->line; /* a block scalar: the text starts on the next line */
    } else {
        col = node->column;
    }
    ig_err_at(err, node->file, line, col);
    if (in_message) { /* a try's error is stored and shown as one line: keep the position in it */
        char pos[600];
        snprintf(pos, sizeof pos, col ? "%s:%d:%d: " : "%s:%d: ", node->file, line, col);
        snprintf(msg, sizeof msg, "%s%s", pos, err->message);
        snprintf(err->message, sizeof err->message, "%s", msg);
    }
    if (!err->hint[0])
        ig_err_hint(err, "the variables are ds, ds_nodash, ts, ts_nodash, data_interval_start, "
                    "data_interval_end, run_id, pipeline, task, try_number and params; see docs/pipelines.md");
}

static ig_rc render_with(ig_tmpl_env *env, ig_tmpl_val context, const ig_task_ctx *ctx, const char *field,
                         const ig_yaml *node, const char *name, const char *text, char **out, ig_error *err)
{
    ig_tmpl *t;
    ig_rc rc = ig_tmpl_parse(name, text, strlen(text), &t, err);
    if (!rc) {
        ig_buf b = IG_BUF_INIT;
        rc = ig_tmpl_render(env, t, context, &b, err);
        ig_tmpl_free(t);
        if (!rc) {
            *out = ig_buf_steal(&b);
            return IG_OK;
        }
        ig_buf_free(&b);
    }
    place(err, ctx, field, node, text, true);
    return rc;
}

/* a YAML param to a template value; string scalars are themselves rendered */
static ig_rc param_value(ig_tmpl_env *env, ig_tmpl_val base, const ig_task_ctx *ctx, const char *field,
                         const ig_yaml *n, ig_tmpl_val *out, ig_error *err)
{
    ig_rc rc;
    if (n->kind == IG_Y_NULL) {
        *out = ig_tmpl_none();
        return IG_OK;
    }
    if (n->kind == IG_Y_SEQ || n->kind == IG_Y_MAP) {
        ig_tmpl_val c = n->kind == IG_Y_SEQ ? ig_tmpl_list_new() : ig_tmpl_dict_new();
        for (size_t i = 0; i < n->n; i++) {
            ig_tmpl_val v;
            if ((rc = param_value(env, base, ctx, field, n->items[i], &v, err))) {
                ig_tmpl_unref(c);
                return rc;
            }
            if (n->kind == IG_Y_SEQ) ig_tmpl_list_append(c, v);
            else ig_tmpl_dict_set(c, n->keys[i]->str, v);
        }
        *out = c;
        return IG_OK;
    }
    const char *s = n->str;
    if (!n->quoted) {
        char *end;
        errno = 0;
        long long i = strtoll(s, &end, 10);
        if (*s && !*end && !errno) {
            *out = ig_tmpl_int(i);
            return IG_OK;
        }
        double f = strtod(s, &end);
        if (*s && !*end) {
            *out = ig_tmpl_float(f);
            return IG_OK;
        }
        if (!strcmp(s, "true") || !strcmp(s, "false")) {
            *out = ig_tmpl_bool(s[0] == 't');
            return IG_OK;
        }
    }
    if (!has_template(s)) {
        *out = ig_tmpl_str(s);
        return IG_OK;
    }
    char *r;
    if ((rc = render_with(env, base, ctx, field, n, field, s, &r, err))) return rc;
    *out = ig_tmpl_str(r);
    free(r);
    return IG_OK;
}

static ig_rc add_params(ig_tmpl_env *env, ig_tmpl_val base, const ig_task_ctx *ctx, const ig_yaml *params,
                        const char *where, ig_tmpl_val dict, ig_error *err)
{
    for (size_t i = 0; params && params->kind == IG_Y_MAP && i < params->n; i++) {
        char field[160];
        snprintf(field, sizeof field, "%sparams.%s", where, params->keys[i]->str);
        ig_tmpl_val v;
        ig_rc rc = param_value(env, base, ctx, field, params->items[i], &v, err);
        if (rc) return rc;
        ig_tmpl_dict_set(dict, params->keys[i]->str, v);
    }
    return IG_OK;
}

ig_rc ig_task_render(const ig_task_ctx *ctx, const char *field, const ig_yaml *node, const char *name,
                     const char *text, char **out, ig_error *err)
{
    if (!has_template(text)) {
        *out = ig_strdup(text);
        return IG_OK;
    }
    ig_tmpl_env *env = new_env();
    ig_tmpl_val context = base_context(ctx);
    /* the pipeline's params (which see the run's variables), then the
     * task's (which see those too), the task's winning */
    ig_tmpl_val params = ig_tmpl_dict_new();
    ig_rc rc = add_params(env, context, ctx, ctx->pipeline ? ctx->pipeline->params : NULL, "pipeline ", params, err);
    ig_tmpl_dict_set(context, "params", params);
    const ig_yaml *own = ctx->task ? ig_yaml_get(ctx->task->node, "params") : NULL;
    if (!rc && own) {
        ig_tmpl_val merged = ig_tmpl_dict_new(), k, v;
        for (size_t i = 0; ig_tmpl_dict_entry(params, i, &k, &v); i++)
            ig_tmpl_dict_setv(merged, ig_tmpl_ref(k), ig_tmpl_ref(v));
        rc = add_params(env, context, ctx, own, "", merged, err);
        ig_tmpl_dict_set(context, "params", merged);
    }
    if (!rc) rc = render_with(env, context, ctx, field, node, name ? name : field, text, out, err);
    ig_tmpl_unref(context);
    ig_tmpl_env_free(env);
    return rc;
}

ig_rc ig_task_template_check(const ig_pipeline *pl, const ig_task *t, const char *field, const ig_yaml *node,
                             ig_error *err)
{
    if (!node) return IG_OK;
    if (node->kind == IG_Y_MAP || node->kind == IG_Y_SEQ) {
        for (size_t i = 0; i < node->n; i++) {
            char sub[200];
            if (node->kind == IG_Y_MAP) snprintf(sub, sizeof sub, "%s.%s", field, node->keys[i]->str);
            else snprintf(sub, sizeof sub, "%s[%zu]", field, i);
            ig_rc rc = ig_task_template_check(pl, t, sub, node->items[i], err);
            if (rc) return rc;
        }
        return IG_OK;
    }
    if (node->kind != IG_Y_SCALAR || !node->str || !has_template(node->str)) return IG_OK;
    ig_tmpl *tp;
    ig_rc rc = ig_tmpl_parse(field, node->str, strlen(node->str), &tp, err);
    if (!rc) {
        ig_tmpl_free(tp);
        return IG_OK;
    }
    ig_task_ctx ctx = {.pipeline = pl, .task = t};
    place(err, &ctx, field, node, node->str, false);
    err->code = IG_ERR_CONFIG;
    return IG_ERR_CONFIG;
}
