/* The `sources:` of ingot.yml that this layer owns: type `events` (the
 * Segment/RudderStack API), `webhook` and `pubsub`. Each entry is checked
 * against its own table of keys so a typo is reported at its line with the
 * nearest valid key. Secrets (write keys, HMAC secrets, tokens) are expected
 * as ${VAR}; they are never shown in errors. */
#include "ingest/events/events.h"

#include "core/str.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const EVENTS_KEYS[] = {"name", "type", "enabled", "description", "write_key",
                                          "write_keys", "allowed_origins", "trusted_proxies",
                                          "max_event_bytes", "max_batch_bytes", "dedup_window",
                                          NULL};
static const char *const WEBHOOK_KEYS[] = {"name", "type", "enabled", "description", "hmac",
                                           "keep_headers", "max_batch_bytes", "trusted_proxies",
                                           "allowed_origins", NULL};
static const char *const HMAC_KEYS[] = {"header", "algorithm", "secret", "prefix", NULL};
static const char *const PUBSUB_KEYS[] = {"name", "type", "enabled", "description", "endpoint",
                                          "subscription", "token", "max_messages", NULL};

static bool name_valid(const char *s)
{
    if (!*s || strlen(s) > 63 || !(islower((unsigned char)*s) || *s == '_')) return false;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_')) return false;
    return true;
}

static ig_rc get_str(const ig_yaml *m, const char *key, const char *path, const char **out,
                     ig_error *err)
{
    const ig_yaml *n = ig_yaml_get(m, key);
    if (!n || n->kind == IG_Y_NULL) return IG_OK;
    char what[160];
    snprintf(what, sizeof what, "%s.%s", path, key);
    return ig_yaml_str(n, what, out, err);
}

static ig_rc get_strs(ig_arena *a, const ig_yaml *m, const char *key, const char *path,
                      ig_ev_strs *out, ig_error *err)
{
    const ig_yaml *n = ig_yaml_get(m, key);
    if (!n || n->kind == IG_Y_NULL) return IG_OK;
    char what[160];
    snprintf(what, sizeof what, "%s.%s", path, key);
    if (n->kind == IG_Y_SCALAR) {
        out->v = ig_arena_alloc(a, sizeof(char *));
        out->n = 1;
        return ig_yaml_str(n, what, &out->v[0], err);
    }
    if (n->kind != IG_Y_SEQ)
        return ig_yaml_error(n, err, "%s: expected a list of strings, got %s", what,
                             ig_yaml_kind_name(n));
    out->v = ig_arena_alloc(a, (n->n + 1) * sizeof(char *));
    out->n = 0;
    for (size_t i = 0; i < n->n; i++) {
        ig_rc rc = ig_yaml_str(n->items[i], what, &out->v[out->n], err);
        if (rc) return rc;
        if (*out->v[out->n]) out->n++;
    }
    return IG_OK;
}

/* 32768, "32KB", "500 KiB", "1MB" (KB = 1024 bytes). */
static ig_rc get_size(const ig_yaml *m, const char *key, const char *path, size_t *out,
                      ig_error *err)
{
    const ig_yaml *n = ig_yaml_get(m, key);
    if (!n || n->kind == IG_Y_NULL) return IG_OK;
    char what[160];
    snprintf(what, sizeof what, "%s.%s", path, key);
    const char *s;
    ig_rc rc = ig_yaml_str(n, what, &s, err);
    if (rc) return rc;
    char *end;
    double v = strtod(s, &end);
    while (*end == ' ') end++;
    double mul = 1;
    if (!strcasecmp(end, "kb") || !strcasecmp(end, "kib") || !strcasecmp(end, "k")) mul = 1024;
    else if (!strcasecmp(end, "mb") || !strcasecmp(end, "mib") || !strcasecmp(end, "m")) mul = 1048576;
    else if (*end && strcasecmp(end, "b")) v = -1;
    if (end == s || v <= 0 || v * mul > (double)(1u << 30)) {
        char shown[96];
        ig_yaml_error(n, err, "%s: expected a size such as 32768, 32KB or 1MB (at most 1GB), got %s",
                      what, ig_yaml_shown(n, shown, sizeof shown));
        return IG_ERR_CONFIG;
    }
    *out = (size_t)(v * mul);
    return IG_OK;
}

