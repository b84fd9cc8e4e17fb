/* The demo's web events go through the event collector, as a shop's site
 * would send them: the generator's events (a file beside the project, never
 * a drop file) become Segment `track` calls, posted in batches of 100 to
 * `ingot serve` -- the real daemon, started as a child process on a free
 * loopback port -- with the source's write key as Basic auth. The daemon's
 * loader lands them in bronze.web__events; stopping it loads what is left
 * (and `ingot serve --once` whatever the drain left over).
 *
 * The daemon holds the warehouse while it runs (DuckDB: one writer), so
 * this step closes the demo's connection first and reopens it at the end.
 *
 * Mapping (the file's fields -> the call):
 *   event_id -> messageId, event_type -> event, anonymous_id -> anonymousId,
 *   user_id -> userId, timestamp -> timestamp,
 *   session_id, url, product_id, order_id -> properties,
 *   context.user_agent -> context.userAgent, context.locale -> context.locale */
#include "demo/demo_int.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH 100

/* Run `ingot -C dir --log-level warn serve ARGS...` (this binary), its
 * output appended to log. Returns the child's pid, or -1 with err set. */
static pid_t spawn_serve(const char *dir, const char *const *args, const char *log, ig_error *err)
{
    const char *argv[16];
    int n = 0;
    argv[n++] = "ingot";
    argv[n++] = "-C";
    argv[n++] = dir;
    argv[n++] = "--log-level";
    argv[n++] = "warn";
    argv[n++] = "serve";
    for (int i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        ig_err(err, IG_ERR_IO, "cannot start ingot serve for the demo's web events: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) dup2(nul, 0);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv("/proc/self/exe", (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static ig_rc wait_child(pid_t pid, const char *what, const char *log, ig_error *err)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return IG_OK;
    ig_err(err, IG_ERR_FAILED, "%s ended with %s %d", what,
           WIFEXITED(st) ? "exit code" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    ig_err_hint(err, "see %s", log);
    return IG_ERR_FAILED;
}

static int dial(const char *addr, ig_error *err)
{
    char host[128];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host) {
        ig_err(err, IG_ERR_IO, "the demo's collector gave no usable address ('%s')", addr);
        return -1;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &ai) || !ai) {
        ig_err(err, IG_ERR_IO, "cannot resolve the demo's collector at %s", addr);
        return -1;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0) ig_err(err, IG_ERR_IO, "cannot connect to the demo's collector at %s: %s", addr, strerror(errno));
    return fd;
}

/* One POST /v1/batch over the keep-alive connection; *status gets the HTTP
 * status and *retry the Retry-After seconds (0 when none). */
static ig_rc post_batch(int fd, const char *addr, const char *auth, const ig_buf *body, int *status,
                        int *retry, ig_buf *in, ig_error *err)
{
    ig_buf rq = IG_BUF_INIT;
    ig_buf_printf(&rq, "POST /v1/batch HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"
                       "Content-Type: application/json\r\nUser-Agent: ingot-demo\r\n"
                       "Content-Length: %zu\r\n\r\n", addr, auth, body->len);
    ig_buf_append(&rq, body->data, body->len);
    size_t off = 0;
    while (off < rq.len) {
        ssize_t n = send(fd, rq.data + off, rq.len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ig_buf_free(&rq);
            return ig_err(err, IG_ERR_IO, "the demo's collector closed the connection: %s", strerror(errno));
        }
        off += (size_t)n;
    }
    ig_buf_free(&rq);
    /* the answer: a head, then Content-Length bytes */
    ig_buf_reset(in);
    char chunk[4096];
    for (;;) {
        const char *end = in->len ? memmem(in->data, in->len, "\r\n\r\n", 4) : NULL;
        if (end) {
            size_t hl = (size_t)(end - in->data) + 4;
            const char *cl = strcasestr(in->data, "\r\ncontent-length:");
            size_t want = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
            if (in->len >= hl + want) {
                *status = 0;
                sscanf(in->data, "HTTP/1.%*d %d", status);
                const char *ra = strcasestr(in->data, "\r\nretry-after:");
                *retry = ra && ra < end ? atoi(ra + 14) : 0;
                return IG_OK;
            }
        }
        ssize_t n = recv(fd, chunk, sizeof chunk - 1, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return ig_err(err, IG_ERR_IO, "the demo's collector at %s did not answer", addr);
        ig_buf_append(in, chunk, (size_t)n);
    }
}

/* A generator line as a track call, appended to b. */
static bool to_track(const char *line, size_t len, ig_buf *b)
{
    json_t *e = json_loadb(line, len, 0, NULL);
    if (!e) return false;
    json_t *t = json_object();
    json_object_set_new(t, "type", json_string("track"));
    json_object_set(t, "event", json_object_get(e, "event_type"));
    json_object_set(t, "messageId", json_object_get(e, "event_id"));
    json_object_set(t, "anonymousId", json_object_get(e, "anonymous_id"));
    json_t *u = json_object_get(e, "user_id");
    if (json_is_string(u)) json_object_set(t, "userId", u);
    json_object_set(t, "timestamp", json_object_get(e, "timestamp"));
    json_t *p = json_object();
    static const char *const props[] = {"session_id", "url", "product_id", "order_id"};
    for (size_t i = 0; i < sizeof props / sizeof *props; i++) {
        json_t *v = json_object_get(e, props[i]);
        if (v && !json_is_null(v)) json_object_set(p, props[i], v);
    }
    json_object_set_new(t, "properties", p);
    json_t *ctx = json_object_get(e, "context"), *c = json_object();
    json_object_set(c, "userAgent", json_object_get(ctx, "user_agent"));
    json_object_set(c, "locale", json_object_get(ctx, "locale"));
    json_object_set_new(c, "library", json_pack("{s:s,s:s}", "name", "ingot-demo", "version", "1"));
    json_object_set_new(t, "context", c);
    char *s = json_dumps(t, JSON_COMPACT);
    ig_buf_puts(b, s);
    free(s);
    json_decref(t);
    json_decref(e);
    return true;
}

static ig_rc send_all(const char *addr, const char *events, int64_t *sent, ig_error *err)
{
    const char *key = getenv(IG_DEMO_WEB_KEY_ENV);
    if (!key || !*key) key = IG_DEMO_WEB_KEY_DEFAULT;
    char user[256], auth[400];
    int ul = snprintf(user, sizeof user, "%s:", key);
    EVP_EncodeBlock((unsigned char *)auth, (const unsigned char *)user, ul);
    FILE *f = fopen(events, "rb");
    if (!f) return ig_err(err, IG_ERR_IO, "cannot read %s: %s", events, strerror(errno));
    int fd = dial(addr, err);
    if (fd < 0) {
        fclose(f);
        return err->code;
    }
    ig_buf body = IG_BUF_INIT, in = IG_BUF_INIT;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int inbatch = 0;
    ig_rc rc = IG_OK;
    bool eof = false;
    while (!rc && !eof) {
        n = getline(&line, &cap, f);
        eof = n <= 0;
        if (!eof) {
            ig_buf_puts(&body, inbatch ? "," : "{\"batch\":[");
            if (!to_track(line, (size_t)n, &body)) {
                rc = ig_err(err, IG_ERR_INTERNAL, "the generator wrote a web event that is not JSON");
                break;
            }
            inbatch++;
        }
        if (inbatch == BATCH || (eof && inbatch)) {
            ig_buf_puts(&body, "]}");
            for (int tries = 0;; tries++) {
                int status = 0, retry = 0;
                rc = post_batch(fd, addr, auth, &body, &status, &retry, &in, err);
                if (rc) break;
                if (status == 200) break;
                if ((status == 429 || status == 503) && tries < 60) { /* as an SDK does */
                    struct timespec ts = {retry > 0 && retry < 5 ? retry : 1, 0};
                    nanosleep(&ts, NULL);
                    continue;
                }
                rc = ig_err(err, IG_ERR_FAILED, "the demo's collector answered HTTP %d to a batch "
                            "of web events", status);
                ig_err_detail(err, "%.*s", (int)(in.len < 600 ? in.len : 600), in.data ? in.data : "");
                break;
            }
            *sent += inbatch;
            inbatch = 0;
            ig_buf_reset(&body);
        }
    }
    free(line);
    ig_buf_free(&body);
    ig_buf_free(&in);
    close(fd);
    fclose(f);
    return rc;
}

ig_rc ig__demo_collect(ig_demo_ctx *d, ig_error *err)
{
    uint64_t t0 = ig_now_ns();
    const char *dir = d->project->dir;
    char *events = ig_path_join(dir, IG_DEMO_WEB_EVENTS_FILE);
    char *ready = ig_path_join(dir, ".demo-serve.ready");
    char *logdir = ig_path_join(dir, "logs");
    char *log = ig_path_join(logdir, "demo-serve.log");
    ig_rc rc = ig_fs_mkdirs(logdir, err);
    unlink(ready);
    /* the daemon needs the warehouse: hand it over */
    ig_wh_close(d->wh);
    d->wh = NULL;
    pid_t pid = -1;
    int64_t sent = 0;
    if (!rc) {
        const char *args[] = {"--listen", "127.0.0.1:0", "--ready-file", ready, "--no-scheduler",
                              "--load-interval", "250", NULL};
        pid = spawn_serve(dir, args, log, err);
        if (pid < 0) rc = err->code;
    }
    char addr[160] = "";
    for (int i = 0; !rc && i < 600 && !addr[0]; i++) {
        char *txt = NULL;
        size_t len = 0;
        ig_error e2;
        if (!ig_fs_read(ready, 4096, &txt, &len, &e2) && len > 0) {
            snprintf(addr, sizeof addr, "%.*s", (int)strcspn(txt, "\r\n"), txt);
        } else if (waitpid(pid, NULL, WNOHANG) == pid) {
            pid = -1;
            rc = ig_err(err, IG_ERR_FAILED, "ingot serve stopped before it listened");
            ig_err_hint(err, "see %s", log);
        } else {
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
        free(txt);
    }
    if (!rc && !addr[0]) {
        rc = ig_err(err, IG_ERR_FAILED, "ingot serve did not start listening within 30 s");
        ig_err_hint(err, "see %s", log);
    }
    if (!rc) {
        ig__demo_progress(d, "demo.collect", "sending web events to the collector (ingot serve, "
                          "pid %d, http://%s) as Segment batches…", (int)pid, addr);
        rc = send_all(addr, events, &sent, err);
    }
    if (pid > 0) { /* SIGTERM: it answers what is in flight and loads the WAL into bronze */
        kill(pid, SIGTERM);
        ig_rc rc2 = wait_child(pid, "ingot serve (the demo's collector)", log, err);
        if (!rc) rc = rc2;
    }
    if (!rc) { /* whatever the 10 s drain at stop left in the WAL */
        const char *args[] = {"--once", NULL};
        pid = spawn_serve(dir, args, log, err);
        rc = pid < 0 ? err->code : wait_child(pid, "ingot serve --once", log, err);
    }
    ig_wh_options wo = ig_project_wh_options(d->project);
    ig_rc rc3 = ig_wh_open(&wo, &d->wh, rc ? &(ig_error){0} : err);
    if (!rc) rc = rc3;
    if (!rc) {
        char n[32];
        ig__demo_thousands(n, sizeof n, sent);
        ig__demo_progress(d, "demo.collect", "sent %s web events through the collector -> "
                          "bronze.%s__events (%.1fs)", n, IG_DEMO_WEB_SOURCE,
                          (double)(ig_now_ns() - t0) / 1e9);
        unlink(events);
    }
    d->stats.ns_collect = ig_now_ns() - t0;
    unlink(ready);
    free(events);
    free(ready);
    free(logdir);
    free(log);
    return rc;
}
