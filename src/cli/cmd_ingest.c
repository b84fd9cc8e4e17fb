/* `ingot ingest`: files into the lake and bronze.
 *   ingot ingest file PATH... --source NAME [--stream NAME] [--format F] ...
 *   ingot ingest SOURCE...        sources of type files / http_file in ingot.yml
 *   ingot ingest --all            every such source
 * Before new work, batches an interrupted run left landed but not loaded
 * are loaded (exactly once). One line per file on stdout; progress and
 * logs on stderr. See docs/ingest.md. */
#include "cli/cli.h"

#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/progress.h"
#include "core/str.h"
#include "ingest/files/ingest.h"
#include "ingest/files/sources.h"
#include "lake/lake.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *opt_source, *opt_stream, *opt_format, *opt_sheet, *opt_delimiter, *opt_header,
    *opt_null, *opt_encoding, *opt_fraction;
static long opt_header_row, opt_max_bad_rows = -1, opt_skip;
static bool opt_force, opt_external, opt_all, opt_quiet, opt_all_varchar, opt_null_padding;
static ig_strlist opt_columns;

const ig_opt ig_opts_ingest[] = {
    {"source", 's', IG_OPT_STR, &opt_source, "NAME", "ingest file: the source the files belong to"},
    {"stream", 0, IG_OPT_STR, &opt_stream, "NAME",
     "ingest file: the stream (default: from each file's name); bronze.SOURCE__STREAM"},
    {"format", 0, IG_OPT_STR, &opt_format, "FORMAT",
     "auto (default), csv, tsv, json, ndjson, parquet or xlsx"},
    {"sheet", 0, IG_OPT_STR, &opt_sheet, "NAME", "xlsx: the sheet (default: the first)"},
    {"header-row", 0, IG_OPT_INT, &opt_header_row, "N", "xlsx: the header's row (default: detected)"},
    {"delimiter", 0, IG_OPT_STR, &opt_delimiter, "C", "csv: the field delimiter (default: detected)"},
    {"header", 0, IG_OPT_STR, &opt_header, "yes|no", "csv: whether the first line is a header"},
    {"skip", 0, IG_OPT_INT, &opt_skip, "N", "csv: lines to skip before the data"},
    {"null", 0, IG_OPT_STR, &opt_null, "TEXT", "csv: the text that means NULL"},
    {"encoding", 0, IG_OPT_STR, &opt_encoding, "ENC", "csv: utf-8 (default), utf-16 or latin-1"},
    {"column", 'c', IG_OPT_MULTI, &opt_columns, "NAME=TYPE",
     "csv: read column NAME as TYPE (repeatable); values that do not fit are rejected"},
    {"all-varchar", 0, IG_OPT_FLAG, &opt_all_varchar, NULL, "csv: read every column as text"},
    {"null-padding", 0, IG_OPT_FLAG, &opt_null_padding, NULL,
     "csv: short rows get NULLs instead of being rejected"},
    {"max-bad-rows", 0, IG_OPT_INT, &opt_max_bad_rows, "N",
     "fail a file with more than N unreadable rows (default: no limit)"},
    {"max-bad-fraction", 0, IG_OPT_STR, &opt_fraction, "F",
     "fail a file when more than F (0..1) of its rows are unreadable (default: 0.1)"},
    {"external", 0, IG_OPT_FLAG, &opt_external, NULL,
     "bronze is a view over the raw files instead of a table"},
    {"force", 'f', IG_OPT_FLAG, &opt_force, NULL, "load even when the same content was loaded"},
    {"all", 'a', IG_OPT_FLAG, &opt_all, NULL, "ingest every files / http_file source of the project"},
    {"quiet", 'q', IG_OPT_FLAG, &opt_quiet, NULL, "no progress output"},
    {0},
};

typedef struct report_ctx {
    ig_cli *cli;
    size_t nfailed;
    bool quiet_errors; /* one file: the dispatcher prints its error */
} report_ctx;

