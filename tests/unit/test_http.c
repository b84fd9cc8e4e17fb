/* Unit tests for src/serve/http_parse.c: request heads, framing rules that
 * prevent request smuggling, chunked bodies, listen addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "serve/http.h"

#include <string.h>

static int parse(const char *s, ig_http_head *h) { return ig_http_parse_head(s, strlen(s), h); }

static void simple_get(void **state)
{
    ig_http_head h;
    const char *r = "GET /health?x=1 HTTP/1.1\r\nHost: a\r\nX-Thing:  v  \r\n\r\nBODY";
    int n = parse(r, &h);
    assert_int_equal(n, (int)(strstr(r, "BODY") - r));
    assert_int_equal(h.method.n, 3);
    assert_memory_equal(h.path.p, "/health", 7);
    assert_int_equal(h.path.n, 7);
    assert_memory_equal(h.query.p, "x=1", 3);
    assert_int_equal(h.minor, 1);
    assert_true(h.keep_alive);
    assert_int_equal(h.content_length, -1);
    size_t vn;
    const char *v = ig_http_head_get(&h, "x-thing", &vn);
    assert_non_null(v);
    assert_int_equal(vn, 1);
    assert_memory_equal(v, "v", 1);
    assert_null(ig_http_head_get(&h, "missing", NULL));
}

static void incomplete_and_keepalive(void **state)
{
    ig_http_head h;
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n", &h), 0);
    assert_int_equal(parse("GET / HTT", &h), 0);
    assert_true(parse("GET / HTTP/1.0\r\n\r\n", &h) > 0);
    assert_false(h.keep_alive);
    assert_true(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &h) > 0);
    assert_true(h.keep_alive);
    assert_true(parse("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &h) > 0);
    assert_false(h.keep_alive);
    /* leading empty lines are tolerated */
    assert_true(parse("\r\nGET / HTTP/1.1\r\n\r\n", &h) > 0);
}

static void framing(void **state)
{
    ig_http_head h;
    assert_true(parse("POST /v1/track HTTP/1.1\r\nContent-Length: 12\r\n\r\n", &h) > 0);
    assert_int_equal(h.content_length, 12);
    assert_true(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &h) > 0);
    assert_true(h.chunked);
    assert_true(parse("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", &h) > 0);
    assert_true(h.expect_continue);
    /* smuggling vectors */
    assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", &h), -400);
    assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", &h), -400);
    assert_true(parse("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", &h) > 0);
    assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: -3\r\n\r\n", &h), -400);
    assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 3x\r\n\r\n", &h), -400);
    assert_int_equal(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &h), -501);
    assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length : 3\r\n\r\n", &h), -400);
    assert_int_equal(parse("POST / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", &h), -400); /* obs-fold */
    assert_int_equal(parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", &h), -400);
}

static void malformed(void **state)
{
    ig_http_head h;
    assert_int_equal(parse("GET / HTTP/2.0\r\n\r\n", &h), -505);
    assert_int_equal(parse("GET / HTTP/1.2\r\n\r\n", &h), -505);
    assert_int_equal(parse("GET /\r\n\r\n", &h), -400);
    assert_int_equal(parse("G(T / HTTP/1.1\r\n\r\n", &h), -400);
    assert_int_equal(parse("GET / HTTP/1.1\nHost: a\n\n", &h), -400); /* bare LF */
    assert_int_equal(parse("GET /a b HTTP/1.1\r\n\r\n", &h), -400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nX: a\x01\r\n\r\n", &h), -400);
    char big[8192];
    size_t n = (size_t)snprintf(big, sizeof big, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < IG_HTTP_MAX_HEADERS + 1; i++) n += (size_t)snprintf(big + n, sizeof big - n, "H%d: v\r\n", i);
    snprintf(big + n, sizeof big - n, "\r\n");
    assert_int_equal(parse(big, &h), -431);
    char nul[] = "GET / HTTP/1.1\r\nX: \0";
    assert_int_equal(ig_http_parse_head(nul, sizeof nul - 1, &h), -400);
}

static void chunked(void **state)
{
    ig_buf out;
    ig_buf_init(&out, 100);
    size_t used = 0;
    const char *b = "4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    assert_int_equal(ig_http_parse_chunked(b, strlen(b), &out, &used), 1);
    assert_string_equal(ig_buf_cstr(&out), "Wikipedia");
    assert_int_equal(used, (size_t)(strstr(b, "NEXT") - b));
    /* every prefix is "need more" */
    for (size_t k = 0; k < used; k++) assert_int_equal(ig_http_parse_chunked(b, k, &out, &used), 0);
    assert_int_equal(ig_http_parse_chunked("zz\r\n", 4, &out, &used), -400);
    assert_int_equal(ig_http_parse_chunked("4\r\nWikiXX", 9, &out, &used), -400);
    assert_int_equal(ig_http_parse_chunked("65\r\n", 4, &out, &used), -413); /* 101 > cap 100 */
    assert_int_equal(ig_http_parse_chunked("ffffffffffffffffff\r\n", 20, &out, &used), -413);
    ig_buf_free(&out);
}

static void listen_addr(void **state)
{
    char host[64];
    int port;
    assert_true(ig_http_split_listen("127.0.0.1:8080", host, sizeof host, &port));
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8080);
    assert_true(ig_http_split_listen("[::1]:0", host, sizeof host, &port));
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    assert_false(ig_http_split_listen("nocolon", host, sizeof host, &port));
    assert_false(ig_http_split_listen("h:99999", host, sizeof host, &port));
    assert_string_equal(ig_http_reason(413), "Content Too Large");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(simple_get), cmocka_unit_test(incomplete_and_keepalive),
        cmocka_unit_test(framing),    cmocka_unit_test(malformed),
        cmocka_unit_test(chunked),    cmocka_unit_test(listen_addr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
