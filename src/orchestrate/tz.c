/* A reader of TZif files (RFC 8536, versions 1 to 4) and of the POSIX TZ
 * rule in their footer, which gives the offsets after the last listed
 * transition. */
#include "orchestrate/tz.h"

#include "core/fs.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

typedef struct ttinfo {
    int32_t utoff;
    bool dst;
} ttinfo;

/* A POSIX rule: std offset, optional dst offset and the two transition
 * rules (Mm.w.d/time or Jn/time or n/time). */
typedef struct rule_date {
    char kind; /* 'M', 'J', 'n' */
    int m, w, d; /* for M: month, week (1-5), weekday (0=Sun); J/n: day in d */
    int32_t time; /* seconds after local midnight */
} rule_date;

typedef struct posix_rule {
    bool valid, has_dst;
    int32_t std_off, dst_off; /* UTC offsets, east positive */
    rule_date start, end;
} posix_rule;

struct ig_tz {
    char *name;
    size_t ntrans;
    int64_t *trans;   /* transition instants, ascending */
    uint8_t *idx;     /* type index per transition */
    size_t ntypes;
    ttinfo *types;
    posix_rule rule;
};

int64_t ig_days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void ig_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400) + (*m <= 2);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

/* --- POSIX TZ strings: "CET-1CEST,M3.5.0,M10.5.0/3", "<+03>-3", "EST5EDT,M3.2.0,M11.1.0" */

static const char *parse_name(const char *p)
{
    if (*p == '<') {
        while (*p && *p != '>') p++;
        return *p ? p + 1 : NULL;
    }
    const char *s = p;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) p++;
    return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] -> seconds */