/* 3600, "90s", "30m", "12h", "7d". */
static ig_rc get_duration(const ig_yaml *m, const char *key, const char *path, int *out,
                          ig_error *err)
{
    const ig_yaml *n = ig_yaml_get(m, key);
    if (!n || n->kind == IG_Y_NULL) return IG_OK;
    char what[160];
    snprintf(what, sizeof what, "%s.%s", path, key);
    const char *s;
    ig_rc rc = ig_yaml_str(n, what, &s, err);
    if (rc) return rc;
    char *end;
    long v = strtol(s, &end, 10);
    long mul = !*end ? 1 : !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600
             : !strcmp(end, "d") ? 86400 : -1;
    if (end == s || v < 0 || mul < 0 || v > 3650L * 86400 / mul) {
        char shown[96];
        ig_yaml_error(n, err, "%s: expected a duration such as 3600, 90s, 30m, 12h or 7d, got %s",
                      what, ig_yaml_shown(n, shown, sizeof shown));
        return IG_ERR_CONFIG;
    }
    *out = (int)(v * mul);
    return IG_OK;
}

static ig_rc read_events(ig_arena *a, const ig_yaml *m, const char *path, ig_ev_source *s,
                         ig_error *err)
{
    ig_rc rc = ig_yaml_check_keys(m, path, EVENTS_KEYS, err);
    const char *one = NULL;
    if (!rc) rc = get_str(m, "write_key", path, &one, err);
    if (!rc) rc = get_strs(a, m, "write_keys", path, &s->write_keys, err);
    if (!rc && one && *one) {
        const char **v = ig_arena_alloc(a, (s->write_keys.n + 1) * sizeof *v);
        v[0] = one;
        for (size_t i = 0; i < s->write_keys.n; i++) v[i + 1] = s->write_keys.v[i];
        s->write_keys.v = v;
        s->write_keys.n++;
    }
    if (!rc) rc = get_strs(a, m, "allowed_origins", path, &s->allowed_origins, err);
    if (!rc) rc = get_strs(a, m, "trusted_proxies", path, &s->trusted_proxies, err);
    if (!rc) rc = get_size(m, "max_event_bytes", path, &s->max_event_bytes, err);
    if (!rc) rc = get_size(m, "max_batch_bytes", path, &s->max_batch_bytes, err);
    if (!rc) rc = get_duration(m, "dedup_window", path, &s->dedup_window_s, err);
    if (!rc && s->write_keys.n == 0) {
        ig_yaml_error(m, err, "%s: an events source needs write_key (or write_keys)", path);
        ig_err_hint(err, "e.g. write_key: ${%s_WRITE_KEY}, with the key in the environment; the "
                         "SDKs send it as the Basic-auth user", s->name);
        return IG_ERR_CONFIG;
    }
    return rc;
}

