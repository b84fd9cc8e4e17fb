/* Values of the template engine: reference-counted strings, lists, tuples,
 * insertion-ordered dicts, functions and host objects, with Python's
 * equality, ordering, hashing, str() and repr(), and JSON output. Everything
 * the evaluator and the filters compute with goes through here. Immortal
 * objects (constants of a parsed template, allocated in its arena) are never
 * counted; a container copies one before storing it, so no value outlives
 * the template it came from. */
#include "tmpl_int.h"

#include "core/mem.h"
#include "core/str.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- scalars */

ig_tmpl_val ig_tmpl_undefined(void) { return mkundef(); }
ig_tmpl_val ig_tmpl_none(void) { return mknone(); }
ig_tmpl_val ig_tmpl_bool(bool b) { return mkbool(b); }
ig_tmpl_val ig_tmpl_int(int64_t i) { return mkint(i); }
ig_tmpl_val ig_tmpl_float(double f) { return mkfloat(f); }

/* ---------------------------------------------------------------- strings */

uint32_t ig__tmpl_hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h ? h : 1;
}

uint32_t ig__tmpl_str_hash(tstr *s)
{
    if (!s->hash) s->hash = ig__tmpl_hash_bytes(s->s, s->len);
    return s->hash;
}

tstr *ig__tmpl_str_alloc(size_t len)
{
    tstr *s = ig_malloc(sizeof(tstr) + len + 1);
    s->h.refs = 1;
    s->h.kind = OK_STR;
    s->h.flags = 0;
    s->hash = 0;
    s->len = len;
    s->s[len] = '\0';
    return s;
}

ig_tmpl_val ig__tmpl_str_take(tstr *s) { return mkobjv(IG_TMPL_STR, s); }

ig_tmpl_val ig__tmpl_new_str(const char *p, size_t n)
{
    tstr *s = ig__tmpl_str_alloc(n);
    if (n) memcpy(s->s, p, n);
    return mkobjv(IG_TMPL_STR, s);
}

ig_tmpl_val ig_tmpl_strn(const char *s, size_t n) { return ig__tmpl_new_str(s ? s : "", s ? n : 0); }
ig_tmpl_val ig_tmpl_str(const char *s) { return ig_tmpl_strn(s, s ? strlen(s) : 0); }

const char *ig_tmpl_str_ptr(ig_tmpl_val v) { return v.type == IG_TMPL_STR ? STR(v)->s : ""; }
size_t ig_tmpl_str_len(ig_tmpl_val v) { return v.type == IG_TMPL_STR ? STR(v)->len : 0; }

ig_tmpl_val ig__tmpl_own(ig_tmpl_val v)
{
    if (has_obj(v) && v.u.o->refs < 0 && v.u.o->kind == OK_STR) {
        ig_tmpl_val c = ig__tmpl_new_str(STR(v)->s, STR(v)->len);
        c.type = v.type;
        c.aux = v.aux;
        return c;
    }
    return v;
}

/* ------------------------------------------------------------ ref counting */

ig_tmpl_val ig_tmpl_ref(ig_tmpl_val v)
{
    if (has_obj(v) && v.u.o->refs < 0) return ig__tmpl_own(v);
    incref(v);
    return v;
}

void ig_tmpl_unref(ig_tmpl_val v) { decref(v); }

/* Freeing is iterative: a container's children that die go on a pending
 * stack instead of being freed recursively, so a list nested a million deep
 * cannot overflow the C stack. */
static _Thread_local ig_tmpl_obj *pending_inl[64];
static _Thread_local ig_tmpl_obj **pending;
static _Thread_local size_t npending, cap_pending;
static _Thread_local bool freeing;

static void free_one(ig_tmpl_obj *o)
{
    switch (o->kind) {
    case OK_LIST: {
        tlist *l = (tlist *)o;
        for (size_t i = 0; i < l->len; i++) decref(l->items[i]);
        free(l->items);
        break;
    }
    case OK_DICT: {
        tdict *d = (tdict *)o;
        ig__tmpl_dict_clear(d);
        free(d->e);
        free(d->index);
        break;
    }
    case OK_FUNC: decref(((tfunc *)o)->self); break;
    case OK_MACRO: {
        tmacro *m = (tmacro *)o;
        if (m->module) decref(mkobjv(IG_TMPL_DICT, m->module));
        ig_tmpl_free(m->t);
        break;
    }
    case OK_OBJECT: {
        tobject *ob = (tobject *)o;
        if (ob->cls->free) ob->cls->free(ob->self);
        break;
    }
    default: break;
    }
    free(o);
}

void ig__tmpl_free_obj(ig_tmpl_obj *o)
{
    if (o->kind == OK_STR) { /* no children: the common case stays cheap */
        free(o);
        return;
    }
    if (!pending) {
        pending = pending_inl;
        cap_pending = sizeof pending_inl / sizeof pending_inl[0];
    }
    if (npending == cap_pending) {
        size_t cap = cap_pending * 2;
        ig_tmpl_obj **np = ig_malloc(cap * sizeof *np);
        memcpy(np, pending, npending * sizeof *np);
        if (pending != pending_inl) free(pending);
        pending = np;
        cap_pending = cap;
    }
    pending[npending++] = o;
    if (freeing) return;
    freeing = true;
    while (npending) free_one(pending[--npending]);
    freeing = false;
    if (pending != pending_inl) {
        free(pending);
        pending = pending_inl;
        cap_pending = sizeof pending_inl / sizeof pending_inl[0];
    }
}

