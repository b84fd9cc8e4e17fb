/* Unit tests for src/ingest/events: timestamps, validation and enrichment of
 * every call type, batch rules, limits, gzip caps, the sources config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/arena.h"
#include "ingest/events/events.h"
#include "project/yaml.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const int64_t NOW = 1764054000000000LL; /* 2025-11-25T07:00:00Z */

static void times(void **state)
{
    int64_t us;
    assert_true(ig_ev_parse_time("2025-11-25T07:00:00Z", &us));
    assert_int_equal(us, NOW);
    assert_true(ig_ev_parse_time("2025-11-25T08:00:00.5+01:00", &us));
    assert_int_equal(us, NOW + 500000);
    assert_true(ig_ev_parse_time("2025-11-25 07:00:00.123456789", &us));
    assert_int_equal(us, NOW + 123456);
    assert_true(ig_ev_parse_time("2025-11-25", &us));
    assert_true(ig_ev_parse_time("1969-12-31T23:59:59Z", &us));
    assert_int_equal(us, -1000000);
    assert_false(ig_ev_parse_time("2025-13-01T00:00:00Z", &us));
    assert_false(ig_ev_parse_time("yesterday", &us));
    assert_false(ig_ev_parse_time("2025-11-25T07:00:00Zjunk", &us));
    assert_false(ig_ev_parse_time("", &us));
    char out[32];
    ig_ev_format_time(NOW + 123456, out);
    assert_string_equal(out, "2025-11-25T07:00:00.123Z");
    ig_ev_format_time(-1000, out);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    char u[37], u2[37];
    ig_ev_uuid(u);
    ig_ev_uuid(u2);
    assert_int_equal(strlen(u), 36);
    assert_int_equal(u[14], '4');
    assert_string_not_equal(u, u2);
}

/* Process and return the first stored event as JSON (caller decrefs). */
static json_t *one(const char *endpoint, const char *body, int expect_rc, ig_ev_reject *rej)
{
    ig_buf out;
    ig_buf_init(&out, 0);
    size_t n = 0;
    ig_ev_context ctx = {.received_us = NOW, .ip = "10.0.0.9", .max_event_bytes = 32768};
    ig_ev_reject r;
    int rc = ig_ev_process(endpoint, body, strlen(body), &ctx, &out, &n, NULL, rej ? rej : &r);
    assert_int_equal(rc, expect_rc);
    if (rc) {
        ig_buf_free(&out);
        return NULL;
    }
    const char *tab = strchr(ig_buf_cstr(&out), '\t');
    assert_non_null(tab);
    json_t *j = json_loads(tab + 1, JSON_DISABLE_EOF_CHECK, NULL);
    ig_buf_free(&out);
    assert_non_null(j);
    return j;
}

#define S(j, k) json_string_value(json_object_get(j, k))

static void enrich_track(void **state)
{
    /* the client clock is 10 minutes behind: timestamp is corrected */
    json_t *j = one("track",
                    "{\"userId\":\"u1\",\"event\":\"Signed Up\",\"originalTimestamp\":"
                    "\"2025-11-25T06:50:00.000Z\",\"sentAt\":\"2025-11-25T06:50:01.000Z\"}",
                    0, NULL);
    assert_string_equal(S(j, "type"), "track");
    assert_string_equal(S(j, "receivedAt"), "2025-11-25T07:00:00.000Z");
    assert_string_equal(S(j, "timestamp"), "2025-11-25T06:59:59.000Z");
    assert_int_equal(strlen(S(j, "messageId")), 36);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "context"), "ip")), "10.0.0.9");
    json_decref(j);
    /* a client-set timestamp is kept; a client-set ip and messageId too */
    j = one("page",
            "{\"anonymousId\":\"a\",\"timestamp\":\"2020-01-01T00:00:00Z\",\"messageId\":\"m1\","
            "\"context\":{\"ip\":\"1.2.3.4\"}}",
            0, NULL);
    assert_string_equal(S(j, "timestamp"), "2020-01-01T00:00:00Z");
    assert_string_equal(S(j, "messageId"), "m1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "context"), "ip")), "1.2.3.4");
    json_decref(j);
}

