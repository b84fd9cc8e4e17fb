/* The demo's first step: the shop "exports" its data into the project's drop
 * folder (drop/), the way a business team drops files for ingestion: CSV for
 * the tables, NDJSON for the web events, and the product catalogue as an
 * Excel workbook (a title above the header, a second sheet of notes). The
 * files source `demo` in the project's ingot.yml then ingests them like any
 * user's files (pipeline.c). Every file is written under a temporary name,
 * synced and renamed, so the folder never holds half a file.
 *
 * The generator writes every stream as CSV/NDJSON bytes; the products CSV is
 * kept in memory (a few hundred rows) and laid out as the workbook here,
 * with typed cells. The workbook's bytes are deterministic too: its creation
 * time is fixed to the export date. */
#include "demo/demo_int.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#define PRODUCTS_SHEET "Products"

const char *ig__demo_file_name(int stream)
{
    static const char *const names[IG_DEMO_NSTREAMS] = {"customers.csv", "products.xlsx",
                                                        "orders.csv",    "order_items.csv",
                                                        "payments.csv",  "web_events.ndjson"};
    return stream >= 0 && stream < IG_DEMO_NSTREAMS ? names[stream] : "?";
}

static bool is_workbook(int stream) { return stream == IG_DEMO_PRODUCTS; }

/* ------------------------------------------------------------ workbook */

/* Split one CSV line (the generator's RFC 4180 output: quotes doubled) into
 * at most max fields, in place. Returns the number of fields. */
static int split_csv(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        char *out = p;
        fields[n++] = p;
        if (*p == '"') {
            char *r = p + 1;
            for (;;) {
                if (!*r) break;
                if (*r == '"' && r[1] == '"') {
                    *out++ = '"';
                    r += 2;
                } else if (*r == '"') {
                    r++;
                    break;
                } else {
                    *out++ = *r++;
                }
            }
            p = r;
        } else {
            while (*p && *p != ',')
                *out++ = *p++;
        }
        bool more = *p == ',';
        char *next = p + (more ? 1 : 0);
        *out = 0;
        if (!more) break;
        p = next;
    }
    return n;
}

/* "2021-06-01 10:00:07" -> the workbook's date-time. */
static lxw_datetime parse_ts(const char *s)
{
    lxw_datetime t = {0};
    double sec = 0;
    sscanf(s, "%d-%d-%d %d:%d:%lf", &t.year, &t.month, &t.day, &t.hour, &t.min, &sec);
    t.sec = sec;
    return t;
}

static ig_rc lxw_fail(ig_error *err, const char *path, lxw_error e)
{
    ig_err(err, IG_ERR_IO, "cannot write the workbook %s: %s", path, lxw_strerror(e));
    ig_err_hint(err, "check that the project's drop folder is writable");
    return IG_ERR_IO;
}

/* Lay the products CSV (header + rows) out as a workbook at path: sheet
 * "Products" with a title, a blank row, the header (row 3) and typed cells;
 * sheet "Notes" saying where the file comes from. */
