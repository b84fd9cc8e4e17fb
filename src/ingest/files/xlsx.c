/* XLSX reader on libzip + expat. The zip is opened once; each XML part is
 * read with zip_fread in CHUNK-sized pieces and pushed through an expat
 * parser, so no part is ever held whole in memory. Small parts (rels,
 * workbook, styles, shared strings) are parsed to the end into tables; a
 * worksheet's parser suspends (XML_StopParser resumable) at every </row>
 * that has values, hands the row out, and resumes on the next call. Every
 * byte decompressed is counted against the book's limits (zip bombs), every
 * buffer that grows from the file has a cap, DOCTYPEs are refused (no
 * entity tricks) and element nesting is bounded. See docs/internals/xlsx.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strtod_l, when built outside the Makefile (fuzz/) */
#endif
#include "ingest/files/xlsx.h"

#include "core/arena.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/str.h"

#include <errno.h>
#include <expat.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zip.h>

#define CHUNK (64 * 1024)
#define STACK_MAX 256
#define MAX_RELS 65536
#define MAX_NUMFMTS 65536
#define SCAN_DEFAULT 20
#define SCAN_MAX 100

/* What a number format makes of a number. */
enum { FMT_NONE = 0, FMT_DATE, FMT_DATETIME, FMT_TIME, FMT_ELAPSED };

typedef struct rel {
    const char *id, *type, *target; /* target resolved to a zip entry name */
} rel;

struct ig_xlsx_book {
    zip_t *zip;
    ig_arena *arena; /* names, parts, rels: live as long as the book */
    char *name;      /* path or caller's name, for errors */
    ig_xlsx_limits lim;
    uint64_t total; /* decompressed bytes of distinct entries read so far */
    struct hw { zip_uint64_t idx; uint64_t bytes; } *hw; /* per entry read: most bytes */
    size_t nhw, hw_alloc;
    bool date1904;
    ig_xlsx_sheet_info *sheets;
    size_t nsheets;
    const char *sst_part, *styles_part;
    uint8_t *xf_kind; /* FMT_* per cellXfs entry */
    size_t nxf;
    bool sst_loaded;
    ig_buf sst_text;  /* strings, each NUL-terminated */
    size_t *sst_off;  /* start of each string in sst_text */
    size_t nsst, sst_alloc;
    int open_sheets;
};

/* One XML part being read: the zip entry, its expat parser, the element
 * stack and the hooks of the part's own parser. */
typedef struct part part;
struct part {
    ig_xlsx_book *book;
    const char *name; /* zip entry */
    const char *what; /* "sheet 'Data'" etc., prefixes errors; "" for none */
    zip_file_t *zf;
    XML_Parser xp;
    uint64_t comp, read, fed, last_event;
    size_t hw; /* slot in book->hw */
    int depth;
    uint8_t stack[STACK_MAX];
    bool failed, suspended, final, done, ended;
    ig_rc rc;
    ig_error *err;
    /* hooks: start returns the kind to push for the element */
    int (*start)(part *p, const char *local, const char **atts);
    void (*end)(part *p, int kind);
    void (*text)(part *p, const char *s, int len);
    void *ctx;
};

typedef struct cellrec {
    uint32_t col;
    ig_xlsx_type type;
    double number;
    const char *ext; /* borrowed text (shared strings, literals) or NULL */
    size_t off, len; /* in the row text buffer when ext is NULL */
    size_t seq;      /* order in the file, to keep the last of duplicates */
} cellrec;

struct ig_xlsx_sheet {
    ig_xlsx_book *book;
    const ig_xlsx_sheet_info *info;
    part p;
    char what[300];
    /* the row being built */
    ig_buf text; /* texts of the row's cells, capped at max_row_bytes */
    cellrec *recs;
    size_t nrecs, recs_alloc;
    ig_xlsx_cell *cells;
    size_t cells_alloc;
    ig_xlsx_row row;
    uint32_t prev_row, next_col;
    bool row_ready, in_row;
    /* the cell being built */
    uint32_t col;
    char t;       /* 'n' 's' 'i'(inlineStr) 'f'(str) 'b' 'e' 'd' */
    uint32_t style;
    bool has_v, has_is;
    ig_buf val; /* capped at max_cell_bytes */
    /* header look-ahead */
    bool started;
    ig_arena *arena;
    ig_xlsx_row *queue;
    size_t qn, qhead;
    ig_xlsx_row *header; /* in the book's arena: outlives the sheet */
    ig_rc sticky;
};

/* ---------------------------------------------------------------- limits */

void ig_xlsx_limits_default(ig_xlsx_limits *l)
{
    l->max_total_bytes = 1ull << 30;
    l->max_entry_bytes = 1ull << 30;
    l->max_ratio = 100;
    l->ratio_min_bytes = 8ull << 20;
    l->max_sst_bytes = 256ull << 20;
    l->max_sst_count = 16u << 20;
    l->max_cell_bytes = 1u << 20;
    l->max_row_bytes = 64ull << 20;
    l->max_depth = 128;
    l->max_token_bytes = 16u << 20;
    l->max_sheets = 10000;
    l->max_styles = 1u << 20;
}

static void limits_fill(ig_xlsx_limits *out, const ig_xlsx_limits *in)
{
    ig_xlsx_limits_default(out);
    if (!in) return;
#define TAKE(f) if (in->f) out->f = in->f
    TAKE(max_total_bytes); TAKE(max_entry_bytes); TAKE(max_ratio); TAKE(ratio_min_bytes);
    TAKE(max_sst_bytes); TAKE(max_sst_count); TAKE(max_cell_bytes); TAKE(max_row_bytes);
    TAKE(max_depth); TAKE(max_token_bytes); TAKE(max_sheets); TAKE(max_styles);
#undef TAKE
    if (out->max_depth > STACK_MAX - 1) out->max_depth = STACK_MAX - 1;
}

/* ------------------------------------------------------------ small bits */

