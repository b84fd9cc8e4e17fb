/* The write-ahead log (see wal.h for the contract, docs/internals/wal.md for
 * the format and the reasoning). Appenders copy records into `fill` under a
 * mutex; the writer thread swaps `fill` with `flush`, writes it and fsyncs
 * once, then publishes the new durable position and calls on_durable so
 * parked HTTP responses can go out. */
#include "ingest/events/wal.h"

#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static const char MAGIC[8] = {'I', 'G', 'W', 'A', 'L', '0', '0', '1'};

struct ig_wal {
    ig_wal_options opt;
    char *dir;
    char id[33];
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    ig_buf fill, flush;
    uint64_t next_lsn;        /* end of the last appended record */
    _Atomic uint64_t durable; /* on disk up to here */
    atomic_bool failed;
    bool stop;
    pthread_t writer;
    bool writer_started;
    /* segments on disk, by base LSN (under mu) */
    uint64_t *segs;
    size_t nsegs, segcap;
    int seg_fd;               /* the segment being written (writer thread) */
    uint64_t seg_base;
    uint64_t seg_end;         /* LSN written so far into it */
    _Atomic uint64_t stat_bytes, stat_records, stat_fsyncs;
};

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}
static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}
static uint64_t get64(const unsigned char *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

uint32_t ig_wal_crc(uint8_t kind, const void *p, size_t n)
{
    unsigned char k[4] = {kind, 0, 0, 0};
    uLong c = crc32(0L, k, 4);
    const unsigned char *b = p;
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, b, chunk);
        b += chunk;
        n -= chunk;
    }
    return (uint32_t)c;
}

static char *seg_path(const char *dir, uint64_t base)
{
    return ig_asprintf("%s/%020" PRIu64 ".wal", dir, base);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Segment bases found in dir, sorted; caller frees *out. */
static ig_rc list_segments(const char *dir, uint64_t **out, size_t *n, ig_error *err)
{
    DIR *d = opendir(dir);
    if (!d) return ig_err(err, IG_ERR_IO, "cannot read the WAL directory %s: %s", dir, strerror(errno));
    uint64_t *v = NULL;
    size_t nv = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l != 24 || strcmp(e->d_name + 20, ".wal") || strspn(e->d_name, "0123456789") != 20)
            continue;
        if (nv == cap) {
            cap = cap ? cap * 2 : 16;
            v = ig_realloc(v, cap * sizeof *v);
        }
        v[nv++] = strtoull(e->d_name, NULL, 10);
    }
    closedir(d);
    if (nv) qsort(v, nv, sizeof *v, cmp_u64);
    *out = v;
    *n = nv;
    return IG_OK;
}