static ig_rc write_products_workbook(const ig_demo_ctx *d, char *csv, const char *path,
                                     ig_error *err)
{
    lxw_workbook_options wo = {.constant_memory = LXW_FALSE, .tmpdir = NULL};
    lxw_workbook *wb = workbook_new_opt(path, &wo);
    if (!wb) return ig_err(err, IG_ERR_IO, "cannot create the workbook %s", path);
    /* a fixed creation time: the same data gives the same bytes */
    struct tm tm = {.tm_year = 2026 - 1900, .tm_mon = 0, .tm_mday = 1};
    lxw_doc_properties props = {
        .title = "Demo shop: product catalogue", .author = "ingot demo", .created = timegm(&tm)};
    workbook_set_properties(wb, &props);
    lxw_format *title = workbook_add_format(wb);
    format_set_bold(title);
    format_set_font_size(title, 14);
    lxw_format *head = workbook_add_format(wb);
    format_set_bold(head);
    format_set_bottom(head, LXW_BORDER_THIN);
    lxw_format *money = workbook_add_format(wb);
    format_set_num_format(money, "#,##0.00");
    lxw_format *when = workbook_add_format(wb);
    format_set_num_format(when, "yyyy-mm-dd hh:mm:ss");

    lxw_worksheet *ws = workbook_add_worksheet(wb, PRODUCTS_SHEET);
    worksheet_write_string(ws, 0, 0, "Product catalogue, exported " IG_DEMO_EXPORT_DATE, title);
    worksheet_set_column(ws, 0, 0, 11, NULL);
    worksheet_set_column(ws, 1, 1, 12, NULL);
    worksheet_set_column(ws, 2, 2, 34, NULL);
    worksheet_set_column(ws, 3, 3, 14, NULL);
    worksheet_set_column(ws, 4, 5, 10, NULL);
    worksheet_set_column(ws, 6, 6, 20, NULL);
    /* columns: product_id,sku,name,category,price,cost,created_at */
    lxw_row_t row = 2;
    int64_t rows = 0;
    char *save = NULL;
    for (char *line = strtok_r(csv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[8];
        int n = split_csv(line, f, 8);
        if (n != 7) {
            workbook_close(wb);
            return ig_err(err, IG_ERR_INTERNAL, "demo: a products line with %d fields", n);
        }
        for (int c = 0; c < 7; c++) {
            lxw_col_t col = (lxw_col_t)c;
            if (row == 2)
                worksheet_write_string(ws, row, col, f[c], head);
            else if (c == 0)
                worksheet_write_number(ws, row, col, strtod(f[c], NULL), NULL);
            else if (c == 4 || c == 5)
                worksheet_write_number(ws, row, col, strtod(f[c], NULL), money);
            else if (c == 6) {
                lxw_datetime t = parse_ts(f[c]);
                worksheet_write_datetime(ws, row, col, &t, when);
            } else
                worksheet_write_string(ws, row, col, f[c], NULL);
        }
        if (row > 2) rows++;
        row++;
    }
    worksheet_freeze_panes(ws, 3, 0);

    lxw_worksheet *notes = workbook_add_worksheet(wb, "Notes");
    char seed[96];
    snprintf(seed, sizeof seed, "seed %llu, scale %g", (unsigned long long)d->opt->seed,
             d->opt->scale);
    worksheet_set_column(notes, 0, 0, 14, NULL);
    worksheet_set_column(notes, 1, 1, 60, NULL);
    worksheet_write_string(notes, 0, 0, "About this workbook", title);
    worksheet_write_string(notes, 2, 0, "Source", head);
    worksheet_write_string(notes, 2, 1, "the demo shop's catalogue (ingot demo)", NULL);
    worksheet_write_string(notes, 3, 0, "Generated", head);
    worksheet_write_string(notes, 3, 1, seed, NULL);
    worksheet_write_string(notes, 4, 0, "Prices", head);
    worksheet_write_string(notes, 4, 1, "EUR, catalogue price and unit cost", NULL);
    worksheet_write_string(notes, 5, 0, "Products", head);
    worksheet_write_number(notes, 5, 1, (double)rows, NULL);

    lxw_error e = workbook_close(wb);
    if (e) return lxw_fail(err, path, e);
    return IG_OK;
}

/* ---------------------------------------------------------------- sink */

/* One stream at a time into drop/.<file>.tmp (the products CSV into
 * memory), renamed into place on end. */
typedef struct drop_sink {
    ig_demo_ctx *d;
    FILE *f;
    ig_buf mem; /* the products CSV */
    char *path, *tmp;
    uint64_t bytes;
} drop_sink;

static ig_rc drop_write(void *ctx, int stream, const char *data, size_t len, ig_error *err)
{
    drop_sink *s = ctx;
    if (!s->path) {
        if (stream == IG_DEMO_WEB_EVENTS) { /* for the collector, not the drop folder */
            s->path = ig_path_join(s->d->project->dir, IG_DEMO_WEB_EVENTS_FILE);
            s->tmp = ig_asprintf("%s.tmp", s->path);
        } else {
            s->path = ig_path_join(s->d->drop, ig__demo_file_name(stream));
            char *base = ig_asprintf(".%s.tmp", ig__demo_file_name(stream));
            s->tmp = ig_path_join(s->d->drop, base);
            free(base);
        }
        s->bytes = 0;
        if (!is_workbook(stream) && !(s->f = fopen(s->tmp, "wb"))) {
            ig_err(err, IG_ERR_IO, "cannot write %s: %s", s->tmp, strerror(errno));
            ig_err_hint(err, "check that the project's drop folder is writable");
            return IG_ERR_IO;
        }
    }
    if (is_workbook(stream))
        ig_buf_append(&s->mem, data, len);
    else if (len && fwrite(data, 1, len, s->f) != len)
        return ig_err(err, IG_ERR_IO, "cannot write %s: %s", s->tmp, strerror(errno));
    s->bytes += len;
    return IG_OK;
}

static void drop_close(drop_sink *s)
{
    if (s->f) fclose(s->f);
    if (s->tmp) unlink(s->tmp);
    free(s->path);
    free(s->tmp);
    ig_buf_free(&s->mem);
    s->f = NULL;
    s->path = s->tmp = NULL;
}

static ig_rc sync_file(const char *path, ig_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ig_err(err, IG_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    int r = fsync(fileno(f));
    fclose(f);
    if (r) return ig_err(err, IG_ERR_IO, "cannot sync %s: %s", path, strerror(errno));
    return IG_OK;
}

static ig_rc drop_end(void *ctx, int stream, int64_t rows, ig_error *err)
{
    drop_sink *s = ctx;
    ig_rc rc = s->path ? IG_OK : drop_write(ctx, stream, NULL, 0, err); /* an empty stream */
    if (rc) return rc;
    if (is_workbook(stream)) {
        ig_buf_putc(&s->mem, 0);
        rc = write_products_workbook(s->d, s->mem.data, s->tmp, err);
        ig_buf_free(&s->mem);
        s->mem = (ig_buf)IG_BUF_INIT;
        if (!rc) rc = sync_file(s->tmp, err);
        if (rc) return rc;
    } else if (fflush(s->f) || fsync(fileno(s->f)) || fclose(s->f)) {
        s->f = NULL;
        return ig_err(err, IG_ERR_IO, "cannot write %s: %s", s->tmp, strerror(errno));
    }
    s->f = NULL;
    uint64_t bytes = s->bytes;
    if (is_workbook(stream)) {
        FILE *f = fopen(s->tmp, "rb");
        if (f && !fseek(f, 0, SEEK_END)) bytes = (uint64_t)ftell(f);
        if (f) fclose(f);
    }
    if (rename(s->tmp, s->path))
        return ig_err(err, IG_ERR_IO, "cannot rename %s: %s", s->tmp, strerror(errno));
    rc = ig_fs_sync_dir(s->d->drop, err);
    free(s->tmp);
    s->tmp = NULL;
    free(s->path);
    s->path = NULL;
    if (rc) return rc;
    s->d->stats.raw_rows[stream] = rows;
    s->d->stats.raw_bytes[stream] = bytes;
    char n[32];
    ig__demo_thousands(n, sizeof n, rows);
    if (stream == IG_DEMO_WEB_EVENTS)
        ig__demo_progress(s->d, "demo.generate", "generating %s… %s rows (%.1f MB) for the "
                          "collector", ig_demo_stream_name(stream), n, (double)bytes / 1e6);
    else
        ig__demo_progress(s->d, "demo.generate", "generating %s… %s rows (%.1f MB) -> drop/%s",
                          ig_demo_stream_name(stream), n, (double)bytes / 1e6,
                          ig__demo_file_name(stream));
    return IG_OK;
}

ig_rc ig__demo_land(ig_demo_ctx *d, ig_error *err)
{
    uint64_t t0 = ig_now_ns();
    ig_rc rc = ig_fs_mkdirs(d->drop, err);
    if (rc) return rc;
    drop_sink s = {.d = d, .mem = IG_BUF_INIT};
    ig_demo_sink sink = {&s, drop_write, drop_end};
    ig_demo_gen_options g = {.seed = d->opt->seed, .scale = d->opt->scale};
    rc = ig_demo_generate(&g, &sink, err);
    drop_close(&s);
    if (rc) {
        ig_err_prefix(err, "generating the demo data");
        return rc;
    }
    d->stats.ns_generate = ig_now_ns() - t0;
    return IG_OK;
}
