/* Pub/Sub pull over REST with libcurl (see pubsub.h). The loop of a source:
 * pull (returnImmediately, up to max_messages), turn each received message
 * into one WAL line, append them as one record, wait for it to be durable,
 * acknowledge the ackIds. An empty pull sleeps a second; an error backs off
 * up to 30 s. */
#include "ingest/events/pubsub.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct puller {
    const ig_ev_source *src;
    ig_wal *wal;
    pthread_t thread;
    atomic_bool *stop;
    _Atomic uint64_t *received;
} puller;

struct ig_ev_pubsub {
    puller *p;
    size_t n;
    atomic_bool stop;
    _Atomic uint64_t received;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    return ig_buf_append((ig_buf *)ud, p, sz * n) ? 0 : sz * n;
}

/* POST JSON to <endpoint>/v1/<subscription>:<verb>; body of the answer in out. */
static int post(const ig_ev_source *s, const char *verb, const char *json, ig_buf *out, char *errbuf)
{
    CURL *c = curl_easy_init();
    if (!c) return -1;
    char *url = ig_asprintf("%s/v1/%s:%s", s->endpoint, s->subscription, verb);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    char *auth = NULL;
    if (s->token && *s->token) {
        auth = ig_asprintf("Authorization: Bearer %s", s->token);
        h = curl_slist_append(h, auth);
    }
    ig_buf_reset(out);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    errbuf[0] = 0;
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(url);
    free(auth);
    if (rc != CURLE_OK) {
        if (!errbuf[0]) snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
        return -1;
    }
    if (status != 200) {
        snprintf(errbuf, CURL_ERROR_SIZE, "HTTP %ld: %.200s", status, ig_buf_cstr(out));
        return -1;
    }
    return 0;
}

static int b64v(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

static bool b64dec(const char *s, ig_buf *out)
{
    unsigned acc = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        int v = b64v((unsigned char)*s);
        if (v < 0) return false;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            ig_buf_putc(out, (char)(acc >> bits));
        }
    }
    return true;
}

/* One pull/append/ack round; returns messages handled, -1 on error. */
static long round_trip(puller *p, ig_buf *resp, char *errbuf)
{
    const ig_ev_source *s = p->src;
    char req[128];
    snprintf(req, sizeof req, "{\"maxMessages\":%d,\"returnImmediately\":true}", s->max_messages);
    if (post(s, "pull", req, resp, errbuf)) return -1;
    json_error_t je;
    json_t *root = json_loadb(resp->data ? resp->data : "{}", resp->len, 0, &je);
    if (!root) {
        snprintf(errbuf, CURL_ERROR_SIZE, "the pull answer is not JSON: %s", je.text);
        return -1;
    }
    json_t *msgs = json_object_get(root, "receivedMessages");
    size_t n = json_is_array(msgs) ? json_array_size(msgs) : 0;
    if (n == 0) {
        json_decref(root);
        return 0;
    }
    ig_buf lines = IG_BUF_INIT, ack = IG_BUF_INIT, data = IG_BUF_INIT;
    ig_buf_puts(&ack, "{\"ackIds\":[");
    char rec[32];
    ig_ev_format_time(ig_wall_us(), rec);
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m) {
        json_t *msg = json_object_get(m, "message");
        const char *ackid = json_string_value(json_object_get(m, "ackId"));
        if (ackid) {
            if (ack.len > 11) ig_buf_putc(&ack, ',');
            ig_json_quote(&ack, ackid);
        }
        const char *pt = json_string_value(json_object_get(msg, "publishTime"));
        char date[11];
        snprintf(date, sizeof date, "%.10s", pt && strlen(pt) >= 10 ? pt : rec);
        ig_buf_puts(&lines, date);
        ig_buf_puts(&lines, "\t{\"messageId\":");
        ig_json_quote(&lines, json_string_value(json_object_get(msg, "messageId")));
        ig_buf_puts(&lines, ",\"publishTime\":");
        ig_json_quote(&lines, pt);
        ig_buf_puts(&lines, ",\"subscription\":");
        ig_json_quote(&lines, s->subscription);
        ig_buf_puts(&lines, ",\"orderingKey\":");
        ig_json_quote(&lines, json_string_value(json_object_get(msg, "orderingKey")));
        ig_buf_puts(&lines, ",\"receivedAt\":");
        ig_json_quote(&lines, rec);
        json_t *attrs = json_object_get(msg, "attributes");
        char *a = attrs ? json_dumps(attrs, JSON_COMPACT) : NULL;
        ig_buf_puts(&lines, ",\"attributes\":");
        ig_buf_puts(&lines, a ? a : "{}");
        free(a);
        const char *d64 = json_string_value(json_object_get(msg, "data"));
        ig_buf_reset(&data);
        if (d64 && b64dec(d64, &data) && ig_utf8_valid(data.data ? data.data : "", data.len)) {
            ig_buf_puts(&lines, ",\"data\":");
            ig_json_quote_n(&lines, data.data ? data.data : "", data.len);
        } else {
            ig_buf_puts(&lines, ",\"data\":null,\"dataBase64\":");
            ig_json_quote(&lines, d64 ? d64 : "");
        }
        ig_buf_puts(&lines, "}\n");
    }
    ig_buf_puts(&ack, "]}");
    json_decref(root);
    uint64_t lsn;
    long result = (long)n;
    ig_rc rc = ig_ev_wal_append(p->wal, s->name, "messages", lines.data, lines.len, &lsn);
    if (!rc && ig_wal_wait(p->wal, lsn, 30000) >= lsn) {
        if (post(s, "acknowledge", ig_buf_cstr(&ack), resp, errbuf)) {
            /* not acknowledged: Pub/Sub redelivers, the loader flags the duplicate */
            result = -1;
        } else {
            atomic_fetch_add(p->received, n);
        }
    } else {
        snprintf(errbuf, CURL_ERROR_SIZE, "the WAL did not accept the messages (%s)",
                 rc == IG_ERR_LIMIT ? "full" : "failed");
        result = -1;
    }
    ig_buf_free(&lines);
    ig_buf_free(&ack);
    ig_buf_free(&data);
    return result;
}

