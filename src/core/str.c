/* String helpers. */
#include "str.h"
#include "mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ig_str_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return (int)(la > lb ? la : lb);
    int d[65][65];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[la][lb];
}

const char *ig_str_suggest(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    int bestd = 1 << 30;
    size_t len = strlen(word);
    int limit = (int)(len / 3) > 2 ? (int)(len / 3) : 2;
    for (size_t i = 0; i < n; i++) {
        if (!candidates[i]) continue;
        int d = ig_str_distance(word, candidates[i]);
        /* a prefix match ("valid" for "validate") counts as close */
        if (len >= 3 && ig_str_starts(candidates[i], word)) d = d < 1 ? d : 1;
        if (d < bestd) {
            bestd = d;
            best = candidates[i];
        }
    }
    return bestd <= limit ? best : NULL;
}

void ig_json_quote_n(ig_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    ig_buf_putc(b, '"');
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c < 0x20) {
                u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0';
                u[4] = hex[c >> 4]; u[5] = hex[c & 15]; u[6] = 0;
                esc = u;
            }
        }
        if (esc) {
            ig_buf_append(b, s + start, i - start);
            ig_buf_puts(b, esc);
            start = i + 1;
        }
    }
    ig_buf_append(b, s + start, n - start);
    ig_buf_putc(b, '"');
}

void ig_json_quote(ig_buf *b, const char *s) { ig_json_quote_n(b, s ? s : "", s ? strlen(s) : 0); }

/* Decode one UTF-8 code point; returns its byte length (1 on invalid). */
static size_t decode(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    if (c < 0x80) { *cp = c; return 1; }
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (len == 1 || len > n) { *cp = 0xFFFD; return 1; }
    unsigned v = c & (0x3F >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) { *cp = 0xFFFD; return 1; }
        v = (v << 6) | (s[i] & 0x3F);
    }
    *cp = v;
    return len;
}

static int cp_width(unsigned cp)
{
    if (cp >= 0x300 && cp <= 0x36F) return 0;              /* combining */
    if (cp == 0x200B || (cp >= 0xFE00 && cp <= 0xFE0F)) return 0;
    if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
        (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
        (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
        (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
        (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD))
        return 2;
    return 1;
}

size_t ig_utf8_width(const char *s, size_t n)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned cp;
        i += decode(p + i, n - i, &cp);
        w += (size_t)cp_width(cp);
    }
    return w;
}

size_t ig_utf8_fit(const char *s, size_t n, size_t cols)
{
    size_t w = 0, i = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (i < n) {
        unsigned cp;
        size_t len = decode(p + i, n - i, &cp);
        int cw = cp_width(cp);
        if (w + (size_t)cw > cols) break;
        w += (size_t)cw;
        i += len;
    }
    return i;
}

void ig_utf8_put(ig_buf *b, unsigned cp)
{
    char u[4];
    if (cp < 0x80) {
        ig_buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        ig_buf_append(b, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        ig_buf_append(b, u, 3);
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        ig_buf_append(b, u, 4);
    }
}

bool ig_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) { i++; continue; }
        unsigned cp;
        size_t len = decode(p + i, n - i, &cp);
        if (cp == 0xFFFD && len == 1) return false;
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

bool ig_str_starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool ig_str_ends(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

bool ig_parse_long(const char *s, long *out)
{
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

bool ig_parse_double(const char *s, double *out)
{
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end) return false;
    *out = v;
    return true;
}
