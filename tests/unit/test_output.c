/* Unit tests for the result writers (src/output/) and the shell's statement
 * splitter: each format's escaping and types, the table's layout, the SQL
 * error caret, atomic file output, and a real cursor from an in-memory
 * warehouse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/shell.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"
#include "output/output.h"

#include <math.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- helpers ------------------------------------------------------------- */

#define T(s) ((ig_value){.type = IG_T_TEXT, .text = (s), .len = strlen(s)})
#define I(v, s) ((ig_value){.type = IG_T_INT, .i = (v), .d = (v), .text = (s), .len = strlen(s)})
#define D(v, s) ((ig_value){.type = IG_T_DOUBLE, .d = (v), .text = (s), .len = strlen(s)})
#define DEC(s) ((ig_value){.type = IG_T_DECIMAL, .d = atof(s), .text = (s), .len = strlen(s)})
#define BIG(s) ((ig_value){.type = IG_T_BIGNUM, .text = (s), .len = strlen(s)})
#define B(v)                                                                                       \
    ((ig_value){.type = IG_T_BOOL, .b = (v), .text = (v) ? "true" : "false", .len = (v) ? 4 : 5})
#define J(s) ((ig_value){.type = IG_T_JSON, .text = (s), .len = strlen(s)})
#define NUL ((ig_value){.type = IG_T_NULL, .is_null = true})

/* Write rows (nrows x ncols values) with options o; return what came out
 * (caller frees). */
static char *render(const ig_out_options *o, const ig_out_column *cols, size_t ncols,
                    const ig_value *vals, size_t nrows)
{
    char *out = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&out, &len);
    ig_out_writer *w;
    ig_error err;
    ig_error_clear(&err);
    assert_int_equal(ig_out_open(o, NULL, fp, &w, &err), 0);
    assert_int_equal(ig_out_begin(w, cols, ncols, &err), 0);
    for (size_t r = 0; r < nrows; r++)
        assert_int_equal(ig_out_row(w, vals + r * ncols, &err), 0);
    assert_int_equal(ig_out_finish(w, &err), 0);
    ig_out_free(w);
    fclose(fp);
    return out;
}

static ig_out_options fmt(ig_out_format f)
{
    return (ig_out_options){.format = f, .width = 80, .footer = true};
}

static void expect_str(char *got, const char *want)
{
    if (strcmp(got, want)) fprintf(stderr, "got:\n%s\nwant:\n%s\n", got, want);
    assert_string_equal(got, want);
    free(got);
}

/* --- CSV / TSV ------------------------------------------------------------ */

static void test_csv_quoting(void **state)
{
    ig_out_column cols[] = {{"id", IG_T_INT}, {"say, \"hi\"", IG_T_TEXT}};
    ig_value v[] = {
        I(1, "1"), T("plain"),
        I(2, "2"), T("a,b"),
        I(3, "3"), T("she said \"no\""),
        I(4, "4"), T("two\nlines"),
        I(5, "5"), T("cr\rhere"),
        I(6, "6"), T(""),
        I(7, "7"), NUL,
        I(8, "8"), T(" padded "),
        I(9, "9"), T("\""),
    };
    ig_out_options o = fmt(IG_OUT_CSV);
    expect_str(render(&o, cols, 2, v, 9), "id,\"say, \"\"hi\"\"\"\n"
                                          "1,plain\n"
                                          "2,\"a,b\"\n"
                                          "3,\"she said \"\"no\"\"\"\n"
                                          "4,\"two\nlines\"\n"
                                          "5,\"cr\rhere\"\n"
                                          "6,\"\"\n"
                                          "7,\n"
                                          "8,\" padded \"\n"
                                          "9,\"\"\"\"\n");
}

static void test_csv_no_header_and_null_text(void **state)
{
    ig_out_column cols[] = {{"a", IG_T_INT}, {"b", IG_T_TEXT}};
    ig_value v[] = {I(1, "1"), NUL};
    ig_out_options o = fmt(IG_OUT_CSV);
    o.no_header = true;
    expect_str(render(&o, cols, 2, v, 1), "1,\n");
    o.null_text = "\\N";
    expect_str(render(&o, cols, 2, v, 1), "1,\\N\n");
}

