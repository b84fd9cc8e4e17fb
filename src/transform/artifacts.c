/* dbt's artifacts (manifest v12, run_results v6, sources v3, catalog v1)
 * built with jansson from a parsed project, and the result history written
 * to the warehouse. Field names follow the dbt JSON schemas so that tools
 * reading dbt artifacts (state comparison, docs sites, dbt_artifacts,
 * elementary) read ours; fields ingot has no notion of carry dbt's defaults
 * (null, [], {}). */
#include "transform/artifacts.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/version.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static json_t *jstr(const char *s) { return s ? json_string(s) : json_null(); }

static void hex(const unsigned char *d, unsigned n, char *out)
{
    static const char x[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = x[d[i] >> 4];
        out[2 * i + 1] = x[d[i] & 15];
    }
    out[2 * n] = 0;
}

static void digest(const EVP_MD *md, const void *data, size_t len, char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_Digest(data, len, d, &n, md, NULL);
    hex(d, n, out);
}

void ig__tf_node_checksum(const tf_node *n, char out[65])
{
    if (n->raw) {
        digest(EVP_sha256(), n->raw, n->raw_len, out);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    ig_error e;
    if (n->abs_path && !ig_fs_read(n->abs_path, TF_FILE_CAP, &text, &len, &e)) {
        digest(EVP_sha256(), text, len, out);
        free(text);
    } else digest(EVP_sha256(), "", 0, out);
}

static const char *rtype(const tf_node *n)
{
    switch (n->kind) {
    case TF_MODEL: return "model";
    case TF_SOURCE: return "source";
    case TF_SEED: return "seed";
    case TF_SNAPSHOT: return "snapshot";
    case TF_TEST:
        return n->unit || (n->unique_id && !strncmp(n->unique_id, "unit_test.", 10)) ? "unit_test"
                                                                                      : "test";
    case TF_ANALYSIS: return "analysis";
    case TF_OPERATION: return "operation";
    }
    return "model";
}

json_t *ig__tf_node_config_json(const tf_node *n)
{
    json_t *c = n->config ? json_deep_copy(n->config) : json_object();
    json_object_set_new(c, "enabled", json_boolean(n->enabled));
    if (n->kind != TF_SOURCE && n->kind != TF_TEST && !json_object_get(c, "materialized"))
        json_object_set_new(c, "materialized", jstr(n->materialized ? n->materialized : "view"));
    if (n->kind == TF_TEST && !json_object_get(c, "materialized"))
        json_object_set_new(c, "materialized", json_string("test"));
    json_t *tags = json_object_get(c, "tags");
    if (json_is_string(tags)) {
        json_t *a = json_array();
        json_array_append(a, tags);
        json_object_set_new(c, "tags", a);
    } else if (!tags) json_object_set_new(c, "tags", json_array());
    if (!json_object_get(c, "meta")) json_object_set_new(c, "meta", json_object());
    return c;
}

static json_t *props_get(const tf_node *n, const char *key)
{
    return n->props ? json_object_get(n->props, key) : NULL;
}

static json_t *str_or_empty(const json_t *v) { return json_string(json_is_string(v) ? json_string_value(v) : ""); }

/* columns: {name: {name, description, meta, data_type, constraints, quote, tags}} */
static json_t *columns_json(const tf_node *n)
{
    json_t *out = json_object();
    size_t i;
    json_t *c;
    json_array_foreach(props_get(n, "columns"), i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        if (!name) continue;
        json_t *x = json_object();
        json_object_set_new(x, "name", json_string(name));
        json_object_set_new(x, "description", str_or_empty(json_object_get(c, "description")));
        json_t *meta = json_object_get(c, "meta");
        json_object_set_new(x, "meta", json_is_object(meta) ? json_deep_copy(meta) : json_object());
        json_t *dt = json_object_get(c, "data_type");
        json_object_set_new(x, "data_type", json_is_string(dt) ? json_copy(dt) : json_null());
        json_object_set_new(x, "constraints", json_array());
        json_object_set_new(x, "quote", json_is_boolean(json_object_get(c, "quote"))
                                            ? json_copy(json_object_get(c, "quote"))
                                            : json_null());
        json_t *tags = json_object_get(c, "tags");
        json_object_set_new(x, "tags", json_is_array(tags) ? json_deep_copy(tags) : json_array());
        json_object_set_new(x, "granularity", json_null());
        json_object_set_new(out, name, x);
    }
    return out;
}

static json_t *fqn_json(const tf_node *n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n->nfqn; i++) json_array_append_new(a, json_string(n->fqn[i]));
    if (!n->nfqn && n->kind == TF_SOURCE) {
        json_array_append_new(a, json_string(n->pkg ? n->pkg->name : ""));
        json_array_append_new(a, jstr(n->source_name));
        json_array_append_new(a, jstr(n->name));
    }
    return a;
}

