/* `ingot source`: the connectors from the command line.
 *   ingot source list                 the sources in ingot.yml
 *   ingot source spec TYPE            a connector type's configuration keys
 *   ingot source check NAME           can it connect
 *   ingot source discover NAME        its streams, columns, types, keys
 *   ingot source sync NAME [--stream S] [--full-refresh]
 *   ingot source state NAME           the saved state of its streams
 *   ingot source reset NAME [--stream S]  forget state and tables; drop cdc slots
 * The work is in src/ingest/connectors/; this file parses and prints. */
#include "cli/cli.h"

#include "core/buf.h"
#include "core/str.h"
#include "ingest/connectors/conn.h"

#include <stdio.h>
#include <string.h>

static const char *opt_stream;
static bool opt_full_refresh, opt_json;
static long opt_batch_rows;

const ig_opt ig_opts_source[] = {
    {"stream", 's', IG_OPT_STR, &opt_stream, "STREAM", "only this stream (sync, discover, reset)"},
    {"full-refresh", 0, IG_OPT_FLAG, &opt_full_refresh, NULL,
     "forget the saved state and reload the stream(s) from scratch"},
    {"json", 0, IG_OPT_FLAG, &opt_json, NULL, "discover/state: print JSON"},
    {"batch-rows", 0, IG_OPT_INT, &opt_batch_rows, "N", "commit a batch every N rows"},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static ig_rc need_name(ig_cli *cli, const char *sub)
{
    if (cli->argc >= 2) return IG_OK;
    ig_err(&cli->err, IG_ERR_USAGE, "'ingot source %s' needs the source's name", sub);
    ig_err_hint(&cli->err, "'ingot source list' shows the sources in %s", IG_PROJECT_FILE);
    return IG_ERR_USAGE;
}

static ig_rc src_list(ig_cli *cli)
{
    const ig_yaml *s = ig_yaml_get(cli->project->root, "sources");
    if (!s || s->kind != IG_Y_MAP || !s->n) {
        printf("no sources in %s (see docs/connectors.md)\n", IG_PROJECT_FILE);
        return IG_OK;
    }
    for (size_t i = 0; i < s->n; i++) {
        const ig_yaml *t = ig_yaml_get(s->items[i], "type");
        printf("%-24s %s\n", s->keys[i]->str,
               t && t->kind == IG_Y_SCALAR ? t->str : "(no type)");
    }
    return IG_OK;
}

static ig_rc src_spec(ig_cli *cli)
{
    if (cli->argc < 2) {
        for (const ig_conn_vtable *const *t = ig_conn_types(); *t; t++)
            printf("%-10s %s\n", (*t)->type, (*t)->summary);
        return IG_OK;
    }
    const ig_conn_vtable *vt = ig_conn_find_type(cli->argv[1]);
    if (!vt) {
        ig_err(&cli->err, IG_ERR_NOT_FOUND, "no connector type '%s'", cli->argv[1]);
        ig_err_hint(&cli->err, "types: postgres, mysql (mariadb), rest");
        return IG_ERR_NOT_FOUND;
    }
    printf("%s: %s\n\n", vt->type, vt->summary);
    for (const ig_conn_spec_key *k = vt->spec; k->name; k++)
        printf("  %-18s %-8s %s%s%s%s%s\n", k->name, k->type, k->required ? "required. " : "",
               k->secret ? "secret. " : "", k->help, k->dflt ? " (default " : "",
               k->dflt ? k->dflt : "");
    printf("\n  also: type, streams, default_mode, include, exclude, secrets_file, batch_rows, "
           "batch_mb\n");
    return IG_OK;
}

static void print_catalog_json(const ig_conn_catalog *cat)
{
    ig_buf b = IG_BUF_INIT;
    ig_buf_puts(&b, "{\"streams\":[");
    for (size_t i = 0; i < cat->n; i++) {
        const ig_conn_stream *st = &cat->streams[i];
        if (opt_stream && strcmp(opt_stream, st->name)) continue;
        if (b.len > 13) ig_buf_putc(&b, ',');
        ig_buf_puts(&b, "{\"name\":");
        ig_json_quote(&b, st->name);
        ig_buf_puts(&b, ",\"columns\":[");
        for (size_t j = 0; j < st->ncols; j++) {
            const ig_conn_column *c = &st->cols[j];
            ig_buf_printf(&b, "%s{\"name\":", j ? "," : "");
            ig_json_quote(&b, c->name);
            ig_buf_puts(&b, ",\"source_type\":");
            ig_json_quote(&b, c->source_type);
            ig_buf_puts(&b, ",\"type\":");
            ig_json_quote(&b, c->wh_type);
            ig_buf_printf(&b, ",\"nullable\":%s,\"cursor\":%s}", c->nullable ? "true" : "false",
                          c->cursor_ok ? "true" : "false");
        }
        ig_buf_puts(&b, "],\"primary_key\":[");
        for (size_t j = 0; j < st->npk; j++) {
            if (j) ig_buf_putc(&b, ',');
            ig_json_quote(&b, st->pk[j]);
        }
        ig_buf_puts(&b, "]}");
    }
    ig_buf_puts(&b, "]}\n");
    fputs(ig_buf_cstr(&b), stdout);
    ig_buf_free(&b);
}

static ig_rc src_discover(ig_cli *cli, ig_conn *c)
{
    ig_conn_catalog cat;
    ig_rc rc = ig_conn_discover(c, &cat, &cli->err);
    if (rc) return rc;
    if (opt_json) {
        print_catalog_json(&cat);
        return IG_OK;
    }
    size_t shown = 0;
    for (size_t i = 0; i < cat.n; i++) {
        const ig_conn_stream *st = &cat.streams[i];
        if (opt_stream && strcmp(opt_stream, st->name)) continue;
        shown++;
        printf("%s", st->name);
        if (st->npk) {
            printf("  (primary key:");
            for (size_t j = 0; j < st->npk; j++) printf(" %s", st->pk[j]);
            printf(")");
        }
        printf("\n");
        for (size_t j = 0; j < st->ncols; j++) {
            const ig_conn_column *col = &st->cols[j];
            printf("  %-28s %-26s -> %-22s%s%s\n", col->name, col->source_type, col->wh_type,
                   col->nullable ? "" : " not null", col->cursor_ok ? " [cursor]" : "");
        }
    }
    if (opt_stream && !shown) {
        ig_err(&cli->err, IG_ERR_NOT_FOUND, "source '%s' has no stream '%s'", c->name, opt_stream);
        return IG_ERR_NOT_FOUND;
    }
    if (!opt_stream) printf("%zu streams\n", cat.n);
    return IG_OK;
}

static ig_rc src_state(ig_cli *cli, const char *name)
{
    ig_rc rc = ig_cli_open_warehouse(cli, true);
    if (rc) return rc;
    ig_wh_cursor *cur;
    ig_param p[1] = {IG_P_TEXT(name)};
    rc = ig_wh_query_params(cli->wh,
                            "SELECT stream, mode, coalesce(cursor_field, ''), "
                            "coalesce(cursor_value, ''), coalesce(state::VARCHAR, ''), "
                            "strftime(updated_at, '%Y-%m-%d %H:%M:%S') FROM ingot.connector_state "
                            "WHERE source = $1 ORDER BY stream",
                            p, 1, &cur, &cli->err);
    if (rc) return rc;
    int r, n = 0;
    while ((r = ig_wh_cursor_next(cur, &cli->err)) == 1) {
        const ig_value *v[6];
        for (size_t i = 0; i < 6; i++) v[i] = ig_wh_cursor_value(cur, i);
        if (opt_json) {
            ig_buf b = IG_BUF_INIT;
            ig_buf_puts(&b, "{\"stream\":");
            ig_json_quote(&b, v[0]->text);
            ig_buf_puts(&b, ",\"mode\":");
            ig_json_quote(&b, v[1]->text);
            ig_buf_puts(&b, ",\"cursor\":");
            ig_json_quote(&b, v[2]->text);
            ig_buf_puts(&b, ",\"cursor_value\":");
            ig_json_quote(&b, v[3]->text);
            ig_buf_printf(&b, ",\"state\":%s}\n", v[4]->len ? v[4]->text : "null");
            fputs(ig_buf_cstr(&b), stdout);
            ig_buf_free(&b);
        } else {
            printf("%-24s %-22s %s%s%s %s %s\n", v[0]->text, v[1]->text, v[2]->text,
                   v[2]->len ? " >= " : "", v[3]->text, v[4]->text, v[5]->text);
        }
        n++;
    }
    ig_wh_cursor_close(cur);
    if (r < 0) return cli->err.code;
    if (!n && !opt_json) printf("no state for source '%s' (it has not been synced)\n", name);
    return IG_OK;
}

ig_rc cmd_source(ig_cli *cli)
{
    if (cli->argc < 1) {
        ig_err(&cli->err, IG_ERR_USAGE, "'ingot source' needs a subcommand");
        ig_err_hint(&cli->err, "list, spec, check, discover, sync, state or reset; see 'ingot help source'");
        return IG_ERR_USAGE;
    }
    const char *sub = cli->argv[0];
    if (!strcmp(sub, "list")) return src_list(cli);
    if (!strcmp(sub, "spec")) return src_spec(cli);
    if (!strcmp(sub, "freshness")) { /* dbt sources: cmd_transform.c */
        return ig_cmd_source_freshness(cli);
    }
    static const char *const subs[] = {"list", "spec", "check", "discover", "sync", "state",
                                       "reset"};
    bool known = false;
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++) known |= !strcmp(sub, subs[i]);
    if (!known) {
        ig_err(&cli->err, IG_ERR_USAGE, "unknown subcommand 'ingot source %s'", sub);
        const char *s = ig_str_suggest(sub, subs, sizeof subs / sizeof *subs);
        if (s) ig_err_hint(&cli->err, "did you mean 'ingot source %s'?", s);
        else ig_err_hint(&cli->err, "list, spec, check, discover, sync, state or reset");
        return IG_ERR_USAGE;
    }
    ig_rc rc = need_name(cli, sub);
    if (rc) return rc;
    const char *name = cli->argv[1];
    if (!strcmp(sub, "state")) return src_state(cli, name);
    ig_conn *c = NULL;
    rc = ig_conn_open(cli->arena, cli->project, name, &c, &cli->err);
    if (rc) return rc;
    if (!strcmp(sub, "check")) rc = ig_conn_check(c, &cli->err);
    else if (!strcmp(sub, "discover")) rc = src_discover(cli, c);
    else if (!strcmp(sub, "reset")) {
        size_t nreset = 0;
        rc = ig_cli_open_warehouse(cli, false);
        if (!rc) rc = ig_conn_reset(c, cli->wh, opt_stream, &nreset, &cli->err);
        if (!rc)
            printf("reset source %s: %zu streams (state, bronze and silver tables, replication "
                   "slots); the next sync starts from scratch\n", name, nreset);
    } else {
        rc = ig_cli_open_warehouse(cli, false);
        if (!rc) {
            ig_conn_sync_opts opt = {.stream = opt_stream,
                                     .full_refresh = opt_full_refresh,
                                     .batch_rows = opt_batch_rows > 0 ? (size_t)opt_batch_rows : 0};
            ig_conn_sync_result res;
            rc = ig_conn_sync(c, cli->wh, &opt, &res, &cli->err);
            if (!rc)
                printf("synced source %s: %zu streams, %lld rows, %.1f MB\n", name, res.streams,
                       (long long)res.rows, (double)res.bytes / 1e6);
        }
    }
    ig_conn_close(c);
    return rc;
}