static void test_tsv_escaping(void **state)
{
    ig_out_column cols[] = {{"a\tb", IG_T_TEXT}, {"c", IG_T_TEXT}};
    ig_value v[] = {T("tab\there"), T("line\nbreak\\slash\r"), NUL, T("x")};
    ig_out_options o = fmt(IG_OUT_TSV);
    expect_str(render(&o, cols, 2, v, 2), "a\\tb\tc\n"
                                          "tab\\there\tline\\nbreak\\\\slash\\r\n"
                                          "\tx\n");
}

/* --- JSON ------------------------------------------------------------------ */

static void test_json_types(void **state)
{
    ig_out_column cols[] = {{"i", IG_T_INT},    {"big", IG_T_BIGNUM}, {"dec", IG_T_DECIMAL},
                            {"d", IG_T_DOUBLE}, {"b", IG_T_BOOL},     {"n", IG_T_TEXT},
                            {"j", IG_T_JSON},   {"day", IG_T_DATE}};
    ig_value day = {.type = IG_T_DATE, .i = 19723, .text = "2024-01-01", .len = 10};
    ig_value v[] = {
        I(-42, "-42"),
        BIG("170141183460469231731687303715884105727"),
        DEC("-0.05"),
        D(1.5, "1.5"),
        B(true),
        NUL,
        J("{\"a\":[1,2]}"),
        day,
        I(0, "0"),
        BIG("18446744073709551615"),
        DEC("12345678901234567890.12"),
        D(1e300, "1e+300"),
        B(false),
        T("x"),
        J("null"),
        NUL,
    };
    ig_out_options o = fmt(IG_OUT_JSON);
    expect_str(render(&o, cols, 8, v, 2),
               "[\n"
               "{\"i\":-42,\"big\":170141183460469231731687303715884105727,\"dec\":-0.05,"
               "\"d\":1.5,\"b\":true,\"n\":null,\"j\":{\"a\":[1,2]},\"day\":\"2024-01-01\"},\n"
               "{\"i\":0,\"big\":18446744073709551615,\"dec\":12345678901234567890.12,"
               "\"d\":1e+300,\"b\":false,\"n\":\"x\",\"j\":null,\"day\":null}\n"
               "]\n");
}

static void test_json_special_doubles_and_escapes(void **state)
{
    ig_out_column cols[] = {{"d", IG_T_DOUBLE}, {"s\"k", IG_T_TEXT}};
    ig_value v[] = {
        D(NAN, "nan"),        T("quote\" back\\ nl\n tab\t ctl\x01"),
        D(INFINITY, "inf"),   T("\xff bad utf8"),
        D(-INFINITY, "-inf"), T("ünïcødé ✓"),
    };
    ig_out_options o = fmt(IG_OUT_NDJSON);
    expect_str(render(&o, cols, 2, v, 3),
               "{\"d\":\"NaN\",\"s\\\"k\":\"quote\\\" back\\\\ nl\\n tab\\t ctl\\u0001\"}\n"
               "{\"d\":\"Infinity\",\"s\\\"k\":\"\xEF\xBF\xBD bad utf8\"}\n"
               "{\"d\":\"-Infinity\",\"s\\\"k\":\"ünïcødé ✓\"}\n");
}

static void test_json_duplicate_keys_and_empty(void **state)
{
    ig_out_column cols[] = {{"a", IG_T_INT}, {"a", IG_T_INT}, {"a_2", IG_T_INT}};
    ig_value v[] = {I(1, "1"), I(2, "2"), I(3, "3")};
    ig_out_options o = fmt(IG_OUT_JSON);
    expect_str(render(&o, cols, 3, v, 1), "[\n{\"a\":1,\"a_2\":2,\"a_2_2\":3}\n]\n");
    expect_str(render(&o, cols, 3, v, 0), "[]\n");
    o.format = IG_OUT_NDJSON;
    expect_str(render(&o, cols, 3, v, 0), "");
}

