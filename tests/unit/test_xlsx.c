/* Unit tests for the XLSX reader (src/ingest/files/xlsx.c). Workbooks are
 * generated: with libxlsxwriter for what a real writer produces (typed
 * cells, number formats, shared strings, several sheets, constant-memory
 * inline strings), and as hand-built zips of XML parts (libzip) for what
 * libxlsxwriter cannot write: the 1904 date system, rich-text and phonetic
 * shared strings, booleans and errors, missing `r` attributes, prefixed
 * namespaces, and every kind of hostile file. Each test gets a fresh
 * temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/buf.h"
#include "ingest/files/xlsx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>
#include <zip.h>

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ig_xlsx_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tpath(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

/* ------------------------------------------------------- zip building */

typedef struct zpart {
    const char *name;
    const char *data; /* NUL-terminated unless len is set */
    size_t len;
} zpart;

static void write_zip(const char *path, const zpart *parts, size_t n)
{
    int zerr;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(z);
    for (size_t i = 0; i < n; i++) {
        size_t len = parts[i].len ? parts[i].len : strlen(parts[i].data);
        zip_source_t *src = zip_source_buffer(z, parts[i].data, len, 0);
        assert_non_null(src);
        assert_true(zip_file_add(z, parts[i].name, src, ZIP_FL_OVERWRITE) >= 0);
    }
    assert_int_equal(zip_close(z), 0);
}

#define XHDR "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
#define NS_MAIN "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#define NS_REL "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define NS_PKG "http://schemas.openxmlformats.org/package/2006/relationships"

static const char *CT = XHDR "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
                             "<Default Extension=\"xml\" ContentType=\"application/xml\"/></Types>";
static const char *PKG_RELS =
    XHDR "<Relationships xmlns=\"" NS_PKG "\"><Relationship Id=\"rId1\" Type=\"" NS_REL
         "/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>";
static const char *WB_RELS =
    XHDR "<Relationships xmlns=\"" NS_PKG "\">"
         "<Relationship Id=\"rId1\" Type=\"" NS_REL "/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
         "<Relationship Id=\"rId2\" Type=\"" NS_REL "/worksheet\" Target=\"/xl/worksheets/sheet2.xml\"/>"
         "<Relationship Id=\"rId3\" Type=\"" NS_REL "/chartsheet\" Target=\"chartsheets/sheet1.xml\"/>"
         "<Relationship Id=\"rId8\" Type=\"" NS_REL "/sharedStrings\" Target=\"sharedStrings.xml\"/>"
         "<Relationship Id=\"rId9\" Type=\"" NS_REL "/styles\" Target=\"styles.xml\"/>"
         "</Relationships>";
static const char *WB_ONE =
    XHDR "<workbook xmlns=\"" NS_MAIN "\" xmlns:r=\"" NS_REL "\"><sheets>"
         "<sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
static const char *WB_1904 =
    XHDR "<workbook xmlns=\"" NS_MAIN "\" xmlns:r=\"" NS_REL "\"><workbookPr date1904=\"1\"/>"
         "<sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";

/* styles: xf 0 General, 1 builtin 14 (date), 2 builtin 22 (datetime),
 * 3 builtin 21 (time), 4..: custom formats 164.. listed in `fmts`. */
static char *styles_xml(const char *const *fmts, size_t n)
{
    ig_buf b = IG_BUF_INIT;
    ig_buf_puts(&b, XHDR "<styleSheet xmlns=\"" NS_MAIN "\"><numFmts>");
    for (size_t i = 0; i < n; i++) ig_buf_printf(&b, "<numFmt numFmtId=\"%zu\" formatCode=\"%s\"/>", 164 + i, fmts[i]);
    ig_buf_puts(&b, "</numFmts><cellStyleXfs count=\"1\"><xf numFmtId=\"14\"/></cellStyleXfs>"
                    "<cellXfs><xf numFmtId=\"0\"/><xf numFmtId=\"14\" applyNumberFormat=\"1\"/>"
                    "<xf numFmtId=\"22\"/><xf numFmtId=\"21\"/>");
    for (size_t i = 0; i < n; i++) ig_buf_printf(&b, "<xf numFmtId=\"%zu\"/>", 164 + i);
    ig_buf_puts(&b, "</cellXfs></styleSheet>");
    return ig_buf_steal(&b);
}

/* A one-sheet workbook from a sheetData body (rows), with optional shared
 * strings body and styles document; wb NULL means WB_ONE. */
static const char *mk_book(const char *name, const char *wb, const char *rows, const char *sst,
                           const char *styles)
{
    char *sheet = NULL, *sstx = NULL;
    ig_buf b = IG_BUF_INIT;
    ig_buf_printf(&b, XHDR "<worksheet xmlns=\"" NS_MAIN "\" xmlns:r=\"" NS_REL
                           "\"><dimension ref=\"A1\"/><sheetData>%s</sheetData></worksheet>",
                  rows);
    sheet = ig_buf_steal(&b);
    zpart parts[8] = {{"[Content_Types].xml", CT, 0},    {"_rels/.rels", PKG_RELS, 0},
                      {"xl/workbook.xml", wb ? wb : WB_ONE, 0},
                      {"xl/_rels/workbook.xml.rels", WB_RELS, 0},
                      {"xl/worksheets/sheet1.xml", sheet, 0}};
    size_t n = 5;
    if (sst) {
        ig_buf_printf(&b, XHDR "<sst xmlns=\"" NS_MAIN "\">%s</sst>", sst);
        sstx = ig_buf_steal(&b);
        parts[n++] = (zpart){"xl/sharedStrings.xml", sstx, 0};
    }
    if (styles) parts[n++] = (zpart){"xl/styles.xml", styles, 0};
    const char *path = tpath(name);
    write_zip(path, parts, n);
    free(sheet);
    free(sstx);
    return path;
}

/* --------------------------------------------------------- reading */

/* Dump a sheet as "A1:string:Name B1:number:3\n..." (NULL sheet: first). */
static char *dump_sheet(ig_xlsx_book *book, const char *sheet, ig_error *err, ig_rc *rcp)
{
    ig_xlsx_sheet *s;
    ig_buf out = IG_BUF_INIT;
    ig_rc rc = ig_xlsx_sheet_open(book, sheet, &s, err);
    if (!rc) {
        const ig_xlsx_row *row;
        while (!(rc = ig_xlsx_next_row(s, &row, err)) && row) {
            for (size_t i = 0; i < row->ncells; i++) {
                const ig_xlsx_cell *c = &row->cells[i];
                char col[4];
                ig_xlsx_col_name(c->col, col);
                assert_int_equal(strlen(c->text), c->len);
                ig_buf_printf(&out, "%s%s%u:%s:%s", i ? " " : "", col, row->index,
                              ig_xlsx_type_name(c->type), c->text);
            }
            ig_buf_putc(&out, '\n');
        }
        ig_xlsx_sheet_close(s);
    }
    *rcp = rc;
    if (!out.data) ig_buf_puts(&out, "");
    return ig_buf_steal(&out);
}

/* Open a book and dump its first sheet; asserts success. */
static char *read_all(const char *path)
{
    ig_xlsx_book *book;
    ig_error err;
    ig_error_clear(&err);
    ig_rc rc = ig_xlsx_open(path, NULL, &book, &err);
    if (rc) fprintf(stderr, "open: %s (%s)\n", err.message, err.detail);
    assert_int_equal(rc, 0);
    char *d = dump_sheet(book, NULL, &err, &rc);
    if (rc) fprintf(stderr, "read: %s (%s)\n", err.message, err.detail);
    assert_int_equal(rc, 0);
    ig_xlsx_close(book);
    return d;
}

