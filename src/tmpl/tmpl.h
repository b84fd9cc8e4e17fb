/* The template engine: Jinja2 as dbt uses it (extensions `do` and
 * `loopcontrols`, autoescape off, default Undefined, trim_blocks and
 * lstrip_blocks off), written in C so dbt projects compile without Python.
 *
 * A template is parsed once into an immutable tree (ig_tmpl) and rendered any
 * number of times in an environment (ig_tmpl_env) that holds the globals,
 * filters, tests and limits. The host (the transform layer) plugs dbt's
 * context in by registering native functions, objects and values, and calls
 * macros from C.
 *
 * Values (ig_tmpl_val) are small structs passed by value; strings, lists,
 * dicts, functions, macros and host objects point to a reference-counted heap
 * object. The rules:
 *   - a function that returns a value or fills an `ig_tmpl_val *out` hands
 *     the caller a new reference: release it with ig_tmpl_unref;
 *   - a function that stores a value (dict_set, list_append, env_set_global)
 *     takes over the caller's reference ("steals" it);
 *   - getters (dict_get, list_get, str_ptr) return borrowed data, valid while
 *     the container holds it.
 * Reference counts are not atomic: an environment and every value reachable
 * from it belong to one thread at a time. A parsed ig_tmpl is immutable (its
 * constants are immortal) and may be rendered by several threads, each in its
 * own environment.
 *
 * Errors: functions return ig_rc (0 is success) and fill the caller's
 * ig_error with IG_ERR_TEMPLATE (IG_ERR_LIMIT when a limit stops a render),
 * the template name, line and column, and the offending line as detail. */
#ifndef IG_TMPL_H
#define IG_TMPL_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ig_tmpl ig_tmpl;           /* a parsed template */
typedef struct ig_tmpl_env ig_tmpl_env;   /* globals, filters, tests, limits */
typedef struct ig_tmpl_obj ig_tmpl_obj;   /* heap part of a value (opaque) */
typedef struct ig_tmpl_call ig_tmpl_call; /* the render a native runs in (opaque) */

typedef enum ig_tmpl_type {
    IG_TMPL_UNDEFINED = 0, /* a missing name or attribute; renders as "" */
    IG_TMPL_NONE,
    IG_TMPL_BOOL,
    IG_TMPL_INT,   /* 64-bit; overflow is an error, not a bignum */
    IG_TMPL_FLOAT,
    IG_TMPL_STR,   /* UTF-8 bytes, immutable, NUL-terminated */
    IG_TMPL_LIST,
    IG_TMPL_TUPLE, /* an immutable list; renders as (1, 2) */
    IG_TMPL_DICT,  /* insertion-ordered */
    IG_TMPL_FUNC,  /* a native function (or a bound method) */
    IG_TMPL_MACRO, /* a template macro, or the caller of a call block */
    IG_TMPL_OBJECT /* a host object with a class of callbacks */
} ig_tmpl_type;

typedef struct ig_tmpl_val {
    uint32_t type; /* ig_tmpl_type */
    uint32_t aux;  /* private: undefined-message kind */
    union {
        bool b;
        int64_t i;
        double f;
        ig_tmpl_obj *o;
    } u;
} ig_tmpl_val;

/* Arguments of a call. Positional values, then keyword arguments as
 * parallel arrays; all borrowed for the duration of the call. */
typedef struct ig_tmpl_args {
    const ig_tmpl_val *pos;
    size_t npos;
    const char *const *kwnames;
    const ig_tmpl_val *kw;
    size_t nkw;
} ig_tmpl_args;

/* A native function, filter or test. A filter gets the filtered value as
 * pos[0]; a test returns a value whose truth is the result. Fill *out with
 * a new reference (leave it alone to return none). Return 0, an error from
 * ig_tmpl_fail, or IG_TMPL_RETURN (see ig_tmpl_return). */
typedef ig_rc (*ig_tmpl_fn)(ig_tmpl_call *call, void *ud, const ig_tmpl_args *args,
                            ig_tmpl_val *out);

