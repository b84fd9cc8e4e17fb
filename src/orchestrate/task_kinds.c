/* The task-kind registry and the kinds that need no other layer: `shell`
 * (a command in its own process group, stopped with its children on
 * timeout) and `sql` (statements run on the warehouse). */
#include "orchestrate/task.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---------------------------------------------------------------- shell */

static const char *const shell_keys[] = {"command", "cwd", "env", NULL};

static ig_rc shell_check(const ig_project *p, const ig_yaml *node, ig_error *err)
{
    const ig_yaml *c = ig_yaml_get(node, "command");
    if (!c) return ig_yaml_error(node, err, "a shell task needs command:");
    const char *s;
    ig_rc rc = ig_yaml_str(c, "command", &s, err);
    if (rc) return rc;
    const ig_yaml *env = ig_yaml_get(node, "env");
    if (env && env->kind != IG_Y_MAP) return ig_yaml_error(env, err, "env: must be a map of NAME: value");
    for (size_t i = 0; env && i < env->n; i++)
        if ((rc = ig_yaml_str(env->items[i], env->keys[i]->str, &s, err))) return rc;
    return IG_OK;
}

static int64_t mono_ms(void) { return (int64_t)(ig_now_ns() / 1000000); }

/* An environment for a child: NAME=value strings, a later NAME replacing an
 * earlier one. */
typedef struct env_list {
    char **v;
    size_t n, cap;
} env_list;

static void env_put(env_list *l, char *kv)
{
    if (kv) {
        size_t klen = strcspn(kv, "=");
        for (size_t i = 0; i < l->n; i++)
            if (!strncmp(l->v[i], kv, klen) && l->v[i][klen] == '=') {
                free(l->v[i]);
                l->v[i] = kv;
                return;
            }
    }
    if (l->n == l->cap) l->v = ig_realloc(l->v, (l->cap = l->cap * 2 + 64) * sizeof *l->v);
    l->v[l->n++] = kv;
}

static void env_free(env_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
}

