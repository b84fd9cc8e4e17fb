/* The YAML reader: libyaml's event parser turned into a tree of ig_yaml
 * nodes in an arena, each with the file, line and column it came from.
 *
 * The tree is built with an explicit stack of open collections (no
 * recursion, so depth is only limited by IG_YAML_MAX_DEPTH). Anchors are
 * registered when their node is complete; an alias shares the anchored node
 * (the tree is read-only), and every node counts towards IG_YAML_MAX_NODES as
 * many times as it is reachable, so an alias bomb stops early instead of
 * taking the machine when a consumer walks the tree. Merge keys (`<<: *base`)
 * are resolved when their mapping closes, as YAML 1.1 defines them; duplicate
 * keys are errors. `${VAR}` interpolation happens on value scalars as they
 * arrive, when the caller asks for it (never on keys). */
#include "project/yaml.h"

#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* The source of one document, kept for error excerpts. */
struct ig_yaml_src {
    const char *file;
    const char *text;
    size_t len;
    size_t *lines; /* byte offset where each line starts */
    size_t nlines;
};

/* ---- source positions ------------------------------------------------- */

static void src_index_lines(ig_arena *a, struct ig_yaml_src *s)
{
    size_t n = 1;
    for (size_t i = 0; i < s->len; i++)
        if (s->text[i] == '\n' ||
            (s->text[i] == '\r' && (i + 1 >= s->len || s->text[i + 1] != '\n')))
            n++;
    s->lines = ig_arena_alloc(a, n * sizeof *s->lines);
    s->lines[0] = 0;
    s->nlines = 1;
    for (size_t i = 0; i < s->len; i++)
        if (s->text[i] == '\n' ||
            (s->text[i] == '\r' && (i + 1 >= s->len || s->text[i + 1] != '\n')))
            s->lines[s->nlines++] = i + 1;
}

/* End of line i (0-based), before its line break. */
static size_t src_line_end(const struct ig_yaml_src *s, size_t i)
{
    size_t e = i + 1 < s->nlines ? s->lines[i + 1] : s->len;
    while (e > s->lines[i] && (s->text[e - 1] == '\n' || s->text[e - 1] == '\r'))
        e--;
    return e;
}

/* Byte offset of 1-based (line, column); columns count characters, as
 * libyaml's marks do. */
static size_t src_offset(const struct ig_yaml_src *s, int line, int column)
{
    if (line < 1) return 0;
    if ((size_t)line > s->nlines) return s->len;
    size_t i = s->lines[line - 1], end = src_line_end(s, (size_t)line - 1);
    for (int c = 1; c < column && i < end; c++) {
        i++;
        while (i < end && ((unsigned char)s->text[i] & 0xC0) == 0x80)
            i++;
    }
    return i;
}

