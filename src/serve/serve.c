/* The daemon (see serve.h): start-up in dependency order (lock, config,
 * warehouse, WAL, loader, collector, HTTP, Pub/Sub), a main thread that
 * waits for signals and ticks a monitor once a second, and the reverse order
 * at shutdown. The HTTP handler routes /health and /metrics here and the
 * collector's paths to ingest/events. */
#include "serve/serve.h"
#include "orchestrate/scheduler.h"

#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/version.h"
#include "ingest/events/events.h"
#include "ingest/events/loader.h"
#include "ingest/events/pubsub.h"
#include "ingest/events/wal.h"
#include "serve/api.h"
#include "serve/http.h"
#include "warehouse/warehouse.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

typedef struct serve_state {
    ig_project *project;
    ig_serve_options opt;
    ig_ev_config *cfg;
    ig_wh *wh;
    ig_wal *wal;
    ig_ev_loader *loader;
    ig_ev_collector *collector;
    ig_ev_pubsub *pubsub;
    _Atomic(ig_http_server *) http;
    /* held while the WAL writer wakes the server, and while the server is
     * taken away at shutdown: the writer outlives the server */
    pthread_mutex_t http_lock;
    int pid_fd;
    char *pid_path;
    char listen[128];
    int64_t started_us;
    ig_arena **old;        /* arenas of configs replaced by reloads, freed at exit */
    size_t nold;
    _Atomic uint64_t reloads;
    _Atomic(const ig_pipeline_set *) pipelines; /* swapped by reload(); old sets live in d->old */
    ig_sched *sched;           /* NULL when the project has no pipelines */
    int bp_state;              /* the collector's backpressure state (main thread) */
    char token[65];            /* the control API's bearer token (api.h) */
    ig_pipeline_watch *watch;  /* ingot.yml, pipelines/: an edit reloads as SIGHUP does */
} serve_state;

/* ---- pid / lock file ------------------------------------------------------ */

char *ig_serve_pid_path(const ig_project *p)
{
    if (p->serve.pid_file) return ig_strdup(p->serve.pid_file);
    return ig_asprintf("%s.serve.pid", p->warehouse.path);
}

static void read_info(int fd, ig_serve_info *out)
{
    memset(out, 0, sizeof *out);
    char buf[1024];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return;
    buf[n] = 0;
    json_t *j = json_loads(buf, 0, NULL);
    if (!j) return;
    out->pid = (int)json_integer_value(json_object_get(j, "pid"));
    snprintf(out->listen, sizeof out->listen, "%s", json_string_value(json_object_get(j, "listen")) ?: "");
    snprintf(out->started_at, sizeof out->started_at, "%s",
             json_string_value(json_object_get(j, "started_at")) ?: "");
    snprintf(out->version, sizeof out->version, "%s", json_string_value(json_object_get(j, "version")) ?: "");
    json_decref(j);
}

int ig_serve_find(const ig_project *p, ig_serve_info *out)
{
    char *path = ig_serve_pid_path(p);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0) return 0;
    int running = 0;
    if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
        running = 1;
        if (out) read_info(fd, out);
    } else {
        flock(fd, LOCK_UN);
    }
    close(fd);
    return running;
}