static json_t *relation_name(tf_project *p, const tf_node *n)
{
    if (n->kind == TF_TEST || n->kind == TF_ANALYSIS || n->kind == TF_OPERATION) return json_null();
    if (n->materialized && !strcmp(n->materialized, "ephemeral")) return json_null();
    ig_buf b = IG_BUF_INIT;
    ig__tf_node_relation(p, n, &b);
    json_t *j = json_string(ig_buf_cstr(&b));
    ig_buf_free(&b);
    return j;
}

static json_t *source_json(tf_project *p, const tf_node *n, double created)
{
    json_t *j = json_object();
    const json_t *src = props_get(n, "source");
    json_object_set_new(j, "database", jstr(n->database));
    json_object_set_new(j, "schema", jstr(n->schema));
    json_object_set_new(j, "name", jstr(n->name));
    json_object_set_new(j, "resource_type", json_string("source"));
    json_object_set_new(j, "package_name", jstr(n->pkg ? n->pkg->name : NULL));
    json_object_set_new(j, "path", jstr(n->original_file_path));
    json_object_set_new(j, "original_file_path", jstr(n->original_file_path));
    json_object_set_new(j, "unique_id", jstr(n->unique_id));
    json_object_set_new(j, "fqn", fqn_json(n));
    json_object_set_new(j, "source_name", jstr(n->source_name));
    json_object_set_new(j, "source_description", str_or_empty(json_object_get(src, "description")));
    json_object_set_new(j, "loader", str_or_empty(json_object_get(src, "loader")));
    json_object_set_new(j, "identifier", jstr(n->alias ? n->alias : n->name));
    json_t *q = n->config ? json_object_get(n->config, "quoting") : NULL;
    json_object_set_new(j, "quoting", q ? json_deep_copy(q) : json_object());
    const json_t *laf = props_get(n, "loaded_at_field");
    if (!laf) laf = json_object_get(src, "loaded_at_field");
    json_object_set_new(j, "loaded_at_field", json_is_string(laf) ? json_copy((json_t *)laf) : json_null());
    const json_t *fr = props_get(n, "freshness");
    if (!fr) fr = json_object_get(src, "freshness");
    json_object_set_new(j, "freshness", fr ? json_deep_copy(fr) : json_null());
    json_object_set_new(j, "external", json_null());
    json_object_set_new(j, "description", str_or_empty(props_get(n, "description")));
    json_object_set_new(j, "columns", columns_json(n));
    json_t *meta = props_get(n, "meta");
    json_object_set_new(j, "meta", json_is_object(meta) ? json_deep_copy(meta) : json_object());
    json_t *smeta = json_object_get(src, "meta");
    json_object_set_new(j, "source_meta", json_is_object(smeta) ? json_deep_copy(smeta) : json_object());
    json_t *cfg = ig__tf_node_config_json(n);
    json_object_set_new(j, "tags", json_deep_copy(json_object_get(cfg, "tags")));
    json_object_set_new(j, "config", cfg);
    json_object_set_new(j, "patch_path", json_null());
    json_object_set_new(j, "unrendered_config", json_object());
    json_object_set_new(j, "relation_name", relation_name(p, n));
    json_object_set_new(j, "created_at", json_real(created));
    return j;
}

