/* A bump allocator over a list of blocks, with cleanup callbacks. */
#include "arena.h"
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE (64 * 1024)

typedef struct block {
    struct block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
} block;

typedef struct cleanup {
    struct cleanup *next;
    void (*fn)(void *);
    void *p;
} cleanup;

struct ig_arena {
    block *head;
    cleanup *cleanups;
    size_t used;
};

ig_arena *ig_arena_new(void) { return ig_calloc(1, sizeof(ig_arena)); }

void ig_arena_reset(ig_arena *a)
{
    if (!a) return;
    for (cleanup *c = a->cleanups; c;) {
        cleanup *next = c->next; /* the cleanup record itself lives in a block */
        c->fn(c->p);
        c = next;
    }
    a->cleanups = NULL;
    for (block *b = a->head; b;) {
        block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
}

void ig_arena_free(ig_arena *a)
{
    if (!a) return;
    ig_arena_reset(a);
    free(a);
}

void *ig_arena_alloc(ig_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!n) n = 16;
    block *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t size = n > BLOCK_SIZE / 4 ? n : BLOCK_SIZE;
        block *nb = ig_malloc(sizeof(block) + size);
        nb->size = size;
        nb->used = 0;
        if (size == n && b) { /* a big one-off: keep the current block on top */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    a->used += n;
    return p;
}

void *ig_arena_zalloc(ig_arena *a, size_t n)
{
    void *p = ig_arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *ig_arena_strndup(ig_arena *a, const char *s, size_t n)
{
    char *p = ig_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ig_arena_strdup(ig_arena *a, const char *s)
{
    return s ? ig_arena_strndup(a, s, strlen(s)) : NULL;
}

char *ig_arena_vprintf(ig_arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0) n = 0;
    char *p = ig_arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

char *ig_arena_printf(ig_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = ig_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

void ig_arena_on_free(ig_arena *a, void (*fn)(void *), void *p)
{
    cleanup *c = ig_arena_alloc(a, sizeof *c);
    c->fn = fn;
    c->p = p;
    c->next = a->cleanups;
    a->cleanups = c;
}

size_t ig_arena_used(const ig_arena *a) { return a->used; }