static void required_fields(void **state)
{
    ig_ev_reject r;
    one("track", "{\"event\":\"x\"}", -1, &r);
    assert_string_equal(r.code, "missing_user_id");
    assert_int_equal(r.status, 400);
    one("track", "{\"userId\":\"\",\"event\":\"x\"}", -1, &r);
    assert_string_equal(r.code, "missing_user_id");
    one("track", "{\"userId\":\"u\"}", -1, &r);
    assert_string_equal(r.code, "missing_event");
    one("group", "{\"userId\":\"u\"}", -1, &r);
    assert_string_equal(r.code, "missing_group_id");
    one("alias", "{\"userId\":\"u\"}", -1, &r);
    assert_string_equal(r.code, "missing_previous_id");
    one("identify", "{\"userId\":\"u\",\"traits\":[1]}", -1, &r);
    assert_string_equal(r.code, "invalid_field");
    one("identify", "{\"userId\":\"u\"", -1, &r);
    assert_string_equal(r.code, "invalid_json");
    one("identify", "[1,2]", -1, &r);
    assert_string_equal(r.code, "invalid_json");
    json_decref(one("identify", "{\"userId\":42}", 0, NULL)); /* numbers are ids too */
    json_decref(one("screen", "{\"anonymousId\":\"a\"}", 0, NULL));
}

static void batches(void **state)
{
    const char *b = "{\"writeKey\":\"wk\",\"sentAt\":\"2025-11-25T07:00:00Z\","
                    "\"context\":{\"library\":{\"name\":\"lib\"},\"locale\":\"fr\"},"
                    "\"integrations\":{\"All\":true},\"batch\":["
                    "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"e\",\"context\":{\"locale\":\"de\"}},"
                    "{\"type\":\"identify\",\"anonymousId\":\"a\",\"writeKey\":\"x\"}]}";
    ig_buf out;
    ig_buf_init(&out, 0);
    size_t n = 0;
    char *wk = NULL;
    ig_ev_reject r;
    ig_ev_context ctx = {.received_us = NOW, .ip = "", .max_event_bytes = 32768};
    assert_int_equal(ig_ev_process("batch", b, strlen(b), &ctx, &out, &n, &wk, &r), 0);
    assert_int_equal(n, 2);
    assert_string_equal(wk, "wk");
    free(wk);
    const char *s = ig_buf_cstr(&out);
    assert_null(strstr(s, "writeKey"));
    /* batch context merged under the item's own keys */
    assert_non_null(strstr(s, "\"locale\":\"de\""));
    assert_non_null(strstr(s, "\"library\":{\"name\":\"lib\"}"));
    assert_non_null(strstr(s, "\"integrations\":{\"All\":true}"));
    assert_non_null(strstr(s, "\"sentAt\":\"2025-11-25T07:00:00Z\""));
    assert_int_equal(strncmp(s, "2025-11-25\t{", 12), 0);
    ig_buf_free(&out);
    one("batch", "{\"batch\":[{\"type\":\"track\",\"userId\":\"u\",\"event\":\"e\"},{\"userId\":\"u\"}]}", -1, &r);
    assert_string_equal(r.code, "missing_type");
    assert_int_equal(r.item, 1);
    assert_non_null(strstr(r.message, "batch item 1"));
    one("batch", "{\"batch\":[{\"type\":\"purchase\",\"userId\":\"u\"}]}", -1, &r);
    assert_string_equal(r.code, "invalid_type");
    one("batch", "{\"batch\":{}}", -1, &r);
    assert_string_equal(r.code, "missing_batch");
    one("batch", "{\"batch\":[{\"type\":\"alias\",\"userId\":\"u\"}]}", -1, &r);
    assert_string_equal(r.code, "missing_previous_id");
    assert_int_equal(r.item, 0);
}

static void pretty_printed(void **state)
{
    /* line breaks between tokens must not break the one-line WAL format */
    const char *b = "{\n  \"userId\": \"u\",\r\n  \"event\": \"e\",\n  \"context\": {\n    \"a\": [1,\n 2]\n  }\n}\n";
    ig_buf out;
    ig_buf_init(&out, 0);
    size_t n = 0;
    ig_ev_reject r;
    ig_ev_context ctx = {.received_us = NOW, .ip = "1.1.1.1", .max_event_bytes = 32768};
    assert_int_equal(ig_ev_process("track", b, strlen(b), &ctx, &out, &n, NULL, &r), 0);
    const char *nl = strchr(ig_buf_cstr(&out), '\n');
    assert_non_null(nl);
    assert_int_equal(nl[1], 0); /* exactly one line */
    assert_null(strchr(ig_buf_cstr(&out), '\r'));
    json_t *j = json_loads(strchr(ig_buf_cstr(&out), '\t') + 1, JSON_DISABLE_EOF_CHECK, NULL);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "context"), "a")), 2);
    json_decref(j);
    ig_buf_free(&out);
}

static void limits(void **state)
{
    char *big = malloc(40000);
    int n = snprintf(big, 40000, "{\"userId\":\"u\",\"event\":\"e\",\"properties\":{\"s\":\"");
    memset(big + n, 'x', 33000);
    strcpy(big + n + 33000, "\"}}");
    ig_ev_reject r;
    one("track", big, -1, &r);
    assert_int_equal(r.status, 413);
    assert_string_equal(r.code, "event_too_large");
    assert_non_null(strstr(r.message, "max_event_bytes"));
    free(big);
    one("track", "", -1, &r);
    assert_string_equal(r.code, "empty_body");
}