static void *puller_main(void *arg)
{
    puller *p = arg;
    ig_buf resp;
    ig_buf_init(&resp, 64u << 20);
    char errbuf[CURL_ERROR_SIZE];
    int backoff = 0;
    while (!atomic_load(p->stop)) {
        long n = round_trip(p, &resp, errbuf);
        int sleep_ms;
        if (n < 0) {
            backoff = backoff ? (backoff * 2 > 30000 ? 30000 : backoff * 2) : 500;
            ig_warn("pubsub.pull", "source %s: %s (retrying in %d ms)", p->src->name, errbuf, backoff);
            sleep_ms = backoff;
        } else {
            backoff = 0;
            sleep_ms = n == 0 ? 1000 : 0;
        }
        for (int t = 0; t < sleep_ms && !atomic_load(p->stop); t += 50) usleep(50000);
    }
    ig_buf_free(&resp);
    return NULL;
}

static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

ig_rc ig_ev_pubsub_start(const ig_ev_config *cfg, ig_wal *wal, ig_ev_pubsub **out, ig_error *err)
{
    ig_ev_pubsub *ps = ig_calloc(1, sizeof *ps);
    ps->p = ig_calloc(cfg->nsources + 1, sizeof *ps->p);
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_init_once);
    for (size_t i = 0; i < cfg->nsources; i++) {
        const ig_ev_source *s = &cfg->sources[i];
        if (s->kind != IG_EV_SOURCE_PUBSUB || !s->enabled) continue;
        puller *p = &ps->p[ps->n];
        p->src = s;
        p->wal = wal;
        p->stop = &ps->stop;
        p->received = &ps->received;
        if (pthread_create(&p->thread, NULL, puller_main, p)) {
            ig_ev_pubsub_stop(ps);
            return ig_err(err, IG_ERR_INTERNAL, "cannot start the Pub/Sub thread of source %s", s->name);
        }
        ps->n++;
        ig_info("pubsub.start", "source %s: pulling %s from %s", s->name, s->subscription, s->endpoint);
    }
    *out = ps;
    return IG_OK;
}

void ig_ev_pubsub_stop(ig_ev_pubsub *ps)
{
    if (!ps) return;
    atomic_store(&ps->stop, true);
    for (size_t i = 0; i < ps->n; i++) pthread_join(ps->p[i].thread, NULL);
    free(ps->p);
    free(ps);
}

uint64_t ig_ev_pubsub_received(ig_ev_pubsub *ps) { return ps ? atomic_load(&ps->received) : 0; }
