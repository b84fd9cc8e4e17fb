/* Internal declarations of the transform layer (dbt projects), shared by its
 * files and by nothing else. Names are ig__tf_* (internal, non-static) and
 * tf_* for types.
 *
 * Lifetimes:
 *   tf_project  one loaded dbt project (its packages, macros, docs, nodes):
 *               everything lives in project->arena; parsed templates are
 *               freed with the project. Read-only once parsing is over, so
 *               worker threads share it without locks (the relation cache
 *               and node run states have their own mutex).
 *   tf_thread   one worker: a template environment with the dbt context
 *               registered, a warehouse connection, statement results.
 *               Template values never cross threads; configs and YAML
 *               properties are jansson values (immutable after parse), which
 *               are converted to template values inside the thread. */
#ifndef IG_TF_INT_H
#define IG_TF_INT_H

#include "transform/transform.h"

#include "core/arena.h"
#include "core/buf.h"
#include "project/yaml.h"
#include "tmpl/tmpl.h"
#include "warehouse/dialect.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define TF_DBT_VERSION "1.8.9"
#define TF_FILE_CAP ((size_t)16 << 20) /* a model or macro file larger than this is a mistake */

/* ------------------------------------------------------------------ map */

/* String-keyed open-addressing hash map; keys are borrowed (arena). */
typedef struct tf_map {
    const char **keys;
    void **vals;
    size_t cap, len;
} tf_map;
void *ig__tf_map_get(const tf_map *m, const char *key);
void *ig__tf_map_getn(const tf_map *m, const char *key, size_t n);
/* Set; returns the old value (NULL when new). */
void *ig__tf_map_put(tf_map *m, const char *key, void *val);
void ig__tf_map_free(tf_map *m);

/* ----------------------------------------------------------- packages */

typedef struct tf_package {
    const char *name; /* the dbt project name */
    const char *dir;  /* absolute */
    bool is_root;
    ig_yaml *yml;                  /* dbt_project.yml */
    const char **model_paths;      /* relative to dir */
    size_t nmodel_paths;
    const char **macro_paths;
    size_t nmacro_paths;
    const char **docs_paths;
    size_t ndocs_paths;
    const char **seed_paths, **snapshot_paths, **test_paths, **analysis_paths;
    size_t nseed_paths, nsnapshot_paths, ntest_paths, nanalysis_paths;
    json_t *vars;        /* `vars:` of this package (owned) */
    const ig_yaml *models_cfg; /* the `models:` tree, NULL when none */
    const ig_yaml *seeds_cfg, *snapshots_cfg, *tests_cfg, *sources_cfg;
} tf_package;

typedef struct tf_macro {
    const char *name;
    const char *package;
    const char *path; /* relative to the package dir */
    ig_tmpl *tmpl;    /* the file's template (shared by the file's macros) */
} tf_macro;

/* -------------------------------------------------------------- nodes */

typedef enum {
    TF_MODEL,
    TF_SOURCE,
    TF_SEED,     /* issue 5 */
    TF_SNAPSHOT, /* issue 5 */
    TF_TEST,     /* issue 5 */
    TF_ANALYSIS,
    TF_OPERATION
} tf_kind;

typedef struct tf_ref {
    const char *package; /* NULL: any */
    const char *name;
    const char *version; /* NULL: latest */
    int target;          /* node index after resolution, -1 before */
    int line, col;       /* where it was called (for errors) */
} tf_ref;

typedef enum { TF_PENDING, TF_RUNNING, TF_OK, TF_ERROR, TF_SKIPPED } tf_state;

