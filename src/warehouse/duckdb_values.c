/* Decoding DuckDB vectors into ig_values and display text. Nested values
 * (lists, structs, maps, arrays, unions) are rendered as text the way the
 * DuckDB shell shows them: [1, 2], {'a': 1}, {k=v}. */
#include "warehouse/duckdb_values.h"

#include "core/mem.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_u128(ig_buf *b, unsigned __int128 v)
{
    char tmp[48];
    int i = (int)sizeof tmp;
    tmp[--i] = '\0';
    do {
        tmp[--i] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    ig_buf_puts(b, tmp + i);
}

static void put_i128(ig_buf *b, __int128 v)
{
    if (v < 0) {
        ig_buf_putc(b, '-');
        put_u128(b, (unsigned __int128)(-(v + 1)) + 1);
    } else {
        put_u128(b, (unsigned __int128)v);
    }
}

void ig__duck_put_double(ig_buf *b, double d)
{
    if (isnan(d)) { ig_buf_puts(b, "nan"); return; }
    if (isinf(d)) { ig_buf_puts(b, d > 0 ? "inf" : "-inf"); return; }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d) break;
    }
    ig_buf_puts(b, tmp);
}

static void put_decimal(ig_buf *b, __int128 v, int scale)
{
    if (scale == 0) { put_i128(b, v); return; }
    ig_buf digits = IG_BUF_INIT;
    bool neg = v < 0;
    put_u128(&digits, neg ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v);
    const char *s = ig_buf_cstr(&digits);
    size_t n = strlen(s);
    if (neg) ig_buf_putc(b, '-');
    if (n <= (size_t)scale) {
        ig_buf_puts(b, "0.");
        for (size_t i = n; i < (size_t)scale; i++) ig_buf_putc(b, '0');
        ig_buf_puts(b, s);
    } else {
        ig_buf_append(b, s, n - (size_t)scale);
        ig_buf_putc(b, '.');
        ig_buf_puts(b, s + n - (size_t)scale);
    }
    ig_buf_free(&digits);
}

static void put_date(ig_buf *b, int32_t days)
{
    if (days == INT32_MAX) { ig_buf_puts(b, "infinity"); return; }
    if (days == -INT32_MAX) { ig_buf_puts(b, "-infinity"); return; }
    duckdb_date_struct d = duckdb_from_date((duckdb_date){days});
    if (d.year <= 0) ig_buf_printf(b, "%04d-%02d-%02d (BC)", 1 - d.year, d.month, d.day);
    else ig_buf_printf(b, "%04d-%02d-%02d", d.year, d.month, d.day);
}

static void put_time(ig_buf *b, int64_t micros)
{
    duckdb_time_struct t = duckdb_from_time((duckdb_time){micros});
    ig_buf_printf(b, "%02d:%02d:%02d", t.hour, t.min, t.sec);
    if (t.micros) {
        char frac[8];
        snprintf(frac, sizeof frac, "%06d", t.micros);
        int n = 6;
        while (n > 0 && frac[n - 1] == '0') n--;
        ig_buf_printf(b, ".%.*s", n, frac);
    }
}

static void put_timestamp(ig_buf *b, int64_t micros, bool tz)
{
    if (micros == INT64_MAX) { ig_buf_puts(b, "infinity"); return; }
    if (micros == -INT64_MAX) { ig_buf_puts(b, "-infinity"); return; }
    int64_t days = micros / 86400000000LL, rem = micros % 86400000000LL;
    if (rem < 0) { rem += 86400000000LL; days--; }
    put_date(b, (int32_t)days);
    ig_buf_putc(b, ' ');
    put_time(b, rem);
    if (tz) ig_buf_puts(b, "+00");
}

