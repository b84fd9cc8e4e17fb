/* Result writers: turn a streaming query result into what a person or a
 * program reads -- an aligned table for the terminal, CSV, TSV, JSON, NDJSON,
 * a Markdown table, or an XLSX workbook -- without holding the result in
 * memory (the table keeps at most IG_OUT_TABLE_SAMPLE rows to size its
 * columns; XLSX uses libxlsxwriter's constant-memory mode).
 *
 * Objects and lifetimes:
 *   ig_out_writer  one result being written, to a FILE * the caller owns or
 *                  to a file path written atomically (a temporary name in
 *                  the same directory, renamed over the path only by a
 *                  successful ig_out_finish; ig_out_free of an unfinished
 *                  writer removes the temporary file).
 * Control flow: ig_out_open, ig_out_begin (the columns), ig_out_row per row,
 * ig_out_finish (trailer, footer, rename), ig_out_free. ig_out_cursor does
 * all of it for a warehouse cursor. One writer, one thread. */
#ifndef IG_OUTPUT_H
#define IG_OUTPUT_H

#include "core/buf.h"
#include "core/error.h"
#include "warehouse/warehouse.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    IG_OUT_TABLE,
    IG_OUT_CSV,
    IG_OUT_TSV,
    IG_OUT_JSON,
    IG_OUT_NDJSON,
    IG_OUT_MARKDOWN,
    IG_OUT_XLSX,
} ig_out_format;

/* Rows the table writer buffers to size its columns; later rows are fitted
 * (truncated with "…") into the widths found. */
#define IG_OUT_TABLE_SAMPLE 1000

/* Terminal width used when there is no terminal and no $COLUMNS. */
#define IG_OUT_DEFAULT_WIDTH 120

typedef struct ig_out_options {
    ig_out_format format;
    bool no_header;        /* csv, tsv: leave out the header row */
    const char *null_text; /* how NULL reads in table, csv, tsv, markdown;
                            * NULL: the format's default ("NULL" in table and
                            * markdown, empty in csv and tsv) */
    int width;             /* table: display columns available; 0: 120 */
    long max_rows;         /* table: rows shown before "… N more rows"; 0: all */
    bool color;            /* table: dim NULLs and the footer (ANSI) */
    bool ascii;            /* table: +-| borders instead of box drawing */
    bool footer;           /* table: "N rows (12ms)" under the table */
    uint64_t start_ns;     /* ig_now_ns() when the query started (footer) */
} ig_out_options;

typedef struct ig_out_column {
    const char *name;
    ig_type type;
} ig_out_column;

typedef struct ig_out_writer ig_out_writer;

/* Parse a format name ("table", "csv", "tsv", "json", "ndjson" or "jsonl",
 * "markdown" or "md", "xlsx"); false when unknown. */
bool ig_out_format_parse(const char *name, ig_out_format *out);
const char *ig_out_format_name(ig_out_format f);
/* The format a file name's extension implies (.csv, .tsv, .json, .ndjson,
 * .jsonl, .md, .xlsx, .txt for table); false when none. */
bool ig_out_format_from_path(const char *path, ig_out_format *out);
/* Comma-separated list of the format names, for messages. */
const char *ig_out_format_list(void);

/* Start writing. With `path`, the result goes atomically to that file: its
 * directory must exist (IG_ERR_NOT_FOUND naming the directory otherwise).
 * Without it, to `fp` (borrowed; for xlsx it must not be a terminal --
 * IG_ERR_USAGE with a hint to use --output -- and the workbook is built in a
 * temporary file and copied to fp at the end). Caller frees with
 * ig_out_free. */
ig_rc ig_out_open(const ig_out_options *o, const char *path, FILE *fp, ig_out_writer **out,
                  ig_error *err);
/* Declare the columns (names are copied). Writes the header. */
ig_rc ig_out_begin(ig_out_writer *w, const ig_out_column *cols, size_t ncols, ig_error *err);
/* Write one row: vals[0..ncols). Values are only read during the call. */
ig_rc ig_out_row(ig_out_writer *w, const ig_value *vals, ig_error *err);
/* Count a row that the table writer does not show (past max_rows) without
 * writing it; other formats write every row, so callers just use
 * ig_out_row. True when further rows are only counted. */
bool ig_out_rows_cut(const ig_out_writer *w);
void ig_out_count_row(ig_out_writer *w);
/* Finish: trailer and footer, flush, and for a path the rename that makes
 * the file appear. After an error nothing is left at the path. */
ig_rc ig_out_finish(ig_out_writer *w, ig_error *err);
/* Rows written (or counted) so far. */
int64_t ig_out_rows(const ig_out_writer *w);
/* Free; removes the temporary file of an unfinished writer. NULL is fine. */
void ig_out_free(ig_out_writer *w);

/* Stream a cursor (a query result) through a new writer to `path` or `fp`.
 * `*stop` (may be NULL) is polled between rows: when it becomes true the
 * write stops with IG_ERR_INTERRUPTED and nothing is left at path. *rows
 * (may be NULL) receives the row count. */
ig_rc ig_out_cursor(ig_wh_cursor *c, const ig_out_options *o, const char *path, FILE *fp,
                    volatile const int *stop, int64_t *rows, ig_error *err);

/* True when err says the reader of standard output went away (a closed
 * pipe, as `ingot query ... | head`): not worth reporting. */
bool ig_out_broken_pipe(const ig_error *err);

/* The line for a statement that returns no rows: "OK, 3 rows changed (12ms)"
 * for INSERT/UPDATE/DELETE/COPY (or a NULL statement), "OK, CREATE (1ms)"
 * for the others; the elapsed part only when start_ns is not 0. */
void ig_out_changed_line(ig_buf *b, const char *statement, int64_t changed, uint64_t start_ns);

/* Fill err->detail with the SQL line the error is about and a caret under
 * err->column, psql style:
 *     LINE 2: select nope from t
 *                    ^
 * Long lines are clipped around the column with "…"; tabs become spaces so
 * the caret lines up. Does nothing when err->line is 0 or out of range. */
void ig_out_sql_caret(ig_error *err, const char *sql, int width);

/* Display width for a table on `fd`: the terminal's (TIOCGWINSZ) when fd is
 * one, else $COLUMNS, else IG_OUT_DEFAULT_WIDTH. */
int ig_out_terminal_width(int fd);

/* Append the display form of a value's text for a table cell: control
 * characters as \n, \t, \r or \xNN, invalid UTF-8 bytes as \xNN. */
void ig_out_cell_text(ig_buf *b, const char *s, size_t n);

#endif
