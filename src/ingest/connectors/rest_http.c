/* HTTP for the REST connector (libcurl): one request with retries — 429 and
 * 5xx and network errors are retried with exponential backoff honouring
 * Retry-After; other 4xx fail with the response body quoted — a request
 * rate limit, a cap on the response size, and OAuth2 tokens (client
 * credentials or refresh token) cached until shortly before they expire. */
#include "ingest/connectors/rest.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    ig_buf *b = ud;
    if (ig_buf_append(b, p, sz * n) != 0) return 0; /* over the cap: curl stops */
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    ig__rest_resp *r = ud;
    size_t len = sz * n;
    if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) r->retry_after = atol(p + 12);
    if (len > 5 && !strncasecmp(p, "Link:", 5)) {
        ig_buf_reset(&r->link);
        ig_buf_append(&r->link, p + 5, len - 5);
    }
    return len;
}

static void sleep_ms(long ms)
{
    if (ms <= 0) return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void ig__rest_resp_free(ig__rest_resp *r)
{
    ig_buf_free(&r->body);
    ig_buf_free(&r->link);
}

static ig_rc oauth_token(ig__rest *h, ig_error *err);

/* One attempt; *status 0 on a network error (err filled). */
static ig_rc attempt(ig__rest *h, const char *method, const char *url, const char *body,
                     ig__rest_resp *r, ig_error *err)
{
    CURL *cu = h->curl;
    curl_easy_reset(cu);
    ig_buf_free(&r->body); /* a retry starts from an empty body */
    ig_buf_init(&r->body, h->max_body);
    ig_buf_reset(&r->link);
    r->status = 0;
    r->retry_after = -1;
    struct curl_slist *hdrs = NULL;
    for (size_t i = 0; i < h->nheaders; i++) hdrs = curl_slist_append(hdrs, h->headers[i]);
    char *authz = NULL;
    if (h->auth == IG_REST_AUTH_BEARER || h->auth == IG_REST_AUTH_OAUTH2) {
        authz = ig_asprintf("Authorization: Bearer %s", h->token ? h->token : "");
        hdrs = curl_slist_append(hdrs, authz);
    } else if (h->auth == IG_REST_AUTH_API_KEY && h->key_header) {
        authz = ig_asprintf("%s: %s", h->key_header, h->key_value);
        hdrs = curl_slist_append(hdrs, authz);
    }
    if (body) hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    curl_easy_setopt(cu, CURLOPT_URL, url);
    curl_easy_setopt(cu, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(cu, CURLOPT_USERAGENT, "ingot");
    curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT, h->timeout);
    curl_easy_setopt(cu, CURLOPT_TIMEOUT, h->timeout);
    curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(cu, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(cu, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(cu, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "http,https");
    if (h->auth == IG_REST_AUTH_BASIC) {
        curl_easy_setopt(cu, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(cu, CURLOPT_USERNAME, h->username);
        curl_easy_setopt(cu, CURLOPT_PASSWORD, h->password ? h->password : "");
    }
    if (strcmp(method, "GET")) curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, method);
    if (body) curl_easy_setopt(cu, CURLOPT_POSTFIELDS, body);
    CURLcode cc = curl_easy_perform(cu);
    long status = 0;
    curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    free(authz);
    h->requests++;
    if (cc == CURLE_WRITE_ERROR && r->body.len >= h->max_body - 1) {
        return ig_err(err, IG_ERR_LIMIT, "the response of %s is larger than %zu bytes", h->shown_url,
                      h->max_body);
    }
    if (cc != CURLE_OK) {
        ig_err(err, IG_ERR_NETWORK, "%s %s: %s", method, h->shown_url, curl_easy_strerror(cc));
        return IG_OK; /* retryable: status stays 0 */
    }
    r->status = status;
    return IG_OK;
}

ig_rc ig__rest_request(ig__rest *h, const char *method, const char *url, const char *shown,
                       const char *body, ig__rest_resp *r, ig_error *err)
{
    h->shown_url = shown ? shown : url;
    bool reauth = false;
    for (int tryn = 0;; tryn++) {
        /* rate limit: keep at least 1/rate seconds between requests */
        if (h->rate > 0) {
            uint64_t gap = (uint64_t)(1e9 / h->rate), now = ig_now_ns();
            if (h->last_request && now - h->last_request < gap)
                sleep_ms((long)((gap - (now - h->last_request)) / 1000000));
        }
        if (h->auth == IG_REST_AUTH_OAUTH2 && (!h->token || ig_now_ns() + 60000000000ull >= h->token_expires)) {
            ig_rc rc = oauth_token(h, err);
            if (rc) return rc;
        }
        h->last_request = ig_now_ns();
        ig_error_clear(err);
        ig_rc rc = attempt(h, method, url, body, r, err);
        if (rc) return rc;
        long st = r->status;
        if (st >= 200 && st < 300) return IG_OK;
        if (st == 401 && h->auth == IG_REST_AUTH_OAUTH2 && !reauth) {
            reauth = true; /* the token may have been revoked early: fetch a new one once */
            h->token = NULL;
            continue;
        }
        bool retry = st == 0 || st == 429 || st >= 500;
        if (!retry || tryn >= h->max_retries) {
            if (st == 0) {
                ig_err_hint(err, "gave up after %d attempts; check base_url and the network",
                            tryn + 1);
                return IG_ERR_NETWORK;
            }
            int code = (st == 401 || st == 403) ? IG_ERR_AUTH
                       : st == 404             ? IG_ERR_NOT_FOUND
                                               : IG_ERR_FAILED;
            ig_err(err, code, "%s %s: HTTP %ld%s", method, h->shown_url, st,
                   retry ? " (after retries)" : "");
            ig_err_detail(err, "response body: %.600s", r->body.len ? r->body.data : "(empty)");
            if (code == IG_ERR_AUTH) ig_err_hint(err, "check the source's auth settings and the "
                                                      "environment variables they name");
            return code;
        }
        long wait = r->retry_after >= 0 ? r->retry_after * 1000
                                        : (long)(h->backoff_ms * (1L << (tryn < 10 ? tryn : 10)));
        if (wait > 60000) wait = 60000;
        ig_debug("rest.retry", "%s %s: %s, retrying in %ldms", method, h->shown_url,
                 st ? "HTTP error" : err->message, wait);
        h->retries++;
        sleep_ms(wait);
    }
}

/* POST the token endpoint; cache the token and when it expires. */
static ig_rc oauth_token(ig__rest *h, ig_error *err)
{
    ig_buf form = IG_BUF_INIT;
    CURL *cu = h->curl;
    char *id = curl_easy_escape(cu, h->client_id ? h->client_id : "", 0);
    char *sec = curl_easy_escape(cu, h->client_secret ? h->client_secret : "", 0);
    if (h->refresh_token) {
        char *rt = curl_easy_escape(cu, h->refresh_token, 0);
        ig_buf_printf(&form, "grant_type=refresh_token&refresh_token=%s", rt);
        curl_free(rt);
    } else {
        ig_buf_puts(&form, "grant_type=client_credentials");
    }
    ig_buf_printf(&form, "&client_id=%s&client_secret=%s", id, sec);
    if (h->scopes) {
        char *s = curl_easy_escape(cu, h->scopes, 0);
        ig_buf_printf(&form, "&scope=%s", s);
        curl_free(s);
    }
    curl_free(id);
    curl_free(sec);
    ig__rest_resp r = {IG_BUF_INIT, IG_BUF_INIT, 0, -1};
    curl_easy_reset(cu);
    ig_buf_init(&r.body, 1 << 20);
    curl_easy_setopt(cu, CURLOPT_URL, h->token_url);
    curl_easy_setopt(cu, CURLOPT_POSTFIELDS, ig_buf_cstr(&form));
    curl_easy_setopt(cu, CURLOPT_TIMEOUT, h->timeout);
    curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(cu, CURLOPT_WRITEDATA, &r.body);
    CURLcode cc = curl_easy_perform(cu);
    long st = 0;
    curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &st);
    ig_buf_free(&form);
    h->requests++;
    ig_rc rc = IG_OK;
    if (cc != CURLE_OK) {
        rc = ig_err(err, IG_ERR_NETWORK, "OAuth2 token request to %s: %s", h->token_url,
                    curl_easy_strerror(cc));
    } else if (st != 200) {
        rc = ig_err(err, IG_ERR_AUTH, "OAuth2 token request to %s: HTTP %ld", h->token_url, st);
        ig_err_detail(err, "response body: %.400s", r.body.len ? r.body.data : "(empty)");
        ig_err_hint(err, "check client_id, client_secret and refresh_token (their environment "
                         "variables)");
    } else {
        json_error_t je;
        json_t *j = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, &je);
        const char *tok = json_string_value(json_object_get(j, "access_token"));
        if (!tok) {
            rc = ig_err(err, IG_ERR_AUTH, "OAuth2 token response from %s has no access_token",
                        h->token_url);
        } else {
            free(h->token_buf);
            h->token_buf = ig_strdup(tok);
            h->token = h->token_buf;
            json_t *ex = json_object_get(j, "expires_in");
            double secs = json_is_number(ex) ? json_number_value(ex) : 3600;
            h->token_expires = ig_now_ns() + (uint64_t)(secs * 1e9);
            const char *nrt = json_string_value(json_object_get(j, "refresh_token"));
            if (nrt && h->refresh_token) { /* rotated refresh token */
                free(h->refresh_buf);
                h->refresh_buf = ig_strdup(nrt);
                h->refresh_token = h->refresh_buf;
            }
            h->token_fetches++;
        }
        json_decref(j);
    }
    ig__rest_resp_free(&r);
    return rc;
}