static void report(void *ctx, const char *what, const ig_ingest_result *r, ig_rc rc,
                   const ig_error *err)
{
    report_ctx *rc_ = ctx;
    const char *shown = what;
    if (rc) {
        rc_->nfailed++;
        printf("failed     %s\n", shown);
        if (err && !rc_->quiet_errors) ig_error_print(err, stderr);
    } else if (r->outcome == IG_INGEST_UNCHANGED) {
        printf("unchanged  %s (already loaded as batch %s)\n", shown,
               r->batch_id[0] ? r->batch_id : "-");
    } else {
        char rows[32], rej[32], bytes[32];
        ig_format_count((uint64_t)r->rows_accepted, rows, sizeof rows);
        ig_format_count((uint64_t)r->rows_rejected, rej, sizeof rej);
        ig_format_bytes(r->bytes, bytes, sizeof bytes);
        printf("loaded     %s -> %s: %s rows", shown, r->relation, rows);
        if (r->rows_rejected) printf(", %s rejected (see %s__rejects)", rej, r->relation);
        printf(" [%s, batch %s]\n", bytes, r->batch_id);
    }
    fflush(stdout);
}

static bool has_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

static ig_rc build_opts(ig_cli *cli, ig_ingest_opts *o)
{
    ig_ingest_opts_init(o);
    o->source = opt_source;
    o->stream = opt_stream;
    o->format = opt_format;
    o->sheet = opt_sheet;
    o->header_row = opt_header_row;
    o->delimiter = opt_delimiter;
    o->null_str = opt_null;
    o->encoding = opt_encoding;
    o->skip_rows = opt_skip;
    o->all_varchar = opt_all_varchar;
    o->null_padding = opt_null_padding;
    o->max_bad_rows = opt_max_bad_rows;
    o->external = opt_external;
    o->force = opt_force;
    o->quiet = opt_quiet;
    o->tty = cli->stderr_tty;
    if (opt_format && strcmp(opt_format, "auto") && !ig_ingest_format_valid(opt_format)) {
        ig_err(&cli->err, IG_ERR_USAGE, "unknown format '%s'", opt_format);
        ig_err_hint(&cli->err, "use auto, csv, tsv, json, ndjson, parquet or xlsx");
        return IG_ERR_USAGE;
    }
    if (opt_header) {
        if (!strcmp(opt_header, "yes") || !strcmp(opt_header, "true")) o->header = 1;
        else if (!strcmp(opt_header, "no") || !strcmp(opt_header, "false")) o->header = 0;
        else if (strcmp(opt_header, "auto")) {
            ig_err(&cli->err, IG_ERR_USAGE, "--header takes yes, no or auto, not '%s'", opt_header);
            return IG_ERR_USAGE;
        }
    }
    if (opt_fraction) {
        double f;
        if (!ig_parse_double(opt_fraction, &f) || f < 0 || f > 1) {
            ig_err(&cli->err, IG_ERR_USAGE, "--max-bad-fraction takes a number from 0 to 1, not '%s'",
                   opt_fraction);
            return IG_ERR_USAGE;
        }
        o->max_bad_fraction = f;
    }
    if (opt_columns.n) {
        ig_wh_coltype *t = ig_arena_zalloc(cli->arena, opt_columns.n * sizeof *t);
        for (size_t i = 0; i < opt_columns.n; i++) {
            const char *s = opt_columns.items[i];
            const char *eq = strchr(s, '=');
            if (!eq || eq == s || !eq[1]) {
                ig_err(&cli->err, IG_ERR_USAGE, "--column takes NAME=TYPE, not '%s'", s);
                ig_err_hint(&cli->err, "e.g. --column amount=DECIMAL(12,2)");
                return IG_ERR_USAGE;
            }
            t[i].name = ig_arena_strndup(cli->arena, s, (size_t)(eq - s));
            t[i].type = ig_arena_strdup(cli->arena, eq + 1);
        }
        o->types = t;
        o->ntypes = opt_columns.n;
    }
    return IG_OK;
}

