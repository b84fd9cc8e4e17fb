/* The HTTP/1.1 server: worker threads, each with its own epoll set, its own
 * SO_REUSEPORT listening socket and its own connections, so no lock is taken
 * on the request path. A connection is processed one request at a time: a
 * pipelined request waits in the input buffer until the response before it
 * has been sent, which keeps responses in order even when one is parked
 * waiting for the write-ahead log.
 *
 * Limits: the head (request line and headers) is capped (431), the body is
 * capped as sent (413 from Content-Length before a byte of it is read, or
 * while a chunked body grows), and the input buffer of a connection never
 * grows past head + body caps. A slow client is cut off by the head, body
 * and idle timeouts (408 or a silent close). */
#include "serve/http.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IN_MIN 16384
#define OUT_HIGH_WATER (1u << 20) /* stop taking requests while this much waits to be sent */
#define RESP_BODY_CAP (64u << 20)

typedef struct conn conn;
typedef struct worker worker;

struct conn {
    int fd;
    worker *w;
    conn *prev, *next;      /* the worker's connections */
    conn *park_next;        /* the worker's parked connections */
    char *in;
    size_t in_len, in_cap, in_off; /* in[in_off..in_len) is unprocessed */
    size_t head_len;        /* > 0: the current request's head is parsed */
    int64_t body_need;      /* Content-Length of the current request */
    bool chunked, sent_continue, keep_alive;
    bool parked, closing, peer_eof, read_blocked, is_head, http10;
    uint64_t park_token;
    ig_http_response pending; /* the parked response */
    ig_buf out;
    size_t out_off;
    uint64_t req_start_ns, last_ns;
    char peer[64];
};

struct worker {
    ig_http_server *s;
    int idx;
    int ep, lfd, efd;
    pthread_t thread;
    conn *conns;
    conn *parked;
    int nconns;
    ig_buf chunk_body;      /* decoded chunked body of the current request */
    ig_http_response resp;  /* reused for every immediate response */
    char date[40];
    time_t date_sec;
    _Atomic uint64_t accepted, requests, bytes_in, bytes_out, parse_errors, timeouts;
    _Atomic int open;
};

struct ig_http_server {
    ig_http_config cfg;
    int port;
    int nworkers;
    worker *workers;
    atomic_bool stopping;
    int stop_deadline_ms;
    uint64_t stop_at_ns;
};

static void conn_close(conn *c);
static void conn_process(conn *c);

/* ---- output --------------------------------------------------------------- */

static const char *http_date(worker *w)
{
    time_t now = time(NULL);
    if (now != w->date_sec) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(w->date, sizeof w->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        w->date_sec = now;
    }
    return w->date;
}

/* Write what is buffered; returns -1 when the connection failed. */
static int conn_flush(conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            atomic_fetch_add_explicit(&c->w->bytes_out, (uint64_t)n, memory_order_relaxed);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        return -1;
    }
    ig_buf_reset(&c->out);
    c->out_off = 0;
    if (c->out.alloc > OUT_HIGH_WATER) {
        ig_buf_free(&c->out);
        ig_buf_init(&c->out, 0);
    }
    return 0;
}

static void queue_response(conn *c, const ig_http_response *r)
{
    int status = r->status ? r->status : 500;
    bool close_after = r->close || !c->keep_alive || c->w->s->stopping;
    const char *ct = r->content_type ? r->content_type : "application/json";
    ig_buf_printf(&c->out,
                  "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n",
                  status, ig_http_reason(status), http_date(c->w), ct, r->body.len,
                  close_after ? "Connection: close\r\n"
                  : c->http10 ? "Connection: keep-alive\r\n" : "",
                  ig_buf_cstr(&r->headers));
    if (!c->is_head && r->body.len) ig_buf_append(&c->out, r->body.data, r->body.len);
    if (close_after) c->closing = true;
}