typedef struct tf_node {
    int index;
    tf_kind kind;
    const char *unique_id; /* model.pkg.name, source.pkg.src.table */
    const char *name;      /* model name; source: table name */
    const char *source_name; /* sources only */
    const char *version;   /* model version, NULL when unversioned */
    tf_package *pkg;
    const char *path;               /* relative to the model path: staging/x.sql */
    const char *original_file_path; /* relative to the package: models/staging/x.sql */
    const char *abs_path;
    const char **fqn;
    size_t nfqn;
    char *raw; /* file text (arena) */
    size_t raw_len;
    ig_tmpl *tmpl;
    json_t *config;     /* merged config (owned) */
    json_t *props;      /* the node's entry in properties YAML, or NULL (owned) */
    const char *patch_path; /* YAML file of props */
    tf_ref *refs;
    size_t nrefs, refs_cap;
    tf_ref *srcs; /* package = source name, name = table */
    size_t nsrcs, srcs_cap;
    int *deps; /* distinct nodes this one depends on */
    size_t ndeps;
    int *kids;
    size_t nkids, kids_cap;
    /* the relation */
    const char *database, *schema, *alias;
    const char *materialized;
    bool enabled;
    bool impure;   /* the parse render cannot stand for the compiled SQL */
    char *parse_out; /* parse render with ref markers (malloc) */
    size_t parse_len;
    char *compiled;  /* compiled SQL (malloc) */
    size_t compiled_len;
    bool compiled_ok;
    /* run state (guarded by the runner's mutex) */
    tf_state state;
    int waiting; /* deps not finished */
    double seconds;
    char *message; /* malloc */
    int64_t rows;
    int order;     /* "N of M" */
    /* tests (TF_TEST); NULL / -1 for other kinds */
    const char *column_name; /* the column a generic test is attached to */
    json_t *test_meta;       /* generic tests: {"name", "namespace", "kwargs"} (owned) */
    int attached;            /* index of the node a test tests, -1 when none */
    /* results beyond state (issue 5): the dbt status text of the outcome
     * ("success", "error", "skipped", "pass", "warn", "fail") and, for
     * tests, the number of failing rows (-1 when not run) */
    const char *status;
    int64_t failures;
    /* seeds: the CSV (abs_path) is loaded by seed.c; snapshots: raw is the
     * body of the {% snapshot %} block (or the select of a YAML snapshot);
     * unit tests (TF_TEST with unit set): the unit_tests: entry (owned) */
    json_t *unit;
    const char *test_macro; /* generic tests: "pkg.test_name" of the macro resolved */
} tf_node;

/* Bit of a node kind in tf_project.kinds */
#define TF_BIT(k) (1u << (k))

/* ------------------------------------------------------------- project */

typedef struct tf_target {
    const char *profile_name, *name, *type, *schema, *database, *path;
    int threads;
    json_t *json; /* the whole output as the `target` object sees it */
} tf_target;

typedef struct tf_project {
    ig_arena *arena;
    const ig_transform_options *opts;
    tf_package **pkgs;
    size_t npkgs;
    tf_package *root;
    tf_node **nodes;
    size_t nnodes, nodes_cap;
    tf_map node_by_name;  /* "name", "pkg.name", "name.vN" -> tf_node */
    tf_map src_by_name;   /* "source.table" -> tf_node */
    tf_map macros;        /* "pkg.name" and "name" (best) -> tf_macro */
    tf_map docs;          /* "pkg.name" and "name" -> const char * */
    ig_tmpl **tmpls;      /* every template parsed, for freeing */
    size_t ntmpls, tmpls_cap;
    pthread_mutex_t tmpl_lock; /* guards tmpls during parallel parsing */
    json_t *cli_vars;     /* --vars (owned) */
    tf_target target;
    bool quote_database, quote_schema, quote_identifier;
    json_t *dispatch;     /* [{macro_namespace, search_order}] (owned) */
    const ig_yaml *on_run_start, *on_run_end;
    const char *target_path; /* absolute */
    const char *profiles_file; /* the profiles.yml used, or NULL */
    bool has_schema_macro, has_alias_macro, has_database_macro;
    char invocation_id[40];
    int64_t started_us;
    /* relations that exist: "schema.name" (lower case) -> "table"/"view" */
    tf_map relcache;
    pthread_mutex_t rel_lock;
    ig_wh *wh; /* the main connection (borrowed) */
    const ig_wh_dialect *dialect;
    bool execute; /* compile/run: run_query and friends reach the warehouse */
    unsigned kinds; /* TF_BIT()s of the node kinds this invocation executes (0: models) */
    bool build;     /* ingot build: tests gate the children of the nodes they test */
    int64_t snapshot_us; /* the time snapshots of this invocation record */
    ig_error first_warning;
} tf_project;

/* project.c: dbt_project.yml, packages, profiles, the config tree */
ig_rc ig__tf_load(const ig_project *proj, const ig_transform_options *opts, tf_project **out,
                  ig_error *err);
void ig__tf_free(tf_project *p);
/* The config a node gets from dbt_project.yml (`models:` tree) for its fqn,
 * merged into cfg. */
void ig__tf_project_config(tf_project *p, tf_package *pkg, const ig_yaml *tree, tf_node *n,
                           json_t *cfg);
