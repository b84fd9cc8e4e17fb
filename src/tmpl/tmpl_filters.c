/* Jinja's builtin filters and tests, with Jinja's argument names and
 * defaults (sort and unique ignore case unless told, round returns a float,
 * first of an empty list is undefined), plus dbt's as_bool / as_number /
 * as_native / as_text, which in dbt's text rendering all yield str(value).
 * Every filter is an ig_tmpl_fn whose pos[0] is the filtered value. */
#include "tmpl_int.h"

#include "core/mem.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIND(fname, nreq, ...)                                                                 \
    static const char *const names_[] = {__VA_ARGS__, NULL};                                   \
    ig_tmpl_val p[sizeof names_ / sizeof names_[0]];                                           \
    do {                                                                                       \
        ig_rc rc_ = ig_tmpl_bind(c, fname, a, names_, nreq, p);                                \
        if (rc_) return rc_;                                                                   \
    } while (0)

#define FN(name) static ig_rc name(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)

static bool given(ig_tmpl_val v) { return !ig__tmpl_is_missing(v); }
static bool opt_bool(ig_tmpl_val v, bool def) { return given(v) ? ig_tmpl_truthy(v) : def; }

static ig_rc opt_int(ig_tmpl_call *c, ig_tmpl_val v, int64_t def, const char *what, int64_t *out)
{
    if (!given(v) || v.type == IG_TMPL_NONE) {
        *out = def;
        return 0;
    }
    if (v.type == IG_TMPL_INT) *out = v.u.i;
    else if (v.type == IG_TMPL_BOOL) *out = v.u.b;
    else if (v.type == IG_TMPL_FLOAT) *out = (int64_t)v.u.f;
    else if (v.type == IG_TMPL_STR) {
        char *e;
        long long x = strtoll(STR(v)->s, &e, 10);
        if (*e || !STR(v)->len) return ig_tmpl_fail(c, "%s must be an integer", what);
        *out = x;
    } else {
        return ig_tmpl_fail(c, "%s must be an integer, not %s", what, ig_tmpl_type_name(v));
    }
    return 0;
}

static ig_tmpl_val sv(const char *s, size_t n) { return ig__tmpl_new_str(s, n); }

static ig_rc to_s(ig_tmpl_call *c, ig_tmpl_val v, ig_tmpl_val *out) { return ig__tmpl_to_strv(c, v, out); }

static size_t u8len(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) k++;
    return k;
}

/* byte offset of code point i (clamped) */
static size_t u8off(const char *s, size_t n, size_t i)
{
    size_t k = 0, j = 0;
    for (; j < n; j++) {
        if (((unsigned char)s[j] & 0xC0) != 0x80) {
            if (k == i) return j;
            k++;
        }
    }
    return n;
}

static ig_tmpl_val lower_str(ig_tmpl_val v) { return ig__tmpl_case(STR(v)->s, STR(v)->len, CASE_LOWER); }

/* ---------------------------------------------------------- attribute keys */

/* item.attr where attr is "a.b.0" or an int (Jinja's make_attrgetter) */
static ig_rc attr_get(ig_tmpl_call *c, ig_tmpl_val item, ig_tmpl_val attr, ig_tmpl_val *out)
{
    if (attr.type != IG_TMPL_STR) return ig__tmpl_getitem(c, item, attr, out);
    const char *s = STR(attr)->s;
    ig_tmpl_val cur = item;
    incref(cur);
    for (;;) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        bool digits = n > 0;
        for (size_t i = 0; i < n; i++)
            if (!isdigit((unsigned char)s[i])) digits = false;
        ig_tmpl_val key = digits ? mkint(strtoll(s, NULL, 10)) : sv(s, n), next;
        ig_rc rc = ig__tmpl_getitem(c, cur, key, &next);
        decref(key);
        decref(cur);
        if (rc) return rc;
        cur = next;
        if (!dot) break;
        s = dot + 1;
    }
    *out = cur;
    return 0;
}

/* ----------------------------------------------------------------- sorting */

typedef struct skey {
    ig_tmpl_val key;
    size_t idx;
} skey;

static _Thread_local bool sort_failed;
static _Thread_local ig_tmpl_val sort_a, sort_b;

static int skey_cmp(const skey *x, const skey *y)
{
    bool ok;
    int r = ig__tmpl_compare(x->key, y->key, &ok);
    if (!ok && !sort_failed) {
        sort_failed = true;
        sort_a = x->key;
        sort_b = y->key;
    }
    return r;
}

static void merge_sort(skey *v, skey *tmp, size_t n, bool reverse)
{
    if (n < 2) return;
    size_t h = n / 2;
    merge_sort(v, tmp, h, reverse);
    merge_sort(v + h, tmp, n - h, reverse);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        int r = skey_cmp(&v[j], &v[i]);
        if (reverse ? r > 0 : r < 0) tmp[k++] = v[j++];
        else tmp[k++] = v[i++];
    }
    while (i < h) tmp[k++] = v[i++];
    while (j < n) tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

ig_rc ig__tmpl_sort(ig_tmpl_call *c, ig_tmpl_val *items, size_t n, bool reverse,
                    bool case_sensitive, tstr *attr)
{
    if (n == 0) return 0;
    skey *keys = ig_malloc((n + 1) * sizeof *keys), *tmp = ig_malloc((n + 1) * sizeof *tmp);
    ig_rc rc = 0;
    size_t built = 0;
    for (; built < n; built++) {
        ig_tmpl_val k = items[built];
        if (attr) {
            rc = attr_get(c, k, mkobjv(IG_TMPL_STR, attr), &k);
            if (rc) break;
        } else {
            incref(k);
        }
        if (!case_sensitive && k.type == IG_TMPL_STR) {
            ig_tmpl_val l = lower_str(k);
            decref(k);
            k = l;
        }
        keys[built].key = k;
        keys[built].idx = built;
    }
    if (!rc) {
        sort_failed = false;
        merge_sort(keys, tmp, n, reverse);
        if (sort_failed) {
            rc = ig_tmpl_fail(c, "'<' not supported between instances of '%s' and '%s'",
                              ig_tmpl_type_name(sort_a), ig_tmpl_type_name(sort_b));
        } else {
            ig_tmpl_val *copy = ig_malloc((n + 1) * sizeof *copy);
            memcpy(copy, items, n * sizeof *copy);
            for (size_t i = 0; i < n; i++) items[i] = copy[keys[i].idx];
            free(copy);
        }
    }
    for (size_t i = 0; i < built; i++) decref(keys[i].key);
    free(keys);
    free(tmp);
    return rc;
}

/* ------------------------------------------------------------------ filters */

static ig_rc iter_list(ig_tmpl_call *c, ig_tmpl_val v, ig_tmpl_val *out) { return ig__tmpl_iter(c, v, out); }

FN(f_default)
{
    BIND("default", 1, "value", "default_value", "boolean");
    bool use = p[0].type == IG_TMPL_UNDEFINED || (opt_bool(p[2], false) && !ig_tmpl_truthy(p[0]));
    ig_tmpl_val v = use ? (given(p[1]) ? p[1] : sv("", 0)) : p[0];
    if (!use || given(p[1])) incref(v);
    *out = v;
    return 0;
}

