/* Unit tests for schedules: cron parsing, time zones, DST, month ends, leap
 * years, data intervals. Times are checked against hand-computed UTC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "orchestrate/cron.h"
#include "orchestrate/tz.h"

#include <stdio.h>
#include <string.h>

/* UTC seconds for a civil UTC time */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
    return ig_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60;
}

static ig_tz *zone(const char *name)
{
    ig_tz *tz;
    ig_error e;
    if (ig_tz_load(name, &tz, &e)) fail_msg("%s", e.message);
    return tz;
}

static ig_cron cron(const char *expr)
{
    ig_cron c;
    ig_error e;
    if (ig_cron_parse(expr, &c, &e)) fail_msg("%s: %s", expr, e.message);
    return c;
}

static void fmt(int64_t t, char *out)
{
    int y;
    unsigned m, d;
    int64_t day = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    ig_civil_from_days(day, &y, &m, &d);
    int64_t s = t - day * 86400;
    sprintf(out, "%04d-%02u-%02u %02d:%02d", y, m, d, (int)(s / 3600), (int)(s % 3600 / 60));
}

#define assert_time(got, want)                                                                   \
    do {                                                                                         \
        char g_[32], w_[32];                                                                     \
        fmt(got, g_);                                                                            \
        fmt(want, w_);                                                                           \
        if ((got) != (want)) fail_msg("got %s UTC, want %s UTC", g_, w_);                        \
    } while (0)

static void parse_errors(void **state)
{
    ig_cron c;
    ig_error e;
    assert_int_equal(ig_cron_parse("61 * * * *", &c, &e), IG_ERR_CONFIG);
    assert_non_null(strstr(e.message, "minute field"));
    assert_int_equal(e.column, 1);
    assert_int_equal(ig_cron_parse("0 25 * * *", &c, &e), IG_ERR_CONFIG);
    assert_non_null(strstr(e.message, "hour field"));
    assert_int_equal(e.column, 3);
    assert_int_equal(ig_cron_parse("* * *", &c, &e), IG_ERR_CONFIG);
    assert_non_null(strstr(e.message, "needs 5"));
    assert_int_equal(ig_cron_parse("* * * * * *", &c, &e), IG_ERR_CONFIG);
    assert_int_equal(ig_cron_parse("0 0 30 2 *", &c, &e), IG_ERR_CONFIG);
    assert_non_null(strstr(e.message, "never fires"));
    assert_int_equal(ig_cron_parse("@dayly", &c, &e), IG_ERR_CONFIG);
    assert_non_null(strstr(e.hint, "@daily"));
    assert_int_equal(ig_cron_parse("5-1 * * * *", &c, &e), IG_ERR_CONFIG);
    assert_int_equal(ig_cron_parse("*/0 * * * *", &c, &e), IG_ERR_CONFIG);
    assert_int_equal(ig_cron_parse("1, * * * *", &c, &e), IG_ERR_CONFIG);
    assert_int_equal(ig_cron_parse("0 0 * foo *", &c, &e), IG_ERR_CONFIG);
    /* valid forms */
    assert_int_equal(ig_cron_parse("*/15 9-17 * jan-mar mon-fri", &c, &e), 0);
    assert_int_equal(ig_cron_parse("0 0 * * 7", &c, &e), 0); /* 7 is Sunday */
    assert_int_equal(c.wdays, 1);
    assert_int_equal(ig_cron_parse("@weekly", &c, &e), 0);
    assert_int_equal(ig_cron_parse("0 0 29 2 *", &c, &e), 0); /* leap day exists */
}

