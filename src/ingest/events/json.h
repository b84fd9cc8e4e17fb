/* A validating JSON scanner without a tree, for the collector's hot path.
 * Enriching an event needs its top-level members, a few string values and
 * the members of `context` -- never a parsed tree of everything. Scanning
 * validates the whole text (RFC 8259: grammar, escapes, UTF-8, no control
 * characters in strings, nesting at most IG_EVJ_MAX_DEPTH) and hands back
 * slices of the input, so output is built by copying slices. jansson built
 * and freed a node per value and spent most of a batch request in malloc.
 * Internal to ingest/events. */
#ifndef IG_EVENTS_JSON_H
#define IG_EVENTS_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define IG_EVJ_MAX_DEPTH 256

typedef enum { EVJ_STRING, EVJ_NUMBER, EVJ_OBJECT, EVJ_ARRAY, EVJ_TRUE, EVJ_FALSE, EVJ_NULL } evj_type;

/* A value: its type and its text in the input (a string includes its quotes). */
typedef struct evj {
    evj_type t;
    const char *p;
    size_t n;
} evj;

/* A member of an object: the key as written (no quotes, escapes as sent)
 * and the value. */
typedef struct evj_member {
    const char *k;
    size_t kn;
    evj v;
} evj_member;

/* A growable list of members (reused across calls; free with evj_members_free). */
typedef struct evj_members {
    evj_member *m;
    size_t n, cap;
} evj_members;

/* Where and why scanning failed. */
typedef struct evj_error {
    size_t offset;
    const char *what;
} evj_error;

/* Validate one whole document in p[0..n) (whitespace around it allowed).
 * true and *out on success. */
bool evj_parse(const char *p, size_t n, evj *out, evj_error *err);

/* The members of an object value that evj_parse (or this) accepted, in
 * order, into *m (reset first). Values are not re-validated. */
void evj_object_members(const evj *obj, evj_members *m);
/* Iterate the elements of an array value: start with *pos = NULL; returns
 * false at the end. */
bool evj_array_next(const evj *arr, const char **pos, evj *out);
void evj_members_free(evj_members *m);

/* The member named key (compared as written), or NULL. */
const evj *evj_get(const evj_members *m, const char *key);
/* Key equality as written. */
bool evj_key_is(const evj_member *m, const char *key);
/* Unescape a string value into out (cap bytes, NUL-terminated); false when
 * it does not fit or is not a string. */
bool evj_string(const evj *v, char *out, size_t cap);

#endif
