/* The aligned table for people at a terminal. The first rows (up to
 * IG_OUT_TABLE_SAMPLE, or --max-rows when smaller) are kept to size the
 * columns; then the table streams, fitting later rows into those widths.
 * Columns that together are too wide for the terminal are shrunk fairly
 * (the widest give up space first, narrow ones keep their width); when even
 * that cannot fit, the rightmost columns are left out and named in the
 * footer. Widths are display columns (wide CJK characters count 2). */
#include "output/writer.h"

#include "core/arena.h"
#include "core/clock.h"
#include "core/mem.h"
#include "core/str.h"

#include <stdlib.h>
#include <string.h>

#define MIN_COL 3 /* a shrunk column keeps at least "ab…" */

typedef struct cell {
    const char *text; /* display form (escaped), in the arena */
    size_t len, width;
    bool null;
} cell;

typedef struct table {
    ig_arena *arena;
    cell *sample; /* sample_cap rows of ncols cells */
    size_t nsample, sample_cap;
    cell *head;   /* header cells */
    size_t *w;    /* column widths once laid out */
    size_t shown; /* columns shown */
    bool laid_out;
    int64_t printed; /* rows printed */
    ig_buf cellbuf;
} table;

static const char *B_UNI[] = {"┌", "┬", "┐", "├", "┼", "┤", "└", "┴", "┘", "─", "│"};
static const char *B_ASCII[] = {"+", "+", "+", "+", "+", "+", "+", "+", "+", "-", "|"};
enum { TL, TM, TR, ML, MM, MR, BL, BM, BR, HZ, VT };

#define DIM "\033[2m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

void ig_out_cell_text(ig_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t start = 0, i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char x[5];
        size_t adv = 1;
        if (c < 0x20 || c == 0x7F) {
            switch (c) {
            case '\n':
                esc = "\\n";
                break;
            case '\r':
                esc = "\\r";
                break;
            case '\t':
                esc = "\\t";
                break;
            default:
                x[0] = '\\';
                x[1] = 'x';
                x[2] = hex[c >> 4];
                x[3] = hex[c & 15];
                x[4] = 0;
                esc = x;
            }
        } else if (c >= 0x80) {
            /* length of a valid sequence here, or 0 */
            size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
            if (len && len <= n - i && ig_utf8_valid(s + i, len))
                adv = len;
            else {
                x[0] = '\\';
                x[1] = 'x';
                x[2] = hex[c >> 4];
                x[3] = hex[c & 15];
                x[4] = 0;
                esc = x;
            }
        }
        if (esc) {
            ig_buf_append(b, s + start, i - start);
            ig_buf_puts(b, esc);
            start = i + 1;
        }
        i += adv;
    }
    ig_buf_append(b, s + start, n - start);
}

static table *T(ig_out_writer *w) { return w->impl; }

static void make_cell(ig_out_writer *w, cell *c, const ig_value *v)
{
    table *t = T(w);
    if (!v || v->is_null) {
        const char *nt = ig__out_null_text(w);
        c->text = nt;
        c->len = strlen(nt);
        c->null = true;
    } else {
        ig_buf_reset(&t->cellbuf);
        ig_out_cell_text(&t->cellbuf, v->text ? v->text : "", v->text ? v->len : 0);
        c->text = ig_arena_strndup(t->arena, ig_buf_cstr(&t->cellbuf), t->cellbuf.len);
        c->len = t->cellbuf.len;
        c->null = false;
    }
    c->width = ig_utf8_width(c->text, c->len);
}

static ig_rc t_begin(ig_out_writer *w, ig_error *err)
{
    table *t = ig_calloc(1, sizeof *t);
    w->impl = t;
    t->arena = ig_arena_new();
    ig_buf_init(&t->cellbuf, 0);
    t->sample_cap = IG_OUT_TABLE_SAMPLE;
    if (w->o.max_rows > 0 && (size_t)w->o.max_rows < t->sample_cap)
        t->sample_cap = (size_t)w->o.max_rows;
    t->sample = ig_calloc(t->sample_cap * (w->ncols ? w->ncols : 1), sizeof(cell));
    t->head = ig_calloc(w->ncols ? w->ncols : 1, sizeof(cell));
    t->w = ig_calloc(w->ncols ? w->ncols : 1, sizeof(size_t));
    for (size_t i = 0; i < w->ncols; i++) {
        ig_value v = {.type = IG_T_TEXT, .text = w->cols[i].name, .len = strlen(w->cols[i].name)};
        make_cell(w, &t->head[i], &v);
    }
    return IG_OK;
}