static void zones(void **state)
{
    ig_tz *tz;
    ig_error e;
    assert_int_equal(ig_tz_load("Mars/Olympus_Mons", &tz, &e), IG_ERR_CONFIG);
    assert_non_null(strstr(e.message, "Mars/Olympus_Mons"));
    assert_int_equal(ig_tz_load("../../etc/passwd", &tz, &e), IG_ERR_CONFIG);
    ig_tz *ber = zone("Europe/Berlin");
    bool dst;
    assert_int_equal(ig_tz_offset(ber, utc(2026, 1, 15, 12, 0), &dst), 3600);
    assert_false(dst);
    assert_int_equal(ig_tz_offset(ber, utc(2026, 7, 15, 12, 0), &dst), 7200);
    assert_true(dst);
    /* far future: from the POSIX rule in the file's footer */
    assert_int_equal(ig_tz_offset(ber, utc(2090, 7, 15, 12, 0), NULL), 7200);
    assert_int_equal(ig_tz_offset(ber, utc(2090, 12, 15, 12, 0), NULL), 3600);
    /* gap and overlap */
    int64_t out[2];
    int64_t gap_local = utc(2026, 3, 29, 2, 30);   /* does not exist in Berlin */
    assert_int_equal(ig_tz_local_to_utc(ber, gap_local, out), 0);
    int64_t dup_local = utc(2026, 10, 25, 2, 30);  /* happens twice */
    assert_int_equal(ig_tz_local_to_utc(ber, dup_local, out), 2);
    assert_time(out[0], utc(2026, 10, 25, 0, 30));
    assert_time(out[1], utc(2026, 10, 25, 1, 30));
    ig_tz *ny = zone("America/New_York");
    assert_int_equal(ig_tz_offset(ny, utc(2026, 1, 1, 0, 0), NULL), -5 * 3600);
    ig_tz *kol = zone("Asia/Kolkata");
    assert_int_equal(ig_tz_offset(kol, utc(2026, 1, 1, 0, 0), NULL), 19800);
    ig_tz_free(kol);
    ig_tz_free(ny);
    ig_tz_free(ber);
}

static void simple_next(void **state)
{
    ig_tz *u = zone("UTC");
    ig_cron c = cron("*/15 * * * *");
    assert_time(ig_cron_next(&c, u, utc(2026, 1, 1, 0, 7)), utc(2026, 1, 1, 0, 15));
    assert_time(ig_cron_next(&c, u, utc(2026, 1, 1, 0, 15)), utc(2026, 1, 1, 0, 30));
    assert_time(ig_cron_next(&c, u, utc(2026, 12, 31, 23, 59)), utc(2027, 1, 1, 0, 0));
    c = cron("@daily");
    assert_time(ig_cron_next(&c, u, utc(2026, 2, 28, 12, 0)), utc(2026, 3, 1, 0, 0));
    /* month ends: the 31st skips short months */
    c = cron("0 0 31 * *");
    assert_time(ig_cron_next(&c, u, utc(2026, 4, 1, 0, 0)), utc(2026, 5, 31, 0, 0));
    /* leap years */
    c = cron("0 12 29 2 *");
    assert_time(ig_cron_next(&c, u, utc(2025, 1, 1, 0, 0)), utc(2028, 2, 29, 12, 0));
    assert_time(ig_cron_prev(&c, u, utc(2028, 2, 29, 12, 0)), utc(2024, 2, 29, 12, 0));
    /* 2100 is not a leap year */
    assert_time(ig_cron_next(&c, u, utc(2097, 1, 1, 0, 0)), utc(2104, 2, 29, 12, 0));
    /* day-of-month OR day-of-week when both are restricted (Vixie cron) */
    c = cron("0 0 1 * mon");
    assert_time(ig_cron_next(&c, u, utc(2026, 6, 1, 0, 0)), utc(2026, 6, 8, 0, 0)); /* a Monday */
    assert_time(ig_cron_next(&c, u, utc(2026, 6, 29, 0, 0)), utc(2026, 7, 1, 0, 0)); /* the 1st */
    /* business hours */
    c = cron("0 9-17/4 * * mon-fri");
    assert_time(ig_cron_next(&c, u, utc(2026, 11, 27, 17, 0)), utc(2026, 11, 30, 9, 0)); /* Fri -> Mon */
    ig_tz_free(u);
}