/* ------------------------------------------------------------------ lists */

tlist *ig__tmpl_list_alloc(size_t cap)
{
    tlist *l = ig_malloc(sizeof *l);
    l->h.refs = 1;
    l->h.kind = OK_LIST;
    l->h.flags = 0;
    l->len = 0;
    l->cap = cap;
    l->items = cap ? ig_malloc(cap * sizeof(ig_tmpl_val)) : NULL;
    return l;
}

void ig__tmpl_list_push(tlist *l, ig_tmpl_val v)
{
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->items = ig_realloc(l->items, l->cap * sizeof(ig_tmpl_val));
    }
    l->items[l->len++] = v;
}

ig_tmpl_val ig__tmpl_list_from(const ig_tmpl_val *items, size_t n, bool tuple)
{
    tlist *l = ig__tmpl_list_alloc(n);
    for (size_t i = 0; i < n; i++) {
        ig_tmpl_val v = ig__tmpl_own(items[i]);
        if (v.u.o == items[i].u.o) incref(v);
        l->items[i] = v;
    }
    l->len = n;
    return mkobjv(tuple ? IG_TMPL_TUPLE : IG_TMPL_LIST, l);
}

ig_tmpl_val ig_tmpl_list_new(void) { return mkobjv(IG_TMPL_LIST, ig__tmpl_list_alloc(0)); }
ig_tmpl_val ig_tmpl_tuple_new(void) { return mkobjv(IG_TMPL_TUPLE, ig__tmpl_list_alloc(0)); }

size_t ig_tmpl_list_len(ig_tmpl_val v) { return is_seq(v) ? LIST(v)->len : 0; }

void ig_tmpl_list_append(ig_tmpl_val list, ig_tmpl_val item)
{
    if (!is_seq(list)) {
        decref(item);
        return;
    }
    ig__tmpl_list_push(LIST(list), ig__tmpl_own(item));
}

ig_tmpl_val ig_tmpl_list_get(ig_tmpl_val list, size_t i)
{
    if (!is_seq(list) || i >= LIST(list)->len) return mkundef();
    return LIST(list)->items[i];
}

/* ------------------------------------------------------------------ dicts */

tdict *ig__tmpl_dict_alloc(void)
{
    tdict *d = ig_calloc(1, sizeof *d);
    d->h.refs = 1;
    d->h.kind = OK_DICT;
    return d;
}

ig_tmpl_val ig_tmpl_dict_new(void) { return mkobjv(IG_TMPL_DICT, ig__tmpl_dict_alloc()); }

static _Thread_local int hash_depth;

bool ig__tmpl_hashable(ig_tmpl_val k)
{
    switch (k.type) {
    case IG_TMPL_NONE: case IG_TMPL_BOOL: case IG_TMPL_INT: case IG_TMPL_FLOAT: case IG_TMPL_STR:
    case IG_TMPL_FUNC: case IG_TMPL_MACRO: case IG_TMPL_OBJECT:
        return true;
    case IG_TMPL_TUPLE: {
        if (hash_depth > 100) return false; /* nested deeper than anyone means */
        bool ok = true;
        hash_depth++;
        for (size_t i = 0; i < LIST(k)->len && ok; i++) ok = ig__tmpl_hashable(LIST(k)->items[i]);
        hash_depth--;
        return ok;
    }
    default: return false;
    }
}

static uint32_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (uint32_t)x | 1;
}

uint32_t ig__tmpl_hash(ig_tmpl_val v)
{
    switch (v.type) {
    case IG_TMPL_NONE: return 0x9e3779b9u;
    case IG_TMPL_BOOL: return mix64((uint64_t)v.u.b);
    case IG_TMPL_INT: return mix64((uint64_t)v.u.i);
    case IG_TMPL_FLOAT:
        /* 1.0 and 1 are the same key, as in Python */
        if (v.u.f == floor(v.u.f) && fabs(v.u.f) < 9.2e18) return mix64((uint64_t)(int64_t)v.u.f);
        {
            uint64_t bits;
            memcpy(&bits, &v.u.f, sizeof bits);
            return mix64(bits);
        }
    case IG_TMPL_STR: return ig__tmpl_str_hash(STR(v));
    case IG_TMPL_TUPLE: {
        uint32_t h = 0x345678u;
        if (hash_depth > 100) return h;
        hash_depth++;
        for (size_t i = 0; i < LIST(v)->len; i++) h = (h ^ ig__tmpl_hash(LIST(v)->items[i])) * 1000003u;
        hash_depth--;
        return h | 1;
    }
    default: return mix64((uint64_t)(uintptr_t)v.u.o);
    }
}

static bool key_eq(ig_tmpl_val a, ig_tmpl_val b)
{
    if (a.type == IG_TMPL_STR && b.type == IG_TMPL_STR)
        return STR(a)->len == STR(b)->len && memcmp(STR(a)->s, STR(b)->s, STR(a)->len) == 0;
    return ig_tmpl_equal(a, b);
}

