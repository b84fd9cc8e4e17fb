/* The raw zone: landing batches (temporary file, SHA-256 in the same pass,
 * fsync, rename, manifest) and loading them exactly once (one transaction
 * with ingot.loads), with recovery after a crash. See lake.h and
 * docs/internals/lake.md. */
#include "lake/lake.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "warehouse/runs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ID_LEN 30 /* "20261125T070600123456-9f3a1c2e" */
#define COPY_CHUNK ((size_t)4 << 20)

struct ig_lake {
    char *root, *raw, *tmp;
};

struct ig_lake_batch {
    ig_lake *lake;
    char id[40];
    char *source, *stream, *original_name, *safe_name;
    char *dir, *tmp_path, *final_path;
    char *origin_uri;
    int64_t origin_size, origin_mtime_us;
    int fd;
    EVP_MD_CTX *md;
    uint64_t bytes;
    char sha256[65];
    int64_t received_us;
    bool sealed, landed;
    ig_lake_manifest *manifest;
};

/* ---- names ---- */

bool ig_lake_name_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 63) return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

void ig_lake_name_from(const char *s, char *out, size_t size)
{
    size_t o = 0;
    bool sep = false;
    if (size < 8) {
        if (size) out[0] = '\0';
        return;
    }
    for (const char *p = s; *p && o + 2 < size && o < 63; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (sep && o) out[o++] = '_';
            sep = false;
            if (o == 0 && c >= '0' && c <= '9') {
                out[o++] = 's';
                out[o++] = '_';
            }
            out[o++] = c;
        } else {
            sep = true;
        }
    }
    out[o] = '\0';
    if (!o) snprintf(out, size, "stream");
}

/* The file-name part of a raw file: the last path component of `name`,
 * bytes outside [A-Za-z0-9._-] and valid UTF-8 replaced by '_', no leading
 * dot, at most ~120 bytes keeping the extension. Caller frees. */
static char *safe_file_name(const char *name)
{
    const char *base = name;
    for (const char *p = name; *p; p++)
        if (*p == '/' || *p == '\\') base = p + 1;
    size_t n = strlen(base);
    char *out = ig_malloc(n + 8);
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)base[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
            c == '-' || c == '_') {
            out[o++] = (char)c;
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            if (i + len <= n && len > 1 && ig_utf8_valid(base + i, len)) {
                memcpy(out + o, base + i, len);
                o += len;
                i += len;
                continue;
            }
        }
        out[o++] = '_';
        i++;
    }
    out[o] = '\0';
    if (out[0] == '.') out[0] = '_';
    if (!o) {
        free(out);
        return ig_strdup("data");
    }
    if (o > 120) {
        const char *dot = strrchr(out, '.');
        size_t ext = dot && strlen(dot) <= 16 ? strlen(dot) : 0;
        size_t keep = ig_utf8_fit(out, 100, 100);
        char *s = ig_asprintf("%.*s%s", (int)keep, out, ext ? dot : "");
        free(out);
        return s;
    }
    return out;
}

/* ---- lake ---- */

ig_rc ig_lake_open(const char *path, ig_lake **out, ig_error *err)
{
    ig_lake *l = ig_calloc(1, sizeof *l);
    l->root = ig_strdup(path);
    l->raw = ig_path_join(path, "raw");
    l->tmp = ig_path_join(path, "tmp");
    ig_rc rc = ig_fs_mkdirs(l->raw, err);
    if (!rc) rc = ig_fs_mkdirs(l->tmp, err);
    if (rc) {
        ig_err_prefix(err, "cannot create the lake at %s", path);
        ig_lake_close(l);
        return rc;
    }
    *out = l;
    return IG_OK;
}

void ig_lake_close(ig_lake *l)
{
    if (!l) return;
    free(l->root);
    free(l->raw);
    free(l->tmp);
    free(l);
}

const char *ig_lake_raw_dir(const ig_lake *l) { return l->raw; }
const char *ig_lake_tmp_dir(const ig_lake *l) { return l->tmp; }

/* ---- manifests ---- */

void ig_lake_manifest_free(ig_lake_manifest *m)
{
    if (!m) return;
    free(m->source);
    free(m->stream);
    free(m->original_name);
    free(m->source_uri);
    free(m->raw_path);
    free(m->manifest_path);
    free(m->format);
    free(m->status);
    free(m->message);
    free(m->relation);
    free(m->options_json);
    free(m->state_json);
    free(m->schema_json);
    free(m);
}

void ig_lake_manifests_free(ig_lake_manifest **m, size_t n)
{
    for (size_t i = 0; i < n; i++) ig_lake_manifest_free(m[i]);
    free(m);
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = v ? ig_strdup(v) : NULL;
}

static json_t *json_text_or_null(const char *s)
{
    if (!s) return json_null();
    json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
    return j ? j : json_string(s);
}

static json_t *iso_or_null(int64_t us)
{
    if (!us) return json_null();
    char buf[40];
    ig_format_iso(us, buf, sizeof buf);
    return json_string(buf);
}