/* Merge src into dst by dbt's rules: tags and hooks append, meta and
 * other dicts merge, everything else overrides. Keys are normalized
 * (pre_hook -> pre-hook, leading '+' dropped). */
void ig__tf_config_merge(json_t *dst, json_t *src);
void ig__tf_config_set(json_t *cfg, const char *key, json_t *val); /* steals val */
const char *ig__tf_cfg_str(const json_t *cfg, const char *key, const char *dflt);
bool ig__tf_cfg_bool(const json_t *cfg, const char *key, bool dflt);
/* YAML to JSON with PyYAML's scalar typing (quoted: string; true/yes: bool...). */
json_t *ig__tf_yaml_to_json(const ig_yaml *n);
/* Add a template's reference to the project's list (freed with it). */
void ig__tf_keep_tmpl(tf_project *p, ig_tmpl *t);
/* Render a config string with Jinja when it holds {{ or {% (env_var, var,
 * target). *out is malloc'd. */
ig_rc ig__tf_render_string(tf_project *p, const char *what, const char *s, char **out,
                           ig_error *err);

/* parse.c: files, macros, docs, properties YAML, the parse render, the DAG */
ig_rc ig__tf_parse(tf_project *p, ig_error *err);

/* graph.c */
/* Resolve refs and sources to node indices and fill deps/kids; a ref to a
 * missing node is an error naming the model, its file and the name. */
ig_rc ig__tf_link(tf_project *p, ig_error *err);
/* Topological order of the enabled nodes into order[] (p->nnodes ints);
 * returns the count. A cycle is IG_ERR_TEMPLATE naming its path. */
ig_rc ig__tf_toposort(tf_project *p, int *order, size_t *n, ig_error *err);

/* ------------------------------------------------------------ threads */

typedef enum { TF_MODE_PARSE, TF_MODE_COMPILE } tf_mode;

typedef struct tf_stmt {
    char *name;
    ig_tmpl_val result; /* dict {response, data, table} */
} tf_stmt;

typedef struct tf_thread {
    tf_project *p;
    ig_tmpl_env *env;
    ig_wh *wh; /* this thread's connection (NULL: none) */
    tf_mode mode;
    tf_node *node; /* the node being rendered */
    tf_stmt *stmts;
    size_t nstmts, stmts_cap;
    ig_tmpl_val model_val; /* cached `model` of node (undefined when none) */
    ig_tmpl_val graph_val; /* cached `graph` */
    int marker;    /* parse renders: emit ref markers */
    bool is_incremental; /* for the node being compiled */
    ig_buf sqlbuf; /* scratch */
    uint64_t db_ns; /* time spent in warehouse calls (materializations) */
    uint64_t db_cpu_ns; /* CPU time of this thread in those calls */
    uint64_t cpu_ns;    /* CPU time of this thread in all */
    /* unit tests (unittest.c): vars that win over --vars (borrowed, NULL:
     * none) and is_incremental() forced (0: computed, 1: false, 2: true) */
    json_t *vars_override;
    int force_incremental;
} tf_thread;

/* CPU time of the calling thread, in ns. */
static inline uint64_t ig__tf_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* context.c: the dbt context */
tf_thread *ig__tf_thread_new(tf_project *p, ig_wh *wh);
void ig__tf_thread_free(tf_thread *t);
/* Point the context at a node (NULL: none) before a render. */
void ig__tf_thread_node(tf_thread *t, tf_node *n);
/* Render a template in the thread's env for the current node. */
ig_rc ig__tf_render(tf_thread *t, const ig_tmpl *tm, ig_buf *out, ig_error *err);
/* Render a string (a hook, a description) named `what` in errors. */
ig_rc ig__tf_render_text(tf_thread *t, const char *what, const char *text, ig_buf *out,
                         ig_error *err);
/* Find a macro by unqualified name (root project first) or NULL. */
const tf_macro *ig__tf_find_macro(tf_project *p, const char *package, const char *name);
/* Call a macro (p->macros) by name with positional args; *out new ref. */
ig_rc ig__tf_call_macro(tf_thread *t, const tf_macro *m, const ig_tmpl_val *args, size_t nargs,
                        ig_tmpl_val *out, ig_error *err);
/* json <-> template values */
ig_tmpl_val ig__tf_json_to_val(const json_t *j);
json_t *ig__tf_val_to_json(ig_tmpl_val v);

