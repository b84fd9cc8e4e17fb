/* Alerts for pipelines: task failure, retry exhaustion and SLA misses, sent
 * to a Slack incoming webhook, a generic webhook (JSON) and the log. The
 * runner sends one alert per incident (not per retry). Webhook URLs are
 * secrets: they never appear in logs or errors. */
#ifndef IG_ALERT_H
#define IG_ALERT_H

#include "orchestrate/pipeline.h"
#include "project/config.h"

typedef struct ig_alert {
    const char *event;    /* "task_failed", "retries_exhausted", "sla_missed" */
    const char *pipeline;
    const char *task;     /* NULL for run-level events */
    const char *run_id;
    int try_number;
    const char *error;    /* excerpt; cut to 500 characters */
    const char *log_path; /* may be NULL */
} ig_alert;

/* Send to every target of the pipeline (and always to the log). Failures to
 * deliver are logged, never fatal. Blocks up to ~10 s per target. */
void ig_alert_send(const ig_project *p, const ig_pipeline *pl, const ig_alert *a);

/* The JSON bodies (for tests): caller frees. */
char *ig_alert_slack_json(const ig_project *p, const ig_alert *a);
char *ig_alert_webhook_json(const ig_project *p, const ig_alert *a);

#endif
