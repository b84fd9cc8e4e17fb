/* Showing where a SQL error is: the offending line of the query echoed with
 * a caret under the position the warehouse reported, the way psql does. */
#include "output/output.h"

#include "core/str.h"

#include <stdio.h>
#include <string.h>

/* Back up to the start of a UTF-8 character. */
static size_t char_start(const char *s, size_t i)
{
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    return i;
}

void ig_out_sql_caret(ig_error *err, const char *sql, int width)
{
    if (!err || !sql || err->line <= 0) return;
    const char *p = sql;
    for (int l = 1; l < err->line; l++) {
        p = strchr(p, '\n');
        if (!p) return;
        p++;
    }
    size_t n = strcspn(p, "\n");
    if (n && p[n - 1] == '\r') n--;
    ig_buf text = IG_BUF_INIT;
    /* tabs and control characters become one space each so the caret
     * lines up; the column (a byte offset) maps through unchanged */
    for (size_t i = 0; i < n; i++)
        ig_buf_putc(&text, (unsigned char)p[i] < 0x20 ? ' ' : p[i]);
    const char *t = ig_buf_cstr(&text);
    size_t col = err->column > 0 ? (size_t)err->column - 1 : 0;
    if (col > n) col = n;
    col = char_start(t, col);

    char prefix[32];
    snprintf(prefix, sizeof prefix, "LINE %d: ", err->line);
    size_t pw = strlen(prefix);
    /* ig_error_print indents the detail by two */
    size_t avail = width > 0 && (size_t)width > pw + 12 ? (size_t)width - pw - 2 : 60;
    size_t start = 0, end = n;
    bool lead = false, trail = false;
    if (ig_utf8_width(t, n) > avail) {
        /* a window around the column: a third before it, the rest after */
        size_t before = avail / 3;
        size_t wcol = ig_utf8_width(t, col);
        if (wcol > before) {
            /* walk back from the column while the part before it fits */
            size_t s = col, w = 0;
            while (s > 0) {
                size_t ps = char_start(t, s - 1);
                size_t cw = ig_utf8_width(t + ps, s - ps);
                if (w + cw + 1 > before) break;
                w += cw;
                s = ps;
            }
            start = s;
            lead = start > 0;
        }
        size_t room = avail - (lead ? 1 : 0) - ig_utf8_width(t + start, col - start);
        size_t fit = ig_utf8_fit(t + col, n - col, room > 1 ? room - 1 : 0);
        if (col + fit < n) {
            end = col + fit;
            trail = true;
        }
    }
    size_t caret = pw + (lead ? 1 : 0) + ig_utf8_width(t + start, col - start);
    char old[sizeof err->detail];
    snprintf(old, sizeof old, "%s", err->detail);
    int len = snprintf(err->detail, sizeof err->detail, "%s%s%.*s%s\n%*s^", prefix, lead ? "…" : "",
                       (int)(end - start), t + start, trail ? "…" : "", (int)caret, "");
    if (old[0] && len > 0 && (size_t)len < sizeof err->detail)
        snprintf(err->detail + len, sizeof err->detail - (size_t)len, "\n%s", old);
    ig_buf_free(&text);
}