static void put_interval(ig_buf *b, duckdb_interval iv)
{
    size_t start = b->len;
    int32_t years = iv.months / 12, months = iv.months % 12;
    if (years) ig_buf_printf(b, "%d year%s", years, years == 1 || years == -1 ? "" : "s");
    if (months) ig_buf_printf(b, "%s%d month%s", b->len > start ? " " : "", months, months == 1 || months == -1 ? "" : "s");
    if (iv.days) ig_buf_printf(b, "%s%d day%s", b->len > start ? " " : "", iv.days, iv.days == 1 || iv.days == -1 ? "" : "s");
    if (iv.micros || b->len == start) {
        if (b->len > start) ig_buf_putc(b, ' ');
        int64_t m = iv.micros;
        if (m < 0) { ig_buf_putc(b, '-'); m = -m; }
        ig_buf_printf(b, "%02" PRId64 ":%02" PRId64 ":%02" PRId64, (int64_t)(m / 3600000000LL),
                      (int64_t)((m / 60000000LL) % 60), (int64_t)((m / 1000000LL) % 60));
        if (m % 1000000LL) {
            char frac[8];
            snprintf(frac, sizeof frac, "%06" PRId64, (int64_t)(m % 1000000LL));
            int n = 6;
            while (n > 0 && frac[n - 1] == '0') n--;
            ig_buf_printf(b, ".%.*s", n, frac);
        }
    }
}

static void put_uuid(ig_buf *b, duckdb_hugeint h)
{
    uint64_t hi = (uint64_t)h.upper ^ ((uint64_t)1 << 63), lo = h.lower;
    ig_buf_printf(b, "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
                  hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF, lo >> 48, lo & (uint64_t)0xFFFFFFFFFFFF);
}

static void put_blob(ig_buf *b, const unsigned char *p, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x7F && c != '\\') ig_buf_putc(b, (char)c);
        else {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            ig_buf_append(b, e, 4);
        }
    }
}

static __int128 hugeint_val(duckdb_hugeint h)
{
    return (__int128)(((unsigned __int128)(uint64_t)h.upper << 64) | h.lower);
}

static void render(ig_buf *b, duckdb_vector vec, duckdb_logical_type lt, idx_t row, bool nested,
                   ig_value *out);

/* Decode row `row` of vec (of logical type lt) into *out (when not NULL)
 * and append its text to b. */
