/* Workbooks into bronze: the XLSX reader (xlsx.h) streams the sheet twice —
 * once to learn its width and each column's type from the cells' own
 * types, once to append the rows as text into a staging table — and the
 * common loader then casts the staged text to the learned types. Rows keep
 * their sheet row number, so _ingot_row_number is the row a person sees in
 * Excel. */
#include "ingest/files/ingest_int.h"
#include "ingest/files/xlsx.h"

#include "core/mem.h"
#include "core/str.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The type lattice of a column: what every non-empty cell so far allows. */
typedef enum { K_NONE, K_BOOL, K_INT, K_DOUBLE, K_DATE, K_DATETIME, K_TIME, K_TEXT } kind;

static kind cell_kind(const ig_xlsx_cell *c)
{
    switch (c->type) {
    case IG_XLSX_EMPTY: return K_NONE;
    case IG_XLSX_BOOL: return K_BOOL;
    case IG_XLSX_NUMBER:
        return (floor(c->number) == c->number && fabs(c->number) < 9.0e15) ? K_INT : K_DOUBLE;
    case IG_XLSX_DATE: return K_DATE;
    case IG_XLSX_DATETIME: return K_DATETIME;
    case IG_XLSX_TIME: return K_TIME;
    default: return K_TEXT;
    }
}

static kind merge(kind a, kind b)
{
    if (a == K_NONE) return b;
    if (b == K_NONE || a == b) return a;
    if ((a == K_INT && b == K_DOUBLE) || (a == K_DOUBLE && b == K_INT)) return K_DOUBLE;
    if ((a == K_DATE && b == K_DATETIME) || (a == K_DATETIME && b == K_DATE)) return K_DATETIME;
    return K_TEXT;
}

static const char *kind_type(const ig_wh_ingest_dialect *d, kind k)
{
    switch (k) {
    case K_BOOL: return d->bool_type;
    case K_INT: return d->bigint_type;
    case K_DOUBLE: return d->double_type;
    case K_DATE: return d->date_type;
    case K_DATETIME: return d->timestamp_type;
    case K_TIME: return d->time_type;
    default: return d->text_type;
    }
}

static ig_rc open_sheet(ig_xlsx_book *book, const ig__load_ctx *lc, ig_xlsx_sheet **sh,
                        const ig_xlsx_row **header, ig_error *err)
{
    ig_rc rc = ig_xlsx_sheet_open(book, lc->o->sheet, sh, err);
    if (rc) return rc;
    ig_xlsx_header_opts ho = {.force_row = lc->o->header_row > 0 ? (uint32_t)lc->o->header_row : 0};
    rc = ig_xlsx_sheet_header(*sh, &ho, header, err);
    if (rc) {
        ig_xlsx_sheet_close(*sh);
        *sh = NULL;
    }
    return rc;
}

/* Column names: the header's text, "column_<letter>" where it is empty or
 * missing, "_2", "_3" ... after a name already taken. */
static char **column_names(const ig_xlsx_row *header, uint32_t ncols)
{
    char **names = ig_calloc(ncols ? ncols : 1, sizeof *names);
    for (uint32_t c = 0; c < ncols; c++) {
        const ig_xlsx_cell *cell = header ? ig_xlsx_row_get(header, c) : NULL;
        char letters[4];
        ig_xlsx_col_name(c, letters);
        char *base = NULL;
        if (cell && cell->type != IG_XLSX_EMPTY && cell->len) {
            size_t s = 0, e = cell->len;
            while (s < e && (cell->text[s] == ' ' || cell->text[s] == '\t')) s++;
            while (e > s && (cell->text[e - 1] == ' ' || cell->text[e - 1] == '\t' ||
                             cell->text[e - 1] == '\n' || cell->text[e - 1] == '\r'))
                e--;
            if (e > s) base = ig_strndup(cell->text + s, e - s > 200 ? 200 : e - s);
        }
        if (!base) base = ig_asprintf("column_%s", letters);
        char *name = ig_strdup(base);
        for (int k = 2;; k++) {
            bool taken = !strcasecmp(name, "_rn") || ig_str_starts(name, "_ingot_");
            for (uint32_t j = 0; j < c && !taken; j++) taken = !strcasecmp(names[j], name);
            if (!taken) break;
            free(name);
            name = ig_asprintf("%s_%d", base, k);
        }
        free(base);
        names[c] = name;
    }
    return names;
}