static int write_all(int fd, const void *p, size_t n, off_t off)
{
    const char *c = p;
    while (n) {
        ssize_t w = pwrite(fd, c, n, off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

/* Create segment `base` (header written and synced, directory synced). */
static int create_segment(ig_wal *w, uint64_t base, ig_error *err)
{
    char *p = seg_path(w->dir, base);
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    unsigned char hdr[IG_WAL_FILE_HEADER];
    memcpy(hdr, MAGIC, 8);
    put64(hdr + 8, base);
    if (fd < 0 || write_all(fd, hdr, sizeof hdr, 0) < 0 || (!w->opt.no_sync && fdatasync(fd) < 0)) {
        ig_err(err, IG_ERR_IO, "cannot create WAL segment %s: %s", p, strerror(errno));
        if (fd >= 0) close(fd);
        free(p);
        return -1;
    }
    free(p);
    if (!w->opt.no_sync && ig_fs_sync_dir(w->dir, err)) {
        close(fd);
        return -1;
    }
    pthread_mutex_lock(&w->mu);
    if (w->nsegs == w->segcap) {
        w->segcap = w->segcap ? w->segcap * 2 : 16;
        w->segs = ig_realloc(w->segs, w->segcap * sizeof *w->segs);
    }
    w->segs[w->nsegs++] = base;
    pthread_mutex_unlock(&w->mu);
    return fd;
}

/* Scan the last segment, cut a torn tail, and leave it open for writing. */
static ig_rc recover_tail(ig_wal *w, uint64_t base, ig_error *err)
{
    char *p = seg_path(w->dir, base);
    int fd = open(p, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        ig_err(err, IG_ERR_IO, "cannot open WAL segment %s: %s", p, strerror(errno));
        free(p);
        return IG_ERR_IO;
    }
    struct stat st;
    fstat(fd, &st);
    size_t size = (size_t)st.st_size;
    unsigned char *buf = ig_malloc(size ? size : 1);
    size_t got = 0;
    while (got < size) {
        ssize_t r = pread(fd, buf + got, size - got, (off_t)got);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) continue;
            break;
        }
        got += (size_t)r;
    }
    size_t good;
    if (got < IG_WAL_FILE_HEADER) {
        /* a crash while creating it: write the header again */
        unsigned char hdr[IG_WAL_FILE_HEADER];
        memcpy(hdr, MAGIC, 8);
        put64(hdr + 8, base);
        if (write_all(fd, hdr, sizeof hdr, 0) < 0) goto ioerr;
        good = IG_WAL_FILE_HEADER;
    } else {
        if (memcmp(buf, MAGIC, 8) || get64(buf + 8) != base) {
            ig_err(err, IG_ERR_DATA, "%s is not an ingot WAL segment (bad header)", p);
            ig_err_hint(err, "move it out of the WAL directory; it was not written by ingot");
            free(buf);
            free(p);
            close(fd);
            return IG_ERR_DATA;
        }
        good = IG_WAL_FILE_HEADER;
        while (good + IG_WAL_HEADER <= got) {
            uint32_t len = get32(buf + good), crc = get32(buf + good + 4);
            if (len > w->opt.max_record_bytes || good + IG_WAL_HEADER + len > got) break;
            if (buf[good + 9] || buf[good + 10] || buf[good + 11]) break;
            if (ig_wal_crc(buf[good + 8], buf + good + IG_WAL_HEADER, len) != crc) break;
            good += IG_WAL_HEADER + len;
        }
    }
    if (good < size) {
        ig_warn("wal.recover", "WAL %s: cut %zu bytes of a torn tail at offset %zu (records that "
                "were never acknowledged)", p, size - good, good);
        if (ftruncate(fd, (off_t)good) < 0) goto ioerr;
    }
    if (!w->opt.no_sync && fdatasync(fd) < 0) goto ioerr;
    free(buf);
    free(p);
    w->seg_fd = fd;
    w->seg_base = base;
    w->seg_end = base + (good - IG_WAL_FILE_HEADER);
    return IG_OK;
ioerr:
    ig_err(err, IG_ERR_IO, "cannot recover WAL segment %s: %s", p, strerror(errno));
    free(buf);
    free(p);
    close(fd);
    return IG_ERR_IO;
}

static ig_rc load_id(ig_wal *w, ig_error *err)
{
    char *path = ig_path_join(w->dir, "wal.id");
    char *text = NULL;
    size_t len = 0;
    ig_rc rc = ig_fs_read(path, 4096, &text, &len, err);
    if (!rc && len >= 32) {
        memcpy(w->id, text, 32);
        w->id[32] = 0;
        free(text);
        free(path);
        return IG_OK;
    }
    free(text);
    unsigned char r[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, r, sizeof r) != (ssize_t)sizeof r) {
        for (size_t i = 0; i < sizeof r; i++) r[i] = (unsigned char)(rand() ^ (int)time(NULL) ^ (int)i);
    }
    if (fd >= 0) close(fd);
    for (int i = 0; i < 16; i++) snprintf(w->id + 2 * i, 3, "%02x", r[i]);
    char line[40];
    snprintf(line, sizeof line, "%s\n", w->id);
    rc = ig_fs_write_atomic(path, line, 33, 0644, err);
    free(path);
    return rc;
}