static void render(ig_buf *b, duckdb_vector vec, duckdb_logical_type lt, idx_t row, bool nested,
                   ig_value *out)
{
    uint64_t *validity = duckdb_vector_get_validity(vec);
    if (validity && !duckdb_validity_row_is_valid(validity, row)) {
        if (out) { out->is_null = true; out->type = IG_T_NULL; }
        if (nested) ig_buf_puts(b, "NULL");
        return;
    }
    ig_value tmp;
    ig_value *v = out ? out : &tmp;
    memset(v, 0, sizeof *v);
    void *data = duckdb_vector_get_data(vec);
    duckdb_type t = duckdb_get_type_id(lt);
    switch (t) {
    case DUCKDB_TYPE_BOOLEAN:
        v->type = IG_T_BOOL;
        v->b = ((bool *)data)[row];
        ig_buf_puts(b, v->b ? "true" : "false");
        break;
    case DUCKDB_TYPE_TINYINT: v->type = IG_T_INT; v->i = ((int8_t *)data)[row]; goto put_int;
    case DUCKDB_TYPE_SMALLINT: v->type = IG_T_INT; v->i = ((int16_t *)data)[row]; goto put_int;
    case DUCKDB_TYPE_INTEGER: v->type = IG_T_INT; v->i = ((int32_t *)data)[row]; goto put_int;
    case DUCKDB_TYPE_BIGINT: v->type = IG_T_INT; v->i = ((int64_t *)data)[row]; goto put_int;
    case DUCKDB_TYPE_UTINYINT: v->type = IG_T_INT; v->i = ((uint8_t *)data)[row]; goto put_int;
    case DUCKDB_TYPE_USMALLINT: v->type = IG_T_INT; v->i = ((uint16_t *)data)[row]; goto put_int;
    case DUCKDB_TYPE_UINTEGER: v->type = IG_T_INT; v->i = ((uint32_t *)data)[row]; goto put_int;
    put_int:
        ig_buf_printf(b, "%" PRId64, v->i);
        v->d = (double)v->i;
        break;
    case DUCKDB_TYPE_UBIGINT: {
        uint64_t u = ((uint64_t *)data)[row];
        v->type = u <= INT64_MAX ? IG_T_INT : IG_T_BIGNUM;
        v->i = (int64_t)u;
        v->d = (double)u;
        ig_buf_printf(b, "%" PRIu64, u);
        break;
    }
    case DUCKDB_TYPE_HUGEINT: {
        __int128 h = hugeint_val(((duckdb_hugeint *)data)[row]);
        v->type = (h >= INT64_MIN && h <= INT64_MAX) ? IG_T_INT : IG_T_BIGNUM;
        v->i = (int64_t)h;
        v->d = (double)h;
        put_i128(b, h);
        break;
    }
    case DUCKDB_TYPE_UHUGEINT: {
        duckdb_uhugeint u = ((duckdb_uhugeint *)data)[row];
        unsigned __int128 h = ((unsigned __int128)u.upper << 64) | u.lower;
        v->type = h <= INT64_MAX ? IG_T_INT : IG_T_BIGNUM;
        v->i = (int64_t)h;
        v->d = (double)h;
        put_u128(b, h);
        break;
    }
    case DUCKDB_TYPE_FLOAT:
        v->type = IG_T_DOUBLE;
        v->d = ((float *)data)[row];
        {
            char tmpf[32];
            snprintf(tmpf, sizeof tmpf, "%.9g", v->d);
            for (int prec = 6; prec <= 9; prec++) {
                snprintf(tmpf, sizeof tmpf, "%.*g", prec, v->d);
                if ((float)strtod(tmpf, NULL) == (float)v->d) break;
            }
            if (isnan(v->d)) ig_buf_puts(b, "nan");
            else if (isinf(v->d)) ig_buf_puts(b, v->d > 0 ? "inf" : "-inf");
            else ig_buf_puts(b, tmpf);
        }
        break;
    case DUCKDB_TYPE_DOUBLE:
        v->type = IG_T_DOUBLE;
        v->d = ((double *)data)[row];
        ig__duck_put_double(b, v->d);
        break;
    case DUCKDB_TYPE_DECIMAL: {
        int scale = duckdb_decimal_scale(lt);
        __int128 raw;
        switch (duckdb_decimal_internal_type(lt)) {
        case DUCKDB_TYPE_SMALLINT: raw = ((int16_t *)data)[row]; break;
        case DUCKDB_TYPE_INTEGER: raw = ((int32_t *)data)[row]; break;
        case DUCKDB_TYPE_BIGINT: raw = ((int64_t *)data)[row]; break;
        default: raw = hugeint_val(((duckdb_hugeint *)data)[row]); break;
        }
        v->type = IG_T_DECIMAL;
        v->d = (double)raw / pow(10, scale);
        put_decimal(b, raw, scale);
        break;
    }
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB: {
        duckdb_string_t *s = &((duckdb_string_t *)data)[row];
        uint32_t n = duckdb_string_t_length(*s);
        const char *p = duckdb_string_t_data(s);
        if (t == DUCKDB_TYPE_BLOB) {
            v->type = IG_T_BLOB;
            put_blob(b, (const unsigned char *)p, n);
            break;
        }
        v->type = IG_T_TEXT;
        char *alias = duckdb_logical_type_get_alias(lt);
        if (alias) {
            if (!strcmp(alias, "JSON")) v->type = IG_T_JSON;
            duckdb_free(alias);
        }
        if (nested && v->type == IG_T_TEXT) {
            ig_buf_putc(b, '\'');
            ig_buf_append(b, p, n);
            ig_buf_putc(b, '\'');
        } else {
            ig_buf_append(b, p, n);
        }
        break;
    }
    case DUCKDB_TYPE_DATE:
        v->type = IG_T_DATE;
        v->i = ((int32_t *)data)[row];
        put_date(b, (int32_t)v->i);
        break;
    case DUCKDB_TYPE_TIME:
        v->type = IG_T_TIME;
        v->i = ((int64_t *)data)[row];
        put_time(b, v->i);
        break;
    case DUCKDB_TYPE_TIME_TZ: {
        duckdb_time_tz_struct tz = duckdb_from_time_tz(((duckdb_time_tz *)data)[row]);
        v->type = IG_T_TEXT;
        ig_buf_printf(b, "%02d:%02d:%02d", tz.time.hour, tz.time.min, tz.time.sec);
        int off = tz.offset / 60;
        ig_buf_printf(b, "%c%02d", off < 0 ? '-' : '+', abs(off) / 60);
        if (abs(off) % 60) ig_buf_printf(b, ":%02d", abs(off) % 60);
        break;
    }
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS: {
        int64_t raw = ((int64_t *)data)[row];
        int64_t us = raw;
        if (raw != INT64_MAX && raw != -INT64_MAX) {
            if (t == DUCKDB_TYPE_TIMESTAMP_S) us = raw * 1000000;
            else if (t == DUCKDB_TYPE_TIMESTAMP_MS) us = raw * 1000;
            else if (t == DUCKDB_TYPE_TIMESTAMP_NS) us = raw / 1000;
        }
        v->type = t == DUCKDB_TYPE_TIMESTAMP_TZ ? IG_T_TIMESTAMPTZ : IG_T_TIMESTAMP;
        v->i = us;
        put_timestamp(b, us, t == DUCKDB_TYPE_TIMESTAMP_TZ);
        break;
    }
    case DUCKDB_TYPE_INTERVAL:
        v->type = IG_T_INTERVAL;
        put_interval(b, ((duckdb_interval *)data)[row]);
        break;
    case DUCKDB_TYPE_UUID:
        v->type = IG_T_UUID;
        put_uuid(b, ((duckdb_hugeint *)data)[row]);
        break;
    case DUCKDB_TYPE_ENUM: {
        idx_t idx;
        switch (duckdb_enum_internal_type(lt)) {
        case DUCKDB_TYPE_UTINYINT: idx = ((uint8_t *)data)[row]; break;
        case DUCKDB_TYPE_USMALLINT: idx = ((uint16_t *)data)[row]; break;
        default: idx = ((uint32_t *)data)[row]; break;
        }
        char *s = duckdb_enum_dictionary_value(lt, idx);
        v->type = IG_T_TEXT;
        if (nested) ig_buf_printf(b, "'%s'", s ? s : "");
        else ig_buf_puts(b, s ? s : "");
        duckdb_free(s);
        break;
    }
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_MAP: {
        duckdb_list_entry e = ((duckdb_list_entry *)data)[row];
        duckdb_vector child = duckdb_list_vector_get_child(vec);
        duckdb_logical_type ct = duckdb_list_type_child_type(lt);
        v->type = IG_T_NESTED;
        if (t == DUCKDB_TYPE_MAP) {
            /* child is STRUCT(key, value) */
            duckdb_vector kv = duckdb_struct_vector_get_child(child, 0);
            duckdb_vector vv = duckdb_struct_vector_get_child(child, 1);
            duckdb_logical_type kt = duckdb_struct_type_child_type(ct, 0);
            duckdb_logical_type vt = duckdb_struct_type_child_type(ct, 1);
            ig_buf_putc(b, '{');
            for (idx_t i = 0; i < e.length; i++) {
                if (i) ig_buf_puts(b, ", ");
                render(b, kv, kt, e.offset + i, true, NULL);
                ig_buf_putc(b, '=');
                render(b, vv, vt, e.offset + i, true, NULL);
            }
            ig_buf_putc(b, '}');
            duckdb_destroy_logical_type(&kt);
            duckdb_destroy_logical_type(&vt);
        } else {
            ig_buf_putc(b, '[');
            for (idx_t i = 0; i < e.length; i++) {
                if (i) ig_buf_puts(b, ", ");
                render(b, child, ct, e.offset + i, true, NULL);
            }
            ig_buf_putc(b, ']');
        }
        duckdb_destroy_logical_type(&ct);
        break;
    }
    case DUCKDB_TYPE_ARRAY: {
        idx_t size = duckdb_array_type_array_size(lt);
        duckdb_vector child = duckdb_array_vector_get_child(vec);
        duckdb_logical_type ct = duckdb_array_type_child_type(lt);
        v->type = IG_T_NESTED;
        ig_buf_putc(b, '[');
        for (idx_t i = 0; i < size; i++) {
            if (i) ig_buf_puts(b, ", ");
            render(b, child, ct, row * size + i, true, NULL);
        }
        ig_buf_putc(b, ']');
        duckdb_destroy_logical_type(&ct);
        break;
    }
    case DUCKDB_TYPE_STRUCT: {
        idx_t n = duckdb_struct_type_child_count(lt);
        v->type = IG_T_NESTED;
        ig_buf_putc(b, '{');
        for (idx_t i = 0; i < n; i++) {
            char *name = duckdb_struct_type_child_name(lt, i);
            duckdb_logical_type ct = duckdb_struct_type_child_type(lt, i);
            if (i) ig_buf_puts(b, ", ");
            ig_buf_printf(b, "'%s': ", name ? name : "");
            render(b, duckdb_struct_vector_get_child(vec, i), ct, row, true, NULL);
            duckdb_destroy_logical_type(&ct);
            duckdb_free(name);
        }
        ig_buf_putc(b, '}');
        break;
    }
    case DUCKDB_TYPE_UNION: {
        /* a struct whose first child is the tag */
        uint8_t tag = ((uint8_t *)duckdb_vector_get_data(duckdb_struct_vector_get_child(vec, 0)))[row];
        duckdb_logical_type ct = duckdb_struct_type_child_type(lt, (idx_t)tag + 1);
        render(b, duckdb_struct_vector_get_child(vec, (idx_t)tag + 1), ct, row, nested, NULL);
        duckdb_destroy_logical_type(&ct);
        v->type = IG_T_NESTED;
        break;
    }
    default: {
        v->type = IG_T_TEXT;
        ig_buf_printf(b, "<unsupported type %d>", (int)t);
        break;
    }
    }
}