static void dict_reindex(tdict *d)
{
    /* compact away deleted slots, then rebuild the index */
    size_t j = 0;
    for (size_t i = 0; i < d->used; i++)
        if (d->e[i].key.type != IG_TMPL_UNDEFINED) d->e[j++] = d->e[i];
    d->used = j;
    if (d->cap <= 8) {
        free(d->index);
        d->index = NULL;
        d->isize = 0;
        return;
    }
    size_t is = 16;
    while (is < d->cap * 2) is *= 2;
    free(d->index);
    d->index = ig_calloc(is, sizeof(int32_t));
    d->isize = is;
    for (size_t i = 0; i < d->used; i++) {
        size_t p = d->e[i].hash & (is - 1);
        while (d->index[p]) p = (p + 1) & (is - 1);
        d->index[p] = (int32_t)i + 1;
    }
}

static long dict_lookup(tdict *d, ig_tmpl_val key, uint32_t h)
{
    if (!d->index) {
        for (size_t i = 0; i < d->used; i++)
            if (d->e[i].hash == h && d->e[i].key.type != IG_TMPL_UNDEFINED && key_eq(d->e[i].key, key))
                return (long)i;
        return -1;
    }
    size_t p = h & (d->isize - 1);
    while (d->index[p]) {
        dentry *e = &d->e[d->index[p] - 1];
        if (e->hash == h && e->key.type != IG_TMPL_UNDEFINED && key_eq(e->key, key))
            return d->index[p] - 1;
        p = (p + 1) & (d->isize - 1);
    }
    return -1;
}

ig_tmpl_val *ig__tmpl_dict_find(tdict *d, ig_tmpl_val key)
{
    if (!d->used) return NULL;
    long i = dict_lookup(d, key, ig__tmpl_hash(key));
    return i < 0 ? NULL : &d->e[i].val;
}

ig_tmpl_val *ig__tmpl_dict_find_str(tdict *d, const char *k, size_t n, uint32_t hash)
{
    if (!d->used) return NULL;
    if (!d->index) {
        for (size_t i = 0; i < d->used; i++) {
            dentry *e = &d->e[i];
            if (e->hash == hash && e->key.type == IG_TMPL_STR && STR(e->key)->len == n &&
                memcmp(STR(e->key)->s, k, n) == 0)
                return &e->val;
        }
        return NULL;
    }
    size_t p = hash & (d->isize - 1);
    while (d->index[p]) {
        dentry *e = &d->e[d->index[p] - 1];
        if (e->hash == hash && e->key.type == IG_TMPL_STR && STR(e->key)->len == n &&
            memcmp(STR(e->key)->s, k, n) == 0)
            return &e->val;
        p = (p + 1) & (d->isize - 1);
    }
    return NULL;
}

void ig__tmpl_dict_put(tdict *d, ig_tmpl_val key, ig_tmpl_val val)
{
    uint32_t h = ig__tmpl_hash(key);
    long i = d->used ? dict_lookup(d, key, h) : -1;
    val = ig__tmpl_own(val);
    if (i >= 0) {
        decref(d->e[i].val);
        d->e[i].val = val;
        return;
    }
    if (d->used == d->cap) {
        if (d->len < d->used / 2 && d->used > 8) {
            dict_reindex(d); /* mostly deleted slots: compact in place */
        } else {
            d->cap = d->cap ? d->cap * 2 : 4;
            d->e = ig_realloc(d->e, d->cap * sizeof(dentry));
            dict_reindex(d);
        }
    }
    ig_tmpl_val k = ig__tmpl_own(key);
    if (k.u.o == key.u.o) incref(k);
    dentry *e = &d->e[d->used];
    e->key = k;
    e->val = val;
    e->hash = h;
    if (d->index) {
        size_t p = h & (d->isize - 1);
        while (d->index[p]) p = (p + 1) & (d->isize - 1);
        d->index[p] = (int32_t)d->used + 1;
    }
    d->used++;
    d->len++;
}

bool ig__tmpl_dict_del(tdict *d, ig_tmpl_val key, ig_tmpl_val *old)
{
    if (!d->used) return false;
    long i = dict_lookup(d, key, ig__tmpl_hash(key));
    if (i < 0) return false;
    decref(d->e[i].key);
    d->e[i].key = mkundef();
    if (old)
        *old = d->e[i].val;
    else
        decref(d->e[i].val);
    d->e[i].val = mkundef();
    d->len--;
    return true;
}

void ig__tmpl_dict_clear(tdict *d)
{
    /* detach first: a value's free may look at this dict again */
    dentry *e = d->e;
    size_t used = d->used;
    d->e = NULL;
    d->used = d->len = d->cap = 0;
    free(d->index);
    d->index = NULL;
    d->isize = 0;
    for (size_t i = 0; i < used; i++) {
        decref(e[i].key);
        decref(e[i].val);
    }
    free(e);
}

size_t ig_tmpl_dict_len(ig_tmpl_val v) { return v.type == IG_TMPL_DICT ? DICT(v)->len : 0; }

void ig_tmpl_dict_setv(ig_tmpl_val dict, ig_tmpl_val key, ig_tmpl_val val)
{
    if (dict.type != IG_TMPL_DICT || !ig__tmpl_hashable(key)) {
        decref(key);
        decref(val);
        return;
    }
    ig__tmpl_dict_put(DICT(dict), key, val);
    decref(key);
}