/* An error answered by the server itself (malformed request, limits). */
static void send_error(conn *c, int status, const char *code, const char *msg)
{
    ig_http_response r = {.status = status, .close = true};
    ig_buf_init(&r.body, 0);
    ig_buf_init(&r.headers, 0);
    ig_buf_printf(&r.body, "{\"success\":false,\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code,
                  msg);
    queue_response(c, &r);
    ig_buf_free(&r.body);
    ig_buf_free(&r.headers);
    atomic_fetch_add_explicit(&c->w->parse_errors, 1, memory_order_relaxed);
}

static void send_parse_error(conn *c, int status)
{
    switch (status) {
    case 431: send_error(c, 431, "headers_too_large", "the request head is larger than the limit"); break;
    case 413: send_error(c, 413, "body_too_large", "the request body is larger than the limit"); break;
    case 501: send_error(c, 501, "unsupported_transfer_encoding", "only chunked transfer encoding is supported"); break;
    case 505: send_error(c, 505, "http_version", "only HTTP/1.0 and HTTP/1.1 are supported"); break;
    case 408: send_error(c, 408, "timeout", "the request was not received in time"); break;
    default: send_error(c, 400, "bad_request", "the HTTP request is malformed"); break;
    }
}

/* ---- input ---------------------------------------------------------------- */

static size_t in_limit(const ig_http_server *s)
{
    /* a chunked body carries framing too: allow a little more than the body */
    return s->cfg.max_head_bytes + s->cfg.max_body_bytes + s->cfg.max_body_bytes / 8 + 4096;
}

/* Read until EAGAIN or the buffer is at its limit. Returns -1 on error.
 * Without `drain`, a read shorter than the space offered ends it: the socket
 * was empty at that moment, and with edge-triggered epoll any later data
 * raises a new event. That saves the recv() that would only say EAGAIN --
 * a third of the syscalls of a small keep-alive request. With `drain`
 * (the peer hung up) read on to see the end of the stream. */