void ig__duck_decode(ig_buf *text, duckdb_vector vec, duckdb_logical_type lt, idx_t row,
                     ig_value *out)
{
    render(text, vec, lt, row, false, out);
}

ig_type ig__duck_map_type(duckdb_logical_type lt)
{
    switch (duckdb_get_type_id(lt)) {
    case DUCKDB_TYPE_BOOLEAN: return IG_T_BOOL;
    case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT: case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER: return IG_T_INT;
    case DUCKDB_TYPE_UBIGINT: case DUCKDB_TYPE_HUGEINT: case DUCKDB_TYPE_UHUGEINT: return IG_T_BIGNUM;
    case DUCKDB_TYPE_FLOAT: case DUCKDB_TYPE_DOUBLE: return IG_T_DOUBLE;
    case DUCKDB_TYPE_DECIMAL: return IG_T_DECIMAL;
    case DUCKDB_TYPE_VARCHAR: {
        char *alias = duckdb_logical_type_get_alias(lt);
        ig_type r = alias && !strcmp(alias, "JSON") ? IG_T_JSON : IG_T_TEXT;
        duckdb_free(alias);
        return r;
    }
    case DUCKDB_TYPE_ENUM: return IG_T_TEXT;
    case DUCKDB_TYPE_BLOB: return IG_T_BLOB;
    case DUCKDB_TYPE_DATE: return IG_T_DATE;
    case DUCKDB_TYPE_TIME: return IG_T_TIME;
    case DUCKDB_TYPE_TIMESTAMP: case DUCKDB_TYPE_TIMESTAMP_S: case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS: return IG_T_TIMESTAMP;
    case DUCKDB_TYPE_TIMESTAMP_TZ: return IG_T_TIMESTAMPTZ;
    case DUCKDB_TYPE_INTERVAL: return IG_T_INTERVAL;
    case DUCKDB_TYPE_UUID: return IG_T_UUID;
    case DUCKDB_TYPE_LIST: case DUCKDB_TYPE_MAP: case DUCKDB_TYPE_STRUCT: case DUCKDB_TYPE_ARRAY:
    case DUCKDB_TYPE_UNION: return IG_T_NESTED;
    case DUCKDB_TYPE_SQLNULL: return IG_T_NULL;
    default: return IG_T_TEXT;
    }
}

