/* The PostgreSQL connector (libpq). Discovers tables and views from the
 * catalogs of the configured schemas, maps each column's type (through
 * domains to their base type) to a warehouse type, and reads a stream with
 * one `COPY (SELECT ...) TO STDOUT (FORMAT csv)`: the server renders every
 * row as a CSV line that goes straight to the raw file, so a table of any
 * size takes the memory of one row. Incremental reads add
 * `WHERE cursor >= <last value> ORDER BY cursor, <key>` and checkpoint with
 * the cursor text of the last row written, whenever the batch is full.
 *
 * The session is set to DateStyle ISO, TimeZone UTC and bytea hex, so the
 * text forms are the ones the warehouse reads back.
 *
 * Mode cdc (the second half of this file) reads the server's log through
 * logical replication with pgoutput; see "cdc" below. */
#include "ingest/connectors/internal.h"

#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct pg {
    const char *host, *port, *database, *user, *password, *sslmode;
    const char **schemas;
    size_t nschemas;
    long connect_timeout;
    PGconn *conn;
} pg;

static const ig_conn_spec_key pg_spec[] = {
    {"host", "string", true, false, NULL, "server host name or address"},
    {"port", "integer", false, false, "5432", "server port"},
    {"database", "string", true, false, NULL, "database name"},
    {"user", "string", true, false, NULL, "user name"},
    {"password", "string", false, true, NULL, "password: ${ENV_VAR} or from secrets_file"},
    {"sslmode", "string", false, false, "prefer", "disable, prefer, require, verify-full"},
    {"schemas", "list", false, false, "[public]", "schemas whose tables and views are streams"},
    {"connect_timeout", "integer", false, false, "10", "seconds to wait for a connection"},
    {NULL, NULL, false, false, NULL, NULL},
};

static void pg_cleanup(void *p)
{
    pg *g = p;
    if (g->conn) PQfinish(g->conn);
    g->conn = NULL;
}

static ig_rc pg_open(ig_conn *c, ig_error *err)
{
    pg *g = ig_arena_zalloc(c->arena, sizeof *g);
    long port = 5432;
    ig_rc rc;
    if ((rc = ig_conn_cfg_str(c, "host", NULL, &g->host, err))) return rc;
    if ((rc = ig_conn_cfg_int(c, "port", 5432, &port, err))) return rc;
    if ((rc = ig_conn_cfg_str(c, "database", NULL, &g->database, err))) return rc;
    if ((rc = ig_conn_cfg_str(c, "user", NULL, &g->user, err))) return rc;
    if ((rc = ig_conn_cfg_secret(c, "password", &g->password, err))) return rc;
    if ((rc = ig_conn_cfg_str(c, "sslmode", "prefer", &g->sslmode, err))) return rc;
    if ((rc = ig_conn_cfg_int(c, "connect_timeout", 10, &g->connect_timeout, err))) return rc;
    if ((rc = ig_conn_cfg_list(c, "schemas", &g->schemas, &g->nschemas, err))) return rc;
    if (!g->nschemas) {
        static const char *pub[] = {"public"};
        g->schemas = pub;
        g->nschemas = 1;
    }
    g->port = ig_arena_printf(c->arena, "%ld", port);
    c->priv = g;
    ig_arena_on_free(c->arena, pg_cleanup, g);
    return IG_OK;
}

static void pg_close(ig_conn *c)
{
    if (c->priv) pg_cleanup(c->priv);
}

/* Classify a libpq error into our codes with a hint. Never includes the
 * password: libpq does not put it in messages. */
static ig_rc pg_error(ig_conn *c, const char *msg, const char *sqlstate, ig_error *err)
{
    pg *g = c->priv;
    char m[900];
    snprintf(m, sizeof m, "%s", msg ? msg : "unknown error");
    size_t l = strlen(m);
    while (l && (m[l - 1] == '\n' || m[l - 1] == ' ')) m[--l] = '\0';
    int code = IG_ERR_NETWORK;
    const char *hint = "check that the server is running and reachable from here";
    if (strstr(m, "password authentication failed") || strstr(m, "no password supplied") ||
        (sqlstate && !strncmp(sqlstate, "28", 2))) {
        code = IG_ERR_AUTH;
        hint = "check the user and the password (the environment variable the source's "
               "password: names)";
    } else if (strstr(m, "timeout expired")) {
        hint = "the server did not answer within connect_timeout; check host, port and firewalls";
    } else if (sqlstate && !strcmp(sqlstate, "3D000")) {
        code = IG_ERR_NOT_FOUND;
        hint = "check 'database:' of the source";
    } else if (sqlstate && !strcmp(sqlstate, "42P01")) {
        code = IG_ERR_NOT_FOUND;
        hint = "the table no longer exists in the source (dropped or renamed during or since "
               "discovery?)";
    } else if (sqlstate && !strncmp(sqlstate, "42", 2)) {
        code = IG_ERR_SQL;
        hint = "the source's schema may have changed; 'ingot source discover' shows it now";
    } else if (sqlstate && *sqlstate) {
        code = IG_ERR_FAILED;
        hint = NULL;
    }
    ig_err(err, code, "postgres source '%s' (%s:%s/%s): %s", c->name, g->host, g->port,
           g->database, m);
    if (hint) ig_err_hint(err, "%s", hint);
    return code;
}

/* A connection with the session settings the text forms rely on; a
 * replication connection (replication=database, for cdc) when `repl`.
 * NULL with err set when it fails. */
static PGconn *pg_new_conn(ig_conn *c, bool repl, ig_error *err)
{
    pg *g = c->priv;
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%ld", g->connect_timeout);
    const char *keys[] = {"host", "port", "dbname", "user", "password", "sslmode",
                          "connect_timeout", "application_name", "keepalives",
                          "keepalives_idle", "client_encoding", "options", "replication",
                          NULL};
    const char *vals[] = {g->host, g->port, g->database, g->user, g->password, g->sslmode,
                          timeout, "ingot", "1", "30", "UTF8",
                          repl ? "-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=iso_8601 "
                                 "-c extra_float_digits=3 -c bytea_output=hex"
                               : "-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=postgres "
                                 "-c extra_float_digits=3 -c bytea_output=hex",
                          repl ? "database" : NULL, NULL};
    if (!repl) keys[12] = NULL;
    PGconn *conn = PQconnectdbParams(keys, vals, 0);
    if (PQstatus(conn) != CONNECTION_OK) {
        const char *m = PQerrorMessage(conn);
        pg_error(c, m, NULL, err);
        if (repl && (strstr(m, "replication role") || strstr(m, "permission denied"))) {
            err->code = IG_ERR_AUTH;
            ig_err_hint(err, "cdc needs a user with the REPLICATION attribute: as a superuser "
                             "run ALTER ROLE \"%s\" REPLICATION; (or use a user that has it)",
                        g->user);
        } else if (repl && strstr(m, "pg_hba.conf")) {
            ig_err_hint(err, "allow this user's replication connections to database '%s' in "
                             "the server's pg_hba.conf, then reload the server", g->database);
        }
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

static ig_rc pg_connect(ig_conn *c, ig_error *err)
{
    pg *g = c->priv;
    if (g->conn && PQstatus(g->conn) == CONNECTION_OK) return IG_OK;
    pg_cleanup(g);
    g->conn = pg_new_conn(c, false, err);
    return g->conn ? IG_OK : err->code;
}

static ig_rc pg_check(ig_conn *c, ig_error *err)
{
    ig_rc rc = pg_connect(c, err);
    if (rc) return rc;
    pg *g = c->priv;
    PGresult *r = PQexec(g->conn, "SELECT current_setting('server_version')");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = pg_error(c, PQresultErrorMessage(r), PQresultErrorField(r, PG_DIAG_SQLSTATE), err);
        PQclear(r);
        return rc;
    }
    printf("ok: connected to PostgreSQL %s at %s:%s, database %s as %s\n", PQgetvalue(r, 0, 0),
           g->host, g->port, g->database, g->user);
    PQclear(r);
    return IG_OK;
}

/* ---- type mapping ---- */

/* How a value in the text form of the log (cdc) becomes the field the COPY
 * of read_expr would have given. */
enum { K_PLAIN, K_DATE, K_NUMERIC, K_MONEY, K_BYTEA, K_INTERVAL, K_ARR_NUM, K_ARR_BOOL,
       K_ARR_TEXT, K_ARR_JSON };

static void quote_ident(ig_buf *b, const char *s)
{
    ig_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"') ig_buf_putc(b, '"');
        ig_buf_putc(b, *s);
    }
    ig_buf_putc(b, '"');
}

