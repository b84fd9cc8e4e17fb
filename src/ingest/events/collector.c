/* The collector's endpoints: /v1/{track,identify,page,screen,group,alias,
 * batch,import}, /beacon/v1/batch and /hooks/<source>. Order of checks, so
 * that each answer is the most useful one: CORS preflight, method,
 * backpressure, write key (Basic auth or `writeKey` in the body), origin,
 * body size and encoding, validation; then one WAL record per request and a
 * response parked until that record is durable. Refused requests of a known
 * source are kept as a rejects row (not waited for) so nothing is silently
 * dropped. */
#include "ingest/events/events.h"

#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Reject reasons counted for /metrics (the codes used in error bodies). */
static const char *const REASONS[] = {
    "invalid_json",      "empty_body",          "missing_batch",   "invalid_event",
    "missing_type",      "invalid_type",        "missing_user_id", "missing_event",
    "missing_group_id",  "missing_previous_id", "invalid_field",   "event_too_large",
    "batch_too_large",   "invalid_write_key",   "source_disabled", "origin_not_allowed",
    "bad_encoding",      "method_not_allowed",  "unknown_endpoint", "bad_signature",
    "overloaded",        "loader_behind",       "disk_full",       "storage_failed",
    "other",             NULL};
#define NREASONS (sizeof REASONS / sizeof REASONS[0] - 1)

struct ig_ev_collector {
    _Atomic(const ig_ev_config *) cfg;
    ig_wal *wal;
    atomic_int state, retry_after;
    _Atomic uint64_t accepted, accepted_requests, webhooks, rejected_events[NREASONS];
    _Atomic uint64_t body_bytes, decompressed_bytes;
};

ig_ev_collector *ig_ev_collector_new(const ig_ev_config *cfg, ig_wal *wal)
{
    ig_ev_collector *c = ig_calloc(1, sizeof *c);
    atomic_store(&c->cfg, cfg);
    c->wal = wal;
    return c;
}

void ig_ev_collector_free(ig_ev_collector *c) { free(c); }

void ig_ev_collector_set_config(ig_ev_collector *c, const ig_ev_config *cfg)
{
    atomic_store(&c->cfg, cfg);
}

void ig_ev_collector_set_state(ig_ev_collector *c, ig_ev_state st, int retry_after_s)
{
    atomic_store(&c->retry_after, retry_after_s);
    atomic_store(&c->state, (int)st);
}

static void count_reason(ig_ev_collector *c, const char *code, uint64_t n)
{
    size_t i = 0;
    while (i < NREASONS - 1 && strcmp(REASONS[i], code)) i++;
    atomic_fetch_add_explicit(&c->rejected_events[i], n ? n : 1, memory_order_relaxed);
}

/* ---- small helpers ---------------------------------------------------------- */

static const char *hdr(const ig_ev_request *rq, const char *name, size_t *n)
{
    return rq->header ? rq->header(rq->hctx, name, n) : NULL;
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Decode base64 (standard or URL alphabet, padding optional) into out
 * (cap bytes, NUL-terminated); returns the length or -1. */
static long b64decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=') break;
        int v = b64val((unsigned char)s[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= cap) return -1;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    out[o] = 0;
    return (long)o;
}

static void b64encode(ig_buf *b, const unsigned char *p, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        char q[4] = {t[v >> 18 & 63], t[v >> 12 & 63], i + 1 < n ? t[v >> 6 & 63] : '=',
                     i + 2 < n ? t[v & 63] : '='};
        ig_buf_append(b, q, 4);
    }
}

/* The write key from "Authorization: Basic base64(key:)"; NULL when none. */
static char *basic_user(const ig_ev_request *rq)
{
    size_t n;
    const char *a = hdr(rq, "authorization", &n);
    if (!a || n < 7 || strncasecmp(a, "Basic ", 6)) return NULL;
    const char *p = a + 6;
    n -= 6;
    while (n && *p == ' ') p++, n--;
    unsigned char dec[1024];
    long k = b64decode(p, n, dec, sizeof dec);
    if (k <= 0) return NULL;
    char *colon = memchr(dec, ':', (size_t)k);
    if (colon) *colon = 0;
    return ig_strdup((char *)dec);
}

