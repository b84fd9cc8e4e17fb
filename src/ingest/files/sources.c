/* File sources from ingot.yml: drop folders (type: files) and published
 * files over HTTP (type: http_file). See sources.h. */
#include "ingest/files/sources.h"

#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

#include <curl/curl.h>
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OPTION_KEYS                                                                            \
    "format", "sheet", "header_row", "delimiter", "quote", "escape", "null", "date_format",    \
        "timestamp_format", "encoding", "header", "skip_rows", "all_varchar", "null_padding", \
        "columns", "max_bad_rows", "max_bad_fraction", "external"

static const char *const files_keys[] = {"type", "path", "pattern", "patterns", "stream", "streams",
                                         OPTION_KEYS, NULL};
static const char *const stream_keys[] = {"pattern", "patterns", OPTION_KEYS, NULL};
static const char *const http_keys[] = {"type", "url", "stream", "headers", "timeout", "max_bytes",
                                        OPTION_KEYS, NULL};

static const ig_yaml *source_cfg(const ig_project *p, const char *name)
{
    const ig_yaml *s = p && p->root ? ig_yaml_get(p->root, "sources") : NULL;
    return s && s->kind == IG_Y_MAP ? ig_yaml_get(s, name) : NULL;
}

static const char *source_type(const ig_yaml *cfg)
{
    const ig_yaml *t = cfg && cfg->kind == IG_Y_MAP ? ig_yaml_get(cfg, "type") : NULL;
    return t && t->kind == IG_Y_SCALAR ? t->str : NULL;
}

bool ig_ingest_is_file_source(const ig_project *p, const char *name)
{
    const char *t = source_type(source_cfg(p, name));
    return t && (!strcmp(t, "files") || !strcmp(t, "http_file"));
}

size_t ig_ingest_file_sources(ig_arena *a, const ig_project *p, const char ***names)
{
    const ig_yaml *s = p && p->root ? ig_yaml_get(p->root, "sources") : NULL;
    size_t n = 0;
    *names = NULL;
    if (!s || s->kind != IG_Y_MAP) return 0;
    *names = ig_arena_alloc(a, (s->n + 1) * sizeof **names);
    for (size_t i = 0; i < s->n; i++)
        if (ig_ingest_is_file_source(p, s->keys[i]->str)) (*names)[n++] = s->keys[i]->str;
    return n;
}

/* Read the format options of one level (source or stream) over *o. */
static ig_rc read_options(ig_arena *a, const ig_yaml *m, const char *what, ig_ingest_opts *o,
                          ig_error *err)
{
    ig_rc rc = IG_OK;
    char k[300];
#define STR(key, field)                                                          \
    if (!rc && ig_yaml_get(m, key)) {                                            \
        snprintf(k, sizeof k, "%s.%s", what, key);                               \
        rc = ig_yaml_str(ig_yaml_get(m, key), ig_arena_strdup(a, k), &o->field, err); \
    }
    STR("format", format);
    STR("sheet", sheet);
    STR("delimiter", delimiter);
    STR("quote", quote);
    STR("escape", escape);
    STR("null", null_str);
    STR("date_format", date_format);
    STR("timestamp_format", timestamp_format);
    STR("encoding", encoding);
#undef STR
    const ig_yaml *v;
    if (!rc && (v = ig_yaml_get(m, "format")) && !ig_ingest_format_valid(o->format) &&
        strcmp(o->format, "auto")) {
        rc = ig_yaml_error(v, err, "%s.format: unknown format '%s'", what, o->format);
        ig_err_hint(err, "use auto, csv, tsv, json, ndjson, parquet or xlsx");
    }
    if (!rc && (v = ig_yaml_get(m, "header_row"))) {
        snprintf(k, sizeof k, "%s.header_row", what);
        rc = ig_yaml_int(v, k, &o->header_row, err);
    }
    if (!rc && (v = ig_yaml_get(m, "skip_rows"))) {
        snprintf(k, sizeof k, "%s.skip_rows", what);
        rc = ig_yaml_int(v, k, &o->skip_rows, err);
    }
    if (!rc && (v = ig_yaml_get(m, "max_bad_rows"))) {
        snprintf(k, sizeof k, "%s.max_bad_rows", what);
        rc = ig_yaml_int(v, k, &o->max_bad_rows, err);
    }
    if (!rc && (v = ig_yaml_get(m, "max_bad_fraction"))) {
        snprintf(k, sizeof k, "%s.max_bad_fraction", what);
        rc = ig_yaml_double(v, k, &o->max_bad_fraction, err);
        if (!rc && (o->max_bad_fraction < 0 || o->max_bad_fraction > 1))
            rc = ig_yaml_error(v, err, "%s: must be between 0 and 1", k);
    }
    bool b;
    if (!rc && (v = ig_yaml_get(m, "header"))) {
        snprintf(k, sizeof k, "%s.header", what);
        rc = ig_yaml_bool(v, k, &b, err);
        if (!rc) o->header = b;
    }
#define BOOL(key, field)                                 \
    if (!rc && (v = ig_yaml_get(m, key))) {              \
        snprintf(k, sizeof k, "%s.%s", what, key);       \
        rc = ig_yaml_bool(v, k, &b, err);                \
        if (!rc) o->field = b;                           \
    }
    BOOL("all_varchar", all_varchar);
    BOOL("null_padding", null_padding);
    BOOL("external", external);
#undef BOOL
    if (!rc && (v = ig_yaml_get(m, "columns"))) {
        if (v->kind != IG_Y_MAP) return ig_yaml_error(v, err, "%s.columns: expected a mapping of column: TYPE", what);
        ig_wh_coltype *t = ig_arena_zalloc(a, (v->n ? v->n : 1) * sizeof *t);
        for (size_t i = 0; !rc && i < v->n; i++) {
            snprintf(k, sizeof k, "%s.columns.%s", what, v->keys[i]->str);
            t[i].name = v->keys[i]->str;
            rc = ig_yaml_str(v->items[i], ig_arena_strdup(a, k), &t[i].type, err);
        }
        o->types = t;
        o->ntypes = v->n;
    }
    return rc;
}

