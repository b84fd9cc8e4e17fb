/* Internal to src/ingest/files: the load context shared by the loaders
 * (load.c for what the warehouse reads itself, xlsx_load.c for workbooks
 * read by our reader). */
#ifndef IG_INGEST_INT_H
#define IG_INGEST_INT_H

#include "core/buf.h"
#include "core/progress.h"
#include "ingest/files/ingest.h"

typedef struct ig__load_ctx {
    const ig_ingest_opts *o;
    const char *format;          /* resolved */
    const ig_wh_ingest_dialect *d;
    char **varchar_cols;         /* columns forced to text after a failed cast */
    size_t nvarchar;
    bool json_lenient;
    bool csv_rejects;            /* the plain read failed: divert bad rows this time */           /* the strict JSON read failed: find bad lines first */
    ig_progress *prog;
    const char *tmp_dir;         /* the lake's scratch folder */
} ig__load_ctx;

void ig__load_ctx_free(ig__load_ctx *lc);

/* The ig_lake_load_fn of file batches. */
ig_rc ig__ingest_load_fn(void *ctx, ig_wh *wh, const ig_lake_manifest *m,
                         ig_lake_load_result *res, ig_error *err);

/* Read an XLSX batch into a staging table `stage` in schema ingot (inside
 * the open transaction) and append to sel the select list that types its
 * columns and names them as the header does. Rows get their sheet row
 * number in column "_rn". *nrows receives the data rows staged. */
ig_rc ig__xlsx_stage(ig__load_ctx *lc, ig_wh *wh, const ig_lake_manifest *m, const char *stage,
                     ig_buf *sel, int64_t *nrows, ig_error *err);

/* Bronze relation name parts. */
void ig__bronze_name(const char *source, const char *stream, char *out, size_t n);

#endif