/* 1-based (line, column) of a byte offset. */
static void src_position(const struct ig_yaml_src *s, size_t off, int *line, int *column)
{
    size_t lo = 0, hi = s->nlines;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (s->lines[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    int col = 1;
    for (size_t i = s->lines[lo]; i < off && i < s->len; i++)
        if (((unsigned char)s->text[i] & 0xC0) != 0x80) col++;
    *line = (int)lo + 1;
    *column = col;
}

/* The detail of an error: the source line and a caret under the column.
 *    4 | threads: two
 *      |          ^                                                       */
static void src_excerpt(const struct ig_yaml_src *s, int line, int column, ig_error *err)
{
    if (!s || !err || line < 1 || (size_t)line > s->nlines) return;
    size_t start = s->lines[line - 1], end = src_line_end(s, (size_t)line - 1);
    size_t at = src_offset(s, line, column);
    const char *lead = "";
    /* a long line: show a window around the column */
    if (ig_utf8_width(s->text + start, at - start) > 100) {
        size_t skip = ig_utf8_fit(s->text + start, at - start,
                                  ig_utf8_width(s->text + start, at - start) - 60);
        start += skip;
        lead = "...";
    }
    size_t shown = ig_utf8_fit(s->text + start, end - start, 160);
    char text[768], pad[768];
    size_t t = 0, p = 0;
    for (size_t i = start; i < start + shown && t + 4 < sizeof text; i++) {
        unsigned char ch = (unsigned char)s->text[i];
        text[t++] = (ch < 0x20 && ch != '\t') || ch == 0x7f ? '?' : (char)ch;
    }
    text[t] = '\0';
    for (size_t i = 0; lead[i]; i++)
        pad[p++] = ' ';
    for (size_t i = start; i < at && i < start + shown && p + 4 < sizeof pad;) {
        size_t n = 1;
        while (i + n < at && ((unsigned char)s->text[i + n] & 0xC0) == 0x80)
            n++;
        if (s->text[i] == '\t')
            pad[p++] = '\t';
        else
            for (size_t w = ig_utf8_width(s->text + i, n); w > 0 && p + 4 < sizeof pad; w--)
                pad[p++] = ' ';
        i += n;
    }
    pad[p] = '\0';
    int nw = snprintf(NULL, 0, "%d", line);
    ig_err_detail(err, "%d | %s%s\n%*s | %s^", line, lead, text, nw, "", pad);
}

void ig_yaml_excerpt(const ig_yaml *n, int line, int column, ig_error *err)
{
    if (n) src_excerpt(n->src, line, column, err);
}

static const char *file_base(const char *path)
{
    const char *s = path ? strrchr(path, '/') : NULL;
    return s ? s + 1 : path ? path : "";
}

/* ---- a small string-keyed hash table (anchors, duplicate keys) -------- */

typedef struct {
    const char *key;
    void *val;
    long weight;
} hslot;

typedef struct {
    hslot *slots;
    size_t cap, n; /* cap is a power of two */
} htab;

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static hslot *htab_find(htab *t, const char *key)
{
    if (!t->cap) return NULL;
    for (size_t i = hash_str(key) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (!t->slots[i].key) return NULL;
        if (!strcmp(t->slots[i].key, key)) return &t->slots[i];
    }
}

/* Insert or find; returns the slot (key set, val as it was). */
static hslot *htab_put(htab *t, const char *key)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        hslot *ns = ig_calloc(ncap, sizeof *ns);
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->slots[i].key) continue;
            size_t j = hash_str(t->slots[i].key) & (ncap - 1);
            while (ns[j].key)
                j = (j + 1) & (ncap - 1);
            ns[j] = t->slots[i];
        }
        free(t->slots);
        t->slots = ns;
        t->cap = ncap;
    }
    size_t i = hash_str(key) & (t->cap - 1);
    for (; t->slots[i].key; i = (i + 1) & (t->cap - 1))
        if (!strcmp(t->slots[i].key, key)) return &t->slots[i];
    t->slots[i].key = key;
    t->n++;
    return &t->slots[i];
}

static void htab_free(htab *t)
{
    free(t->slots);
    t->slots = NULL;
    t->cap = t->n = 0;
}

/* ---- the tree builder ------------------------------------------------- */

typedef struct frame {
    ig_yaml *node;
    ig_yaml **items, **keys;
    size_t n, cap;
    ig_yaml *key;     /* map: the key waiting for its value */
    char *anchor;     /* heap; registered when the node closes */
    long start;       /* node count when the node opened */
    ig_yaml **merges; /* map: mappings named by `<<` */
    size_t nmerge, capmerge;
} frame;

typedef struct build {
    ig_arena *a;
    bool interpolate;
    struct ig_yaml_src *src;
    ig_error *err;
    frame *stack;
    size_t depth, cap;
    htab anchors; /* name (heap) -> node, weight */
    long count;   /* nodes so far, aliases expanded */
    ig_yaml *root;
    int ndocs;
} build;

static ig_yaml *node_new(build *b, ig_yaml_kind kind, yaml_mark_t m)
{
    ig_yaml *n = ig_arena_zalloc(b->a, sizeof *n);
    n->kind = kind;
    n->file = b->src->file;
    n->line = (int)m.line + 1;
    n->column = (int)m.column + 1;
    n->src = b->src;
    return n;
}

/* The key path of the open collections below depth `upto`, e.g.
 * "sources.shop.streams[2]". */
static void key_path(build *b, size_t upto, ig_buf *out)
{
    for (size_t i = 0; i < upto && i < b->depth; i++) {
        frame *f = &b->stack[i];
        if (f->node->kind == IG_Y_MAP && f->key) {
            if (out->len) ig_buf_putc(out, '.');
            ig_buf_puts(out, f->key->str);
        } else if (f->node->kind == IG_Y_SEQ) {
            ig_buf_printf(out, "[%zu]", f->n);
        }
    }
}