static int conn_read(conn *c, bool drain)
{
    size_t limit = in_limit(c->w->s);
    for (;;) {
        if (c->in_off > 0 && (c->in_off == c->in_len || c->in_len == c->in_cap)) {
            memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
            c->in_len -= c->in_off;
            c->in_off = 0;
        }
        if (c->in_len == c->in_cap) {
            if (c->in_cap >= limit) {
                c->read_blocked = true;
                return 0;
            }
            size_t ncap = c->in_cap ? c->in_cap * 2 : IN_MIN;
            if (ncap > limit) ncap = limit;
            c->in = ig_realloc(c->in, ncap);
            c->in_cap = ncap;
        }
        size_t space = c->in_cap - c->in_len;
        ssize_t n = recv(c->fd, c->in + c->in_len, space, 0);
        if (n > 0) {
            if (c->in_off == c->in_len && c->head_len == 0) c->req_start_ns = ig_now_ns();
            c->in_len += (size_t)n;
            c->last_ns = ig_now_ns();
            atomic_fetch_add_explicit(&c->w->bytes_in, (uint64_t)n, memory_order_relaxed);
            if (!drain && (size_t)n < space) return 0;
            continue;
        }
        if (n == 0) {
            c->peer_eof = true;
            return 0;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        return -1;
    }
}

static void park(conn *c, ig_http_response *r)
{
    /* swap buffers so the worker's response keeps its own */
    ig_http_response tmp = c->pending;
    c->pending = *r;
    *r = tmp;
    ig_buf_reset(&r->body);
    ig_buf_reset(&r->headers);
    c->parked = true;
    c->park_token = c->pending.park_token;
    c->park_next = c->w->parked;
    c->w->parked = c;
}

/* Run the handler for the request whose head and body are complete. */
static void dispatch(conn *c, const char *body, size_t body_len)
{
    worker *w = c->w;
    ig_http_head head;
    ig_http_parse_head(c->in + c->in_off, c->head_len, &head); /* parsed before: cannot fail */
    c->keep_alive = head.keep_alive;
    c->is_head = head.method.n == 4 && !memcmp(head.method.p, "HEAD", 4);
    ig_http_request req = {.head = &head,
                           .body = body,
                           .body_len = body_len,
                           .peer_ip = c->peer,
                           .worker = w->idx};
    ig_http_response *r = &w->resp;
    ig_buf_reset(&r->body);
    ig_buf_reset(&r->headers);
    r->status = 0;
    r->content_type = NULL;
    r->park_token = 0;
    r->close = false;
    w->s->cfg.handler(w->s->cfg.ud, &req, r);
    atomic_fetch_add_explicit(&w->requests, 1, memory_order_relaxed);
    if (r->park_token) park(c, r);
    else queue_response(c, r);
}

static void conn_process(conn *c)
{
    ig_http_server *s = c->w->s;
    while (!c->parked && !c->closing && c->out.len - c->out_off < OUT_HIGH_WATER) {
        const char *p = c->in + c->in_off;
        size_t avail = c->in_len - c->in_off;
        if (avail == 0) break;
        if (c->head_len == 0) {
            ig_http_head head;
            int rc = ig_http_parse_head(p, avail, &head);
            if (rc == 0) {
                if (avail > s->cfg.max_head_bytes) send_parse_error(c, 431);
                break;
            }
            if (rc < 0) {
                send_parse_error(c, -rc);
                break;
            }
            if ((size_t)rc > s->cfg.max_head_bytes) {
                send_parse_error(c, 431);
                break;
            }
            c->head_len = (size_t)rc;
            c->chunked = head.chunked;
            c->body_need = head.content_length < 0 ? 0 : head.content_length;
            c->keep_alive = head.keep_alive;
            c->http10 = head.minor == 0;
            c->sent_continue = false;
            c->is_head = false;
            if (!head.chunked && (uint64_t)c->body_need > s->cfg.max_body_bytes) {
                send_parse_error(c, 413);
                break;
            }
            if (head.expect_continue && (head.chunked || c->body_need > 0) &&
                avail == (size_t)rc) {
                ig_buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
                c->sent_continue = true;
            }
        }
        size_t have = avail - c->head_len;
        if (c->chunked) {
            size_t used = 0;
            int rc = ig_http_parse_chunked(p + c->head_len, have, &c->w->chunk_body, &used);
            if (rc == 0) break;
            if (rc < 0) {
                send_parse_error(c, -rc);
                break;
            }
            dispatch(c, c->w->chunk_body.data, c->w->chunk_body.len);
            c->in_off += c->head_len + used;
        } else {
            if (have < (size_t)c->body_need) break;
            dispatch(c, c->body_need ? p + c->head_len : NULL, (size_t)c->body_need);
            c->in_off += c->head_len + (size_t)c->body_need;
        }
        c->head_len = 0;
        c->req_start_ns = ig_now_ns();
    }
    if (c->in_off == c->in_len) {
        c->in_off = c->in_len = 0;
        if (c->in_cap > IN_MIN * 4 && !c->parked) { /* give a big buffer back when idle */
            free(c->in);
            c->in = NULL;
            c->in_cap = 0;
        }
    }
    if (conn_flush(c) < 0) {
        conn_close(c);
        return;
    }
    if (c->closing && c->out.len == 0 && !c->parked) {
        conn_close(c);
        return;
    }
    if (c->peer_eof && !c->parked && c->out.len == 0 && c->head_len == 0) {
        conn_close(c);
        return;
    }
    if (c->read_blocked && !c->parked) {
        size_t before = c->in_len - c->in_off;
        c->read_blocked = false;
        if (conn_read(c, true) < 0) {
            conn_close(c);
            return;
        }
        if (c->in_len - c->in_off > before) conn_process(c);
        else if (c->read_blocked && c->in_off == 0) { /* one request fills the buffer */
            send_parse_error(c, 413);
            conn_process(c);
        }
    }
}

/* ---- connections -------------------------------------------------------- */

static void conn_close(conn *c)
{
    worker *w = c->w;
    if (c->parked) { /* cannot happen: a parked conn is never closed before its answer */
        conn **pp = &w->parked;
        while (*pp && *pp != c) pp = &(*pp)->park_next;
        if (*pp) *pp = c->park_next;
    }
    epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (c->prev) c->prev->next = c->next;
    else w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    free(c->in);
    ig_buf_free(&c->out);
    ig_buf_free(&c->pending.body);
    ig_buf_free(&c->pending.headers);
    w->nconns--;
    atomic_fetch_sub_explicit(&w->open, 1, memory_order_relaxed);
    free(c);
}

static void accept_all(worker *w)
{
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(w->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                ig_warn("http.accept", "accept failed: %s", strerror(errno));
            return;
        }
        if (w->nconns >= w->s->cfg.max_conns || w->s->stopping) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *c = ig_calloc(1, sizeof *c);
        c->fd = fd;
        c->w = w;
        c->keep_alive = true;
        ig_buf_init(&c->out, 0);
        ig_buf_init(&c->pending.body, RESP_BODY_CAP);
        ig_buf_init(&c->pending.headers, 65536);
        c->last_ns = c->req_start_ns = ig_now_ns();
        if (sa.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, c->peer, sizeof c->peer);
        else if (sa.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, c->peer, sizeof c->peer);
        c->next = w->conns;
        if (w->conns) w->conns->prev = c;
        w->conns = c;
        w->nconns++;
        atomic_fetch_add_explicit(&w->open, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&w->accepted, 1, memory_order_relaxed);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
        if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            conn_close(c);
            continue;
        }
    }
}

