/* Unit tests of the demo's generator: determinism (same seed, same bytes;
 * pinned hashes so that a change of machine, libc or compiler that alters a
 * byte is caught), row counts, referential integrity of the ids across the
 * streams, the dirty data silver relies on, and error paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/buf.h"
#include "demo/demo.h"
#include "demo/demo_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- sinks */

typedef struct capture {
    ig_buf data[IG_DEMO_NSTREAMS];
    int64_t rows[IG_DEMO_NSTREAMS];
    int order[IG_DEMO_NSTREAMS + 1]; /* streams in the order end() saw them */
    int nend;
    int fail_on; /* stream whose first write fails, or -1 */
} capture;

static ig_rc cap_write(void *ctx, int stream, const char *data, size_t len, ig_error *err)
{
    capture *c = ctx;
    if (stream == c->fail_on) return ig_err(err, IG_ERR_IO, "disk full (test)");
    ig_buf_append(&c->data[stream], data, len);
    return IG_OK;
}

static ig_rc cap_end(void *ctx, int stream, int64_t rows, ig_error *err)
{
    capture *c = ctx;
    c->rows[stream] = rows;
    if (c->nend <= IG_DEMO_NSTREAMS) c->order[c->nend++] = stream;
    return IG_OK;
}

static void cap_free(capture *c)
{
    for (int s = 0; s < IG_DEMO_NSTREAMS; s++)
        ig_buf_free(&c->data[s]);
}

static void generate(capture *c, uint64_t seed, double scale)
{
    memset(c, 0, sizeof *c);
    c->fail_on = -1;
    ig_demo_sink sink = {c, cap_write, cap_end};
    ig_demo_gen_options o = {.seed = seed, .scale = scale};
    ig_error err = {0};
    ig_rc rc = ig_demo_generate(&o, &sink, &err);
    if (rc) fprintf(stderr, "generate: %s\n", err.message);
    assert_int_equal(rc, IG_OK);
}

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
    return h;
}

static int64_t count_lines(const ig_buf *b)
{
    int64_t n = 0;
    for (size_t i = 0; i < b->len; i++)
        n += b->data[i] == '\n';
    return n;
}

/* The first field of each data line of a CSV, as integers (ids); also the
 * field `col` when col > 0 (only for columns before any quoted field). */
static long field(const char *line, int col)
{
    for (int i = 0; i < col; i++) {
        line = strchr(line, ',');
        if (!line) return -1;
        line++;
    }
    return strtol(line, NULL, 10);
}

/* Iterate the data lines of a CSV (skipping the header). */
#define FOR_LINES(buf, line)                                                                       \
    for (const char *line = strchr((buf)->data, '\n') + 1; line && *line;                          \
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)

/* Iterate NDJSON lines. */
#define FOR_JSON(buf, line)                                                                        \
    for (const char *line = (buf)->data; line && *line;                                            \
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)

/* A JSON member's integer value in a line ("key":123 or "key":"123"), 0 for
 * null, -1 when absent. */
static long json_int(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    const char *eol = strchr(line, '\n');
    if (!p || (eol && p > eol)) return -1;
    p += strlen(pat);
    if (*p == 'n') return 0;
    if (*p == '"') p++;
    return strtol(p, NULL, 10);
}

/* ------------------------------------------------------------- tests */

static void test_same_seed_same_bytes(void **state)
{
    (void)state;
    capture a, b;
    generate(&a, 42, 0.05);
    generate(&b, 42, 0.05);
    for (int s = 0; s < IG_DEMO_NSTREAMS; s++) {
        assert_int_equal(a.data[s].len, b.data[s].len);
        assert_true(a.data[s].len > 0);
        assert_memory_equal(a.data[s].data, b.data[s].data, a.data[s].len);
        assert_int_equal(a.rows[s], b.rows[s]);
    }
    cap_free(&a);
    cap_free(&b);
}

static void test_other_seed_other_bytes(void **state)
{
    (void)state;
    capture a, b;
    generate(&a, 42, 0.05);
    generate(&b, 43, 0.05);
    for (int s = 0; s < IG_DEMO_NSTREAMS; s++)
        assert_true(fnv1a(a.data[s].data, a.data[s].len) != fnv1a(b.data[s].data, b.data[s].len));
    cap_free(&a);
    cap_free(&b);
}

