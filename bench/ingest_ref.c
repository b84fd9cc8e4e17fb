/* The reference for the ingest benchmark: DuckDB's own
 * CREATE TABLE t AS SELECT * FROM read_csv(FILE) into a fresh database file,
 * through the same libduckdb ingot uses. With --gen it writes the benchmark's
 * CSV instead: MB megabytes of generated orders. */
#include <duckdb.h>
#include <stdio.h>
#include <stdlib.h>

static int run(duckdb_connection con, const char *sql)
{
    duckdb_result res;
    if (duckdb_query(con, sql, &res) == DuckDBError) {
        fprintf(stderr, "%s\n", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return 1;
    }
    duckdb_destroy_result(&res);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || (argv[1][0] == '-' && argc < 4)) {
        fprintf(stderr, "usage: ingest_ref DBFILE CSVFILE | ingest_ref --gen CSVFILE MB\n");
        return 2;
    }
    duckdb_database db;
    duckdb_connection con;
    int gen = argv[1][0] == '-';
    if (duckdb_open(gen ? NULL : argv[1], &db) == DuckDBError) return 1;
    if (duckdb_connect(db, &con) == DuckDBError) return 1;
    char sql[1024];
    int rc;
    if (gen) {
        long rows = atol(argv[3]) * 1000000L / 75; /* about 75 bytes a row */
        snprintf(sql, sizeof sql,
                 "COPY (SELECT range AS order_id, 'customer_' || (range %% 100000) AS customer, "
                 "DATE '2024-01-01' + (range %% 700)::INTEGER AS order_date, "
                 "round((range %% 10000) / 7.0, 2) AS amount, "
                 "CASE range %% 4 WHEN 0 THEN 'web' WHEN 1 THEN 'shop' WHEN 2 THEN 'app' ELSE 'phone' END AS channel, "
                 "md5(range::VARCHAR) AS token FROM range(%ld)) TO '%s' (HEADER)", rows, argv[2]);
        rc = run(con, sql);
    } else {
        snprintf(sql, sizeof sql, "CREATE TABLE t AS SELECT * FROM read_csv('%s')", argv[2]);
        rc = run(con, sql);
    }
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return rc;
}