static void check_parked(worker *w)
{
    ig_http_server *s = w->s;
    conn **pp = &w->parked;
    conn *ready = NULL;
    while (*pp) {
        conn *c = *pp;
        int st = s->cfg.park_status(s->cfg.ud, c->park_token);
        if (st == 0) {
            pp = &c->park_next;
            continue;
        }
        *pp = c->park_next;
        c->parked = false;
        if (st > 0) {
            queue_response(c, &c->pending);
        } else {
            ig_http_response r = {.status = 503, .close = true};
            ig_buf_init(&r.body, 0);
            ig_buf_init(&r.headers, 0);
            ig_buf_puts(&r.body, "{\"success\":false,\"error\":{\"code\":\"storage_failed\","
                                 "\"message\":\"the event could not be written to disk; retry later\"}}");
            ig_buf_puts(&r.headers, "Retry-After: 5\r\n");
            queue_response(c, &r);
            ig_buf_free(&r.body);
            ig_buf_free(&r.headers);
        }
        c->park_next = ready;
        ready = c;
    }
    while (ready) {
        conn *c = ready;
        ready = c->park_next;
        c->park_next = NULL;
        conn_process(c); /* sends, then goes on with pipelined requests */
    }
}

static void sweep(worker *w, uint64_t now)
{
    const ig_http_config *cfg = &w->s->cfg;
    for (conn *c = w->conns, *next; c; c = next) {
        next = c->next;
        if (c->parked) continue;
        uint64_t since_req = (now - c->req_start_ns) / 1000000, idle = (now - c->last_ns) / 1000000;
        bool partial = c->head_len > 0 || c->in_off < c->in_len;
        if (c->out.len > c->out_off) {
            if (idle > (uint64_t)cfg->idle_timeout_ms) conn_close(c);
        } else if (c->head_len > 0 && since_req > (uint64_t)cfg->body_timeout_ms) {
            atomic_fetch_add_explicit(&w->timeouts, 1, memory_order_relaxed);
            send_parse_error(c, 408);
            conn_process(c);
        } else if (c->head_len == 0 && partial && since_req > (uint64_t)cfg->head_timeout_ms) {
            atomic_fetch_add_explicit(&w->timeouts, 1, memory_order_relaxed);
            send_parse_error(c, 408);
            conn_process(c);
        } else if (!partial && (idle > (uint64_t)cfg->idle_timeout_ms || w->s->stopping)) {
            conn_close(c);
        }
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    ig_http_server *s = w->s;
    struct epoll_event evs[256];
    uint64_t last_sweep = ig_now_ns();
    bool listening = true;
    for (;;) {
        bool stopping = atomic_load(&s->stopping);
        if (stopping && listening) {
            epoll_ctl(w->ep, EPOLL_CTL_DEL, w->lfd, NULL);
            close(w->lfd);
            w->lfd = -1;
            listening = false;
            for (conn *c = w->conns; c; c = c->next) c->keep_alive = false;
            sweep(w, ig_now_ns());
        }
        if (stopping && (!w->conns || ig_now_ns() > s->stop_at_ns)) break;
        int n = epoll_wait(w->ep, evs, 256, stopping ? 50 : 500);
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &w->lfd) {
                accept_all(w);
            } else if (p == &w->efd) {
                uint64_t v;
                ssize_t r = read(w->efd, &v, sizeof v);
                (void)r;
            } else {
                conn *c = p;
                uint32_t e = evs[i].events;
                if (e & EPOLLERR) {
                    if (!c->parked) conn_close(c);
                    else c->closing = true;
                    continue;
                }
                if (e & EPOLLOUT && c->out.len > c->out_off) {
                    if (conn_flush(c) < 0) {
                        if (!c->parked) conn_close(c);
                        continue;
                    }
                }
                if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
                    if (conn_read(c, (e & (EPOLLRDHUP | EPOLLHUP)) != 0) < 0) {
                        if (!c->parked) conn_close(c);
                        else c->closing = true;
                        continue;
                    }
                }
                if (!c->parked) conn_process(c);
            }
        }
        if (w->parked) check_parked(w);
        uint64_t now = ig_now_ns();
        if (now - last_sweep > 250000000ull || stopping) {
            sweep(w, now);
            last_sweep = now;
        }
    }
    while (w->conns) {
        w->conns->parked = false;
        conn_close(w->conns);
    }
    w->parked = NULL;
    return NULL;
}

