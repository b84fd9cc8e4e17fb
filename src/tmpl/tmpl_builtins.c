/* The Python surface dbt templates rely on: methods of str, list and dict
 * (`name.lower()`, `cols.append(c)`, `d.items()`), the globals range, dict,
 * list, zip, namespace, cycler and joiner, the `loop` object of a for, and
 * Python's two string formatters (`"%s" % x` and `"{}".format(x)`). A method
 * is an ig_tmpl_fn whose pos[0] is the receiver. */
#include "tmpl_int.h"

#include "core/mem.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FN(name) static ig_rc name(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
#define BIND(fname, nreq, ...)                                                                 \
    static const char *const names_[] = {__VA_ARGS__, NULL};                                   \
    ig_tmpl_val p[sizeof names_ / sizeof names_[0]];                                           \
    do {                                                                                       \
        ig_rc rc_ = ig_tmpl_bind(c, fname, a, names_, nreq, p);                                \
        if (rc_) return rc_;                                                                   \
    } while (0)

/* shared with filters.c */
ig_tmpl_val ig__tmpl_strip(ig_tmpl_val s, ig_tmpl_val chars, bool left, bool right);
ig_rc ig__tmpl_replace(ig_tmpl_call *c, ig_tmpl_val s, ig_tmpl_val old, ig_tmpl_val new_,
                       int64_t count, ig_tmpl_val *out);
ig_rc ig__tmpl_len(ig_tmpl_call *c, ig_tmpl_val v, int64_t *n);
ig_rc ig__tmpl_pad(ig_tmpl_call *c, ig_tmpl_val s, int64_t width, char align, const char *fill,
                   ig_tmpl_val *out);
double ig__tmpl_round(double x, int64_t prec);

static bool given(ig_tmpl_val v) { return !ig__tmpl_is_missing(v); }
static ig_tmpl_val sv(const char *s, size_t n) { return ig__tmpl_new_str(s, n); }
static const char *S(ig_tmpl_val v) { return STR(v)->s; }
static size_t SL(ig_tmpl_val v) { return STR(v)->len; }

static ig_rc need_str(ig_tmpl_call *c, ig_tmpl_val v, const char *what)
{
    if (v.type == IG_TMPL_STR) return 0;
    if (v.type == IG_TMPL_UNDEFINED && v.aux != UNDEF_MISSING) return ig__tmpl_undef_error(c, v);
    return ig_tmpl_fail(c, "%s must be str, not %s", what, ig_tmpl_type_name(v));
}

static ig_rc get_int(ig_tmpl_call *c, ig_tmpl_val v, int64_t def, int64_t *out)
{
    if (!given(v) || v.type == IG_TMPL_NONE) *out = def;
    else if (v.type == IG_TMPL_INT) *out = v.u.i;
    else if (v.type == IG_TMPL_BOOL) *out = v.u.b;
    else return ig_tmpl_fail(c, "an integer is required, not %s", ig_tmpl_type_name(v));
    return 0;
}

/* ------------------------------------------------------------ str methods */

static ig_rc case_map(ig_tmpl_val s, int how, ig_tmpl_val *out)
{
    *out = ig__tmpl_case(S(s), SL(s), how);
    return 0;
}

FN(m_lower) { return case_map(a->pos[0], CASE_LOWER, out); }
FN(m_upper) { return case_map(a->pos[0], CASE_UPPER, out); }
FN(m_capitalize) { return case_map(a->pos[0], CASE_CAPITALIZE, out); }
FN(m_title) { return case_map(a->pos[0], CASE_TITLE, out); }
FN(m_swapcase) { return case_map(a->pos[0], CASE_SWAP, out); }

static ig_rc strip_common(ig_tmpl_call *c, const ig_tmpl_args *a, bool l, bool r, ig_tmpl_val *out)
{
    BIND("strip", 1, "self", "chars");
    if (given(p[1]) && p[1].type != IG_TMPL_NONE) {
        ig_rc rc = need_str(c, p[1], "strip arg");
        if (rc) return rc;
    }
    *out = ig__tmpl_strip(p[0], given(p[1]) && p[1].type == IG_TMPL_STR ? p[1] : mkundef(), l, r);
    return 0;
}

FN(m_strip) { return strip_common(c, a, true, true, out); }
FN(m_lstrip) { return strip_common(c, a, true, false, out); }
FN(m_rstrip) { return strip_common(c, a, false, true, out); }

static ig_rc split_common(ig_tmpl_call *c, const ig_tmpl_args *a, bool right, ig_tmpl_val *out)
{
    BIND(right ? "rsplit" : "split", 1, "self", "sep", "maxsplit");
    int64_t maxsplit;
    ig_rc rc = get_int(c, p[2], -1, &maxsplit);
    if (rc) return rc;
    const char *s = S(p[0]);
    size_t n = SL(p[0]);
    tlist *l = ig__tmpl_list_alloc(0);
    if (!given(p[1]) || p[1].type == IG_TMPL_NONE) {
        /* runs of whitespace, no empty strings */
        if (!right) {
            size_t i = 0;
            while (i < n) {
                while (i < n && isspace((unsigned char)s[i])) i++;
                if (i >= n) break;
                if (maxsplit >= 0 && (int64_t)l->len == maxsplit) {
                    ig__tmpl_list_push(l, sv(s + i, n - i)); /* the rest, as is */
                    break;
                }
                size_t j = i;
                while (j < n && !isspace((unsigned char)s[j])) j++;
                ig__tmpl_list_push(l, sv(s + i, j - i));
                i = j;
            }
        } else {
            size_t i = n;
            tlist *rev = ig__tmpl_list_alloc(0);
            while (i > 0) {
                while (i > 0 && isspace((unsigned char)s[i - 1])) i--;
                if (i == 0) break;
                if (maxsplit >= 0 && (int64_t)rev->len == maxsplit) {
                    ig__tmpl_list_push(rev, sv(s, i));
                    break;
                }
                size_t j = i;
                while (j > 0 && !isspace((unsigned char)s[j - 1])) j--;
                ig__tmpl_list_push(rev, sv(s + j, i - j));
                i = j;
            }
            for (size_t k = rev->len; k > 0; k--) ig__tmpl_list_push(l, rev->items[k - 1]);
            rev->len = 0;
            decref(mkobjv(IG_TMPL_LIST, rev));
        }
        *out = mkobjv(IG_TMPL_LIST, l);
        return 0;
    }
    if ((rc = need_str(c, p[1], "separator"))) {
        decref(mkobjv(IG_TMPL_LIST, l));
        return rc;
    }
    const char *sep = S(p[1]);
    size_t sn = SL(p[1]);
    if (!sn) {
        decref(mkobjv(IG_TMPL_LIST, l));
        return ig_tmpl_fail(c, "empty separator");
    }
    if (!right) {
        size_t i = 0;
        for (;;) {
            const char *hit = (maxsplit < 0 || (int64_t)l->len < maxsplit) ? memmem(s + i, n - i, sep, sn) : NULL;
            if (!hit) {
                ig__tmpl_list_push(l, sv(s + i, n - i));
                break;
            }
            ig__tmpl_list_push(l, sv(s + i, (size_t)(hit - s) - i));
            i = (size_t)(hit - s) + sn;
        }
    } else {
        tlist *rev = ig__tmpl_list_alloc(0);
        size_t end = n;
        for (;;) {
            const char *hit = NULL;
            if ((maxsplit < 0 || (int64_t)rev->len < maxsplit) && end >= sn)
                for (size_t k = end - sn + 1; k-- > 0;)
                    if (!memcmp(s + k, sep, sn)) {
                        hit = s + k;
                        break;
                    }
            if (!hit) {
                ig__tmpl_list_push(rev, sv(s, end));
                break;
            }
            ig__tmpl_list_push(rev, sv(hit + sn, end - (size_t)(hit - s) - sn));
            end = (size_t)(hit - s);
        }
        for (size_t k = rev->len; k > 0; k--) ig__tmpl_list_push(l, rev->items[k - 1]);
        rev->len = 0;
        decref(mkobjv(IG_TMPL_LIST, rev));
    }
    *out = mkobjv(IG_TMPL_LIST, l);
    return 0;
}