/* --- Markdown -------------------------------------------------------------- */

static void test_markdown_escaping(void **state)
{
    ig_out_column cols[] = {{"name|x", IG_T_TEXT}, {"n", IG_T_DECIMAL}};
    ig_value v[] = {T("a|b"), DEC("1.50"), T("back\\slash\nnext"), NUL, T(""), DEC("2.00")};
    ig_out_options o = fmt(IG_OUT_MARKDOWN);
    expect_str(render(&o, cols, 2, v, 3), "| name\\|x | n |\n"
                                          "| --- | ---: |\n"
                                          "| a\\|b | 1.50 |\n"
                                          "| back\\\\slash<br>next | NULL |\n"
                                          "|   | 2.00 |\n");
}

/* --- table ----------------------------------------------------------------- */

static void test_table_basic(void **state)
{
    ig_out_column cols[] = {{"id", IG_T_INT}, {"name", IG_T_TEXT}, {"amount", IG_T_DECIMAL}};
    ig_value v[] = {I(1, "1"), T("alice"), DEC("12.50"), I(22, "22"), NUL, DEC("3.00")};
    ig_out_options o = fmt(IG_OUT_TABLE);
    expect_str(render(&o, cols, 3, v, 2), "┌────┬───────┬────────┐\n"
                                          "│ id │ name  │ amount │\n"
                                          "├────┼───────┼────────┤\n"
                                          "│  1 │ alice │  12.50 │\n"
                                          "│ 22 │ NULL  │   3.00 │\n"
                                          "└────┴───────┴────────┘\n"
                                          "2 rows\n");
    o.ascii = true;
    o.null_text = "∅";
    o.footer = false;
    expect_str(render(&o, cols, 3, v + 3, 1), "+----+------+--------+\n"
                                              "| id | name | amount |\n"
                                              "+----+------+--------+\n"
                                              "| 22 | ∅    |   3.00 |\n"
                                              "+----+------+--------+\n");
}

static void test_table_empty_and_one_row(void **state)
{
    ig_out_column cols[] = {{"x", IG_T_TEXT}};
    ig_value v[] = {T("only")};
    ig_out_options o = fmt(IG_OUT_TABLE);
    expect_str(render(&o, cols, 1, v, 0), "┌───┐\n│ x │\n├───┤\n└───┘\n0 rows\n");
    char *s = render(&o, cols, 1, v, 1);
    assert_non_null(strstr(s, "\n1 row\n"));
    free(s);
}

static void test_table_unicode_width(void **state)
{
    ig_out_column cols[] = {{"城市", IG_T_TEXT}, {"n", IG_T_INT}};
    ig_value v[] = {T("東京"), I(1, "1"), T("Zürich"), I(2, "2")};
    ig_out_options o = fmt(IG_OUT_TABLE);
    o.footer = false;
    expect_str(render(&o, cols, 2, v, 2), "┌────────┬───┐\n"
                                          "│ 城市   │ n │\n"
                                          "├────────┼───┤\n"
                                          "│ 東京   │ 1 │\n"
                                          "│ Zürich │ 2 │\n"
                                          "└────────┴───┘\n");
}

static void test_table_truncates_and_shrinks_fairly(void **state)
{
    /* width 40: borders take 1 + 3*3 = 10, leaving 30 for three columns of
     * natural widths 2, 40 and 30: the narrow one keeps 2, the wide ones
     * share 28 -> 14 each */
    ig_out_column cols[] = {{"id", IG_T_INT}, {"long", IG_T_TEXT}, {"other", IG_T_TEXT}};
    char a[41], b[31];
    memset(a, 'a', 40);
    a[40] = 0;
    memset(b, 'b', 30);
    b[30] = 0;
    ig_value v[] = {I(7, "7"), T(a), T(b)};
    ig_out_options o = fmt(IG_OUT_TABLE);
    o.width = 40;
    o.footer = false;
    expect_str(render(&o, cols, 3, v, 1), "┌────┬────────────────┬────────────────┐\n"
                                          "│ id │ long           │ other          │\n"
                                          "├────┼────────────────┼────────────────┤\n"
                                          "│  7 │ aaaaaaaaaaaaa… │ bbbbbbbbbbbbb… │\n"
                                          "└────┴────────────────┴────────────────┘\n");
}