static json_t *node_json(tf_project *p, const tf_node *n, double created)
{
    if (n->kind == TF_SOURCE) return source_json(p, n, created);
    json_t *j = json_object();
    json_object_set_new(j, "database", jstr(n->database));
    json_object_set_new(j, "schema", jstr(n->schema));
    json_object_set_new(j, "name", jstr(n->name));
    json_object_set_new(j, "resource_type", json_string(rtype(n)));
    json_object_set_new(j, "package_name", jstr(n->pkg ? n->pkg->name : NULL));
    json_object_set_new(j, "path", jstr(n->path ? n->path : n->original_file_path));
    json_object_set_new(j, "original_file_path", jstr(n->original_file_path));
    json_object_set_new(j, "unique_id", jstr(n->unique_id));
    json_object_set_new(j, "fqn", fqn_json(n));
    json_object_set_new(j, "alias", jstr(n->alias ? n->alias : n->name));
    char sum[65];
    ig__tf_node_checksum(n, sum);
    json_object_set_new(j, "checksum", json_pack("{s:s,s:s}", "name", "sha256", "checksum", sum));
    json_t *cfg = ig__tf_node_config_json(n);
    json_object_set_new(j, "tags", json_deep_copy(json_object_get(cfg, "tags")));
    json_object_set_new(j, "meta", json_deep_copy(json_object_get(cfg, "meta")));
    json_object_set_new(j, "config", cfg);
    json_object_set_new(j, "description", str_or_empty(props_get(n, "description")));
    json_object_set_new(j, "columns", columns_json(n));
    json_object_set_new(j, "group", json_null());
    json_object_set_new(j, "docs", json_pack("{s:b,s:n}", "show", 1, "node_color"));
    json_object_set_new(j, "patch_path",
                        n->patch_path ? json_sprintf("%s://%s", n->pkg ? n->pkg->name : "",
                                                     n->patch_path)
                                      : json_null());
    json_object_set_new(j, "build_path", json_null());
    json_object_set_new(j, "unrendered_config", json_object());
    json_object_set_new(j, "created_at", json_real(created));
    json_object_set_new(j, "relation_name", relation_name(p, n));
    json_object_set_new(j, "raw_code", n->raw ? json_stringn(n->raw, n->raw_len) : json_string(""));
    json_object_set_new(j, "language", json_string("sql"));
    json_t *refs = json_array(), *srcs = json_array(), *deps = json_array();
    for (size_t i = 0; i < n->nrefs; i++)
        json_array_append_new(refs, json_pack("{s:o,s:o,s:o}", "name", jstr(n->refs[i].name),
                                              "package", jstr(n->refs[i].package), "version",
                                              jstr(n->refs[i].version)));
    for (size_t i = 0; i < n->nsrcs; i++)
        json_array_append_new(srcs, json_pack("[s?,s?]", n->srcs[i].package, n->srcs[i].name));
    for (size_t i = 0; i < n->ndeps; i++)
        json_array_append_new(deps, json_string(p->nodes[n->deps[i]]->unique_id));
    json_object_set_new(j, "refs", refs);
    json_object_set_new(j, "sources", srcs);
    json_object_set_new(j, "metrics", json_array());
    json_object_set_new(j, "depends_on", json_pack("{s:[],s:o}", "macros", "nodes", deps));
    bool compiled = n->compiled_ok && n->compiled;
    json_object_set_new(j, "compiled_path",
                        compiled ? json_sprintf("%s/compiled/%s/%s", p->target_path,
                                                n->pkg ? n->pkg->name : "", n->original_file_path)
                                 : json_null());
    json_object_set_new(j, "compiled", json_boolean(compiled));
    if (compiled) json_object_set_new(j, "compiled_code", json_stringn(n->compiled, n->compiled_len));
    json_object_set_new(j, "extra_ctes_injected", json_boolean(compiled));
    json_object_set_new(j, "extra_ctes", json_array());
    json_object_set_new(j, "contract", json_pack("{s:b,s:b,s:n}", "enforced", 0, "alias_types", 1, "checksum"));
    if (n->kind == TF_MODEL) {
        const char *acc = ig__tf_cfg_str(n->config, "access", "protected");
        json_object_set_new(j, "access", json_string(acc));
        json_object_set_new(j, "constraints", json_array());
        json_object_set_new(j, "version", jstr(n->version));
        json_t *lv = props_get(n, "latest_version");
        json_object_set_new(j, "latest_version", lv ? json_copy(lv) : json_null());
        json_object_set_new(j, "deprecation_date", json_null());
    }
    if (n->kind == TF_TEST) {
        if (n->test_meta) json_object_set_new(j, "test_metadata", json_deep_copy(n->test_meta));
        json_object_set_new(j, "column_name", jstr(n->column_name));
        const tf_node *a = n->attached >= 0 && (size_t)n->attached < p->nnodes ? p->nodes[n->attached] : NULL;
        json_object_set_new(j, "attached_node", a ? json_string(a->unique_id) : json_null());
        if (a) json_object_set_new(j, "file_key_name", json_sprintf("%s.%s", a->kind == TF_SOURCE ? "sources" : "models", a->kind == TF_SOURCE ? a->source_name : a->name));
    }
    return j;
}

static json_t *metadata(tf_project *p, const char *schema)
{
    char now[48], started[48], pid[40];
    ig_format_iso(ig_wall_us(), now, sizeof now);
    ig_format_iso(p->started_us, started, sizeof started);
    const char *proj = p->root ? p->root->name : "";
    digest(EVP_md5(), proj, strlen(proj), pid);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:{},s:s,s:s,s:n,s:b,s:s}", "dbt_schema_version", schema,
                     "dbt_version", TF_DBT_VERSION, "generated_at", now, "invocation_id",
                     p->invocation_id, "invocation_started_at", started, "env", "project_name",
                     proj, "project_id", pid, "user_id", "send_anonymous_usage_stats", 0,
                     "adapter_type", p->target.type ? p->target.type : "duckdb");
}

