/* Task kinds: what a pipeline task does. A kind is a vtable in a registry
 * (task_kinds.c): `shell` and `sql` here; layers register theirs (ingest,
 * build/run/test/seed/snapshot, sync, quality) as they arrive, through the
 * same table. */
#ifndef IG_TASK_H
#define IG_TASK_H

#include "core/error.h"
#include "orchestrate/pipeline.h"
#include "project/config.h"
#include "project/yaml.h"
#include "warehouse/warehouse.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* What a try of a task runs with. */
typedef struct ig_task_ctx {
    const ig_project *project;
    const ig_pipeline *pipeline;
    const ig_task *task;
    const char *run_id;
    int try_number;              /* 1-based */
    int64_t interval_start;      /* data interval, UTC seconds */
    int64_t interval_end;
    const char *vars[8][2];      /* template variables: ds, data_interval_start, ... */
    size_t nvars;
    FILE *log;                   /* the try's log file */
    int64_t deadline_ms;         /* monotonic ms; 0 = none */
    volatile sig_atomic_t *cancel; /* set to stop the try (timeout, shutdown) */
    ig_wh *wh;                   /* a connection of the try's own (kinds that need SQL) */
} ig_task_ctx;

struct ig_task_kind {
    const char *name;
    const char *summary;
    const char *const *keys; /* kind-specific keys (NULL-terminated) */
    /* validate the task's kind-specific settings (positions from node) */
    ig_rc (*check)(const ig_project *p, const ig_yaml *node, ig_error *err);
    /* run one try; return 0 on success. Must stop promptly when *cancel is
     * set or the deadline passes (IG_ERR_INTERRUPTED / "timed out"). */
    ig_rc (*run)(ig_task_ctx *ctx, ig_error *err);
    /* Sensors have poke instead of run: 1 when the condition holds, 0 when
     * not yet, -1 on error. The runner calls it every poke_interval from its
     * own thread, holding no worker slot in between, until it holds or the
     * sensor's timeout passes. It must be quick (a stat, a query). */
    int (*poke)(ig_task_ctx *ctx, ig_error *err);
};

/* Sensor settings of a task: poke_interval (default 30s) and timeout
 * (default 1h), in ms. */
void ig_sensor_settings(const ig_task *t, int64_t *poke_ms, int64_t *timeout_ms);

const ig_task_kind *ig_task_kind_find(const char *name);
/* Names of all kinds (NULL-terminated, static). */
const char *const *ig_task_kind_names(void);

/* Render a task's text field (a Jinja template; see template.c and
 * docs/pipelines.md for the variables) for the try ctx describes. `field`
 * names it in errors ("command", "sql", "vars.label"); `node`, when not
 * NULL, is the YAML scalar the text came from, so errors point into the
 * project's file; `name` is the template's name (a SQL file's path), NULL
 * for `field`. Errors (IG_ERR_TEMPLATE, undefined names included) name the
 * task, the pipeline, the field and file:line:col. Caller frees *out. */
ig_rc ig_task_render(const ig_task_ctx *ctx, const char *field, const ig_yaml *node, const char *name,
                     const char *text, char **out, ig_error *err);

/* Syntax check of a task field's template at load time (IG_ERR_CONFIG with
 * the position); OK for a field without template markup or not a scalar. */
ig_rc ig_task_template_check(const ig_pipeline *pl, const ig_task *t, const char *field, const ig_yaml *node,
                             ig_error *err);

#endif
