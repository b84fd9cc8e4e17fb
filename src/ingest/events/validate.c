/* Validation and enrichment of Segment/RudderStack calls, as the reference
 * collectors do it: a user id or an anonymous id on every event, the fields
 * each call type needs, batch-level context and integrations merged into the
 * items, then receivedAt, a clock-skew-corrected timestamp, a messageId and
 * context.ip added. Pure functions over a buffer (no I/O, no globals but a
 * per-thread random state), so the fuzz driver calls them directly. */
#include "ingest/events/events.h"

#include "core/clock.h"
#include "core/mem.h"
#include "core/str.h"
#include "ingest/events/json.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <zlib.h>

static const char *const TYPES[] = {"track", "identify", "page", "screen", "group", "alias", NULL};

bool ig_ev_type_valid(const char *type)
{
    for (int i = 0; TYPES[i]; i++)
        if (!strcmp(type, TYPES[i])) return true;
    return false;
}

/* ---- time ----------------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool ig_ev_parse_time(const char *s, int64_t *us)
{
    int y, mo, d, h = 0, mi = 0, se = 0;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return false;
    const char *p = s + 10;
    int64_t frac = 0, off = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!digits(p, 2, &h) || p[2] != ':' || !digits(p + 3, 2, &mi)) return false;
        p += 5;
        if (*p == ':') {
            if (!digits(p + 1, 2, &se)) return false;
            p += 3;
            if (*p == '.' || *p == ',') {
                p++;
                int nd = 0;
                int64_t scale = 100000;
                while (*p >= '0' && *p <= '9') {
                    if (nd < 6) frac += (*p - '0') * scale;
                    scale /= 10;
                    nd++;
                    p++;
                }
                if (nd == 0) return false;
            }
        }
        if (h > 23 || mi > 59 || se > 60) return false;
        if (*p == 'Z' || *p == 'z') p++;
        else if (*p == '+' || *p == '-') {
            int oh, om = 0;
            int sign = *p == '-' ? -1 : 1;
            if (!digits(p + 1, 2, &oh)) return false;
            p += 3;
            if (*p == ':') p++;
            if (*p) {
                if (!digits(p, 2, &om)) return false;
                p += 2;
            }
            if (oh > 23 || om > 59) return false;
            off = sign * ((int64_t)oh * 3600 + om * 60);
        }
    }
    if (*p) return false;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *us = ((days * 86400 + h * 3600 + mi * 60 + se) - off) * 1000000 + frac;
    return true;
}

void ig_ev_format_time(int64_t us, char out[32])
{
    int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    int64_t rem = us - secs * 1000000;
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t sod = secs - days * 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        snprintf(out, 32, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d, (int)(sod / 3600),
                 (int)(sod / 60 % 60), (int)(sod % 60), (int)(rem / 1000));
        return;
    }
    /* by hand: this runs for every event, and snprintf was a tenth of the
     * collector's CPU in a profile of batches */
    int f[6] = {(int)m, (int)d, (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60),
                (int)(rem / 1000)};
    static const char seps[] = "--T::";
    char *o = out;
    *o++ = (char)('0' + y / 1000);
    *o++ = (char)('0' + y / 100 % 10);
    *o++ = (char)('0' + y / 10 % 10);
    *o++ = (char)('0' + y % 10);
    for (int i = 0; i < 5; i++) {
        *o++ = seps[i];
        *o++ = (char)('0' + f[i] / 10);
        *o++ = (char)('0' + f[i] % 10);
    }
    *o++ = '.';
    *o++ = (char)('0' + f[5] / 100);
    *o++ = (char)('0' + f[5] / 10 % 10);
    *o++ = (char)('0' + f[5] % 10);
    *o++ = 'Z';
    *o = 0;
}

static void format_date(int64_t us, char out[11])
{
    char t[32];
    ig_ev_format_time(us, t);
    memcpy(out, t, 10);
    out[10] = 0;
}

/* ---- ids ------------------------------------------------------------------ */

static _Thread_local uint64_t rng[2];