static void test_table_wide_chars_truncate_by_width(void **state)
{
    ig_out_column cols[] = {{"t", IG_T_TEXT}};
    ig_value v[] = {T("日本語のテキストです")}; /* 20 columns wide */
    ig_out_options o = fmt(IG_OUT_TABLE);
    o.width = 12; /* 1 + 3 = 4 for borders: 8 columns of text */
    o.footer = false;
    char *s = render(&o, cols, 1, v, 1);
    /* 7 columns for text then "…": three wide characters (6) and the ellipsis, padded by one */
    assert_non_null(strstr(s, "│ 日本語…  │\n"));
    free(s);
}

static void test_table_hides_columns_that_cannot_fit(void **state)
{
    ig_out_column cols[] = {{"a", IG_T_TEXT}, {"b", IG_T_TEXT}, {"c", IG_T_TEXT}, {"d", IG_T_TEXT}};
    ig_value v[] = {T("xxxx"), T("yyyy"), T("zzzz"), T("wwww")};
    ig_out_options o = fmt(IG_OUT_TABLE);
    o.width = 14; /* two columns at the minimum (3) need 1 + 6 + 6 = 13; three need 19 */
    char *s = render(&o, cols, 4, v, 1);
    assert_non_null(strstr(s, "│ xxxx │ yy… │\n")); /* the spare column goes to the first */
    assert_non_null(strstr(s, "1 row, 2 columns not shown: c, d\n"));
    free(s);
}

static void test_table_escapes_control_characters(void **state)
{
    ig_out_column cols[] = {{"t", IG_T_TEXT}};
    ig_value v[] = {T("a\nb\tc\x01")};
    ig_out_options o = fmt(IG_OUT_TABLE);
    o.footer = false;
    char *s = render(&o, cols, 1, v, 1);
    assert_non_null(strstr(s, "│ a\\nb\\tc\\x01 │"));
    free(s);
}

static void test_table_max_rows(void **state)
{
    ig_out_column cols[] = {{"n", IG_T_INT}};
    ig_value v[10];
    char num[10][4];
    for (int i = 0; i < 10; i++) {
        snprintf(num[i], sizeof num[i], "%d", i);
        v[i] = I(i, num[i]);
    }
    ig_out_options o = fmt(IG_OUT_TABLE);
    o.max_rows = 3;
    expect_str(render(&o, cols, 1, v, 10),
               "┌───┐\n│ n │\n├───┤\n│ 0 │\n│ 1 │\n│ 2 │\n└───┘\n… 7 more rows\n10 rows\n");
}

static void test_table_streams_past_the_sample(void **state)
{
    size_t n = IG_OUT_TABLE_SAMPLE + 5;
    ig_out_column cols[] = {{"s", IG_T_TEXT}};
    ig_value *v = calloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = T(i < IG_OUT_TABLE_SAMPLE ? "ab" : "much longer text");
    ig_out_options o = fmt(IG_OUT_TABLE);
    char *s = render(&o, cols, 1, v, n);
    /* widths come from the sample: the later, longer values are cut to it */
    assert_non_null(strstr(s, "│ ab │\n"));
    assert_non_null(strstr(s, "│ m… │\n"));
    assert_non_null(strstr(s, "\n1005 rows\n"));
    free(s);
    free(v);
}

static void test_cell_text(void **state)
{
    ig_buf b = IG_BUF_INIT;
    ig_out_cell_text(&b, "ok\xC3(\x7F\xE2\x9C\x93", 8);
    assert_string_equal(ig_buf_cstr(&b), "ok\\xC3(\\x7F✓");
    ig_buf_free(&b);
}

