/* The collector's write-ahead log: what makes "an accepted event is on disk
 * before the 200" true at tens of thousands of requests per second.
 *
 * Records are appended by any thread into an in-memory buffer and given a
 * position (LSN: the byte offset just past the record in the logical log). One
 * writer thread takes the whole buffer, writes it to the current segment file
 * and calls fdatasync once for all of it (group commit: every request that
 * arrived while the previous fsync ran shares the next one). A record is
 * durable once ig_wal_status() says so; the collector answers 200 only then.
 *
 * On disk (docs/internals/wal.md): a directory of segment files named by the
 * LSN of their first record, "<20 digits>.wal", each a 16-byte header
 * ("IGWAL001" + base LSN) followed by records:
 *     u32 payload length | u32 CRC-32 of (kind, payload) | u8 kind | 3 zero bytes | payload
 * all little-endian. Opening the log scans the last segment and cuts a torn
 * tail (a record cut short or failing its CRC: it was never acknowledged).
 * Segments are deleted only when every record in them is loaded
 * (ig_wal_release). A file "wal.id" names this log so that a checkpoint kept
 * elsewhere is never applied to another log.
 *
 * Thread-safety: ig_wal_append / ig_wal_status / ig_wal_durable / the stats
 * are safe from any thread; readers are one per thread. */
#ifndef IG_WAL_H
#define IG_WAL_H

#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IG_WAL_HEADER 12       /* bytes before each record's payload */
#define IG_WAL_FILE_HEADER 16  /* bytes at the start of each segment */

typedef struct ig_wal ig_wal;

typedef struct ig_wal_options {
    const char *dir;           /* created if missing */
    size_t segment_bytes;      /* roll to a new segment past this; default 64 MiB */
    size_t max_pending_bytes;  /* appended but not yet written; past it appends fail
                                * with IG_ERR_LIMIT; default 64 MiB */
    size_t max_record_bytes;   /* default 16 MiB */
    bool no_sync;              /* tests and benchmarks only: skip fdatasync */
    int group_commit_us;       /* wait this long after the first pending record before
                                * writing, so more requests share the fsync; 0: none
                                * (the next fsync takes whatever arrived during the last) */
    /* Called on the writer thread after each group commit (and on failure). */
    void (*on_durable)(void *ud);
    void *ud;
} ig_wal_options;

/* Open (or create) the log in opt->dir, recover the tail, start the writer
 * thread. Errors: IG_ERR_IO (with the path), IG_ERR_DATA when a segment
 * header is not ours. Caller closes with ig_wal_close. */
ig_rc ig_wal_open(const ig_wal_options *opt, ig_wal **out, ig_error *err);

/* Write what is pending, fsync, stop the writer, close files. NULL is fine. */
void ig_wal_close(ig_wal *w);

/* Append one record made of two parts (p2 may be NULL). *lsn receives the
 * record's end position: wait for ig_wal_status(w, lsn) == 1 before telling
 * anyone it is kept. Returns IG_OK; IG_ERR_LIMIT when the pending buffer is
 * full (answer 503 and let the client retry); IG_ERR_IO once the log has
 * failed (a write or fsync error: the log refuses everything after it). */
ig_rc ig_wal_append(ig_wal *w, uint8_t kind, const void *p1, size_t n1, const void *p2, size_t n2,
                    uint64_t *lsn);

/* 1 when everything up to lsn is on disk, 0 while pending, -1 when the log
 * failed before it got there. */
int ig_wal_status(ig_wal *w, uint64_t lsn);
/* Position up to which the log is on disk. */
uint64_t ig_wal_durable(ig_wal *w);
/* Block until everything appended so far is durable (or the log failed). */
ig_rc ig_wal_sync(ig_wal *w, ig_error *err);
/* Block until the durable position passes `lsn` or timeout_ms passes;
 * returns the durable position. */
uint64_t ig_wal_wait(ig_wal *w, uint64_t lsn, int timeout_ms);

/* Delete the segments whose records all lie before `lsn` (they are loaded).
 * The segment being written is never deleted. */
ig_rc ig_wal_release(ig_wal *w, uint64_t lsn, ig_error *err);

/* This log's identity (32 hex characters), borrowed for the log's life. */
const char *ig_wal_id(const ig_wal *w);
const char *ig_wal_dir(const ig_wal *w);
/* LSN of the first record still on disk. */
uint64_t ig_wal_first(ig_wal *w);

typedef struct ig_wal_stats {
    uint64_t appended_bytes, records, fsyncs, durable, first, disk_bytes, pending_bytes;
    bool failed;
} ig_wal_stats;
void ig_wal_get_stats(ig_wal *w, ig_wal_stats *out);

/* ---- reading ---------------------------------------------------------------
 * A reader walks the segments in dir from a position, record by record, and
 * never past `limit` (pass the durable position: what is not yet durable may
 * still vanish in a crash). */

typedef struct ig_wal_reader ig_wal_reader;

typedef struct ig_wal_record {
    uint64_t lsn;      /* start position of the record */
    uint64_t end;      /* position just past it */
    uint8_t kind;
    const char *data;  /* borrowed until the next read */
    size_t len;
} ig_wal_record;

/* Open a reader at position `from` (a record boundary, e.g. a checkpoint).
 * Caller closes with ig_wal_reader_close. */
ig_rc ig_wal_reader_open(const char *dir, uint64_t from, ig_wal_reader **out, ig_error *err);
/* Read the next record ending at or before `limit`: 1 and *rec; 0 when there
 * is none yet; -1 on an error (err: a corrupt record names its segment and
 * offset; the reader then stands at the next segment so the caller can skip
 * the damage after recording it). */
int ig_wal_reader_next(ig_wal_reader *r, uint64_t limit, ig_wal_record *rec, ig_error *err);
/* The reader's position (the next record's start). */
uint64_t ig_wal_reader_pos(const ig_wal_reader *r);
void ig_wal_reader_close(ig_wal_reader *r);

/* CRC-32 as used in records (zlib's polynomial) of kind and payload. */
uint32_t ig_wal_crc(uint8_t kind, const void *p, size_t n);

#endif