const char *ig_xlsx_type_name(ig_xlsx_type t)
{
    static const char *names[] = {"empty", "number", "string", "bool",
                                  "date",  "datetime", "time", "error"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

void ig_xlsx_col_name(uint32_t col, char buf[4])
{
    char tmp[4];
    int n = 0;
    if (col >= IG_XLSX_MAX_COLS) col = IG_XLSX_MAX_COLS - 1;
    uint32_t c = col + 1;
    while (c && n < 3) {
        tmp[n++] = (char)('A' + (c - 1) % 26);
        c = (c - 1) / 26;
    }
    for (int i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
}

bool ig_xlsx_parse_ref(const char *ref, uint32_t *col, uint32_t *row)
{
    const char *s = ref;
    uint32_t c = 0, r = 0;
    int nl = 0, nd = 0;
    for (; (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'); s++) {
        if (++nl > 3) return false;
        c = c * 26 + (uint32_t)((*s | 0x20) - 'a' + 1);
    }
    for (; *s >= '0' && *s <= '9'; s++) {
        if (++nd > 7) return false;
        r = r * 10 + (uint32_t)(*s - '0');
    }
    if (*s || nl == 0 || c > IG_XLSX_MAX_COLS) return false;
    if (row) {
        if (nd == 0 || r < 1 || r > IG_XLSX_MAX_ROWS) return false;
        *row = r;
    } else if (nd) {
        if (r < 1 || r > IG_XLSX_MAX_ROWS) return false;
    }
    *col = c - 1;
    return true;
}

/* Days from 1970-01-01 to y-m-d and back (H. Hinnant's algorithms). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static void fmt_time(int64_t ms, char *buf, size_t size)
{
    int64_t s = ms / 1000, frac = ms % 1000;
    int n = snprintf(buf, size, "%02d:%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60),
                     (int)(s % 60));
    if (frac && n > 0 && (size_t)n < size) snprintf(buf + n, size - (size_t)n, ".%03d", (int)frac);
}

bool ig_xlsx_serial_to_iso(double serial, bool date1904, bool date_only, char *buf, size_t size)
{
    if (!isfinite(serial) || serial < 0 || serial >= 2958466.0) return false;
    int64_t total = llround(serial * 86400000.0);
    int64_t days = total / 86400000, ms = total % 86400000;
    int64_t y, m, d;
    if (date1904) {
        civil_from_days(days_from_civil(1904, 1, 1) + days, &y, &m, &d);
    } else if (days == 60) {
        y = 1900, m = 2, d = 29; /* Lotus 1-2-3's leap day, kept by Excel */
    } else {
        int64_t base = days < 60 ? days_from_civil(1899, 12, 31) : days_from_civil(1899, 12, 30);
        civil_from_days(base + days, &y, &m, &d);
    }
    if (y > 9999) return false;
    int n = snprintf(buf, size, "%04d-%02d-%02d", (int)y, (int)m, (int)d);
    if (!date_only && n > 0 && (size_t)n + 1 < size) {
        buf[n] = 'T';
        fmt_time(ms, buf + n + 1, size - (size_t)n - 1);
    }
    return true;
}

/* Number text as Excel writes it, in the C locale whatever the process's. */
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;
static void c_locale_init(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

static bool parse_number(const char *s, double *out)
{
    const char *q = s;
    while (*q == ' ') q++;
    const char *start = q;
    if (*q == '-' || *q == '+') q++;
    int digits = 0;
    while (*q >= '0' && *q <= '9') q++, digits++;
    if (*q == '.') {
        q++;
        while (*q >= '0' && *q <= '9') q++, digits++;
    }
    if (!digits) return false;
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '-' || *q == '+') q++;
        if (!(*q >= '0' && *q <= '9')) return false;
        while (*q >= '0' && *q <= '9') q++;
    }
    const char *end = q;
    while (*q == ' ') q++;
    if (*q) return false;
    pthread_once(&c_locale_once, c_locale_init);
    char *e;
    double v = c_locale ? strtod_l(start, &e, c_locale) : strtod(start, &e);
    if (e != end || !isfinite(v)) return false;
    *out = v;
    return true;
}

/* Decode OOXML's _xHHHH_ escapes of characters XML cannot carry, in place
 * ("_x000D_" is a CR; "_x005F_" escapes a literal underscore). U+0000 and
 * surrogates stay as written. Returns the new length. */
static size_t decode_escapes(char *s, size_t n)
{
    size_t r = 0, w = 0;
    while (r < n) {
        if (s[r] == '_' && r + 6 < n && s[r + 1] == 'x' && s[r + 6] == '_') {
            unsigned cp = 0;
            bool ok = true;
            for (int i = 2; i < 6; i++) {
                char c = s[r + i];
                unsigned v = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                             : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                             : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                                    : 16u;
                if (v > 15) ok = false;
                cp = cp * 16 + v;
            }
            if (ok && cp && !(cp >= 0xD800 && cp <= 0xDFFF)) {
                if (cp < 0x80) {
                    s[w++] = (char)cp;
                } else if (cp < 0x800) {
                    s[w++] = (char)(0xC0 | cp >> 6);
                    s[w++] = (char)(0x80 | (cp & 0x3F));
                } else {
                    s[w++] = (char)(0xE0 | cp >> 12);
                    s[w++] = (char)(0x80 | (cp >> 6 & 0x3F));
                    s[w++] = (char)(0x80 | (cp & 0x3F));
                }
                r += 7;
                continue;
            }
        }
        s[w++] = s[r++];
    }
    s[w] = '\0';
    return w;
}

static const char *attr(const char **atts, const char *local)
{
    for (int i = 0; atts[i]; i += 2) {
        const char *c = strrchr(atts[i], ':');
        if (strcmp(c ? c + 1 : atts[i], local) == 0) return atts[i + 1];
    }
    return NULL;
}

static bool truthy(const char *v) { return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0); }

static bool parse_u32(const char *s, uint32_t *out)
{
    if (!s || !*s) return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 0xFFFFFFFFull / 10) return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v > 0xFFFFFFFFull) return false;
    *out = (uint32_t)v;
    return true;
}

/* ---------------------------------------------------- number formats */

static int builtin_format(uint32_t id)
{
    if (id >= 14 && id <= 17) return FMT_DATE;
    if (id >= 18 && id <= 21) return FMT_TIME;
    if (id == 22) return FMT_DATETIME;
    if (id == 45 || id == 47) return FMT_TIME;
    if (id == 46) return FMT_ELAPSED;
    return FMT_NONE;
}

/* Classify a format code by its date/time tokens, skipping quoted text,
 * escaped and fill characters, and [...] colours, locales and conditions
 * ([h] [mm] [ss] are elapsed time). "m" is minutes after "h" or before
 * "s", else month. Only the first section (up to ';') counts. */
static int classify_format(const char *code)
{
    char tok[64];
    int ntok = 0;
    bool elapsed = false;
    for (const char *c = code; *c && *c != ';'; c++) {
        char l = (char)(*c | 0x20);
        if (*c == '"') {
            c++;
            while (*c && *c != '"') c++;
            if (!*c) break;
        } else if (*c == '\\' || *c == '_' || *c == '*') {
            if (!c[1]) break;
            c++;
        } else if (*c == '[') {
            const char *e = strchr(c, ']');
            if (!e) break;
            size_t n = (size_t)(e - c - 1);
            char first = (char)(c[1] | 0x20);
            bool all = n > 0 && (first == 'h' || first == 'm' || first == 's');
            for (size_t i = 1; all && i <= n; i++) all = (char)(c[i] | 0x20) == first;
            if (all) {
                elapsed = true;
                if (ntok < 64) tok[ntok++] = first;
            }
            c = e;
        } else if (strncasecmp(c, "AM/PM", 5) == 0) {
            c += 4;
        } else if (strncasecmp(c, "A/P", 3) == 0) {
            c += 2;
        } else if (l == 'y' || l == 'm' || l == 'd' || l == 'h' || l == 's') {
            size_t run = 1;
            while ((char)(c[run] | 0x20) == l) run++;
            if (ntok < 64) tok[ntok++] = l == 'm' && run >= 3 ? 'M' : l; /* 'M': month name */
            c += run - 1;
        }
    }
    bool date = false, time = false;
    for (int i = 0; i < ntok; i++) {
        switch (tok[i]) {
        case 'y': case 'd': case 'M': date = true; break;
        case 'h': case 's': time = true; break;
        case 'm':
            if ((i > 0 && tok[i - 1] == 'h') || (i + 1 < ntok && tok[i + 1] == 's')) time = true;
            else date = true;
            break;
        }
    }
    if (elapsed && !date) return FMT_ELAPSED;
    if (date && time) return FMT_DATETIME;
    if (date) return FMT_DATE;
    if (time) return FMT_TIME;
    return FMT_NONE;
}

/* ------------------------------------------------------------ parts */