static const char *scalar_type(const char *t)
{
    static const struct {
        const char *pg, *wh;
    } m[] = {
        {"bool", "BOOLEAN"},   {"int2", "SMALLINT"},     {"int4", "INTEGER"},
        {"int8", "BIGINT"},    {"oid", "BIGINT"},        {"float4", "FLOAT"},
        {"float8", "DOUBLE"},  {"text", "VARCHAR"},      {"varchar", "VARCHAR"},
        {"bpchar", "VARCHAR"}, {"name", "VARCHAR"},      {"citext", "VARCHAR"},
        {"date", "DATE"},      {"timestamp", "TIMESTAMP"}, {"timestamptz", "TIMESTAMPTZ"},
        {"time", "TIME"},      {"timetz", "TIMETZ"},     {"uuid", "UUID"},
        {"json", "JSON"},      {"jsonb", "JSON"},        {NULL, NULL},
    };
    for (size_t i = 0; m[i].pg; i++)
        if (!strcmp(m[i].pg, t)) return m[i].wh;
    return NULL;
}

static void map_type(ig_arena *a, ig_conn_column *col, const char *qname, const char *base,
                     const char *typtype, const char *category, long typmod, const char *elem,
                     const char *elem_typtype, int ndims)
{
    const char *wh = scalar_type(base);
    col->read_expr = qname;
    col->load_expr = NULL;
    col->kind = K_PLAIN;
    if (!strcmp(typtype, "e")) wh = "VARCHAR"; /* enum */
    if (!strcmp(base, "numeric")) {
        /* typmod = ((precision << 16) | scale) + 4; -1 when unconstrained */
        if (typmod >= 4) {
            long p = ((typmod - 4) >> 16) & 0xffff, s = (typmod - 4) & 0xffff;
            if (p <= 38 && s <= p) {
                wh = ig_arena_printf(a, "DECIMAL(%ld,%ld)", p, s);
                col->read_expr = ig_arena_printf(a, "NULLIF(%s, 'NaN')", qname);
            }
        }
        col->kind = K_NUMERIC;
        if (!wh) wh = "DOUBLE"; /* unconstrained or wider than the warehouse's DECIMAL */
    } else if (!strcmp(base, "money")) {
        wh = "DECIMAL(19,2)";
        col->read_expr = ig_arena_printf(a, "%s::numeric", qname);
        col->kind = K_MONEY;
    } else if (!strcmp(base, "bytea")) {
        wh = "BLOB";
        col->read_expr = ig_arena_printf(a, "encode(%s, 'hex')", qname);
        col->load_expr = "unhex(%s)";
        col->kind = K_BYTEA;
    } else if (!strcmp(base, "interval")) {
        wh = "INTERVAL";
        col->read_expr = ig_arena_printf(
            a,
            "((extract(year from %1$s) * 12 + extract(month from %1$s))::bigint || ' months ' || "
            "extract(day from %1$s)::bigint || ' days ' || ((extract(hour from %1$s) * 3600 + "
            "extract(minute from %1$s) * 60) * 1000000 + extract(microseconds from %1$s))::bigint "
            "|| ' microseconds')",
            qname);
        col->kind = K_INTERVAL;
    } else if (!strcmp(category, "A") && elem) {
        const char *et = !strcmp(elem_typtype ? elem_typtype : "", "e") ? "VARCHAR" : scalar_type(elem);
        if (et && strcmp(et, "JSON") && strcmp(et, "TIMETZ")) {
            /* declared dimensions (int[][]: 2); PostgreSQL does not enforce
             * them, so a value of other depth fails the load with a clear error */
            ig_buf at = IG_BUF_INIT;
            ig_buf_puts(&at, et);
            for (int d = 0; d < (ndims > 1 ? ndims : 1) && d < 6; d++) ig_buf_puts(&at, "[]");
            wh = ig_arena_strdup(a, ig_buf_cstr(&at));
            ig_buf_free(&at);
            col->load_expr = ig_arena_printf(a, "CAST(CAST(%%s AS JSON) AS %s)", wh);
        } else {
            wh = "JSON";
        }
        col->read_expr = ig_arena_printf(a, "array_to_json(%s)", qname);
        const char *e = elem;
        col->kind = K_ARR_TEXT;
        if (!strcmp(e, "int2") || !strcmp(e, "int4") || !strcmp(e, "int8") ||
            !strcmp(e, "float4") || !strcmp(e, "float8") || !strcmp(e, "numeric") ||
            !strcmp(e, "oid"))
            col->kind = K_ARR_NUM;
        else if (!strcmp(e, "bool")) col->kind = K_ARR_BOOL;
        else if (!strcmp(e, "json") || !strcmp(e, "jsonb")) col->kind = K_ARR_JSON;
    } else if (!wh) {
        wh = "VARCHAR"; /* inet, xml, bit, geometric, ranges...: their text form */
    }
    if (!strcmp(wh, "DATE") && col->kind == K_PLAIN) col->kind = K_DATE;
    col->wh_type = wh;
    col->csv_type = col->load_expr ? "VARCHAR" : wh;
    /* JSON and nested types are read as text and cast */
    if (!strcmp(wh, "JSON") || !strcmp(wh, "INTERVAL") || !strcmp(wh, "TIMETZ") ||
        !strcmp(wh, "UUID"))
        col->csv_type = "VARCHAR";
    static const char *const cursor_types[] = {"int2", "int4", "int8", "numeric", "float4",
                                               "float8", "date", "timestamp", "timestamptz",
                                               "text", "varchar", "oid", NULL};
    col->cursor_ok = false;
    for (size_t i = 0; cursor_types[i]; i++)
        if (!strcmp(base, cursor_types[i]) && strcmp(category, "A")) col->cursor_ok = true;
}

static const char *discover_sql =
    "SELECT n.nspname, c.relname, c.relkind::text, a.attname, a.attnotnull, "
    "  format_type(a.atttypid, a.atttypmod), bt.typname, bt.typtype::text, "
    "  bt.typcategory::text, CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END, "
    "  et.typname, et.typtype::text, "
    "  coalesce((SELECT k.n FROM pg_index i, unnest(i.indkey) WITH ORDINALITY k(att, n) "
    "            WHERE i.indrelid = c.oid AND i.indisprimary AND k.att = a.attnum), 0), "
    "  a.attndims "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
    "JOIN pg_type t ON t.oid = a.atttypid "
    "JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END "
    "LEFT JOIN pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A' "
    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition "
    "  AND n.nspname = ANY($1::text[]) AND has_table_privilege(c.oid, 'SELECT') "
    "ORDER BY n.nspname, c.relname, a.attnum";