static void fail_log(ig_wal *w, const char *what)
{
    ig_error_log("wal.failed", "the write-ahead log in %s failed (%s: %s); the collector now "
                 "refuses events until it is restarted", w->dir, what, strerror(errno));
    atomic_store(&w->failed, true);
}

/* Write the records in buf (which start at LSN `lsn`), rolling segments at
 * record boundaries. */
static int write_records(ig_wal *w, const ig_buf *buf, uint64_t lsn)
{
    size_t i = 0, run = 0; /* run: start of the bytes not yet written */
    while (i < buf->len) {
        uint32_t len = get32((const unsigned char *)buf->data + i);
        size_t rec = IG_WAL_HEADER + len;
        if (w->seg_end > w->seg_base && w->seg_end - w->seg_base + rec > w->opt.segment_bytes) {
            if (i > run) {
                off_t off = (off_t)(IG_WAL_FILE_HEADER + (w->seg_end - w->seg_base));
                if (write_all(w->seg_fd, buf->data + run, i - run, off) < 0) return -1;
                w->seg_end += i - run;
            }
            run = i;
            if (!w->opt.no_sync && fdatasync(w->seg_fd) < 0) return -1;
            close(w->seg_fd);
            ig_error e;
            int fd = create_segment(w, lsn + i, &e);
            if (fd < 0) {
                ig_error_log("wal.roll", "%s", e.message);
                w->seg_fd = -1;
                return -1;
            }
            w->seg_fd = fd;
            w->seg_base = w->seg_end = lsn + i;
        }
        i += rec;
    }
    if (i > run) {
        off_t off = (off_t)(IG_WAL_FILE_HEADER + (w->seg_end - w->seg_base));
        if (write_all(w->seg_fd, buf->data + run, i - run, off) < 0) return -1;
        w->seg_end += i - run;
    }
    return 0;
}

static void *writer_main(void *arg)
{
    ig_wal *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->fill.len && !w->stop) pthread_cond_wait(&w->work, &w->mu);
        if (!w->fill.len && w->stop) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        if (w->opt.group_commit_us > 0 && !w->stop) {
            /* a commit window: let more requests join this fsync (fewer,
             * larger commits on disks where an fsync is slow) */
            pthread_mutex_unlock(&w->mu);
            struct timespec ts = {0, (long)w->opt.group_commit_us * 1000};
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&w->mu);
        }
        ig_buf t = w->fill;
        w->fill = w->flush;
        w->flush = t;
        uint64_t end = w->next_lsn;
        pthread_mutex_unlock(&w->mu);
        uint64_t start = end - w->flush.len;
        if (!atomic_load(&w->failed)) {
            if (write_records(w, &w->flush, start) < 0) fail_log(w, "write");
            else if (!w->opt.no_sync && fdatasync(w->seg_fd) < 0) fail_log(w, "fdatasync");
            else {
                atomic_fetch_add(&w->stat_fsyncs, 1);
                atomic_store(&w->durable, end);
            }
        }
        ig_buf_reset(&w->flush);
        if (w->flush.alloc > (8u << 20)) { /* do not keep a burst's memory forever */
            ig_buf_free(&w->flush);
            ig_buf_init(&w->flush, 0);
        }
        pthread_mutex_lock(&w->mu);
        pthread_cond_broadcast(&w->done);
        pthread_mutex_unlock(&w->mu);
        if (w->opt.on_durable) w->opt.on_durable(w->opt.ud);
    }
    return NULL;
}