void ig_tmpl_dict_set(ig_tmpl_val dict, const char *key, ig_tmpl_val val)
{
    ig_tmpl_dict_setv(dict, ig_tmpl_str(key), val);
}

ig_tmpl_val ig_tmpl_dict_get(ig_tmpl_val dict, const char *key)
{
    if (dict.type != IG_TMPL_DICT) return mkundef();
    size_t n = strlen(key);
    ig_tmpl_val *v = ig__tmpl_dict_find_str(DICT(dict), key, n, ig__tmpl_hash_bytes(key, n));
    return v ? *v : mkundef();
}

bool ig_tmpl_dict_entry(ig_tmpl_val dict, size_t i, ig_tmpl_val *key, ig_tmpl_val *val)
{
    if (dict.type != IG_TMPL_DICT) return false;
    tdict *d = DICT(dict);
    for (size_t j = 0; j < d->used; j++) {
        if (d->e[j].key.type == IG_TMPL_UNDEFINED) continue;
        if (i-- == 0) {
            if (key) *key = d->e[j].key;
            if (val) *val = d->e[j].val;
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------- functions, objects */

ig_tmpl_val ig_tmpl_func_new(const char *name, ig_tmpl_fn fn, void *ud)
{
    size_t n = strlen(name);
    tfunc *f = ig_malloc(sizeof(tfunc) + n + 1);
    f->h.refs = 1;
    f->h.kind = OK_FUNC;
    f->h.flags = 0;
    f->fn = fn;
    f->ud = ud;
    f->self = mkundef();
    memcpy(f->name, name, n + 1);
    return mkobjv(IG_TMPL_FUNC, f);
}

ig_tmpl_val ig__tmpl_bound(const char *name, ig_tmpl_fn fn, ig_tmpl_val self)
{
    ig_tmpl_val v = ig_tmpl_func_new(name, fn, NULL);
    FUNC(v)->self = ig_tmpl_ref(self);
    return v;
}

ig_tmpl_val ig_tmpl_object_new(const ig_tmpl_class *cls, void *self)
{
    tobject *o = ig_malloc(sizeof *o);
    o->h.refs = 1;
    o->h.kind = OK_OBJECT;
    o->h.flags = 0;
    o->cls = cls;
    o->self = self;
    return mkobjv(IG_TMPL_OBJECT, o);
}

void *ig_tmpl_object_self(ig_tmpl_val v, const ig_tmpl_class *cls)
{
    if (v.type != IG_TMPL_OBJECT || TOBJ(v)->cls != cls) return NULL;
    return TOBJ(v)->self;
}

/* ---------------------------------------------------------------- undefined */

ig_tmpl_val ig__tmpl_mkundef_name(tstr *name, uint32_t kind, const char *tname)
{
    ig_tmpl_val v = mkundef();
    v.aux = kind;
    if (tname) {
        /* "T object" goes after the name, separated by a NUL */
        size_t a = name->len, b = strlen(tname);
        tstr *s = ig__tmpl_str_alloc(a + 1 + b);
        memcpy(s->s, name->s, a);
        s->s[a] = '\0';
        memcpy(s->s + a + 1, tname, b);
        s->len = a; /* the type name hides after the terminator */
        v.u.o = &s->h;
        return v;
    }
    v.u.o = &name->h;
    incref(v);
    return v;
}

bool ig__tmpl_is_missing(ig_tmpl_val v)
{
    return v.type == IG_TMPL_UNDEFINED && v.aux == UNDEF_MISSING;
}

const char *ig__tmpl_undef_name(ig_tmpl_val v)
{
    return v.type == IG_TMPL_UNDEFINED && v.u.o ? STR(v)->s : NULL;
}

void ig__tmpl_undef_message(ig_tmpl_val v, ig_buf *out)
{
    const char *name = ig__tmpl_undef_name(v);
    if (!name) {
        ig_buf_puts(out, "value is undefined");
        return;
    }
    const char *tname = STR(v)->s + STR(v)->len + 1;
    switch (v.aux) {
    case UNDEF_ATTR: ig_buf_printf(out, "'%s' has no attribute '%s'", tname, name); break;
    case UNDEF_ELEM: ig_buf_printf(out, "%s object has no element %s", tname, name); break;
    case UNDEF_PARAM: ig_buf_printf(out, "parameter '%s' was not provided", name); break;
    default: ig_buf_printf(out, "'%s' is undefined", name); break;
    }
}

/* ------------------------------------------------------- truth, equality */

/* Cyclic containers (a list that holds itself) must not recurse forever:
 * comparisons give up past this depth, str/repr/JSON print "..." and stop
 * growing past REPR_MAX. Thread-local because a host str callback may
 * re-enter ig_tmpl_to_repr. */
#define MAX_NEST_CMP 200
#define REPR_MAX ((size_t)64 << 20)
static _Thread_local int cmp_depth, repr_nest;

bool ig_tmpl_truthy(ig_tmpl_val v)
{
    switch (v.type) {
    case IG_TMPL_UNDEFINED: case IG_TMPL_NONE: return false;
    case IG_TMPL_BOOL: return v.u.b;
    case IG_TMPL_INT: return v.u.i != 0;
    case IG_TMPL_FLOAT: return v.u.f != 0.0;
    case IG_TMPL_STR: return STR(v)->len > 0;
    case IG_TMPL_LIST: case IG_TMPL_TUPLE: return LIST(v)->len > 0;
    case IG_TMPL_DICT: return DICT(v)->len > 0;
    case IG_TMPL_OBJECT: return TOBJ(v)->cls->truth ? TOBJ(v)->cls->truth(TOBJ(v)->self) : true;
    default: return true;
    }
}

bool ig_tmpl_equal(ig_tmpl_val a, ig_tmpl_val b)
{
    if (is_num(a) && is_num(b)) {
        if (a.type == IG_TMPL_FLOAT || b.type == IG_TMPL_FLOAT) return num_f(a) == num_f(b);
        int64_t x = a.type == IG_TMPL_BOOL ? a.u.b : a.u.i;
        int64_t y = b.type == IG_TMPL_BOOL ? b.u.b : b.u.i;
        return x == y;
    }
    if (a.type != b.type) return false;
    switch (a.type) {
    case IG_TMPL_UNDEFINED: case IG_TMPL_NONE: return true;
    case IG_TMPL_STR:
        return STR(a)->len == STR(b)->len && memcmp(STR(a)->s, STR(b)->s, STR(a)->len) == 0;
    case IG_TMPL_LIST: case IG_TMPL_TUPLE: {
        tlist *x = LIST(a), *y = LIST(b);
        if (x == y) return true;
        if (x->len != y->len || cmp_depth > MAX_NEST_CMP) return false;
        bool eq = true;
        cmp_depth++;
        for (size_t i = 0; i < x->len && eq; i++) eq = ig_tmpl_equal(x->items[i], y->items[i]);
        cmp_depth--;
        return eq;
    }
    case IG_TMPL_DICT: {
        tdict *x = DICT(a), *y = DICT(b);
        if (x == y) return true;
        if (x->len != y->len || cmp_depth > MAX_NEST_CMP) return false;
        bool eq = true;
        cmp_depth++;
        for (size_t i = 0; i < x->used && eq; i++) {
            if (x->e[i].key.type == IG_TMPL_UNDEFINED) continue;
            ig_tmpl_val *o = ig__tmpl_dict_find(y, x->e[i].key);
            eq = o && ig_tmpl_equal(*o, x->e[i].val);
        }
        cmp_depth--;
        return eq;
    }
    case IG_TMPL_FUNC:
        if (FUNC(a)->fn == FUNC(b)->fn && FUNC(a)->ud == FUNC(b)->ud &&
            FUNC(a)->self.type == IG_TMPL_UNDEFINED && FUNC(b)->self.type == IG_TMPL_UNDEFINED)
            return true;
        return a.u.o == b.u.o;
    case IG_TMPL_MACRO: return a.u.o == b.u.o || (MACRO(a)->def == MACRO(b)->def && MACRO(a)->t == MACRO(b)->t);
    case IG_TMPL_OBJECT: return TOBJ(a)->self == TOBJ(b)->self && TOBJ(a)->cls == TOBJ(b)->cls;
    default: return false;
    }
}

int ig__tmpl_compare(ig_tmpl_val a, ig_tmpl_val b, bool *ok)
{
    *ok = true;
    if (is_num(a) && is_num(b)) {
        if (a.type == IG_TMPL_FLOAT || b.type == IG_TMPL_FLOAT) {
            double x = num_f(a), y = num_f(b);
            return x < y ? -1 : x > y ? 1 : 0;
        }
        int64_t x = a.type == IG_TMPL_BOOL ? a.u.b : a.u.i;
        int64_t y = b.type == IG_TMPL_BOOL ? b.u.b : b.u.i;
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.type == IG_TMPL_STR && b.type == IG_TMPL_STR) {
        size_t n = STR(a)->len < STR(b)->len ? STR(a)->len : STR(b)->len;
        int r = memcmp(STR(a)->s, STR(b)->s, n);
        if (r) return r < 0 ? -1 : 1;
        return STR(a)->len < STR(b)->len ? -1 : STR(a)->len > STR(b)->len ? 1 : 0;
    }
    if (a.type == b.type && is_seq(a)) {
        tlist *x = LIST(a), *y = LIST(b);
        if (cmp_depth > MAX_NEST_CMP) {
            *ok = false;
            return 0;
        }
        for (size_t i = 0; i < x->len && i < y->len; i++) {
            if (ig_tmpl_equal(x->items[i], y->items[i])) continue;
            cmp_depth++;
            int r = ig__tmpl_compare(x->items[i], y->items[i], ok);
            cmp_depth--;
            return r;
        }
        return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
    }
    *ok = false;
    return 0;
}

const char *ig_tmpl_type_name(ig_tmpl_val v)
{
    switch (v.type) {
    case IG_TMPL_UNDEFINED: return "Undefined";
    case IG_TMPL_NONE: return "NoneType";
    case IG_TMPL_BOOL: return "bool";
    case IG_TMPL_INT: return "int";
    case IG_TMPL_FLOAT: return "float";
    case IG_TMPL_STR: return "str";
    case IG_TMPL_LIST: return "list";
    case IG_TMPL_TUPLE: return "tuple";
    case IG_TMPL_DICT: return "dict";
    case IG_TMPL_FUNC: return FUNC(v)->self.type != IG_TMPL_UNDEFINED ? "builtin_function_or_method" : "function";
    case IG_TMPL_MACRO: return "Macro";
    case IG_TMPL_OBJECT: return TOBJ(v)->cls->name ? TOBJ(v)->cls->name : "object";
    default: return "object";
    }
}

/* ------------------------------------------------------------- str, repr */

void ig__tmpl_fmt_float(double f, ig_buf *out)
{
    if (isnan(f)) {
        ig_buf_puts(out, "nan");
        return;
    }
    if (isinf(f)) {
        ig_buf_puts(out, f < 0 ? "-inf" : "inf");
        return;
    }
    char buf[48];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, f);
        if (strtod(buf, NULL) == f) break;
    }
    /* buf: [-]d[.ddd]e[+-]xx */
    const char *p = buf;
    if (*p == '-') {
        ig_buf_putc(out, '-');
        p++;
    }
    char digits[24];
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[nd++] = *p;
    int exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    int decpt = exp10 + 1;
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            ig_buf_puts(out, "0.");
            for (int i = 0; i < -decpt; i++) ig_buf_putc(out, '0');
            ig_buf_append(out, digits, (size_t)nd);
        } else if (decpt >= nd) {
            ig_buf_append(out, digits, (size_t)nd);
            for (int i = nd; i < decpt; i++) ig_buf_putc(out, '0');
            ig_buf_puts(out, ".0");
        } else {
            ig_buf_append(out, digits, (size_t)decpt);
            ig_buf_putc(out, '.');
            ig_buf_append(out, digits + decpt, (size_t)(nd - decpt));
        }
    } else {
        ig_buf_putc(out, digits[0]);
        if (nd > 1) {
            ig_buf_putc(out, '.');
            ig_buf_append(out, digits + 1, (size_t)(nd - 1));
        }
        ig_buf_printf(out, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
}

void ig__tmpl_repr_str(const char *s, size_t n, ig_buf *out)
{
    bool sq = memchr(s, '\'', n) != NULL, dq = memchr(s, '"', n) != NULL;
    char q = sq && !dq ? '"' : '\'';
    ig_buf_putc(out, q);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[8];
        esc[0] = 0;
        if (ch == '\\') strcpy(esc, "\\\\");
        else if (ch == (unsigned char)q) snprintf(esc, sizeof esc, "\\%c", q);
        else if (ch == '\n') strcpy(esc, "\\n");
        else if (ch == '\r') strcpy(esc, "\\r");
        else if (ch == '\t') strcpy(esc, "\\t");
        else if (ch < 0x20 || ch == 0x7f) snprintf(esc, sizeof esc, "\\x%02x", ch);
        if (esc[0]) {
            ig_buf_append(out, s + start, i - start);
            ig_buf_puts(out, esc);
            start = i + 1;
        }
    }
    ig_buf_append(out, s + start, n - start);
    ig_buf_putc(out, q);
}

