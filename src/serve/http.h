/* The daemon's HTTP/1.1 server: our own, on epoll, because the collector's
 * hot path needs things a general library makes awkward (see README.md):
 * a response that is parked until the write-ahead log is on disk, strict caps
 * on every byte that comes from outside, and pipelining that stays in order
 * while a request waits. Every listener is one socket per worker thread
 * (SO_REUSEPORT), so the kernel spreads connections and a worker never shares
 * a connection with another thread.
 *
 * Two parts: a pure request-head parser (ig_http_parse_*, no I/O, fuzzed)
 * and the server (ig_http_server_*). A handler runs on the worker thread that
 * read the request; it fills an ig_http_response and either returns it at
 * once or parks it on a token (a WAL position): the worker sends it when
 * the owner of the tokens says it is done (ig_http_server_wake). */
#ifndef IG_HTTP_H
#define IG_HTTP_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the request-head parser (no I/O; safe on any input) --------------- */

#define IG_HTTP_MAX_HEADERS 64

typedef struct ig_http_str {
    const char *p; /* borrowed from the parsed buffer */
    size_t n;
} ig_http_str;

typedef struct ig_http_head {
    ig_http_str method, target, path, query; /* target = path[?query] */
    int minor;                               /* HTTP/1.<minor> */
    size_t nheaders;
    ig_http_str names[IG_HTTP_MAX_HEADERS], values[IG_HTTP_MAX_HEADERS];
    /* framing, from the headers */
    bool chunked;          /* Transfer-Encoding: chunked */
    int64_t content_length; /* -1 when absent */
    bool keep_alive;       /* after Connection: and the version */
    bool expect_continue;  /* Expect: 100-continue */
} ig_http_head;

/* Parse a request head (request line and headers, up to the blank line) from
 * buf[0..len). Returns the head's length in bytes (> 0) when complete, 0 when
 * more bytes are needed, or a negative HTTP status on error: -400 (malformed,
 * including both Content-Length and chunked, or conflicting lengths), -431
 * (more than IG_HTTP_MAX_HEADERS headers), -501 (a Transfer-Encoding other
 * than chunked), -505 (not HTTP/1.x). Strings in *h borrow from buf. */
int ig_http_parse_head(const char *buf, size_t len, ig_http_head *h);

/* Decode a complete chunked body from buf[0..len) into out (which has the
 * body cap). Returns 1 and *consumed (bytes of buf used, trailers included)
 * when the last chunk and trailers are there, 0 when more bytes are needed,
 * -400 when malformed, -413 when out's cap is exceeded. out is reset first. */
int ig_http_parse_chunked(const char *buf, size_t len, ig_buf *out, size_t *consumed);

/* Case-insensitive header look-up; NULL (and *n untouched) when absent. */
const char *ig_http_head_get(const ig_http_head *h, const char *name, size_t *n);

/* The reason phrase of a status ("Not Found"); "Unknown" for others. */
const char *ig_http_reason(int status);

/* ---- the server --------------------------------------------------------- */

typedef struct ig_http_server ig_http_server;

/* What a handler sees. Everything is borrowed for the duration of the call. */
typedef struct ig_http_request {
    const ig_http_head *head;
    const char *body; /* dechunked; NOT NUL-terminated; may be NULL when empty */
    size_t body_len;
    const char *peer_ip; /* textual address of the TCP peer */
    int worker;          /* index of the worker thread, 0..workers-1 */
} ig_http_request;

/* What a handler fills. body and headers come initialised (empty, capped);
 * headers holds extra "Name: value\r\n" lines. status 0 means 500. A handler
 * parks the response by setting park_token (> 0): it is sent only when the
 * park_status callback says the token is done, or replaced by a 503 when it
 * says the token failed. */
typedef struct ig_http_response {
    int status;
    const char *content_type; /* static string; default application/json */
    ig_buf body;
    ig_buf headers;
    uint64_t park_token;
    bool close;               /* close the connection after this response */
} ig_http_response;

typedef void (*ig_http_handler)(void *ud, const ig_http_request *req, ig_http_response *resp);
/* 1 when the token is done, 0 while pending, -1 when it failed. Called on
 * worker threads; must be thread-safe and fast. */
typedef int (*ig_http_park_fn)(void *ud, uint64_t token);

typedef struct ig_http_config {
    const char *listen;      /* "host:port"; port 0 picks a free one */
    int workers;             /* threads; 0: number of CPUs */
    size_t max_head_bytes;   /* request line + headers; default 16 KiB -> 431 */
    size_t max_body_bytes;   /* as sent (compressed); default 1 MiB -> 413 */
    int head_timeout_ms;     /* to receive a whole head once it started; default 10 s */
    int body_timeout_ms;     /* to receive the body; default 30 s */
    int idle_timeout_ms;     /* keep-alive idle time; default 60 s */
    int max_conns;           /* per worker; default 10000 */
    ig_http_handler handler;
    ig_http_park_fn park_status;
    void *ud;
} ig_http_config;

/* Counters for /metrics, summed over the workers at read time. */
typedef struct ig_http_stats {
    uint64_t conns_accepted, conns_open, requests, bytes_in, bytes_out, parse_errors, timeouts;
} ig_http_stats;

/* Bind the listeners and start the worker threads. Errors: IG_ERR_USAGE for
 * a bad address, IG_ERR_IO when the port is taken (with a hint). The config
 * is copied; strings in it must outlive the server. Caller frees with
 * ig_http_server_free. */
ig_rc ig_http_server_start(const ig_http_config *cfg, ig_http_server **out, ig_error *err);
/* The port actually bound (useful with port 0). */
int ig_http_server_port(const ig_http_server *s);
/* Tell every worker that parked responses may be ready. Thread-safe and
 * async-signal-unsafe; cheap (one eventfd write per worker). */
void ig_http_server_wake(ig_http_server *s);
/* Graceful stop: close the listeners, answer what is in flight (with
 * Connection: close), close idle connections, and wait up to timeout_ms for
 * the rest before closing them too. Joins the workers. */
void ig_http_server_stop(ig_http_server *s, int timeout_ms);
void ig_http_server_free(ig_http_server *s);
void ig_http_server_stats(ig_http_server *s, ig_http_stats *out);

/* Split "host:port" / "[v6]:port"; host "" means any. Returns false when
 * malformed. host is written NUL-terminated into hostbuf. */
bool ig_http_split_listen(const char *listen, char *hostbuf, size_t hostcap, int *port);

#endif
