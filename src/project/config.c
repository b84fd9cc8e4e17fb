/* ingot.yml into an ig_project. The file is parsed by yaml.c (with ${VAR}
 * interpolation), then each section is read by its own function against a
 * table of allowed keys. Problems are collected rather than returned at the
 * first one, so `ingot validate` can show them all; ig_project_load just
 * returns the first. Paths are resolved against the project directory. */
#include "project/config.h"

#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- problems --------------------------------------------------------- */

void ig_problems_add(ig_arena *a, ig_problems *p, const ig_error *err)
{
    p->n++;
    if (p->kept >= IG_PROBLEMS_MAX) return;
    if (p->kept == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 8;
        ig_error *ni = ig_arena_alloc(a, ncap * sizeof *ni);
        if (p->kept) memcpy(ni, p->items, p->kept * sizeof *ni);
        p->items = ni;
        p->cap = ncap;
    }
    p->items[p->kept++] = *err;
}

/* Sort by position (stable: insertion sort, the list is short). */
static void problems_sort(ig_problems *p)
{
    for (size_t i = 1; i < p->kept; i++) {
        ig_error e = p->items[i];
        size_t j = i;
        while (j > 0 && (p->items[j - 1].line > e.line ||
                         (p->items[j - 1].line == e.line && p->items[j - 1].column > e.column))) {
            p->items[j] = p->items[j - 1];
            j--;
        }
        p->items[j] = e;
    }
}

/* ---- the loader ------------------------------------------------------- */

typedef struct loader {
    ig_arena *a;
    ig_project *p;
    ig_problems *probs;
    ig_error e; /* scratch for the problem being reported */
} loader;

static void report(loader *L) { ig_problems_add(L->a, L->probs, &L->e); }

/* A section must be a mapping (or empty: then its defaults hold). */
static bool section(loader *L, const ig_yaml *n, const char *what, const char *const *keys)
{
    if (!n || n->kind == IG_Y_NULL) return false;
    if (n->kind != IG_Y_MAP) {
        ig_buf b = IG_BUF_INIT;
        for (size_t i = 0; keys[i]; i++)
            ig_buf_printf(&b, "%s%s", i ? ", " : "", keys[i]);
        ig_yaml_error(n, &L->e, "%s: expected a mapping (with keys %s), got %s", what,
                      ig_buf_cstr(&b), ig_yaml_kind_name(n));
        ig_buf_free(&b);
        report(L);
        return false;
    }
    for (size_t i = 0; i < n->n; i++)
        if (ig_yaml_check_key(n, i, what, keys, &L->e)) report(L);
    return true;
}

/* An optional string: false when absent or empty (`key:` means "not set"). */
static bool opt_str(loader *L, const ig_yaml *map, const char *key, const char *what,
                    const char **out)
{
    const ig_yaml *n = ig_yaml_get(map, key);
    if (!n || n->kind == IG_Y_NULL) return false;
    if (ig_yaml_str(n, what, out, &L->e)) {
        report(L);
        return false;
    }
    if (!**out) {
        ig_yaml_error(n, &L->e, "%s: empty string; leave the key out for the default", what);
        report(L);
        return false;
    }
    return true;
}

/* Remove "." and "name/.." components of an absolute path, lexically. */
static char *path_clean(ig_arena *a, const char *path)
{
    size_t len = strlen(path);
    char *out = ig_arena_alloc(a, len + 2);
    size_t o = 0;
    for (const char *s = path; *s;) {
        while (*s == '/')
            s++;
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0) break;
        if (n == 1 && s[0] == '.') {
        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0) o--;
        } else {
            out[o++] = '/';
            memcpy(out + o, s, n);
            o += n;
        }
        s += n;
    }
    if (!o) out[o++] = '/';
    out[o] = '\0';
    return out;
}

/* A path from the file: "~/" is the home directory, a relative path is
 * relative to the project directory. */
static const char *resolve(loader *L, const char *path)
{
    char *j;
    const char *home = getenv("HOME");
    if (path[0] == '~' && (path[1] == '/' || !path[1]) && home && *home)
        j = ig_asprintf("%s%s", home, path + 1);
    else
        j = ig_path_join(L->p->dir, path);
    const char *r = path_clean(L->a, j);
    free(j);
    return r;
}

