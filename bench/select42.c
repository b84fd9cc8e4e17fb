/* The reference for the query-overhead benchmark: the smallest C program that
 * opens the same warehouse file through the same libduckdb, runs the same
 * query and prints the result as CSV. ingot's figure is measured against it. */
#include <duckdb.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: select42 DBFILE SQL\n");
        return 2;
    }
    duckdb_database db;
    duckdb_connection con;
    duckdb_result res;
    if (duckdb_open(argv[1], &db) == DuckDBError) return 1;
    if (duckdb_connect(db, &con) == DuckDBError) return 1;
    if (duckdb_query(con, argv[2], &res) == DuckDBError) {
        fprintf(stderr, "%s\n", duckdb_result_error(&res));
        return 1;
    }
    idx_t cols = duckdb_column_count(&res);
    for (idx_t c = 0; c < cols; c++) printf("%s%s", c ? "," : "", duckdb_column_name(&res, c));
    printf("\n");
    idx_t rows = duckdb_row_count(&res);
    for (idx_t r = 0; r < rows; r++) {
        for (idx_t c = 0; c < cols; c++) {
            char *v = duckdb_value_varchar(&res, c, r);
            printf("%s%s", c ? "," : "", v ? v : "");
            duckdb_free(v);
        }
        printf("\n");
    }
    duckdb_destroy_result(&res);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return 0;
}