static ig_rc ingest_files(ig_cli *cli, ig_lake *lake, int argc, char **argv)
{
    if (!opt_source) {
        ig_err(&cli->err, IG_ERR_USAGE, "ingot ingest file needs --source NAME");
        ig_err_hint(&cli->err, "e.g. ingot ingest file orders.csv --source shop");
        return IG_ERR_USAGE;
    }
    if (argc == 0) {
        ig_err(&cli->err, IG_ERR_USAGE, "ingot ingest file needs at least one PATH");
        return IG_ERR_USAGE;
    }
    ig_ingest_opts o;
    ig_rc rc = build_opts(cli, &o);
    if (rc) return rc;
    report_ctx rctx = {cli, 0, argc == 1 && !has_glob(argv[0])};
    ig_rc first = IG_OK;
    ig_error first_err;
    ig_error_clear(&first_err);
    size_t nfiles = 0;
    for (int i = 0; i < argc; i++) {
        glob_t g = {0};
        char **paths = &argv[i];
        size_t npaths = 1;
        if (has_glob(argv[i]) && !ig_fs_exists(argv[i])) {
            if (glob(argv[i], 0, NULL, &g) != 0 || g.gl_pathc == 0) {
                globfree(&g);
                ig_error e;
                ig_err(&e, IG_ERR_NOT_FOUND, "no file matches %s", argv[i]);
                report(&rctx, argv[i], NULL, IG_ERR_NOT_FOUND, &e);
                if (!first) {
                    first = IG_ERR_NOT_FOUND;
                    first_err = e;
                }
                continue;
            }
            paths = g.gl_pathv;
            npaths = g.gl_pathc;
        }
        for (size_t k = 0; k < npaths; k++) {
            ig_ingest_result res;
            ig_error e;
            ig_error_clear(&e);
            nfiles++;
            ig_rc r = ig_ingest_file(lake, cli->wh, paths[k], &o, &res, &e);
            report(&rctx, paths[k], &res, r, r ? &e : NULL);
            if (r && !first) {
                first = r;
                first_err = e;
            }
        }
        globfree(&g);
    }
    if (first) {
        if (rctx.quiet_errors) cli->err = first_err;
        else ig_err(&cli->err, first, "%zu of %zu files failed to ingest", rctx.nfailed,
                    nfiles ? nfiles : rctx.nfailed);
        return first;
    }
    return IG_OK;
}

static ig_rc ingest_sources(ig_cli *cli, ig_lake *lake, int argc, char **argv)
{
    const char **names = (const char **)argv;
    size_t n = (size_t)argc;
    if (opt_all) n = ig_ingest_file_sources(cli->arena, cli->project, &names);
    if (opt_all && n == 0) {
        printf("no files or http_file sources in %s\n", IG_PROJECT_FILE);
        return IG_OK;
    }
    ig_ingest_run_opts ro = {.force = opt_force, .tty = cli->stderr_tty, .quiet = opt_quiet};
    report_ctx rctx = {cli, 0, false};
    ro.report = report;
    ro.report_ctx = &rctx;
    ig_rc first = IG_OK;
    ig_ingest_counts total = {0};
    for (size_t i = 0; i < n; i++) {
        ig_error e;
        ig_error_clear(&e);
        ig_ingest_counts c = {0};
        ig_rc r = ig_ingest_source(cli->arena, cli->project, lake, cli->wh, names[i], &ro, &c, &e);
        total.loaded += c.loaded;
        total.unchanged += c.unchanged;
        total.failed += c.failed;
        if (r && !c.failed) {
            /* the source itself failed (config, missing folder) */
            if (n == 1) {
                cli->err = e;
                return r;
            }
            ig_error_print(&e, stderr);
            total.failed++;
        }
        if (r && !first) first = r;
    }
    printf("%zu loaded, %zu unchanged, %zu failed\n", total.loaded, total.unchanged, total.failed);
    if (first) {
        ig_err(&cli->err, first, "%zu file%s failed to ingest", total.failed, total.failed == 1 ? "" : "s");
        return first;
    }
    return IG_OK;
}

ig_rc cmd_ingest(ig_cli *cli)
{
    bool files = cli->argc > 0 && !strcmp(cli->argv[0], "file");
    if (!files && !opt_all && cli->argc == 0) {
        ig_err(&cli->err, IG_ERR_USAGE, "ingot ingest needs 'file PATH...', source names, or --all");
        ig_err_hint(&cli->err, "e.g. 'ingot ingest file orders.csv --source shop'; see 'ingot help ingest'");
        return IG_ERR_USAGE;
    }
    ig_lake *lake;
    ig_rc rc = ig_lake_open(cli->project->lake.path, &lake, &cli->err);
    if (rc) return rc;
    size_t nrec = 0, nrecfail = 0;
    rc = ig_ingest_recover(lake, cli->wh, NULL, &nrec, &nrecfail, &cli->err);
    if (!rc && (nrec || nrecfail))
        fprintf(stderr, "recovered %zu batch%s left by an interrupted run%s\n", nrec,
                nrec == 1 ? "" : "es", nrecfail ? " (some failed again; see ingot.loads)" : "");
    if (!rc) rc = files ? ingest_files(cli, lake, cli->argc - 1, cli->argv + 1)
                        : ingest_sources(cli, lake, cli->argc, cli->argv);
    ig_lake_close(lake);
    return rc;
}