static ig_rc patterns_of(ig_arena *a, const ig_yaml *m, const char *what, const char ***pats,
                         size_t *n, ig_error *err)
{
    const ig_yaml *one = ig_yaml_get(m, "pattern"), *many = ig_yaml_get(m, "patterns");
    *n = 0;
    *pats = ig_arena_alloc(a, ((many && many->kind == IG_Y_SEQ ? many->n : 0) + 2) * sizeof **pats);
    char k[300];
    if (one) {
        snprintf(k, sizeof k, "%s.pattern", what);
        ig_rc rc = ig_yaml_str(one, ig_arena_strdup(a, k), &(*pats)[(*n)++], err);
        if (rc) return rc;
    }
    if (many) {
        if (many->kind != IG_Y_SEQ) return ig_yaml_error(many, err, "%s.patterns: expected a list of globs", what);
        for (size_t i = 0; i < many->n; i++) {
            snprintf(k, sizeof k, "%s.patterns[%zu]", what, i);
            ig_rc rc = ig_yaml_str(many->items[i], ig_arena_strdup(a, k), &(*pats)[(*n)++], err);
            if (rc) return rc;
        }
    }
    return IG_OK;
}

/* One stream of a files source. */
typedef struct fstream {
    const char *name;
    const char **patterns;
    size_t npatterns;
    ig_ingest_opts o;
} fstream;