/* Open (with limits) and read every sheet; returns the first failure's rc. */
static ig_rc read_fail(const char *path, const ig_xlsx_limits *lim, ig_error *err)
{
    ig_xlsx_book *book;
    ig_error_clear(err);
    ig_rc rc = ig_xlsx_open(path, lim, &book, err);
    if (rc) return rc;
    for (size_t i = 0; i < ig_xlsx_sheet_count(book) && !rc; i++) {
        if (ig_xlsx_sheet_at(book, i)->kind != IG_XLSX_WORKSHEET) continue;
        char *d = dump_sheet(book, ig_xlsx_sheet_at(book, i)->name, err, &rc);
        free(d);
    }
    ig_xlsx_close(book);
    return rc;
}

static ig_rc read_fail_buffer(const void *data, size_t n, ig_error *err)
{
    ig_xlsx_book *book;
    ig_error_clear(err);
    ig_rc rc = ig_xlsx_open_buffer(data, n, "buf.xlsx", NULL, &book, err);
    if (rc) return rc;
    for (size_t i = 0; i < ig_xlsx_sheet_count(book) && !rc; i++) {
        ig_xlsx_sheet *s;
        const ig_xlsx_row *row;
        if ((rc = ig_xlsx_sheet_open(book, ig_xlsx_sheet_at(book, i)->name, &s, err))) {
            if (rc == IG_ERR_DATA) break;
            continue;
        }
        while (!(rc = ig_xlsx_next_row(s, &row, err)) && row) {
        }
        ig_xlsx_sheet_close(s);
    }
    ig_xlsx_close(book);
    return rc;
}

#define assert_contains(hay, needle)                                                           \
    do {                                                                                       \
        if (!strstr((hay), (needle))) {                                                        \
            fprintf(stderr, "'%s' does not contain '%s'\n", (hay), (needle));                  \
            fail();                                                                            \
        }                                                                                      \
    } while (0)

#define assert_dump(path, expect)                                                              \
    do {                                                                                       \
        char *d_ = read_all(path);                                                             \
        if (strcmp(d_, (expect)) != 0)                                                         \
            fprintf(stderr, "got:\n%s\nexpected:\n%s\n", d_, (expect));                        \
        assert_string_equal(d_, (expect));                                                     \
        free(d_);                                                                              \
    } while (0)

/* ---------------------------------------------------- libxlsxwriter */

static void test_xlsxwriter_types(void **state)
{
    (void)state;
    const char *path = tpath("types.xlsx");
    lxw_workbook *wb = workbook_new(path);
    lxw_worksheet *ws = workbook_add_worksheet(wb, "Data");
    lxw_worksheet *ws2 = workbook_add_worksheet(wb, "Zweite Übersicht");
    lxw_worksheet *ws3 = workbook_add_worksheet(wb, "Hidden");
    worksheet_hide(ws3);
    lxw_format *fdate = workbook_add_format(wb);
    format_set_num_format(fdate, "yyyy-mm-dd");
    lxw_format *f14 = workbook_add_format(wb);
    format_set_num_format_index(f14, 14);
    lxw_format *fdt = workbook_add_format(wb);
    format_set_num_format(fdt, "yyyy-mm-dd hh:mm:ss");
    lxw_format *ftime = workbook_add_format(wb);
    format_set_num_format(ftime, "hh:mm");
    lxw_format *fnum = workbook_add_format(wb);
    format_set_num_format(fnum, "0.00");
    lxw_format *fdays = workbook_add_format(wb);
    format_set_num_format(fdays, "0 \"days\"");
    lxw_format *fred = workbook_add_format(wb);
    format_set_num_format(fred, "[Red]0.0;[Blue]-0.0");

    worksheet_write_string(ws, 0, 0, "Name", NULL);
    worksheet_write_string(ws, 0, 1, "Amount", NULL);
    worksheet_write_string(ws, 0, 2, "When", NULL);
    worksheet_write_string(ws, 1, 0, "Ålesund café", NULL);
    worksheet_write_number(ws, 1, 1, 3.5, fnum);
    lxw_datetime d1 = {2024, 2, 29, 0, 0, 0};
    worksheet_write_datetime(ws, 1, 2, &d1, fdate);
    worksheet_write_datetime(ws, 1, 3, &d1, f14);
    lxw_datetime d2 = {2023, 12, 31, 23, 59, 30.5};
    worksheet_write_datetime(ws, 1, 4, &d2, fdt);
    lxw_datetime t1 = {0, 0, 0, 13, 45, 0};
    worksheet_write_datetime(ws, 1, 5, &t1, ftime);
    worksheet_write_boolean(ws, 2, 0, 1, NULL);
    worksheet_write_boolean(ws, 2, 1, 0, NULL);
    worksheet_write_formula_str(ws, 2, 2, "=\"A\"&\"B\"", NULL, "AB");
    worksheet_write_formula_num(ws, 2, 3, "=1+2", NULL, 3);
    worksheet_write_number(ws, 2, 4, 12, fdays);
    worksheet_write_number(ws, 2, 5, -1.25, fred);
    worksheet_write_string(ws, 4, 27, "far", NULL); /* AB5 after an empty row */
    worksheet_write_string(ws, 5, 0, "  padded  ", NULL);
    worksheet_write_number(ws, 6, 0, 44927.75, fdate); /* date format, time part */
    worksheet_write_string(ws2, 0, 0, "x", NULL);
    worksheet_write_string(ws3, 0, 0, "secret", NULL);
    assert_int_equal(workbook_close(wb), LXW_NO_ERROR);

    ig_xlsx_book *book;
    ig_error err;
    ig_rc rc = ig_xlsx_open(path, NULL, &book, &err);
    if (rc) fprintf(stderr, "%s\n", err.message);
    assert_int_equal(rc, 0);
    assert_int_equal(ig_xlsx_sheet_count(book), 3);
    assert_string_equal(ig_xlsx_sheet_at(book, 0)->name, "Data");
    assert_string_equal(ig_xlsx_sheet_at(book, 1)->name, "Zweite Übersicht");
    assert_string_equal(ig_xlsx_sheet_at(book, 2)->name, "Hidden");
    assert_false(ig_xlsx_sheet_at(book, 0)->hidden);
    assert_true(ig_xlsx_sheet_at(book, 2)->hidden);
    assert_string_equal(ig_xlsx_sheet_at(book, 0)->part, "xl/worksheets/sheet1.xml");
    assert_false(ig_xlsx_date1904(book));
    char *d = dump_sheet(book, "zweite übersicht", &err, &rc); /* case-insensitive */
    assert_int_equal(rc, 0);
    assert_string_equal(d, "A1:string:x\n");
    free(d);
    d = dump_sheet(book, "Hidden", &err, &rc);
    assert_string_equal(d, "A1:string:secret\n");
    free(d);
    ig_xlsx_close(book);

    assert_dump(path, "A1:string:Name B1:string:Amount C1:string:When\n"
                      "A2:string:Ålesund café B2:number:3.5 C2:date:2024-02-29 D2:date:2024-02-29 "
                      "E2:datetime:2023-12-31T23:59:30.500 F2:time:13:45:00\n"
                      "A3:bool:TRUE B3:bool:FALSE C3:string:AB D3:number:3 E3:number:12 "
                      "F3:number:-1.25\n"
                      "AB5:string:far\n"
                      "A6:string:  padded  \n"
                      "A7:datetime:2023-01-01T18:00:00\n");
}