/* The dict `model` sees for node n (new reference). */
ig_tmpl_val ig__tf_node_val(tf_thread *t, const tf_node *n);
/* builtins.c: the Jinja source of the built-in dbt package. */
const char *ig__tf_builtin_macros(void);
/* builtin_tests.c: the built-in packages dbt_utils and dbt_expectations
 * (their generic tests and helpers), registered unless a package of that
 * name is installed; the bare names only where nothing else defines them. */
ig_rc ig__tf_load_builtin_tests(tf_project *p, ig_error *err);
/* Whether name is one of those packages (a namespace even when not installed). */
bool ig__tf_builtin_package(const char *name);

/* relation.c: relations as template objects */
extern const ig_tmpl_class ig__tf_relation_class;
typedef struct tf_relation {
    char *database, *schema, *identifier;
    const char *type; /* "table", "view", "cte", NULL */
    bool qdb, qschema, qident;
    bool incl_db, incl_schema, incl_ident;
    int marker; /* >0: parse render marker (ref index + 1); -1: `this` */
    tf_thread *t; /* for markers: flag impurity on attribute access */
} tf_relation;
ig_tmpl_val ig__tf_relation_new(tf_thread *t, const char *db, const char *schema,
                                const char *ident, const char *type);
/* Append the rendered relation name of node n (quoted per project policy). */
void ig__tf_node_relation(tf_project *p, const tf_node *n, ig_buf *out);
void ig__tf_relation_render(const tf_relation *r, ig_buf *out);
ig_tmpl_val ig__tf_node_relation_val(tf_thread *t, const tf_node *n);
/* The agate-like table of a cursor's rows (run_query). */
ig_rc ig__tf_table_from_sql(tf_thread *t, ig_tmpl_call *call, const char *sql, ig_tmpl_val *out);
/* table.rows as a new list of tuples (data of load_result). */
ig_rc ig__tf_table_rows(ig_tmpl_val table, ig_tmpl_val *out);
/* adapter object */
ig_tmpl_val ig__tf_adapter_new(tf_thread *t);
/* Relation cache */
const char *ig__tf_relcache_get(tf_project *p, const char *schema, const char *name);
void ig__tf_relcache_set(tf_project *p, const char *schema, const char *name, const char *kind);
ig_rc ig__tf_relcache_load(tf_project *p, ig_error *err);
/* The columns of a relation: names and types (malloc'd arrays). */
ig_rc ig__tf_columns(tf_thread *t, const char *schema, const char *name, ig_wh_columns *cols,
                     ig_error *err);

/* modules.c: modules.datetime, modules.re, fromjson/tojson/fromyaml/toyaml */
void ig__tf_add_modules(tf_thread *t);
/* A datetime object for wall-clock microseconds (UTC). */
ig_tmpl_val ig__tf_datetime_new(int64_t us);

/* compile.c */
/* Compile node n in thread t: markers substituted (or a fresh render when
 * the node is impure), ephemeral CTEs injected. Sets n->compiled. */
ig_rc ig__tf_compile_node(tf_thread *t, tf_node *n, ig_error *err);
/* The path of n's file under target/<sub> (compiled, run); caller frees. */
char *ig__tf_target_file(tf_project *p, const char *sub, const tf_node *n);
/* The SQL of n with ephemeral CTEs into out, without touching n; fresh:
 * render again from n->raw (unit tests with overrides). */
ig_rc ig__tf_compile_sql(tf_thread *t, tf_node *n, bool fresh, ig_buf *out, ig_error *err);
/* Write target/compiled/<pkg>/<original_file_path>, or target/run/... */
ig_rc ig__tf_write_target(tf_project *p, const char *sub, const tf_node *n, const char *sql,
                          size_t len, ig_error *err);
/* schema, alias, database of every enabled node (generate_*_name). */
ig_rc ig__tf_resolve_names(tf_project *p, tf_thread *t, ig_error *err);

/* materialize.c */
typedef struct tf_materialization {
    const char *name;
    /* run the compiled SQL of n; *rows may be set; the SQL executed is
     * appended to run_sql (for target/run) */
    ig_rc (*run)(tf_thread *t, tf_node *n, ig_buf *run_sql, int64_t *rows, ig_error *err);
} tf_materialization;
const tf_materialization *ig__tf_materialization(const char *name);

