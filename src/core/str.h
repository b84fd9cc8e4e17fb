/* String helpers with no third-party dependency: suggestions for mistyped
 * names, JSON string quoting, UTF-8 display width, small parsing helpers. */
#ifndef IG_STR_H
#define IG_STR_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

/* Edit distance (Damerau-Levenshtein, optimal string alignment). */
int ig_str_distance(const char *a, const char *b);

/* The candidate closest to `word`, or NULL when none is close enough
 * (distance <= max(2, len/3)). Borrowed from candidates. */
const char *ig_str_suggest(const char *word, const char *const *candidates, size_t n);

/* Append s as a JSON string literal (quotes and escapes included). */
void ig_json_quote(ig_buf *b, const char *s);
void ig_json_quote_n(ig_buf *b, const char *s, size_t n);

/* Display columns taken by the first n bytes of UTF-8 text (wide East Asian
 * characters count 2, combining marks 0, control characters 1). */
size_t ig_utf8_width(const char *s, size_t n);
/* Length in bytes of the longest prefix of s (n bytes) that fits in `cols`
 * display columns without splitting a character. */
size_t ig_utf8_fit(const char *s, size_t n, size_t cols);
/* Append code point cp as UTF-8 (1 to 4 bytes). */
void ig_utf8_put(ig_buf *b, unsigned cp);
/* True when s (n bytes) is valid UTF-8. */
bool ig_utf8_valid(const char *s, size_t n);

bool ig_str_starts(const char *s, const char *prefix);
bool ig_str_ends(const char *s, const char *suffix);
/* Parse a whole string as a long / double; false when it is not one. */
bool ig_parse_long(const char *s, long *out);
bool ig_parse_double(const char *s, double *out);

#endif
