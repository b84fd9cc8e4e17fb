/* The tokenizer: turns template source into the token array the parser
 * reads. Text outside tags becomes DATA tokens; `{{ }}` and `{% %}` open a
 * tag mode with Jinja's expression tokens; comments and `{% raw %}` are
 * handled here, and so is whitespace control (`{%-`, `-%}` strip all
 * whitespace, newlines included, on that side). As in Jinja, the end of a
 * tag is only recognised outside brackets, so `{{ {'a': {'b': 1}} }}` works,
 * and one trailing newline of the source is dropped. */
#include "tmpl_lex.h"

#include "core/mem.h"
#include "core/str.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lexer {
    const char *src;
    size_t len, pos;
    int line;
    size_t line_start;
    tarena *arena;
    size_t col_pos; /* column cache: col_at(col_pos) == col_val on this line */
    int col_val;
    size_t col_line;
    const ig_tmpl *t;
    ig_error *err;
    tok *toks;
    size_t ntoks, cap;
    bool lstrip_next; /* the previous tag ended with '-' */
    bool ascii;       /* no byte >= 0x80: a column is a byte offset */
} lexer;

static int col_at(lexer *lx, size_t pos)
{
    if (lx->ascii) return (int)(pos - lx->line_start) + 1;
    size_t from = lx->line_start;
    int col = 1;
    if (lx->col_val > 0 && lx->col_line == lx->line_start && lx->col_pos <= pos && lx->col_pos >= from) {
        from = lx->col_pos; /* tokens come in order: continue from the last one */
        col = lx->col_val;
    }
    for (size_t i = from; i < pos && i < lx->len; i++)
        if (((unsigned char)lx->src[i] & 0xC0) != 0x80) col++;
    lx->col_line = lx->line_start;
    lx->col_pos = pos;
    lx->col_val = col;
    return col;
}

static void advance_to(lexer *lx, size_t pos)
{
    const char *s = lx->src;
    for (size_t i = lx->pos; i < pos; i++)
        if (s[i] == '\n') {
            lx->line++;
            lx->line_start = i + 1;
        }
    lx->pos = pos;
}

static ig_rc lex_fail(lexer *lx, size_t pos, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* find the line of pos */
    int line = 1;
    size_t ls = 0;
    for (size_t i = 0; i < pos && i < lx->len; i++)
        if (lx->src[i] == '\n') {
            line++;
            ls = i + 1;
        }
    lx->line = line;
    lx->line_start = ls;
    ig_err(lx->err, IG_ERR_TEMPLATE, "%s", msg);
    ig__tmpl_err_pos(lx->err, lx->t, line, col_at(lx, pos));
    return IG_ERR_TEMPLATE;
}

static tok *push(lexer *lx, int type, size_t pos)
{
    if (lx->ntoks == lx->cap) {
        lx->cap = lx->cap ? lx->cap * 2 : 16 + lx->len / 4;
        lx->toks = ig_realloc(lx->toks, lx->cap * sizeof(tok));
    }
    tok *t = &lx->toks[lx->ntoks++];
    memset(t, 0, sizeof *t);
    t->type = type;
    t->line = lx->line;
    t->col = col_at(lx, pos);
    t->p = lx->src + pos;
    return t;
}

