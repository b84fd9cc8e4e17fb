/* The demo's closing report: revenue by month, the top products and the
 * purchase funnel, each read from a gold table by a query of the dialect
 * file (the numbers are the warehouse's, C only lays them out), then the
 * rows per layer and the time each step took. */
#include "demo/demo_int.h"

#include "core/clock.h"
#include "core/str.h"

#include <stdlib.h>
#include <string.h>

/* "1234567.89" -> "1,234,567.89" (a decimal as the warehouse prints it). */
static void money(char *out, size_t n, const char *text)
{
    const char *dot = strchr(text, '.');
    size_t ilen = dot ? (size_t)(dot - text) : strlen(text);
    size_t o = 0, start = 0;
    if (text[0] == '-') {
        if (o + 1 < n) out[o++] = '-';
        start = 1;
    }
    for (size_t i = start; i < ilen && o + 1 < n; i++) {
        if (i > start && (ilen - i) % 3 == 0 && o + 1 < n) out[o++] = ',';
        if (o + 1 < n) out[o++] = text[i];
    }
    for (const char *p = dot; p && *p && o + 1 < n; p++)
        out[o++] = *p;
    out[o] = 0;
}

static const char *text_of(const ig_value *v) { return v->is_null ? "" : v->text; }

/* Pad s to `cols` display columns (UTF-8 aware: product names, cities). */
static void pad(FILE *f, const char *s, size_t cols)
{
    size_t n = strlen(s), fit = ig_utf8_fit(s, n, cols), w = ig_utf8_width(s, fit);
    fwrite(s, 1, fit, f);
    for (; w < cols; w++)
        fputc(' ', f);
}

typedef void (*row_fn)(ig_demo_ctx *d, ig_wh_cursor *c);

static ig_rc each_row(ig_demo_ctx *d, const char *sql, row_fn fn, ig_error *err)
{
    ig_wh_cursor *c;
    ig_rc rc = ig_wh_query(d->wh, sql, &c, err);
    if (rc) return rc;
    int r;
    while ((r = ig_wh_cursor_next(c, err)) == 1)
        fn(d, c);
    ig_wh_cursor_close(c);
    return r < 0 ? err->code : IG_OK;
}

static void revenue_row(ig_demo_ctx *d, ig_wh_cursor *c)
{
    FILE *f = d->opt->out;
    char orders[32], rev[48];
    ig__demo_thousands(orders, sizeof orders, ig_wh_cursor_value(c, 1)->i);
    money(rev, sizeof rev, text_of(ig_wh_cursor_value(c, 2)));
    fprintf(f, "  %-8s %8s %15s  ", text_of(ig_wh_cursor_value(c, 0)), orders, rev);
    int64_t bar = ig_wh_cursor_value(c, 3)->i;
    for (int64_t i = 0; i < bar && i < 60; i++)
        fputs(d->opt->stdout_tty ? "█" : "#", f);
    fputc('\n', f);
}

static void product_row(ig_demo_ctx *d, ig_wh_cursor *c)
{
    FILE *f = d->opt->out;
    char units[32], rev[48];
    ig__demo_thousands(units, sizeof units, ig_wh_cursor_value(c, 3)->i);
    money(rev, sizeof rev, text_of(ig_wh_cursor_value(c, 4)));
    fprintf(f, "  %2lld  ", (long long)ig_wh_cursor_value(c, 0)->i);
    pad(f, text_of(ig_wh_cursor_value(c, 1)), 40);
    fputs(" ", f);
    pad(f, text_of(ig_wh_cursor_value(c, 2)), 12);
    fprintf(f, " %7s %13s\n", units, rev);
}

static void funnel_row(ig_demo_ctx *d, ig_wh_cursor *c)
{
    FILE *f = d->opt->out;
    char sessions[32];
    ig__demo_thousands(sessions, sizeof sessions, ig_wh_cursor_value(c, 1)->i);
    fprintf(f, "  %-18s %9s %11s%% %10s%%\n", text_of(ig_wh_cursor_value(c, 0)), sessions,
            text_of(ig_wh_cursor_value(c, 2)), text_of(ig_wh_cursor_value(c, 3)));
}

static void timing(FILE *f, const char *step, uint64_t ns)
{
    char t[32];
    ig_format_duration(ns, t, sizeof t);
    fprintf(f, "  %-10s %8s\n", step, t);
}

ig_rc ig__demo_report(ig_demo_ctx *d, ig_error *err)
{
    uint64_t t0 = ig_now_ns();
    FILE *f = d->opt->out;
    const ig_demo_dialect *q = d->sql;
    ig_rc rc;

    fprintf(f, "\nRevenue by month (completed orders, last 12 months; gold.revenue_by_month)\n");
    fprintf(f, "  %-8s %8s %15s\n", "month", "orders", "revenue");
    if ((rc = each_row(d, q->report_revenue, revenue_row, err))) goto fail;

    fprintf(f, "\nTop 10 products (by revenue; gold.top_products)\n");
    fprintf(f, "  %2s  %-40s %-12s %7s %13s\n", "#", "product", "category", "units", "revenue");
    if ((rc = each_row(d, q->report_products, product_row, err))) goto fail;

    fprintf(f, "\nConversion funnel (web sessions of the last 14 days; gold.funnel)\n");
    fprintf(f, "  %-18s %9s %12s %11s\n", "step", "sessions", "of previous", "of all");
    if ((rc = each_row(d, q->report_funnel, funnel_row, err))) goto fail;

    fprintf(f, "\nRows per layer\n");
    static const char *const layers[] = {"bronze", "silver", "gold"};
    for (int i = 0; i < 3; i++) {
        char n[32];
        ig__demo_thousands(n, sizeof n, d->stats.layer_rows[i]);
        fprintf(f, "  %-8s %2d tables %12s rows\n", layers[i], d->stats.layer_tables[i], n);
    }

    const ig_demo_tests *t = &d->stats.tests;
    fprintf(f, "\nData tests (ingot build: tests, expectations and a unit test)\n");
    fprintf(f, "  %d passed, %d warned, %d failed\n", t->pass, t->warn, t->fail + t->error);
    if (t->warn)
        fprintf(f, "  warning: %s: customers who gave no email (a test of severity warn)\n",
                t->first_warning);

    d->stats.ns_report = ig_now_ns() - t0;
    fprintf(f, "\nTime per step\n");
    timing(f, "generate", d->stats.ns_generate);
    timing(f, "collect", d->stats.ns_collect);
    timing(f, "bronze", d->stats.ns_bronze);
    timing(f, "build", d->stats.ns_build);
    timing(f, "report", d->stats.ns_report);
    timing(f, "total",
           d->stats.ns_generate + d->stats.ns_collect + d->stats.ns_bronze + d->stats.ns_build +
               d->stats.ns_report);
    fflush(f);
    return IG_OK;
fail:
    ig_err_prefix(err, "demo report");
    return rc;
}
