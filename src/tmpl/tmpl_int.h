/* Internal declarations of the template engine, shared by its files and by
 * nothing else: heap object layouts, the syntax tree the parser builds, the
 * state of a running render, and the functions the files call across. Names
 * are ig__tmpl_* (internal, non-static). */
#ifndef IG_TMPL_INT_H
#define IG_TMPL_INT_H

#include "tmpl.h"

#include "core/arena.h"

#include <stdatomic.h>

/* ------------------------------------------------------------ heap objects */

enum { OK_STR = 1, OK_LIST, OK_DICT, OK_FUNC, OK_MACRO, OK_OBJECT };

#define IMMORTAL (-1000000000) /* refs below zero: never counted, never freed */

struct ig_tmpl_obj {
    int32_t refs;
    uint16_t kind;
    uint16_t flags;
};

typedef struct tstr {
    ig_tmpl_obj h;
    uint32_t hash; /* 0: not computed yet */
    size_t len;
    char s[];
} tstr;

typedef struct tlist {
    ig_tmpl_obj h;
    size_t len, cap;
    ig_tmpl_val *items;
} tlist;

typedef struct dentry {
    ig_tmpl_val key, val; /* key.type == IG_TMPL_UNDEFINED: deleted slot */
    uint32_t hash;
} dentry;

typedef struct tdict {
    ig_tmpl_obj h;
    size_t len;   /* live entries */
    size_t used;  /* slots used in e, deleted included */
    size_t cap;
    dentry *e;
    int32_t *index; /* open addressing over e, built once the dict grows past 8 */
    size_t isize;   /* power of two, 0 without index */
} tdict;

typedef struct tfunc {
    ig_tmpl_obj h;
    ig_tmpl_fn fn;
    void *ud;
    ig_tmpl_val self; /* bound receiver for methods; undefined otherwise */
    char name[];
} tfunc;

typedef struct node node;
typedef struct frame frame;

typedef struct tmacro {
    ig_tmpl_obj h;
    ig_tmpl *t;            /* strong: the template the code lives in */
    const node *def;       /* N_MACRO or N_CALLBLOCK */
    tdict *module;         /* strong, may be NULL: module variables */
    frame *closure;        /* enclosing frame while it lives, else NULL */
    struct tmacro *next_closure;
    bool is_caller;
} tmacro;

typedef struct tobject {
    ig_tmpl_obj h;
    const ig_tmpl_class *cls;
    void *self;
} tobject;

#define OBJ(v) ((v).u.o)
#define STR(v) ((tstr *)(v).u.o)
#define LIST(v) ((tlist *)(v).u.o)
#define DICT(v) ((tdict *)(v).u.o)
#define FUNC(v) ((tfunc *)(v).u.o)
#define MACRO(v) ((tmacro *)(v).u.o)
#define TOBJ(v) ((tobject *)(v).u.o)

static inline bool has_obj(ig_tmpl_val v)
{
    return v.type >= IG_TMPL_STR || (v.type == IG_TMPL_UNDEFINED && v.u.o);
}
static inline void incref(ig_tmpl_val v)
{
    if (has_obj(v) && v.u.o->refs >= 0) v.u.o->refs++;
}
void ig__tmpl_free_obj(ig_tmpl_obj *o);
static inline void decref(ig_tmpl_val v)
{
    if (has_obj(v) && v.u.o->refs > 0 && --v.u.o->refs == 0) ig__tmpl_free_obj(v.u.o);
}
static inline ig_tmpl_val mkint(int64_t i)
{
    ig_tmpl_val v = {IG_TMPL_INT, 0, {.i = i}};
    return v;
}
static inline ig_tmpl_val mkbool(bool b)
{
    ig_tmpl_val v = {IG_TMPL_BOOL, 0, {.b = b}};
    return v;
}
static inline ig_tmpl_val mkfloat(double f)
{
    ig_tmpl_val v = {IG_TMPL_FLOAT, 0, {.f = f}};
    return v;
}
static inline ig_tmpl_val mknone(void)
{
    ig_tmpl_val v = {IG_TMPL_NONE, 0, {.o = NULL}};
    return v;
}
static inline ig_tmpl_val mkundef(void)
{
    ig_tmpl_val v = {IG_TMPL_UNDEFINED, 0, {.o = NULL}};
    return v;
}
static inline ig_tmpl_val mkobjv(uint32_t type, void *o)
{
    ig_tmpl_val v = {type, 0, {.o = (ig_tmpl_obj *)o}};
    return v;
}
static inline bool is_str(ig_tmpl_val v) { return v.type == IG_TMPL_STR; }
static inline bool is_seq(ig_tmpl_val v)
{
    return v.type == IG_TMPL_LIST || v.type == IG_TMPL_TUPLE;
}
static inline bool is_num(ig_tmpl_val v)
{
    return v.type == IG_TMPL_INT || v.type == IG_TMPL_FLOAT || v.type == IG_TMPL_BOOL;
}
static inline double num_f(ig_tmpl_val v)
{
    return v.type == IG_TMPL_FLOAT ? v.u.f : v.type == IG_TMPL_INT ? (double)v.u.i : (double)v.u.b;
}