FN(m_split) { return split_common(c, a, false, out); }
FN(m_rsplit) { return split_common(c, a, true, out); }

FN(m_splitlines)
{
    BIND("splitlines", 1, "self", "keepends");
    bool keep = given(p[1]) && ig_tmpl_truthy(p[1]);
    const char *s = S(p[0]);
    size_t n = SL(p[0]), i = 0;
    tlist *l = ig__tmpl_list_alloc(0);
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '\n' && s[j] != '\r') j++;
        size_t e = j;
        if (j < n) j += (s[j] == '\r' && j + 1 < n && s[j + 1] == '\n') ? 2 : 1;
        ig__tmpl_list_push(l, sv(s + i, (keep ? j : e) - i));
        i = j;
    }
    *out = mkobjv(IG_TMPL_LIST, l);
    return 0;
}

FN(m_replace)
{
    BIND("replace", 3, "self", "old", "new", "count");
    int64_t count;
    ig_rc rc = get_int(c, p[3], -1, &count);
    if (!rc) rc = need_str(c, p[1], "replace() argument 1");
    if (!rc) rc = need_str(c, p[2], "replace() argument 2");
    if (rc) return rc;
    return ig__tmpl_replace(c, p[0], p[1], p[2], count, out);
}

static ig_rc affix(ig_tmpl_call *c, const ig_tmpl_args *a, bool end, ig_tmpl_val *out)
{
    BIND(end ? "endswith" : "startswith", 2, "self", "prefix");
    ig_tmpl_val x = p[1];
    size_t n = is_seq(x) ? LIST(x)->len : 1;
    bool r = false;
    for (size_t i = 0; i < n && !r; i++) {
        ig_tmpl_val s = is_seq(x) ? LIST(x)->items[i] : x;
        ig_rc rc = need_str(c, s, end ? "endswith arg" : "startswith arg");
        if (rc) return rc;
        if (SL(s) <= SL(p[0]))
            r = !memcmp(S(p[0]) + (end ? SL(p[0]) - SL(s) : 0), S(s), SL(s));
    }
    *out = mkbool(r);
    return 0;
}

FN(m_startswith) { return affix(c, a, false, out); }
FN(m_endswith) { return affix(c, a, true, out); }

static ig_rc find_common(ig_tmpl_call *c, const ig_tmpl_args *a, bool right, bool raise,
                         ig_tmpl_val *out)
{
    BIND(right ? "rfind" : "find", 2, "self", "sub", "start", "end");
    ig_rc rc = need_str(c, p[1], "substring");
    if (rc) return rc;
    /* indices in code points for ASCII-safe behaviour; bytes otherwise */
    int64_t n = (int64_t)SL(p[0]), st, en;
    if ((rc = get_int(c, p[2], 0, &st)) || (rc = get_int(c, p[3], n, &en))) return rc;
    if (st < 0) st = st + n < 0 ? 0 : st + n;
    if (en < 0) en = en + n < 0 ? 0 : en + n;
    if (en > n) en = n;
    int64_t hit = -1;
    size_t sl = SL(p[1]);
    if (st <= en && (int64_t)sl <= en - st) {
        if (!right) {
            const char *h = memmem(S(p[0]) + st, (size_t)(en - st), S(p[1]), sl);
            if (h) hit = h - S(p[0]);
        } else {
            for (int64_t k = en - (int64_t)sl; k >= st; k--)
                if (!memcmp(S(p[0]) + k, S(p[1]), sl)) {
                    hit = k;
                    break;
                }
        }
    }
    if (hit < 0 && raise) return ig_tmpl_fail(c, "substring not found");
    *out = mkint(hit);
    return 0;
}

FN(m_find) { return find_common(c, a, false, false, out); }
FN(m_rfind) { return find_common(c, a, true, false, out); }
FN(m_sindex) { return find_common(c, a, false, true, out); }
FN(m_rindex) { return find_common(c, a, true, true, out); }

FN(m_scount)
{
    BIND("count", 2, "self", "sub");
    ig_rc rc = need_str(c, p[1], "substring");
    if (rc) return rc;
    size_t n = SL(p[0]), sl = SL(p[1]);
    int64_t k = 0;
    if (!sl) {
        size_t cps = 0;
        for (size_t i = 0; i < n; i++) cps += ((unsigned char)S(p[0])[i] & 0xC0) != 0x80;
        k = (int64_t)cps + 1;
    } else {
        const char *s = S(p[0]), *h;
        size_t i = 0;
        while (i < n && (h = memmem(s + i, n - i, S(p[1]), sl))) {
            k++;
            i = (size_t)(h - s) + sl;
        }
    }
    *out = mkint(k);
    return 0;
}