ig_rc ig_wal_open(const ig_wal_options *opt, ig_wal **out, ig_error *err)
{
    ig_wal *w = ig_calloc(1, sizeof *w);
    w->opt = *opt;
    if (!w->opt.segment_bytes) w->opt.segment_bytes = 64u << 20;
    if (!w->opt.max_pending_bytes) w->opt.max_pending_bytes = 64u << 20;
    if (!w->opt.max_record_bytes) w->opt.max_record_bytes = 16u << 20;
    w->dir = ig_strdup(opt->dir);
    w->seg_fd = -1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->done, NULL);
    ig_buf_init(&w->fill, 0);
    ig_buf_init(&w->flush, 0);
    ig_rc rc = ig_fs_mkdirs(w->dir, err);
    if (!rc) rc = load_id(w, err);
    uint64_t *segs = NULL;
    size_t n = 0;
    if (!rc) rc = list_segments(w->dir, &segs, &n, err);
    if (rc) goto fail;
    if (n == 0) {
        w->seg_fd = create_segment(w, 0, err);
        if (w->seg_fd < 0) {
            rc = err->code;
            goto fail;
        }
        w->seg_base = w->seg_end = 0;
    } else {
        w->segs = segs;
        w->nsegs = w->segcap = n;
        segs = NULL;
        rc = recover_tail(w, w->segs[n - 1], err);
        if (rc) goto fail;
    }
    free(segs);
    w->next_lsn = w->seg_end;
    atomic_store(&w->durable, w->seg_end);
    if (pthread_create(&w->writer, NULL, writer_main, w)) {
        rc = ig_err(err, IG_ERR_INTERNAL, "cannot start the WAL writer thread");
        goto fail;
    }
    w->writer_started = true;
    *out = w;
    return IG_OK;
fail:
    free(segs);
    ig_wal_close(w);
    return rc;
}

void ig_wal_close(ig_wal *w)
{
    if (!w) return;
    if (w->writer_started) {
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_signal(&w->work);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->writer, NULL);
    }
    if (w->seg_fd >= 0) close(w->seg_fd);
    ig_buf_free(&w->fill);
    ig_buf_free(&w->flush);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->done);
    free(w->segs);
    free(w->dir);
    free(w);
}

ig_rc ig_wal_append(ig_wal *w, uint8_t kind, const void *p1, size_t n1, const void *p2, size_t n2,
                    uint64_t *lsn)
{
    if (atomic_load_explicit(&w->failed, memory_order_relaxed)) return IG_ERR_IO;
    size_t len = n1 + n2;
    if (len > w->opt.max_record_bytes) return IG_ERR_LIMIT;
    unsigned char hdr[IG_WAL_HEADER] = {0};
    put32(hdr, (uint32_t)len);
    unsigned char k[4] = {kind, 0, 0, 0};
    uLong c = crc32(0L, k, 4);
    if (n1) c = crc32(c, p1, (uInt)n1);
    if (n2) c = crc32(c, p2, (uInt)n2);
    put32(hdr + 4, (uint32_t)c);
    hdr[8] = kind;
    pthread_mutex_lock(&w->mu);
    if (w->fill.len + IG_WAL_HEADER + len > w->opt.max_pending_bytes) {
        pthread_mutex_unlock(&w->mu);
        return IG_ERR_LIMIT;
    }
    bool was_empty = w->fill.len == 0;
    ig_buf_append(&w->fill, hdr, sizeof hdr);
    if (n1) ig_buf_append(&w->fill, p1, n1);
    if (n2) ig_buf_append(&w->fill, p2, n2);
    w->next_lsn += IG_WAL_HEADER + len;
    *lsn = w->next_lsn;
    if (was_empty) pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    atomic_fetch_add_explicit(&w->stat_bytes, IG_WAL_HEADER + len, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->stat_records, 1, memory_order_relaxed);
    return IG_OK;
}

int ig_wal_status(ig_wal *w, uint64_t lsn)
{
    if (atomic_load_explicit(&w->durable, memory_order_acquire) >= lsn) return 1;
    return atomic_load_explicit(&w->failed, memory_order_relaxed) ? -1 : 0;
}

uint64_t ig_wal_durable(ig_wal *w) { return atomic_load_explicit(&w->durable, memory_order_acquire); }