/* Undefined values: aux says how the message reads; u.o names the thing. */
enum {
    UNDEF_NAME = 0,     /* 'name' is undefined */
    UNDEF_ATTR = 1,     /* 'T object' has no attribute 'name' (T in aux >> 8) */
    UNDEF_ELEM = 2,     /* T object has no element name */
    UNDEF_MISSING = 3,  /* an argument that was not passed (ig_tmpl_bind) */
    UNDEF_PARAM = 4     /* parameter 'name' was not provided */
};

/* values.c */
tstr *ig__tmpl_str_alloc(size_t len); /* refs 1, s[len] = 0, content unset */
ig_tmpl_val ig__tmpl_str_take(tstr *s);
uint32_t ig__tmpl_hash_bytes(const char *s, size_t n);
uint32_t ig__tmpl_str_hash(tstr *s);
ig_tmpl_val ig__tmpl_own(ig_tmpl_val v); /* copies an immortal string so it can be stored */
tlist *ig__tmpl_list_alloc(size_t cap);
void ig__tmpl_list_push(tlist *l, ig_tmpl_val v); /* steals, no copy of immortals */
ig_tmpl_val ig__tmpl_list_from(const ig_tmpl_val *items, size_t n, bool tuple); /* refs items */
tdict *ig__tmpl_dict_alloc(void);
/* dict ops: keys borrowed, values stolen by set */
ig_tmpl_val *ig__tmpl_dict_find(tdict *d, ig_tmpl_val key);
ig_tmpl_val *ig__tmpl_dict_find_str(tdict *d, const char *k, size_t n, uint32_t hash);
bool ig__tmpl_hashable(ig_tmpl_val key);
void ig__tmpl_dict_put(tdict *d, ig_tmpl_val key, ig_tmpl_val val);
bool ig__tmpl_dict_del(tdict *d, ig_tmpl_val key, ig_tmpl_val *old);
void ig__tmpl_dict_clear(tdict *d);
uint32_t ig__tmpl_hash(ig_tmpl_val v);
/* -1, 0, 1; *ok false when the types cannot be ordered */
int ig__tmpl_compare(ig_tmpl_val a, ig_tmpl_val b, bool *ok);
void ig__tmpl_fmt_float(double f, ig_buf *out);
void ig__tmpl_repr_str(const char *s, size_t n, ig_buf *out);
const char *ig__tmpl_undef_name(ig_tmpl_val v);
void ig__tmpl_undef_message(ig_tmpl_val v, ig_buf *out);
ig_tmpl_val ig__tmpl_mkundef_name(tstr *name, uint32_t kind, const char *tname);
bool ig__tmpl_is_missing(ig_tmpl_val v);
ig_tmpl_val ig__tmpl_new_str(const char *s, size_t n);
enum { CASE_LOWER, CASE_UPPER, CASE_CAPITALIZE, CASE_SWAP, CASE_TITLE, CASE_TITLE_JINJA };
/* s with its letters' case changed (UTF-8: Latin, Greek, Cyrillic) */
ig_tmpl_val ig__tmpl_case(const char *s, size_t n, int mode);
/* bit 1: s has a lower-case letter; bit 2: an upper-case one */
int ig__tmpl_case_kind(const char *s, size_t n);

/* A bump allocator for a template's nodes and constants (lex.c): chunks
 * sized to the source, so parsing a small model costs a few small mallocs
 * instead of the 64 KiB block of an ig_arena. */
typedef struct tchunk tchunk;
typedef struct tarena {
    tchunk *head;
    size_t next_size;
} tarena;
void *ig__tmpl_zalloc(tarena *a, size_t n); /* zeroed, 16-aligned, never NULL */
void *ig__tmpl_alloc(tarena *a, size_t n);  /* not zeroed, 16-aligned, never NULL */
void ig__tmpl_arena_free(tarena *a);