/* ---- server ------------------------------------------------------------- */

static int bind_listener(const char *host, int port, int *bound_port, ig_error *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int g = getaddrinfo(*host ? host : NULL, ps, &hints, &ai);
    if (g) {
        ig_err(err, IG_ERR_USAGE, "cannot listen on %s:%d: %s", host, port, gai_strerror(g));
        ig_err_hint(err, "use serve.listen HOST:PORT with a local address, e.g. 127.0.0.1:8080");
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(ai);
        ig_err(err, IG_ERR_IO, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 4096) < 0) {
        int e = errno;
        freeaddrinfo(ai);
        close(fd);
        ig_err(err, IG_ERR_IO, "cannot listen on %s:%d: %s", *host ? host : "*", port, strerror(e));
        if (e == EADDRINUSE)
            ig_err_hint(err, "another program (or another `ingot serve`) uses this port; stop "
                             "it or choose another with --listen or serve.listen");
        return -1;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    *bound_port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                                 : ((struct sockaddr_in *)&sa)->sin_port);
    return fd;
}

ig_rc ig_http_server_start(const ig_http_config *cfg, ig_http_server **out, ig_error *err)
{
    char host[256];
    int port;
    if (!ig_http_split_listen(cfg->listen, host, sizeof host, &port)) {
        ig_err(err, IG_ERR_USAGE, "cannot listen on '%s': expected HOST:PORT", cfg->listen);
        return IG_ERR_USAGE;
    }
    ig_http_server *s = ig_calloc(1, sizeof *s);
    s->cfg = *cfg;
    if (!s->cfg.max_head_bytes) s->cfg.max_head_bytes = 16384;
    if (!s->cfg.max_body_bytes) s->cfg.max_body_bytes = 1u << 20;
    if (!s->cfg.head_timeout_ms) s->cfg.head_timeout_ms = 10000;
    if (!s->cfg.body_timeout_ms) s->cfg.body_timeout_ms = 30000;
    if (!s->cfg.idle_timeout_ms) s->cfg.idle_timeout_ms = 60000;
    if (!s->cfg.max_conns) s->cfg.max_conns = 10000;
    int nw = cfg->workers > 0 ? cfg->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (nw < 1) nw = 1;
    if (nw > 64) nw = 64;
    s->nworkers = nw;
    s->workers = ig_calloc((size_t)nw, sizeof(worker));
    for (int i = 0; i < nw; i++) {
        worker *w = &s->workers[i];
        w->s = s;
        w->idx = i;
        w->lfd = w->efd = w->ep = -1;
    }
    /* The first bind picks the port (when 0); the others share it. */
    for (int i = 0; i < nw; i++) {
        worker *w = &s->workers[i];
        int bp;
        w->lfd = bind_listener(host, i == 0 ? port : s->port, &bp, err);
        if (w->lfd < 0) goto fail;
        if (i == 0) s->port = bp;
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (w->ep < 0 || w->efd < 0) {
            ig_err(err, IG_ERR_IO, "epoll/eventfd: %s", strerror(errno));
            goto fail;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &w->lfd};
        epoll_ctl(w->ep, EPOLL_CTL_ADD, w->lfd, &ev);
        struct epoll_event ev2 = {.events = EPOLLIN, .data.ptr = &w->efd};
        epoll_ctl(w->ep, EPOLL_CTL_ADD, w->efd, &ev2);
        ig_buf_init(&w->chunk_body, s->cfg.max_body_bytes);
        ig_buf_init(&w->resp.body, RESP_BODY_CAP);
        ig_buf_init(&w->resp.headers, 65536);
    }
    for (int i = 0; i < nw; i++) {
        if (pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i])) {
            ig_err(err, IG_ERR_INTERNAL, "cannot start HTTP worker threads");
            atomic_store(&s->stopping, true);
            for (int k = 0; k < i; k++) pthread_join(s->workers[k].thread, NULL);
            s->nworkers = 0; /* already joined */
            goto fail;
        }
    }
    *out = s;
    return IG_OK;