static void repr_depth(ig_tmpl_val v, ig_buf *out, int depth);

static void str_depth(ig_tmpl_val v, ig_buf *out, int depth)
{
    switch (v.type) {
    case IG_TMPL_UNDEFINED: break;
    case IG_TMPL_NONE: ig_buf_puts(out, "None"); break;
    case IG_TMPL_BOOL: ig_buf_puts(out, v.u.b ? "True" : "False"); break;
    case IG_TMPL_INT: ig_buf_printf(out, "%lld", (long long)v.u.i); break;
    case IG_TMPL_FLOAT: ig__tmpl_fmt_float(v.u.f, out); break;
    case IG_TMPL_STR: ig_buf_append(out, STR(v)->s, STR(v)->len); break;
    case IG_TMPL_FUNC:
        if (FUNC(v)->self.type != IG_TMPL_UNDEFINED)
            ig_buf_printf(out, "<built-in method %s of %s object>", FUNC(v)->name,
                          ig_tmpl_type_name(FUNC(v)->self));
        else
            ig_buf_printf(out, "<built-in function %s>", FUNC(v)->name);
        break;
    case IG_TMPL_MACRO: {
        tmacro *m = MACRO(v);
        ig_buf_printf(out, "<Macro '%s'>", m->is_caller ? "caller" : m->def->name->s);
        break;
    }
    case IG_TMPL_OBJECT:
        if (TOBJ(v)->cls->str) {
            int saved = repr_nest;
            repr_nest = depth + 1; /* the callback may print our values again */
            TOBJ(v)->cls->str(TOBJ(v)->self, out);
            repr_nest = saved;
        } else
            ig_buf_printf(out, "<%s object>", TOBJ(v)->cls->name ? TOBJ(v)->cls->name : "host");
        break;
    default: repr_depth(v, out, depth); break;
    }
}

