/* The REST connector: APIs declared in YAML, the way Airbyte's low-code
 * connectors are. A source has a base_url, auth, headers and a rate limit;
 * each stream a path, query parameters, a record selector (a dotted path into
 * the response), a paginator (page number, offset/limit, cursor from the
 * response, next URL in the body, Link header), an optional incremental
 * datetime cursor (start date, step windows, lookback, the request
 * parameters that carry the window) and an optional parent stream whose
 * records it iterates ("/customers/{parent.id}/orders").
 *
 * A stream's records land as CSV lines of: the primary-key fields, the
 * cursor field, and the whole record as JSON (column `data`), so bronze,
 * silver and state work exactly as for database streams. */
#include "ingest/connectors/rest.h"

#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { P_NONE, P_PAGE, P_OFFSET, P_CURSOR, P_NEXT_URL, P_LINK };

typedef struct rstream {
    const char *name, *path, *method, *records, *body;
    const ig_yaml *params, *node;
    int ptype;
    const char *page_param, *size_param, *offset_param, *limit_param, *cursor_path,
        *cursor_param, *next_path;
    long start_page, page_size;
    const char *cursor;      /* the record field of the cursor, or NULL */
    const char *start_param, *end_param, *start_date;
    long step_s, lookback_s;
    const char *parent, *parent_key;
    const char **pk;
    size_t npk;
} rstream;

typedef struct rest {
    const char *base_url;
    ig__rest http;
    rstream *streams;
    size_t n;
} rest;

static const ig_conn_spec_key rest_spec[] = {
    {"base_url", "string", true, false, NULL, "the API's base URL, e.g. https://api.example.com/v1"},
    {"auth", "map", false, false, NULL,
     "type: bearer|basic|api_key|oauth2 with token / username, password / header or query, "
     "value / token_url, client_id, client_secret, refresh_token, scopes"},
    {"headers", "map", false, false, NULL, "headers sent with every request"},
    {"rate_limit", "number", false, false, NULL, "most requests per second"},
    {"max_retries", "integer", false, false, "5", "retries of 429, 5xx and network errors"},
    {"backoff_ms", "integer", false, false, "500", "first retry wait, doubled each retry"},
    {"timeout", "integer", false, false, "30", "seconds per request"},
    {"max_response_mb", "integer", false, false, "64", "largest response body accepted"},
    {NULL, NULL, false, false, NULL, NULL},
};

static const char *const rest_stream_keys[] = {"path", "method", "params", "body", "records",
                                               "paginator", "incremental", "parent",
                                               "parent_key", NULL};

/* ---- configuration ---- */

static ig_rc ystr(const ig_yaml *map, const char *key, const char *what, const char *dflt,
                  const char **out, ig_error *err)
{
    const ig_yaml *v = map ? ig_yaml_get(map, key) : NULL;
    *out = dflt;
    if (!v || v->kind == IG_Y_NULL) return IG_OK;
    char w[256];
    snprintf(w, sizeof w, "%s.%s", what, key);
    return ig_yaml_str(v, w, out, err);
}

static ig_rc ylong(const ig_yaml *map, const char *key, const char *what, long dflt, long *out,
                   ig_error *err)
{
    const ig_yaml *v = map ? ig_yaml_get(map, key) : NULL;
    *out = dflt;
    if (!v || v->kind == IG_Y_NULL) return IG_OK;
    char w[256];
    snprintf(w, sizeof w, "%s.%s", what, key);
    return ig_yaml_int(v, w, out, err);
}

/* A secret inside a nested map: must come from ${VAR}. */
static ig_rc ysecret(const ig_yaml *map, const char *key, const char *what, const char **out,
                     ig_error *err)
{
    const ig_yaml *v = map ? ig_yaml_get(map, key) : NULL;
    *out = NULL;
    if (!v || v->kind == IG_Y_NULL) return IG_OK;
    if (v->kind != IG_Y_SCALAR) return ig_yaml_error(v, err, "%s.%s: expected a string", what, key);
    if (!v->var) {
        ig_yaml_error(v, err, "%s.%s is a secret and must not be written in %s in clear", what, key,
                      IG_PROJECT_FILE);
        err->detail[0] = '\0'; /* the excerpt would show the secret */
        ig_err_hint(err, "write `%s: ${SOME_ENV_VAR}` and set the variable", key);
        return IG_ERR_CONFIG;
    }
    *out = v->str;
    return IG_OK;
}