static ig_rc shell_run(ig_task_ctx *ctx, ig_error *err)
{
    const ig_yaml *node = ctx->task->node;
    const ig_yaml *cmdn = ig_yaml_get(node, "command");
    char *command;
    ig_rc trc = ig_task_render(ctx, "command", cmdn, NULL, cmdn->str, &command, err);
    if (trc) {
        fprintf(ctx->log, "[ingot] error: %s\n", err->message);
        return trc;
    }
    const ig_yaml *cwdn = ig_yaml_get(node, "cwd");
    char *cwd = cwdn && cwdn->str ? ig_path_join(ctx->project->dir, cwdn->str) : ig_strdup(ctx->project->dir);
    fflush(ctx->log);
    int logfd = fileno(ctx->log);
    /* The environment: ours, then the run's variables, then the task's env. */
    env_list el = {0};
    for (char **e = environ; *e; e++) env_put(&el, ig_strdup(*e));
    env_put(&el, ig_asprintf("INGOT_PIPELINE=%s", ctx->pipeline->name));
    env_put(&el, ig_asprintf("INGOT_TASK=%s", ctx->task->name));
    env_put(&el, ig_asprintf("INGOT_RUN_ID=%s", ctx->run_id));
    env_put(&el, ig_asprintf("INGOT_TRY=%d", ctx->try_number));
    for (size_t i = 0; i < ctx->nvars; i++) {
        char *v = ig_asprintf("INGOT_%s=%s", ctx->vars[i][0], ctx->vars[i][1]);
        for (char *c = v; *c != '='; c++) *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
        env_put(&el, v);
    }
    const ig_yaml *env = ig_yaml_get(node, "env");
    for (size_t i = 0; env && i < env->n; i++)
        env_put(&el, ig_asprintf("%s=%s", env->keys[i]->str, env->items[i]->str ? env->items[i]->str : ""));
    env_put(&el, NULL);
    /* posix_spawn (vfork-like) rather than fork: the daemon's address space
     * is large (DuckDB), and fork copies its page tables under the process's
     * mm lock, so concurrent forks serialize and each costs 100+ ms on a
     * loaded machine; nor is anything but exec safe in a forked child of a
     * threaded process. The child gets its own process group (the timeout
     * kills the group), default signal dispositions and an empty mask (the
     * daemon blocks SIGTERM/SIGINT/SIGHUP in every thread). */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, logfd, 1);
    posix_spawn_file_actions_adddup2(&fa, logfd, 2);
    posix_spawn_file_actions_addchdir_np(&fa, cwd);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none, defs;
    sigemptyset(&none);
    sigemptyset(&defs);
    sigaddset(&defs, SIGTERM);
    sigaddset(&defs, SIGINT);
    sigaddset(&defs, SIGHUP);
    sigaddset(&defs, SIGPIPE);
    sigaddset(&defs, SIGQUIT);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &defs);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {"sh", "-c", command, NULL};
    pid_t pid;
    int serr = posix_spawn(&pid, "/bin/sh", &fa, &at, argv, el.v);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    env_free(&el);
    if (serr) {
        ig_rc rc = serr == ENOENT || serr == ENOTDIR || serr == EACCES
                       ? ig_err(err, IG_ERR_IO, "cannot start the command in %s: %s", cwd, strerror(serr))
                       : ig_err(err, IG_ERR_IO, "cannot start the command: %s", strerror(serr));
        if (cwdn) ig_err_hint(err, "check the task's cwd: (relative to the project folder)");
        fprintf(ctx->log, "[ingot] error: %s\n", err->message);
        free(command);
        free(cwd);
        return rc;
    }
    setpgid(pid, pid); /* also from the parent, so the group exists before a kill */
    free(command);
    free(cwd);
    int status = 0;
    bool timed_out = false, cancelled = false;
    int64_t kill_at = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) break;
        int64_t now = mono_ms();
        if (!kill_at && ctx->deadline_ms && now >= ctx->deadline_ms) {
            timed_out = true;
            kill(-pid, SIGTERM);
            kill_at = now + 2000;
        } else if (!kill_at && ctx->cancel && *ctx->cancel) {
            cancelled = true;
            kill(-pid, SIGTERM);
            kill_at = now + 2000;
        } else if (kill_at && now >= kill_at) {
            kill(-pid, SIGKILL);
            kill_at = INT64_MAX;
        }
        usleep(5000);
    }
    /* whatever the command left behind in its group goes too */
    kill(-pid, SIGKILL);
    if (timed_out) {
        fprintf(ctx->log, "\n[ingot] stopped: execution_timeout of %.0fs reached\n",
                (double)ctx->task->policy.timeout_ms / 1000);
        return ig_err(err, IG_ERR_FAILED, "timed out after %.0fs (execution_timeout); the command "
                      "and its child processes were stopped", (double)ctx->task->policy.timeout_ms / 1000);
    }
    if (cancelled) return ig_err(err, IG_ERR_INTERRUPTED, "stopped (the run was cancelled)");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return IG_OK;
    if (WIFSIGNALED(status))
        return ig_err(err, IG_ERR_FAILED, "the command was killed by signal %d", WTERMSIG(status));
    return ig_err(err, IG_ERR_FAILED, "the command exited with status %d", WEXITSTATUS(status));
}

/* ------------------------------------------------------------------ sql */

static const char *const sql_keys[] = {"sql", "file", NULL};

static ig_rc sql_check(const ig_project *p, const ig_yaml *node, ig_error *err)
{
    const ig_yaml *s = ig_yaml_get(node, "sql"), *f = ig_yaml_get(node, "file");
    if (!s == !f) return ig_yaml_error(node, err, "a sql task needs either sql: or file: (one of them)");
    const char *v;
    return ig_yaml_str(s ? s : f, s ? "sql" : "file", &v, err);
}