static ig_rc take_lock(serve_state *d, ig_error *err)
{
    d->pid_path = ig_serve_pid_path(d->project);
    char *dir = ig_path_dirname(d->pid_path);
    ig_rc rc = ig_fs_mkdirs(dir, err);
    free(dir);
    if (rc) return rc;
    d->pid_fd = open(d->pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (d->pid_fd < 0)
        return ig_err(err, IG_ERR_IO, "cannot open %s: %s", d->pid_path, strerror(errno));
    if (flock(d->pid_fd, LOCK_EX | LOCK_NB) < 0) {
        ig_serve_info info;
        read_info(d->pid_fd, &info);
        close(d->pid_fd);
        d->pid_fd = -1;
        ig_err(err, IG_ERR_LOCKED, "ingot serve is already running for this project (pid %d, "
               "listening on %s)", info.pid, info.listen[0] ? info.listen : "?");
        ig_err_hint(err, "stop it with `kill %d` (it shuts down gracefully), or use it as it is",
                    info.pid);
        return IG_ERR_LOCKED;
    }
    return IG_OK;
}

static void write_pid(serve_state *d)
{
    char when[40];
    ig_format_iso(d->started_us, when, sizeof when);
    ig_buf b = IG_BUF_INIT;
    ig_buf_printf(&b, "{\"pid\":%d,\"listen\":", (int)getpid());
    ig_json_quote(&b, d->listen);
    ig_buf_printf(&b, ",\"started_at\":\"%s\",\"version\":\"%s\"}\n", when, IG_VERSION);
    if (ftruncate(d->pid_fd, 0) == 0 && pwrite(d->pid_fd, b.data, b.len, 0) == (ssize_t)b.len)
        fdatasync(d->pid_fd);
    ig_buf_free(&b);
}

static void release_lock(serve_state *d)
{
    if (d->pid_fd >= 0) {
        if (ftruncate(d->pid_fd, 0) < 0) { /* a stale file is harmless: the lock decides */
        }
        char *tp = ig_serve_token_path(d->project);
        unlink(tp);
        free(tp);
        close(d->pid_fd);
        d->pid_fd = -1;
    }
    free(d->pid_path);
    d->pid_path = NULL;
}

/* ---- HTTP --------------------------------------------------------------- */

static const char *head_get(void *h, const char *name, size_t *n)
{
    return ig_http_head_get((const ig_http_head *)h, name, n);
}

static void health(serve_state *d, ig_http_response *r)
{
    ig_wal_stats ws;
    ig_wal_get_stats(d->wal, &ws);
    ig_ev_loader_stats ls;
    ig_ev_loader_get_stats(d->loader, &ls);
    r->status = ws.failed ? 503 : 200;
    ig_buf_printf(&r->body,
                  "{\"status\":\"%s\",\"version\":\"%s\",\"pid\":%d,\"uptime_s\":%lld,"
                  "\"wal\":{\"durable\":%llu,\"loaded\":%llu,\"lag_bytes\":%llu,\"failed\":%s},"
                  "\"loader\":{\"events\":%llu,\"batches\":%llu,\"errors\":%llu}}",
                  ws.failed ? "failing" : "ok", IG_VERSION, (int)getpid(),
                  (long long)((ig_wall_us() - d->started_us) / 1000000), (unsigned long long)ws.durable,
                  (unsigned long long)ls.checkpoint,
                  (unsigned long long)(ws.durable > ls.checkpoint ? ws.durable - ls.checkpoint : 0),
                  ws.failed ? "true" : "false", (unsigned long long)ls.events,
                  (unsigned long long)ls.batches, (unsigned long long)ls.errors);
}

static void metrics(serve_state *d, ig_http_response *r)
{
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
    ig_buf *o = &r->body;
    ig_http_stats hs;
    ig_http_server_stats(atomic_load(&d->http), &hs);
    ig_wal_stats ws;
    ig_wal_get_stats(d->wal, &ws);
    ig_ev_loader_stats ls;
    ig_ev_loader_get_stats(d->loader, &ls);
#define M(name, type, help, fmt, v)                                                          \
    ig_buf_printf(o, "# HELP " name " " help "\n# TYPE " name " " type "\n" name " " fmt "\n", v)
    M("ingot_http_requests_total", "counter", "HTTP requests answered or parked.", "%llu", (unsigned long long)hs.requests);
    M("ingot_http_connections_accepted_total", "counter", "TCP connections accepted.", "%llu", (unsigned long long)hs.conns_accepted);
    M("ingot_http_connections_open", "gauge", "TCP connections open now.", "%llu", (unsigned long long)hs.conns_open);
    M("ingot_http_received_bytes_total", "counter", "Bytes read from clients.", "%llu", (unsigned long long)hs.bytes_in);
    M("ingot_http_sent_bytes_total", "counter", "Bytes written to clients.", "%llu", (unsigned long long)hs.bytes_out);
    M("ingot_http_bad_requests_total", "counter", "Requests refused by the HTTP layer (malformed, too large, timeouts).", "%llu", (unsigned long long)hs.parse_errors);
    M("ingot_http_timeouts_total", "counter", "Connections cut by a head or body timeout.", "%llu", (unsigned long long)hs.timeouts);
    M("ingot_wal_appended_bytes_total", "counter", "Bytes appended to the write-ahead log.", "%llu", (unsigned long long)ws.appended_bytes);
    M("ingot_wal_records_total", "counter", "Records (requests) appended to the WAL.", "%llu", (unsigned long long)ws.records);
    M("ingot_wal_fsyncs_total", "counter", "Group commits (one fsync each).", "%llu", (unsigned long long)ws.fsyncs);
    M("ingot_wal_size_bytes", "gauge", "Bytes of WAL segments on disk.", "%llu", (unsigned long long)ws.disk_bytes);
    M("ingot_wal_failed", "gauge", "1 when the WAL hit a write or fsync error.", "%d", ws.failed ? 1 : 0);
    M("ingot_loader_lag_bytes", "gauge", "Durable WAL bytes not yet loaded into bronze.", "%llu",
      (unsigned long long)(ws.durable > ls.checkpoint ? ws.durable - ls.checkpoint : 0));
    M("ingot_loader_lag_seconds", "gauge", "Age of the oldest durable record not yet loaded.", "%.3f",
      (double)ls.oldest_waiting_us / 1e6);
    M("ingot_loader_rows_total", "counter", "Rows loaded into bronze.", "%llu", (unsigned long long)ls.events);
    M("ingot_loader_batches_total", "counter", "Loader batches committed.", "%llu", (unsigned long long)ls.batches);
    M("ingot_loader_errors_total", "counter", "Loader batches that failed (retried).", "%llu", (unsigned long long)ls.errors);
    M("ingot_loader_corrupt_records_total", "counter", "WAL records skipped as corrupt.", "%llu", (unsigned long long)ls.corrupt_records);
    M("ingot_pubsub_messages_total", "counter", "Pub/Sub messages made durable and acknowledged.", "%llu", (unsigned long long)ig_ev_pubsub_received(d->pubsub));
    M("ingot_serve_reloads_total", "counter", "Configuration reloads (SIGHUP).", "%llu", (unsigned long long)atomic_load(&d->reloads));
#undef M
    ig_ev_collector_metrics(d->collector, o);
    r->status = 200;
}

/* GET /api/pipelines: the pipelines and their next fire times.
 * POST /api/pipelines/NAME/runs: start a run now (as `ingot pipeline run`). */
static void pipelines_api(serve_state *d, const char *method, const char *path, ig_http_response *r)
{
    if (!strcmp(path, "/api/pipelines") && !strcmp(method, "GET")) {
        ig_buf_puts(&r->body, "{\"pipelines\":[");
        int64_t now = ig_wall_us() / 1000000;
        const ig_pipeline_set *set = atomic_load(&d->pipelines);
        for (size_t i = 0; set && i < set->n; i++) {
            const ig_pipeline *pl = &set->items[i];
            if (i) ig_buf_putc(&r->body, ',');
            ig_buf_puts(&r->body, "{\"name\":");
            ig_json_quote(&r->body, pl->name);
            ig_buf_puts(&r->body, ",\"schedule\":");
            if (pl->schedule) ig_json_quote(&r->body, pl->schedule);
            else ig_buf_puts(&r->body, "null");
            ig_buf_puts(&r->body, ",\"timezone\":");
            ig_json_quote(&r->body, ig_tz_name(pl->tz));
            int64_t next = pl->schedule ? ig_cron_next(&pl->cron, pl->tz, now) : -1;
            if (next > 0) {
                char iso[40];
                ig_format_iso(next * 1000000, iso, sizeof iso);
                ig_buf_printf(&r->body, ",\"next_run\":\"%s\"}", iso);
            } else {
                ig_buf_puts(&r->body, ",\"next_run\":null}");
            }
        }
        ig_buf_puts(&r->body, "]}");
        r->status = 200;
        return;
    }
    const char *name = path + 15; /* after "/api/pipelines/" */
    const char *slash = strlen(path) > 15 ? strchr(name, '/') : NULL;
    if (!strcmp(method, "POST") && slash && !strcmp(slash, "/runs") && d->sched) {
        char pname[256];
        snprintf(pname, sizeof pname, "%.*s", (int)(slash - name), name);
        ig_error e;
        if (ig_sched_trigger(d->sched, pname, &e)) {
            r->status = 404;
            ig_buf_puts(&r->body, "{\"success\":false,\"error\":{\"code\":\"not_found\",\"message\":");
            ig_json_quote(&r->body, e.message);
            ig_buf_puts(&r->body, "}}");
            return;
        }
        r->status = 202;
        ig_buf_puts(&r->body, "{\"success\":true,\"pipeline\":");
        ig_json_quote(&r->body, pname);
        ig_buf_puts(&r->body, "}");
        return;
    }
    r->status = 404;
    ig_buf_puts(&r->body, "{\"success\":false,\"error\":{\"code\":\"not_found\",\"message\":"
                          "\"no such endpoint; see docs/serve.md\"}}");
}

static void handle(void *ud, const ig_http_request *req, ig_http_response *r)
{
    serve_state *d = ud;
    const ig_http_head *h = req->head;
    char method[16], path[2048];
    if (h->method.n >= sizeof method || h->path.n >= sizeof path) {
        r->status = h->method.n >= sizeof method ? 501 : 414;
        ig_buf_puts(&r->body, "{\"success\":false,\"error\":{\"code\":\"bad_request\",\"message\":"
                              "\"the method or path is too long\"}}");
        return;
    }
    memcpy(method, h->method.p, h->method.n);
    method[h->method.n] = 0;
    memcpy(path, h->path.p, h->path.n);
    path[h->path.n] = 0;
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (!strcmp(path, "/health") && get) return health(d, r);
    if (!strcmp(path, "/metrics") && get) return metrics(d, r);
    if (!strcmp(path, "/api/query")) {
        if (strcmp(method, "POST")) {
            r->status = 405;
            ig_buf_puts(&r->headers, "Allow: POST\r\n");
            return;
        }
        if (ig__serve_api_allowed(d->token, req, r)) ig__serve_api_query(d->wh, req, r);
        return;
    }
    size_t pl = strlen(path);
    if (get && !strncmp(path, "/api/pipelines/", 15) && pl > 20 && !strcmp(path + pl - 5, "/runs")) {
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(pl - 20), path + 15);
        if (ig__serve_api_allowed(d->token, req, r)) ig__serve_api_runs(d->wh, name, req, r);
        return;
    }
    if (!strncmp(path, "/api/pipelines", 14)) return pipelines_api(d, method, path, r);
    if (ig_ev_route(path)) {
        ig_ev_request rq = {.method = method,
                            .path = path,
                            .header = head_get,
                            .hctx = (void *)h,
                            .body = req->body,
                            .body_len = req->body_len,
                            .peer_ip = req->peer_ip,
                            .now_us = ig_wall_us()};
        ig_ev_response rs = {.body = &r->body, .headers = &r->headers};
        ig_ev_handle(d->collector, &rq, &rs);
        r->status = rs.status;
        r->content_type = rs.content_type;
        r->park_token = rs.wait_lsn;
        return;
    }
    r->status = 404;
    ig_buf_puts(&r->body, "{\"success\":false,\"error\":{\"code\":\"not_found\",\"message\":"
                          "\"no such endpoint; see docs/serve.md\"}}");
}

