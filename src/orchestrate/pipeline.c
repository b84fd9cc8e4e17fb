/* Reading and checking pipeline definitions. */
#include "orchestrate/pipeline.h"
#include "orchestrate/task.h"

#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static const char *const pipeline_keys[] = {
    "schedule", "timezone", "catchup", "start_date", "paused", "max_active_runs", "concurrency", "sla",
    "defaults", "alerts", "tasks", "description", "params", NULL};
static const char *const policy_keys[] = {"retries", "retry_delay", "retry_exponential_backoff",
                                          "max_retry_delay", "execution_timeout", NULL};
static const char *const alert_keys[] = {"slack", "webhook", "log", NULL};

bool ig_parse_duration_ms(const char *s, int64_t *out)
{
    if (!s || !*s) return false;
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0) return false;
    double mult = 1000;
    if (!*end) mult = 1000;
    else if (!strcmp(end, "ms")) mult = 1;
    else if (!strcmp(end, "s")) mult = 1000;
    else if (!strcmp(end, "m")) mult = 60000;
    else if (!strcmp(end, "h")) mult = 3600000;
    else if (!strcmp(end, "d")) mult = 86400000;
    else return false;
    *out = (int64_t)(v * mult);
    return true;
}

int64_t ig_retry_delay_ms(const ig_retry_policy *p, int next_try)
{
    int64_t d = p->retry_delay_ms;
    if (p->exponential)
        for (int i = 2; i < next_try && d < p->max_retry_delay_ms; i++) d *= 2;
    if (p->max_retry_delay_ms > 0 && d > p->max_retry_delay_ms) d = p->max_retry_delay_ms;
    return d;
}

static ig_rc read_duration(const ig_yaml *n, const char *what, int64_t *out, ig_error *err)
{
    const char *s;
    ig_rc rc = ig_yaml_str(n, what, &s, err);
    if (rc) return rc;
    if (!ig_parse_duration_ms(s, out))
        return ig_yaml_error(n, err, "%s: '%s' is not a duration (e.g. 30s, 10m, 2h, 1d)", what, s);
    return IG_OK;
}

static ig_rc read_policy(ig_arena *a, const ig_yaml *map, const char *what, ig_retry_policy *p,
                         ig_error *err)
{
    for (size_t i = 0; i < map->n; i++) {
        const char *k = map->keys[i]->str;
        const ig_yaml *v = map->items[i];
        char *path = ig_arena_printf(a, "%s.%s", what, k);
        ig_rc rc = IG_OK;
        if (!strcmp(k, "retries")) {
            long n;
            rc = ig_yaml_int(v, path, &n, err);
            if (!rc && (n < 0 || n > 100)) rc = ig_yaml_error(v, err, "%s: must be 0 to 100", path);
            p->retries = (int)n;
        } else if (!strcmp(k, "retry_delay")) rc = read_duration(v, path, &p->retry_delay_ms, err);
        else if (!strcmp(k, "retry_exponential_backoff")) rc = ig_yaml_bool(v, path, &p->exponential, err);
        else if (!strcmp(k, "max_retry_delay")) rc = read_duration(v, path, &p->max_retry_delay_ms, err);
        else if (!strcmp(k, "execution_timeout")) rc = read_duration(v, path, &p->timeout_ms, err);
        if (rc) return rc;
    }
    return IG_OK;
}

static void tz_cleanup(void *p) { ig_tz_free(p); }

/* Depth-first search for a cycle; on finding one, describe it. */
static bool find_cycle(ig_arena *a, ig_pipeline *pl, size_t t, int *mark, size_t *stack, size_t depth,
                       char **path)
{
    mark[t] = 1;
    stack[depth] = t;
    for (size_t i = 0; i < pl->tasks[t].ndeps; i++) {
        size_t d = pl->tasks[t].deps[i];
        if (mark[d] == 1) {
            /* the cycle is d ... t -> d, as "depends on" arrows */
            ig_buf b = IG_BUF_INIT;
            size_t from = depth;
            while (from > 0 && stack[from] != d) from--;
            for (size_t k = from; k <= depth; k++) ig_buf_printf(&b, "%s -> ", pl->tasks[stack[k]].name);
            ig_buf_puts(&b, pl->tasks[d].name);
            *path = ig_arena_strdup(a, b.data);
            ig_buf_free(&b);
            return true;
        }
        if (!mark[d] && find_cycle(a, pl, d, mark, stack, depth + 1, path)) return true;
    }
    mark[t] = 2;
    return false;
}

