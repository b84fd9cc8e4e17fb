/* File ingestion: from a path (or a batch a caller wrote) to a landed raw
 * file and a bronze load, exactly once. See ingest.h. */
#include "ingest/files/ingest_int.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "warehouse/runs.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const formats[] = {"csv", "tsv", "json", "ndjson", "parquet", "xlsx", NULL};

void ig_ingest_opts_init(ig_ingest_opts *o)
{
    memset(o, 0, sizeof *o);
    o->header = -1;
    o->max_bad_rows = -1;
    o->max_bad_fraction = 0.1;
    o->tty = -1;
}

bool ig_ingest_format_valid(const char *fmt)
{
    for (size_t i = 0; fmt && formats[i]; i++)
        if (!strcmp(fmt, formats[i])) return true;
    return false;
}

const char *ig_ingest_format_from_name(const char *name)
{
    static const char *ext[][2] = {{".csv", "csv"},         {".tsv", "tsv"},   {".tab", "tsv"},
                                   {".txt", "csv"},         {".json", "json"}, {".ndjson", "ndjson"},
                                   {".jsonl", "ndjson"},    {".parquet", "parquet"},
                                   {".pq", "parquet"},      {".xlsx", "xlsx"}, {".xlsm", "xlsx"}};
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    char b[512];
    snprintf(b, sizeof b, "%s", base);
    char *q = strchr(b, '?');
    if (q) *q = '\0';
    char *dot = strrchr(b, '.');
    if (dot && (!strcasecmp(dot, ".gz") || !strcasecmp(dot, ".zst"))) {
        *dot = '\0';
        dot = strrchr(b, '.');
    }
    for (size_t i = 0; dot && i < sizeof ext / sizeof ext[0]; i++)
        if (!strcasecmp(dot, ext[i][0])) return ext[i][1];
    return NULL;
}

/* The format from the first bytes, for files named without a known
 * extension. */
static const char *format_from_content(const char *path)
{
    unsigned char h[8] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "csv";
    ssize_t n = read(fd, h, sizeof h);
    close(fd);
    if (n >= 4 && !memcmp(h, "PAR1", 4)) return "parquet";
    if (n >= 4 && !memcmp(h, "PK\x03\x04", 4)) return "xlsx";
    size_t i = 0;
    if (n >= 3 && h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF) i = 3;
    while (i < (size_t)n && (h[i] == ' ' || h[i] == '\n' || h[i] == '\r' || h[i] == '\t')) i++;
    if (i < (size_t)n && h[i] == '{') return "ndjson";
    if (i < (size_t)n && h[i] == '[') return "json";
    return "csv";
}

/* A stream name from a file name: the stem without extensions. */
static void stream_from_name(const char *name, char *out, size_t n)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    char b[512];
    snprintf(b, sizeof b, "%s", base);
    for (int k = 0; k < 2; k++) {
        char *dot = strrchr(b, '.');
        if (dot && dot != b && strlen(dot) <= 8) *dot = '\0';
    }
    ig_lake_name_from(b, out, n);
}

/* ---- options <-> JSON ---- */

char *ig_ingest_opts_to_json(const ig_ingest_opts *o)
{
    json_t *j = json_object();
#define S(k, v) if (v) json_object_set_new(j, k, json_string(v))
    S("format", o->format);
    S("sheet", o->sheet);
    S("delimiter", o->delimiter);
    S("quote", o->quote);
    S("escape", o->escape);
    S("null", o->null_str);
    S("date_format", o->date_format);
    S("timestamp_format", o->timestamp_format);
    S("encoding", o->encoding);
#undef S
    if (o->header_row > 0) json_object_set_new(j, "header_row", json_integer(o->header_row));
    if (o->header >= 0) json_object_set_new(j, "header", json_boolean(o->header));
    if (o->skip_rows > 0) json_object_set_new(j, "skip_rows", json_integer(o->skip_rows));
    if (o->all_varchar) json_object_set_new(j, "all_varchar", json_true());
    if (o->null_padding) json_object_set_new(j, "null_padding", json_true());
    if (o->ntypes) {
        json_t *t = json_object();
        for (size_t i = 0; i < o->ntypes; i++)
            json_object_set_new(t, o->types[i].name, json_string(o->types[i].type));
        json_object_set_new(j, "columns", t);
    }
    json_object_set_new(j, "max_bad_rows", json_integer(o->max_bad_rows));
    json_object_set_new(j, "max_bad_fraction", json_real(o->max_bad_fraction));
    if (o->external) json_object_set_new(j, "external", json_true());
    if (o->force) json_object_set_new(j, "force", json_true());
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    json_decref(j);
    return s;
}