static ig_rc err_at(build *b, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static ig_rc err_at(build *b, int line, int column, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ig_verr(b->err, IG_ERR_CONFIG, fmt, ap);
    va_end(ap);
    ig_err_at(b->err, b->src->file, line, column);
    src_excerpt(b->src, line, column, b->err);
    return IG_ERR_CONFIG;
}

static ig_rc count_nodes(build *b, long n, yaml_mark_t m)
{
    b->count += n;
    if (b->count <= IG_YAML_MAX_NODES && n <= IG_YAML_MAX_NODES) return 0;
    err_at(b, (int)m.line + 1, (int)m.column + 1,
           "document too large: more than %ld nodes once aliases are expanded", IG_YAML_MAX_NODES);
    ig_err_hint(b->err, "an alias that repeats an anchor that itself repeats aliases grows "
                        "exponentially; use fewer levels of aliases");
    return IG_ERR_CONFIG;
}

static void push(ig_yaml ***arr, size_t *n, size_t *cap, ig_yaml *x)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *arr = ig_realloc(*arr, *cap * sizeof **arr);
    }
    (*arr)[(*n)++] = x;
}

/* Add an item (and for a mapping its key) to an open collection. */
static void frame_add(frame *f, ig_yaml *key, ig_yaml *item)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 8;
        f->items = ig_realloc(f->items, f->cap * sizeof *f->items);
        if (key) f->keys = ig_realloc(f->keys, f->cap * sizeof *f->keys);
    }
    if (key) f->keys[f->n] = key;
    f->items[f->n++] = item;
}

static bool is_merge_key(const ig_yaml *k) { return !k->quoted && !strcmp(k->str, "<<"); }

/* A node is complete: attach it to the open collection (or make it the
 * root). */
static ig_rc attach(build *b, ig_yaml *n)
{
    if (!b->depth) {
        b->root = n;
        return 0;
    }
    frame *f = &b->stack[b->depth - 1];
    if (f->node->kind == IG_Y_SEQ) {
        frame_add(f, NULL, n);
        return 0;
    }
    if (!f->key) {
        if (n->kind != IG_Y_SCALAR) {
            if (n->kind == IG_Y_NULL)
                return err_at(b, n->line, n->column, "a mapping key cannot be empty");
            return err_at(b, n->line, n->column, "a mapping key must be a plain name, not %s",
                          ig_yaml_kind_name(n));
        }
        f->key = n;
        return 0;
    }
    ig_yaml *k = f->key;
    f->key = NULL;
    if (is_merge_key(k)) {
        if (n->kind == IG_Y_MAP) {
            push(&f->merges, &f->nmerge, &f->capmerge, n);
            return 0;
        }
        if (n->kind == IG_Y_SEQ) {
            for (size_t i = 0; i < n->n; i++) {
                if (n->items[i]->kind != IG_Y_MAP)
                    return err_at(b, n->items[i]->line, n->items[i]->column,
                                  "a merge key '<<' takes mappings, but this is %s",
                                  ig_yaml_kind_name(n->items[i]));
                push(&f->merges, &f->nmerge, &f->capmerge, n->items[i]);
            }
            return 0;
        }
        return err_at(b, n->line, n->column,
                      "a merge key '<<' takes a mapping or a list of mappings, got %s",
                      ig_yaml_kind_name(n));
    }
    frame_add(f, k, n);
    return 0;
}

static ig_rc open_node(build *b, ig_yaml *n, const unsigned char *anchor)
{
    if (b->depth >= IG_YAML_MAX_DEPTH)
        return err_at(b, n->line, n->column, "nesting deeper than %d levels", IG_YAML_MAX_DEPTH);
    if (b->depth == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->stack = ig_realloc(b->stack, b->cap * sizeof *b->stack);
    }
    frame *f = &b->stack[b->depth++];
    memset(f, 0, sizeof *f);
    f->node = n;
    f->anchor = anchor ? ig_strdup((const char *)anchor) : NULL;
    f->start = b->count;
    return 0;
}

static void frame_free(frame *f)
{
    free(f->items);
    free(f->keys);
    free(f->merges);
    free(f->anchor);
}