/* An immortal string in arena a (lex.c). */
tstr *ig__tmpl_istr_arena(tarena *a, const char *s);

/* ---------------------------------------------------------------- syntax */

enum {
    /* expressions */
    N_CONST = 1, N_NAME, N_LIST, N_TUPLE, N_DICT, N_GETATTR, N_GETITEM, N_SLICE, N_CALL,
    N_FILTER, N_TEST, N_BINOP, N_NEG, N_POS, N_NOT, N_AND, N_OR, N_COMPARE, N_COND,
    N_CONCAT,
    /* statements */
    N_TEXT, N_OUTPUT, N_IF, N_FOR, N_SET, N_SETBLOCK, N_MACRO, N_CALLBLOCK, N_FILTERBLOCK,
    N_WITH, N_DO, N_BREAK, N_CONTINUE, N_BLOCK
};

/* binary and comparison operators */
enum {
    OP_ADD = 1, OP_SUB, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW,
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_NOTIN
};

enum { ARG_POS = 0, ARG_KW, ARG_STAR, ARG_DSTAR };

typedef struct arg {
    int kind;
    tstr *name; /* ARG_KW */
    node *e;
} arg;

/* flags */
enum {
    NF_NEGATED = 1,   /* N_TEST: is not */
    NF_VARARGS = 2,   /* N_MACRO / N_CALLBLOCK body uses varargs */
    NF_KWARGS = 4,    /* ... uses kwargs */
    NF_CALLER = 8,    /* ... uses caller */
    NF_RECURSIVE = 16 /* N_FOR */
};

struct node {
    uint8_t kind, op;
    uint16_t flags;
    int line, col;
    node *a, *b, *c;
    node **kids; /* items, operands, params, targets */
    int nkids;
    node **kids2; /* dict values, param defaults, with-values */
    int nkids2;
    node **body;
    int nbody;
    node **els;
    int nels;
    arg *args;
    int nargs;
    uint8_t *ops; /* N_COMPARE: one per kids */
    tstr *name;
    ig_tmpl_val val; /* N_CONST, N_TEXT */
};

struct ig_tmpl {
    atomic_int refs;
    char *name;
    char *src;
    size_t len;
    tarena arena; /* nodes and immortal strings */
    node **body;
    int nbody;
    node **macros; /* top-level N_MACRO nodes */
    int nmacros;
};

ig_tmpl *ig__tmpl_retain(ig_tmpl *t);

/* Write "file:line:col: msg" position and the quoted source line into err. */
void ig__tmpl_err_pos(ig_error *err, const ig_tmpl *t, int line, int col);

/* ---------------------------------------------------------------- render */

typedef struct fvar {
    tstr *name;
    ig_tmpl_val v;
} fvar;

struct frame {
    frame *parent; /* lexical parent; NULL at a function boundary */
    tdict *dict;   /* the root frame stores into the module dict */
    int n, cap;
    fvar *vars;
    fvar inl[6];
    tmacro *closures; /* macros that captured this frame */
};

struct ig_tmpl_env {
    tdict *globals;
    tdict *filters;
    tdict *tests;
    ig_tmpl_limits lim;
    bool strict;
    ig_tmpl_resolver resolver;
    void *resolver_ud;
    tlist *modules;  /* module dicts made here: cleared at free, breaking macro cycles */
    tarena arena; /* the names below */
    tstr *s_varargs, *s_kwargs, *s_caller, *s_loop;
};

struct ig_tmpl_call {
    ig_tmpl_env *env;
    ig_error *err;
    ig_tmpl_val ctx;      /* borrowed dict or undefined */
    ig_buf *out;          /* where text goes now */
    frame *frame;         /* innermost scope */
    tdict *module;        /* module variables of the running code */
    const ig_tmpl *tmpl;  /* template of the running code */
    const node *pos;      /* node being evaluated, for errors of natives */
    int depth;      /* macro calls */
    int edepth;     /* nested evaluations */
    int loop_depth;
    ig_tmpl_val block_input; /* text of a filter/set block being filtered */
    ig_error own_err;        /* used when the caller passed no ig_error */
    uint64_t iterations;
    ig_tmpl_val retval;
    bool has_ret;
    const node *ret_at;        /* where return() was called */
    const ig_tmpl *ret_tmpl;
    int trace;                 /* "in macro" lines added to the error */
    const node *outer_site;    /* the outermost macro call in progress, */
    const ig_tmpl *outer_tmpl; /* in the template rendered at depth 0 */
};