FN(m_join)
{
    BIND("join", 2, "self", "iterable");
    ig_tmpl_val l;
    ig_rc rc = ig__tmpl_iter(c, p[1], &l);
    if (rc) return rc;
    ig_buf b = IG_BUF_INIT;
    for (size_t i = 0; i < LIST(l)->len && !rc; i++) {
        ig_tmpl_val it = LIST(l)->items[i];
        if (it.type != IG_TMPL_STR) {
            rc = ig_tmpl_fail(c, "sequence item %zu: expected str instance, %s found", i, ig_tmpl_type_name(it));
            break;
        }
        if (i) ig_buf_append(&b, S(p[0]), SL(p[0]));
        ig_buf_append(&b, S(it), SL(it));
        rc = ig__tmpl_str_check(c, b.len);
    }
    if (!rc) *out = sv(ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    decref(l);
    return rc;
}

static ig_rc is_class(const ig_tmpl_args *a, int (*pred)(int), ig_tmpl_val *out)
{
    ig_tmpl_val s = a->pos[0];
    bool r = SL(s) > 0;
    for (size_t i = 0; i < SL(s) && r; i++) r = pred((unsigned char)S(s)[i]) != 0;
    *out = mkbool(r);
    return 0;
}

FN(m_isdigit) { return is_class(a, isdigit, out); }
FN(m_isalpha) { return is_class(a, isalpha, out); }
FN(m_isalnum) { return is_class(a, isalnum, out); }
FN(m_isspace) { return is_class(a, isspace, out); }

static ig_rc is_case(const ig_tmpl_args *a, bool upper, ig_tmpl_val *out)
{
    int k = ig__tmpl_case_kind(S(a->pos[0]), SL(a->pos[0]));
    *out = mkbool(upper ? k == 2 : k == 1);
    return 0;
}

FN(m_islower) { return is_case(a, false, out); }
FN(m_isupper) { return is_case(a, true, out); }

static ig_rc just(ig_tmpl_call *c, const ig_tmpl_args *a, char align, ig_tmpl_val *out)
{
    BIND("ljust", 2, "self", "width", "fillchar");
    int64_t w;
    ig_rc rc = get_int(c, p[1], 0, &w);
    if (rc) return rc;
    const char *fill = " ";
    if (given(p[2])) {
        if ((rc = need_str(c, p[2], "fillchar"))) return rc;
        fill = S(p[2]);
    }
    return ig__tmpl_pad(c, p[0], w, align, fill, out);
}

FN(m_ljust) { return just(c, a, '<', out); }
FN(m_rjust) { return just(c, a, '>', out); }
FN(m_center) { return just(c, a, '^', out); }

FN(m_zfill)
{
    BIND("zfill", 2, "self", "width");
    int64_t w;
    ig_rc rc = get_int(c, p[1], 0, &w);
    if (rc) return rc;
    size_t n = SL(p[0]);
    if (w <= (int64_t)n) {
        *out = p[0];
        incref(*out);
        return 0;
    }
    if ((rc = ig__tmpl_str_check(c, (size_t)w))) return rc;
    tstr *r = ig__tmpl_str_alloc((size_t)w);
    size_t pad = (size_t)w - n, sign = n && (S(p[0])[0] == '-' || S(p[0])[0] == '+');
    memcpy(r->s, S(p[0]), sign);
    memset(r->s + sign, '0', pad);
    memcpy(r->s + sign + pad, S(p[0]) + sign, n - sign);
    *out = mkobjv(IG_TMPL_STR, r);
    return 0;
}

static ig_rc partition(ig_tmpl_call *c, const ig_tmpl_args *a, bool right, ig_tmpl_val *out)
{
    BIND("partition", 2, "self", "sep");
    ig_rc rc = need_str(c, p[1], "separator");
    if (rc) return rc;
    const char *s = S(p[0]), *hit = NULL;
    size_t n = SL(p[0]), sl = SL(p[1]);
    if (!sl) return ig_tmpl_fail(c, "empty separator");
    if (!right) {
        hit = memmem(s, n, S(p[1]), sl);
    } else if (n >= sl) {
        for (size_t k = n - sl + 1; k-- > 0;)
            if (!memcmp(s + k, S(p[1]), sl)) {
                hit = s + k;
                break;
            }
    }
    ig_tmpl_val parts[3];
    if (!hit) {
        parts[0] = right ? sv("", 0) : sv(s, n);
        parts[1] = sv("", 0);
        parts[2] = right ? sv(s, n) : sv("", 0);
    } else {
        parts[0] = sv(s, (size_t)(hit - s));
        parts[1] = sv(hit, sl);
        parts[2] = sv(hit + sl, n - (size_t)(hit - s) - sl);
    }
    *out = ig__tmpl_list_from(parts, 3, true);
    for (int i = 0; i < 3; i++) decref(parts[i]);
    return 0;
}

FN(m_partition) { return partition(c, a, false, out); }
FN(m_rpartition) { return partition(c, a, true, out); }

static ig_rc remove_affix(ig_tmpl_call *c, const ig_tmpl_args *a, bool suffix, ig_tmpl_val *out)
{
    BIND("removeprefix", 2, "self", "affix");
    ig_rc rc = need_str(c, p[1], "affix");
    if (rc) return rc;
    size_t n = SL(p[0]), k = SL(p[1]);
    if (k <= n && !memcmp(S(p[0]) + (suffix ? n - k : 0), S(p[1]), k))
        *out = sv(S(p[0]) + (suffix ? 0 : k), n - k);
    else
        *out = sv(S(p[0]), n);
    return 0;
}

FN(m_removeprefix) { return remove_affix(c, a, false, out); }
FN(m_removesuffix) { return remove_affix(c, a, true, out); }

static ig_rc py_format(ig_tmpl_call *c, ig_tmpl_val fmt, const ig_tmpl_args *a, size_t first,
                       ig_tmpl_val *out);

FN(m_format) { return py_format(c, a->pos[0], a, 1, out); }

/* ----------------------------------------------------------- list methods */

static ig_rc mutable_list(ig_tmpl_call *c, ig_tmpl_val v, const char *m)
{
    if (v.type == IG_TMPL_LIST) return 0;
    return ig_tmpl_fail(c, "'tuple' object has no attribute '%s'", m);
}

FN(m_append)
{
    BIND("append", 2, "self", "object");
    ig_rc rc = mutable_list(c, p[0], "append");
    if (!rc) rc = ig__tmpl_items_check(c, LIST(p[0])->len + 1);
    if (rc) return rc;
    incref(p[1]);
    ig_tmpl_list_append(p[0], p[1]);
    return 0;
}

FN(m_extend)
{
    BIND("extend", 2, "self", "iterable");
    ig_rc rc = mutable_list(c, p[0], "extend");
    if (rc) return rc;
    ig_tmpl_val l;
    if ((rc = ig__tmpl_iter(c, p[1], &l))) return rc;
    if ((rc = ig__tmpl_items_check(c, LIST(p[0])->len + LIST(l)->len)) == 0)
        for (size_t i = 0; i < LIST(l)->len; i++) {
            incref(LIST(l)->items[i]);
            ig_tmpl_list_append(p[0], LIST(l)->items[i]);
        }
    decref(l);
    return rc;
}

FN(m_insert)
{
    BIND("insert", 3, "self", "index", "object");
    int64_t i;
    ig_rc rc = mutable_list(c, p[0], "insert");
    if (!rc) rc = get_int(c, p[1], 0, &i);
    if (rc) return rc;
    tlist *l = LIST(p[0]);
    int64_t n = (int64_t)l->len;
    if (i < 0) i = i + n < 0 ? 0 : i + n;
    if (i > n) i = n;
    ig__tmpl_list_push(l, mknone());
    memmove(l->items + i + 1, l->items + i, (size_t)(n - i) * sizeof(ig_tmpl_val));
    incref(p[2]);
    l->items[i] = ig__tmpl_own(p[2]);
    return 0;
}

FN(m_lpop)
{
    BIND("pop", 1, "self", "index");
    int64_t i;
    ig_rc rc = mutable_list(c, p[0], "pop");
    tlist *l = LIST(p[0]);
    if (!rc) rc = get_int(c, p[1], -1, &i);
    if (rc) return rc;
    int64_t n = (int64_t)l->len;
    if (!n) return ig_tmpl_fail(c, "pop from empty list");
    if (i < 0) i += n;
    if (i < 0 || i >= n) return ig_tmpl_fail(c, "pop index out of range");
    *out = l->items[i];
    memmove(l->items + i, l->items + i + 1, (size_t)(n - i - 1) * sizeof(ig_tmpl_val));
    l->len--;
    return 0;
}

static int64_t list_find(ig_tmpl_val l, ig_tmpl_val x)
{
    for (size_t i = 0; i < LIST(l)->len; i++)
        if (ig_tmpl_equal(LIST(l)->items[i], x)) return (int64_t)i;
    return -1;
}

FN(m_lindex)
{
    BIND("index", 2, "self", "value");
    int64_t i = list_find(p[0], p[1]);
    if (i < 0) {
        ig_buf b = IG_BUF_INIT;
        ig_tmpl_to_repr(p[1], &b);
        ig_rc rc = ig_tmpl_fail(c, "%s is not in list", ig_buf_cstr(&b));
        ig_buf_free(&b);
        return rc;
    }
    *out = mkint(i);
    return 0;
}

FN(m_lcount)
{
    BIND("count", 2, "self", "value");
    int64_t k = 0;
    for (size_t i = 0; i < LIST(p[0])->len; i++) k += ig_tmpl_equal(LIST(p[0])->items[i], p[1]);
    *out = mkint(k);
    return 0;
}

FN(m_remove)
{
    BIND("remove", 2, "self", "value");
    ig_rc rc = mutable_list(c, p[0], "remove");
    if (rc) return rc;
    int64_t i = list_find(p[0], p[1]);
    if (i < 0) return ig_tmpl_fail(c, "list.remove(x): x not in list");
    tlist *l = LIST(p[0]);
    decref(l->items[i]);
    memmove(l->items + i, l->items + i + 1, (l->len - (size_t)i - 1) * sizeof(ig_tmpl_val));
    l->len--;
    return 0;
}

FN(m_lreverse)
{
    ig_rc rc = mutable_list(c, a->pos[0], "reverse");
    if (rc) return rc;
    tlist *l = LIST(a->pos[0]);
    for (size_t i = 0; i < l->len / 2; i++) {
        ig_tmpl_val t = l->items[i];
        l->items[i] = l->items[l->len - 1 - i];
        l->items[l->len - 1 - i] = t;
    }
    return 0;
}

FN(m_lsort)
{
    BIND("sort", 1, "self", "reverse");
    ig_rc rc = mutable_list(c, p[0], "sort");
    if (rc) return rc;
    return ig__tmpl_sort(c, LIST(p[0])->items, LIST(p[0])->len, given(p[1]) && ig_tmpl_truthy(p[1]), true, NULL);
}

FN(m_lcopy)
{
    *out = ig__tmpl_list_from(LIST(a->pos[0])->items, LIST(a->pos[0])->len, false);
    return 0;
}

FN(m_lclear)
{
    ig_rc rc = mutable_list(c, a->pos[0], "clear");
    if (rc) return rc;
    tlist *l = LIST(a->pos[0]);
    size_t n = l->len;
    l->len = 0;
    for (size_t i = 0; i < n; i++) decref(l->items[i]);
    return 0;
}

/* ----------------------------------------------------------- dict methods */

static ig_tmpl_val pair(ig_tmpl_val k, ig_tmpl_val v)
{
    ig_tmpl_val items[2] = {k, v};
    return ig__tmpl_list_from(items, 2, true);
}

static ig_rc dict_view(const ig_tmpl_args *a, int what, ig_tmpl_val *out)
{
    tdict *d = DICT(a->pos[0]);
    tlist *l = ig__tmpl_list_alloc(d->len);
    for (size_t i = 0; i < d->used; i++) {
        dentry *e = &d->e[i];
        if (e->key.type == IG_TMPL_UNDEFINED) continue;
        ig_tmpl_val v = what == 0 ? e->key : e->val;
        if (what == 2) {
            v = pair(e->key, e->val);
        } else {
            incref(v);
        }
        l->items[l->len++] = v;
    }
    *out = mkobjv(IG_TMPL_LIST, l);
    return 0;
}

FN(m_keys) { return dict_view(a, 0, out); }
FN(m_values) { return dict_view(a, 1, out); }
FN(m_items) { return dict_view(a, 2, out); }

static ig_rc hashable(ig_tmpl_call *c, ig_tmpl_val k)
{
    if (ig__tmpl_hashable(k)) return 0;
    return ig_tmpl_fail(c, "unhashable type: '%s'", ig_tmpl_type_name(k));
}

FN(m_get)
{
    BIND("get", 2, "self", "key", "default");
    ig_rc rc = hashable(c, p[1]);
    if (rc) return rc;
    ig_tmpl_val *v = ig__tmpl_dict_find(DICT(p[0]), p[1]);
    *out = v ? *v : given(p[2]) ? p[2] : mknone();
    incref(*out);
    return 0;
}

FN(m_dpop)
{
    BIND("pop", 2, "self", "key", "default");
    ig_rc rc = hashable(c, p[1]);
    if (rc) return rc;
    if (ig__tmpl_dict_del(DICT(p[0]), p[1], out)) return 0;
    if (given(p[2])) {
        *out = p[2];
        incref(*out);
        return 0;
    }
    ig_buf b = IG_BUF_INIT;
    ig_tmpl_to_repr(p[1], &b);
    rc = ig_tmpl_fail(c, "KeyError: %s", ig_buf_cstr(&b));
    ig_buf_free(&b);
    return rc;
}

FN(m_setdefault)
{
    BIND("setdefault", 2, "self", "key", "default");
    ig_rc rc = hashable(c, p[1]);
    if (rc) return rc;
    ig_tmpl_val *v = ig__tmpl_dict_find(DICT(p[0]), p[1]);
    if (!v) {
        ig_tmpl_val d = given(p[2]) ? p[2] : mknone();
        incref(d);
        ig__tmpl_dict_put(DICT(p[0]), p[1], d);
        v = ig__tmpl_dict_find(DICT(p[0]), p[1]);
    }
    *out = *v;
    incref(*out);
    return 0;
}

FN(m_update)
{
    if (a->npos > 2) return ig_tmpl_fail(c, "update expected at most 1 argument");
    tdict *d = DICT(a->pos[0]);
    if (a->npos == 2) {
        ig_tmpl_val o = a->pos[1];
        if (o.type == IG_TMPL_DICT) {
            tdict *s = DICT(o);
            for (size_t i = 0; i < s->used; i++)
                if (s->e[i].key.type != IG_TMPL_UNDEFINED) {
                    incref(s->e[i].val);
                    ig__tmpl_dict_put(d, s->e[i].key, s->e[i].val);
                }
        } else {
            ig_tmpl_val l;
            ig_rc rc = ig__tmpl_iter(c, o, &l);
            if (rc) return rc;
            for (size_t i = 0; i < LIST(l)->len; i++) {
                ig_tmpl_val kv = LIST(l)->items[i];
                if (!is_seq(kv) || LIST(kv)->len != 2 || !ig__tmpl_hashable(LIST(kv)->items[0])) {
                    decref(l);
                    return ig_tmpl_fail(c, "dictionary update sequence element #%zu has the wrong shape", i);
                }
                incref(LIST(kv)->items[1]);
                ig__tmpl_dict_put(d, LIST(kv)->items[0], LIST(kv)->items[1]);
            }
            decref(l);
        }
    }
    for (size_t i = 0; i < a->nkw; i++) {
        incref(a->kw[i]);
        ig_tmpl_dict_set(a->pos[0], a->kwnames[i], a->kw[i]);
    }
    return ig__tmpl_items_check(c, d->len);
}

FN(m_dcopy)
{
    tdict *s = DICT(a->pos[0]);
    ig_tmpl_val r = ig_tmpl_dict_new();
    for (size_t i = 0; i < s->used; i++)
        if (s->e[i].key.type != IG_TMPL_UNDEFINED) {
            incref(s->e[i].val);
            ig__tmpl_dict_put(DICT(r), s->e[i].key, s->e[i].val);
        }
    *out = r;
    return 0;
}

FN(m_dclear)
{
    ig__tmpl_dict_clear(DICT(a->pos[0]));
    return 0;
}

FN(m_popitem)
{
    tdict *d = DICT(a->pos[0]);
    for (size_t i = d->used; i > 0; i--)
        if (d->e[i - 1].key.type != IG_TMPL_UNDEFINED) {
            ig_tmpl_val k = d->e[i - 1].key, v;
            incref(k);
            ig__tmpl_dict_del(d, k, &v);
            *out = pair(k, v);
            decref(k);
            decref(v);
            return 0;
        }
    return ig_tmpl_fail(c, "popitem(): dictionary is empty");
}

ig_tmpl_fn ig__tmpl_object_method(ig_tmpl_val self, const char *name);

typedef struct method {
    const char *name;
    ig_tmpl_fn fn;
} method;

static const method str_methods[] = {
    {"lower", m_lower}, {"upper", m_upper}, {"capitalize", m_capitalize}, {"title", m_title},
    {"swapcase", m_swapcase}, {"casefold", m_lower}, {"strip", m_strip}, {"lstrip", m_lstrip},
    {"rstrip", m_rstrip}, {"split", m_split}, {"rsplit", m_rsplit}, {"splitlines", m_splitlines},
    {"replace", m_replace}, {"startswith", m_startswith}, {"endswith", m_endswith},
    {"find", m_find}, {"rfind", m_rfind}, {"index", m_sindex}, {"rindex", m_rindex},
    {"count", m_scount}, {"join", m_join}, {"format", m_format}, {"isdigit", m_isdigit},
    {"isnumeric", m_isdigit}, {"isdecimal", m_isdigit}, {"isalpha", m_isalpha},
    {"isalnum", m_isalnum}, {"isspace", m_isspace}, {"islower", m_islower},
    {"isupper", m_isupper}, {"ljust", m_ljust}, {"rjust", m_rjust}, {"center", m_center},
    {"zfill", m_zfill}, {"partition", m_partition}, {"rpartition", m_rpartition},
    {"removeprefix", m_removeprefix}, {"removesuffix", m_removesuffix}, {NULL, NULL}};

static const method list_methods[] = {
    {"append", m_append}, {"extend", m_extend}, {"insert", m_insert}, {"pop", m_lpop},
    {"index", m_lindex}, {"count", m_lcount}, {"remove", m_remove}, {"reverse", m_lreverse},
    {"sort", m_lsort}, {"copy", m_lcopy}, {"clear", m_lclear}, {NULL, NULL}};

static const method tuple_methods[] = {{"index", m_lindex}, {"count", m_lcount}, {NULL, NULL}};

static const method dict_methods[] = {
    {"items", m_items}, {"keys", m_keys}, {"values", m_values}, {"get", m_get},
    {"update", m_update}, {"pop", m_dpop}, {"setdefault", m_setdefault}, {"copy", m_dcopy},
    {"clear", m_dclear}, {"popitem", m_popitem}, {NULL, NULL}};

ig_tmpl_fn ig__tmpl_method(ig_tmpl_val self, const char *name)
{
    const method *t;
    switch (self.type) {
    case IG_TMPL_STR: t = str_methods; break;
    case IG_TMPL_LIST: t = list_methods; break;
    case IG_TMPL_TUPLE: t = tuple_methods; break;
    case IG_TMPL_DICT: t = dict_methods; break;
    case IG_TMPL_OBJECT: return ig__tmpl_object_method(self, name);
    default: return NULL;
    }
    for (; t->name; t++)
        if (t->name[0] == name[0] && !strcmp(t->name, name)) return t->fn;
    return NULL;
}

/* ---------------------------------------------------------- format (%) */

/* Format one number/str per a printf-style conversion into b. */
static ig_rc percent_one(ig_tmpl_call *c, ig_buf *b, const char *flags, int width, int prec,
                         char conv, ig_tmpl_val v)
{
    char spec[48];
    ig_buf tmp = IG_BUF_INIT;
    ig_rc rc = 0;
    switch (conv) {
    case 's': case 'r': case 'a': {
        if (conv == 's') ig_tmpl_to_str(v, &tmp);
        else ig_tmpl_to_repr(v, &tmp);
        size_t n = tmp.len;
        if (prec >= 0 && (size_t)prec < n) n = (size_t)prec;
        int pad = width > (int)n ? width - (int)n : 0;
        bool left = strchr(flags, '-') != NULL;
        if (!left) for (int i = 0; i < pad; i++) ig_buf_putc(b, ' ');
        ig_buf_append(b, ig_buf_cstr(&tmp), n);
        if (left) for (int i = 0; i < pad; i++) ig_buf_putc(b, ' ');
        break;
    }
    case 'd': case 'i': case 'u': case 'x': case 'X': case 'o': case 'c': {
        long long x;
        if (v.type == IG_TMPL_INT) x = v.u.i;
        else if (v.type == IG_TMPL_BOOL) x = v.u.b;
        else if (v.type == IG_TMPL_FLOAT && conv != 'c') x = (long long)v.u.f;
        else {
            rc = ig_tmpl_fail(c, "%%%c format: a number is required, not %s", conv, ig_tmpl_type_name(v));
            break;
        }
        if (conv == 'c') {
            ig_buf_putc(b, (char)x);
            break;
        }
        char cv = conv == 'i' || conv == 'u' ? 'd' : conv;
        snprintf(spec, sizeof spec, "%%%s*.*ll%c", flags, cv);
        ig_buf_printf(b, spec, width, prec < 0 ? (cv == 'd' ? 1 : 1) : prec, x);
        break;
    }
    case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': {
        if (!is_num(v)) {
            rc = ig_tmpl_fail(c, "must be real number, not %s", ig_tmpl_type_name(v));
            break;
        }
        snprintf(spec, sizeof spec, "%%%s*.*%c", flags, conv);
        ig_buf_printf(b, spec, width, prec < 0 ? 6 : prec, num_f(v));
        break;
    }
    default: rc = ig_tmpl_fail(c, "unsupported format character '%c'", conv);
    }
    ig_buf_free(&tmp);
    return rc;
}