static ig_rc pg_discover(ig_conn *c, ig_conn_catalog *out, ig_error *err)
{
    ig_rc rc = pg_connect(c, err);
    if (rc) return rc;
    pg *g = c->priv;
    ig_arena *a = c->arena;
    ig_buf arr = IG_BUF_INIT;
    ig_buf_putc(&arr, '{');
    for (size_t i = 0; i < g->nschemas; i++) {
        if (i) ig_buf_putc(&arr, ',');
        ig_buf_putc(&arr, '"');
        for (const char *s = g->schemas[i]; *s; s++) {
            if (*s == '"' || *s == '\\') ig_buf_putc(&arr, '\\');
            ig_buf_putc(&arr, *s);
        }
        ig_buf_putc(&arr, '"');
    }
    ig_buf_putc(&arr, '}');
    const char *pv[1] = {ig_buf_cstr(&arr)};
    PGresult *r = PQexecParams(g->conn, discover_sql, 1, NULL, pv, NULL, NULL, 0);
    ig_buf_free(&arr);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = pg_error(c, PQresultErrorMessage(r), PQresultErrorField(r, PG_DIAG_SQLSTATE), err);
        PQclear(r);
        return rc;
    }
    int nr = PQntuples(r);
    /* count streams */
    size_t ns = 0;
    for (int i = 0; i < nr; i++)
        if (i == 0 || strcmp(PQgetvalue(r, i, 0), PQgetvalue(r, i - 1, 0)) ||
            strcmp(PQgetvalue(r, i, 1), PQgetvalue(r, i - 1, 1)))
            ns++;
    ig_conn_stream *streams = ig_arena_zalloc(a, (ns + 1) * sizeof *streams);
    size_t si = 0;
    for (int i = 0; i < nr;) {
        int j = i;
        while (j < nr && !strcmp(PQgetvalue(r, j, 0), PQgetvalue(r, i, 0)) &&
               !strcmp(PQgetvalue(r, j, 1), PQgetvalue(r, i, 1)))
            j++;
        ig_conn_stream *st = &streams[si++];
        const char *schema = PQgetvalue(r, i, 0), *table = PQgetvalue(r, i, 1);
        st->ns = ig_arena_strdup(a, schema);
        st->object = ig_arena_strdup(a, table);
        st->name = (g->nschemas == 1 && !strcmp(g->schemas[0], schema))
                       ? st->object
                       : ig_arena_printf(a, "%s.%s", schema, table);
        st->ncols = (size_t)(j - i);
        st->cols = ig_arena_zalloc(a, st->ncols * sizeof *st->cols);
        st->pk = ig_arena_zalloc(a, (st->ncols + 1) * sizeof *st->pk);
        for (int k = i; k < j; k++) {
            ig_conn_column *col = &st->cols[k - i];
            col->name = ig_arena_strdup(a, PQgetvalue(r, k, 3));
            col->nullable = strcmp(PQgetvalue(r, k, 4), "t") != 0;
            col->source_type = ig_arena_strdup(a, PQgetvalue(r, k, 5));
            ig_buf q = IG_BUF_INIT;
            quote_ident(&q, col->name);
            const char *qn = ig_arena_strdup(a, ig_buf_cstr(&q));
            ig_buf_free(&q);
            map_type(a, col, qn, PQgetvalue(r, k, 6), PQgetvalue(r, k, 7), PQgetvalue(r, k, 8),
                     atol(PQgetvalue(r, k, 9)),
                     PQgetisnull(r, k, 10) ? NULL : ig_arena_strdup(a, PQgetvalue(r, k, 10)),
                     PQgetisnull(r, k, 11) ? NULL : PQgetvalue(r, k, 11),
                     atoi(PQgetvalue(r, k, 13)));
            int pkpos = atoi(PQgetvalue(r, k, 12));
            if (pkpos > 0 && (size_t)pkpos <= st->ncols) st->pk[pkpos - 1] = col->name;
            if (!st->default_cursor && col->cursor_ok &&
                (!strcmp(col->name, "updated_at") || !strcmp(col->name, "modified_at") ||
                 !strcmp(col->name, "last_modified")))
                st->default_cursor = col->name;
        }
        while (st->npk < st->ncols && st->pk[st->npk]) st->npk++;
        i = j;
    }
    PQclear(r);
    out->streams = streams;
    out->n = si;
    return IG_OK;
}

/* ---- read ---- */

static int col_index(const ig_conn_stream *st, const char *name)
{
    for (size_t i = 0; i < st->ncols; i++)
        if (!strcmp(st->cols[i].name, name)) return (int)i;
    return -1;
}

/* COPY the stream (rows with cursor >= rq->cursor_value when set) into out,
 * checkpointing with the cursor when a batch is full, and at the end unless
 * `no_final` (the caller checkpoints: cdc's snapshot). Without a cursor,
 * part_state (when not NULL) is the state of the checkpoints of full batches
 * (cdc: a snapshot in progress), so a large table loads in bounded batches. */
static ig_rc copy_read(ig_conn *c, const ig_conn_read *rq, ig_conn_out *out, bool no_final,
                       const char *part_state, ig_error *err)
{
    ig_rc rc = IG_OK;
    pg *g = c->priv;
    const ig_conn_stream *st = rq->stream;
    ig_buf sql = IG_BUF_INIT;
    ig_buf_puts(&sql, "COPY (SELECT ");
    for (size_t i = 0; i < st->ncols; i++)
        ig_buf_printf(&sql, "%s%s", i ? ", " : "", st->cols[i].read_expr);
    ig_buf_puts(&sql, " FROM ");
    quote_ident(&sql, st->ns);
    ig_buf_putc(&sql, '.');
    quote_ident(&sql, st->object);
    int ci = -1;
    if (rq->cursor) {
        ci = col_index(st, rq->cursor);
        if (rq->cursor_value) {
            char *lit = PQescapeLiteral(g->conn, rq->cursor_value, strlen(rq->cursor_value));
            ig_buf_puts(&sql, " WHERE ");
            quote_ident(&sql, rq->cursor);
            ig_buf_printf(&sql, " >= %s", lit ? lit : "NULL");
            PQfreemem(lit);
        }
        ig_buf_puts(&sql, " ORDER BY ");
        quote_ident(&sql, rq->cursor);
        ig_buf_puts(&sql, " NULLS FIRST");
        for (size_t i = 0; i < st->npk; i++) {
            ig_buf_puts(&sql, ", ");
            quote_ident(&sql, st->pk[i]);
        }
    }
    ig_buf_puts(&sql, ") TO STDOUT (FORMAT csv)");
    ig_debug("source.sql", "%s", ig_buf_cstr(&sql));
    PGresult *r = PQexec(g->conn, ig_buf_cstr(&sql));
    ig_buf_free(&sql);
    if (PQresultStatus(r) != PGRES_COPY_OUT) {
        rc = pg_error(c, PQresultErrorMessage(r), PQresultErrorField(r, PG_DIAG_SQLSTATE), err);
        PQclear(r);
        return rc;
    }
    PQclear(r);
    ig_buf cur = IG_BUF_INIT;
    bool check_nulls = ci >= 0 && !rq->cursor_value;
    int64_t null_cursors = 0;
    char *row = NULL, *last = NULL; /* the previous row is kept for its cursor */
    int n, lastn = 0;
    while ((n = PQgetCopyData(g->conn, &row, 0)) > 0) {
        rc = ig_conn_out_record(out, row, (size_t)n, err);
        if (!rc && check_nulls) {
            if (ig__conn_csv_get(row, (size_t)n, (size_t)ci, &cur) == 0) null_cursors++;
            else check_nulls = false; /* NULLS FIRST: no more after the first value */
        }
        if (!rc && ig_conn_out_interrupted(out)) rc = IG_ERR_INTERRUPTED;
        if (!rc && ci >= 0 && ig_conn_out_full(out)) {
            int k = ig__conn_csv_get(row, (size_t)n, (size_t)ci, &cur);
            if (k == 1) rc = ig_conn_out_checkpoint(out, ig_buf_cstr(&cur), NULL, err);
        } else if (!rc && ci < 0 && part_state && ig_conn_out_full(out)) {
            rc = ig_conn_out_checkpoint(out, NULL, part_state, err);
        }
        if (last) PQfreemem(last);
        last = row;
        lastn = n;
        row = NULL;
        if (rc) break;
    }
    if (rc) {
        if (last) PQfreemem(last);
        /* Stop the server sending the rest; the connection is dropped. */
        PGcancel *cn = PQgetCancel(g->conn);
        char eb[256];
        if (cn) {
            PQcancel(cn, eb, sizeof eb);
            PQfreeCancel(cn);
        }
        pg_cleanup(g);
        ig_buf_free(&cur);
        if (rc == IG_ERR_INTERRUPTED && err->code == IG_OK)
            ig_err(err, rc, "interrupted; committed batches are kept");
        return rc;
    }
    if (n == -2) {
        if (last) PQfreemem(last);
        rc = pg_error(c, PQerrorMessage(g->conn), NULL, err);
        ig_buf_free(&cur);
        pg_cleanup(g);
        return rc;
    }
    r = PQgetResult(g->conn);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        rc = pg_error(c, PQresultErrorMessage(r), PQresultErrorField(r, PG_DIAG_SQLSTATE), err);
        ig_err_prefix(err, "reading %s.%s", st->ns, st->object);
    }
    PQclear(r);
    while ((r = PQgetResult(g->conn))) PQclear(r);
    if (null_cursors)
        ig_warn("source.null_cursor",
                "%s.%s: %lld rows have NULL in cursor column '%s': they are loaded now, but "
                "later changes to them are only seen by a --full-refresh",
                c->name, st->name, (long long)null_cursors, rq->cursor);
    /* The final checkpoint: the cursor of the last row read (kept in cur
     * when the last checkpoint was not at the very end). */
    if (!rc && !no_final) {
        const char *cv = NULL;
        if (ci >= 0 && last && ig__conn_csv_get(last, (size_t)lastn, (size_t)ci, &cur) == 1)
            cv = ig_buf_cstr(&cur);
        rc = ig_conn_out_checkpoint(out, cv, NULL, err);
    }
    if (last) PQfreemem(last);
    ig_buf_free(&cur);
    return rc;
}


