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
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

char *ig_task_expand(const ig_task_ctx *ctx, const char *text)
{
    ig_buf b = IG_BUF_INIT;
    const char *p = text;
    while (*p) {
        const char *open = strstr(p, "{{");
        if (!open) break;
        const char *close = strstr(open + 2, "}}");
        if (!close) break;
        const char *s = open + 2, *e = close;
        while (s < e && *s == ' ') s++;
        while (e > s && e[-1] == ' ') e--;
        const char *val = NULL;
        for (size_t i = 0; i < ctx->nvars; i++)
            if (strlen(ctx->vars[i][0]) == (size_t)(e - s) && !strncmp(ctx->vars[i][0], s, (size_t)(e - s)))
                val = ctx->vars[i][1];
        ig_buf_append(&b, p, (size_t)(open - p));
        if (val) ig_buf_puts(&b, val);
        else ig_buf_append(&b, open, (size_t)(close + 2 - open)); /* not ours: leave it */
        p = close + 2;
    }
    ig_buf_puts(&b, p);
    return ig_buf_steal(&b);
}

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

static ig_rc shell_run(ig_task_ctx *ctx, ig_error *err)
{
    const ig_yaml *node = ctx->task->node;
    char *command = ig_task_expand(ctx, ig_yaml_get(node, "command")->str);
    const ig_yaml *cwdn = ig_yaml_get(node, "cwd");
    char *cwd = cwdn && cwdn->str ? ig_path_join(ctx->project->dir, cwdn->str) : ig_strdup(ctx->project->dir);
    fflush(ctx->log);
    int logfd = fileno(ctx->log);
    pid_t pid = fork();
    if (pid < 0) {
        free(command);
        free(cwd);
        return ig_err(err, IG_ERR_IO, "cannot start the command: %s", strerror(errno));
    }
    if (pid == 0) {
        setpgid(0, 0);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        if (chdir(cwd)) {
            dprintf(2, "cannot change to directory %s: %s\n", cwd, strerror(errno));
            _exit(127);
        }
        setenv("INGOT_PIPELINE", ctx->pipeline->name, 1);
        setenv("INGOT_TASK", ctx->task->name, 1);
        setenv("INGOT_RUN_ID", ctx->run_id, 1);
        char tryno[16];
        snprintf(tryno, sizeof tryno, "%d", ctx->try_number);
        setenv("INGOT_TRY", tryno, 1);
        for (size_t i = 0; i < ctx->nvars; i++) {
            char name[64];
            snprintf(name, sizeof name, "INGOT_%s", ctx->vars[i][0]);
            for (char *c = name; *c; c++) *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
            setenv(name, ctx->vars[i][1], 1);
        }
        const ig_yaml *env = ig_yaml_get(node, "env");
        for (size_t i = 0; env && i < env->n; i++) setenv(env->keys[i]->str, env->items[i]->str, 1);
        execle("/bin/sh", "sh", "-c", command, (char *)NULL, environ);
        _exit(127);
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
    char *sql = ig_task_expand(ctx, text);
    free(text);
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

/* ------------------------------------------------------------- registry */

static const ig_task_kind kinds[] = {
    {"shell", "run a command", shell_keys, shell_check, shell_run},
    {"sql", "run SQL statements on the warehouse", sql_keys, sql_check, sql_run},
};

static const char *const kind_names[] = {"shell", "sql", NULL};

const ig_task_kind *ig_task_kind_find(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].name, name)) return &kinds[i];
    return NULL;
}

const char *const *ig_task_kind_names(void) { return kind_names; }