static uint64_t rnd(void)
{
    if (!rng[0] && !rng[1]) {
        if (getrandom(rng, sizeof rng, 0) != (ssize_t)sizeof rng || (!rng[0] && !rng[1])) {
            rng[0] = ig_now_ns() ^ (uint64_t)(uintptr_t)&rng;
            rng[1] = (uint64_t)ig_wall_us() * 0x9E3779B97F4A7C15ull;
        }
    }
    /* xorshift128+ */
    uint64_t s1 = rng[0];
    const uint64_t s0 = rng[1];
    rng[0] = s0;
    s1 ^= s1 << 23;
    rng[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return rng[1] + s0;
}

void ig_ev_uuid(char out[37])
{
    unsigned char b[16];
    uint64_t a = rnd(), c = rnd();
    memcpy(b, &a, 8);
    memcpy(b + 8, &c, 8);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    static const char hx[] = "0123456789abcdef";
    int k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[k++] = '-';
        out[k++] = hx[b[i] >> 4];
        out[k++] = hx[b[i] & 15];
    }
    out[k] = 0;
}

/* ---- gzip ----------------------------------------------------------------- */

int ig_ev_gunzip(const char *in, size_t n, size_t cap, ig_buf *out)
{
    ig_buf_reset(out);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) return -1;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    unsigned char chunk[65536];
    int rc;
    do {
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&z);
            return -1;
        }
        size_t got = sizeof chunk - z.avail_out;
        if (out->len + got > cap || ig_buf_append(out, chunk, got)) {
            inflateEnd(&z);
            return -2;
        }
        if (rc == Z_OK && got == 0 && z.avail_in == 0) break; /* truncated input */
    } while (rc != Z_STREAM_END);
    inflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

/* ---- validation ----------------------------------------------------------- */

