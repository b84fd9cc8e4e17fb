/* The evaluator: walks the syntax tree of a template with a render's state
 * (ig_tmpl_call) and writes text to the current output buffer. Expressions
 * evaluate to new references; statements return 0, an error code, or one of
 * the internal unwinding codes (RC_BREAK, RC_CONTINUE, RC_RETURN) that the
 * enclosing loop or macro call catches, so control flow needs no longjmp.
 *
 * Scoping follows Jinja: a for-loop iteration, a macro call, a call-block
 * body, a with/filter/set block each get a frame; `if` does not. Names
 * resolve through the frames, then the module (the template's top-level
 * variables and macros), the render's context, the environment's globals,
 * the host's resolver, else they are undefined. */
#include "tmpl_int.h"

#include "core/mem.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EVAL_DEPTH 3000 /* nested evaluations across macro calls: bounds the C stack */

static ig_rc eval(ig_tmpl_call *c, const node *n, ig_tmpl_val *out);
static ig_rc exec_body(ig_tmpl_call *c, node *const *body, int n);
static ig_rc call_macro(ig_tmpl_call *c, tmacro *m, const ig_tmpl_args *a, ig_tmpl_val *out);

/* ---------------------------------------------------------------- errors */

ig_rc ig__tmpl_fail_at(ig_tmpl_call *c, const node *n, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ig_verr(c->err, code, fmt, ap);
    va_end(ap);
    if (n) ig__tmpl_err_pos(c->err, c->tmpl, n->line, n->col);
    return code;
}

ig_rc ig_tmpl_fail(ig_tmpl_call *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ig_verr(c->err, IG_ERR_TEMPLATE, fmt, ap);
    va_end(ap);
    return IG_ERR_TEMPLATE;
}

ig_error *ig_tmpl_call_error(ig_tmpl_call *c) { return c->err; }

/* Give an error without a position the position of node n. */
static ig_rc at(ig_tmpl_call *c, const node *n, ig_rc rc)
{
    if (rc > 0 && c->err->line == 0 && c->tmpl)
        ig__tmpl_err_pos(c->err, c->tmpl, n->line, n->col);
    return rc;
}

ig_rc ig__tmpl_undef_error(ig_tmpl_call *c, ig_tmpl_val u)
{
    ig_buf b = IG_BUF_INIT;
    ig__tmpl_undef_message(u, &b);
    ig_err(c->err, IG_ERR_TEMPLATE, "%s", ig_buf_cstr(&b));
    ig_buf_free(&b);
    return IG_ERR_TEMPLATE;
}

ig_rc ig__tmpl_str_check(ig_tmpl_call *c, size_t len)
{
    if (len > c->env->lim.max_output)
        return ig_err(c->err, IG_ERR_LIMIT, "string of %zu bytes exceeds the limit of %zu bytes",
                      len, c->env->lim.max_output);
    return 0;
}

ig_rc ig__tmpl_items_check(ig_tmpl_call *c, size_t n)
{
    if (n > c->env->lim.max_items)
        return ig_err(c->err, IG_ERR_LIMIT, "%zu items exceed the limit of %zu items", n,
                      c->env->lim.max_items);
    return 0;
}

static ig_rc emit(ig_tmpl_call *c, const char *s, size_t n)
{
    if (n > c->env->lim.max_output - (c->out->len < c->env->lim.max_output ? c->out->len : c->env->lim.max_output) ||
        ig_buf_append(c->out, s, n))
        return ig_err(c->err, IG_ERR_LIMIT, "output exceeds the limit of %zu bytes",
                      c->env->lim.max_output);
    return 0;
}

/* ---------------------------------------------------------------- frames */

static void frame_init(frame *f, frame *parent)
{
    f->parent = parent;
    f->dict = NULL;
    f->n = 0;
    f->cap = (int)(sizeof f->inl / sizeof f->inl[0]);
    f->vars = f->inl;
    f->closures = NULL;
}

static void frame_clear(frame *f)
{
    for (tmacro *m = f->closures; m;) {
        tmacro *next = m->next_closure;
        m->closure = NULL;
        m->next_closure = NULL;
        decref(mkobjv(IG_TMPL_MACRO, m));
        m = next;
    }
    f->closures = NULL;
    for (int i = 0; i < f->n; i++) decref(f->vars[i].v);
    f->n = 0;
}

static void frame_done(frame *f)
{
    frame_clear(f);
    if (f->vars != f->inl) free(f->vars);
}

static bool name_eq(tstr *a, tstr *b)
{
    return a == b || (ig__tmpl_str_hash(a) == ig__tmpl_str_hash(b) && a->len == b->len &&
                      memcmp(a->s, b->s, a->len) == 0);
}

/* store v (stolen) under name in the innermost frame */
static void store(ig_tmpl_call *c, tstr *name, ig_tmpl_val v)
{
    frame *f = c->frame;
    v = ig__tmpl_own(v);
    if (f->dict) {
        ig__tmpl_dict_put(f->dict, mkobjv(IG_TMPL_STR, name), v);
        return;
    }
    for (int i = 0; i < f->n; i++)
        if (name_eq(f->vars[i].name, name)) {
            decref(f->vars[i].v);
            f->vars[i].v = v;
            return;
        }
    if (f->n == f->cap) {
        int cap = f->cap * 2;
        fvar *nv = ig_malloc((size_t)cap * sizeof(fvar));
        memcpy(nv, f->vars, (size_t)f->n * sizeof(fvar));
        if (f->vars != f->inl) free(f->vars);
        f->vars = nv;
        f->cap = cap;
    }
    f->vars[f->n].name = name;
    f->vars[f->n].v = v;
    f->n++;
}

static ig_tmpl_val *dict_find_name(tdict *d, tstr *name)
{
    return ig__tmpl_dict_find_str(d, name->s, name->len, ig__tmpl_str_hash(name));
}

ig_tmpl_val ig__tmpl_macro_new(ig_tmpl *t, const node *def, tdict *module)
{
    tmacro *m = ig_calloc(1, sizeof *m);
    m->h.refs = 1;
    m->h.kind = OK_MACRO;
    m->t = ig__tmpl_retain(t);
    m->def = def;
    m->module = module;
    if (module) incref(mkobjv(IG_TMPL_DICT, module));
    return mkobjv(IG_TMPL_MACRO, m);
}

/* Resolve a name; *out is a new reference, undefined when not found. */
static ig_rc lookup(ig_tmpl_call *c, tstr *name, ig_tmpl_val *out)
{
    for (frame *f = c->frame; f; f = f->parent) {
        if (f->dict) {
            ig_tmpl_val *v = dict_find_name(f->dict, name);
            if (v) {
                *out = *v;
                incref(*out);
                return 0;
            }
            continue;
        }
        for (int i = f->n - 1; i >= 0; i--)
            if (name_eq(f->vars[i].name, name)) {
                *out = f->vars[i].v;
                incref(*out);
                return 0;
            }
    }
    if (c->module) {
        ig_tmpl_val *v = dict_find_name(c->module, name);
        if (v) {
            *out = *v;
            incref(*out);
            return 0;
        }
    }
    if (c->tmpl)
        for (int i = 0; i < c->tmpl->nmacros; i++)
            if (name_eq(c->tmpl->macros[i]->name, name)) {
                *out = ig__tmpl_macro_new((ig_tmpl *)c->tmpl, c->tmpl->macros[i], c->module);
                return 0;
            }
    if (c->ctx.type == IG_TMPL_DICT) {
        ig_tmpl_val *v = dict_find_name(DICT(c->ctx), name);
        if (v) {
            *out = *v;
            incref(*out);
            return 0;
        }
    }
    ig_tmpl_val *g = dict_find_name(c->env->globals, name);
    if (g) {
        *out = *g;
        incref(*out);
        return 0;
    }
    if (c->env->resolver) {
        *out = mkundef();
        ig_rc rc = c->env->resolver(c, c->env->resolver_ud, name->s, out);
        if (rc || out->type != IG_TMPL_UNDEFINED) return rc;
    }
    *out = ig__tmpl_mkundef_name(name, UNDEF_NAME, NULL);
    return 0;
}

ig_rc ig_tmpl_call_lookup(ig_tmpl_call *c, const char *name, ig_tmpl_val *out)
{
    size_t n = strlen(name);
    tstr *s = ig__tmpl_str_alloc(n);
    memcpy(s->s, name, n);
    ig_rc rc = lookup(c, s, out);
    if (!rc && out->type == IG_TMPL_UNDEFINED) {
        decref(*out);
        *out = mkundef();
    }
    decref(mkobjv(IG_TMPL_STR, s));
    return rc;
}

/* ----------------------------------------------------------- conversions */