uint64_t ig_wal_wait(ig_wal *w, uint64_t lsn, int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->mu);
    while (atomic_load(&w->durable) < lsn && !atomic_load(&w->failed) && !w->stop)
        if (pthread_cond_timedwait(&w->done, &w->mu, &ts) == ETIMEDOUT) break;
    pthread_mutex_unlock(&w->mu);
    return atomic_load(&w->durable);
}

ig_rc ig_wal_sync(ig_wal *w, ig_error *err)
{
    pthread_mutex_lock(&w->mu);
    uint64_t target = w->next_lsn;
    while (atomic_load(&w->durable) < target && !atomic_load(&w->failed))
        pthread_cond_wait(&w->done, &w->mu);
    pthread_mutex_unlock(&w->mu);
    if (atomic_load(&w->failed))
        return ig_err(err, IG_ERR_IO, "the write-ahead log in %s failed", w->dir);
    return IG_OK;
}

ig_rc ig_wal_release(ig_wal *w, uint64_t lsn, ig_error *err)
{
    /* segment i may go when segment i+1 starts at or before lsn; never the last */
    for (;;) {
        pthread_mutex_lock(&w->mu);
        if (w->nsegs < 2 || w->segs[1] > lsn) {
            pthread_mutex_unlock(&w->mu);
            return IG_OK;
        }
        uint64_t base = w->segs[0];
        memmove(w->segs, w->segs + 1, (w->nsegs - 1) * sizeof *w->segs);
        w->nsegs--;
        pthread_mutex_unlock(&w->mu);
        char *p = seg_path(w->dir, base);
        if (unlink(p) < 0 && errno != ENOENT) {
            ig_err(err, IG_ERR_IO, "cannot delete loaded WAL segment %s: %s", p, strerror(errno));
            free(p);
            return IG_ERR_IO;
        }
        ig_debug("wal.release", "deleted loaded WAL segment %s", p);
        free(p);
    }
}

const char *ig_wal_id(const ig_wal *w) { return w->id; }
const char *ig_wal_dir(const ig_wal *w) { return w->dir; }

uint64_t ig_wal_first(ig_wal *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t f = w->nsegs ? w->segs[0] : 0;
    pthread_mutex_unlock(&w->mu);
    return f;
}

void ig_wal_get_stats(ig_wal *w, ig_wal_stats *o)
{
    memset(o, 0, sizeof *o);
    o->appended_bytes = atomic_load(&w->stat_bytes);
    o->records = atomic_load(&w->stat_records);
    o->fsyncs = atomic_load(&w->stat_fsyncs);
    o->durable = atomic_load(&w->durable);
    o->failed = atomic_load(&w->failed);
    pthread_mutex_lock(&w->mu);
    o->first = w->nsegs ? w->segs[0] : 0;
    o->pending_bytes = w->fill.len;
    o->disk_bytes = w->next_lsn - o->first - o->pending_bytes + w->nsegs * IG_WAL_FILE_HEADER;
    pthread_mutex_unlock(&w->mu);
}

/* ---- reader --------------------------------------------------------------- */

struct ig_wal_reader {
    char *dir;
    uint64_t pos;
    int fd;
    uint64_t base;        /* of the open segment */
    unsigned char *buf;   /* cached bytes of the segment file */
    size_t cap, blen;
    uint64_t boff;        /* file offset of buf[0] */
};

/* Open the segment holding pos: the one with the largest base <= pos. */
static int reader_seek(ig_wal_reader *r, ig_error *err)
{
    uint64_t *segs;
    size_t n;
    if (list_segments(r->dir, &segs, &n, err)) return -1;
    size_t k = n;
    for (size_t i = 0; i < n; i++)
        if (segs[i] <= r->pos) k = i;
    if (k == n) {
        uint64_t first = n ? segs[0] : 0;
        free(segs);
        if (n == 0) return 0;
        ig_err(err, IG_ERR_DATA, "WAL position %" PRIu64 " is before the first segment in %s "
               "(%" PRIu64 "): records were deleted before they were loaded",
               r->pos, r->dir, first);
        return -1;
    }
    uint64_t base = segs[k];
    free(segs);
    if (r->fd >= 0 && r->base == base) return 1;
    if (r->fd >= 0) close(r->fd);
    char *p = seg_path(r->dir, base);
    r->fd = open(p, O_RDONLY | O_CLOEXEC);
    free(p);
    if (r->fd < 0) return 0;
    r->base = base;
    r->blen = 0;
    r->boff = 0;
    return 1;
}