static void test_xlsxwriter_numbers_and_values(void **state)
{
    (void)state;
    const char *path = tpath("vals.xlsx");
    lxw_workbook *wb = workbook_new(path);
    lxw_worksheet *ws = workbook_add_worksheet(wb, NULL);
    worksheet_write_number(ws, 0, 0, 0.1, NULL);
    worksheet_write_number(ws, 0, 1, 1e100, NULL);
    worksheet_write_number(ws, 0, 2, -42, NULL);
    assert_int_equal(workbook_close(wb), LXW_NO_ERROR);
    ig_xlsx_book *book;
    ig_xlsx_sheet *s;
    ig_error err;
    const ig_xlsx_row *row;
    assert_int_equal(ig_xlsx_open(path, NULL, &book, &err), 0);
    assert_int_equal(ig_xlsx_sheet_open(book, NULL, &s, &err), 0);
    assert_string_equal(ig_xlsx_sheet_name(s), "Sheet1");
    assert_int_equal(ig_xlsx_next_row(s, &row, &err), 0);
    assert_non_null(row);
    assert_int_equal(row->ncells, 3);
    assert_true(row->cells[0].number == 0.1);
    assert_true(row->cells[1].number == 1e100);
    assert_true(row->cells[2].number == -42);
    assert_int_equal(ig_xlsx_row_get(row, 2)->type, IG_XLSX_NUMBER);
    assert_int_equal(ig_xlsx_row_get(row, 3)->type, IG_XLSX_EMPTY);
    assert_string_equal(ig_xlsx_row_get(row, 9)->text, "");
    assert_int_equal(ig_xlsx_next_row(s, &row, &err), 0);
    assert_null(row);
    assert_int_equal(ig_xlsx_next_row(s, &row, &err), 0); /* stays at the end */
    assert_null(row);
    ig_xlsx_sheet_close(s);
    ig_xlsx_close(book);
}