static int park_status(void *ud, uint64_t token)
{
    serve_state *d = ud;
    return ig_wal_status(d->wal, token);
}

static void on_durable(void *ud)
{
    serve_state *d = ud;
    pthread_mutex_lock(&d->http_lock);
    ig_http_server *s = atomic_load(&d->http);
    if (s) ig_http_server_wake(s);
    pthread_mutex_unlock(&d->http_lock);
}

/* ---- monitor, reload ---------------------------------------------------- */

static void monitor(serve_state *d)
{
    ig_ev_loader_stats ls;
    ig_ev_loader_get_stats(d->loader, &ls);
    uint64_t durable = ig_wal_durable(d->wal);
    uint64_t lag = durable > ls.checkpoint ? durable - ls.checkpoint : 0;
    struct statvfs sv;
    uint64_t free_bytes = UINT64_MAX;
    if (statvfs(ig_wal_dir(d->wal), &sv) == 0) free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
    ig_wal_stats ws;
    ig_wal_get_stats(d->wal, &ws);
    int st;
    if (free_bytes < d->opt.min_free_bytes) {
        st = IG_EV_UNAVAILABLE;
        ig_ev_collector_set_state(d->collector, IG_EV_UNAVAILABLE, 30);
    } else if (lag > d->opt.max_lag_bytes || ws.disk_bytes > d->opt.wal_max_disk) {
        st = IG_EV_SLOW_DOWN;
        ig_ev_collector_set_state(d->collector, IG_EV_SLOW_DOWN, 5);
    } else {
        st = IG_EV_OPEN;
        ig_ev_collector_set_state(d->collector, IG_EV_OPEN, 0);
    }
    if (st != d->bp_state) {
        if (st == IG_EV_UNAVAILABLE)
            ig_warn("serve.backpressure", "free disk under the WAL is %llu bytes (below "
                    "serve.wal.min_free_disk, %llu): answering 503 until space is freed",
                    (unsigned long long)free_bytes, (unsigned long long)d->opt.min_free_bytes);
        else if (st == IG_EV_SLOW_DOWN)
            ig_warn("serve.backpressure", "the loader is behind (%llu bytes not loaded, limit "
                    "serve.loader.max_lag %llu; WAL on disk %llu, limit serve.wal.max_disk %llu): "
                    "answering 429 until it catches up", (unsigned long long)lag,
                    (unsigned long long)d->opt.max_lag_bytes, (unsigned long long)ws.disk_bytes,
                    (unsigned long long)d->opt.wal_max_disk);
        else
            ig_info("serve.backpressure", "the collector accepts events again");
        d->bp_state = st;
    }
}