static int64_t parse_iso(const char *s)
{
    if (!s) return 0;
    struct tm tm = {0};
    long frac = 0;
    int y, mo, d, h, mi, sec;
    if (sscanf(s, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec) != 6) return 0;
    const char *dot = strchr(s, '.');
    if (dot) {
        char digits[7] = "000000";
        for (int i = 0; i < 6 && dot[1 + i] >= '0' && dot[1 + i] <= '9'; i++) digits[i] = dot[1 + i];
        frac = strtol(digits, NULL, 10);
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    return (int64_t)timegm(&tm) * 1000000 + frac;
}

static char *base_name_dup(const char *path)
{
    const char *s = strrchr(path, '/');
    return ig_strdup(s ? s + 1 : path);
}

ig_rc ig_lake_manifest_write(const ig_lake_manifest *m, ig_error *err)
{
    json_t *j = json_object();
    char *raw_file = base_name_dup(m->raw_path);
    json_object_set_new(j, "batch_id", json_string(m->batch_id));
    json_object_set_new(j, "source", json_string(m->source));
    json_object_set_new(j, "stream", json_string(m->stream));
    json_object_set_new(j, "original_name", m->original_name ? json_string(m->original_name) : json_null());
    json_object_set_new(j, "source_uri", m->source_uri ? json_string(m->source_uri) : json_null());
    json_object_set_new(j, "source_size", m->source_size >= 0 ? json_integer(m->source_size) : json_null());
    json_object_set_new(j, "source_mtime", iso_or_null(m->source_mtime_us));
    json_object_set_new(j, "raw_file", json_string(raw_file));
    json_object_set_new(j, "format", m->format ? json_string(m->format) : json_null());
    json_object_set_new(j, "bytes", json_integer((json_int_t)m->bytes));
    json_object_set_new(j, "sha256", json_string(m->sha256));
    json_object_set_new(j, "received_at", iso_or_null(m->received_us));
    json_object_set_new(j, "loaded_at", iso_or_null(m->loaded_us));
    json_object_set_new(j, "rows_accepted", m->rows_accepted >= 0 ? json_integer(m->rows_accepted) : json_null());
    json_object_set_new(j, "rows_rejected", m->rows_rejected >= 0 ? json_integer(m->rows_rejected) : json_null());
    json_object_set_new(j, "status", json_string(m->status ? m->status : "landed"));
    json_object_set_new(j, "message", m->message ? json_string(m->message) : json_null());
    json_object_set_new(j, "relation", m->relation ? json_string(m->relation) : json_null());
    json_object_set_new(j, "options", json_text_or_null(m->options_json));
    json_object_set_new(j, "state", json_text_or_null(m->state_json));
    json_object_set_new(j, "schema", json_text_or_null(m->schema_json));
    free(raw_file);
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(j);
    if (!text) return ig_err(err, IG_ERR_INTERNAL, "cannot encode the manifest of batch %s", m->batch_id);
    size_t len = strlen(text);
    text = realloc(text, len + 2);
    text[len] = '\n';
    text[len + 1] = '\0';
    ig_rc rc = ig_fs_write_atomic(m->manifest_path, text, len + 1, 0644, err);
    free(text);
    return rc;
}

static char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? ig_strdup(json_string_value(v)) : NULL;
}

static char *jdump(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) return NULL;
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
}

static int64_t jint(json_t *o, const char *k, int64_t dflt)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

ig_rc ig_lake_manifest_read(const char *path, ig_lake_manifest **out, ig_error *err)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        ig_err(err, IG_ERR_DATA, "%s is not a batch manifest: %s", path, je.text);
        ig_err_at(err, path, je.line > 0 ? je.line : 0, je.column > 0 ? je.column : 0);
        return IG_ERR_DATA;
    }
    ig_lake_manifest *m = ig_calloc(1, sizeof *m);
    char *id = jstr(j, "batch_id"), *raw = jstr(j, "raw_file"), *sha = jstr(j, "sha256");
    m->source = jstr(j, "source");
    m->stream = jstr(j, "stream");
    if (!id || strlen(id) >= sizeof m->batch_id || !raw || strchr(raw, '/') || !sha ||
        strlen(sha) != 64 || !m->source || !m->stream) {
        free(id);
        free(raw);
        free(sha);
        json_decref(j);
        ig_lake_manifest_free(m);
        return ig_err(err, IG_ERR_DATA, "%s is not a batch manifest (a required key is missing)", path);
    }
    snprintf(m->batch_id, sizeof m->batch_id, "%s", id);
    memcpy(m->sha256, sha, 65);
    char *dir = ig_path_dirname(path);
    m->raw_path = ig_path_join(dir, raw);
    free(dir);
    free(id);
    free(raw);
    free(sha);
    m->manifest_path = ig_strdup(path);
    m->original_name = jstr(j, "original_name");
    m->source_uri = jstr(j, "source_uri");
    m->source_size = jint(j, "source_size", -1);
    char *t = jstr(j, "source_mtime");
    m->source_mtime_us = parse_iso(t);
    free(t);
    m->format = jstr(j, "format");
    m->bytes = (uint64_t)jint(j, "bytes", 0);
    t = jstr(j, "received_at");
    m->received_us = parse_iso(t);
    free(t);
    t = jstr(j, "loaded_at");
    m->loaded_us = parse_iso(t);
    free(t);
    m->rows_accepted = jint(j, "rows_accepted", -1);
    m->rows_rejected = jint(j, "rows_rejected", -1);
    m->status = jstr(j, "status");
    if (!m->status) m->status = ig_strdup("landed");
    m->message = jstr(j, "message");
    m->relation = jstr(j, "relation");
    m->options_json = jdump(j, "options");
    m->state_json = jdump(j, "state");
    m->schema_json = jdump(j, "schema");
    json_decref(j);
    *out = m;
    return IG_OK;
}