/* --- SQL caret ------------------------------------------------------------- */

static void test_sql_caret(void **state)
{
    ig_error err;
    ig_err(&err, IG_ERR_SQL, "Parser Error: syntax error at or near \"selec\"");
    err.line = 1;
    err.column = 1;
    ig_out_sql_caret(&err, "selec 1", 80);
    assert_string_equal(err.detail, "LINE 1: selec 1\n        ^");

    ig_err(&err, IG_ERR_SQL, "Binder Error");
    err.line = 2;
    err.column = 8;
    ig_err_detail(&err, "Candidate bindings: \"a\"");
    ig_out_sql_caret(&err, "select 1;\n\tselect nope\nfrom t", 80);
    assert_string_equal(err.detail,
                        "LINE 2:  select nope\n               ^\nCandidate bindings: \"a\"");

    ig_err(&err, IG_ERR_SQL, "no position");
    ig_out_sql_caret(&err, "select 1", 80);
    assert_string_equal(err.detail, "");
}

static void test_sql_caret_long_line(void **state)
{
    char sql[600];
    memset(sql, 'x', sizeof sql - 1);
    sql[sizeof sql - 1] = 0;
    memcpy(sql + 400, "BAD", 3);
    ig_error err;
    ig_err(&err, IG_ERR_SQL, "error");
    err.line = 1;
    err.column = 401;
    ig_out_sql_caret(&err, sql, 60);
    char *nl = strchr(err.detail, '\n');
    assert_non_null(nl);
    const char *bad = strstr(err.detail, "BAD");
    assert_non_null(bad);
    assert_true(strstr(err.detail, "LINE 1: …") == err.detail);
    /* the caret sits under the B (display columns: "…" is one) */
    size_t caret_col = strlen(nl + 1) - 1;
    size_t bad_col = ig_utf8_width(err.detail, (size_t)(bad - err.detail));
    assert_int_equal(caret_col, bad_col);
    assert_true(ig_utf8_width(err.detail, (size_t)(nl - err.detail)) <= 58);
}

/* --- formats, files -------------------------------------------------------- */

static void test_format_names(void **state)
{
    ig_out_format f;
    assert_true(ig_out_format_parse("CSV", &f) && f == IG_OUT_CSV);
    assert_true(ig_out_format_parse("jsonl", &f) && f == IG_OUT_NDJSON);
    assert_true(ig_out_format_parse("md", &f) && f == IG_OUT_MARKDOWN);
    assert_false(ig_out_format_parse("yaml", &f));
    assert_true(ig_out_format_from_path("out/x.XLSX", &f) && f == IG_OUT_XLSX);
    assert_true(ig_out_format_from_path("a.ndjson", &f) && f == IG_OUT_NDJSON);
    assert_false(ig_out_format_from_path("noext", &f));
    assert_false(ig_out_format_from_path(".csv", &f) && 0);
}

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/ig-out-test.XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return ig_strdup(d);
}

static size_t count_entries(const char *dir)
{
    char *cmd = ig_asprintf("ls -A %s | wc -l", dir);
    FILE *p = popen(cmd, "r");
    size_t n = 0;
    assert_int_equal(fscanf(p, "%zu", &n), 1);
    pclose(p);
    free(cmd);
    return n;
}

