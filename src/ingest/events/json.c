/* The collector's JSON scanner (see json.h). A recursive-descent validator
 * over a byte range; recursion is bounded by IG_EVJ_MAX_DEPTH so hostile
 * nesting cannot exhaust the stack. The member and element walkers run only
 * over text the validator accepted, so they skip values with a cheap
 * bracket-and-string matcher instead of validating again. */
#include "ingest/events/json.h"

#include "core/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct scan {
    const char *s, *p, *end;
    evj_error *err;
} scan;

static bool fail(scan *c, const char *what)
{
    if (c->err) {
        c->err->offset = (size_t)(c->p - c->s);
        c->err->what = what;
    }
    return false;
}

static void ws(scan *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t')) c->p++;
}

static int hex(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    ch = (char)(ch | 0x20);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Length of a valid UTF-8 sequence at p (1..4), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    if (c < 0x80) return 1;
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
    else return 0;
    if ((size_t)(end - p) < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return n;
}

static bool string(scan *c)
{
    c->p++; /* the opening quote */
    while (c->p < c->end) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            c->p++;
            return true;
        }
        if (ch == '\\') {
            if (c->p + 1 >= c->end) return fail(c, "unterminated string");
            char e = c->p[1];
            if (e == 'u') {
                if (c->end - c->p < 6 || hex(c->p[2]) < 0 || hex(c->p[3]) < 0 || hex(c->p[4]) < 0 || hex(c->p[5]) < 0)
                    return fail(c, "bad \\u escape");
                c->p += 6;
            } else if (strchr("\"\\/bfnrt", e) && e) {
                c->p += 2;
            } else {
                return fail(c, "bad escape in a string");
            }
            continue;
        }
        if (ch < 0x20) return fail(c, "control character in a string");
        if (ch < 0x80) {
            c->p++;
            continue;
        }
        size_t n = utf8_len((const unsigned char *)c->p, (const unsigned char *)c->end);
        if (!n) return fail(c, "invalid UTF-8");
        c->p += n;
    }
    return fail(c, "unterminated string");
}

static bool number(scan *c)
{
    const char *p = c->p;
    if (p < c->end && *p == '-') p++;
    if (p >= c->end) return fail(c, "bad number");
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9')
        while (p < c->end && *p >= '0' && *p <= '9') p++;
    else return fail(c, "bad number");
    if (p < c->end && *p == '.') {
        p++;
        if (p >= c->end || *p < '0' || *p > '9') return fail(c, "bad number");
        while (p < c->end && *p >= '0' && *p <= '9') p++;
    }
    if (p < c->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < c->end && (*p == '+' || *p == '-')) p++;
        if (p >= c->end || *p < '0' || *p > '9') return fail(c, "bad number");
        while (p < c->end && *p >= '0' && *p <= '9') p++;
    }
    c->p = p;
    return true;
}

static bool value(scan *c, int depth, evj *out);

static bool literal(scan *c, const char *lit, evj_type t, evj *out)
{
    size_t n = strlen(lit);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n)) return fail(c, "unexpected character");
    out->t = t;
    c->p += n;
    return true;
}

static bool value(scan *c, int depth, evj *out)
{
    ws(c);
    if (c->p >= c->end) return fail(c, "unexpected end of input");
    if (depth > IG_EVJ_MAX_DEPTH) return fail(c, "nested too deeply");
    const char *start = c->p;
    evj tmp;
    bool ok;
    switch (*c->p) {
    case '"':
        out->t = EVJ_STRING;
        ok = string(c);
        break;
    case '{':
        out->t = EVJ_OBJECT;
        c->p++;
        ws(c);
        if (c->p < c->end && *c->p == '}') {
            c->p++;
            ok = true;
            break;
        }
        for (;;) {
            ws(c);
            if (c->p >= c->end || *c->p != '"') return fail(c, "expected a key (a string)");
            if (!string(c)) return false;
            ws(c);
            if (c->p >= c->end || *c->p != ':') return fail(c, "expected ':'");
            c->p++;
            if (!value(c, depth + 1, &tmp)) return false;
            ws(c);
            if (c->p < c->end && *c->p == ',') {
                c->p++;
                continue;
            }
            if (c->p < c->end && *c->p == '}') {
                c->p++;
                break;
            }
            return fail(c, "expected ',' or '}'");
        }
        ok = true;
        break;
    case '[':
        out->t = EVJ_ARRAY;
        c->p++;
        ws(c);
        if (c->p < c->end && *c->p == ']') {
            c->p++;
            ok = true;
            break;
        }
        for (;;) {
            if (!value(c, depth + 1, &tmp)) return false;
            ws(c);
            if (c->p < c->end && *c->p == ',') {
                c->p++;
                continue;
            }
            if (c->p < c->end && *c->p == ']') {
                c->p++;
                break;
            }
            return fail(c, "expected ',' or ']'");
        }
        ok = true;
        break;
    case 't': ok = literal(c, "true", EVJ_TRUE, out); break;
    case 'f': ok = literal(c, "false", EVJ_FALSE, out); break;
    case 'n': ok = literal(c, "null", EVJ_NULL, out); break;
    default:
        out->t = EVJ_NUMBER;
        ok = number(c);
    }
    if (!ok) return false;
    out->p = start;
    out->n = (size_t)(c->p - start);
    return true;
}