/* A host object's class. Every callback may be NULL. */
typedef struct ig_tmpl_class {
    const char *name; /* shown in messages: "'Relation object' has no attribute 'x'" */
    /* obj.name: fill *out (new reference) or leave it undefined if absent */
    ig_rc (*getattr)(ig_tmpl_call *call, void *self, const char *name, ig_tmpl_val *out);
    /* obj[key]: as getattr; when NULL, a string key goes to getattr */
    ig_rc (*getitem)(ig_tmpl_call *call, void *self, ig_tmpl_val key, ig_tmpl_val *out);
    /* obj(...) */
    ig_rc (*call)(ig_tmpl_call *call, void *self, const ig_tmpl_args *args, ig_tmpl_val *out);
    /* str(obj) appended to out; NULL renders "<name object>" */
    void (*str)(void *self, ig_buf *out);
    /* the items `for x in obj` sees, as a new list; NULL: not iterable */
    ig_rc (*iter)(ig_tmpl_call *call, void *self, ig_tmpl_val *out);
    /* truth; NULL: true */
    bool (*truth)(void *self);
    /* release self when the last reference goes */
    void (*free)(void *self);
} ig_tmpl_class;

/* Limits that stop a hostile or runaway template with a clean error. */
typedef struct ig_tmpl_limits {
    size_t max_output;        /* bytes of output, and of any one string (64 MiB) */
    int max_depth;            /* nested macro/caller calls (200) */
    uint64_t max_iterations;  /* loop iterations per render (10,000,000) */
    size_t max_items;         /* items in one list or dict built by the template (10,000,000) */
} ig_tmpl_limits;

/* What ig_tmpl_return's rc means: not an error, the macro call is over. */
#define IG_TMPL_RETURN (-3)

/* ---------------------------------------------------------------- values */

ig_tmpl_val ig_tmpl_undefined(void);
ig_tmpl_val ig_tmpl_none(void);
ig_tmpl_val ig_tmpl_bool(bool b);
ig_tmpl_val ig_tmpl_int(int64_t i);
ig_tmpl_val ig_tmpl_float(double f);
/* New strings (copies). Caller owns the reference. */
ig_tmpl_val ig_tmpl_str(const char *s);
ig_tmpl_val ig_tmpl_strn(const char *s, size_t n);
ig_tmpl_val ig_tmpl_list_new(void);
ig_tmpl_val ig_tmpl_tuple_new(void); /* fill with list_append before sharing it */
ig_tmpl_val ig_tmpl_dict_new(void);
/* A native function value; name is copied. */
ig_tmpl_val ig_tmpl_func_new(const char *name, ig_tmpl_fn fn, void *ud);
/* A host object; cls must outlive every reference to the object. */
ig_tmpl_val ig_tmpl_object_new(const ig_tmpl_class *cls, void *self);
/* self of a host object of class cls, or NULL when v is something else. */
void *ig_tmpl_object_self(ig_tmpl_val v, const ig_tmpl_class *cls);

/* Take and release a reference. Scalars and NULL-object values are fine. */
ig_tmpl_val ig_tmpl_ref(ig_tmpl_val v);
void ig_tmpl_unref(ig_tmpl_val v);

/* Strings: borrowed bytes (NUL-terminated) and length; "" for non-strings. */
const char *ig_tmpl_str_ptr(ig_tmpl_val v);
size_t ig_tmpl_str_len(ig_tmpl_val v);

/* Lists and tuples. append steals item. get is borrowed (undefined when out
 * of range). */
size_t ig_tmpl_list_len(ig_tmpl_val list);
void ig_tmpl_list_append(ig_tmpl_val list, ig_tmpl_val item);
ig_tmpl_val ig_tmpl_list_get(ig_tmpl_val list, size_t i);

/* Dicts. set steals val (the key is copied). get is borrowed; undefined when
 * absent. dict_setv takes any hashable key value (stolen too). */
size_t ig_tmpl_dict_len(ig_tmpl_val dict);
void ig_tmpl_dict_set(ig_tmpl_val dict, const char *key, ig_tmpl_val val);
void ig_tmpl_dict_setv(ig_tmpl_val dict, ig_tmpl_val key, ig_tmpl_val val);
ig_tmpl_val ig_tmpl_dict_get(ig_tmpl_val dict, const char *key);
/* The i-th live entry in insertion order (borrowed); false past the end. */
bool ig_tmpl_dict_entry(ig_tmpl_val dict, size_t i, ig_tmpl_val *key, ig_tmpl_val *val);