static void reload(serve_state *d)
{
    ig_arena *a = ig_arena_new();
    ig_project *np;
    ig_ev_config *ncfg;
    ig_pipeline_set *nset = ig_arena_zalloc(a, sizeof *nset);
    ig_error e;
    ig_error_clear(&e);
    if (ig_project_load(a, d->project->dir, &np, &e) || ig_ev_config_read(a, np, &ncfg, &e) ||
        ig_pipelines_load(a, np, nset, &e)) {
        char pos[600] = "";
        if (e.file[0]) snprintf(pos, sizeof pos, e.line ? "%s:%d:%d: " : "%s: ", e.file, e.line, e.column);
        ig_error_log("serve.reload", "reload refused, the running configuration is kept: %s%s", pos, e.message);
        ig_arena_free(a);
        return;
    }
    if (strcmp(np->serve.listen, d->project->serve.listen) && !d->opt.listen)
        ig_warn("serve.reload", "serve.listen changed to %s: restart ingot serve to listen there",
                np->serve.listen);
    ig_ev_pubsub_stop(d->pubsub);
    d->pubsub = NULL;
    ig_ev_collector_set_config(d->collector, ncfg);
    ig_ev_loader_set_config(d->loader, ncfg);
    d->cfg = ncfg;
    if (ig_ev_pubsub_start(ncfg, d->wal, &d->pubsub, &e))
        ig_error_log("serve.reload", "Pub/Sub sources not restarted: %s", e.message);
    atomic_store(&d->pipelines, nset);
    if (!d->opt.no_scheduler && ig_sched_apply(&d->sched, np, nset, d->wh, &e))
        ig_error_log("serve.reload", "the scheduler did not start: %s", e.message);
    d->old = ig_realloc(d->old, (d->nold + 1) * sizeof *d->old);
    d->old[d->nold++] = a;
    atomic_fetch_add(&d->reloads, 1);
    ig_info("serve.reload", "configuration reloaded: %zu event sources", ncfg->nsources);
}

