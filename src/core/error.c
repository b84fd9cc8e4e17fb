/* Error values and the error-code table. */
#include "error.h"

#include <string.h>

static const struct {
    const char *name, *sqlstate;
    int http, exitc;
} codes[] = {
#define IG_ERRCODE(code, name, sqlstate, http, exitc) {name, sqlstate, http, exitc},
#include "errcodes.h"
#undef IG_ERRCODE
};

void ig_error_clear(ig_error *err)
{
    if (!err) return;
    err->code = IG_OK;
    err->message[0] = err->detail[0] = err->hint[0] = err->file[0] = '\0';
    err->line = err->column = 0;
}

ig_rc ig_verr(ig_error *err, int code, const char *fmt, va_list ap)
{
    if (!err) return code;
    ig_error_clear(err);
    err->code = code;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    return code;
}

ig_rc ig_err(ig_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ig_verr(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void ig_err_hint(ig_error *err, const char *fmt, ...)
{
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->hint, sizeof err->hint, fmt, ap);
    va_end(ap);
}

void ig_err_detail(ig_error *err, const char *fmt, ...)
{
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
}

void ig_err_at(ig_error *err, const char *file, int line, int column)
{
    if (!err) return;
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    err->line = line;
    err->column = column;
}

void ig_err_prefix(ig_error *err, const char *fmt, ...)
{
    if (!err) return;
    char pre[512], old[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    snprintf(err->message, sizeof err->message, "%s: %s", pre, old);
}

static int valid(int code) { return code >= 0 && code < IG_ERR__COUNT; }

const char *ig_errcode_name(int code) { return valid(code) ? codes[code].name : "internal"; }
const char *ig_errcode_sqlstate(int code) { return valid(code) ? codes[code].sqlstate : "XX000"; }
int ig_errcode_http(int code) { return valid(code) ? codes[code].http : 500; }
int ig_errcode_exit(int code) { return valid(code) ? codes[code].exitc : 70; }

void ig_error_print(const ig_error *err, FILE *out)
{
    fputs("error: ", out);
    if (err->file[0]) {
        fputs(err->file, out);
        if (err->line > 0) fprintf(out, ":%d", err->line);
        if (err->column > 0) fprintf(out, ":%d", err->column);
        fputs(": ", out);
    }
    fprintf(out, "%s\n", err->message[0] ? err->message : ig_errcode_name(err->code));
    if (err->detail[0]) {
        /* indent every line of the detail */
        const char *p = err->detail;
        while (*p) {
            const char *nl = strchr(p, '\n');
            int n = nl ? (int)(nl - p) : (int)strlen(p);
            fprintf(out, "  %.*s\n", n, p);
            p += n + (nl ? 1 : 0);
        }
    }
    if (err->hint[0]) fprintf(out, "hint: %s\n", err->hint);
}