/* A big sheet in constant-memory mode (inline strings) streams through. */
static void test_stream_large(void **state)
{
    (void)state;
    const char *path = tpath("big.xlsx");
    lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = tmpdir};
    lxw_workbook *wb = workbook_new_opt(path, &opt);
    lxw_worksheet *ws = workbook_add_worksheet(wb, "Big");
    const uint32_t nrows = 60000;
    for (uint32_t r = 0; r < nrows; r++) {
        worksheet_write_number(ws, r, 0, r, NULL);
        worksheet_write_string(ws, r, 1, "some text to make the sheet bigger", NULL);
        worksheet_write_number(ws, r, 2, r * 0.5, NULL);
    }
    assert_int_equal(workbook_close(wb), LXW_NO_ERROR);
    ig_xlsx_book *book;
    ig_xlsx_sheet *s;
    ig_error err;
    const ig_xlsx_row *row;
    assert_int_equal(ig_xlsx_open(path, NULL, &book, &err), 0);
    assert_int_equal(ig_xlsx_sheet_open(book, "Big", &s, &err), 0);
    uint32_t n = 0;
    ig_rc rc;
    while (!(rc = ig_xlsx_next_row(s, &row, &err)) && row) {
        assert_int_equal(row->index, n + 1);
        assert_int_equal(row->ncells, 3);
        assert_true(row->cells[0].number == n);
        assert_int_equal(row->cells[1].type, IG_XLSX_STRING);
        n++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, nrows);
    ig_xlsx_sheet_close(s);

    /* the same file from memory */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)len);
    assert_int_equal(fread(data, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    ig_xlsx_book *mbook;
    assert_int_equal(ig_xlsx_open_buffer(data, (size_t)len, "upload.xlsx", NULL, &mbook, &err), 0);
    assert_int_equal(ig_xlsx_sheet_open(mbook, NULL, &s, &err), 0);
    n = 0;
    while (!ig_xlsx_next_row(s, &row, &err) && row) n++;
    assert_int_equal(n, nrows);
    ig_xlsx_sheet_close(s);
    ig_xlsx_close(mbook);
    free(data);

    /* reading a sheet again does not count twice against max_total_bytes */
    zip_t *z = zip_open(path, ZIP_RDONLY, NULL);
    zip_stat_t zst;
    assert_int_equal(zip_stat(z, "xl/worksheets/sheet1.xml", 0, &zst), 0);
    zip_discard(z);
    ig_xlsx_limits big = {.max_total_bytes = zst.size + zst.size / 2}; /* < 2 reads */
    ig_xlsx_book *b2;
    assert_int_equal(ig_xlsx_open(path, &big, &b2, &err), 0);
    for (int pass = 0; pass < 3; pass++) {
        assert_int_equal(ig_xlsx_sheet_open(b2, NULL, &s, &err), 0);
        n = 0;
        while (!(rc = ig_xlsx_next_row(s, &row, &err)) && row) n++;
        if (rc) fprintf(stderr, "%s\n", err.message);
        assert_int_equal(rc, 0);
        assert_int_equal(n, nrows);
        ig_xlsx_sheet_close(s);
    }
    ig_xlsx_close(b2);

    /* a small total cap stops it with IG_ERR_LIMIT naming the sheet's part */
    ig_xlsx_limits lim = {.max_total_bytes = 1 << 20};
    ig_xlsx_close(book);
    assert_int_equal(read_fail(path, &lim, &err), IG_ERR_LIMIT);
    assert_contains(err.message, "xl/worksheets/sheet1.xml");
    assert_contains(err.message, "max_total_bytes");
}

/* ---------------------------------------------------- hand-built parts */

static void test_cell_types_handbuilt(void **state)
{
    (void)state;
    const char *sst =
        "<si><t>plain</t></si>"
        "<si><r><rPr><b/></rPr><t>bold</t></r><r><t xml:space=\"preserve\"> and plain</t></r>"
        "<rPh sb=\"0\" eb=\"1\"><t>PHONETIC</t></rPh></si>"
        "<si><t xml:space=\"preserve\">  spaced  </t></si>"
        "<si><t>line1_x000D__x000A_line2 _x005F_x0041_ &amp; &lt;tag&gt;</t></si>"
        "<si><t></t></si>";
    const char *rows =
        "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c>"
        "<c r=\"C1\" t=\"s\"><v>2</v></c><c r=\"D1\" t=\"s\"><v>3</v></c>"
        "<c r=\"E1\" t=\"s\"><v>4</v></c></row>"
        "<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>inline</t></is></c>"
        "<c r=\"B2\" t=\"inlineStr\"><is><r><t>ri</t></r><r><t>ch</t></r></is></c>"
        "<c r=\"C2\" t=\"b\"><v>1</v></c><c r=\"D2\" t=\"b\"><v>0</v></c>"
        "<c r=\"E2\" t=\"e\"><f>1/0</f><v>#DIV/0!</v></c><c r=\"F2\" t=\"e\"><v>#N/A</v></c>"
        "<c r=\"G2\" t=\"str\"><f>A1&amp;\"x\"</f><v>plainx</v></c>"
        "<c r=\"H2\" t=\"d\"><v>2024-05-06</v></c><c r=\"I2\" t=\"d\"><v>2024-05-06T07:08:09</v></c>"
        "<c r=\"J2\" s=\"1\"/><c r=\"K2\"><v></v></c><c r=\"L2\" t=\"str\"><v></v></c></row>"
        /* no r attributes at all: positions */
        "<row><c><v>1</v></c><c t=\"inlineStr\"><is><t>b</t></is></c><c><v>3</v></c></row>"
        "<row r=\"5\" spans=\"1:3\" ht=\"20\"/>" /* formatting only: skipped */
        /* sparse, out of order, duplicate (the last wins), the very last column */
        "<row r=\"7\"><c r=\"D7\"><v>4</v></c><c r=\"A7\"><v>1</v></c><c r=\"D7\"><v>44</v></c>"
        "<c r=\"XFD7\"><v>9</v></c></row>"
        /* a positional cell after an explicit one continues from it */
        "<row r=\"8\"><c r=\"C8\"><v>1</v></c><c><v>2</v></c></row>"
        "<row r=\"1048576\"><c r=\"A1048576\"><v>-1.5E-3</v></c></row>";
    const char *path = mk_book("types.xlsx", NULL, rows, sst, NULL);
    assert_dump(path, "A1:string:plain B1:string:bold and plain C1:string:  spaced   "
                      "D1:string:line1\r\nline2 _x0041_ & <tag>\n"
                      "A2:string:inline B2:string:rich C2:bool:TRUE D2:bool:FALSE E2:error:#DIV/0! "
                      "F2:error:#N/A G2:string:plainx H2:date:2024-05-06 "
                      "I2:datetime:2024-05-06T07:08:09\n"
                      "A3:number:1 B3:string:b C3:number:3\n"
                      "A7:number:1 D7:number:44 XFD7:number:9\n"
                      "C8:number:1 D8:number:2\n"
                      "A1048576:number:-1.5E-3\n");
}

/* Elements with a namespace prefix (x:row) as some .NET writers produce. */
static void test_prefixed_namespace(void **state)
{
    (void)state;
    zpart parts[] = {
        {"_rels/.rels", PKG_RELS, 0},
        {"xl/workbook.xml",
         XHDR "<x:workbook xmlns:x=\"" NS_MAIN "\" xmlns:r=\"" NS_REL "\"><x:sheets>"
              "<x:sheet name=\"P\" sheetId=\"1\" r:id=\"rId1\"/></x:sheets></x:workbook>", 0},
        {"xl/_rels/workbook.xml.rels", WB_RELS, 0},
        {"xl/worksheets/sheet1.xml",
         XHDR "<x:worksheet xmlns:x=\"" NS_MAIN "\"><x:sheetData><x:row r=\"1\">"
              "<x:c r=\"A1\" t=\"inlineStr\"><x:is><x:t>hi</x:t></x:is></x:c></x:row>"
              "</x:sheetData></x:worksheet>", 0},
    };
    const char *path = tpath("prefixed.xlsx");
    write_zip(path, parts, 4);
    assert_dump(path, "A1:string:hi\n");
}

static const char *const FMTS[] = {
    "yyyy-mm-dd",            /* 4: date */
    "h:mm:ss AM/PM",         /* 5: time */
    "0.0 &quot;d&quot;",     /* 6: quoted text: number */
    "[Red]0.00",             /* 7: colour: number */
    "[h]:mm:ss",             /* 8: elapsed: number */
    "mmm\\-yy",              /* 9: month name: date */
    "[$-409]dddd\\,\\ mmmm\\ dd\\,\\ yyyy", /* 10: locale + date */
    "mm:ss.0",               /* 11: minutes: time */
    "0.00E+00",              /* 12: scientific: number */
    "General",               /* 13: number */
    "dd/mm/yyyy hh:mm",      /* 14: datetime */
    "#,##0_);[Red]\\(#,##0\\)", /* 15: number */
};

static void test_number_formats(void **state)
{
    (void)state;
    char *styles = styles_xml(FMTS, sizeof FMTS / sizeof FMTS[0]);
    const char *rows =
        "<row r=\"1\"><c r=\"A1\" s=\"4\"><v>45000</v></c><c r=\"B1\" s=\"5\"><v>0.75</v></c>"
        "<c r=\"C1\" s=\"6\"><v>2</v></c><c r=\"D1\" s=\"7\"><v>45000</v></c>"
        "<c r=\"E1\" s=\"8\"><v>1.5</v></c><c r=\"F1\" s=\"9\"><v>45000</v></c>"
        "<c r=\"G1\" s=\"10\"><v>45000</v></c><c r=\"H1\" s=\"11\"><v>0.0006</v></c>"
        "<c r=\"I1\" s=\"12\"><v>45000</v></c><c r=\"J1\" s=\"13\"><v>45000</v></c>"
        "<c r=\"K1\" s=\"14\"><v>45000.5</v></c><c r=\"L1\" s=\"15\"><v>45000</v></c></row>"
        "<row r=\"2\"><c r=\"A2\" s=\"1\"><v>45000</v></c><c r=\"B2\" s=\"2\"><v>45000</v></c>"
        "<c r=\"C2\" s=\"3\"><v>0.5</v></c><c r=\"D2\" s=\"3\"><v>45000.25</v></c>"
        "<c r=\"E2\" s=\"1\"><v>-5</v></c><c r=\"F2\" s=\"99\"><v>45000</v></c>"
        "<c r=\"G2\" s=\"1\"><v>3000000</v></c></row>";
    const char *path = mk_book("fmts.xlsx", NULL, rows, NULL, styles);
    assert_dump(path, "A1:date:2023-03-15 B1:time:18:00:00 C1:number:2 D1:number:45000 "
                      "E1:number:1.5 F1:date:2023-03-15 G1:date:2023-03-15 H1:time:00:00:51.840 "
                      "I1:number:45000 J1:number:45000 K1:datetime:2023-03-15T12:00:00 "
                      "L1:number:45000\n"
                      "A2:date:2023-03-15 B2:datetime:2023-03-15T00:00:00 C2:time:12:00:00 "
                      "D2:datetime:2023-03-15T06:00:00 E2:number:-5 F2:number:45000 "
                      "G2:number:3000000\n");
    free(styles);
}

static void test_date_systems(void **state)
{
    (void)state;
    char *styles = styles_xml(NULL, 0);
    const char *rows = "<row r=\"1\"><c r=\"A1\" s=\"1\"><v>0</v></c><c r=\"B1\" s=\"1\"><v>1</v></c>"
                       "<c r=\"C1\" s=\"1\"><v>59</v></c><c r=\"D1\" s=\"1\"><v>60</v></c>"
                       "<c r=\"E1\" s=\"1\"><v>61</v></c><c r=\"F1\" s=\"2\"><v>1462.5</v></c>"
                       "<c r=\"G1\" s=\"1\"><v>2958465</v></c></row>";
    const char *p1900 = mk_book("d1900.xlsx", NULL, rows, NULL, styles);
    assert_dump(p1900, "A1:date:1899-12-31 B1:date:1900-01-01 C1:date:1900-02-28 "
                       "D1:date:1900-02-29 E1:date:1900-03-01 F1:datetime:1904-01-01T12:00:00 "
                       "G1:date:9999-12-31\n");
    const char *p1904 = mk_book("d1904.xlsx", WB_1904, rows, NULL, styles);
    assert_dump(p1904, "A1:date:1904-01-01 B1:date:1904-01-02 C1:date:1904-02-29 "
                       "D1:date:1904-03-01 E1:date:1904-03-02 F1:datetime:1908-01-02T12:00:00 "
                       "G1:number:2958465\n");
    ig_xlsx_book *book;
    ig_error err;
    assert_int_equal(ig_xlsx_open(p1904, NULL, &book, &err), 0);
    assert_true(ig_xlsx_date1904(book));
    ig_xlsx_close(book);
    free(styles);

    char buf[40];
    assert_true(ig_xlsx_serial_to_iso(45000.999999, false, false, buf, sizeof buf));
    assert_string_equal(buf, "2023-03-15T23:59:59.914");
    assert_true(ig_xlsx_serial_to_iso(45000.9999999999, false, false, buf, sizeof buf));
    assert_string_equal(buf, "2023-03-16T00:00:00"); /* rounds to the millisecond */
    assert_false(ig_xlsx_serial_to_iso(-1, false, false, buf, sizeof buf));
    assert_false(ig_xlsx_serial_to_iso(1.0 / 0.0, false, false, buf, sizeof buf));
}

static void test_refs(void **state)
{
    (void)state;
    uint32_t c, r;
    char buf[4];
    assert_true(ig_xlsx_parse_ref("A1", &c, &r));
    assert_int_equal(c, 0);
    assert_int_equal(r, 1);
    assert_true(ig_xlsx_parse_ref("XFD1048576", &c, &r));
    assert_int_equal(c, 16383);
    assert_int_equal(r, 1048576);
    assert_true(ig_xlsx_parse_ref("ab12", &c, &r));
    assert_int_equal(c, 27);
    assert_false(ig_xlsx_parse_ref("XFE1", &c, &r));
    assert_false(ig_xlsx_parse_ref("A1048577", &c, &r));
    assert_false(ig_xlsx_parse_ref("A0", &c, &r));
    assert_false(ig_xlsx_parse_ref("1A", &c, &r));
    assert_false(ig_xlsx_parse_ref("", &c, &r));
    assert_false(ig_xlsx_parse_ref("AAAA1", &c, &r));
    assert_false(ig_xlsx_parse_ref("$A$1", &c, &r));
    assert_true(ig_xlsx_parse_ref("AB", &c, NULL));
    assert_false(ig_xlsx_parse_ref("AB", &c, &r));
    for (uint32_t i = 0; i < IG_XLSX_MAX_COLS; i++) {
        ig_xlsx_col_name(i, buf);
        assert_true(ig_xlsx_parse_ref(buf, &c, NULL));
        assert_int_equal(c, i);
    }
    ig_xlsx_col_name(16383, buf);
    assert_string_equal(buf, "XFD");
    ig_xlsx_col_name(26, buf);
    assert_string_equal(buf, "AA");
}

/* ---------------------------------------------------- header detection */

static void test_header_pick(void **state)
{
    (void)state;
    ig_xlsx_cell title[] = {{0, IG_XLSX_STRING, "Sales report", 12, 0}};
    ig_xlsx_cell note[] = {{0, IG_XLSX_STRING, "Generated", 9, 0}, {1, IG_XLSX_DATE, "2024-01-01", 10, 45292}};
    ig_xlsx_cell hdr[] = {{0, IG_XLSX_STRING, "Region", 6, 0}, {1, IG_XLSX_STRING, "Q1", 2, 0},
                          {2, IG_XLSX_STRING, "Q2", 2, 0}, {3, IG_XLSX_NUMBER, "2024", 4, 2024}};
    ig_xlsx_cell data[] = {{0, IG_XLSX_STRING, "North", 5, 0}, {1, IG_XLSX_NUMBER, "1", 1, 1},
                           {2, IG_XLSX_NUMBER, "2", 1, 2}, {3, IG_XLSX_NUMBER, "3", 1, 3}};
    ig_xlsx_row rows[] = {{1, 1, title}, {2, 2, note}, {4, 4, hdr}, {5, 4, data}, {6, 4, data}};
    assert_int_equal(ig_xlsx_pick_header(rows, 5), 2);
    assert_int_equal(ig_xlsx_pick_header(rows + 2, 3), 0);
    assert_int_equal(ig_xlsx_pick_header(rows + 3, 2), -1); /* data only */
    assert_int_equal(ig_xlsx_pick_header(rows, 0), -1);
    ig_xlsx_row only[] = {{1, 4, hdr}}; /* a header with no data yet */
    assert_int_equal(ig_xlsx_pick_header(only, 1), 0);
}

static void test_header_sheet(void **state)
{
    (void)state;
    const char *rows =
        "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>Monthly sales</t></is></c></row>"
        "<row r=\"3\"><c r=\"A3\" t=\"inlineStr\"><is><t>id</t></is></c>"
        "<c r=\"B3\" t=\"inlineStr\"><is><t>name</t></is></c>"
        "<c r=\"C3\" t=\"inlineStr\"><is><t>amount</t></is></c></row>"
        "<row r=\"4\"><c r=\"A4\"><v>1</v></c><c r=\"B4\" t=\"inlineStr\"><is><t>a</t></is></c>"
        "<c r=\"C4\"><v>9.5</v></c></row>"
        "<row r=\"5\"><c r=\"A5\"><v>2</v></c><c r=\"B5\" t=\"inlineStr\"><is><t>b</t></is></c></row>";
    const char *path = mk_book("hdr.xlsx", NULL, rows, NULL, NULL);
    ig_xlsx_book *book;
    ig_xlsx_sheet *s;
    ig_error err;
    const ig_xlsx_row *h, *row;
    assert_int_equal(ig_xlsx_open(path, NULL, &book, &err), 0);

    /* detected: row 3, data continues at 4 */
    assert_int_equal(ig_xlsx_sheet_open(book, NULL, &s, &err), 0);
    assert_int_equal(ig_xlsx_sheet_header(s, NULL, &h, &err), 0);
    assert_non_null(h);
    assert_int_equal(h->index, 3);
    assert_int_equal(h->ncells, 3);
    assert_string_equal(h->cells[2].text, "amount");
    assert_int_equal(ig_xlsx_next_row(s, &row, &err), 0);
    assert_int_equal(row->index, 4);
    assert_string_equal(h->cells[0].text, "id"); /* still valid */
    assert_int_equal(ig_xlsx_next_row(s, &row, &err), 0);
    assert_int_equal(row->index, 5);
    assert_int_equal(ig_xlsx_next_row(s, &row, &err), 0);
    assert_null(row);
    const ig_xlsx_row *h2;
    assert_int_equal(ig_xlsx_sheet_header(s, NULL, &h2, &err), IG_ERR_USAGE);
    ig_xlsx_sheet_close(s);
    assert_string_equal(h->cells[1].text, "name"); /* the header outlives the sheet */

    /* forced to row 1 */
    ig_xlsx_header_opts o = {.force_row = 1};
    assert_int_equal(ig_xlsx_sheet_open(book, NULL, &s, &err), 0);
    assert_int_equal(ig_xlsx_sheet_header(s, &o, &h, &err), 0);
    assert_int_equal(h->index, 1);
    assert_string_equal(h->cells[0].text, "Monthly sales");
    assert_int_equal(ig_xlsx_next_row(s, &row, &err), 0);
    assert_int_equal(row->index, 3);
    ig_xlsx_sheet_close(s);

    /* forced to row 2, which is empty: an empty header, data from row 3 */
    o.force_row = 2;
    assert_int_equal(ig_xlsx_sheet_open(book, NULL, &s, &err), 0);
    assert_int_equal(ig_xlsx_sheet_header(s, &o, &h, &err), 0);
    assert_int_equal(h->index, 2);
    assert_int_equal(h->ncells, 0);
    assert_int_equal(ig_xlsx_next_row(s, &row, &err), 0);
    assert_int_equal(row->index, 3);
    ig_xlsx_sheet_close(s);

    /* forced beyond the end */
    o.force_row = 100;
    assert_int_equal(ig_xlsx_sheet_open(book, NULL, &s, &err), 0);
    assert_int_equal(ig_xlsx_sheet_header(s, &o, &h, &err), 0);
    assert_int_equal(h->index, 100);
    assert_int_equal(ig_xlsx_next_row(s, &row, &err), 0);
    assert_null(row);
    ig_xlsx_sheet_close(s);
    ig_xlsx_close(book);

    /* all numbers: no header, every row is data */
    path = mk_book("nohdr.xlsx", NULL,
                   "<row r=\"1\"><c r=\"A1\"><v>1</v></c><c r=\"B1\"><v>2</v></c></row>"
                   "<row r=\"2\"><c r=\"A2\"><v>3</v></c></row>",
                   NULL, NULL);
    assert_int_equal(ig_xlsx_open(path, NULL, &book, &err), 0);
    assert_int_equal(ig_xlsx_sheet_open(book, NULL, &s, &err), 0);
    assert_int_equal(ig_xlsx_sheet_header(s, NULL, &h, &err), 0);
    assert_null(h);
    assert_int_equal(ig_xlsx_next_row(s, &row, &err), 0);
    assert_int_equal(row->index, 1);
    ig_xlsx_sheet_close(s);
    ig_xlsx_close(book);
}

/* ---------------------------------------------------- hostile input */

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void test_not_xlsx(void **state)
{
    (void)state;
    ig_error err;
    ig_xlsx_book *book;
    assert_int_equal(ig_xlsx_open(tpath("missing.xlsx"), NULL, &book, &err), IG_ERR_NOT_FOUND);
    assert_null(book);

    const char *p = tpath("csv.xlsx");
    write_file(p, "a,b\n1,2\n", 8);
    assert_int_equal(ig_xlsx_open(p, NULL, &book, &err), IG_ERR_DATA);
    assert_contains(err.message, "not an XLSX file");
    assert_contains(err.hint, "zip archive");
    assert_string_equal(err.file, p);

    p = tpath("empty.xlsx");
    write_file(p, "", 0);
    assert_int_equal(ig_xlsx_open(p, NULL, &book, &err), IG_ERR_DATA);
    assert_contains(err.hint, "empty");

    static const unsigned char ole[16] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
    p = tpath("old.xls");
    write_file(p, ole, sizeof ole);
    assert_int_equal(ig_xlsx_open(p, NULL, &book, &err), IG_ERR_DATA);
    assert_contains(err.hint, ".xls");

    assert_int_equal(ig_xlsx_open(tmpdir, NULL, &book, &err), IG_ERR_IO);

    assert_int_equal(ig_xlsx_open_buffer("PK\3\4junk", 9, "up.xlsx", NULL, &book, &err), IG_ERR_DATA);
    assert_contains(err.hint, "damaged");
    assert_int_equal(ig_xlsx_open_buffer(NULL, 0, "up.xlsx", NULL, &book, &err), IG_ERR_DATA);
}

static void test_zip_not_workbook(void **state)
{
    (void)state;
    ig_error err;
    ig_xlsx_book *book;
    zpart doc[] = {{"word/document.xml", "<w/>", 0}};
    const char *p = tpath("doc.docx");
    write_zip(p, doc, 1);
    assert_int_equal(ig_xlsx_open(p, NULL, &book, &err), IG_ERR_DATA);
    assert_contains(err.message, "no xl/workbook.xml");
    assert_contains(err.hint, "Word");
    zpart xlsb[] = {{"xl/workbook.bin", "x", 0}};
    write_zip(p, xlsb, 1);
    assert_int_equal(ig_xlsx_open(p, NULL, &book, &err), IG_ERR_DATA);
    assert_contains(err.hint, ".xlsb");
    zpart other[] = {{"hello.txt", "x", 0}};
    write_zip(p, other, 1);
    assert_int_equal(ig_xlsx_open(p, NULL, &book, &err), IG_ERR_DATA);
    /* workbook without rels: sheets are listed but cannot be opened */
    zpart norels[] = {{"xl/workbook.xml", WB_ONE, 0}};
    write_zip(p, norels, 1);
    assert_int_equal(ig_xlsx_open(p, NULL, &book, &err), 0);
    assert_int_equal(ig_xlsx_sheet_count(book), 1);
    ig_xlsx_sheet *s;
    assert_int_equal(ig_xlsx_sheet_open(book, NULL, &s, &err), IG_ERR_DATA);
    assert_contains(err.message, "no part");
    ig_xlsx_close(book);
    /* rels point at a part that is not in the zip */
    zpart gone[] = {{"xl/workbook.xml", WB_ONE, 0}, {"xl/_rels/workbook.xml.rels", WB_RELS, 0}};
    write_zip(p, gone, 2);
    assert_int_equal(ig_xlsx_open(p, NULL, &book, &err), 0);
    assert_int_equal(ig_xlsx_sheet_open(book, NULL, &s, &err), IG_ERR_DATA);
    assert_contains(err.message, "xl/worksheets/sheet1.xml is missing");
    ig_xlsx_close(book);
}

static void test_truncated(void **state)
{
    (void)state;
    const char *path = tpath("full.xlsx");
    lxw_workbook *wb = workbook_new(path);
    lxw_worksheet *ws = workbook_add_worksheet(wb, NULL);
    for (int r = 0; r < 2000; r++) worksheet_write_number(ws, r, 0, r, NULL);
    assert_int_equal(workbook_close(wb), LXW_NO_ERROR);
    FILE *f = fopen(path, "rb");
    static char data[1 << 20];
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);
    ig_error err;
    ig_xlsx_book *book;
    /* every cut is a clean error (most: the central directory is gone) */
    for (size_t cut = 0; cut < n; cut += n / 37 + 1) {
        ig_rc rc = ig_xlsx_open_buffer(data, cut, "cut.xlsx", NULL, &book, &err);
        assert_int_not_equal(rc, 0);
        assert_int_equal(rc, IG_ERR_DATA);
    }
    /* damage 64 bytes at many places: always a clean result */
    static char copy[1 << 20];
    int failures = 0;
    for (size_t at = 0; at + 64 < n; at += n / 53 + 1) {
        memcpy(copy, data, n);
        for (size_t i = at; i < at + 64; i++) copy[i] ^= 0x5A;
        ig_rc rc = read_fail_buffer(copy, n, &err);
        assert_true(rc == 0 || rc == IG_ERR_DATA || rc == IG_ERR_LIMIT);
        failures += rc != 0;
    }
    assert_true(failures > 0);
}

