/* Unit tests for src/ingest/events/wal.c: append and read back, group
 * commit from many threads, torn tails cut at open, segment rolling and
 * release, corrupt records skipped by the reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/mem.h"
#include "ingest/events/wal.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/ingot-test-wal.XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static ig_wal *open_wal(size_t seg)
{
    ig_wal *w = NULL;
    ig_error e;
    ig_wal_options o = {.dir = dir, .segment_bytes = seg};
    assert_int_equal(ig_wal_open(&o, &w, &e), 0);
    return w;
}

/* Read every record from `from`; returns the count, checks payloads "rec-N". */
static int read_all(uint64_t from, uint64_t limit, int first_n)
{
    ig_wal_reader *r;
    ig_error e;
    assert_int_equal(ig_wal_reader_open(dir, from, &r, &e), 0);
    ig_wal_record rec;
    int n = 0;
    while (ig_wal_reader_next(r, limit, &rec, &e) == 1) {
        char want[32];
        int wl = snprintf(want, sizeof want, "rec-%d", first_n + n);
        assert_int_equal(rec.len, (size_t)wl);
        assert_memory_equal(rec.data, want, (size_t)wl);
        assert_int_equal(rec.kind, 1);
        n++;
    }
    ig_wal_reader_close(r);
    return n;
}

static void append_read(void **state)
{
    ig_wal *w = open_wal(0);
    uint64_t lsn = 0;
    for (int i = 0; i < 100; i++) {
        char p[32];
        int n = snprintf(p, sizeof p, "rec-%d", i);
        assert_int_equal(ig_wal_append(w, 1, p, 4, p + 4, (size_t)n - 4, &lsn), 0);
    }
    ig_error e;
    assert_int_equal(ig_wal_sync(w, &e), 0);
    assert_int_equal(ig_wal_status(w, lsn), 1);
    assert_int_equal(ig_wal_durable(w), lsn);
    assert_int_equal(read_all(0, ig_wal_durable(w), 0), 100);
    /* the reader never passes the limit */
    assert_int_equal(read_all(0, 50, 0), 50 / (IG_WAL_HEADER + 5));
    const char *id = ig_wal_id(w);
    assert_int_equal(strlen(id), 32);
    char keep[33];
    strcpy(keep, id);
    ig_wal_close(w);
    /* reopen: same id, same end, appends continue after it */
    w = open_wal(0);
    assert_string_equal(ig_wal_id(w), keep);
    assert_int_equal(ig_wal_durable(w), lsn);
    ig_wal_close(w);
}

typedef struct {
    ig_wal *w;
    int id;
} targ;

static void *appender(void *p)
{
    targ *t = p;
    for (int i = 0; i < 2000; i++) {
        char buf[64];
        int n = snprintf(buf, sizeof buf, "t%d-%d", t->id, i);
        uint64_t lsn;
        assert_int_equal(ig_wal_append(t->w, 2, buf, (size_t)n, NULL, 0, &lsn), 0);
        if (i % 100 == 0) ig_wal_wait(t->w, lsn, 5000);
    }
    return NULL;
}

static void group_commit(void **state)
{
    ig_wal *w = open_wal(64 * 1024);
    pthread_t th[4];
    targ a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (targ){w, i};
        pthread_create(&th[i], NULL, appender, &a[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    ig_error e;
    assert_int_equal(ig_wal_sync(w, &e), 0);
    ig_wal_stats st;
    ig_wal_get_stats(w, &st);
    assert_int_equal(st.records, 8000);
    assert_true(st.fsyncs < 8000); /* commits were grouped */
    /* every record readable across the rolled segments, in per-thread order */
    ig_wal_reader *r;
    assert_int_equal(ig_wal_reader_open(dir, 0, &r, &e), 0);
    ig_wal_record rec;
    int next[4] = {0}, n = 0;
    while (ig_wal_reader_next(r, ig_wal_durable(w), &rec, &e) == 1) {
        int t, i;
        char buf[64];
        snprintf(buf, sizeof buf, "%.*s", (int)rec.len, rec.data);
        assert_int_equal(sscanf(buf, "t%d-%d", &t, &i), 2);
        assert_int_equal(i, next[t]);
        next[t]++;
        n++;
    }
    ig_wal_reader_close(r);
    assert_int_equal(n, 8000);
    /* release: everything before the last segment goes */
    uint64_t first = ig_wal_first(w);
    assert_int_equal(ig_wal_release(w, ig_wal_durable(w), &e), 0);
    assert_true(ig_wal_first(w) > first);
    ig_wal_close(w);
}

static char *last_segment(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char best[64] = "";
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".wal") && strcmp(e->d_name, best) > 0) snprintf(best, sizeof best, "%s", e->d_name);
    closedir(d);
    return ig_asprintf("%s/%s", dir, best);
}