/* Make file bytes [off, off+n) available in r->buf; returns how many are. */
static size_t reader_fill(ig_wal_reader *r, uint64_t off, size_t n)
{
    if (off >= r->boff && off + n <= r->boff + r->blen) return n;
    size_t want = n > (1u << 20) ? n : (1u << 20);
    if (want > r->cap) {
        r->buf = ig_realloc(r->buf, want);
        r->cap = want;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t k = pread(r->fd, r->buf + got, want - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    r->boff = off;
    r->blen = got;
    return got < n ? got : n;
}

ig_rc ig_wal_reader_open(const char *dir, uint64_t from, ig_wal_reader **out, ig_error *err)
{
    ig_wal_reader *r = ig_calloc(1, sizeof *r);
    r->dir = ig_strdup(dir);
    r->pos = from;
    r->fd = -1;
    if (reader_seek(r, err) < 0) {
        ig_wal_reader_close(r);
        return err->code;
    }
    *out = r;
    return IG_OK;
}

int ig_wal_reader_next(ig_wal_reader *r, uint64_t limit, ig_wal_record *rec, ig_error *err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (r->pos + IG_WAL_HEADER > limit) return 0;
        if (r->fd < 0) {
            int s = reader_seek(r, err);
            if (s <= 0) return s;
        }
        uint64_t off = IG_WAL_FILE_HEADER + (r->pos - r->base);
        if (reader_fill(r, off, IG_WAL_HEADER) < IG_WAL_HEADER) {
            /* the end of this segment: the next one starts at pos */
            close(r->fd);
            r->fd = -1;
            int s = reader_seek(r, err);
            if (s <= 0) return s;
            if (r->base != r->pos) return 0;
            continue;
        }
        const unsigned char *h = r->buf + (off - r->boff);
        uint32_t len = get32(h), crc = get32(h + 4);
        uint8_t kind = h[8];
        if (r->pos + IG_WAL_HEADER + len > limit) return 0;
        if (len > (256u << 20) || h[9] || h[10] || h[11] ||
            reader_fill(r, off, IG_WAL_HEADER + len) < IG_WAL_HEADER + len ||
            ig_wal_crc(kind, r->buf + (off - r->boff) + IG_WAL_HEADER, len) != crc) {
            char *p = seg_path(r->dir, r->base);
            ig_err(err, IG_ERR_DATA, "corrupt WAL record in %s at offset %" PRIu64 " (LSN %" PRIu64 ")",
                   p, off, r->pos);
            ig_err_hint(err, "the reader skips to the next segment; the loader keeps a copy of "
                             "this one in the WAL's quarantine/ folder");
            free(p);
            /* stand at the next segment, if any */
            uint64_t *segs;
            size_t n;
            if (!list_segments(r->dir, &segs, &n, err)) {
                for (size_t i = 0; i < n; i++)
                    if (segs[i] > r->pos) {
                        r->pos = segs[i];
                        break;
                    }
                free(segs);
            }
            close(r->fd);
            r->fd = -1;
            return -1;
        }
        rec->lsn = r->pos;
        rec->end = r->pos + IG_WAL_HEADER + len;
        rec->kind = kind;
        rec->data = (const char *)r->buf + (off - r->boff) + IG_WAL_HEADER;
        rec->len = len;
        r->pos = rec->end;
        return 1;
    }
    return 0;
}

uint64_t ig_wal_reader_pos(const ig_wal_reader *r) { return r->pos; }

void ig_wal_reader_close(ig_wal_reader *r)
{
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    free(r->buf);
    free(r->dir);
    free(r);
}
