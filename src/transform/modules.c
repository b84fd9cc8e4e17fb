/* The Python modules and helpers dbt puts in the context, in C:
 * modules.datetime (datetime.now/utcnow, date.today, strftime, isoformat and
 * the fields), modules.re (match, search, fullmatch, sub, findall, split over
 * POSIX extended regexes, with Python's \d \w \s classes translated),
 * fromjson / tojson, fromyaml / toyaml, local_md5. */
#include "transform/tf_int.h"

#include "core/mem.h"

#include <openssl/evp.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *sval(ig_tmpl_val v) { return v.type == IG_TMPL_STR ? ig_tmpl_str_ptr(v) : NULL; }

/* -------------------------------------------------------------- datetime */

typedef struct dt {
    int64_t us; /* UTC microseconds */
    bool date_only;
} dt;

static void dt_free(void *self) { free(self); }

static void dt_tm(const dt *d, struct tm *tm)
{
    time_t s = (time_t)(d->us >= 0 ? d->us / 1000000 : (d->us - 999999) / 1000000);
    gmtime_r(&s, tm);
}

static void dt_str(void *self, ig_buf *out)
{
    dt *d = self;
    struct tm tm;
    dt_tm(d, &tm);
    char b[64];
    if (d->date_only) strftime(b, sizeof b, "%Y-%m-%d", &tm);
    else strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
    ig_buf_puts(out, b);
    long us = (long)(((d->us % 1000000) + 1000000) % 1000000);
    if (!d->date_only && us) ig_buf_printf(out, ".%06ld", us);
}

static const ig_tmpl_class dt_class;

static ig_tmpl_val dt_new(int64_t us, bool date_only)
{
    dt *d = ig_calloc(1, sizeof *d);
    d->us = us;
    d->date_only = date_only;
    return ig_tmpl_object_new(&dt_class, d);
}

ig_tmpl_val ig__tf_datetime_new(int64_t us) { return dt_new(us, false); }

typedef struct dtm {
    ig_tmpl_val self;
    int which;
} dtm;

static void dtm_free(void *p)
{
    ig_tmpl_unref(((dtm *)p)->self);
    free(p);
}

