/* Arenas: memory with one lifetime (process, project load, request, run,
 * model). Everything allocated from an arena is freed together by
 * ig_arena_free or ig_arena_reset; cleanup callbacks registered on the arena
 * release foreign handles (duckdb results, PGresult, CURL *) at that time, in
 * reverse order of registration. Not thread-safe: one arena, one thread. */
#ifndef IG_ARENA_H
#define IG_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct ig_arena ig_arena;

/* Create an arena; caller frees with ig_arena_free. */
ig_arena *ig_arena_new(void);
/* Run cleanups and free all memory, then the arena itself. NULL is fine. */
void ig_arena_free(ig_arena *a);
/* Run cleanups and free all memory; the arena stays usable. */
void ig_arena_reset(ig_arena *a);

/* Allocate n bytes aligned to 16; zeroed for ig_arena_zalloc. Never NULL. */
void *ig_arena_alloc(ig_arena *a, size_t n);
void *ig_arena_zalloc(ig_arena *a, size_t n);
/* Copies into the arena; the results are borrowed until the arena is reset. */
char *ig_arena_strdup(ig_arena *a, const char *s);
char *ig_arena_strndup(ig_arena *a, const char *s, size_t n);
char *ig_arena_printf(ig_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *ig_arena_vprintf(ig_arena *a, const char *fmt, va_list ap);

/* Register fn(p) to run when the arena is reset or freed. */
void ig_arena_on_free(ig_arena *a, void (*fn)(void *), void *p);

/* Bytes handed out since the last reset (for tests and limits). */
size_t ig_arena_used(const ig_arena *a);

#endif
