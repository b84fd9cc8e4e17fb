/* The MySQL / MariaDB connector (libmariadb). Discovers the tables of one
 * database from information_schema, maps types (unsigned integers, DECIMAL,
 * DATETIME as a naive timestamp and TIMESTAMP as UTC, TIME as an interval,
 * JSON, binary as BLOB), and reads a stream with mysql_use_result, so rows
 * arrive one at a time and a table of any size takes the memory of one row.
 * Each row is written as a CSV line. Zero dates ('0000-00-00', or a zero
 * month or day) are kept as NULL and counted in a warning, never a failure.
 *
 * The session runs with time_zone '+00:00', so TIMESTAMP values are UTC. */
#include "ingest/connectors/internal.h"

#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

#include <mysql.h>
#include <stdlib.h>
#include <string.h>

typedef struct my {
    const char *host, *database, *user, *password;
    long port, connect_timeout, read_timeout;
    MYSQL *conn;
} my;

enum { K_PLAIN, K_DATE, K_TIMESTAMPTZ, K_BLOB };

static const ig_conn_spec_key my_spec[] = {
    {"host", "string", true, false, NULL, "server host name or address"},
    {"port", "integer", false, false, "3306", "server port"},
    {"database", "string", true, false, NULL, "the database whose tables are streams"},
    {"user", "string", true, false, NULL, "user name"},
    {"password", "string", false, true, NULL, "password: ${ENV_VAR} or from secrets_file"},
    {"connect_timeout", "integer", false, false, "10", "seconds to wait for a connection"},
    {"read_timeout", "integer", false, false, "3600", "seconds to wait for the server's data"},
    {NULL, NULL, false, false, NULL, NULL},
};

static void my_cleanup(void *p)
{
    my *m = p;
    if (m->conn) mysql_close(m->conn);
    m->conn = NULL;
}

static ig_rc my_open(ig_conn *c, ig_error *err)
{
    my *m = ig_arena_zalloc(c->arena, sizeof *m);
    ig_rc rc;
    if ((rc = ig_conn_cfg_str(c, "host", NULL, &m->host, err))) return rc;
    if ((rc = ig_conn_cfg_int(c, "port", 3306, &m->port, err))) return rc;
    if ((rc = ig_conn_cfg_str(c, "database", NULL, &m->database, err))) return rc;
    if ((rc = ig_conn_cfg_str(c, "user", NULL, &m->user, err))) return rc;
    if ((rc = ig_conn_cfg_secret(c, "password", &m->password, err))) return rc;
    if ((rc = ig_conn_cfg_int(c, "connect_timeout", 10, &m->connect_timeout, err))) return rc;
    if ((rc = ig_conn_cfg_int(c, "read_timeout", 3600, &m->read_timeout, err))) return rc;
    c->priv = m;
    ig_arena_on_free(c->arena, my_cleanup, m);
    return IG_OK;
}

static void my_close(ig_conn *c)
{
    if (c->priv) my_cleanup(c->priv);
}

static ig_rc my_error(ig_conn *c, ig_error *err)
{
    my *m = c->priv;
    unsigned e = m->conn ? mysql_errno(m->conn) : 0;
    const char *msg = m->conn ? mysql_error(m->conn) : "out of memory";
    int code = IG_ERR_FAILED;
    const char *hint = NULL;
    if (e == 1045 || e == 1044 || e == 1698) {
        code = IG_ERR_AUTH;
        hint = "check the user and the password (the environment variable the source's "
               "password: names)";
    } else if (e == 2002 || e == 2003 || e == 2005 || e == 2006 || e == 2013 || e == 2026) {
        code = IG_ERR_NETWORK;
        hint = "check that the server is running and reachable (host, port, firewalls); "
               "connect_timeout and read_timeout bound the wait";
    } else if (e == 1049) {
        code = IG_ERR_NOT_FOUND;
        hint = "check 'database:' of the source";
    } else if (e == 1146) {
        code = IG_ERR_NOT_FOUND;
        hint = "the table no longer exists in the source (dropped or renamed since discovery?)";
    } else if (e == 1054) {
        code = IG_ERR_SQL;
        hint = "the source's schema changed; 'ingot source discover' shows it now";
    }
    ig_err(err, code, "mysql source '%s' (%s:%ld/%s): %s (error %u)", c->name, m->host, m->port,
           m->database, msg, e);
    if (hint) ig_err_hint(err, "%s", hint);
    return code;
}

