/* Allocation wrappers that abort on out-of-memory. */
#include "mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "ingot: out of memory allocating %zu bytes\n", n);
    abort();
}

void *ig_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *ig_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size);
    return p;
}

void *ig_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *ig_strdup(const char *s) { return ig_strndup(s, strlen(s)); }

char *ig_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = ig_malloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *ig_asprintf(const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    /* one formatting pass for the common short result (paths, names) */
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    char *p = ig_malloc((size_t)n + 1);
    if ((size_t)n < sizeof small) memcpy(p, small, (size_t)n + 1);
    else vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}