static ig_rc read_webhook(ig_arena *a, const ig_yaml *m, const char *path, ig_ev_source *s,
                          ig_error *err)
{
    ig_rc rc = ig_yaml_check_keys(m, path, WEBHOOK_KEYS, err);
    if (!rc) rc = get_strs(a, m, "keep_headers", path, &s->keep_headers, err);
    if (!rc) rc = get_strs(a, m, "trusted_proxies", path, &s->trusted_proxies, err);
    if (!rc) rc = get_strs(a, m, "allowed_origins", path, &s->allowed_origins, err);
    if (!rc) rc = get_size(m, "max_batch_bytes", path, &s->max_batch_bytes, err);
    if (rc) return rc;
    for (size_t i = 0; i < s->keep_headers.n; i++) {
        char *l = ig_arena_strdup(a, s->keep_headers.v[i]);
        for (char *p = l; *p; p++) *p = (char)tolower((unsigned char)*p);
        s->keep_headers.v[i] = l;
    }
    const ig_yaml *h = ig_yaml_get(m, "hmac");
    if (h && h->kind != IG_Y_NULL) {
        char hp[160];
        snprintf(hp, sizeof hp, "%s.hmac", path);
        if (h->kind != IG_Y_MAP)
            return ig_yaml_error(h, err, "%s: expected a mapping (header, algorithm, secret, prefix)", hp);
        rc = ig_yaml_check_keys(h, hp, HMAC_KEYS, err);
        if (!rc) rc = get_str(h, "header", hp, &s->hmac_header, err);
        if (!rc) rc = get_str(h, "algorithm", hp, &s->hmac_algorithm, err);
        if (!rc) rc = get_str(h, "secret", hp, &s->hmac_secret, err);
        if (!rc) rc = get_str(h, "prefix", hp, &s->hmac_prefix, err);
        if (rc) return rc;
        if (!s->hmac_algorithm) s->hmac_algorithm = "sha256";
        if (strcmp(s->hmac_algorithm, "sha1") && strcmp(s->hmac_algorithm, "sha256") &&
            strcmp(s->hmac_algorithm, "sha512")) {
            ig_yaml_error(ig_yaml_get(h, "algorithm"), err,
                          "%s.algorithm: expected sha1, sha256 or sha512, got '%s'", hp,
                          s->hmac_algorithm);
            return IG_ERR_CONFIG;
        }
        if (!s->hmac_header || !s->hmac_secret || !*s->hmac_secret) {
            ig_yaml_error(h, err, "%s: needs both header and secret", hp);
            ig_err_hint(err, "e.g. header: X-Hub-Signature-256, secret: ${GITHUB_HOOK_SECRET}, "
                             "prefix: \"sha256=\"");
            return IG_ERR_CONFIG;
        }
    }
    return IG_OK;
}

static ig_rc read_pubsub(ig_arena *a, const ig_yaml *m, const char *path, ig_ev_source *s,
                         ig_error *err)
{
    ig_rc rc = ig_yaml_check_keys(m, path, PUBSUB_KEYS, err);
    long mm = 0;
    if (!rc) rc = get_str(m, "endpoint", path, &s->endpoint, err);
    if (!rc) rc = get_str(m, "subscription", path, &s->subscription, err);
    if (!rc) rc = get_str(m, "token", path, &s->token, err);
    const ig_yaml *n = ig_yaml_get(m, "max_messages");
    if (!rc && n) rc = ig_yaml_int(n, "max_messages", &mm, err);
    if (rc) return rc;
    s->max_messages = mm > 0 && mm <= 1000 ? (int)mm : 1000;
    if (!s->subscription || !ig_str_starts(s->subscription, "projects/") ||
        !strstr(s->subscription, "/subscriptions/")) {
        ig_yaml_error(ig_yaml_get(m, "subscription") ? ig_yaml_get(m, "subscription") : m, err,
                      "%s.subscription: expected projects/PROJECT/subscriptions/NAME", path);
        return IG_ERR_CONFIG;
    }
    if (!s->endpoint) s->endpoint = "https://pubsub.googleapis.com";
    return IG_OK;
}

/* The serve: section's defaults for a key the source leaves out. */
static void default_strs(const ig_yaml *m, const char *key, const char **def, ig_ev_strs *out)
{
    if (!def || ig_yaml_get(m, key)) return;
    out->v = def;
    for (out->n = 0; def[out->n]; out->n++) {
    }
}