ig_rc ig__tmpl_to_strv(ig_tmpl_call *c, ig_tmpl_val v, ig_tmpl_val *out)
{
    if (v.type == IG_TMPL_STR) {
        *out = v;
        incref(v);
        return 0;
    }
    if (v.type == IG_TMPL_UNDEFINED && c->env->strict) return ig__tmpl_undef_error(c, v);
    ig_buf b = IG_BUF_INIT;
    ig_tmpl_to_str(v, &b);
    *out = ig__tmpl_new_str(ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    return 0;
}

static ig_tmpl_val chars_of(const char *s, size_t n)
{
    tlist *l = ig__tmpl_list_alloc(n);
    for (size_t i = 0; i < n;) {
        unsigned char ch = (unsigned char)s[i];
        size_t len = ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : ch >= 0xC0 ? 2 : 1;
        if (i + len > n) len = n - i;
        l->items[l->len++] = ig__tmpl_new_str(s + i, len);
        i += len;
    }
    return mkobjv(IG_TMPL_LIST, l);
}

ig_rc ig__tmpl_iter(ig_tmpl_call *c, ig_tmpl_val v, ig_tmpl_val *out)
{
    switch (v.type) {
    case IG_TMPL_LIST: case IG_TMPL_TUPLE:
        *out = ig__tmpl_list_from(LIST(v)->items, LIST(v)->len, false);
        return 0;
    case IG_TMPL_DICT: {
        tdict *d = DICT(v);
        tlist *l = ig__tmpl_list_alloc(d->len);
        for (size_t i = 0; i < d->used; i++)
            if (d->e[i].key.type != IG_TMPL_UNDEFINED) {
                incref(d->e[i].key);
                l->items[l->len++] = d->e[i].key;
            }
        *out = mkobjv(IG_TMPL_LIST, l);
        return 0;
    }
    case IG_TMPL_STR: *out = chars_of(STR(v)->s, STR(v)->len); return 0;
    case IG_TMPL_UNDEFINED:
        if (c->env->strict) return ig__tmpl_undef_error(c, v);
        *out = ig_tmpl_list_new();
        return 0;
    case IG_TMPL_OBJECT:
        if (TOBJ(v)->cls->iter) {
            *out = mkundef();
            ig_rc rc = TOBJ(v)->cls->iter(c, TOBJ(v)->self, out);
            if (rc) return rc;
            if (!is_seq(*out)) {
                ig_tmpl_val l;
                rc = ig__tmpl_iter(c, *out, &l);
                decref(*out);
                *out = l;
                return rc;
            }
            return 0;
        }
        break;
    default: break;
    }
    return ig_tmpl_fail(c, "'%s' object is not iterable", ig_tmpl_type_name(v));
}

/* ---------------------------------------------------------------- access */

static const char *type_repr(ig_tmpl_val v, char *buf, size_t n)
{
    if (v.type == IG_TMPL_NONE) return "None";
    snprintf(buf, n, "%s object", ig_tmpl_type_name(v));
    return buf;
}

static ig_tmpl_val undef_attr(ig_tmpl_val obj, tstr *name)
{
    char buf[128];
    return ig__tmpl_mkundef_name(name, UNDEF_ATTR, type_repr(obj, buf, sizeof buf));
}

static ig_tmpl_val undef_key(ig_tmpl_val obj, ig_tmpl_val key)
{
    char buf[128];
    if (key.type == IG_TMPL_STR) return undef_attr(obj, STR(key));
    ig_buf b = IG_BUF_INIT;
    ig_tmpl_to_repr(key, &b);
    tstr *s = ig__tmpl_str_alloc(b.len);
    memcpy(s->s, ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    ig_tmpl_val u = ig__tmpl_mkundef_name(s, UNDEF_ELEM, type_repr(obj, buf, sizeof buf));
    decref(mkobjv(IG_TMPL_STR, s));
    return u;
}

static ig_rc macro_attr(tmacro *m, tstr *name, ig_tmpl_val *out)
{
    const node *d = m->def;
    if (!strcmp(name->s, "name")) {
        *out = m->is_caller ? ig_tmpl_str("caller") : ig_tmpl_str(d->name->s);
    } else if (!strcmp(name->s, "arguments")) {
        tlist *l = ig__tmpl_list_alloc((size_t)d->nkids);
        for (int i = 0; i < d->nkids; i++) l->items[l->len++] = ig_tmpl_str(d->kids[i]->name->s);
        *out = mkobjv(IG_TMPL_TUPLE, l);
    } else if (!strcmp(name->s, "catch_kwargs")) {
        *out = mkbool(d->flags & NF_KWARGS);
    } else if (!strcmp(name->s, "catch_varargs")) {
        *out = mkbool(d->flags & NF_VARARGS);
    } else if (!strcmp(name->s, "caller")) {
        *out = mkbool(d->flags & NF_CALLER);
    }
    return 0;
}

ig_rc ig__tmpl_getattr(ig_tmpl_call *c, ig_tmpl_val obj, tstr *name, ig_tmpl_val *out)
{
    *out = mkundef();
    switch (obj.type) {
    case IG_TMPL_UNDEFINED: return ig__tmpl_undef_error(c, obj);
    case IG_TMPL_STR: case IG_TMPL_LIST: case IG_TMPL_TUPLE: case IG_TMPL_DICT: {
        ig_tmpl_fn fn = ig__tmpl_method(obj, name->s);
        if (fn) {
            *out = ig__tmpl_bound(name->s, fn, obj);
            return 0;
        }
        if (obj.type == IG_TMPL_DICT) {
            ig_tmpl_val *v = dict_find_name(DICT(obj), name);
            if (v) {
                *out = *v;
                incref(*out);
                return 0;
            }
        }
        break;
    }
    case IG_TMPL_MACRO: macro_attr(MACRO(obj), name, out); break;
    case IG_TMPL_OBJECT: {
        tobject *o = TOBJ(obj);
        ig_tmpl_fn fn = ig__tmpl_method(obj, name->s);
        if (fn) {
            *out = ig__tmpl_bound(name->s, fn, obj);
            return 0;
        }
        if (o->cls->getattr) {
            ig_rc rc = o->cls->getattr(c, o->self, name->s, out);
            if (rc) return rc;
        }
        if (out->type == IG_TMPL_UNDEFINED && o->cls->getitem) {
            decref(*out);
            *out = mkundef();
            ig_rc rc = o->cls->getitem(c, o->self, mkobjv(IG_TMPL_STR, name), out);
            if (rc) return rc;
        }
        if (out->type == IG_TMPL_UNDEFINED && out->u.o) return 0; /* the host's own message */
        break;
    }
    default: break;
    }
    if (out->type == IG_TMPL_UNDEFINED) *out = undef_attr(obj, name);
    return 0;
}

static bool as_index(ig_tmpl_val k, int64_t *i)
{
    if (k.type == IG_TMPL_INT) *i = k.u.i;
    else if (k.type == IG_TMPL_BOOL) *i = k.u.b;
    else return false;
    return true;
}

/* Python slice indices for length len */
static void slice_bounds(int64_t len, ig_tmpl_val start, ig_tmpl_val stop, int64_t step,
                         int64_t *lo, int64_t *hi)
{
    int64_t s, e;
    if (step > 0) {
        s = 0;
        e = len;
    } else {
        s = len - 1;
        e = -1;
    }
    int64_t v;
    if (as_index(start, &v)) {
        if (v < 0) v += len;
        if (step > 0) s = v < 0 ? 0 : v > len ? len : v;
        else s = v < 0 ? -1 : v >= len ? len - 1 : v;
    }
    if (as_index(stop, &v)) {
        if (v < 0) v += len;
        if (step > 0) e = v < 0 ? 0 : v > len ? len : v;
        else e = v < -1 ? -1 : v >= len ? len - 1 : v;
    }
    *lo = s;
    *hi = e;
}

static ig_rc do_slice(ig_tmpl_call *c, ig_tmpl_val obj, ig_tmpl_val start, ig_tmpl_val stop,
                      ig_tmpl_val stepv, ig_tmpl_val *out)
{
    int64_t step = 1;
    if (stepv.type != IG_TMPL_NONE && stepv.type != IG_TMPL_UNDEFINED && !as_index(stepv, &step))
        return ig_tmpl_fail(c, "slice indices must be integers or None");
    if (step == 0) return ig_tmpl_fail(c, "slice step cannot be zero");
    for (int k = 0; k < 2; k++) {
        ig_tmpl_val x = k ? stop : start;
        int64_t dummy;
        if (x.type != IG_TMPL_NONE && x.type != IG_TMPL_UNDEFINED && !as_index(x, &dummy))
            return ig_tmpl_fail(c, "slice indices must be integers or None");
    }
    if (obj.type == IG_TMPL_STR) {
        /* by code point */
        ig_tmpl_val chars = chars_of(STR(obj)->s, STR(obj)->len);
        tlist *l = LIST(chars);
        int64_t lo, hi;
        slice_bounds((int64_t)l->len, start, stop, step, &lo, &hi);
        ig_buf b = IG_BUF_INIT;
        for (int64_t i = lo; step > 0 ? i < hi : i > hi; i += step)
            ig_buf_append(&b, STR(l->items[i])->s, STR(l->items[i])->len);
        *out = ig__tmpl_new_str(ig_buf_cstr(&b), b.len);
        ig_buf_free(&b);
        decref(chars);
        return 0;
    }
    if (is_seq(obj)) {
        tlist *l = LIST(obj);
        int64_t lo, hi;
        slice_bounds((int64_t)l->len, start, stop, step, &lo, &hi);
        tlist *r = ig__tmpl_list_alloc(0);
        for (int64_t i = lo; step > 0 ? i < hi : i > hi; i += step) {
            incref(l->items[i]);
            ig__tmpl_list_push(r, l->items[i]);
        }
        *out = mkobjv(obj.type, r);
        return 0;
    }
    if (obj.type == IG_TMPL_UNDEFINED) return ig__tmpl_undef_error(c, obj);
    return ig_tmpl_fail(c, "'%s' object is not subscriptable", ig_tmpl_type_name(obj));
}

ig_rc ig__tmpl_getitem(ig_tmpl_call *c, ig_tmpl_val obj, ig_tmpl_val key, ig_tmpl_val *out)
{
    *out = mkundef();
    int64_t i;
    switch (obj.type) {
    case IG_TMPL_UNDEFINED: return ig__tmpl_undef_error(c, obj);
    case IG_TMPL_LIST: case IG_TMPL_TUPLE:
        if (as_index(key, &i)) {
            int64_t len = (int64_t)LIST(obj)->len;
            if (i < 0) i += len;
            if (i >= 0 && i < len) {
                *out = LIST(obj)->items[i];
                incref(*out);
                return 0;
            }
        }
        break;
    case IG_TMPL_STR:
        if (as_index(key, &i)) {
            ig_tmpl_val chars = chars_of(STR(obj)->s, STR(obj)->len);
            int64_t len = (int64_t)LIST(chars)->len;
            if (i < 0) i += len;
            if (i >= 0 && i < len) {
                *out = LIST(chars)->items[i];
                incref(*out);
            }
            decref(chars);
            if (out->type != IG_TMPL_UNDEFINED) return 0;
        }
        break;
    case IG_TMPL_DICT:
        if (ig__tmpl_hashable(key)) {
            ig_tmpl_val *v = ig__tmpl_dict_find(DICT(obj), key);
            if (v) {
                *out = *v;
                incref(*out);
                return 0;
            }
        }
        break;
    case IG_TMPL_OBJECT: {
        tobject *o = TOBJ(obj);
        if (o->cls->getitem) {
            ig_rc rc = o->cls->getitem(c, o->self, key, out);
            if (rc) return rc;
            if (out->type != IG_TMPL_UNDEFINED) return 0;
        }
        break;
    }
    default: break;
    }
    if (key.type == IG_TMPL_STR) {
        decref(*out);
        return ig__tmpl_getattr(c, obj, STR(key), out);
    }
    decref(*out);
    *out = undef_key(obj, key);
    return 0;
}

/* ------------------------------------------------------------ arithmetic */

static ig_rc type_error(ig_tmpl_call *c, const char *op, ig_tmpl_val a, ig_tmpl_val b)
{
    if (a.type == IG_TMPL_UNDEFINED) return ig__tmpl_undef_error(c, a);
    if (b.type == IG_TMPL_UNDEFINED) return ig__tmpl_undef_error(c, b);
    if (!strcmp(op, "+") && (a.type == IG_TMPL_STR || is_seq(a)))
        return ig_tmpl_fail(c, "can only concatenate %s (not \"%s\") to %s", ig_tmpl_type_name(a),
                            ig_tmpl_type_name(b), ig_tmpl_type_name(a));
    return ig_tmpl_fail(c, "unsupported operand type(s) for %s: '%s' and '%s'", op,
                        ig_tmpl_type_name(a), ig_tmpl_type_name(b));
}

static int64_t ival(ig_tmpl_val v) { return v.type == IG_TMPL_BOOL ? v.u.b : v.u.i; }
static bool is_intlike(ig_tmpl_val v) { return v.type == IG_TMPL_INT || v.type == IG_TMPL_BOOL; }

static ig_rc repeat(ig_tmpl_call *c, ig_tmpl_val seq, int64_t times, ig_tmpl_val *out)
{
    if (times < 0) times = 0;
    if (seq.type == IG_TMPL_STR) {
        size_t len = STR(seq)->len;
        if (len && (uint64_t)times > c->env->lim.max_output / len)
            return ig__tmpl_str_check(c, c->env->lim.max_output + 1);
        tstr *s = ig__tmpl_str_alloc(len * (size_t)times);
        for (int64_t i = 0; i < times; i++) memcpy(s->s + (size_t)i * len, STR(seq)->s, len);
        *out = mkobjv(IG_TMPL_STR, s);
        return 0;
    }
    tlist *l = LIST(seq);
    if (l->len && (uint64_t)times > c->env->lim.max_items / l->len)
        return ig__tmpl_items_check(c, c->env->lim.max_items + 1);
    tlist *r = ig__tmpl_list_alloc(l->len * (size_t)times);
    for (int64_t i = 0; i < times; i++)
        for (size_t j = 0; j < l->len; j++) {
            incref(l->items[j]);
            r->items[r->len++] = l->items[j];
        }
    *out = mkobjv(seq.type, r);
    return 0;
}

static ig_rc int_pow(ig_tmpl_call *c, int64_t b, int64_t e, ig_tmpl_val *out)
{
    int64_t r = 1;
    while (e > 0) {
        if (e & 1) {
            if (__builtin_mul_overflow(r, b, &r)) goto overflow;
        }
        e >>= 1;
        if (e && __builtin_mul_overflow(b, b, &b)) goto overflow;
    }
    *out = mkint(r);
    return 0;
overflow:
    return ig_tmpl_fail(c, "integer overflow in **");
}

ig_rc ig__tmpl_binop(ig_tmpl_call *c, int op, ig_tmpl_val a, ig_tmpl_val b, ig_tmpl_val *out)
{
    static const char *const names[] = {"", "+", "-", "*", "/", "//", "%", "**"};
    bool ints = is_intlike(a) && is_intlike(b);
    bool nums = is_num(a) && is_num(b);
    int64_t r;
    switch (op) {
    case OP_ADD:
        if (ints) {
            if (__builtin_add_overflow(ival(a), ival(b), &r)) return ig_tmpl_fail(c, "integer overflow in +");
            *out = mkint(r);
            return 0;
        }
        if (nums) {
            *out = mkfloat(num_f(a) + num_f(b));
            return 0;
        }
        if (a.type == IG_TMPL_STR && b.type == IG_TMPL_STR) {
            size_t n = STR(a)->len + STR(b)->len;
            if (ig__tmpl_str_check(c, n)) return IG_ERR_LIMIT;
            tstr *s = ig__tmpl_str_alloc(n);
            memcpy(s->s, STR(a)->s, STR(a)->len);
            memcpy(s->s + STR(a)->len, STR(b)->s, STR(b)->len);
            *out = mkobjv(IG_TMPL_STR, s);
            return 0;
        }
        if (is_seq(a) && a.type == b.type) {
            size_t n = LIST(a)->len + LIST(b)->len;
            if (ig__tmpl_items_check(c, n)) return IG_ERR_LIMIT;
            tlist *l = ig__tmpl_list_alloc(n);
            for (int k = 0; k < 2; k++) {
                tlist *s = LIST(k ? b : a);
                for (size_t i = 0; i < s->len; i++) {
                    incref(s->items[i]);
                    l->items[l->len++] = s->items[i];
                }
            }
            *out = mkobjv(a.type, l);
            return 0;
        }
        break;
    case OP_SUB:
        if (ints) {
            if (__builtin_sub_overflow(ival(a), ival(b), &r)) return ig_tmpl_fail(c, "integer overflow in -");
            *out = mkint(r);
            return 0;
        }
        if (nums) {
            *out = mkfloat(num_f(a) - num_f(b));
            return 0;
        }
        break;
    case OP_MUL:
        if (ints) {
            if (__builtin_mul_overflow(ival(a), ival(b), &r)) return ig_tmpl_fail(c, "integer overflow in *");
            *out = mkint(r);
            return 0;
        }
        if (nums) {
            *out = mkfloat(num_f(a) * num_f(b));
            return 0;
        }
        if ((a.type == IG_TMPL_STR || is_seq(a)) && is_intlike(b)) return repeat(c, a, ival(b), out);
        if ((b.type == IG_TMPL_STR || is_seq(b)) && is_intlike(a)) return repeat(c, b, ival(a), out);
        break;
    case OP_DIV:
        if (nums) {
            if (num_f(b) == 0.0) return ig_tmpl_fail(c, "division by zero");
            *out = mkfloat(num_f(a) / num_f(b));
            return 0;
        }
        break;
    case OP_FLOORDIV:
    case OP_MOD:
        if (ints) {
            int64_t x = ival(a), y = ival(b);
            if (y == 0) return ig_tmpl_fail(c, "integer division or modulo by zero");
            if (x == INT64_MIN && y == -1) {
                if (op == OP_MOD) {
                    *out = mkint(0);
                    return 0;
                }
                return ig_tmpl_fail(c, "integer overflow in //");
            }
            int64_t q = x / y, m = x % y;
            if (m != 0 && ((m < 0) != (y < 0))) {
                q -= 1;
                m += y;
            }
            *out = mkint(op == OP_MOD ? m : q);
            return 0;
        }
        if (nums) {
            double x = num_f(a), y = num_f(b);
            if (y == 0.0) return ig_tmpl_fail(c, op == OP_MOD ? "float modulo" : "float floor division by zero");
            double m = fmod(x, y);
            if (m != 0 && ((m < 0) != (y < 0))) m += y;
            *out = mkfloat(op == OP_MOD ? m : floor(x / y));
            return 0;
        }
        if (op == OP_MOD && a.type == IG_TMPL_STR) return ig__tmpl_percent(c, a, b, out);
        break;
    case OP_POW:
        if (ints && ival(b) >= 0) return int_pow(c, ival(a), ival(b), out);
        if (nums) {
            if (num_f(a) == 0.0 && num_f(b) < 0)
                return ig_tmpl_fail(c, "0.0 cannot be raised to a negative power");
            *out = mkfloat(pow(num_f(a), num_f(b)));
            return 0;
        }
        break;
    }
    return type_error(c, names[op], a, b);
}

ig_rc ig__tmpl_contains(ig_tmpl_call *c, ig_tmpl_val hay, ig_tmpl_val needle, bool *out)
{
    *out = false;
    switch (hay.type) {
    case IG_TMPL_STR:
        if (needle.type != IG_TMPL_STR) {
            if (needle.type == IG_TMPL_UNDEFINED) return ig__tmpl_undef_error(c, needle);
            return ig_tmpl_fail(c, "'in <string>' requires string as left operand, not %s",
                                ig_tmpl_type_name(needle));
        }
        *out = STR(needle)->len == 0 ||
               memmem(STR(hay)->s, STR(hay)->len, STR(needle)->s, STR(needle)->len) != NULL;
        return 0;
    case IG_TMPL_LIST: case IG_TMPL_TUPLE:
        for (size_t i = 0; i < LIST(hay)->len; i++)
            if (ig_tmpl_equal(LIST(hay)->items[i], needle)) {
                *out = true;
                break;
            }
        return 0;
    case IG_TMPL_DICT:
        *out = ig__tmpl_hashable(needle) && ig__tmpl_dict_find(DICT(hay), needle);
        return 0;
    case IG_TMPL_UNDEFINED:
        if (c->env->strict) return ig__tmpl_undef_error(c, hay);
        return 0;
    case IG_TMPL_OBJECT: {
        ig_tmpl_val items;
        ig_rc rc = ig__tmpl_iter(c, hay, &items);
        if (rc) return rc;
        rc = ig__tmpl_contains(c, items, needle, out);
        decref(items);
        return rc;
    }
    default:
        return ig_tmpl_fail(c, "argument of type '%s' is not iterable", ig_tmpl_type_name(hay));
    }
}

static ig_rc compare_op(ig_tmpl_call *c, int op, ig_tmpl_val a, ig_tmpl_val b, bool *res)
{
    switch (op) {
    case OP_EQ: *res = ig_tmpl_equal(a, b); return 0;
    case OP_NE: *res = !ig_tmpl_equal(a, b); return 0;
    case OP_IN: return ig__tmpl_contains(c, b, a, res);
    case OP_NOTIN: {
        ig_rc rc = ig__tmpl_contains(c, b, a, res);
        *res = !*res;
        return rc;
    }
    default: break;
    }
    bool ok;
    int r = ig__tmpl_compare(a, b, &ok);
    if (!ok) {
        if (a.type == IG_TMPL_UNDEFINED) return ig__tmpl_undef_error(c, a);
        if (b.type == IG_TMPL_UNDEFINED) return ig__tmpl_undef_error(c, b);
        static const char *const sym[] = {[OP_LT] = "<", [OP_LE] = "<=", [OP_GT] = ">", [OP_GE] = ">="};
        return ig_tmpl_fail(c, "'%s' not supported between instances of '%s' and '%s'", sym[op],
                            ig_tmpl_type_name(a), ig_tmpl_type_name(b));
    }
    *res = op == OP_LT ? r < 0 : op == OP_LE ? r <= 0 : op == OP_GT ? r > 0 : r >= 0;
    return 0;
}

/* ----------------------------------------------------------------- calls */

/* An argument list being built: inline storage for the common case. */
typedef struct argv {
    ig_tmpl_val pinl[8], kinl[8];
    const char *ninl[8];
    ig_tmpl_val *pos, *kw;
    const char **names;
    size_t npos, nkw, pcap, kcap;
    tstr *kwstr[8]; /* names made from **kwargs keys, kept alive */
} argv;

static void av_init(argv *v)
{
    v->pos = v->pinl;
    v->kw = v->kinl;
    v->names = v->ninl;
    v->npos = v->nkw = 0;
    v->pcap = v->kcap = 8;
}

static void av_pos(argv *v, ig_tmpl_val x)
{
    if (v->npos == v->pcap) {
        v->pcap *= 2;
        ig_tmpl_val *n = ig_malloc(v->pcap * sizeof *n);
        memcpy(n, v->pos, v->npos * sizeof *n);
        if (v->pos != v->pinl) free(v->pos);
        v->pos = n;
    }
    v->pos[v->npos++] = x;
}

static void av_kw(argv *v, const char *name, ig_tmpl_val x)
{
    for (size_t i = 0; i < v->nkw; i++)
        if (!strcmp(v->names[i], name)) {
            decref(v->kw[i]);
            v->kw[i] = x;
            return;
        }
    if (v->nkw == v->kcap) {
        v->kcap *= 2;
        ig_tmpl_val *n = ig_malloc(v->kcap * sizeof *n);
        const char **nn = ig_malloc(v->kcap * sizeof *nn);
        memcpy(n, v->kw, v->nkw * sizeof *n);
        memcpy(nn, v->names, v->nkw * sizeof *nn);
        if (v->kw != v->kinl) {
            free(v->kw);
            free(v->names);
        }
        v->kw = n;
        v->names = nn;
    }
    v->names[v->nkw] = name;
    v->kw[v->nkw++] = x;
}

static void av_free(argv *v)
{
    for (size_t i = 0; i < v->npos; i++) decref(v->pos[i]);
    for (size_t i = 0; i < v->nkw; i++) decref(v->kw[i]);
    if (v->pos != v->pinl) free(v->pos);
    if (v->kw != v->kinl) {
        free(v->kw);
        free(v->names);
    }
}

static ig_tmpl_args av_args(argv *v)
{
    ig_tmpl_args a = {v->pos, v->npos, v->names, v->kw, v->nkw};
    return a;
}

/* Evaluate the arguments of a call/filter/test node into v. Keyword names
 * from **kwargs point into the dict's keys, which *hold keeps alive. */
static ig_rc eval_args(ig_tmpl_call *c, const node *n, argv *v, ig_tmpl_val *hold)
{
    for (int i = 0; i < n->nargs; i++) {
        const arg *a = &n->args[i];
        ig_tmpl_val x;
        ig_rc rc = eval(c, a->e, &x);
        if (rc) return rc;
        switch (a->kind) {
        case ARG_POS: av_pos(v, x); break;
        case ARG_KW: av_kw(v, a->name->s, x); break;
        case ARG_STAR: {
            if (!is_seq(x)) {
                ig_tmpl_val l;
                rc = ig__tmpl_iter(c, x, &l);
                decref(x);
                if (rc) return at(c, a->e, rc);
                x = l;
            }
            for (size_t k = 0; k < LIST(x)->len; k++) {
                incref(LIST(x)->items[k]);
                av_pos(v, LIST(x)->items[k]);
            }
            decref(x);
            break;
        }
        case ARG_DSTAR:
            if (x.type != IG_TMPL_DICT) {
                ig_rc r2 = ig__tmpl_fail_at(c, a->e, IG_ERR_TEMPLATE,
                                            "argument after ** must be a mapping, not %s",
                                            ig_tmpl_type_name(x));
                decref(x);
                return r2;
            }
            for (size_t k = 0; k < DICT(x)->used; k++) {
                dentry *e = &DICT(x)->e[k];
                if (e->key.type == IG_TMPL_UNDEFINED) continue;
                if (e->key.type != IG_TMPL_STR) {
                    decref(x);
                    return ig__tmpl_fail_at(c, a->e, IG_ERR_TEMPLATE, "keywords must be strings");
                }
                incref(e->val);
                av_kw(v, STR(e->key)->s, e->val);
            }
            decref(*hold);
            *hold = x; /* keeps the key strings alive */
            break;
        }
    }
    return 0;
}

ig_rc ig__tmpl_call_method(ig_tmpl_call *c, ig_tmpl_fn fn, ig_tmpl_val self,
                           const ig_tmpl_args *a, ig_tmpl_val *out)
{
    ig_tmpl_val inl[9];
    ig_tmpl_val *pos = a->npos < 8 ? inl : ig_malloc((a->npos + 1) * sizeof *pos);
    pos[0] = self;
    if (a->npos) memcpy(pos + 1, a->pos, a->npos * sizeof *pos);
    ig_tmpl_args b = {pos, a->npos + 1, a->kwnames, a->kw, a->nkw};
    *out = mknone();
    ig_rc rc = fn(c, NULL, &b, out);
    if (pos != inl) free(pos);
    return rc;
}

ig_rc ig__tmpl_call(ig_tmpl_call *c, ig_tmpl_val callee, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    *out = mknone();
    switch (callee.type) {
    case IG_TMPL_FUNC: {
        tfunc *f = FUNC(callee);
        if (f->self.type != IG_TMPL_UNDEFINED) return ig__tmpl_call_method(c, f->fn, f->self, a, out);
        return f->fn(c, f->ud, a, out);
    }
    case IG_TMPL_MACRO: return call_macro(c, MACRO(callee), a, out);
    case IG_TMPL_OBJECT:
        if (TOBJ(callee)->cls->call) return TOBJ(callee)->cls->call(c, TOBJ(callee)->self, a, out);
        break;
    case IG_TMPL_UNDEFINED: return ig__tmpl_undef_error(c, callee);
    default: break;
    }
    return ig_tmpl_fail(c, "'%s' object is not callable", ig_tmpl_type_name(callee));
}

ig_rc ig_tmpl_call_callable(ig_tmpl_call *c, ig_tmpl_val callee, const ig_tmpl_args *a,
                            ig_tmpl_val *out)
{
    ig_tmpl_args none = {0};
    ig_rc rc = ig__tmpl_call(c, callee, a ? a : &none, out);
    if (rc == RC_RETURN) {
        /* a native called return(): hand its value to the caller */
        decref(*out);
        *out = c->retval;
        c->retval = mkundef();
        c->has_ret = false;
        rc = 0;
    }
    return rc;
}

static ig_rc eval_call(ig_tmpl_call *c, const node *n, ig_tmpl_val *out)
{
    ig_tmpl_val callee = mkundef(), self = mkundef(), hold = mkundef();
    ig_tmpl_fn method = NULL;
    ig_rc rc;
    const node *fn = n->a;
    if (fn->kind == N_GETATTR) {
        rc = eval(c, fn->a, &self);
        if (rc) return rc;
        method = ig__tmpl_method(self, fn->name->s);
        if (!method) {
            rc = ig__tmpl_getattr(c, self, fn->name, &callee);
            if (rc) {
                decref(self);
                return at(c, fn, rc);
            }
        }
    } else {
        rc = eval(c, fn, &callee);
        if (rc) return rc;
    }
    argv v;
    av_init(&v);
    rc = eval_args(c, n, &v, &hold);
    if (!rc) {
        ig_tmpl_args a = av_args(&v);
        const node *saved = c->pos;
        c->pos = n;
        if (method)
            rc = ig__tmpl_call_method(c, method, self, &a, out);
        else
            rc = ig__tmpl_call(c, callee, &a, out);
        c->pos = saved;
    }
    av_free(&v);
    decref(hold);
    decref(callee);
    decref(self);
    return rc;
}

/* ---------------------------------------------------------------- macros */

/* Add "in macro 'm' called at file:line:col" to the error's detail. */
static void trace(ig_tmpl_call *c, const char *mname, const ig_tmpl *st, const node *site)
{
    ig_error *e = c->err;
    size_t len = strlen(e->detail);
    if (c->trace > 8) return;
    const char *line = c->trace == 8 ? "\n..." : "";
    char add[700];
    if (c->trace < 8)
        snprintf(add, sizeof add, "\nin macro '%s' called at %s:%d:%d", mname, st->name, site->line,
                 site->col);
    else
        snprintf(add, sizeof add, "%s", line);
    c->trace++;
    if (len + strlen(add) < sizeof e->detail) memcpy(e->detail + len, add, strlen(add) + 1);
}

static ig_rc call_macro(ig_tmpl_call *c, tmacro *m, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    const node *d = m->def;
    const char *mname = m->is_caller ? "caller" : d->name->s;
    const node *site = c->pos;
    int np = d->nkids;
    if (c->depth >= c->env->lim.max_depth)
        return ig_err(c->err, IG_ERR_LIMIT, "macro calls nested more than %d deep (endless recursion?)",
                      c->env->lim.max_depth);
    if (a->npos > (size_t)np && !(d->flags & NF_VARARGS))
        return ig_tmpl_fail(c, "macro '%s' takes not more than %d argument(s)", mname, np);
    /* which keyword goes where */
    int kwslot[64];
    size_t nkw = a->nkw < 64 ? a->nkw : 64;
    ig_tmpl_val caller = mkundef();
    for (size_t k = 0; k < nkw; k++) {
        kwslot[k] = -1;
        for (int i = 0; i < np; i++)
            if (!strcmp(d->kids[i]->name->s, a->kwnames[k])) {
                if ((size_t)i < a->npos)
                    return ig_tmpl_fail(c, "macro '%s' got multiple values for argument '%s'", mname,
                                        a->kwnames[k]);
                kwslot[k] = i;
            }
        if (kwslot[k] >= 0) continue;
        if (!strcmp(a->kwnames[k], "caller") && (d->flags & NF_CALLER)) {
            caller = a->kw[k];
            kwslot[k] = -2;
        } else if (!(d->flags & NF_KWARGS)) {
            return ig_tmpl_fail(c, "macro '%s' takes no keyword argument '%s'", mname, a->kwnames[k]);
        }
    }
    frame f;
    frame_init(&f, m->closure);
    const node *souter = c->outer_site;
    const ig_tmpl *souter_t = c->outer_tmpl;
    if (c->depth == 0) {
        c->outer_site = site;
        c->outer_tmpl = c->tmpl;
    }
    frame *sf = c->frame;
    tdict *smod = c->module;
    const ig_tmpl *st = c->tmpl;
    ig_buf *sout = c->out;
    int sloop = c->loop_depth;
    c->frame = &f;
    c->module = m->module;
    c->tmpl = m->t;
    c->loop_depth = 0;
    c->depth++;
    ig_rc rc = 0;
    for (int i = 0; i < np && !rc; i++) {
        ig_tmpl_val v = mkundef();
        bool have = false;
        if ((size_t)i < a->npos) {
            v = a->pos[i];
            incref(v);
            have = true;
        } else {
            for (size_t k = 0; k < nkw; k++)
                if (kwslot[k] == i) {
                    v = a->kw[k];
                    incref(v);
                    have = true;
                }
        }
        if (!have) {
            if (d->kids2[i]) {
                rc = eval(c, d->kids2[i], &v);
                if (rc) break;
            } else {
                v = ig__tmpl_mkundef_name(d->kids[i]->name, UNDEF_PARAM, NULL);
            }
        }
        store(c, d->kids[i]->name, v);
    }
    if (!rc) {
        if (d->flags & NF_VARARGS) {
            tlist *l = ig__tmpl_list_alloc(0);
            for (size_t i = (size_t)np; i < a->npos; i++) {
                incref(a->pos[i]);
                ig__tmpl_list_push(l, ig__tmpl_own(a->pos[i]));
            }
            store(c, c->env->s_varargs, mkobjv(IG_TMPL_TUPLE, l));
        }
        if (d->flags & NF_KWARGS) {
            tdict *kd = ig__tmpl_dict_alloc();
            for (size_t k = 0; k < a->nkw; k++)
                if (k >= nkw || kwslot[k] == -1) {
                    ig_tmpl_val key = ig_tmpl_str(a->kwnames[k]);
                    incref(a->kw[k]);
                    ig__tmpl_dict_put(kd, key, a->kw[k]);
                    decref(key);
                }
            store(c, c->env->s_kwargs, mkobjv(IG_TMPL_DICT, kd));
        }
        if (d->flags & NF_CALLER) {
            incref(caller);
            store(c, c->env->s_caller, caller);
        }
    }
    ig_buf buf;
    ig_buf_init(&buf, c->env->lim.max_output);
    if (!rc) {
        c->out = &buf;
        rc = exec_body(c, d->body, d->nbody);
        c->out = sout;
    }
    if (rc == RC_RETURN && !m->is_caller) {
        *out = c->retval;
        c->retval = mkundef();
        c->has_ret = false;
        rc = 0;
    } else if (!rc) {
        *out = ig__tmpl_new_str(ig_buf_cstr(&buf), buf.len);
    }
    ig_buf_free(&buf);
    frame_done(&f);
    if (rc > 0 && c->err->line > 0 && site && st) trace(c, mname, st, site);
    c->frame = sf;
    c->module = smod;
    c->tmpl = st;
    c->loop_depth = sloop;
    c->depth--;
    c->outer_site = souter;
    c->outer_tmpl = souter_t;
    return rc;
}

/* ----------------------------------------------------------- expressions */

static ig_rc write_val(ig_tmpl_call *c, ig_tmpl_val v)
{
    switch (v.type) {
    case IG_TMPL_STR: return emit(c, STR(v)->s, STR(v)->len);
    case IG_TMPL_UNDEFINED:
        if (c->env->strict) return ig__tmpl_undef_error(c, v);
        return 0;
    case IG_TMPL_INT: { /* by hand: snprintf costs ~600 instructions a number */
        char b[24], *e = b + sizeof b, *q = e;
        uint64_t u = v.u.i < 0 ? 0 - (uint64_t)v.u.i : (uint64_t)v.u.i;
        do *--q = (char)('0' + u % 10);
        while (u /= 10);
        if (v.u.i < 0) *--q = '-';
        return emit(c, q, (size_t)(e - q));
    }
    default: {
        ig_buf b = IG_BUF_INIT;
        ig_tmpl_to_str(v, &b);
        ig_rc rc = emit(c, ig_buf_cstr(&b), b.len);
        ig_buf_free(&b);
        return rc;
    }
    }
}

static ig_rc run_named(ig_tmpl_call *c, tdict *table, const char *kind, const char *name,
                       argv *v, ig_tmpl_val *out)
{
    size_t n = strlen(name);
    ig_tmpl_val *f = ig__tmpl_dict_find_str(table, name, n, ig__tmpl_hash_bytes(name, n));
    if (!f) return ig_tmpl_fail(c, "no %s named '%s'", kind, name);
    ig_tmpl_args a = av_args(v);
    *out = mknone();
    return ig__tmpl_call(c, *f, &a, out);
}

ig_rc ig__tmpl_run_filter(ig_tmpl_call *c, const char *name, ig_tmpl_val val,
                          const ig_tmpl_args *extra, ig_tmpl_val *out)
{
    argv v;
    av_init(&v);
    incref(val);
    av_pos(&v, val);
    for (size_t i = 0; extra && i < extra->npos; i++) {
        incref(extra->pos[i]);
        av_pos(&v, extra->pos[i]);
    }
    for (size_t i = 0; extra && i < extra->nkw; i++) {
        incref(extra->kw[i]);
        av_kw(&v, extra->kwnames[i], extra->kw[i]);
    }
    ig_rc rc = run_named(c, c->env->filters, "filter", name, &v, out);
    av_free(&v);
    return rc;
}

ig_rc ig__tmpl_run_test(ig_tmpl_call *c, const char *name, ig_tmpl_val val,
                        const ig_tmpl_args *extra, bool *res)
{
    argv v;
    av_init(&v);
    incref(val);
    av_pos(&v, val);
    for (size_t i = 0; extra && i < extra->npos; i++) {
        incref(extra->pos[i]);
        av_pos(&v, extra->pos[i]);
    }
    for (size_t i = 0; extra && i < extra->nkw; i++) {
        incref(extra->kw[i]);
        av_kw(&v, extra->kwnames[i], extra->kw[i]);
    }
    ig_tmpl_val r = mknone();
    ig_rc rc = run_named(c, c->env->tests, "test", name, &v, &r);
    av_free(&v);
    *res = !rc && ig_tmpl_truthy(r);
    decref(r);
    return rc;
}

static ig_rc eval_filter_or_test(ig_tmpl_call *c, const node *n, ig_tmpl_val *out)
{
    ig_tmpl_val val;
    ig_rc rc;
    if (n->a) {
        rc = eval(c, n->a, &val);
        if (rc) return rc;
    } else {
        val = c->block_input;
        incref(val);
    }
    argv v;
    av_init(&v);
    av_pos(&v, val);
    ig_tmpl_val hold = mkundef();
    rc = eval_args(c, n, &v, &hold);
    if (!rc) {
        const node *saved = c->pos;
        c->pos = n;
        if (n->kind == N_FILTER) {
            rc = run_named(c, c->env->filters, "filter", n->name->s, &v, out);
        } else {
            ig_tmpl_val r = mknone();
            rc = run_named(c, c->env->tests, "test", n->name->s, &v, &r);
            bool t = ig_tmpl_truthy(r);
            decref(r);
            *out = mkbool((n->flags & NF_NEGATED) ? !t : t);
        }
        c->pos = saved;
    }
    av_free(&v);
    decref(hold);
    return rc;
}

static ig_rc eval_seq(ig_tmpl_call *c, const node *n, ig_tmpl_val *out)
{
    tlist *l = ig__tmpl_list_alloc((size_t)n->nkids);
    for (int i = 0; i < n->nkids; i++) {
        ig_tmpl_val v;
        ig_rc rc = eval(c, n->kids[i], &v);
        if (rc) {
            decref(mkobjv(IG_TMPL_LIST, l));
            return rc;
        }
        l->items[l->len++] = ig__tmpl_own(v);
    }
    *out = mkobjv(n->kind == N_LIST ? IG_TMPL_LIST : IG_TMPL_TUPLE, l);
    return 0;
}

static ig_rc eval_dict(ig_tmpl_call *c, const node *n, ig_tmpl_val *out)
{
    tdict *d = ig__tmpl_dict_alloc();
    ig_tmpl_val dv = mkobjv(IG_TMPL_DICT, d);
    for (int i = 0; i < n->nkids; i++) {
        ig_tmpl_val k, v;
        ig_rc rc = eval(c, n->kids[i], &k);
        if (rc) {
            decref(dv);
            return rc;
        }
        if (!ig__tmpl_hashable(k)) {
            rc = ig__tmpl_fail_at(c, n->kids[i], IG_ERR_TEMPLATE, "unhashable type: '%s'",
                                  ig_tmpl_type_name(k));
            decref(k);
            decref(dv);
            return rc;
        }
        rc = eval(c, n->kids2[i], &v);
        if (rc) {
            decref(k);
            decref(dv);
            return rc;
        }
        ig__tmpl_dict_put(d, k, v);
        decref(k);
    }
    *out = dv;
    return 0;
}

static ig_rc eval_inner(ig_tmpl_call *c, const node *n, ig_tmpl_val *out)
{
    ig_tmpl_val a, b;
    ig_rc rc;
    switch (n->kind) {
    case N_CONST:
        *out = n->val;
        return 0;
    case N_NAME: return lookup(c, n->name, out);
    case N_LIST: case N_TUPLE: return eval_seq(c, n, out);
    case N_DICT: return eval_dict(c, n, out);
    case N_GETATTR:
        if ((rc = eval(c, n->a, &a))) return rc;
        rc = ig__tmpl_getattr(c, a, n->name, out);
        decref(a);
        return rc;
    case N_GETITEM:
        if ((rc = eval(c, n->a, &a))) return rc;
        if (n->b->kind == N_SLICE) {
            ig_tmpl_val s[3] = {mknone(), mknone(), mknone()};
            const node *parts[3] = {n->b->a, n->b->b, n->b->c};
            for (int i = 0; i < 3 && !rc; i++)
                if (parts[i]) rc = eval(c, parts[i], &s[i]);
            if (!rc) rc = do_slice(c, a, s[0], s[1], s[2], out);
            for (int i = 0; i < 3; i++) decref(s[i]);
            decref(a);
            return rc;
        }
        if ((rc = eval(c, n->b, &b))) {
            decref(a);
            return rc;
        }
        rc = ig__tmpl_getitem(c, a, b, out);
        decref(a);
        decref(b);
        return rc;
    case N_CALL: return eval_call(c, n, out);
    case N_FILTER: case N_TEST: return eval_filter_or_test(c, n, out);
    case N_BINOP:
        if ((rc = eval(c, n->a, &a))) return rc;
        if ((rc = eval(c, n->b, &b))) {
            decref(a);
            return rc;
        }
        rc = ig__tmpl_binop(c, n->op, a, b, out);
        decref(a);
        decref(b);
        return rc;
    case N_NEG: case N_POS:
        if ((rc = eval(c, n->a, &a))) return rc;
        if (is_intlike(a)) {
            if (n->kind == N_NEG && ival(a) == INT64_MIN) return ig_tmpl_fail(c, "integer overflow in -");
            *out = mkint(n->kind == N_NEG ? -ival(a) : ival(a));
        } else if (a.type == IG_TMPL_FLOAT) {
            *out = mkfloat(n->kind == N_NEG ? -a.u.f : a.u.f);
        } else {
            rc = a.type == IG_TMPL_UNDEFINED
                     ? ig__tmpl_undef_error(c, a)
                     : ig_tmpl_fail(c, "bad operand type for unary %c: '%s'",
                                    n->kind == N_NEG ? '-' : '+', ig_tmpl_type_name(a));
        }
        decref(a);
        return rc;
    case N_NOT:
        if ((rc = eval(c, n->a, &a))) return rc;
        *out = mkbool(!ig_tmpl_truthy(a));
        decref(a);
        return 0;
    case N_AND: case N_OR:
        if ((rc = eval(c, n->a, &a))) return rc;
        if (ig_tmpl_truthy(a) == (n->kind == N_OR)) {
            *out = a;
            return 0;
        }
        decref(a);
        return eval(c, n->b, out);
    case N_COMPARE: {
        if ((rc = eval(c, n->a, &a))) return rc;
        bool res = true;
        for (int i = 0; i < n->nkids && res; i++) {
            if ((rc = eval(c, n->kids[i], &b))) {
                decref(a);
                return rc;
            }
            rc = compare_op(c, n->ops[i], a, b, &res);
            decref(a);
            a = b;
            if (rc) {
                decref(a);
                return at(c, n->kids[i], rc);
            }
        }
        decref(a);
        *out = mkbool(res);
        return 0;
    }
    case N_COND:
        if ((rc = eval(c, n->a, &a))) return rc;
        bool t = ig_tmpl_truthy(a);
        decref(a);
        if (t) return eval(c, n->b, out);
        if (n->c) return eval(c, n->c, out);
        *out = mkundef();
        return 0;
    case N_CONCAT: {
        ig_buf buf = IG_BUF_INIT;
        for (int i = 0; i < n->nkids; i++) {
            if ((rc = eval(c, n->kids[i], &a))) {
                ig_buf_free(&buf);
                return rc;
            }
            if (a.type == IG_TMPL_STR) {
                ig_buf_append(&buf, STR(a)->s, STR(a)->len);
            } else if (a.type == IG_TMPL_UNDEFINED && c->env->strict) {
                rc = ig__tmpl_undef_error(c, a);
            } else {
                ig_tmpl_to_str(a, &buf);
            }
            decref(a);
            if (!rc) rc = ig__tmpl_str_check(c, buf.len);
            if (rc) {
                ig_buf_free(&buf);
                return at(c, n->kids[i], rc);
            }
        }
        *out = ig__tmpl_new_str(ig_buf_cstr(&buf), buf.len);
        ig_buf_free(&buf);
        return 0;
    }
    default: return ig__tmpl_fail_at(c, n, IG_ERR_INTERNAL, "internal error: bad node %d", n->kind);
    }
}

static ig_rc eval(ig_tmpl_call *c, const node *n, ig_tmpl_val *out)
{
    *out = mkundef();
    if (++c->edepth > MAX_EVAL_DEPTH) {
        c->edepth--;
        return ig__tmpl_fail_at(c, n, IG_ERR_LIMIT, "expressions nested too deep");
    }
    ig_rc rc = eval_inner(c, n, out);
    c->edepth--;
    if (rc) {
        if (out->type != IG_TMPL_UNDEFINED || out->u.o) decref(*out);
        *out = mkundef();
        return at(c, n, rc);
    }
    return 0;
}

/* ------------------------------------------------------------ statements */

static ig_rc assign(ig_tmpl_call *c, const node *t, ig_tmpl_val v)
{
    if (t->kind == N_NAME) {
        incref(v);
        store(c, t->name, v);
        return 0;
    }
    if (t->kind == N_GETATTR) {
        ig_tmpl_val base;
        ig_rc rc = lookup(c, t->a->name, &base);
        if (rc) return rc;
        tdict *d = ig__tmpl_namespace_dict(base);
        if (!d) {
            decref(base);
            return ig__tmpl_fail_at(c, t, IG_ERR_TEMPLATE,
                                    "cannot assign attribute on non-namespace object");
        }
        incref(v);
        ig__tmpl_dict_put(d, mkobjv(IG_TMPL_STR, t->name), v);
        decref(base);
        return 0;
    }
    /* tuple unpacking */
    ig_tmpl_val items;
    ig_rc rc;
    if (is_seq(v)) {
        items = v;
        incref(items);
    } else if ((rc = ig__tmpl_iter(c, v, &items))) {
        return at(c, t, rc);
    }
    size_t n = LIST(items)->len;
    if (n != (size_t)t->nkids) {
        decref(items);
        if (n < (size_t)t->nkids)
            return ig__tmpl_fail_at(c, t, IG_ERR_TEMPLATE,
                                    "not enough values to unpack (expected %d, got %zu)", t->nkids, n);
        return ig__tmpl_fail_at(c, t, IG_ERR_TEMPLATE, "too many values to unpack (expected %d)",
                                t->nkids);
    }
    rc = 0;
    for (int i = 0; i < t->nkids && !rc; i++) rc = assign(c, t->kids[i], LIST(items)->items[i]);
    decref(items);
    return rc;
}

static ig_rc iteration(ig_tmpl_call *c, const node *n)
{
    if (++c->iterations > c->env->lim.max_iterations)
        return ig__tmpl_fail_at(c, n, IG_ERR_LIMIT, "more than %llu loop iterations",
                                (unsigned long long)c->env->lim.max_iterations);
    return 0;
}

/* Run the loop n over items (a list, borrowed) at loop depth `depth`. */
static ig_rc run_for(ig_tmpl_call *c, const node *n, ig_tmpl_val items, int depth)
{
    ig_rc rc = 0;
    frame f;
    frame_init(&f, c->frame);
    frame *saved = c->frame;
    c->frame = &f;
    incref(items);
    if (n->c) { /* for x in xs if cond: filter before looping, as Jinja does */
        tlist *kept = ig__tmpl_list_alloc(0);
        for (size_t i = 0; i < LIST(items)->len && !rc; i++) {
            ig_tmpl_val it = LIST(items)->items[i], cond;
            frame_clear(&f);
            if (!(rc = iteration(c, n)) && !(rc = assign(c, n->a, it)) && !(rc = eval(c, n->c, &cond))) {
                if (ig_tmpl_truthy(cond)) {
                    incref(it);
                    ig__tmpl_list_push(kept, it);
                }
                decref(cond);
            }
        }
        decref(items);
        items = mkobjv(IG_TMPL_LIST, kept);
        frame_clear(&f);
    }
    size_t len = LIST(items)->len;
    if (!rc && len) {
        ig_tmpl_val loop = ig__tmpl_loop_new(items, depth, n);
        int sloop = c->loop_depth;
        c->loop_depth = 1;
        for (size_t i = 0; i < LIST(items)->len; i++) {
            frame_clear(&f);
            if ((rc = iteration(c, n))) break;
            ig__tmpl_loop_set(loop, i);
            if ((rc = assign(c, n->a, LIST(items)->items[i]))) break;
            incref(loop);
            store(c, c->env->s_loop, loop);
            rc = exec_body(c, n->body, n->nbody);
            if (rc == RC_CONTINUE) rc = 0;
            if (rc == RC_BREAK) {
                rc = 0;
                break;
            }
            if (rc) break;
        }
        c->loop_depth = sloop;
        decref(loop);
    }
    frame_clear(&f);
    if (!rc && !len && n->nels) rc = exec_body(c, n->els, n->nels);
    frame_done(&f);
    c->frame = saved;
    decref(items);
    return rc;
}

ig_rc ig__tmpl_loop_recurse(ig_tmpl_call *c, const node *n, ig_tmpl_val iterable, int depth,
                            ig_tmpl_val *out)
{
    ig_tmpl_val items;
    ig_rc rc = ig__tmpl_iter(c, iterable, &items);
    if (rc) return rc;
    if (c->depth >= c->env->lim.max_depth) {
        decref(items);
        return ig_err(c->err, IG_ERR_LIMIT, "recursive loop nested more than %d deep",
                      c->env->lim.max_depth);
    }
    ig_buf buf, *sout = c->out;
    ig_buf_init(&buf, c->env->lim.max_output);
    c->out = &buf;
    c->depth++;
    rc = run_for(c, n, items, depth);
    c->depth--;
    c->out = sout;
    if (!rc) *out = ig__tmpl_new_str(ig_buf_cstr(&buf), buf.len);
    ig_buf_free(&buf);
    decref(items);
    return rc;
}

/* Run body in a new frame with output captured into a string. */
static ig_rc capture(ig_tmpl_call *c, node *const *body, int n, ig_tmpl_val *out)
{
    frame f;
    frame_init(&f, c->frame);
    frame *sf = c->frame;
    ig_buf buf, *sout = c->out;
    ig_buf_init(&buf, c->env->lim.max_output);
    c->frame = &f;
    c->out = &buf;
    ig_rc rc = exec_body(c, body, n);
    c->out = sout;
    c->frame = sf;
    frame_done(&f);
    if (!rc) *out = ig__tmpl_new_str(ig_buf_cstr(&buf), buf.len);
    ig_buf_free(&buf);
    return rc;
}

/* Apply a filter chain (innermost operand NULL) to text. */
static ig_rc apply_chain(ig_tmpl_call *c, const node *chain, ig_tmpl_val text, ig_tmpl_val *out)
{
    ig_tmpl_val saved = c->block_input;
    c->block_input = text;
    ig_rc rc = eval(c, chain, out);
    c->block_input = saved;
    return rc;
}

static bool is_static_macro(const ig_tmpl *t, const node *n)
{
    for (int i = 0; i < t->nmacros; i++)
        if (t->macros[i] == n) return true;
    return false;
}

static ig_rc exec_callblock(ig_tmpl_call *c, const node *n)
{
    ig_tmpl_val cv = ig__tmpl_macro_new((ig_tmpl *)c->tmpl, n, c->module);
    tmacro *cm = MACRO(cv);
    cm->is_caller = true;
    cm->closure = c->frame;
    const node *call = n->a;
    ig_tmpl_val callee = mkundef(), self = mkundef(), hold = mkundef(), res = mkundef();
    ig_tmpl_fn method = NULL;
    ig_rc rc;
    if (call->a->kind == N_GETATTR) {
        rc = eval(c, call->a->a, &self);
        if (!rc) {
            method = ig__tmpl_method(self, call->a->name->s);
            if (!method) rc = at(c, call->a, ig__tmpl_getattr(c, self, call->a->name, &callee));
        }
    } else {
        rc = eval(c, call->a, &callee);
    }
    argv v;
    av_init(&v);
    if (!rc) rc = eval_args(c, call, &v, &hold);
    if (!rc) {
        incref(cv);
        av_kw(&v, "caller", cv);
        ig_tmpl_args a = av_args(&v);
        const node *saved = c->pos;
        c->pos = call;
        rc = method ? ig__tmpl_call_method(c, method, self, &a, &res) : ig__tmpl_call(c, callee, &a, &res);
        c->pos = saved;
        rc = at(c, call, rc);
    }
    av_free(&v);
    decref(hold);
    decref(callee);
    decref(self);
    cm->closure = NULL; /* the frames it saw are gone after this */
    decref(cv);
    if (!rc) rc = write_val(c, res);
    decref(res);
    return rc;
}

static ig_rc exec(ig_tmpl_call *c, const node *n)
{
    ig_tmpl_val v, w;
    ig_rc rc;
    switch (n->kind) {
    case N_TEXT: return at(c, n, emit(c, STR(n->val)->s, STR(n->val)->len));
    case N_OUTPUT:
        if ((rc = eval(c, n->a, &v))) return rc;
        rc = write_val(c, v);
        decref(v);
        return at(c, n, rc);
    case N_IF:
        for (;;) {
            if ((rc = eval(c, n->a, &v))) return rc;
            bool t = ig_tmpl_truthy(v);
            decref(v);
            if (t) return exec_body(c, n->body, n->nbody);
            if (n->nels == 1 && n->els[0]->kind == N_IF) {
                n = n->els[0]; /* elif: walk the chain without recursion */
                continue;
            }
            return exec_body(c, n->els, n->nels);
        }
    case N_FOR: {
        if ((rc = eval(c, n->b, &v))) return rc;
        if ((rc = ig__tmpl_iter(c, v, &w))) {
            decref(v);
            return at(c, n->b, rc);
        }
        decref(v);
        rc = run_for(c, n, w, 1);
        decref(w);
        return rc;
    }
    case N_SET:
        if ((rc = eval(c, n->b, &v))) return rc;
        rc = assign(c, n->a, v);
        decref(v);
        return rc;
    case N_SETBLOCK:
        if ((rc = capture(c, n->body, n->nbody, &v))) return rc;
        if (n->c) {
            rc = apply_chain(c, n->c, v, &w);
            decref(v);
            if (rc) return rc;
            v = w;
        }
        rc = assign(c, n->a, v);
        decref(v);
        return rc;
    case N_MACRO: {
        if (c->frame->dict && is_static_macro(c->tmpl, n)) return 0; /* found through the template */
        v = ig__tmpl_macro_new((ig_tmpl *)c->tmpl, n, c->module);
        if (!c->frame->dict) {
            MACRO(v)->closure = c->frame;
            MACRO(v)->next_closure = c->frame->closures;
            c->frame->closures = MACRO(v);
            incref(v);
        }
        store(c, n->name, v);
        return 0;
    }
    case N_CALLBLOCK: return exec_callblock(c, n);
    case N_FILTERBLOCK:
        if ((rc = capture(c, n->body, n->nbody, &v))) return rc;
        rc = apply_chain(c, n->c, v, &w);
        decref(v);
        if (rc) return rc;
        rc = write_val(c, w);
        decref(w);
        return at(c, n, rc);
    case N_WITH: {
        frame f;
        frame_init(&f, c->frame);
        frame *outer = c->frame;
        rc = 0;
        for (int i = 0; i < n->nkids && !rc; i++) {
            c->frame = outer;
            if ((rc = eval(c, n->kids2[i], &v))) break;
            c->frame = &f;
            rc = assign(c, n->kids[i], v);
            decref(v);
        }
        c->frame = &f;
        if (!rc) rc = exec_body(c, n->body, n->nbody);
        c->frame = outer;
        frame_done(&f);
        return rc;
    }
    case N_DO:
        if ((rc = eval(c, n->a, &v))) return rc;
        decref(v);
        return 0;
    case N_BREAK: return RC_BREAK;
    case N_CONTINUE: return RC_CONTINUE;
    case N_BLOCK: {
        frame f;
        frame_init(&f, c->frame);
        frame *outer = c->frame;
        c->frame = &f;
        rc = exec_body(c, n->body, n->nbody);
        c->frame = outer;
        frame_done(&f);
        return rc;
    }
    default: return ig__tmpl_fail_at(c, n, IG_ERR_INTERNAL, "internal error: bad statement %d", n->kind);
    }
}

static ig_rc exec_body(ig_tmpl_call *c, node *const *body, int n)
{
    for (int i = 0; i < n; i++) {
        ig_rc rc = exec(c, body[i]);
        if (rc) return rc;
    }
    return 0;
}

/* ------------------------------------------------------------ public API */

void ig__tmpl_call_init(ig_tmpl_call *c, ig_tmpl_env *env, ig_tmpl_val ctx, ig_error *err)
{
    memset(c, 0, sizeof *c);
    c->env = env;
    c->err = err ? err : &c->own_err;
    ig_error_clear(c->err);
    c->ctx = ctx.type == IG_TMPL_DICT ? ctx : mkundef();
    c->retval = mkundef();
    c->block_input = mkundef();
}

void ig__tmpl_call_done(ig_tmpl_call *c)
{
    decref(c->retval);
    c->retval = mkundef();
    c->has_ret = false;
}

ig_rc ig__tmpl_render_top(ig_tmpl_call *c, const ig_tmpl *t, tdict *module)
{
    frame root;
    frame_init(&root, NULL);
    root.dict = module;
    c->frame = &root;
    c->module = module;
    c->tmpl = t;
    ig_rc rc = exec_body(c, t->body, t->nbody);
    frame_done(&root);
    c->frame = NULL;
    if (rc == RC_RETURN) {
        ig__tmpl_call_done(c);
        rc = ig_err(c->err, IG_ERR_TEMPLATE, "return() called outside of a macro");
        if (c->ret_at && c->ret_tmpl)
            ig__tmpl_err_pos(c->err, c->ret_tmpl, c->ret_at->line, c->ret_at->col);
        else
            ig_err_at(c->err, t->name, 0, 0);
    } else if (rc < 0) {
        rc = ig_err(c->err, IG_ERR_INTERNAL, "internal error: loop control escaped");
    }
    return rc;
}

ig_rc ig_tmpl_render(ig_tmpl_env *env, const ig_tmpl *t, ig_tmpl_val ctx, ig_buf *out,
                     ig_error *err)
{
    ig_tmpl_call c;
    ig__tmpl_call_init(&c, env, ctx, err);
    c.out = out;
    tdict *module = ig__tmpl_dict_alloc();
    ig_rc rc = ig__tmpl_render_top(&c, t, module);
    /* the module dies with the render: clearing it breaks macro <-> module cycles */
    ig__tmpl_dict_clear(module);
    decref(mkobjv(IG_TMPL_DICT, module));
    ig__tmpl_call_done(&c);
    return rc;
}

ig_rc ig_tmpl_module(ig_tmpl_env *env, const ig_tmpl *t, ig_tmpl_val ctx, ig_tmpl_val *out,
                     ig_error *err)
{
    *out = mkundef();
    ig_tmpl_call c;
    ig__tmpl_call_init(&c, env, ctx, err);
    ig_buf sink;
    ig_buf_init(&sink, env->lim.max_output);
    c.out = &sink;
    tdict *module = ig__tmpl_dict_alloc();
    ig_rc rc = ig__tmpl_render_top(&c, t, module);
    ig_buf_free(&sink);
    ig__tmpl_call_done(&c);
    if (rc) {
        ig__tmpl_dict_clear(module);
        decref(mkobjv(IG_TMPL_DICT, module));
        return rc;
    }
    ig_tmpl_val res = ig_tmpl_dict_new();
    for (size_t i = 0; i < module->used; i++)
        if (module->e[i].key.type != IG_TMPL_UNDEFINED) {
            incref(module->e[i].val);
            ig__tmpl_dict_put(DICT(res), module->e[i].key, module->e[i].val);
        }
    for (int i = 0; i < t->nmacros; i++) {
        ig_tmpl_val m = ig__tmpl_macro_new((ig_tmpl *)t, t->macros[i], module);
        ig__tmpl_dict_put(DICT(res), mkobjv(IG_TMPL_STR, t->macros[i]->name), m);
    }
    ig__tmpl_list_push(env->modules, mkobjv(IG_TMPL_DICT, module)); /* env keeps our ref */
    *out = res;
    return 0;
}

ig_tmpl_val ig_tmpl_macro_get(const ig_tmpl *t, const char *name)
{
    for (int i = 0; i < t->nmacros; i++)
        if (!strcmp(t->macros[i]->name->s, name))
            return ig__tmpl_macro_new((ig_tmpl *)t, t->macros[i], NULL);
    return mkundef();
}

ig_rc ig_tmpl_call_value(ig_tmpl_env *env, ig_tmpl_val callee, ig_tmpl_val ctx,
                         const ig_tmpl_args *args, ig_tmpl_val *out, ig_error *err)
{
    ig_tmpl_call c;
    ig__tmpl_call_init(&c, env, ctx, err);
    ig_buf sink;
    ig_buf_init(&sink, env->lim.max_output);
    c.out = &sink;
    ig_tmpl_val r = mknone();
    ig_rc rc = ig_tmpl_call_callable(&c, callee, args, &r);
    ig_buf_free(&sink);
    ig__tmpl_call_done(&c);
    if (rc) {
        decref(r);
        *out = mkundef();
        if (rc < 0) rc = ig_err(c.err, IG_ERR_INTERNAL, "internal error: loop control escaped");
        return rc;
    }
    *out = ig__tmpl_own(r);
    return 0;
}

ig_rc ig_tmpl_call_macro(ig_tmpl_env *env, ig_tmpl_val module, const char *name,
                         ig_tmpl_val ctx, const ig_tmpl_args *args, ig_tmpl_val *out,
                         ig_error *err)
{
    ig_tmpl_val m = ig_tmpl_dict_get(module, name);
    if (m.type != IG_TMPL_MACRO && m.type != IG_TMPL_FUNC) {
        *out = mkundef();
        return ig_err(err, IG_ERR_NOT_FOUND, "no macro named '%s'", name);
    }
    return ig_tmpl_call_value(env, m, ctx, args, out, err);
}

ig_rc ig_tmpl_return(ig_tmpl_call *c, ig_tmpl_val v)
{
    c->ret_at = c->pos;
    c->ret_tmpl = c->tmpl;
    decref(c->retval);
    c->retval = ig__tmpl_own(v);
    c->has_ret = true;
    return RC_RETURN;
}

ig_rc ig_tmpl_native_return(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    if (a->npos > 1 || a->nkw) return ig_tmpl_fail(c, "return() takes one argument");
    ig_tmpl_val v = a->npos ? a->pos[0] : mknone();
    incref(v);
    return ig_tmpl_return(c, v);
}

ig_tmpl_env *ig_tmpl_call_env(ig_tmpl_call *c) { return c->env; }
ig_tmpl_val ig_tmpl_call_context(ig_tmpl_call *c) { return c->ctx; }
const char *ig_tmpl_call_template(ig_tmpl_call *c) { return c->tmpl ? c->tmpl->name : ""; }

bool ig_tmpl_call_position(const ig_tmpl_call *c, const char **file, int *line, int *col)
{
    const node *n = c->depth > 0 ? c->outer_site : c->pos;
    const ig_tmpl *t = c->depth > 0 ? c->outer_tmpl : c->tmpl;
    if (!n || !t) {
        if (file) *file = NULL;
        *line = *col = 0;
        return false;
    }
    if (file) *file = t->name;
    *line = n->line;
    *col = n->col;
    return true;
}
