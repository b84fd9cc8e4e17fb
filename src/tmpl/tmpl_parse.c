/* The parser: a recursive-descent reading of the token array into the
 * syntax tree (nodes in the template's arena), following Jinja's own parser
 * closely so that precedence and corner cases agree: filters bind tighter
 * than arithmetic, `**` is left-associative, `not` is looser than compare,
 * a statement may end with Python's colon. It also owns the template object
 * (ig_tmpl_parse / ig_tmpl_free) and the formatting of error positions. */
#include "tmpl_lex.h"

#include "core/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NEST 150 /* nested expressions or blocks: bounds the C stack */

typedef struct parser {
    ig_tmpl *t;
    tarena *a;
    tok *toks;
    size_t ntoks, i;
    ig_error *err;
    bool failed;
    int depth;
    int loop_depth;
    /* the blocks being parsed, innermost last, for end-of-template messages */
    const char *stack[MAX_NEST + 8];
    const char *const *ends[MAX_NEST + 8];
    int nstack;
} parser;

/* ----------------------------------------------------------- positions */

void ig__tmpl_err_pos(ig_error *err, const ig_tmpl *t, int line, int col)
{
    if (!t) {
        if (err) ig_err_at(err, "", line, col);
        return;
    }
    ig_tmpl_error_at(err, t->name, t->src, t->len, line, col);
}

void ig_tmpl_error_at(ig_error *err, const char *file, const char *src, size_t len, int line,
                      int col)
{
    if (!err) return;
    ig_err_at(err, file ? file : "", line, col);
    if (!src || line <= 0) return;
    const char *s = src, *end = src + len;
    for (int l = 1; l < line && s < end; s++)
        if (*s == '\n') l++;
    const char *e = s;
    while (e < end && *e != '\n' && *e != '\r') e++;
    int n = (int)(e - s);
    if (n > 200) n = 200;
    /* caret under the column (tabs kept so it lines up) */
    char caret[260];
    int k = 0;
    const char *p = s;
    for (int c = 1; c < col && k < 250 && p < e; p++) {
        if (((unsigned char)*p & 0xC0) == 0x80) continue;
        caret[k++] = *p == '\t' ? '\t' : ' ';
        c++;
    }
    caret[k++] = '^';
    caret[k] = '\0';
    ig_err_detail(err, "%.*s\n%s", n, s, caret);
}

static tok *cur(parser *p) { return &p->toks[p->i]; }
static tok *peek(parser *p, int k)
{
    size_t j = p->i + (size_t)k;
    return &p->toks[j < p->ntoks ? j : p->ntoks - 1];
}
static void next(parser *p)
{
    if (p->i + 1 < p->ntoks) p->i++;
}

static void describe(tok *t, char *buf, size_t n)
{
    switch (t->type) {
    case TK_EOF: snprintf(buf, n, "end of template"); break;
    case TK_DATA: snprintf(buf, n, "template data / text"); break;
    case TK_VAR_BEGIN: snprintf(buf, n, "begin of print statement"); break;
    case TK_VAR_END: snprintf(buf, n, "end of print statement"); break;
    case TK_BLOCK_BEGIN: snprintf(buf, n, "begin of statement block"); break;
    case TK_BLOCK_END: snprintf(buf, n, "end of statement block"); break;
    case TK_NAME: snprintf(buf, n, "%s", t->s->s); break;
    case TK_STRING: snprintf(buf, n, "string"); break;
    case TK_INT: snprintf(buf, n, "integer"); break;
    case TK_FLOAT: snprintf(buf, n, "float"); break;
    case TK_OP:
        switch (t->op) {
        case TK_FLOORDIV: snprintf(buf, n, "//"); break;
        case TK_POW: snprintf(buf, n, "**"); break;
        case TK_EQ: snprintf(buf, n, "=="); break;
        case TK_NE: snprintf(buf, n, "!="); break;
        case TK_LE: snprintf(buf, n, "<="); break;
        case TK_GE: snprintf(buf, n, ">="); break;
        default: snprintf(buf, n, "%c", t->op);
        }
        break;
    default: snprintf(buf, n, "?");
    }
}