struct tchunk {
    tchunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

void *ig__tmpl_alloc(tarena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    tchunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = a->next_size < 1024 ? 1024 : a->next_size;
        if (size < n) size = n;
        c = ig_malloc(sizeof(tchunk) + size);
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
        a->next_size = size * 2 > 256 * 1024 ? 256 * 1024 : size * 2;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

void *ig__tmpl_zalloc(tarena *a, size_t n)
{
    void *p = ig__tmpl_alloc(a, n);
    memset(p, 0, n);
    return p;
}

void ig__tmpl_arena_free(tarena *a)
{
    for (tchunk *c = a->head; c;) {
        tchunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}

/* An immortal string; its hash is computed now unless it is template text
 * (hash 0), which is only ever written out, never used as a value. Shared
 * templates must not compute hashes lazily: that would be a write to a
 * string other threads read. */
static tstr *istr(tarena *a, const char *s, size_t n, bool hash)
{
    tstr *t = ig__tmpl_alloc(a, sizeof(tstr) + n + 1);
    memset(&t->h, 0, sizeof t->h);
    t->h.refs = IMMORTAL;
    t->h.kind = OK_STR;
    t->len = n;
    memcpy(t->s, s, n);
    t->s[n] = '\0';
    t->hash = hash ? ig__tmpl_hash_bytes(s, n) : 0;
    return t;
}

tstr *ig__tmpl_istr(tarena *a, const char *s, size_t n) { return istr(a, s, n, true); }

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* Add text [a, b) as DATA, honouring a pending lstrip and a strip of its end. */
static void add_data(lexer *lx, size_t a, size_t b, bool rstrip)
{
    if (lx->lstrip_next)
        while (a < b && is_ws(lx->src[a])) a++;
    lx->lstrip_next = false;
    if (rstrip)
        while (b > a && is_ws(lx->src[b - 1])) b--;
    if (b > a) {
        advance_to(lx, a);
        tok *t = push(lx, TK_DATA, a);
        t->s = istr(lx->arena, lx->src + a, b - a, false);
    }
}

/* Is there `{%[-+]? raw [-]?%}` at pos? Sets *end past it and *strip_l/r. */
static bool match_tag_word(lexer *lx, size_t pos, const char *word, size_t *end, bool *ls, bool *rs)
{
    const char *s = lx->src;
    size_t n = lx->len, i = pos + 2;
    *ls = *rs = false;
    if (i < n && (s[i] == '-' || s[i] == '+')) {
        *ls = s[i] == '-';
        i++;
    }
    while (i < n && is_ws(s[i])) i++;
    size_t wl = strlen(word);
    if (i + wl > n || memcmp(s + i, word, wl) != 0) return false;
    i += wl;
    if (i < n && (isalnum((unsigned char)s[i]) || s[i] == '_')) return false;
    while (i < n && is_ws(s[i])) i++;
    if (i < n && (s[i] == '-' || s[i] == '+')) {
        *rs = s[i] == '-';
        i++;
    }
    if (i + 1 < n && s[i] == '%' && s[i + 1] == '}') {
        *end = i + 2;
        return true;
    }
    return false;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}


/* A string literal at pos (quote char there); Python escapes. */
static ig_rc lex_string(lexer *lx, size_t pos, size_t *end)
{
    const char *s = lx->src;
    char q = s[pos];
    size_t i = pos + 1;
    while (i < lx->len && s[i] != q && s[i] != '\\') i++;
    if (i < lx->len && s[i] == q) { /* no escapes: the common case, no copy */
        tok *t = push(lx, TK_STRING, pos);
        t->s = ig__tmpl_istr(lx->arena, s + pos + 1, i - pos - 1);
        *end = i + 1;
        return 0;
    }
    ig_buf b = IG_BUF_INIT;
    ig_buf_append(&b, s + pos + 1, i - pos - 1);
    for (;;) {
        if (i >= lx->len) {
            ig_buf_free(&b);
            return lex_fail(lx, pos, "unexpected end of string");
        }
        char c = s[i];
        if (c == q) break;
        if (c != '\\') {
            ig_buf_putc(&b, c);
            i++;
            continue;
        }
        if (i + 1 >= lx->len) {
            i++;
            continue;
        }
        char e = s[i + 1];
        i += 2;
        switch (e) {
        case 'n': ig_buf_putc(&b, '\n'); break;
        case 't': ig_buf_putc(&b, '\t'); break;
        case 'r': ig_buf_putc(&b, '\r'); break;
        case '\\': ig_buf_putc(&b, '\\'); break;
        case '\'': ig_buf_putc(&b, '\''); break;
        case '"': ig_buf_putc(&b, '"'); break;
        case 'a': ig_buf_putc(&b, '\a'); break;
        case 'b': ig_buf_putc(&b, '\b'); break;
        case 'f': ig_buf_putc(&b, '\f'); break;
        case 'v': ig_buf_putc(&b, '\v'); break;
        case '0': ig_buf_putc(&b, '\0'); break;
        case '\n': break; /* line continuation */
        case 'x': case 'u': case 'U': {
            int nd = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            unsigned cp = 0;
            bool ok = i + (size_t)nd <= lx->len;
            for (int k = 0; ok && k < nd; k++) {
                int h = hexval(s[i + k]);
                if (h < 0) ok = false;
                else cp = cp * 16 + (unsigned)h;
            }
            if (!ok || cp > 0x10FFFF) {
                ig_buf_free(&b);
                return lex_fail(lx, i - 2, "invalid \\%c escape in string", e);
            }
            ig_utf8_put(&b, cp);
            i += (size_t)nd;
            break;
        }
        default:
            /* unknown escapes stay as written: '\d+' is backslash d plus */
            ig_buf_putc(&b, '\\');
            ig_buf_putc(&b, e);
        }
    }
    tok *t = push(lx, TK_STRING, pos);
    t->s = ig__tmpl_istr(lx->arena, ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    *end = i + 1;
    return 0;
}

static ig_rc lex_number(lexer *lx, size_t pos, size_t *end)
{
    const char *s = lx->src;
    size_t n = lx->len, i = pos;
    char digits[128];
    size_t nd = 0;
    bool is_float = false;
    int base = 10;
    if (s[i] == '0' && i + 1 < n && strchr("xXoObB", s[i + 1])) {
        char k = (char)tolower((unsigned char)s[i + 1]);
        base = k == 'x' ? 16 : k == 'o' ? 8 : 2;
        i += 2;
        while (i < n && (isxdigit((unsigned char)s[i]) || s[i] == '_')) {
            if (s[i] != '_' && nd < sizeof digits - 2) digits[nd++] = s[i];
            i++;
        }
    } else {
        while (i < n && (isdigit((unsigned char)s[i]) || s[i] == '_')) {
            if (s[i] != '_' && nd < sizeof digits - 2) digits[nd++] = s[i];
            i++;
        }
        /* a float needs digits after the point; "x.0.1" stays attribute access */
        bool after_dot = pos > 0 && s[pos - 1] == '.';
        if (!after_dot && i + 1 < n && s[i] == '.' && isdigit((unsigned char)s[i + 1])) {
            is_float = true;
            if (nd < sizeof digits - 2) digits[nd++] = '.';
            i++;
            while (i < n && (isdigit((unsigned char)s[i]) || s[i] == '_')) {
                if (s[i] != '_' && nd < sizeof digits - 2) digits[nd++] = s[i];
                i++;
            }
        }
        if (!after_dot && i < n && (s[i] == 'e' || s[i] == 'E')) {
            size_t j = i + 1;
            if (j < n && (s[j] == '+' || s[j] == '-')) j++;
            if (j < n && isdigit((unsigned char)s[j])) {
                is_float = true;
                if (nd < sizeof digits - 2) digits[nd++] = 'e';
                for (size_t k = i + 1; k < j; k++)
                    if (nd < sizeof digits - 2) digits[nd++] = s[k];
                i = j;
                while (i < n && (isdigit((unsigned char)s[i]) || s[i] == '_')) {
                    if (s[i] != '_' && nd < sizeof digits - 2) digits[nd++] = s[i];
                    i++;
                }
            }
        }
    }
    if (nd >= sizeof digits - 2) return lex_fail(lx, pos, "number literal too long");
    digits[nd] = '\0';
    tok *t = push(lx, is_float ? TK_FLOAT : TK_INT, pos);
    if (is_float) {
        t->f = strtod(digits, NULL);
    } else {
        char *e = NULL;
        unsigned long long v = strtoull(digits, &e, base);
        if (nd == 0 || *e || v > (unsigned long long)INT64_MAX)
            return lex_fail(lx, pos, "integer literal out of range or invalid");
        t->i = (int64_t)v;
    }
    *end = i;
    return 0;
}

/* Two-character operators first, then one-character ones. */
static int op_at(const char *s, size_t i, size_t n, int *len)
{
    static const struct { const char *s; int op; } two[] = {
        {"//", TK_FLOORDIV}, {"**", TK_POW}, {"==", TK_EQ}, {"!=", TK_NE},
        {"<=", TK_LE}, {">=", TK_GE},
    };
    if (i + 1 < n)
        for (size_t k = 0; k < sizeof two / sizeof two[0]; k++)
            if (s[i] == two[k].s[0] && s[i + 1] == two[k].s[1]) {
                *len = 2;
                return two[k].op;
            }
    *len = 1;
    switch (s[i]) {
    case '+': case '-': case '*': case '/': case '%': case '~': case '(': case ')':
    case '[': case ']': case '{': case '}': case ',': case '.': case ':': case '|':
    case '=': case '<': case '>': case ';':
        return (unsigned char)s[i];
    default: return 0;
    }
}

/* Lex the inside of a tag that starts at pos (after the opener). */
static ig_rc lex_tag(lexer *lx, size_t pos, int kind, size_t *end)
{
    const char *s = lx->src;
    size_t n = lx->len, i = pos;
    char closer = kind == TK_VAR_BEGIN ? '}' : '%';
    int depth = 0;
    for (;;) {
        while (i < n && is_ws(s[i])) i++;
        advance_to(lx, i);
        if (i >= n) {
            lx->pos = i;
            return lex_fail(lx, n, "unexpected end of template: tag opened at line %d is not closed",
                            lx->toks[lx->ntoks ? lx->ntoks - 1 : 0].line);
        }
        if (depth == 0) {
            bool strip = false;
            size_t j = i;
            bool marker = s[j] == '-' || (s[j] == '+' && kind == TK_BLOCK_BEGIN);
            if (marker && j + 2 < n && s[j + 1] == closer && s[j + 2] == '}') {
                strip = s[j] == '-';
                j++;
            }
            if (j + 1 < n && s[j] == closer && s[j + 1] == '}') {
                push(lx, kind == TK_VAR_BEGIN ? TK_VAR_END : TK_BLOCK_END, i);
                lx->lstrip_next = strip;
                *end = j + 2;
                return 0;
            }
        }
        char c = s[i];
        size_t next = i + 1;
        if (isalpha((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80) {
            size_t j = i;
            while (j < n && (isalnum((unsigned char)s[j]) || s[j] == '_' || (unsigned char)s[j] >= 0x80))
                j++;
            tok *t = push(lx, TK_NAME, i);
            t->s = ig__tmpl_istr(lx->arena, s + i, j - i);
            next = j;
        } else if (isdigit((unsigned char)c)) {
            if (lex_number(lx, i, &next)) return IG_ERR_TEMPLATE;
        } else if (c == '\'' || c == '"') {
            if (lex_string(lx, i, &next)) return IG_ERR_TEMPLATE;
        } else {
            int len;
            int op = op_at(s, i, n, &len);
            if (!op) return lex_fail(lx, i, "unexpected char '%c'", c);
            if (op == '(' || op == '[' || op == '{') depth++;
            if (op == ')' || op == ']' || op == '}') {
                if (depth == 0) return lex_fail(lx, i, "unexpected '%c'", c);
                depth--;
            }
            tok *t = push(lx, TK_OP, i);
            t->op = op;
            next = i + (size_t)len;
        }
        i = next;
    }
}

ig_rc ig__tmpl_lex(const ig_tmpl *t, tarena *arena, tok **out, size_t *nout, ig_error *err)
{
    lexer lx = {0};
    lx.src = t->src;
    lx.len = t->len;
    lx.line = 1;
    lx.arena = arena;
    lx.t = t;
    lx.err = err;
    uint64_t high = 0; /* any byte >= 0x80, eight at a time */
    size_t at = 0;
    for (; at + 8 <= t->len; at += 8) {
        uint64_t w;
        memcpy(&w, t->src + at, 8);
        high |= w;
    }
    for (; at < t->len; at++) high |= (unsigned char)t->src[at];
    lx.ascii = !(high & 0x8080808080808080ull);
    /* keep_trailing_newline=False */
    if (lx.len && lx.src[lx.len - 1] == '\n') {
        lx.len--;
        if (lx.len && lx.src[lx.len - 1] == '\r') lx.len--;
    }
    const char *s = lx.src;
    size_t n = lx.len;
    size_t text = 0, i = 0;
    while (i < n) {
        if (s[i] != '{') {
            const char *b = memchr(s + i, '{', n - i);
            if (!b) break;
            i = (size_t)(b - s);
        }
        if (i + 1 >= n || (s[i + 1] != '{' && s[i + 1] != '%' && s[i + 1] != '#')) {
            i++;
            continue;
        }
        char k = s[i + 1];
        bool strip = i + 2 < n && s[i + 2] == '-';
        size_t end = 0;
        bool ls = false, rs = false;
        if (k == '%' && match_tag_word(&lx, i, "raw", &end, &ls, &rs)) {
            add_data(&lx, text, i, ls);
            /* find the endraw */
            size_t j = end;
            size_t rend = 0;
            bool els = false, ers = false;
            for (; j + 1 < n; j++)
                if (s[j] == '{' && s[j + 1] == '%' && match_tag_word(&lx, j, "endraw", &rend, &els, &ers))
                    break;
            if (j + 1 >= n) {
                advance_to(&lx, i);
                free(lx.toks);
                return lex_fail(&lx, i, "missing end of raw directive");
            }
            advance_to(&lx, end);
            lx.lstrip_next = rs;
            add_data(&lx, end, j, els);
            advance_to(&lx, rend);
            lx.lstrip_next = ers;
            i = text = rend;
            continue;
        }
        add_data(&lx, text, i, strip);
        advance_to(&lx, i);
        if (k == '#') {
            size_t j = i + 2;
            while (j + 1 < n && !(s[j] == '#' && s[j + 1] == '}')) j++;
            if (j + 1 >= n) {
                free(lx.toks);
                return lex_fail(&lx, i, "missing end of comment tag");
            }
            lx.lstrip_next = j > i + 2 && s[j - 1] == '-';
            advance_to(&lx, j + 2);
            i = text = j + 2;
            continue;
        }
        int kind = k == '{' ? TK_VAR_BEGIN : TK_BLOCK_BEGIN;
        push(&lx, kind, i);
        size_t body = i + 2;
        if (body < n && (s[body] == '-' || (s[body] == '+' && kind == TK_BLOCK_BEGIN))) body++;
        if (lex_tag(&lx, body, kind, &end)) {
            free(lx.toks);
            return IG_ERR_TEMPLATE;
        }
        advance_to(&lx, end);
        i = text = end;
    }
    add_data(&lx, text, n, false);
    advance_to(&lx, n);
    push(&lx, TK_EOF, n);
    *out = lx.toks;
    *nout = lx.ntoks;
    return 0;
}

tstr *ig__tmpl_istr_arena(tarena *a, const char *s) { return ig__tmpl_istr(a, s, strlen(s)); }
