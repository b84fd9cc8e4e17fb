/* The connector registry and what every connector shares: finding a source
 * in ingot.yml, checking its keys against the connector's spec, typed reads
 * of its settings, secrets, stream filters, and the names of sync modes and
 * bronze tables. */
#include "ingest/connectors/conn.h"

#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const ig_conn_vtable *const registry[] = {&ig_conn_postgres, &ig_conn_mysql, &ig_conn_rest,
                                                 NULL};

static const struct {
    const char *alias, *type;
} aliases[] = {{"postgresql", "postgres"}, {"mariadb", "mysql"}, {NULL, NULL}};

const char *const ig_conn_common_keys[] = {
    "type", "streams", "default_mode", "include", "exclude", "secrets_file", "batch_rows",
    "batch_mb", NULL};

const ig_conn_vtable *ig_conn_find_type(const char *type)
{
    for (size_t i = 0; aliases[i].alias; i++)
        if (!strcmp(type, aliases[i].alias)) type = aliases[i].type;
    for (size_t i = 0; registry[i]; i++)
        if (!strcmp(registry[i]->type, type)) return registry[i];
    return NULL;
}

const ig_conn_vtable *const *ig_conn_types(void) { return registry; }

static const char *const mode_names[] = {"full_refresh_overwrite", "full_refresh_append",
                                         "incremental_append", "incremental_dedup", "cdc",
                                         NULL};

int ig_conn_mode_parse(const char *s)
{
    for (int i = 0; mode_names[i]; i++)
        if (!strcmp(s, mode_names[i])) return i;
    if (!strcmp(s, "incremental_deduped_history") || !strcmp(s, "incremental_append_deduped"))
        return IG_CONN_INCR_DEDUP;
    return -1;
}

const char *ig_conn_mode_name(ig_conn_mode m) { return mode_names[m]; }

const char *ig_conn_table_name(ig_arena *a, const char *source, const char *stream)
{
    char *t = ig_arena_printf(a, "%s__%s", source, stream);
    for (char *p = t; *p; p++) {
        unsigned char ch = (unsigned char)tolower((unsigned char)*p);
        *p = (char)((isalnum(ch) || ch == '_') ? ch : '_');
    }
    return t;
}

bool ig_conn_glob(const char *p, const char *s)
{
    /* Iterative matcher with one backtrack point: linear for '*' patterns. */
    const char *star = NULL, *ss = NULL;
    while (*s) {
        if (*p == '?' || *p == *s) {
            p++;
            s++;
        } else if (*p == '*') {
            star = p++;
            ss = s;
        } else if (star) {
            p = star + 1;
            s = ++ss;
        } else {
            return false;
        }
    }
    while (*p == '*') p++;
    return *p == '\0';
}

/* ---- configuration ---- */

static ig_rc check_keys(const ig_conn *c, ig_error *err)
{
    const char *keys[128];
    size_t n = 0;
    for (size_t i = 0; ig_conn_common_keys[i] && n < 120; i++) keys[n++] = ig_conn_common_keys[i];
    for (const ig_conn_spec_key *k = c->vt->spec; k && k->name && n < 127; k++) keys[n++] = k->name;
    keys[n] = NULL;
    char *what = ig_arena_printf(c->arena, "sources.%s", c->name);
    ig_rc rc = ig_yaml_check_keys(c->cfg, what, keys, err);
    if (rc) return rc;
    for (const ig_conn_spec_key *k = c->vt->spec; k && k->name; k++) {
        if (!k->required) continue;
        const ig_yaml *v = ig_yaml_get(c->cfg, k->name);
        if (!v || v->kind == IG_Y_NULL) {
            if (k->secret) {
                const char *s = NULL;
                ig_error e;
                if (!ig_conn_cfg_secret(c, k->name, &s, &e) && s) continue;
            }
            ig_yaml_error(c->cfg, err, "source '%s' (%s) needs '%s'", c->name, c->vt->type, k->name);
            ig_err_hint(err, "%s: %s", k->name, k->help ? k->help : "");
            return IG_ERR_CONFIG;
        }
    }
    return IG_OK;
}