ig_rc ig__xlsx_stage(ig__load_ctx *lc, ig_wh *wh, const ig_lake_manifest *m, const char *stage,
                     ig_buf *sel, int64_t *nrows, ig_error *err)
{
    ig_xlsx_book *book = NULL;
    ig_xlsx_sheet *sh = NULL;
    const ig_xlsx_row *header = NULL, *row = NULL;
    kind *kinds = NULL;
    char **names = NULL;
    uint32_t ncols = 0;
    ig_buf q = IG_BUF_INIT;
    ig_wh_appender *app = NULL;
    *nrows = 0;
    ig_rc rc = ig_xlsx_open(m->raw_path, NULL, &book, err);
    /* pass 1: width and types */
    if (!rc) rc = open_sheet(book, lc, &sh, &header, err);
    if (!rc && header && header->ncells) ncols = header->cells[header->ncells - 1].col + 1;
    size_t kcap = 0;
    while (!rc) {
        rc = ig_xlsx_next_row(sh, &row, err);
        if (rc || !row) break;
        if (row->ncells) {
            uint32_t w = row->cells[row->ncells - 1].col + 1;
            if (w > ncols) ncols = w;
        }
        if (ncols > kcap) {
            kinds = ig_realloc(kinds, ncols * sizeof *kinds);
            memset(kinds + kcap, 0, (ncols - kcap) * sizeof *kinds);
            kcap = ncols;
        }
        for (size_t i = 0; i < row->ncells; i++)
            kinds[row->cells[i].col] = merge(kinds[row->cells[i].col], cell_kind(&row->cells[i]));
    }
    if (sh) ig_xlsx_sheet_close(sh);
    sh = NULL;
    if (!rc && ncols == 0) {
        rc = ig_err(err, IG_ERR_DATA, "the sheet has no cells");
        ig_err_hint(err, "choose another sheet with --sheet (or sheet: in the source)");
    }
    if (!rc && ncols > kcap) {
        kinds = ig_realloc(kinds, ncols * sizeof *kinds);
        memset(kinds + kcap, 0, (ncols - kcap) * sizeof *kinds);
    }
    /* the staging table: text columns c0..cN and the sheet row number */
    if (!rc) {
        names = column_names(header, ncols);
        ig_buf_puts(&q, "CREATE TABLE ");
        ig_wh_quote_relation(wh, &q, "ingot", stage);
        ig_buf_puts(&q, " (");
        for (uint32_t c = 0; c < ncols; c++) ig_buf_printf(&q, "c%u %s, ", c, lc->d->text_type);
        ig_buf_printf(&q, "_rn %s)", lc->d->bigint_type);
        rc = ig_wh_exec(wh, q.data, err);
    }
    if (!rc) rc = ig_wh_appender_open(wh, "ingot", stage, &app, err);
    /* pass 2: the rows */
    if (!rc) rc = open_sheet(book, lc, &sh, &header, err);
    while (!rc) {
        rc = ig_xlsx_next_row(sh, &row, err);
        if (rc || !row) break;
        for (uint32_t c = 0; c < ncols && !rc; c++) {
            const ig_xlsx_cell *cell = ig_xlsx_row_get(row, c);
            if (cell->type == IG_XLSX_EMPTY) {
                rc = ig_wh_append_null(app);
                continue;
            }
            if (kinds[c] == K_INT && cell->type == IG_XLSX_NUMBER) {
                char num[32];
                int n = snprintf(num, sizeof num, "%lld", (long long)cell->number);
                rc = ig_wh_append_text(app, num, (size_t)n);
            } else if (kinds[c] == K_BOOL) {
                rc = ig_wh_append_text(app, cell->number != 0 ? "true" : "false",
                                       cell->number != 0 ? 4 : 5);
            } else {
                rc = ig_wh_append_text(app, cell->text, cell->len);
            }
        }
        if (!rc) rc = ig_wh_append_int(app, row->index);
        if (!rc) rc = ig_wh_append_end_row(app, err);
        else ig_err(err, rc, "cannot stage row %u of the sheet", row->index);
        if (!rc) (*nrows)++;
        if (!rc && lc->prog) ig_progress_add(lc->prog, 0, 1);
    }
    if (app) {
        ig_rc rc2 = ig_wh_appender_close(app, rc ? NULL : err);
        if (!rc) rc = rc2;
    }
    if (sh) ig_xlsx_sheet_close(sh);
    ig_xlsx_close(book);
    if (!rc) {
        for (uint32_t c = 0; c < ncols; c++) {
            if (c) ig_buf_puts(sel, ", ");
            ig_buf_printf(sel, "CAST(c%u AS %s) AS ", c, kind_type(lc->d, kinds[c]));
            ig_wh_quote_ident(wh, sel, names[c]);
        }
    }
    for (uint32_t c = 0; names && c < ncols; c++) free(names[c]);
    free(names);
    free(kinds);
    ig_buf_free(&q);
    return rc;
}
