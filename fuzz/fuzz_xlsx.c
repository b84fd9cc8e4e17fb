/* libFuzzer driver for the XLSX reader. An input is either
 *   - a zip file (starts with "PK"): opened as is with ig_xlsx_open_buffer, or
 *   - XML parts separated by "\n|||\n" (workbook.xml, sheet1.xml,
 *     sharedStrings.xml, styles.xml, sheet2.xml), which the driver packs
 *     into a stored (uncompressed) zip with fixed relationships, so that the
 *     fuzzer mutates the XML directly instead of deflate streams.
 * Every sheet is opened and read to the end; the first with header
 * detection. Limits are small so that the fuzzer finds limit paths too.
 * Build:
 *   clang -fsanitize=fuzzer,address,undefined -Isrc $(pkg-config --cflags libzip expat) \
 *     fuzz/fuzz_xlsx.c src/ingest/files/xlsx.c $(find src/core -name '*.c') \
 *     $(pkg-config --libs libzip expat) -o fuzz_xlsx
 * Run: ./fuzz_xlsx -max_len=65536 WORKDIR fuzz/corpus/xlsx (new inputs go to WORKDIR) */
#include "core/buf.h"
#include "ingest/files/xlsx.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint32_t crc_table[256];

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    if (!crc_table[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            crc_table[i] = c;
        }
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static void put16(ig_buf *b, uint32_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    ig_buf_append(b, x, 2);
}

static void put32(ig_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    ig_buf_append(b, x, 4);
}

typedef struct entry {
    const char *name;
    const uint8_t *data;
    size_t len;
} entry;

/* A stored zip of the entries. */
static void make_zip(ig_buf *z, const entry *e, size_t n)
{
    uint32_t offs[16];
    for (size_t i = 0; i < n; i++) {
        offs[i] = (uint32_t)z->len;
        uint32_t crc = crc32_of(e[i].data, e[i].len);
        put32(z, 0x04034b50); put16(z, 20); put16(z, 0); put16(z, 0); put16(z, 0); put16(z, 0);
        put32(z, crc); put32(z, (uint32_t)e[i].len); put32(z, (uint32_t)e[i].len);
        put16(z, (uint32_t)strlen(e[i].name)); put16(z, 0);
        ig_buf_puts(z, e[i].name);
        ig_buf_append(z, e[i].data, e[i].len);
    }
    uint32_t cd = (uint32_t)z->len;
    for (size_t i = 0; i < n; i++) {
        uint32_t crc = crc32_of(e[i].data, e[i].len);
        put32(z, 0x02014b50); put16(z, 20); put16(z, 20); put16(z, 0); put16(z, 0);
        put16(z, 0); put16(z, 0); put32(z, crc); put32(z, (uint32_t)e[i].len);
        put32(z, (uint32_t)e[i].len); put16(z, (uint32_t)strlen(e[i].name)); put16(z, 0);
        put16(z, 0); put16(z, 0); put16(z, 0); put32(z, 0); put32(z, offs[i]);
        ig_buf_puts(z, e[i].name);
    }
    uint32_t cdlen = (uint32_t)z->len - cd;
    put32(z, 0x06054b50); put16(z, 0); put16(z, 0); put16(z, (uint32_t)n); put16(z, (uint32_t)n);
    put32(z, cdlen); put32(z, cd); put16(z, 0);
}

#define REL "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
static const char PKG_RELS[] =
    "<Relationships><Relationship Id=\"rId1\" Type=\"" REL "/officeDocument\" "
    "Target=\"xl/workbook.xml\"/></Relationships>";
static const char WB_RELS[] =
    "<Relationships>"
    "<Relationship Id=\"rId1\" Type=\"" REL "/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
    "<Relationship Id=\"rId2\" Type=\"" REL "/worksheet\" Target=\"worksheets/sheet2.xml\"/>"
    "<Relationship Id=\"rId3\" Type=\"" REL "/sharedStrings\" Target=\"sharedStrings.xml\"/>"
    "<Relationship Id=\"rId4\" Type=\"" REL "/styles\" Target=\"styles.xml\"/>"
    "</Relationships>";

static void read_book(ig_xlsx_book *book)
{
    ig_error err;
    for (size_t i = 0; i < ig_xlsx_sheet_count(book); i++) {
        ig_xlsx_sheet *s;
        const ig_xlsx_row *row, *h;
        if (ig_xlsx_sheet_open(book, ig_xlsx_sheet_at(book, i)->name, &s, &err)) continue;
        if (i == 0) ig_xlsx_sheet_header(s, NULL, &h, &err);
        size_t guard = 0;
        while (!ig_xlsx_next_row(s, &row, &err) && row && guard++ < 100000) {
            for (size_t c = 0; c < row->ncells; c++)
                if (row->cells[c].text[row->cells[c].len] != '\0') abort();
            ig_xlsx_row_get(row, 3);
        }
        ig_xlsx_sheet_close(s);
    }
    ig_xlsx_sheet_open(book, "no such sheet", &(ig_xlsx_sheet *){NULL}, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ig_xlsx_limits lim = {
        .max_total_bytes = 8u << 20,
        .max_entry_bytes = 4u << 20,
        .ratio_min_bytes = 1u << 20,
        .max_sst_bytes = 1u << 20,
        .max_sst_count = 10000,
        .max_cell_bytes = 64u << 10,
        .max_row_bytes = 1u << 20,
        .max_token_bytes = 1u << 20,
        .max_sheets = 100,
        .max_styles = 10000,
    };
    ig_xlsx_book *book;
    ig_error err;
    if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
        if (!ig_xlsx_open_buffer(data, size, "fuzz.xlsx", &lim, &book, &err)) {
            read_book(book);
            ig_xlsx_close(book);
        }
        return 0;
    }
    static const char *names[] = {"xl/workbook.xml", "xl/worksheets/sheet1.xml",
                                  "xl/sharedStrings.xml", "xl/styles.xml",
                                  "xl/worksheets/sheet2.xml"};
    entry e[8];
    size_t n = 0;
    e[n++] = (entry){"_rels/.rels", (const uint8_t *)PKG_RELS, sizeof PKG_RELS - 1};
    e[n++] = (entry){"xl/_rels/workbook.xml.rels", (const uint8_t *)WB_RELS, sizeof WB_RELS - 1};
    const uint8_t *p = data, *end = data + size;
    for (size_t k = 0; k < 5 && p <= end; k++) {
        const uint8_t *sep = NULL;
        for (const uint8_t *q = p; q + 5 <= end; q++)
            if (memcmp(q, "\n|||\n", 5) == 0) {
                sep = q;
                break;
            }
        const uint8_t *stop = sep ? sep : end;
        e[n++] = (entry){names[k], p, (size_t)(stop - p)};
        if (!sep) break;
        p = sep + 5;
    }
    ig_buf z = IG_BUF_INIT;
    make_zip(&z, e, n);
    if (!ig_xlsx_open_buffer(z.data, z.len, "fuzz.xlsx", &lim, &book, &err)) {
        read_book(book);
        ig_xlsx_close(book);
    }
    ig_buf_free(&z);
    return 0;
}
