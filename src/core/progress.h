/* Progress of long work (an ingest, a sync, a build): every long task in
 * ingot reports through one of these, so a person at a terminal sees a
 * progress bar (bytes, rows, rate, ETA) on stderr and a machine reading the
 * logs gets structured lines (ig_log_kv, event "progress") instead. When the
 * task ends, ig_progress_finish hands its outcome to a sink — the layer that
 * owns the warehouse records it in ingot.runs (see warehouse/runs.h) — so
 * every long task reports progress and results to one place.
 *
 * core/ has no dependency on the warehouse: the sink is a callback.
 * Thread-safe: updates may come from any thread (a mutex guards the state);
 * drawing happens at most every `interval_ms`. */
#ifndef IG_PROGRESS_H
#define IG_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ig_progress ig_progress;

/* What a finished task reports. Strings are borrowed for the call only. */
typedef struct ig_progress_result {
    const char *kind;    /* "ingest", "sync", "build", ... */
    const char *name;    /* what ran: "shop.orders" */
    const char *status;  /* "ok", "failed", "skipped", "interrupted" */
    const char *message; /* one line for people, or NULL */
    const char *details; /* a JSON object with more (counts, files), or NULL */
    uint64_t rows, bytes;
    int64_t started_us, finished_us; /* wall clock, microseconds since the epoch */
} ig_progress_result;

typedef void (*ig_progress_sink)(void *ctx, const ig_progress_result *r);

typedef struct ig_progress_opts {
    const char *kind;
    const char *name;
    uint64_t total_bytes;   /* 0: unknown (no bar or ETA, just counts and rate) */
    int tty;                /* 1: draw a bar; 0: log lines; -1: decide by isatty(2) */
    unsigned interval_ms;   /* 0: 100 ms on a terminal, 5000 ms in logs */
    bool quiet;             /* nothing on stderr (the sink still gets the result) */
    ig_progress_sink sink;  /* may be NULL */
    void *sink_ctx;
} ig_progress_opts;

/* Start reporting a task. Caller ends it with ig_progress_finish (which
 * frees it). Never NULL. */
ig_progress *ig_progress_start(const ig_progress_opts *opts);

/* Set the expected total (when it becomes known) and the phase shown
 * before the counts ("copying", "loading"); phase is copied. */
void ig_progress_set_total(ig_progress *p, uint64_t total_bytes);
void ig_progress_set_phase(ig_progress *p, const char *phase);

/* Absolute counts so far / increments. Cheap: draws only when the interval
 * has passed. */
void ig_progress_update(ig_progress *p, uint64_t bytes, uint64_t rows);
void ig_progress_add(ig_progress *p, uint64_t bytes, uint64_t rows);

/* Current counts (for callers that only track through the reporter). */
uint64_t ig_progress_bytes(const ig_progress *p);
uint64_t ig_progress_rows(const ig_progress *p);

/* End the task: clear the bar, log one "progress.done" line off a terminal,
 * hand the result to the sink, free p. status as in ig_progress_result;
 * rows/bytes are the final counts; message and details may be NULL. */
void ig_progress_finish(ig_progress *p, const char *status, uint64_t rows, uint64_t bytes,
                        const char *message, const char *details);

/* Formatting helpers (also used by reports): "1.5 GB", "12.3 MB/s",
 * "1,234,567", "1:02:03" / "2:05". */
void ig_format_bytes(uint64_t n, char *out, unsigned size);
void ig_format_count(uint64_t n, char *out, unsigned size);
void ig_format_eta(uint64_t seconds, char *out, unsigned size);

#endif