/* ---- cdc: logical replication with pgoutput ----
 *
 * A cdc stream has a publication (configured, or ingot_<source>_<stream>
 * created for its table) and its own logical replication slot with the
 * pgoutput plugin. The first sync creates the slot on a replication
 * connection with EXPORT_SNAPSHOT and copies the table inside that snapshot
 * (SET TRANSACTION SNAPSHOT): the copy holds every transaction committed
 * before the slot's consistent point and the slot streams every one after
 * it, so nothing is lost or read twice. The state ({"slot", "publication",
 * "lsn"}) is committed with the rows; `lsn` is where the next sync starts.
 *
 * Later syncs START_REPLICATION at the saved lsn and read until caught up
 * with the server's WAL position at the start (IDENTIFY_SYSTEM), turning
 * Insert/Update/Delete/Truncate messages of the stream's table into records
 * (conn.h: _ingot_op, _ingot_lsn, _ingot_toast). Each checkpoint commits the
 * records with the end lsn of the last whole transaction; only after that
 * commit is the position confirmed to the server (standby status update,
 * flush), so the server keeps the WAL of every change not yet in the
 * warehouse. A transaction whose commit record starts before the requested
 * start point is skipped by the server, so a resume never repeats one. */

typedef struct cdc_names {
    const char *slot, *publication;
    bool own_publication; /* ours to create (and drop on reset) */
} cdc_names;

/* ingot_<source>_<stream> with [a-z0-9_] only, at most 63 bytes. */
static const char *cdc_default_name(ig_arena *a, const char *source, const char *stream)
{
    char *n = ig_arena_printf(a, "ingot_%s_%s", source, stream);
    for (char *p = n; *p; p++) {
        char ch = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
        *p = ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) ? ch : '_';
    }
    if (strlen(n) > 63) n[63] = '\0';
    return n;
}

static const char *cfg_key(const ig_yaml *scfg, const char *key)
{
    const ig_yaml *v = scfg && scfg->kind == IG_Y_MAP ? ig_yaml_get(scfg, key) : NULL;
    return v && v->kind == IG_Y_SCALAR && v->str && *v->str ? v->str : NULL;
}

static void cdc_names_of(ig_conn *c, const ig_conn_stream *st, const ig_yaml *scfg,
                         json_t *state, cdc_names *n)
{
    const char *dflt = cdc_default_name(c->arena, c->name, st->name);
    const char *ss = state ? json_string_value(json_object_get(state, "slot")) : NULL;
    const char *sp = state ? json_string_value(json_object_get(state, "publication")) : NULL;
    n->slot = cfg_key(scfg, "slot") ? cfg_key(scfg, "slot")
              : ss                  ? ig_arena_strdup(c->arena, ss)
                                    : dflt;
    n->publication = cfg_key(scfg, "publication") ? cfg_key(scfg, "publication")
                     : sp                         ? ig_arena_strdup(c->arena, sp)
                                                  : dflt;
    n->own_publication = !cfg_key(scfg, "publication") && !strcmp(n->publication, dflt);
}

static uint64_t lsn_parse(const char *s)
{
    unsigned hi = 0, lo = 0;
    if (!s || sscanf(s, "%X/%X", &hi, &lo) != 2) return 0;
    return ((uint64_t)hi << 32) | lo;
}

static const char *lsn_text(char *b, size_t n, uint64_t l)
{
    snprintf(b, n, "%X/%X", (unsigned)(l >> 32), (unsigned)l);
    return b;
}

/* Run one statement; *out gets the result (tuples) when out is not NULL. */
static ig_rc q(ig_conn *c, PGconn *conn, const char *sql, int np, const char *const *pv,
               PGresult **out, ig_error *err)
{
    PGresult *r = np ? PQexecParams(conn, sql, np, NULL, pv, NULL, NULL, 0) : PQexec(conn, sql);
    ExecStatusType t = PQresultStatus(r);
    if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
        ig_rc rc = pg_error(c, PQresultErrorMessage(r), PQresultErrorField(r, PG_DIAG_SQLSTATE),
                            err);
        PQclear(r);
        return rc;
    }
    if (out) *out = r;
    else PQclear(r);
    return IG_OK;
}

static void cdc_kill_point(const char *point, long n)
{
    const char *k = getenv("INGOT_TEST_CDC_KILL");
    if (!k) return;
    size_t l = strlen(point);
    if (strncmp(k, point, l)) return;
    if (k[l] == '\0' || (k[l] == ':' && atol(k + l + 1) == n)) raise(SIGKILL);
}

/* wal_level must be logical; the publication must exist and hold the table
 * (created or extended when it is ours). */