/* Choose widths: natural widths from the header and the sample, then shrink
 * to the terminal. Each shown column costs its width plus 3 (" │ "), plus
 * one for the left border. */
static void layout(ig_out_writer *w)
{
    table *t = T(w);
    size_t n = w->ncols;
    for (size_t i = 0; i < n; i++) {
        size_t m = t->head[i].width;
        for (size_t r = 0; r < t->nsample; r++)
            if (t->sample[r * n + i].width > m) m = t->sample[r * n + i].width;
        t->w[i] = m ? m : 1;
    }
    size_t width = (size_t)(w->o.width > 0 ? w->o.width : IG_OUT_DEFAULT_WIDTH);
    /* how many columns fit at their minimum width */
    size_t k = n;
    while (k > 1) {
        size_t need = 1 + 3 * k;
        for (size_t i = 0; i < k; i++)
            need += t->w[i] < MIN_COL ? t->w[i] : MIN_COL;
        if (need <= width) break;
        k--;
    }
    t->shown = k;
    t->laid_out = true;
    if (!k) return;
    size_t avail = width > 1 + 3 * k ? width - (1 + 3 * k) : k;
    size_t total = 0, widest = 0;
    for (size_t i = 0; i < k; i++) {
        total += t->w[i];
        if (t->w[i] > widest) widest = t->w[i];
    }
    if (total <= avail) return;
    /* the largest cap C with sum(min(w, C)) <= avail: narrow columns keep
     * their width, wide ones share what is left equally */
    size_t lo = MIN_COL, hi = widest;
    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2, s = 0;
        for (size_t i = 0; i < k; i++)
            s += t->w[i] < mid ? t->w[i] : mid;
        if (s <= avail)
            lo = mid;
        else
            hi = mid - 1;
    }
    size_t used = 0;
    for (size_t i = 0; i < k; i++) {
        if (t->w[i] > lo) t->w[i] = lo;
        used += t->w[i];
    }
    /* hand out the remainder one column each, left to right, to the columns
     * that were cut */
    for (size_t i = 0; i < k && used < avail; i++) {
        size_t nat = t->head[i].width;
        for (size_t r = 0; r < t->nsample; r++)
            if (t->sample[r * n + i].width > nat) nat = t->sample[r * n + i].width;
        if (nat > t->w[i]) {
            t->w[i]++;
            used++;
        }
    }
    if (width < 1 + 3 * k + k) /* a terminal narrower than anything: one column */
        for (size_t i = 0; i < k; i++)
            t->w[i] = t->w[i] ? t->w[i] : 1;
}

static const char **borders(const ig_out_writer *w) { return w->o.ascii ? B_ASCII : B_UNI; }

static void rule(ig_out_writer *w, ig_buf *b, int l, int m, int r)
{
    table *t = T(w);
    const char **B = borders(w);
    ig_buf_puts(b, B[l]);
    for (size_t i = 0; i < t->shown; i++) {
        for (size_t j = 0; j < t->w[i] + 2; j++)
            ig_buf_puts(b, B[HZ]);
        ig_buf_puts(b, B[i + 1 < t->shown ? m : r]);
    }
    ig_buf_putc(b, '\n');
}

static void pad(ig_buf *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ig_buf_putc(b, ' ');
}

static void put_cell(ig_out_writer *w, ig_buf *b, const cell *c, size_t width, bool right,
                     bool bold)
{
    const char *s = c->text;
    size_t len = c->len, cw = c->width;
    bool ell = false;
    if (cw > width) {
        len = ig_utf8_fit(s, len, width ? width - 1 : 0);
        cw = ig_utf8_width(s, len);
        ell = true;
    }
    size_t gap = width - cw - (ell ? 1 : 0);
    if (right) pad(b, gap);
    const char *on = c->null ? DIM : bold ? BOLD : NULL;
    if (w->o.color && on) ig_buf_puts(b, on);
    ig_buf_append(b, s, len);
    if (ell) ig_buf_puts(b, "…");
    if (w->o.color && on) ig_buf_puts(b, RESET);
    if (!right) pad(b, gap);
}

static void line(ig_out_writer *w, ig_buf *b, const cell *cells, bool header)
{
    table *t = T(w);
    const char *v = borders(w)[VT];
    ig_buf_puts(b, v);
    for (size_t i = 0; i < t->shown; i++) {
        ig_buf_putc(b, ' ');
        put_cell(w, b, &cells[i], t->w[i], ig__out_is_numeric(w->cols[i].type), header);
        ig_buf_putc(b, ' ');
        ig_buf_puts(b, v);
    }
    ig_buf_putc(b, '\n');
}