/* "90", "90s", "15m", "12h", "1d", "P1D", "PT1H" -> seconds; -1 when bad. */
static long parse_duration(const char *s)
{
    if (!s || !*s) return -1;
    if (s[0] == 'P') {
        long total = 0, n = 0;
        bool t = false;
        for (const char *p = s + 1; *p; p++) {
            if (*p == 'T') t = true;
            else if (*p >= '0' && *p <= '9') n = n * 10 + (*p - '0');
            else {
                long mult = *p == 'W' ? 604800 : *p == 'D' ? 86400 : *p == 'H' ? 3600
                          : *p == 'M' ? (t ? 60 : 2592000) : *p == 'S' ? 1 : -1;
                if (mult < 0) return -1;
                total += n * mult;
                n = 0;
            }
        }
        return total;
    }
    char *end;
    long n = strtol(s, &end, 10);
    if (end == s) return -1;
    switch (*end) {
    case '\0': case 's': return n;
    case 'm': return n * 60;
    case 'h': return n * 3600;
    case 'd': return n * 86400;
    default: return -1;
    }
}

static ig_rc read_auth(ig_conn *c, rest *r, ig_error *err)
{
    const ig_yaml *a = ig_yaml_get(c->cfg, "auth");
    if (!a || a->kind == IG_Y_NULL) return IG_OK;
    char *what = ig_arena_printf(c->arena, "sources.%s.auth", c->name);
    static const char *const keys[] = {"type", "token", "username", "password", "header",
                                       "query", "value", "token_url", "client_id",
                                       "client_secret", "refresh_token", "scopes", NULL};
    ig_rc rc = ig_yaml_check_keys(a, what, keys, err);
    const char *type = NULL;
    if (!rc) rc = ystr(a, "type", what, NULL, &type, err);
    if (rc) return rc;
    ig__rest *h = &r->http;
    if (!type) return ig_yaml_error(a, err, "%s needs 'type:' (bearer, basic, api_key, oauth2)", what);
    if (!strcmp(type, "bearer")) {
        h->auth = IG_REST_AUTH_BEARER;
        rc = ysecret(a, "token", what, &h->token, err);
        if (!rc && !h->token) rc = ig_yaml_error(a, err, "%s: bearer auth needs 'token:'", what);
    } else if (!strcmp(type, "basic")) {
        h->auth = IG_REST_AUTH_BASIC;
        rc = ystr(a, "username", what, "", &h->username, err);
        if (!rc) rc = ysecret(a, "password", what, &h->password, err);
    } else if (!strcmp(type, "api_key")) {
        h->auth = IG_REST_AUTH_API_KEY;
        rc = ystr(a, "header", what, NULL, &h->key_header, err);
        if (!rc) rc = ystr(a, "query", what, NULL, &h->key_query, err);
        if (!rc) rc = ysecret(a, "value", what, &h->key_value, err);
        if (!rc && (!h->key_value || (!h->key_header == !h->key_query)))
            rc = ig_yaml_error(a, err, "%s: api_key auth needs 'value:' and one of 'header:' or "
                                       "'query:'", what);
    } else if (!strcmp(type, "oauth2")) {
        h->auth = IG_REST_AUTH_OAUTH2;
        rc = ystr(a, "token_url", what, NULL, &h->token_url, err);
        if (!rc) rc = ystr(a, "client_id", what, NULL, &h->client_id, err);
        if (!rc) rc = ysecret(a, "client_secret", what, &h->client_secret, err);
        if (!rc) rc = ysecret(a, "refresh_token", what, &h->refresh_token, err);
        if (!rc) rc = ystr(a, "scopes", what, NULL, &h->scopes, err);
        if (!rc && !h->token_url)
            rc = ig_yaml_error(a, err, "%s: oauth2 auth needs 'token_url:'", what);
    } else {
        ig_yaml_error(ig_yaml_get(a, "type"), err, "unknown auth type '%s'", type);
        ig_err_hint(err, "bearer, basic, api_key or oauth2");
        return IG_ERR_CONFIG;
    }
    return rc;
}

