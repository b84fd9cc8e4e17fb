/* The HTTP/1.1 request parser: request line, headers, and chunked bodies,
 * following RFC 9112 strictly where leniency would allow request smuggling
 * (both Content-Length and Transfer-Encoding, differing Content-Lengths,
 * whitespace before a colon, bare LF inside the head are all refused). Pure
 * functions over a buffer; the server in http.c and the fuzz driver call
 * them. */
#include "serve/http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_tchar(unsigned char c)
{
    if (c >= '0' && c <= '9') return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool str_ieq(ig_http_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && !strncasecmp(s.p, lit, n);
}

/* Does a comma-separated header value contain token tok (case-insensitive)? */
static bool has_token(ig_http_str v, const char *tok)
{
    size_t tl = strlen(tok), i = 0;
    while (i < v.n) {
        while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ',')) i++;
        size_t s = i;
        while (i < v.n && v.p[i] != ',') i++;
        size_t e = i;
        while (e > s && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t')) e--;
        if (e - s == tl && !strncasecmp(v.p + s, tok, tl)) return true;
    }
    return false;
}

static int parse_request_line(const char *p, size_t n, ig_http_head *h)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)p[i])) i++;
    if (i == 0 || i >= n || p[i] != ' ') return -400;
    h->method = (ig_http_str){p, i};
    size_t t = ++i;
    while (i < n && p[i] != ' ') {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c == 0x7f) return -400;
        i++;
    }
    if (i == t || i >= n) return -400;
    h->target = (ig_http_str){p + t, i - t};
    const char *q = memchr(h->target.p, '?', h->target.n);
    if (q) {
        h->path = (ig_http_str){h->target.p, (size_t)(q - h->target.p)};
        h->query = (ig_http_str){q + 1, h->target.n - h->path.n - 1};
    } else {
        h->path = h->target;
        h->query = (ig_http_str){q, 0};
    }
    i++;
    if (n - i != 8 || memcmp(p + i, "HTTP/1.", 7)) {
        if (n - i >= 5 && !memcmp(p + i, "HTTP/", 5)) return -505;
        return -400;
    }
    char m = p[i + 7];
    if (m != '0' && m != '1') return -505;
    h->minor = m - '0';
    return 0;
}

static bool parse_length(ig_http_str v, int64_t *out)
{
    if (v.n == 0 || v.n > 18) return false;
    int64_t x = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9') return false;
        x = x * 10 + (v.p[i] - '0');
    }
    *out = x;
    return true;
}