FN(f_join)
{
    BIND("join", 1, "value", "d", "attribute");
    ig_tmpl_val items, sep = mkundef();
    ig_rc rc = iter_list(c, p[0], &items);
    if (rc) return rc;
    if (given(p[1]) && (rc = to_s(c, p[1], &sep))) goto done;
    ig_buf b = IG_BUF_INIT;
    for (size_t i = 0; i < LIST(items)->len && !rc; i++) {
        ig_tmpl_val it = LIST(items)->items[i], s;
        if (i && sep.type == IG_TMPL_STR) ig_buf_append(&b, STR(sep)->s, STR(sep)->len);
        if (given(p[2])) {
            if ((rc = attr_get(c, it, p[2], &it))) break;
        } else {
            incref(it);
        }
        rc = to_s(c, it, &s);
        decref(it);
        if (rc) break;
        ig_buf_append(&b, STR(s)->s, STR(s)->len);
        decref(s);
        rc = ig__tmpl_str_check(c, b.len);
    }
    if (!rc) *out = sv(ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
done:
    decref(sep);
    decref(items);
    return rc;
}

static ig_rc map_str(ig_tmpl_call *c, const ig_tmpl_args *a, const char *fname, int how, ig_tmpl_val *out)
{
    BIND(fname, 1, "value");
    ig_tmpl_val s;
    ig_rc rc = to_s(c, p[0], &s);
    if (rc) return rc;
    *out = ig__tmpl_case(STR(s)->s, STR(s)->len, how);
    decref(s);
    return 0;
}

FN(f_lower) { return map_str(c, a, "lower", CASE_LOWER, out); }
FN(f_upper) { return map_str(c, a, "upper", CASE_UPPER, out); }
FN(f_capitalize) { return map_str(c, a, "capitalize", CASE_CAPITALIZE, out); }
FN(f_title) { return map_str(c, a, "title", CASE_TITLE_JINJA, out); }

static bool in_chars(unsigned char ch, ig_tmpl_val chars)
{
    if (chars.type != IG_TMPL_STR) return isspace(ch) != 0;
    return memchr(STR(chars)->s, ch, STR(chars)->len) != NULL;
}

ig_tmpl_val ig__tmpl_strip(ig_tmpl_val s, ig_tmpl_val chars, bool left, bool right);
ig_tmpl_val ig__tmpl_strip(ig_tmpl_val s, ig_tmpl_val chars, bool left, bool right)
{
    const char *p = STR(s)->s;
    size_t a = 0, b = STR(s)->len;
    if (left)
        while (a < b && in_chars((unsigned char)p[a], chars)) a++;
    if (right)
        while (b > a && in_chars((unsigned char)p[b - 1], chars)) b--;
    return sv(p + a, b - a);
}

FN(f_trim)
{
    BIND("trim", 1, "value", "chars");
    ig_tmpl_val s;
    ig_rc rc = to_s(c, p[0], &s);
    if (rc) return rc;
    *out = ig__tmpl_strip(s, given(p[1]) && p[1].type == IG_TMPL_STR ? p[1] : mkundef(), true, true);
    decref(s);
    return 0;
}

ig_rc ig__tmpl_replace(ig_tmpl_call *c, ig_tmpl_val s, ig_tmpl_val old, ig_tmpl_val new_,
                       int64_t count, ig_tmpl_val *out);
ig_rc ig__tmpl_replace(ig_tmpl_call *c, ig_tmpl_val s, ig_tmpl_val old, ig_tmpl_val new_,
                       int64_t count, ig_tmpl_val *out)
{
    const char *p = STR(s)->s, *o = STR(old)->s, *nw = STR(new_)->s;
    size_t n = STR(s)->len, on = STR(old)->len, nn = STR(new_)->len;
    ig_buf b = IG_BUF_INIT;
    int64_t done = 0;
    if (on == 0) {
        /* Python inserts new between every character */
        for (size_t i = 0; i <= n; i++) {
            if (count < 0 || done < count) {
                ig_buf_append(&b, nw, nn);
                done++;
            }
            if (i < n) {
                size_t j = i + 1;
                while (j < n && ((unsigned char)p[j] & 0xC0) == 0x80) j++;
                ig_buf_append(&b, p + i, j - i);
                i = j - 1;
            }
            if (ig__tmpl_str_check(c, b.len)) {
                ig_buf_free(&b);
                return IG_ERR_LIMIT;
            }
        }
    } else {
        size_t i = 0;
        while (i < n) {
            const char *hit = (count < 0 || done < count) ? memmem(p + i, n - i, o, on) : NULL;
            if (!hit) {
                ig_buf_append(&b, p + i, n - i);
                break;
            }
            ig_buf_append(&b, p + i, (size_t)(hit - (p + i)));
            ig_buf_append(&b, nw, nn);
            done++;
            i = (size_t)(hit - p) + on;
            if (ig__tmpl_str_check(c, b.len)) {
                ig_buf_free(&b);
                return IG_ERR_LIMIT;
            }
        }
    }
    *out = sv(ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    return 0;
}

FN(f_replace)
{
    BIND("replace", 3, "s", "old", "new", "count");
    ig_tmpl_val s, o, n;
    int64_t count;
    ig_rc rc = opt_int(c, p[3], -1, "count", &count);
    if (rc) return rc;
    if ((rc = to_s(c, p[0], &s))) return rc;
    if ((rc = to_s(c, p[1], &o))) {
        decref(s);
        return rc;
    }
    if ((rc = to_s(c, p[2], &n)) == 0) {
        rc = ig__tmpl_replace(c, s, o, n, count, out);
        decref(n);
    }
    decref(s);
    decref(o);
    return rc;
}

ig_rc ig__tmpl_len(ig_tmpl_call *c, ig_tmpl_val v, int64_t *n);
ig_rc ig__tmpl_len(ig_tmpl_call *c, ig_tmpl_val v, int64_t *n)
{
    switch (v.type) {
    case IG_TMPL_STR: *n = (int64_t)u8len(STR(v)->s, STR(v)->len); return 0;
    case IG_TMPL_LIST: case IG_TMPL_TUPLE: *n = (int64_t)LIST(v)->len; return 0;
    case IG_TMPL_DICT: *n = (int64_t)DICT(v)->len; return 0;
    case IG_TMPL_UNDEFINED: *n = 0; return 0;
    case IG_TMPL_OBJECT: {
        ig_tmpl_val l;
        ig_rc rc = ig__tmpl_iter(c, v, &l);
        if (rc) return rc;
        *n = (int64_t)LIST(l)->len;
        decref(l);
        return 0;
    }
    default: return ig_tmpl_fail(c, "object of type '%s' has no len()", ig_tmpl_type_name(v));
    }
}

FN(f_length)
{
    BIND("length", 1, "value");
    int64_t n;
    ig_rc rc = ig__tmpl_len(c, p[0], &n);
    if (!rc) *out = mkint(n);
    return rc;
}

FN(f_list)
{
    BIND("list", 1, "value");
    return iter_list(c, p[0], out);
}

static ig_rc first_last(ig_tmpl_call *c, const ig_tmpl_args *a, bool last, ig_tmpl_val *out)
{
    BIND(last ? "last" : "first", 1, "seq");
    ig_tmpl_val l;
    ig_rc rc = iter_list(c, p[0], &l);
    if (rc) return rc;
    size_t n = LIST(l)->len;
    *out = mkundef();
    if (n) {
        *out = LIST(l)->items[last ? n - 1 : 0];
        incref(*out);
    }
    decref(l);
    return 0;
}

FN(f_first) { return first_last(c, a, false, out); }
FN(f_last) { return first_last(c, a, true, out); }

FN(f_sort)
{
    BIND("sort", 1, "value", "reverse", "case_sensitive", "attribute");
    ig_tmpl_val l;
    ig_rc rc = iter_list(c, p[0], &l);
    if (rc) return rc;
    tstr *attr = NULL;
    ig_tmpl_val as = mkundef();
    if (given(p[3]) && p[3].type != IG_TMPL_NONE) {
        if ((rc = to_s(c, p[3], &as))) {
            decref(l);
            return rc;
        }
        attr = STR(as);
    }
    rc = ig__tmpl_sort(c, LIST(l)->items, LIST(l)->len, opt_bool(p[1], false), opt_bool(p[2], false), attr);
    decref(as);
    if (rc) {
        decref(l);
        return rc;
    }
    *out = l;
    return 0;
}

FN(f_unique)
{
    BIND("unique", 1, "value", "case_sensitive", "attribute");
    ig_tmpl_val l;
    ig_rc rc = iter_list(c, p[0], &l);
    if (rc) return rc;
    tdict *seen = ig__tmpl_dict_alloc();
    tlist *r = ig__tmpl_list_alloc(0);
    bool cs = opt_bool(p[1], false);
    for (size_t i = 0; i < LIST(l)->len && !rc; i++) {
        ig_tmpl_val it = LIST(l)->items[i], k;
        if (given(p[2])) {
            if ((rc = attr_get(c, it, p[2], &k))) break;
        } else {
            k = it;
            incref(k);
        }
        if (!cs && k.type == IG_TMPL_STR) {
            ig_tmpl_val lo = lower_str(k);
            decref(k);
            k = lo;
        }
        if (!ig__tmpl_hashable(k)) {
            rc = ig_tmpl_fail(c, "unhashable type: '%s'", ig_tmpl_type_name(k));
        } else if (!ig__tmpl_dict_find(seen, k)) {
            ig__tmpl_dict_put(seen, k, mknone());
            incref(it);
            ig__tmpl_list_push(r, it);
        }
        decref(k);
    }
    decref(mkobjv(IG_TMPL_DICT, seen));
    decref(l);
    if (rc) {
        decref(mkobjv(IG_TMPL_LIST, r));
        return rc;
    }
    *out = mkobjv(IG_TMPL_LIST, r);
    return 0;
}

static const char *kwarg(const ig_tmpl_args *a, const char *name, ig_tmpl_val *v)
{
    for (size_t i = 0; i < a->nkw; i++)
        if (!strcmp(a->kwnames[i], name)) {
            *v = a->kw[i];
            return name;
        }
    return NULL;
}

FN(f_map)
{
    if (a->npos < 1) return ig_tmpl_fail(c, "map() needs a value");
    ig_tmpl_val l, attr, def = mkundef();
    ig_rc rc = iter_list(c, a->pos[0], &l);
    if (rc) return rc;
    tlist *r = ig__tmpl_list_alloc(LIST(l)->len);
    if (a->npos == 1 && kwarg(a, "attribute", &attr)) {
        bool has_def = kwarg(a, "default", &def) != NULL;
        for (size_t i = 0; i < LIST(l)->len && !rc; i++) {
            ig_tmpl_val v;
            if ((rc = attr_get(c, LIST(l)->items[i], attr, &v))) break;
            if (has_def && v.type == IG_TMPL_UNDEFINED) {
                decref(v);
                v = def;
                incref(v);
            }
            r->items[r->len++] = v;
        }
    } else if (a->npos >= 2) {
        ig_tmpl_val name;
        if ((rc = to_s(c, a->pos[1], &name)) == 0) {
            ig_tmpl_args rest = {a->pos + 2, a->npos - 2, a->kwnames, a->kw, a->nkw};
            for (size_t i = 0; i < LIST(l)->len && !rc; i++) {
                ig_tmpl_val v;
                rc = ig__tmpl_run_filter(c, STR(name)->s, LIST(l)->items[i], &rest, &v);
                if (!rc) r->items[r->len++] = v;
            }
            decref(name);
        }
    } else {
        rc = ig_tmpl_fail(c, "map() needs a filter name or attribute=");
    }
    decref(l);
    if (rc) {
        decref(mkobjv(IG_TMPL_LIST, r));
        return rc;
    }
    *out = mkobjv(IG_TMPL_LIST, r);
    return 0;
}

/* select / reject / selectattr / rejectattr */
static ig_rc select_common(ig_tmpl_call *c, const ig_tmpl_args *a, bool attr, bool keep,
                           ig_tmpl_val *out)
{
    size_t need = attr ? 2 : 1;
    if (a->npos < need) return ig_tmpl_fail(c, "%s needs %s", attr ? "selectattr" : "select",
                                            attr ? "an attribute" : "a value");
    ig_tmpl_val l, name = mkundef();
    ig_rc rc = iter_list(c, a->pos[0], &l);
    if (rc) return rc;
    size_t ti = need;
    if (a->npos > ti && (rc = to_s(c, a->pos[ti], &name))) {
        decref(l);
        return rc;
    }
    ig_tmpl_args rest = {a->pos + ti + 1, a->npos > ti ? a->npos - ti - 1 : 0, a->kwnames, a->kw, a->nkw};
    tlist *r = ig__tmpl_list_alloc(0);
    for (size_t i = 0; i < LIST(l)->len && !rc; i++) {
        ig_tmpl_val it = LIST(l)->items[i], v = it;
        if (attr) {
            if ((rc = attr_get(c, it, a->pos[1], &v))) break;
        } else {
            incref(v);
        }
        bool t;
        if (name.type == IG_TMPL_STR) rc = ig__tmpl_run_test(c, STR(name)->s, v, &rest, &t);
        else t = ig_tmpl_truthy(v);
        decref(v);
        if (!rc && t == keep) {
            incref(it);
            ig__tmpl_list_push(r, it);
        }
    }
    decref(name);
    decref(l);
    if (rc) {
        decref(mkobjv(IG_TMPL_LIST, r));
        return rc;
    }
    *out = mkobjv(IG_TMPL_LIST, r);
    return 0;
}

FN(f_select) { return select_common(c, a, false, true, out); }
FN(f_reject) { return select_common(c, a, false, false, out); }
FN(f_selectattr) { return select_common(c, a, true, true, out); }
FN(f_rejectattr) { return select_common(c, a, true, false, out); }

static bool parse_int_str(const char *s, int base, int64_t *out)
{
    while (isspace((unsigned char)*s)) s++;
    char buf[128];
    size_t n = 0;
    const char *p = s;
    if (*p == '+' || *p == '-') buf[n++] = *p++;
    if (base == 16 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) p += 2;
    else if (base == 8 && p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) p += 2;
    else if (base == 2 && p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) p += 2;
    for (; *p && n < sizeof buf - 1; p++) {
        if (*p == '_') continue;
        if (isspace((unsigned char)*p)) break;
        buf[n++] = *p;
    }
    while (isspace((unsigned char)*p)) p++;
    buf[n] = '\0';
    if (*p || n == 0 || (n == 1 && (buf[0] == '+' || buf[0] == '-'))) return false;
    char *e;
    errno = 0;
    long long v = strtoll(buf, &e, base);
    if (*e || errno) return false;
    *out = v;
    return true;
}

FN(f_int)
{
    BIND("int", 1, "value", "default", "base");
    int64_t base;
    ig_rc rc = opt_int(c, p[2], 10, "base", &base);
    if (rc) return rc;
    ig_tmpl_val v = p[0];
    int64_t i;
    double f;
    char *e;
    switch (v.type) {
    case IG_TMPL_INT: *out = v; return 0;
    case IG_TMPL_BOOL: *out = mkint(v.u.b); return 0;
    case IG_TMPL_FLOAT:
        if (isfinite(v.u.f) && fabs(v.u.f) < 9.2e18) {
            *out = mkint((int64_t)v.u.f);
            return 0;
        }
        break;
    case IG_TMPL_STR:
        if (base >= 2 && base <= 36 && parse_int_str(STR(v)->s, (int)base, &i)) {
            *out = mkint(i);
            return 0;
        }
        f = strtod(STR(v)->s, &e);
        if (STR(v)->len && !*e && isfinite(f) && fabs(f) < 9.2e18) {
            *out = mkint((int64_t)f);
            return 0;
        }
        break;
    default: break;
    }
    *out = given(p[1]) ? p[1] : mkint(0);
    incref(*out);
    return 0;
}

FN(f_float)
{
    BIND("float", 1, "value", "default");
    ig_tmpl_val v = p[0];
    if (is_num(v)) {
        *out = mkfloat(num_f(v));
        return 0;
    }
    if (v.type == IG_TMPL_STR) {
        const char *s = STR(v)->s;
        while (isspace((unsigned char)*s)) s++;
        char *e;
        double f = strtod(s, &e);
        while (isspace((unsigned char)*e)) e++;
        if (e != s && !*e) {
            *out = mkfloat(f);
            return 0;
        }
    }
    *out = given(p[1]) ? p[1] : mkfloat(0.0);
    incref(*out);
    return 0;
}

FN(f_string)
{
    BIND("string", 1, "value");
    if (p[0].type == IG_TMPL_UNDEFINED) {
        *out = sv("", 0);
        return 0;
    }
    return to_s(c, p[0], out);
}

FN(f_text_marker)
{
    /* dbt's text rendering maps as_bool, as_number, as_native, as_text to str */
    BIND("as_text", 1, "value");
    return to_s(c, p[0], out);
}

static void html_escape(const char *s, size_t n, ig_buf *b)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': ig_buf_puts(b, "&amp;"); break;
        case '<': ig_buf_puts(b, "&lt;"); break;
        case '>': ig_buf_puts(b, "&gt;"); break;
        case '"': ig_buf_puts(b, "&#34;"); break;
        case '\'': ig_buf_puts(b, "&#39;"); break;
        default: ig_buf_putc(b, s[i]);
        }
    }
}

