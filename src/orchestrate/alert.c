/* Alert delivery with libcurl. */
#include "orchestrate/alert.h"

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void excerpt(ig_buf *b, const char *s)
{
    if (!s) s = "";
    size_t n = strlen(s);
    if (n > 500) {
        ig_buf_append(b, s, 500);
        ig_buf_puts(b, "…");
    } else {
        ig_buf_puts(b, s);
    }
}

static char *link_for(const ig_project *p, const ig_alert *a)
{
    const char *listen = p && p->serve.listen ? p->serve.listen : "127.0.0.1:8080";
    return ig_asprintf("http://%s/pipelines/%s/runs/%s", listen, a->pipeline, a->run_id);
}

static const char *title(const ig_alert *a)
{
    if (!strcmp(a->event, "sla_missed")) return "SLA missed";
    if (!strcmp(a->event, "retries_exhausted")) return "Task failed after all retries";
    return "Task failed";
}

char *ig_alert_slack_json(const ig_project *p, const ig_alert *a)
{
    char *link = link_for(p, a);
    ig_buf text = IG_BUF_INIT, err = IG_BUF_INIT, b = IG_BUF_INIT;
    ig_buf_printf(&text, ":red_circle: *%s* — pipeline `%s`", title(a), a->pipeline);
    if (a->task) ig_buf_printf(&text, ", task `%s` (try %d)", a->task, a->try_number);
    ig_buf_printf(&text, ", run `%s`", a->run_id);
    excerpt(&err, a->error);
    ig_buf_puts(&b, "{\"text\":");
    ig_json_quote(&b, text.data);
    ig_buf_puts(&b, ",\"blocks\":[{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":");
    ig_json_quote(&b, text.data);
    ig_buf_puts(&b, "}},{\"type\":\"section\",\"fields\":[");
    ig_buf_puts(&b, "{\"type\":\"mrkdwn\",\"text\":");
    char *f = ig_asprintf("*Pipeline*\n%s", a->pipeline);
    ig_json_quote(&b, f);
    free(f);
    ig_buf_puts(&b, "},{\"type\":\"mrkdwn\",\"text\":");
    f = ig_asprintf("*Task*\n%s", a->task ? a->task : "(whole run)");
    ig_json_quote(&b, f);
    free(f);
    ig_buf_puts(&b, "},{\"type\":\"mrkdwn\",\"text\":");
    f = ig_asprintf("*Try*\n%d", a->try_number);
    ig_json_quote(&b, f);
    free(f);
    ig_buf_puts(&b, "},{\"type\":\"mrkdwn\",\"text\":");
    f = ig_asprintf("*Run*\n<%s|%s>", link, a->run_id);
    ig_json_quote(&b, f);
    free(f);
    ig_buf_puts(&b, "}]}");
    if (err.len) {
        ig_buf_puts(&b, ",{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":");
        char *e = ig_asprintf("```%s```", err.data);
        ig_json_quote(&b, e);
        free(e);
        ig_buf_puts(&b, "}}");
    }
    ig_buf_puts(&b, "]}");
    ig_buf_free(&text);
    ig_buf_free(&err);
    free(link);
    return ig_buf_steal(&b);
}

char *ig_alert_webhook_json(const ig_project *p, const ig_alert *a)
{
    char *link = link_for(p, a);
    ig_buf b = IG_BUF_INIT, err = IG_BUF_INIT;
    excerpt(&err, a->error);
    ig_buf_puts(&b, "{\"event\":");
    ig_json_quote(&b, a->event);
    ig_buf_puts(&b, ",\"project\":");
    ig_json_quote(&b, p ? p->name : "");
    ig_buf_puts(&b, ",\"pipeline\":");
    ig_json_quote(&b, a->pipeline);
    ig_buf_puts(&b, ",\"task\":");
    if (a->task) ig_json_quote(&b, a->task);
    else ig_buf_puts(&b, "null");
    ig_buf_printf(&b, ",\"try\":%d,\"run_id\":", a->try_number);
    ig_json_quote(&b, a->run_id);
    ig_buf_puts(&b, ",\"error\":");
    ig_json_quote(&b, err.data ? err.data : "");
    ig_buf_puts(&b, ",\"log\":");
    if (a->log_path) ig_json_quote(&b, a->log_path);
    else ig_buf_puts(&b, "null");
    ig_buf_puts(&b, ",\"link\":");
    ig_json_quote(&b, link);
    ig_buf_puts(&b, "}");
    ig_buf_free(&err);
    free(link);
    return ig_buf_steal(&b);
}

static size_t discard(char *p, size_t s, size_t n, void *ud) { return s * n; }

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static void post(const char *kind, const char *pipeline, const char *url, const char *body)
{
    pthread_once(&curl_once, curl_init);
    CURL *c = curl_easy_init();
    if (!c) return;
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    /* the URL is a secret: name the target kind, never the URL */
    if (rc != CURLE_OK)
        ig_warn("alert.failed", "pipeline %s: could not deliver the %s alert: %s", pipeline, kind,
                errbuf[0] ? errbuf : curl_easy_strerror(rc));
    else if (status >= 300)
        ig_warn("alert.failed", "pipeline %s: the %s alert was refused with HTTP %ld", pipeline, kind, status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

void ig_alert_send(const ig_project *p, const ig_pipeline *pl, const ig_alert *a)
{
    char tryno[16];
    snprintf(tryno, sizeof tryno, "%d", a->try_number);
    ig_log_kv(IG_LOG_ERROR, "alert", title(a), "event", a->event, "pipeline", a->pipeline, "task",
              a->task ? a->task : "", "try", tryno, "run_id", a->run_id, "error", a->error ? a->error : "",
              NULL);
    for (size_t i = 0; pl && i < pl->nalerts; i++) {
        const ig_alert_target *t = &pl->alerts[i];
        if (!t->url || !strcmp(t->kind, "log")) continue;
        char *body = !strcmp(t->kind, "slack") ? ig_alert_slack_json(p, a) : ig_alert_webhook_json(p, a);
        post(t->kind, a->pipeline, t->url, body);
        free(body);
    }
}