/* ---- batches ---- */

ig_rc ig_lake_batch_begin(ig_lake *lake, const char *source, const char *stream,
                          const char *original_name, ig_lake_batch **out, ig_error *err)
{
    if (!ig_lake_name_valid(source))
        return ig_err(err, IG_ERR_USAGE, "'%s' is not a valid source name", source ? source : "");
    if (!ig_lake_name_valid(stream))
        return ig_err(err, IG_ERR_USAGE, "'%s' is not a valid stream name", stream ? stream : "");
    ig_lake_batch *b = ig_calloc(1, sizeof *b);
    b->lake = lake;
    b->fd = -1;
    b->origin_size = -1;
    ig_wh_new_id(b->id, sizeof b->id);
    b->received_us = ig_wall_us();
    b->source = ig_strdup(source);
    b->stream = ig_strdup(stream);
    b->original_name = ig_strdup(original_name ? original_name : "data");
    b->safe_name = safe_file_name(b->original_name);
    char dt[16];
    snprintf(dt, sizeof dt, "dt=%.4s-%.2s-%.2s", b->id, b->id + 4, b->id + 6);
    b->dir = ig_asprintf("%s/%s/%s/%s", lake->raw, source, stream, dt);
    b->tmp_path = ig_asprintf("%s/.%s-%s.tmp", b->dir, b->id, b->safe_name);
    b->final_path = ig_asprintf("%s/%s-%s", b->dir, b->id, b->safe_name);
    ig_rc rc = ig_fs_mkdirs(b->dir, err);
    if (!rc) {
        b->fd = open(b->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (b->fd < 0)
            rc = ig_err(err, IG_ERR_IO, "cannot create %s: %s", b->tmp_path, strerror(errno));
    }
    if (rc) {
        ig_lake_batch_free(b);
        return rc;
    }
    b->md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(b->md, EVP_sha256(), NULL);
    *out = b;
    return IG_OK;
}

const char *ig_lake_batch_id(const ig_lake_batch *b) { return b->id; }
const char *ig_lake_batch_sha256(const ig_lake_batch *b) { return b->sha256; }
uint64_t ig_lake_batch_bytes(const ig_lake_batch *b) { return b->bytes; }

void ig_lake_batch_set_origin(ig_lake_batch *b, const char *uri, int64_t size, int64_t mtime_us)
{
    set_str(&b->origin_uri, uri);
    b->origin_size = size;
    b->origin_mtime_us = mtime_us;
}

static ig_rc write_all(int fd, const char *p, size_t n, const char *path, ig_error *err)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            ig_err(err, e == ENOSPC || e == EDQUOT ? IG_ERR_LIMIT : IG_ERR_IO, "cannot write %s: %s",
                   path, strerror(e));
            if (e == ENOSPC) ig_err_hint(err, "free space on the lake's disk, then run the command again");
            return err ? err->code : IG_ERR_IO;
        }
        p += w;
        n -= (size_t)w;
    }
    return IG_OK;
}

ig_rc ig_lake_batch_write(ig_lake_batch *b, const void *data, size_t n, ig_error *err)
{
    if (b->sealed) return ig_err(err, IG_ERR_INTERNAL, "batch %s is sealed", b->id);
    EVP_DigestUpdate(b->md, data, n);
    ig_rc rc = write_all(b->fd, data, n, b->tmp_path, err);
    if (!rc) b->bytes += n;
    return rc;
}