static ig_rc read_stream(ig_conn *c, const char *name, const ig_yaml *s, rstream *rs,
                         ig_error *err)
{
    ig_arena *a = c->arena;
    char *what = ig_arena_printf(a, "sources.%s.streams.%s", c->name, name);
    memset(rs, 0, sizeof *rs);
    rs->name = name;
    rs->node = s;
    ig_rc rc;
    if ((rc = ystr(s, "path", what, NULL, &rs->path, err))) return rc;
    if (!rs->path) return ig_yaml_error(s, err, "%s needs 'path:' (e.g. /customers)", what);
    if ((rc = ystr(s, "method", what, "GET", &rs->method, err))) return rc;
    if ((rc = ystr(s, "records", what, "", &rs->records, err))) return rc;
    if ((rc = ystr(s, "body", what, NULL, &rs->body, err))) return rc;
    if ((rc = ystr(s, "cursor", what, NULL, &rs->cursor, err))) return rc;
    if ((rc = ystr(s, "parent", what, NULL, &rs->parent, err))) return rc;
    if ((rc = ystr(s, "parent_key", what, "id", &rs->parent_key, err))) return rc;
    rs->params = ig_yaml_get(s, "params");
    const ig_yaml *pk = ig_yaml_get(s, "primary_key");
    if (pk && pk->kind == IG_Y_SCALAR) {
        rs->pk = ig_arena_alloc(a, sizeof *rs->pk);
        rs->pk[0] = pk->str;
        rs->npk = 1;
    } else if (pk && pk->kind == IG_Y_SEQ) {
        rs->pk = ig_arena_alloc(a, (pk->n + 1) * sizeof *rs->pk);
        for (size_t i = 0; i < pk->n; i++)
            if ((rc = ig_yaml_str(pk->items[i], what, &rs->pk[i], err))) return rc;
        rs->npk = pk->n;
    }
    const ig_yaml *p = ig_yaml_get(s, "paginator");
    if (p && p->kind == IG_Y_MAP) {
        char *pw = ig_arena_printf(a, "%s.paginator", what);
        static const char *const keys[] = {"type", "param", "size_param", "page_size", "start",
                                           "offset_param", "limit_param", "limit", "cursor_path",
                                           "path", NULL};
        const char *type = NULL;
        if ((rc = ig_yaml_check_keys(p, pw, keys, err))) return rc;
        if ((rc = ystr(p, "type", pw, NULL, &type, err))) return rc;
        static const char *const types[] = {"page_number", "offset", "cursor", "next_url",
                                            "link_header", NULL};
        rs->ptype = -1;
        for (int i = 0; types[i]; i++)
            if (type && !strcmp(type, types[i])) rs->ptype = i + 1;
        if (rs->ptype < 0) {
            ig_yaml_error(p, err, "%s: unknown paginator type '%s'", pw, type ? type : "");
            ig_err_hint(err, "page_number, offset, cursor, next_url or link_header");
            return IG_ERR_CONFIG;
        }
        if ((rc = ystr(p, "param", pw, rs->ptype == P_PAGE ? "page" : "cursor", &rs->page_param, err)))
            return rc;
        rs->cursor_param = rs->page_param;
        if ((rc = ystr(p, "size_param", pw, NULL, &rs->size_param, err))) return rc;
        if ((rc = ylong(p, "page_size", pw, 0, &rs->page_size, err))) return rc;
        if ((rc = ylong(p, "start", pw, 1, &rs->start_page, err))) return rc;
        if ((rc = ystr(p, "offset_param", pw, "offset", &rs->offset_param, err))) return rc;
        if ((rc = ystr(p, "limit_param", pw, "limit", &rs->limit_param, err))) return rc;
        if (rs->ptype == P_OFFSET && (rc = ylong(p, "limit", pw, 100, &rs->page_size, err))) return rc;
        if ((rc = ystr(p, "cursor_path", pw, "next_cursor", &rs->cursor_path, err))) return rc;
        if ((rc = ystr(p, "path", pw, "next", &rs->next_path, err))) return rc;
    }
    const ig_yaml *inc = ig_yaml_get(s, "incremental");
    if (inc && inc->kind == IG_Y_MAP) {
        char *iw = ig_arena_printf(a, "%s.incremental", what);
        static const char *const keys[] = {"start_param", "end_param", "start", "step",
                                           "lookback", NULL};
        const char *step = NULL, *lb = NULL;
        if ((rc = ig_yaml_check_keys(inc, iw, keys, err))) return rc;
        if ((rc = ystr(inc, "start_param", iw, NULL, &rs->start_param, err))) return rc;
        if ((rc = ystr(inc, "end_param", iw, NULL, &rs->end_param, err))) return rc;
        if ((rc = ystr(inc, "start", iw, "1970-01-01T00:00:00Z", &rs->start_date, err))) return rc;
        if ((rc = ystr(inc, "step", iw, NULL, &step, err))) return rc;
        if ((rc = ystr(inc, "lookback", iw, "0", &lb, err))) return rc;
        rs->step_s = step ? parse_duration(step) : 0;
        rs->lookback_s = parse_duration(lb);
        if (rs->step_s < 0 || rs->lookback_s < 0)
            return ig_yaml_error(inc, err, "%s: step and lookback are durations like 1d, 12h, "
                                           "30m or P1D", iw);
    }
    return IG_OK;
}