ig_rc ig_ingest_opts_from_json(ig_arena *a, const char *text, ig_ingest_opts *o, ig_error *err)
{
    if (!text) return IG_OK;
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!json_is_object(j)) {
        json_decref(j);
        return ig_err(err, IG_ERR_DATA, "the load options of a batch are not a JSON object");
    }
#define S(k, f)                                                                  \
    do {                                                                         \
        json_t *v = json_object_get(j, k);                                       \
        if (json_is_string(v)) o->f = ig_arena_strdup(a, json_string_value(v)); \
    } while (0)
    S("format", format);
    S("sheet", sheet);
    S("delimiter", delimiter);
    S("quote", quote);
    S("escape", escape);
    S("null", null_str);
    S("date_format", date_format);
    S("timestamp_format", timestamp_format);
    S("encoding", encoding);
#undef S
    json_t *v;
    if (json_is_integer(v = json_object_get(j, "header_row"))) o->header_row = (long)json_integer_value(v);
    if (json_is_boolean(v = json_object_get(j, "header"))) o->header = json_is_true(v);
    if (json_is_integer(v = json_object_get(j, "skip_rows"))) o->skip_rows = (long)json_integer_value(v);
    o->all_varchar = json_is_true(json_object_get(j, "all_varchar"));
    o->null_padding = json_is_true(json_object_get(j, "null_padding"));
    o->external = json_is_true(json_object_get(j, "external"));
    o->force = json_is_true(json_object_get(j, "force"));
    if (json_is_integer(v = json_object_get(j, "max_bad_rows"))) o->max_bad_rows = (long)json_integer_value(v);
    if (json_is_number(v = json_object_get(j, "max_bad_fraction"))) o->max_bad_fraction = json_number_value(v);
    json_t *t = json_object_get(j, "columns");
    if (json_is_object(t) && json_object_size(t)) {
        ig_wh_coltype *ct = ig_arena_zalloc(a, json_object_size(t) * sizeof *ct);
        size_t k = 0;
        const char *key;
        json_object_foreach(t, key, v) {
            if (!json_is_string(v)) continue;
            ct[k].name = ig_arena_strdup(a, key);
            ct[k].type = ig_arena_strdup(a, json_string_value(v));
            k++;
        }
        o->types = ct;
        o->ntypes = k;
    }
    json_decref(j);
    return IG_OK;
}

/* ---- loading ---- */

static void fill_result(ig_ingest_result *res, const ig_lake_manifest *m)
{
    snprintf(res->batch_id, sizeof res->batch_id, "%s", m->batch_id);
    snprintf(res->stream, sizeof res->stream, "%s", m->stream);
    snprintf(res->relation, sizeof res->relation, "%s", m->relation ? m->relation : "");
    snprintf(res->raw_path, sizeof res->raw_path, "%s", m->raw_path);
    memcpy(res->sha256, m->sha256, sizeof res->sha256);
    res->bytes = m->bytes;
    res->rows_accepted = m->rows_accepted < 0 ? 0 : m->rows_accepted;
    res->rows_rejected = m->rows_rejected < 0 ? 0 : m->rows_rejected;
}