static void test_malformed_xml(void **state)
{
    (void)state;
    ig_error err;
    const char *p = mk_book("bad.xlsx", NULL,
                            "<row r=\"1\"><c r=\"A1\"><v>1</v></c></row>\n"
                            "<row r=\"2\"><c r=\"A2\"><v>2</v></row>",
                            NULL, NULL);
    assert_int_equal(read_fail(p, NULL, &err), IG_ERR_DATA);
    assert_contains(err.message, "sheet 'Sheet1'");
    assert_contains(err.message, "xl/worksheets/sheet1.xml:3:");
    assert_contains(err.message, "mismatched tag");
    /* the good row before the damage comes out; after the error the sheet stays failed */
    ig_xlsx_book *book;
    ig_xlsx_sheet *s;
    const ig_xlsx_row *row;
    assert_int_equal(ig_xlsx_open(p, NULL, &book, &err), 0);
    assert_int_equal(ig_xlsx_sheet_open(book, NULL, &s, &err), 0);
    assert_int_equal(ig_xlsx_next_row(s, &row, &err), 0);
    assert_int_equal(row->index, 1);
    assert_int_equal(ig_xlsx_next_row(s, &row, &err), IG_ERR_DATA);
    assert_null(row);
    assert_int_equal(ig_xlsx_next_row(s, &row, &err), IG_ERR_DATA);
    assert_contains(err.message, "failed earlier");
    ig_xlsx_sheet_close(s);
    ig_xlsx_close(book);

    zpart parts[] = {{"_rels/.rels", PKG_RELS, 0}, {"xl/workbook.xml", "<workbook><sheets>", 0}};
    p = tpath("badwb.xlsx");
    write_zip(p, parts, 2);
    assert_int_equal(read_fail(p, NULL, &err), IG_ERR_DATA);
    assert_contains(err.message, "xl/workbook.xml:1:");

    /* DOCTYPE with an entity bomb is refused before any expansion */
    zpart dt[] = {{"xl/workbook.xml",
                   "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
                   "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
                   "<workbook><sheets><sheet name=\"&lol2;\"/></sheets></workbook>", 0}};
    write_zip(p, dt, 1);
    assert_int_equal(read_fail(p, NULL, &err), IG_ERR_DATA);
    assert_contains(err.message, "DOCTYPE");
    assert_contains(err.detail, "xl/workbook.xml");
}