static ig_rc cdc_prepare(ig_conn *c, const ig_conn_stream *st, const cdc_names *n, ig_error *err)
{
    pg *g = c->priv;
    PGresult *r;
    ig_rc rc = q(c, g->conn, "SHOW wal_level", 0, NULL, &r, err);
    if (rc) return rc;
    char wl[32];
    snprintf(wl, sizeof wl, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (strcmp(wl, "logical")) {
        ig_err(err, IG_ERR_CONFIG,
               "postgres source '%s': cdc needs the server's wal_level to be 'logical'; it is '%s'",
               c->name, wl);
        ig_err_hint(err, "as a superuser run ALTER SYSTEM SET wal_level = logical; and restart "
                         "the server (or set wal_level in postgresql.conf), or use mode "
                         "incremental_dedup with a cursor column");
        return IG_ERR_CONFIG;
    }
    const char *pv[3] = {n->publication, st->ns, st->object};
    /* A published table without a replica identity makes the application's
     * own UPDATEs and DELETEs fail: never do that to a source. */
    if ((rc = q(c, g->conn,
                "SELECT c.relreplident::text, EXISTS (SELECT 1 FROM pg_index i WHERE "
                "i.indrelid = c.oid AND i.indisprimary) FROM pg_class c JOIN pg_namespace s "
                "ON s.oid = c.relnamespace WHERE s.nspname = $1 AND c.relname = $2",
                2, pv + 1, &r, err)))
        return rc;
    bool no_identity = PQntuples(r) > 0 && (!strcmp(PQgetvalue(r, 0, 0), "n") ||
                                            (!strcmp(PQgetvalue(r, 0, 0), "d") &&
                                             strcmp(PQgetvalue(r, 0, 1), "t")));
    PQclear(r);
    if (no_identity) {
        ig_err(err, IG_ERR_CONFIG, "postgres source '%s': table %s.%s (stream '%s') has no "
                                   "primary key and no replica identity", c->name, st->ns,
               st->object, st->name);
        ig_err_hint(err, "once published, its UPDATEs and DELETEs would fail in the source; as "
                         "its owner run ALTER TABLE \"%s\".\"%s\" REPLICA IDENTITY FULL; first "
                         "(or give it a primary key)", st->ns, st->object);
        return IG_ERR_CONFIG;
    }
    if ((rc = q(c, g->conn, "SELECT 1 FROM pg_publication WHERE pubname = $1", 1, pv, &r, err)))
        return rc;
    bool exists = PQntuples(r) > 0;
    PQclear(r);
    ig_buf sql = IG_BUF_INIT;
    if (!exists) {
        if (!n->own_publication) {
            ig_err(err, IG_ERR_NOT_FOUND, "postgres source '%s': publication '%s' (stream '%s') "
                                          "does not exist", c->name, n->publication, st->name);
            ig_err_hint(err, "create it in the source (CREATE PUBLICATION \"%s\" FOR TABLE "
                             "\"%s\".\"%s\";) or remove 'publication:' from the stream to let "
                             "ingot create its own", n->publication, st->ns, st->object);
            return IG_ERR_NOT_FOUND;
        }
        ig_buf_puts(&sql, "CREATE PUBLICATION ");
        quote_ident(&sql, n->publication);
        ig_buf_puts(&sql, " FOR TABLE ");
        quote_ident(&sql, st->ns);
        ig_buf_putc(&sql, '.');
        quote_ident(&sql, st->object);
        rc = q(c, g->conn, ig_buf_cstr(&sql), 0, NULL, NULL, err);
        ig_buf_free(&sql);
        if (rc) ig_err_hint(err, "cdc creates a publication for the table: the user needs CREATE "
                                 "on the database and to own the table; or create one as its "
                                 "owner and name it in the stream's 'publication:'");
        return rc;
    }
    if ((rc = q(c, g->conn,
                "SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2 "
                "AND tablename = $3",
                3, pv, &r, err)))
        return rc;
    bool has = PQntuples(r) > 0;
    PQclear(r);
    if (has) return IG_OK;
    if (!n->own_publication) {
        ig_err(err, IG_ERR_CONFIG, "postgres source '%s': publication '%s' does not include "
                                   "table %s.%s (stream '%s')", c->name, n->publication, st->ns,
               st->object, st->name);
        ig_err_hint(err, "add it in the source: ALTER PUBLICATION \"%s\" ADD TABLE \"%s\".\"%s\";",
                    n->publication, st->ns, st->object);
        return IG_ERR_CONFIG;
    }
    ig_buf_puts(&sql, "ALTER PUBLICATION ");
    quote_ident(&sql, n->publication);
    ig_buf_puts(&sql, " ADD TABLE ");
    quote_ident(&sql, st->ns);
    ig_buf_putc(&sql, '.');
    quote_ident(&sql, st->object);
    rc = q(c, g->conn, ig_buf_cstr(&sql), 0, NULL, NULL, err);
    ig_buf_free(&sql);
    return rc;
}

/* Drop the slot if it exists (not while another process streams from it). */
static ig_rc cdc_drop_slot(ig_conn *c, const char *slot, ig_error *err)
{
    pg *g = c->priv;
    PGresult *r;
    const char *pv[1] = {slot};
    ig_rc rc = q(c, g->conn,
                 "SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1 AND "
                 "database = current_database()",
                 1, pv, &r, err);
    if (rc) return rc;
    bool exists = PQntuples(r) > 0;
    bool active = exists && !PQgetisnull(r, 0, 0);
    char pid[32];
    snprintf(pid, sizeof pid, "%s", active ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    for (int tries = 0; active && tries < 40; tries++) { /* a killed sync's, going away */
        struct timespec ws = {0, 250000000};
        nanosleep(&ws, NULL);
        if ((rc = q(c, g->conn,
                    "SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1 AND "
                    "database = current_database()",
                    1, pv, &r, err)))
            return rc;
        active = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0);
        PQclear(r);
    }
    if (active) {
        ig_err(err, IG_ERR_LOCKED, "postgres source '%s': replication slot '%s' is in use by "
                                   "server process %s", c->name, slot, pid);
        ig_err_hint(err, "another sync of this stream is running; wait for it, or end it in the "
                         "source with SELECT pg_terminate_backend(%s);", pid);
        return IG_ERR_LOCKED;
    }
    if (!exists) return IG_OK;
    return q(c, g->conn, "SELECT pg_drop_replication_slot($1)", 1, pv, NULL, err);
}

static ig_rc pg_cdc_release(ig_conn *c, const ig_conn_stream *st, const ig_yaml *scfg,
                            const char *state, ig_error *err)
{
    ig_rc rc = pg_connect(c, err);
    if (rc) return rc;
    json_error_t je;
    json_t *js = state ? json_loads(state, 0, &je) : NULL;
    cdc_names n;
    cdc_names_of(c, st, scfg, js, &n);
    json_decref(js);
    rc = cdc_drop_slot(c, n.slot, err);
    if (!rc && n.own_publication) {
        ig_buf sql = IG_BUF_INIT;
        ig_buf_puts(&sql, "DROP PUBLICATION IF EXISTS ");
        quote_ident(&sql, n.publication);
        rc = q(c, ((pg *)c->priv)->conn, ig_buf_cstr(&sql), 0, NULL, NULL, err);
        ig_buf_free(&sql);
    }
    if (!rc) ig_info("source.cdc", "%s.%s: replication slot '%s' dropped", c->name, st->name,
                     n.slot);
    return rc;
}

static const char *cdc_state(ig_arena *a, const cdc_names *n, uint64_t lsn)
{
    char l[40];
    ig_buf b = IG_BUF_INIT;
    ig_buf_puts(&b, "{\"slot\":");
    ig_json_quote(&b, n->slot);
    ig_buf_puts(&b, ",\"publication\":");
    ig_json_quote(&b, n->publication);
    ig_buf_printf(&b, ",\"lsn\":\"%s\"}", lsn_text(l, sizeof l, lsn));
    const char *s = ig_arena_strdup(a, ig_buf_cstr(&b));
    ig_buf_free(&b);
    return s;
}

/* First sync: slot + snapshot copy, committed with the slot's consistent
 * point. */
static ig_rc cdc_snapshot(ig_conn *c, const ig_conn_read *rq, const cdc_names *n,
                          ig_conn_out *out, ig_error *err)
{
    pg *g = c->priv;
    const ig_conn_stream *st = rq->stream;
    /* the replication connection first: a user without REPLICATION learns
     * that before anything is created */
    PGconn *repl = pg_new_conn(c, true, err);
    if (!repl) return err->code;
    ig_rc rc = cdc_prepare(c, st, n, err);
    if (!rc) rc = cdc_drop_slot(c, n->slot, err); /* left by a sync that did not finish */
    if (rc) {
        PQfinish(repl);
        return rc;
    }
    ig_buf sql = IG_BUF_INIT;
    ig_buf_puts(&sql, "CREATE_REPLICATION_SLOT ");
    quote_ident(&sql, n->slot);
    ig_buf_puts(&sql, " LOGICAL pgoutput EXPORT_SNAPSHOT");
    PGresult *r;
    rc = q(c, repl, ig_buf_cstr(&sql), 0, NULL, &r, err);
    ig_buf_free(&sql);
    if (rc) {
        if (strstr(err->message, "all replication slots are in use"))
            ig_err_hint(err, "the server's max_replication_slots are all taken: drop unused "
                             "ones (SELECT slot_name, active FROM pg_replication_slots; then "
                             "SELECT pg_drop_replication_slot('name');) or raise "
                             "max_replication_slots and restart the server");
        PQfinish(repl);
        return rc;
    }
    uint64_t start = lsn_parse(PQgetvalue(r, 0, 1));
    char *snap = ig_arena_strdup(c->arena, PQgetvalue(r, 0, 2));
    ig_info("source.cdc", "%s.%s: replication slot '%s' created at %s; copying the snapshot",
            c->name, st->name, n->slot, PQgetvalue(r, 0, 1));
    PQclear(r);
    ig_buf_printf(&sql, "SET TRANSACTION SNAPSHOT '%s'", snap);
    rc = q(c, g->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", 0, NULL, NULL, err);
    if (!rc) rc = q(c, g->conn, ig_buf_cstr(&sql), 0, NULL, NULL, err);
    ig_buf_free(&sql);
    ig_conn_read snap_rq = *rq;
    snap_rq.cursor = NULL;
    snap_rq.cursor_value = NULL;
    /* batches of the snapshot commit as they fill, with a state without a
     * position: a sync that finds one starts the snapshot over (sync.c) */
    ig_buf ps = IG_BUF_INIT;
    ig_buf_puts(&ps, "{\"slot\":");
    ig_json_quote(&ps, n->slot);
    ig_buf_puts(&ps, ",\"publication\":");
    ig_json_quote(&ps, n->publication);
    ig_buf_puts(&ps, ",\"snapshot\":\"in progress\"}");
    if (!rc) rc = copy_read(c, &snap_rq, out, true, ig_buf_cstr(&ps), err);
    ig_buf_free(&ps);
    if (!rc && g->conn) rc = q(c, g->conn, "COMMIT", 0, NULL, NULL, err);
    else if (g->conn) PQclear(PQexec(g->conn, "ROLLBACK")); /* leave the session usable */
    PQfinish(repl); /* the snapshot is no longer needed */
    if (rc) return rc;
    cdc_kill_point("snapshot", 0);
    char l[40];
    return ig_conn_out_checkpoint(out, lsn_text(l, sizeof l, start), cdc_state(c->arena, n, start),
                                  err);
}

/* ---- pgoutput messages ---- */

typedef struct rd {
    const unsigned char *p, *end;
    bool bad;
} rd;

static uint64_t rd_u(rd *r, int bytes)
{
    uint64_t v = 0;
    if (r->end - r->p < bytes) {
        r->bad = true;
        r->p = r->end;
        return 0;
    }
    for (int i = 0; i < bytes; i++) v = (v << 8) | *r->p++;
    return v;
}

static const char *rd_str(rd *r)
{
    const unsigned char *s = r->p;
    while (r->p < r->end && *r->p) r->p++;
    if (r->p >= r->end) {
        r->bad = true;
        return "";
    }
    r->p++;
    return (const char *)s;
}

typedef struct tval {
    char kind; /* 'n' null, 'u' unchanged TOAST, 't' text */
    const char *s;
    size_t n;
} tval;

/* TupleData into vals (by stream column; absent columns stay NULL). */
static bool rd_tuple(rd *r, const int *map, size_t nmap, tval *vals, size_t nvals)
{
    for (size_t i = 0; i < nvals; i++) vals[i] = (tval){'n', NULL, 0};
    size_t n = (size_t)rd_u(r, 2);
    for (size_t i = 0; i < n && !r->bad; i++) {
        char k = (char)rd_u(r, 1);
        tval v = {k, NULL, 0};
        if (k == 't' || k == 'b') {
            uint64_t len = rd_u(r, 4);
            if ((uint64_t)(r->end - r->p) < len) {
                r->bad = true;
                break;
            }
            v.s = (const char *)r->p;
            v.n = (size_t)len;
            r->p += len;
            v.kind = 't';
        } else if (k != 'n' && k != 'u') {
            r->bad = true;
        }
        int idx = i < nmap ? map[i] : -1;
        if (idx >= 0 && (size_t)idx < nvals) vals[idx] = v;
    }
    return !r->bad;
}

/* ISO 8601 interval (IntervalStyle iso_8601: "P1Y2M-3DT4H5M6.5S") into the
 * "N months N days N microseconds" form the COPY read gives. */
static bool iso_interval(ig_buf *b, const char *s, size_t n)
{
    const char *p = s, *e = s + n;
    if (p == e || *p != 'P') return false;
    p++;
    bool time = false;
    long long months = 0, days = 0, us = 0;
    while (p < e) {
        if (*p == 'T') {
            time = true;
            p++;
            continue;
        }
        bool neg = false;
        if (*p == '-' || *p == '+') neg = *p++ == '-';
        long long whole = 0, frac = 0;
        int fd = 0;
        while (p < e && *p >= '0' && *p <= '9') whole = whole * 10 + (*p++ - '0');
        if (p < e && *p == '.') {
            p++;
            while (p < e && *p >= '0' && *p <= '9') {
                if (fd < 6) {
                    frac = frac * 10 + (*p - '0');
                    fd++;
                }
                p++;
            }
        }
        while (fd < 6) {
            frac *= 10;
            fd++;
        }
        if (p >= e) return false;
        char u = *p++;
        long long sign = neg ? -1 : 1;
        if (!time && u == 'Y') months += sign * whole * 12;
        else if (!time && u == 'M') months += sign * whole;
        else if (!time && u == 'W') days += sign * whole * 7;
        else if (!time && u == 'D') days += sign * whole;
        else if (time && u == 'H') us += sign * whole * 3600000000LL;
        else if (time && u == 'M') us += sign * whole * 60000000LL;
        else if (time && u == 'S') us += sign * (whole * 1000000LL + frac);
        else return false;
    }
    ig_buf_printf(b, "%lld months %lld days %lld microseconds", months, days, us);
    return true;
}

/* A PostgreSQL array literal ("{1,2}", "{{\"a b\",NULL}}") as the JSON
 * array_to_json gives. */
static void array_json(ig_buf *b, const char *s, size_t n, int kind)
{
    const char *p = s, *e = s + n;
    if (p < e && *p == '[') { /* explicit bounds "[0:1]={...}" */
        while (p < e && *p != '=') p++;
        if (p < e) p++;
    }
    ig_buf el = IG_BUF_INIT;
    bool need_comma = false;
    while (p < e) {
        char ch = *p;
        if (ch == '{') {
            if (need_comma) ig_buf_putc(b, ',');
            ig_buf_putc(b, '[');
            need_comma = false;
            p++;
        } else if (ch == '}') {
            ig_buf_putc(b, ']');
            need_comma = true;
            p++;
        } else if (ch == ',' || ch == ' ') {
            p++;
        } else {
            bool quoted = ch == '"';
            ig_buf_reset(&el);
            if (quoted) {
                p++;
                while (p < e && *p != '"') {
                    if (*p == '\\' && p + 1 < e) p++;
                    ig_buf_putc(&el, *p++);
                }
                p++;
            } else {
                while (p < e && *p != ',' && *p != '}') ig_buf_putc(&el, *p++);
            }
            if (need_comma) ig_buf_putc(b, ',');
            need_comma = true;
            const char *v = ig_buf_cstr(&el);
            if (!quoted && !strcmp(v, "NULL")) ig_buf_puts(b, "null");
            else if (kind == K_ARR_NUM) {
                if (!strcmp(v, "NaN") || strstr(v, "Infinity")) ig_buf_puts(b, "null");
                else ig_buf_puts(b, v);
            } else if (kind == K_ARR_BOOL) ig_buf_puts(b, !strcmp(v, "t") ? "true" : "false");
            else if (kind == K_ARR_JSON) ig_buf_puts(b, v);
            else ig_json_quote_n(b, v, el.len);
        }
    }
    ig_buf_free(&el);
}

/* One value as the CSV field the snapshot COPY gives for it. */
static void cdc_field(ig_buf *line, ig_buf *tmp, const ig_conn_column *col, const tval *v)
{
    if (v->kind != 't') return; /* NULL (and unchanged TOAST): empty unquoted */
    const char *s = v->s;
    size_t n = v->n;
    ig_buf_reset(tmp);
    switch (col->kind) {
    case K_NUMERIC:
        if ((n == 3 && !memcmp(s, "NaN", 3)) || (n >= 8 && memmem(s, n, "Infinity", 8))) return;
        break;
    case K_MONEY:
        for (size_t i = 0; i < n; i++)
            if ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-') ig_buf_putc(tmp, s[i]);
        s = tmp->data ? tmp->data : "";
        n = tmp->len;
        break;
    case K_BYTEA:
        if (n >= 2 && s[0] == '\\' && s[1] == 'x') {
            s += 2;
            n -= 2;
            if (!n) { /* an empty bytea: an empty quoted field, not NULL */
                ig_buf_puts(line, "\"\"");
                return;
            }
        }
        break;
    case K_INTERVAL:
        if (iso_interval(tmp, s, n)) {
            s = tmp->data;
            n = tmp->len;
        }
        break;
    case K_ARR_NUM:
    case K_ARR_BOOL:
    case K_ARR_TEXT:
    case K_ARR_JSON:
        array_json(tmp, s, n, col->kind);
        s = tmp->data ? tmp->data : "";
        n = tmp->len;
        break;
    default:
        break;
    }
    ig__conn_csv_field(line, s, n);
}

typedef struct cdc_run {
    ig_conn *c;
    const ig_conn_stream *st; /* with the change columns */
    size_t nreal;             /* the table's own columns */
    ig_conn_out *out;
    uint32_t relid;           /* the table's oid once its Relation message came; 0 before */
    int *map;                 /* relation column -> stream column */
    size_t nmap;
    tval *vals, *old;
    ig_buf line, tmp, toast;
    long changes;
} cdc_run;

static ig_rc cdc_emit(cdc_run *R, char op, uint64_t lsn, const tval *vals, ig_error *err)
{
    ig_buf_reset(&R->line);
    ig_buf_reset(&R->toast);
    for (size_t i = 0; i < R->nreal; i++) {
        if (vals && vals[i].kind == 'u') {
            if (!R->toast.len) ig_buf_putc(&R->toast, '|');
            ig_buf_printf(&R->toast, "%s|", R->st->cols[i].name);
        }
        if (vals) cdc_field(&R->line, &R->tmp, &R->st->cols[i], &vals[i]);
        ig_buf_putc(&R->line, ',');
    }
    ig_buf_printf(&R->line, "%c,%llu,", op, (unsigned long long)lsn);
    if (R->toast.len) ig__conn_csv_field(&R->line, R->toast.data, R->toast.len);
    ig_buf_putc(&R->line, '\n');
    R->changes++;
    ig_rc rc = ig_conn_out_record(R->out, R->line.data, R->line.len, err);
    if (!rc) cdc_kill_point("change", R->changes);
    return rc;
}

/* Are the key columns of a and b the same text? */
static bool same_key(const cdc_run *R, const tval *a, const tval *b)
{
    for (size_t k = 0; k < R->st->npk; k++)
        for (size_t i = 0; i < R->nreal; i++) {
            if (strcmp(R->st->cols[i].name, R->st->pk[k])) continue;
            if (a[i].kind != b[i].kind || a[i].n != b[i].n ||
                (a[i].n && memcmp(a[i].s, b[i].s, a[i].n)))
                return false;
        }
    return true;
}

/* One pgoutput message (XLogData payload) at log position lsn. */
static ig_rc cdc_message(cdc_run *R, const unsigned char *p, size_t n, uint64_t lsn, bool *in_tx,
                         uint64_t *commit_end, ig_error *err)
{
    rd r = {p, p + n, false};
    char type = (char)rd_u(&r, 1);
    switch (type) {
    case 'B':
        *in_tx = true;
        return IG_OK;
    case 'C':
        rd_u(&r, 1);
        rd_u(&r, 8);
        *commit_end = rd_u(&r, 8);
        *in_tx = false;
        break;
    case 'R': {
        uint32_t relid = (uint32_t)rd_u(&r, 4);
        const char *nsp = rd_str(&r), *rel = rd_str(&r);
        rd_u(&r, 1);
        size_t nc = (size_t)rd_u(&r, 2);
        if (r.bad) break;
        if (strcmp(nsp, R->st->ns) || strcmp(rel, R->st->object)) return IG_OK;
        R->relid = relid;
        free(R->map);
        R->map = ig_calloc(nc + 1, sizeof *R->map);
        R->nmap = nc;
        for (size_t i = 0; i < nc && !r.bad; i++) {
            rd_u(&r, 1);
            const char *name = rd_str(&r);
            rd_u(&r, 4);
            rd_u(&r, 4);
            R->map[i] = -1;
            for (size_t k = 0; k < R->nreal; k++)
                if (!strcmp(R->st->cols[k].name, name)) R->map[i] = (int)k;
        }
        break;
    }
    case 'I':
    case 'U':
    case 'D': {
        uint32_t relid = (uint32_t)rd_u(&r, 4);
        if (r.bad || !R->relid || relid != R->relid) return IG_OK;
        char k = (char)rd_u(&r, 1);
        bool have_old = false;
        if ((type == 'U' || type == 'D') && (k == 'K' || k == 'O')) {
            if (!rd_tuple(&r, R->map, R->nmap, R->old, R->nreal)) break;
            have_old = true;
            if (type == 'U') k = (char)rd_u(&r, 1);
        }
        if (type == 'D') return have_old ? cdc_emit(R, 'd', lsn, R->old, err) : IG_OK;
        if (k != 'N' || !rd_tuple(&r, R->map, R->nmap, R->vals, R->nreal)) {
            r.bad = true;
            break;
        }
        if (type == 'U' && have_old && !same_key(R, R->old, R->vals)) {
            ig_rc rc = cdc_emit(R, 'd', lsn, R->old, err); /* the key changed */
            if (rc) return rc;
        }
        return cdc_emit(R, type == 'I' ? 'c' : 'u', lsn, R->vals, err);
    }
    case 'T': {
        size_t nrel = (size_t)rd_u(&r, 4);
        rd_u(&r, 1);
        for (size_t i = 0; i < nrel && !r.bad; i++)
            if (R->relid && (uint32_t)rd_u(&r, 4) == R->relid) return cdc_emit(R, 't', lsn, NULL, err);
        break;
    }
    default: /* Origin, Type, Message: nothing to apply */
        return IG_OK;
    }
    if (r.bad)
        return ig_err(err, IG_ERR_DATA, "postgres source '%s': a malformed pgoutput message "
                                        "('%c', %zu bytes) in the replication stream",
                      R->c->name, type, n);
    return IG_OK;
}

/* Standby status update: written/flushed/applied = the committed position. */
static bool cdc_status(PGconn *conn, uint64_t pos, bool reply)
{
    unsigned char m[34];
    m[0] = 'r';
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)(ts.tv_sec - 946684800) * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    uint64_t v[4] = {pos, pos, pos, now};
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 8; i++) m[1 + k * 8 + i] = (unsigned char)(v[k] >> (56 - 8 * i));
    m[33] = reply ? 1 : 0;
    return PQputCopyData(conn, (const char *)m, sizeof m) == 1 && PQflush(conn) == 0;
}

