/* Cron expressions and fire-time computation in a time zone. */
#include "orchestrate/cron.h"

#include "core/str.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

typedef struct field {
    const char *name;
    int lo, hi;
    const char *const *names; /* names for lo.. */
} field;

static const field fields[5] = {
    {"minute", 0, 59, NULL},
    {"hour", 0, 23, NULL},
    {"day of month", 1, 31, NULL},
    {"month", 1, 12, month_names},
    {"day of week", 0, 7, day_names},
};

static ig_rc ferr(ig_error *err, const char *expr, const char *at, const field *f, const char *what)
{
    ig_err(err, IG_ERR_CONFIG, "cron '%s': %s field: %s", expr, f->name, what);
    if (err) err->column = (int)(at - expr) + 1;
    ig_err_hint(err, "a schedule is five fields 'minute hour day-of-month month day-of-week' "
                     "(e.g. '30 2 * * *'), or @hourly, @daily, @weekly, @monthly, @yearly");
    return IG_ERR_CONFIG;
}

/* Parse one value (number or name) at *p. */
static bool value(const char **p, const field *f, int *out)
{
    const char *s = *p;
    if (isdigit((unsigned char)*s)) {
        int v = 0;
        while (isdigit((unsigned char)*s) && v < 1000) v = v * 10 + (*s++ - '0');
        *out = v;
        *p = s;
        return true;
    }
    if (f->names && isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1]) &&
        isalpha((unsigned char)s[2])) {
        int n = f == &fields[3] ? 12 : 7;
        for (int i = 0; i < n; i++)
            if (!strncasecmp(s, f->names[i], 3)) {
                *out = f->lo + i;
                *p = s + 3;
                return true;
            }
    }
    return false;
}

static ig_rc parse_field(const char *expr, const char *start, const char *end, const field *f,
                         uint64_t *bits, bool *star, ig_error *err)
{
    *bits = 0;
    *star = false;
    const char *p = start;
    while (p < end) {
        const char *item = p;
        int lo, hi, step = 1;
        bool is_star = false;
        if (*p == '*') {
            lo = f->lo;
            hi = f->hi == 7 ? 6 : f->hi;
            p++;
            is_star = true;
        } else {
            if (!value(&p, f, &lo)) return ferr(err, expr, p, f, "expected a number, a range or '*'");
            hi = lo;
            if (*p == '-') {
                p++;
                if (!value(&p, f, &hi)) return ferr(err, expr, p, f, "expected the end of the range");
            }
        }
        if (*p == '/') {
            p++;
            if (!value(&p, &fields[0], &step) || step == 0)
                return ferr(err, expr, p, f, "expected a step number after '/'");
            if (!is_star && hi == lo) hi = f->hi == 7 ? 6 : f->hi; /* "5/15" means 5-max/15 */
        }
        if (lo < f->lo || lo > f->hi || hi < f->lo || hi > f->hi) {
            char what[96];
            snprintf(what, sizeof what, "value out of range (%d-%d)", f->lo, f->hi);
            return ferr(err, expr, item, f, what);
        }
        if (hi < lo) return ferr(err, expr, item, f, "range goes backwards");
        for (int v = lo; v <= hi; v += step) *bits |= (uint64_t)1 << (f->hi == 7 && v == 7 ? 0 : v);
        if (is_star && step == 1) *star = true;
        if (p < end) {
            if (*p != ',') return ferr(err, expr, p, f, "unexpected character");
            p++;
            if (p == end) return ferr(err, expr, p, f, "nothing after ','");
        }
    }
    return IG_OK;
}

static bool mday_wday_match(const ig_cron *c, unsigned mday, int wday)
{
    bool dm = c->mdays >> mday & 1, dw = c->wdays >> wday & 1;
    if (c->mday_star || c->wday_star) return dm && dw; /* one is '*': both must hold */
    return dm || dw;                                   /* both restricted: either (Vixie cron) */
}

static bool day_matches(const ig_cron *c, int64_t day)
{
    int y;
    unsigned m, d;
    ig_civil_from_days(day, &y, &m, &d);
    int wday = (int)(((day % 7) + 7 + 4) % 7);
    return (c->months >> m & 1) && mday_wday_match(c, d, wday);
}