static ig_rc book_err(ig_xlsx_book *b, ig_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static ig_rc book_err(ig_xlsx_book *b, ig_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ig_verr(err, code, fmt, ap);
    va_end(ap);
    ig_err_at(err, b->name, 0, 0);
    return code;
}

/* Fail from inside an expat callback: fill the error, stop the parser. */
static void part_fail(part *p, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void part_fail(part *p, int code, const char *fmt, ...)
{
    if (p->failed) return;
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ig_err(p->err, code, "%s%s%s", p->what, *p->what ? ": " : "", msg);
    ig_err_detail(p->err, "in %s, line %lu, column %lu", p->name,
                  (unsigned long)XML_GetCurrentLineNumber(p->xp),
                  (unsigned long)XML_GetCurrentColumnNumber(p->xp) + 1);
    ig_err_at(p->err, p->book->name, 0, 0);
    p->failed = true;
    p->rc = code;
    XML_StopParser(p->xp, XML_FALSE);
}

static void note(part *p)
{
    XML_Index i = XML_GetCurrentByteIndex(p->xp);
    if (i >= 0) p->last_event = (uint64_t)i;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    part *p = ud;
    if (p->failed) return;
    note(p);
    if (p->depth >= (int)p->book->lim.max_depth) {
        part_fail(p, IG_ERR_LIMIT, "XML nested more than %u elements deep",
                  p->book->lim.max_depth);
        return;
    }
    const char *c = strrchr(name, ':');
    int kind = p->start ? p->start(p, c ? c + 1 : name, atts) : 0;
    p->stack[p->depth++] = (uint8_t)kind;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    part *p = ud;
    (void)name;
    if (p->failed || p->depth <= 0) return;
    note(p);
    int kind = p->stack[--p->depth];
    if (p->end) p->end(p, kind);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    part *p = ud;
    if (p->failed) return;
    note(p);
    if (p->text && p->depth > 0) p->text(p, s, len);
}

static void XMLCALL on_other(void *ud, const XML_Char *s, int len)
{
    (void)s, (void)len;
    note(ud);
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal;
    part_fail(ud, IG_ERR_DATA, "a DOCTYPE is not allowed in a workbook part");
}

static int part_top(const part *p) { return p->depth > 0 ? p->stack[p->depth - 1] : 0; }

/* Find a zip entry by name, exactly or ignoring case (OPC part names are
 * case-insensitive). -1 when absent. */
static zip_int64_t locate(ig_xlsx_book *b, const char *name)
{
    zip_int64_t i = zip_name_locate(b->zip, name, 0);
    if (i < 0) i = zip_name_locate(b->zip, name, ZIP_FL_NOCASE);
    return i;
}

/* Open part `name` for parsing. IG_ERR_NOT_FOUND when the entry is absent
 * (the caller decides whether that is an error worth its own message). */
static ig_rc part_open(ig_xlsx_book *b, part *p, const char *name, const char *what,
                       ig_error *err)
{
    memset(p, 0, sizeof *p);
    p->book = b;
    p->name = name;
    p->what = what ? what : "";
    p->err = err;
    zip_int64_t idx = locate(b, name);
    if (idx < 0) return book_err(b, err, IG_ERR_NOT_FOUND, "%s is missing from the zip", name);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(b->zip, (zip_uint64_t)idx, 0, &st) == 0) {
        if (st.valid & ZIP_STAT_COMP_SIZE) p->comp = st.comp_size;
        if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
            book_err(b, err, IG_ERR_DATA, "%s is encrypted", name);
            ig_err_hint(err, "remove the password in Excel and save the workbook again");
            return IG_ERR_DATA;
        }
        if ((st.valid & ZIP_STAT_SIZE) && st.size > b->lim.max_entry_bytes) {
            book_err(b, err, IG_ERR_LIMIT,
                     "%s would decompress to %llu bytes, more than the limit of %llu", name,
                     (unsigned long long)st.size, (unsigned long long)b->lim.max_entry_bytes);
            ig_err_hint(err, "the file may be a zip bomb; raise max_entry_bytes if it is genuine");
            return IG_ERR_LIMIT;
        }
    }
    for (p->hw = 0; p->hw < b->nhw && b->hw[p->hw].idx != (zip_uint64_t)idx; p->hw++) {
    }
    if (p->hw == b->nhw) {
        if (b->nhw == b->hw_alloc) {
            b->hw_alloc = b->hw_alloc ? b->hw_alloc * 2 : 16;
            b->hw = ig_realloc(b->hw, b->hw_alloc * sizeof *b->hw);
        }
        b->hw[b->nhw++] = (struct hw){(zip_uint64_t)idx, 0};
    }
    p->zf = zip_fopen_index(b->zip, (zip_uint64_t)idx, 0);
    if (!p->zf) {
        book_err(b, err, IG_ERR_DATA, "cannot read %s: %s", name, zip_strerror(b->zip));
        ig_err_hint(err, "the file may be damaged or truncated");
        return IG_ERR_DATA;
    }
    p->xp = XML_ParserCreate(NULL);
    if (!p->xp) {
        zip_fclose(p->zf);
        p->zf = NULL;
        return book_err(b, err, IG_ERR_INTERNAL, "out of memory creating an XML parser");
    }
    XML_SetUserData(p->xp, p);
    XML_SetElementHandler(p->xp, on_start, on_end);
    XML_SetCharacterDataHandler(p->xp, on_text);
    XML_SetDefaultHandlerExpand(p->xp, on_other);
    XML_SetStartDoctypeDeclHandler(p->xp, on_doctype);
    return 0;
}

static void part_close(part *p)
{
    if (p->xp) XML_ParserFree(p->xp);
    if (p->zf) zip_fclose(p->zf);
    p->xp = NULL;
    p->zf = NULL;
}

static ig_rc part_limit(part *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static ig_rc part_limit(part *p, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    book_err(p->book, p->err, IG_ERR_LIMIT, "%s: %s", p->name, msg);
    ig_err_hint(p->err, "the file may be a zip bomb; if it is a genuine workbook, raise the "
                        "xlsx limits");
    p->failed = true;
    p->rc = IG_ERR_LIMIT;
    return IG_ERR_LIMIT;
}

/* Count n more decompressed bytes against the entry's and the book's caps. */
static ig_rc part_account(part *p, uint64_t n)
{
    const ig_xlsx_limits *l = &p->book->lim;
    p->read += n;
    struct hw *hw = &p->book->hw[p->hw];
    if (p->read > hw->bytes) { /* a part read again counts once */
        p->book->total += p->read - hw->bytes;
        hw->bytes = p->read;
    }
    if (p->read > l->max_entry_bytes)
        return part_limit(p, "decompresses to more than %llu bytes (max_entry_bytes)",
                          (unsigned long long)l->max_entry_bytes);
    if (p->book->total > l->max_total_bytes)
        return part_limit(p, "the workbook decompresses to more than %llu bytes (max_total_bytes)",
                          (unsigned long long)l->max_total_bytes);
    if (p->read >= l->ratio_min_bytes &&
        (p->comp == 0 || p->read / p->comp >= l->max_ratio))
        return part_limit(p, "expands more than %u times (%llu bytes from %llu compressed; "
                             "max_ratio)",
                          l->max_ratio, (unsigned long long)p->read,
                          (unsigned long long)p->comp);
    return 0;
}

/* Feed the parser until it suspends (returns 1: a row is ready), reaches
 * the end of the part (0 with p->done) or fails (an ig_rc). */
static int part_pump(part *p)
{
    for (;;) {
        if (p->failed) return p->rc;
        if (p->done) return 0;
        enum XML_Status st;
        if (p->suspended) {
            p->suspended = false;
            st = XML_ResumeParser(p->xp);
        } else {
            void *buf = XML_GetBuffer(p->xp, CHUNK);
            if (!buf) return book_err(p->book, p->err, IG_ERR_INTERNAL, "out of memory in XML parser");
            zip_int64_t n = zip_fread(p->zf, buf, CHUNK);
            if (n < 0) {
                book_err(p->book, p->err, IG_ERR_DATA, "cannot read %s: %s", p->name,
                         zip_file_strerror(p->zf));
                ig_err_hint(p->err, "the file may be damaged or truncated");
                p->failed = true;
                return p->rc = IG_ERR_DATA;
            }
            ig_rc rc = part_account(p, (uint64_t)n);
            if (rc) return rc;
            p->fed += (uint64_t)n;
            p->final = n == 0;
            st = XML_ParseBuffer(p->xp, (int)n, p->final);
        }
        if (p->failed) return p->rc;
        if (st == XML_STATUS_ERROR) {
            if (p->ended) {
                p->done = true;
                return 0;
            }
            enum XML_Error code = XML_GetErrorCode(p->xp);
            book_err(p->book, p->err, IG_ERR_DATA, "%s%s%s:%lu:%lu: malformed XML: %s", p->what,
                     *p->what ? ": " : "", p->name,
                     (unsigned long)XML_GetCurrentLineNumber(p->xp),
                     (unsigned long)XML_GetCurrentColumnNumber(p->xp) + 1, XML_ErrorString(code));
            ig_err_hint(p->err, "the workbook is damaged; open it in Excel and save it again");
            p->failed = true;
            return p->rc = IG_ERR_DATA;
        }
        if (st == XML_STATUS_SUSPENDED) {
            p->suspended = true;
            return 1;
        }
        if (p->final) {
            p->done = true;
            return 0;
        }
        if (p->fed - p->last_event > p->book->lim.max_token_bytes)
            return part_limit(p, "an XML tag, comment or name longer than %u bytes "
                                 "(max_token_bytes)",
                              p->book->lim.max_token_bytes);
    }
}

/* Parse a whole small part with the hooks already set. */
static ig_rc part_run(part *p)
{
    int r = part_pump(p);
    part_close(p);
    return r < 0 ? IG_ERR_INTERNAL : r;
}

/* Resolve a relationship target against the directory of its source part
 * ("xl/"): "/xl/x.xml" is absolute, "../x.xml" climbs. */
static char *resolve(ig_arena *a, const char *base_dir, const char *target)
{
    ig_buf path = IG_BUF_INIT;
    if (target[0] != '/') {
        ig_buf_puts(&path, base_dir);
    }
    ig_buf_puts(&path, target);
    /* normalise segments */
    char *s = path.data ? path.data : (char *)"";
    char *out = ig_arena_alloc(a, strlen(s) + 1);
    size_t w = 0;
    char *save = NULL;
    for (char *seg = strtok_r(s, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, ".") == 0) continue;
        if (strcmp(seg, "..") == 0) {
            while (w > 0 && out[w - 1] != '/') w--;
            if (w > 0) w--;
            continue;
        }
        if (w) out[w++] = '/';
        size_t n = strlen(seg);
        memcpy(out + w, seg, n);
        w += n;
    }
    out[w] = '\0';
    ig_buf_free(&path);
    return out;
}