static ig_rc cdc_stream(ig_conn *c, const ig_conn_read *rq, const cdc_names *n, uint64_t start,
                        ig_conn_out *out, ig_error *err)
{
    pg *g = c->priv;
    const ig_conn_stream *st = rq->stream;
    /* The warehouse must not be behind what the slot has confirmed: changes in
     * between would be gone (a warehouse restored from an older copy). */
    PGresult *r;
    const char *pv[1] = {n->slot};
    ig_rc rc = q(c, g->conn,
                 "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1 "
                 "AND database = current_database()",
                 1, pv, &r, err);
    if (rc) return rc;
    if (!PQntuples(r)) {
        PQclear(r);
        ig_err(err, IG_ERR_NOT_FOUND, "postgres source '%s': replication slot '%s' of stream '%s' "
                                      "no longer exists in the source", c->name, n->slot, st->name);
        ig_err_hint(err, "changes since the last sync are lost to cdc; take a new snapshot with "
                         "'ingot source sync %s --stream %s --full-refresh'", c->name, st->name);
        return IG_ERR_NOT_FOUND;
    }
    uint64_t confirmed = lsn_parse(PQgetvalue(r, 0, 0));
    PQclear(r);
    char l1[40], l2[40];
    if (confirmed > start) {
        ig_err(err, IG_ERR_DATA, "postgres source '%s': replication slot '%s' has confirmed "
                                 "changes up to %s but the warehouse holds them only up to %s",
               c->name, n->slot, lsn_text(l1, sizeof l1, confirmed), lsn_text(l2, sizeof l2, start));
        ig_err_hint(err, "the warehouse was restored from an older copy or another warehouse "
                         "uses the same slot; re-snapshot with 'ingot source sync %s --stream %s "
                         "--full-refresh' (and give each warehouse its own 'slot:')",
                    c->name, st->name);
        return IG_ERR_DATA;
    }
    rc = cdc_prepare(c, st, n, err); /* the table may have left the publication */
    if (rc) return rc;
    PGconn *repl = pg_new_conn(c, true, err);
    if (!repl) return err->code;
    uint64_t target = 0;
    if ((rc = q(c, repl, "IDENTIFY_SYSTEM", 0, NULL, &r, err))) {
        PQfinish(repl);
        return rc;
    }
    target = lsn_parse(PQgetvalue(r, 0, 2));
    PQclear(r);
    ig_buf sql = IG_BUF_INIT;
    ig_buf_puts(&sql, "START_REPLICATION SLOT ");
    quote_ident(&sql, n->slot);
    ig_buf_printf(&sql, " LOGICAL %s (proto_version '1', publication_names '",
                  lsn_text(l1, sizeof l1, start));
    for (const char *s = n->publication; *s; s++) { /* a quoted name in a literal */
        if (s == n->publication) ig_buf_putc(&sql, '"');
        if (*s == '"') ig_buf_putc(&sql, '"');
        if (*s == '\'') ig_buf_putc(&sql, '\'');
        ig_buf_putc(&sql, *s);
    }
    ig_buf_puts(&sql, "\"')");
    ig_debug("source.sql", "%s", ig_buf_cstr(&sql));
    /* a sync killed a moment ago may still hold the slot until its server
     * process notices: wait a little for it */
    for (int tries = 0;; tries++) {
        r = PQexec(repl, ig_buf_cstr(&sql));
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (PQresultStatus(r) == PGRES_COPY_BOTH || tries >= 40 || !state ||
            strcmp(state, "55006"))
            break;
        PQclear(r);
        struct timespec ws = {0, 250000000};
        nanosleep(&ws, NULL);
    }
    ig_buf_free(&sql);
    if (PQresultStatus(r) != PGRES_COPY_BOTH) {
        rc = pg_error(c, PQresultErrorMessage(r), PQresultErrorField(r, PG_DIAG_SQLSTATE), err);
        if (strstr(err->message, "can no longer get changes") || strstr(err->message, "invalidated"))
            ig_err_hint(err, "the server dropped the WAL this slot needed (max_slot_wal_keep_size); "
                             "take a new snapshot with 'ingot source sync %s --stream %s "
                             "--full-refresh'", c->name, st->name);
        PQclear(r);
        PQfinish(repl);
        return rc;
    }
    PQclear(r);

    cdc_run R = {.c = c, .st = st, .nreal = st->ncols - IG_CONN_CDC_NCOLS, .out = out};
    R.vals = ig_calloc(R.nreal + 1, sizeof *R.vals);
    R.old = ig_calloc(R.nreal + 1, sizeof *R.old);
    bool in_tx = false, done = false;
    uint64_t pos = start;       /* end of the last whole transaction read */
    uint64_t committed = start; /* what the warehouse holds */
    uint64_t commit_end = 0;
    bool pending = false;       /* records or a position not yet checkpointed */
    time_t last_msg = time(NULL), last_status = time(NULL);
    char *buf = NULL;
    while (!rc && !done) {
        if (ig_conn_out_interrupted(out)) {
            rc = IG_ERR_INTERRUPTED;
            break;
        }
        int len = PQgetCopyData(repl, &buf, 1);
        if (len == 0) {
            /* nothing buffered: wait for the socket */
            struct pollfd pfd = {.fd = PQsocket(repl), .events = POLLIN};
            poll(&pfd, 1, 1000);
            if (!PQconsumeInput(repl)) {
                rc = pg_error(c, PQerrorMessage(repl), NULL, err);
                break;
            }
            time_t now = time(NULL);
            if (now - last_status >= 10) {
                cdc_status(repl, committed, false);
                last_status = now;
            }
            if (!in_tx && now - last_msg >= 30) done = true; /* the server went quiet */
            continue;
        }
        if (len == -1) { /* the server ended the stream */
            r = PQgetResult(repl);
            if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_COPY_OUT)
                rc = pg_error(c, PQresultErrorMessage(r), PQresultErrorField(r, PG_DIAG_SQLSTATE),
                              err);
            PQclear(r);
            done = true;
            break;
        }
        if (len < 0) {
            rc = pg_error(c, PQerrorMessage(repl), NULL, err);
            break;
        }
        last_msg = time(NULL);
        const unsigned char *m = (const unsigned char *)buf;
        if (m[0] == 'w' && len >= 25) {
            rd h = {m + 1, m + 25, false};
            uint64_t at = rd_u(&h, 8);
            bool was_in = in_tx;
            commit_end = 0;
            rc = cdc_message(&R, m + 25, (size_t)len - 25, at, &in_tx, &commit_end, err);
            if (!rc && was_in && !in_tx && commit_end) {
                pos = commit_end;
                pending = true;
                if (ig_conn_out_full(out)) { /* commit what we have, then confirm it */
                    char l[40];
                    rc = ig_conn_out_checkpoint(out, lsn_text(l, sizeof l, pos),
                                                cdc_state(c->arena, n, pos), err);
                    if (!rc) {
                        committed = pos;
                        pending = false;
                        cdc_kill_point("confirm", 0);
                        cdc_status(repl, committed, false);
                        last_status = time(NULL);
                    }
                }
                if (pos >= target) done = true;
            }
        } else if (m[0] == 'k' && len >= 18) {
            rd h = {m + 1, m + 18, false};
            uint64_t wal_end = rd_u(&h, 8);
            rd_u(&h, 8);
            bool reply = rd_u(&h, 1) != 0;
            if (!in_tx && wal_end > pos) {
                /* every transaction up to here was sent: nothing of ours in
                 * between; moving past it lets the server free its WAL */
                pos = wal_end;
                pending = true;
            }
            if (reply) {
                cdc_status(repl, committed, false);
                last_status = time(NULL);
            }
            if (!in_tx && wal_end >= target) done = true;
        }
        PQfreemem(buf);
        buf = NULL;
    }
    if (buf) PQfreemem(buf);
    free(R.vals);
    free(R.old);
    free(R.map);
    ig_buf_free(&R.line);
    ig_buf_free(&R.tmp);
    ig_buf_free(&R.toast);
    if (!rc && (pending || pos != start)) {
        char l[40];
        rc = ig_conn_out_checkpoint(out, lsn_text(l, sizeof l, pos), cdc_state(c->arena, n, pos),
                                    err);
        if (!rc) {
            committed = pos;
            cdc_kill_point("confirm", 0);
        }
    }
    if (PQstatus(repl) == CONNECTION_OK && PQisBusy(repl) >= 0) {
        if (committed != start) cdc_status(repl, committed, false);
        PQputCopyEnd(repl, NULL);
        PQflush(repl);
    }
    PQfinish(repl);
    if (rc == IG_ERR_INTERRUPTED && err->code == IG_OK)
        ig_err(err, rc, "interrupted; committed changes are kept");
    ig_info("source.cdc", "%s.%s: %ld changes read, position %s", c->name, st->name, R.changes,
            lsn_text(l1, sizeof l1, committed));
    return rc;
}