static void rest_cleanup(void *p)
{
    rest *r = p;
    if (r->http.curl) curl_easy_cleanup(r->http.curl);
    r->http.curl = NULL;
    free(r->http.token_buf);
    free(r->http.refresh_buf);
    r->http.token_buf = r->http.refresh_buf = NULL;
}

static ig_rc rest_open(ig_conn *c, ig_error *err)
{
    rest *r = ig_arena_zalloc(c->arena, sizeof *r);
    ig_rc rc;
    long mb = 64;
    if ((rc = ig_conn_cfg_str(c, "base_url", NULL, &r->base_url, err))) return rc;
    if ((rc = ig_conn_cfg_int(c, "max_retries", 5, &r->http.max_retries, err))) return rc;
    if ((rc = ig_conn_cfg_int(c, "backoff_ms", 500, &r->http.backoff_ms, err))) return rc;
    if ((rc = ig_conn_cfg_int(c, "timeout", 30, &r->http.timeout, err))) return rc;
    if ((rc = ig_conn_cfg_int(c, "max_response_mb", 64, &mb, err))) return rc;
    r->http.max_body = (size_t)mb << 20;
    const ig_yaml *rl = ig_yaml_get(c->cfg, "rate_limit");
    if (rl && rl->kind != IG_Y_NULL &&
        (rc = ig_yaml_double(rl, "rate_limit", &r->http.rate, err)))
        return rc;
    if ((rc = read_auth(c, r, err))) return rc;
    const ig_yaml *hd = ig_yaml_get(c->cfg, "headers");
    if (hd && hd->kind == IG_Y_MAP) {
        r->http.headers = ig_arena_alloc(c->arena, (hd->n + 1) * sizeof *r->http.headers);
        for (size_t i = 0; i < hd->n; i++) {
            const char *v = "";
            if ((rc = ig_yaml_str(hd->items[i], "headers", &v, err))) return rc;
            r->http.headers[r->http.nheaders++] =
                ig_arena_printf(c->arena, "%s: %s", hd->keys[i]->str, v);
        }
    }
    const ig_yaml *ss = ig_yaml_get(c->cfg, "streams");
    if (!ss || ss->kind != IG_Y_MAP || !ss->n)
        return ig_yaml_error(ss ? ss : c->cfg, err, "REST source '%s' needs 'streams:', each with "
                                                    "a 'path:'", c->name);
    r->streams = ig_arena_zalloc(c->arena, ss->n * sizeof *r->streams);
    for (size_t i = 0; i < ss->n; i++) {
        if (ss->items[i]->kind != IG_Y_MAP)
            return ig_yaml_error(ss->items[i], err, "stream '%s' must be a mapping with 'path:'",
                                 ss->keys[i]->str);
        if ((rc = read_stream(c, ss->keys[i]->str, ss->items[i], &r->streams[r->n++], err)))
            return rc;
    }
    for (size_t i = 0; i < r->n; i++) {
        if (!r->streams[i].parent) continue;
        bool found = false;
        for (size_t j = 0; j < r->n; j++) found |= !strcmp(r->streams[j].name, r->streams[i].parent);
        if (!found)
            return ig_yaml_error(ig_yaml_get(r->streams[i].node, "parent"), err,
                                 "stream '%s' has parent '%s', which is not a stream of this "
                                 "source", r->streams[i].name, r->streams[i].parent);
    }
    r->http.curl = curl_easy_init();
    c->priv = r;
    ig_arena_on_free(c->arena, rest_cleanup, r);
    return IG_OK;
}

static void rest_close(ig_conn *c)
{
    if (c->priv) rest_cleanup(c->priv);
}

/* ---- JSON helpers ---- */

static json_t *json_path(json_t *j, const char *path)
{
    if (!path || !*path || !strcmp(path, ".")) return j;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *t = strtok_r(buf, ".", &save); t && j; t = strtok_r(NULL, ".", &save))
        if (json_is_array(j)) {
            long i = atol(t); /* -1 is the last element (Stripe's starting_after) */
            size_t n = json_array_size(j);
            j = i < 0 ? (n >= (size_t)-i ? json_array_get(j, n - (size_t)-i) : NULL)
                      : json_array_get(j, (size_t)i);
        } else {
            j = json_object_get(j, t);
        }
    return j;
}