static ig_rc flush_line(ig_out_writer *w, ig_error *err)
{
    ig_rc rc = ig__out_put(w, w->scratch.data, w->scratch.len, err);
    ig_buf_reset(&w->scratch);
    return rc;
}

/* Lay out, then print the header and the kept rows. */
static ig_rc start_printing(ig_out_writer *w, ig_error *err)
{
    table *t = T(w);
    layout(w);
    if (!t->shown) return IG_OK;
    ig_buf *b = &w->scratch;
    rule(w, b, TL, TM, TR);
    line(w, b, t->head, true);
    rule(w, b, ML, MM, MR);
    ig_rc rc = flush_line(w, err);
    for (size_t r = 0; r < t->nsample && !rc; r++) {
        line(w, b, &t->sample[r * w->ncols], false);
        rc = flush_line(w, err);
        t->printed++;
    }
    /* the sample is printed; its memory is no longer needed */
    t->nsample = 0;
    return rc;
}

static ig_rc t_row(ig_out_writer *w, const ig_value *vals, ig_error *err)
{
    table *t = T(w);
    w->rows++;
    if (w->o.max_rows > 0 && w->rows >= w->o.max_rows) w->cut = true;
    if (!t->laid_out) {
        cell *row = &t->sample[t->nsample * w->ncols];
        for (size_t i = 0; i < w->ncols; i++)
            make_cell(w, &row[i], &vals[i]);
        t->nsample++;
        if (t->nsample == t->sample_cap) {
            ig_rc rc = start_printing(w, err);
            ig_arena_reset(t->arena);
            return rc;
        }
        return IG_OK;
    }
    if (!t->shown) return IG_OK;
    /* streaming past the sample: cells live in a scratch arena per row */
    cell *row = t->sample; /* reuse the first sample slot */
    for (size_t i = 0; i < w->ncols; i++)
        make_cell(w, &row[i], &vals[i]);
    line(w, &w->scratch, row, false);
    ig_arena_reset(t->arena);
    t->printed++;
    return flush_line(w, err);
}

static void footer(ig_out_writer *w, ig_buf *b)
{
    table *t = T(w);
    if (w->o.color) ig_buf_puts(b, DIM);
    ig_buf_printf(b, "%lld row%s", (long long)w->rows, w->rows == 1 ? "" : "s");
    if (w->o.start_ns) {
        char d[32];
        ig_format_duration(ig_now_ns() - w->o.start_ns, d, sizeof d);
        ig_buf_printf(b, " (%s)", d);
    }
    if (t->shown < w->ncols) {
        size_t hidden = w->ncols - t->shown;
        ig_buf_printf(b, ", %zu column%s not shown:", hidden, hidden == 1 ? "" : "s");
        size_t start = b->len;
        for (size_t i = t->shown; i < w->ncols; i++) {
            if (b->len - start > 60) {
                ig_buf_puts(b, " …");
                break;
            }
            ig_buf_printf(b, " %s%s", w->cols[i].name, i + 1 < w->ncols ? "," : "");
        }
    }
    if (w->o.color) ig_buf_puts(b, RESET);
    ig_buf_putc(b, '\n');
}

static ig_rc t_finish(ig_out_writer *w, ig_error *err)
{
    table *t = T(w);
    ig_rc rc = IG_OK;
    if (!t->laid_out) rc = start_printing(w, err);
    if (rc) return rc;
    ig_buf *b = &w->scratch;
    if (t->shown) rule(w, b, BL, BM, BR);
    if (w->rows > t->printed && t->shown) {
        int64_t more = w->rows - t->printed;
        if (w->o.color) ig_buf_puts(b, DIM);
        ig_buf_printf(b, "… %lld more row%s", (long long)more, more == 1 ? "" : "s");
        if (w->o.color) ig_buf_puts(b, RESET);
        ig_buf_putc(b, '\n');
    }
    if (w->o.footer) footer(w, b);
    return flush_line(w, err);
}

static void t_free(ig_out_writer *w)
{
    table *t = T(w);
    if (!t) return;
    ig_arena_free(t->arena);
    ig_buf_free(&t->cellbuf);
    free(t->sample);
    free(t->head);
    free(t->w);
    free(t);
    w->impl = NULL;
}

const ig__out_vt ig__out_table = {t_begin, t_row, t_finish, t_free};
