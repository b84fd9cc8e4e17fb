/* The daemon's control plane for CLI commands (api.h): the token file, the
 * loopback + bearer check, POST /api/query through the governed query path
 * (ig_gov_query) rendered by src/output/, and the pipeline-run look-up that
 * `ingot pipeline run` follows. */
#include "serve/api.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"
#include "govern/query.h"
#include "output/output.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define RESULT_CAP ((size_t)60 << 20) /* below the HTTP response cap (64 MiB) */

char *ig_serve_token_path(const ig_project *p)
{
    char *pid = ig_serve_pid_path(p);
    char *t = ig_asprintf("%s.token", pid);
    free(pid);
    return t;
}

ig_rc ig__serve_token_create(const ig_project *p, char tok[65], ig_error *err)
{
    unsigned char raw[32];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return ig_err(err, IG_ERR_IO, "cannot read random bytes: %s", strerror(errno));
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(tok + 2 * i, 3, "%02x", raw[i]);
    char *path = ig_serve_token_path(p);
    ig_rc rc = ig_fs_write_atomic(path, tok, 64, 0600, err);
    free(path);
    return rc;
}

static bool loopback(const char *ip)
{
    return ip && (!strncmp(ip, "127.", 4) || !strcmp(ip, "::1") || !strncmp(ip, "::ffff:127.", 11));
}

static void api_fail(ig_http_response *r, int status, const char *code, const char *msg)
{
    r->status = status;
    ig_buf_reset(&r->body);
    ig_buf_printf(&r->body, "{\"success\":false,\"error\":{\"code\":\"%s\",\"message\":", code);
    ig_json_quote(&r->body, msg);
    ig_buf_puts(&r->body, "}}");
}

bool ig__serve_api_allowed(const char *token, const ig_http_request *req, ig_http_response *r)
{
    if (!loopback(req->peer_ip)) {
        api_fail(r, 403, "forbidden", "the control API answers only on loopback; run the ingot "
                                      "command on the daemon's machine");
        return false;
    }
    size_t n;
    const char *a = ig_http_head_get(req->head, "authorization", &n);
    if (!a || n != 7 + 64 || strncmp(a, "Bearer ", 7) || memcmp(a + 7, token, 64)) {
        api_fail(r, 401, "unauthorized", "missing or wrong token; the ingot CLI reads it from the "
                                         "daemon's token file (beside its pid file)");
        return false;
    }
    return true;
}

void ig__serve_api_error(ig_http_response *r, const ig_error *e)
{
    int st = ig_errcode_http(e->code);
    r->status = st >= 400 ? st : 500;
    ig_buf *b = &r->body;
    ig_buf_reset(b);
    ig_buf_printf(b, "{\"success\":false,\"error\":{\"rc\":%d,\"code\":", e->code);
    ig_json_quote(b, ig_errcode_name(e->code));
    ig_buf_puts(b, ",\"message\":");
    ig_json_quote(b, e->message);
    ig_buf_puts(b, ",\"detail\":");
    ig_json_quote(b, e->detail);
    ig_buf_puts(b, ",\"hint\":");
    ig_json_quote(b, e->hint);
    ig_buf_puts(b, ",\"file\":");
    ig_json_quote(b, e->file);
    ig_buf_printf(b, ",\"line\":%d,\"column\":%d}}", e->line, e->column);
}

/* Render the cursor with src/output/ into a memory stream, as the CLI would
 * to its standard output. */
static ig_rc render(ig_wh_cursor *cur, const ig_out_options *o, ig_buf *out, int64_t *rows,
                    ig_error *err)
{
    char *mem = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&mem, &len);
    if (!fp) return ig_err(err, IG_ERR_IO, "cannot buffer the result: %s", strerror(errno));
    ig_rc rc = ig_out_cursor(cur, o, NULL, fp, NULL, rows, err);
    fclose(fp);
    if (!rc && len > RESULT_CAP) {
        rc = ig_err(err, IG_ERR_LIMIT, "the result is %zu MiB, more than the daemon sends (%zu MiB)",
                    len >> 20, RESULT_CAP >> 20);
        ig_err_hint(err, "narrow the query (LIMIT, fewer columns), or stop `ingot serve` and run "
                         "it directly");
    }
    if (!rc && ig_buf_append(out, mem, len) < 0)
        rc = ig_err(err, IG_ERR_LIMIT, "the result does not fit in the daemon's answer");
    free(mem);
    return rc;
}