/* Python truth of a value. */
bool ig_tmpl_truthy(ig_tmpl_val v);
/* Python str(v) / repr(v) appended to out (None, True, ['a', 1], {'k': 2}).
 * Undefined is "" for str. */
void ig_tmpl_to_str(ig_tmpl_val v, ig_buf *out);
void ig_tmpl_to_repr(ig_tmpl_val v, ig_buf *out);
/* JSON text of v as Python's json.dumps writes it (ensure_ascii; dicts keep
 * their order unless sort_keys; indent < 0 for one line). Returns -1 for a
 * value JSON cannot hold (undefined, a function, an object without str, a
 * cycle). */
int ig_tmpl_to_json(ig_tmpl_val v, ig_buf *out, bool sort_keys, int indent);
/* Python ==. */
bool ig_tmpl_equal(ig_tmpl_val a, ig_tmpl_val b);
const char *ig_tmpl_type_name(ig_tmpl_val v); /* Python's: 'str', 'int', 'dict'... */

/* ------------------------------------------------------------- templates */

/* Parse src (len bytes, need not be NUL-terminated) into a template named
 * `name` (used in errors). On success *out is the caller's reference, freed
 * with ig_tmpl_free; macros taken from it keep it alive as long as needed. */
ig_rc ig_tmpl_parse(const char *name, const char *src, size_t len, ig_tmpl **out,
                    ig_error *err);
void ig_tmpl_free(ig_tmpl *t);
const char *ig_tmpl_name(const ig_tmpl *t);
/* Names of the macros defined at the top level of t, in order (borrowed). */
size_t ig_tmpl_macro_count(const ig_tmpl *t);
const char *ig_tmpl_macro_name(const ig_tmpl *t, size_t i);

/* ----------------------------------------------------------- environment */

/* A new environment with Jinja's filters, tests and globals (range, dict,
 * list, zip, namespace, cycler, joiner) and default limits. Free with
 * ig_tmpl_env_free. */
ig_tmpl_env *ig_tmpl_env_new(void);
void ig_tmpl_env_free(ig_tmpl_env *env);
void ig_tmpl_env_limits(ig_tmpl_env *env, const ig_tmpl_limits *lim);
void ig_tmpl_env_get_limits(const ig_tmpl_env *env, ig_tmpl_limits *lim);
/* Undefined values raise an error when rendered or iterated (StrictUndefined)
 * instead of rendering as "" (dbt's default: off). */
void ig_tmpl_env_strict(ig_tmpl_env *env, bool strict);
/* Globals, seen by every render after the render's own context. Steals v. */
void ig_tmpl_env_set_global(ig_tmpl_env *env, const char *name, ig_tmpl_val v);
ig_tmpl_val ig_tmpl_env_get_global(const ig_tmpl_env *env, const char *name); /* borrowed */
void ig_tmpl_env_add_func(ig_tmpl_env *env, const char *name, ig_tmpl_fn fn, void *ud);
void ig_tmpl_env_add_filter(ig_tmpl_env *env, const char *name, ig_tmpl_fn fn, void *ud);
void ig_tmpl_env_add_test(ig_tmpl_env *env, const char *name, ig_tmpl_fn fn, void *ud);
/* Called for a name found nowhere else (locals, template, context, globals):
 * fill *out or leave it undefined. Lets the host resolve macros lazily. */
typedef ig_rc (*ig_tmpl_resolver)(ig_tmpl_call *call, void *ud, const char *name,
                                  ig_tmpl_val *out);
void ig_tmpl_env_set_resolver(ig_tmpl_env *env, ig_tmpl_resolver fn, void *ud);

/* ------------------------------------------------------------- rendering */

/* Render t with context ctx (a dict, or undefined for none; borrowed),
 * appending to out. On error out holds what was rendered before it. */
ig_rc ig_tmpl_render(ig_tmpl_env *env, const ig_tmpl *t, ig_tmpl_val ctx, ig_buf *out,
                     ig_error *err);
/* Run t's top level and return its module as a new dict: its top-level
 * macros and the variables it sets (the output is discarded). Register it
 * as a global to get a namespace (`dbt_utils.star(...)`), or copy its
 * macros into the globals. The variables the macros see belong to env:
 * ig_tmpl_env_free empties them (macros called after that still run, but
 * see no module variables). */
