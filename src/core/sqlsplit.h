/* Splitting SQL text into statements at top-level semicolons, skipping
 * quoted strings and identifiers ('...', "..."), dollar-quoted strings
 * ($$...$$, $tag$...$tag$), line comments (--) and nested block comments
 * (/ * ... * /). Used by the SQL shell (is the statement complete?) and by
 * the warehouse to place error positions inside multi-statement text. */
#ifndef IG_SQLSPLIT_H
#define IG_SQLSPLIT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ig_sql_span {
    size_t start, end; /* byte offsets of a statement, without its ';' */
} ig_sql_span;

typedef struct ig_sql_scan {
    size_t nstatements;  /* statements with something other than blanks and comments */
    bool unterminated;   /* the text ends inside a quote or a block comment */
    bool ends_with_semicolon; /* the last thing outside comments is ';' */
} ig_sql_scan;

/* Scan sql (n bytes). Fills up to `max` spans (may be NULL/0 to only count)
 * and returns the scan summary. Empty statements (";;") are not counted. */
ig_sql_scan ig_sql_split(const char *sql, size_t n, ig_sql_span *spans, size_t max);

#endif
