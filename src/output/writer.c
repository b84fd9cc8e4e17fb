/* The writer every format shares: format names, the destination (the
 * caller's FILE or a file written under a temporary name and renamed on
 * success), and the loop that streams a warehouse cursor through a writer. */
#include "output/writer.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *name;
    ig_out_format f;
} names[] = {
    {"table", IG_OUT_TABLE},       {"csv", IG_OUT_CSV},       {"tsv", IG_OUT_TSV},
    {"json", IG_OUT_JSON},         {"ndjson", IG_OUT_NDJSON}, {"jsonl", IG_OUT_NDJSON},
    {"markdown", IG_OUT_MARKDOWN}, {"md", IG_OUT_MARKDOWN},   {"xlsx", IG_OUT_XLSX},
};

bool ig_out_format_parse(const char *name, ig_out_format *out)
{
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(name, names[i].name)) {
            *out = names[i].f;
            return true;
        }
    return false;
}

const char *ig_out_format_name(ig_out_format f)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].f == f) return names[i].name;
    return "table";
}

const char *ig_out_format_list(void) { return "table, csv, tsv, json, ndjson, markdown, xlsx"; }

bool ig_out_format_from_path(const char *path, ig_out_format *out)
{
    static const struct {
        const char *ext;
        ig_out_format f;
    } exts[] = {{".csv", IG_OUT_CSV},       {".tsv", IG_OUT_TSV},      {".json", IG_OUT_JSON},
                {".ndjson", IG_OUT_NDJSON}, {".jsonl", IG_OUT_NDJSON}, {".md", IG_OUT_MARKDOWN},
                {".xlsx", IG_OUT_XLSX},     {".txt", IG_OUT_TABLE}};
    size_t n = path ? strlen(path) : 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t e = strlen(exts[i].ext);
        if (n > e && !strcasecmp(path + n - e, exts[i].ext)) {
            *out = exts[i].f;
            return true;
        }
    }
    return false;
}

static const ig__out_vt *vt_for(ig_out_format f)
{
    switch (f) {
    case IG_OUT_CSV:
        return &ig__out_csv;
    case IG_OUT_TSV:
        return &ig__out_tsv;
    case IG_OUT_JSON:
        return &ig__out_json;
    case IG_OUT_NDJSON:
        return &ig__out_ndjson;
    case IG_OUT_MARKDOWN:
        return &ig__out_markdown;
    case IG_OUT_XLSX:
        return &ig__out_xlsx;
    case IG_OUT_TABLE:
        break;
    }
    return &ig__out_table;
}

bool ig__out_is_numeric(ig_type t)
{
    return t == IG_T_INT || t == IG_T_BIGNUM || t == IG_T_DOUBLE || t == IG_T_DECIMAL;
}

const char *ig__out_null_text(const ig_out_writer *w)
{
    if (w->o.null_text) return w->o.null_text;
    return w->o.format == IG_OUT_CSV || w->o.format == IG_OUT_TSV ? "" : "NULL";
}

/* JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
bool ig__out_json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i >= n) return false;
    if (s[i] == '0')
        i++;
    else if (s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return false;
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d) return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d) return false;
    }
    return i == n;
}

#define CLOSED "was closed before the result ended"

bool ig_out_broken_pipe(const ig_error *err)
{
    return err && err->code == IG_ERR_IO && ig_str_starts(err->message, "standard output " CLOSED);
}

static const char *dest_name(const ig_out_writer *w)
{
    return w->path ? w->path : "standard output";
}

static ig_rc write_failed(const ig_out_writer *w, int e, ig_error *err)
{
    if (e == EPIPE) return ig_err(err, IG_ERR_IO, "%s " CLOSED, dest_name(w));
    return ig_err(err, IG_ERR_IO, "cannot write %s: %s", dest_name(w), strerror(e ? e : EIO));
}

ig_rc ig__out_put(ig_out_writer *w, const void *p, size_t n, ig_error *err)
{
    errno = 0;
    if (n && fwrite(p, 1, n, w->fp) != n) return write_failed(w, errno, err);
    return IG_OK;
}

/* Make a temporary file; *fd open for writing. dir_of: the final path, or
 * NULL for $TMPDIR. */
static char *make_temp(const char *final, int *fd, ig_error *err)
{
    char *tmpl;
    if (final) {
        tmpl = ig_asprintf("%s.tmp.XXXXXX", final);
    } else {
        const char *t = getenv("TMPDIR");
        tmpl = ig_asprintf("%s/ingot-out.tmp.XXXXXX", t && *t ? t : "/tmp");
    }
    *fd = mkstemp(tmpl);
    if (*fd < 0) {
        ig_err(err, IG_ERR_IO, "cannot create %s: %s", final ? final : tmpl, strerror(errno));
        free(tmpl);
        return NULL;
    }
    return tmpl;
}

