/* Internal to the DuckDB driver: turning vectors into ig_values. */
#ifndef IG_WH_DUCKDB_VALUES_H
#define IG_WH_DUCKDB_VALUES_H

#include "warehouse/warehouse.h"

#include <duckdb.h>

/* Decode row `row` of a vector into *out and append its display text to
 * `text` (out->text is NOT set: the caller points it into `text` once the
 * row is complete, as the buffer may move). */
void ig__duck_decode(ig_buf *text, duckdb_vector vec, duckdb_logical_type lt, idx_t row,
                     ig_value *out);
ig_type ig__duck_map_type(duckdb_logical_type lt);
void ig__duck_put_double(ig_buf *b, double d);
/* Append the SQL name of a type ("DECIMAL(18,2)", "INTEGER[]"). */
void ig__duck_type_name(ig_buf *b, duckdb_logical_type lt);

#endif