static ig_rc sql_run(ig_task_ctx *ctx, ig_error *err)
{
    const ig_yaml *node = ctx->task->node;
    const ig_yaml *s = ig_yaml_get(node, "sql");
    char *text;
    if (s) {
        text = ig_strdup(s->str);
    } else {
        char *path = ig_path_join(ctx->project->dir, ig_yaml_get(node, "file")->str);
        size_t len;
        ig_rc rc = ig_fs_read(path, 64u << 20, &text, &len, err);
        free(path);
        if (rc) return rc;
    }
    char *sql;
    ig_rc trc = ig_task_render(ctx, s ? "sql" : "file", s, s ? NULL : ig_yaml_get(node, "file")->str, text, &sql, err);
    free(text);
    if (trc) {
        fprintf(ctx->log, "[ingot] error: %s\n", err->message);
        return trc;
    }
    fprintf(ctx->log, "[ingot] running SQL:\n%s\n", sql);
    fflush(ctx->log);
    ig_rc rc = ig_wh_exec(ctx->wh, sql, err);
    free(sql);
    if (rc && ctx->cancel && *ctx->cancel) {
        if (ctx->deadline_ms && mono_ms() >= ctx->deadline_ms)
            return ig_err(err, IG_ERR_FAILED, "timed out after %.0fs (execution_timeout)",
                          (double)ctx->task->policy.timeout_ms / 1000);
        return ig_err(err, IG_ERR_INTERRUPTED, "stopped (the run was cancelled)");
    }
    if (rc) fprintf(ctx->log, "[ingot] error: %s\n", err->message);
    else fprintf(ctx->log, "[ingot] done\n");
    return rc;
}

/* -------------------------------------------------------------- sensors */

#include <glob.h>

void ig_sensor_settings(const ig_task *t, int64_t *poke_ms, int64_t *timeout_ms)
{
    *poke_ms = 30000;
    *timeout_ms = 3600000;
    const ig_yaml *n;
    if ((n = ig_yaml_get(t->node, "poke_interval")) && n->str) ig_parse_duration_ms(n->str, poke_ms);
    if ((n = ig_yaml_get(t->node, "timeout")) && n->str) ig_parse_duration_ms(n->str, timeout_ms);
    if (*poke_ms < 10) *poke_ms = 10;
}

static ig_rc sensor_common_check(const ig_yaml *node, ig_error *err)
{
    static const char *const keys[] = {"poke_interval", "timeout"};
    for (int i = 0; i < 2; i++) {
        const ig_yaml *n = ig_yaml_get(node, keys[i]);
        const char *s;
        int64_t ms;
        if (!n) continue;
        ig_rc rc = ig_yaml_str(n, keys[i], &s, err);
        if (rc) return rc;
        if (!ig_parse_duration_ms(s, &ms))
            return ig_yaml_error(n, err, "%s: '%s' is not a duration (e.g. 30s, 10m, 2h)", keys[i], s);
    }
    return IG_OK;
}

static ig_rc require_str(const ig_yaml *node, const char *key, const char *kind, ig_error *err)
{
    const ig_yaml *n = ig_yaml_get(node, key);
    if (!n) return ig_yaml_error(node, err, "a %s task needs %s:", kind, key);
    const char *s;
    return ig_yaml_str(n, key, &s, err);
}

static const char *const file_sensor_keys[] = {"path", "min_files", "poke_interval", "timeout", NULL};

static ig_rc file_sensor_check(const ig_project *p, const ig_yaml *node, ig_error *err)
{
    ig_rc rc = require_str(node, "path", "wait_for_file", err);
    return rc ? rc : sensor_common_check(node, err);
}