static ig_rc load_with(ig_lake *lake, ig_wh *wh, ig_lake_manifest *m, const ig_ingest_opts *o,
                       ig_progress *prog, const char *run_id, ig_ingest_result *res, ig_error *err)
{
    const ig_wh_ingest_dialect *d = ig_wh_ingest_dialect_of(wh);
    if (!d)
        return ig_err(err, IG_ERR_USAGE, "the %s warehouse cannot load files yet",
                      ig_wh_driver_name(wh));
    const char *fmt = m->format ? m->format : o->format;
    if (!ig_ingest_format_valid(fmt))
        return ig_err(err, IG_ERR_DATA, "batch %s has no known format (%s)", m->batch_id,
                      fmt ? fmt : "none");
    ig__load_ctx lc = {.o = o, .format = fmt, .d = d, .prog = prog, .tmp_dir = ig_lake_tmp_dir(lake)};
    if (prog) ig_progress_set_phase(prog, "loading");
    ig_rc rc = ig_lake_commit(lake, wh, m, ig__ingest_load_fn, &lc, run_id, err);
    ig__load_ctx_free(&lc);
    fill_result(res, m);
    res->outcome = rc ? IG_INGEST_FAILED : IG_INGEST_LOADED;
    return rc;
}

typedef struct task {
    ig_wh_run run;
    bool have_run;
    ig_progress *prog;
} task;

static void task_start(task *t, ig_wh *wh, const ig_ingest_opts *o, const char *source,
                       const char *stream, uint64_t total)
{
    char name[160];
    snprintf(name, sizeof name, "%s.%s", source, stream);
    ig_error e;
    ig_error_clear(&e);
    t->have_run = !o->run_id;
    if (t->have_run && ig_wh_run_start(wh, &t->run, "ingest", name, &e)) {
        ig_warn("runs.record", "could not record the run in ingot.runs: %s", e.message);
        t->have_run = false;
    }
    t->prog = ig_progress_start(&(ig_progress_opts){
        .kind = "ingest", .name = name, .total_bytes = total, .tty = o->tty, .quiet = o->quiet,
        .sink = t->have_run ? ig_wh_run_sink : NULL, .sink_ctx = &t->run});
}

static const char *task_run_id(const task *t, const ig_ingest_opts *o)
{
    return t->have_run ? t->run.id : o->run_id;
}

static void task_finish(task *t, ig_rc rc, const ig_ingest_result *res, const ig_error *err)
{
    char details[512];
    snprintf(details, sizeof details,
             "{\"batch_id\":\"%s\",\"relation\":\"%s\",\"rows_rejected\":%lld,\"outcome\":\"%s\"}",
             res->batch_id, res->relation, (long long)res->rows_rejected,
             res->outcome == IG_INGEST_LOADED ? "loaded"
             : res->outcome == IG_INGEST_UNCHANGED ? "unchanged" : "failed");
    const char *status = rc ? "failed" : res->outcome == IG_INGEST_UNCHANGED ? "skipped" : "ok";
    ig_progress_finish(t->prog, status, (uint64_t)res->rows_accepted, res->bytes,
                       rc && err ? err->message : NULL, details);
    t->prog = NULL;
}

ig_rc ig_ingest_load_landed(ig_lake *lake, ig_wh *wh, ig_lake_manifest *m, const char *run_id,
                            ig_ingest_result *res, ig_error *err)
{
    memset(res, 0, sizeof *res);
    ig_arena *a = ig_arena_new();
    ig_ingest_opts o;
    ig_ingest_opts_init(&o);
    o.run_id = run_id;
    ig_rc rc = ig_ingest_opts_from_json(a, m->options_json, &o, err);
    if (!rc && !o.force) {
        bool found = false;
        char other[40];
        rc = ig_lake_find_loaded(wh, m->source, m->stream, m->sha256, &found, other, err);
        if (!rc && found && strcmp(other, m->batch_id)) {
            char msg[120];
            snprintf(msg, sizeof msg, "same content as batch %s", other);
            rc = ig_lake_record(wh, m, "duplicate", msg, run_id, err);
            fill_result(res, m);
            snprintf(res->batch_id, sizeof res->batch_id, "%s", other);
            res->outcome = IG_INGEST_UNCHANGED;
            ig_arena_free(a);
            return rc;
        }
    }
    if (!rc) rc = load_with(lake, wh, m, &o, NULL, run_id, res, err);
    ig_arena_free(a);
    return rc;
}

