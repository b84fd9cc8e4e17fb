/* SQL dialects: the statements the transform layer's materializations and
 * dbt's `adapter` object need (create table/view as, rename, drop, schema,
 * column introspection, incremental insert / delete+insert / merge), built
 * per warehouse engine so that a PostgreSQL backend can provide its own.
 * A dialect is a vtable found from a connection's driver name.
 *
 * Builders append SQL text to a buffer; relation arguments are already
 * rendered (quoted) relation names, column names are raw and are quoted by
 * the dialect with the warehouse's quoting function. Thread-safety: the
 * dialect tables are constant; builders only touch their buffer. */
#ifndef IG_WH_DIALECT_H
#define IG_WH_DIALECT_H

#include "core/buf.h"
#include "core/error.h"
#include "warehouse/warehouse.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct ig_wh_column {
    char *name; /* as the warehouse spells it */
    char *type; /* the engine's type name: "INTEGER", "VARCHAR", "DECIMAL(18,2)" */
} ig_wh_column;

typedef struct ig_wh_columns {
    ig_wh_column *items; /* caller frees with ig_wh_columns_free */
    size_t n;
} ig_wh_columns;
void ig_wh_columns_free(ig_wh_columns *c);

typedef struct ig_wh_dialect {
    const char *name;
    /* create or replace view rel as (sql) */
    void (*create_view)(const ig_wh *wh, ig_buf *b, const char *rel, const char *sql);
    /* create [temporary] table rel as (sql); a temporary relation is named
     * by an unqualified identifier */
    void (*create_table_as)(const ig_wh *wh, ig_buf *b, const char *rel, const char *sql,
                            bool temporary);
    /* alter table|view rel rename to new_ident (kind: "table" or "view") */
    void (*rename)(const ig_wh *wh, ig_buf *b, const char *kind, const char *rel,
                   const char *new_ident);
    /* drop table|view if exists rel [cascade] */
    void (*drop)(const ig_wh *wh, ig_buf *b, const char *kind, const char *rel);
    /* create schema if not exists (database may be NULL) */
    void (*create_schema)(const ig_wh *wh, ig_buf *b, const char *database, const char *schema);
    /* alter table rel add column / drop column / alter column type */
    void (*add_column)(const ig_wh *wh, ig_buf *b, const char *rel, const char *col,
                       const char *type);
    void (*drop_column)(const ig_wh *wh, ig_buf *b, const char *rel, const char *col);
    void (*alter_column_type)(const ig_wh *wh, ig_buf *b, const char *rel, const char *col,
                              const char *type);
    /* insert into target (cols) select cols from source */
    void (*insert_select)(const ig_wh *wh, ig_buf *b, const char *target, const char *source,
                          const char *const *cols, size_t ncols);
    /* delete from target the rows whose keys are in source, then insert
     * (two statements separated by ";") */
    void (*delete_insert)(const ig_wh *wh, ig_buf *b, const char *target, const char *source,
                          const char *const *keys, size_t nkeys, const char *const *cols,
                          size_t ncols);
    /* merge source into target on keys: update `upd` columns of matched rows,
     * insert `cols` of the others; with no keys every row is inserted */
    void (*merge)(const ig_wh *wh, ig_buf *b, const char *target, const char *source,
                  const char *const *keys, size_t nkeys, const char *const *cols, size_t ncols,
                  const char *const *upd, size_t nupd);
    /* Columns of a relation in order; a missing relation gives n = 0.
     * database may be NULL. */
    ig_rc (*get_columns)(ig_wh *wh, const char *database, const char *schema, const char *name,
                         ig_wh_columns *out, ig_error *err);
    /* The current database (catalog) name; caller frees. */
    ig_rc (*current_database)(ig_wh *wh, char **out, ig_error *err);
} ig_wh_dialect;

/* The dialect of a connection's engine (never NULL: unknown engines get
 * the standard SQL one, which is DuckDB's today). */
const ig_wh_dialect *ig_wh_dialect_of(const ig_wh *wh);

#endif
