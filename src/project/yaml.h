/* YAML documents as a tree of nodes with positions, read with libyaml. Used
 * for ingot.yml and (later) dbt's YAML files. Every node remembers the file,
 * line and column it came from, so errors can point at it. `${VAR}`
 * interpolation is applied to scalars when the load asks for it.
 *
 * Lifetime: the whole tree lives in the arena passed to ig_yaml_load. */
#ifndef IG_YAML_H
#define IG_YAML_H

#include "core/arena.h"
#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum { IG_Y_NULL, IG_Y_SCALAR, IG_Y_SEQ, IG_Y_MAP } ig_yaml_kind;

typedef struct ig_yaml ig_yaml;
struct ig_yaml {
    ig_yaml_kind kind;
    const char *file; /* borrowed from the arena */
    int line, column; /* 1-based */
    /* scalar */
    const char *str; /* the text (after interpolation); NULL for IG_Y_NULL */
    bool quoted;     /* quoted ('x', "x"), a block scalar (|, >) or tagged !!str: never
                      * null, and a string to generic consumers (YAML to JSON) */
    const char *var; /* the first ${VAR} interpolated into str, NULL when none: the
                      * value may be a secret, so errors name the variable, never str */
    /* seq: items[0..n); map: keys[0..n) (scalars) and items[0..n) */
    size_t n;
    ig_yaml **items;
    ig_yaml **keys;
    const struct ig_yaml_src *src; /* internal: the source text, for error excerpts */
};

typedef struct ig_yaml_options {
    bool interpolate_env; /* replace ${VAR} and ${VAR:-default}; unset -> error */
} ig_yaml_options;

/* Limits against hostile input: nodes after expanding every alias (an alias
 * bomb, "billion laughs", stops here), and nesting depth. */
#define IG_YAML_MAX_NODES (1L << 22)
#define IG_YAML_MAX_DEPTH 256
/* Largest file ig_yaml_load reads. */
#define IG_YAML_MAX_FILE ((size_t)64 << 20)

/* Parse text (len bytes) named `file` in errors. An empty document gives a
 * node of kind IG_Y_NULL. Errors: IG_ERR_CONFIG with file:line:col. */
ig_rc ig_yaml_parse(ig_arena *a, const char *file, const char *text, size_t len,
                    const ig_yaml_options *opt, ig_yaml **out, ig_error *err);
/* Read and parse a file. IG_ERR_NOT_FOUND when it does not exist. */
ig_rc ig_yaml_load(ig_arena *a, const char *path, const ig_yaml_options *opt, ig_yaml **out,
                   ig_error *err);

/* What a node is, for messages: "a mapping", "a list", "a string", "null". */
const char *ig_yaml_kind_name(const ig_yaml *n);

/* How to show a scalar's value in a message: "'two'" (control characters
 * replaced, cut at 60 columns), or "the value of ${VAR} (not shown)" when it
 * came from the environment. Writes to buf (cap bytes) and returns it. */
const char *ig_yaml_shown(const ig_yaml *n, char *buf, size_t cap);

/* Map look-up by key; NULL when absent or node is not a map. */
ig_yaml *ig_yaml_get(const ig_yaml *map, const char *key);

/* Typed reads of a scalar, with errors naming file:line:col and `what`
 * (the key path, e.g. "warehouse.threads"):
 *   "warehouse.threads: expected an integer, got 'two'".
 * The schema decides the type, so quoting does not matter here ('4' reads as
 * 4 for an integer key, `yes` as "yes" for a string key). A null node (an
 * empty value, `~`, `null`) is an error for all four; callers that treat an
 * empty value as "not set" check kind first. Integers are decimal with an
 * optional sign (and `_` separators); booleans are true/false, yes/no, on/off
 * in lower, Title or UPPER case. Values that came from ${VAR} are not shown. */
ig_rc ig_yaml_str(const ig_yaml *n, const char *what, const char **out, ig_error *err);
ig_rc ig_yaml_int(const ig_yaml *n, const char *what, long *out, ig_error *err);
ig_rc ig_yaml_bool(const ig_yaml *n, const char *what, bool *out, ig_error *err);
ig_rc ig_yaml_double(const ig_yaml *n, const char *what, double *out, ig_error *err);

/* Set err to IG_ERR_CONFIG at node n's position, with message; the detail
 * shows the source line with a caret under the column. n may be NULL. */
ig_rc ig_yaml_error(const ig_yaml *n, ig_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Check that every key of a map is in `allowed` (NULL-terminated); an
 * unknown key is an error at its position naming the full key path (`what`
 * is the map's own path, "" or NULL for the document root) and suggesting
 * the nearest allowed key:
 *   "unknown key 'warehous' in ingot.yml; did you mean 'warehouse'?"
 * The hint lists the valid keys. */
ig_rc ig_yaml_check_keys(const ig_yaml *map, const char *what, const char *const *allowed,
                         ig_error *err);
/* The same for key i of map only (callers that keep going after one unknown
 * key, to report them all). `what` is the map's key path, "" for the root. */
ig_rc ig_yaml_check_key(const ig_yaml *map, size_t i, const char *what, const char *const *allowed,
                        ig_error *err);

/* Set the detail of err to the source line (line, column) of the document
 * that node n came from, with a caret under the column. */
void ig_yaml_excerpt(const ig_yaml *n, int line, int column, ig_error *err);

#endif