static void repr_depth(ig_tmpl_val v, ig_buf *out, int depth)
{
    if (depth > 64 || out->len > REPR_MAX) {
        ig_buf_puts(out, "...");
        return;
    }
    switch (v.type) {
    case IG_TMPL_UNDEFINED: ig_buf_puts(out, "Undefined"); break;
    case IG_TMPL_STR: ig__tmpl_repr_str(STR(v)->s, STR(v)->len, out); break;
    case IG_TMPL_LIST: case IG_TMPL_TUPLE: {
        tlist *l = LIST(v);
        bool tup = v.type == IG_TMPL_TUPLE;
        ig_buf_putc(out, tup ? '(' : '[');
        for (size_t i = 0; i < l->len; i++) {
            if (i) ig_buf_puts(out, ", ");
            repr_depth(l->items[i], out, depth + 1);
        }
        if (tup && l->len == 1) ig_buf_putc(out, ',');
        ig_buf_putc(out, tup ? ')' : ']');
        break;
    }
    case IG_TMPL_DICT: {
        tdict *d = DICT(v);
        ig_buf_putc(out, '{');
        bool first = true;
        for (size_t i = 0; i < d->used; i++) {
            if (d->e[i].key.type == IG_TMPL_UNDEFINED) continue;
            if (!first) ig_buf_puts(out, ", ");
            first = false;
            repr_depth(d->e[i].key, out, depth + 1);
            ig_buf_puts(out, ": ");
            repr_depth(d->e[i].val, out, depth + 1);
        }
        ig_buf_putc(out, '}');
        break;
    }
    default: str_depth(v, out, depth); break;
    }
}

