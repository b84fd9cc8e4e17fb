/* The XLSX writer, through libxlsxwriter in constant-memory mode (each row
 * goes to a temporary file as it is written; the workbook is assembled by
 * workbook_close). Cells are typed so that a spreadsheet can compute with
 * them: numbers as numbers, booleans as booleans, dates, times and
 * timestamps as Excel serial dates with a date format, NULL as an empty
 * cell. Values Excel cannot hold exactly stay text: integers beyond 2^53,
 * decimals with more than 15 significant digits, dates before 1900-03-01
 * or after 9999, NaN and infinities. The header row is bold and frozen. */
#include "output/writer.h"

#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>

#define XLSX_MAX_TEXT 32767        /* characters in one cell */
#define EXCEL_EPOCH_DAYS 25569.0   /* 1970-01-01 as an Excel serial */
#define EXCEL_MIN_SERIAL 61.0      /* 1900-03-01, past Excel's 1900 leap bug */
#define EXCEL_MAX_SERIAL 2958466.0 /* 10000-01-01 */
#define US_PER_DAY 86400000000.0

typedef struct xlsx_state {
    lxw_workbook *wb;
    lxw_worksheet *ws;
    lxw_format *bold, *date, *ts, *time;
    lxw_row_t next_row;
    int64_t truncated; /* texts cut to Excel's cell limit */
} xlsx_state;

static xlsx_state *X(ig_out_writer *w) { return w->impl; }

static ig_rc lxw_fail(ig_out_writer *w, lxw_error e, ig_error *err)
{
    return ig_err(err, IG_ERR_IO, "cannot write the XLSX workbook %s: %s", w->path ? w->path : "",
                  lxw_strerror(e));
}

static double col_width(const ig_out_column *c)
{
    double n = (double)ig_utf8_width(c->name, strlen(c->name)) + 2;
    double t = 10;
    switch (c->type) {
    case IG_T_DATE:
        t = 12;
        break;
    case IG_T_TIMESTAMP:
    case IG_T_TIMESTAMPTZ:
        t = 20;
        break;
    case IG_T_TEXT:
    case IG_T_UUID:
    case IG_T_JSON:
    case IG_T_NESTED:
        t = 16;
        break;
    default:
        break;
    }
    n = n > t ? n : t;
    return n > 60 ? 60 : n;
}

static ig_rc x_begin(ig_out_writer *w, ig_error *err)
{
    if (w->ncols > LXW_COL_MAX) {
        ig_err(err, IG_ERR_LIMIT, "the result has %zu columns; an XLSX sheet holds at most %d",
               w->ncols, LXW_COL_MAX);
        ig_err_hint(err, "select fewer columns, or use --format csv");
        return IG_ERR_LIMIT;
    }
    xlsx_state *x = ig_calloc(1, sizeof *x);
    w->impl = x;
    lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .use_zip64 = LXW_TRUE};
    const char *tmp = getenv("TMPDIR");
    if (tmp && *tmp) opt.tmpdir = (char *)tmp;
    x->wb = workbook_new_opt(w->fpath, &opt);
    if (!x->wb)
        return ig_err(err, IG_ERR_IO, "cannot create the XLSX workbook %s",
                      w->path ? w->path : w->fpath);
    x->ws = workbook_add_worksheet(x->wb, "result");
    x->bold = workbook_add_format(x->wb);
    format_set_bold(x->bold);
    x->date = workbook_add_format(x->wb);
    format_set_num_format(x->date, "yyyy-mm-dd");
    x->ts = workbook_add_format(x->wb);
    format_set_num_format(x->ts, "yyyy-mm-dd hh:mm:ss");
    x->time = workbook_add_format(x->wb);
    format_set_num_format(x->time, "hh:mm:ss");
    if (!x->ws || !x->bold) return ig_err(err, IG_ERR_IO, "cannot create the XLSX worksheet");
    for (size_t i = 0; i < w->ncols; i++)
        worksheet_set_column(x->ws, (lxw_col_t)i, (lxw_col_t)i, col_width(&w->cols[i]), NULL);
    if (!w->o.no_header && w->ncols) {
        for (size_t i = 0; i < w->ncols; i++) {
            lxw_error e = worksheet_write_string(x->ws, 0, (lxw_col_t)i, w->cols[i].name, x->bold);
            if (e) return lxw_fail(w, e, err);
        }
        worksheet_freeze_panes(x->ws, 1, 0);
        x->next_row = 1;
    }
    return IG_OK;
}

/* Significant digits in a decimal's text. */
static int sig_digits(const char *s, size_t n)
{
    int d = 0;
    bool lead = true;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') continue;
        if (lead && s[i] == '0') continue;
        lead = false;
        d++;
    }
    return d;
}