/* --------------------------------------------------------------- rels */

typedef struct rels_ctx {
    rel *v;
    size_t n, alloc;
    const char *base_dir;
} rels_ctx;

static int rels_start(part *p, const char *local, const char **atts)
{
    rels_ctx *c = p->ctx;
    if (strcmp(local, "Relationship") != 0) return 0;
    const char *id = attr(atts, "Id"), *type = attr(atts, "Type"), *target = attr(atts, "Target");
    const char *mode = attr(atts, "TargetMode");
    if (!id || !type || !target || (mode && strcmp(mode, "External") == 0)) return 0;
    if (c->n >= MAX_RELS) {
        part_fail(p, IG_ERR_LIMIT, "more than %d relationships", MAX_RELS);
        return 0;
    }
    if (c->n == c->alloc) {
        c->alloc = c->alloc ? c->alloc * 2 : 16;
        rel *nv = ig_arena_alloc(p->book->arena, c->alloc * sizeof *nv);
        if (c->n) memcpy(nv, c->v, c->n * sizeof *nv);
        c->v = nv;
    }
    ig_arena *a = p->book->arena;
    c->v[c->n].id = ig_arena_strdup(a, id);
    c->v[c->n].type = ig_arena_strdup(a, type);
    c->v[c->n].target = resolve(a, c->base_dir, target);
    c->n++;
    return 0;
}

/* Read the rels of part `src` ("xl/workbook.xml" -> "xl/_rels/workbook.xml.rels";
 * "" for the package's "_rels/.rels"). A missing rels part is no rels. */
static ig_rc read_rels(ig_xlsx_book *b, const char *src, rels_ctx *c, ig_error *err)
{
    memset(c, 0, sizeof *c);
    const char *slash = strrchr(src, '/');
    size_t dirlen = slash ? (size_t)(slash - src + 1) : 0;
    char *dir = ig_arena_strndup(b->arena, src, dirlen);
    char *relname = ig_arena_printf(b->arena, "%s_rels/%s.rels", dir, src + dirlen);
    c->base_dir = dir;
    part p;
    ig_rc rc = part_open(b, &p, relname, NULL, err);
    if (rc == IG_ERR_NOT_FOUND) {
        ig_error_clear(err);
        return 0;
    }
    if (rc) return rc;
    p.start = rels_start;
    p.ctx = c;
    return part_run(&p);
}

static const rel *rel_by_type(const rels_ctx *c, const char *suffix)
{
    for (size_t i = 0; i < c->n; i++)
        if (ig_str_ends(c->v[i].type, suffix)) return &c->v[i];
    return NULL;
}

static const rel *rel_by_id(const rels_ctx *c, const char *id)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].id, id) == 0) return &c->v[i];
    return NULL;
}

/* ----------------------------------------------------------- workbook */

enum { WB_OTHER = 0, WB_SHEETS };

typedef struct wb_sheet {
    const char *name, *rid;
    bool hidden;
} wb_sheet;

typedef struct wb_ctx {
    wb_sheet *v;
    size_t n, alloc;
} wb_ctx;

static int wb_start(part *p, const char *local, const char **atts)
{
    wb_ctx *c = p->ctx;
    ig_xlsx_book *b = p->book;
    if (strcmp(local, "workbookPr") == 0) {
        b->date1904 = truthy(attr(atts, "date1904"));
    } else if (strcmp(local, "sheets") == 0) {
        return WB_SHEETS;
    } else if (strcmp(local, "sheet") == 0 && part_top(p) == WB_SHEETS) {
        const char *name = attr(atts, "name"), *rid = attr(atts, "id");
        const char *state = attr(atts, "state");
        if (!name || !*name) {
            part_fail(p, IG_ERR_DATA, "a <sheet> has no name");
            return 0;
        }
        if (c->n >= b->lim.max_sheets) {
            part_fail(p, IG_ERR_LIMIT, "more than %u sheets (max_sheets)", b->lim.max_sheets);
            return 0;
        }
        if (c->n == c->alloc) {
            c->alloc = c->alloc ? c->alloc * 2 : 8;
            wb_sheet *nv = ig_arena_alloc(b->arena, c->alloc * sizeof *nv);
            if (c->n) memcpy(nv, c->v, c->n * sizeof *nv);
            c->v = nv;
        }
        c->v[c->n].name = ig_arena_strdup(b->arena, name);
        c->v[c->n].rid = rid ? ig_arena_strdup(b->arena, rid) : NULL;
        c->v[c->n].hidden = state && strcmp(state, "visible") != 0;
        c->n++;
    }
    return 0;
}

/* ------------------------------------------------------------- styles */

enum { ST_OTHER = 0, ST_NUMFMTS, ST_CELLXFS };

typedef struct styles_ctx {
    uint32_t *fmt_id;   /* custom numFmt ids ... */
    uint8_t *fmt_kind;  /* ... and their kinds */
    size_t nfmt;
    uint32_t *xf_fmt;   /* numFmtId of each cellXfs entry */
    size_t nxf, xf_alloc;
} styles_ctx;

static int styles_start(part *p, const char *local, const char **atts)
{
    styles_ctx *c = p->ctx;
    const ig_xlsx_limits *l = &p->book->lim;
    if (strcmp(local, "numFmts") == 0) return ST_NUMFMTS;
    if (strcmp(local, "cellXfs") == 0) return ST_CELLXFS;
    if (strcmp(local, "numFmt") == 0 && part_top(p) == ST_NUMFMTS) {
        uint32_t id;
        const char *code = attr(atts, "formatCode");
        if (!parse_u32(attr(atts, "numFmtId"), &id) || !code) return 0;
        if (c->nfmt >= MAX_NUMFMTS) {
            part_fail(p, IG_ERR_LIMIT, "more than %d number formats", MAX_NUMFMTS);
            return 0;
        }
        if (!c->fmt_id) {
            c->fmt_id = ig_malloc(MAX_NUMFMTS * sizeof *c->fmt_id);
            c->fmt_kind = ig_malloc(MAX_NUMFMTS);
        }
        c->fmt_id[c->nfmt] = id;
        c->fmt_kind[c->nfmt++] = (uint8_t)classify_format(code);
    } else if (strcmp(local, "xf") == 0 && part_top(p) == ST_CELLXFS) {
        uint32_t id = 0;
        parse_u32(attr(atts, "numFmtId"), &id);
        if (c->nxf >= l->max_styles) {
            part_fail(p, IG_ERR_LIMIT, "more than %u cell formats (max_styles)", l->max_styles);
            return 0;
        }
        if (c->nxf == c->xf_alloc) {
            c->xf_alloc = c->xf_alloc ? c->xf_alloc * 2 : 64;
            c->xf_fmt = ig_realloc(c->xf_fmt, c->xf_alloc * sizeof *c->xf_fmt);
        }
        c->xf_fmt[c->nxf++] = id;
    }
    return 0;
}

static ig_rc read_styles(ig_xlsx_book *b, ig_error *err)
{
    if (!b->styles_part) return 0;
    part p;
    ig_rc rc = part_open(b, &p, b->styles_part, NULL, err);
    if (rc == IG_ERR_NOT_FOUND) { /* no styles: nothing is a date */
        ig_error_clear(err);
        return 0;
    }
    if (rc) return rc;
    styles_ctx c;
    memset(&c, 0, sizeof c);
    p.start = styles_start;
    p.ctx = &c;
    rc = part_run(&p);
    if (!rc && c.nxf) {
        b->xf_kind = ig_arena_alloc(b->arena, c.nxf);
        b->nxf = c.nxf;
        for (size_t i = 0; i < c.nxf; i++) {
            int k = builtin_format(c.xf_fmt[i]);
            for (size_t j = c.nfmt; j-- > 0;) /* the last definition wins */
                if (c.fmt_id[j] == c.xf_fmt[i]) {
                    k = c.fmt_kind[j];
                    break;
                }
            b->xf_kind[i] = (uint8_t)k;
        }
    }
    free(c.fmt_id);
    free(c.fmt_kind);
    free(c.xf_fmt);
    return rc;
}