static int file_sensor_poke(ig_task_ctx *ctx, ig_error *err)
{
    const ig_yaml *pn = ig_yaml_get(ctx->task->node, "path");
    char *pattern;
    if (ig_task_render(ctx, "path", pn, NULL, pn->str, &pattern, err)) return -1;
    char *full = ig_path_join(ctx->project->dir, pattern);
    long want = 1;
    const ig_yaml *m = ig_yaml_get(ctx->task->node, "min_files");
    if (m && m->str) ig_parse_long(m->str, &want);
    glob_t g;
    int found = glob(full, 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
    if (found) globfree(&g);
    fprintf(ctx->log, "[ingot] poke: %d file(s) match %s (want %ld)\n", found, pattern, want);
    free(pattern);
    free(full);
    return found >= want ? 1 : 0;
}

static const char *const pipeline_sensor_keys[] = {"pipeline", "max_age", "poke_interval", "timeout", NULL};

static ig_rc pipeline_sensor_check(const ig_project *p, const ig_yaml *node, ig_error *err)
{
    ig_rc rc = require_str(node, "pipeline", "wait_for_pipeline", err);
    return rc ? rc : sensor_common_check(node, err);
}

/* Another pipeline has a successful run whose interval ends at or after the
 * end of this run's interval; for a run with an empty interval (a manual run
 * of an unscheduled pipeline), one that finished within max_age (24h). */
static int pipeline_sensor_poke(ig_task_ctx *ctx, ig_error *err)
{
    const char *other = ig_yaml_get(ctx->task->node, "pipeline")->str;
    int64_t max_age_ms = 86400000;
    const ig_yaml *ma = ig_yaml_get(ctx->task->node, "max_age");
    if (ma && ma->str) ig_parse_duration_ms(ma->str, &max_age_ms);
    bool empty = ctx->interval_start == ctx->interval_end;
    ig_param p[3] = {IG_P_TEXT(other), IG_P_TS(ctx->interval_end * 1000000),
                     IG_P_TS(ig_wall_us() - max_age_ms * 1000)};
    int64_t n = 0;
    ig_wh_cursor *c;
    if (ig_wh_query_params(ctx->wh, empty ? "SELECT count(*) FROM ingot.pipeline_runs WHERE pipeline = $1 "
                                            "AND state = 'success' AND ($2 IS NULL OR finished_at >= $3)"
                                          : "SELECT count(*) FROM ingot.pipeline_runs WHERE pipeline = $1 "
                                            "AND state = 'success' AND data_interval_end >= $2 AND $3 IS NOT NULL",
                           p, 3, &c, err))
        return -1;
    if (ig_wh_cursor_next(c, err) > 0) n = ig_wh_cursor_value(c, 0)->i;
    ig_wh_cursor_close(c);
    fprintf(ctx->log, "[ingot] poke: pipeline %s has %lld successful run(s) covering this interval\n",
            other, (long long)n);
    return n > 0;
}

static const char *const fresh_sensor_keys[] = {"relation", "column", "max_age", "poke_interval", "timeout", NULL};

static ig_rc fresh_sensor_check(const ig_project *p, const ig_yaml *node, ig_error *err)
{
    ig_rc rc;
    if ((rc = require_str(node, "relation", "wait_for_freshness", err))) return rc;
    if ((rc = require_str(node, "column", "wait_for_freshness", err))) return rc;
    if ((rc = require_str(node, "max_age", "wait_for_freshness", err))) return rc;
    const ig_yaml *n = ig_yaml_get(node, "max_age");
    int64_t ms;
    if (!ig_parse_duration_ms(n->str, &ms))
        return ig_yaml_error(n, err, "max_age: '%s' is not a duration (e.g. 30m, 2h)", n->str);
    return sensor_common_check(node, err);
}

/* The newest value of `column` in `relation` is younger than max_age. */
static int fresh_sensor_poke(ig_task_ctx *ctx, ig_error *err)
{
    const ig_yaml *node = ctx->task->node;
    const char *rel = ig_yaml_get(node, "relation")->str, *col = ig_yaml_get(node, "column")->str;
    int64_t max_ms = 0;
    ig_parse_duration_ms(ig_yaml_get(node, "max_age")->str, &max_ms);
    ig_buf sql = IG_BUF_INIT;
    ig_buf_puts(&sql, "SELECT epoch_us(max(");
    ig_wh_quote_ident(ctx->wh, &sql, col);
    ig_buf_puts(&sql, ")::TIMESTAMP) FROM ");
    const char *dot = strchr(rel, '.');
    if (dot) {
        char *schema = ig_strndup(rel, (size_t)(dot - rel));
        ig_wh_quote_relation(ctx->wh, &sql, schema, dot + 1);
        free(schema);
    } else {
        ig_wh_quote_ident(ctx->wh, &sql, rel);
    }
    char *newest = NULL;
    ig_rc rc = ig_wh_query_text(ctx->wh, sql.data, &newest, err);
    ig_buf_free(&sql);
    if (rc) {
        /* a relation that does not exist yet is "not yet", not an error */
        fprintf(ctx->log, "[ingot] poke: %s\n", err->message);
        ig_error_clear(err);
        return 0;
    }
    int64_t age_ms = newest ? (ig_wall_us() - strtoll(newest, NULL, 10)) / 1000 : -1;
    fprintf(ctx->log, "[ingot] poke: newest %s.%s is %s old (want under %.0fs)\n", rel, col,
            newest ? "" : "(no rows)", (double)max_ms / 1000);
    free(newest);
    return age_ms >= 0 && age_ms <= max_ms;
}

/* ------------------------------------------------------------- registry */

/* kinds that run other layers (task_layers.c) */
extern const char *const ig__ingest_task_keys[], *const ig__run_task_keys[];
ig_rc ig__ingest_task_check(const ig_project *p, const ig_yaml *node, ig_error *err);
ig_rc ig__ingest_task_run(ig_task_ctx *ctx, ig_error *err);
ig_rc ig__run_task_check(const ig_project *p, const ig_yaml *node, ig_error *err);
ig_rc ig__run_task_run(ig_task_ctx *ctx, ig_error *err);
ig_rc ig__build_task_run(ig_task_ctx *ctx, ig_error *err);
ig_rc ig__test_task_run(ig_task_ctx *ctx, ig_error *err);
ig_rc ig__seed_task_run(ig_task_ctx *ctx, ig_error *err);
ig_rc ig__snapshot_task_run(ig_task_ctx *ctx, ig_error *err);

static const ig_task_kind kinds[] = {
    {"shell", "run a command", shell_keys, shell_check, shell_run, NULL},
    {"sql", "run SQL statements on the warehouse", sql_keys, sql_check, sql_run, NULL},
    {"ingest", "land a source (files, http_file, a database or an API) in the lake and bronze",
     ig__ingest_task_keys, ig__ingest_task_check, ig__ingest_task_run, NULL},
    {"run", "build dbt models (a selection) with the data interval as vars", ig__run_task_keys,
     ig__run_task_check, ig__run_task_run, NULL},
    {"build", "dbt build: seeds, models, snapshots and tests of a selection, in DAG order", ig__run_task_keys,
     ig__run_task_check, ig__build_task_run, NULL},
    {"test", "dbt test: the data tests of a selection; a failing test fails the task", ig__run_task_keys,
     ig__run_task_check, ig__test_task_run, NULL},
    {"seed", "dbt seed: load the project's CSV seeds", ig__run_task_keys, ig__run_task_check, ig__seed_task_run,
     NULL},
    {"snapshot", "dbt snapshot: record changes of the selected snapshots (SCD2)", ig__run_task_keys,
     ig__run_task_check, ig__snapshot_task_run, NULL},
    {"wait_for_file", "wait for files matching a glob", file_sensor_keys, file_sensor_check, NULL,
     file_sensor_poke},
    {"wait_for_pipeline", "wait for another pipeline's run covering this interval",
     pipeline_sensor_keys, pipeline_sensor_check, NULL, pipeline_sensor_poke},
    {"wait_for_freshness", "wait until a table has rows newer than max_age", fresh_sensor_keys,
     fresh_sensor_check, NULL, fresh_sensor_poke},
};

static const char *const kind_names[] = {"shell", "sql", "ingest", "run", "build", "test", "seed", "snapshot",
                                         "wait_for_file", "wait_for_pipeline",
                                         "wait_for_freshness", NULL};

const ig_task_kind *ig_task_kind_find(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].name, name)) return &kinds[i];
    return NULL;
}

const char *const *ig_task_kind_names(void) { return kind_names; }