/* The manifest is streamed: each node's object is built, dumped into the
 * output and freed at once, so a 10k-model project never holds the whole
 * tree (building and freeing it cost more than the dump). */
static int buf_cb(const char *data, size_t n, void *ud) { return ig_buf_append(ud, data, n) ? -1 : 0; }

static void dump(ig_buf *b, const json_t *j)
{
    json_dump_callback(j, buf_cb, b, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
}

static void key(ig_buf *b, const char *k, bool *first)
{
    if (!*first) ig_buf_putc(b, ',');
    *first = false;
    json_t *s = json_string(k);
    dump(b, s);
    json_decref(s);
    ig_buf_putc(b, ':');
}

/* key: value, stealing value */
static void member(ig_buf *b, const char *k, json_t *v, bool *first)
{
    key(b, k, first);
    dump(b, v);
    json_decref(v);
}

static bool in_section(const tf_node *n, const char *section)
{
    const char *rt = rtype(n);
    if (!strcmp(section, "sources")) return !strcmp(rt, "source");
    if (!strcmp(section, "unit_tests")) return !strcmp(rt, "unit_test");
    return strcmp(rt, "source") && strcmp(rt, "unit_test");
}

static void stream_nodes(tf_project *p, ig_buf *b, const char *section, double created)
{
    bool first = true;
    ig_buf_putc(b, '{');
    for (size_t i = 0; i < p->nnodes; i++) {
        tf_node *n = p->nodes[i];
        if (!n->unique_id || !n->enabled || !in_section(n, section)) continue;
        member(b, n->unique_id, node_json(p, n, created), &first);
    }
    ig_buf_putc(b, '}');
}

static void stream_map(tf_project *p, ig_buf *b, bool parents)
{
    bool first = true;
    ig_buf_putc(b, '{');
    for (size_t i = 0; i < p->nnodes; i++) {
        tf_node *n = p->nodes[i];
        if (!n->unique_id || !n->enabled) continue;
        key(b, n->unique_id, &first);
        const int *to = parents ? n->deps : n->kids;
        size_t cnt = parents ? n->ndeps : n->nkids;
        json_t *a = json_array();
        for (size_t k = 0; k < cnt; k++)
            if (p->nodes[to[k]]->enabled) json_array_append_new(a, json_string(p->nodes[to[k]]->unique_id));
        dump(b, a);
        json_decref(a);
    }
    ig_buf_putc(b, '}');
}

static json_t *macros_json(tf_project *p, double created)
{
    json_t *macros = json_object();
    for (size_t i = 0; i < p->macros.cap; i++) {
        const char *k = p->macros.keys[i];
        if (!k || !strchr(k, '.')) continue;
        const tf_macro *mc = p->macros.vals[i];
        char *uid = ig_asprintf("macro.%s.%s", mc->package, mc->name);
        json_object_set_new(macros, uid,
                            json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:[]},s:s,s:{},s:{s:b,s:n},"
                                      "s:n,s:[],s:f,s:n}",
                                      "name", mc->name, "resource_type", "macro", "package_name",
                                      mc->package, "path", mc->path ? mc->path : "",
                                      "original_file_path", mc->path ? mc->path : "", "unique_id",
                                      uid, "macro_sql", "", "depends_on", "macros", "description",
                                      "", "meta", "docs", "show", 1, "node_color", "patch_path",
                                      "arguments", "created_at", created, "supported_languages"));
        free(uid);
    }
    return macros;
}

static json_t *docs_json(tf_project *p)
{
    json_t *docs = json_object();
    for (size_t i = 0; i < p->docs.cap; i++) {
        const char *k = p->docs.keys[i];
        const char *dot = k ? strchr(k, '.') : NULL;
        if (!dot || !p->docs.vals[i]) continue;
        char *uid = ig_asprintf("doc.%s", k);
        char *pkg = ig_strndup(k, (size_t)(dot - k));
        json_object_set_new(docs, uid,
                            json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "name", dot + 1,
                                      "resource_type", "doc", "package_name", pkg, "path", "",
                                      "original_file_path", "", "unique_id", uid, "block_contents",
                                      (const char *)p->docs.vals[i]));
        free(uid);
        free(pkg);
    }
    return docs;
}