bool evj_parse(const char *p, size_t n, evj *out, evj_error *err)
{
    scan c = {p, p, p + n, err};
    if (!value(&c, 0, out)) return false;
    ws(&c);
    if (c.p != c.end) return fail(&c, "unexpected text after the JSON value");
    return true;
}

/* ---- walking accepted text ------------------------------------------------ */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\') p++;
        else if (*p == '"') return p + 1;
    }
    return end;
}

/* Skip a value known to be valid; fills *v. */
static const char *skip_value(const char *p, const char *end, evj *v)
{
    p = skip_ws(p, end);
    const char *s = p;
    switch (*p) {
    case '"':
        v->t = EVJ_STRING;
        p = skip_string(p, end);
        break;
    case '{':
    case '[': {
        v->t = *p == '{' ? EVJ_OBJECT : EVJ_ARRAY;
        int depth = 0;
        for (; p < end; p++) {
            if (*p == '"') {
                p = skip_string(p, end) - 1;
            } else if (*p == '{' || *p == '[') {
                depth++;
            } else if (*p == '}' || *p == ']') {
                if (--depth == 0) {
                    p++;
                    break;
                }
            }
        }
        break;
    }
    case 't': v->t = EVJ_TRUE; p += 4; break;
    case 'f': v->t = EVJ_FALSE; p += 5; break;
    case 'n': v->t = EVJ_NULL; p += 4; break;
    default:
        v->t = EVJ_NUMBER;
        while (p < end && (strchr("+-.eE", *p) || (*p >= '0' && *p <= '9')) && *p) p++;
    }
    v->p = s;
    v->n = (size_t)(p - s);
    return p;
}

void evj_object_members(const evj *obj, evj_members *m)
{
    m->n = 0;
    if (obj->t != EVJ_OBJECT) return;
    const char *p = obj->p + 1, *end = obj->p + obj->n - 1;
    for (;;) {
        p = skip_ws(p, end);
        if (p >= end || *p != '"') return;
        const char *k = p + 1;
        p = skip_string(p, end);
        size_t kn = (size_t)(p - 1 - k);
        p = skip_ws(p, end) + 1; /* ':' */
        if (m->n == m->cap) {
            m->cap = m->cap ? m->cap * 2 : 32;
            m->m = ig_realloc(m->m, m->cap * sizeof *m->m);
        }
        evj_member *e = &m->m[m->n++];
        e->k = k;
        e->kn = kn;
        p = skip_value(p, end, &e->v);
        p = skip_ws(p, end);
        if (p < end && *p == ',') p++;
    }
}

bool evj_array_next(const evj *arr, const char **pos, evj *out)
{
    if (arr->t != EVJ_ARRAY) return false;
    const char *end = arr->p + arr->n - 1;
    const char *p = *pos ? *pos : arr->p + 1;
    p = skip_ws(p, end);
    if (p < end && *p == ',') p = skip_ws(p + 1, end);
    if (p >= end) return false;
    *pos = skip_value(p, end, out);
    return true;
}

void evj_members_free(evj_members *m)
{
    free(m->m);
    m->m = NULL;
    m->n = m->cap = 0;
}

bool evj_key_is(const evj_member *m, const char *key)
{
    size_t n = strlen(key);
    return m->kn == n && !memcmp(m->k, key, n);
}

const evj *evj_get(const evj_members *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (evj_key_is(&m->m[i], key)) return &m->m[i].v;
    return NULL;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

bool evj_string(const evj *v, char *out, size_t cap)
{
    if (v->t != EVJ_STRING || cap == 0) return false;
    const char *p = v->p + 1, *end = v->p + v->n - 1;
    size_t o = 0;
    while (p < end) {
        char tmp[4];
        size_t k = 1;
        if (*p != '\\') {
            tmp[0] = *p++;
        } else {
            char e = p[1];
            p += 2;
            switch (e) {
            case 'b': tmp[0] = '\b'; break;
            case 'f': tmp[0] = '\f'; break;
            case 'n': tmp[0] = '\n'; break;
            case 'r': tmp[0] = '\r'; break;
            case 't': tmp[0] = '\t'; break;
            case 'u': {
                uint32_t cp = (uint32_t)(hex(p[0]) << 12 | hex(p[1]) << 8 | hex(p[2]) << 4 | hex(p[3]));
                p += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                    uint32_t lo = (uint32_t)(hex(p[2]) << 12 | hex(p[3]) << 8 | hex(p[4]) << 4 | hex(p[5]));
                    if (lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        p += 6;
                    }
                }
                if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
                k = put_utf8(tmp, cp);
                break;
            }
            default: tmp[0] = e; /* \" \\ \/ */
            }
        }
        if (o + k + 1 > cap) return false;
        memcpy(out + o, tmp, k);
        o += k;
    }
    out[o] = 0;
    return true;
}