static void torn_tail(void **state)
{
    ig_wal *w = open_wal(0);
    uint64_t lsn = 0;
    for (int i = 0; i < 10; i++) {
        char p[32];
        int n = snprintf(p, sizeof p, "rec-%d", i);
        ig_wal_append(w, 1, p, (size_t)n, NULL, 0, &lsn);
    }
    ig_error e;
    ig_wal_sync(w, &e);
    ig_wal_close(w);
    char *seg = last_segment();
    struct stat st;
    stat(seg, &st);
    /* a record cut short: its header and half its payload */
    int fd = open(seg, O_WRONLY | O_APPEND);
    unsigned char hdr[IG_WAL_HEADER + 3] = {50, 0, 0, 0, 1, 2, 3, 4, 1, 0, 0, 0, 'a', 'b', 'c'};
    assert_int_equal(write(fd, hdr, sizeof hdr), (ssize_t)sizeof hdr);
    close(fd);
    w = open_wal(0);
    assert_int_equal(ig_wal_durable(w), lsn);
    struct stat st2;
    stat(seg, &st2);
    assert_int_equal(st2.st_size, st.st_size); /* the torn bytes are gone */
    /* a complete record with a wrong CRC is cut too */
    ig_wal_close(w);
    fd = open(seg, O_WRONLY | O_APPEND);
    unsigned char bad[IG_WAL_HEADER + 5] = {5, 0, 0, 0, 9, 9, 9, 9, 1, 0, 0, 0, 'r', 'e', 'c', '-', '9'};
    assert_int_equal(write(fd, bad, sizeof bad), (ssize_t)sizeof bad);
    close(fd);
    w = open_wal(0);
    assert_int_equal(ig_wal_durable(w), lsn);
    /* and appending goes on from the good end */
    char p[] = "rec-10";
    uint64_t l2;
    ig_wal_append(w, 1, p, 6, NULL, 0, &l2);
    ig_wal_sync(w, &e);
    assert_int_equal(read_all(0, ig_wal_durable(w), 0), 11);
    ig_wal_close(w);
    free(seg);
}

static void corrupt_middle(void **state)
{
    ig_wal *w = open_wal(200); /* a few records per segment */
    uint64_t lsn = 0;
    for (int i = 0; i < 40; i++) {
        char p[32];
        int n = snprintf(p, sizeof p, "rec-%d", i);
        ig_wal_append(w, 1, p, (size_t)n, NULL, 0, &lsn);
        ig_wal_wait(w, lsn, 1000);
    }
    ig_error e;
    ig_wal_sync(w, &e);
    /* flip a payload byte of the first record of the first segment */
    char *seg = ig_asprintf("%s/%020d.wal", dir, 0);
    int fd = open(seg, O_RDWR);
    assert_true(fd >= 0);
    char c = 'X';
    assert_int_equal(pwrite(fd, &c, 1, IG_WAL_FILE_HEADER + IG_WAL_HEADER + 1), 1);
    close(fd);
    free(seg);
    ig_wal_reader *r;
    assert_int_equal(ig_wal_reader_open(dir, 0, &r, &e), 0);
    ig_wal_record rec;
    assert_int_equal(ig_wal_reader_next(r, lsn, &rec, &e), -1);
    assert_non_null(strstr(e.message, "corrupt WAL record"));
    /* then it stands at the next segment and reads on */
    assert_true(ig_wal_reader_pos(r) > 0);
    int n = 0;
    while (ig_wal_reader_next(r, lsn, &rec, &e) == 1) n++;
    assert_true(n > 20 && n < 40);
    ig_wal_reader_close(r);
    ig_wal_close(w);
}

static void limits(void **state)
{
    ig_wal *w = NULL;
    ig_error e;
    ig_wal_options o = {.dir = dir, .max_record_bytes = 100, .max_pending_bytes = 1000};
    assert_int_equal(ig_wal_open(&o, &w, &e), 0);
    char big[200] = {0};
    uint64_t lsn;
    assert_int_equal(ig_wal_append(w, 1, big, sizeof big, NULL, 0, &lsn), IG_ERR_LIMIT);
    assert_int_equal(ig_wal_append(w, 1, big, 50, NULL, 0, &lsn), 0);
    assert_int_equal(ig_wal_crc(1, "abc", 3), ig_wal_crc(1, "abc", 3));
    assert_true(ig_wal_crc(1, "abc", 3) != ig_wal_crc(2, "abc", 3));
    ig_wal_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(append_read, setup, teardown),
        cmocka_unit_test_setup_teardown(group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_middle, setup, teardown),
        cmocka_unit_test_setup_teardown(limits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