static void manifest_text(tf_project *p, ig_buf *b)
{
    double created = (double)p->started_us / 1e6;
    bool first = true;
    ig_buf_putc(b, '{');
    member(b, "metadata", metadata(p, IG_TF_MANIFEST_SCHEMA), &first);
    key(b, "nodes", &first);
    stream_nodes(p, b, "nodes", created);
    key(b, "sources", &first);
    stream_nodes(p, b, "sources", created);
    member(b, "macros", macros_json(p, created), &first);
    member(b, "docs", docs_json(p), &first);
    static const char *const empty[] = {"exposures", "metrics", "groups", "selectors",
                                        "semantic_models", "saved_queries", "group_map"};
    for (size_t i = 0; i < sizeof empty / sizeof *empty; i++) member(b, empty[i], json_object(), &first);
    key(b, "unit_tests", &first);
    stream_nodes(p, b, "unit_tests", created);
    json_t *disabled = json_object();
    for (size_t i = 0; i < p->nnodes; i++) {
        tf_node *n = p->nodes[i];
        if (!n->unique_id || n->enabled) continue;
        json_t *d = json_array();
        json_array_append_new(d, node_json(p, n, created));
        json_object_set_new(disabled, n->unique_id, d);
    }
    member(b, "disabled", disabled, &first);
    key(b, "parent_map", &first);
    stream_map(p, b, true);
    key(b, "child_map", &first);
    stream_map(p, b, false);
    ig_buf_putc(b, '}');
}

json_t *ig__tf_manifest_json(tf_project *p)
{
    ig_buf b = IG_BUF_INIT;
    manifest_text(p, &b);
    json_t *j = json_loadb(b.data, b.len, 0, NULL);
    ig_buf_free(&b);
    return j;
}

static ig_rc write_text(tf_project *p, const char *file, const ig_buf *b, ig_error *err);

static ig_rc write_json(tf_project *p, const char *file, json_t *j, ig_error *err)
{
    ig_buf b = IG_BUF_INIT;
    dump(&b, j);
    ig_rc rc = write_text(p, file, &b, err);
    ig_buf_free(&b);
    return rc;
}

static ig_rc write_text(tf_project *p, const char *file, const ig_buf *b, ig_error *err)
{
    ig_rc rc = ig_fs_mkdirs(p->target_path, err);
    if (rc) return rc;
    char *path = ig_asprintf("%s/%s", p->target_path, file);
    rc = ig_fs_write_atomic(path, b->data ? b->data : "", b->len, 0644, err);
    if (rc) ig_err_prefix(err, "writing %s", path);
    free(path);
    return rc;
}

ig_rc ig__tf_write_manifest(tf_project *p, ig_error *err)
{
    ig_buf b = IG_BUF_INIT;
    manifest_text(p, &b);
    ig_rc rc = write_text(p, "manifest.json", &b, err);
    ig_buf_free(&b);
    return rc;
}

/* ---------------------------------------------------------- results */

static tf_node *node_by_uid(tf_project *p, tf_map *m, const char *uid)
{
    if (!m->len)
        for (size_t i = 0; i < p->nnodes; i++)
            if (p->nodes[i]->unique_id) ig__tf_map_put(m, p->nodes[i]->unique_id, p->nodes[i]);
    return uid ? ig__tf_map_get(m, uid) : NULL;
}

static int64_t failures_of(const ig_transform_node_result *r, const tf_node *n)
{
    if (!n || n->kind != TF_TEST) return -1;
    return r->failures >= 0 && (r->failures > 0 || n->failures < 0) ? r->failures : n->failures;
}

static const char *status_of(const ig_transform_node_result *r, const tf_node *n)
{
    if (r->status_text) return r->status_text;
    if (n && n->status) return n->status;
    switch (r->status) {
    case IG_TF_SUCCESS: return n && n->kind == TF_TEST ? "pass" : "success";
    case IG_TF_ERROR: return "error";
    case IG_TF_SKIPPED: return "skipped";
    case IG_TF_WARN: return "warn";
    case IG_TF_FAIL: return "fail";
    }
    return "error";
}

const char *ig__tf_result_status(tf_project *p, const ig_transform_node_result *r)
{
    tf_map m = {0};
    const char *s = status_of(r, node_by_uid(p, &m, r->unique_id));
    ig__tf_map_free(&m);
    return s;
}

static json_t *split_words(const char *s)
{
    json_t *a = json_array();
    if (!s) return a;
    char *c = ig_strdup(s);
    for (char *save, *w = strtok_r(c, " ", &save); w; w = strtok_r(NULL, " ", &save))
        json_array_append_new(a, json_string(w));
    free(c);
    return a;
}

static json_t *args_json(tf_project *p, const char *command)
{
    const ig_transform_options *o = p->opts;
    json_t *a = json_object();
    json_object_set_new(a, "which", json_string(command));
    json_object_set_new(a, "invocation_command", json_sprintf("ingot %s", command));
    json_object_set_new(a, "select", split_words(o ? o->select : NULL));
    json_object_set_new(a, "exclude", split_words(o ? o->exclude : NULL));
    json_object_set_new(a, "threads", json_integer(o && o->threads ? o->threads : p->target.threads));
    json_object_set_new(a, "full_refresh", json_boolean(o && o->full_refresh));
    json_object_set_new(a, "target", jstr(p->target.name));
    json_object_set_new(a, "project_dir", jstr(p->root ? p->root->dir : NULL));
    json_object_set_new(a, "vars", jstr(o ? o->vars : NULL));
    return a;
}