void ig__serve_api_query(ig_wh *wh, const ig_http_request *req, ig_http_response *r)
{
    ig_error e;
    ig_error_clear(&e);
    json_error_t je;
    json_t *j = req->body ? json_loadb(req->body, req->body_len, 0, &je) : NULL;
    const char *sql = j ? json_string_value(json_object_get(j, "sql")) : NULL;
    if (!sql) {
        json_decref(j);
        return api_fail(r, 400, "bad_request", "POST /api/query wants a JSON body with \"sql\"");
    }
    ig_out_options o = {.format = IG_OUT_TABLE};
    const char *fmt = json_string_value(json_object_get(j, "format"));
    if (fmt && !ig_out_format_parse(fmt, &o.format)) {
        json_decref(j);
        return api_fail(r, 400, "bad_request", "unknown format");
    }
    o.no_header = json_is_true(json_object_get(j, "no_header"));
    o.null_text = json_string_value(json_object_get(j, "null"));
    o.width = (int)json_integer_value(json_object_get(j, "width"));
    o.max_rows = (long)json_integer_value(json_object_get(j, "max_rows"));
    o.color = json_is_true(json_object_get(j, "color"));
    o.footer = json_is_true(json_object_get(j, "footer"));
    bool timing = json_is_true(json_object_get(j, "timing"));
    ig_principal who;
    ig_principal_cli(&who); /* the token proves the caller is the daemon's OS user */
    ig_wh *c = NULL;
    ig_wh_cursor *cur = NULL;
    uint64_t start = ig_now_ns();
    o.start_ns = timing ? start : 0;
    ig_rc rc = ig_wh_clone(wh, &c, &e);
    if (!rc) rc = ig_gov_query(c, &who, sql, &cur, &e);
    if (!rc && !ig_wh_cursor_is_query(cur)) {
        ig_out_changed_line(&r->body, ig_wh_cursor_statement(cur), ig_wh_cursor_rows_changed(cur),
                            o.start_ns);
        ig_buf_puts(&r->headers, "X-Ingot-Result: changed\r\n");
    } else if (!rc) {
        int64_t rows = 0;
        rc = render(cur, &o, &r->body, &rows, &e);
        ig_buf_printf(&r->headers, "X-Ingot-Result: rows\r\nX-Ingot-Rows: %lld\r\n", (long long)rows);
    }
    if (cur) ig_wh_cursor_close(cur);
    if (c) ig_wh_close(c);
    json_decref(j);
    if (rc) return ig__serve_api_error(r, &e);
    r->status = 200;
    r->content_type = "application/octet-stream";
}

void ig__serve_api_runs(ig_wh *wh, const char *pipeline, const ig_http_request *req,
                        ig_http_response *r)
{
    char since[64] = "";
    const ig_http_head *h = req->head;
    if (h->query.n > 6 && h->query.n < 6 + sizeof since && !strncmp(h->query.p, "since=", 6)) {
        memcpy(since, h->query.p + 6, h->query.n - 6);
        since[h->query.n - 6] = 0;
        for (char *s = since; *s; s++)
            if (*s == '+') *s = ' ';
            else if (*s == '%' && s[1] == '2' && s[2] == '0') {
                *s = ' ';
                memmove(s + 1, s + 3, strlen(s + 3) + 1);
            }
    }
    if (!since[0]) return api_fail(r, 400, "bad_request", "GET .../runs wants ?since=TIMESTAMP");
    ig_error e;
    ig_error_clear(&e);
    ig_wh *c = NULL;
    ig_wh_cursor *cur = NULL;
    ig_param p[2] = {IG_P_TEXT(pipeline), IG_P_TEXT(since)};
    ig_out_options o = {.format = IG_OUT_JSON};
    ig_rc rc = ig_wh_clone(wh, &c, &e);
    if (!rc)
        rc = ig_wh_query_params(c, "SELECT run_id, state, message FROM ingot.pipeline_runs "
                                   "WHERE pipeline = $1 AND run_type = 'manual' AND "
                                   "started_at >= $2::TIMESTAMP ORDER BY started_at LIMIT 1",
                                p, 2, &cur, &e);
    if (!rc) rc = render(cur, &o, &r->body, NULL, &e);
    if (cur) ig_wh_cursor_close(cur);
    if (c) ig_wh_close(c);
    if (rc) return ig__serve_api_error(r, &e);
    r->status = 200;
}

/* ---- the client --------------------------------------------------------- */

#include <netdb.h>
#include <sys/socket.h>

static int dial(const char *listen, ig_error *err)
{
    char host[128];
    int port;
    if (!ig_http_split_listen(listen, host, sizeof host, &port)) {
        ig_err(err, IG_ERR_IO, "the daemon's pid file gives no usable address ('%s')", listen);
        return -1;
    }
    if (!host[0] || !strcmp(host, "0.0.0.0")) snprintf(host, sizeof host, "127.0.0.1");
    else if (!strcmp(host, "::")) snprintf(host, sizeof host, "::1");
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(host, ps, &hints, &ai) || !ai) {
        ig_err(err, IG_ERR_IO, "cannot resolve the daemon's address %s", listen);
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0) ig_err(err, IG_ERR_IO, "cannot connect to the daemon at %s: %s", listen, strerror(errno));
    return fd;
}