FN(f_tojson)
{
    BIND("tojson", 1, "value", "indent");
    int64_t indent;
    ig_rc rc = opt_int(c, p[1], -1, "indent", &indent);
    if (rc) return rc;
    ig_buf b = IG_BUF_INIT, h = IG_BUF_INIT;
    if (ig_tmpl_to_json(p[0], &b, true, (int)indent)) {
        ig_buf_free(&b);
        return ig_tmpl_fail(c, "Object of type %s is not JSON serializable", ig_tmpl_type_name(p[0]));
    }
    /* Jinja's htmlsafe_json_dumps */
    for (size_t i = 0; i < b.len; i++) {
        char ch = b.data[i];
        if (ch == '<') ig_buf_puts(&h, "\\u003c");
        else if (ch == '>') ig_buf_puts(&h, "\\u003e");
        else if (ch == '&') ig_buf_puts(&h, "\\u0026");
        else if (ch == '\'') ig_buf_puts(&h, "\\u0027");
        else ig_buf_putc(&h, ch);
    }
    *out = sv(ig_buf_cstr(&h), h.len);
    ig_buf_free(&b);
    ig_buf_free(&h);
    return 0;
}

FN(f_indent)
{
    BIND("indent", 1, "s", "width", "first", "blank");
    ig_tmpl_val s, ind;
    ig_rc rc;
    if (given(p[1]) && p[1].type == IG_TMPL_STR) {
        ind = p[1];
        incref(ind);
    } else {
        int64_t w;
        if ((rc = opt_int(c, p[1], 4, "width", &w))) return rc;
        if (w < 0) w = 0;
        if (w > 4096) w = 4096;
        tstr *t = ig__tmpl_str_alloc((size_t)w);
        memset(t->s, ' ', (size_t)w);
        ind = mkobjv(IG_TMPL_STR, t);
    }
    if ((rc = to_s(c, p[0], &s))) {
        decref(ind);
        return rc;
    }
    bool first = opt_bool(p[2], false), blank = opt_bool(p[3], false);
    ig_buf b = IG_BUF_INIT;
    const char *q = STR(s)->s, *end = q + STR(s)->len;
    bool line0 = true;
    while (q <= end) {
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        const char *le = nl ? nl : end;
        bool is_blank = true;
        for (const char *k = q; k < le; k++)
            if (!isspace((unsigned char)*k)) is_blank = false;
        if (line0 ? first : (blank || !is_blank)) ig_buf_append(&b, STR(ind)->s, STR(ind)->len);
        ig_buf_append(&b, q, (size_t)(le - q));
        if (!nl) break;
        ig_buf_putc(&b, '\n');
        q = nl + 1;
        line0 = false;
        if (ig__tmpl_str_check(c, b.len)) {
            rc = IG_ERR_LIMIT;
            break;
        }
    }
    if (!rc) *out = sv(ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    decref(s);
    decref(ind);
    return rc;
}

FN(f_abs)
{
    BIND("abs", 1, "x");
    ig_tmpl_val v = p[0];
    if (v.type == IG_TMPL_INT) {
        if (v.u.i == INT64_MIN) return ig_tmpl_fail(c, "integer overflow in abs");
        *out = mkint(v.u.i < 0 ? -v.u.i : v.u.i);
    } else if (v.type == IG_TMPL_BOOL) {
        *out = mkint(v.u.b);
    } else if (v.type == IG_TMPL_FLOAT) {
        *out = mkfloat(fabs(v.u.f));
    } else {
        return ig_tmpl_fail(c, "bad operand type for abs(): '%s'", ig_tmpl_type_name(v));
    }
    return 0;
}

double ig__tmpl_round(double x, int64_t prec);
double ig__tmpl_round(double x, int64_t prec)
{
    /* Python's round(): the exact binary value rounded half to even */
    if (!isfinite(x)) return x;
    if (prec >= 0) {
        if (prec > 300) return x;
        char buf[512];
        snprintf(buf, sizeof buf, "%.*f", (int)prec, x);
        return strtod(buf, NULL);
    }
    if (prec < -308) return 0.0 * x;
    double m = pow(10.0, (double)-prec);
    return rint(x / m) * m;
}

FN(f_round)
{
    BIND("round", 1, "value", "precision", "method");
    int64_t prec;
    ig_rc rc = opt_int(c, p[1], 0, "precision", &prec);
    if (rc) return rc;
    if (!is_num(p[0])) return ig_tmpl_fail(c, "round() needs a number, not %s", ig_tmpl_type_name(p[0]));
    double x = num_f(p[0]);
    const char *m = given(p[2]) && p[2].type == IG_TMPL_STR ? STR(p[2])->s : "common";
    if (!strcmp(m, "common")) {
        if (p[0].type != IG_TMPL_FLOAT) { /* Python: round(int, n) stays an int */
            int64_t i = p[0].type == IG_TMPL_BOOL ? p[0].u.b : p[0].u.i;
            if (prec < 0) i = (int64_t)ig__tmpl_round((double)i, prec);
            *out = mkint(i);
            return 0;
        }
        *out = mkfloat(ig__tmpl_round(x, prec));
    } else if (!strcmp(m, "ceil") || !strcmp(m, "floor")) {
        double f = pow(10.0, (double)prec);
        *out = mkfloat((m[0] == 'c' ? ceil(x * f) : floor(x * f)) / f);
    } else {
        return ig_tmpl_fail(c, "method must be common, ceil or floor");
    }
    return 0;
}

FN(f_sum)
{
    BIND("sum", 1, "iterable", "attribute", "start");
    ig_tmpl_val l, acc = given(p[2]) ? p[2] : mkint(0);
    ig_rc rc = iter_list(c, p[0], &l);
    if (rc) return rc;
    incref(acc);
    for (size_t i = 0; i < LIST(l)->len && !rc; i++) {
        ig_tmpl_val it = LIST(l)->items[i], r;
        if (given(p[1]) && p[1].type != IG_TMPL_NONE) {
            if ((rc = attr_get(c, it, p[1], &it))) break;
        } else {
            incref(it);
        }
        rc = ig__tmpl_binop(c, OP_ADD, acc, it, &r);
        decref(it);
        if (!rc) {
            decref(acc);
            acc = r;
        }
    }
    decref(l);
    if (rc) {
        decref(acc);
        return rc;
    }
    *out = acc;
    return 0;
}

static ig_rc min_max(ig_tmpl_call *c, const ig_tmpl_args *a, bool max, ig_tmpl_val *out)
{
    BIND(max ? "max" : "min", 1, "value", "case_sensitive", "attribute");
    ig_tmpl_val l;
    ig_rc rc = iter_list(c, p[0], &l);
    if (rc) return rc;
    size_t n = LIST(l)->len;
    if (!n) {
        decref(l);
        *out = mkundef();
        return 0;
    }
    ig_tmpl_val attr = mkundef();
    if (given(p[2]) && p[2].type != IG_TMPL_NONE && (rc = to_s(c, p[2], &attr))) {
        decref(l);
        return rc;
    }
    rc = ig__tmpl_sort(c, LIST(l)->items, n, false, opt_bool(p[1], false),
                       attr.type == IG_TMPL_STR ? STR(attr) : NULL);
    decref(attr);
    if (!rc) {
        /* sorted stably: min is the first, max the last of the largest run */
        *out = LIST(l)->items[max ? n - 1 : 0];
        incref(*out);
    }
    decref(l);
    return rc;
}

FN(f_min) { return min_max(c, a, false, out); }
FN(f_max) { return min_max(c, a, true, out); }

FN(f_batch)
{
    BIND("batch", 2, "value", "linecount", "fill_with");
    int64_t n;
    ig_rc rc = opt_int(c, p[1], 1, "linecount", &n);
    if (rc) return rc;
    if (n <= 0) return ig_tmpl_fail(c, "batch() linecount must be positive");
    ig_tmpl_val l;
    if ((rc = iter_list(c, p[0], &l))) return rc;
    tlist *r = ig__tmpl_list_alloc(0), *cur = NULL;
    for (size_t i = 0; i < LIST(l)->len; i++) {
        if (!cur) cur = ig__tmpl_list_alloc(0);
        incref(LIST(l)->items[i]);
        ig__tmpl_list_push(cur, LIST(l)->items[i]);
        if ((int64_t)cur->len == n) {
            ig__tmpl_list_push(r, mkobjv(IG_TMPL_LIST, cur));
            cur = NULL;
        }
    }
    if (cur) {
        if (given(p[2]) && p[2].type != IG_TMPL_NONE)
            while ((int64_t)cur->len < n) {
                incref(p[2]);
                ig__tmpl_list_push(cur, ig__tmpl_own(p[2]));
            }
        ig__tmpl_list_push(r, mkobjv(IG_TMPL_LIST, cur));
    }
    decref(l);
    *out = mkobjv(IG_TMPL_LIST, r);
    return 0;
}

FN(f_slice)
{
    BIND("slice", 2, "value", "slices", "fill_with");
    int64_t slices;
    ig_rc rc = opt_int(c, p[1], 1, "slices", &slices);
    if (rc) return rc;
    if (slices <= 0 || slices > 100000) return ig_tmpl_fail(c, "slice() slices must be positive");
    ig_tmpl_val l;
    if ((rc = iter_list(c, p[0], &l))) return rc;
    int64_t len = (int64_t)LIST(l)->len, per = len / slices, extra = len % slices, offset = 0;
    tlist *r = ig__tmpl_list_alloc(0);
    for (int64_t k = 0; k < slices; k++) {
        int64_t start = offset + k * per;
        if (k < extra) offset++;
        int64_t end = offset + (k + 1) * per;
        tlist *part = ig__tmpl_list_alloc(0);
        for (int64_t i = start; i < end && i < len; i++) {
            incref(LIST(l)->items[i]);
            ig__tmpl_list_push(part, LIST(l)->items[i]);
        }
        if (given(p[2]) && p[2].type != IG_TMPL_NONE && k >= extra) {
            incref(p[2]);
            ig__tmpl_list_push(part, ig__tmpl_own(p[2]));
        }
        ig__tmpl_list_push(r, mkobjv(IG_TMPL_LIST, part));
    }
    decref(l);
    *out = mkobjv(IG_TMPL_LIST, r);
    return 0;
}

FN(f_reverse)
{
    BIND("reverse", 1, "value");
    if (p[0].type == IG_TMPL_STR) {
        const char *s = STR(p[0])->s;
        size_t n = STR(p[0])->len, k = 0;
        tstr *r = ig__tmpl_str_alloc(n);
        for (size_t i = n; i > 0;) {
            size_t j = i - 1;
            while (j > 0 && ((unsigned char)s[j] & 0xC0) == 0x80) j--;
            memcpy(r->s + k, s + j, i - j);
            k += i - j;
            i = j;
        }
        *out = mkobjv(IG_TMPL_STR, r);
        return 0;
    }
    ig_tmpl_val l;
    ig_rc rc = iter_list(c, p[0], &l);
    if (rc) return rc;
    tlist *x = LIST(l);
    for (size_t i = 0; i < x->len / 2; i++) {
        ig_tmpl_val t = x->items[i];
        x->items[i] = x->items[x->len - 1 - i];
        x->items[x->len - 1 - i] = t;
    }
    *out = l;
    return 0;
}

static ig_tmpl_val pair(ig_tmpl_val k, ig_tmpl_val v)
{
    ig_tmpl_val items[2] = {k, v};
    return ig__tmpl_list_from(items, 2, true);
}

static ig_rc dict_items(ig_tmpl_call *c, ig_tmpl_val d, ig_tmpl_val *out)
{
    if (d.type == IG_TMPL_UNDEFINED) {
        *out = ig_tmpl_list_new();
        return 0;
    }
    if (d.type != IG_TMPL_DICT) return ig_tmpl_fail(c, "can only get item pairs from a mapping, not %s", ig_tmpl_type_name(d));
    tdict *x = DICT(d);
    tlist *r = ig__tmpl_list_alloc(x->len);
    for (size_t i = 0; i < x->used; i++)
        if (x->e[i].key.type != IG_TMPL_UNDEFINED) r->items[r->len++] = pair(x->e[i].key, x->e[i].val);
    *out = mkobjv(IG_TMPL_LIST, r);
    return 0;
}

FN(f_items)
{
    BIND("items", 1, "value");
    return dict_items(c, p[0], out);
}

FN(f_dictsort)
{
    BIND("dictsort", 1, "value", "case_sensitive", "by", "reverse");
    ig_tmpl_val l;
    ig_rc rc = dict_items(c, p[0], &l);
    if (rc) return rc;
    bool by_value = given(p[2]) && p[2].type == IG_TMPL_STR && !strcmp(STR(p[2])->s, "value");
    if (given(p[2]) && p[2].type == IG_TMPL_STR && !by_value && strcmp(STR(p[2])->s, "key")) {
        decref(l);
        return ig_tmpl_fail(c, "You can only sort by either \"key\" or \"value\"");
    }
    tstr *idx = ig__tmpl_str_alloc(1);
    idx->s[0] = by_value ? '1' : '0';
    rc = ig__tmpl_sort(c, LIST(l)->items, LIST(l)->len, opt_bool(p[3], false), opt_bool(p[1], false), idx);
    decref(mkobjv(IG_TMPL_STR, idx));
    if (rc) {
        decref(l);
        return rc;
    }
    *out = l;
    return 0;
}

FN(f_wordcount)
{
    BIND("wordcount", 1, "s");
    ig_tmpl_val s;
    ig_rc rc = to_s(c, p[0], &s);
    if (rc) return rc;
    int64_t n = 0;
    bool in = false;
    for (size_t i = 0; i < STR(s)->len; i++) {
        unsigned char ch = (unsigned char)STR(s)->s[i];
        bool w = isalnum(ch) || ch == '_' || ch >= 0x80;
        if (w && !in) n++;
        in = w;
    }
    decref(s);
    *out = mkint(n);
    return 0;
}

ig_rc ig__tmpl_pad(ig_tmpl_call *c, ig_tmpl_val s, int64_t width, char align, const char *fill,
                   ig_tmpl_val *out);
ig_rc ig__tmpl_pad(ig_tmpl_call *c, ig_tmpl_val s, int64_t width, char align, const char *fill,
                   ig_tmpl_val *out)
{
    int64_t len = (int64_t)u8len(STR(s)->s, STR(s)->len);
    if (width > (int64_t)c->env->lim.max_output) return ig__tmpl_str_check(c, (size_t)width);
    if (width <= len) {
        *out = s;
        incref(s);
        return 0;
    }
    int64_t total = width - len, left;
    if (align == '<') left = 0;
    else if (align == '>') left = total;
    else left = total / 2 + (total & width & 1); /* Python's str.center */
    size_t fl = strlen(fill);
    ig_buf b = IG_BUF_INIT;
    for (int64_t i = 0; i < left; i++) ig_buf_append(&b, fill, fl);
    ig_buf_append(&b, STR(s)->s, STR(s)->len);
    for (int64_t i = 0; i < total - left; i++) ig_buf_append(&b, fill, fl);
    *out = sv(ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    return 0;
}

FN(f_center)
{
    BIND("center", 1, "value", "width");
    int64_t w;
    ig_rc rc = opt_int(c, p[1], 80, "width", &w);
    if (rc) return rc;
    ig_tmpl_val s;
    if ((rc = to_s(c, p[0], &s))) return rc;
    rc = ig__tmpl_pad(c, s, w, '^', " ", out);
    decref(s);
    return rc;
}

FN(f_truncate)
{
    BIND("truncate", 1, "s", "length", "killwords", "end", "leeway");
    int64_t length, leeway;
    ig_rc rc = opt_int(c, p[1], 255, "length", &length);
    if (!rc) rc = opt_int(c, p[4], 5, "leeway", &leeway);
    if (rc) return rc;
    ig_tmpl_val s, end;
    if ((rc = to_s(c, p[0], &s))) return rc;
    if (given(p[3])) rc = to_s(c, p[3], &end);
    else end = sv("...", 3);
    if (rc) {
        decref(s);
        return rc;
    }
    int64_t n = (int64_t)u8len(STR(s)->s, STR(s)->len), en = (int64_t)u8len(STR(end)->s, STR(end)->len);
    if (length < en || leeway < 0) {
        decref(s);
        decref(end);
        return ig_tmpl_fail(c, "expected length >= %lld, got %lld", (long long)en, (long long)length);
    }
    if (n <= length + leeway) {
        *out = s;
        decref(end);
        return 0;
    }
    size_t cut = u8off(STR(s)->s, STR(s)->len, (size_t)(length - en));
    if (!opt_bool(p[2], false)) {
        /* rsplit(" ", 1)[0] */
        size_t k = cut;
        while (k > 0 && STR(s)->s[k - 1] != ' ') k--;
        if (k > 0) cut = k - 1;
    }
    ig_buf b = IG_BUF_INIT;
    ig_buf_append(&b, STR(s)->s, cut);
    ig_buf_append(&b, STR(end)->s, STR(end)->len);
    *out = sv(ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    decref(s);
    decref(end);
    return 0;
}

FN(f_format)
{
    if (a->npos < 1) return ig_tmpl_fail(c, "format() needs a value");
    if (a->npos > 1 && a->nkw) return ig_tmpl_fail(c, "can't handle positional and keyword arguments at the same time");
    ig_tmpl_val fmt, args;
    ig_rc rc = to_s(c, a->pos[0], &fmt);
    if (rc) return rc;
    if (a->nkw) {
        args = ig_tmpl_dict_new();
        for (size_t i = 0; i < a->nkw; i++) {
            incref(a->kw[i]);
            ig_tmpl_dict_set(args, a->kwnames[i], a->kw[i]);
        }
    } else {
        args = ig__tmpl_list_from(a->pos + 1, a->npos - 1, true);
    }
    rc = ig__tmpl_percent(c, fmt, args, out);
    decref(fmt);
    decref(args);
    return rc;
}

FN(f_striptags)
{
    BIND("striptags", 1, "value");
    ig_tmpl_val s;
    ig_rc rc = to_s(c, p[0], &s);
    if (rc) return rc;
    const char *q = STR(s)->s, *end = q + STR(s)->len;
    ig_buf t = IG_BUF_INIT, b = IG_BUF_INIT;
    while (q < end) {
        if (q + 3 < end && !strncmp(q, "<!--", 4)) {
            const char *e = strstr(q + 4, "-->");
            if (e) {
                q = e + 3;
                continue;
            }
        }
        if (*q == '<') {
            const char *e = memchr(q, '>', (size_t)(end - q));
            if (e) {
                q = e + 1;
                continue;
            }
        }
        ig_buf_putc(&t, *q++);
    }
    /* " ".join(split()) then unescape the common entities */
    const char *x = ig_buf_cstr(&t);
    bool need_space = false;
    while (*x) {
        if (isspace((unsigned char)*x)) {
            need_space = b.len > 0;
            x++;
            continue;
        }
        if (need_space) ig_buf_putc(&b, ' ');
        need_space = false;
        static const struct { const char *e; char ch; } ents[] = {
            {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}, {"&#34;", '"'}};
        bool done = false;
        for (size_t k = 0; k < sizeof ents / sizeof ents[0]; k++)
            if (!strncmp(x, ents[k].e, strlen(ents[k].e))) {
                ig_buf_putc(&b, ents[k].ch);
                x += strlen(ents[k].e);
                done = true;
                break;
            }
        if (!done) ig_buf_putc(&b, *x++);
    }
    *out = sv(ig_buf_cstr(&b), b.len);
    ig_buf_free(&t);
    ig_buf_free(&b);
    decref(s);
    return 0;
}

static void url_quote(const char *s, size_t n, bool for_qs, ig_buf *b)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (isalnum(ch) || strchr("_.-~", ch) || (!for_qs && ch == '/'))
            ig_buf_putc(b, (char)ch);
        else if (for_qs && ch == ' ')
            ig_buf_putc(b, '+');
        else
            ig_buf_printf(b, "%%%02X", ch);
    }
}

FN(f_urlencode)
{
    BIND("urlencode", 1, "value");
    ig_buf b = IG_BUF_INIT;
    ig_rc rc = 0;
    if (p[0].type == IG_TMPL_STR) {
        url_quote(STR(p[0])->s, STR(p[0])->len, false, &b);
    } else if (p[0].type == IG_TMPL_DICT || is_seq(p[0])) {
        ig_tmpl_val items;
        if (p[0].type == IG_TMPL_DICT) rc = dict_items(c, p[0], &items);
        else rc = ig__tmpl_iter(c, p[0], &items);
        for (size_t i = 0; !rc && i < LIST(items)->len; i++) {
            ig_tmpl_val kv = LIST(items)->items[i], k, v;
            if (!is_seq(kv) || LIST(kv)->len != 2) {
                rc = ig_tmpl_fail(c, "urlencode needs key/value pairs");
                break;
            }
            if ((rc = to_s(c, LIST(kv)->items[0], &k))) break;
            if ((rc = to_s(c, LIST(kv)->items[1], &v))) {
                decref(k);
                break;
            }
            if (i) ig_buf_putc(&b, '&');
            url_quote(STR(k)->s, STR(k)->len, true, &b);
            ig_buf_putc(&b, '=');
            url_quote(STR(v)->s, STR(v)->len, true, &b);
            decref(k);
            decref(v);
        }
        if (p[0].type == IG_TMPL_DICT || !rc) decref(items);
    } else {
        ig_tmpl_val s;
        if (!(rc = to_s(c, p[0], &s))) {
            url_quote(STR(s)->s, STR(s)->len, false, &b);
            decref(s);
        }
    }
    if (!rc) *out = sv(ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    return rc;
}

FN(f_escape)
{
    BIND("escape", 1, "value");
    ig_tmpl_val s;
    ig_rc rc = to_s(c, p[0], &s);
    if (rc) return rc;
    ig_buf b = IG_BUF_INIT;
    html_escape(STR(s)->s, STR(s)->len, &b);
    *out = sv(ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    decref(s);
    return 0;
}

FN(f_safe)
{
    BIND("safe", 1, "value");
    *out = p[0];
    incref(*out);
    return 0;
}

FN(f_attr)
{
    BIND("attr", 2, "obj", "name");
    if (p[1].type != IG_TMPL_STR) return ig_tmpl_fail(c, "attr() name must be a string");
    if (p[0].type == IG_TMPL_DICT && !ig__tmpl_method(p[0], STR(p[1])->s)) {
        *out = mkundef(); /* Python getattr only: no item fallback */
        return 0;
    }
    return ig__tmpl_getattr(c, p[0], STR(p[1]), out);
}

FN(f_pprint)
{
    BIND("pprint", 1, "value");
    ig_buf b = IG_BUF_INIT;
    ig_tmpl_to_repr(p[0], &b);
    *out = sv(ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    return 0;
}

/* -------------------------------------------------------------------- tests */

static bool t_arg(const ig_tmpl_args *a, size_t i, ig_tmpl_val *v)
{
    if (a->npos > i) {
        *v = a->pos[i];
        return true;
    }
    if (a->nkw > 0 && i == 1) {
        *v = a->kw[0];
        return true;
    }
    return false;
}

#define TEST(name, expr)                                                                       \
    FN(name)                                                                                   \
    {                                                                                          \
        ig_tmpl_val v = a->npos ? a->pos[0] : mkundef();                                       \
        (void)c;                                                                               \
        (void)v;                                                                               \
        *out = mkbool(expr);                                                                   \
        return 0;                                                                              \
    }

TEST(t_defined, v.type != IG_TMPL_UNDEFINED)
TEST(t_undefined, v.type == IG_TMPL_UNDEFINED)
TEST(t_none, v.type == IG_TMPL_NONE)
TEST(t_boolean, v.type == IG_TMPL_BOOL)
TEST(t_false, v.type == IG_TMPL_BOOL && !v.u.b)
TEST(t_true, v.type == IG_TMPL_BOOL && v.u.b)
TEST(t_integer, v.type == IG_TMPL_INT)
TEST(t_float, v.type == IG_TMPL_FLOAT)
TEST(t_number, is_num(v))
TEST(t_string, v.type == IG_TMPL_STR)
TEST(t_mapping, v.type == IG_TMPL_DICT)
TEST(t_iterable, v.type == IG_TMPL_STR || is_seq(v) || v.type == IG_TMPL_DICT || v.type == IG_TMPL_UNDEFINED ||
                     (v.type == IG_TMPL_OBJECT && TOBJ(v)->cls->iter))
TEST(t_sequence, v.type == IG_TMPL_STR || is_seq(v) || v.type == IG_TMPL_DICT || v.type == IG_TMPL_UNDEFINED)
TEST(t_callable, v.type == IG_TMPL_FUNC || v.type == IG_TMPL_MACRO ||
                     (v.type == IG_TMPL_OBJECT && TOBJ(v)->cls->call))
TEST(t_escaped, false)

static bool str_case(ig_tmpl_val v, bool upper)
{
    ig_buf b = IG_BUF_INIT;
    ig_tmpl_to_str(v, &b);
    int k = ig__tmpl_case_kind(ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    return upper ? k == 2 : k == 1;
}

TEST(t_lower, str_case(v, false))
TEST(t_upper, str_case(v, true))

static ig_rc int_of(ig_tmpl_call *c, ig_tmpl_val v, int64_t *i)
{
    if (v.type == IG_TMPL_INT) *i = v.u.i;
    else if (v.type == IG_TMPL_BOOL) *i = v.u.b;
    else if (v.type == IG_TMPL_UNDEFINED) return ig__tmpl_undef_error(c, v);
    else return ig_tmpl_fail(c, "expected an integer, got %s", ig_tmpl_type_name(v));
    return 0;
}

static ig_rc odd_even(ig_tmpl_call *c, const ig_tmpl_args *a, int want, ig_tmpl_val *out)
{
    int64_t i = 0;
    ig_rc rc = int_of(c, a->npos ? a->pos[0] : mkundef(), &i);
    if (!rc) *out = mkbool((i % 2 != 0) == want);
    return rc;
}

FN(t_odd) { return odd_even(c, a, 1, out); }
FN(t_even) { return odd_even(c, a, 0, out); }

FN(t_divisibleby)
{
    ig_tmpl_val d;
    if (!t_arg(a, 1, &d)) return ig_tmpl_fail(c, "divisibleby needs a number");
    ig_tmpl_val r;
    ig_rc rc = ig__tmpl_binop(c, OP_MOD, a->pos[0], d, &r);
    if (rc) return rc;
    *out = mkbool(!ig_tmpl_truthy(r));
    return 0;
}

static ig_rc cmp_test(ig_tmpl_call *c, const ig_tmpl_args *a, int op, ig_tmpl_val *out)
{
    ig_tmpl_val other;
    if (!t_arg(a, 1, &other)) return ig_tmpl_fail(c, "comparison test needs a value");
    ig_tmpl_val x = a->pos[0];
    if (op == OP_EQ) {
        *out = mkbool(ig_tmpl_equal(x, other));
        return 0;
    }
    if (op == OP_NE) {
        *out = mkbool(!ig_tmpl_equal(x, other));
        return 0;
    }
    bool ok;
    int r = ig__tmpl_compare(x, other, &ok);
    if (!ok)
        return ig_tmpl_fail(c, "'%s' not supported between instances of '%s' and '%s'",
                            op == OP_LT ? "<" : op == OP_LE ? "<=" : op == OP_GT ? ">" : ">=",
                            ig_tmpl_type_name(x), ig_tmpl_type_name(other));
    *out = mkbool(op == OP_LT ? r < 0 : op == OP_LE ? r <= 0 : op == OP_GT ? r > 0 : r >= 0);
    return 0;
}

FN(t_eq) { return cmp_test(c, a, OP_EQ, out); }
FN(t_ne) { return cmp_test(c, a, OP_NE, out); }
FN(t_lt) { return cmp_test(c, a, OP_LT, out); }
FN(t_le) { return cmp_test(c, a, OP_LE, out); }
FN(t_gt) { return cmp_test(c, a, OP_GT, out); }
FN(t_ge) { return cmp_test(c, a, OP_GE, out); }

FN(t_in)
{
    ig_tmpl_val seq;
    if (!t_arg(a, 1, &seq)) return ig_tmpl_fail(c, "in test needs a container");
    bool r;
    ig_rc rc = ig__tmpl_contains(c, seq, a->pos[0], &r);
    if (!rc) *out = mkbool(r);
    return rc;
}

FN(t_sameas)
{
    ig_tmpl_val o;
    if (!t_arg(a, 1, &o)) return ig_tmpl_fail(c, "sameas needs a value");
    ig_tmpl_val v = a->pos[0];
    bool same = v.type == o.type &&
                (has_obj(v) ? v.u.o == o.u.o : ig_tmpl_equal(v, o));
    *out = mkbool(same);
    return 0;
}

static ig_rc named_test(ig_tmpl_call *c, const ig_tmpl_args *a, tdict *table, ig_tmpl_val *out)
{
    ig_tmpl_val v = a->npos ? a->pos[0] : mkundef();
    *out = mkbool(v.type == IG_TMPL_STR && ig__tmpl_dict_find(table, v));
    return 0;
}

FN(t_filter) { return named_test(c, a, c->env->filters, out); }
FN(t_test) { return named_test(c, a, c->env->tests, out); }

/* ---------------------------------------------------------------- register */

void ig__tmpl_add_filters(ig_tmpl_env *env)
{
    static const struct { const char *name; ig_tmpl_fn fn; } fs[] = {
        {"default", f_default}, {"d", f_default}, {"join", f_join}, {"lower", f_lower},
        {"upper", f_upper}, {"capitalize", f_capitalize}, {"title", f_title}, {"trim", f_trim},
        {"replace", f_replace}, {"length", f_length}, {"count", f_length}, {"list", f_list},
        {"first", f_first}, {"last", f_last}, {"sort", f_sort}, {"unique", f_unique},
        {"map", f_map}, {"select", f_select}, {"reject", f_reject}, {"selectattr", f_selectattr},
        {"rejectattr", f_rejectattr}, {"int", f_int}, {"float", f_float}, {"string", f_string},
        {"tojson", f_tojson}, {"indent", f_indent}, {"abs", f_abs}, {"round", f_round},
        {"sum", f_sum}, {"min", f_min}, {"max", f_max}, {"batch", f_batch}, {"slice", f_slice},
        {"reverse", f_reverse}, {"dictsort", f_dictsort}, {"items", f_items},
        {"wordcount", f_wordcount}, {"center", f_center}, {"truncate", f_truncate},
        {"format", f_format}, {"striptags", f_striptags}, {"urlencode", f_urlencode},
        {"e", f_escape}, {"escape", f_escape}, {"forceescape", f_escape}, {"safe", f_safe},
        {"attr", f_attr}, {"pprint", f_pprint},
        {"as_bool", f_text_marker}, {"as_number", f_text_marker}, {"as_native", f_text_marker},
        {"as_text", f_text_marker},
    };
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++) ig_tmpl_env_add_filter(env, fs[i].name, fs[i].fn, NULL);
}

void ig__tmpl_add_tests(ig_tmpl_env *env)
{
    static const struct { const char *name; ig_tmpl_fn fn; } ts[] = {
        {"defined", t_defined}, {"undefined", t_undefined}, {"none", t_none},
        {"boolean", t_boolean}, {"false", t_false}, {"true", t_true}, {"integer", t_integer},
        {"float", t_float}, {"number", t_number}, {"string", t_string}, {"mapping", t_mapping},
        {"iterable", t_iterable}, {"sequence", t_sequence}, {"callable", t_callable},
        {"escaped", t_escaped}, {"lower", t_lower}, {"upper", t_upper}, {"odd", t_odd},
        {"even", t_even}, {"divisibleby", t_divisibleby}, {"eq", t_eq}, {"equalto", t_eq},
        {"==", t_eq}, {"ne", t_ne}, {"!=", t_ne}, {"lt", t_lt}, {"lessthan", t_lt}, {"<", t_lt},
        {"le", t_le}, {"<=", t_le}, {"gt", t_gt}, {"greaterthan", t_gt}, {">", t_gt},
        {"ge", t_ge}, {">=", t_ge}, {"in", t_in}, {"sameas", t_sameas}, {"filter", t_filter},
        {"test", t_test},
    };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) ig_tmpl_env_add_test(env, ts[i].name, ts[i].fn, NULL);
}