ig_rc ig__tf_write_run_results(tf_project *p, const ig_transform_result *res, const char *command,
                               double elapsed, ig_error *err)
{
    /* streamed like the manifest: one result object at a time */
    ig_buf b = IG_BUF_INIT;
    bool first = true;
    ig_buf_putc(&b, '{');
    member(&b, "metadata", metadata(p, IG_TF_RUN_RESULTS_SCHEMA), &first);
    key(&b, "results", &first);
    ig_buf_putc(&b, '[');
    tf_map m = {0};
    for (size_t i = 0; i < res->nnodes; i++) {
        const ig_transform_node_result *r = &res->nodes[i];
        tf_node *n = node_by_uid(p, &m, r->unique_id);
        const char *st = status_of(r, n);
        json_t *x = json_object();
        json_object_set_new(x, "status", json_string(st));
        json_object_set_new(x, "timing", json_array());
        json_object_set_new(x, "thread_id", json_string("Thread-1"));
        json_object_set_new(x, "execution_time", json_real(r->seconds));
        json_t *ar = json_object();
        char msg[80];
        if (r->rows >= 0) {
            snprintf(msg, sizeof msg, "%s %lld", n && n->kind == TF_TEST ? "SELECT" : "OK", (long long)r->rows);
            json_object_set_new(ar, "_message", json_string(msg));
            json_object_set_new(ar, "rows_affected", json_integer(r->rows));
        } else if (r->status == IG_TF_SUCCESS) json_object_set_new(ar, "_message", json_string("OK"));
        json_object_set_new(x, "adapter_response", ar);
        json_object_set_new(x, "message", r->message ? json_string(r->message)
                                          : r->status == IG_TF_SUCCESS && r->rows >= 0 ? json_string(msg)
                                          : r->status == IG_TF_SUCCESS ? json_string("OK") : json_null());
        int64_t fl = failures_of(r, n);
        json_object_set_new(x, "failures", fl >= 0 ? json_integer(fl) : json_null());
        json_object_set_new(x, "unique_id", json_string(r->unique_id));
        bool compiled = n && n->compiled_ok && n->compiled;
        json_object_set_new(x, "compiled", json_boolean(compiled));
        json_object_set_new(x, "compiled_code", compiled ? json_stringn(n->compiled, n->compiled_len) : json_null());
        json_object_set_new(x, "relation_name", r->relation && n && n->kind != TF_TEST ? json_string(r->relation) : json_null());
        json_object_set_new(x, "batch_results", json_null());
        if (i) ig_buf_putc(&b, ',');
        dump(&b, x);
        json_decref(x);
    }
    ig__tf_map_free(&m);
    ig_buf_putc(&b, ']');
    member(&b, "elapsed_time", json_real(elapsed), &first);
    member(&b, "args", args_json(p, command), &first);
    ig_buf_putc(&b, '}');
    ig_rc rc = write_text(p, "run_results.json", &b, err);
    ig_buf_free(&b);
    return rc;
}

ig_rc ig__tf_write_sources(tf_project *p, const ig_transform_result *res, double elapsed,
                           ig_error *err)
{
    json_t *sj = json_object();
    json_object_set_new(sj, "metadata", metadata(p, IG_TF_SOURCES_SCHEMA));
    json_t *results = json_array();
    tf_map m = {0};
    for (size_t i = 0; i < res->nnodes; i++) {
        const ig_transform_node_result *r = &res->nodes[i];
        const tf_node *n = node_by_uid(p, &m, r->unique_id);
        const char *st = status_of(r, n);
        if (!strcmp(st, "success")) st = "pass";
        json_t *x = json_object();
        json_object_set_new(x, "unique_id", json_string(r->unique_id));
        json_object_set_new(x, "status", json_string(st));
        if (!strcmp(st, "runtime error") || (r->status == IG_TF_ERROR && !r->snapshotted_at)) {
            /* dbt's SourceFreshnessRuntimeError: no timestamps */
            json_object_set_new(x, "status", json_string("runtime error"));
            json_object_set_new(x, "error", jstr(r->message));
        } else {
            json_object_set_new(x, "max_loaded_at", jstr(r->max_loaded_at));
            json_object_set_new(x, "snapshotted_at", jstr(r->snapshotted_at));
            json_object_set_new(x, "max_loaded_at_time_ago_in_s", json_real(r->age_seconds));
            const json_t *fr = n ? props_get(n, "freshness") : NULL;
            if (!fr && n) fr = json_object_get(props_get(n, "source"), "freshness");
            if (!fr && n && n->config) fr = json_object_get(n->config, "freshness");
            json_t *crit = json_object();
            static const char *const keys[] = {"warn_after", "error_after", "filter"};
            for (size_t k = 0; k < 3; k++) {
                const json_t *v = json_object_get(fr, keys[k]);
                json_object_set_new(crit, keys[k], v ? json_deep_copy(v) : k < 2 ? json_object() : json_null());
            }
            json_object_set_new(x, "criteria", crit);
            json_object_set_new(x, "adapter_response", json_object());
            json_object_set_new(x, "timing", json_array());
            json_object_set_new(x, "thread_id", json_string("Thread-1"));
        }
        json_object_set_new(x, "execution_time", json_real(r->seconds));
        json_array_append_new(results, x);
    }
    ig__tf_map_free(&m);
    json_object_set_new(sj, "results", results);
    json_object_set_new(sj, "elapsed_time", json_real(elapsed));
    ig_rc rc = write_json(p, "sources.json", sj, err);
    json_decref(sj);
    return rc;
}