static ig_rc check_dir(const char *path, ig_error *err)
{
    char *dir = ig_path_dirname(path);
    ig_rc rc = IG_OK;
    if (!ig_fs_is_dir(dir)) {
        if (ig_fs_exists(dir))
            rc = ig_err(err, IG_ERR_IO, "cannot write %s: %s is not a directory", path, dir);
        else {
            rc = ig_err(err, IG_ERR_NOT_FOUND, "cannot write %s: directory %s does not exist", path,
                        dir);
            ig_err_hint(err, "create it first (mkdir -p %s) or choose another --output path", dir);
        }
    } else if (ig_fs_is_dir(path)) {
        rc = ig_err(err, IG_ERR_IO, "cannot write %s: it is a directory", path);
        ig_err_hint(err, "give a file name, e.g. --output %s/result.csv", path);
    }
    free(dir);
    return rc;
}

ig_rc ig_out_open(const ig_out_options *o, const char *path, FILE *fp, ig_out_writer **out,
                  ig_error *err)
{
    *out = NULL;
    if (path && !*path) return ig_err(err, IG_ERR_USAGE, "--output needs a file name");
    if (path && strcmp(path, "-") == 0) path = NULL; /* "-" is stdout */
    if (!path && o->format == IG_OUT_XLSX && isatty(fileno(fp))) {
        ig_err(err, IG_ERR_USAGE, "refusing to write an XLSX workbook to the terminal");
        ig_err_hint(err,
                    "write it to a file with --output result.xlsx, or redirect standard output");
        return IG_ERR_USAGE;
    }
    if (path) {
        ig_rc rc = check_dir(path, err);
        if (rc) return rc;
    }
    ig_out_writer *w = ig_calloc(1, sizeof *w);
    w->o = *o;
    if (w->o.width <= 0) w->o.width = IG_OUT_DEFAULT_WIDTH;
    if (w->o.max_rows < 0) w->o.max_rows = 0;
    w->vt = vt_for(o->format);
    ig_buf_init(&w->scratch, 0);
    if (path) w->path = ig_strdup(path);
    int fd = -1;
    if (path || o->format == IG_OUT_XLSX) {
        w->fpath = make_temp(path, &fd, err);
        if (!w->fpath) {
            ig_out_free(w);
            return err ? err->code : IG_ERR_IO;
        }
    }
    if (o->format == IG_OUT_XLSX) {
        close(fd); /* libxlsxwriter opens the file by name at the end */
        w->dest = path ? NULL : fp;
    } else if (path) {
        w->fp = fdopen(fd, "w");
        if (!w->fp) {
            close(fd);
            ig_err(err, IG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
            ig_out_free(w);
            return IG_ERR_IO;
        }
        w->owns_fp = true;
    } else {
        w->fp = fp;
        w->dest = fp;
    }
    *out = w;
    return IG_OK;
}

ig_rc ig_out_begin(ig_out_writer *w, const ig_out_column *cols, size_t ncols, ig_error *err)
{
    w->cols = ig_calloc(ncols ? ncols : 1, sizeof *w->cols);
    w->ncols = ncols;
    for (size_t i = 0; i < ncols; i++) {
        w->cols[i].name = ig_strdup(cols[i].name ? cols[i].name : "");
        w->cols[i].type = cols[i].type;
    }
    w->began = true;
    return w->vt->begin(w, err);
}

ig_rc ig_out_row(ig_out_writer *w, const ig_value *vals, ig_error *err)
{
    if (w->cut) {
        w->rows++;
        return IG_OK;
    }
    return w->vt->row(w, vals, err);
}

bool ig_out_rows_cut(const ig_out_writer *w) { return w->cut; }
void ig_out_count_row(ig_out_writer *w) { w->rows++; }
int64_t ig_out_rows(const ig_out_writer *w) { return w->rows; }

/* Copy a finished temporary file to the caller's FILE (xlsx to a pipe). */
static ig_rc copy_to(ig_out_writer *w, ig_error *err)
{
    FILE *in = fopen(w->fpath, "rb");
    if (!in) return ig_err(err, IG_ERR_IO, "cannot read %s: %s", w->fpath, strerror(errno));
    char buf[65536];
    size_t n;
    ig_rc rc = IG_OK;
    w->fp = w->dest;
    while (!rc && (n = fread(buf, 1, sizeof buf, in)) > 0)
        rc = ig__out_put(w, buf, n, err);
    fclose(in);
    return rc;
}

/* Move the temporary file to its final name with the permissions a new file
 * would get (mkstemp makes it 0600). */
static ig_rc commit_path(ig_out_writer *w, ig_error *err)
{
    mode_t mask = umask(022);
    umask(mask);
    if (chmod(w->fpath, 0666 & ~mask) != 0 || rename(w->fpath, w->path) != 0)
        return ig_err(err, IG_ERR_IO, "cannot write %s: %s", w->path, strerror(errno));
    char *dir = ig_path_dirname(w->path);
    ig_error ignored;
    ig_fs_sync_dir(dir, &ignored);
    free(dir);
    free(w->fpath);
    w->fpath = NULL;
    return IG_OK;
}

ig_rc ig_out_finish(ig_out_writer *w, ig_error *err)
{
    if (!w->began) {
        ig_rc rc = ig_out_begin(w, NULL, 0, err);
        if (rc) return rc;
    }
    ig_rc rc = w->vt->finish(w, err);
    if (rc) return rc;
    if (w->fp) {
        errno = 0;
        if (fflush(w->fp) != 0 || ferror(w->fp)) return write_failed(w, errno, err);
        if (w->owns_fp) {
            if (fsync(fileno(w->fp)) != 0 && errno != EINVAL)
                return ig_err(err, IG_ERR_IO, "cannot write %s: %s", dest_name(w), strerror(errno));
            FILE *f = w->fp;
            w->fp = NULL;
            w->owns_fp = false;
            if (fclose(f) != 0)
                return ig_err(err, IG_ERR_IO, "cannot write %s: %s", dest_name(w), strerror(errno));
        }
    }
    if (w->fpath && w->path) {
        rc = commit_path(w, err);
    } else if (w->fpath && w->dest) {
        rc = copy_to(w, err);
        errno = 0;
        if (!rc && fflush(w->dest) != 0) rc = write_failed(w, errno, err);
        unlink(w->fpath);
        free(w->fpath);
        w->fpath = NULL;
    }
    if (!rc) w->finished = true;
    return rc;
}

void ig_out_free(ig_out_writer *w)
{
    if (!w) return;
    if (w->vt && w->vt->free) w->vt->free(w);
    if (w->owns_fp && w->fp) fclose(w->fp);
    if (w->fpath) unlink(w->fpath);
    free(w->fpath);
    free(w->path);
    for (size_t i = 0; i < w->ncols; i++)
        free((char *)w->cols[i].name);
    free(w->cols);
    ig_buf_free(&w->scratch);
    free(w);
}

ig_rc ig_out_cursor(ig_wh_cursor *c, const ig_out_options *o, const char *path, FILE *fp,
                    volatile const int *stop, int64_t *rows, ig_error *err)
{
    ig_out_writer *w;
    ig_rc rc = ig_out_open(o, path, fp, &w, err);
    if (rc) return rc;
    size_t ncols = ig_wh_cursor_ncols(c);
    ig_out_column *cols = ig_calloc(ncols ? ncols : 1, sizeof *cols);
    ig_value *vals = ig_calloc(ncols ? ncols : 1, sizeof *vals);
    for (size_t i = 0; i < ncols; i++) {
        cols[i].name = ig_wh_cursor_colname(c, i);
        cols[i].type = ig_wh_cursor_coltype(c, i);
    }
    rc = ig_out_begin(w, cols, ncols, err);
    while (!rc) {
        if (stop && *stop) {
            rc = ig_err(err, IG_ERR_INTERRUPTED, "interrupted");
            break;
        }
        int r = ig_wh_cursor_next(c, err);
        if (r < 0) {
            rc = err && err->code ? err->code : IG_ERR_SQL;
            break;
        }
        if (r == 0) break;
        if (w->cut) {
            w->rows++;
            continue;
        }
        for (size_t i = 0; i < ncols; i++)
            vals[i] = *ig_wh_cursor_value(c, i);
        rc = ig_out_row(w, vals, err);
    }
    if (!rc) rc = ig_out_finish(w, err);
    if (rows) *rows = w->rows;
    ig_out_free(w);
    free(cols);
    free(vals);
    return rc;
}

void ig_out_changed_line(ig_buf *b, const char *statement, int64_t changed, uint64_t start_ns)
{
    bool dml = !statement || !strcmp(statement, "INSERT") || !strcmp(statement, "UPDATE") ||
               !strcmp(statement, "DELETE") || !strcmp(statement, "COPY");
    if (dml) ig_buf_printf(b, "OK, %lld row%s changed", (long long)changed, changed == 1 ? "" : "s");
    else ig_buf_printf(b, "OK, %s", statement);
    if (start_ns) {
        char d[32];
        ig_format_duration(ig_now_ns() - start_ns, d, sizeof d);
        ig_buf_printf(b, " (%s)", d);
    }
}

int ig_out_terminal_width(int fd)
{
    struct winsize ws;
    if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *c = getenv("COLUMNS");
    long v;
    if (c && ig_parse_long(c, &v) && v > 0 && v < 100000) return (int)v;
    return IG_OUT_DEFAULT_WIDTH;
}