ig_rc ig_conn_open_cfg(ig_arena *a, const char *name, const ig_yaml *cfg, ig_conn **out,
                       ig_error *err)
{
    if (!cfg || cfg->kind != IG_Y_MAP)
        return ig_yaml_error(cfg, err, "source '%s' must be a mapping with at least 'type:'", name);
    const ig_yaml *t = ig_yaml_get(cfg, "type");
    const char *type = NULL;
    char what[256];
    snprintf(what, sizeof what, "sources.%s.type", name);
    if (!t) return ig_yaml_error(cfg, err, "source '%s' has no 'type:'", name);
    ig_rc rc = ig_yaml_str(t, what, &type, err);
    if (rc) return rc;
    const ig_conn_vtable *vt = ig_conn_find_type(type);
    if (!vt && (!strcmp(type, "files") || !strcmp(type, "http_file"))) {
        ig_yaml_error(t, err, "source '%s' is a %s source, read by 'ingot ingest', not a connector",
                      name, type);
        ig_err_hint(err, "run 'ingot ingest %s'", name);
        err->code = IG_ERR_USAGE;
        return IG_ERR_USAGE;
    }
    if (!vt) {
        const char *names[16];
        size_t n = 0;
        for (size_t i = 0; registry[i]; i++) names[n++] = registry[i]->type;
        for (size_t i = 0; aliases[i].alias; i++) names[n++] = aliases[i].alias;
        const char *s = ig_str_suggest(type, names, n);
        ig_yaml_error(t, err, "unknown source type '%s' for source '%s'", type, name);
        if (s) ig_err_hint(err, "did you mean '%s'? Types: postgres, mysql (mariadb), rest", s);
        else ig_err_hint(err, "types: postgres, mysql (mariadb), rest");
        return IG_ERR_CONFIG;
    }
    ig_conn *c = ig_arena_zalloc(a, sizeof *c);
    c->vt = vt;
    c->name = ig_arena_strdup(a, name);
    c->cfg = cfg;
    c->arena = a;
    rc = check_keys(c, err);
    if (!rc) rc = vt->open(c, err);
    if (rc) return rc;
    *out = c;
    return IG_OK;
}

ig_rc ig_conn_open(ig_arena *a, const ig_project *p, const char *name, ig_conn **out,
                   ig_error *err)
{
    const ig_yaml *sources = p && p->root ? ig_yaml_get(p->root, "sources") : NULL;
    const ig_yaml *cfg = sources && sources->kind == IG_Y_MAP ? ig_yaml_get(sources, name) : NULL;
    if (!cfg) {
        ig_err(err, IG_ERR_NOT_FOUND, "no source '%s' in %s", name, IG_PROJECT_FILE);
        if (sources && sources->kind == IG_Y_MAP && sources->n) {
            const char **names = ig_arena_alloc(a, sources->n * sizeof *names);
            for (size_t i = 0; i < sources->n; i++) names[i] = sources->keys[i]->str;
            const char *s = ig_str_suggest(name, names, sources->n);
            if (s) ig_err_hint(err, "did you mean '%s'? 'ingot source list' shows them", s);
            else ig_err_hint(err, "'ingot source list' shows the sources in %s", IG_PROJECT_FILE);
        } else {
            ig_err_hint(err, "add it under 'sources:' in %s; see docs/connectors.md",
                        IG_PROJECT_FILE);
        }
        return IG_ERR_NOT_FOUND;
    }
    ig_rc rc = ig_conn_open_cfg(a, name, cfg, out, err);
    if (!rc) (*out)->project = p;
    return rc;
}

void ig_conn_close(ig_conn *c)
{
    if (c && c->vt->close) c->vt->close(c);
}

ig_rc ig_conn_check(ig_conn *c, ig_error *err) { return c->vt->check(c, err); }

ig_rc ig_conn_discover(ig_conn *c, ig_conn_catalog *out, ig_error *err)
{
    ig_conn_catalog cat = {0};
    ig_rc rc = c->vt->discover(c, &cat, err);
    if (rc) return rc;
    const char **inc = NULL, **exc = NULL;
    size_t ninc = 0, nexc = 0;
    if ((rc = ig_conn_cfg_list(c, "include", &inc, &ninc, err))) return rc;
    if ((rc = ig_conn_cfg_list(c, "exclude", &exc, &nexc, err))) return rc;
    size_t k = 0;
    for (size_t i = 0; i < cat.n; i++) {
        const char *nm = cat.streams[i].name;
        bool keep = ninc == 0;
        for (size_t j = 0; j < ninc && !keep; j++) keep = ig_conn_glob(inc[j], nm);
        for (size_t j = 0; j < nexc && keep; j++) keep = !ig_conn_glob(exc[j], nm);
        if (keep) cat.streams[k++] = cat.streams[i];
    }
    cat.n = k;
    *out = cat;
    return IG_OK;
}