static const ig_ev_source *source_by_key(const ig_ev_config *cfg, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < cfg->nsources; i++) {
        const ig_ev_source *s = &cfg->sources[i];
        for (size_t k = 0; k < s->write_keys.n; k++) {
            const char *w = s->write_keys.v[k];
            if (strlen(w) == kl && !CRYPTO_memcmp(w, key, kl)) return s;
        }
    }
    return NULL;
}

/* a.b.c.d or a.b.c.d/n or an IPv6 address (exact). */
static bool ip_in(const char *ip, const ig_ev_strs *list)
{
    struct in_addr a;
    bool v4 = inet_pton(AF_INET, ip, &a) == 1;
    for (size_t i = 0; i < list->n; i++) {
        const char *e = list->v[i];
        const char *slash = strchr(e, '/');
        if (!slash) {
            if (!strcmp(e, ip)) return true;
            continue;
        }
        char net[64];
        size_t nl = (size_t)(slash - e);
        if (!v4 || nl >= sizeof net) continue;
        memcpy(net, e, nl);
        net[nl] = 0;
        struct in_addr b;
        int bits = atoi(slash + 1);
        if (inet_pton(AF_INET, net, &b) != 1 || bits < 0 || bits > 32) continue;
        uint32_t mask = bits ? htonl(~0u << (32 - bits)) : 0;
        if ((a.s_addr & mask) == (b.s_addr & mask)) return true;
    }
    return false;
}

/* The client's address: the peer, or behind trusted proxies the right-most
 * X-Forwarded-For entry that is not itself a trusted proxy. */
static void client_ip(const ig_ev_request *rq, const ig_ev_config *cfg, const ig_ev_source *src,
                      char *out, size_t cap)
{
    snprintf(out, cap, "%s", rq->peer_ip ? rq->peer_ip : "");
    size_t n;
    const char *x = hdr(rq, "x-forwarded-for", &n);
    if (!x) return;
    for (size_t i = 0; i < cfg->nsources; i++) {
        const ig_ev_source *s = src ? src : &cfg->sources[i];
        if (s->trusted_proxies.n && ip_in(out, &s->trusted_proxies)) {
            char buf[1024];
            size_t l = n < sizeof buf - 1 ? n : sizeof buf - 1;
            memcpy(buf, x, l);
            buf[l] = 0;
            for (;;) {
                char *comma = strrchr(buf, ',');
                char *item = comma ? comma + 1 : buf;
                while (*item == ' ') item++;
                char *e = item + strlen(item);
                while (e > item && e[-1] == ' ') *--e = 0;
                if (!*item) return;
                snprintf(out, cap, "%s", item);
                if (!comma || !ip_in(out, &s->trusted_proxies)) return;
                *comma = 0;
            }
        }
        if (src) break;
    }
}

static bool origin_allowed(const ig_ev_source *s, const char *o, size_t n)
{
    for (size_t i = 0; i < s->allowed_origins.n; i++) {
        const char *a = s->allowed_origins.v[i];
        if (!strcmp(a, "*") || (strlen(a) == n && !strncasecmp(a, o, n))) return true;
    }
    return false;
}

static void cors_headers(ig_ev_response *rs, const char *o, size_t n)
{
    ig_buf_printf(rs->headers,
                  "Access-Control-Allow-Origin: %.*s\r\nAccess-Control-Allow-Credentials: true\r\n"
                  "Vary: Origin\r\n",
                  (int)n, o);
}