static ig_rc my_connect(ig_conn *c, ig_error *err)
{
    my *m = c->priv;
    if (m->conn) return IG_OK;
    m->conn = mysql_init(NULL);
    if (!m->conn) return ig_err(err, IG_ERR_INTERNAL, "mysql_init failed");
    unsigned ct = (unsigned)m->connect_timeout, rt = (unsigned)m->read_timeout;
    mysql_options(m->conn, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(m->conn, MYSQL_OPT_READ_TIMEOUT, &rt);
    mysql_options(m->conn, MYSQL_OPT_WRITE_TIMEOUT, &rt);
    mysql_options(m->conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(m->conn, MYSQL_INIT_COMMAND,
                  "SET time_zone = '+00:00', SESSION net_write_timeout = 3600");
    if (!mysql_real_connect(m->conn, m->host, m->user, m->password, m->database,
                            (unsigned)m->port, NULL, 0)) {
        ig_rc rc = my_error(c, err);
        my_cleanup(m);
        return rc;
    }
    return IG_OK;
}

static ig_rc my_check(ig_conn *c, ig_error *err)
{
    ig_rc rc = my_connect(c, err);
    if (rc) return rc;
    my *m = c->priv;
    printf("ok: connected to %s %s at %s:%ld, database %s as %s\n",
           strstr(mysql_get_server_info(m->conn), "MariaDB") ? "MariaDB" : "MySQL",
           mysql_get_server_info(m->conn), m->host, m->port, m->database, m->user);
    return IG_OK;
}

static void quote_ident(ig_buf *b, const char *s)
{
    ig_buf_putc(b, '`');
    for (; *s; s++) {
        if (*s == '`') ig_buf_putc(b, '`');
        ig_buf_putc(b, *s);
    }
    ig_buf_putc(b, '`');
}

static void map_type(ig_arena *a, ig_conn_column *col, const char *dt, const char *ct, long prec,
                     long scale, bool is_json)
{
    bool uns = strstr(ct, "unsigned") != NULL;
    const char *wh = NULL;
    col->kind = K_PLAIN;
    col->load_expr = NULL;
    ig_buf q = IG_BUF_INIT;
    quote_ident(&q, col->name);
    col->read_expr = ig_arena_strdup(a, ig_buf_cstr(&q));
    ig_buf_free(&q);
    col->cursor_ok = false;
    if (!strcmp(dt, "tinyint")) wh = uns ? "UTINYINT" : "TINYINT";
    else if (!strcmp(dt, "smallint")) wh = uns ? "USMALLINT" : "SMALLINT";
    else if (!strcmp(dt, "mediumint") || !strcmp(dt, "int")) wh = uns ? "UINTEGER" : "INTEGER";
    else if (!strcmp(dt, "bigint")) wh = uns ? "UBIGINT" : "BIGINT";
    else if (!strcmp(dt, "year")) wh = "SMALLINT";
    else if (!strcmp(dt, "float")) wh = "FLOAT";
    else if (!strcmp(dt, "double")) wh = "DOUBLE";
    else if (!strcmp(dt, "decimal"))
        wh = prec <= 38 ? ig_arena_printf(a, "DECIMAL(%ld,%ld)", prec, scale) : "DOUBLE";
    else if (!strcmp(dt, "bit")) {
        wh = "UBIGINT";
        col->read_expr = ig_arena_printf(a, "CAST(%s AS UNSIGNED)", col->read_expr);
    } else if (!strcmp(dt, "date")) {
        wh = "DATE";
        col->kind = K_DATE;
    } else if (!strcmp(dt, "datetime")) {
        wh = "TIMESTAMP";
        col->kind = K_DATE;
    } else if (!strcmp(dt, "timestamp")) {
        wh = "TIMESTAMPTZ";
        col->kind = K_TIMESTAMPTZ;
    } else if (!strcmp(dt, "time")) {
        wh = "INTERVAL"; /* MySQL TIME spans -838:59:59 to 838:59:59 */
        col->load_expr = "CAST(%s AS INTERVAL)";
    } else if (!strcmp(dt, "json") || is_json) {
        wh = "JSON";
    } else if (strstr(dt, "binary") || strstr(dt, "blob")) {
        wh = "BLOB";
        col->kind = K_BLOB;
        col->load_expr = "unhex(%s)";
    } else if (!strcmp(dt, "geometry") || !strcmp(dt, "point") || !strcmp(dt, "linestring") ||
               !strcmp(dt, "polygon") || strstr(dt, "multi") || !strcmp(dt, "geometrycollection")) {
        wh = "VARCHAR";
        col->read_expr = ig_arena_printf(a, "ST_AsText(%s)", col->read_expr);
    } else {
        wh = "VARCHAR"; /* char, varchar, text, enum, set, ... */
    }
    col->wh_type = wh;
    col->csv_type = (col->load_expr || !strcmp(wh, "JSON")) ? "VARCHAR" : wh;
    static const char *const cursor_types[] = {"tinyint", "smallint", "mediumint", "int",
                                               "bigint", "decimal", "date", "datetime",
                                               "timestamp", "varchar", "char", "year", NULL};
    for (size_t i = 0; cursor_types[i]; i++)
        if (!strcmp(dt, cursor_types[i])) col->cursor_ok = true;
}

static ig_rc my_discover(ig_conn *c, ig_conn_catalog *out, ig_error *err)
{
    ig_rc rc = my_connect(c, err);
    if (rc) return rc;
    my *m = c->priv;
    ig_arena *a = c->arena;
    size_t dl = strlen(m->database);
    char *esc = ig_malloc(2 * dl + 1);
    mysql_real_escape_string(m->conn, esc, m->database, (unsigned long)dl);
    char *sql = ig_asprintf(
        "SELECT c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.IS_NULLABLE, "
        "  coalesce(c.NUMERIC_PRECISION, 0), coalesce(c.NUMERIC_SCALE, 0), "
        "  coalesce((SELECT k.ORDINAL_POSITION FROM information_schema.KEY_COLUMN_USAGE k "
        "    WHERE k.TABLE_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME "
        "    AND k.COLUMN_NAME = c.COLUMN_NAME AND k.CONSTRAINT_NAME = 'PRIMARY'), 0), "
        "  EXISTS (SELECT 1 FROM information_schema.CHECK_CONSTRAINTS cc "
        "    WHERE cc.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA AND cc.TABLE_NAME = c.TABLE_NAME "
        "    AND cc.CHECK_CLAUSE = CONCAT('json_valid(`', c.COLUMN_NAME, '`)')) "
        "FROM information_schema.COLUMNS c JOIN information_schema.TABLES t "
        "  ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME "
        "WHERE c.TABLE_SCHEMA = '%s' AND t.TABLE_TYPE IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED') "
        "ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION",
        esc);
    free(esc);
    int q = mysql_query(m->conn, sql);
    free(sql);
    if (q) return my_error(c, err);
    MYSQL_RES *res = mysql_store_result(m->conn);
    if (!res) return my_error(c, err);
    size_t nr = (size_t)mysql_num_rows(res);
    char ***rows = ig_arena_alloc(a, (nr + 1) * sizeof *rows);
    for (size_t i = 0; i < nr; i++) {
        MYSQL_ROW r = mysql_fetch_row(res);
        rows[i] = ig_arena_alloc(a, 9 * sizeof(char *));
        for (int k = 0; k < 9; k++) rows[i][k] = ig_arena_strdup(a, r[k] ? r[k] : "");
    }
    mysql_free_result(res);
    ig_conn_stream *streams = ig_arena_zalloc(a, (nr + 1) * sizeof *streams);
    size_t si = 0;
    for (size_t i = 0; i < nr;) {
        size_t j = i;
        while (j < nr && !strcmp(rows[j][0], rows[i][0])) j++;
        ig_conn_stream *st = &streams[si++];
        st->name = st->object = rows[i][0];
        st->ns = m->database;
        st->ncols = j - i;
        st->cols = ig_arena_zalloc(a, st->ncols * sizeof *st->cols);
        st->pk = ig_arena_zalloc(a, (st->ncols + 1) * sizeof *st->pk);
        for (size_t k = i; k < j; k++) {
            ig_conn_column *col = &st->cols[k - i];
            col->name = rows[k][1];
            col->source_type = rows[k][3];
            col->nullable = !strcmp(rows[k][4], "YES");
            map_type(a, col, rows[k][2], rows[k][3], atol(rows[k][5]), atol(rows[k][6]),
                     !strcmp(rows[k][8], "1"));
            long pkpos = atol(rows[k][7]);
            if (pkpos > 0 && (size_t)pkpos <= st->ncols) st->pk[pkpos - 1] = col->name;
            if (!st->default_cursor && col->cursor_ok &&
                (!strcmp(col->name, "updated_at") || !strcmp(col->name, "modified_at")))
                st->default_cursor = col->name;
        }
        while (st->npk < st->ncols && st->pk[st->npk]) st->npk++;
        i = j;
    }
    out->streams = streams;
    out->n = si;
    return IG_OK;
}

static bool zero_date(const char *s, size_t n)
{
    /* YYYY-MM-DD...: a zero year-month-day, or a zero month or day */
    if (n < 10) return false;
    return !strncmp(s, "0000-00-00", 10) || !strncmp(s + 5, "00", 2) || !strncmp(s + 8, "00", 2);
}

static ig_rc my_read(ig_conn *c, const ig_conn_read *rq, ig_conn_out *out, ig_error *err)
{
    ig_rc rc = my_connect(c, err);
    if (rc) return rc;
    my *m = c->priv;
    const ig_conn_stream *st = rq->stream;
    ig_buf sql = IG_BUF_INIT;
    ig_buf_puts(&sql, "SELECT ");
    for (size_t i = 0; i < st->ncols; i++)
        ig_buf_printf(&sql, "%s%s", i ? ", " : "", st->cols[i].read_expr);
    ig_buf_puts(&sql, " FROM ");
    quote_ident(&sql, st->object);
    int ci = -1;
    if (rq->cursor) {
        for (size_t i = 0; i < st->ncols; i++)
            if (!strcmp(st->cols[i].name, rq->cursor)) ci = (int)i;
        if (rq->cursor_value) {
            size_t l = strlen(rq->cursor_value);
            char *esc = ig_malloc(2 * l + 1);
            mysql_real_escape_string(m->conn, esc, rq->cursor_value, (unsigned long)l);
            ig_buf_puts(&sql, " WHERE ");
            quote_ident(&sql, rq->cursor);
            ig_buf_printf(&sql, " >= '%s'", esc);
            free(esc);
        }
        ig_buf_puts(&sql, " ORDER BY ");
        quote_ident(&sql, rq->cursor);
        for (size_t i = 0; i < st->npk; i++) {
            ig_buf_puts(&sql, ", ");
            quote_ident(&sql, st->pk[i]);
        }
    }
    ig_debug("source.sql", "%s", ig_buf_cstr(&sql));
    int q = mysql_real_query(m->conn, sql.data, (unsigned long)sql.len);
    ig_buf_free(&sql);
    if (q) return my_error(c, err);
    MYSQL_RES *res = mysql_use_result(m->conn);
    if (!res) return my_error(c, err);
    if (mysql_num_fields(res) != st->ncols) {
        mysql_free_result(res);
        return ig_err(err, IG_ERR_DATA, "table %s changed while it was being read", st->object);
    }
    ig_buf line = IG_BUF_INIT, cur = IG_BUF_INIT;
    int64_t null_cursors = 0;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res))) {
        unsigned long *len = mysql_fetch_lengths(res);
        ig_buf_reset(&line);
        for (size_t i = 0; i < st->ncols; i++) {
            if (i) ig_buf_putc(&line, ',');
            if (!row[i]) continue; /* NULL: empty unquoted field */
            const ig_conn_column *col = &st->cols[i];
            if (col->kind == K_BLOB) {
                ig__conn_hex(&line, (const unsigned char *)row[i], len[i]);
                if (!len[i]) ig_buf_puts(&line, "\"\"");
            } else if ((col->kind == K_DATE || col->kind == K_TIMESTAMPTZ) &&
                       zero_date(row[i], len[i])) {
                ig_conn_out_warn(out, "zero_date",
                                 "zero dates (e.g. '%.*s' in column '%s') were kept as NULL",
                                 (int)(len[i] > 40 ? 40 : len[i]), row[i], col->name);
            } else {
                ig__conn_csv_field(&line, row[i], len[i]);
                if (col->kind == K_TIMESTAMPTZ) ig_buf_puts(&line, "+00");
            }
        }
        ig_buf_putc(&line, '\n');
        rc = ig_conn_out_record(out, line.data, line.len, err);
        if (!rc && ci >= 0) {
            if (!row[ci]) null_cursors++;
            else {
                ig_buf_reset(&cur);
                ig_buf_append(&cur, row[ci], len[ci]);
            }
        }
        if (!rc && ig_conn_out_interrupted(out)) rc = IG_ERR_INTERRUPTED;
        if (!rc && ci >= 0 && cur.len && ig_conn_out_full(out))
            rc = ig_conn_out_checkpoint(out, ig_buf_cstr(&cur), NULL, err);
        if (rc) break;
    }
    if (!rc && mysql_errno(m->conn)) rc = my_error(c, err);
    mysql_free_result(res);
    if (rc) my_cleanup(m); /* an unfinished use_result leaves the connection unusable */
    if (rc == IG_ERR_INTERRUPTED && err->code == IG_OK)
        ig_err(err, rc, "interrupted; committed batches are kept");
    if (null_cursors && !rq->cursor_value)
        ig_warn("source.null_cursor",
                "%s.%s: %lld rows have NULL in cursor column '%s': they are loaded now, but "
                "later changes to them are only seen by a --full-refresh",
                c->name, st->name, (long long)null_cursors, rq->cursor);
    if (!rc) rc = ig_conn_out_checkpoint(out, cur.len ? ig_buf_cstr(&cur) : NULL, NULL, err);
    ig_buf_free(&line);
    ig_buf_free(&cur);
    return rc;
}

const ig_conn_vtable ig_conn_mysql = {
    .type = "mysql",
    .summary = "MySQL and MariaDB tables (streamed reads; incremental by cursor)",
    .spec = my_spec,
    .stream_keys = NULL,
    .open = my_open,
    .check = my_check,
    .discover = my_discover,
    .read = my_read,
    .close = my_close,
};