static ig_rc read_files_source(ig_arena *a, const ig_project *p, const char *name, const ig_yaml *cfg,
                               const char **dir, fstream **out, size_t *nout, ig_error *err)
{
    char what[200];
    snprintf(what, sizeof what, "sources.%s", name);
    ig_rc rc = ig_yaml_check_keys(cfg, what, files_keys, err);
    if (rc) return rc;
    const ig_yaml *path = ig_yaml_get(cfg, "path");
    if (!path) {
        ig_yaml_error(cfg, err, "source '%s' (files) needs 'path:', the folder to watch", name);
        ig_err_hint(err, "e.g. path: drop/ with pattern: \"*.csv\"");
        return IG_ERR_CONFIG;
    }
    const char *ps;
    char k[300];
    snprintf(k, sizeof k, "%s.path", what);
    rc = ig_yaml_str(path, ig_arena_strdup(a, k), &ps, err);
    if (rc) return rc;
    char *abs = ig_path_join(p->dir, ps);
    *dir = ig_arena_strdup(a, abs);
    free(abs);
    ig_ingest_opts base;
    ig_ingest_opts_init(&base);
    base.source = name;
    rc = read_options(a, cfg, what, &base, err);
    if (rc) return rc;
    const ig_yaml *streams = ig_yaml_get(cfg, "streams");
    if (streams) {
        if (streams->kind != IG_Y_MAP || !streams->n)
            return ig_yaml_error(streams, err, "%s.streams: expected a mapping of stream: {pattern: ...}", what);
        *out = ig_arena_zalloc(a, streams->n * sizeof **out);
        *nout = streams->n;
        for (size_t i = 0; i < streams->n; i++) {
            fstream *s = &(*out)[i];
            s->name = streams->keys[i]->str;
            char sw[300];
            snprintf(sw, sizeof sw, "%s.streams.%s", what, s->name);
            if (!ig_lake_name_valid(s->name))
                return ig_yaml_error(streams->keys[i], err, "%s: '%s' is not a valid stream name "
                                     "(lower-case letters, digits, '_')", sw, s->name);
            const ig_yaml *sc = streams->items[i];
            if (sc->kind != IG_Y_MAP) return ig_yaml_error(sc, err, "%s: expected a mapping with pattern:", sw);
            rc = ig_yaml_check_keys(sc, ig_arena_strdup(a, sw), stream_keys, err);
            if (!rc) rc = patterns_of(a, sc, sw, &s->patterns, &s->npatterns, err);
            if (!rc && !s->npatterns) rc = ig_yaml_error(sc, err, "%s needs 'pattern:'", sw);
            s->o = base;
            s->o.stream = s->name;
            if (!rc) rc = read_options(a, sc, sw, &s->o, err);
            if (rc) return rc;
        }
        return IG_OK;
    }
    fstream *s = ig_arena_zalloc(a, sizeof *s);
    const ig_yaml *st = ig_yaml_get(cfg, "stream");
    s->name = name;
    if (st) {
        snprintf(k, sizeof k, "%s.stream", what);
        rc = ig_yaml_str(st, ig_arena_strdup(a, k), &s->name, err);
        if (!rc && !ig_lake_name_valid(s->name))
            rc = ig_yaml_error(st, err, "%s: '%s' is not a valid stream name", k, s->name);
        if (rc) return rc;
    }
    rc = patterns_of(a, cfg, what, &s->patterns, &s->npatterns, err);
    if (rc) return rc;
    if (!s->npatterns) {
        s->patterns = ig_arena_alloc(a, sizeof *s->patterns);
        s->patterns[0] = "*";
        s->npatterns = 1;
    }
    s->o = base;
    s->o.stream = s->name;
    *out = s;
    *nout = 1;
    return IG_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static ig_rc run_files(ig_arena *a, const ig_project *p, ig_lake *lake, ig_wh *wh, const char *name,
                       const ig_yaml *cfg, const ig_ingest_run_opts *ro, ig_ingest_counts *counts,
                       ig_error *err)
{
    const char *dir;
    fstream *streams;
    size_t nstreams;
    ig_rc rc = read_files_source(a, p, name, cfg, &dir, &streams, &nstreams, err);
    if (rc) return rc;
    if (!ig_fs_is_dir(dir)) {
        ig_err(err, IG_ERR_NOT_FOUND, "the folder of source '%s' does not exist: %s", name, dir);
        ig_err_hint(err, "create it and drop files there, or fix sources.%s.path", name);
        return IG_ERR_NOT_FOUND;
    }
    /* every file goes to the first stream whose pattern matches it */
    size_t ntaken = 0, takencap = 64;
    char **taken = ig_malloc(takencap * sizeof *taken);
    ig_rc first = IG_OK;
    for (size_t s = 0; s < nstreams; s++) {
        glob_t g = {0};
        for (size_t k = 0; k < streams[s].npatterns; k++) {
            char *pat = ig_path_join(dir, streams[s].patterns[k]);
            glob(pat, k ? GLOB_APPEND : 0, NULL, &g);
            free(pat);
        }
        char **files = g.gl_pathv;
        size_t nfiles = g.gl_pathc;
        if (nfiles) qsort(files, nfiles, sizeof *files, cmp_str);
        for (size_t f = 0; f < nfiles; f++) {
            if (ig_fs_is_dir(files[f])) continue;
            bool seen = false;
            for (size_t t = 0; t < ntaken && !seen; t++) seen = !strcmp(taken[t], files[f]);
            if (seen) continue;
            if (ntaken == takencap) taken = ig_realloc(taken, (takencap *= 2) * sizeof *taken);
            taken[ntaken++] = ig_strdup(files[f]);
            ig_ingest_opts o = streams[s].o;
            o.force = ro->force;
            o.tty = ro->tty;
            o.quiet = ro->quiet;
            ig_ingest_result res;
            ig_error e;
            ig_error_clear(&e);
            ig_rc r = ig_ingest_file(lake, wh, files[f], &o, &res, &e);
            if (r) {
                counts->failed++;
                if (!first) {
                    first = r;
                    if (err) *err = e;
                }
            } else if (res.outcome == IG_INGEST_UNCHANGED) {
                counts->unchanged++;
            } else {
                counts->loaded++;
                counts->rows += res.rows_accepted;
                counts->rejected += res.rows_rejected;
            }
            if (ro->report) ro->report(ro->report_ctx, files[f], &res, r, r ? &e : NULL);
        }
        globfree(&g);
    }
    for (size_t t = 0; t < ntaken; t++) free(taken[t]);
    free(taken);
    return first;
}

/* ---- http_file ---- */

typedef struct http_dl {
    ig_lake_batch *b;
    ig_error *err;
    ig_rc rc;
    uint64_t max_bytes;
    ig_buf etag, last_modified, content_type;
    ig_progress *prog;
} http_dl;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    http_dl *d = ud;
    size_t len = size * n;
    if (d->rc) return 0;
    if (d->max_bytes && ig_lake_batch_bytes(d->b) + len > d->max_bytes) {
        d->rc = ig_err(d->err, IG_ERR_LIMIT, "the download is larger than max_bytes (%llu)",
                       (unsigned long long)d->max_bytes);
        return 0;
    }
    d->rc = ig_lake_batch_write(d->b, p, len, d->err);
    return d->rc ? 0 : len;
}