/* Hash a whole fd from its start. */
static ig_rc hash_fd(int fd, EVP_MD_CTX *md, const char *path, uint64_t *bytes, ig_progress *prog,
                     ig_error *err)
{
    char *buf = ig_malloc(COPY_CHUNK);
    ig_rc rc = IG_OK;
    for (;;) {
        ssize_t r = read(fd, buf, COPY_CHUNK);
        if (r < 0) {
            if (errno == EINTR) continue;
            rc = ig_err(err, IG_ERR_IO, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (r == 0) break;
        EVP_DigestUpdate(md, buf, (size_t)r);
        *bytes += (uint64_t)r;
        if (prog) ig_progress_add(prog, (uint64_t)r, 0);
    }
    free(buf);
    return rc;
}

ig_rc ig_lake_batch_copy_file(ig_lake_batch *b, const char *path, ig_progress *prog, ig_error *err)
{
    int in = open(path, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        int code = errno == ENOENT ? IG_ERR_NOT_FOUND : IG_ERR_IO;
        return ig_err(err, code, "cannot open %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(in, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(in);
        return ig_err(err, IG_ERR_USAGE, "%s is a folder, not a file", path);
    }
    if (!b->origin_uri) {
        char *real = ig_path_real(path);
        ig_lake_batch_set_origin(b, real ? real : path, (int64_t)st.st_size,
                                 (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000);
        free(real);
    }
    posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
    ig_rc rc = IG_OK;
    /* Share the blocks when the filesystem can (btrfs, xfs): the copy is
     * then free and only the hash reads the file. */
    if (b->bytes == 0 && ioctl(b->fd, FICLONE, in) == 0) {
        rc = hash_fd(in, b->md, path, &b->bytes, prog, err);
        close(in);
        return rc;
    }
    char *buf = ig_malloc(COPY_CHUNK);
    for (;;) {
        ssize_t r = read(in, buf, COPY_CHUNK);
        if (r < 0) {
            if (errno == EINTR) continue;
            rc = ig_err(err, IG_ERR_IO, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (r == 0) break;
        EVP_DigestUpdate(b->md, buf, (size_t)r);
        rc = write_all(b->fd, buf, (size_t)r, b->tmp_path, err);
        if (rc) break;
        b->bytes += (uint64_t)r;
        if (prog) ig_progress_add(prog, (uint64_t)r, 0);
    }
    free(buf);
    close(in);
    return rc;
}

ig_rc ig_lake_batch_adopt(ig_lake_batch *b, const char *path, ig_error *err)
{
    if (b->bytes) return ig_err(err, IG_ERR_INTERNAL, "batch %s already has data", b->id);
    close(b->fd);
    b->fd = -1;
    if (rename(path, b->tmp_path) != 0)
        return ig_err(err, IG_ERR_IO, "cannot move %s into the lake: %s", path, strerror(errno));
    b->fd = open(b->tmp_path, O_RDWR | O_CLOEXEC);
    if (b->fd < 0) return ig_err(err, IG_ERR_IO, "cannot open %s: %s", b->tmp_path, strerror(errno));
    return hash_fd(b->fd, b->md, b->tmp_path, &b->bytes, NULL, err);
}

ig_rc ig_lake_batch_seal(ig_lake_batch *b, ig_error *err)
{
    if (b->sealed) return IG_OK;
    if (fsync(b->fd) != 0) return ig_err(err, IG_ERR_IO, "cannot sync %s: %s", b->tmp_path, strerror(errno));
    close(b->fd);
    b->fd = -1;
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(b->md, dig, &n);
    for (unsigned i = 0; i < n && i < 32; i++) snprintf(b->sha256 + 2 * i, 3, "%02x", dig[i]);
    b->sealed = true;
    return IG_OK;
}

ig_rc ig_lake_batch_land(ig_lake_batch *b, const char *format, const char *options_json,
                         const char *state_json, ig_lake_manifest **mout, ig_error *err)
{
    ig_rc rc = ig_lake_batch_seal(b, err);
    if (rc) return rc;
    if (rename(b->tmp_path, b->final_path) != 0)
        return ig_err(err, IG_ERR_IO, "cannot land %s: %s", b->final_path, strerror(errno));
    b->landed = true;
    /* the file's name, then the folders created for it, are durable */
    rc = ig_fs_sync_dir(b->dir, err);
    char *stream_dir = ig_path_dirname(b->dir);
    char *source_dir = ig_path_dirname(stream_dir);
    if (!rc) rc = ig_fs_sync_dir(stream_dir, err);
    if (!rc) rc = ig_fs_sync_dir(source_dir, err);
    if (!rc) rc = ig_fs_sync_dir(b->lake->raw, err);
    free(stream_dir);
    free(source_dir);
    if (rc) return rc;
    ig_lake_manifest *m = ig_calloc(1, sizeof *m);
    snprintf(m->batch_id, sizeof m->batch_id, "%s", b->id);
    m->source = ig_strdup(b->source);
    m->stream = ig_strdup(b->stream);
    m->original_name = ig_strdup(b->original_name);
    m->source_uri = b->origin_uri ? ig_strdup(b->origin_uri) : NULL;
    m->source_size = b->origin_size;
    m->source_mtime_us = b->origin_mtime_us;
    m->raw_path = ig_strdup(b->final_path);
    m->manifest_path = ig_asprintf("%s/%s.manifest.json", b->dir, b->id);
    m->format = format ? ig_strdup(format) : NULL;
    m->bytes = b->bytes;
    memcpy(m->sha256, b->sha256, sizeof m->sha256);
    m->received_us = b->received_us;
    m->rows_accepted = m->rows_rejected = -1;
    m->status = ig_strdup("landed");
    m->options_json = options_json ? ig_strdup(options_json) : NULL;
    m->state_json = state_json ? ig_strdup(state_json) : NULL;
    b->manifest = m;
    rc = ig_lake_manifest_write(m, err);
    if (rc) return rc;
    if (mout) *mout = m;
    return IG_OK;
}

ig_lake_manifest *ig_lake_batch_take_manifest(ig_lake_batch *b)
{
    ig_lake_manifest *m = b->manifest;
    b->manifest = NULL;
    return m;
}

void ig_lake_batch_free(ig_lake_batch *b)
{
    if (!b) return;
    if (b->fd >= 0) close(b->fd);
    if (!b->landed && b->tmp_path) unlink(b->tmp_path);
    if (b->md) EVP_MD_CTX_free(b->md);
    free(b->source);
    free(b->stream);
    free(b->original_name);
    free(b->safe_name);
    free(b->dir);
    free(b->tmp_path);
    free(b->final_path);
    free(b->origin_uri);
    ig_lake_manifest_free(b->manifest);
    free(b);
}

/* ---- loading ---- */

static ig_rc record_load(ig_wh *wh, const ig_lake_manifest *m, const char *status,
                         const char *message, const char *run_id, ig_error *err)
{
    ig_param del[1] = {IG_P_TEXT(m->batch_id)};
    ig_rc rc = ig_wh_exec_params(wh, "DELETE FROM ingot.loads WHERE batch_id = $1", del, 1, NULL, err);
    if (rc) return rc;
    ig_param p[19] = {
        IG_P_TEXT(m->batch_id), IG_P_TEXT(m->source), IG_P_TEXT(m->stream),
        m->relation ? IG_P_TEXT(m->relation) : IG_P_NULL,
        m->original_name ? IG_P_TEXT(m->original_name) : IG_P_NULL,
        m->source_uri ? IG_P_TEXT(m->source_uri) : IG_P_NULL,
        m->source_size >= 0 ? IG_P_INT(m->source_size) : IG_P_NULL,
        m->source_mtime_us ? IG_P_TS(m->source_mtime_us) : IG_P_NULL,
        IG_P_TEXT(m->raw_path), m->format ? IG_P_TEXT(m->format) : IG_P_NULL,
        IG_P_INT((int64_t)m->bytes), IG_P_TEXT(m->sha256),
        m->rows_accepted >= 0 ? IG_P_INT(m->rows_accepted) : IG_P_NULL,
        m->rows_rejected >= 0 ? IG_P_INT(m->rows_rejected) : IG_P_NULL,
        IG_P_TEXT(status), message ? IG_P_TEXT(message) : IG_P_NULL,
        m->received_us ? IG_P_TS(m->received_us) : IG_P_NULL,
        m->loaded_us ? IG_P_TS(m->loaded_us) : IG_P_NULL,
        run_id ? IG_P_TEXT(run_id) : IG_P_NULL,
    };
    return ig_wh_exec_params(wh,
                             "INSERT INTO ingot.loads (batch_id, source, stream, relation, "
                             "original_name, source_uri, source_size, source_mtime, raw_path, format, "
                             "bytes, sha256, rows_accepted, rows_rejected, status, message, "
                             "received_at, loaded_at, run_id) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                             "$8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
                             p, 19, NULL, err);
}

static ig_rc store_state(ig_wh *wh, const ig_lake_manifest *m, ig_error *err)
{
    if (!m->state_json) return IG_OK;
    json_t *j = json_loads(m->state_json, 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return ig_err(err, IG_ERR_DATA, "the state of batch %s is not a JSON object", m->batch_id);
    }
    const char *key;
    json_t *v;
    ig_rc rc = IG_OK;
    json_object_foreach(j, key, v) {
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        ig_param d[3] = {IG_P_TEXT(m->source), IG_P_TEXT(m->stream), IG_P_TEXT(key)};
        rc = ig_wh_exec_params(wh,
                               "DELETE FROM ingot.source_state WHERE source = $1 AND stream = $2 "
                               "AND key = $3",
                               d, 3, NULL, err);
        if (!rc) {
            ig_param p[6] = {IG_P_TEXT(m->source), IG_P_TEXT(m->stream), IG_P_TEXT(key),
                             IG_P_TEXT(text), IG_P_TEXT(m->batch_id), IG_P_TS(ig_wall_us())};
            rc = ig_wh_exec_params(wh,
                                   "INSERT INTO ingot.source_state (source, stream, key, value, "
                                   "batch_id, updated_at) VALUES ($1, $2, $3, $4::JSON, $5, $6)",
                                   p, 6, NULL, err);
        }
        free(text);
        if (rc) break;
    }
    json_decref(j);
    return rc;
}

ig_rc ig_lake_commit(ig_lake *lake, ig_wh *wh, ig_lake_manifest *m, ig_lake_load_fn fn, void *ctx,
                     const char *run_id, ig_error *err)
{
    (void)lake;
    ig_rc rc = IG_OK;
    for (int attempt = 0;; attempt++) {
        ig_lake_load_result res = {.rows_accepted = 0, .rows_rejected = 0};
        rc = ig_wh_begin(wh, err);
        if (rc) return rc;
        rc = fn(ctx, wh, m, &res, err);
        if (!rc) {
            set_str(&m->relation, res.relation);
            free(m->schema_json);
            m->schema_json = res.schema_json;
            res.schema_json = NULL;
            m->rows_accepted = res.rows_accepted;
            m->rows_rejected = res.rows_rejected;
            m->loaded_us = ig_wall_us();
            rc = record_load(wh, m, "loaded", NULL, run_id, err);
        }
        if (!rc) rc = store_state(wh, m, err);
        if (!rc) rc = ig_wh_commit(wh, err);
        free(res.relation);
        free(res.schema_json);
        if (!rc) break;
        ig_wh_rollback(wh);
        if (res.retry && attempt < 4) {
            ig_debug("lake.retry", "batch %s: load planned again (%s)", m->batch_id, err ? err->message : "");
            if (err) ig_error_clear(err);
            continue;
        }
        /* record the failure outside the rolled-back transaction */
        m->loaded_us = 0;
        set_str(&m->status, "failed");
        set_str(&m->message, err && err->message[0] ? err->message : "load failed");
        ig_error e2;
        ig_error_clear(&e2);
        if (record_load(wh, m, "failed", m->message, run_id, &e2))
            ig_warn("lake.record", "could not record the failed load of batch %s: %s", m->batch_id,
                    e2.message);
        if (ig_lake_manifest_write(m, &e2))
            ig_warn("lake.manifest", "could not update the manifest of batch %s: %s", m->batch_id,
                    e2.message);
        return rc;
    }
    set_str(&m->status, "loaded");
    set_str(&m->message, NULL);
    /* ingot.loads is the truth from here; a stale manifest is fixed by
     * ig_lake_pending, so a failure to rewrite it is only a warning */
    ig_error e2;
    ig_error_clear(&e2);
    if (ig_lake_manifest_write(m, &e2))
        ig_warn("lake.manifest", "could not update the manifest of batch %s: %s", m->batch_id, e2.message);
    return IG_OK;
}

ig_rc ig_lake_record(ig_wh *wh, ig_lake_manifest *m, const char *status, const char *message,
                     const char *run_id, ig_error *err)
{
    set_str(&m->status, status);
    set_str(&m->message, message);
    ig_rc rc = record_load(wh, m, status, message, run_id, err);
    if (rc) return rc;
    return ig_lake_manifest_write(m, err);
}

ig_rc ig_lake_find_loaded(ig_wh *wh, const char *source, const char *stream, const char *sha256,
                          bool *found, char *batch_id, ig_error *err)
{
    ig_param p[3] = {IG_P_TEXT(source), IG_P_TEXT(stream), IG_P_TEXT(sha256)};
    ig_wh_cursor *c;
    *found = false;
    ig_rc rc = ig_wh_query_params(wh,
                                  "SELECT batch_id FROM ingot.loads WHERE source = $1 AND stream = $2 "
                                  "AND sha256 = $3 AND status = 'loaded' ORDER BY batch_id LIMIT 1",
                                  p, 3, &c, err);
    if (rc) return rc;
    int r = ig_wh_cursor_next(c, err);
    if (r == 1) {
        *found = true;
        snprintf(batch_id, 40, "%s", ig_wh_cursor_value(c, 0)->text);
    }
    ig_wh_cursor_close(c);
    return r < 0 ? IG_ERR_SQL : IG_OK;
}

ig_rc ig_lake_find_loaded_origin(ig_wh *wh, const char *source, const char *stream,
                                 const char *uri, int64_t size, int64_t mtime_us, bool *found,
                                 char *batch_id, ig_error *err)
{
    ig_param p[5] = {IG_P_TEXT(source), IG_P_TEXT(stream), IG_P_TEXT(uri), IG_P_INT(size),
                     IG_P_TS(mtime_us)};
    ig_wh_cursor *c;
    *found = false;
    ig_rc rc = ig_wh_query_params(wh,
                                  "SELECT batch_id FROM ingot.loads WHERE source = $1 AND stream = $2 "
                                  "AND source_uri = $3 AND source_size = $4 AND source_mtime = $5 "
                                  "AND status = 'loaded' ORDER BY batch_id LIMIT 1",
                                  p, 5, &c, err);
    if (rc) return rc;
    int r = ig_wh_cursor_next(c, err);
    if (r == 1) {
        *found = true;
        snprintf(batch_id, 40, "%s", ig_wh_cursor_value(c, 0)->text);
    }
    ig_wh_cursor_close(c);
    return r < 0 ? IG_ERR_SQL : IG_OK;
}

ig_rc ig_lake_state_get(ig_wh *wh, const char *source, const char *stream, const char *key,
                        char **out, ig_error *err)
{
    ig_param p[3] = {IG_P_TEXT(source), IG_P_TEXT(stream), IG_P_TEXT(key)};
    ig_wh_cursor *c;
    *out = NULL;
    ig_rc rc = ig_wh_query_params(wh,
                                  "SELECT value::VARCHAR FROM ingot.source_state WHERE source = $1 "
                                  "AND stream = $2 AND key = $3 ORDER BY updated_at DESC LIMIT 1",
                                  p, 3, &c, err);
    if (rc) return rc;
    int r = ig_wh_cursor_next(c, err);
    if (r == 1 && !ig_wh_cursor_value(c, 0)->is_null) *out = ig_strdup(ig_wh_cursor_value(c, 0)->text);
    ig_wh_cursor_close(c);
    return r < 0 ? IG_ERR_SQL : IG_OK;
}

/* ---- recovery ---- */

typedef struct load_row {
    char id[40];
    char status[16];
    int64_t rows_accepted, rows_rejected, loaded_us;
    char *relation;
} load_row;

typedef struct scan {
    ig_lake_manifest **items;
    size_t n, cap;
    load_row *rows;
    size_t nrows;
    bool include_failed;
} scan;

static int cmp_row(const void *a, const void *b)
{
    return strcmp(((const load_row *)a)->id, ((const load_row *)b)->id);
}

static const load_row *find_row(const scan *s, const char *id)
{
    if (!s->nrows) return NULL; /* bsearch on a NULL array is undefined, even when empty */
    load_row key;
    snprintf(key.id, sizeof key.id, "%s", id);
    return bsearch(&key, s->rows, s->nrows, sizeof *s->rows, cmp_row);
}

static bool is_batch_file(const char *name)
{
    if (strlen(name) <= ID_LEN + 1 || name[ID_LEN] != '-' || name[8] != 'T' || name[21] != '-')
        return false;
    return !ig_str_ends(name, ".manifest.json");
}

static const char *format_from_name(const char *name)
{
    static const char *ext[][2] = {{".csv", "csv"},   {".tsv", "tsv"},     {".txt", "csv"},
                                   {".json", "json"}, {".ndjson", "ndjson"}, {".jsonl", "ndjson"},
                                   {".parquet", "parquet"}, {".xlsx", "xlsx"}};
    char base[512];
    snprintf(base, sizeof base, "%s", name);
    char *dot = strrchr(base, '.');
    if (dot && (!strcasecmp(dot, ".gz") || !strcasecmp(dot, ".zst"))) *dot = '\0';
    dot = strrchr(base, '.');
    for (size_t i = 0; dot && i < sizeof ext / sizeof ext[0]; i++)
        if (!strcasecmp(dot, ext[i][0])) return ext[i][1];
    return NULL;
}

/* A raw file with no manifest: a crash came between its rename and its
 * manifest. Rebuild the manifest from the file itself. */
static ig_rc rebuild_manifest(const char *dir, const char *name, const char *source,
                              const char *stream, ig_lake_manifest **out, ig_error *err)
{
    ig_lake_manifest *m = ig_calloc(1, sizeof *m);
    snprintf(m->batch_id, sizeof m->batch_id, "%.*s", ID_LEN, name);
    m->source = ig_strdup(source);
    m->stream = ig_strdup(stream);
    m->original_name = ig_strdup(name + ID_LEN + 1);
    m->source_size = -1;
    m->raw_path = ig_path_join(dir, name);
    m->manifest_path = ig_asprintf("%s/%s.manifest.json", dir, m->batch_id);
    const char *f = format_from_name(name);
    m->format = f ? ig_strdup(f) : NULL;
    m->rows_accepted = m->rows_rejected = -1;
    m->status = ig_strdup("landed");
    m->received_us = parse_iso(NULL);
    struct tm tm = {0};
    if (sscanf(m->batch_id, "%4d%2d%2dT%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) == 6) {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        m->received_us = (int64_t)timegm(&tm) * 1000000;
    }
    int fd = open(m->raw_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ig_lake_manifest_free(m);
        return ig_err(err, IG_ERR_IO, "cannot open %s: %s", m->raw_path, strerror(errno));
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    ig_rc rc = hash_fd(fd, md, m->raw_path, &m->bytes, NULL, err);
    close(fd);
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(md, dig, &n);
    EVP_MD_CTX_free(md);
    for (unsigned i = 0; i < n && i < 32; i++) snprintf(m->sha256 + 2 * i, 3, "%02x", dig[i]);
    if (!rc) rc = ig_lake_manifest_write(m, err);
    if (rc) {
        ig_lake_manifest_free(m);
        return rc;
    }
    ig_info("lake.recover", "rebuilt the manifest of batch %s (%s)", m->batch_id, m->raw_path);
    *out = m;
    return IG_OK;
}

static void scan_push(scan *s, ig_lake_manifest *m)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->items = ig_realloc(s->items, s->cap * sizeof *s->items);
    }
    s->items[s->n++] = m;
}

static ig_rc scan_partition(scan *s, const char *dir, const char *source, const char *stream,
                            ig_error *err)
{
    DIR *d = opendir(dir);
    if (!d) return IG_OK;
    struct dirent *e;
    ig_rc rc = IG_OK;
    while (!rc && (e = readdir(d))) {
        const char *name = e->d_name;
        if (name[0] == '.') {
            if (ig_str_ends(name, ".tmp")) {
                /* an unfinished batch: nothing was acknowledged for it */
                char *p = ig_path_join(dir, name);
                if (unlink(p) == 0) ig_info("lake.recover", "removed the unfinished batch file %s", p);
                free(p);
            }
            continue;
        }
        if (strstr(name, ".manifest.json.tmp.")) {
            /* a manifest update cut short (ig_fs_write_atomic's temporary):
             * the manifest it was replacing is whole; the rest is garbage */
            char *p = ig_path_join(dir, name);
            if (unlink(p) == 0) ig_info("lake.recover", "removed the unfinished manifest file %s", p);
            free(p);
            continue;
        }
        if (!is_batch_file(name)) continue;
        char id[40];
        snprintf(id, sizeof id, "%.*s", ID_LEN, name);
        char *mpath = ig_asprintf("%s/%s.manifest.json", dir, id);
        ig_lake_manifest *m = NULL;
        ig_error e2;
        ig_error_clear(&e2);
        if (ig_fs_exists(mpath)) {
            if (ig_lake_manifest_read(mpath, &m, &e2)) {
                ig_warn("lake.recover", "%s", e2.message);
                m = NULL;
                rc = rebuild_manifest(dir, name, source, stream, &m, err);
            }
        } else {
            rc = rebuild_manifest(dir, name, source, stream, &m, err);
        }
        free(mpath);
        if (rc || !m) continue;
        const load_row *row = find_row(s, m->batch_id);
        if (row && !strcmp(row->status, "duplicate")) {
            ig_lake_manifest_free(m);
            continue;
        }
        if (row && !strcmp(row->status, "loaded")) {
            if (strcmp(m->status, "loaded")) {
                set_str(&m->status, "loaded");
                set_str(&m->message, NULL);
                m->rows_accepted = row->rows_accepted;
                m->rows_rejected = row->rows_rejected;
                m->loaded_us = row->loaded_us;
                set_str(&m->relation, row->relation);
                if (ig_lake_manifest_write(m, &e2))
                    ig_warn("lake.recover", "could not update %s: %s", m->manifest_path, e2.message);
            }
            ig_lake_manifest_free(m);
            continue;
        }
        if (row && !strcmp(row->status, "failed") && !s->include_failed) {
            ig_lake_manifest_free(m);
            continue;
        }
        scan_push(s, m);
    }
    closedir(d);
    return rc;
}

static ig_rc load_rows(ig_wh *wh, const char *source, scan *s, ig_error *err)
{
    ig_wh_cursor *c;
    ig_param p[1] = {IG_P_TEXT(source ? source : "")};
    ig_rc rc = ig_wh_query_params(wh,
                                  "SELECT batch_id, status, rows_accepted, rows_rejected, "
                                  "epoch_us(loaded_at), relation FROM ingot.loads "
                                  "WHERE $1 = '' OR source = $1",
                                  p, 1, &c, err);
    if (rc) return rc;
    size_t cap = 0;
    int r;
    while ((r = ig_wh_cursor_next(c, err)) == 1) {
        if (s->nrows == cap) {
            cap = cap ? cap * 2 : 64;
            s->rows = ig_realloc(s->rows, cap * sizeof *s->rows);
        }
        load_row *lr = &s->rows[s->nrows++];
        memset(lr, 0, sizeof *lr);
        snprintf(lr->id, sizeof lr->id, "%s", ig_wh_cursor_value(c, 0)->text);
        snprintf(lr->status, sizeof lr->status, "%s", ig_wh_cursor_value(c, 1)->text);
        const ig_value *v = ig_wh_cursor_value(c, 2);
        lr->rows_accepted = v->is_null ? -1 : v->i;
        v = ig_wh_cursor_value(c, 3);
        lr->rows_rejected = v->is_null ? -1 : v->i;
        v = ig_wh_cursor_value(c, 4);
        lr->loaded_us = v->is_null ? 0 : v->i;
        v = ig_wh_cursor_value(c, 5);
        lr->relation = v->is_null ? NULL : ig_strdup(v->text);
    }
    ig_wh_cursor_close(c);
    if (r < 0) return IG_ERR_SQL;
    /* a batch may have a 'failed' row and then a 'loaded' one: loaded wins */
    if (s->nrows) qsort(s->rows, s->nrows, sizeof *s->rows, cmp_row);
    return IG_OK;
}

static int cmp_manifest(const void *a, const void *b)
{
    return strcmp((*(ig_lake_manifest *const *)a)->batch_id, (*(ig_lake_manifest *const *)b)->batch_id);
}

static ig_rc scan_dir_names(const char *dir, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return IG_OK;
    struct dirent *e;
    size_t cap = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *names = ig_realloc(*names, cap * sizeof **names);
        }
        (*names)[(*n)++] = ig_strdup(e->d_name);
    }
    closedir(d);
    return IG_OK;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

ig_rc ig_lake_pending(ig_lake *lake, ig_wh *wh, const char *source, bool include_failed,
                      ig_lake_manifest ***out, size_t *nout, ig_error *err)
{
    scan s = {.include_failed = include_failed};
    ig_rc rc = load_rows(wh, source, &s, err);
    char **sources = NULL;
    size_t nsources = 0;
    if (!rc) {
        if (source) {
            sources = ig_malloc(sizeof *sources);
            sources[0] = ig_strdup(source);
            nsources = 1;
        } else {
            scan_dir_names(lake->raw, &sources, &nsources);
        }
    }
    for (size_t i = 0; !rc && i < nsources; i++) {
        if (!ig_lake_name_valid(sources[i])) continue;
        char *sdir = ig_path_join(lake->raw, sources[i]);
        char **streams;
        size_t nstreams;
        scan_dir_names(sdir, &streams, &nstreams);
        for (size_t j = 0; !rc && j < nstreams; j++) {
            if (!ig_lake_name_valid(streams[j])) continue;
            char *tdir = ig_path_join(sdir, streams[j]);
            char **parts;
            size_t nparts;
            scan_dir_names(tdir, &parts, &nparts);
            for (size_t k = 0; !rc && k < nparts; k++) {
                if (!ig_str_starts(parts[k], "dt=")) continue;
                char *pdir = ig_path_join(tdir, parts[k]);
                rc = scan_partition(&s, pdir, sources[i], streams[j], err);
                free(pdir);
            }
            free_names(parts, nparts);
            free(tdir);
        }
        free_names(streams, nstreams);
        free(sdir);
    }
    free_names(sources, nsources);
    for (size_t i = 0; i < s.nrows; i++) free(s.rows[i].relation);
    free(s.rows);
    if (rc) {
        ig_lake_manifests_free(s.items, s.n);
        return rc;
    }
    if (s.n) qsort(s.items, s.n, sizeof *s.items, cmp_manifest);
    *out = s.items;
    *nout = s.n;
    return IG_OK;
}