static void test_atomic_file_output(void **state)
{
    char *dir = tmpdir();
    char *path = ig_path_join(dir, "out.csv");
    ig_out_column cols[] = {{"a", IG_T_INT}};
    ig_value v[] = {I(1, "1")};
    ig_out_options o = fmt(IG_OUT_CSV);
    ig_out_writer *w;
    ig_error err;
    ig_error_clear(&err);

    /* an unfinished writer leaves nothing behind */
    assert_int_equal(ig_out_open(&o, path, NULL, &w, &err), 0);
    assert_int_equal(ig_out_begin(w, cols, 1, &err), 0);
    assert_int_equal(ig_out_row(w, v, &err), 0);
    assert_false(ig_fs_exists(path));
    ig_out_free(w);
    assert_int_equal(count_entries(dir), 0);

    /* a finished one renames into place */
    assert_int_equal(ig_out_open(&o, path, NULL, &w, &err), 0);
    assert_int_equal(ig_out_begin(w, cols, 1, &err), 0);
    assert_int_equal(ig_out_row(w, v, &err), 0);
    assert_int_equal(ig_out_finish(w, &err), 0);
    ig_out_free(w);
    char *data;
    size_t len;
    assert_int_equal(ig_fs_read(path, 0, &data, &len, &err), 0);
    assert_string_equal(data, "a\n1\n");
    free(data);
    assert_int_equal(count_entries(dir), 1);

    /* a directory that does not exist is named */
    char *bad = ig_path_join(dir, "nope/out.csv");
    assert_int_equal(ig_out_open(&o, bad, NULL, &w, &err), IG_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "nope does not exist"));
    assert_non_null(strstr(err.hint, "mkdir -p"));

    char *cmd = ig_asprintf("rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(bad);
    free(path);
    free(dir);
}

static void test_xlsx_typed_cells(void **state)
{
    char *dir = tmpdir();
    char *path = ig_path_join(dir, "r.xlsx");
    ig_out_column cols[] = {{"n", IG_T_INT},  {"t", IG_T_TEXT},       {"b", IG_T_BOOL},
                            {"d", IG_T_DATE}, {"ts", IG_T_TIMESTAMP}, {"big", IG_T_BIGNUM},
                            {"x", IG_T_NULL}};
    ig_value day = {.type = IG_T_DATE, .i = 19723, .text = "2024-01-01", .len = 10};
    ig_value ts = {.type = IG_T_TIMESTAMP,
                   .i = 19723LL * 86400000000LL + 43200000000LL,
                   .text = "2024-01-01 12:00:00",
                   .len = 19};
    ig_value v[] = {I(42, "42"), T("hi <&>"), B(true), day, ts, BIG("123456789012345678901234"),
                    NUL};
    ig_out_options o = fmt(IG_OUT_XLSX);
    ig_out_writer *w;
    ig_error err;
    ig_error_clear(&err);
    assert_int_equal(ig_out_open(&o, path, NULL, &w, &err), 0);
    assert_int_equal(ig_out_begin(w, cols, 7, &err), 0);
    assert_int_equal(ig_out_row(w, v, &err), 0);
    assert_int_equal(ig_out_finish(w, &err), 0);
    ig_out_free(w);
    assert_int_equal(count_entries(dir), 1);

    char *cmd = ig_asprintf("unzip -p %s xl/worksheets/sheet1.xml", path);
    FILE *p = popen(cmd, "r");
    char xml[8192];
    size_t n = fread(xml, 1, sizeof xml - 1, p);
    xml[n] = 0;
    pclose(p);
    free(cmd);
    assert_non_null(strstr(xml, "<c r=\"A2\""));
    assert_non_null(strstr(xml, "<v>42</v>"));
    assert_non_null(strstr(xml, "t=\"b\""));                  /* boolean */
    assert_non_null(strstr(xml, "<v>45292</v>"));             /* 2024-01-01 as a serial */
    assert_non_null(strstr(xml, "<v>45292.5</v>"));           /* noon */
    assert_non_null(strstr(xml, "123456789012345678901234")); /* big: text, exact */
    assert_non_null(strstr(xml, "hi &lt;&amp;&gt;"));
    cmd = ig_asprintf("rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(path);
    free(dir);
}

/* --- a real cursor --------------------------------------------------------- */

static void test_cursor_to_json(void **state)
{
    ig_wh *wh;
    ig_error err;
    ig_error_clear(&err);
    assert_int_equal(ig_wh_open(&(ig_wh_options){.path = ":memory:"}, &wh, &err), 0);
    ig_wh_cursor *c;
    assert_int_equal(ig_wh_query(wh,
                                 "select 1 as i, 2.50::decimal(10,2) as d, 'a\"b' as s, null as n, "
                                 "true as b, '{\"k\":1}'::json as j, "
                                 "170141183460469231731687303715884105727::hugeint as h",
                                 &c, &err),
                     0);
    char *out = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&out, &len);
    ig_out_options o = fmt(IG_OUT_NDJSON);
    int64_t rows = 0;
    assert_int_equal(ig_out_cursor(c, &o, NULL, fp, NULL, &rows, &err), 0);
    fclose(fp);
    ig_wh_cursor_close(c);
    ig_wh_close(wh);
    assert_int_equal(rows, 1);
    expect_str(out, "{\"i\":1,\"d\":2.50,\"s\":\"a\\\"b\",\"n\":null,\"b\":true,\"j\":{\"k\":1},"
                    "\"h\":170141183460469231731687303715884105727}\n");
}

