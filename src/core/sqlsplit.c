/* Statement splitting for SQL text. */
#include "core/sqlsplit.h"

#include <ctype.h>
#include <string.h>

static bool ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

ig_sql_scan ig_sql_split(const char *s, size_t n, ig_sql_span *spans, size_t max)
{
    ig_sql_scan r = {0, false, false};
    size_t start = 0;
    bool content = false; /* the current statement has more than blanks/comments */
    char last = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            while (i < n && s[i] != '\n') i++;
            continue;
        }
        if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            int depth = 1;
            for (i += 2; i < n && depth; i++) {
                if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') depth++, i++;
                else if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') depth--, i++;
            }
            if (depth) {
                r.unterminated = true;
                break;
            }
            i--;
            continue;
        }
        if (c == '\'' || c == '"') {
            bool closed = false;
            for (i++; i < n; i++) {
                if (s[i] == c) {
                    if (i + 1 < n && s[i + 1] == c) i++;
                    else {
                        closed = true;
                        break;
                    }
                }
            }
            content = true;
            last = c;
            if (!closed) {
                r.unterminated = true;
                break;
            }
            continue;
        }
        if (c == '$' && (i == 0 || !ident_char(s[i - 1]))) {
            size_t j = i + 1;
            while (j < n && (isalpha((unsigned char)s[j]) || s[j] == '_' ||
                             (j > i + 1 && isdigit((unsigned char)s[j]))))
                j++;
            if (j < n && s[j] == '$') {
                size_t taglen = j - i + 1;
                size_t k = j + 1;
                bool closed = false;
                for (; k + taglen <= n; k++)
                    if (s[k] == '$' && !memcmp(s + k, s + i, taglen)) {
                        closed = true;
                        break;
                    }
                content = true;
                last = '$';
                if (!closed) {
                    r.unterminated = true;
                    break;
                }
                i = k + taglen - 1;
                continue;
            }
        }
        if (c == ';') {
            if (content) {
                if (r.nstatements < max && spans) spans[r.nstatements] = (ig_sql_span){start, i};
                r.nstatements++;
            }
            content = false;
            start = i + 1;
            last = ';';
            continue;
        }
        if (!isspace((unsigned char)c)) {
            content = true;
            last = c;
        }
    }
    if (content && !r.unterminated) {
        if (r.nstatements < max && spans) spans[r.nstatements] = (ig_sql_span){start, n};
        r.nstatements++;
    } else if (content && r.unterminated) {
        r.nstatements++;
    }
    r.ends_with_semicolon = !r.unterminated && last == ';';
    return r;
}