static bool opt_path(loader *L, const ig_yaml *map, const char *key, const char *what,
                     const char **out)
{
    const char *s;
    if (!opt_str(L, map, key, what, &s)) return false;
    *out = resolve(L, s);
    return true;
}

bool ig_project_name_valid(const char *s)
{
    if (!s || !*s || strlen(s) > 63) return false;
    if (!((*s >= 'a' && *s <= 'z') || *s == '_')) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return false;
    return true;
}

const char *ig_project_name_from(ig_arena *a, const char *s)
{
    ig_buf b = IG_BUF_INIT;
    for (; *s && b.len < 60; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) c = '_';
        if (c == '_' && (b.len == 0 || b.data[b.len - 1] == '_')) continue;
        if (b.len == 0 && c >= '0' && c <= '9') ig_buf_puts(&b, "p_");
        ig_buf_putc(&b, c);
    }
    while (b.len && b.data[b.len - 1] == '_')
        b.data[--b.len] = '\0';
    const char *r = ig_arena_strdup(a, b.len ? ig_buf_cstr(&b) : "my_project");
    ig_buf_free(&b);
    return r;
}

static void read_name(loader *L, const ig_yaml *root)
{
    const ig_yaml *n = ig_yaml_get(root, "name");
    const char *name;
    if (!n || n->kind == IG_Y_NULL) {
        ig_yaml_error(n ? n : root, &L->e, "missing required key 'name' in %s", IG_PROJECT_FILE);
        ig_err_hint(&L->e, "add a line `name: my_project` (lowercase letters, digits and _)");
        report(L);
        return;
    }
    if (ig_yaml_str(n, "name", &name, &L->e)) {
        report(L);
        return;
    }
    if (!ig_project_name_valid(name)) {
        char v[128];
        ig_yaml_error(n, &L->e, "name: %s is not a valid project name",
                      ig_yaml_shown(n, v, sizeof v));
        if (n->var)
            ig_err_hint(&L->e, "use lowercase letters, digits and _, starting with a letter or _");
        else
            ig_err_hint(&L->e,
                        "use lowercase letters, digits and _, starting with a letter or _ "
                        "(at most 63), e.g. '%s'",
                        ig_project_name_from(L->a, name));
        report(L);
        return;
    }
    L->p->name = name;
}

/* `version:`; returns false when the file is newer than this ingot. */
static bool read_version(loader *L, const ig_yaml *root)
{
    const ig_yaml *n = ig_yaml_get(root, "version");
    long v;
    L->p->config_version = IG_PROJECT_VERSION;
    if (!n || n->kind == IG_Y_NULL) return true;
    if (ig_yaml_int(n, "version", &v, &L->e)) {
        ig_err_hint(&L->e, "write `version: %d`", IG_PROJECT_VERSION);
        report(L);
        return true;
    }
    if (v > IG_PROJECT_VERSION) {
        ig_yaml_error(n, &L->e,
                      "%s is version %ld, but this ingot is too old: it reads version %d and "
                      "older",
                      IG_PROJECT_FILE, v, IG_PROJECT_VERSION);
        L->e.code = IG_ERR_VERSION;
        ig_err_hint(&L->e, "upgrade ingot to read this project");
        report(L);
        return false;
    }
    if (v < 1) {
        ig_yaml_error(n, &L->e, "version: must be %d, got %ld", IG_PROJECT_VERSION, v);
        report(L);
        return true;
    }
    L->p->config_version = (int)v;
    return true;
}

/* "4GB", "512 MiB", "1.5GB", "4g": what DuckDB's memory_limit takes (no
 * bare number, no percentage). */
