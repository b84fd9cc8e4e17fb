/* `ingot demo`: make (or rebuild) the demo project, then run its steps in
 * order: reset -> land (drop/) -> bronze (file ingest) -> silver -> gold ->
 * report. The project is an
 * ordinary ingot project; a marker file tells a later run that the folder is
 * the demo's, so it may be rebuilt, and that any other folder may not. */
#include "demo/demo_int.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/mem.h"
#include "ingest/files/sources.h"
#include "project/config.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MARKER ".ingot-demo"

static bool dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return true;
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)))
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

/* The project name from the folder name: [a-z_][a-z0-9_]*, "demo_shop" when
 * nothing usable is left. */
static void project_name(const char *dir, char *out, size_t n)
{
    const char *base = strrchr(dir, '/');
    base = base && base[1] ? base + 1 : dir;
    size_t o = 0;
    for (const char *p = base; *p && o + 1 < n; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) c = '_';
        if (o == 0 && c >= '0' && c <= '9') out[o++] = '_';
        if (o + 1 < n) out[o++] = c;
    }
    out[o] = 0;
    if (!o || strspn(out, "_") == o) snprintf(out, n, "demo_shop");
}

/* The files source the demo's data arrives through: the drop folder, one
 * stream per file. Appended to the scaffolded ingot.yml so that the demo
 * shows the configuration a user writes for their own files. */
static const char demo_source_yml[] =
    "\n"
    "# Where data comes from. `demo` is a drop folder: the shop exports its\n"
    "# tables there (CSV, NDJSON and an Excel workbook), and `ingot ingest demo`\n"
    "# (run by `ingot demo`) lands each new file in lake/raw/demo/ and loads it\n"
    "# into bronze.demo__<stream>. See docs/ingest.md.\n"
    "sources:\n"
    "  " IG_DEMO_SOURCE ":\n"
    "    type: files\n"
    "    path: " IG_DEMO_DROP "\n"
    "    streams:\n"
    "      customers:\n"
    "        pattern: customers.csv\n"
    "      products:\n"
    "        pattern: products.xlsx\n"
    "        sheet: Products      # a title row above the header; found by itself\n"
    "      orders:\n"
    "        pattern: orders.csv\n"
    "      order_items:\n"
    "        pattern: order_items.csv\n"
    "      payments:\n"
    "        pattern: payments.csv\n"
    "  # The site's tracking: Segment calls posted to `ingot serve` (the demo\n"
    "  # does it with its own generator), landing in bronze.web__events.\n"
    "  # See docs/events.md.\n"
    "  " IG_DEMO_WEB_SOURCE ":\n"
    "    type: events\n"
    "    write_key: ${" IG_DEMO_WEB_KEY_ENV ":-" IG_DEMO_WEB_KEY_DEFAULT "}\n";

/* The demo's pipeline: what `ingot serve` (and `ingot demo --serve`) runs on
 * a schedule. Appended like the sources. */
static const char demo_pipeline_yml[] =
    "\n"
    "# What runs on a schedule inside `ingot serve` (`ingot demo --serve` starts\n"
    "# it): new files in the drop folder into bronze, then the dbt project\n"
    "# (seed, models, snapshot, tests and expectations). Run it now with\n"
    "# `ingot pipeline run " IG_DEMO_PIPELINE "`. See docs/pipelines.md.\n"
    "pipelines:\n"
    "  " IG_DEMO_PIPELINE ":\n"
    "    schedule: \"*/10 * * * *\"\n"
    "    defaults: {retries: 1, retry_delay: 30s}\n"
    "    tasks:\n"
    "      - {name: ingest_files, kind: ingest, source: " IG_DEMO_SOURCE "}\n"
    "      - {name: build, kind: build, depends_on: ingest_files}\n";

/* Append the demo's files source to ingot.yml unless the file already has a
 * sources section (a demo folder made earlier keeps its own), and its
 * pipeline unless it has a pipelines section. */
