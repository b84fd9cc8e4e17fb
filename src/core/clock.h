/* Time: monotonic clock for durations, wall clock for timestamps. */
#ifndef IG_CLOCK_H
#define IG_CLOCK_H

#include <stdint.h>
#include <stddef.h>

/* Monotonic nanoseconds. */
uint64_t ig_now_ns(void);
/* Wall clock microseconds since the Unix epoch. */
int64_t ig_wall_us(void);
/* Format wall-clock microseconds as ISO-8601 UTC ("2026-11-25T07:06:00.123456Z"). */
void ig_format_iso(int64_t us, char *out, size_t n);
/* Human duration: "12ms", "3.4s", "2m05s". */
void ig_format_duration(uint64_t ns, char *out, size_t n);

#endif
