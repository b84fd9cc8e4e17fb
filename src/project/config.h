/* The project file, ingot.yml, read into typed structs. Later issues add
 * sections (sources, pipelines, serve); each section is read by its own
 * function in config.c against a table of allowed keys, so an unknown key is
 * reported with the nearest valid one.
 *
 * Lifetime: an ig_project and everything it points to lives in the arena
 * passed to ig_project_load. Paths in it are absolute. */
#ifndef IG_CONFIG_H
#define IG_CONFIG_H

#include "core/arena.h"
#include "core/error.h"
#include "project/yaml.h"
#include "warehouse/warehouse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IG_PROJECT_FILE "ingot.yml"

typedef struct ig_project {
    const char *dir;    /* absolute project directory */
    const char *file;   /* absolute path of ingot.yml */
    const char *name;   /* required: [a-z_][a-z0-9_]* */
    int config_version; /* `version:`; 1 today */
    struct {
        const char *type;         /* "duckdb" */
        const char *path;         /* absolute; default <dir>/warehouse/<name>.duckdb */
        int threads;              /* 0: engine default */
        const char *memory_limit; /* NULL: engine default */
        const char *temp_directory; /* absolute; NULL: <path>.tmp */
    } warehouse;
    struct {
        const char *path; /* absolute; default <dir>/lake */
    } lake;
    struct {
        const char *project_dir;  /* dbt project folder; default <dir> */
        const char *profiles_dir; /* NULL: dbt's search order */
        const char *target;       /* NULL: the profile's default */
    } transform;
    struct {                /* `serve:` (docs/serve.md); 0 / NULL: the default */
        const char *listen; /* host:port for `ingot serve`; default 127.0.0.1:8080 */
        int workers;        /* HTTP worker threads; 0: one per CPU */
        int max_running_tasks; /* pipeline tasks at once across all runs; 0: no limit */
        const char *pid_file; /* absolute; NULL: <warehouse>.serve.pid */
        size_t max_body;    /* limits.max_body: request body as sent; 0: 4 MiB */
        size_t max_event;   /* limits.max_event: default of event sources; 0: 32 KiB */
        size_t max_batch;   /* limits.max_batch: decompressed body, default of sources; 0: 500 KiB */
        const char *wal_dir; /* wal.dir, absolute; NULL: <warehouse folder>/events-wal */
        bool no_fsync;      /* wal.fsync: false (benchmarks only) */
        int group_commit_us; /* wal.group_commit: wait this long to gather a commit; 0: none */
        uint64_t wal_max_disk; /* wal.max_disk: WAL on disk above this -> 429; 0: 4 GiB */
        uint64_t min_free_disk; /* wal.min_free_disk: free space below this -> 503; 0: 512 MiB */
        int load_interval_ms; /* loader.interval; 0: 1000; -1: only at stop */
        uint64_t max_lag;   /* loader.max_lag: durable bytes not loaded above this -> 429; 0: 1 GiB */
        const char **trusted_proxies; /* default of event sources; NULL-terminated or NULL */
        const char **allowed_origins; /* default of event sources; NULL-terminated or NULL */
    } serve;
    ig_yaml *root; /* the whole document, for sections read elsewhere */
} ig_project;

/* Highest `version:` of ingot.yml this ingot reads. */
#define IG_PROJECT_VERSION 1

/* Find the project: `dir` itself if it holds ingot.yml, else its parents.
 * *out is the absolute path of the project directory (caller frees with
 * free()); IG_ERR_NOT_FOUND with a hint to run `ingot init` when there is
 * none. */
ig_rc ig_project_find(const char *dir, char **out, ig_error *err);

/* Load and check <dir>/ingot.yml (no search of parents). Every error names
 * file:line:column and the key: missing file (IG_ERR_NOT_FOUND), empty file,
 * YAML syntax, wrong type, unknown key (with the nearest valid one), unset
 * ${VAR} (IG_ERR_CONFIG), a `version:` newer than IG_PROJECT_VERSION
 * (IG_ERR_VERSION). The file is named relative to the current directory in
 * errors when it is below or above it. On error *out is untouched. */
ig_rc ig_project_load(ig_arena *a, const char *dir, ig_project **out, ig_error *err);

/* Problems found while checking a project, in file order, for `ingot
 * validate` to show them all. Items live in the arena given to the function
 * that fills the list; at most IG_PROBLEMS_MAX are kept (n counts all). */
#define IG_PROBLEMS_MAX 50
typedef struct ig_problems {
    ig_error *items;
    size_t n, kept, cap;
} ig_problems;

/* Append a copy of err to the list. */
void ig_problems_add(ig_arena *a, ig_problems *p, const ig_error *err);

/* ig_project_load that keeps going after a problem, to find the ones in the
 * other keys and sections too; each is appended to *probs (sorted by
 * position). Returns 0 and sets *out when there is none; otherwise returns
 * the first problem's code with err set to it, and *out untouched. A syntax
 * error, an unset ${VAR}, or a newer `version:` stops at that problem. */
ig_rc ig_project_load_all(ig_arena *a, const char *dir, ig_project **out, ig_problems *probs,
                          ig_error *err);

/* Scaffold a new project in dir (created if missing): ingot.yml, models/,
 * seeds/, tests/, macros/, lake/, warehouse/, .gitignore. `name` may be NULL
 * (derived from the folder name). Refuses to overwrite an existing
 * ingot.yml (IG_ERR_USAGE with a hint). */
ig_rc ig_project_init(const char *dir, const char *name, ig_error *err);

/* ig_project_init with more control. force: overwrite an existing ingot.yml
 * (the old one is kept as ingot.yml.bak); other files that exist are left as
 * they are. *created (may be NULL) receives the paths created, relative to
 * dir, directories ending in '/', allocated in the arena, *ncreated their
 * count. An invalid `name` is IG_ERR_USAGE with a valid one suggested. */
ig_rc ig_project_init_ex(ig_arena *a, const char *dir, const char *name, bool force,
                         const char ***created, size_t *ncreated, ig_error *err);

/* A valid project name derived from s (a folder name): lower case, other
 * characters to '_', "p_" before a leading digit; "my_project" when nothing
 * is left. Allocated in the arena. */
const char *ig_project_name_from(ig_arena *a, const char *s);
/* True when s is a valid project name: [a-z_][a-z0-9_]*, at most 63 bytes. */
bool ig_project_name_valid(const char *s);

/* The options that open this project's warehouse (driver, path, threads,
 * memory_limit, temp_directory): every opener takes them from here, so a new
 * warehouse setting is added once. Strings are borrowed from p. */
ig_wh_options ig_project_wh_options(const ig_project *p);

#endif