/* ----------------------------------------------------- shared strings */

enum { SS_OTHER = 0, SS_SI, SS_R, SS_T };

typedef struct sst_ctx {
    ig_buf val;
} sst_ctx;

static int sst_start(part *p, const char *local, const char **atts)
{
    ig_xlsx_book *b = p->book;
    sst_ctx *c = p->ctx;
    int top = part_top(p);
    if (strcmp(local, "sst") == 0) {
        uint32_t n;
        if (parse_u32(attr(atts, "uniqueCount"), &n) && n > b->lim.max_sst_count)
            part_fail(p, IG_ERR_LIMIT,
                      "the shared strings table declares %u strings, more than the limit "
                      "of %u (max_sst_count)",
                      n, b->lim.max_sst_count);
        return 0;
    }
    if (strcmp(local, "si") == 0) {
        ig_buf_reset(&c->val);
        return SS_SI;
    }
    if (strcmp(local, "r") == 0 && top == SS_SI) return SS_R;
    if (strcmp(local, "t") == 0 && (top == SS_SI || top == SS_R)) return SS_T;
    return SS_OTHER; /* rPh (phonetic runs) and run properties are skipped */
}

static void sst_text_hook(part *p, const char *s, int len)
{
    sst_ctx *c = p->ctx;
    if (part_top(p) != SS_T) return;
    if (ig_buf_append(&c->val, s, (size_t)len))
        part_fail(p, IG_ERR_LIMIT, "shared string %zu is longer than %u bytes (max_cell_bytes)",
                  p->book->nsst, p->book->lim.max_cell_bytes);
}

static void sst_end(part *p, int kind)
{
    ig_xlsx_book *b = p->book;
    sst_ctx *c = p->ctx;
    if (kind != SS_SI) return;
    if (b->nsst >= b->lim.max_sst_count) {
        part_fail(p, IG_ERR_LIMIT, "more than %u shared strings (max_sst_count)",
                  b->lim.max_sst_count);
        return;
    }
    size_t n = c->val.len ? decode_escapes(c->val.data, c->val.len) : 0;
    size_t off = b->sst_text.len;
    if (ig_buf_append(&b->sst_text, n ? c->val.data : "", n) || ig_buf_putc(&b->sst_text, '\0')) {
        part_fail(p, IG_ERR_LIMIT, "the shared strings take more than %llu bytes (max_sst_bytes)",
                  (unsigned long long)b->lim.max_sst_bytes);
        return;
    }
    if (b->nsst == b->sst_alloc) {
        b->sst_alloc = b->sst_alloc ? b->sst_alloc * 2 : 256;
        b->sst_off = ig_realloc(b->sst_off, b->sst_alloc * sizeof *b->sst_off);
    }
    b->sst_off[b->nsst++] = off;
}

static ig_rc load_sst(ig_xlsx_book *b, ig_error *err)
{
    if (b->sst_loaded) return 0;
    b->sst_loaded = true;
    ig_buf_init(&b->sst_text, b->lim.max_sst_bytes);
    if (!b->sst_part) return 0;
    part p;
    ig_rc rc = part_open(b, &p, b->sst_part, NULL, err);
    if (rc == IG_ERR_NOT_FOUND) {
        ig_error_clear(err);
        return 0;
    }
    if (rc) return rc;
    sst_ctx c;
    ig_buf_init(&c.val, b->lim.max_cell_bytes);
    p.start = sst_start;
    p.end = sst_end;
    p.text = sst_text_hook;
    p.ctx = &c;
    rc = part_run(&p);
    ig_buf_free(&c.val);
    if (rc) { /* leave the table empty rather than half-filled */
        b->nsst = 0;
        b->sst_loaded = false;
        ig_buf_free(&b->sst_text);
    }
    return rc;
}

/* --------------------------------------------------------------- book */

/* Say what a file that is not an XLSX zip is, from its first bytes. */
static void sniff_hint(const unsigned char *m, size_t n, ig_error *err)
{
    static const unsigned char ole[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
    if (n == 0)
        ig_err_hint(err, "the file is empty");
    else if (n >= 8 && memcmp(m, ole, 8) == 0)
        ig_err_hint(err, "this is an OLE2 file: a legacy .xls workbook or a password-protected "
                         "workbook; save it from Excel as .xlsx without a password");
    else if (n >= 4 && memcmp(m, "PK", 2) == 0)
        ig_err_hint(err, "the zip archive is damaged or truncated; copy the file again");
    else
        ig_err_hint(err, "an .xlsx file is a zip archive; this one is something else (CSV? "
                         "HTML?)");
}

static ig_rc book_finish_open(ig_xlsx_book *b, ig_error *err)
{
    rels_ctx pkg;
    ig_rc rc = read_rels(b, "", &pkg, err);
    if (rc) return rc;
    const rel *doc = rel_by_type(&pkg, "/officeDocument");
    const char *wbpart = doc ? doc->target : "xl/workbook.xml";
    if (locate(b, wbpart) < 0) {
        rc = book_err(b, err, IG_ERR_DATA, "not an XLSX workbook: the zip has no %s", wbpart);
        if (locate(b, "xl/workbook.bin") >= 0)
            ig_err_hint(err, "this is a binary workbook (.xlsb); save it from Excel as .xlsx");
        else if (locate(b, "content.xml") >= 0)
            ig_err_hint(err, "this is an OpenDocument file (.ods); save it as .xlsx");
        else if (locate(b, "word/document.xml") >= 0)
            ig_err_hint(err, "this is a Word document, not a workbook");
        else if (locate(b, "ppt/presentation.xml") >= 0)
            ig_err_hint(err, "this is a PowerPoint presentation, not a workbook");
        else
            ig_err_hint(err, "check that this is an Excel .xlsx file");
        return rc;
    }
    rels_ctx wrels;
    if ((rc = read_rels(b, wbpart, &wrels, err))) return rc;
    const rel *r = rel_by_type(&wrels, "/sharedStrings");
    b->sst_part = r ? r->target : (locate(b, "xl/sharedStrings.xml") >= 0 ? "xl/sharedStrings.xml" : NULL);
    r = rel_by_type(&wrels, "/styles");
    b->styles_part = r ? r->target : (locate(b, "xl/styles.xml") >= 0 ? "xl/styles.xml" : NULL);

    part p;
    if ((rc = part_open(b, &p, wbpart, NULL, err))) return rc;
    wb_ctx wc;
    memset(&wc, 0, sizeof wc);
    p.start = wb_start;
    p.ctx = &wc;
    if ((rc = part_run(&p))) return rc;
    b->sheets = ig_arena_zalloc(b->arena, (wc.n ? wc.n : 1) * sizeof *b->sheets);
    b->nsheets = wc.n;
    for (size_t i = 0; i < wc.n; i++) {
        ig_xlsx_sheet_info *s = &b->sheets[i];
        s->name = wc.v[i].name;
        s->hidden = wc.v[i].hidden;
        const rel *sr = wc.v[i].rid ? rel_by_id(&wrels, wc.v[i].rid) : NULL;
        s->part = sr ? sr->target : NULL;
        s->kind = !sr || ig_str_ends(sr->type, "/worksheet") ? IG_XLSX_WORKSHEET
                  : ig_str_ends(sr->type, "/chartsheet")     ? IG_XLSX_CHARTSHEET
                                                             : IG_XLSX_OTHERSHEET;
    }
    return read_styles(b, err);
}

static ig_xlsx_book *book_new(const char *name, const ig_xlsx_limits *limits)
{
    ig_xlsx_book *b = ig_calloc(1, sizeof *b);
    b->arena = ig_arena_new();
    b->name = ig_strdup(name ? name : "<memory>");
    limits_fill(&b->lim, limits);
    ig_buf_init(&b->sst_text, b->lim.max_sst_bytes);
    return b;
}

static ig_rc zip_open_error(ig_xlsx_book *b, int zerr, const unsigned char *magic, size_t n,
                            ig_error *err)
{
    zip_error_t ze;
    zip_error_init_with_code(&ze, zerr);
    if (zerr == ZIP_ER_NOZIP || zerr == ZIP_ER_INCONS) {
        book_err(b, err, IG_ERR_DATA, "not an XLSX file: %s", zip_error_strerror(&ze));
    } else if (zerr == ZIP_ER_OPEN || zerr == ZIP_ER_READ || zerr == ZIP_ER_SEEK) {
        book_err(b, err, IG_ERR_IO, "cannot read the file: %s", zip_error_strerror(&ze));
    } else {
        book_err(b, err, IG_ERR_DATA, "not a readable XLSX file: %s", zip_error_strerror(&ze));
    }
    zip_error_fini(&ze);
    if (err && err->code == IG_ERR_DATA) sniff_hint(magic, n, err);
    return err ? err->code : IG_ERR_DATA;
}

ig_rc ig_xlsx_open(const char *path, const ig_xlsx_limits *limits, ig_xlsx_book **book,
                   ig_error *err)
{
    *book = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        ig_err(err, e == ENOENT ? IG_ERR_NOT_FOUND : IG_ERR_IO, "cannot open %s: %s", path,
               strerror(e));
        ig_err_at(err, path, 0, 0);
        return e == ENOENT ? IG_ERR_NOT_FOUND : IG_ERR_IO;
    }
    if (S_ISDIR(st.st_mode)) {
        ig_err(err, IG_ERR_IO, "%s is a directory, not an XLSX file", path);
        ig_err_at(err, path, 0, 0);
        return IG_ERR_IO;
    }
    ig_xlsx_book *b = book_new(path, limits);
    int zerr = 0;
    b->zip = zip_open(path, ZIP_RDONLY, &zerr);
    if (!b->zip) {
        unsigned char magic[8];
        size_t n = 0;
        FILE *f = fopen(path, "rb");
        if (f) {
            n = fread(magic, 1, sizeof magic, f);
            fclose(f);
        }
        ig_rc rc = zip_open_error(b, zerr, magic, n, err);
        ig_xlsx_close(b);
        return rc;
    }
    ig_rc rc = book_finish_open(b, err);
    if (rc) {
        ig_xlsx_close(b);
        return rc;
    }
    *book = b;
    return 0;
}