ig_rc ig_ingest_batch(ig_lake *lake, ig_wh *wh, ig_lake_batch *b, const ig_ingest_opts *o,
                      ig_ingest_result *res, ig_error *err)
{
    memset(res, 0, sizeof *res);
    const char *fmt = o->format && strcmp(o->format, "auto") ? o->format
                      : o->original_name ? ig_ingest_format_from_name(o->original_name) : NULL;
    ig_rc rc = ig_lake_batch_seal(b, err);
    if (!rc && !fmt)
        rc = ig_err(err, IG_ERR_USAGE, "the format of %s is not known",
                    o->original_name ? o->original_name : "the batch");
    if (!rc && !ig_ingest_format_valid(fmt))
        rc = ig_err(err, IG_ERR_USAGE, "unknown format '%s'", fmt);
    if (rc) {
        ig_lake_batch_free(b);
        return rc;
    }
    if (!o->force) {
        bool found = false;
        char other[40];
        /* the stream is in the batch: take it from its manifest later; here
         * from the options (callers of ig_ingest_batch set it) */
        rc = ig_lake_find_loaded(wh, o->source, o->stream, ig_lake_batch_sha256(b), &found, other, err);
        if (!rc && found) {
            res->outcome = IG_INGEST_UNCHANGED;
            snprintf(res->batch_id, sizeof res->batch_id, "%s", other);
            snprintf(res->stream, sizeof res->stream, "%s", o->stream);
            memcpy(res->sha256, ig_lake_batch_sha256(b), sizeof res->sha256);
            res->bytes = ig_lake_batch_bytes(b);
            ig_lake_batch_free(b);
            return IG_OK;
        }
        if (rc) {
            ig_lake_batch_free(b);
            return rc;
        }
    }
    ig_ingest_opts oo = *o;
    oo.format = fmt;
    char *opts = ig_ingest_opts_to_json(&oo);
    ig_lake_manifest *m = NULL;
    rc = ig_lake_batch_land(b, fmt, opts, o->state_json, &m, err);
    free(opts);
    if (!rc) {
        m = ig_lake_batch_take_manifest(b);
        task t = {0};
        task_start(&t, wh, o, m->source, m->stream, m->bytes);
        rc = load_with(lake, wh, m, &oo, t.prog, task_run_id(&t, o), res, err);
        task_finish(&t, rc, res, err);
        ig_lake_manifest_free(m);
    }
    ig_lake_batch_free(b);
    return rc;
}