/* Scalar JSON as text into b; false for null/missing/containers. */
static bool json_text(json_t *v, ig_buf *b)
{
    ig_buf_reset(b);
    if (json_is_string(v)) ig_buf_puts(b, json_string_value(v));
    else if (json_is_integer(v)) ig_buf_printf(b, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v)) ig_buf_printf(b, "%.17g", json_real_value(v));
    else if (json_is_true(v)) ig_buf_puts(b, "true");
    else if (json_is_false(v)) ig_buf_puts(b, "false");
    else return false;
    return true;
}

/* ---- time ---- */

static bool parse_time(const char *s, time_t *out)
{
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, se = 0;
    if (!s || sscanf(s, "%d-%d-%d", &y, &mo, &d) != 3) return false;
    const char *t = strpbrk(s, "T ");
    if (t) sscanf(t + 1, "%d:%d:%d", &h, &mi, &se);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    *out = timegm(&tm);
    return true;
}

static void format_time(time_t t, char *out, size_t n)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- discover ---- */

static ig_rc rest_discover(ig_conn *c, ig_conn_catalog *out, ig_error *err)
{
    rest *r = c->priv;
    ig_arena *a = c->arena;
    out->streams = ig_arena_zalloc(a, r->n * sizeof *out->streams);
    out->n = r->n;
    for (size_t i = 0; i < r->n; i++) {
        const rstream *rs = &r->streams[i];
        ig_conn_stream *st = &out->streams[i];
        st->name = st->object = rs->name;
        st->ncols = rs->npk + (rs->cursor ? 1 : 0) + 1;
        st->cols = ig_arena_zalloc(a, st->ncols * sizeof *st->cols);
        size_t k = 0;
        for (size_t j = 0; j < rs->npk; j++)
            st->cols[k++] = (ig_conn_column){.name = rs->pk[j], .source_type = "json field",
                                             .wh_type = "VARCHAR", .csv_type = "VARCHAR",
                                             .nullable = true, .cursor_ok = true};
        if (rs->cursor)
            st->cols[k++] = (ig_conn_column){.name = rs->cursor, .source_type = "json field",
                                             .wh_type = "VARCHAR", .csv_type = "VARCHAR",
                                             .nullable = true, .cursor_ok = true};
        st->cols[k++] = (ig_conn_column){.name = "data", .source_type = "json record",
                                         .wh_type = "JSON", .csv_type = "VARCHAR",
                                         .nullable = false};
        st->ncols = k;
        st->pk = rs->pk;
        st->npk = rs->npk;
        st->default_cursor = rs->cursor;
        st->priv = (void *)rs;
    }
    (void)err;
    return IG_OK;
}

/* ---- read ---- */

typedef ig_rc (*record_fn)(void *ctx, json_t *rec, ig_error *err);

typedef struct page_ctx {
    ig_conn *c;
    const rstream *rs;
    const char *parent_val;
    const char *wstart, *wend; /* the window, or NULL */
} page_ctx;

/* Replace {parent.X} / {start} / {end} in s. */
static char *expand(const page_ctx *p, const char *s, bool escape)
{
    ig_buf b = IG_BUF_INIT;
    rest *r = p->c->priv;
    for (const char *q = s; *q;) {
        const char *o = strchr(q, '{'), *e = o ? strchr(o, '}') : NULL;
        if (!o || !e) {
            ig_buf_puts(&b, q);
            break;
        }
        ig_buf_append(&b, q, (size_t)(o - q));
        const char *val = NULL;
        size_t kl = (size_t)(e - o - 1);
        if (kl > 7 && !strncmp(o + 1, "parent.", 7)) val = p->parent_val;
        else if (kl == 5 && !strncmp(o + 1, "start", 5)) val = p->wstart;
        else if (kl == 3 && !strncmp(o + 1, "end", 3)) val = p->wend;
        if (val) {
            char *x = escape ? curl_easy_escape(r->http.curl, val, 0) : NULL;
            ig_buf_puts(&b, x ? x : val);
            if (x) curl_free(x);
        } else {
            ig_buf_append(&b, o, (size_t)(e - o + 1));
        }
        q = e + 1;
    }
    char *out = ig_strdup(ig_buf_cstr(&b));
    ig_buf_free(&b);
    return out;
}

static void add_param(ig_buf *u, CURL *cu, const char *k, const char *v)
{
    char *ek = curl_easy_escape(cu, k, 0), *ev = curl_easy_escape(cu, v, 0);
    ig_buf_printf(u, "%c%s=%s", strchr(ig_buf_cstr(u), '?') ? '&' : '?', ek, ev);
    curl_free(ek);
    curl_free(ev);
}