ig_rc ig__tmpl_percent(ig_tmpl_call *c, ig_tmpl_val fmt, ig_tmpl_val args, ig_tmpl_val *out)
{
    const char *s = S(fmt), *end = s + SL(fmt);
    ig_buf b = IG_BUF_INIT;
    size_t argi = 0;
    bool tuple = args.type == IG_TMPL_TUPLE;
    size_t nargs = tuple ? LIST(args)->len : 1;
    ig_rc rc = 0;
    while (s < end && !rc) {
        const char *pc = memchr(s, '%', (size_t)(end - s));
        if (!pc) {
            ig_buf_append(&b, s, (size_t)(end - s));
            break;
        }
        ig_buf_append(&b, s, (size_t)(pc - s));
        s = pc + 1;
        if (s >= end) {
            rc = ig_tmpl_fail(c, "incomplete format");
            break;
        }
        if (*s == '%') {
            ig_buf_putc(&b, '%');
            s++;
            continue;
        }
        ig_tmpl_val v = mkundef();
        bool have = false;
        if (*s == '(') {
            const char *close = memchr(s, ')', (size_t)(end - s));
            if (!close || args.type != IG_TMPL_DICT) {
                rc = ig_tmpl_fail(c, "format requires a mapping");
                break;
            }
            ig_tmpl_val key = sv(s + 1, (size_t)(close - s - 1));
            ig_tmpl_val *f = ig__tmpl_dict_find(DICT(args), key);
            if (!f) {
                ig_buf kb = IG_BUF_INIT;
                ig_tmpl_to_repr(key, &kb);
                rc = ig_tmpl_fail(c, "KeyError: %s", ig_buf_cstr(&kb));
                ig_buf_free(&kb);
            } else {
                v = *f;
                have = true;
            }
            decref(key);
            if (rc) break;
            s = close + 1;
        }
        char flags[8];
        int nf = 0;
        while (s < end && strchr("-+ 0#", *s) && nf < 6) flags[nf++] = *s++;
        flags[nf] = '\0';
        int width = 0, prec = -1;
        if (s < end && *s == '*') {
            rc = ig_tmpl_fail(c, "* width is not supported");
            break;
        }
        while (s < end && isdigit((unsigned char)*s) && width < 100000) width = width * 10 + (*s++ - '0');
        if (s < end && *s == '.') {
            s++;
            prec = 0;
            while (s < end && isdigit((unsigned char)*s) && prec < 100000) prec = prec * 10 + (*s++ - '0');
        }
        if (width > 4096) width = 4096;
        if (prec > 4096) prec = 4096;
        while (s < end && (*s == 'l' || *s == 'h' || *s == 'L')) s++;
        if (s >= end) {
            rc = ig_tmpl_fail(c, "incomplete format");
            break;
        }
        char conv = *s++;
        if (!have) {
            if (argi >= nargs) {
                rc = ig_tmpl_fail(c, "not enough arguments for format string");
                break;
            }
            v = tuple ? LIST(args)->items[argi] : args;
            argi++;
        }
        rc = percent_one(c, &b, flags, width, prec, conv, v);
        if (!rc) rc = ig__tmpl_str_check(c, b.len);
    }
    if (!rc && args.type != IG_TMPL_DICT && argi < nargs && (tuple || argi == 0))
        rc = ig_tmpl_fail(c, "not all arguments converted during string formatting");
    if (!rc) *out = sv(ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    return rc;
}

/* ---------------------------------------------------------- str.format */

/* apply a format spec [[fill]align][sign][0][width][,][.prec][type] */
static ig_rc apply_spec(ig_tmpl_call *c, ig_buf *b, const char *spec, size_t n, ig_tmpl_val v)
{
    char fill = ' ', align = 0, sign = '-', type = 0;
    int width = 0, prec = -1;
    bool comma = false, zero = false;
    size_t i = 0;
    if (n >= 2 && strchr("<>^=", spec[1])) {
        fill = spec[0];
        align = spec[1];
        i = 2;
    } else if (n >= 1 && strchr("<>^=", spec[0])) {
        align = spec[0];
        i = 1;
    }
    if (i < n && strchr("+- ", spec[i])) sign = spec[i++];
    if (i < n && spec[i] == '0') {
        zero = true;
        i++;
    }
    while (i < n && isdigit((unsigned char)spec[i]) && width < 4096) width = width * 10 + (spec[i++] - '0');
    if (i < n && (spec[i] == ',' || spec[i] == '_')) {
        comma = true;
        i++;
    }
    if (i < n && spec[i] == '.') {
        i++;
        prec = 0;
        while (i < n && isdigit((unsigned char)spec[i]) && prec < 4096) prec = prec * 10 + (spec[i++] - '0');
    }
    if (i < n) type = spec[i++];
    if (i != n) return ig_tmpl_fail(c, "invalid format specifier");
    if (type && !strchr("sdxXobceEfFgGn%", type))
        return ig_tmpl_fail(c, "unknown format code '%c' for object of type '%s'", type,
                            ig_tmpl_type_name(v));
    ig_buf body = IG_BUF_INIT;
    bool numeric = is_num(v) && v.type != IG_TMPL_BOOL ? true : (v.type == IG_TMPL_BOOL && type);
    if (type == 's' || (!type && !numeric)) {
        ig_tmpl_to_str(v, &body);
        if (prec >= 0 && (size_t)prec < body.len) body.len = (size_t)prec;
        if (!align) align = '<';
    } else {
        if (!is_num(v)) {
            ig_buf_free(&body);
            return ig_tmpl_fail(c, "unknown format code '%c' for object of type '%s'", type ? type : 's', ig_tmpl_type_name(v));
        }
        char f[32];
        const char *sg = sign == '+' ? "+" : sign == ' ' ? " " : "";
        if (type == 'd' || (!type && v.type != IG_TMPL_FLOAT)) {
            if (v.type == IG_TMPL_FLOAT) {
                ig_buf_free(&body);
                return ig_tmpl_fail(c, "unknown format code 'd' for object of type 'float'");
            }
            snprintf(f, sizeof f, "%%%slld", sg);
            ig_buf_printf(&body, f, (long long)(v.type == IG_TMPL_BOOL ? v.u.b : v.u.i));
        } else if (type == 'x' || type == 'X' || type == 'o' || type == 'b') {
            long long x = v.type == IG_TMPL_FLOAT ? (long long)v.u.f : v.type == IG_TMPL_BOOL ? v.u.b : v.u.i;
            if (type == 'b') {
                char bits[70];
                int k = 0;
                unsigned long long u = x < 0 ? (unsigned long long)-x : (unsigned long long)x;
                do bits[k++] = (char)('0' + (u & 1)); while (u >>= 1);
                if (x < 0) ig_buf_putc(&body, '-');
                while (k) ig_buf_putc(&body, bits[--k]);
            } else {
                snprintf(f, sizeof f, "%%ll%c", type);
                ig_buf_printf(&body, f, x);
            }
        } else if (type == 'c') {
            if (v.type == IG_TMPL_FLOAT) {
                ig_buf_free(&body);
                return ig_tmpl_fail(c, "unknown format code 'c' for object of type 'float'");
            }
            long long x = v.type == IG_TMPL_BOOL ? v.u.b : v.u.i;
            ig_buf_putc(&body, (char)(x & 0x7f));
        } else if (type == '%') {
            snprintf(f, sizeof f, "%%%s.*f%%%%", sg);
            ig_buf_printf(&body, f, prec < 0 ? 6 : prec, num_f(v) * 100);
        } else if (!type && prec < 0) {
            if (sg[0] && num_f(v) >= 0) ig_buf_puts(&body, sg);
            ig__tmpl_fmt_float(num_f(v), &body);
        } else {
            char t = type ? type : 'g';
            snprintf(f, sizeof f, "%%%s.*%c", sg, t == 'n' ? 'g' : t);
            ig_buf_printf(&body, f, prec < 0 ? 6 : prec, num_f(v));
        }
        if (comma) {
            /* group the integer digits by thousands */
            const char *s = ig_buf_cstr(&body);
            size_t st = 0;
            while (s[st] && !isdigit((unsigned char)s[st])) st++;
            size_t e = st;
            while (isdigit((unsigned char)s[e])) e++;
            ig_buf g = IG_BUF_INIT;
            ig_buf_append(&g, s, st);
            for (size_t k = st; k < e; k++) {
                ig_buf_putc(&g, s[k]);
                if ((e - k - 1) % 3 == 0 && k + 1 < e) ig_buf_putc(&g, ',');
            }
            ig_buf_puts(&g, s + e);
            ig_buf_free(&body);
            body = g;
        }
        if (!align) {
            align = '>';
            if (zero) {
                fill = '0';
                align = '=';
            }
        }
    }
    int len = (int)body.len, pad = width > len ? width - len : 0;
    const char *s = ig_buf_cstr(&body);
    if (align == '=' && pad) {
        size_t k = (s[0] == '-' || s[0] == '+' || s[0] == ' ') ? 1 : 0;
        ig_buf_append(b, s, k);
        for (int j = 0; j < pad; j++) ig_buf_putc(b, fill);
        ig_buf_puts(b, s + k);
    } else {
        int left = align == '<' ? 0 : align == '^' ? pad / 2 : pad;
        for (int j = 0; j < left; j++) ig_buf_putc(b, fill);
        ig_buf_append(b, s, body.len);
        for (int j = 0; j < pad - left; j++) ig_buf_putc(b, fill);
    }
    ig_buf_free(&body);
    return 0;
}

static ig_rc py_format(ig_tmpl_call *c, ig_tmpl_val fmt, const ig_tmpl_args *a, size_t first,
                       ig_tmpl_val *out)
{
    const char *s = S(fmt), *end = s + SL(fmt);
    ig_buf b = IG_BUF_INIT;
    size_t auto_i = 0;
    ig_rc rc = 0;
    while (s < end && !rc) {
        if (*s == '{' && s + 1 < end && s[1] == '{') {
            ig_buf_putc(&b, '{');
            s += 2;
            continue;
        }
        if (*s == '}' && s + 1 < end && s[1] == '}') {
            ig_buf_putc(&b, '}');
            s += 2;
            continue;
        }
        if (*s == '}') {
            rc = ig_tmpl_fail(c, "single '}' encountered in format string");
            break;
        }
        if (*s != '{') {
            ig_buf_putc(&b, *s++);
            continue;
        }
        const char *close = memchr(s, '}', (size_t)(end - s));
        if (!close) {
            rc = ig_tmpl_fail(c, "single '{' encountered in format string");
            break;
        }
        const char *field = s + 1, *colon = memchr(field, ':', (size_t)(close - field));
        const char *fend = colon ? colon : close;
        const char *bang = memchr(field, '!', (size_t)(fend - field));
        const char *nend = bang ? bang : fend;
        /* the first name part: index or keyword */
        const char *pe = field;
        while (pe < nend && *pe != '.' && *pe != '[') pe++;
        ig_tmpl_val v = mkundef();
        bool found = false;
        if (pe == field) {
            if (first + auto_i < a->npos) {
                v = a->pos[first + auto_i];
                found = true;
            }
            auto_i++;
        } else if (isdigit((unsigned char)*field)) {
            size_t k = (size_t)strtoul(field, NULL, 10);
            if (first + k < a->npos) {
                v = a->pos[first + k];
                found = true;
            }
        } else {
            for (size_t k = 0; k < a->nkw; k++)
                if (strlen(a->kwnames[k]) == (size_t)(pe - field) && !memcmp(a->kwnames[k], field, (size_t)(pe - field))) {
                    v = a->kw[k];
                    found = true;
                }
        }
        if (!found) {
            rc = ig_tmpl_fail(c, "format field '%.*s' has no argument", (int)(nend - field), field);
            break;
        }
        incref(v);
        /* .attr and [key] parts */
        while (pe < nend && !rc) {
            ig_tmpl_val nx;
            if (*pe == '.') {
                const char *q = pe + 1;
                while (q < nend && *q != '.' && *q != '[') q++;
                ig_tmpl_val k = sv(pe + 1, (size_t)(q - pe - 1));
                rc = ig__tmpl_getattr(c, v, STR(k), &nx);
                decref(k);
                pe = q;
            } else {
                const char *q = memchr(pe, ']', (size_t)(nend - pe));
                if (!q) {
                    rc = ig_tmpl_fail(c, "missing ']' in format string");
                    break;
                }
                bool digits = q > pe + 1;
                for (const char *d = pe + 1; d < q; d++) digits = digits && isdigit((unsigned char)*d);
                ig_tmpl_val k = digits ? mkint(strtoll(pe + 1, NULL, 10)) : sv(pe + 1, (size_t)(q - pe - 1));
                rc = ig__tmpl_getitem(c, v, k, &nx);
                decref(k);
                pe = q + 1;
            }
            if (rc) break;
            decref(v);
            v = nx;
        }
        if (!rc && bang && bang + 1 < fend && (bang[1] == 'r' || bang[1] == 's')) {
            ig_buf t = IG_BUF_INIT;
            if (bang[1] == 'r') ig_tmpl_to_repr(v, &t);
            else ig_tmpl_to_str(v, &t);
            decref(v);
            v = sv(ig_buf_cstr(&t), t.len);
            ig_buf_free(&t);
        }
        if (!rc) rc = apply_spec(c, &b, colon ? colon + 1 : close, colon ? (size_t)(close - colon - 1) : 0, v);
        decref(v);
        s = close + 1;
        if (!rc) rc = ig__tmpl_str_check(c, b.len);
    }
    if (!rc) *out = sv(ig_buf_cstr(&b), b.len);
    ig_buf_free(&b);
    return rc;
}

/* ---------------------------------------------------------------- globals */

FN(g_range)
{
    int64_t v[3] = {0, 0, 1};
    if (a->npos < 1 || a->npos > 3 || a->nkw) return ig_tmpl_fail(c, "range expected 1 to 3 integer arguments");
    for (size_t i = 0; i < a->npos; i++) {
        ig_rc rc = get_int(c, a->pos[i], 0, &v[i]);
        if (rc) return rc;
    }
    int64_t start = a->npos == 1 ? 0 : v[0], stop = a->npos == 1 ? v[0] : v[1], step = a->npos == 3 ? v[2] : 1;
    if (step == 0) return ig_tmpl_fail(c, "range() arg 3 must not be zero");
    double count = step > 0 ? ceil(((double)stop - (double)start) / (double)step)
                            : ceil(((double)start - (double)stop) / (double)-step);
    if (count < 0) count = 0;
    if (count > (double)c->env->lim.max_items) return ig__tmpl_items_check(c, c->env->lim.max_items + 1);
    tlist *l = ig__tmpl_list_alloc((size_t)count);
    for (int64_t i = 0; i < (int64_t)count; i++) l->items[l->len++] = mkint(start + i * step);
    *out = mkobjv(IG_TMPL_LIST, l);
    return 0;
}

FN(g_dict)
{
    ig_tmpl_val d = ig_tmpl_dict_new();
    if (a->npos > 1) {
        decref(d);
        return ig_tmpl_fail(c, "dict expected at most 1 argument");
    }
    if (a->npos == 1) {
        ig_tmpl_val args[2] = {d, a->pos[0]};
        ig_tmpl_args ua = {args, 2, NULL, NULL, 0};
        ig_tmpl_val dummy;
        ig_rc rc = m_update(c, NULL, &ua, &dummy);
        if (rc) {
            decref(d);
            return rc;
        }
    }
    for (size_t i = 0; i < a->nkw; i++) {
        incref(a->kw[i]);
        ig_tmpl_dict_set(d, a->kwnames[i], a->kw[i]);
    }
    *out = d;
    return 0;
}

FN(g_list)
{
    if (a->npos > 1 || a->nkw) return ig_tmpl_fail(c, "list expected at most 1 argument");
    if (!a->npos) {
        *out = ig_tmpl_list_new();
        return 0;
    }
    return ig__tmpl_iter(c, a->pos[0], out);
}

FN(g_zip)
{
    size_t n = a->npos;
    ig_tmpl_val *ls = ig_calloc(n + 1, sizeof *ls);
    ig_rc rc = 0;
    size_t shortest = (size_t)-1;
    for (size_t i = 0; i < n && !rc; i++) {
        rc = ig__tmpl_iter(c, a->pos[i], &ls[i]);
        if (!rc && LIST(ls[i])->len < shortest) shortest = LIST(ls[i])->len;
    }
    if (!rc) {
        if (!n) shortest = 0;
        tlist *r = ig__tmpl_list_alloc(shortest);
        for (size_t k = 0; k < shortest; k++) {
            tlist *t = ig__tmpl_list_alloc(n);
            for (size_t i = 0; i < n; i++) {
                incref(LIST(ls[i])->items[k]);
                t->items[t->len++] = LIST(ls[i])->items[k];
            }
            r->items[r->len++] = mkobjv(IG_TMPL_TUPLE, t);
        }
        *out = mkobjv(IG_TMPL_LIST, r);
    }
    for (size_t i = 0; i < n; i++) decref(ls[i]);
    free(ls);
    return rc;
}

/* namespace(): an object whose attributes `set ns.x = ...` can assign */
static ig_rc ns_getattr(ig_tmpl_call *c, void *self, const char *name, ig_tmpl_val *out)
{
    ig_tmpl_val v = ig_tmpl_dict_get(mkobjv(IG_TMPL_DICT, self), name);
    if (v.type != IG_TMPL_UNDEFINED) {
        *out = v;
        incref(v);
    }
    return 0;
}

static void ns_str(void *self, ig_buf *out)
{
    ig_buf_puts(out, "<Namespace ");
    tdict *d = self;
    bool first = true;
    for (size_t i = 0; i < d->used; i++) {
        if (d->e[i].key.type == IG_TMPL_UNDEFINED) continue;
        if (!first) ig_buf_puts(out, ", ");
        first = false;
        ig_tmpl_to_str(d->e[i].key, out);
        ig_buf_putc(out, '=');
        ig_tmpl_to_repr(d->e[i].val, out);
    }
    ig_buf_putc(out, '>');
}

static void ns_free(void *self) { decref(mkobjv(IG_TMPL_DICT, self)); }

const ig_tmpl_class ig__tmpl_namespace_class = {
    "Namespace", ns_getattr, NULL, NULL, ns_str, NULL, NULL, ns_free};

tdict *ig__tmpl_namespace_dict(ig_tmpl_val v)
{
    return ig_tmpl_object_self(v, &ig__tmpl_namespace_class);
}

FN(g_namespace)
{
    ig_tmpl_val d;
    ig_rc rc = g_dict(c, NULL, a, &d);
    if (rc) return rc;
    *out = ig_tmpl_object_new(&ig__tmpl_namespace_class, DICT(d));
    return 0;
}

/* cycler(*items): next(), reset(), current */
typedef struct cycler {
    ig_tmpl_val items;
    size_t pos;
} cycler;

static const ig_tmpl_class cycler_class;

FN(cy_next)
{
    cycler *cy = ig_tmpl_object_self(a->pos[0], &cycler_class);
    tlist *l = LIST(cy->items);
    *out = l->items[cy->pos];
    incref(*out);
    cy->pos = (cy->pos + 1) % l->len;
    return 0;
}

FN(cy_reset)
{
    cycler *cy = ig_tmpl_object_self(a->pos[0], &cycler_class);
    cy->pos = 0;
    return 0;
}

static ig_rc cy_getattr(ig_tmpl_call *c, void *self, const char *name, ig_tmpl_val *out);
static void cy_free(void *self)
{
    cycler *cy = self;
    decref(cy->items);
    free(cy);
}
static const ig_tmpl_class cycler_class = {"Cycler", cy_getattr, NULL, NULL, NULL, NULL, NULL, cy_free};

static ig_rc cy_getattr(ig_tmpl_call *c, void *self, const char *name, ig_tmpl_val *out)
{
    cycler *cy = self;
    if (!strcmp(name, "current")) {
        *out = LIST(cy->items)->items[cy->pos];
        incref(*out);
    }
    return 0;
}

FN(g_cycler)
{
    if (!a->npos) return ig_tmpl_fail(c, "at least one item has to be provided");
    cycler *cy = ig_calloc(1, sizeof *cy);
    cy->items = ig__tmpl_list_from(a->pos, a->npos, false);
    *out = ig_tmpl_object_new(&cycler_class, cy);
    return 0;
}

/* joiner(sep): "" the first call, sep afterwards */
typedef struct joiner {
    ig_tmpl_val sep;
    bool used;
} joiner;

static ig_rc jo_call(ig_tmpl_call *c, void *self, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    joiner *j = self;
    if (!j->used) {
        j->used = true;
        *out = sv("", 0);
    } else {
        *out = j->sep;
        incref(*out);
    }
    return 0;
}

static void jo_free(void *self)
{
    joiner *j = self;
    decref(j->sep);
    free(j);
}

static const ig_tmpl_class joiner_class = {"Joiner", NULL, NULL, jo_call, NULL, NULL, NULL, jo_free};

FN(g_joiner)
{
    joiner *j = ig_calloc(1, sizeof *j);
    if (a->npos) {
        ig_rc rc = ig__tmpl_to_strv(c, a->pos[0], &j->sep);
        if (rc) {
            free(j);
            return rc;
        }
    } else {
        j->sep = sv(", ", 2);
    }
    *out = ig_tmpl_object_new(&joiner_class, j);
    return 0;
}

/* ------------------------------------------------------------------ loop */

typedef struct loopobj {
    ig_tmpl_val items;
    size_t index;
    int depth;
    const node *n;
    ig_tmpl_val last_changed;
    bool has_changed;
} loopobj;

static const ig_tmpl_class loop_class;

FN(lp_cycle)
{
    loopobj *l = ig_tmpl_object_self(a->pos[0], &loop_class);
    if (a->npos < 2) return ig_tmpl_fail(c, "no items for cycling given");
    *out = a->pos[1 + l->index % (a->npos - 1)];
    incref(*out);
    return 0;
}

FN(lp_changed)
{
    loopobj *l = ig_tmpl_object_self(a->pos[0], &loop_class);
    ig_tmpl_val now = ig__tmpl_list_from(a->pos + 1, a->npos - 1, true);
    bool changed = !l->has_changed || !ig_tmpl_equal(now, l->last_changed);
    decref(l->last_changed);
    l->last_changed = now;
    l->has_changed = true;
    *out = mkbool(changed);
    return 0;
}

static ig_rc lp_getattr(ig_tmpl_call *c, void *self, const char *name, ig_tmpl_val *out)
{
    loopobj *l = self;
    tlist *items = LIST(l->items);
    int64_t i = (int64_t)l->index, n = (int64_t)items->len;
    if (!strcmp(name, "index")) *out = mkint(i + 1);
    else if (!strcmp(name, "index0")) *out = mkint(i);
    else if (!strcmp(name, "revindex")) *out = mkint(n - i);
    else if (!strcmp(name, "revindex0")) *out = mkint(n - i - 1);
    else if (!strcmp(name, "first")) *out = mkbool(i == 0);
    else if (!strcmp(name, "last")) *out = mkbool(i == n - 1);
    else if (!strcmp(name, "length")) *out = mkint(n);
    else if (!strcmp(name, "depth")) *out = mkint(l->depth);
    else if (!strcmp(name, "depth0")) *out = mkint(l->depth - 1);
    else if (!strcmp(name, "previtem")) {
        if (i > 0) {
            *out = items->items[i - 1];
            incref(*out);
        }
    } else if (!strcmp(name, "nextitem")) {
        if (i + 1 < n) {
            *out = items->items[i + 1];
            incref(*out);
        }
    }
    return 0;
}

static ig_rc lp_call(ig_tmpl_call *c, void *self, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    loopobj *l = self;
    if (!(l->n->flags & NF_RECURSIVE))
        return ig_tmpl_fail(c, "the loop must have the 'recursive' marker to be called recursively");
    if (a->npos != 1) return ig_tmpl_fail(c, "loop() takes one iterable");
    return ig__tmpl_loop_recurse(c, l->n, a->pos[0], l->depth + 1, out);
}

static void lp_str(void *self, ig_buf *out)
{
    loopobj *l = self;
    ig_buf_printf(out, "<LoopContext %zu/%zu>", l->index + 1, LIST(l->items)->len);
}

static void lp_free(void *self)
{
    loopobj *l = self;
    decref(l->items);
    decref(l->last_changed);
    free(l);
}

static const ig_tmpl_class loop_class = {"LoopContext", lp_getattr, NULL, lp_call, lp_str, NULL, NULL, lp_free};

ig_tmpl_val ig__tmpl_loop_new(ig_tmpl_val items, int depth, const node *n)
{
    loopobj *l = ig_calloc(1, sizeof *l);
    l->items = items;
    incref(items);
    l->depth = depth;
    l->n = n;
    l->last_changed = mkundef();
    return ig_tmpl_object_new(&loop_class, l);
}

void ig__tmpl_loop_set(ig_tmpl_val loop, size_t index)
{
    loopobj *l = ig_tmpl_object_self(loop, &loop_class);
    l->index = index;
}

/* loop.cycle and loop.changed are methods: looked up through this hook */
ig_tmpl_fn ig__tmpl_object_method(ig_tmpl_val self, const char *name)
{
    if (ig_tmpl_object_self(self, &loop_class)) {
        if (!strcmp(name, "cycle")) return lp_cycle;
        if (!strcmp(name, "changed")) return lp_changed;
    }
    if (ig_tmpl_object_self(self, &cycler_class)) {
        if (!strcmp(name, "next")) return cy_next;
        if (!strcmp(name, "reset")) return cy_reset;
    }
    return NULL;
}

void ig__tmpl_add_globals(ig_tmpl_env *env)
{
    ig_tmpl_env_add_func(env, "range", g_range, NULL);
    ig_tmpl_env_add_func(env, "dict", g_dict, NULL);
    ig_tmpl_env_add_func(env, "list", g_list, NULL);
    ig_tmpl_env_add_func(env, "zip", g_zip, NULL);
    ig_tmpl_env_add_func(env, "namespace", g_namespace, NULL);
    ig_tmpl_env_add_func(env, "cycler", g_cycler, NULL);
    ig_tmpl_env_add_func(env, "joiner", g_joiner, NULL);
}