int ig_http_parse_head(const char *buf, size_t len, ig_http_head *h)
{
    memset(h, 0, sizeof *h);
    h->content_length = -1;
    /* Tolerate empty lines before the request line (RFC 9112 2.2). */
    size_t i = 0;
    while (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n') i += 2;
    size_t start = i;
    /* Find the end of the head first: "\r\n\r\n". */
    const char *end = NULL;
    for (size_t k = start; k + 3 < len; k++) {
        const char *cr = memchr(buf + k, '\r', len - k - 3);
        if (!cr) break;
        k = (size_t)(cr - buf);
        if (cr[1] == '\n' && cr[2] == '\r' && cr[3] == '\n') {
            end = cr;
            break;
        }
    }
    if (!end) {
        /* A NUL or bare LF can be refused before the head is complete. */
        for (size_t k = start; k < len; k++)
            if (buf[k] == '\0' || (buf[k] == '\n' && (k == 0 || buf[k - 1] != '\r'))) return -400;
        return 0;
    }
    size_t head_len = (size_t)(end - buf) + 4;
    const char *p = buf + start, *stop = end + 2; /* stop: just after the last header's CRLF */
    const char *eol = memchr(p, '\r', (size_t)(stop - p));
    if (!eol || eol[1] != '\n') return -400;
    int rc = parse_request_line(p, (size_t)(eol - p), h);
    if (rc) return rc;
    p = eol + 2;
    bool saw_te = false, saw_cl = false;
    while (p < stop) {
        eol = memchr(p, '\r', (size_t)(stop - p));
        if (!eol || eol[1] != '\n') return -400;
        size_t ln = (size_t)(eol - p);
        size_t c = 0;
        while (c < ln && is_tchar((unsigned char)p[c])) c++;
        if (c == 0 || c >= ln || p[c] != ':') return -400; /* also refuses obs-fold */
        ig_http_str name = {p, c};
        size_t vs = c + 1, ve = ln;
        while (vs < ve && (p[vs] == ' ' || p[vs] == '\t')) vs++;
        while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t')) ve--;
        for (size_t k = vs; k < ve; k++) {
            unsigned char ch = (unsigned char)p[k];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return -400;
        }
        ig_http_str val = {p + vs, ve - vs};
        if (h->nheaders >= IG_HTTP_MAX_HEADERS) return -431;
        h->names[h->nheaders] = name;
        h->values[h->nheaders] = val;
        h->nheaders++;
        if (str_ieq(name, "content-length")) {
            int64_t v;
            if (!parse_length(val, &v)) return -400;
            if (saw_cl && v != h->content_length) return -400;
            saw_cl = true;
            h->content_length = v;
        } else if (str_ieq(name, "transfer-encoding")) {
            if (saw_te || !str_ieq(val, "chunked")) return str_ieq(val, "chunked") ? -400 : -501;
            saw_te = true;
            h->chunked = true;
        } else if (str_ieq(name, "expect")) {
            if (str_ieq(val, "100-continue")) h->expect_continue = true;
        }
        p = eol + 2;
    }
    if (saw_te && saw_cl) return -400;
    if (saw_te && h->minor == 0) return -400;
    h->keep_alive = h->minor == 1;
    size_t cn;
    const char *conn = ig_http_head_get(h, "connection", &cn);
    if (conn) {
        ig_http_str v = {conn, cn};
        if (has_token(v, "close")) h->keep_alive = false;
        else if (has_token(v, "keep-alive")) h->keep_alive = true;
    }
    return (int)head_len;
}

const char *ig_http_head_get(const ig_http_head *h, const char *name, size_t *n)
{
    for (size_t i = 0; i < h->nheaders; i++)
        if (str_ieq(h->names[i], name)) {
            if (n) *n = h->values[i].n;
            return h->values[i].p;
        }
    return NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)(c | 0x20);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int ig_http_parse_chunked(const char *buf, size_t len, ig_buf *out, size_t *consumed)
{
    ig_buf_reset(out);
    size_t i = 0;
    for (;;) {
        /* chunk-size [; ext] CRLF */
        size_t size = 0, digits = 0;
        while (i < len && hexval(buf[i]) >= 0) {
            if (++digits > 15) return -413;
            size = size * 16 + (size_t)hexval(buf[i]);
            i++;
        }
        if (i >= len) return 0;
        if (digits == 0) return -400;
        /* extensions: skipped up to CRLF, bounded */
        size_t ext = 0;
        while (i < len && buf[i] != '\r') {
            if (buf[i] == '\n' || ++ext > 1024) return -400;
            i++;
        }
        if (i + 1 >= len) return 0;
        if (buf[i + 1] != '\n') return -400;
        i += 2;
        if (size == 0) break;
        if (out->cap && out->len + size > out->cap) return -413;
        if (len - i < size + 2) return 0;
        if (ig_buf_append(out, buf + i, size)) return -413;
        i += size;
        if (buf[i] != '\r' || buf[i + 1] != '\n') return -400;
        i += 2;
    }
    /* trailers: header lines up to an empty line */
    size_t lines = 0;
    for (;;) {
        const char *cr = i < len ? memchr(buf + i, '\r', len - i) : NULL;
        if (!cr) {
            if (len - i > 8192) return -400;
            return 0;
        }
        size_t at = (size_t)(cr - buf);
        if (at + 1 >= len) return 0;
        if (cr[1] != '\n') return -400;
        if (at == i) {
            *consumed = at + 2;
            return 1;
        }
        if (++lines > IG_HTTP_MAX_HEADERS) return -400;
        i = at + 2;
    }
}

const char *ig_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

bool ig_http_split_listen(const char *listen, char *hostbuf, size_t hostcap, int *port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || !colon[1]) return false;
    char *e;
    long v = strtol(colon + 1, &e, 10);
    if (*e || v < 0 || v > 65535) return false;
    const char *h = listen;
    size_t hl = (size_t)(colon - listen);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl + 1 > hostcap) return false;
    memcpy(hostbuf, h, hl);
    hostbuf[hl] = 0;
    *port = (int)v;
    return true;
}
