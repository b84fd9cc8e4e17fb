/* CSV helpers for connectors: records travel from a connector to the raw
 * zone as RFC 4180 CSV lines (PostgreSQL's COPY ... CSV writes them that way
 * itself; the MariaDB and REST connectors write them with these), where an
 * empty unquoted field is NULL and "" is the empty string. */
#include "ingest/connectors/internal.h"

#include <string.h>

void ig__conn_csv_field(ig_buf *b, const char *s, size_t n)
{
    bool quote = n == 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        ig_buf_append(b, s, n);
        return;
    }
    ig_buf_putc(b, '"');
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') {
            ig_buf_append(b, s + start, i - start + 1);
            ig_buf_putc(b, '"');
            start = i + 1;
        }
    }
    ig_buf_append(b, s + start, n - start);
    ig_buf_putc(b, '"');
}

int ig__conn_csv_get(const char *line, size_t n, size_t idx, ig_buf *out)
{
    ig_buf_reset(out);
    size_t i = 0, field = 0;
    for (;;) {
        bool quoted = i < n && line[i] == '"';
        if (field == idx) {
            if (!quoted) {
                size_t s = i;
                while (i < n && line[i] != ',' && line[i] != '\n' && line[i] != '\r') i++;
                ig_buf_append(out, line + s, i - s);
                return i > s ? 1 : 0;
            }
            for (i++; i < n; i++) {
                if (line[i] == '"') {
                    if (i + 1 < n && line[i + 1] == '"') {
                        ig_buf_putc(out, '"');
                        i++;
                    } else {
                        break;
                    }
                } else {
                    ig_buf_putc(out, line[i]);
                }
            }
            return 1;
        }
        if (quoted) {
            for (i++; i < n; i++)
                if (line[i] == '"') {
                    if (i + 1 < n && line[i + 1] == '"') i++;
                    else break;
                }
            i++;
        }
        while (i < n && line[i] != ',' && line[i] != '\n') i++;
        if (i >= n || line[i] != ',') return -1;
        i++;
        field++;
    }
}

void ig__conn_hex(ig_buf *b, const unsigned char *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    char tmp[256];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        tmp[k++] = hx[p[i] >> 4];
        tmp[k++] = hx[p[i] & 15];
        if (k == sizeof tmp) {
            ig_buf_append(b, tmp, k);
            k = 0;
        }
    }
    ig_buf_append(b, tmp, k);
}