void ig_tmpl_to_str(ig_tmpl_val v, ig_buf *out) { str_depth(v, out, repr_nest); }
void ig_tmpl_to_repr(ig_tmpl_val v, ig_buf *out) { repr_depth(v, out, repr_nest); }

/* ------------------------------------------------------------------- JSON */

static void json_str(const char *s, size_t n, ig_buf *out)
{
    /* Python's json.dumps: ensure_ascii, so everything past ASCII is \uXXXX */
    ig_buf_putc(out, '"');
    for (size_t i = 0; i < n;) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x80) {
            switch (ch) {
            case '"': ig_buf_puts(out, "\\\""); break;
            case '\\': ig_buf_puts(out, "\\\\"); break;
            case '\n': ig_buf_puts(out, "\\n"); break;
            case '\r': ig_buf_puts(out, "\\r"); break;
            case '\t': ig_buf_puts(out, "\\t"); break;
            case '\b': ig_buf_puts(out, "\\b"); break;
            case '\f': ig_buf_puts(out, "\\f"); break;
            default:
                if (ch < 0x20 || ch == 0x7f)
                    ig_buf_printf(out, "\\u%04x", ch);
                else
                    ig_buf_putc(out, (char)ch);
            }
            i++;
            continue;
        }
        size_t len = ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : ch >= 0xC0 ? 2 : 1;
        unsigned cp = 0xFFFD;
        if (len > 1 && i + len <= n) {
            cp = ch & (0x3F >> (len - 1));
            for (size_t k = 1; k < len; k++) cp = (cp << 6) | ((unsigned char)s[i + k] & 0x3F);
        } else {
            len = 1;
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            ig_buf_printf(out, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
        } else {
            ig_buf_printf(out, "\\u%04x", cp);
        }
        i += len;
    }
    ig_buf_putc(out, '"');
}

static void json_nl(ig_buf *out, int indent, int level)
{
    ig_buf_putc(out, '\n');
    for (int i = 0; i < indent * level; i++) ig_buf_putc(out, ' ');
}

static int key_cmp(const void *x, const void *y)
{
    const dentry *a = *(const dentry *const *)x, *b = *(const dentry *const *)y;
    bool ok;
    int r = ig__tmpl_compare(a->key, b->key, &ok);
    return ok ? r : (int)a->key.type - (int)b->key.type;
}

static int json_depth(ig_tmpl_val v, ig_buf *out, bool sort, int indent, int level)
{
    if (level > 64 || out->len > REPR_MAX) return -1;
    switch (v.type) {
    case IG_TMPL_NONE: ig_buf_puts(out, "null"); return 0;
    case IG_TMPL_BOOL: ig_buf_puts(out, v.u.b ? "true" : "false"); return 0;
    case IG_TMPL_INT: ig_buf_printf(out, "%lld", (long long)v.u.i); return 0;
    case IG_TMPL_FLOAT:
        if (isnan(v.u.f)) ig_buf_puts(out, "NaN");
        else if (isinf(v.u.f)) ig_buf_puts(out, v.u.f < 0 ? "-Infinity" : "Infinity");
        else ig__tmpl_fmt_float(v.u.f, out);
        return 0;
    case IG_TMPL_STR: json_str(STR(v)->s, STR(v)->len, out); return 0;
    case IG_TMPL_LIST: case IG_TMPL_TUPLE: {
        tlist *l = LIST(v);
        ig_buf_putc(out, '[');
        for (size_t i = 0; i < l->len; i++) {
            if (i) ig_buf_puts(out, indent >= 0 ? "," : ", ");
            if (indent >= 0) json_nl(out, indent, level + 1);
            if (json_depth(l->items[i], out, sort, indent, level + 1)) return -1;
        }
        if (indent >= 0 && l->len) json_nl(out, indent, level);
        ig_buf_putc(out, ']');
        return 0;
    }
    case IG_TMPL_DICT: {
        tdict *d = DICT(v);
        const dentry **es = ig_malloc((d->len + 1) * sizeof *es);
        size_t n = 0;
        for (size_t i = 0; i < d->used; i++)
            if (d->e[i].key.type != IG_TMPL_UNDEFINED) es[n++] = &d->e[i];
        if (sort) qsort(es, n, sizeof *es, key_cmp);
        ig_buf_putc(out, '{');
        int rc = 0;
        for (size_t i = 0; i < n && !rc; i++) {
            if (i) ig_buf_puts(out, indent >= 0 ? "," : ", ");
            if (indent >= 0) json_nl(out, indent, level + 1);
            ig_tmpl_val k = es[i]->key;
            if (k.type == IG_TMPL_STR) {
                json_str(STR(k)->s, STR(k)->len, out);
            } else if (k.type == IG_TMPL_NONE || k.type == IG_TMPL_BOOL || k.type == IG_TMPL_INT ||
                       k.type == IG_TMPL_FLOAT) {
                ig_buf_putc(out, '"');
                json_depth(k, out, sort, indent, level + 1);
                ig_buf_putc(out, '"');
            } else {
                rc = -1;
                break;
            }
            ig_buf_puts(out, ": ");
            rc = json_depth(es[i]->val, out, sort, indent, level + 1);
        }
        free(es);
        if (rc) return rc;
        if (indent >= 0 && n) json_nl(out, indent, level);
        ig_buf_putc(out, '}');
        return 0;
    }
    case IG_TMPL_OBJECT:
        if (TOBJ(v)->cls->str) {
            ig_buf tmp = IG_BUF_INIT;
            TOBJ(v)->cls->str(TOBJ(v)->self, &tmp);
            json_str(ig_buf_cstr(&tmp), tmp.len, out);
            ig_buf_free(&tmp);
            return 0;
        }
        return -1;
    default: return -1;
    }
}

