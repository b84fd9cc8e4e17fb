/* Growable byte buffers with a cap (curl's dynbuf). A buffer that grows from
 * outside input is created with a cap so a hostile request cannot take the
 * machine's memory: appending past the cap fails and leaves the buffer as it
 * was. The data is always NUL-terminated. */
#ifndef IG_BUF_H
#define IG_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct ig_buf {
    char *data;   /* owned; NULL until the first append */
    size_t len;   /* bytes used, not counting the NUL */
    size_t alloc; /* bytes allocated */
    size_t cap;   /* most bytes allowed (0: no cap) */
} ig_buf;

#define IG_BUF_INIT {NULL, 0, 0, 0}

void ig_buf_init(ig_buf *b, size_t cap);
void ig_buf_free(ig_buf *b);
void ig_buf_reset(ig_buf *b); /* len = 0, memory kept */

/* Append; return 0, or -1 when the cap would be exceeded. */
int ig_buf_append(ig_buf *b, const void *p, size_t n);
int ig_buf_puts(ig_buf *b, const char *s);
int ig_buf_putc(ig_buf *b, char c);
int ig_buf_printf(ig_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ig_buf_vprintf(ig_buf *b, const char *fmt, va_list ap);

/* Take the data out (caller frees with free()); the buffer is reset empty. */
char *ig_buf_steal(ig_buf *b);
/* Borrowed C string, "" when empty; valid until the next append. */
const char *ig_buf_cstr(const ig_buf *b);

#endif
