/* The warehouse driver vtable (internal to src/warehouse/). Each engine
 * implements these; warehouse.c dispatches to them and holds what is common
 * (convenience queries, relation listing through information_schema,
 * migrations). Objects begin with the common header so warehouse.c can find
 * the driver. */
#ifndef IG_WH_DRIVER_H
#define IG_WH_DRIVER_H

#include "warehouse/warehouse.h"

typedef struct ig_wh_driver ig_wh_driver;

struct ig_wh {
    const ig_wh_driver *drv;
};
struct ig_wh_cursor {
    const ig_wh_driver *drv;
};
struct ig_wh_appender {
    const ig_wh_driver *drv;
};

struct ig_wh_driver {
    const char *name;
    ig_rc (*open)(const ig_wh_options *opt, ig_wh **out, ig_error *err);
    ig_rc (*clone)(ig_wh *wh, ig_wh **out, ig_error *err);
    void (*close)(ig_wh *wh);
    const char *(*engine_version)(const ig_wh *wh);
    ig_rc (*exec)(ig_wh *wh, const char *sql, ig_error *err);
    ig_rc (*query)(ig_wh *wh, const char *sql, const ig_param *params, size_t nparams,
                   ig_wh_cursor **out, ig_error *err);
    size_t (*ncols)(const ig_wh_cursor *c);
    const char *(*colname)(const ig_wh_cursor *c, size_t col);
    ig_type (*coltype)(const ig_wh_cursor *c, size_t col);
    const char *(*coltype_name)(const ig_wh_cursor *c, size_t col);
    int (*next)(ig_wh_cursor *c, ig_error *err);
    const ig_value *(*value)(ig_wh_cursor *c, size_t col);
    int64_t (*rows_changed)(const ig_wh_cursor *c);
    bool (*is_query)(const ig_wh_cursor *c);
    const char *(*statement)(const ig_wh_cursor *c);
    void (*cursor_close)(ig_wh_cursor *c);
    ig_rc (*appender_open)(ig_wh *wh, const char *schema, const char *table,
                           ig_wh_appender **out, ig_error *err);
    ig_rc (*append_null)(ig_wh_appender *a);
    ig_rc (*append_bool)(ig_wh_appender *a, bool v);
    ig_rc (*append_int)(ig_wh_appender *a, int64_t v);
    ig_rc (*append_double)(ig_wh_appender *a, double v);
    ig_rc (*append_text)(ig_wh_appender *a, const char *s, size_t len);
    ig_rc (*append_timestamp)(ig_wh_appender *a, int64_t us);
    ig_rc (*append_end_row)(ig_wh_appender *a, ig_error *err);
    ig_rc (*appender_close)(ig_wh_appender *a, ig_error *err);
    void (*interrupt)(ig_wh *wh);
    void (*quote_ident)(const ig_wh *wh, ig_buf *b, const char *ident);
    void (*quote_literal)(const ig_wh *wh, ig_buf *b, const char *value);
};

extern const ig_wh_driver ig__wh_duckdb;

/* Run the numbered migrations (migrations.c). */
ig_rc ig__wh_migrate(ig_wh *wh, bool read_only, ig_error *err);

/* Standard SQL quoting, used by drivers whose dialect agrees. */
void ig__wh_quote_ident_std(ig_buf *b, const char *ident);
void ig__wh_quote_literal_std(ig_buf *b, const char *value);

#endif
