/* Delimited and Markdown writers: one line per row, streamed.
 *   CSV       RFC 4180 quoting: a field is quoted when it holds a comma, a
 *             double quote (doubled inside), CR or LF, or leading/trailing
 *             space, and an empty string is written "" so that it differs
 *             from NULL (an empty unquoted field). Lines end with LF, as
 *             DuckDB, PostgreSQL and most Unix tools write them.
 *   TSV       no quoting; backslash, tab, LF and CR are escaped as \\, \t,
 *             \n, \r (the "linear TSV" convention PostgreSQL's text COPY
 *             uses), so every row is one line.
 *   Markdown  a GitHub-flavoured table; | and \ are escaped with a
 *             backslash, line breaks become <br>; numbers right-aligned. */
#include "output/writer.h"

#include <stdlib.h>
#include <string.h>

/* --- CSV ---------------------------------------------------------------- */

static void csv_field(ig_buf *b, const char *s, size_t n)
{
    bool quote = n == 0 || s[0] == ' ' || s[n - 1] == ' ';
    for (size_t i = 0; i < n && !quote; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r') quote = true;
    if (!quote) {
        ig_buf_append(b, s, n);
        return;
    }
    ig_buf_putc(b, '"');
    size_t start = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '"') {
            ig_buf_append(b, s + start, i + 1 - start); /* includes the quote */
            ig_buf_putc(b, '"');
            start = i + 1;
        }
    ig_buf_append(b, s + start, n - start);
    ig_buf_putc(b, '"');
}

static ig_rc put_line(ig_out_writer *w, ig_error *err)
{
    ig_rc rc = ig__out_put(w, w->scratch.data, w->scratch.len, err);
    ig_buf_reset(&w->scratch);
    return rc;
}

static ig_rc csv_begin(ig_out_writer *w, ig_error *err)
{
    if (w->o.no_header || !w->ncols) return IG_OK;
    for (size_t i = 0; i < w->ncols; i++) {
        if (i) ig_buf_putc(&w->scratch, ',');
        csv_field(&w->scratch, w->cols[i].name, strlen(w->cols[i].name));
    }
    ig_buf_putc(&w->scratch, '\n');
    return put_line(w, err);
}

static ig_rc csv_row(ig_out_writer *w, const ig_value *vals, ig_error *err)
{
    const char *nt = ig__out_null_text(w);
    for (size_t i = 0; i < w->ncols; i++) {
        if (i) ig_buf_putc(&w->scratch, ',');
        if (vals[i].is_null)
            ig_buf_puts(&w->scratch, nt); /* unquoted: NULL, not "" */
        else
            csv_field(&w->scratch, vals[i].text ? vals[i].text : "",
                      vals[i].text ? vals[i].len : 0);
    }
    ig_buf_putc(&w->scratch, '\n');
    w->rows++;
    return put_line(w, err);
}

/* --- TSV ---------------------------------------------------------------- */

static void tsv_field(ig_buf *b, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *esc = NULL;
        switch (s[i]) {
        case '\\':
            esc = "\\\\";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        default:
            continue;
        }
        ig_buf_append(b, s + start, i - start);
        ig_buf_puts(b, esc);
        start = i + 1;
    }
    ig_buf_append(b, s + start, n - start);
}

static ig_rc tsv_begin(ig_out_writer *w, ig_error *err)
{
    if (w->o.no_header || !w->ncols) return IG_OK;
    for (size_t i = 0; i < w->ncols; i++) {
        if (i) ig_buf_putc(&w->scratch, '\t');
        tsv_field(&w->scratch, w->cols[i].name, strlen(w->cols[i].name));
    }
    ig_buf_putc(&w->scratch, '\n');
    return put_line(w, err);
}

static ig_rc tsv_row(ig_out_writer *w, const ig_value *vals, ig_error *err)
{
    const char *nt = ig__out_null_text(w);
    for (size_t i = 0; i < w->ncols; i++) {
        if (i) ig_buf_putc(&w->scratch, '\t');
        if (vals[i].is_null)
            ig_buf_puts(&w->scratch, nt);
        else
            tsv_field(&w->scratch, vals[i].text ? vals[i].text : "",
                      vals[i].text ? vals[i].len : 0);
    }
    ig_buf_putc(&w->scratch, '\n');
    w->rows++;
    return put_line(w, err);
}

/* --- Markdown ----------------------------------------------------------- */

static void md_field(ig_buf *b, const char *s, size_t n)
{
    if (n == 0) {
        ig_buf_putc(b, ' ');
        return;
    }
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *esc = NULL;
        switch (s[i]) {
        case '|':
            esc = "\\|";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\n':
            esc = "<br>";
            break;
        case '\r':
            esc = (i + 1 < n && s[i + 1] == '\n') ? "" : "<br>";
            break;
        case '\t':
            esc = " ";
            break;
        default:
            continue;
        }
        ig_buf_append(b, s + start, i - start);
        ig_buf_puts(b, esc);
        start = i + 1;
    }
    ig_buf_append(b, s + start, n - start);
}

static ig_rc md_begin(ig_out_writer *w, ig_error *err)
{
    if (!w->ncols) return IG_OK;
    ig_buf *b = &w->scratch;
    ig_buf_putc(b, '|');
    for (size_t i = 0; i < w->ncols; i++) {
        ig_buf_putc(b, ' ');
        md_field(b, w->cols[i].name, strlen(w->cols[i].name));
        ig_buf_puts(b, " |");
    }
    ig_buf_puts(b, "\n|");
    for (size_t i = 0; i < w->ncols; i++)
        ig_buf_puts(b, ig__out_is_numeric(w->cols[i].type) ? " ---: |" : " --- |");
    ig_buf_putc(b, '\n');
    return put_line(w, err);
}

static ig_rc md_row(ig_out_writer *w, const ig_value *vals, ig_error *err)
{
    ig_buf *b = &w->scratch;
    const char *nt = ig__out_null_text(w);
    ig_buf_putc(b, '|');
    for (size_t i = 0; i < w->ncols; i++) {
        ig_buf_putc(b, ' ');
        if (vals[i].is_null)
            md_field(b, nt, strlen(nt));
        else
            md_field(b, vals[i].text ? vals[i].text : "", vals[i].text ? vals[i].len : 0);
        ig_buf_puts(b, " |");
    }
    ig_buf_putc(b, '\n');
    w->rows++;
    return put_line(w, err);
}

static ig_rc nothing(ig_out_writer *w, ig_error *err) { return IG_OK; }

const ig__out_vt ig__out_csv = {csv_begin, csv_row, nothing, NULL};
const ig__out_vt ig__out_tsv = {tsv_begin, tsv_row, nothing, NULL};
const ig__out_vt ig__out_markdown = {md_begin, md_row, nothing, NULL};
