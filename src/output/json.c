/* JSON writers: an array of objects (one object per line inside it), or
 * NDJSON (one object per line, nothing else). Values keep their type:
 *   integers, decimals and big integers  numbers, written with the exact
 *       digits the warehouse gave (never through a double), so nothing is
 *       rounded on our side; a reader that parses numbers as doubles may
 *       still round integers beyond 2^53 -- CAST to VARCHAR to get strings;
 *   floating point  numbers; NaN and infinities, which JSON cannot hold, as
 *       the strings "NaN", "Infinity", "-Infinity";
 *   booleans  true/false;  NULL  null;
 *   JSON-typed columns  embedded as they are;
 *   everything else (text, dates, timestamps, intervals, UUIDs, blobs,
 *       lists, structs)  strings in the warehouse's display form.
 * Duplicate column names get _2, _3, ... so that no key is lost. */
#include "output/writer.h"

#include "core/mem.h"
#include "core/str.h"

#include <stdlib.h>
#include <string.h>

typedef struct json_state {
    char **keys; /* quoted keys, with the trailing colon */
    bool array;
} json_state;

/* Append s as a JSON string; invalid UTF-8 bytes become U+FFFD so that the
 * document stays valid. */
static void quote(ig_buf *b, const char *s, size_t n)
{
    if (ig_utf8_valid(s, n)) {
        ig_json_quote_n(b, s, n);
        return;
    }
    ig_buf clean = IG_BUF_INIT;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
        if (len && len <= n - i && ig_utf8_valid(s + i, len)) {
            ig_buf_append(&clean, s + i, len);
            i += len;
        } else {
            ig_buf_puts(&clean, "\xEF\xBF\xBD");
            i++;
        }
    }
    ig_json_quote_n(b, clean.data ? clean.data : "", clean.len);
    ig_buf_free(&clean);
}

static void value(ig_buf *b, const ig_value *v)
{
    if (v->is_null) {
        ig_buf_puts(b, "null");
        return;
    }
    const char *s = v->text ? v->text : "";
    size_t n = v->text ? v->len : 0;
    switch (v->type) {
    case IG_T_BOOL:
        ig_buf_puts(b, v->b ? "true" : "false");
        return;
    case IG_T_INT:
    case IG_T_BIGNUM:
    case IG_T_DECIMAL:
    case IG_T_DOUBLE:
        if (ig__out_json_number(s, n)) {
            ig_buf_append(b, s, n);
            return;
        }
        if (v->type == IG_T_DOUBLE) {
            ig_buf_puts(b, v->d != v->d ? "\"NaN\"" : v->d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
            return;
        }
        break;
    case IG_T_JSON: {
        /* embedded raw; an empty text is not JSON, so it reads null */
        size_t i = 0;
        while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r'))
            i++;
        if (i == n)
            ig_buf_puts(b, "null");
        else
            ig_buf_append(b, s, n);
        return;
    }
    default:
        break;
    }
    quote(b, s, n);
}

static json_state *J(ig_out_writer *w) { return w->impl; }

static bool key_taken(char **keys, size_t n, const char *k)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(keys[i], k)) return true;
    return false;
}

static ig_rc begin(ig_out_writer *w, bool array, ig_error *err)
{
    json_state *j = ig_calloc(1, sizeof *j);
    w->impl = j;
    j->array = array;
    j->keys = ig_calloc(w->ncols ? w->ncols : 1, sizeof(char *));
    ig_buf k = IG_BUF_INIT;
    for (size_t i = 0; i < w->ncols; i++) {
        const char *name = w->cols[i].name;
        ig_buf_reset(&k);
        quote(&k, name, strlen(name));
        ig_buf_putc(&k, ':');
        for (int n = 2; key_taken(j->keys, i, ig_buf_cstr(&k)); n++) {
            char *alt = ig_asprintf("%s_%d", name, n);
            ig_buf_reset(&k);
            quote(&k, alt, strlen(alt));
            ig_buf_putc(&k, ':');
            free(alt);
        }
        j->keys[i] = ig_strdup(ig_buf_cstr(&k));
    }
    ig_buf_free(&k);
    if (array) return ig__out_put(w, "[", 1, err);
    return IG_OK;
}

static ig_rc json_begin(ig_out_writer *w, ig_error *err) { return begin(w, true, err); }
static ig_rc ndjson_begin(ig_out_writer *w, ig_error *err) { return begin(w, false, err); }

static ig_rc row(ig_out_writer *w, const ig_value *vals, ig_error *err)
{
    json_state *j = J(w);
    ig_buf *b = &w->scratch;
    if (j->array) ig_buf_puts(b, w->rows ? ",\n" : "\n");
    ig_buf_putc(b, '{');
    for (size_t i = 0; i < w->ncols; i++) {
        if (i) ig_buf_putc(b, ',');
        ig_buf_puts(b, j->keys[i]);
        value(b, &vals[i]);
    }
    ig_buf_putc(b, '}');
    if (!j->array) ig_buf_putc(b, '\n');
    w->rows++;
    ig_rc rc = ig__out_put(w, b->data, b->len, err);
    ig_buf_reset(b);
    return rc;
}

static ig_rc json_finish(ig_out_writer *w, ig_error *err)
{
    return w->rows ? ig__out_put(w, "\n]\n", 3, err) : ig__out_put(w, "]\n", 2, err);
}

static ig_rc ndjson_finish(ig_out_writer *w, ig_error *err) { return IG_OK; }

static void json_free(ig_out_writer *w)
{
    json_state *j = J(w);
    if (!j) return;
    for (size_t i = 0; i < w->ncols; i++)
        free(j->keys[i]);
    free(j->keys);
    free(j);
    w->impl = NULL;
}

const ig__out_vt ig__out_json = {json_begin, row, json_finish, json_free};
const ig__out_vt ig__out_ndjson = {ndjson_begin, row, ndjson_finish, json_free};