static ig_rc topo_order(ig_arena *a, ig_pipeline *pl, const ig_yaml *tasks_node, ig_error *err)
{
    size_t n = pl->ntasks;
    int *mark = ig_arena_zalloc(a, (n + 1) * sizeof(int));
    size_t *stack = ig_arena_alloc(a, (n + 1) * sizeof(size_t));
    for (size_t t = 0; t < n; t++) {
        char *path = NULL;
        if (!mark[t] && find_cycle(a, pl, t, mark, stack, 0, &path))
            return ig_yaml_error(tasks_node, err,
                                 "pipeline '%s' has a cycle: %s (read 'a -> b' as 'a depends on b')",
                                 pl->name, path);
    }
    /* Kahn's algorithm for a stable order */
    size_t *indeg = ig_arena_zalloc(a, (n + 1) * sizeof(size_t));
    for (size_t t = 0; t < n; t++) indeg[t] = pl->tasks[t].ndeps;
    pl->order = ig_arena_alloc(a, (n + 1) * sizeof(size_t));
    size_t done = 0;
    bool *used = ig_arena_zalloc(a, n + 1);
    while (done < n) {
        for (size_t t = 0; t < n; t++) {
            if (used[t] || indeg[t]) continue;
            used[t] = true;
            pl->order[done++] = t;
            for (size_t u = 0; u < n; u++)
                for (size_t k = 0; k < pl->tasks[u].ndeps; k++)
                    if (pl->tasks[u].deps[k] == t) indeg[u]--;
        }
    }
    return IG_OK;
}

static ig_rc read_task(ig_arena *a, const ig_project *p, ig_pipeline *pl, const ig_yaml *tn, ig_task *t,
                       ig_error *err)
{
    if (tn->kind != IG_Y_MAP)
        return ig_yaml_error(tn, err, "pipeline '%s': each task is a map with name: and kind:", pl->name);
    const ig_yaml *name = ig_yaml_get(tn, "name"), *kind = ig_yaml_get(tn, "kind");
    if (!name) return ig_yaml_error(tn, err, "pipeline '%s': a task has no name:", pl->name);
    ig_rc rc = ig_yaml_str(name, "name", &t->name, err);
    if (rc) return rc;
    if (!kind) return ig_yaml_error(tn, err, "task '%s' of pipeline '%s' has no kind:", t->name, pl->name);
    const char *kname;
    rc = ig_yaml_str(kind, "kind", &kname, err);
    if (rc) return rc;
    t->kind = ig_task_kind_find(kname);
    if (!t->kind) {
        const char *const *names = ig_task_kind_names();
        size_t nn = 0;
        while (names[nn]) nn++;
        ig_yaml_error(kind, err, "task '%s': unknown task kind '%s'", t->name, kname);
        const char *s = ig_str_suggest(kname, names, nn);
        ig_buf b = IG_BUF_INIT;
        for (size_t i = 0; i < nn; i++) ig_buf_printf(&b, "%s%s", i ? ", " : "", names[i]);
        if (s) ig_err_hint(err, "did you mean '%s'? Kinds: %s", s, b.data);
        else ig_err_hint(err, "the kinds are: %s", b.data);
        ig_buf_free(&b);
        return IG_ERR_CONFIG;
    }
    t->node = tn;
    t->policy = pl->defaults;
    t->trigger = IG_TRIGGER_ALL_SUCCESS;
    /* allowed keys: common + policy + the kind's */
    const char *allowed[64];
    size_t na = 0;
    static const char *const common[] = {"name", "kind", "depends_on", "trigger_rule", "description", "params", NULL};
    for (const char *const *k = common; *k; k++) allowed[na++] = *k;
    for (const char *const *k = policy_keys; *k; k++) allowed[na++] = *k;
    for (const char *const *k = t->kind->keys; k && *k && na < 63; k++) allowed[na++] = *k;
    allowed[na] = NULL;
    char *what = ig_arena_printf(a, "pipelines.%s.tasks.%s", pl->name, t->name);
    rc = ig_yaml_check_keys(tn, what, allowed, err);
    if (rc) return rc;
    rc = read_policy(a, tn, what, &t->policy, err);
    if (rc) return rc;
    static const char *const templated[] = {"command", "sql", "path", "params", "vars", NULL};
    for (const char *const *f = templated; *f; f++)
        if ((rc = ig_task_template_check(pl, t, *f, ig_yaml_get(tn, *f), err))) return rc;
    const ig_yaml *pn = ig_yaml_get(tn, "params");
    if (pn && pn->kind != IG_Y_MAP && pn->kind != IG_Y_NULL)
        return ig_yaml_error(pn, err, "params: must be a map of names to values");
    const ig_yaml *tr = ig_yaml_get(tn, "trigger_rule");
    if (tr) {
        const char *s;
        rc = ig_yaml_str(tr, "trigger_rule", &s, err);
        if (rc) return rc;
        static const char *const rules[] = {"all_success", "all_done", "one_failed"};
        int found = -1;
        for (int i = 0; i < 3; i++)
            if (!strcmp(s, rules[i])) found = i;
        if (found < 0) {
            ig_yaml_error(tr, err, "task '%s': unknown trigger_rule '%s'", t->name, s);
            const char *sug = ig_str_suggest(s, rules, 3);
            ig_err_hint(err, "%s%s%suse all_success, all_done or one_failed", sug ? "did you mean '" : "",
                        sug ? sug : "", sug ? "'? " : "");
            return IG_ERR_CONFIG;
        }
        t->trigger = (ig_trigger_rule)found;
    }
    const ig_yaml *deps = ig_yaml_get(tn, "depends_on");
    if (deps && deps->kind == IG_Y_SCALAR) {
        t->ndeps = 1;
        t->depends_on = ig_arena_alloc(a, sizeof(char *));
        t->depends_on[0] = deps->str;
    } else if (deps && deps->kind == IG_Y_SEQ) {
        t->ndeps = deps->n;
        t->depends_on = ig_arena_alloc(a, (deps->n + 1) * sizeof(char *));
        for (size_t i = 0; i < deps->n; i++) {
            rc = ig_yaml_str(deps->items[i], "depends_on", &t->depends_on[i], err);
            if (rc) return rc;
        }
    } else if (deps && deps->kind != IG_Y_NULL) {
        return ig_yaml_error(deps, err, "task '%s': depends_on is a task name or a list of them", t->name);
    }
    return t->kind->check ? t->kind->check(p, tn, err) : IG_OK;
}