fail:
    for (int i = 0; i < nw; i++) {
        worker *w = &s->workers[i];
        if (w->lfd >= 0) close(w->lfd);
        if (w->ep >= 0) close(w->ep);
        if (w->efd >= 0) close(w->efd);
        ig_buf_free(&w->chunk_body);
        ig_buf_free(&w->resp.body);
        ig_buf_free(&w->resp.headers);
    }
    free(s->workers);
    free(s);
    return err->code ? err->code : IG_ERR_IO;
}

int ig_http_server_port(const ig_http_server *s) { return s->port; }

void ig_http_server_wake(ig_http_server *s)
{
    uint64_t one = 1;
    for (int i = 0; i < s->nworkers; i++) {
        ssize_t r = write(s->workers[i].efd, &one, sizeof one);
        (void)r;
    }
}

void ig_http_server_stop(ig_http_server *s, int timeout_ms)
{
    if (!s || atomic_load(&s->stopping)) return;
    s->stop_at_ns = ig_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    atomic_store(&s->stopping, true);
    ig_http_server_wake(s);
    for (int i = 0; i < s->nworkers; i++) pthread_join(s->workers[i].thread, NULL);
}

void ig_http_server_free(ig_http_server *s)
{
    if (!s) return;
    ig_http_server_stop(s, 0);
    for (int i = 0; i < s->nworkers; i++) {
        worker *w = &s->workers[i];
        if (w->lfd >= 0) close(w->lfd);
        close(w->ep);
        close(w->efd);
        ig_buf_free(&w->chunk_body);
        ig_buf_free(&w->resp.body);
        ig_buf_free(&w->resp.headers);
    }
    free(s->workers);
    free(s);
}

void ig_http_server_stats(ig_http_server *s, ig_http_stats *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < s->nworkers; i++) {
        worker *w = &s->workers[i];
        o->conns_accepted += atomic_load_explicit(&w->accepted, memory_order_relaxed);
        o->conns_open += (uint64_t)atomic_load_explicit(&w->open, memory_order_relaxed);
        o->requests += atomic_load_explicit(&w->requests, memory_order_relaxed);
        o->bytes_in += atomic_load_explicit(&w->bytes_in, memory_order_relaxed);
        o->bytes_out += atomic_load_explicit(&w->bytes_out, memory_order_relaxed);
        o->parse_errors += atomic_load_explicit(&w->parse_errors, memory_order_relaxed);
        o->timeouts += atomic_load_explicit(&w->timeouts, memory_order_relaxed);
    }
}
