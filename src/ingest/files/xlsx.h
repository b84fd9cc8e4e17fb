/* XLSX reader: a small streaming reader for Excel workbooks (Office Open XML
 * spreadsheets) on libzip + expat, used by the file-ingestion layer to land
 * workbooks in the lake and bronze. A book is opened once (workbook, rels,
 * styles are read; shared strings when the first sheet is opened); a sheet
 * is then read one row at a time, the sheet XML parsed in chunks straight
 * out of the zip entry, so a sheet of any size takes memory of one row.
 * Every size that comes from the file is capped (ig_xlsx_limits) and every
 * bad input is an ig_error naming the workbook, the part and the cell.
 * See docs/internals/xlsx.md for the subset of the format handled. */
#ifndef IG_XLSX_H
#define IG_XLSX_H

#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IG_XLSX_MAX_COLS 16384u   /* A..XFD */
#define IG_XLSX_MAX_ROWS 1048576u

typedef struct ig_xlsx_book ig_xlsx_book;
typedef struct ig_xlsx_sheet ig_xlsx_sheet;

/* Caps on what a (possibly hostile) file can make us do. A field left 0
 * takes the default shown. Exceeding one is IG_ERR_LIMIT naming the part. */
typedef struct ig_xlsx_limits {
    uint64_t max_total_bytes;  /* decompressed bytes of all entries read (1 GiB); an
                                  entry read twice (two passes) counts once */
    uint64_t max_entry_bytes;  /* decompressed bytes of one zip entry (1 GiB) */
    uint32_t max_ratio;        /* decompressed/compressed of an entry ... (100) */
    uint64_t ratio_min_bytes;  /* ... once it has produced this many bytes (8 MiB) */
    uint64_t max_sst_bytes;    /* text held for the shared strings table (256 MiB) */
    uint32_t max_sst_count;    /* strings in the shared strings table (16 Mi) */
    uint32_t max_cell_bytes;   /* text of one cell (1 MiB; Excel allows 32767 chars) */
    uint64_t max_row_bytes;    /* text of one row, all cells (64 MiB) */
    uint32_t max_depth;        /* XML element nesting (128, at most 256) */
    uint32_t max_token_bytes;  /* one XML tag, comment or PI (16 MiB) */
    uint32_t max_sheets;       /* sheets in the workbook (10000) */
    uint32_t max_styles;       /* cell formats in styles.xml (1 Mi) */
} ig_xlsx_limits;

/* Fill *l with the defaults. */
void ig_xlsx_limits_default(ig_xlsx_limits *l);

typedef enum ig_xlsx_type {
    IG_XLSX_EMPTY = 0, /* no value (only from ig_xlsx_row_get) */
    IG_XLSX_NUMBER,    /* number: `number`; text as written in the file */
    IG_XLSX_STRING,    /* shared, inline or formula string: text */
    IG_XLSX_BOOL,      /* number 0/1; text "TRUE"/"FALSE" */
    IG_XLSX_DATE,      /* date format, integral serial: text "YYYY-MM-DD" */
    IG_XLSX_DATETIME,  /* date/time format: text "YYYY-MM-DDTHH:MM:SS[.mmm]" */
    IG_XLSX_TIME,      /* time-only format, serial in [0,1): text "HH:MM:SS[.mmm]" */
    IG_XLSX_ERROR,     /* formula error: text like "#DIV/0!", number 0 */
} ig_xlsx_type;

/* Name of a type ("number", "string", ...); static. */
const char *ig_xlsx_type_name(ig_xlsx_type t);

typedef struct ig_xlsx_cell {
    uint32_t col;      /* 0-based column (A = 0) */
    ig_xlsx_type type;
    const char *text;  /* borrowed, NUL-terminated, never NULL (see row lifetime) */
    size_t len;        /* bytes of text */
    double number;     /* value of NUMBER, BOOL; the serial of DATE/DATETIME/TIME */
} ig_xlsx_cell;

typedef struct ig_xlsx_row {
    uint32_t index;            /* 1-based sheet row number */
    size_t ncells;             /* cells with a value, ascending by col, no duplicates */
    const ig_xlsx_cell *cells;
} ig_xlsx_row;

typedef enum ig_xlsx_sheet_kind {
    IG_XLSX_WORKSHEET = 0,
    IG_XLSX_CHARTSHEET,        /* listed, but has no cells to read */
    IG_XLSX_OTHERSHEET,        /* macro or dialog sheet: listed, not readable */
} ig_xlsx_sheet_kind;

typedef struct ig_xlsx_sheet_info {
    const char *name;          /* as shown on the tab */
    const char *part;          /* zip entry, e.g. "xl/worksheets/sheet1.xml" */
    ig_xlsx_sheet_kind kind;
    bool hidden;               /* state="hidden" or "veryHidden" */
} ig_xlsx_sheet_info;

/* Open a workbook file. limits may be NULL (defaults). Reads the package
 * relationships, workbook.xml and its rels, and styles.xml. On success the
 * caller closes *book with ig_xlsx_close. Errors: IG_ERR_NOT_FOUND (no file),
 * IG_ERR_IO, IG_ERR_DATA (not a zip, not a workbook, malformed XML, with a
 * hint when the file is an .xls, .xlsb, .ods or .docx), IG_ERR_LIMIT. */