ig_rc ig_ingest_file(ig_lake *lake, ig_wh *wh, const char *path, const ig_ingest_opts *o,
                     ig_ingest_result *res, ig_error *err)
{
    memset(res, 0, sizeof *res);
    if (!o->source || !ig_lake_name_valid(o->source)) {
        ig_err(err, IG_ERR_USAGE, "'%s' is not a valid source name", o->source ? o->source : "");
        ig_err_hint(err, "use lower-case letters, digits and '_', starting with a letter");
        return IG_ERR_USAGE;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        int code = errno == ENOENT ? IG_ERR_NOT_FOUND : IG_ERR_IO;
        ig_err(err, code, "cannot read %s: %s", path, strerror(errno));
        if (code == IG_ERR_NOT_FOUND) ig_err_hint(err, "check the path; globs like 'drop/*.csv' are allowed");
        return code;
    }
    if (S_ISDIR(st.st_mode)) {
        ig_err(err, IG_ERR_USAGE, "%s is a folder", path);
        ig_err_hint(err, "give the files in it, e.g. '%s/*.csv', or configure a files source", path);
        return IG_ERR_USAGE;
    }
    char stream[64];
    if (o->stream) {
        if (!ig_lake_name_valid(o->stream)) {
            ig_err(err, IG_ERR_USAGE, "'%s' is not a valid stream name", o->stream);
            char s[64];
            ig_lake_name_from(o->stream, s, sizeof s);
            ig_err_hint(err, "use lower-case letters, digits and '_', e.g. '%s'", s);
            return IG_ERR_USAGE;
        }
        snprintf(stream, sizeof stream, "%s", o->stream);
    } else {
        stream_from_name(path, stream, sizeof stream);
    }
    const char *fmt = o->format && strcmp(o->format, "auto") ? o->format : NULL;
    if (fmt && !ig_ingest_format_valid(fmt)) {
        ig_err(err, IG_ERR_USAGE, "unknown format '%s'", fmt);
        ig_err_hint(err, "use auto, csv, tsv, json, ndjson, parquet or xlsx");
        return IG_ERR_USAGE;
    }
    if (!fmt) fmt = ig_ingest_format_from_name(path);
    if (!fmt) fmt = format_from_content(path);
    snprintf(res->stream, sizeof res->stream, "%s", stream);
    char *real = ig_path_real(path);
    int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
    ig_rc rc = IG_OK;
    if (!o->force) {
        /* cheap check first: the same file, unchanged since it was loaded */
        bool found = false;
        rc = ig_lake_find_loaded_origin(wh, o->source, stream, real ? real : path, (int64_t)st.st_size,
                                        mtime, &found, res->batch_id, err);
        if (!rc && found) {
            res->outcome = IG_INGEST_UNCHANGED;
            res->bytes = (uint64_t)st.st_size;
            free(real);
            return IG_OK;
        }
        if (rc) {
            free(real);
            return rc;
        }
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    ig_lake_batch *b;
    rc = ig_lake_batch_begin(lake, o->source, stream, o->original_name ? o->original_name : base, &b, err);
    if (rc) {
        free(real);
        return rc;
    }
    ig_lake_batch_set_origin(b, real ? real : path, (int64_t)st.st_size, mtime);
    free(real);
    task t = {0};
    task_start(&t, wh, o, o->source, stream, (uint64_t)st.st_size);
    ig_progress_set_phase(t.prog, "landing");
    rc = ig_lake_batch_copy_file(b, path, t.prog, err);
    if (!rc) rc = ig_lake_batch_seal(b, err);
    if (!rc && !o->force) {
        bool found = false;
        rc = ig_lake_find_loaded(wh, o->source, stream, ig_lake_batch_sha256(b), &found, res->batch_id, err);
        if (!rc && found) {
            res->outcome = IG_INGEST_UNCHANGED;
            memcpy(res->sha256, ig_lake_batch_sha256(b), sizeof res->sha256);
            res->bytes = ig_lake_batch_bytes(b);
            ig_lake_batch_free(b);
            task_finish(&t, IG_OK, res, NULL);
            return IG_OK;
        }
    }
    ig_ingest_opts oo = *o;
    oo.format = fmt;
    oo.stream = stream;
    ig_lake_manifest *m = NULL;
    if (!rc) {
        char *opts = ig_ingest_opts_to_json(&oo);
        rc = ig_lake_batch_land(b, fmt, opts, o->state_json, &m, err);
        free(opts);
    }
    if (!rc) {
        m = ig_lake_batch_take_manifest(b);
        rc = load_with(lake, wh, m, &oo, t.prog, task_run_id(&t, o), res, err);
        ig_lake_manifest_free(m);
    } else {
        res->outcome = IG_INGEST_FAILED;
    }
    ig_lake_batch_free(b);
    task_finish(&t, rc, res, err);
    return rc;
}

ig_rc ig_ingest_recover(ig_lake *lake, ig_wh *wh, const char *source, size_t *nloaded,
                        size_t *nfailed, ig_error *err)
{
    ig_lake_manifest **ms;
    size_t n;
    *nloaded = *nfailed = 0;
    ig_rc rc = ig_lake_pending(lake, wh, source, false, &ms, &n, err);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
        ig_ingest_result res;
        ig_error e;
        ig_error_clear(&e);
        ig_info("ingest.recover", "loading batch %s (%s.%s, %s) left by an earlier run",
                ms[i]->batch_id, ms[i]->source, ms[i]->stream,
                ms[i]->original_name ? ms[i]->original_name : "");
        if (ig_ingest_load_landed(lake, wh, ms[i], NULL, &res, &e)) {
            (*nfailed)++;
            ig_warn("ingest.recover", "batch %s failed to load: %s", ms[i]->batch_id, e.message);
        } else if (res.outcome == IG_INGEST_LOADED) {
            (*nloaded)++;
        }
    }
    ig_lake_manifests_free(ms, n);
    return IG_OK;
}