static void test_bad_cells(void **state)
{
    (void)state;
    ig_error err;
    struct {
        const char *rows, *msg;
        ig_rc rc;
    } cases[] = {
        {"<row r=\"1\"><c r=\"XFE1\"><v>1</v></c></row>", "'XFE1' is malformed or out of range", IG_ERR_DATA},
        {"<row r=\"1\"><c r=\"A1048577\"><v>1</v></c></row>", "A1048577", IG_ERR_DATA},
        {"<row r=\"1048577\"><c><v>1</v></c></row>", "row number '1048577'", IG_ERR_DATA},
        {"<row r=\"x\"/>", "row number 'x'", IG_ERR_DATA},
        {"<row r=\"1\"><c r=\"A1\" t=\"s\"><v>5</v></c></row>", "cell A1: shared string index 5 is out of range", IG_ERR_DATA},
        {"<row r=\"1\"><c r=\"B1\" t=\"s\"><v>x</v></c></row>", "cell B1: shared string index 'x'", IG_ERR_DATA},
        {"<row r=\"2\"><c r=\"C2\"><v>12abc</v></c></row>", "cell C2: '12abc' is not a number", IG_ERR_DATA},
        {"<row r=\"1\"><c r=\"A1\"><v>1e999</v></c></row>", "not a number", IG_ERR_DATA},
        {"<row r=\"1\"><c r=\"A1\"><v>nan</v></c></row>", "not a number", IG_ERR_DATA},
        {"<row r=\"1\"><c r=\"A1\" t=\"b\"><v>2</v></c></row>", "boolean", IG_ERR_DATA},
        {"<row r=\"1\"><c r=\"A1\" t=\"zz\"><v>2</v></c></row>", "unknown type", IG_ERR_DATA},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = mk_book("cells.xlsx", NULL, cases[i].rows, "<si><t>a</t></si>", NULL);
        ig_rc rc = read_fail(p, NULL, &err);
        if (rc != cases[i].rc || !strstr(err.message, cases[i].msg))
            fprintf(stderr, "case %zu: rc %d message '%s'\n", i, rc, err.message);
        assert_int_equal(rc, cases[i].rc);
        assert_contains(err.message, cases[i].msg);
        assert_contains(err.detail, "xl/worksheets/sheet1.xml, line");
    }
    /* more than XFD by position */
    ig_buf b = IG_BUF_INIT;
    ig_buf_puts(&b, "<row r=\"1\"><c r=\"XFD1\"><v>1</v></c><c><v>2</v></c></row>");
    const char *p = mk_book("wide.xlsx", NULL, b.data, NULL, NULL);
    assert_int_equal(read_fail(p, NULL, &err), IG_ERR_DATA);
    assert_contains(err.message, "beyond column XFD");
    /* the same cell over and over */
    ig_buf_reset(&b);
    ig_buf_puts(&b, "<row r=\"1\">");
    for (int i = 0; i < 20000; i++) ig_buf_puts(&b, "<c r=\"A1\"><v>1</v></c>");
    ig_buf_puts(&b, "</row>");
    p = mk_book("dup.xlsx", NULL, b.data, NULL, NULL);
    assert_int_equal(read_fail(p, NULL, &err), IG_ERR_DATA);
    assert_contains(err.message, "more than 16384 cells");
    ig_buf_free(&b);
}