ig_rc ig_tmpl_module(ig_tmpl_env *env, const ig_tmpl *t, ig_tmpl_val ctx, ig_tmpl_val *out,
                     ig_error *err);
/* Call a macro, function or callable object from C with context ctx (what
 * the macro sees after its own module; borrowed, may be undefined). A macro
 * yields its rendered text as a string, or the value it passed to return(). */
ig_rc ig_tmpl_call_value(ig_tmpl_env *env, ig_tmpl_val callee, ig_tmpl_val ctx,
                         const ig_tmpl_args *args, ig_tmpl_val *out, ig_error *err);
/* The same for the macro `name` in module (a dict from ig_tmpl_module). */
ig_rc ig_tmpl_call_macro(ig_tmpl_env *env, ig_tmpl_val module, const char *name,
                         ig_tmpl_val ctx, const ig_tmpl_args *args, ig_tmpl_val *out,
                         ig_error *err);
/* A macro value for the top-level macro `name` of t, bound to an empty
 * module (for hosts that keep macros in their own registry). Undefined when
 * t has no such macro. */
ig_tmpl_val ig_tmpl_macro_get(const ig_tmpl *t, const char *name);

/* ------------------------------------------------ for native functions */

/* Fail the current call: sets the render's error (position added by the
 * engine) and returns IG_ERR_TEMPLATE. */
ig_rc ig_tmpl_fail(ig_tmpl_call *call, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The render's error, to set a different code or a hint. */
ig_error *ig_tmpl_call_error(ig_tmpl_call *call);
/* Where the running native was called, in the template being rendered:
 * its own call when that template calls it directly, else the outermost
 * macro call in that template it was reached through (a ref() inside a
 * macro gives the model's line that called the macro). *file (may be NULL)
 * is the template's name, borrowed for the render. Returns false and zeros
 * when unknown (a native called by the host, outside any template). */
bool ig_tmpl_call_position(const ig_tmpl_call *call, const char **file, int *line, int *col);
/* Give err the position line:col in template source src (len bytes) named
 * file, as the engine's own errors have it: file:line:col, and the quoted
 * line with a caret as detail. For a host that finds a problem after
 * rendering (a ref() to a missing model, found when the graph is linked).
 * Nothing when line <= 0. */
void ig_tmpl_error_at(ig_error *err, const char *file, const char *src, size_t len, int line,
                      int col);
/* dbt's return(): end the innermost macro call, which evaluates to v
 * (stolen). Return its result from the native: `return ig_tmpl_return(c, v);` */
ig_rc ig_tmpl_return(ig_tmpl_call *call, ig_tmpl_val v);
/* A ready-made native for `return`: register with
 * ig_tmpl_env_add_func(env, "return", ig_tmpl_native_return, NULL). */
ig_rc ig_tmpl_native_return(ig_tmpl_call *call, void *ud, const ig_tmpl_args *args,
                            ig_tmpl_val *out);
/* Resolve a name as the template code at the call site would: locals,
 * module, context, globals. *out is a new reference, undefined if absent. */
ig_rc ig_tmpl_call_lookup(ig_tmpl_call *call, const char *name, ig_tmpl_val *out);
/* Call a callable value (macro, function, object) from inside a native. */
ig_rc ig_tmpl_call_callable(ig_tmpl_call *call, ig_tmpl_val callee, const ig_tmpl_args *args,
                            ig_tmpl_val *out);
ig_tmpl_env *ig_tmpl_call_env(ig_tmpl_call *call);
/* The render's context dict (borrowed; undefined when none was given). */
ig_tmpl_val ig_tmpl_call_context(ig_tmpl_call *call);
/* Name of the template whose code is running (the macro's file in a macro). */
const char *ig_tmpl_call_template(ig_tmpl_call *call);
/* Bind args to parameter names (NULL-terminated); the first nreq are
 * required. vals[i] is borrowed, or undefined-missing (see ig_tmpl_given)
 * when not passed. Errors name `fname`. */
ig_rc ig_tmpl_bind(ig_tmpl_call *call, const char *fname, const ig_tmpl_args *args,
                   const char *const *names, int nreq, ig_tmpl_val *vals);
/* True when a bound argument was passed (even as an undefined value). */
bool ig_tmpl_given(ig_tmpl_val v);

#endif