ig_rc ig_serve_call(const ig_project *p, const ig_serve_info *info, const char *method,
                    const char *path, const char *body, size_t len, ig_serve_reply *out,
                    ig_error *err)
{
    memset(out, 0, sizeof *out);
    ig_buf_init(&out->head, 65536);
    ig_buf_init(&out->body, (size_t)1 << 30);
    char *tpath = ig_serve_token_path(p);
    char *tok = NULL;
    size_t tlen = 0;
    ig_rc rc = ig_fs_read(tpath, 4096, &tok, &tlen, err);
    if (rc) {
        ig_err(err, IG_ERR_IO, "ingot serve (pid %d) holds the warehouse, but its token file %s "
               "cannot be read", info->pid, tpath);
        ig_err_hint(err, "run this command as the user the daemon runs as, or stop the daemon "
                         "with `kill %d` and run it again", info->pid);
        free(tpath);
        return IG_ERR_IO;
    }
    free(tpath);
    int fd = dial(info->listen, err);
    if (fd < 0) {
        free(tok);
        ig_err_hint(err, "is ingot serve (pid %d) still starting or stopping? Try again, or stop "
                         "it with `kill %d`", info->pid, info->pid);
        return IG_ERR_IO;
    }
    ig_buf rq = IG_BUF_INIT;
    ig_buf_printf(&rq, "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %.*s\r\n"
                       "Connection: close\r\nContent-Type: application/json\r\n"
                       "Content-Length: %zu\r\n\r\n",
                  method, path, info->listen, (int)tlen, tok, len);
    free(tok);
    if (len) ig_buf_append(&rq, body, len);
    size_t off = 0;
    while (off < rq.len) {
        ssize_t n = send(fd, rq.data + off, rq.len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        off += (size_t)n;
    }
    ig_buf_free(&rq);
    ig_buf all = IG_BUF_INIT;
    char chunk[65536];
    for (;;) {
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (all.len + (size_t)n > ((size_t)1 << 30)) break;
        ig_buf_append(&all, chunk, (size_t)n);
    }
    close(fd);
    const char *end = all.len ? memmem(all.data, all.len, "\r\n\r\n", 4) : NULL;
    if (!end || sscanf(all.data, "HTTP/1.%*d %d", &out->status) != 1) {
        ig_buf_free(&all);
        ig_err(err, IG_ERR_IO, "ingot serve (pid %d) at %s gave no answer", info->pid, info->listen);
        ig_err_hint(err, "see the daemon's log; stop it with `kill %d` to run the command directly",
                    info->pid);
        return IG_ERR_IO;
    }
    size_t hl = (size_t)(end - all.data) + 2;
    ig_buf_append(&out->head, all.data, hl);
    ig_buf_append(&out->body, end + 4, all.len - hl - 2);
    ig_buf_free(&all);
    size_t cl;
    const char *v = ig_serve_reply_header(out, "content-length", &cl);
    if (v && strtoull(v, NULL, 10) != out->body.len) {
        ig_err(err, IG_ERR_IO, "the answer of ingot serve (pid %d) was cut short", info->pid);
        ig_err_hint(err, "see the daemon's log; try again");
        return IG_ERR_IO;
    }
    return IG_OK;
}

const char *ig_serve_reply_header(const ig_serve_reply *r, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    const char *s = r->head.data, *e = s + r->head.len;
    while (s && s < e) {
        const char *eol = memmem(s, (size_t)(e - s), "\r\n", 2);
        if (!eol) break;
        if ((size_t)(eol - s) > nl && s[nl] == ':' && !strncasecmp(s, name, nl)) {
            const char *v = s + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            *len = (size_t)(eol - v);
            return v;
        }
        s = eol + 2;
    }
    return NULL;
}

ig_rc ig_serve_reply_error(const ig_serve_reply *r, ig_error *err)
{
    json_t *j = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
    json_t *e = json_object_get(j, "error");
    int rc = (int)json_integer_value(json_object_get(e, "rc"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    if (!e || !msg) {
        ig_err(err, IG_ERR_IO, "ingot serve answered HTTP %d", r->status);
        if (msg) ig_err_detail(err, "%s", msg);
    } else {
        ig_err(err, rc > 0 ? rc : IG_ERR_IO, "%s", msg);
        const char *s;
        if ((s = json_string_value(json_object_get(e, "detail"))) && *s) ig_err_detail(err, "%s", s);
        if ((s = json_string_value(json_object_get(e, "hint"))) && *s) ig_err_hint(err, "%s", s);
        s = json_string_value(json_object_get(e, "file"));
        ig_err_at(err, s ? s : "", (int)json_integer_value(json_object_get(e, "line")),
                  (int)json_integer_value(json_object_get(e, "column")));
    }
    json_decref(j);
    return err->code;
}

void ig_serve_reply_free(ig_serve_reply *r)
{
    ig_buf_free(&r->head);
    ig_buf_free(&r->body);
}