static lxw_error write_text(xlsx_state *x, lxw_row_t r, lxw_col_t c, const ig_value *v)
{
    const char *s = v->text ? v->text : "";
    size_t n = v->text ? v->len : 0;
    /* Excel counts UTF-16 units; bytes are an upper bound, so cut by bytes
     * only when needed and at a character boundary */
    if (n > XLSX_MAX_TEXT || memchr(s, '\0', n)) {
        size_t keep = n > XLSX_MAX_TEXT ? ig_utf8_fit(s, n, XLSX_MAX_TEXT) : n;
        if (keep > XLSX_MAX_TEXT) keep = XLSX_MAX_TEXT;
        char *cut = ig_strndup(s, keep); /* also stops at an embedded NUL */
        if (n > XLSX_MAX_TEXT) x->truncated++;
        lxw_error e = worksheet_write_string(x->ws, r, c, cut, NULL);
        free(cut);
        return e;
    }
    lxw_error e = worksheet_write_string(x->ws, r, c, s, NULL);
    if (e == LXW_ERROR_MAX_STRING_LENGTH_EXCEEDED) { /* many multi-unit characters */
        char *cut = ig_strndup(s, ig_utf8_fit(s, n, XLSX_MAX_TEXT / 2));
        x->truncated++;
        e = worksheet_write_string(x->ws, r, c, cut, NULL);
        free(cut);
    }
    return e;
}

static lxw_error write_serial(xlsx_state *x, lxw_row_t r, lxw_col_t c, double serial, lxw_format *f,
                              const ig_value *v)
{
    if (serial >= EXCEL_MIN_SERIAL && serial < EXCEL_MAX_SERIAL)
        return worksheet_write_number(x->ws, r, c, serial, f);
    return write_text(x, r, c, v);
}

static lxw_error write_cell(xlsx_state *x, lxw_row_t r, lxw_col_t c, const ig_value *v)
{
    if (v->is_null) return LXW_NO_ERROR; /* an empty cell */
    switch (v->type) {
    case IG_T_BOOL:
        return worksheet_write_boolean(x->ws, r, c, v->b, NULL);
    case IG_T_INT:
        if (v->i <= (1LL << 53) && v->i >= -(1LL << 53))
            return worksheet_write_number(x->ws, r, c, (double)v->i, NULL);
        break;
    case IG_T_DOUBLE:
        if (isfinite(v->d)) return worksheet_write_number(x->ws, r, c, v->d, NULL);
        break;
    case IG_T_DECIMAL:
        if (v->text && sig_digits(v->text, v->len) <= 15 && isfinite(v->d))
            return worksheet_write_number(x->ws, r, c, v->d, NULL);
        break;
    case IG_T_DATE:
        return write_serial(x, r, c, (double)v->i + EXCEL_EPOCH_DAYS, x->date, v);
    case IG_T_TIMESTAMP:
    case IG_T_TIMESTAMPTZ:
        return write_serial(x, r, c, (double)v->i / US_PER_DAY + EXCEL_EPOCH_DAYS, x->ts, v);
    case IG_T_TIME:
        if (v->i >= 0 && v->i <= 86400000000LL)
            return worksheet_write_number(x->ws, r, c, (double)v->i / US_PER_DAY, x->time);
        break;
    default:
        break;
    }
    return write_text(x, r, c, v);
}

static ig_rc x_row(ig_out_writer *w, const ig_value *vals, ig_error *err)
{
    xlsx_state *x = X(w);
    if (x->next_row >= LXW_ROW_MAX) {
        ig_err(err, IG_ERR_LIMIT, "the result has more rows than an XLSX sheet holds (%d)",
               LXW_ROW_MAX);
        ig_err_hint(err, "filter or aggregate the query, or use --format csv");
        return IG_ERR_LIMIT;
    }
    for (size_t i = 0; i < w->ncols; i++) {
        lxw_error e = write_cell(x, x->next_row, (lxw_col_t)i, &vals[i]);
        if (e) return lxw_fail(w, e, err);
    }
    x->next_row++;
    w->rows++;
    return IG_OK;
}

static ig_rc x_finish(ig_out_writer *w, ig_error *err)
{
    xlsx_state *x = X(w);
    lxw_error e = workbook_close(x->wb);
    x->wb = NULL;
    if (e) return lxw_fail(w, e, err);
    if (x->truncated)
        ig_warn("output.xlsx_truncated",
                "%lld text value(s) were longer than an XLSX cell holds (32767 characters) and "
                "were cut",
                (long long)x->truncated);
    return IG_OK;
}

static void x_free(ig_out_writer *w)
{
    xlsx_state *x = X(w);
    if (!x) return;
    if (x->wb) workbook_close(x->wb); /* frees it; the temp file is removed by writer.c */
    free(x);
    w->impl = NULL;
}

const ig__out_vt ig__out_xlsx = {x_begin, x_row, x_finish, x_free};