ig_rc ig_xlsx_open_buffer(const void *data, size_t len, const char *name,
                          const ig_xlsx_limits *limits, ig_xlsx_book **book, ig_error *err)
{
    *book = NULL;
    ig_xlsx_book *b = book_new(name, limits);
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(len ? data : "", len, 0, &ze);
    if (src) {
        b->zip = zip_open_from_source(src, ZIP_RDONLY, &ze);
        if (!b->zip) zip_source_free(src);
    }
    if (!b->zip) {
        int zerr = zip_error_code_zip(&ze);
        zip_error_fini(&ze);
        ig_rc rc = zip_open_error(b, zerr, data, len < 8 ? len : 8, err);
        ig_xlsx_close(b);
        return rc;
    }
    zip_error_fini(&ze);
    ig_rc rc = book_finish_open(b, err);
    if (rc) {
        ig_xlsx_close(b);
        return rc;
    }
    *book = b;
    return 0;
}

void ig_xlsx_close(ig_xlsx_book *b)
{
    if (!b) return;
    if (b->zip) zip_discard(b->zip);
    ig_buf_free(&b->sst_text);
    free(b->sst_off);
    free(b->hw);
    ig_arena_free(b->arena);
    free(b->name);
    free(b);
}

size_t ig_xlsx_sheet_count(const ig_xlsx_book *b) { return b->nsheets; }

const ig_xlsx_sheet_info *ig_xlsx_sheet_at(const ig_xlsx_book *b, size_t i)
{
    return i < b->nsheets ? &b->sheets[i] : NULL;
}

bool ig_xlsx_date1904(const ig_xlsx_book *b) { return b->date1904; }

/* -------------------------------------------------------------- sheet */

enum { SH_OTHER = 0, SH_DATA, SH_ROW, SH_C, SH_V, SH_IS, SH_R, SH_T };

static void cell_ref(const ig_xlsx_sheet *s, char *buf, size_t size)
{
    char col[4];
    ig_xlsx_col_name(s->col, col);
    snprintf(buf, size, "%s%u", col, s->row.index);
}

static void row_begin(part *p, ig_xlsx_sheet *s, const char **atts)
{
    const char *r = attr(atts, "r");
    uint32_t idx;
    if (r) {
        if (!parse_u32(r, &idx) || idx < 1 || idx > IG_XLSX_MAX_ROWS) {
            part_fail(p, IG_ERR_DATA, "row number '%.40s' is out of range (1 to %u)", r,
                      IG_XLSX_MAX_ROWS);
            return;
        }
    } else {
        if (s->prev_row >= IG_XLSX_MAX_ROWS) {
            part_fail(p, IG_ERR_DATA, "more than %u rows", IG_XLSX_MAX_ROWS);
            return;
        }
        idx = s->prev_row + 1;
    }
    s->row.index = idx;
    s->prev_row = idx;
    s->next_col = 0;
    s->nrecs = 0;
    ig_buf_reset(&s->text);
    s->in_row = true;
}

static void cell_begin(part *p, ig_xlsx_sheet *s, const char **atts)
{
    const char *r = attr(atts, "r"), *t = attr(atts, "t"), *st = attr(atts, "s");
    if (r && *r) {
        uint32_t col, row;
        if (!ig_xlsx_parse_ref(r, &col, &row)) {
            part_fail(p, IG_ERR_DATA,
                      "cell reference '%.40s' is malformed or out of range (the last cell is "
                      "XFD1048576)",
                      r);
            return;
        }
        s->col = col;
    } else {
        if (s->next_col >= IG_XLSX_MAX_COLS) {
            part_fail(p, IG_ERR_DATA, "row %u has cells beyond column XFD", s->row.index);
            return;
        }
        s->col = s->next_col;
    }
    s->next_col = s->col + 1;
    if (!t || strcmp(t, "n") == 0) s->t = 'n';
    else if (strcmp(t, "s") == 0) s->t = 's';
    else if (strcmp(t, "inlineStr") == 0) s->t = 'i';
    else if (strcmp(t, "str") == 0) s->t = 'f';
    else if (strcmp(t, "b") == 0) s->t = 'b';
    else if (strcmp(t, "e") == 0) s->t = 'e';
    else if (strcmp(t, "d") == 0) s->t = 'd';
    else {
        char ref[16];
        cell_ref(s, ref, sizeof ref);
        part_fail(p, IG_ERR_DATA, "cell %s has an unknown type t=\"%.20s\"", ref, t);
        return;
    }
    s->style = 0;
    if (st) parse_u32(st, &s->style);
    s->has_v = s->has_is = false;
    ig_buf_reset(&s->val);
}