static ig_rc read_pipeline(ig_arena *a, const ig_project *p, const ig_yaml *key, const ig_yaml *pn,
                           ig_pipeline *pl, ig_error *err)
{
    pl->name = key->str;
    pl->file = key->file;
    pl->line = key->line;
    pl->max_active_runs = 1;
    pl->concurrency = 8;
    pl->defaults = (ig_retry_policy){0, 30000, true, 3600000, 0};
    if (pn->kind != IG_Y_MAP) return ig_yaml_error(pn, err, "pipeline '%s' must be a map with tasks:", pl->name);
    char *what = ig_arena_printf(a, "pipelines.%s", pl->name);
    ig_rc rc = ig_yaml_check_keys(pn, what, pipeline_keys, err);
    if (rc) return rc;
    const ig_yaml *n;
    const char *tzname = "UTC";
    if ((n = ig_yaml_get(pn, "timezone")) && (rc = ig_yaml_str(n, "timezone", &tzname, err))) return rc;
    rc = ig_tz_load(tzname, &pl->tz, err);
    if (rc) {
        if (n) ig_err_at(err, n->file, n->line, n->column);
        return rc;
    }
    ig_arena_on_free(a, tz_cleanup, pl->tz);
    if ((n = ig_yaml_get(pn, "schedule")) && n->kind != IG_Y_NULL) {
        rc = ig_yaml_str(n, "schedule", &pl->schedule, err);
        if (rc) return rc;
        ig_error e2;
        if (ig_cron_parse(pl->schedule, &pl->cron, &e2)) {
            ig_error_clear(err);
            ig_err(err, IG_ERR_CONFIG, "pipeline '%s': %s", pl->name, e2.message);
            ig_err_at(err, n->file, n->line, n->column + (e2.column > 0 ? e2.column - 1 + (n->quoted ? 1 : 0) : 0));
            ig_err_hint(err, "%s", e2.hint);
            return IG_ERR_CONFIG;
        }
    }
    if ((n = ig_yaml_get(pn, "catchup")) && (rc = ig_yaml_bool(n, "catchup", &pl->catchup, err))) return rc;
    pl->start_date = -1;
    if ((n = ig_yaml_get(pn, "start_date"))) {
        const char *s;
        if ((rc = ig_yaml_str(n, "start_date", &s, err))) return rc;
        if (!ig_parse_local_time(s, pl->tz, &pl->start_date))
            return ig_yaml_error(n, err, "start_date: '%s' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM, in "
                                 "the pipeline's timezone; add Z for UTC)", s);
    }
    if ((n = ig_yaml_get(pn, "paused")) && (rc = ig_yaml_bool(n, "paused", &pl->paused, err))) return rc;
    long v;
    if ((n = ig_yaml_get(pn, "max_active_runs"))) {
        if ((rc = ig_yaml_int(n, "max_active_runs", &v, err))) return rc;
        if (v < 1) return ig_yaml_error(n, err, "max_active_runs must be at least 1");
        pl->max_active_runs = (int)v;
    }
    if ((n = ig_yaml_get(pn, "concurrency"))) {
        if ((rc = ig_yaml_int(n, "concurrency", &v, err))) return rc;
        if (v < 1) return ig_yaml_error(n, err, "concurrency must be at least 1");
        pl->concurrency = (int)v;
    }
    if ((n = ig_yaml_get(pn, "sla")) && (rc = read_duration(n, "sla", &pl->sla_ms, err))) return rc;
    if ((n = ig_yaml_get(pn, "defaults"))) {
        if (n->kind != IG_Y_MAP) return ig_yaml_error(n, err, "defaults: must be a map");
        char *dw = ig_arena_printf(a, "%s.defaults", what);
        if ((rc = ig_yaml_check_keys(n, dw, policy_keys, err))) return rc;
        if ((rc = read_policy(a, n, dw, &pl->defaults, err))) return rc;
    }
    if ((n = ig_yaml_get(pn, "alerts"))) {
        if (n->kind != IG_Y_SEQ) return ig_yaml_error(n, err, "alerts: must be a list (- slack: URL)");
        pl->alerts = ig_arena_zalloc(a, (n->n + 1) * sizeof(ig_alert_target));
        for (size_t i = 0; i < n->n; i++) {
            const ig_yaml *an = n->items[i];
            if (an->kind != IG_Y_MAP || an->n != 1)
                return ig_yaml_error(an, err, "each alert is one of: slack: URL, webhook: URL, log: true");
            if ((rc = ig_yaml_check_keys(an, "alerts", alert_keys, err))) return rc;
            pl->alerts[i].kind = an->keys[0]->str;
            if (strcmp(pl->alerts[i].kind, "log") &&
                (rc = ig_yaml_str(an->items[0], pl->alerts[i].kind, &pl->alerts[i].url, err)))
                return rc;
        }
        pl->nalerts = n->n;
    }
    if ((n = ig_yaml_get(pn, "params")) && n->kind != IG_Y_NULL) {
        if (n->kind != IG_Y_MAP) return ig_yaml_error(n, err, "params: must be a map of names to values");
        if ((rc = ig_task_template_check(pl, NULL, "params", n, err))) return rc;
        pl->params = n;
    }
    const ig_yaml *tasks = ig_yaml_get(pn, "tasks");
    if (!tasks || tasks->kind != IG_Y_SEQ || tasks->n == 0)
        return ig_yaml_error(tasks ? tasks : pn, err, "pipeline '%s' needs tasks: (a list of tasks)", pl->name);
    pl->ntasks = tasks->n;
    pl->tasks = ig_arena_zalloc(a, tasks->n * sizeof(ig_task));
    for (size_t i = 0; i < tasks->n; i++) {
        if ((rc = read_task(a, p, pl, tasks->items[i], &pl->tasks[i], err))) return rc;
        for (size_t k = 0; k < i; k++)
            if (!strcmp(pl->tasks[k].name, pl->tasks[i].name))
                return ig_yaml_error(ig_yaml_get(tasks->items[i], "name"), err,
                                     "pipeline '%s' has two tasks named '%s'", pl->name, pl->tasks[i].name);
    }
    for (size_t i = 0; i < pl->ntasks; i++) {
        ig_task *t = &pl->tasks[i];
        t->deps = ig_arena_alloc(a, (t->ndeps + 1) * sizeof(size_t));
        for (size_t d = 0; d < t->ndeps; d++) {
            size_t found = (size_t)-1;
            const char *names[256];
            size_t nn = 0;
            for (size_t k = 0; k < pl->ntasks; k++) {
                if (!strcmp(pl->tasks[k].name, t->depends_on[d])) found = k;
                if (nn < 256) names[nn++] = pl->tasks[k].name;
            }
            if (found == (size_t)-1) {
                const ig_yaml *dn = ig_yaml_get(t->node, "depends_on");
                if (dn && dn->kind == IG_Y_SEQ && d < dn->n) dn = dn->items[d];
                ig_yaml_error(dn, err, "task '%s' depends on '%s', which is not a task of pipeline '%s'",
                              t->name, t->depends_on[d], pl->name);
                const char *s = ig_str_suggest(t->depends_on[d], names, nn);
                if (s) ig_err_hint(err, "did you mean '%s'?", s);
                return IG_ERR_CONFIG;
            }
            if (found == i)
                return ig_yaml_error(ig_yaml_get(t->node, "depends_on"), err, "task '%s' depends on itself", t->name);
            t->deps[d] = found;
        }
    }
    return topo_order(a, pl, tasks, err);
}

