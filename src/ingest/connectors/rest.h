/* Internal to the REST connector (rest.c, rest_http.c): the HTTP client
 * state — auth, retries, rate limit, cached OAuth2 token. One per source;
 * one thread. */
#ifndef IG_CONN_REST_H
#define IG_CONN_REST_H

#include "ingest/connectors/internal.h"

#include <stdint.h>

typedef enum {
    IG_REST_AUTH_NONE,
    IG_REST_AUTH_BEARER,
    IG_REST_AUTH_BASIC,
    IG_REST_AUTH_API_KEY,
    IG_REST_AUTH_OAUTH2,
} ig__rest_auth;

typedef struct ig__rest {
    void *curl;               /* CURL * */
    const char **headers;     /* "Name: value" */
    size_t nheaders;
    ig__rest_auth auth;
    const char *token;        /* bearer, or the cached OAuth2 access token */
    const char *username, *password;
    const char *key_header, *key_query, *key_value;
    const char *token_url, *client_id, *client_secret, *refresh_token, *scopes;
    char *token_buf, *refresh_buf;
    uint64_t token_expires;   /* monotonic ns */
    long timeout, max_retries, backoff_ms;
    double rate;              /* requests per second; 0: no limit */
    size_t max_body;
    uint64_t last_request;
    const char *shown_url;    /* the URL as errors show it (no secrets) */
    int64_t requests, retries, token_fetches;
} ig__rest;

typedef struct ig__rest_resp {
    ig_buf body;
    ig_buf link;      /* the Link header's value */
    long status;
    long retry_after; /* seconds, -1 when absent */
} ig__rest_resp;

/* Send a request with retries (see rest_http.c). `shown` is the URL for
 * messages (without a query-string API key). On success r->status is 2xx
 * and r->body holds the body; free with ig__rest_resp_free. */
ig_rc ig__rest_request(ig__rest *h, const char *method, const char *url, const char *shown,
                       const char *body, ig__rest_resp *r, ig_error *err);
void ig__rest_resp_free(ig__rest_resp *r);

#endif