/* The next URL from a Link header: <url>; rel="next". */
static bool link_next(const char *h, ig_buf *out)
{
    for (const char *p = h; (p = strchr(p, '<'));) {
        const char *e = strchr(p, '>');
        if (!e) return false;
        const char *semi = e + 1, *next = strchr(semi, '<');
        const char *rel = strstr(semi, "rel=\"next\"");
        if (!rel) rel = strstr(semi, "rel=next");
        if (rel && (!next || rel < next)) {
            ig_buf_reset(out);
            ig_buf_append(out, p + 1, (size_t)(e - p - 1));
            return true;
        }
        p = e;
    }
    return false;
}

static ig_rc read_pages(page_ctx *p, record_fn fn, void *ctx, ig_error *err)
{
    rest *r = p->c->priv;
    const rstream *rs = p->rs;
    CURL *cu = r->http.curl;
    long page = rs->start_page, offset = 0;
    ig_buf cursor = IG_BUF_INIT, next = IG_BUF_INIT, url = IG_BUF_INIT, shown = IG_BUF_INIT;
    ig_rc rc = IG_OK;
    for (int npages = 0;; npages++) {
        ig_buf_reset(&url);
        if (next.len) {
            const char *n = ig_buf_cstr(&next);
            if (!strncmp(n, "http://", 7) || !strncmp(n, "https://", 8)) ig_buf_puts(&url, n);
            else ig_buf_printf(&url, "%s%s", r->base_url, n);
        } else {
            char *path = expand(p, rs->path, true);
            ig_buf_printf(&url, "%s%s", r->base_url, path);
            free(path);
            for (size_t i = 0; rs->params && rs->params->kind == IG_Y_MAP && i < rs->params->n; i++) {
                const ig_yaml *v = rs->params->items[i];
                char *ev = expand(p, v->str ? v->str : "", false);
                add_param(&url, cu, rs->params->keys[i]->str, ev);
                free(ev);
            }
            if (p->wstart && rs->start_param) add_param(&url, cu, rs->start_param, p->wstart);
            if (p->wend && rs->end_param) add_param(&url, cu, rs->end_param, p->wend);
            char num[32];
            if (rs->ptype == P_PAGE) {
                snprintf(num, sizeof num, "%ld", page);
                add_param(&url, cu, rs->page_param, num);
                if (rs->size_param && rs->page_size) {
                    snprintf(num, sizeof num, "%ld", rs->page_size);
                    add_param(&url, cu, rs->size_param, num);
                }
            } else if (rs->ptype == P_OFFSET) {
                snprintf(num, sizeof num, "%ld", offset);
                add_param(&url, cu, rs->offset_param, num);
                snprintf(num, sizeof num, "%ld", rs->page_size);
                add_param(&url, cu, rs->limit_param, num);
            } else if (rs->ptype == P_CURSOR && cursor.len) {
                add_param(&url, cu, rs->cursor_param, ig_buf_cstr(&cursor));
            }
        }
        ig_buf_reset(&shown);
        ig_buf_puts(&shown, ig_buf_cstr(&url));
        if (r->http.auth == IG_REST_AUTH_API_KEY && r->http.key_query)
            add_param(&url, cu, r->http.key_query, r->http.key_value);
        char *body = rs->body ? expand(p, rs->body, false) : NULL;
        ig__rest_resp resp = {IG_BUF_INIT, IG_BUF_INIT, 0, -1};
        rc = ig__rest_request(&r->http, rs->method, ig_buf_cstr(&url), ig_buf_cstr(&shown), body,
                              &resp, err);
        free(body);
        if (rc) {
            ig__rest_resp_free(&resp);
            break;
        }
        json_error_t je;
        json_t *doc = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len,
                                 JSON_DECODE_ANY, &je);
        if (!doc) {
            rc = ig_err(err, IG_ERR_DATA, "GET %s: the response is not valid JSON: %s at line %d "
                                          "column %d", ig_buf_cstr(&shown), je.text, je.line,
                        je.column);
            ig_err_detail(err, "response body: %.300s", resp.body.len ? resp.body.data : "");
            ig__rest_resp_free(&resp);
            break;
        }
        json_t *recs = json_path(doc, rs->records);
        size_t n = 0;
        if (json_is_array(recs)) {
            n = json_array_size(recs);
            for (size_t i = 0; i < n && !rc; i++) rc = fn(ctx, json_array_get(recs, i), err);
        } else if (json_is_object(recs)) {
            n = 1;
            rc = fn(ctx, recs, err);
        } else if (recs && !json_is_null(recs)) {
            rc = ig_err(err, IG_ERR_DATA, "GET %s: records path '%s' is %s, not a list of records",
                        ig_buf_cstr(&shown), rs->records, json_is_string(recs) ? "a string" : "a value");
        }
        /* what comes next */
        bool more = false;
        ig_buf_reset(&next);
        switch (rs->ptype) {
        case P_PAGE:
            more = n > 0 && (!rs->page_size || (long)n >= rs->page_size);
            page++;
            break;
        case P_OFFSET:
            more = n > 0 && (long)n >= rs->page_size;
            offset += (long)n;
            break;
        case P_CURSOR:
            more = n > 0 && json_text(json_path(doc, rs->cursor_path), &cursor) && cursor.len;
            break;
        case P_NEXT_URL:
            more = json_text(json_path(doc, rs->next_path), &next) && next.len;
            break;
        case P_LINK:
            more = resp.link.len && link_next(ig_buf_cstr(&resp.link), &next);
            break;
        default:
            break;
        }
        json_decref(doc);
        ig__rest_resp_free(&resp);
        if (rc || !more) break;
        if (npages > 1000000) {
            rc = ig_err(err, IG_ERR_LIMIT, "stream '%s': more than a million pages; is the "
                                           "paginator right?", rs->name);
            break;
        }
    }
    ig_buf_free(&cursor);
    ig_buf_free(&next);
    ig_buf_free(&url);
    ig_buf_free(&shown);
    return rc;
}