static bool size_valid(const char *s)
{
    static const char *const units[] = {"b",   "kb",  "mb", "gb", "tb", "kib", "mib",
                                        "gib", "tib", "k",  "m",  "g",  "t"};
    const char *p = s;
    if (!(*p >= '0' && *p <= '9')) return false;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9')) return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    while (*p == ' ')
        p++;
    char u[8];
    size_t n = 0;
    for (; *p && n < sizeof u - 1; p++)
        u[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    u[n] = '\0';
    if (*p) return false;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (!strcmp(u, units[i])) return true;
    return false;
}

static void read_warehouse(loader *L, const ig_yaml *root)
{
    static const char *const keys[] = {"type", "path", "threads", "memory_limit", "temp_directory",
                                       NULL};
    static const char *const types[] = {"duckdb", "postgres", NULL};
    ig_project *p = L->p;
    const ig_yaml *w = ig_yaml_get(root, "warehouse");
    p->warehouse.type = "duckdb";
    if (section(L, w, "warehouse", keys)) {
        const char *t;
        if (opt_str(L, w, "type", "warehouse.type", &t)) {
            const ig_yaml *n = ig_yaml_get(w, "type");
            char v[128];
            if (!strcmp(t, "duckdb")) {
                p->warehouse.type = t;
            } else if (!strcmp(t, "postgres")) {
                ig_yaml_error(n, &L->e, "warehouse.type: 'postgres' is not supported yet");
                ig_err_hint(&L->e, "this ingot supports only 'duckdb'; PostgreSQL comes later");
                report(L);
            } else {
                const char *sug = n->var ? NULL : ig_str_suggest(t, types, 2);
                ig_yaml_error(n, &L->e, "warehouse.type: unknown warehouse type %s%s%s%s",
                              ig_yaml_shown(n, v, sizeof v), sug ? "; did you mean '" : "",
                              sug ? sug : "", sug ? "'?" : "");
                ig_err_hint(&L->e, "the warehouse types are: duckdb");
                report(L);
            }
        }
        opt_path(L, w, "path", "warehouse.path", &p->warehouse.path);
        opt_path(L, w, "temp_directory", "warehouse.temp_directory", &p->warehouse.temp_directory);
        const ig_yaml *n = ig_yaml_get(w, "threads");
        long th;
        if (n && n->kind != IG_Y_NULL) {
            if (ig_yaml_int(n, "warehouse.threads", &th, &L->e)) {
                report(L);
            } else if (th < 0 || th > 4096) {
                ig_yaml_error(n, &L->e,
                              "warehouse.threads: must be between 0 (the engine decides) and "
                              "4096, got %ld",
                              th);
                report(L);
            } else {
                p->warehouse.threads = (int)th;
            }
        }
        const char *ml;
        if (opt_str(L, w, "memory_limit", "warehouse.memory_limit", &ml)) {
            if (size_valid(ml)) {
                p->warehouse.memory_limit = ml;
            } else {
                char v[128];
                const ig_yaml *m = ig_yaml_get(w, "memory_limit");
                ig_yaml_error(m, &L->e, "warehouse.memory_limit: expected a size like 4GB, got %s",
                              ig_yaml_shown(m, v, sizeof v));
                ig_err_hint(&L->e, "write a number with a unit: KB, MB, GB, TB (powers of 1000) "
                                   "or KiB, MiB, GiB, TiB (powers of 1024)");
                report(L);
            }
        }
    }
    if (!p->warehouse.path) {
        char *rel = ig_asprintf("warehouse/%s.duckdb", p->name ? p->name : "ingot");
        p->warehouse.path = resolve(L, rel);
        free(rel);
    }
}

static void read_lake(loader *L, const ig_yaml *root)
{
    static const char *const keys[] = {"path", NULL};
    const ig_yaml *s = ig_yaml_get(root, "lake");
    if (section(L, s, "lake", keys)) opt_path(L, s, "path", "lake.path", &L->p->lake.path);
    if (!L->p->lake.path) L->p->lake.path = resolve(L, "lake");
}

static void read_transform(loader *L, const ig_yaml *root)
{
    static const char *const keys[] = {"project_dir", "profiles_dir", "target", NULL};
    ig_project *p = L->p;
    const ig_yaml *s = ig_yaml_get(root, "transform");
    if (section(L, s, "transform", keys)) {
        opt_path(L, s, "project_dir", "transform.project_dir", &p->transform.project_dir);
        opt_path(L, s, "profiles_dir", "transform.profiles_dir", &p->transform.profiles_dir);
        opt_str(L, s, "target", "transform.target", &p->transform.target);
    }
    if (!p->transform.project_dir) p->transform.project_dir = p->dir;
}

/* "HOST:PORT", "[v6]:PORT" or "PORT"; normalised to host:port. */
static const char *listen_parse(ig_arena *a, const char *s)
{
    const char *colon = strrchr(s, ':');
    const char *port = colon ? colon + 1 : s;
    size_t hl = colon ? (size_t)(colon - s) : 0;
    long v;
    if (!*port || strspn(port, "0123456789") != strlen(port) || !ig_parse_long(port, &v) || v < 1 ||
        v > 65535)
        return NULL;
    if (!colon) return ig_arena_printf(a, "127.0.0.1:%ld", v);
    if (hl == 0) return NULL;
    if (s[0] == '[' ? s[hl - 1] != ']' : memchr(s, ':', hl) != NULL) return NULL;
    for (size_t i = 0; i < hl; i++)
        if (s[i] == ' ' || s[i] == '/') return NULL;
    return ig_arena_printf(a, "%.*s:%ld", (int)hl, s, v);
}

/* 1024 -> "1KiB", 268435456 -> "256MiB", 1000 -> "1000 bytes". */
static void bytes_shown(uint64_t v, char *out, size_t cap)
{
    static const char *const u[] = {"KiB", "MiB", "GiB", "TiB"};
    int k = -1;
    while (k < 3 && v >= 1024 && v % 1024 == 0) {
        v /= 1024;
        k++;
    }
    if (k < 0) snprintf(out, cap, "%llu bytes", (unsigned long long)v);
    else snprintf(out, cap, "%llu%s", (unsigned long long)v, u[k]);
}

/* A size for the serve: section: 4096, "32KiB", "4 MB", "1.5GiB" (KB/MB/GB
 * are 1000s, KiB/MiB/GiB and the bare k/m/g 1024s). False when absent;
 * a wrong value is reported. */
static bool opt_bytes(loader *L, const ig_yaml *map, const char *key, const char *what,
                      uint64_t lo, uint64_t hi, uint64_t *out)
{
    const ig_yaml *n = ig_yaml_get(map, key);
    const char *s;
    if (!n || n->kind == IG_Y_NULL) return false;
    if (ig_yaml_str(n, what, &s, &L->e)) {
        report(L);
        return false;
    }
    static const struct {
        const char *u;
        double m;
    } units[] = {{"", 1},         {"b", 1},         {"kb", 1e3},          {"mb", 1e6},
                 {"gb", 1e9},     {"tb", 1e12},     {"kib", 1024.0},      {"mib", 1048576.0},
                 {"gib", 1073741824.0}, {"tib", 1099511627776.0}, {"k", 1024.0},
                 {"m", 1048576.0}, {"g", 1073741824.0}, {"t", 1099511627776.0}};
    char *end;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    double mul = -1;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (!strcasecmp(end, units[i].u)) mul = units[i].m;
    if (end == s || !(s[0] >= '0' && s[0] <= '9') || mul < 0 || v * mul < (double)lo ||
        v * mul > (double)hi) {
        char v1[128], range[96], a1[32], a2[32];
        bytes_shown(lo, a1, sizeof a1);
        bytes_shown(hi, a2, sizeof a2);
        if (hi >= UINT64_MAX / 2) snprintf(range, sizeof range, "of at least %s", a1);
        else snprintf(range, sizeof range, "between %s and %s", a1, a2);
        ig_yaml_error(n, &L->e, "%s: expected a size like 64MiB %s, got %s", what, range,
                      ig_yaml_shown(n, v1, sizeof v1));
        ig_err_hint(&L->e, "write a number with a unit: KB, MB, GB (powers of 1000) or KiB, "
                           "MiB, GiB (powers of 1024)");
        report(L);
        return false;
    }
    *out = (uint64_t)(v * mul);
    return true;
}

/* A duration in milliseconds: 250, "250ms", "2s", "1m"; "-1" where allowed. */
static bool opt_ms(loader *L, const ig_yaml *map, const char *key, const char *what, long lo,
                   long hi, long *out)
{
    const ig_yaml *n = ig_yaml_get(map, key);
    const char *s;
    if (!n || n->kind == IG_Y_NULL) return false;
    if (ig_yaml_str(n, what, &s, &L->e)) {
        report(L);
        return false;
    }
    char *end;
    long v = strtol(s, &end, 10);
    long mul = !*end || !strcmp(end, "ms") ? 1 : !strcmp(end, "s") ? 1000 : !strcmp(end, "m") ? 60000 : 0;
    if (end == s || !mul || v * mul < lo || v * mul > hi) {
        char v1[128];
        ig_yaml_error(n, &L->e, "%s: expected a duration like 500ms or 2s between %ldms and %ldms, got %s",
                      what, lo, hi, ig_yaml_shown(n, v1, sizeof v1));
        ig_err_hint(&L->e, "write milliseconds (250 or 250ms), seconds (2s) or minutes (1m)");
        report(L);
        return false;
    }
    *out = v * mul;
    return true;
}

/* A list of strings (or one string), NULL-terminated in the arena. */
static bool opt_strs(loader *L, const ig_yaml *map, const char *key, const char *what,
                     const char ***out)
{
    const ig_yaml *n = ig_yaml_get(map, key);
    if (!n || n->kind == IG_Y_NULL) return false;
    size_t cnt = n->kind == IG_Y_SEQ ? n->n : 1;
    const char **v = ig_arena_zalloc(L->a, (cnt + 1) * sizeof *v);
    for (size_t i = 0; i < cnt; i++) {
        const ig_yaml *it = n->kind == IG_Y_SEQ ? n->items[i] : n;
        if (ig_yaml_str(it, what, &v[i], &L->e)) {
            ig_err_hint(&L->e, "write a list, e.g. %s: [a, b]", key);
            report(L);
            return false;
        }
    }
    *out = v;
    return true;
}

static void read_serve(loader *L, const ig_yaml *root)
{
    static const char *const keys[] = {"listen", "workers", "pid_file", "limits", "wal",
                                       "loader", "trusted_proxies", "allowed_origins",
                                       "max_running_tasks", NULL};
    static const char *const limit_keys[] = {"max_body", "max_event", "max_batch", NULL};
    static const char *const wal_keys[] = {"dir", "fsync", "group_commit", "max_disk",
                                           "min_free_disk", NULL};
    static const char *const loader_keys[] = {"interval", "max_lag", NULL};
    const ig_yaml *s = ig_yaml_get(root, "serve");
    const char *l;
    ig_project *p = L->p;
    p->serve.listen = "127.0.0.1:8080";
    if (!section(L, s, "serve", keys)) return;
    if (opt_str(L, s, "listen", "serve.listen", &l)) {
        const char *norm = listen_parse(L->a, l);
        if (norm) {
            p->serve.listen = norm;
        } else {
            char v[128];
            const ig_yaml *n = ig_yaml_get(s, "listen");
            ig_yaml_error(n, &L->e, "serve.listen: expected HOST:PORT (port 1-65535), got %s",
                          ig_yaml_shown(n, v, sizeof v));
            ig_err_hint(&L->e, "e.g. 127.0.0.1:8080 (this machine only) or 0.0.0.0:8080 (every "
                               "interface); [::1]:8080 for IPv6");
            report(L);
        }
    }
    const ig_yaml *n = ig_yaml_get(s, "workers");
    long w;
    if (n && n->kind != IG_Y_NULL) {
        if (ig_yaml_int(n, "serve.workers", &w, &L->e)) {
            report(L);
        } else if (w < 0 || w > 64) {
            ig_yaml_error(n, &L->e, "serve.workers: must be between 1 and 64 (0: one per CPU), got %ld", w);
            report(L);
        } else {
            p->serve.workers = (int)w;
        }
    }
    if ((n = ig_yaml_get(s, "max_running_tasks")) && n->kind != IG_Y_NULL) {
        if (ig_yaml_int(n, "serve.max_running_tasks", &w, &L->e)) {
            report(L);
        } else if (w < 0 || w > 100000) {
            ig_yaml_error(n, &L->e, "serve.max_running_tasks: must be 0 (no limit) or more, up to "
                          "100000, got %ld", w);
            report(L);
        } else {
            p->serve.max_running_tasks = (int)w;
        }
    }
    opt_path(L, s, "pid_file", "serve.pid_file", &p->serve.pid_file);
    opt_strs(L, s, "trusted_proxies", "serve.trusted_proxies", &p->serve.trusted_proxies);
    opt_strs(L, s, "allowed_origins", "serve.allowed_origins", &p->serve.allowed_origins);
    uint64_t v;
    long ms;
    const ig_yaml *lim = ig_yaml_get(s, "limits");
    if (section(L, lim, "serve.limits", limit_keys)) {
        if (opt_bytes(L, lim, "max_body", "serve.limits.max_body", 1024, (uint64_t)1 << 30, &v))
            p->serve.max_body = (size_t)v;
        if (opt_bytes(L, lim, "max_event", "serve.limits.max_event", 64, (uint64_t)1 << 30, &v))
            p->serve.max_event = (size_t)v;
        if (opt_bytes(L, lim, "max_batch", "serve.limits.max_batch", 64, (uint64_t)1 << 30, &v))
            p->serve.max_batch = (size_t)v;
    }
    const ig_yaml *wal = ig_yaml_get(s, "wal");
    if (section(L, wal, "serve.wal", wal_keys)) {
        opt_path(L, wal, "dir", "serve.wal.dir", &p->serve.wal_dir);
        const ig_yaml *f = ig_yaml_get(wal, "fsync");
        bool fs;
        if (f && f->kind != IG_Y_NULL) {
            if (ig_yaml_bool(f, "serve.wal.fsync", &fs, &L->e)) report(L);
            else p->serve.no_fsync = !fs;
        }
        if (opt_ms(L, wal, "group_commit", "serve.wal.group_commit", 0, 100, &ms))
            p->serve.group_commit_us = (int)ms * 1000;
        if (opt_bytes(L, wal, "max_disk", "serve.wal.max_disk", (uint64_t)256 << 20, UINT64_MAX / 2, &v))
            p->serve.wal_max_disk = v;
        if (opt_bytes(L, wal, "min_free_disk", "serve.wal.min_free_disk", 1, UINT64_MAX / 2, &v))
            p->serve.min_free_disk = v;
    }
    const ig_yaml *ld = ig_yaml_get(s, "loader");
    if (section(L, ld, "serve.loader", loader_keys)) {
        const ig_yaml *iv = ig_yaml_get(ld, "interval");
        if (iv && iv->str && !strcmp(iv->str, "-1")) p->serve.load_interval_ms = -1;
        else if (opt_ms(L, ld, "interval", "serve.loader.interval", 10, 86400000L, &ms))
            p->serve.load_interval_ms = (int)ms;
        if (opt_bytes(L, ld, "max_lag", "serve.loader.max_lag", 1024, UINT64_MAX / 2, &v))
            p->serve.max_lag = v;
    }
}

/* ---- finding and loading ---------------------------------------------- */

ig_rc ig_project_find(const char *dir, char **out, ig_error *err)
{
    char *d = ig_path_real(dir && *dir ? dir : ".");
    if (!d) return ig_err(err, IG_ERR_NOT_FOUND, "directory %s does not exist", dir);
    if (!ig_fs_is_dir(d)) {
        ig_err(err, IG_ERR_NOT_FOUND, "%s is not a directory", dir);
        free(d);
        return IG_ERR_NOT_FOUND;
    }
    for (;;) {
        char *f = ig_path_join(d, IG_PROJECT_FILE);
        bool found = ig_fs_exists(f);
        free(f);
        if (found) {
            *out = d;
            return 0;
        }
        if (!strcmp(d, "/")) break;
        char *up = ig_path_dirname(d);
        free(d);
        d = up;
    }
    free(d);
    ig_err(err, IG_ERR_NOT_FOUND, "no %s in %s or any directory above it", IG_PROJECT_FILE,
           !strcmp(dir, ".") ? "this directory" : dir);
    ig_err_hint(err, "run `ingot init` to start a project here, or `ingot -C DIR ...` to use "
                     "the project in DIR");
    return IG_ERR_NOT_FOUND;
}

/* How to name the file in messages: relative to the current directory when
 * it is below or just above it, else absolute. */
static const char *display_path(ig_arena *a, const char *dir, const char *file)
{
    char *cwd = getcwd(NULL, 0);
    const char *r = file;
    if (cwd) {
        size_t cl = strlen(cwd), dl = strlen(dir);
        if (!strcmp(cwd, dir)) {
            r = IG_PROJECT_FILE;
        } else if (!strncmp(file, cwd, cl) && file[cl] == '/' && cl > 1) {
            r = file + cl + 1;
        } else if (!strncmp(cwd, dir, dl) && (cwd[dl] == '/' || dl == 1)) {
            ig_buf b = IG_BUF_INIT;
            const char *rest = cwd + dl;
            for (const char *s = rest; *s; s++)
                if (*s != '/' && (s == rest || s[-1] == '/')) ig_buf_puts(&b, "../");
            ig_buf_puts(&b, IG_PROJECT_FILE);
            if (b.len <= 4 * 3 + sizeof IG_PROJECT_FILE) r = ig_arena_strdup(a, ig_buf_cstr(&b));
            ig_buf_free(&b);
        }
        free(cwd);
    }
    return ig_arena_strdup(a, r);
}

static ig_rc load(ig_arena *a, const char *dir, ig_project **out, ig_problems *probs, ig_error *err)
{
    static const char *const top[] = {"name",      "version", "warehouse", "lake",
                                      "transform", "serve",   "sources",   "pipelines",
                                      "vars",      "log",     NULL};
    char *d = ig_path_real(dir && *dir ? dir : ".");
    if (!d || !ig_fs_is_dir(d)) {
        free(d);
        ig_err(err, IG_ERR_NOT_FOUND, "project directory %s does not exist", dir);
        ig_err_hint(err, "run `ingot init %s` to create a project there", dir);
        ig_problems_add(a, probs, err);
        return IG_ERR_NOT_FOUND;
    }
    ig_project *p = ig_arena_zalloc(a, sizeof *p);
    p->dir = ig_arena_strdup(a, d);
    free(d);
    char *f = ig_path_join(p->dir, IG_PROJECT_FILE);
    p->file = ig_arena_strdup(a, f);
    free(f);
    const char *shown = display_path(a, p->dir, p->file);

    char *text;
    size_t len;
    ig_rc rc = ig_fs_read(p->file, (size_t)16 << 20, &text, &len, err);
    if (rc == IG_ERR_NOT_FOUND) {
        ig_err(err, IG_ERR_NOT_FOUND, "no %s in %s", IG_PROJECT_FILE, p->dir);
        ig_err_hint(err, "run `ingot init` to start a project there, or `ingot -C DIR ...` to "
                         "use the project in DIR");
    }
    if (rc) {
        ig_problems_add(a, probs, err);
        return rc;
    }
    ig_yaml_options yo = {.interpolate_env = true};
    ig_yaml *root;
    rc = ig_yaml_parse(a, shown, text, len, &yo, &root, err);
    free(text);
    if (rc) {
        ig_problems_add(a, probs, err);
        return rc;
    }
    p->root = root;
    if (root->kind == IG_Y_NULL) {
        ig_err(err, IG_ERR_CONFIG, "%s is empty", IG_PROJECT_FILE);
        ig_err_at(err, shown, 0, 0);
        ig_err_hint(err, "it needs at least a line `name: my_project`; `ingot init --force` "
                         "writes a commented one");
        ig_problems_add(a, probs, err);
        return IG_ERR_CONFIG;
    }
    if (root->kind != IG_Y_MAP) {
        ig_yaml_error(root, err, "%s must be a mapping of keys (name:, warehouse:, ...), got %s",
                      IG_PROJECT_FILE, ig_yaml_kind_name(root));
        ig_err_hint(err, "start with a line `name: my_project`; see docs/project.md");
        ig_problems_add(a, probs, err);
        return IG_ERR_CONFIG;
    }

    loader L = {.a = a, .p = p, .probs = probs};
    if (!read_version(&L, root)) goto done; /* a newer file: its keys mean nothing to us */
    for (size_t i = 0; i < root->n; i++)
        if (ig_yaml_check_key(root, i, "", top, &L.e)) report(&L);
    read_name(&L, root);
    read_warehouse(&L, root);
    read_lake(&L, root);
    read_transform(&L, root);
    read_serve(&L, root);
    /* sources, pipelines, vars, log: read by their layers */
done:
    if (probs->kept) {
        problems_sort(probs);
        *err = probs->items[0];
        return err->code;
    }
    *out = p;
    return 0;
}

ig_rc ig_project_load_all(ig_arena *a, const char *dir, ig_project **out, ig_problems *probs,
                          ig_error *err)
{
    return load(a, dir, out, probs, err);
}

ig_rc ig_project_load(ig_arena *a, const char *dir, ig_project **out, ig_error *err)
{
    ig_problems probs = {0};
    return load(a, dir, out, &probs, err);
}

ig_wh_options ig_project_wh_options(const ig_project *p)
{
    return (ig_wh_options){.driver = p->warehouse.type,
                           .path = p->warehouse.path,
                           .threads = p->warehouse.threads,
                           .memory_limit = p->warehouse.memory_limit,
                           .temp_directory = p->warehouse.temp_directory};
}
