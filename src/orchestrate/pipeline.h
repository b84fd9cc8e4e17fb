/* Pipelines: named DAGs of tasks declared in ingot.yml (`pipelines:`) and in
 * pipelines/NAME.yml, with schedules, retries, timeouts and alerts.
 *
 * Lifetimes: an ig_pipeline_set and everything in it live in the arena
 * passed to ig_pipelines_load (the project's arena); time zones are released
 * by an arena cleanup. Task kinds are static (task_kinds.c). */
#ifndef IG_PIPELINE_H
#define IG_PIPELINE_H

#include "core/arena.h"
#include "core/error.h"
#include "orchestrate/cron.h"
#include "orchestrate/tz.h"
#include "project/config.h"
#include "project/yaml.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    IG_TRIGGER_ALL_SUCCESS, /* default: every upstream succeeded */
    IG_TRIGGER_ALL_DONE,    /* every upstream finished, whatever the outcome */
    IG_TRIGGER_ONE_FAILED,  /* at least one upstream failed */
} ig_trigger_rule;

/* Retry and timeout policy (pipeline defaults, overridden per task). */
typedef struct ig_retry_policy {
    int retries;               /* further tries after the first (0) */
    int64_t retry_delay_ms;    /* before the first retry (30s) */
    bool exponential;          /* double the delay each retry (true) */
    int64_t max_retry_delay_ms; /* cap on the delay (1h) */
    int64_t timeout_ms;        /* execution_timeout per try; 0 = none */
} ig_retry_policy;

typedef struct ig_task_kind ig_task_kind;

typedef struct ig_task {
    const char *name;
    const ig_task_kind *kind;
    const ig_yaml *node;     /* the task's YAML map (kind-specific keys) */
    const char **depends_on; /* names */
    size_t ndeps;
    size_t *deps;            /* indices into the pipeline's tasks */
    ig_trigger_rule trigger;
    ig_retry_policy policy;
} ig_task;

typedef struct ig_alert_target {
    const char *kind; /* "slack", "webhook", "log" */
    const char *url;  /* for slack / webhook; never logged */
} ig_alert_target;

typedef struct ig_pipeline {
    const char *name;
    const char *file;        /* where it was declared */
    int line;
    const char *schedule;    /* NULL: manual only */
    ig_cron cron;
    ig_tz *tz;               /* UTC unless `timezone:` */
    bool catchup;            /* false by default */
    int64_t start_date;      /* UTC seconds; -1 when not set (catch-up starts at the first run) */
    bool paused;             /* initial state (the daemon keeps the live state) */
    int max_active_runs;     /* 1 */
    int concurrency;         /* tasks at once in one run (default 8) */
    int64_t sla_ms;          /* 0: none; a run must end within this after its interval ends */
    ig_retry_policy defaults;
    const ig_yaml *params;   /* `params:` (a map) seen by every task's templates, or NULL */
    ig_alert_target *alerts;
    size_t nalerts;
    ig_task *tasks;
    size_t ntasks;
    size_t *order;           /* a topological order of task indices */
} ig_pipeline;

typedef struct ig_pipeline_set {
    ig_pipeline *items;
    size_t n;
} ig_pipeline_set;

/* Read every pipeline of the project: `pipelines:` in ingot.yml and each
 * pipelines/NAME.yml (a map of pipelines, or `pipelines:` inside). Checks:
 * unknown keys and task kinds (with the nearest valid one), bad cron strings
 * and time zones, durations, duplicate names, depends_on naming no task, and
 * cycles (reported with the path a -> b -> a). Every error names
 * file:line:col. */
ig_rc ig_pipelines_load(ig_arena *a, const ig_project *p, ig_pipeline_set *out, ig_error *err);
const ig_pipeline *ig_pipeline_find(const ig_pipeline_set *set, const char *name);

/* "YYYY-MM-DD[ T]HH:MM[:SS]" as local time in tz (UTC when it ends in Z). */
bool ig_parse_local_time(const char *s, const ig_tz *tz, int64_t *out);

/* "30s", "10m", "2h", "1d", "500ms" or a number of seconds -> ms. */
bool ig_parse_duration_ms(const char *s, int64_t *out);

/* Delay before try `next_try` (2 = the first retry) under policy p. */
int64_t ig_retry_delay_ms(const ig_retry_policy *p, int next_try);

#endif