/* Writing records of the stream being synced. */
typedef struct emit_ctx {
    ig_conn_out *out;
    const rstream *rs;
    const char *lower;  /* client-side filter: skip records with cursor < lower */
    ig_buf line, v, maxc;
} emit_ctx;

static ig_rc emit(void *vctx, json_t *rec, ig_error *err)
{
    emit_ctx *e = vctx;
    const rstream *rs = e->rs;
    if (!json_is_object(rec)) return IG_OK;
    ig_buf_reset(&e->line);
    for (size_t i = 0; i < rs->npk; i++) {
        if (json_text(json_path(rec, rs->pk[i]), &e->v)) ig__conn_csv_field(&e->line, e->v.data, e->v.len);
        ig_buf_putc(&e->line, ',');
    }
    if (rs->cursor) {
        if (json_text(json_path(rec, rs->cursor), &e->v)) {
            if (e->lower && strcmp(e->v.data, e->lower) < 0) return IG_OK;
            ig__conn_csv_field(&e->line, e->v.data, e->v.len);
            if (!e->maxc.len || strcmp(e->v.data, ig_buf_cstr(&e->maxc)) > 0) {
                ig_buf_reset(&e->maxc);
                ig_buf_append(&e->maxc, e->v.data, e->v.len);
            }
        } else {
            ig_conn_out_warn(e->out, "null_cursor", "records without cursor field '%s' were "
                                                    "loaded", rs->cursor);
        }
        ig_buf_putc(&e->line, ',');
    }
    char *js = json_dumps(rec, JSON_COMPACT | JSON_ENCODE_ANY);
    ig__conn_csv_field(&e->line, js, strlen(js));
    free(js);
    ig_buf_putc(&e->line, '\n');
    if (ig_conn_out_interrupted(e->out)) return ig_err(err, IG_ERR_INTERRUPTED, "interrupted");
    return ig_conn_out_record(e->out, e->line.data, e->line.len, err);
}

typedef struct collect_ctx {
    const char *key;
    ig_arena *a;
    const char **vals;
    size_t n, cap;
    ig_buf v;
} collect_ctx;

static ig_rc collect(void *vctx, json_t *rec, ig_error *err)
{
    collect_ctx *k = vctx;
    if (!json_text(json_path(rec, k->key), &k->v)) return IG_OK;
    if (k->n == k->cap) {
        if (k->cap >= 10000000) return ig_err(err, IG_ERR_LIMIT, "a parent stream with more than "
                                                                 "10 million records");
        k->cap = k->cap ? 2 * k->cap : 64;
        const char **nv = ig_arena_alloc(k->a, k->cap * sizeof *nv);
        if (k->n) memcpy(nv, k->vals, k->n * sizeof *nv);
        k->vals = nv;
    }
    k->vals[k->n++] = ig_arena_strdup(k->a, ig_buf_cstr(&k->v));
    return IG_OK;
}

static const rstream *find_rs(rest *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->streams[i].name, name)) return &r->streams[i];
    return NULL;
}