/* ---------------------------------------------------------- catalog */

static json_t *catalog_entry(tf_project *p, const tf_node *n, const char *kind, ig_error *err)
{
    ig_wh_columns cols = {0};
    ig_error e;
    ig_error_clear(&e);
    if (p->dialect->get_columns(p->wh, n->database, n->schema, n->alias ? n->alias : n->name, &cols, &e)) {
        ig_debug("transform.catalog", "columns of %s.%s: %s", n->schema, n->name, e.message);
        return NULL;
    }
    json_t *cj = json_object();
    for (size_t i = 0; i < cols.n; i++)
        json_object_set_new(cj, cols.items[i].name,
                            json_pack("{s:s?,s:I,s:s,s:n}", "type", cols.items[i].type, "index",
                                      (json_int_t)(i + 1), "name", cols.items[i].name, "comment"));
    ig_wh_columns_free(&cols);
    json_t *stats = json_object();
    json_object_set_new(stats, "has_stats",
                        json_pack("{s:s,s:s,s:b,s:b,s:s}", "id", "has_stats", "label", "Has Stats?",
                                  "value", 0, "include", 0, "description",
                                  "Indicates whether there are statistics for this table"));
    if (kind && !strcmp(kind, "table")) {
        ig_buf q = IG_BUF_INIT;
        ig_buf_puts(&q, "SELECT count(*) FROM ");
        ig__tf_node_relation(p, n, &q);
        int64_t rows = 0;
        if (!ig_wh_query_int(p->wh, ig_buf_cstr(&q), &rows, &e)) {
            json_object_set_new(stats, "row_count",
                                json_pack("{s:s,s:s,s:I,s:b,s:s}", "id", "row_count", "label",
                                          "Row Count", "value", (json_int_t)rows, "include", 1,
                                          "description", "Number of rows in the table"));
            json_object_set_new(json_object_get(stats, "has_stats"), "value", json_true());
        }
        ig_buf_free(&q);
    }
    (void)err;
    return json_pack("{s:{s:s,s:s?,s:s,s:s?,s:n,s:n},s:o,s:o,s:s}", "metadata", "type",
                     kind && !strcmp(kind, "view") ? "VIEW" : "BASE TABLE", "schema", n->schema,
                     "name", n->alias ? n->alias : n->name, "database", n->database, "comment",
                     "owner", "columns", cj, "stats", stats, "unique_id", n->unique_id);
}

ig_rc ig__tf_write_catalog(tf_project *p, json_t **catalog_out, ig_error *err)
{
    if (!p->wh || !p->dialect) {
        ig_err(err, IG_ERR_INTERNAL, "the catalog needs an open warehouse");
        ig_err_hint(err, "this is a bug in ingot: report it with the command you ran");
        return IG_ERR_INTERNAL;
    }
    json_t *cat = json_object();
    json_object_set_new(cat, "metadata", metadata(p, IG_TF_CATALOG_SCHEMA));
    json_t *nodes = json_object(), *sources = json_object();
    for (size_t i = 0; i < p->nnodes; i++) {
        const tf_node *n = p->nodes[i];
        if (!n->enabled || !n->schema) continue;
        if (n->kind != TF_MODEL && n->kind != TF_SEED && n->kind != TF_SNAPSHOT && n->kind != TF_SOURCE)
            continue;
        if (n->materialized && !strcmp(n->materialized, "ephemeral")) continue;
        const char *kind = ig__tf_relcache_get(p, n->schema, n->alias ? n->alias : n->name);
        if (!kind && n->kind != TF_SOURCE) continue;
        json_t *e = catalog_entry(p, n, kind, err);
        if (!e) continue;
        if (!json_object_size(json_object_get(e, "columns"))) {
            json_decref(e);
            continue;
        }
        json_object_set_new(n->kind == TF_SOURCE ? sources : nodes, n->unique_id, e);
    }
    json_object_set_new(cat, "nodes", nodes);
    json_object_set_new(cat, "sources", sources);
    json_object_set_new(cat, "errors", json_null());
    ig_rc rc = write_json(p, "catalog.json", cat, err);
    if (!rc && catalog_out) *catalog_out = cat;
    else json_decref(cat);
    return rc;
}