static const char *parse_hms(const char *p, int32_t *out)
{
    int sign = 1;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    if (*p < '0' || *p > '9') return NULL;
    int32_t h = 0, m = 0, s = 0;
    while (*p >= '0' && *p <= '9') h = h * 10 + (*p++ - '0');
    if (*p == ':') {
        p++;
        while (*p >= '0' && *p <= '9') m = m * 10 + (*p++ - '0');
        if (*p == ':') {
            p++;
            while (*p >= '0' && *p <= '9') s = s * 10 + (*p++ - '0');
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return p;
}

static const char *parse_date(const char *p, rule_date *r)
{
    r->time = 7200;
    if (*p == 'M') {
        r->kind = 'M';
        p++;
        r->m = (int)strtol(p, (char **)&p, 10);
        if (*p++ != '.') return NULL;
        r->w = (int)strtol(p, (char **)&p, 10);
        if (*p++ != '.') return NULL;
        r->d = (int)strtol(p, (char **)&p, 10);
        if (r->m < 1 || r->m > 12 || r->w < 1 || r->w > 5 || r->d < 0 || r->d > 6) return NULL;
    } else if (*p == 'J') {
        r->kind = 'J';
        p++;
        r->d = (int)strtol(p, (char **)&p, 10);
    } else if (*p >= '0' && *p <= '9') {
        r->kind = 'n';
        r->d = (int)strtol(p, (char **)&p, 10);
    } else {
        return NULL;
    }
    if (*p == '/') p = parse_hms(p + 1, &r->time);
    return p;
}

static void parse_posix(const char *s, posix_rule *r)
{
    memset(r, 0, sizeof *r);
    const char *p = parse_name(s);
    if (!p) return;
    int32_t off;
    p = parse_hms(p, &off);
    if (!p) return;
    r->std_off = -off; /* POSIX offsets are west positive */
    r->valid = true;
    if (!*p) return;
    const char *q = parse_name(p);
    if (!q) return;
    p = q;
    r->dst_off = r->std_off + 3600;
    if (*p && *p != ',') {
        p = parse_hms(p, &off);
        if (!p) { r->valid = false; return; }
        r->dst_off = -off;
    }
    if (*p != ',') { r->valid = false; return; }
    p = parse_date(p + 1, &r->start);
    if (!p || *p != ',') { r->valid = false; return; }
    p = parse_date(p + 1, &r->end);
    if (!p) { r->valid = false; return; }
    r->has_dst = true;
}

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Local day number (days since epoch) of a rule date in year y. */
static int64_t rule_day(const rule_date *r, int y)
{
    if (r->kind == 'M') {
        int64_t first = ig_days_from_civil(y, (unsigned)r->m, 1);
        int wd = (int)(((first % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday (4) */
        int64_t day = first + ((r->d - wd + 7) % 7) + (int64_t)(r->w - 1) * 7;
        static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int len = mdays[r->m - 1] + (r->m == 2 && leap(y));
        while (day - first >= len) day -= 7;
        return day;
    }
    int64_t jan1 = ig_days_from_civil(y, 1, 1);
    if (r->kind == 'J') /* 1..365, Feb 29 never counted */
        return jan1 + r->d - 1 + (leap(y) && r->d >= 60);
    return jan1 + r->d; /* 0..365 */
}

static int32_t rule_offset(const posix_rule *r, int64_t utc, bool *dst)
{
    if (!r->has_dst) {
        if (dst) *dst = false;
        return r->std_off;
    }
    int y;
    unsigned m, d;
    ig_civil_from_days((utc + r->std_off) / 86400 - ((utc + r->std_off) % 86400 < 0), &y, &m, &d);
    /* DST starts at local standard time, ends at local daylight time */
    int64_t start = rule_day(&r->start, y) * 86400 + r->start.time - r->std_off;
    int64_t end = rule_day(&r->end, y) * 86400 + r->end.time - r->dst_off;
    bool in = start < end ? (utc >= start && utc < end) : !(utc >= end && utc < start);
    if (dst) *dst = in;
    return in ? r->dst_off : r->std_off;
}

static ig_rc bad(const char *name, ig_error *err)
{
    return ig_err(err, IG_ERR_CONFIG, "time zone '%s': the zoneinfo file is malformed", name);
}

static ig_rc parse_tzif(ig_tz *tz, const unsigned char *data, size_t len, ig_error *err)
{
    if (len < 44 || memcmp(data, "TZif", 4)) return bad(tz->name, err);
    int version = data[4];
    const unsigned char *p = data;
    size_t timesize = 4;
    for (int pass = 0; pass < 2; pass++) {
        if ((size_t)(p - data) + 44 > len) return bad(tz->name, err);
        uint32_t isutcnt = be32(p + 20), isstdcnt = be32(p + 24), leapcnt = be32(p + 28);
        uint32_t timecnt = be32(p + 32), typecnt = be32(p + 36), charcnt = be32(p + 40);
        size_t body = timecnt * timesize + timecnt + typecnt * 6 + charcnt +
                      leapcnt * (timesize + 4) + isstdcnt + isutcnt;
        const unsigned char *b = p + 44;
        if ((size_t)(b - data) + body > len || typecnt == 0 || typecnt > 256 || timecnt > 100000)
            return bad(tz->name, err);
        if (pass == 0 && version >= '2') {
            p = b + body; /* skip the 32-bit section */
            timesize = 8;
            continue;
        }
        tz->ntrans = timecnt;
        tz->trans = ig_malloc((timecnt ? timecnt : 1) * sizeof(int64_t));
        tz->idx = ig_malloc(timecnt ? timecnt : 1);
        for (uint32_t i = 0; i < timecnt; i++)
            tz->trans[i] = timesize == 8 ? be64(b + i * 8) : (int32_t)be32(b + i * 4);
        const unsigned char *ix = b + timecnt * timesize;
        for (uint32_t i = 0; i < timecnt; i++) {
            if (ix[i] >= typecnt) return bad(tz->name, err);
            tz->idx[i] = ix[i];
        }
        const unsigned char *tt = ix + timecnt;
        tz->ntypes = typecnt;
        tz->types = ig_malloc(typecnt * sizeof(ttinfo));
        for (uint32_t i = 0; i < typecnt; i++) {
            tz->types[i].utoff = (int32_t)be32(tt + i * 6);
            tz->types[i].dst = tt[i * 6 + 4] != 0;
        }
        const unsigned char *footer = b + body;
        if (timesize == 8 && footer < data + len && *footer == '\n') {
            const unsigned char *e = memchr(footer + 1, '\n', (size_t)(data + len - footer - 1));
            if (e) {
                char rule[128];
                size_t n = (size_t)(e - footer - 1);
                if (n < sizeof rule) {
                    memcpy(rule, footer + 1, n);
                    rule[n] = '\0';
                    parse_posix(rule, &tz->rule);
                }
            }
        }
        break;
    }
    return IG_OK;
}

ig_rc ig_tz_load(const char *name, ig_tz **out, ig_error *err)
{
    ig_tz *tz = ig_calloc(1, sizeof *tz);
    tz->name = ig_strdup(name);
    if (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC") || !strcmp(name, "GMT")) {
        tz->types = ig_calloc(1, sizeof(ttinfo));
        tz->ntypes = 1;
        tz->trans = ig_malloc(sizeof(int64_t));
        tz->idx = ig_malloc(1);
        tz->rule.valid = true;
        *out = tz;
        return IG_OK;
    }
    if (!*name || name[0] == '/' || strstr(name, "..")) {
        ig_tz_free(tz);
        return ig_err(err, IG_ERR_CONFIG, "'%s' is not a time zone name", name);
    }
    const char *dir = getenv("TZDIR");
    char *path = ig_path_join(dir && *dir ? dir : "/usr/share/zoneinfo", name);
    char *data;
    size_t len;
    ig_rc rc = ig_fs_read(path, 1 << 20, &data, &len, err);
    free(path);
    if (rc) {
        ig_tz_free(tz);
        ig_err(err, IG_ERR_CONFIG, "unknown time zone '%s'", name);
        ig_err_hint(err, "use an IANA name such as 'UTC', 'Europe/Berlin' or 'America/New_York' "
                         "(is the tzdata package installed?)");
        return IG_ERR_CONFIG;
    }
    rc = parse_tzif(tz, (unsigned char *)data, len, err);
    free(data);
    if (rc) {
        ig_tz_free(tz);
        return rc;
    }
    *out = tz;
    return IG_OK;
}

void ig_tz_free(ig_tz *tz)
{
    if (!tz) return;
    free(tz->name);
    free(tz->trans);
    free(tz->idx);
    free(tz->types);
    free(tz);
}

const char *ig_tz_name(const ig_tz *tz) { return tz->name; }

int32_t ig_tz_offset(const ig_tz *tz, int64_t utc, bool *is_dst)
{
    if (tz->ntrans == 0 || utc >= tz->trans[tz->ntrans - 1]) {
        if (tz->rule.valid && (tz->ntrans == 0 || utc >= tz->trans[tz->ntrans - 1]))
            return rule_offset(&tz->rule, utc, is_dst);
        const ttinfo *t = &tz->types[tz->ntrans ? tz->idx[tz->ntrans - 1] : 0];
        if (is_dst) *is_dst = t->dst;
        return t->utoff;
    }
    if (utc < tz->trans[0]) {
        /* before the first transition: the first non-DST type */
        size_t i = 0;
        while (i < tz->ntypes && tz->types[i].dst) i++;
        const ttinfo *t = &tz->types[i < tz->ntypes ? i : 0];
        if (is_dst) *is_dst = t->dst;
        return t->utoff;
    }
    size_t lo = 0, hi = tz->ntrans; /* find the last transition <= utc */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (tz->trans[mid] <= utc) lo = mid;
        else hi = mid;
    }
    const ttinfo *t = &tz->types[tz->idx[lo]];
    if (is_dst) *is_dst = t->dst;
    return t->utoff;
}

int ig_tz_local_to_utc(const ig_tz *tz, int64_t local, int64_t out[2])
{
    /* Offsets anywhere are within +-26h; try the offsets in force around
     * the candidate instants and keep those that round-trip. */
    int n = 0;
    int32_t seen[4];
    int nseen = 0;
    for (int64_t probe = local - 26 * 3600; probe <= local + 26 * 3600; probe += 13 * 3600) {
        int32_t off = ig_tz_offset(tz, probe, NULL);
        bool dup = false;
        for (int i = 0; i < nseen; i++) dup |= seen[i] == off;
        if (dup || nseen == 4) continue;
        seen[nseen++] = off;
    }
    /* also the offsets right at local - off for each seen offset */
    for (int i = 0; i < nseen; i++) {
        int64_t cand = local - seen[i];
        if (ig_tz_offset(tz, cand, NULL) != seen[i]) continue;
        bool dup = false;
        for (int k = 0; k < n; k++) dup |= out[k] == cand;
        if (!dup && n < 2) out[n++] = cand;
    }
    if (n == 2 && out[0] > out[1]) {
        int64_t t = out[0];
        out[0] = out[1];
        out[1] = t;
    }
    return n;
}