/* All pages of rs, for each parent value (or once), within one window. */
static ig_rc read_window(ig_conn *c, const rstream *rs, const char *const *parents, size_t np,
                         const char *ws, const char *we, record_fn fn, void *ctx, ig_error *err)
{
    page_ctx p = {c, rs, NULL, ws, we};
    if (!rs->parent) return read_pages(&p, fn, ctx, err);
    for (size_t i = 0; i < np; i++) {
        p.parent_val = parents[i];
        ig_rc rc = read_pages(&p, fn, ctx, err);
        if (rc) return rc;
    }
    return IG_OK;
}

static ig_rc rest_read(ig_conn *c, const ig_conn_read *rq, ig_conn_out *out, ig_error *err)
{
    rest *r = c->priv;
    const rstream *rs = rq->stream->priv;
    const char *const *parents = NULL;
    size_t np = 0;
    collect_ctx k = {0};
    if (rs->parent) {
        const rstream *ps = find_rs(r, rs->parent);
        k.key = rs->parent_key;
        k.a = c->arena;
        ig_rc rc = read_window(c, ps, NULL, 0, NULL, NULL, collect, &k, err);
        ig_buf_free(&k.v);
        if (rc) {
            ig_err_prefix(err, "reading parent stream '%s'", ps->name);
            return rc;
        }
        parents = k.vals;
        np = k.n;
    }
    emit_ctx e = {.out = out, .rs = rs};
    bool incr = rq->cursor && rq->mode >= IG_CONN_INCR_APPEND;
    ig_rc rc = IG_OK;
    if (incr && rs->start_param) {
        time_t start, now = time(NULL);
        if (!parse_time(rs->start_date, &start))
            return ig_err(err, IG_ERR_CONFIG, "stream '%s': incremental.start '%s' is not a date "
                                              "(YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)", rs->name,
                          rs->start_date);
        time_t st;
        if (rq->cursor_value && parse_time(rq->cursor_value, &st)) start = st - rs->lookback_s;
        long step = rs->step_s > 0 ? rs->step_s : (long)(now - start + 1);
        for (time_t w = start; w <= now && !rc; w += step) {
            char ws[40], we[40];
            format_time(w, ws, sizeof ws);
            format_time(w + step > now ? now : w + step, we, sizeof we);
            rc = read_window(c, rs, parents, np, ws, we, emit, &e, err);
            /* the window is complete: commit it with the newest cursor seen */
            if (!rc) rc = ig_conn_out_checkpoint(out, e.maxc.len ? ig_buf_cstr(&e.maxc) : NULL,
                                                 NULL, err);
        }
    } else {
        if (incr && rq->cursor_value) e.lower = rq->cursor_value;
        rc = read_window(c, rs, parents, np, NULL, NULL, emit, &e, err);
        if (!rc) rc = ig_conn_out_checkpoint(out, e.maxc.len ? ig_buf_cstr(&e.maxc) : NULL, NULL, err);
    }
    if (r->http.retries)
        ig_info("rest.retries", "%s.%s: %lld requests, %lld retried", c->name, rs->name,
                (long long)r->http.requests, (long long)r->http.retries);
    ig_buf_free(&e.line);
    ig_buf_free(&e.v);
    ig_buf_free(&e.maxc);
    return rc;
}

static ig_rc rest_check(ig_conn *c, ig_error *err)
{
    rest *r = c->priv;
    const rstream *rs = NULL;
    for (size_t i = 0; i < r->n && !rs; i++)
        if (!r->streams[i].parent) rs = &r->streams[i];
    if (!rs) return ig_err(err, IG_ERR_CONFIG, "REST source '%s' has no stream without a parent", c->name);
    page_ctx p = {c, rs, NULL, NULL, NULL};
    rstream one = *rs;
    one.ptype = P_NONE; /* the first page is enough */
    p.rs = &one;
    int64_t count = 0;
    collect_ctx k = {.key = "\x01", .a = c->arena};
    ig_rc rc = read_pages(&p, collect, &k, err);
    ig_buf_free(&k.v);
    (void)count;
    if (rc) return rc;
    printf("ok: %s answered stream '%s' (%s)\n", r->base_url, rs->name, rs->path);
    return IG_OK;
}

const ig_conn_vtable ig_conn_rest = {
    .type = "rest",
    .summary = "REST APIs declared in YAML (auth, pagination, incremental, child streams)",
    .spec = rest_spec,
    .stream_keys = rest_stream_keys,
    .open = rest_open,
    .check = rest_check,
    .discover = rest_discover,
    .read = rest_read,
    .close = rest_close,
};