/* ---------------------------------------------------------- history */

ig_rc ig__tf_record_results(tf_project *p, const ig_transform_result *res, const char *command,
                            const char *status, int64_t started_us, int64_t finished_us,
                            ig_error *err)
{
    ig_wh *wh = p->wh;
    if (!wh) return 0;
    if (!ig_wh_relation_exists(wh, "ingot", "dbt_node_results")) {
        ig_debug("transform.history", "no ingot.dbt_node_results in this warehouse: results not recorded");
        return 0;
    }
    json_t *args = args_json(p, command);
    char *args_text = json_dumps(args, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(args);
    const ig_transform_options *o = p->opts;
    size_t errors = 0;
    tf_map m = {0};
    for (size_t i = 0; i < res->nnodes; i++) {
        const char *st = status_of(&res->nodes[i], node_by_uid(p, &m, res->nodes[i].unique_id));
        errors += !strcmp(st, "error") || !strcmp(st, "fail");
    }
    ig_rc rc = ig_wh_begin(wh, err);
    if (!rc) {
        ig_param prm[14] = {
            IG_P_TEXT(p->invocation_id), IG_P_TEXT(command), IG_P_TS(started_us),
            IG_P_TS(finished_us), IG_P_TEXT(status),
            o && o->select ? IG_P_TEXT(o->select) : IG_P_NULL, IG_P_TEXT(args_text),
            IG_P_TEXT(TF_DBT_VERSION), IG_P_TEXT(IG_VERSION),
            p->target.name ? IG_P_TEXT(p->target.name) : IG_P_NULL,
            p->root ? IG_P_TEXT(p->root->name) : IG_P_NULL, IG_P_INT((int64_t)res->nnodes),
            IG_P_INT((int64_t)errors), IG_P_DOUBLE((double)(finished_us - started_us) / 1e6)};
        rc = ig_wh_exec_params(wh,
                               "INSERT INTO ingot.dbt_invocations (invocation_id, command, "
                               "started_at, finished_at, status, selection, args, dbt_version, "
                               "ingot_version, target, project, nodes, errors, elapsed_seconds) "
                               "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                               prm, 14, NULL, err);
    }
    ig_wh_appender *a = NULL;
    if (!rc) rc = ig_wh_appender_open(wh, "ingot", "dbt_node_results", &a, err);
    for (size_t i = 0; !rc && i < res->nnodes; i++) {
        const ig_transform_node_result *r = &res->nodes[i];
        tf_node *n = node_by_uid(p, &m, r->unique_id);
        const char *txt[] = {p->invocation_id, r->unique_id,
                             r->resource_type ? r->resource_type : n ? rtype(n) : "model", r->name,
                             r->relation, r->materialized, status_of(r, n)};
        for (size_t k = 0; k < 7; k++)
            if (txt[k]) ig_wh_append_text(a, txt[k], strlen(txt[k]));
            else ig_wh_append_null(a);
        ig_wh_append_timestamp(a, finished_us);
        ig_wh_append_double(a, r->seconds);
        if (r->rows >= 0) ig_wh_append_int(a, r->rows);
        else ig_wh_append_null(a);
        int64_t fl = failures_of(r, n);
        if (fl >= 0) ig_wh_append_int(a, fl);
        else ig_wh_append_null(a);
        if (r->message) ig_wh_append_text(a, r->message, strlen(r->message));
        else ig_wh_append_null(a);
        if (r->compiled_path) ig_wh_append_text(a, r->compiled_path, strlen(r->compiled_path));
        else ig_wh_append_null(a);
        rc = ig_wh_append_end_row(a, err);
    }
    if (a) {
        ig_rc crc = ig_wh_appender_close(a, rc ? NULL : err);
        if (!rc) rc = crc;
    }
    if (!rc) rc = ig_wh_commit(wh, err);
    else ig_wh_rollback(wh);
    if (rc) ig_err_prefix(err, "recording the results in ingot.dbt_node_results");
    ig__tf_map_free(&m);
    free(args_text);
    return rc;
}