static ig_rc pg_cdc_read(ig_conn *c, const ig_conn_read *rq, ig_conn_out *out, ig_error *err)
{
    ig_rc rc = pg_connect(c, err);
    if (rc) return rc;
    json_error_t je;
    json_t *js = rq->state ? json_loads(rq->state, 0, &je) : NULL;
    cdc_names n;
    cdc_names_of(c, rq->stream, rq->stream_cfg, js, &n);
    const char *lsn = js ? json_string_value(json_object_get(js, "lsn")) : NULL;
    uint64_t start = lsn ? lsn_parse(lsn) : 0;
    json_decref(js);
    if (!start) return cdc_snapshot(c, rq, &n, out, err);
    return cdc_stream(c, rq, &n, start, out, err);
}

static ig_rc pg_read(ig_conn *c, const ig_conn_read *rq, ig_conn_out *out, ig_error *err)
{
    if (rq->mode == IG_CONN_CDC) return pg_cdc_read(c, rq, out, err);
    ig_rc rc = pg_connect(c, err);
    if (rc) return rc;
    return copy_read(c, rq, out, false, NULL, err);
}

static const char *const pg_stream_keys[] = {"publication", "slot", NULL};

const ig_conn_vtable ig_conn_postgres = {
    .type = "postgres",
    .summary = "PostgreSQL tables and views (COPY streaming; incremental by cursor; cdc)",
    .spec = pg_spec,
    .stream_keys = pg_stream_keys,
    .open = pg_open,
    .check = pg_check,
    .discover = pg_discover,
    .read = pg_read,
    .close = pg_close,
    .cdc_release = pg_cdc_release,
};