static void anchor_set(build *b, const char *name, ig_yaml *n, long weight)
{
    hslot *s = htab_find(&b->anchors, name);
    if (!s) s = htab_put(&b->anchors, ig_strdup(name));
    s->val = n;
    s->weight = weight;
}

/* Close the innermost collection: check keys, apply merges, register its
 * anchor, attach it to its parent. */
static ig_rc close_node(build *b)
{
    frame *f = &b->stack[b->depth - 1];
    ig_yaml *n = f->node;
    ig_rc rc = 0;
    htab seen = {0};
    if (n->kind == IG_Y_MAP) {
        for (size_t i = 0; i < f->n; i++) {
            hslot *s = htab_put(&seen, f->keys[i]->str);
            if (s->val) {
                const ig_yaml *first = s->val;
                ig_buf path = IG_BUF_INIT;
                key_path(b, b->depth - 1, &path);
                rc = err_at(b, f->keys[i]->line, f->keys[i]->column,
                            "duplicate key '%s%s%s' (first defined at line %d)", ig_buf_cstr(&path),
                            path.len ? "." : "", f->keys[i]->str, first->line);
                ig_err_hint(b->err, "remove one of them; YAML keeps only one value per key");
                ig_buf_free(&path);
                goto out;
            }
            s->val = f->keys[i];
        }
        /* merged keys: explicit keys win, then earlier mappings win */
        for (size_t m = 0; m < f->nmerge; m++) {
            const ig_yaml *src = f->merges[m];
            for (size_t i = 0; i < src->n; i++) {
                hslot *s = htab_put(&seen, src->keys[i]->str);
                if (s->val) continue;
                s->val = src->keys[i];
                frame_add(f, src->keys[i], src->items[i]);
            }
        }
    }
    size_t total = n->n = f->n;
    if (total) {
        n->items = ig_arena_alloc(b->a, total * sizeof *n->items);
        memcpy(n->items, f->items, total * sizeof *n->items);
        if (n->kind == IG_Y_MAP) {
            n->keys = ig_arena_alloc(b->a, total * sizeof *n->keys);
            memcpy(n->keys, f->keys, total * sizeof *n->keys);
        }
    }
    if (f->anchor) anchor_set(b, f->anchor, n, b->count - f->start + 1);
out:
    htab_free(&seen);
    frame_free(f);
    b->depth--;
    return rc ? rc : attach(b, n);
}

/* ---- scalars ---------------------------------------------------------- */

