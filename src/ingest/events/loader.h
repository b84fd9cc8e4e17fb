/* The loader: moves durable WAL records into the raw zone (NDJSON files by
 * event date) and into bronze, in batches by size or time, with its
 * checkpoint (the WAL position it has loaded up to) committed in the same
 * warehouse transaction as the rows. After a crash it resumes at the
 * checkpoint: raw files written for a batch that never committed are found
 * by their name (they carry the WAL position) and deleted first, so every
 * record lands exactly once. WAL segments are released only once loaded.
 *
 * Tables (per source, created on first use):
 *   bronze.<source>__events          the Segment/RudderStack calls
 *   bronze.<source>__events__rejects refused requests with their reason
 *   bronze.<source>__webhooks        webhook calls
 *   bronze.<source>__messages        Pub/Sub messages
 *   silver.<source>__events          view: bronze without duplicate messageIds
 * Platform tables: ingot.event_checkpoints, ingot.event_batches.
 *
 * Thread-safety: the loader runs on its own thread and is the only user of
 * the warehouse connection it is given while it runs. */
#ifndef IG_EVENTS_LOADER_H
#define IG_EVENTS_LOADER_H

#include "ingest/events/events.h"
#include "ingest/events/wal.h"
#include "warehouse/warehouse.h"

typedef struct ig_ev_loader ig_ev_loader;

typedef struct ig_ev_loader_options {
    ig_wal *wal;              /* borrowed */
    ig_wh *wh;                /* borrowed; used only by the loader's thread */
    const char *lake_dir;     /* the project's lake folder; raw files go to <lake>/raw/... */
    const ig_ev_config *cfg;  /* borrowed; dedup windows (ig_ev_loader_set_config swaps it) */
    int interval_ms;          /* load at least this often when there is something; default
                               * 1000; < 0: load only at shutdown (benchmarks of the collector) */
    size_t batch_bytes;       /* load early once this much is waiting; most per batch x4;
                               * default 8 MiB */
} ig_ev_loader_options;

typedef struct ig_ev_loader_stats {
    uint64_t checkpoint;      /* WAL position loaded up to */
    uint64_t events, batches, errors, corrupt_records;
    int64_t last_load_us;     /* wall clock of the last commit, 0 before */
    uint64_t oldest_waiting_us; /* age of the oldest durable record not yet loaded, 0 if none */
} ig_ev_loader_stats;

/* Read the checkpoint, delete leftovers of a batch that never committed,
 * and (unless no_thread) start the loader thread. Caller stops it with
 * ig_ev_loader_stop. */
ig_rc ig_ev_loader_start(const ig_ev_loader_options *opt, bool no_thread, ig_ev_loader **out,
                         ig_error *err);
/* Load everything durable now, in as many batches as needed (for tests,
 * `ingot serve --once` and the drain at shutdown). *loaded gets the events
 * (rows of every stream) loaded. Only when the thread is not running. */
ig_rc ig_ev_loader_run(ig_ev_loader *l, uint64_t *loaded, ig_error *err);
/* Stop the thread; with drain, load what is durable first (up to
 * drain_ms). Frees the loader. */
void ig_ev_loader_stop(ig_ev_loader *l, bool drain, int drain_ms);
void ig_ev_loader_set_config(ig_ev_loader *l, const ig_ev_config *cfg);
void ig_ev_loader_get_stats(ig_ev_loader *l, ig_ev_loader_stats *out);

#endif