/* Pinned bytes: these hashes change only when the generator is changed on
 * purpose (then update them and say so in the commit). A difference on
 * another machine means determinism is broken there. */
static void test_pinned_hashes(void **state)
{
    (void)state;
    static const uint64_t want[IG_DEMO_NSTREAMS] = {
        /* IG_DEMO_PRINT_HASHES=1 build/tests/test_demo prints these */
        0x2d4fd21cf8eaa5c2ULL, /* customers */
        0x76e1b21f587f544bULL, /* products */
        0xba4c8b989e878e1dULL, /* orders */
        0x64c97d2c18d07cf8ULL, /* order_items */
        0xba4b56241dd62934ULL, /* payments */
        0x5f2a14dd66535bb9ULL, /* web_events */
    };
    capture a;
    generate(&a, 42, 0.02);
    bool print = getenv("IG_DEMO_PRINT_HASHES") != NULL;
    for (int s = 0; s < IG_DEMO_NSTREAMS; s++) {
        uint64_t h = fnv1a(a.data[s].data, a.data[s].len);
        if (print)
            printf("        0x%016llxULL, /* %s */\n", (unsigned long long)h,
                   ig_demo_stream_name(s));
        else if (h != want[s])
            fail_msg("stream %s: hash 0x%016llx, pinned 0x%016llx", ig_demo_stream_name(s),
                     (unsigned long long)h, (unsigned long long)want[s]);
    }
    cap_free(&a);
}

static void test_streams_in_order_and_counts(void **state)
{
    (void)state;
    capture c;
    generate(&c, 7, 0.1);
    assert_int_equal(c.nend, IG_DEMO_NSTREAMS);
    for (int s = 0; s < IG_DEMO_NSTREAMS; s++) {
        assert_int_equal(c.order[s], s);
        /* rows reported = data lines written (a CSV has one header line more) */
        int header = !strcmp(ig_demo_stream_format(s), "csv");
        assert_int_equal(count_lines(&c.data[s]), c.rows[s] + header);
    }
    int64_t customers = c.rows[IG_DEMO_CUSTOMERS], orders = c.rows[IG_DEMO_ORDERS];
    assert_true(customers >= 2000 && customers <= 2000 * 103 / 100); /* + moved customers */
    assert_int_equal(c.rows[IG_DEMO_PRODUCTS], 50);
    assert_int_equal(orders, 6000);
    assert_true(c.rows[IG_DEMO_ORDER_ITEMS] > orders * 22 / 10 &&
                c.rows[IG_DEMO_ORDER_ITEMS] < orders * 28 / 10);
    assert_true(c.rows[IG_DEMO_PAYMENTS] > orders * 95 / 100 &&
                c.rows[IG_DEMO_PAYMENTS] < orders * 115 / 100);
    assert_true(c.rows[IG_DEMO_WEB_EVENTS] >= 15000 && c.rows[IG_DEMO_WEB_EVENTS] < 17000);
    cap_free(&c);

    /* scale 1 is the documented size */
    generate(&c, 42, 1.0);
    assert_true(c.rows[IG_DEMO_CUSTOMERS] >= 20000);
    assert_int_equal(c.rows[IG_DEMO_ORDERS], 60000);
    assert_int_equal(c.rows[IG_DEMO_PRODUCTS], 500);
    int64_t total = 0;
    for (int s = 0; s < IG_DEMO_NSTREAMS; s++)
        total += c.rows[s];
    assert_true(total > 400000 && total < 500000);
    cap_free(&c);
}