static void error_json(ig_ev_response *rs, int status, const char *code, long item, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void error_json(ig_ev_response *rs, int status, const char *code, long item, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rs->status = status;
    ig_buf_reset(rs->body);
    ig_buf_printf(rs->body, "{\"success\":false,\"error\":{\"code\":\"%s\",\"message\":", code);
    ig_json_quote(rs->body, msg);
    if (item >= 0) ig_buf_printf(rs->body, ",\"item\":%ld", item);
    ig_buf_puts(rs->body, "}}");
}

static void fail(ig_ev_collector *c, ig_ev_response *rs, int status, const char *code, const char *msg)
{
    count_reason(c, code, 1);
    error_json(rs, status, code, -1, "%s", msg);
}

static bool backpressure(ig_ev_collector *c, ig_ev_response *rs)
{
    int st = atomic_load_explicit(&c->state, memory_order_relaxed);
    if (st == IG_EV_OPEN) return false;
    int ra = atomic_load(&c->retry_after);
    ig_buf_printf(rs->headers, "Retry-After: %d\r\n", ra > 0 ? ra : 5);
    if (st == IG_EV_SLOW_DOWN)
        fail(c, rs, 429, "loader_behind", "the collector's loader is far behind; retry after the "
                                          "Retry-After seconds");
    else
        fail(c, rs, 503, "disk_full", "the collector cannot keep more events now (disk nearly "
                                      "full); retry after the Retry-After seconds");
    return true;
}

static void success(ig_ev_response *rs, uint64_t lsn)
{
    rs->status = 200;
    ig_buf_reset(rs->body);
    ig_buf_puts(rs->body, "{\"success\":true}");
    rs->wait_lsn = lsn;
}

/* Append a WAL record "<source>\t<stream>\n" + lines. */
ig_rc ig_ev_wal_append(ig_wal *wal, const char *source, const char *stream, const char *lines,
                       size_t len, uint64_t *lsn)
{
    char head[160];
    int hn = snprintf(head, sizeof head, "%s\t%s\n", source, stream);
    if (hn < 0 || (size_t)hn >= sizeof head) return IG_ERR_USAGE;
    return ig_wal_append(wal, 1, head, (size_t)hn, lines, len, lsn);
}

static bool append_or_fail(ig_ev_collector *c, ig_ev_response *rs, const char *source,
                           const char *stream, const ig_buf *lines, uint64_t *lsn)
{
    ig_rc rc = ig_ev_wal_append(c->wal, source, stream, lines->data, lines->len, lsn);
    if (!rc) return true;
    ig_buf_puts(rs->headers, rc == IG_ERR_LIMIT ? "Retry-After: 1\r\n" : "Retry-After: 30\r\n");
    if (rc == IG_ERR_LIMIT)
        fail(c, rs, 503, "overloaded", "the collector is writing as fast as the disk allows; retry shortly");
    else
        fail(c, rs, 503, "storage_failed", "the event log cannot be written; retry later");
    return false;
}

/* Keep a refused request as a rejects row (best effort, not waited for). */
static void keep_reject(ig_ev_collector *c, const ig_ev_source *s, const ig_ev_request *rq,
                        const char *body, size_t len, const ig_ev_reject *rej, const char *ip)
{
    ig_buf line;
    ig_buf_init(&line, 0);
    char rec[32];
    ig_ev_format_time(rq->now_us, rec);
    ig_buf_append(&line, rec, 10);
    ig_buf_puts(&line, "\t{\"receivedAt\":");
    ig_json_quote(&line, rec);
    ig_buf_puts(&line, ",\"status\":");
    ig_buf_printf(&line, "%d,\"code\":", rej->status);
    ig_json_quote(&line, rej->code);
    ig_buf_puts(&line, ",\"message\":");
    ig_json_quote(&line, rej->message);
    ig_buf_printf(&line, ",\"item\":%ld,\"path\":", rej->item);
    ig_json_quote(&line, rq->path);
    ig_buf_puts(&line, ",\"ip\":");
    ig_json_quote(&line, ip);
    size_t keep = len > 65536 ? 65536 : len;
    if (ig_utf8_valid(body, keep)) {
        ig_buf_puts(&line, ",\"body\":");
        ig_json_quote_n(&line, body, keep);
    } else {
        ig_buf_puts(&line, ",\"body_base64\":\"");
        b64encode(&line, (const unsigned char *)body, keep);
        ig_buf_putc(&line, '"');
    }
    ig_buf_printf(&line, ",\"body_bytes\":%zu}\n", len);
    uint64_t lsn;
    ig_ev_wal_append(c->wal, s->name, "events__rejects", line.data, line.len, &lsn);
    ig_buf_free(&line);
}

/* ---- /v1/... ----------------------------------------------------------------- */

static size_t default_cap(const ig_ev_config *cfg, bool batch)
{
    size_t m = 0;
    for (size_t i = 0; i < cfg->nsources; i++) {
        size_t v = batch ? cfg->sources[i].max_batch_bytes : cfg->sources[i].max_event_bytes;
        if (v > m) m = v;
    }
    return m ? m : batch ? 500 * 1024 : 32 * 1024;
}

static void handle_events(ig_ev_collector *c, const ig_ev_config *cfg, const char *endpoint,
                          const ig_ev_request *rq, ig_ev_response *rs)
{
    size_t on;
    const char *origin = hdr(rq, "origin", &on);
    if (!strcmp(rq->method, "OPTIONS")) {
        bool ok = false;
        for (size_t i = 0; origin && i < cfg->nsources && !ok; i++)
            ok = cfg->sources[i].enabled && origin_allowed(&cfg->sources[i], origin, on);
        if (!ok) {
            fail(c, rs, 403, "origin_not_allowed",
                 "this origin is not in the allowed_origins of any events source");
            return;
        }
        size_t hn;
        const char *rh = hdr(rq, "access-control-request-headers", &hn);
        cors_headers(rs, origin, on);
        ig_buf_printf(rs->headers,
                      "Access-Control-Allow-Methods: POST, OPTIONS\r\n"
                      "Access-Control-Allow-Headers: %.*s\r\nAccess-Control-Max-Age: 86400\r\n",
                      rh ? (int)(hn > 512 ? 512 : hn) : 44,
                      rh ? rh : "Content-Type, Authorization, Content-Encoding");
        rs->status = 204;
        return;
    }
    if (strcmp(rq->method, "POST")) {
        ig_buf_puts(rs->headers, "Allow: POST, OPTIONS\r\n");
        fail(c, rs, 405, "method_not_allowed", "use POST for this endpoint");
        return;
    }
    if (backpressure(c, rs)) return;
    char *key = basic_user(rq);
    const ig_ev_source *src = key ? source_by_key(cfg, key) : NULL;
    if (key && !src) {
        free(key);
        fail(c, rs, 401, "invalid_write_key", "the write key is not known to this collector");
        return;
    }
    free(key);
    bool batch = !strcmp(endpoint, "batch");
    size_t cap = src ? src->max_batch_bytes : default_cap(cfg, true);
    size_t en;
    const char *enc = hdr(rq, "content-encoding", &en);
    const char *body = rq->body;
    size_t blen = rq->body_len;
    ig_buf inflated;
    ig_buf_init(&inflated, 0);
    atomic_fetch_add_explicit(&c->body_bytes, blen, memory_order_relaxed);
    if (enc && !(en == 8 && !strncasecmp(enc, "identity", 8))) {
        if (!((en == 4 && !strncasecmp(enc, "gzip", 4)) || (en == 7 && !strncasecmp(enc, "deflate", 7)))) {
            fail(c, rs, 415, "bad_encoding", "Content-Encoding must be gzip, deflate or identity");
            goto out;
        }
        int g = ig_ev_gunzip(rq->body, rq->body_len, cap, &inflated);
        if (g == -2) {
            count_reason(c, "batch_too_large", 1);
            error_json(rs, 413, "batch_too_large", -1,
                       "the decompressed request is larger than %zu bytes (max_batch_bytes)", cap);
            goto out;
        }
        if (g < 0) {
            fail(c, rs, 400, "bad_encoding", "the body is not valid gzip/deflate data");
            goto out;
        }
        body = inflated.data;
        blen = inflated.len;
        atomic_fetch_add_explicit(&c->decompressed_bytes, blen, memory_order_relaxed);
    }
    if (blen > cap) {
        count_reason(c, "batch_too_large", 1);
        error_json(rs, 413, "batch_too_large", -1,
                   "the request body is %zu bytes; the limit is %zu (max_batch_bytes)", blen, cap);
        goto out;
    }
    char ip[64];
    client_ip(rq, cfg, src, ip, sizeof ip);
    ig_ev_context ctx = {.received_us = rq->now_us,
                         .ip = ip,
                         .max_event_bytes = src ? src->max_event_bytes : default_cap(cfg, false)};
    ig_buf lines;
    ig_buf_init(&lines, 0);
    size_t nrows = 0;
    char *body_key = NULL;
    ig_ev_reject rej;
    int prc = ig_ev_process(endpoint, body ? body : "", blen, &ctx, &lines, &nrows, &body_key, &rej);
    if (!src) {
        src = body_key ? source_by_key(cfg, body_key) : NULL;
        if (!src) {
            fail(c, rs, 401, "invalid_write_key",
                 body_key ? "the write key is not known to this collector"
                          : "no write key: send it as the Basic-auth user (password empty) or as "
                            "`writeKey` in the body");
            goto done;
        }
    }
    if (src->kind != IG_EV_SOURCE_EVENTS || !src->enabled) {
        fail(c, rs, 404, "source_disabled",
             src->enabled ? "this write key's source does not accept events"
                          : "this write key's source is disabled");
        goto done;
    }
    if (origin && !origin_allowed(src, origin, on)) {
        fail(c, rs, 403, "origin_not_allowed", "this origin is not in the source's allowed_origins");
        goto done;
    }
    if (origin) cors_headers(rs, origin, on);
    if (prc) {
        count_reason(c, rej.code, 1);
        error_json(rs, rej.status, rej.code, rej.item, "%s", rej.message);
        keep_reject(c, src, rq, body ? body : "", blen, &rej, ip);
        goto done;
    }
    if (nrows == 0) {
        success(rs, 0);
        goto done;
    }
    uint64_t lsn;
    if (append_or_fail(c, rs, src->name, "events", &lines, &lsn)) {
        atomic_fetch_add_explicit(&c->accepted, nrows, memory_order_relaxed);
        atomic_fetch_add_explicit(&c->accepted_requests, 1, memory_order_relaxed);
        success(rs, lsn);
    }
    (void)batch;
done:
    free(body_key);
    ig_buf_free(&lines);
out:
    ig_buf_free(&inflated);
}

/* ---- /hooks/<source> --------------------------------------------------------- */

static bool hmac_ok(const ig_ev_source *s, const ig_ev_request *rq)
{
    size_t n;
    const char *h = hdr(rq, s->hmac_header, &n);
    if (!h) return false;
    const EVP_MD *md = !strcmp(s->hmac_algorithm, "sha1")     ? EVP_sha1()
                       : !strcmp(s->hmac_algorithm, "sha512") ? EVP_sha512()
                                                              : EVP_sha256();
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    if (!HMAC(md, s->hmac_secret, (int)strlen(s->hmac_secret),
              (const unsigned char *)(rq->body ? rq->body : ""), rq->body_len, mac, &ml))
        return false;
    if (s->hmac_prefix) {
        size_t pl = strlen(s->hmac_prefix);
        if (n < pl || strncasecmp(h, s->hmac_prefix, pl)) return false;
        h += pl;
        n -= pl;
    }
    unsigned char got[EVP_MAX_MD_SIZE + 4];
    if (n == 2 * (size_t)ml) { /* hex */
        for (unsigned i = 0; i < ml; i++) {
            int a = h[2 * i], b = h[2 * i + 1];
            int va = a >= '0' && a <= '9' ? a - '0' : (a | 32) >= 'a' && (a | 32) <= 'f' ? (a | 32) - 'a' + 10 : -1;
            int vb = b >= '0' && b <= '9' ? b - '0' : (b | 32) >= 'a' && (b | 32) <= 'f' ? (b | 32) - 'a' + 10 : -1;
            if (va < 0 || vb < 0) return false;
            got[i] = (unsigned char)(va << 4 | vb);
        }
    } else { /* base64 (Shopify and others) */
        long k = b64decode(h, n, got, sizeof got);
        if (k != (long)ml) return false;
    }
    return CRYPTO_memcmp(got, mac, ml) == 0;
}

static void handle_hook(ig_ev_collector *c, const ig_ev_config *cfg, const char *name,
                        const ig_ev_request *rq, ig_ev_response *rs)
{
    const ig_ev_source *s = ig_ev_config_find(cfg, name);
    if (!s || s->kind != IG_EV_SOURCE_WEBHOOK || !s->enabled) {
        fail(c, rs, 404, s ? "source_disabled" : "unknown_endpoint",
             s ? "this webhook source is disabled or is not a webhook source"
               : "no webhook source with this name");
        return;
    }
    if (strcmp(rq->method, "POST") && strcmp(rq->method, "PUT")) {
        ig_buf_puts(rs->headers, "Allow: POST, PUT\r\n");
        fail(c, rs, 405, "method_not_allowed", "use POST for webhooks");
        return;
    }
    if (backpressure(c, rs)) return;
    size_t cap = s->max_batch_bytes > 500 * 1024 ? s->max_batch_bytes : 1024 * 1024;
    if (rq->body_len > cap) {
        fail(c, rs, 413, "batch_too_large", "the webhook body is larger than max_batch_bytes");
        return;
    }
    bool verified = false;
    if (s->hmac_header) {
        if (!hmac_ok(s, rq)) {
            fail(c, rs, 401, "bad_signature", "the signature header is missing or does not match the body");
            return;
        }
        verified = true;
    }
    char ip[64];
    client_ip(rq, cfg, s, ip, sizeof ip);
    ig_buf line;
    ig_buf_init(&line, 0);
    char rec[32], id[37];
    ig_ev_format_time(rq->now_us, rec);
    ig_ev_uuid(id);
    ig_buf_append(&line, rec, 10);
    ig_buf_puts(&line, "\t{\"id\":\"");
    ig_buf_puts(&line, id);
    ig_buf_puts(&line, "\",\"receivedAt\":");
    ig_json_quote(&line, rec);
    ig_buf_puts(&line, ",\"method\":");
    ig_json_quote(&line, rq->method);
    ig_buf_puts(&line, ",\"ip\":");
    ig_json_quote(&line, ip);
    ig_buf_printf(&line, ",\"verified\":%s,\"headers\":{", verified ? "true" : "false");
    bool first = true;
    for (size_t i = 0; i < s->keep_headers.n; i++) {
        size_t n;
        const char *v = hdr(rq, s->keep_headers.v[i], &n);
        if (!v) continue;
        if (!first) ig_buf_putc(&line, ',');
        first = false;
        ig_json_quote(&line, s->keep_headers.v[i]);
        ig_buf_putc(&line, ':');
        ig_json_quote_n(&line, v, n);
    }
    size_t ctn;
    const char *ct = hdr(rq, "content-type", &ctn);
    ig_buf_puts(&line, "},\"contentType\":");
    if (ct) ig_json_quote_n(&line, ct, ctn);
    else ig_buf_puts(&line, "null");
    const char *body = rq->body ? rq->body : "";
    if (ig_utf8_valid(body, rq->body_len)) {
        ig_buf_puts(&line, ",\"body\":");
        ig_json_quote_n(&line, body, rq->body_len);
    } else {
        ig_buf_puts(&line, ",\"body\":null,\"bodyBase64\":\"");
        b64encode(&line, (const unsigned char *)body, rq->body_len);
        ig_buf_putc(&line, '"');
    }
    ig_buf_printf(&line, ",\"bodyBytes\":%zu}\n", rq->body_len);
    uint64_t lsn;
    if (append_or_fail(c, rs, s->name, "webhooks", &line, &lsn)) {
        atomic_fetch_add_explicit(&c->webhooks, 1, memory_order_relaxed);
        success(rs, lsn);
    }
    ig_buf_free(&line);
}

/* ---- routing ------------------------------------------------------------------ */

bool ig_ev_route(const char *path)
{
    return ig_str_starts(path, "/v1/") || !strcmp(path, "/beacon/v1/batch") ||
           ig_str_starts(path, "/hooks/");
}

void ig_ev_handle(ig_ev_collector *c, const ig_ev_request *rq, ig_ev_response *rs)
{
    const ig_ev_config *cfg = atomic_load(&c->cfg);
    rs->wait_lsn = 0;
    const char *p = rq->path;
    if (ig_str_starts(p, "/hooks/")) {
        const char *name = p + 7;
        if (!*name || strchr(name, '/')) {
            fail(c, rs, 404, "unknown_endpoint", "use /hooks/<source>");
            return;
        }
        handle_hook(c, cfg, name, rq, rs);
        return;
    }
    const char *ep = NULL;
    if (!strcmp(p, "/beacon/v1/batch") || !strcmp(p, "/v1/import") || !strcmp(p, "/v1/batch"))
        ep = "batch";
    else if (ig_str_starts(p, "/v1/") && ig_ev_type_valid(p + 4))
        ep = p + 4;
    if (!ep) {
        fail(c, rs, 404, "unknown_endpoint",
             "no such endpoint; the collector serves /v1/track, /v1/identify, /v1/page, "
             "/v1/screen, /v1/group, /v1/alias, /v1/batch, /v1/import, /beacon/v1/batch and "
             "/hooks/<source>");
        return;
    }
    handle_events(c, cfg, ep, rq, rs);
}

void ig_ev_collector_metrics(ig_ev_collector *c, ig_buf *o)
{
    ig_buf_printf(o,
                  "# HELP ingot_events_accepted_total Events accepted (durable in the WAL).\n"
                  "# TYPE ingot_events_accepted_total counter\n"
                  "ingot_events_accepted_total %llu\n"
                  "# HELP ingot_events_accepted_requests_total Requests whose events were accepted.\n"
                  "# TYPE ingot_events_accepted_requests_total counter\n"
                  "ingot_events_accepted_requests_total %llu\n"
                  "# HELP ingot_webhooks_accepted_total Webhook calls accepted.\n"
                  "# TYPE ingot_webhooks_accepted_total counter\n"
                  "ingot_webhooks_accepted_total %llu\n"
                  "# HELP ingot_events_body_bytes_total Request body bytes as sent.\n"
                  "# TYPE ingot_events_body_bytes_total counter\n"
                  "ingot_events_body_bytes_total %llu\n"
                  "# HELP ingot_events_decompressed_bytes_total Bytes after gzip decompression.\n"
                  "# TYPE ingot_events_decompressed_bytes_total counter\n"
                  "ingot_events_decompressed_bytes_total %llu\n"
                  "# HELP ingot_events_rejected_total Requests refused, by reason.\n"
                  "# TYPE ingot_events_rejected_total counter\n",
                  (unsigned long long)atomic_load(&c->accepted),
                  (unsigned long long)atomic_load(&c->accepted_requests),
                  (unsigned long long)atomic_load(&c->webhooks),
                  (unsigned long long)atomic_load(&c->body_bytes),
                  (unsigned long long)atomic_load(&c->decompressed_bytes));
    for (size_t i = 0; i < NREASONS; i++)
        ig_buf_printf(o, "ingot_events_rejected_total{reason=\"%s\"} %llu\n", REASONS[i],
                      (unsigned long long)atomic_load(&c->rejected_events[i]));
    ig_buf_printf(o, "# HELP ingot_collector_state 0 open, 429 slowing clients down, 503 refusing.\n"
                     "# TYPE ingot_collector_state gauge\ningot_collector_state %d\n",
                  atomic_load(&c->state));
}
