/* Unit tests for the scheduler's decisions (which intervals are due), with
 * the clock given explicitly: catch-up on and off, start dates, month ends,
 * leap years and DST days. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "orchestrate/scheduler.h"

#include <stdio.h>
#include <string.h>

static int64_t utc(int y, int mo, int d, int h, int mi)
{
    return ig_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60;
}

static ig_pipeline make(const char *schedule, const char *zone, bool catchup, int64_t start_date)
{
    ig_pipeline pl;
    memset(&pl, 0, sizeof pl);
    ig_error e;
    pl.name = "p";
    pl.schedule = schedule;
    if (ig_cron_parse(schedule, &pl.cron, &e)) fail_msg("%s", e.message);
    if (ig_tz_load(zone, &pl.tz, &e)) fail_msg("%s", e.message);
    pl.catchup = catchup;
    pl.start_date = start_date;
    pl.max_active_runs = 1;
    return pl;
}

static void no_catchup(void **state)
{
    ig_pipeline pl = make("@daily", "UTC", false, -1);
    int64_t out[64][2];
    /* never run: only the latest complete interval */
    assert_int_equal(ig_sched_due(&pl, -1, utc(2026, 3, 10, 5, 0), out, 64), 1);
    assert_int_equal(out[0][0], utc(2026, 3, 9, 0, 0));
    assert_int_equal(out[0][1], utc(2026, 3, 10, 0, 0));
    /* that one ran: nothing until the next boundary */
    assert_int_equal(ig_sched_due(&pl, utc(2026, 3, 10, 0, 0), utc(2026, 3, 10, 23, 59), out, 64), 0);
    assert_int_equal(ig_sched_due(&pl, utc(2026, 3, 10, 0, 0), utc(2026, 3, 11, 0, 0), out, 64), 1);
    assert_int_equal(out[0][0], utc(2026, 3, 10, 0, 0));
    /* the daemon was down for days: still only the latest */
    assert_int_equal(ig_sched_due(&pl, utc(2026, 3, 5, 0, 0), utc(2026, 3, 10, 5, 0), out, 64), 1);
    assert_int_equal(out[0][0], utc(2026, 3, 9, 0, 0));
    ig_tz_free(pl.tz);
}

static void with_catchup(void **state)
{
    ig_pipeline pl = make("@daily", "UTC", true, -1);
    int64_t out[64][2];
    /* down since the 5th: every missed interval, oldest first */
    assert_int_equal(ig_sched_due(&pl, utc(2026, 3, 5, 0, 0), utc(2026, 3, 10, 5, 0), out, 64), 5);
    assert_int_equal(out[0][0], utc(2026, 3, 5, 0, 0));
    assert_int_equal(out[4][1], utc(2026, 3, 10, 0, 0));
    for (int i = 0; i < 4; i++) assert_int_equal(out[i][1], out[i + 1][0]);
    /* never run, no start date: only the latest */
    assert_int_equal(ig_sched_due(&pl, -1, utc(2026, 3, 10, 5, 0), out, 64), 1);
    /* never run, with a start date: from it */
    pl.start_date = utc(2026, 3, 7, 0, 0);
    assert_int_equal(ig_sched_due(&pl, -1, utc(2026, 3, 10, 5, 0), out, 64), 3);
    assert_int_equal(out[0][0], utc(2026, 3, 7, 0, 0));
    /* the limit is respected */
    assert_int_equal(ig_sched_due(&pl, -1, utc(2026, 4, 10, 5, 0), out, 4), 4);
    ig_tz_free(pl.tz);
}

static void months_and_leap_years(void **state)
{
    ig_pipeline pl = make("@monthly", "UTC", true, utc(2024, 1, 15, 0, 0));
    int64_t out[64][2];
    assert_int_equal(ig_sched_due(&pl, -1, utc(2024, 4, 2, 0, 0), out, 64), 2);
    assert_int_equal(out[0][0], utc(2024, 2, 1, 0, 0));
    assert_int_equal(out[0][1] - out[0][0], 29 * 86400); /* February 2024 */
    assert_int_equal(out[1][1] - out[1][0], 31 * 86400);
    ig_tz_free(pl.tz);
    /* the 31st only in months that have one */
    pl = make("0 6 31 * *", "UTC", true, utc(2026, 1, 1, 0, 0));
    assert_int_equal(ig_sched_due(&pl, -1, utc(2026, 8, 1, 0, 0), out, 64), 3); /* Jan31-Mar31, Mar31-May31, May31-Jul31 */
    assert_int_equal(out[0][0], utc(2026, 1, 31, 6, 0));
    assert_int_equal(out[1][0], utc(2026, 3, 31, 6, 0));
    ig_tz_free(pl.tz);
}

static void dst_days(void **state)
{
    int64_t out[64][2];
    /* hourly in Berlin across the fall-back night: 25 intervals in that day */
    ig_pipeline pl = make("@hourly", "Europe/Berlin", true, -1);
    size_t n = ig_sched_due(&pl, utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 23, 0), out, 64);
    assert_int_equal(n, 25);
    for (size_t i = 0; i < n; i++) assert_int_equal(out[i][1] - out[i][0], 3600);
    ig_tz_free(pl.tz);
    /* daily at 02:30 in Berlin: the spring-forward day's run happens once, at 03:30 CEST */
    pl = make("30 2 * * *", "Europe/Berlin", true, -1);
    n = ig_sched_due(&pl, utc(2026, 3, 27, 1, 30), utc(2026, 3, 30, 12, 0), out, 64);
    assert_int_equal(n, 3);
    assert_int_equal(out[0][1], utc(2026, 3, 28, 1, 30));
    assert_int_equal(out[1][1], utc(2026, 3, 29, 1, 30));
    assert_int_equal(out[2][1], utc(2026, 3, 30, 0, 30));
    assert_int_equal(out[1][1] - out[1][0], 86400);      /* 02:30 CET -> 03:30 CEST */
    assert_int_equal(out[2][1] - out[2][0], 23 * 3600);  /* 03:30 CEST -> 02:30 CEST */
    ig_tz_free(pl.tz);
    /* a pipeline without a schedule is never due */
    ig_pipeline manual;
    memset(&manual, 0, sizeof manual);
    assert_int_equal(ig_sched_due(&manual, -1, utc(2026, 1, 1, 0, 0), out, 64), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_catchup), cmocka_unit_test(with_catchup),
        cmocka_unit_test(months_and_leap_years), cmocka_unit_test(dst_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