static void test_referential_integrity(void **state)
{
    (void)state;
    capture c;
    generate(&c, 42, 0.1);
    long n_customers = 0, n_products = 0, n_orders = 0, n_items = 0;
    FOR_LINES(&c.data[IG_DEMO_CUSTOMERS], l)
    {
        long id = field(l, 0);
        assert_true(id >= 1);
        if (id > n_customers) n_customers = id;
    }
    FOR_LINES(&c.data[IG_DEMO_PRODUCTS], l) assert_int_equal(field(l, 0), ++n_products);
    FOR_LINES(&c.data[IG_DEMO_ORDERS], l)
    {
        assert_int_equal(field(l, 0), ++n_orders);
        long cust = field(l, 1);
        assert_true(cust >= 1 && cust <= n_customers);
    }
    long last_item = 0;
    FOR_LINES(&c.data[IG_DEMO_ORDER_ITEMS], l)
    {
        long id = field(l, 0), ord = field(l, 1), prod = field(l, 2), qty = field(l, 3);
        assert_true(id == last_item || id == last_item + 1); /* ids ascend; duplicates repeat */
        last_item = id;
        assert_true(ord >= 1 && ord <= n_orders);
        assert_true(prod >= 1 && prod <= n_products);
        assert_true(qty >= 1 && qty <= 5);
        n_items++;
    }
    assert_true(n_items > last_item); /* some lines exported twice */
    FOR_LINES(&c.data[IG_DEMO_PAYMENTS], l)
    {
        long ord = field(l, 1);
        assert_true(ord >= 1 && ord <= n_orders);
    }
    long completed = 0, with_user = 0, events = 0;
    FOR_JSON(&c.data[IG_DEMO_WEB_EVENTS], l)
    {
        long ord = json_int(l, "order_id"), prod = json_int(l, "product_id"),
             user = json_int(l, "user_id");
        assert_true(ord >= 0 && ord <= n_orders);
        assert_true(prod >= 0 && prod <= n_products);
        assert_true(user >= 0 && user <= n_customers);
        completed += ord > 0;
        with_user += user > 0;
        events++;
    }
    assert_true(completed > 0);
    assert_true(with_user > 0 && with_user < events);
    cap_free(&c);
}

/* The dirt silver is there to clean. */
static void test_dirty_data(void **state)
{
    (void)state;
    capture c;
    generate(&c, 42, 0.2);
    const char *cust = c.data[IG_DEMO_CUSTOMERS].data;
    assert_non_null(strstr(cust, ",,"));   /* a missing email */
    assert_non_null(strstr(cust, ",\" ")); /* a padded email, kept by quoting */
    assert_non_null(strstr(cust, "@GMAIL.COM") ? "" : strstr(cust, "@OUTLOOK.COM")); /* shouting */
    assert_non_null(strstr(cust, ",us,")); /* lower-case country */
    /* some customer ids appear twice (a later version) */
    long max_id = 0, lines = 0;
    FOR_LINES(&c.data[IG_DEMO_CUSTOMERS], l)
    {
        long id = field(l, 0);
        if (id > max_id) max_id = id;
        lines++;
    }
    assert_true(lines > max_id);
    const char *orders = c.data[IG_DEMO_ORDERS].data;
    assert_non_null(strstr(orders, ",cancelled,"));
    assert_non_null(strstr(orders, ",returned,"));
    assert_non_null(strstr(orders, "Completed") ? "" : strstr(orders, "COMPLETED"));
    const char *pay = c.data[IG_DEMO_PAYMENTS].data;
    assert_non_null(strstr(pay, ",failed,"));
    assert_non_null(strstr(pay, ",refunded,"));
    /* web events: a duplicate delivery is the same line twice in a row */
    int dups = 0;
    const char *prev = NULL;
    size_t prev_len = 0;
    FOR_JSON(&c.data[IG_DEMO_WEB_EVENTS], l)
    {
        const char *eol = strchr(l, '\n');
        size_t len = eol ? (size_t)(eol - l) : strlen(l);
        if (prev && len == prev_len && !memcmp(prev, l, len)) dups++;
        prev = l;
        prev_len = len;
    }
    assert_true(dups > 10);
    assert_non_null(strstr(c.data[IG_DEMO_WEB_EVENTS].data, "Googlebot"));
    for (int t = 0; t < 5; t++) {
        static const char *const types[] = {"\"page_view\"", "\"product_view\"", "\"add_to_cart\"",
                                            "\"checkout_started\"", "\"order_completed\""};
        assert_non_null(strstr(c.data[IG_DEMO_WEB_EVENTS].data, types[t]));
    }
    cap_free(&c);
}

