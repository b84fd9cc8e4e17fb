/* Schedules: five-field cron expressions and the @hourly / @daily / @weekly
 * / @monthly / @yearly shorthands, evaluated in a time zone.
 *
 * DST: a schedule whose hour field is a wildcard (e.g. hourly) fires by real
 * elapsed time: in a fall-back overlap both 01:00s fire, in a spring-forward
 * gap the missing hour does not exist. A schedule at fixed hours (e.g. daily
 * at 02:30) fires once per matching local day: a time inside a gap fires at
 * the same wall-clock distance after the gap (02:30 -> 03:30 when clocks
 * jump 02:00 -> 03:00), and a time inside an overlap fires at its first
 * occurrence. So a skipped hour never makes a run vanish and a repeated
 * hour never makes it run twice.
 *
 * Data intervals (as Airflow defines them): the run that fires at T covers
 * [previous fire time, T). */
#ifndef IG_CRON_H
#define IG_CRON_H

#include "core/error.h"
#include "orchestrate/tz.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct ig_cron {
    uint64_t minutes;  /* bit i: minute i (0-59) */
    uint32_t hours;    /* bit i: hour i (0-23) */
    uint32_t mdays;    /* bit i: day of month i (1-31) */
    uint16_t months;   /* bit i: month i (1-12) */
    uint8_t wdays;     /* bit i: weekday i (0 = Sunday .. 6) */
    bool mday_star, wday_star; /* field was '*' (for the DOM/DOW "or" rule) */
    bool hour_star;    /* hour field is every hour: fire by elapsed time */
} ig_cron;

/* Parse an expression. Errors (IG_ERR_CONFIG) say which field and what is
 * wrong, with err->column set to the 1-based position in expr; an
 * expression that can never fire (e.g. "0 0 30 2 *") is an error too. */
ig_rc ig_cron_parse(const char *expr, ig_cron *out, ig_error *err);

/* The first fire time strictly after `after` (UTC seconds), or -1 if none
 * within 10 years. */
int64_t ig_cron_next(const ig_cron *c, const ig_tz *tz, int64_t after);
/* The last fire time strictly before `before`, or -1 if none within 10 years. */
int64_t ig_cron_prev(const ig_cron *c, const ig_tz *tz, int64_t before);

#endif
