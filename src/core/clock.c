/* Clocks and time formatting. */
#include "clock.h"

#include <stdio.h>
#include <time.h>

uint64_t ig_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t ig_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void ig_format_iso(int64_t us, char *out, size_t n)
{
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(us % 1000000));
}

void ig_format_duration(uint64_t ns, char *out, size_t n)
{
    double ms = (double)ns / 1e6;
    if (ms < 1) snprintf(out, n, "%.2fms", ms);
    else if (ms < 1000) snprintf(out, n, "%.0fms", ms);
    else if (ms < 60000) snprintf(out, n, "%.1fs", ms / 1000);
    else {
        unsigned long s = (unsigned long)(ms / 1000);
        snprintf(out, n, "%lum%02lus", s / 60, s % 60);
    }
}