/* Add the finished cell to the row. */
static void cell_end(part *p, ig_xlsx_sheet *s)
{
    ig_xlsx_book *b = s->book;
    char ref[16]; /* filled only for an error message: snprintf per cell is costly */
#define REF (cell_ref(s, ref, sizeof ref), ref)
    bool has = s->t == 'i' ? s->has_is : s->has_v;
    if (!has) return;
    cellrec rec = {.col = s->col, .type = IG_XLSX_STRING, .seq = s->nrecs};
    char *v = s->val.data ? s->val.data : (char *)"";
    size_t vlen = s->val.len;
    char iso[40];
    const char *copy = NULL; /* text to copy into the row buffer */
    size_t copylen = 0;
    switch (s->t) {
    case 's': {
        uint32_t i;
        if (!parse_u32(v, &i)) {
            part_fail(p, IG_ERR_DATA, "cell %s: shared string index '%.40s' is not a number", REF, v);
            return;
        }
        if (i >= b->nsst) {
            part_fail(p, IG_ERR_DATA,
                      "cell %s: shared string index %u is out of range (the table has %zu)", REF,
                      i, b->nsst);
            return;
        }
        rec.ext = b->sst_text.data + b->sst_off[i];
        rec.len = (i + 1 < b->nsst ? b->sst_off[i + 1] : b->sst_text.len) - b->sst_off[i] - 1;
        if (rec.len == 0) return;
        break;
    }
    case 'i':
    case 'f':
        copylen = vlen ? decode_escapes(v, vlen) : 0;
        copy = v;
        if (copylen == 0) return;
        break;
    case 'b':
        if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0) rec.number = 1;
        else if (strcmp(v, "0") != 0 && strcmp(v, "false") != 0) {
            part_fail(p, IG_ERR_DATA, "cell %s: boolean value '%.40s' is not 0 or 1", REF, v);
            return;
        }
        rec.type = IG_XLSX_BOOL;
        rec.ext = rec.number ? "TRUE" : "FALSE";
        rec.len = strlen(rec.ext);
        break;
    case 'e':
        if (vlen == 0) return;
        rec.type = IG_XLSX_ERROR;
        copy = v, copylen = vlen;
        break;
    case 'd':
        if (vlen == 0) return;
        rec.type = vlen == 10 ? IG_XLSX_DATE : IG_XLSX_DATETIME;
        copy = v, copylen = vlen;
        break;
    default: { /* 'n' */
        if (vlen == 0) return;
        if (!parse_number(v, &rec.number)) {
            part_fail(p, IG_ERR_DATA, "cell %s: '%.40s' is not a number", REF, v);
            return;
        }
        rec.type = IG_XLSX_NUMBER;
        copy = v, copylen = vlen;
        int kind = s->style < b->nxf ? b->xf_kind[s->style] : FMT_NONE;
        double x = rec.number;
        bool integral = x == floor(x);
        if (kind == FMT_TIME && x >= 0 && x < 1) {
            int64_t ms = llround(x * 86400000.0);
            if (ms >= 86400000) ms = 86400000 - 1;
            fmt_time(ms, iso, sizeof iso);
            rec.type = IG_XLSX_TIME;
            copy = iso, copylen = strlen(iso);
        } else if (kind == FMT_DATE || kind == FMT_DATETIME || kind == FMT_TIME) {
            bool date_only = kind == FMT_DATE && integral;
            if (ig_xlsx_serial_to_iso(x, b->date1904, date_only, iso, sizeof iso)) {
                rec.type = date_only ? IG_XLSX_DATE : IG_XLSX_DATETIME;
                copy = iso, copylen = strlen(iso);
            }
        }
    }
    }
    if (copy) {
        rec.off = s->text.len;
        rec.len = copylen;
        if (ig_buf_append(&s->text, copy, copylen) || ig_buf_putc(&s->text, '\0')) {
            part_fail(p, IG_ERR_LIMIT, "row %u holds more than %llu bytes of text (max_row_bytes)",
                      s->row.index, (unsigned long long)b->lim.max_row_bytes);
            return;
        }
    }
    if (s->nrecs >= IG_XLSX_MAX_COLS) {
        part_fail(p, IG_ERR_DATA, "row %u has more than %u cells", s->row.index, IG_XLSX_MAX_COLS);
        return;
    }
    if (s->nrecs == s->recs_alloc) {
        s->recs_alloc = s->recs_alloc ? s->recs_alloc * 2 : 32;
        s->recs = ig_realloc(s->recs, s->recs_alloc * sizeof *s->recs);
    }
    s->recs[s->nrecs++] = rec;
}
#undef REF

static int rec_cmp(const void *a, const void *b)
{
    const cellrec *x = a, *y = b;
    if (x->col != y->col) return x->col < y->col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Turn the finished row's records into cells and suspend the parser so
 * that ig_xlsx_next_row can hand the row out. */
static void row_end(part *p, ig_xlsx_sheet *s)
{
    s->in_row = false;
    if (s->nrecs == 0) return;
    bool sorted = true;
    for (size_t i = 1; i < s->nrecs && sorted; i++) sorted = s->recs[i - 1].col < s->recs[i].col;
    if (!sorted) { /* out of order or duplicates: order by column, keep the last written */
        if (s->nrecs) qsort(s->recs, s->nrecs, sizeof *s->recs, rec_cmp);
        size_t w = 0;
        for (size_t i = 0; i < s->nrecs; i++) {
            if (w && s->recs[w - 1].col == s->recs[i].col) w--;
            s->recs[w++] = s->recs[i];
        }
        s->nrecs = w;
    }
    if (s->nrecs > s->cells_alloc) {
        s->cells_alloc = s->nrecs < 32 ? 32 : s->nrecs * 2;
        s->cells = ig_realloc(s->cells, s->cells_alloc * sizeof *s->cells);
    }
    for (size_t i = 0; i < s->nrecs; i++) {
        const cellrec *r = &s->recs[i];
        ig_xlsx_cell *c = &s->cells[i];
        c->col = r->col;
        c->type = r->type;
        c->number = r->number;
        c->text = r->ext ? r->ext : s->text.data + r->off;
        c->len = r->len;
    }
    s->row.cells = s->cells;
    s->row.ncells = s->nrecs;
    s->row_ready = true;
    XML_StopParser(p->xp, XML_TRUE);
}

static int sheet_start(part *p, const char *local, const char **atts)
{
    ig_xlsx_sheet *s = p->ctx;
    int top = part_top(p);
    switch (local[0]) {
    case 's':
        if (strcmp(local, "sheetData") == 0) return SH_DATA;
        break;
    case 'r':
        if (strcmp(local, "row") == 0 && top == SH_DATA) {
            row_begin(p, s, atts);
            return SH_ROW;
        }
        if (strcmp(local, "r") == 0 && top == SH_IS) return SH_R;
        break;
    case 'c':
        if (strcmp(local, "c") == 0 && top == SH_ROW) {
            cell_begin(p, s, atts);
            return SH_C;
        }
        break;
    case 'v':
        if (strcmp(local, "v") == 0 && top == SH_C) {
            s->has_v = true;
            ig_buf_reset(&s->val);
            return SH_V;
        }
        break;
    case 'i':
        if (strcmp(local, "is") == 0 && top == SH_C) {
            s->has_is = true;
            return SH_IS;
        }
        break;
    case 't':
        if (strcmp(local, "t") == 0 && (top == SH_IS || top == SH_R)) return SH_T;
        break;
    }
    return SH_OTHER;
}

static void sheet_end(part *p, int kind)
{
    ig_xlsx_sheet *s = p->ctx;
    if (kind == SH_C) cell_end(p, s);
    else if (kind == SH_ROW) row_end(p, s);
    else if (kind == SH_DATA) { /* nothing after sheetData matters to us */
        p->ended = true;
        XML_StopParser(p->xp, XML_FALSE);
    }
}

static void sheet_text(part *p, const char *txt, int len)
{
    ig_xlsx_sheet *s = p->ctx;
    int top = part_top(p);
    if (top != SH_V && top != SH_T) return;
    if (ig_buf_append(&s->val, txt, (size_t)len)) {
        char ref[16];
        cell_ref(s, ref, sizeof ref);
        part_fail(p, IG_ERR_LIMIT, "cell %s holds more than %u bytes (max_cell_bytes)", ref,
                  s->book->lim.max_cell_bytes);
    }
}

/* Simple case folding for sheet-name look-up (Excel compares names without
 * case): ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic capitals. */
static uint32_t fold_cp(uint32_t c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7) ||
        (c >= 0x391 && c <= 0x3AB && c != 0x3A2) || (c >= 0x410 && c <= 0x42F))
        return c + 0x20;
    if (c >= 0x400 && c <= 0x40F) return c + 0x50;
    if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 &&
        c != 0x17F) {
        bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
        if (odd_upper ? (c & 1) : !(c & 1)) return c + 1;
    }
    return c;
}

static uint32_t next_cp(const unsigned char **s)
{
    const unsigned char *p = *s;
    uint32_t c = *p++;
    if (c >= 0xC0 && c < 0xE0 && (*p & 0xC0) == 0x80) c = (c & 0x1F) << 6 | (*p++ & 0x3F);
    *s = p;
    return c;
}

static bool name_eq_fold(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    while (*x && *y)
        if (fold_cp(next_cp(&x)) != fold_cp(next_cp(&y))) return false;
    return !*x && !*y;
}