static int reject(ig_ev_reject *r, int status, const char *code, long item, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int reject(ig_ev_reject *r, int status, const char *code, long item, const char *fmt, ...)
{
    r->status = status;
    snprintf(r->code, sizeof r->code, "%s", code);
    r->item = item;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* Per-thread member lists, reused by every request the thread handles and
 * freed when the thread exits (a pthread key's destructor). */
typedef struct lists {
    evj_members item, ctx, ints, top, bctx, bint;
} lists;
static pthread_key_t lists_key;
static pthread_once_t lists_once = PTHREAD_ONCE_INIT;

static void lists_free(void *p)
{
    lists *l = p;
    evj_members_free(&l->item);
    evj_members_free(&l->ctx);
    evj_members_free(&l->ints);
    evj_members_free(&l->top);
    evj_members_free(&l->bctx);
    evj_members_free(&l->bint);
    free(l);
}
static void lists_init(void) { pthread_key_create(&lists_key, lists_free); }

static lists *thread_lists(void)
{
    pthread_once(&lists_once, lists_init);
    lists *l = pthread_getspecific(lists_key);
    if (!l) {
        l = ig_calloc(1, sizeof *l);
        pthread_setspecific(lists_key, l);
    }
    return l;
}

/* A non-empty string or a number. */
static bool is_id(const evj *v) { return v && ((v->t == EVJ_STRING && v->n > 2) || v->t == EVJ_NUMBER); }

static bool present(const evj_members *m, const evj_member *x)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->m[i].kn == x->kn && !memcmp(m->m[i].k, x->k, x->kn)) return true;
    return false;
}

static void put_member(ig_buf *o, bool *first, const evj_member *m)
{
    if (!*first) ig_buf_putc(o, ',');
    *first = false;
    ig_buf_putc(o, '"');
    ig_buf_append(o, m->k, m->kn);
    ig_buf_puts(o, "\":");
    ig_buf_append(o, m->v.p, m->v.n);
}

/* `"key":{item members, then the batch's members it lacks[, "ip":ip]}` */
static void put_merged(ig_buf *o, const char *key, const evj *item, evj_members *im,
                       const evj_members *batch, const char *ip)
{
    ig_buf_puts(o, ",\"");
    ig_buf_puts(o, key);
    ig_buf_puts(o, "\":{");
    bool first = true;
    im->n = 0;
    if (item && item->t == EVJ_OBJECT) evj_object_members(item, im);
    for (size_t i = 0; i < im->n; i++) put_member(o, &first, &im->m[i]);
    for (size_t i = 0; batch && i < batch->n; i++)
        if (!present(im, &batch->m[i])) put_member(o, &first, &batch->m[i]);
    if (ip && *ip && !evj_get(im, "ip") && !(batch && evj_get(batch, "ip"))) {
        if (!first) ig_buf_putc(o, ',');
        ig_buf_puts(o, "\"ip\":");
        ig_json_quote(o, ip);
    }
    ig_buf_putc(o, '}');
}

static bool str_time(const evj *v, int64_t *us)
{
    char b[64];
    return v && v->t == EVJ_STRING && evj_string(v, b, sizeof b) && ig_ev_parse_time(b, us);
}

/* Validate one event (its members in *m) and append its WAL line. */
static int enrich(lists *L, const evj_members *m, const char *type, const evj *batch_sent,
                  const evj_members *bctx, const evj_members *bint, long item,
                  const ig_ev_context *ctx, ig_buf *out, ig_ev_reject *rej)
{
    char wbuf[48]; /* "batch item N: ", only formatted when a message needs it */
#define where (item >= 0 ? (snprintf(wbuf, sizeof wbuf, "batch item %ld: ", item), wbuf) : "")
    if (!is_id(evj_get(m, "userId")) && !is_id(evj_get(m, "anonymousId")))
        return reject(rej, 400, "missing_user_id", item,
                      "%suserId or anonymousId is required (a non-empty string)", where);
    const evj *ev = evj_get(m, "event");
    if (!strcmp(type, "track") && !(ev && ev->t == EVJ_STRING && ev->n > 2))
        return reject(rej, 400, "missing_event", item,
                      "%sa track call needs `event` (the event's name)", where);
    if (!strcmp(type, "group") && !is_id(evj_get(m, "groupId")))
        return reject(rej, 400, "missing_group_id", item, "%sa group call needs `groupId`", where);
    if (!strcmp(type, "alias") && !is_id(evj_get(m, "previousId")))
        return reject(rej, 400, "missing_previous_id", item, "%san alias call needs `previousId`",
                      where);
    static const char *const objs[] = {"context", "properties", "traits", "integrations", NULL};
    for (int i = 0; objs[i]; i++) {
        const evj *v = evj_get(m, objs[i]);
        if (v && v->t != EVJ_OBJECT && v->t != EVJ_NULL)
            return reject(rej, 400, "invalid_field", item, "%s`%s` must be an object", where,
                          objs[i]);
    }
    /* timestamp: the client's, else corrected for its clock skew */
    int64_t ts_us = ctx->received_us;
    const evj *ts = evj_get(m, "timestamp");
    bool client_ts = ts && ts->t == EVJ_STRING;
    const evj *sent = evj_get(m, "sentAt");
    if (client_ts) {
        if (!str_time(ts, &ts_us)) ts_us = ctx->received_us;
    } else {
        int64_t orig, sent_us;
        if (str_time(evj_get(m, "originalTimestamp"), &orig)) {
            if (str_time(sent ? sent : batch_sent, &sent_us)) ts_us = ctx->received_us - (sent_us - orig);
            else ts_us = orig;
        }
    }
    const evj *mid = evj_get(m, "messageId");
    bool mid_ok = is_id(mid);
    char date[11], rec[32];
    format_date(ts_us, date);
    ig_ev_format_time(ctx->received_us, rec);
    size_t start = out->len;
    ig_buf_append(out, date, 10);
    ig_buf_puts(out, "\t{");
    size_t js = out->len - 1;
    bool first = true;
    for (size_t i = 0; i < m->n; i++) {
        const evj_member *x = &m->m[i];
        if (evj_key_is(x, "writeKey") || evj_key_is(x, "type") || evj_key_is(x, "receivedAt") ||
            evj_key_is(x, "context") || evj_key_is(x, "integrations") ||
            (!client_ts && evj_key_is(x, "timestamp")) || (!mid_ok && evj_key_is(x, "messageId")))
            continue;
        put_member(out, &first, x);
    }
    if (!first) ig_buf_putc(out, ',');
    ig_buf_puts(out, "\"type\":\"");
    ig_buf_puts(out, type);
    ig_buf_puts(out, "\",\"receivedAt\":\"");
    ig_buf_puts(out, rec);
    ig_buf_putc(out, '"');
    if (!client_ts) {
        char t[32];
        ig_ev_format_time(ts_us, t);
        ig_buf_puts(out, ",\"timestamp\":\"");
        ig_buf_puts(out, t);
        ig_buf_putc(out, '"');
    }
    if (!mid_ok) {
        char u[37];
        ig_ev_uuid(u);
        ig_buf_puts(out, ",\"messageId\":\"");
        ig_buf_append(out, u, 36);
        ig_buf_putc(out, '"');
    }
    if (!sent && batch_sent) {
        ig_buf_puts(out, ",\"sentAt\":");
        ig_buf_append(out, batch_sent->p, batch_sent->n);
    }
    put_merged(out, "context", evj_get(m, "context"), &L->ctx, bctx, ctx->ip);
    const evj *ints = evj_get(m, "integrations");
    if ((ints && ints->t == EVJ_OBJECT) || (bint && bint->n))
        put_merged(out, "integrations", ints, &L->ints, bint, NULL);
    ig_buf_putc(out, '}');
    /* copied slices may hold line breaks as whitespace (a pretty-printed
     * body); a WAL line must be one line. In valid JSON a raw CR or LF can
     * only be whitespace, so a space is the same document. */
    for (char *c = out->data + js; (c = memchr(c, '\n', out->len - (size_t)(c - out->data)));) *c = ' ';
    for (char *c = out->data + js; (c = memchr(c, '\r', out->len - (size_t)(c - out->data)));) *c = ' ';
    size_t n = out->len - js;
    if (n > ctx->max_event_bytes) {
        out->len = start;
        if (out->data) out->data[start] = 0;
        return reject(rej, 413, "event_too_large", item,
                      "%sthe event is %zu bytes; the limit is %zu (max_event_bytes)", where, n,
                      ctx->max_event_bytes);
    }
    if (ig_buf_putc(out, '\n')) {
        out->len = start;
        return reject(rej, 413, "batch_too_large", item, "%sthe request's events exceed the limit", where);
    }
    return 0;
}
#undef where

int ig_ev_process(const char *endpoint, const char *body, size_t len, const ig_ev_context *ctx,
                  ig_buf *out, size_t *nrows, char **write_key, ig_ev_reject *rej)
{
    *nrows = 0;
    if (write_key) *write_key = NULL;
    if (len == 0) return reject(rej, 400, "empty_body", -1, "the request body is empty; send a JSON object");
    evj root;
    evj_error je;
    if (!evj_parse(body, len, &root, &je))
        return reject(rej, 400, "invalid_json", -1, "the body is not valid JSON: %s at byte %zu",
                      je.what, je.offset);
    if (root.t != EVJ_OBJECT) return reject(rej, 400, "invalid_json", -1, "the body must be a JSON object");
    lists *L = thread_lists();
    evj_object_members(&root, &L->top);
    const evj *wk = evj_get(&L->top, "writeKey");
    if (wk && write_key) {
        char buf[1024];
        if (evj_string(wk, buf, sizeof buf)) *write_key = strdup(buf);
    }
    if (strcmp(endpoint, "batch")) {
        if (!ig_ev_type_valid(endpoint))
            return reject(rej, 404, "unknown_endpoint", -1, "no endpoint /v1/%s", endpoint);
        if (enrich(L, &L->top, endpoint, NULL, NULL, NULL, -1, ctx, out, rej)) return -1;
        *nrows = 1;
        return 0;
    }
    const evj *batch = evj_get(&L->top, "batch");
    if (!batch || batch->t != EVJ_ARRAY)
        return reject(rej, 400, "missing_batch", -1, "a batch call needs `batch`: a list of events");
    const evj *bc = evj_get(&L->top, "context"), *bi = evj_get(&L->top, "integrations");
    const evj *bs = evj_get(&L->top, "sentAt");
    L->bctx.n = L->bint.n = 0;
    if (bc && bc->t == EVJ_OBJECT) evj_object_members(bc, &L->bctx);
    if (bi && bi->t == EVJ_OBJECT) evj_object_members(bi, &L->bint);
    evj sent;
    bool has_sent = bs && bs->t == EVJ_STRING;
    if (has_sent) sent = *bs;
    const char *pos = NULL;
    evj ev;
    long i = 0;
    for (; evj_array_next(batch, &pos, &ev); i++) {
        if (ev.t != EVJ_OBJECT)
            return reject(rej, 400, "invalid_event", i, "batch item %ld: expected a JSON object", i);
        evj_object_members(&ev, &L->item);
        const evj *t = evj_get(&L->item, "type");
        char type[16];
        if (!t || t->t != EVJ_STRING)
            return reject(rej, 400, "missing_type", i,
                          "batch item %ld: `type` is required (track, identify, page, screen, group or alias)", i);
        if (!evj_string(t, type, sizeof type) || !ig_ev_type_valid(type))
            return reject(rej, 400, "invalid_type", i,
                          "batch item %ld: unknown type; expected track, identify, page, screen, group or alias", i);
        if (enrich(L, &L->item, type, has_sent ? &sent : NULL, &L->bctx, &L->bint, i, ctx, out, rej)) return -1;
        (*nrows)++;
    }
    return 0; /* *write_key is kept on failure too: the caller authenticates first */
}