static void test_changed_line(void **state)
{
    ig_buf b = IG_BUF_INIT;
    ig_out_changed_line(&b, "UPDATE", 1, 0);
    assert_string_equal(ig_buf_cstr(&b), "OK, 1 row changed");
    ig_buf_reset(&b);
    ig_out_changed_line(&b, "INSERT", 3, 0);
    assert_string_equal(ig_buf_cstr(&b), "OK, 3 rows changed");
    ig_buf_reset(&b);
    ig_out_changed_line(&b, "CREATE", 0, 0);
    assert_string_equal(ig_buf_cstr(&b), "OK, CREATE");
    ig_buf_free(&b);
}

/* --- shell statement splitter --------------------------------------------- */

static void test_shell_complete(void **state)
{
    assert_true(ig_shell_complete("select 1;"));
    assert_true(ig_shell_complete("select 1;  \n"));
    assert_true(ig_shell_complete("select 1; -- done\n"));
    assert_false(ig_shell_complete("select 1"));
    assert_false(ig_shell_complete(""));
    assert_false(ig_shell_complete("select ';"));
    assert_true(ig_shell_complete("select 'it''s;';"));
    assert_false(ig_shell_complete("select \"a;\n"));
    assert_false(ig_shell_complete("select 1 -- not yet;\n"));
    assert_false(ig_shell_complete("select /* ; */ 1"));
    assert_false(ig_shell_complete("select /* /* nested */ ; 1"));
    assert_true(ig_shell_complete("select /* /* nested */ */ 1;"));
    assert_false(ig_shell_complete("select $$ ; "));
    assert_true(ig_shell_complete("select $$ ; $$;"));
    assert_true(ig_shell_complete("select $fn$ ; $fn$;"));
    assert_true(ig_shell_complete("select a$1;"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_csv_no_header_and_null_text),
        cmocka_unit_test(test_tsv_escaping),
        cmocka_unit_test(test_json_types),
        cmocka_unit_test(test_json_special_doubles_and_escapes),
        cmocka_unit_test(test_json_duplicate_keys_and_empty),
        cmocka_unit_test(test_markdown_escaping),
        cmocka_unit_test(test_table_basic),
        cmocka_unit_test(test_table_empty_and_one_row),
        cmocka_unit_test(test_table_unicode_width),
        cmocka_unit_test(test_table_truncates_and_shrinks_fairly),
        cmocka_unit_test(test_table_wide_chars_truncate_by_width),
        cmocka_unit_test(test_table_hides_columns_that_cannot_fit),
        cmocka_unit_test(test_table_escapes_control_characters),
        cmocka_unit_test(test_table_max_rows),
        cmocka_unit_test(test_table_streams_past_the_sample),
        cmocka_unit_test(test_cell_text),
        cmocka_unit_test(test_sql_caret),
        cmocka_unit_test(test_sql_caret_long_line),
        cmocka_unit_test(test_format_names),
        cmocka_unit_test(test_atomic_file_output),
        cmocka_unit_test(test_xlsx_typed_cells),
        cmocka_unit_test(test_cursor_to_json),
        cmocka_unit_test(test_changed_line),
        cmocka_unit_test(test_shell_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