static ig_rc dtm_call(ig_tmpl_call *c, void *self, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    dtm *m = self;
    dt *d = ig_tmpl_object_self(m->self, &dt_class);
    struct tm tm;
    dt_tm(d, &tm);
    ig_buf b = IG_BUF_INIT;
    switch (m->which) {
    case 0: { /* strftime(fmt): %f is microseconds, as Python has it */
        const char *fmt = a->npos ? sval(a->pos[0]) : NULL;
        if (!fmt) return ig_tmpl_fail(c, "strftime() takes a format string");
        ig_buf f = IG_BUF_INIT;
        for (const char *p = fmt; *p; p++) {
            if (p[0] == '%' && p[1] == 'f') {
                ig_buf_printf(&f, "%06ld", (long)(((d->us % 1000000) + 1000000) % 1000000));
                p++;
            } else if (p[0] == '%' && p[1] == '%') {
                ig_buf_puts(&f, "%%");
                p++;
            } else ig_buf_putc(&f, *p);
        }
        char tmp[512];
        size_t n = strftime(tmp, sizeof tmp, ig_buf_cstr(&f), &tm);
        ig_buf_free(&f);
        *out = ig_tmpl_strn(tmp, n);
        return 0;
    }
    case 1: { /* isoformat() */
        char tmp[64];
        strftime(tmp, sizeof tmp, d->date_only ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%S", &tm);
        ig_buf_puts(&b, tmp);
        long us = (long)(((d->us % 1000000) + 1000000) % 1000000);
        if (!d->date_only && us) ig_buf_printf(&b, ".%06ld", us);
        *out = ig_tmpl_str(ig_buf_cstr(&b));
        ig_buf_free(&b);
        return 0;
    }
    case 2: /* date() */
        *out = dt_new(d->us - (((d->us % 86400000000LL) + 86400000000LL) % 86400000000LL), true);
        return 0;
    case 3: /* timestamp() */
        *out = ig_tmpl_float((double)d->us / 1e6);
        return 0;
    }
    return 0;
}

static const ig_tmpl_class dtm_class = {.name = "method", .call = dtm_call, .free = dtm_free};

static ig_rc dt_getattr(ig_tmpl_call *c, void *self, const char *name, ig_tmpl_val *out)
{
    dt *d = self;
    struct tm tm;
    dt_tm(d, &tm);
    static const char *const methods[] = {"strftime", "isoformat", "date", "timestamp", NULL};
    for (int i = 0; methods[i]; i++)
        if (!strcmp(name, methods[i])) {
            dtm *m = ig_calloc(1, sizeof *m);
            m->self = dt_new(d->us, d->date_only);
            m->which = i;
            *out = ig_tmpl_object_new(&dtm_class, m);
            return 0;
        }
    if (!strcmp(name, "year")) *out = ig_tmpl_int(tm.tm_year + 1900);
    else if (!strcmp(name, "month")) *out = ig_tmpl_int(tm.tm_mon + 1);
    else if (!strcmp(name, "day")) *out = ig_tmpl_int(tm.tm_mday);
    else if (!strcmp(name, "hour")) *out = ig_tmpl_int(tm.tm_hour);
    else if (!strcmp(name, "minute")) *out = ig_tmpl_int(tm.tm_min);
    else if (!strcmp(name, "second")) *out = ig_tmpl_int(tm.tm_sec);
    else if (!strcmp(name, "microsecond")) *out = ig_tmpl_int(((d->us % 1000000) + 1000000) % 1000000);
    return 0;
}

static const ig_tmpl_class dt_class = {.name = "datetime", .getattr = dt_getattr, .str = dt_str,
                                       .free = dt_free};

static ig_rc fn_now(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    if (ud) { /* date.today() */
        us -= ((us % 86400000000LL) + 86400000000LL) % 86400000000LL;
        *out = dt_new(us, true);
    } else *out = dt_new(us, false);
    return 0;
}

/* datetime.datetime(y, m, d[, H, M, S]) and datetime.date(y, m, d) */
static ig_rc fn_make(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    int64_t f[6] = {1970, 1, 1, 0, 0, 0};
    for (size_t i = 0; i < a->npos && i < 6; i++) {
        if (a->pos[i].type != IG_TMPL_INT) return ig_tmpl_fail(c, "datetime fields are integers");
        f[i] = a->pos[i].u.i;
    }
    struct tm tm = {.tm_year = (int)f[0] - 1900, .tm_mon = (int)f[1] - 1, .tm_mday = (int)f[2],
                    .tm_hour = (int)f[3], .tm_min = (int)f[4], .tm_sec = (int)f[5]};
    *out = dt_new((int64_t)timegm(&tm) * 1000000, ud != NULL);
    return 0;
}

typedef struct clsobj {
    bool date;
} clsobj;

static ig_rc cls_getattr(ig_tmpl_call *c, void *self, const char *name, ig_tmpl_val *out)
{
    clsobj *k = self;
    if (!strcmp(name, "now") || !strcmp(name, "utcnow") || !strcmp(name, "today"))
        *out = ig_tmpl_func_new(name, fn_now, k->date && !strcmp(name, "today") ? (void *)1 : NULL);
    return 0;
}

static ig_rc cls_call(ig_tmpl_call *c, void *self, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    return fn_make(c, ((clsobj *)self)->date ? (void *)1 : NULL, a, out);
}

static const ig_tmpl_class cls_class = {.name = "type", .getattr = cls_getattr, .call = cls_call};
static clsobj datetime_cls = {false}, date_cls = {true};

/* -------------------------------------------------------------------- re */

static char *py_to_posix(const char *re)
{
    ig_buf b = IG_BUF_INIT;
    for (const char *p = re; *p; p++) {
        if (*p == '\\' && p[1]) {
            const char *rep = NULL;
            switch (p[1]) {
            case 'd': rep = "[0-9]"; break;
            case 'D': rep = "[^0-9]"; break;
            case 'w': rep = "[A-Za-z0-9_]"; break;
            case 'W': rep = "[^A-Za-z0-9_]"; break;
            case 's': rep = "[[:space:]]"; break;
            case 'S': rep = "[^[:space:]]"; break;
            }
            if (rep) ig_buf_puts(&b, rep);
            else {
                ig_buf_putc(&b, p[0]);
                ig_buf_putc(&b, p[1]);
            }
            p++;
        } else if ((*p == '?' ) && p > re && (p[-1] == '*' || p[-1] == '+' || p[-1] == '?' || p[-1] == '}')) {
            /* non-greedy: POSIX has none; greedy is the nearest */
        } else ig_buf_putc(&b, *p);
    }
    return b.data ? ig_buf_steal(&b) : ig_strdup("");
}

enum { RE_MATCH, RE_SEARCH, RE_FULLMATCH, RE_SUB, RE_FINDALL, RE_SPLIT };

static bool re_flag_icase(const ig_tmpl_args *a, size_t pos_index)
{
    for (size_t i = 0; i < a->nkw; i++)
        if (!strcmp(a->kwnames[i], "flags") && a->kw[i].type == IG_TMPL_INT) return a->kw[i].u.i & 2;
    if (a->npos > pos_index && a->pos[pos_index].type == IG_TMPL_INT) return a->pos[pos_index].u.i & 2;
    return false;
}

typedef struct mobj {
    char *s;
    regmatch_t m[10];
} mobj;

static void mobj_free(void *p)
{
    free(((mobj *)p)->s);
    free(p);
}

static ig_tmpl_val group_val(mobj *m, int64_t g)
{
    if (g < 0 || g > 9 || m->m[g].rm_so < 0) return ig_tmpl_none();
    return ig_tmpl_strn(m->s + m->m[g].rm_so, (size_t)(m->m[g].rm_eo - m->m[g].rm_so));
}

typedef struct mm {
    mobj *m;
    ig_tmpl_val keep;
    int which;
} mm;

static void mm_free(void *p)
{
    ig_tmpl_unref(((mm *)p)->keep);
    free(p);
}

static ig_rc mm_call(ig_tmpl_call *c, void *self, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    mm *x = self;
    if (x->which == 0) { /* group(n=0) */
        int64_t g = a->npos && a->pos[0].type == IG_TMPL_INT ? a->pos[0].u.i : 0;
        *out = group_val(x->m, g);
    } else if (x->which == 1) { /* groups() */
        ig_tmpl_val t = ig_tmpl_tuple_new();
        for (int g = 1; g < 10 && x->m->m[g].rm_so >= 0; g++) ig_tmpl_list_append(t, group_val(x->m, g));
        *out = t;
    } else if (x->which == 2) *out = ig_tmpl_int(x->m->m[0].rm_so);
    else *out = ig_tmpl_int(x->m->m[0].rm_eo);
    return 0;
}

static const ig_tmpl_class mm_class = {.name = "method", .call = mm_call, .free = mm_free};
static const ig_tmpl_class match_class;

static ig_rc match_getattr(ig_tmpl_call *c, void *self, const char *name, ig_tmpl_val *out)
{
    static const char *const ms[] = {"group", "groups", "start", "end", NULL};
    for (int i = 0; ms[i]; i++)
        if (!strcmp(ms[i], name)) {
            mobj *src = self;
            mobj *cp = ig_calloc(1, sizeof *cp);
            cp->s = ig_strdup(src->s);
            memcpy(cp->m, src->m, sizeof cp->m);
            mm *x = ig_calloc(1, sizeof *x);
            x->keep = ig_tmpl_object_new(&match_class, cp);
            x->m = cp;
            x->which = i;
            *out = ig_tmpl_object_new(&mm_class, x);
        }
    return 0;
}

static void match_str(void *self, ig_buf *out)
{
    mobj *m = self;
    ig_buf_printf(out, "<re.Match object; span=(%d, %d)>", (int)m->m[0].rm_so, (int)m->m[0].rm_eo);
}

static const ig_tmpl_class match_class = {.name = "re.Match", .getattr = match_getattr,
                                          .str = match_str, .free = mobj_free};

static ig_rc fn_re(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    int op = (int)(intptr_t)ud;
    size_t need = op == RE_SUB ? 3 : 2;
    if (a->npos < need) return ig_tmpl_fail(c, "re: expected %zu arguments", need);
    const char *pat = sval(a->pos[0]);
    const char *s = sval(a->pos[need - 1]);
    const char *repl = op == RE_SUB ? sval(a->pos[1]) : NULL;
    if (!pat || !s || (op == RE_SUB && !repl)) return ig_tmpl_fail(c, "re: the pattern and the text are strings");
    char *pp = py_to_posix(pat);
    regex_t re;
    int flags = REG_EXTENDED | (re_flag_icase(a, need) ? REG_ICASE : 0);
    int rc = regcomp(&re, pp, flags);
    free(pp);
    if (rc) {
        char msg[256];
        regerror(rc, &re, msg, sizeof msg);
        return ig_tmpl_fail(c, "re: bad pattern '%s': %s", pat, msg);
    }
    regmatch_t m[10];
    ig_rc r = 0;
    if (op == RE_MATCH || op == RE_SEARCH || op == RE_FULLMATCH) {
        int e = regexec(&re, s, 10, m, 0);
        bool ok = e == 0 && (op == RE_SEARCH || m[0].rm_so == 0) &&
                  (op != RE_FULLMATCH || (size_t)m[0].rm_eo == strlen(s));
        if (ok) {
            mobj *mo = ig_calloc(1, sizeof *mo);
            mo->s = ig_strdup(s);
            memcpy(mo->m, m, sizeof m);
            *out = ig_tmpl_object_new(&match_class, mo);
        } else *out = ig_tmpl_none();
    } else if (op == RE_FINDALL || op == RE_SPLIT || op == RE_SUB) {
        ig_tmpl_val l = ig_tmpl_list_new();
        ig_buf b = IG_BUF_INIT;
        const char *p = s;
        int eflags = 0;
        while (*p || p == s) {
            if (regexec(&re, p, 10, m, eflags) != 0) break;
            if (op == RE_FINDALL) {
                if (m[1].rm_so >= 0) ig_tmpl_list_append(l, ig_tmpl_strn(p + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so)));
                else ig_tmpl_list_append(l, ig_tmpl_strn(p + m[0].rm_so, (size_t)(m[0].rm_eo - m[0].rm_so)));
            } else if (op == RE_SPLIT) {
                ig_tmpl_list_append(l, ig_tmpl_strn(p, (size_t)m[0].rm_so));
            } else {
                ig_buf_append(&b, p, (size_t)m[0].rm_so);
                for (const char *r2 = repl; *r2; r2++) {
                    if (*r2 == '\\' && r2[1] >= '0' && r2[1] <= '9') {
                        int g = r2[1] - '0';
                        if (m[g].rm_so >= 0) ig_buf_append(&b, p + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
                        r2++;
                    } else ig_buf_putc(&b, *r2);
                }
            }
            size_t adv = (size_t)m[0].rm_eo;
            if (m[0].rm_eo == m[0].rm_so) {
                if (!p[adv]) {
                    p += adv;
                    break;
                }
                if (op == RE_SUB) ig_buf_putc(&b, p[adv]);
                adv++;
            }
            p += adv;
            eflags = REG_NOTBOL;
            if (!*p) break;
        }
        if (op == RE_SPLIT) ig_tmpl_list_append(l, ig_tmpl_str(p));
        if (op == RE_SUB) {
            ig_buf_puts(&b, p);
            ig_tmpl_unref(l);
            *out = ig_tmpl_str(ig_buf_cstr(&b));
        } else *out = l;
        ig_buf_free(&b);
    }
    regfree(&re);
    return r;
}

/* --------------------------------------------------------- json and yaml */

static ig_rc fn_fromjson(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    const char *s = a->npos ? sval(a->pos[0]) : NULL;
    json_error_t je;
    json_t *j = s ? json_loads(s, JSON_DECODE_ANY, &je) : NULL;
    if (!j) {
        *out = a->npos > 1 ? ig_tmpl_ref(a->pos[1]) : ig_tmpl_none();
        return 0;
    }
    *out = ig__tf_json_to_val(j);
    json_decref(j);
    return 0;
}

static ig_rc fn_tojson(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    static const char *const names[] = {"value", "default", "sort_keys", NULL};
    ig_tmpl_val v[3];
    if (ig_tmpl_bind(c, "tojson", a, names, 1, v)) return IG_ERR_TEMPLATE;
    ig_buf b = IG_BUF_INIT;
    bool sort = ig_tmpl_given(v[2]) && ig_tmpl_truthy(v[2]);
    if (ig_tmpl_to_json(v[0], &b, sort, -1) < 0) {
        ig_buf_free(&b);
        *out = ig_tmpl_given(v[1]) ? ig_tmpl_ref(v[1]) : ig_tmpl_none();
        return 0;
    }
    *out = ig_tmpl_str(ig_buf_cstr(&b));
    ig_buf_free(&b);
    return 0;
}

static ig_rc fn_fromyaml(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    const char *s = a->npos ? sval(a->pos[0]) : NULL;
    if (!s) {
        *out = ig_tmpl_none();
        return 0;
    }
    ig_arena *ar = ig_arena_new();
    ig_yaml *y;
    ig_error e;
    ig_yaml_options yo = {0};
    if (ig_yaml_parse(ar, "fromyaml", s, strlen(s), &yo, &y, &e)) {
        ig_arena_free(ar);
        *out = a->npos > 1 ? ig_tmpl_ref(a->pos[1]) : ig_tmpl_none();
        return 0;
    }
    json_t *j = ig__tf_yaml_to_json(y);
    ig_arena_free(ar);
    *out = ig__tf_json_to_val(j);
    json_decref(j);
    return 0;
}

static void yaml_scalar(ig_tmpl_val v, ig_buf *b)
{
    if (v.type == IG_TMPL_STR) {
        const char *s = ig_tmpl_str_ptr(v);
        bool plain = *s && !strpbrk(s, ":#{}[],&*!|>'\"%@`\n") && s[0] != ' ' && s[0] != '-' &&
                     s[strlen(s) - 1] != ' ' && strcasecmp(s, "true") && strcasecmp(s, "false") &&
                     strcasecmp(s, "null") && strcasecmp(s, "yes") && strcasecmp(s, "no");
        if (plain) {
            char *end;
            strtod(s, &end);
            if (!*end) plain = false;
        }
        if (plain) ig_buf_puts(b, s);
        else {
            ig_buf_putc(b, '\'');
            for (const char *p = s; *p; p++) {
                if (*p == '\'') ig_buf_putc(b, '\'');
                ig_buf_putc(b, *p);
            }
            ig_buf_putc(b, '\'');
        }
    } else if (v.type == IG_TMPL_NONE || v.type == IG_TMPL_UNDEFINED) ig_buf_puts(b, "null");
    else if (v.type == IG_TMPL_BOOL) ig_buf_puts(b, v.u.b ? "true" : "false");
    else ig_tmpl_to_str(v, b);
}

static void yaml_emit(ig_tmpl_val v, ig_buf *b, int indent, bool inline_first)
{
    bool seq = v.type == IG_TMPL_LIST || v.type == IG_TMPL_TUPLE;
    if (seq && ig_tmpl_list_len(v) == 0) {
        ig_buf_puts(b, "[]\n");
        return;
    }
    if (v.type == IG_TMPL_DICT && ig_tmpl_dict_len(v) == 0) {
        ig_buf_puts(b, "{}\n");
        return;
    }
    if (seq) {
        if (inline_first) ig_buf_putc(b, '\n');
        for (size_t i = 0; i < ig_tmpl_list_len(v); i++) {
            ig_buf_printf(b, "%*s- ", indent, "");
            ig_tmpl_val x = ig_tmpl_list_get(v, i);
            if (x.type == IG_TMPL_DICT && ig_tmpl_dict_len(x)) yaml_emit(x, b, indent + 2, false);
            else if ((x.type == IG_TMPL_LIST || x.type == IG_TMPL_TUPLE) && ig_tmpl_list_len(x))
                yaml_emit(x, b, indent + 2, true);
            else {
                yaml_scalar(x, b);
                ig_buf_putc(b, '\n');
            }
        }
    } else if (v.type == IG_TMPL_DICT) {
        if (inline_first) ig_buf_putc(b, '\n');
        ig_tmpl_val k, x;
        for (size_t i = 0; ig_tmpl_dict_entry(v, i, &k, &x); i++) {
            if (i || inline_first) ig_buf_printf(b, "%*s", indent, "");
            yaml_scalar(k, b);
            ig_buf_puts(b, ":");
            bool nested = (x.type == IG_TMPL_DICT && ig_tmpl_dict_len(x)) ||
                          ((x.type == IG_TMPL_LIST || x.type == IG_TMPL_TUPLE) && ig_tmpl_list_len(x));
            if (nested) yaml_emit(x, b, x.type == IG_TMPL_DICT ? indent + 2 : indent, true);
            else {
                ig_buf_putc(b, ' ');
                if (x.type == IG_TMPL_DICT) ig_buf_puts(b, "{}");
                else if (x.type == IG_TMPL_LIST || x.type == IG_TMPL_TUPLE) ig_buf_puts(b, "[]");
                else yaml_scalar(x, b);
                ig_buf_putc(b, '\n');
            }
        }
    } else {
        yaml_scalar(v, b);
        ig_buf_putc(b, '\n');
    }
}

static ig_rc fn_toyaml(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    if (!a->npos) return ig_tmpl_fail(c, "toyaml() takes a value");
    ig_buf b = IG_BUF_INIT;
    yaml_emit(a->pos[0], &b, 0, false);
    *out = ig_tmpl_str(ig_buf_cstr(&b));
    ig_buf_free(&b);
    return 0;
}

static ig_rc fn_md5(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    ig_buf s = IG_BUF_INIT;
    if (a->npos) ig_tmpl_to_str(a->pos[0], &s);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(s.data ? s.data : "", s.len, md, &n, EVP_md5(), NULL);
    ig_buf_free(&s);
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    for (unsigned i = 0; i < n; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    *out = ig_tmpl_strn(hex, 2 * n);
    return 0;
}

void ig__tf_add_modules(tf_thread *t)
{
    ig_tmpl_val mods = ig_tmpl_dict_new();
    ig_tmpl_val dtm_ = ig_tmpl_dict_new();
    ig_tmpl_dict_set(dtm_, "datetime", ig_tmpl_object_new(&cls_class, &datetime_cls));
    ig_tmpl_dict_set(dtm_, "date", ig_tmpl_object_new(&cls_class, &date_cls));
    ig_tmpl_dict_set(mods, "datetime", dtm_);
    ig_tmpl_val re = ig_tmpl_dict_new();
    static const struct {
        const char *name;
        int op;
    } ops[] = {{"match", RE_MATCH}, {"search", RE_SEARCH}, {"fullmatch", RE_FULLMATCH},
               {"sub", RE_SUB}, {"findall", RE_FINDALL}, {"split", RE_SPLIT}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        ig_tmpl_dict_set(re, ops[i].name, ig_tmpl_func_new(ops[i].name, fn_re, (void *)(intptr_t)ops[i].op));
    ig_tmpl_dict_set(re, "IGNORECASE", ig_tmpl_int(2));
    ig_tmpl_dict_set(re, "I", ig_tmpl_int(2));
    ig_tmpl_dict_set(mods, "re", re);
    ig_tmpl_env_set_global(t->env, "modules", mods);
    ig_tmpl_env_add_func(t->env, "fromjson", fn_fromjson, NULL);
    ig_tmpl_env_add_func(t->env, "tojson", fn_tojson, NULL);
    ig_tmpl_env_add_func(t->env, "fromyaml", fn_fromyaml, NULL);
    ig_tmpl_env_add_func(t->env, "toyaml", fn_toyaml, NULL);
    ig_tmpl_env_add_func(t->env, "local_md5", fn_md5, NULL);
}
