/* Event collection: the Segment/RudderStack-compatible HTTP API, webhooks and
 * the Pub/Sub pull source, all landing through the write-ahead log (wal.h)
 * and the loader (loader.h) into the raw zone and bronze.
 *
 * This layer knows nothing of sockets: `ingot serve` (src/serve/) turns each
 * HTTP request into an ig_ev_request and sends back the ig_ev_response, so
 * the dependency points from serve/ to here, as DESIGN.md wants, and the
 * fuzz driver can call the same code with no server.
 *
 * Objects and lifetimes:
 *   ig_ev_config     the `sources:` of type events / webhook / pubsub, read
 *                    from ingot.yml into an arena (ig_ev_config_read).
 *   ig_ev_collector  the endpoints: owns a reference to the current config
 *                    (swapped on reload), appends to a WAL it borrows, keeps
 *                    the counters for /metrics. Thread-safe.
 *
 * The WAL record format shared with the loader (one record per request):
 *     "<source>\t<stream>\n" then one line per row: "<YYYY-MM-DD>\t<json>\n"
 * where the date is the row's event date (its raw-zone partition). */
#ifndef IG_EVENTS_H
#define IG_EVENTS_H

#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "ingest/events/wal.h"
#include "project/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- configuration -------------------------------------------------------- */

typedef enum { IG_EV_SOURCE_EVENTS, IG_EV_SOURCE_WEBHOOK, IG_EV_SOURCE_PUBSUB } ig_ev_source_kind;

typedef struct ig_ev_strs {
    const char **v;
    size_t n;
} ig_ev_strs;

typedef struct ig_ev_source {
    const char *name;          /* [a-z_][a-z0-9_]*: used in table names */
    ig_ev_source_kind kind;
    bool enabled;              /* false: requests get 404 */
    ig_ev_strs write_keys;     /* events: Basic-auth users accepted (secrets: from ${VAR}) */
    ig_ev_strs allowed_origins; /* CORS; "*" for any; empty: no browser access */
    ig_ev_strs trusted_proxies; /* peers whose X-Forwarded-For is believed */
    size_t max_event_bytes;    /* default 32 KiB */
    size_t max_batch_bytes;    /* decompressed request body; default 500 KiB */
    int dedup_window_s;        /* duplicate messageId window; default 7 days */
    /* webhook */
    const char *hmac_header;   /* e.g. X-Hub-Signature-256; NULL: no check */
    const char *hmac_algorithm; /* sha1, sha256 (default), sha512 */
    const char *hmac_secret;
    const char *hmac_prefix;   /* text before the hex digest, e.g. "sha256=" */
    ig_ev_strs keep_headers;   /* headers stored with the body (lower case) */
    /* pubsub */
    const char *endpoint;      /* http://127.0.0.1:8085 (emulator) or https://pubsub.googleapis.com */
    const char *subscription;  /* projects/P/subscriptions/S */
    const char *token;         /* OAuth bearer token (from ${VAR}); NULL for the emulator */
    int max_messages;          /* per pull; default 1000 */
} ig_ev_source;

typedef struct ig_ev_config {
    ig_ev_source *sources;
    size_t nsources;
} ig_ev_config;

/* Read the `sources:` entries of type events, webhook and pubsub (others are
 * left to their layers). `sources:` may be a mapping name -> settings or a
 * list of settings with `name:`. Errors name file:line:col and the key, with
 * the nearest valid key for a typo. *out lives in the arena. */
ig_rc ig_ev_config_read(ig_arena *a, const ig_project *p, ig_ev_config **out, ig_error *err);
const ig_ev_source *ig_ev_config_find(const ig_ev_config *c, const char *name);

/* ---- validation and enrichment (pure; fuzzed) ----------------------------- */

/* Why a request was refused: HTTP status, a stable code, a message that says
 * which rule and which item (item = -1 when not about one). */
typedef struct ig_ev_reject {
    int status;
    char code[48];
    char message[512];
    long item;
} ig_ev_reject;

typedef struct ig_ev_context {
    int64_t received_us;   /* arrival time */
    const char *ip;        /* client address for context.ip */
    size_t max_event_bytes;
} ig_ev_context;

/* The call types, and "batch" (also /v1/import, /beacon/v1/batch). */
bool ig_ev_type_valid(const char *type);