static void gunzip(void **state)
{
    char src[10000];
    memset(src, 'a', sizeof src);
    unsigned char gz[2000];
    z_stream z = {0};
    deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (unsigned char *)src;
    z.avail_in = sizeof src;
    z.next_out = gz;
    z.avail_out = sizeof gz;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t gl = sizeof gz - z.avail_out;
    deflateEnd(&z);
    ig_buf out;
    ig_buf_init(&out, 0);
    assert_int_equal(ig_ev_gunzip((char *)gz, gl, 20000, &out), 0);
    assert_int_equal(out.len, sizeof src);
    assert_int_equal(ig_ev_gunzip((char *)gz, gl, 5000, &out), -2); /* bomb stopped at the cap */
    assert_int_equal(ig_ev_gunzip((char *)gz, gl / 2, 20000, &out), -1); /* truncated */
    assert_int_equal(ig_ev_gunzip("not gzip", 8, 20000, &out), -1);
    ig_buf_free(&out);
}

static ig_rc cfg_from(ig_arena *a, const char *text, ig_ev_config **out, ig_error *e)
{
    ig_yaml *root;
    ig_yaml_options yo = {0};
    assert_int_equal(ig_yaml_parse(a, "ingot.yml", text, strlen(text), &yo, &root, e), 0);
    ig_project p = {.root = root};
    return ig_ev_config_read(a, &p, out, e);
}

static void config(void **state)
{
    ig_arena *a = ig_arena_new();
    ig_ev_config *c;
    ig_error e;
    assert_int_equal(cfg_from(a,
                              "sources:\n"
                              "  web:\n    type: events\n    write_key: k1\n    write_keys: [k2]\n"
                              "    max_event_bytes: 16KB\n    dedup_window: 2d\n"
                              "    allowed_origins: ['*']\n"
                              "  hooks:\n    type: webhook\n    hmac: {header: X-Sig, secret: s}\n"
                              "  files:\n    type: files\n    anything: goes\n"
                              "  ps:\n    type: pubsub\n    subscription: projects/p/subscriptions/s\n",
                              &c, &e),
                     0);
    assert_int_equal(c->nsources, 3);
    const ig_ev_source *w = ig_ev_config_find(c, "web");
    assert_non_null(w);
    assert_int_equal(w->write_keys.n, 2);
    assert_int_equal(w->max_event_bytes, 16384);
    assert_int_equal(w->max_batch_bytes, 500 * 1024);
    assert_int_equal(w->dedup_window_s, 2 * 86400);
    assert_string_equal(ig_ev_config_find(c, "hooks")->hmac_algorithm, "sha256");
    assert_string_equal(ig_ev_config_find(c, "ps")->endpoint, "https://pubsub.googleapis.com");
    /* a typo is named with the nearest key */
    assert_int_equal(cfg_from(a, "sources:\n  web:\n    type: events\n    write_kye: k\n", &c, &e),
                     IG_ERR_CONFIG);
    assert_non_null(strstr(e.message, "write_kye"));
    assert_non_null(strstr(e.message, "write_key"));
    assert_int_equal(cfg_from(a, "sources:\n  web:\n    type: events\n", &c, &e), IG_ERR_CONFIG);
    assert_non_null(strstr(e.message, "write_key"));
    assert_int_equal(cfg_from(a, "sources:\n  a:\n    type: events\n    write_key: k\n"
                                 "  b:\n    type: events\n    write_key: k\n", &c, &e),
                     IG_ERR_CONFIG);
    assert_non_null(strstr(e.message, "also a write key"));
    assert_int_equal(cfg_from(a, "sources:\n  Bad-Name:\n    type: events\n    write_key: k\n", &c, &e),
                     IG_ERR_CONFIG);
    assert_int_equal(cfg_from(a, "sources:\n  w:\n    type: events\n    write_key: k\n    max_event_bytes: lots\n", &c, &e),
                     IG_ERR_CONFIG);
    assert_int_equal(cfg_from(a, "sources:\n  - name: w\n    type: events\n    write_key: k\n", &c, &e), 0);
    assert_int_equal(c->nsources, 1);
    ig_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(times),   cmocka_unit_test(enrich_track), cmocka_unit_test(required_fields),
        cmocka_unit_test(batches), cmocka_unit_test(pretty_printed), cmocka_unit_test(limits),       cmocka_unit_test(gunzip),
        cmocka_unit_test(config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
