/* Allocation that never returns NULL: on failure the process stops with a
 * message (as Redis zmalloc and h2o do). Anything sized from outside input
 * must be capped by the caller before it gets here. */
#ifndef IG_MEM_H
#define IG_MEM_H

#include <stddef.h>

void *ig_malloc(size_t n);
void *ig_calloc(size_t n, size_t size);
void *ig_realloc(void *p, size_t n);
char *ig_strdup(const char *s);
char *ig_strndup(const char *s, size_t n);
/* printf into a new string; caller frees with free(). */
char *ig_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