void ig__duck_type_name(ig_buf *b, duckdb_logical_type lt)
{
    static const struct { duckdb_type t; const char *name; } names[] = {
        {DUCKDB_TYPE_BOOLEAN, "BOOLEAN"}, {DUCKDB_TYPE_TINYINT, "TINYINT"},
        {DUCKDB_TYPE_SMALLINT, "SMALLINT"}, {DUCKDB_TYPE_INTEGER, "INTEGER"},
        {DUCKDB_TYPE_BIGINT, "BIGINT"}, {DUCKDB_TYPE_UTINYINT, "UTINYINT"},
        {DUCKDB_TYPE_USMALLINT, "USMALLINT"}, {DUCKDB_TYPE_UINTEGER, "UINTEGER"},
        {DUCKDB_TYPE_UBIGINT, "UBIGINT"}, {DUCKDB_TYPE_FLOAT, "FLOAT"},
        {DUCKDB_TYPE_DOUBLE, "DOUBLE"}, {DUCKDB_TYPE_TIMESTAMP, "TIMESTAMP"},
        {DUCKDB_TYPE_DATE, "DATE"}, {DUCKDB_TYPE_TIME, "TIME"},
        {DUCKDB_TYPE_INTERVAL, "INTERVAL"}, {DUCKDB_TYPE_HUGEINT, "HUGEINT"},
        {DUCKDB_TYPE_UHUGEINT, "UHUGEINT"}, {DUCKDB_TYPE_VARCHAR, "VARCHAR"},
        {DUCKDB_TYPE_BLOB, "BLOB"}, {DUCKDB_TYPE_TIMESTAMP_S, "TIMESTAMP_S"},
        {DUCKDB_TYPE_TIMESTAMP_MS, "TIMESTAMP_MS"}, {DUCKDB_TYPE_TIMESTAMP_NS, "TIMESTAMP_NS"},
        {DUCKDB_TYPE_ENUM, "ENUM"}, {DUCKDB_TYPE_UUID, "UUID"}, {DUCKDB_TYPE_UNION, "UNION"},
        {DUCKDB_TYPE_BIT, "BIT"}, {DUCKDB_TYPE_TIME_TZ, "TIME WITH TIME ZONE"},
        {DUCKDB_TYPE_TIMESTAMP_TZ, "TIMESTAMP WITH TIME ZONE"}, {DUCKDB_TYPE_SQLNULL, "NULL"},
    };
    duckdb_type t = duckdb_get_type_id(lt);
    switch (t) {
    case DUCKDB_TYPE_DECIMAL:
        ig_buf_printf(b, "DECIMAL(%d,%d)", duckdb_decimal_width(lt), duckdb_decimal_scale(lt));
        return;
    case DUCKDB_TYPE_LIST: {
        duckdb_logical_type ct = duckdb_list_type_child_type(lt);
        ig__duck_type_name(b, ct);
        ig_buf_puts(b, "[]");
        duckdb_destroy_logical_type(&ct);
        return;
    }
    case DUCKDB_TYPE_ARRAY: {
        duckdb_logical_type ct = duckdb_array_type_child_type(lt);
        ig__duck_type_name(b, ct);
        ig_buf_printf(b, "[%llu]", (unsigned long long)duckdb_array_type_array_size(lt));
        duckdb_destroy_logical_type(&ct);
        return;
    }
    case DUCKDB_TYPE_MAP: {
        duckdb_logical_type kt = duckdb_map_type_key_type(lt), vt = duckdb_map_type_value_type(lt);
        ig_buf_puts(b, "MAP(");
        ig__duck_type_name(b, kt);
        ig_buf_puts(b, ", ");
        ig__duck_type_name(b, vt);
        ig_buf_putc(b, ')');
        duckdb_destroy_logical_type(&kt);
        duckdb_destroy_logical_type(&vt);
        return;
    }
    case DUCKDB_TYPE_STRUCT: {
        ig_buf_puts(b, "STRUCT(");
        idx_t n = duckdb_struct_type_child_count(lt);
        for (idx_t i = 0; i < n; i++) {
            char *name = duckdb_struct_type_child_name(lt, i);
            duckdb_logical_type ct = duckdb_struct_type_child_type(lt, i);
            ig_buf_printf(b, "%s%s ", i ? ", " : "", name ? name : "");
            ig__duck_type_name(b, ct);
            duckdb_destroy_logical_type(&ct);
            duckdb_free(name);
        }
        ig_buf_putc(b, ')');
        return;
    }
    default:
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (names[i].t == t) {
                ig_buf_puts(b, names[i].name);
                return;
            }
        ig_buf_printf(b, "TYPE%d", (int)t);
    }
}