static bool is_null_text(const char *s, size_t len)
{
    return len == 0 || (len == 1 && s[0] == '~') ||
           (len == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

/* Where `${name` is in the source text of a scalar, for error positions;
 * falls back to the scalar's own position. */
static void var_position(build *b, const ig_yaml *n, yaml_mark_t end, const char *name, int *line,
                         int *column)
{
    *line = n->line;
    *column = n->column;
    const struct ig_yaml_src *s = b->src;
    size_t from = src_offset(s, n->line, n->column);
    size_t to = src_offset(s, (int)end.line + 1, (int)end.column + 1);
    size_t nl = strlen(name);
    for (size_t i = from; i + 2 + nl <= to && i + 2 + nl <= s->len; i++) {
        if (s->text[i] == '$' && s->text[i + 1] == '{' && !memcmp(s->text + i + 2, name, nl) &&
            (i == 0 || s->text[i - 1] != '$')) {
            src_position(s, i, line, column);
            return;
        }
    }
}

static bool var_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
static bool var_char(char c) { return var_start(c) || (c >= '0' && c <= '9'); }

/* Replace ${VAR}, ${VAR:-default} and $${ in s; the result goes to n->str. */
static ig_rc interpolate(build *b, ig_yaml *n, const char *s, size_t len, yaml_mark_t end)
{
    ig_buf out;
    ig_buf_init(&out, (size_t)16 << 20);
    ig_rc rc = 0;
    int line, col;
    for (size_t i = 0; i < len;) {
        if (s[i] == '$' && i + 2 < len && s[i + 1] == '$' && s[i + 2] == '{') {
            ig_buf_puts(&out, "${");
            i += 3;
            continue;
        }
        if (!(s[i] == '$' && i + 1 < len && s[i + 1] == '{')) {
            ig_buf_putc(&out, s[i++]);
            continue;
        }
        size_t j = i + 2, name0 = j;
        if (j < len && var_start(s[j]))
            while (j < len && var_char(s[j]))
                j++;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(j - name0), s + name0);
        const char *def = NULL;
        size_t deflen = 0;
        if (j == name0 || j - name0 >= sizeof name) {
            var_position(b, n, end, name, &line, &col);
            rc = err_at(b, line, col, "'${' must be followed by a variable name and '}'");
            ig_err_hint(b->err, "write ${NAME} or ${NAME:-default}; write $${ for a literal ${");
            goto out;
        }
        if (j < len && s[j] == '}') {
            j++;
        } else if (j + 1 < len && s[j] == ':' && s[j + 1] == '-') {
            def = s + j + 2;
            const char *close = memchr(def, '}', len - (j + 2));
            if (!close) {
                var_position(b, n, end, name, &line, &col);
                rc = err_at(b, line, col, "'${%s:-' has no closing '}'", name);
                ig_err_hint(b->err, "write ${%s:-default}", name);
                goto out;
            }
            deflen = (size_t)(close - def);
            j = (size_t)(close - s) + 1;
        } else {
            var_position(b, n, end, name, &line, &col);
            rc = err_at(b, line, col, "expected '}' or ':-' after '${%s'", name);
            ig_err_hint(b->err, "write ${%s} or ${%s:-default}; write $${ for a literal ${", name,
                        name);
            goto out;
        }
        if (!n->var) n->var = ig_arena_strdup(b->a, name);
        const char *v = getenv(name);
        if (def && (!v || !*v)) {
            ig_buf_append(&out, def, deflen);
        } else if (v) {
            if (ig_buf_puts(&out, v) < 0) {
                rc =
                    err_at(b, n->line, n->column, "value too long after interpolating ${%s}", name);
                goto out;
            }
        } else {
            ig_buf path = IG_BUF_INIT;
            key_path(b, b->depth, &path);
            var_position(b, n, end, name, &line, &col);
            rc = err_at(b, line, col, "%s%senvironment variable %s is not set", ig_buf_cstr(&path),
                        path.len ? ": " : "", name);
            ig_err_hint(b->err,
                        "export %s=... before running ingot, or give a default with ${%s:-default}",
                        name, name);
            ig_buf_free(&path);
            goto out;
        }
        i = j;
    }
    n->str = ig_arena_strndup(b->a, ig_buf_cstr(&out), out.len);
out:
    ig_buf_free(&out);
    return rc;
}

static bool tag_is(const unsigned char *tag, const char *what)
{
    return tag && !strcmp((const char *)tag, what);
}

static ig_rc check_tag(build *b, const unsigned char *tag, yaml_mark_t m)
{
    if (!tag || !strcmp((const char *)tag, "!") ||
        !strncmp((const char *)tag, "tag:yaml.org,2002:", 18))
        return 0;
    err_at(b, (int)m.line + 1, (int)m.column + 1, "unsupported YAML tag '%s'", (const char *)tag);
    ig_err_hint(b->err,
                "remove the tag; ingot reads plain YAML (only !!str and the other standard tags)");
    return IG_ERR_CONFIG;
}

static ig_rc on_scalar(build *b, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    const unsigned char *tag = ev->data.scalar.tag;
    if (check_tag(b, tag, ev->start_mark)) return IG_ERR_CONFIG;
    bool is_key =
        b->depth && b->stack[b->depth - 1].node->kind == IG_Y_MAP && !b->stack[b->depth - 1].key;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    bool null = plain && !is_key && is_null_text(s, len) && !tag_is(tag, "tag:yaml.org,2002:str") &&
                !tag_is(tag, "!");
    if (tag_is(tag, "tag:yaml.org,2002:null")) null = true;
    ig_yaml *n = node_new(b, null ? IG_Y_NULL : IG_Y_SCALAR, ev->start_mark);
    if (count_nodes(b, 1, ev->start_mark)) return IG_ERR_CONFIG;
    if (!null) {
        n->quoted = !plain || tag_is(tag, "tag:yaml.org,2002:str") || tag_is(tag, "!");
        if (memchr(s, '\0', len))
            return err_at(b, n->line, n->column, "a value contains a NUL character");
        if (is_key && plain && len == 0)
            return err_at(b, n->line, n->column, "a mapping key cannot be empty");
        if (!is_key && b->interpolate && memchr(s, '$', len)) {
            if (interpolate(b, n, s, len, ev->end_mark)) return IG_ERR_CONFIG;
        } else {
            n->str = ig_arena_strndup(b->a, s, len);
        }
    }
    if (ev->data.scalar.anchor) anchor_set(b, (const char *)ev->data.scalar.anchor, n, 1);
    return attach(b, n);
}

static ig_rc on_alias(build *b, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    hslot *s = htab_find(&b->anchors, name);
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    if (!s) {
        for (size_t i = 0; i < b->depth; i++)
            if (b->stack[i].anchor && !strcmp(b->stack[i].anchor, name))
                return err_at(b, line, col, "alias *%s refers to a node that contains it", name);
        return err_at(b, line, col, "unknown alias *%s: no anchor &%s before it", name, name);
    }
    if (count_nodes(b, s->weight, ev->start_mark)) return IG_ERR_CONFIG;
    return attach(b, s->val);
}

/* libyaml's syntax errors, with the offending line. */
static ig_rc syntax_error(build *b, const yaml_parser_t *p)
{
    int line, col;
    if (p->error == YAML_READER_ERROR) {
        src_position(b->src, p->problem_offset < b->src->len ? p->problem_offset : b->src->len,
                     &line, &col);
    } else {
        line = (int)p->problem_mark.line + 1;
        col = (int)p->problem_mark.column + 1;
    }
    const char *problem = p->problem ? p->problem : "invalid YAML";
    /* an unclosed quote or bracket: the end of the file says nothing; point
     * at where it opened */
    if (p->context && strstr(problem, "end of stream")) {
        line = (int)p->context_mark.line + 1;
        col = (int)p->context_mark.column + 1;
    }
    if (p->error == YAML_MEMORY_ERROR) problem = "out of memory";
    if (p->context && p->error != YAML_READER_ERROR)
        err_at(b, line, col, "YAML syntax error: %s (%s at line %d, column %d)", problem,
               p->context, (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    else
        err_at(b, line, col, "YAML syntax error: %s", problem);
    /* hints for the usual mistakes */
    size_t off = src_offset(b->src, line, col);
    size_t ls = (size_t)line <= b->src->nlines ? b->src->lines[line - 1] : b->src->len;
    size_t upto = off + 1 < b->src->len ? off + 1 : b->src->len;
    bool tab = upto > ls && memchr(b->src->text + ls, '\t', upto - ls) != NULL;
    if (p->error == YAML_READER_ERROR)
        ig_err_hint(b->err, "save the file as UTF-8");
    else if (tab || strstr(problem, "cannot start any token"))
        ig_err_hint(b->err, "YAML does not allow tabs for indentation; indent with spaces");
    else if (strstr(problem, "mapping values are not allowed"))
        ig_err_hint(b->err,
                    "quote a value that contains ': ', or check the indentation of this line");
    else if (strstr(problem, "did not find expected key") ||
             strstr(problem, "expected <block end>"))
        ig_err_hint(b->err,
                    "check the indentation: keys of one mapping line up in the same column");
    else if (strstr(problem, "found unexpected end of stream") ||
             strstr(problem, "did not find expected"))
        ig_err_hint(b->err, "a quote or bracket opened earlier is not closed");
    return IG_ERR_CONFIG;
}

ig_rc ig_yaml_parse(ig_arena *a, const char *file, const char *text, size_t len,
                    const ig_yaml_options *opt, ig_yaml **out, ig_error *err)
{
    struct ig_yaml_src *src = ig_arena_zalloc(a, sizeof *src);
    src->file = ig_arena_strdup(a, file ? file : "<yaml>");
    src->text = ig_arena_strndup(a, text, len);
    src->len = len;
    src_index_lines(a, src);

    build b = {.a = a, .interpolate = opt && opt->interpolate_env, .src = src, .err = err};
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) return ig_err(err, IG_ERR_INTERNAL, "libyaml: out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)src->text, len);
    ig_rc rc = 0;
    for (bool done = false; !done && !rc;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = syntax_error(&b, &p);
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (b.ndocs++ > 0) {
                rc = err_at(&b, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                            "a second YAML document ('---') in one file");
                ig_err_hint(err, "%s holds one document; remove the '---' line and merge the two",
                            file_base(src->file));
            }
            break;
        case YAML_SCALAR_EVENT:
            rc = on_scalar(&b, &ev);
            break;
        case YAML_ALIAS_EVENT:
            rc = on_alias(&b, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            bool map = ev.type == YAML_MAPPING_START_EVENT;
            const unsigned char *tag = map ? ev.data.mapping_start.tag : ev.data.sequence_start.tag;
            rc = check_tag(&b, tag, ev.start_mark);
            if (!rc) rc = count_nodes(&b, 1, ev.start_mark);
            if (!rc)
                rc = open_node(&b, node_new(&b, map ? IG_Y_MAP : IG_Y_SEQ, ev.start_mark),
                               map ? ev.data.mapping_start.anchor : ev.data.sequence_start.anchor);
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            rc = close_node(&b);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    while (b.depth)
        frame_free(&b.stack[--b.depth]);
    free(b.stack);
    for (size_t i = 0; i < b.anchors.cap; i++)
        free((char *)b.anchors.slots[i].key);
    htab_free(&b.anchors);
    if (rc) return rc;
    if (!b.root) {
        yaml_mark_t m = {0, 0, 0};
        b.root = node_new(&b, IG_Y_NULL, m);
    }
    *out = b.root;
    return 0;
}

ig_rc ig_yaml_load(ig_arena *a, const char *path, const ig_yaml_options *opt, ig_yaml **out,
                   ig_error *err)
{
    char *text;
    size_t len;
    ig_rc rc = ig_fs_read(path, IG_YAML_MAX_FILE, &text, &len, err);
    if (rc) return rc;
    rc = ig_yaml_parse(a, path, text, len, opt, out, err);
    free(text);
    return rc;
}

/* ---- reading the tree ------------------------------------------------- */

const char *ig_yaml_kind_name(const ig_yaml *n)
{
    if (!n) return "nothing";
    switch (n->kind) {
    case IG_Y_NULL:
        return "null (an empty value)";
    case IG_Y_SCALAR:
        return "a single value";
    case IG_Y_SEQ:
        return "a list";
    case IG_Y_MAP:
        return "a mapping";
    }
    return "?";
}

ig_yaml *ig_yaml_get(const ig_yaml *map, const char *key)
{
    if (!map || map->kind != IG_Y_MAP) return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (!strcmp(map->keys[i]->str, key)) return map->items[i];
    return NULL;
}

ig_rc ig_yaml_error(const ig_yaml *n, ig_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ig_verr(err, IG_ERR_CONFIG, fmt, ap);
    va_end(ap);
    if (n) {
        ig_err_at(err, n->file, n->line, n->column);
        src_excerpt(n->src, n->line, n->column, err);
    }
    return IG_ERR_CONFIG;
}

/* "'two'", or for a value from the environment "the value of ${VAR}": a
 * secret must not reach an error message. */
static void shown(const ig_yaml *n, char *out, size_t cap)
{
    if (cap < 16) {
        if (cap) *out = '\0';
        return;
    }
    if (n->var) {
        snprintf(out, cap, "the value of ${%s} (not shown)", n->var);
        return;
    }
    if (!n->str) {
        snprintf(out, cap, "null");
        return;
    }
    size_t len = strlen(n->str), fit = ig_utf8_fit(n->str, len, 60);
    char *o = out;
    size_t left = cap - 8;
    *o++ = '\'';
    for (size_t i = 0; i < fit && left > 1; i++, left--) {
        unsigned char c = (unsigned char)n->str[i];
        *o++ = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (fit < len) o += snprintf(o, 4, "...");
    *o++ = '\'';
    *o = '\0';
}

const char *ig_yaml_shown(const ig_yaml *n, char *buf, size_t cap)
{
    shown(n, buf, cap);
    return buf;
}

static ig_rc expect(const ig_yaml *n, const char *what, const char *type, ig_error *err)
{
    what = what && *what ? what : "value";
    if (!n) return ig_err(err, IG_ERR_CONFIG, "%s: missing, expected %s", what, type);
    if (n->kind == IG_Y_SCALAR) {
        char v[128];
        shown(n, v, sizeof v);
        return ig_yaml_error(n, err, "%s: expected %s, got %s", what, type, v);
    }
    return ig_yaml_error(n, err, "%s: expected %s, got %s", what, type, ig_yaml_kind_name(n));
}

ig_rc ig_yaml_str(const ig_yaml *n, const char *what, const char **out, ig_error *err)
{
    if (!n || n->kind != IG_Y_SCALAR) return expect(n, what, "a string", err);
    *out = n->str;
    return 0;
}

ig_rc ig_yaml_int(const ig_yaml *n, const char *what, long *out, ig_error *err)
{
    if (!n || n->kind != IG_Y_SCALAR) return expect(n, what, "an integer", err);
    /* decimal, optional sign, `_` between digits (1_000_000) */
    char digits[64];
    size_t d = 0;
    const char *s = n->str;
    if (*s == '+' || *s == '-') digits[d++] = *s++;
    bool ok = *s >= '0' && *s <= '9';
    for (; *s && ok; s++) {
        if (*s >= '0' && *s <= '9' && d < sizeof digits - 1)
            digits[d++] = *s;
        else if (!(*s == '_' && s[1] >= '0' && s[1] <= '9'))
            ok = false;
    }
    digits[d] = '\0';
    if (ok) {
        errno = 0;
        char *end;
        long v = strtol(digits, &end, 10);
        if (!errno && !*end) {
            *out = v;
            return 0;
        }
        char v2[128];
        shown(n, v2, sizeof v2);
        return ig_yaml_error(n, err, "%s: %s is out of range for an integer",
                             what && *what ? what : "value", v2);
    }
    return expect(n, what, "an integer", err);
}

ig_rc ig_yaml_bool(const ig_yaml *n, const char *what, bool *out, ig_error *err)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No",
                                     "NO",    "off",   "Off",   "OFF"};
    if (!n || n->kind != IG_Y_SCALAR) return expect(n, what, "true or false", err);
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (!strcmp(n->str, yes[i])) return *out = true, 0;
        if (!strcmp(n->str, no[i])) return *out = false, 0;
    }
    return expect(n, what, "true or false", err);
}

ig_rc ig_yaml_double(const ig_yaml *n, const char *what, double *out, ig_error *err)
{
    if (!n || n->kind != IG_Y_SCALAR) return expect(n, what, "a number", err);
    const char *s = n->str;
    double v;
    bool ok = ((*s >= '0' && *s <= '9') || *s == '-' || *s == '+' || *s == '.') &&
              ig_parse_double(s, &v) && isfinite(v);
    if (!ok) return expect(n, what, "a number", err);
    *out = v;
    return 0;
}

ig_rc ig_yaml_check_key(const ig_yaml *map, size_t i, const char *what, const char *const *allowed,
                        ig_error *err)
{
    const ig_yaml *k = map->keys[i];
    size_t na = 0;
    for (; allowed[na]; na++)
        if (!strcmp(allowed[na], k->str)) return 0;
    bool root = !what || !*what;
    const char *sug = ig_str_suggest(k->str, allowed, na);
    char full[512], sfull[512];
    snprintf(full, sizeof full, "%s%s%s", root ? "" : what, root ? "" : ".", k->str);
    if (sug) {
        snprintf(sfull, sizeof sfull, "%s%s%s", root ? "" : what, root ? "" : ".", sug);
        ig_yaml_error(k, err, "unknown key '%s' in %s; did you mean '%s'?", full,
                      file_base(k->file), sfull);
    } else {
        ig_yaml_error(k, err, "unknown key '%s' in %s", full, file_base(k->file));
    }
    ig_buf h = IG_BUF_INIT;
    ig_buf_printf(&h, "valid keys %s%s: ", root ? "at the top level" : "in ", root ? "" : what);
    for (size_t j = 0; j < na; j++)
        ig_buf_printf(&h, "%s%s", j ? ", " : "", allowed[j]);
    ig_err_hint(err, "%s", ig_buf_cstr(&h));
    ig_buf_free(&h);
    return IG_ERR_CONFIG;
}

ig_rc ig_yaml_check_keys(const ig_yaml *map, const char *what, const char *const *allowed,
                         ig_error *err)
{
    if (!map || map->kind != IG_Y_MAP) return 0;
    for (size_t i = 0; i < map->n; i++) {
        ig_rc rc = ig_yaml_check_key(map, i, what, allowed, err);
        if (rc) return rc;
    }
    return 0;
}