static ig_rc add_demo_source(const char *yml, ig_error *err)
{
    char *text = NULL;
    size_t len = 0;
    ig_rc rc = ig_fs_read(yml, 1 << 20, &text, &len, err);
    if (rc) return rc;
    bool has = !strncmp(text, "sources:", 8) || strstr(text, "\nsources:");
    bool has_pipelines = !strncmp(text, "pipelines:", 10) || strstr(text, "\npipelines:");
    if (!has || !has_pipelines) {
        char *out = ig_asprintf("%s%s%s", text, has ? "" : demo_source_yml,
                                has_pipelines ? "" : demo_pipeline_yml);
        rc = ig_fs_write_atomic(yml, out, strlen(out), 0644, err);
        free(out);
    }
    free(text);
    return rc;
}

/* Make sure dir is a demo project: scaffold it when missing or empty, accept
 * it when it carries the marker, refuse anything else. */
static ig_rc prepare_project(const ig_demo_options *opt, ig_error *err)
{
    char *yml = ig_path_join(opt->dir, IG_PROJECT_FILE);
    char *marker = ig_path_join(opt->dir, MARKER);
    bool has_project = ig_fs_exists(yml), is_demo = ig_fs_exists(marker);
    ig_rc rc = IG_OK;
    if (has_project && !is_demo) {
        rc = ig_err(err, IG_ERR_USAGE,
                    "'%s' holds an ingot project that `ingot demo` did not create", opt->dir);
        ig_err_hint(err,
                    "the demo rebuilds its folder from scratch and will not touch this project; "
                    "run `ingot demo NEW_FOLDER` instead");
    } else if (!has_project && ig_fs_exists(opt->dir) && !ig_fs_is_dir(opt->dir)) {
        rc = ig_err(err, IG_ERR_USAGE, "'%s' exists and is not a folder", opt->dir);
        ig_err_hint(err, "run `ingot demo NEW_FOLDER` with a folder that does not exist yet");
    } else if (!has_project && !dir_is_empty(opt->dir)) {
        rc = ig_err(err, IG_ERR_USAGE, "'%s' is not empty and is not a demo project", opt->dir);
        ig_err_hint(err, "run `ingot demo NEW_FOLDER` with a folder that does not exist yet");
    } else if (!has_project) {
        char name[64];
        project_name(opt->dir, name, sizeof name);
        rc = ig_project_init(opt->dir, name, err);
    }
    if (!rc) rc = add_demo_source(yml, err);
    if (!rc) {
        char *text = ig_asprintf("# This folder was made by `ingot demo`; running `ingot demo %s`\n"
                                 "# again rebuilds it from scratch. Delete this file to keep the\n"
                                 "# project as your own (the demo will then refuse to touch it).\n"
                                 "seed: %llu\n",
                                 opt->dir, (unsigned long long)opt->seed);
        rc = ig_fs_write_atomic(marker, text, strlen(text), 0644, err);
        free(text);
    }
    free(yml);
    free(marker);
    return rc;
}

/* Record the run in ingot.runs, the platform's list of long tasks. */
static void record_run(ig_demo_ctx *d, int64_t started_us, ig_rc rc, const ig_error *err)
{
    char started[40], finished[40];
    ig_format_iso(started_us, started, sizeof started);
    ig_format_iso(ig_wall_us(), finished, sizeof finished);
    started[strlen(started) - 1] = 0; /* TIMESTAMP: no zone suffix, UTC */
    finished[strlen(finished) - 1] = 0;
    int64_t rows = 0;
    for (int s = 0; s < IG_DEMO_NSTREAMS; s++)
        rows += d->stats.raw_rows[s];
    ig_param p[] = {IG_P_TEXT(d->batch_id), IG_P_TEXT(rc ? "failed" : "success"),
                    IG_P_TEXT(started),     IG_P_TEXT(finished),
                    IG_P_INT(rows),         rc ? IG_P_TEXT(err->message) : IG_P_NULL};
    ig_error ignored = {0};
    ig_wh_exec_params(
        d->wh,
        "INSERT INTO ingot.runs (run_id, kind, name, status, started_at, finished_at, "
        "rows, message) VALUES ($1, 'demo', 'demo', $2, CAST($3 AS TIMESTAMP), "
        "CAST($4 AS TIMESTAMP), $5, $6)",
        p, sizeof p / sizeof p[0], NULL, &ignored);
}