static void header_value(ig_buf *out, const char *line, size_t n, const char *name)
{
    size_t k = strlen(name);
    if (n <= k + 1 || strncasecmp(line, name, k) || line[k] != ':') return;
    const char *v = line + k + 1;
    size_t vn = n - k - 1;
    while (vn && (*v == ' ' || *v == '\t')) v++, vn--;
    while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' ')) vn--;
    ig_buf_reset(out);
    ig_buf_append(out, v, vn);
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    http_dl *d = ud;
    size_t len = size * n;
    header_value(&d->etag, p, len, "ETag");
    header_value(&d->last_modified, p, len, "Last-Modified");
    header_value(&d->content_type, p, len, "Content-Type");
    return len;
}

static const char *format_from_content_type(const char *ct)
{
    if (!ct || !*ct) return NULL;
    if (strstr(ct, "text/csv")) return "csv";
    if (strstr(ct, "tab-separated")) return "tsv";
    if (strstr(ct, "ndjson") || strstr(ct, "jsonl")) return "ndjson";
    if (strstr(ct, "json")) return "json";
    if (strstr(ct, "spreadsheetml")) return "xlsx";
    if (strstr(ct, "parquet")) return "parquet";
    return NULL;
}

static ig_rc run_http(ig_arena *a, const ig_project *p, ig_lake *lake, ig_wh *wh, const char *name,
                      const ig_yaml *cfg, const ig_ingest_run_opts *ro, ig_ingest_counts *counts,
                      ig_error *err)
{
    char what[200], k[300];
    snprintf(what, sizeof what, "sources.%s", name);
    ig_rc rc = ig_yaml_check_keys(cfg, what, http_keys, err);
    if (rc) return rc;
    const ig_yaml *u = ig_yaml_get(cfg, "url");
    if (!u) return ig_yaml_error(cfg, err, "source '%s' (http_file) needs 'url:'", name);
    const char *url;
    snprintf(k, sizeof k, "%s.url", what);
    rc = ig_yaml_str(u, ig_arena_strdup(a, k), &url, err);
    if (rc) return rc;
    if (!ig_str_starts(url, "http://") && !ig_str_starts(url, "https://"))
        return ig_yaml_error(u, err, "%s: expected an http:// or https:// URL", k);
    ig_ingest_opts o;
    ig_ingest_opts_init(&o);
    o.source = name;
    o.stream = name;
    const ig_yaml *st = ig_yaml_get(cfg, "stream");
    if (st) {
        snprintf(k, sizeof k, "%s.stream", what);
        rc = ig_yaml_str(st, ig_arena_strdup(a, k), &o.stream, err);
        if (!rc && !ig_lake_name_valid(o.stream))
            rc = ig_yaml_error(st, err, "%s: '%s' is not a valid stream name", k, o.stream);
        if (rc) return rc;
    }
    rc = read_options(a, cfg, what, &o, err);
    if (rc) return rc;
    long timeout = 300, max_bytes = 0;
    const ig_yaml *v;
    if ((v = ig_yaml_get(cfg, "timeout"))) {
        snprintf(k, sizeof k, "%s.timeout", what);
        if ((rc = ig_yaml_int(v, k, &timeout, err))) return rc;
    }
    if ((v = ig_yaml_get(cfg, "max_bytes"))) {
        snprintf(k, sizeof k, "%s.max_bytes", what);
        if ((rc = ig_yaml_int(v, k, &max_bytes, err))) return rc;
    }
    o.force = ro->force;
    o.tty = ro->tty;
    o.quiet = ro->quiet;
    /* the previous response's validators, when the URL is the same */
    char *state = NULL;
    rc = ig_lake_state_get(wh, name, o.stream, "http", &state, err);
    if (rc) return rc;
    json_t *prev = state ? json_loads(state, 0, NULL) : NULL;
    free(state);
    const char *prev_url = json_string_value(json_object_get(prev, "url"));
    struct curl_slist *hdrs = NULL;
    if (prev && prev_url && !strcmp(prev_url, url) && !o.force) {
        const char *etag = json_string_value(json_object_get(prev, "etag"));
        const char *lm = json_string_value(json_object_get(prev, "last_modified"));
        char h[1200];
        if (etag && *etag) {
            snprintf(h, sizeof h, "If-None-Match: %s", etag);
            hdrs = curl_slist_append(hdrs, h);
        }
        if (lm && *lm) {
            snprintf(h, sizeof h, "If-Modified-Since: %s", lm);
            hdrs = curl_slist_append(hdrs, h);
        }
    }
    json_decref(prev);
    const ig_yaml *hy = ig_yaml_get(cfg, "headers");
    if (hy && hy->kind == IG_Y_MAP) {
        for (size_t i = 0; i < hy->n; i++) {
            const char *hv;
            snprintf(k, sizeof k, "%s.headers.%s", what, hy->keys[i]->str);
            if ((rc = ig_yaml_str(hy->items[i], ig_arena_strdup(a, k), &hv, err))) {
                curl_slist_free_all(hdrs);
                return rc;
            }
            char *h = ig_asprintf("%s: %s", hy->keys[i]->str, hv);
            hdrs = curl_slist_append(hdrs, h);
            free(h);
        }
    }
    /* the name the file lands under: the URL's last path part */
    const char *path_start = strstr(url, "://") + 3;
    const char *slash = strchr(path_start, '/');
    char base[256] = "download";
    if (slash) {
        const char *end = slash + strcspn(slash, "?#");
        const char *last = end;
        while (last > slash && last[-1] != '/') last--;
        if (end > last) snprintf(base, sizeof base, "%.*s", (int)(end - last), last);
    }
    ig_lake_batch *b;
    rc = ig_lake_batch_begin(lake, name, o.stream, base, &b, err);
    if (rc) {
        curl_slist_free_all(hdrs);
        return rc;
    }
    ig_lake_batch_set_origin(b, url, -1, 0);
    http_dl d = {.b = b, .err = err, .max_bytes = (uint64_t)max_bytes};
    ig_buf_init(&d.etag, 1024);
    ig_buf_init(&d.last_modified, 256);
    ig_buf_init(&d.content_type, 256);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "ingot");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &d);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    ig_ingest_result res;
    memset(&res, 0, sizeof res);
    snprintf(res.stream, sizeof res.stream, "%s", o.stream);
    if (d.rc) rc = d.rc;
    else if (cc != CURLE_OK) {
        rc = ig_err(err, IG_ERR_NETWORK, "cannot fetch %s: %s", url, cerr[0] ? cerr : curl_easy_strerror(cc));
        ig_err_hint(err, "check the URL and the network; the last loaded version stays in bronze");
    } else if (status == 304) {
        res.outcome = IG_INGEST_UNCHANGED;
        ig_lake_batch_free(b);
        b = NULL;
        counts->unchanged++;
        if (ro->report) ro->report(ro->report_ctx, url, &res, IG_OK, NULL);
    } else if (status < 200 || status >= 300) {
        rc = ig_err(err, status == 401 || status == 403 ? IG_ERR_AUTH : IG_ERR_NETWORK,
                    "%s answered HTTP %ld", url, status);
        ig_err_hint(err, status == 404 ? "check the URL (is the file still published?)"
                         : status == 401 || status == 403 ? "the server refused access: check headers / credentials"
                                                          : "try again later");
    } else {
        if (!o.format || !strcmp(o.format, "auto")) {
            o.format = ig_ingest_format_from_name(base);
            if (!o.format) o.format = format_from_content_type(d.content_type.data);
            if (!o.format) o.format = "csv";
        }
        json_t *sj = json_object(), *hs = json_object();
        json_object_set_new(hs, "url", json_string(url));
        if (d.etag.len) json_object_set_new(hs, "etag", json_string(d.etag.data));
        if (d.last_modified.len) json_object_set_new(hs, "last_modified", json_string(d.last_modified.data));
        json_object_set_new(sj, "http", hs);
        char *sjs = json_dumps(sj, JSON_COMPACT);
        json_decref(sj);
        o.state_json = sjs;
        o.original_name = base;
        rc = ig_ingest_batch(lake, wh, b, &o, &res, err);
        b = NULL;
        free(sjs);
        if (rc) counts->failed++;
        else if (res.outcome == IG_INGEST_UNCHANGED) counts->unchanged++;
        else {
            counts->loaded++;
            counts->rows += res.rows_accepted;
            counts->rejected += res.rows_rejected;
        }
        if (ro->report) ro->report(ro->report_ctx, url, &res, rc, rc ? err : NULL);
        rc = rc ? rc : IG_OK;
    }
    if (rc && b && ro->report) {
        counts->failed++;
        ro->report(ro->report_ctx, url, &res, rc, err);
    }
    ig_lake_batch_free(b);
    ig_buf_free(&d.etag);
    ig_buf_free(&d.last_modified);
    ig_buf_free(&d.content_type);
    return rc;
}

