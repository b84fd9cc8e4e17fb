/* libFuzzer driver: the collector's request path without sockets. The first
 * byte picks the target: the HTTP head parser (and the chunked decoder on
 * what follows the head), event validation and enrichment for each endpoint
 * (the oracle: every line written must be "YYYY-MM-DD\t" + valid JSON), or
 * the capped gunzip. Corpus: fuzz/corpus/events. */
#include "ingest/events/events.h"
#include "ingest/events/json.h"
#include "serve/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const ENDPOINTS[] = {"track", "identify", "page", "screen", "group", "alias", "batch"};

static void check_lines(const ig_buf *out)
{
    const char *p = out->data, *end = out->data + out->len;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl || nl - p < 12 || p[10] != '\t') abort();
        evj v;
        evj_error e;
        if (!evj_parse(p + 11, (size_t)(nl - p - 11), &v, &e) || v.t != EVJ_OBJECT) abort();
        p = nl + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t sel = data[0];
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    if (sel % 9 == 0) {
        ig_http_head h;
        int r = ig_http_parse_head(s, n, &h);
        if (r > 0) {
            if ((size_t)r > n) abort();
            ig_buf body;
            ig_buf_init(&body, 4096);
            size_t used = 0;
            if (ig_http_parse_chunked(s + r, n - (size_t)r, &body, &used) == 1 && used > n - (size_t)r)
                abort();
            ig_buf_free(&body);
        }
    } else if (sel % 9 <= 7) {
        ig_ev_context ctx = {.received_us = 1764054000000000LL, .ip = "127.0.0.1", .max_event_bytes = 32768};
        ig_buf out;
        ig_buf_init(&out, 1u << 22);
        size_t rows = 0;
        char *wk = NULL;
        ig_ev_reject rej;
        if (ig_ev_process(ENDPOINTS[sel % 9 - 1], s, n, &ctx, &out, &rows, &wk, &rej) == 0) check_lines(&out);
        free(wk);
        ig_buf_free(&out);
    } else {
        ig_buf out;
        ig_buf_init(&out, 0);
        if (ig_ev_gunzip(s, n, 65536, &out) == 0 && out.len > 65536) abort();
        ig_buf_free(&out);
    }
    return 0;
}
