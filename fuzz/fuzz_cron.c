/* libFuzzer driver: cron expressions, then fire times in a DST zone. */
#include "orchestrate/cron.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ig_tz *tz;
    if (!tz && ig_tz_load("Europe/Berlin", &tz, NULL)) return 0;
    if (size > 256) return 0;
    char expr[257];
    memcpy(expr, data, size);
    expr[size] = '\0';
    ig_cron c;
    ig_error e;
    if (ig_cron_parse(expr, &c, &e)) return 0;
    int64_t t = 1790000000; /* 2026 */
    for (int i = 0; i < 3 && t >= 0; i++) {
        int64_t n = ig_cron_next(&c, tz, t);
        if (n >= 0 && n <= t) abort(); /* next must move forward */
        if (n >= 0 && ig_cron_prev(&c, tz, n) >= n) abort();
        t = n;
    }
    return 0;
}