static void test_limits(void **state)
{
    (void)state;
    ig_error err;
    /* a long cell, a long shared string, a long row */
    ig_buf b = IG_BUF_INIT;
    ig_buf_puts(&b, "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>");
    for (int i = 0; i < 5000; i++) ig_buf_puts(&b, "0123456789");
    ig_buf_puts(&b, "</t></is></c></row>");
    const char *p = mk_book("long.xlsx", NULL, b.data, NULL, NULL);
    ig_xlsx_limits lim = {.max_cell_bytes = 1000};
    assert_int_equal(read_fail(p, &lim, &err), IG_ERR_LIMIT);
    assert_contains(err.message, "cell A1 holds more than 1000 bytes");
    assert_int_equal(read_fail(p, NULL, &err), 0);

    ig_buf_reset(&b);
    ig_buf_puts(&b, "<row r=\"1\">");
    for (int i = 0; i < 100; i++) ig_buf_puts(&b, "<c t=\"inlineStr\"><is><t>0123456789</t></is></c>");
    ig_buf_puts(&b, "</row>");
    p = mk_book("row.xlsx", NULL, b.data, NULL, NULL);
    ig_xlsx_limits lim2 = {.max_row_bytes = 500};
    assert_int_equal(read_fail(p, &lim2, &err), IG_ERR_LIMIT);
    assert_contains(err.message, "max_row_bytes");

    /* shared strings: declared count, real count, bytes */
    p = mk_book("sst.xlsx", NULL, "<row><c t=\"s\"><v>0</v></c></row>",
                "<si><t>a</t></si><si><t>b</t></si><si><t>c</t></si>", NULL);
    ig_xlsx_limits lim3 = {.max_sst_count = 2};
    assert_int_equal(read_fail(p, &lim3, &err), IG_ERR_LIMIT);
    assert_contains(err.message, "more than 2 shared strings");
    ig_xlsx_limits lim4 = {.max_sst_bytes = 4};
    assert_int_equal(read_fail(p, &lim4, &err), IG_ERR_LIMIT);
    assert_contains(err.message, "max_sst_bytes");
    zpart huge[] = {{"_rels/.rels", PKG_RELS, 0},
                    {"xl/workbook.xml", WB_ONE, 0},
                    {"xl/_rels/workbook.xml.rels", WB_RELS, 0},
                    {"xl/worksheets/sheet1.xml", "<worksheet><sheetData/></worksheet>", 0},
                    {"xl/sharedStrings.xml", "<sst count=\"4000000000\" uniqueCount=\"4000000000\"><si><t>a</t></si></sst>", 0}};
    p = tpath("hugesst.xlsx");
    write_zip(p, huge, 5);
    assert_int_equal(read_fail(p, NULL, &err), IG_ERR_LIMIT);
    assert_contains(err.message, "declares 4000000000 strings");

    /* deep nesting */
    ig_buf_reset(&b);
    ig_buf_puts(&b, "<row r=\"1\"><c r=\"A1\"><v>1</v></c></row>");
    for (int i = 0; i < 100000; i++) ig_buf_puts(&b, "<x>");
    p = mk_book("deep.xlsx", NULL, b.data, NULL, NULL);
    assert_int_equal(read_fail(p, NULL, &err), IG_ERR_LIMIT);
    assert_contains(err.message, "nested more than 128");

    /* one huge tag (an attribute of 2 MB) */
    ig_buf_reset(&b);
    ig_buf_puts(&b, "<row r=\"1\" junk=\"");
    for (int i = 0; i < 200000; i++) ig_buf_puts(&b, "0123456789");
    ig_buf_puts(&b, "\"/>");
    p = mk_book("tag.xlsx", NULL, b.data, NULL, NULL);
    ig_xlsx_limits lim5 = {.max_token_bytes = 1 << 20};
    assert_int_equal(read_fail(p, &lim5, &err), IG_ERR_LIMIT);
    assert_contains(err.message, "max_token_bytes");
    ig_buf_free(&b);
}

