/* Growable, capped byte buffers. */
#include "buf.h"
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ig_buf_init(ig_buf *b, size_t cap)
{
    b->data = NULL;
    b->len = b->alloc = 0;
    b->cap = cap;
}

void ig_buf_free(ig_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

void ig_buf_reset(ig_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

static int grow(ig_buf *b, size_t extra)
{
    if (b->cap && (extra > b->cap || b->len > b->cap - extra)) return -1;
    size_t need = b->len + extra + 1;
    if (need <= b->alloc) return 0;
    size_t n = b->alloc ? b->alloc : 64;
    while (n < need) n *= 2;
    b->data = ig_realloc(b->data, n);
    b->alloc = n;
    return 0;
}

int ig_buf_append(ig_buf *b, const void *p, size_t n)
{
    if (grow(b, n)) return -1;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int ig_buf_puts(ig_buf *b, const char *s) { return ig_buf_append(b, s, strlen(s)); }
int ig_buf_putc(ig_buf *b, char c) { return ig_buf_append(b, &c, 1); }

int ig_buf_vprintf(ig_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0 || grow(b, (size_t)n)) {
        va_end(ap2);
        return -1;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
    return 0;
}

int ig_buf_printf(ig_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = ig_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *ig_buf_steal(ig_buf *b)
{
    char *p = b->data ? b->data : ig_strdup("");
    b->data = NULL;
    b->len = b->alloc = 0;
    return p;
}

const char *ig_buf_cstr(const ig_buf *b) { return b->data ? b->data : ""; }