static void test_cents(void **state)
{
    (void)state;
    char s[32];
    ig__demo_cents(s, sizeof s, 0);
    assert_string_equal(s, "0.00");
    ig__demo_cents(s, sizeof s, 5);
    assert_string_equal(s, "0.05");
    ig__demo_cents(s, sizeof s, 1234);
    assert_string_equal(s, "12.34");
    ig__demo_cents(s, sizeof s, -5);
    assert_string_equal(s, "-0.05");
    ig__demo_cents(s, sizeof s, 123456789012);
    assert_string_equal(s, "1234567890.12");
}

static void test_bad_scale(void **state)
{
    (void)state;
    capture c = {.fail_on = -1};
    ig_demo_sink sink = {&c, cap_write, cap_end};
    ig_error err = {0};
    double bad[] = {0, -1, 101, 0.0 / 0.0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ig_demo_gen_options o = {.seed = 1, .scale = bad[i]};
        assert_int_equal(ig_demo_generate(&o, &sink, &err), IG_ERR_USAGE);
        assert_non_null(strstr(err.message, "scale"));
    }
    for (int s = 0; s < IG_DEMO_NSTREAMS; s++)
        assert_int_equal(c.data[s].len, 0);
}

static void test_sink_error_stops(void **state)
{
    (void)state;
    capture c = {.fail_on = IG_DEMO_ORDERS};
    ig_demo_sink sink = {&c, cap_write, cap_end};
    ig_error err = {0};
    ig_demo_gen_options o = {.seed = 1, .scale = 0.05};
    assert_int_equal(ig_demo_generate(&o, &sink, &err), IG_ERR_IO);
    assert_string_equal(err.message, "disk full (test)");
    assert_int_equal(c.nend, 2); /* customers and products finished, nothing after */
    assert_int_equal(c.data[IG_DEMO_ORDER_ITEMS].len, 0);
    cap_free(&c);
}

static void test_stream_names(void **state)
{
    (void)state;
    assert_string_equal(ig_demo_stream_name(IG_DEMO_CUSTOMERS), "customers");
    assert_string_equal(ig_demo_stream_name(IG_DEMO_WEB_EVENTS), "web_events");
    assert_string_equal(ig_demo_stream_format(IG_DEMO_ORDERS), "csv");
    assert_string_equal(ig_demo_stream_format(IG_DEMO_WEB_EVENTS), "ndjson");
    assert_string_equal(ig_demo_stream_name(99), "?");
}

/* The drop folder's files: one per stream, named by the stream; the tables
 * as CSV, the web events as NDJSON, and exactly one workbook (products). */
static void test_drop_file_names(void **state)
{
    (void)state;
    int workbooks = 0;
    for (int s = 0; s < IG_DEMO_NSTREAMS; s++) {
        const char *f = ig__demo_file_name(s), *stream = ig_demo_stream_name(s);
        assert_int_equal(strncmp(f, stream, strlen(stream)), 0);
        assert_int_equal(f[strlen(stream)], '.');
        const char *ext = f + strlen(stream) + 1;
        if (!strcmp(ext, "xlsx")) {
            workbooks++;
            assert_int_equal(s, IG_DEMO_PRODUCTS);
        } else {
            assert_string_equal(ext, ig_demo_stream_format(s));
        }
    }
    assert_int_equal(workbooks, 1);
    assert_string_equal(ig__demo_file_name(IG_DEMO_WEB_EVENTS), "web_events.ndjson");
    assert_string_equal(ig__demo_file_name(-1), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_other_seed_other_bytes),
        cmocka_unit_test(test_pinned_hashes),
        cmocka_unit_test(test_streams_in_order_and_counts),
        cmocka_unit_test(test_referential_integrity),
        cmocka_unit_test(test_dirty_data),
        cmocka_unit_test(test_cents),
        cmocka_unit_test(test_bad_scale),
        cmocka_unit_test(test_sink_error_stops),
        cmocka_unit_test(test_stream_names),
        cmocka_unit_test(test_drop_file_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