ig_rc ig_ingest_source_check(ig_arena *a, const ig_project *p, const char *name, ig_error *err)
{
    const ig_yaml *cfg = source_cfg(p, name);
    const char *t = source_type(cfg);
    if (!t) return ig_err(err, IG_ERR_NOT_FOUND, "no file source '%s' in %s", name, IG_PROJECT_FILE);
    if (!strcmp(t, "files")) {
        const char *dir;
        fstream *s;
        size_t n;
        return read_files_source(a, p, name, cfg, &dir, &s, &n, err);
    }
    char what[200];
    snprintf(what, sizeof what, "sources.%s", name);
    ig_rc rc = ig_yaml_check_keys(cfg, what, http_keys, err);
    if (rc) return rc;
    ig_ingest_opts o;
    ig_ingest_opts_init(&o);
    return read_options(a, cfg, what, &o, err);
}

ig_rc ig_ingest_source(ig_arena *a, const ig_project *p, ig_lake *lake, ig_wh *wh,
                       const char *name, const ig_ingest_run_opts *ro, ig_ingest_counts *counts,
                       ig_error *err)
{
    const ig_yaml *cfg = source_cfg(p, name);
    const char *t = source_type(cfg);
    if (!cfg) {
        ig_err(err, IG_ERR_NOT_FOUND, "no source '%s' in %s", name, IG_PROJECT_FILE);
        const char **names;
        size_t n = ig_ingest_file_sources(a, p, &names);
        const char *s = ig_str_suggest(name, names, n);
        if (s) ig_err_hint(err, "did you mean '%s'?", s);
        else ig_err_hint(err, "add it under 'sources:' with type: files or type: http_file "
                              "(docs/ingest.md), or use 'ingot ingest file PATH --source %s'", name);
        return IG_ERR_NOT_FOUND;
    }
    if (!t || (strcmp(t, "files") && strcmp(t, "http_file"))) {
        ig_yaml_error(cfg, err, "source '%s' is of type '%s', not files or http_file", name, t ? t : "?");
        ig_err_hint(err, "connector sources run with 'ingot source sync %s'", name);
        return IG_ERR_USAGE;
    }
    if (!strcmp(t, "files")) return run_files(a, p, lake, wh, name, cfg, ro, counts, err);
    return run_http(a, p, lake, wh, name, cfg, ro, counts, err);
}
