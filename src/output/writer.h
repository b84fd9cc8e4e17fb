/* Internal to src/output: the writer object every format shares, and the
 * vtable each format fills (table.c, text.c, json.c, xlsx.c). writer.c owns
 * the destination (stdout or an atomically written file) and calls the
 * format's functions; a format writes to w->fp, except xlsx, which hands
 * w->fpath to libxlsxwriter. */
#ifndef IG_OUTPUT_WRITER_H
#define IG_OUTPUT_WRITER_H

#include "output/output.h"

typedef struct ig__out_vt {
    /* Columns are in w->cols; write the header. */
    ig_rc (*begin)(ig_out_writer *w, ig_error *err);
    ig_rc (*row)(ig_out_writer *w, const ig_value *vals, ig_error *err);
    /* Trailer / footer; the file is flushed and renamed by writer.c after. */
    ig_rc (*finish)(ig_out_writer *w, ig_error *err);
    /* Release the format's state (w->impl); called once, finished or not. */
    void (*free)(ig_out_writer *w);
} ig__out_vt;

struct ig_out_writer {
    const ig__out_vt *vt;
    ig_out_options o;
    FILE *fp;     /* text goes here: the caller's FILE or our temp file */
    FILE *dest;   /* the caller's FILE (NULL when writing to a path) */
    char *path;   /* final path, or NULL */
    char *fpath;  /* the file formats write (temp name), or NULL */
    bool owns_fp; /* fp is our temp file */
    bool began, finished;
    ig_out_column *cols; /* names owned */
    size_t ncols;
    int64_t rows;   /* rows written, plus rows counted past a cut */
    bool cut;       /* table: further rows are only counted */
    ig_buf scratch; /* for a format's row building */
    void *impl;     /* the format's state */
};

extern const ig__out_vt ig__out_table, ig__out_csv, ig__out_tsv, ig__out_markdown, ig__out_json,
    ig__out_ndjson, ig__out_xlsx;

/* Numeric column types, right-aligned in tables. */
bool ig__out_is_numeric(ig_type t);
/* True when s (n bytes) is a JSON number literal. */
bool ig__out_json_number(const char *s, size_t n);
/* The null text for this writer (options or the format's default). */
const char *ig__out_null_text(const ig_out_writer *w);
/* fwrite to w->fp; IG_ERR_IO naming the destination when the stream is in
 * error (a full disk, a closed pipe). */
ig_rc ig__out_put(ig_out_writer *w, const void *p, size_t n, ig_error *err);

#endif