/* run.c */
/* How a command opens the warehouse of the profile: the ingot project's
 * own (with its settings) when the profile points at it, else the
 * profile's file (or memory) without ingot's migrations. */
ig_wh_options ig__tf_wh_options(const tf_project *p, const ig_project *proj);
ig_rc ig__tf_execute(tf_project *p, bool run, ig_transform_result *res, ig_error *err);
/* Selection of the nodes to execute into sel[] (p->nnodes chars): the
 * select / exclude / selector options over every kind, then kept to
 * p->kinds, then tests of selected nodes added (indirect selection). The
 * one call site of the selector grammar. */
ig_rc ig__tf_select_nodes(tf_project *p, char *sel, ig_error *err);

/* What executing one node produced (seed.c, snapshot.c, dtest.c). */
typedef struct tf_outcome {
    ig_tf_status status;
    int64_t rows;     /* rows loaded / changed, -1 unknown */
    int64_t failures; /* tests */
    char *message;    /* malloc: warn/fail text for tests, NULL */
    bool sql_error;   /* the error came from the warehouse */
} tf_outcome;

/* exec.c: helpers of the node kinds beyond models */
/* Run sql on the thread's connection counting warehouse time; log (may be
 * NULL) gets the statement for target/run; *rows (may be NULL) the rows a
 * query's first value or a DML reports. */
ig_rc ig__tf_exec(tf_thread *t, ig_buf *log, const char *sql, int64_t *rows, ig_error *err);
/* create schema if not exists (once per run), outside transactions */
ig_rc ig__tf_ensure_schema(tf_thread *t, const char *database, const char *schema,
                           ig_error *err);
/* The rendered relation of n ("db"."schema"."alias") into a new string. */
char *ig__tf_relation_str(tf_project *p, const tf_node *n);
/* SQL of a compiled node without a trailing semicolon (malloc). */
char *ig__tf_body_sql(const tf_node *n);

/* seed.c */
ig_rc ig__tf_seed_run(tf_thread *t, tf_node *n, ig_buf *log, tf_outcome *o, ig_error *err);
/* snapshot.c */
ig_rc ig__tf_snapshot_run(tf_thread *t, tf_node *n, ig_buf *log, tf_outcome *o, ig_error *err);
/* Split a snapshot file into its {% snapshot name %} blocks: calls fn for
 * each with the name and the body (lines before it blanked, so positions
 * in errors stay right). */
ig_rc ig__tf_snapshot_blocks(const char *file, const char *src, size_t len,
                             ig_rc (*fn)(void *ud, const char *name, char *body, size_t blen,
                                         ig_error *err),
                             void *ud, ig_error *err);
/* dtest.c */
/* The Jinja of the built-in generic tests (unique, not_null,
 * accepted_values, relationships) and get_where_subquery, package dbt. */
const char *ig__tf_builtin_tests(void);
/* Create the test nodes a properties entry declares: `tests:` /
 * `data_tests:` of the entry and of its columns. target is the tested
 * node (model, seed, snapshot, source); entry its YAML. */
ig_rc ig__tf_add_generic_tests(tf_project *p, tf_node *target, const ig_yaml *entry,
                               const char *file, ig_error *err);
/* Before rendering test n in t: make its macro callable as
 * __dbt_generic_test. No-op for other nodes. */
void ig__tf_test_bind(tf_thread *t, const tf_node *n);
/* Run compiled test n: failures, warn/error thresholds, store_failures. */
ig_rc ig__tf_test_run(tf_thread *t, tf_node *n, ig_buf *log, tf_outcome *o, ig_error *err);
/* unittest.c */
/* Create unit test nodes for a `unit_tests:` entry. */
ig_rc ig__tf_add_unit_test(tf_project *p, tf_package *k, const ig_yaml *entry, const char *file,
                           ig_error *err);
ig_rc ig__tf_unit_run(tf_thread *t, tf_node *n, ig_buf *log, tf_outcome *o, ig_error *err);
/* freshness.c */
ig_rc ig__tf_freshness(tf_project *p, ig_transform_result *res, ig_error *err);
/* parse.c: a node of kind for the parse (arena; config an empty object) */
tf_node *ig__tf_new_node(tf_project *p, tf_kind kind);

/* Error helpers */
/* "Compilation Error in model x (models/x.sql)" prefix */
void ig__tf_err_node(ig_error *err, const tf_node *n, const char *what);

#endif