static node *fail_at(parser *p, tok *t, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static node *fail_at(parser *p, tok *t, const char *fmt, ...)
{
    if (p->failed) return NULL;
    p->failed = true;
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ig_err(p->err, IG_ERR_TEMPLATE, "%s", msg);
    ig__tmpl_err_pos(p->err, p->t, t->line, t->col);
    return NULL;
}

static bool is_op(parser *p, int op) { return cur(p)->type == TK_OP && cur(p)->op == op; }
static bool is_name(tok *t, const char *s) { return t->type == TK_NAME && strcmp(t->s->s, s) == 0; }

static bool expect_op(parser *p, int op, const char *what)
{
    if (is_op(p, op)) {
        next(p);
        return true;
    }
    char d[64];
    describe(cur(p), d, sizeof d);
    fail_at(p, cur(p), "expected token '%s', got '%s'", what, d);
    return false;
}

static bool expect_type(parser *p, int type, const char *what)
{
    if (cur(p)->type == type) {
        next(p);
        return true;
    }
    char d[64];
    describe(cur(p), d, sizeof d);
    fail_at(p, cur(p), "expected token '%s', got '%s'", what, d);
    return false;
}

static node *mk(parser *p, int kind, tok *at)
{
    node *n = ig__tmpl_zalloc(p->a, sizeof *n);
    n->kind = (uint8_t)kind;
    n->line = at->line;
    n->col = at->col;
    return n;
}

/* growable node arrays built in scratch, then copied to the arena: the
 * first NV_INLINE items live in the vector itself (nearly every argument
 * list, body and tuple), longer ones move to malloc'd memory. free(v.v) is
 * safe either way: v is NULL until the vector spills. */
#define NV_INLINE 8
typedef struct nvec {
    node **v; /* malloc'd once spilled, else NULL */
    int n, cap;
    node *in[NV_INLINE];
} nvec;

static node **nv_items(nvec *v) { return v->v ? v->v : v->in; }

static void nv_push(nvec *v, node *x)
{
    if (v->n < NV_INLINE && !v->v) {
        v->in[v->n++] = x;
        return;
    }
    if (!v->v) {
        v->cap = NV_INLINE * 2;
        v->v = ig_malloc((size_t)v->cap * sizeof(node *));
        memcpy(v->v, v->in, sizeof v->in);
    } else if (v->n == v->cap) {
        v->cap *= 2;
        v->v = ig_realloc(v->v, (size_t)v->cap * sizeof(node *));
    }
    v->v[v->n++] = x;
}

static node **nv_done(parser *p, nvec *v, int *count)
{
    *count = v->n;
    node **r = NULL;
    if (v->n) {
        r = ig__tmpl_alloc(p->a, (size_t)v->n * sizeof(node *));
        memcpy(r, nv_items(v), (size_t)v->n * sizeof(node *));
    }
    free(v->v);
    v->v = NULL;
    v->n = v->cap = 0;
    return r;
}

/* ----------------------------------------------------------- expressions */

static node *parse_expression(parser *p, bool with_condexpr);
static node *parse_tuple(parser *p, bool simplified, bool with_condexpr, const char *extra_end,
                         bool explicit_parens);
static node *parse_unary(parser *p, bool with_filter);
static node *parse_primary(parser *p);
static node *parse_postfix(parser *p, node *n);
static node *parse_filter(parser *p, node *n, bool start_inline);
static node *parse_or(parser *p);

static bool enter(parser *p)
{
    if (++p->depth > MAX_NEST) {
        fail_at(p, cur(p), "template nesting too deep (more than %d levels)", MAX_NEST);
        return false;
    }
    return true;
}

static node *leave(parser *p, node *n)
{
    p->depth--;
    return p->failed ? NULL : n;
}

static node *parse_condexpr(parser *p)
{
    node *e1 = NULL, *n = NULL;
    if (!enter(p)) return NULL;
    e1 = parse_or(p);
    while (e1 && is_name(cur(p), "if")) {
        tok *t = cur(p);
        next(p);
        node *e2 = parse_or(p);
        if (!e2) break;
        node *e3 = NULL;
        if (is_name(cur(p), "else")) {
            next(p);
            e3 = parse_condexpr(p);
            if (!e3) break;
        }
        n = mk(p, N_COND, t);
        n->a = e2; /* test */
        n->b = e1; /* then */
        n->c = e3; /* else, may be NULL */
        e1 = n;
    }
    return leave(p, e1);
}

static node *parse_compare(parser *p);

static node *parse_not(parser *p)
{
    if (is_name(cur(p), "not")) {
        tok *t = cur(p);
        next(p);
        if (!enter(p)) return NULL;
        node *n = mk(p, N_NOT, t);
        n->a = parse_not(p);
        return leave(p, n->a ? n : NULL);
    }
    return parse_compare(p);
}

static node *parse_and(parser *p)
{
    node *l = parse_not(p);
    while (l && is_name(cur(p), "and")) {
        tok *t = cur(p);
        next(p);
        node *r = parse_not(p);
        if (!r) return NULL;
        node *n = mk(p, N_AND, t);
        n->a = l;
        n->b = r;
        l = n;
    }
    return l;
}

/* A token after which no operator, call, filter or test can follow. */
static bool ends_expr(const tok *t)
{
    if (t->type == TK_VAR_END || t->type == TK_BLOCK_END) return true;
    return t->type == TK_OP && (t->op == ',' || t->op == ')' || t->op == ']' || t->op == '}' ||
                                t->op == ':');
}

static node *parse_or(parser *p)
{
    /* fast path for the common lone operand (`ref('x')`'s argument, a loop
     * variable): skip the ten precedence levels between here and primary */
    tok *t0 = cur(p);
    if ((t0->type == TK_STRING || t0->type == TK_INT || t0->type == TK_FLOAT ||
         (t0->type == TK_NAME && strcmp(t0->s->s, "not"))) &&
        ends_expr(peek(p, 1)))
        return parse_primary(p);
    node *l = parse_and(p);
    while (l && is_name(cur(p), "or")) {
        tok *t = cur(p);
        next(p);
        node *r = parse_and(p);
        if (!r) return NULL;
        node *n = mk(p, N_OR, t);
        n->a = l;
        n->b = r;
        l = n;
    }
    return l;
}

static node *parse_math1(parser *p);

static node *parse_compare(parser *p)
{
    tok *start = cur(p);
    node *e = parse_math1(p);
    if (!e) return NULL;
    nvec operands = {0};
    uint8_t ops[64];
    int nops = 0;
    for (;;) {
        tok *t = cur(p);
        int op = 0;
        if (t->type == TK_OP) {
            switch (t->op) {
            case TK_EQ: op = OP_EQ; break;
            case TK_NE: op = OP_NE; break;
            case '<': op = OP_LT; break;
            case TK_LE: op = OP_LE; break;
            case '>': op = OP_GT; break;
            case TK_GE: op = OP_GE; break;
            }
            if (op) next(p);
        } else if (is_name(t, "in")) {
            op = OP_IN;
            next(p);
        } else if (is_name(t, "not") && is_name(peek(p, 1), "in")) {
            op = OP_NOTIN;
            next(p);
            next(p);
        }
        if (!op) break;
        if (nops == 64) {
            free(operands.v);
            return fail_at(p, t, "too many chained comparisons");
        }
        node *r = parse_math1(p);
        if (!r) {
            free(operands.v);
            return NULL;
        }
        ops[nops++] = (uint8_t)op;
        nv_push(&operands, r);
    }
    if (!nops) return e;
    node *n = mk(p, N_COMPARE, start);
    n->a = e;
    n->kids = nv_done(p, &operands, &n->nkids);
    n->ops = ig__tmpl_zalloc(p->a, (size_t)nops);
    memcpy(n->ops, ops, (size_t)nops);
    return n;
}

static node *binop(parser *p, tok *t, int op, node *l, node *r)
{
    node *n = mk(p, N_BINOP, t);
    n->op = (uint8_t)op;
    n->a = l;
    n->b = r;
    return n;
}

static node *parse_concat(parser *p);
static node *parse_math2(parser *p);
static node *parse_pow(parser *p);

static node *parse_math1(parser *p)
{
    node *l = parse_concat(p);
    while (l && (is_op(p, '+') || is_op(p, '-'))) {
        tok *t = cur(p);
        next(p);
        node *r = parse_concat(p);
        if (!r) return NULL;
        l = binop(p, t, t->op == '+' ? OP_ADD : OP_SUB, l, r);
    }
    return l;
}

static node *parse_concat(parser *p)
{
    tok *start = cur(p);
    node *first = parse_math2(p);
    if (!first || !is_op(p, '~')) return first;
    nvec parts = {0};
    nv_push(&parts, first);
    while (is_op(p, '~')) {
        next(p);
        node *r = parse_math2(p);
        if (!r) {
            free(parts.v);
            return NULL;
        }
        nv_push(&parts, r);
    }
    node *n = mk(p, N_CONCAT, start);
    n->kids = nv_done(p, &parts, &n->nkids);
    return n;
}

static node *parse_math2(parser *p)
{
    node *l = parse_pow(p);
    for (;;) {
        if (!l) return NULL;
        tok *t = cur(p);
        int op = 0;
        if (t->type == TK_OP) {
            if (t->op == '*') op = OP_MUL;
            else if (t->op == '/') op = OP_DIV;
            else if (t->op == TK_FLOORDIV) op = OP_FLOORDIV;
            else if (t->op == '%') op = OP_MOD;
        }
        if (!op) return l;
        next(p);
        node *r = parse_pow(p);
        if (!r) return NULL;
        l = binop(p, t, op, l, r);
    }
}

static node *parse_pow(parser *p)
{
    node *l = parse_unary(p, true);
    while (l && is_op(p, TK_POW)) {
        tok *t = cur(p);
        next(p);
        node *r = parse_unary(p, true);
        if (!r) return NULL;
        l = binop(p, t, OP_POW, l, r);
    }
    return l;
}

static node *parse_filter_expr(parser *p, node *n);

static node *parse_unary(parser *p, bool with_filter)
{
    tok *t = cur(p);
    node *n;
    if (!enter(p)) return NULL;
    if (is_op(p, '-') || is_op(p, '+')) {
        next(p);
        n = mk(p, t->op == '-' ? N_NEG : N_POS, t);
        n->a = parse_unary(p, false);
        if (!n->a) return leave(p, NULL);
    } else {
        n = parse_primary(p);
        if (!n) return leave(p, NULL);
    }
    n = parse_postfix(p, n);
    if (n && with_filter) n = parse_filter_expr(p, n);
    return leave(p, n);
}

static node *const_node(parser *p, tok *t, ig_tmpl_val v)
{
    node *n = mk(p, N_CONST, t);
    n->val = v;
    return n;
}

static node *parse_list_or_dict(parser *p, bool dict)
{
    tok *start = cur(p);
    next(p);
    nvec keys = {0}, vals = {0};
    int close = dict ? '}' : ']';
    while (!is_op(p, close)) {
        if (keys.n && !expect_op(p, ',', ",")) goto fail;
        if (is_op(p, close)) break;
        node *k = parse_expression(p, true);
        if (!k) goto fail;
        nv_push(&keys, k);
        if (dict) {
            if (!expect_op(p, ':', ":")) goto fail;
            node *v = parse_expression(p, true);
            if (!v) goto fail;
            nv_push(&vals, v);
        }
    }
    next(p);
    node *n = mk(p, dict ? N_DICT : N_LIST, start);
    n->kids = nv_done(p, &keys, &n->nkids);
    n->kids2 = nv_done(p, &vals, &n->nkids2);
    return n;
fail:
    free(keys.v);
    free(vals.v);
    return NULL;
}

static node *parse_primary(parser *p)
{
    tok *t = cur(p);
    switch (t->type) {
    case TK_NAME: {
        const char *s = t->s->s;
        next(p);
        if (!strcmp(s, "true") || !strcmp(s, "True")) return const_node(p, t, mkbool(true));
        if (!strcmp(s, "false") || !strcmp(s, "False")) return const_node(p, t, mkbool(false));
        if (!strcmp(s, "none") || !strcmp(s, "None")) return const_node(p, t, mknone());
        node *n = mk(p, N_NAME, t);
        n->name = t->s;
        return n;
    }
    case TK_STRING: {
        next(p);
        if (cur(p)->type != TK_STRING) return const_node(p, t, mkobjv(IG_TMPL_STR, t->s));
        ig_buf b = IG_BUF_INIT;
        ig_buf_append(&b, t->s->s, t->s->len);
        while (cur(p)->type == TK_STRING) {
            ig_buf_append(&b, cur(p)->s->s, cur(p)->s->len);
            next(p);
        }
        tstr *s = ig__tmpl_istr(p->a, ig_buf_cstr(&b), b.len);
        ig_buf_free(&b);
        return const_node(p, t, mkobjv(IG_TMPL_STR, s));
    }
    case TK_INT: next(p); return const_node(p, t, mkint(t->i));
    case TK_FLOAT: next(p); return const_node(p, t, mkfloat(t->f));
    case TK_OP:
        if (t->op == '(') {
            next(p);
            node *n = parse_tuple(p, false, true, NULL, true);
            if (!n || !expect_op(p, ')', ")")) return NULL;
            return n;
        }
        if (t->op == '[') return parse_list_or_dict(p, false);
        if (t->op == '{') return parse_list_or_dict(p, true);
        break;
    default: break;
    }
    char d[64];
    describe(t, d, sizeof d);
    if (t->type == TK_VAR_END || t->type == TK_BLOCK_END || t->type == TK_EOF)
        return fail_at(p, t, "expected an expression, got '%s'", d);
    return fail_at(p, t, "unexpected '%s'", d);
}

static bool is_tuple_end(parser *p, const char *extra)
{
    tok *t = cur(p);
    if (t->type == TK_VAR_END || t->type == TK_BLOCK_END || t->type == TK_EOF) return true;
    if (t->type == TK_OP && t->op == ')') return true;
    if (extra && is_name(t, extra)) return true;
    return false;
}

static node *parse_tuple(parser *p, bool simplified, bool with_condexpr, const char *extra_end,
                         bool explicit_parens)
{
    tok *start = cur(p);
    nvec items = {0};
    bool is_tuple = false;
    for (;;) {
        if (items.n && !expect_op(p, ',', ",")) goto fail;
        if (is_tuple_end(p, extra_end)) break;
        node *e;
        if (simplified) {
            e = parse_primary(p);
            if (e) e = parse_postfix(p, e);
        } else {
            e = parse_expression(p, with_condexpr);
        }
        if (!e) goto fail;
        nv_push(&items, e);
        if (is_op(p, ','))
            is_tuple = true;
        else
            break;
    }
    if (!is_tuple) {
        if (items.n) {
            node *r = nv_items(&items)[0];
            free(items.v);
            return r;
        }
        if (!explicit_parens) {
            char d[64];
            describe(cur(p), d, sizeof d);
            return fail_at(p, cur(p), "expected an expression, got '%s'", d);
        }
    }
    node *n = mk(p, N_TUPLE, start);
    n->kids = nv_done(p, &items, &n->nkids);
    return n;
fail:
    free(items.v);
    return NULL;
}

static node *parse_expression(parser *p, bool with_condexpr)
{
    if (with_condexpr) return parse_condexpr(p);
    return parse_or(p);
}

/* (args) of a call, filter or test into n->args */
static bool parse_call_args(parser *p, node *n)
{
    tok *open = cur(p);
    if (!expect_op(p, '(', "(")) return false;
    arg buf[256];
    int na = 0;
    bool dyn_args = false, dyn_kwargs = false, kw = false, need_comma = false;
    while (!is_op(p, ')')) {
        if (need_comma) {
            if (!expect_op(p, ',', ",")) return false;
            if (is_op(p, ')')) break;
        }
        if (na == 256) {
            fail_at(p, open, "too many arguments");
            return false;
        }
        tok *t = cur(p);
        arg a = {0};
        if (is_op(p, '*')) {
            if (dyn_args || dyn_kwargs) goto bad;
            next(p);
            a.kind = ARG_STAR;
            dyn_args = true;
        } else if (is_op(p, TK_POW)) {
            if (dyn_kwargs) goto bad;
            next(p);
            a.kind = ARG_DSTAR;
            dyn_kwargs = true;
        } else if (t->type == TK_NAME && peek(p, 1)->type == TK_OP && peek(p, 1)->op == '=') {
            if (dyn_kwargs) goto bad;
            a.kind = ARG_KW;
            a.name = t->s;
            next(p);
            next(p);
            kw = true;
        } else {
            if (dyn_args || dyn_kwargs || kw) goto bad;
            a.kind = ARG_POS;
        }
        a.e = parse_expression(p, true);
        if (!a.e) return false;
        buf[na++] = a;
        need_comma = true;
        continue;
    bad:
        fail_at(p, t, "invalid argument syntax");
        return false;
    }
    next(p);
    n->nargs = na;
    if (na) {
        n->args = ig__tmpl_zalloc(p->a, (size_t)na * sizeof(arg));
        memcpy(n->args, buf, (size_t)na * sizeof(arg));
    }
    return true;
}

static tstr *dotted_name(parser *p)
{
    tok *t = cur(p);
    if (!expect_type(p, TK_NAME, "name")) return NULL;
    if (!is_op(p, '.')) return t->s;
    ig_buf b = IG_BUF_INIT;
    ig_buf_puts(&b, t->s->s);
    while (is_op(p, '.')) {
        next(p);
        tok *x = cur(p);
        if (!expect_type(p, TK_NAME, "name")) {
            ig_buf_free(&b);
            return NULL;
        }
        ig_buf_putc(&b, '.');
        ig_buf_puts(&b, x->s->s);
    }
    tstr *s = ig__tmpl_istr(p->a, ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    return s;
}

static node *parse_subscribed(parser *p)
{
    tok *start = cur(p);
    node *args[3] = {NULL, NULL, NULL};
    if (is_op(p, ':')) {
        next(p);
    } else {
        node *e = parse_expression(p, true);
        if (!e) return NULL;
        if (!is_op(p, ':')) return e;
        next(p);
        args[0] = e;
    }
    if (!is_op(p, ':') && !is_op(p, ']') && !is_op(p, ',')) {
        args[1] = parse_expression(p, true);
        if (!args[1]) return NULL;
    }
    if (is_op(p, ':')) {
        next(p);
        if (!is_op(p, ']') && !is_op(p, ',')) {
            args[2] = parse_expression(p, true);
            if (!args[2]) return NULL;
        }
    }
    node *n = mk(p, N_SLICE, start);
    n->a = args[0];
    n->b = args[1];
    n->c = args[2];
    return n;
}

static node *parse_postfix(parser *p, node *n)
{
    while (n && !p->failed) {
        tok *t = cur(p);
        if (is_op(p, '.')) {
            next(p);
            tok *a = cur(p);
            if (a->type == TK_NAME) {
                next(p);
                node *g = mk(p, N_GETATTR, a);
                g->a = n;
                g->name = a->s;
                n = g;
            } else if (a->type == TK_INT) {
                next(p);
                node *g = mk(p, N_GETITEM, a);
                g->a = n;
                g->b = const_node(p, a, mkint(a->i));
                n = g;
            } else {
                char d[64];
                describe(a, d, sizeof d);
                return fail_at(p, a, "expected name or number after '.', got '%s'", d);
            }
        } else if (is_op(p, '[')) {
            next(p);
            nvec subs = {0};
            while (!is_op(p, ']')) {
                if (subs.n && !expect_op(p, ',', ",")) {
                    free(subs.v);
                    return NULL;
                }
                if (is_op(p, ']')) break;
                node *s = parse_subscribed(p);
                if (!s) {
                    free(subs.v);
                    return NULL;
                }
                nv_push(&subs, s);
            }
            next(p);
            if (!subs.n) {
                free(subs.v);
                return fail_at(p, t, "expected a subscript");
            }
            node *g = mk(p, N_GETITEM, t);
            g->a = n;
            if (subs.n == 1) {
                g->b = nv_items(&subs)[0];
                free(subs.v);
            } else {
                node *tu = mk(p, N_TUPLE, t);
                tu->kids = nv_done(p, &subs, &tu->nkids);
                g->b = tu;
            }
            n = g;
        } else if (is_op(p, '(')) {
            node *c = mk(p, N_CALL, t);
            c->line = n->line; /* errors of a call point at what is called */
            c->col = n->col;
            c->a = n;
            if (!parse_call_args(p, c)) return NULL;
            n = c;
        } else {
            break;
        }
    }
    return p->failed ? NULL : n;
}

static node *parse_filter(parser *p, node *n, bool start_inline)
{
    while (is_op(p, '|') || start_inline) {
        if (!start_inline) next(p);
        start_inline = false;
        tok *t = cur(p);
        tstr *name = dotted_name(p);
        if (!name) return NULL;
        node *f = mk(p, N_FILTER, t);
        f->a = n;
        f->name = name;
        if (is_op(p, '(') && !parse_call_args(p, f)) return NULL;
        n = f;
    }
    return n;
}

static node *parse_test(parser *p, node *n)
{
    next(p); /* is */
    bool negated = false;
    if (is_name(cur(p), "not")) {
        next(p);
        negated = true;
    }
    tok *t = cur(p);
    tstr *name = dotted_name(p);
    if (!name) return NULL;
    node *x = mk(p, N_TEST, t);
    x->a = n;
    x->name = name;
    x->flags = negated ? NF_NEGATED : 0;
    tok *c = cur(p);
    if (is_op(p, '(')) {
        if (!parse_call_args(p, x)) return NULL;
    } else if ((c->type == TK_NAME || c->type == TK_STRING || c->type == TK_INT ||
                c->type == TK_FLOAT || (c->type == TK_OP && (c->op == '[' || c->op == '{'))) &&
               !is_name(c, "else") && !is_name(c, "or") && !is_name(c, "and")) {
        if (is_name(c, "is")) return fail_at(p, c, "you cannot chain multiple tests with is");
        node *a = parse_primary(p);
        if (a) a = parse_postfix(p, a);
        if (!a) return NULL;
        x->args = ig__tmpl_zalloc(p->a, sizeof(arg));
        x->args[0].kind = ARG_POS;
        x->args[0].e = a;
        x->nargs = 1;
    }
    return x;
}

static node *parse_filter_expr(parser *p, node *n)
{
    while (n && !p->failed) {
        if (is_op(p, '|')) {
            n = parse_filter(p, n, false);
        } else if (is_name(cur(p), "is")) {
            n = parse_test(p, n);
        } else if (is_op(p, '(')) {
            node *c = mk(p, N_CALL, cur(p));
            c->line = n->line;
            c->col = n->col;
            c->a = n;
            if (!parse_call_args(p, c)) return NULL;
            n = c;
        } else {
            break;
        }
    }
    return p->failed ? NULL : n;
}

/* ------------------------------------------------------------ statements */

static node **subparse(parser *p, const char *const *ends, int *count);

static const char *block_end_desc = "end of statement block";

/* After a statement's head: optional colon, %}, then the body up to one of
 * ends (left as the current token). */
static node **parse_statements(parser *p, const char *const *ends, bool drop_needle, int *count)
{
    if (is_op(p, ':')) next(p);
    if (!expect_type(p, TK_BLOCK_END, block_end_desc)) return NULL;
    node **body = subparse(p, ends, count);
    if (p->failed) return NULL;
    if (cur(p)->type == TK_EOF) {
        char want[256] = "";
        for (int i = 0; ends[i]; i++) {
            size_t l = strlen(want);
            snprintf(want + l, sizeof want - l, "%s'%s'", i ? " or " : "", ends[i]);
        }
        fail_at(p, cur(p),
                "unexpected end of template: looking for %s; the innermost block that needs to "
                "be closed is '%s'",
                want, p->nstack ? p->stack[p->nstack - 1] : "?");
        return NULL;
    }
    if (drop_needle) next(p);
    return body;
}

static void push_block(parser *p, const char *name, const char *const *ends)
{
    p->stack[p->nstack] = name;
    p->ends[p->nstack] = ends;
    p->nstack++;
}

static node *parse_assign_target(parser *p, bool with_namespace, bool name_only,
                                 const char *extra_end)
{
    tok *t = cur(p);
    if (with_namespace && t->type == TK_NAME && peek(p, 1)->type == TK_OP && peek(p, 1)->op == '.' &&
        peek(p, 2)->type == TK_NAME) {
        next(p);
        next(p);
        node *n = mk(p, N_GETATTR, peek(p, 0));
        node *base = mk(p, N_NAME, t);
        base->name = t->s;
        n->a = base;
        n->name = cur(p)->s;
        next(p);
        return n;
    }
    if (name_only) {
        if (t->type != TK_NAME) {
            char d[64];
            describe(t, d, sizeof d);
            return fail_at(p, t, "expected a name, got '%s'", d);
        }
        next(p);
        node *n = mk(p, N_NAME, t);
        n->name = t->s;
        return n;
    }
    node *n = parse_tuple(p, true, true, extra_end, false);
    if (!n) return NULL;
    if (n->kind == N_NAME) return n;
    if (n->kind == N_TUPLE) {
        for (int i = 0; i < n->nkids; i++)
            if (n->kids[i]->kind != N_NAME && n->kids[i]->kind != N_TUPLE)
                return fail_at(p, t, "can't assign to that expression");
        return n;
    }
    return fail_at(p, t, "can't assign to that expression");
}

static bool parse_signature(parser *p, node *n)
{
    if (!expect_op(p, '(', "(")) return false;
    nvec params = {0}, defs = {0};
    bool any_default = false;
    while (!is_op(p, ')')) {
        if (params.n && !expect_op(p, ',', ",")) goto fail;
        if (is_op(p, ')')) break;
        node *a = parse_assign_target(p, false, true, NULL);
        if (!a) goto fail;
        node *d = NULL;
        if (is_op(p, '=')) {
            next(p);
            d = parse_expression(p, true);
            if (!d) goto fail;
            any_default = true;
        } else if (any_default) {
            fail_at(p, cur(p), "non-default argument follows default argument");
            goto fail;
        }
        nv_push(&params, a);
        nv_push(&defs, d);
    }
    next(p);
    n->kids = nv_done(p, &params, &n->nkids);
    n->kids2 = nv_done(p, &defs, &n->nkids2);
    return true;
fail:
    free(params.v);
    free(defs.v);
    return false;
}

/* Which of varargs / kwargs / caller a macro body reads. */
static int uses_specials(const node *n)
{
    int f = 0;
    while (n) {
        if (n->kind == N_NAME) {
            if (!strcmp(n->name->s, "varargs")) f |= NF_VARARGS;
            else if (!strcmp(n->name->s, "kwargs")) f |= NF_KWARGS;
            else if (!strcmp(n->name->s, "caller")) f |= NF_CALLER;
            return f;
        }
        if (n->kind == N_MACRO) {
            for (int i = 0; i < n->nkids2; i++) f |= uses_specials(n->kids2[i]);
            return f;
        }
        f |= uses_specials(n->a) | uses_specials(n->b) | uses_specials(n->c);
        for (int i = 0; i < n->nkids; i++) f |= uses_specials(n->kids[i]);
        for (int i = 0; i < n->nkids2; i++) f |= uses_specials(n->kids2[i]);
        for (int i = 0; i < n->nbody; i++) f |= uses_specials(n->body[i]);
        for (int i = 0; i < n->nargs; i++) f |= uses_specials(n->args[i].e);
        if (n->nels == 1 && n->els[0]->kind == N_IF) { /* elif chains can be long: loop */
            n = n->els[0];
            continue;
        }
        for (int i = 0; i < n->nels; i++) f |= uses_specials(n->els[i]);
        break;
    }
    return f;
}

static int body_specials(node **body, int n)
{
    int f = 0;
    for (int i = 0; i < n; i++) f |= uses_specials(body[i]);
    return f;
}

static node *parse_if(parser *p, tok *t)
{
    static const char *const ends[] = {"elif", "else", "endif", NULL};
    static const char *const endif[] = {"endif", NULL};
    node *n = mk(p, N_IF, t);
    node *top = n;
    push_block(p, "if", ends);
    for (;;) {
        n->a = parse_tuple(p, false, false, NULL, false);
        if (!n->a) return NULL;
        n->body = parse_statements(p, ends, false, &n->nbody);
        if (p->failed) return NULL;
        tok *k = cur(p);
        next(p);
        if (is_name(k, "elif")) {
            node *e = mk(p, N_IF, k);
            n->els = ig__tmpl_zalloc(p->a, sizeof(node *));
            n->els[0] = e;
            n->nels = 1;
            n = e;
            continue;
        }
        if (is_name(k, "else")) {
            n->els = parse_statements(p, endif, true, &n->nels);
            if (p->failed) return NULL;
        }
        break;
    }
    p->nstack--;
    return top;
}

static node *parse_for(parser *p, tok *t)
{
    static const char *const ends[] = {"endfor", "else", NULL};
    static const char *const endfor[] = {"endfor", NULL};
    node *n = mk(p, N_FOR, t);
    n->a = parse_assign_target(p, false, false, "in");
    if (!n->a) return NULL;
    if (!is_name(cur(p), "in")) {
        char d[64];
        describe(cur(p), d, sizeof d);
        return fail_at(p, cur(p), "expected token 'in', got '%s'", d);
    }
    next(p);
    n->b = parse_tuple(p, false, false, "recursive", false);
    if (!n->b) return NULL;
    if (is_name(cur(p), "if")) {
        next(p);
        n->c = parse_expression(p, true);
        if (!n->c) return NULL;
    }
    if (is_name(cur(p), "recursive")) {
        next(p);
        n->flags |= NF_RECURSIVE;
    }
    push_block(p, "for", ends);
    p->loop_depth++;
    n->body = parse_statements(p, ends, false, &n->nbody);
    p->loop_depth--;
    if (p->failed) return NULL;
    tok *k = cur(p);
    next(p);
    if (is_name(k, "else")) {
        n->els = parse_statements(p, endfor, true, &n->nels);
        if (p->failed) return NULL;
    }
    p->nstack--;
    return n;
}

static node *parse_set(parser *p, tok *t)
{
    static const char *const ends[] = {"endset", NULL};
    node *target = parse_assign_target(p, true, false, NULL);
    if (!target) return NULL;
    if (is_op(p, '=')) {
        next(p);
        node *n = mk(p, N_SET, t);
        n->a = target;
        n->b = parse_tuple(p, false, true, NULL, false);
        return n->b ? n : NULL;
    }
    node *n = mk(p, N_SETBLOCK, t);
    n->a = target;
    if (is_op(p, '|')) {
        n->c = parse_filter(p, NULL, false);
        if (!n->c) return NULL;
    }
    push_block(p, "set", ends);
    n->body = parse_statements(p, ends, true, &n->nbody);
    p->nstack--;
    return p->failed ? NULL : n;
}

static node *parse_macro(parser *p, tok *t)
{
    static const char *const ends[] = {"endmacro", NULL};
    node *n = mk(p, N_MACRO, t);
    node *name = parse_assign_target(p, false, true, NULL);
    if (!name) return NULL;
    n->name = name->name;
    if (!parse_signature(p, n)) return NULL;
    push_block(p, "macro", ends);
    int saved = p->loop_depth;
    p->loop_depth = 0;
    n->body = parse_statements(p, ends, true, &n->nbody);
    p->loop_depth = saved;
    p->nstack--;
    if (p->failed) return NULL;
    n->flags |= (uint16_t)body_specials(n->body, n->nbody);
    for (int i = 0; i < n->nkids2; i++) n->flags |= (uint16_t)uses_specials(n->kids2[i]);
    return n;
}

static node *parse_call_block(parser *p, tok *t)
{
    static const char *const ends[] = {"endcall", NULL};
    node *n = mk(p, N_CALLBLOCK, t);
    if (is_op(p, '(') && !parse_signature(p, n)) return NULL;
    tok *c = cur(p);
    n->a = parse_expression(p, true);
    if (!n->a) return NULL;
    if (n->a->kind != N_CALL) return fail_at(p, c, "expected call");
    push_block(p, "call", ends);
    int saved = p->loop_depth;
    p->loop_depth = 0;
    n->body = parse_statements(p, ends, true, &n->nbody);
    p->loop_depth = saved;
    p->nstack--;
    if (p->failed) return NULL;
    n->flags |= (uint16_t)(body_specials(n->body, n->nbody) & (NF_VARARGS | NF_KWARGS));
    return n;
}

static node *parse_statement(parser *p)
{
    tok *t = cur(p);
    if (t->type != TK_NAME) return fail_at(p, t, "tag name expected");
    const char *k = t->s->s;
    if (!enter(p)) return NULL;
    next(p);
    node *n = NULL;
    if (!strcmp(k, "if")) {
        n = parse_if(p, t);
    } else if (!strcmp(k, "for")) {
        n = parse_for(p, t);
    } else if (!strcmp(k, "set")) {
        n = parse_set(p, t);
    } else if (!strcmp(k, "macro")) {
        n = parse_macro(p, t);
    } else if (!strcmp(k, "call")) {
        n = parse_call_block(p, t);
    } else if (!strcmp(k, "filter")) {
        static const char *const ends[] = {"endfilter", NULL};
        n = mk(p, N_FILTERBLOCK, t);
        n->c = parse_filter(p, NULL, true);
        if (n->c) {
            push_block(p, "filter", ends);
            n->body = parse_statements(p, ends, true, &n->nbody);
            p->nstack--;
        }
    } else if (!strcmp(k, "with")) {
        static const char *const ends[] = {"endwith", NULL};
        n = mk(p, N_WITH, t);
        nvec targets = {0}, values = {0};
        while (cur(p)->type != TK_BLOCK_END && !p->failed) {
            if (targets.n && !expect_op(p, ',', ",")) break;
            node *tg = parse_assign_target(p, false, false, NULL);
            if (!tg || !expect_op(p, '=', "=")) break;
            node *v = parse_expression(p, true);
            if (!v) break;
            nv_push(&targets, tg);
            nv_push(&values, v);
        }
        n->kids = nv_done(p, &targets, &n->nkids);
        n->kids2 = nv_done(p, &values, &n->nkids2);
        if (!p->failed) {
            push_block(p, "with", ends);
            n->body = parse_statements(p, ends, true, &n->nbody);
            p->nstack--;
        }
    } else if (!strcmp(k, "autoescape")) {
        /* dbt renders text, not HTML: autoescape blocks are plain scopes */
        static const char *const ends[] = {"endautoescape", NULL};
        n = mk(p, N_WITH, t);
        if (parse_expression(p, true)) {
            push_block(p, "autoescape", ends);
            n->body = parse_statements(p, ends, true, &n->nbody);
            p->nstack--;
        }
    } else if (!strcmp(k, "block")) {
        static const char *const ends[] = {"endblock", NULL};
        n = mk(p, N_BLOCK, t);
        tok *nm = cur(p);
        if (expect_type(p, TK_NAME, "name")) {
            n->name = nm->s;
            if (is_name(cur(p), "scoped")) next(p);
            push_block(p, "block", ends);
            n->body = parse_statements(p, ends, true, &n->nbody);
            p->nstack--;
            if (!p->failed && cur(p)->type == TK_NAME) {
                if (strcmp(cur(p)->s->s, nm->s->s) != 0)
                    fail_at(p, cur(p), "mismatching name of block '%s'", nm->s->s);
                next(p);
            }
        }
    } else if (!strcmp(k, "do")) {
        n = mk(p, N_DO, t);
        n->a = parse_tuple(p, false, true, NULL, false);
    } else if (!strcmp(k, "break") || !strcmp(k, "continue")) {
        if (!p->loop_depth) {
            n = fail_at(p, t, "'%s' outside of a loop", k);
        } else {
            n = mk(p, k[0] == 'b' ? N_BREAK : N_CONTINUE, t);
        }
    } else if (!strcmp(k, "include") || !strcmp(k, "import") || !strcmp(k, "from") ||
               !strcmp(k, "extends")) {
        n = fail_at(p, t, "'%s' is not supported: dbt projects share macros through the "
                          "project and its packages", k);
    } else {
        char extra[400] = "";
        if (p->nstack) {
            const char *const *ends = p->ends[p->nstack - 1];
            size_t l = 0;
            l += (size_t)snprintf(extra, sizeof extra, "; looking for ");
            for (int i = 0; ends[i] && l < sizeof extra; i++)
                l += (size_t)snprintf(extra + l, sizeof extra - l, "%s'%s'", i ? " or " : "", ends[i]);
            if (l < sizeof extra)
                snprintf(extra + l, sizeof extra - l,
                         "; the innermost block that needs to be closed is '%s'",
                         p->stack[p->nstack - 1]);
        }
        n = fail_at(p, t, "encountered unknown tag '%s'%s", k, extra);
    }
    p->depth--;
    return p->failed ? NULL : n;
}

static node **subparse(parser *p, const char *const *ends, int *count)
{
    nvec body = {0};
    while (!p->failed) {
        tok *t = cur(p);
        if (t->type == TK_EOF) break;
        if (t->type == TK_DATA) {
            node *n = mk(p, N_TEXT, t);
            n->val = mkobjv(IG_TMPL_STR, t->s);
            nv_push(&body, n);
            next(p);
        } else if (t->type == TK_VAR_BEGIN) {
            next(p);
            node *e = parse_tuple(p, false, true, NULL, false);
            if (!e || !expect_type(p, TK_VAR_END, "end of print statement")) break;
            node *n = mk(p, N_OUTPUT, t);
            n->a = e;
            nv_push(&body, n);
        } else if (t->type == TK_BLOCK_BEGIN) {
            next(p);
            if (ends && cur(p)->type == TK_NAME)
                for (int i = 0; ends[i]; i++)
                    if (!strcmp(cur(p)->s->s, ends[i])) {
                        *count = 0;
                        return nv_done(p, &body, count);
                    }
            node *s = parse_statement(p);
            if (!s) break;
            nv_push(&body, s);
            if (!expect_type(p, TK_BLOCK_END, block_end_desc)) break;
        } else {
            char d[64];
            describe(t, d, sizeof d);
            fail_at(p, t, "unexpected '%s'", d);
        }
    }
    if (p->failed) {
        free(body.v);
        return NULL;
    }
    return nv_done(p, &body, count);
}

/* ------------------------------------------------------------- templates */

ig_rc ig_tmpl_parse(const char *name, const char *src, size_t len, ig_tmpl **out, ig_error *err)
{
    *out = NULL;
    ig_tmpl *t = ig_calloc(1, sizeof *t);
    atomic_init(&t->refs, 1);
    t->name = ig_strdup(name ? name : "<template>");
    t->src = ig_malloc(len + 1);
    if (len) memcpy(t->src, src, len);
    t->src[len] = '\0';
    t->len = len;
    t->arena.next_size = len * 24 + 1024; /* a dbt model's tree is ~22x its source: one chunk */
    parser p = {0};
    p.t = t;
    p.a = &t->arena;
    p.err = err;
    if (ig__tmpl_lex(t, &t->arena, &p.toks, &p.ntoks, err)) {
        ig_tmpl_free(t);
        return IG_ERR_TEMPLATE;
    }
    t->body = subparse(&p, NULL, &t->nbody);
    free(p.toks);
    if (p.failed) {
        ig_tmpl_free(t);
        return IG_ERR_TEMPLATE;
    }
    int nm = 0;
    for (int i = 0; i < t->nbody; i++) nm += t->body[i]->kind == N_MACRO;
    if (nm) {
        t->macros = ig__tmpl_zalloc(&t->arena, (size_t)nm * sizeof(node *));
        for (int i = 0; i < t->nbody; i++)
            if (t->body[i]->kind == N_MACRO) t->macros[t->nmacros++] = t->body[i];
    }
    *out = t;
    return 0;
}

ig_tmpl *ig__tmpl_retain(ig_tmpl *t)
{
    atomic_fetch_add(&t->refs, 1);
    return t;
}

void ig_tmpl_free(ig_tmpl *t)
{
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1) return;
    ig__tmpl_arena_free(&t->arena);
    free(t->src);
    free(t->name);
    free(t);
}

const char *ig_tmpl_name(const ig_tmpl *t) { return t->name; }
size_t ig_tmpl_macro_count(const ig_tmpl *t) { return (size_t)t->nmacros; }
const char *ig_tmpl_macro_name(const ig_tmpl *t, size_t i)
{
    return i < (size_t)t->nmacros ? t->macros[i]->name->s : NULL;
}
