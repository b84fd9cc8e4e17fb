/* Time zones from the system's zoneinfo database (TZif files, as Debian's
 * tzdata installs them in /usr/share/zoneinfo, or $TZDIR), read by us so
 * that each pipeline can have its own zone in a threaded daemon (glibc's
 * localtime depends on the process-global TZ). Instants are seconds since
 * the Unix epoch (UTC); "local" times are seconds since the epoch of the
 * local wall clock (as if the wall clock were UTC). */
#ifndef IG_TZ_H
#define IG_TZ_H

#include "core/error.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct ig_tz ig_tz;

/* Load a zone by IANA name ("Europe/Berlin", "UTC"). Errors: IG_ERR_CONFIG
 * naming the zone when it does not exist or its file is malformed. Caller
 * frees with ig_tz_free. */
ig_rc ig_tz_load(const char *name, ig_tz **out, ig_error *err);
void ig_tz_free(ig_tz *tz);
const char *ig_tz_name(const ig_tz *tz);

/* UTC offset in seconds (east positive) in force at instant `utc`. */
int32_t ig_tz_offset(const ig_tz *tz, int64_t utc, bool *is_dst);

/* The instants at which the local wall-clock reads `local`: 0 in a gap
 * (spring forward), 1 normally, 2 in an overlap (fall back; earlier first). */
int ig_tz_local_to_utc(const ig_tz *tz, int64_t local, int64_t out[2]);

/* Civil time helpers (proleptic Gregorian). */
int64_t ig_days_from_civil(int y, unsigned m, unsigned d);
void ig_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);

#endif