/* A zip bomb: a sheet of 64 MB of whitespace compresses ~1000:1. */
static void test_zip_bomb(void **state)
{
    (void)state;
    ig_error err;
    size_t n = 64u << 20;
    char *big = malloc(n + 200);
    int k = snprintf(big, 200, "<worksheet><sheetData>");
    memset(big + k, ' ', n);
    strcpy(big + k + n, "</sheetData></worksheet>");
    zpart parts[] = {{"_rels/.rels", PKG_RELS, 0},
                     {"xl/workbook.xml", WB_ONE, 0},
                     {"xl/_rels/workbook.xml.rels", WB_RELS, 0},
                     {"xl/worksheets/sheet1.xml", big, 0}};
    const char *p = tpath("bomb.xlsx");
    write_zip(p, parts, 4);
    free(big);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_true(st.st_size < (1 << 20));
    assert_int_equal(read_fail(p, NULL, &err), IG_ERR_LIMIT);
    assert_contains(err.message, "xl/worksheets/sheet1.xml");
    assert_contains(err.message, "expands more than 100 times");
    /* with the ratio allowed, the entry cap catches it from the zip's sizes */
    ig_xlsx_limits lim = {.max_ratio = 100000, .max_entry_bytes = 32u << 20};
    assert_int_equal(read_fail(p, &lim, &err), IG_ERR_LIMIT);
    assert_contains(err.message, "xl/worksheets/sheet1.xml");
    /* and with both allowed, it reads (it is only whitespace) */
    ig_xlsx_limits lim2 = {.max_ratio = 100000};
    assert_int_equal(read_fail(p, &lim2, &err), 0);
}

static void test_sheet_names(void **state)
{
    (void)state;
    const char *wb =
        XHDR "<workbook xmlns=\"" NS_MAIN "\" xmlns:r=\"" NS_REL "\"><sheets>"
             "<sheet name=\"Sales 2024\" sheetId=\"1\" r:id=\"rId1\"/>"
             "<sheet name=\"Costs\" sheetId=\"2\" r:id=\"rId2\" state=\"veryHidden\"/>"
             "<sheet name=\"Chart\" sheetId=\"3\" r:id=\"rId3\"/></sheets></workbook>";
    const char *sheet2 = XHDR "<worksheet xmlns=\"" NS_MAIN "\"><sheetData><row r=\"1\"><c r=\"A1\"><v>2</v>"
                              "</c></row></sheetData></worksheet>";
    zpart parts[] = {{"_rels/.rels", PKG_RELS, 0},
                     {"xl/workbook.xml", wb, 0},
                     {"xl/_rels/workbook.xml.rels", WB_RELS, 0},
                     {"xl/worksheets/sheet1.xml", "<worksheet><sheetData/></worksheet>", 0},
                     {"xl/worksheets/sheet2.xml", sheet2, 0},
                     {"xl/chartsheets/sheet1.xml", "<chartsheet/>", 0}};
    const char *p = tpath("names.xlsx");
    write_zip(p, parts, 6);
    ig_xlsx_book *book;
    ig_xlsx_sheet *s;
    ig_error err;
    assert_int_equal(ig_xlsx_open(p, NULL, &book, &err), 0);
    assert_int_equal(ig_xlsx_sheet_count(book), 3);
    assert_true(ig_xlsx_sheet_at(book, 1)->hidden);
    assert_int_equal(ig_xlsx_sheet_at(book, 2)->kind, IG_XLSX_CHARTSHEET);
    assert_string_equal(ig_xlsx_sheet_at(book, 1)->part, "xl/worksheets/sheet2.xml");
    assert_null(ig_xlsx_sheet_at(book, 3));
    assert_int_equal(ig_xlsx_sheet_open(book, "Sales 2023", &s, &err), IG_ERR_NOT_FOUND);
    assert_contains(err.message, "no sheet named 'Sales 2023'");
    assert_contains(err.detail, "'Sales 2024', 'Costs', 'Chart'");
    assert_contains(err.hint, "did you mean 'Sales 2024'?");
    assert_int_equal(ig_xlsx_sheet_open(book, "Zzzzzzzz", &s, &err), IG_ERR_NOT_FOUND);
    assert_contains(err.hint, "use one of");
    assert_int_equal(ig_xlsx_sheet_open(book, "Chart", &s, &err), IG_ERR_DATA);
    assert_contains(err.message, "chart sheet");
    ig_rc rc;
    char *d = dump_sheet(book, "Costs", &err, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(d, "A1:number:2\n");
    free(d);
    d = dump_sheet(book, NULL, &err, &rc); /* first worksheet: empty */
    assert_int_equal(rc, 0);
    assert_string_equal(d, "");
    free(d);
    /* two sheets open at once */
    ig_xlsx_sheet *a, *c;
    const ig_xlsx_row *ra, *rc2;
    assert_int_equal(ig_xlsx_sheet_open(book, "Costs", &a, &err), 0);
    assert_int_equal(ig_xlsx_sheet_open(book, "costs", &c, &err), 0);
    assert_int_equal(ig_xlsx_next_row(a, &ra, &err), 0);
    assert_int_equal(ig_xlsx_next_row(c, &rc2, &err), 0);
    assert_string_equal(ra->cells[0].text, "2");
    assert_string_equal(rc2->cells[0].text, "2");
    ig_xlsx_sheet_close(a);
    ig_xlsx_sheet_close(c);
    ig_xlsx_close(book);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_xlsxwriter_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsxwriter_numbers_and_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cell_types_handbuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefixed_namespace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_number_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_date_systems, setup, teardown),
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_header_pick),
        cmocka_unit_test_setup_teardown(test_header_sheet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_xlsx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zip_not_workbook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_xml, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_cells, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zip_bomb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sheet_names, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