ig_rc ig_xlsx_open(const char *path, const ig_xlsx_limits *limits, ig_xlsx_book **book,
                   ig_error *err);

/* As ig_xlsx_open on bytes in memory; `name` is used in errors. data is
 * borrowed and must stay valid until ig_xlsx_close. */
ig_rc ig_xlsx_open_buffer(const void *data, size_t len, const char *name,
                          const ig_xlsx_limits *limits, ig_xlsx_book **book, ig_error *err);

/* Close a book (NULL is fine). Every sheet of the book must be closed first. */
void ig_xlsx_close(ig_xlsx_book *book);

/* Sheets in workbook order. Borrowed; valid until ig_xlsx_close. */
size_t ig_xlsx_sheet_count(const ig_xlsx_book *book);
const ig_xlsx_sheet_info *ig_xlsx_sheet_at(const ig_xlsx_book *book, size_t i);

/* True when the workbook uses the 1904 date system. */
bool ig_xlsx_date1904(const ig_xlsx_book *book);

/* Open a sheet by name (exact, else case-insensitive as Excel does), or the
 * first worksheet when name is NULL. Loads the shared strings table the first
 * time. Caller closes *sheet with ig_xlsx_sheet_close before closing the
 * book; several sheets may be open at once. Errors: IG_ERR_NOT_FOUND listing
 * the sheets that exist and suggesting the nearest name; IG_ERR_DATA for a
 * chart sheet or a missing part; IG_ERR_LIMIT. */
ig_rc ig_xlsx_sheet_open(ig_xlsx_book *book, const char *name, ig_xlsx_sheet **sheet,
                         ig_error *err);
void ig_xlsx_sheet_close(ig_xlsx_sheet *sheet);

/* Name of an open sheet; borrowed, valid until ig_xlsx_close. */
const char *ig_xlsx_sheet_name(const ig_xlsx_sheet *sheet);

/* Next row that has at least one value (rows of formatting only are
 * skipped; ->index tells where gaps are). *row is NULL at the end of the
 * sheet. The row and the text of its cells are borrowed and valid until the
 * next call on this sheet or its close; shared-string text until the book's
 * close. After an error the sheet stays in error: close it. Errors:
 * IG_ERR_DATA (malformed XML with part:line:col, bad cell reference or
 * value, naming the cell), IG_ERR_LIMIT. */
ig_rc ig_xlsx_next_row(ig_xlsx_sheet *sheet, const ig_xlsx_row **row, ig_error *err);

/* The cell of `row` at column col (0-based), or a static empty cell. */
const ig_xlsx_cell *ig_xlsx_row_get(const ig_xlsx_row *row, uint32_t col);

/* Header detection. Looks at up to `scan_rows` non-empty rows (0: 20, at
 * most 100) and picks the first whose cells are mostly non-empty strings,
 * about as wide as the widest row, and followed by a row with data; a title
 * line or notes above the table are skipped. */
typedef struct ig_xlsx_header_opts {
    uint32_t scan_rows;   /* rows to look at (0: 20) */
    uint32_t force_row;   /* 1-based sheet row number of the header; 0: detect */
} ig_xlsx_header_opts;

/* The pure heuristic: index into rows[0..n) of the header row, or -1 when
 * none looks like one (all numbers, say: the sheet has no header). */
long ig_xlsx_pick_header(const ig_xlsx_row *rows, size_t n);

/* Find the header of a freshly opened sheet (before any ig_xlsx_next_row):
 * reads ahead, sets *header to the header row (NULL when none was found;
 * then every row is data), and leaves the sheet so that ig_xlsx_next_row
 * continues with the first row after the header (rows above it are
 * skipped; with no header, from the first row). *header is borrowed from
 * the book: valid until ig_xlsx_close, after the sheet is closed too (each
 * call keeps one row copy in the book). opts may be NULL. With force_row, a header row
 * that is empty in the file gives a row with no cells. Errors as
 * ig_xlsx_next_row; IG_ERR_USAGE when rows were already read. */
ig_rc ig_xlsx_sheet_header(ig_xlsx_sheet *sheet, const ig_xlsx_header_opts *opts,
                           const ig_xlsx_row **header, ig_error *err);

/* Column letters of a 0-based column ("A", "AB", "XFD") into buf (>= 4 bytes). */
void ig_xlsx_col_name(uint32_t col, char buf[4]);

/* Parse a cell reference like "AB12" (letters then digits, no '$') into a
 * 0-based column and 1-based row; false when malformed or beyond
 * XFD1048576. row may be NULL; "AB" alone is a column when row is NULL. */
bool ig_xlsx_parse_ref(const char *ref, uint32_t *col, uint32_t *row);

/* Convert a date serial into ISO-8601 text in buf (>= 32 bytes): the date
 * ("YYYY-MM-DD") when `date_only`, else date and time to the millisecond
 * ("YYYY-MM-DDTHH:MM:SS", ".mmm" when not whole seconds). The 1900 system
 * keeps Excel's Lotus bug: serial 1 is 1900-01-01, 60 is "1900-02-29" (a
 * day that never was), 61 is 1900-03-01; the 1904 system counts from
 * 1904-01-01 = 0. false when the serial is negative, not finite or after
 * 9999-12-31. */
bool ig_xlsx_serial_to_iso(double serial, bool date1904, bool date_only, char *buf, size_t size);

#endif