/* ---- run ---------------------------------------------------------------- */

static ig_rc open_warehouse(serve_state *d, ig_error *err)
{
    ig_project *p = d->project;
    char *dir = ig_path_dirname(p->warehouse.path);
    ig_rc rc = ig_fs_mkdirs(dir, err);
    free(dir);
    if (rc) return rc;
    ig_wh_options o = ig_project_wh_options(p);
    return ig_wh_open(&o, &d->wh, err);
}

ig_rc ig_serve_run(ig_project *p, const ig_serve_options *opt, ig_error *err)
{
    serve_state dd = {0}, *d = &dd;
    pthread_mutex_init(&d->http_lock, NULL);
    d->project = p;
    d->opt = *opt;
    d->pid_fd = -1;
    d->started_us = ig_wall_us();
    if (!d->opt.max_body_bytes) d->opt.max_body_bytes = 4u << 20;
    if (!d->opt.max_lag_bytes) d->opt.max_lag_bytes = (uint64_t)1 << 30;
    if (!d->opt.min_free_bytes) d->opt.min_free_bytes = (uint64_t)512 << 20;
    if (!d->opt.wal_max_disk) d->opt.wal_max_disk = (uint64_t)4 << 30;
    /* Signals go to the main thread only: block them before any thread starts. */
    sigset_t set, oldset;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, &oldset);
    ig_arena *cfg_arena = ig_arena_new();
    char *wal_dir = NULL;
    ig_rc rc = take_lock(d, err);
    if (!rc) rc = ig__serve_token_create(p, d->token, err);
    if (!rc) rc = ig_ev_config_read(cfg_arena, p, &d->cfg, err);
    if (!rc) rc = open_warehouse(d, err);
    if (!rc) {
        if (opt->wal_dir) wal_dir = ig_strdup(opt->wal_dir);
        else {
            char *wd = ig_path_dirname(p->warehouse.path);
            wal_dir = ig_path_join(wd, "events-wal");
            free(wd);
        }
        ig_wal_options wo = {.dir = wal_dir, .no_sync = opt->no_fsync,
                             .group_commit_us = opt->group_commit_us, .on_durable = on_durable, .ud = d};
        rc = ig_wal_open(&wo, &d->wal, err);
    }
    if (!rc) {
        ig_ev_loader_options lo = {.wal = d->wal,
                                   .wh = d->wh,
                                   .lake_dir = p->lake.path,
                                   .cfg = d->cfg,
                                   .interval_ms = opt->loader_interval_ms};
        rc = ig_ev_loader_start(&lo, opt->once, &d->loader, err);
    }
    if (!rc && opt->once) {
        uint64_t n = 0;
        rc = ig_ev_loader_run(d->loader, &n, err);
        if (!rc) printf("loaded %llu rows from the event WAL\n", (unsigned long long)n);
        goto shutdown;
    }
    if (!rc) {
        d->collector = ig_ev_collector_new(d->cfg, d->wal);
        monitor(d); /* a full disk or a WAL left far behind refuses from the first request */
        snprintf(d->listen, sizeof d->listen, "%s", opt->listen ? opt->listen : p->serve.listen);
        ig_http_config hc = {.listen = d->listen,
                             .workers = opt->workers,
                             .max_body_bytes = d->opt.max_body_bytes,
                             .handler = handle,
                             .park_status = park_status,
                             .ud = d};
        ig_http_server *s = NULL;
        rc = ig_http_server_start(&hc, &s, err);
        if (!rc) {
            atomic_store(&d->http, s);
            char host[128];
            int port;
            ig_http_split_listen(d->listen, host, sizeof host, &port);
            snprintf(d->listen, sizeof d->listen, "%s%s%s:%d", strchr(host, ':') ? "[" : "", host,
                     strchr(host, ':') ? "]" : "", ig_http_server_port(s));
        }
    }
    if (!rc) rc = ig_ev_pubsub_start(d->cfg, d->wal, &d->pubsub, err);
    /* the scheduler: the project's pipelines fire inside the daemon */
    ig_pipeline_set *pset = ig_arena_zalloc(cfg_arena, sizeof *pset);
    if (!rc) rc = ig_pipelines_load(cfg_arena, p, pset, err);
    atomic_store(&d->pipelines, pset);
    if (!rc && pset->n && !opt->no_scheduler)
        rc = ig_sched_start(p, pset, d->wh,
                            &(ig_sched_options){.global_concurrency = p->serve.max_running_tasks},
                            &d->sched, err);
    if (!rc) d->watch = ig_pipeline_watch_new(p->dir);
    if (rc) goto shutdown;
    write_pid(d);
    if (opt->ready_file) {
        char line[160];
        int n = snprintf(line, sizeof line, "%s\n", d->listen);
        ig_error e2;
        ig_fs_write_atomic(opt->ready_file, line, (size_t)n, 0644, &e2);
    }
    ig_info("serve.start", "ingot serve %s listening on http://%s (pid %d, WAL %s, %zu event "
            "sources, %zu pipelines)%s", IG_VERSION, d->listen, (int)getpid(), wal_dir, d->cfg->nsources,
            pset->n,
            opt->no_fsync ? " -- WARNING: --no-fsync, accepted events are NOT durable" : "");
    for (;;) {
        struct timespec tick = {1, 0};
        siginfo_t si;
        int sig = sigtimedwait(&set, &si, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            ig_info("serve.stop", "%s received: stopping gracefully", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            break;
        }
        if (sig == SIGHUP) reload(d);
        else if (ig_pipeline_watch_poll(d->watch)) {
            ig_info("serve.reload", "ingot.yml or pipelines/ changed: reloading");
            reload(d);
        }
        monitor(d);
    }
shutdown:
    ig_sched_stop(d->sched); /* runs in flight are stopped and resumed at the next start */
    ig_pipeline_watch_free(d->watch);
    if (atomic_load(&d->http)) {
        ig_http_server *s = atomic_load(&d->http);
        ig_http_server_stop(s, 10000);
        pthread_mutex_lock(&d->http_lock);
        atomic_store(&d->http, NULL);
        pthread_mutex_unlock(&d->http_lock);
        ig_http_server_free(s);
    }
    ig_ev_pubsub_stop(d->pubsub);
    if (d->wal) {
        ig_error e2;
        if (ig_wal_sync(d->wal, &e2)) ig_error_log("serve.stop", "%s", e2.message);
    }
    if (d->loader) ig_ev_loader_stop(d->loader, !opt->once, 10000);
    ig_wal_close(d->wal);
    ig_ev_collector_free(d->collector);
    if (d->wh) ig_wh_close(d->wh);
    release_lock(d);
    for (size_t i = 0; i < d->nold; i++) ig_arena_free(d->old[i]);
    free(d->old);
    ig_arena_free(cfg_arena);
    free(wal_dir);
    pthread_sigmask(SIG_SETMASK, &oldset, NULL);
    pthread_mutex_destroy(&d->http_lock);
    if (!rc && !opt->once) ig_info("serve.stop", "stopped");
    return rc;
}
