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
 * text forms are the ones the warehouse reads back. */
#include "ingest/connectors/internal.h"

#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

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

static ig_rc pg_connect(ig_conn *c, ig_error *err)
{
    pg *g = c->priv;
    if (g->conn && PQstatus(g->conn) == CONNECTION_OK) return IG_OK;
    pg_cleanup(g);
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%ld", g->connect_timeout);
    const char *keys[] = {"host", "port", "dbname", "user", "password", "sslmode",
                          "connect_timeout", "application_name", "keepalives",
                          "keepalives_idle", "client_encoding", "options", NULL};
    const char *vals[] = {g->host, g->port, g->database, g->user, g->password, g->sslmode,
                          timeout, "ingot", "1", "30", "UTF8",
                          "-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=postgres "
                          "-c extra_float_digits=3 -c bytea_output=hex",
                          NULL};
    g->conn = PQconnectdbParams(keys, vals, 0);
    if (PQstatus(g->conn) != CONNECTION_OK) {
        ig_rc rc = pg_error(c, PQerrorMessage(g->conn), NULL, err);
        pg_cleanup(g);
        return rc;
    }
    return IG_OK;
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

enum { K_PLAIN, K_DATE };

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
                     const char *elem_typtype)
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
        if (!wh) wh = "DOUBLE"; /* unconstrained or wider than the warehouse's DECIMAL */
    } else if (!strcmp(base, "money")) {
        wh = "DECIMAL(19,2)";
        col->read_expr = ig_arena_printf(a, "%s::numeric", qname);
    } else if (!strcmp(base, "bytea")) {
        wh = "BLOB";
        col->read_expr = ig_arena_printf(a, "encode(%s, 'hex')", qname);
        col->load_expr = "unhex(%s)";
    } else if (!strcmp(base, "interval")) {
        wh = "INTERVAL";
        col->read_expr = ig_arena_printf(
            a,
            "((extract(year from %1$s) * 12 + extract(month from %1$s))::bigint || ' months ' || "
            "extract(day from %1$s)::bigint || ' days ' || ((extract(hour from %1$s) * 3600 + "
            "extract(minute from %1$s) * 60) * 1000000 + extract(microseconds from %1$s))::bigint "
            "|| ' microseconds')",
            qname);
    } else if (!strcmp(category, "A") && elem) {
        const char *et = !strcmp(elem_typtype ? elem_typtype : "", "e") ? "VARCHAR" : scalar_type(elem);
        if (et && strcmp(et, "JSON") && strcmp(et, "TIMETZ")) {
            wh = ig_arena_printf(a, "%s[]", et);
            col->load_expr = ig_arena_printf(a, "CAST(CAST(%%s AS JSON) AS %s)", wh);
        } else {
            wh = "JSON";
        }
        col->read_expr = ig_arena_printf(a, "array_to_json(%s)", qname);
    } else if (!wh) {
        wh = "VARCHAR"; /* inet, xml, bit, geometric, ranges...: their text form */
    }
    if (!strcmp(wh, "DATE")) col->kind = K_DATE;
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
    "            WHERE i.indrelid = c.oid AND i.indisprimary AND k.att = a.attnum), 0) "
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
                     PQgetisnull(r, k, 11) ? NULL : PQgetvalue(r, k, 11));
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

static ig_rc pg_read(ig_conn *c, const ig_conn_read *rq, ig_conn_out *out, ig_error *err)
{
    ig_rc rc = pg_connect(c, err);
    if (rc) return rc;
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
    if (!rc) {
        const char *cv = NULL;
        if (ci >= 0 && last && ig__conn_csv_get(last, (size_t)lastn, (size_t)ci, &cur) == 1)
            cv = ig_buf_cstr(&cur);
        rc = ig_conn_out_checkpoint(out, cv, NULL, err);
    }
    if (last) PQfreemem(last);
    ig_buf_free(&cur);
    return rc;
}

const ig_conn_vtable ig_conn_postgres = {
    .type = "postgres",
    .summary = "PostgreSQL tables and views (COPY streaming; incremental by cursor)",
    .spec = pg_spec,
    .stream_keys = NULL,
    .open = pg_open,
    .check = pg_check,
    .discover = pg_discover,
    .read = pg_read,
    .close = pg_close,
};