ig_rc ig_cron_parse(const char *expr, ig_cron *out, ig_error *err)
{
    static const struct { const char *name, *expr; } macros[] = {
        {"@hourly", "0 * * * *"},  {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
        {"@weekly", "0 0 * * 0"},  {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
        {"@annually", "0 0 1 1 *"},
    };
    const char *src = expr;
    while (isspace((unsigned char)*src)) src++;
    if (*src == '@') {
        for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
            if (!strcasecmp(src, macros[i].name)) return ig_cron_parse(macros[i].expr, out, err);
        const char *names[7];
        for (size_t i = 0; i < 7; i++) names[i] = macros[i].name;
        ig_err(err, IG_ERR_CONFIG, "unknown schedule '%s'", expr);
        const char *s = ig_str_suggest(src, names, 7);
        if (s) ig_err_hint(err, "did you mean '%s'?", s);
        else ig_err_hint(err, "use five cron fields or @hourly, @daily, @weekly, @monthly, @yearly");
        return IG_ERR_CONFIG;
    }
    memset(out, 0, sizeof *out);
    const char *p = src;
    uint64_t bits[5];
    bool star[5];
    for (int i = 0; i < 5; i++) {
        while (isspace((unsigned char)*p)) p++;
        if (!*p) {
            ig_err(err, IG_ERR_CONFIG, "cron '%s': has %d field%s, needs 5 (minute hour "
                   "day-of-month month day-of-week)", expr, i, i == 1 ? "" : "s");
            return IG_ERR_CONFIG;
        }
        const char *s = p;
        while (*p && !isspace((unsigned char)*p)) p++;
        ig_rc rc = parse_field(expr, s, p, &fields[i], &bits[i], &star[i], err);
        if (rc) return rc;
    }
    while (isspace((unsigned char)*p)) p++;
    if (*p) {
        ig_err(err, IG_ERR_CONFIG, "cron '%s': more than 5 fields", expr);
        if (err) err->column = (int)(p - expr) + 1;
        return IG_ERR_CONFIG;
    }
    out->minutes = bits[0];
    out->hours = (uint32_t)bits[1];
    out->mdays = (uint32_t)bits[2];
    out->months = (uint16_t)bits[3];
    out->wdays = (uint8_t)bits[4];
    out->mday_star = star[2];
    out->wday_star = star[4];
    out->hour_star = star[1];
    /* a schedule that never fires: look for a matching day over 28 years
     * (the Gregorian weekday/leap cycle, which covers Feb 29 on each weekday) */
    bool any = false;
    int64_t d0 = ig_days_from_civil(2000, 1, 1);
    for (int64_t d = d0; d < d0 + 366 * 28 && !any; d++) any = day_matches(out, d);
    if (!any) {
        ig_err(err, IG_ERR_CONFIG, "cron '%s' never fires (no date matches its day and month "
               "fields)", expr);
        return IG_ERR_CONFIG;
    }
    return IG_OK;
}

#define SEARCH_DAYS (366 * 10)

static int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

/* The instant for local wall time `local` under the fixed-hour rule: in a
 * gap, shift forward by the gap's length; in an overlap, the first one. */
static int64_t resolve_local(const ig_tz *tz, int64_t local)
{
    int64_t out[2];
    int n = ig_tz_local_to_utc(tz, local, out);
    if (n >= 1) return out[0];
    /* in a gap: the offset before the gap applies to the wall time */
    int32_t before = ig_tz_offset(tz, local - ig_tz_offset(tz, local - 86400, NULL) - 3 * 3600, NULL);
    return local - before;
}

/* Fixed-hour schedules: walk local days. dir = +1 (next) or -1 (prev). */
static int64_t walk_local(const ig_cron *c, const ig_tz *tz, int64_t t, int dir)
{
    int64_t local_now = t + ig_tz_offset(tz, t, NULL);
    int64_t day = floor_div(local_now, 86400);
    for (int i = 0; i <= SEARCH_DAYS; i++, day += dir) {
        if (!day_matches(c, day)) continue;
        int64_t best = -1;
        for (int h = 0; h < 24; h++) {
            if (!(c->hours >> h & 1)) continue;
            for (int m = 0; m < 60; m++) {
                if (!(c->minutes >> m & 1)) continue;
                int64_t at = resolve_local(tz, day * 86400 + h * 3600 + m * 60);
                if (dir > 0 && at > t && (best < 0 || at < best)) best = at;
                if (dir < 0 && at < t && (best < 0 || at > best)) best = at;
            }
        }
        if (best >= 0) return best;
    }
    return -1;
}

/* Every-hour schedules: walk real minutes, matching the local fields. */
static int64_t walk_elapsed(const ig_cron *c, const ig_tz *tz, int64_t t, int dir)
{
    int64_t m = dir > 0 ? floor_div(t, 60) * 60 + 60 : floor_div(t - 1, 60) * 60;
    int64_t limit = (int64_t)SEARCH_DAYS * 1440;
    for (int64_t i = 0; i < limit; i++, m += dir * 60) {
        int64_t local = m + ig_tz_offset(tz, m, NULL);
        int64_t day = floor_div(local, 86400);
        if (!day_matches(c, day)) {
            /* jump to the edge of this local day */
            int64_t into = local - day * 86400;
            int64_t skip = dir > 0 ? 86400 - into : into + 60;
            m += dir * (skip - 60);
            continue;
        }
        int64_t sec = local - day * 86400;
        int h = (int)(sec / 3600), mi = (int)(sec % 3600 / 60);
        if ((c->hours >> h & 1) && (c->minutes >> mi & 1)) return m;
    }
    return -1;
}

int64_t ig_cron_next(const ig_cron *c, const ig_tz *tz, int64_t after)
{
    return c->hour_star ? walk_elapsed(c, tz, after, 1) : walk_local(c, tz, after, 1);
}

int64_t ig_cron_prev(const ig_cron *c, const ig_tz *tz, int64_t before)
{
    return c->hour_star ? walk_elapsed(c, tz, before, -1) : walk_local(c, tz, before, -1);
}