int ig_tmpl_to_json(ig_tmpl_val v, ig_buf *out, bool sort_keys, int indent)
{
    return json_depth(v, out, sort_keys, indent, 0);
}

/* ------------------------------------------------------------ case mapping */

/* Lower/upper case of a code point for ASCII, Latin-1, Latin Extended-A,
 * Greek and Cyrillic: what names and SQL identifiers meet in practice. */
static unsigned cp_lower(unsigned c)
{
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;
    if (c >= 0x100 && c <= 0x17F) {
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
        if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F) return c;
        return (c & 1) ? c : c + 1;
    }
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
    if (c >= 0x410 && c <= 0x42F) return c + 32;
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    return c;
}

static unsigned cp_upper(unsigned c)
{
    if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
    if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
    if (c >= 0x100 && c <= 0x17F) {
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c : c - 1;
        if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F) return c;
        return (c & 1) ? c - 1 : c;
    }
    if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;
    if (c == 0x3C2) return 0x3A3;
    if (c >= 0x430 && c <= 0x44F) return c - 32;
    if (c >= 0x450 && c <= 0x45F) return c - 80;
    return c;
}

static bool cp_alpha(unsigned c)
{
    if (c < 0x80) return (c | 32) >= 'a' && (c | 32) <= 'z';
    return cp_lower(c) != c || cp_upper(c) != c || (c >= 0xAA && c != 0xD7 && c != 0xF7);
}

static size_t dec(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (len == 1 || len > n) {
        *cp = 0xFFFFFFFF; /* not UTF-8: copied as is */
        return 1;
    }
    unsigned v = c & (0x3F >> (len - 1));
    for (size_t i = 1; i < len; i++) v = (v << 6) | (s[i] & 0x3F);
    *cp = v;
    return len;
}


ig_tmpl_val ig__tmpl_case(const char *s, size_t n, int mode)
{
    ig_buf b = IG_BUF_INIT;
    const unsigned char *p = (const unsigned char *)s;
    bool start = true;
    for (size_t i = 0; i < n;) {
        unsigned cp;
        size_t len = dec(p + i, n - i, &cp);
        if (cp == 0xFFFFFFFF) {
            ig_buf_append(&b, s + i, len);
            i += len;
            start = true;
            continue;
        }
        unsigned o = cp;
        switch (mode) {
        case CASE_LOWER: o = cp_lower(cp); break;
        case CASE_UPPER: o = cp_upper(cp); break;
        case CASE_CAPITALIZE: o = i == 0 ? cp_upper(cp) : cp_lower(cp); break;
        case CASE_SWAP: o = cp_lower(cp) != cp ? cp_lower(cp) : cp_upper(cp); break;
        case CASE_TITLE: /* Python: a cased letter after an uncased one starts a word */
            o = start ? cp_upper(cp) : cp_lower(cp);
            start = !cp_alpha(cp);
            break;
        case CASE_TITLE_JINJA: /* Jinja's title filter: words split at space and -({[< */
            o = start ? cp_upper(cp) : cp_lower(cp);
            start = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '-' || cp == '(' ||
                    cp == '{' || cp == '[' || cp == '<';
            break;
        }
        ig_utf8_put(&b, o);
        i += len;
    }
    ig_tmpl_val v = ig__tmpl_new_str(ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    return v;
}

int ig__tmpl_case_kind(const char *s, size_t n)
{
    /* bit 1: has a lower-case letter, bit 2: has an upper-case letter */
    int k = 0;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned cp;
        i += dec(p + i, n - i, &cp);
        if (cp == 0xFFFFFFFF) continue;
        if (cp_upper(cp) != cp) k |= 1;
        if (cp_lower(cp) != cp) k |= 2;
    }
    return k;
}