static char *keypath(const ig_conn *c, const char *key)
{
    return ig_arena_printf(c->arena, "sources.%s.%s", c->name, key);
}

ig_rc ig_conn_cfg_str(const ig_conn *c, const char *key, const char *dflt, const char **out,
                      ig_error *err)
{
    const ig_yaml *v = ig_yaml_get(c->cfg, key);
    if (!v || v->kind == IG_Y_NULL) {
        *out = dflt;
        return IG_OK;
    }
    return ig_yaml_str(v, keypath(c, key), out, err);
}

ig_rc ig_conn_cfg_int(const ig_conn *c, const char *key, long dflt, long *out, ig_error *err)
{
    const ig_yaml *v = ig_yaml_get(c->cfg, key);
    if (!v || v->kind == IG_Y_NULL) {
        *out = dflt;
        return IG_OK;
    }
    return ig_yaml_int(v, keypath(c, key), out, err);
}

ig_rc ig_conn_cfg_bool(const ig_conn *c, const char *key, bool dflt, bool *out, ig_error *err)
{
    const ig_yaml *v = ig_yaml_get(c->cfg, key);
    if (!v || v->kind == IG_Y_NULL) {
        *out = dflt;
        return IG_OK;
    }
    return ig_yaml_bool(v, keypath(c, key), out, err);
}

ig_rc ig_conn_cfg_list(const ig_conn *c, const char *key, const char ***out, size_t *n,
                       ig_error *err)
{
    const ig_yaml *v = ig_yaml_get(c->cfg, key);
    *out = NULL;
    *n = 0;
    if (!v || v->kind == IG_Y_NULL) return IG_OK;
    if (v->kind == IG_Y_SCALAR) {
        const char **l = ig_arena_alloc(c->arena, sizeof *l);
        l[0] = v->str;
        *out = l;
        *n = 1;
        return IG_OK;
    }
    if (v->kind != IG_Y_SEQ)
        return ig_yaml_error(v, err, "%s: expected a list of strings, got %s", keypath(c, key),
                             ig_yaml_kind_name(v));
    const char **l = ig_arena_alloc(c->arena, (v->n + 1) * sizeof *l);
    for (size_t i = 0; i < v->n; i++) {
        ig_rc rc = ig_yaml_str(v->items[i], keypath(c, key), &l[i], err);
        if (rc) return rc;
    }
    *out = l;
    *n = v->n;
    return IG_OK;
}

/* Look `key` up in the source's secrets file (KEY=VALUE lines, '#' comments). */
static ig_rc secret_from_file(const ig_conn *c, const char *key, const char **out, ig_error *err)
{
    const char *path = NULL;
    *out = NULL;
    ig_rc rc = ig_conn_cfg_str(c, "secrets_file", NULL, &path, err);
    if (rc || !path) return rc;
    char *full = (c->project && path[0] != '/') ? ig_path_join(c->project->dir, path) : ig_strdup(path);
    char *text = NULL;
    size_t len = 0;
    rc = ig_fs_read(full, 1 << 20, &text, &len, err);
    if (rc) {
        ig_err_prefix(err, "secrets file of source '%s'", c->name);
        free(full);
        return rc;
    }
    free(full);
    size_t klen = strlen(key);
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        while (*line == ' ' || *line == '\t') line++;
        if (*line != '#' && !strncmp(line, key, klen) && line[klen] == '=') {
            char *v = line + klen + 1;
            size_t vl = strlen(v);
            while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' ')) v[--vl] = '\0';
            *out = ig_arena_strdup(c->arena, v);
            break;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    return IG_OK;
}

ig_rc ig_conn_cfg_secret(const ig_conn *c, const char *key, const char **out, ig_error *err)
{
    const ig_yaml *v = ig_yaml_get(c->cfg, key);
    *out = NULL;
    if (!v || v->kind == IG_Y_NULL) return secret_from_file(c, key, out, err);
    if (v->kind != IG_Y_SCALAR)
        return ig_yaml_error(v, err, "%s: expected a string", keypath(c, key));
    if (!v->var) {
        ig_yaml_error(v, err, "%s is a secret and must not be written in %s in clear",
                      keypath(c, key), IG_PROJECT_FILE);
        err->detail[0] = '\0'; /* the excerpt would show the secret */
        ig_err_hint(err, "write `%s: ${SOME_ENV_VAR}` and set the variable, or put `%s=...` in "
                    "the source's secrets_file", key, key);
        return IG_ERR_CONFIG;
    }
    *out = v->str;
    return IG_OK;
}