static ig_rc read_one(ig_arena *a, const ig_project *p, const char *name, const ig_yaml *m,
                      const char *path, ig_ev_config *c, ig_error *err)
{
    if (m->kind != IG_Y_MAP) return IG_OK; /* not ours to judge */
    const ig_yaml *t = ig_yaml_get(m, "type");
    const char *type;
    if (!t || t->kind != IG_Y_SCALAR || ig_yaml_str(t, "type", &type, err)) return IG_OK;
    ig_ev_source_kind kind;
    if (!strcmp(type, "events")) kind = IG_EV_SOURCE_EVENTS;
    else if (!strcmp(type, "webhook")) kind = IG_EV_SOURCE_WEBHOOK;
    else if (!strcmp(type, "pubsub")) kind = IG_EV_SOURCE_PUBSUB;
    else return IG_OK;
    if (!name_valid(name)) {
        ig_yaml_error(m, err, "%s: source name '%s' is not valid", path, name);
        ig_err_hint(err, "use lower case letters, digits and _ (it becomes part of table names, "
                         "e.g. bronze.%s__events)", "web");
        return IG_ERR_CONFIG;
    }
    if (ig_ev_config_find(c, name)) {
        ig_yaml_error(m, err, "%s: a source named '%s' is defined twice", path, name);
        return IG_ERR_CONFIG;
    }
    ig_ev_source *s = &c->sources[c->nsources];
    memset(s, 0, sizeof *s);
    s->name = ig_arena_strdup(a, name);
    s->kind = kind;
    s->enabled = true;
    s->max_event_bytes = p && p->serve.max_event ? p->serve.max_event : 32 * 1024;
    s->max_batch_bytes = p && p->serve.max_batch ? p->serve.max_batch : 500 * 1024;
    if (p) {
        default_strs(m, "trusted_proxies", p->serve.trusted_proxies, &s->trusted_proxies);
        default_strs(m, "allowed_origins", p->serve.allowed_origins, &s->allowed_origins);
    }
    s->dedup_window_s = 7 * 86400;
    const ig_yaml *en = ig_yaml_get(m, "enabled");
    if (en && ig_yaml_bool(en, "enabled", &s->enabled, err)) return IG_ERR_CONFIG;
    ig_rc rc = kind == IG_EV_SOURCE_EVENTS    ? read_events(a, m, path, s, err)
               : kind == IG_EV_SOURCE_WEBHOOK ? read_webhook(a, m, path, s, err)
                                              : read_pubsub(a, m, path, s, err);
    if (rc) return rc;
    /* a write key names one source */
    for (size_t i = 0; i < c->nsources; i++)
        for (size_t k = 0; k < c->sources[i].write_keys.n; k++)
            for (size_t j = 0; j < s->write_keys.n; j++)
                if (!strcmp(c->sources[i].write_keys.v[k], s->write_keys.v[j])) {
                    ig_yaml_error(m, err, "%s: its write key is also a write key of source '%s'",
                                  path, c->sources[i].name);
                    ig_err_hint(err, "each write key must map to exactly one source");
                    return IG_ERR_CONFIG;
                }
    c->nsources++;
    return IG_OK;
}

ig_rc ig_ev_config_read(ig_arena *a, const ig_project *p, ig_ev_config **out, ig_error *err)
{
    ig_ev_config *c = ig_arena_zalloc(a, sizeof *c);
    const ig_yaml *src = p && p->root ? ig_yaml_get(p->root, "sources") : NULL;
    if (src && (src->kind == IG_Y_MAP || src->kind == IG_Y_SEQ)) {
        c->sources = ig_arena_zalloc(a, (src->n + 1) * sizeof *c->sources);
        for (size_t i = 0; i < src->n; i++) {
            const ig_yaml *m = src->items[i];
            const char *name = NULL;
            char path[160];
            if (src->kind == IG_Y_MAP) {
                name = src->keys[i]->str ? src->keys[i]->str : "";
                snprintf(path, sizeof path, "sources.%s", name);
            } else {
                const ig_yaml *nn = m->kind == IG_Y_MAP ? ig_yaml_get(m, "name") : NULL;
                if (nn && nn->kind == IG_Y_SCALAR) name = nn->str;
                snprintf(path, sizeof path, "sources[%zu]", i);
                if (!name) {
                    const ig_yaml *t = m->kind == IG_Y_MAP ? ig_yaml_get(m, "type") : NULL;
                    if (t && t->str && (!strcmp(t->str, "events") || !strcmp(t->str, "webhook") ||
                                        !strcmp(t->str, "pubsub")))
                        return ig_yaml_error(m, err, "%s: a source in a list needs `name:`", path);
                    continue;
                }
            }
            ig_rc rc = read_one(a, p, name, m, path, c, err);
            if (rc) return rc;
        }
    }
    *out = c;
    return IG_OK;
}

const ig_ev_source *ig_ev_config_find(const ig_ev_config *c, const char *name)
{
    for (size_t i = 0; i < c->nsources; i++)
        if (!strcmp(c->sources[i].name, name)) return &c->sources[i];
    return NULL;
}