/* Validate and enrich the JSON body of a /v1/<endpoint> request (endpoint is
 * "track", "identify", "page", "screen", "group", "alias" or "batch") and
 * append the WAL lines (see the top of this file, without the first line) to
 * out; *nrows gets the number of events. *write_key (may be NULL) receives
 * the body's `writeKey` when it has one, as a malloc'd string (caller frees).
 * Returns 0, or -1 with *rej filled (nothing useful in out). */
int ig_ev_process(const char *endpoint, const char *body, size_t len, const ig_ev_context *ctx,
                  ig_buf *out, size_t *nrows, char **write_key, ig_ev_reject *rej);

/* Parse an ISO-8601 / RFC 3339 timestamp ("2026-01-02T03:04:05.678Z",
 * offsets, a space instead of T, date only) to microseconds since the epoch.
 * False when it is not one. */
bool ig_ev_parse_time(const char *s, int64_t *us);
/* Format as Segment does: "2026-01-02T03:04:05.678Z" (milliseconds). */
void ig_ev_format_time(int64_t us, char out[32]);
/* A random UUID v4 (36 characters + NUL). Thread-safe. */
void ig_ev_uuid(char out[37]);

/* Inflate a gzip or zlib body into out, refusing to produce more than `cap`
 * bytes (gzip bombs). Returns 0, -1 when malformed, -2 when over the cap. */
int ig_ev_gunzip(const char *in, size_t n, size_t cap, ig_buf *out);

/* ---- the endpoints ------------------------------------------------------- */

typedef struct ig_ev_collector ig_ev_collector;

typedef struct ig_ev_request {
    const char *method;        /* NUL-terminated */
    const char *path;          /* NUL-terminated, without the query */
    /* header look-up: value (not NUL-terminated) and length, NULL when absent */
    const char *(*header)(void *hctx, const char *name, size_t *len);
    void *hctx;
    const char *body;
    size_t body_len;
    const char *peer_ip;
    int64_t now_us;
} ig_ev_request;

typedef struct ig_ev_response {
    int status;
    ig_buf *body;              /* JSON; provided by the caller */
    ig_buf *headers;           /* extra "Name: value\r\n" lines; provided by the caller */
    const char *content_type;  /* NULL: application/json */
    uint64_t wait_lsn;         /* > 0: answer only once the WAL is durable to here */
} ig_ev_response;

/* Collector states the daemon sets from its monitor (backpressure). */
typedef enum { IG_EV_OPEN = 0, IG_EV_SLOW_DOWN = 429, IG_EV_UNAVAILABLE = 503 } ig_ev_state;

/* Create a collector over cfg (borrowed: it must outlive the collector or be
 * replaced with ig_ev_collector_set_config first) appending to wal (borrowed).
 * Caller frees with ig_ev_collector_free. */
ig_ev_collector *ig_ev_collector_new(const ig_ev_config *cfg, ig_wal *wal);
void ig_ev_collector_free(ig_ev_collector *c);
/* Replace the configuration (SIGHUP). The old one must stay valid until the
 * requests running now finish: the caller keeps old configs until shutdown. */
void ig_ev_collector_set_config(ig_ev_collector *c, const ig_ev_config *cfg);
/* Backpressure: state and the Retry-After seconds to announce. */
void ig_ev_collector_set_state(ig_ev_collector *c, ig_ev_state st, int retry_after_s);

/* True when the path is one of ours (/v1/..., /beacon/v1/batch, /hooks/...). */
bool ig_ev_route(const char *path);
/* Handle one request (any thread). The response is either final or waits on
 * wait_lsn (the caller parks it; a failed WAL turns it into a 503). */
void ig_ev_handle(ig_ev_collector *c, const ig_ev_request *rq, ig_ev_response *rs);

/* Append the collector's Prometheus metrics to out. */
void ig_ev_collector_metrics(ig_ev_collector *c, ig_buf *out);

/* Append rows for `source`/`stream` to the WAL as one record (used by the
 * Pub/Sub source; `lines` is in the WAL line format). *lsn as ig_wal_append. */
ig_rc ig_ev_wal_append(ig_wal *wal, const char *source, const char *stream, const char *lines,
                       size_t len, uint64_t *lsn);

#endif