static void dst_berlin(void **state)
{
    ig_tz *ber = zone("Europe/Berlin");
    /* Daily at 02:30 local. Spring forward on 2026-03-29: 02:30 does not
     * exist; the run happens once, at 03:30 CEST (01:30 UTC). */
    ig_cron c = cron("30 2 * * *");
    int64_t t = ig_cron_next(&c, ber, utc(2026, 3, 27, 12, 0));
    assert_time(t, utc(2026, 3, 28, 1, 30)); /* 02:30 CET */
    t = ig_cron_next(&c, ber, t);
    assert_time(t, utc(2026, 3, 29, 1, 30)); /* 03:30 CEST: shifted, not skipped */
    t = ig_cron_next(&c, ber, t);
    assert_time(t, utc(2026, 3, 30, 0, 30)); /* 02:30 CEST */
    /* Fall back on 2026-10-25: 02:30 happens twice; the run happens once. */
    t = ig_cron_next(&c, ber, utc(2026, 10, 24, 12, 0));
    assert_time(t, utc(2026, 10, 25, 0, 30)); /* the first 02:30 (CEST) */
    t = ig_cron_next(&c, ber, t);
    assert_time(t, utc(2026, 10, 26, 1, 30)); /* next day 02:30 CET, not the second 02:30 */
    /* prev mirrors next */
    assert_time(ig_cron_prev(&c, ber, utc(2026, 10, 26, 1, 30)), utc(2026, 10, 25, 0, 30));
    assert_time(ig_cron_prev(&c, ber, utc(2026, 3, 30, 0, 30)), utc(2026, 3, 29, 1, 30));

    /* Hourly runs by elapsed time: on the fall-back day there are 25 runs,
     * on the spring-forward day 23, and never two at the same instant. */
    c = cron("@hourly");
    int n = 0;
    int64_t last = -1;
    for (t = ig_cron_next(&c, ber, utc(2026, 10, 24, 22, 0) - 1); t < utc(2026, 10, 25, 23, 0);
         t = ig_cron_next(&c, ber, t)) {
        assert_true(t > last);
        last = t;
        n++;
    }
    assert_int_equal(n, 25);
    n = 0;
    for (t = ig_cron_next(&c, ber, utc(2026, 3, 28, 23, 0) - 1); t < utc(2026, 3, 29, 22, 0);
         t = ig_cron_next(&c, ber, t))
        n++;
    assert_int_equal(n, 23);
    ig_tz_free(ber);
}

static void dst_new_york_and_intervals(void **state)
{
    ig_tz *ny = zone("America/New_York");
    /* weekdays at 09:00 local, across the November change (2026-11-01) */
    ig_cron c = cron("0 9 * * 1-5");
    int64_t t = ig_cron_next(&c, ny, utc(2026, 10, 30, 12, 0)); /* Fri 08:00 EDT */
    assert_time(t, utc(2026, 10, 30, 13, 0));                    /* 09:00 EDT */
    t = ig_cron_next(&c, ny, t);
    assert_time(t, utc(2026, 11, 2, 14, 0)); /* Mon 09:00 EST */
    /* data interval of the Monday run: [Friday's run, Monday's run) */
    assert_time(ig_cron_prev(&c, ny, t), utc(2026, 10, 30, 13, 0));
    /* daily at midnight: the interval is one local day, 23h on the
     * spring-forward day (2026-03-08) */
    c = cron("@daily");
    int64_t end = ig_cron_next(&c, ny, utc(2026, 3, 8, 12, 0));
    int64_t start = ig_cron_prev(&c, ny, end);
    assert_time(end, utc(2026, 3, 9, 4, 0));
    assert_time(start, utc(2026, 3, 8, 5, 0));
    assert_int_equal(end - start, 23 * 3600);
    ig_tz_free(ny);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_errors), cmocka_unit_test(zones), cmocka_unit_test(simple_next),
        cmocka_unit_test(dst_berlin), cmocka_unit_test(dst_new_york_and_intervals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