static ig_rc add_map(ig_arena *a, const ig_project *p, const ig_yaml *map, ig_pipeline **items, size_t *n,
                     size_t *cap, ig_error *err)
{
    if (!map || map->kind == IG_Y_NULL) return IG_OK;
    if (map->kind != IG_Y_MAP)
        return ig_yaml_error(map, err, "pipelines: must be a map of pipeline names to pipelines");
    for (size_t i = 0; i < map->n; i++) {
        for (size_t k = 0; k < *n; k++)
            if (!strcmp((*items)[k].name, map->keys[i]->str)) {
                ig_yaml_error(map->keys[i], err, "pipeline '%s' is defined twice", map->keys[i]->str);
                ig_err_hint(err, "the other one is at %s:%d", (*items)[k].file, (*items)[k].line);
                return IG_ERR_CONFIG;
            }
        if (*n == *cap) {
            ig_pipeline *bigger = ig_arena_zalloc(a, (*cap * 2 + 4) * sizeof(ig_pipeline));
            if (*n) memcpy(bigger, *items, *n * sizeof(ig_pipeline));
            *items = bigger;
            *cap = *cap * 2 + 4;
        }
        ig_rc rc = read_pipeline(a, p, map->keys[i], map->items[i], &(*items)[*n], err);
        if (rc) return rc;
        (*n)++;
    }
    return IG_OK;
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

ig_rc ig_pipelines_load(ig_arena *a, const ig_project *p, ig_pipeline_set *out, ig_error *err)
{
    ig_pipeline *items = NULL;
    size_t n = 0, cap = 0;
    ig_rc rc = add_map(a, p, p->root ? ig_yaml_get(p->root, "pipelines") : NULL, &items, &n, &cap, err);
    if (rc) return rc;
    char *dir = ig_path_join(p->dir, "pipelines");
    DIR *d = opendir(dir);
    if (d) {
        char *names[1024];
        size_t nn = 0;
        struct dirent *e;
        while ((e = readdir(d)) && nn < 1024)
            if ((ig_str_ends(e->d_name, ".yml") || ig_str_ends(e->d_name, ".yaml")) && e->d_name[0] != '.')
                names[nn++] = ig_arena_strdup(a, e->d_name);
        closedir(d);
        qsort(names, nn, sizeof(char *), cmpstr);
        for (size_t i = 0; i < nn && !rc; i++) {
            char *path = ig_path_join(dir, names[i]);
            ig_yaml *doc;
            ig_yaml_options opt = {.interpolate_env = true};
            rc = ig_yaml_load(a, path, &opt, &doc, err);
            free(path);
            if (rc) break;
            const ig_yaml *inner = doc->kind == IG_Y_MAP ? ig_yaml_get(doc, "pipelines") : NULL;
            if (inner && doc->n != 1) {
                rc = ig_yaml_error(doc, err, "a pipelines file holds either 'pipelines:' alone or a map of pipelines");
                break;
            }
            rc = add_map(a, p, inner ? inner : doc, &items, &n, &cap, err);
        }
    }
    free(dir);
    if (rc) return rc;
    out->items = items;
    out->n = n;
    return IG_OK;
}

bool ig_parse_local_time(const char *s, const ig_tz *tz, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    int n = sscanf(s, "%d-%d-%d%*[T ]%d:%d:%d", &y, &mo, &d, &h, &mi, &sec);
    if (n < 3 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
    int64_t local = ig_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
    if (strchr(s, 'Z')) {
        *out = local;
        return true;
    }
    int64_t c[2];
    int k = ig_tz_local_to_utc(tz, local, c);
    *out = k ? c[0] : local - ig_tz_offset(tz, local, NULL);
    return true;
}

const ig_pipeline *ig_pipeline_find(const ig_pipeline_set *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (!strcmp(set->items[i].name, name)) return &set->items[i];
    return NULL;
}