ig_rc ig_demo_run(const ig_demo_options *opt, ig_error *err)
{
    if (!(opt->scale > 0 && opt->scale <= 100)) {
        ig_err(err, IG_ERR_USAGE, "--scale must be greater than 0 and at most 100");
        ig_err_hint(err, "1 is ~20,000 customers and 60,000 orders; 0.1 makes a quick small shop");
        return IG_ERR_USAGE;
    }
    ig_rc rc = prepare_project(opt, err);
    if (rc) return rc;
    ig_arena *a = ig_arena_new();
    ig_project *project = NULL;
    ig_wh *wh = NULL;
    rc = ig_project_load(a, opt->dir, &project, err);
    if (!rc) {
        ig_wh_options wo = ig_project_wh_options(project);
        rc = ig_wh_open(&wo, &wh, err);
    }
    if (rc) {
        ig_arena_free(a);
        return rc;
    }
    char *drop = ig_path_join(opt->dir, IG_DEMO_DROP);
    char *dir_abs = ig_path_real(opt->dir);
    if (dir_abs) {
        free(drop);
        drop = ig_path_join(dir_abs, IG_DEMO_DROP);
        free(dir_abs);
    }
    ig_demo_ctx d = {.opt = opt,
                     .wh = wh,
                     .arena = a,
                     .project = project,
                     .lake = project->lake.path,
                     .drop = drop,
                     .sql = ig__demo_dialect(wh)};
    const ig_yaml *web = ig_yaml_get(ig_yaml_get(project->root, "sources"), IG_DEMO_WEB_SOURCE);
    if (d.sql && (!ig_ingest_is_file_source(project, IG_DEMO_SOURCE) || !web)) {
        rc = ig_err(err, IG_ERR_CONFIG, "%s/%s lacks the files source '%s' or the events "
                    "source '%s' for the demo's data", opt->dir, IG_PROJECT_FILE, IG_DEMO_SOURCE,
                    IG_DEMO_WEB_SOURCE);
        ig_err_hint(err, "delete the folder and run `ingot demo` again to make a fresh one");
        ig_wh_close(wh);
        ig_arena_free(a);
        free(drop);
        return rc;
    }
    if (!d.sql) {
        rc = ig_err(err, IG_ERR_CONFIG, "the demo has no SQL for the '%s' warehouse yet",
                    ig_wh_driver_name(wh));
        ig_err_hint(err, "run the demo on the default DuckDB warehouse");
        ig_wh_close(wh);
        ig_arena_free(a);
        free(drop);
        return rc;
    }
    int64_t started = ig_wall_us();
    time_t secs = (time_t)(started / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(d.batch_id, sizeof d.batch_id, "demo-%04d%02d%02dT%02d%02d%02dZ-%d", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)getpid());

    ig__demo_progress(&d, "demo.start", "building the demo shop in %s (seed %llu, scale %g)",
                      opt->dir, (unsigned long long)opt->seed, opt->scale);
    rc = ig__demo_reset(&d, err);
    if (!rc) rc = ig__demo_land(&d, err);
    if (!rc) rc = ig__demo_collect(&d, err);
    if (!rc) rc = ig__demo_bronze(&d, err);
    if (!rc) rc = ig__demo_build(&d, err);
    record_run(&d, started, rc, err);
    if (!rc && !opt->no_report) {
        fprintf(opt->out, "Demo shop in %s (seed %llu, scale %g)\n", opt->dir,
                (unsigned long long)opt->seed, opt->scale);
        rc = ig__demo_report(&d, err);
    }
    if (!rc) {
        uint64_t total = d.stats.ns_generate + d.stats.ns_collect + d.stats.ns_bronze +
                         d.stats.ns_build;
        char t[32];
        ig_format_duration(total, t, sizeof t);
        ig__demo_progress(&d, "demo.done",
                          "done in %s; explore it with: ingot -C %s query \"SELECT * FROM "
                          "gold.revenue_by_month ORDER BY month\"",
                          t, opt->dir);
    }
    ig_wh_close(d.wh); /* collect reopened it */
    ig_arena_free(a);
    free(drop);
    return rc;
}