static const ig_xlsx_sheet_info *find_sheet(ig_xlsx_book *b, const char *name, ig_error *err)
{
    if (!name) {
        for (size_t i = 0; i < b->nsheets; i++)
            if (b->sheets[i].kind == IG_XLSX_WORKSHEET) return &b->sheets[i];
        book_err(b, err, IG_ERR_NOT_FOUND, "the workbook has no worksheet");
        return NULL;
    }
    for (size_t i = 0; i < b->nsheets; i++)
        if (strcmp(b->sheets[i].name, name) == 0) return &b->sheets[i];
    for (size_t i = 0; i < b->nsheets; i++)
        if (name_eq_fold(b->sheets[i].name, name)) return &b->sheets[i];
    book_err(b, err, IG_ERR_NOT_FOUND, "no sheet named '%s' in the workbook", name);
    if (err) {
        ig_buf d = IG_BUF_INIT;
        ig_buf_init(&d, sizeof err->detail - 1);
        const char **names = ig_malloc((b->nsheets + 1) * sizeof *names);
        ig_buf_puts(&d, b->nsheets ? "its sheets are:" : "it has no sheets");
        for (size_t i = 0; i < b->nsheets; i++) {
            names[i] = b->sheets[i].name;
            if (ig_buf_printf(&d, "%s '%s'", i ? "," : "", names[i])) break;
        }
        ig_err_detail(err, "%s", ig_buf_cstr(&d));
        const char *near = ig_str_suggest(name, names, b->nsheets);
        if (near) ig_err_hint(err, "did you mean '%s'?", near);
        else ig_err_hint(err, "use one of the sheet names listed");
        free(names);
        ig_buf_free(&d);
    }
    return NULL;
}

ig_rc ig_xlsx_sheet_open(ig_xlsx_book *b, const char *name, ig_xlsx_sheet **out, ig_error *err)
{
    *out = NULL;
    const ig_xlsx_sheet_info *info = find_sheet(b, name, err);
    if (!info) return err ? err->code : IG_ERR_NOT_FOUND;
    if (info->kind != IG_XLSX_WORKSHEET) {
        book_err(b, err, IG_ERR_DATA, "sheet '%s' is a %s, it has no cells to read", info->name,
                 info->kind == IG_XLSX_CHARTSHEET ? "chart sheet" : "macro or dialog sheet");
        return IG_ERR_DATA;
    }
    if (!info->part) {
        book_err(b, err, IG_ERR_DATA, "sheet '%s' has no part in the workbook's relationships",
                 info->name);
        ig_err_hint(err, "the workbook is damaged; open it in Excel and save it again");
        return IG_ERR_DATA;
    }
    ig_rc rc = load_sst(b, err);
    if (rc) return rc;
    ig_xlsx_sheet *s = ig_calloc(1, sizeof *s);
    s->book = b;
    s->info = info;
    snprintf(s->what, sizeof s->what, "sheet '%s'", info->name);
    rc = part_open(b, &s->p, info->part, s->what, err);
    if (rc) {
        if (rc == IG_ERR_NOT_FOUND) {
            book_err(b, err, IG_ERR_DATA, "sheet '%s': its part %s is missing from the zip",
                     info->name, info->part);
            rc = IG_ERR_DATA;
        }
        free(s);
        return rc;
    }
    s->p.start = sheet_start;
    s->p.end = sheet_end;
    s->p.text = sheet_text;
    s->p.ctx = s;
    ig_buf_init(&s->text, b->lim.max_row_bytes);
    ig_buf_init(&s->val, b->lim.max_cell_bytes);
    b->open_sheets++;
    *out = s;
    return 0;
}

void ig_xlsx_sheet_close(ig_xlsx_sheet *s)
{
    if (!s) return;
    part_close(&s->p);
    ig_buf_free(&s->text);
    ig_buf_free(&s->val);
    free(s->recs);
    free(s->cells);
    ig_arena_free(s->arena);
    s->book->open_sheets--;
    free(s);
}

const char *ig_xlsx_sheet_name(const ig_xlsx_sheet *s) { return s->info->name; }

/* Next row straight from the XML, ignoring the look-ahead queue. */
static ig_rc next_raw(ig_xlsx_sheet *s, const ig_xlsx_row **row, ig_error *err)
{
    *row = NULL;
    if (s->sticky)
        return book_err(s->book, err, s->sticky, "sheet '%s' failed earlier; close and reopen it",
                        s->info->name);
    s->p.err = err;
    s->row_ready = false;
    int r = part_pump(&s->p);
    if (r < 0) r = IG_ERR_INTERNAL;
    if (r == 1 && s->row_ready) {
        *row = &s->row;
        return 0;
    }
    if (r > 1 || (r == 1 && !s->row_ready)) {
        s->sticky = r > 1 ? r : IG_ERR_INTERNAL;
        return s->sticky;
    }
    return 0;
}

ig_rc ig_xlsx_next_row(ig_xlsx_sheet *s, const ig_xlsx_row **row, ig_error *err)
{
    s->started = true;
    if (s->qhead < s->qn) {
        *row = &s->queue[s->qhead++];
        return 0;
    }
    return next_raw(s, row, err);
}

const ig_xlsx_cell *ig_xlsx_row_get(const ig_xlsx_row *row, uint32_t col)
{
    static const ig_xlsx_cell empty = {0, IG_XLSX_EMPTY, "", 0, 0};
    size_t lo = 0, hi = row->ncells;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (row->cells[mid].col == col) return &row->cells[mid];
        if (row->cells[mid].col < col) lo = mid + 1;
        else hi = mid;
    }
    return &empty;
}

/* ------------------------------------------------------------- header */

long ig_xlsx_pick_header(const ig_xlsx_row *rows, size_t n)
{
    size_t widest = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].ncells > widest) widest = rows[i].ncells;
    for (size_t i = 0; i < n; i++) {
        size_t ne = rows[i].ncells, strings = 0;
        if (ne == 0) continue;
        for (size_t j = 0; j < ne; j++)
            if (rows[i].cells[j].type == IG_XLSX_STRING && rows[i].cells[j].len > 0) strings++;
        if (strings * 2 <= ne) continue; /* mostly strings */
        if (ne * 2 < widest) continue;   /* a title or a note above the table */
        bool data_after = i + 1 == n;    /* last row looked at: the table may go on */
        for (size_t j = i + 1; j < n && !data_after; j++) data_after = rows[j].ncells > 0;
        if (data_after) return (long)i;
    }
    return -1;
}

static void row_copy(ig_arena *a, ig_xlsx_row *dst, const ig_xlsx_row *src)
{
    dst->index = src->index;
    dst->ncells = src->ncells;
    ig_xlsx_cell *cells = ig_arena_alloc(a, (src->ncells ? src->ncells : 1) * sizeof *cells);
    for (size_t i = 0; i < src->ncells; i++) {
        cells[i] = src->cells[i];
        cells[i].text = ig_arena_strndup(a, src->cells[i].text, src->cells[i].len);
    }
    dst->cells = cells;
}

ig_rc ig_xlsx_sheet_header(ig_xlsx_sheet *s, const ig_xlsx_header_opts *opts,
                           const ig_xlsx_row **header, ig_error *err)
{
    *header = NULL;
    if (s->started)
        return book_err(s->book, err, IG_ERR_USAGE,
                        "sheet '%s': the header must be found before reading rows", s->info->name);
    s->started = true;
    if (!s->arena) s->arena = ig_arena_new();
    uint32_t scan = opts && opts->scan_rows ? opts->scan_rows : SCAN_DEFAULT;
    if (scan > SCAN_MAX) scan = SCAN_MAX;
    uint32_t force = opts ? opts->force_row : 0;
    if (force > IG_XLSX_MAX_ROWS)
        return book_err(s->book, err, IG_ERR_USAGE, "header row %u is beyond the last row (%u)",
                        force, IG_XLSX_MAX_ROWS);
    s->queue = ig_arena_zalloc(s->arena, (force ? 1 : scan) * sizeof *s->queue);
    s->qn = s->qhead = 0;
    const ig_xlsx_row *r;
    ig_rc rc;
    s->header = ig_arena_zalloc(s->book->arena, sizeof *s->header);
    if (force) {
        s->header->index = force;
        for (;;) {
            if ((rc = next_raw(s, &r, err))) return rc;
            if (!r || r->index > force) break;
            if (r->index == force) {
                row_copy(s->book->arena, s->header, r);
                r = NULL;
                break;
            }
        }
        if (r) row_copy(s->arena, &s->queue[s->qn++], r); /* first data row, read past */
        *header = s->header;
        return 0;
    }
    while (s->qn < scan) {
        if ((rc = next_raw(s, &r, err))) return rc;
        if (!r) break;
        row_copy(s->arena, &s->queue[s->qn++], r);
    }
    long h = ig_xlsx_pick_header(s->queue, s->qn);
    if (h >= 0) {
        row_copy(s->book->arena, s->header, &s->queue[h]); /* lives as long as the book */
        s->qhead = (size_t)h + 1;
        *header = s->header;
    }
    return 0;
}