#define RC_BREAK (-1)
#define RC_CONTINUE (-2)
#define RC_RETURN IG_TMPL_RETURN

/* eval.c */
ig_rc ig__tmpl_fail_at(ig_tmpl_call *c, const node *n, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
ig_rc ig__tmpl_call(ig_tmpl_call *c, ig_tmpl_val callee, const ig_tmpl_args *a,
                    ig_tmpl_val *out);
ig_rc ig__tmpl_getattr(ig_tmpl_call *c, ig_tmpl_val obj, tstr *name, ig_tmpl_val *out);
ig_rc ig__tmpl_getitem(ig_tmpl_call *c, ig_tmpl_val obj, ig_tmpl_val key, ig_tmpl_val *out);
/* Materialize what `for` iterates over as a new list. */
ig_rc ig__tmpl_iter(ig_tmpl_call *c, ig_tmpl_val v, ig_tmpl_val *out);
/* str(v) as a string value (new ref); error for undefined when strict. */
ig_rc ig__tmpl_to_strv(ig_tmpl_call *c, ig_tmpl_val v, ig_tmpl_val *out);
ig_rc ig__tmpl_undef_error(ig_tmpl_call *c, ig_tmpl_val u);
ig_rc ig__tmpl_str_check(ig_tmpl_call *c, size_t len);
ig_rc ig__tmpl_items_check(ig_tmpl_call *c, size_t n);
ig_rc ig__tmpl_binop(ig_tmpl_call *c, int op, ig_tmpl_val a, ig_tmpl_val b, ig_tmpl_val *out);
ig_rc ig__tmpl_contains(ig_tmpl_call *c, ig_tmpl_val hay, ig_tmpl_val needle, bool *out);
ig_rc ig__tmpl_render_top(ig_tmpl_call *c, const ig_tmpl *t, tdict *module);
ig_rc ig__tmpl_run_test(ig_tmpl_call *c, const char *name, ig_tmpl_val v,
                        const ig_tmpl_args *extra, bool *out);
ig_rc ig__tmpl_run_filter(ig_tmpl_call *c, const char *name, ig_tmpl_val v,
                          const ig_tmpl_args *extra, ig_tmpl_val *out);
ig_tmpl_val ig__tmpl_macro_new(ig_tmpl *t, const node *def, tdict *module);
void ig__tmpl_call_init(ig_tmpl_call *c, ig_tmpl_env *env, ig_tmpl_val ctx, ig_error *err);
void ig__tmpl_call_done(ig_tmpl_call *c);

/* filters.c, methods.c, builtins.c */
void ig__tmpl_add_filters(ig_tmpl_env *env);
void ig__tmpl_add_tests(ig_tmpl_env *env);
void ig__tmpl_add_globals(ig_tmpl_env *env);
/* A method of a str, list or dict by name; NULL if none. */
ig_tmpl_fn ig__tmpl_method(ig_tmpl_val self, const char *name);
ig_rc ig__tmpl_call_method(ig_tmpl_call *c, ig_tmpl_fn fn, ig_tmpl_val self,
                           const ig_tmpl_args *a, ig_tmpl_val *out);
ig_tmpl_val ig__tmpl_bound(const char *name, ig_tmpl_fn fn, ig_tmpl_val self);
/* Python's str % args */
ig_rc ig__tmpl_percent(ig_tmpl_call *c, ig_tmpl_val fmt, ig_tmpl_val args, ig_tmpl_val *out);
/* the loop object: items borrowed (referenced), n the N_FOR node */
ig_tmpl_val ig__tmpl_loop_new(ig_tmpl_val items, int depth, const node *n);
void ig__tmpl_loop_set(ig_tmpl_val loop, size_t index);
/* loop(items) of a recursive for: render the loop again one level deeper */
ig_rc ig__tmpl_loop_recurse(ig_tmpl_call *c, const node *n, ig_tmpl_val iterable, int depth,
                            ig_tmpl_val *out);
extern const ig_tmpl_class ig__tmpl_namespace_class;
tdict *ig__tmpl_namespace_dict(ig_tmpl_val v);
/* sort helpers shared by filters and list.sort */
ig_rc ig__tmpl_sort(ig_tmpl_call *c, ig_tmpl_val *items, size_t n, bool reverse,
                    bool case_sensitive, tstr *attr);

#endif
