/* Errors: every function that can fail returns an ig_rc (0 is success) and
 * fills an ig_error the caller owns. The error carries a code from
 * errcodes.h, a message, optional detail and hint, and where it applies the
 * position (file, line, column) of the offending input. */
#ifndef IG_ERROR_H
#define IG_ERROR_H

#include <stdarg.h>
#include <stdio.h>

typedef int ig_rc;

enum {
#define IG_ERRCODE(code, name, sqlstate, http, exitc) code,
#include "errcodes.h"
#undef IG_ERRCODE
    IG_ERR__COUNT
};

typedef struct ig_error {
    int code;           /* IG_OK when nothing failed */
    char message[1024]; /* one line, what went wrong */
    char detail[2048];  /* more context, may span lines (a quoted input line) */
    char hint[512];     /* what the user should do */
    char file[512];     /* input file the error is about, or "" */
    int line, column;   /* 1-based; 0 when not known */
} ig_error;

/* Clear an error to IG_OK. */
void ig_error_clear(ig_error *err);

/* Set code and message (printf-style); returns code so callers can write
 * `return ig_err(err, IG_ERR_IO, "...")`. err may be NULL. Detail, hint and
 * position are cleared. */
ig_rc ig_err(ig_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
ig_rc ig_verr(ig_error *err, int code, const char *fmt, va_list ap);

/* Add a hint / detail / position to an error already set. */
void ig_err_hint(ig_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ig_err_detail(ig_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ig_err_at(ig_error *err, const char *file, int line, int column);

/* Prefix the message with "context: " (for adding what was being done). */
void ig_err_prefix(ig_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Code table look-ups. */
const char *ig_errcode_name(int code);
const char *ig_errcode_sqlstate(int code);
int ig_errcode_http(int code);
int ig_errcode_exit(int code);

/* Print an error the way the CLI shows it:
 *   error: file:line:col: message
 *     detail
 *   hint: ... */
void ig_error_print(const ig_error *err, FILE *out);

#endif
