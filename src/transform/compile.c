/* Compiling a model to SQL. A pure node (see context.c) is compiled from
 * its parse render by replacing the ref markers with relation names; an
 * impure one is rendered again with execute = true, on the thread's
 * warehouse connection. Ephemeral models it depends on (directly or through
 * other ephemerals) are injected as CTEs named __dbt__cte__<name>, merged
 * into the model's own WITH when it has one. Compiled SQL is written to
 * target/compiled/<package>/<original_file_path>, and what a run executes
 * to target/run/... (plain writes: these are derived files, rewritten on
 * every invocation, so they skip the fsync of ig_fs_write_atomic). */
#include "transform/tf_int.h"

#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool is_ephemeral(const tf_node *n)
{
    return n->kind == TF_MODEL && n->materialized && !strcmp(n->materialized, "ephemeral");
}

/* Replace the markers of a parse render. */
static void substitute(tf_project *p, tf_node *n, ig_buf *out)
{
    const char *s = n->parse_out, *end = s + n->parse_len;
    while (s < end) {
        const char *m = memchr(s, '\x01', (size_t)(end - s));
        if (!m) {
            ig_buf_append(out, s, (size_t)(end - s));
            break;
        }
        ig_buf_append(out, s, (size_t)(m - s));
        const char *close = memchr(m, '\x02', (size_t)(end - m));
        if (!close) {
            ig_buf_append(out, m, (size_t)(end - m));
            break;
        }
        if (m[1] == 'T') ig__tf_node_relation(p, n, out);
        else if (m[1] == 'R') {
            long i = strtol(m + 2, NULL, 10);
            if (i >= 0 && (size_t)i < n->nrefs && n->refs[i].target >= 0)
                ig__tf_node_relation(p, p->nodes[n->refs[i].target], out);
        }
        s = close + 1;
    }
}

static bool compute_incremental(tf_thread *t, tf_node *n)
{
    if (!n->materialized || strcmp(n->materialized, "incremental")) return false;
    json_t *fr = json_object_get(n->config, "full_refresh");
    bool full = json_is_boolean(fr) ? json_is_true(fr) : (t->p->opts && t->p->opts->full_refresh);
    if (full) return false;
    if (t->force_incremental) return t->force_incremental == 2;
    const char *kind = ig__tf_relcache_get(t->p, n->schema, n->alias);
    return kind && !strcmp(kind, "table");
}

/* The node's own SQL, without CTE injection. */
static ig_rc compile_body(tf_thread *t, tf_node *n, ig_buf *out, bool fresh, ig_error *err)
{
    if (!fresh && !n->impure && n->parse_out) {
        substitute(t->p, n, out);
        return 0;
    }
    ig_tmpl *own = NULL;
    const ig_tmpl *tm = n->tmpl;
    if (!tm) { /* a pure node's template was freed after its parse render */
        ig_rc rc = ig_tmpl_parse(n->original_file_path, n->raw ? n->raw : "", n->raw_len, &own, err);
        if (rc) return rc;
        tm = own;
    }
    tf_node *saved = t->node;
    tf_mode mode = t->mode;
    bool inc = t->is_incremental;
    ig__tf_thread_node(t, n);
    t->mode = TF_MODE_COMPILE;
    t->is_incremental = compute_incremental(t, n);
    ig__tf_test_bind(t, n);
    ig_rc rc = ig__tf_render(t, tm, out, err);
    if (rc) ig__tf_err_node(err, n, "Compilation Error");
    ig__tf_thread_node(t, saved);
    t->mode = mode;
    t->is_incremental = inc;
    if (own) ig_tmpl_free(own);
    return rc;
}

/* Ephemeral ancestors in dependency order (post-order), deduplicated. */
static void collect_ephemeral(tf_project *p, tf_node *n, int *list, size_t *cnt, char *seen)
{
    for (size_t i = 0; i < n->ndeps; i++) {
        tf_node *d = p->nodes[n->deps[i]];
        if (!is_ephemeral(d) || seen[d->index]) continue;
        seen[d->index] = 1;
        collect_ephemeral(p, d, list, cnt, seen);
        list[(*cnt)++] = d->index;
    }
}

/* Offset just after a leading WITH [RECURSIVE] (past comments and
 * whitespace), or 0 when the SQL does not start with one. */
static size_t with_offset(const char *s, size_t len)
{
    size_t i = 0;
    for (;;) {
        while (i < len && isspace((unsigned char)s[i])) i++;
        if (i + 1 < len && s[i] == '-' && s[i + 1] == '-') {
            while (i < len && s[i] != '\n') i++;
        } else if (i + 1 < len && s[i] == '/' && s[i + 1] == '*') {
            const char *e = strstr(s + i + 2, "*/");
            i = e ? (size_t)(e - s) + 2 : len;
        } else break;
    }
    if (i + 4 < len && !strncasecmp(s + i, "with", 4) && isspace((unsigned char)s[i + 4])) {
        i += 4;
        while (i < len && isspace((unsigned char)s[i])) i++;
        if (i + 9 < len && !strncasecmp(s + i, "recursive", 9) && isspace((unsigned char)s[i + 9])) {
            i += 9;
            while (i < len && isspace((unsigned char)s[i])) i++;
        }
        return i;
    }
    return 0;
}

ig_rc ig__tf_compile_node(tf_thread *t, tf_node *n, ig_error *err)
{
    ig_buf out = IG_BUF_INIT;
    ig_rc rc = ig__tf_compile_sql(t, n, false, &out, err);
    if (rc) {
        ig_buf_free(&out);
        return rc;
    }
    free(n->compiled);
    n->compiled_len = out.len;
    n->compiled = out.data ? ig_buf_steal(&out) : ig_strdup("");
    n->compiled_ok = true;
    return 0;
}

ig_rc ig__tf_compile_sql(tf_thread *t, tf_node *n, bool fresh, ig_buf *result, ig_error *err)
{
    tf_project *p = t->p;
    ig_buf body = IG_BUF_INIT;
    ig_rc rc = compile_body(t, n, &body, fresh, err);
    if (rc) {
        ig_buf_free(&body);
        return rc;
    }
    int *eph = NULL;
    size_t neph = 0;
    bool eph_dep = false; /* only ephemeral parents lead to CTEs: skip the O(nodes) scratch otherwise */
    for (size_t i = 0; i < n->ndeps && !eph_dep; i++) eph_dep = is_ephemeral(p->nodes[n->deps[i]]);
    if (!is_ephemeral(n) && eph_dep) {
        char *seen = ig_calloc(p->nnodes + 1, 1);
        eph = ig_malloc((p->nnodes + 1) * sizeof *eph);
        collect_ephemeral(p, n, eph, &neph, seen);
        free(seen);
    }
    if (!neph) {
        free(eph);
        ig_buf_append(result, body.data ? body.data : "", body.len);
        ig_buf_free(&body);
        return 0;
    }
    ig_buf ctes = IG_BUF_INIT;
    for (size_t i = 0; i < neph && !rc; i++) {
        tf_node *e = p->nodes[eph[i]];
        ig_buf eb = IG_BUF_INIT;
        rc = compile_body(t, e, &eb, false, err);
        if (!rc) {
            if (i) ig_buf_puts(&ctes, ", ");
            ig_buf_printf(&ctes, "__dbt__cte__%s as (\n%s\n)", e->alias ? e->alias : e->name,
                          ig_buf_cstr(&eb));
        }
        ig_buf_free(&eb);
    }
    free(eph);
    if (rc) {
        ig_buf_free(&body);
        ig_buf_free(&ctes);
        return rc;
    }
    ig_buf out = IG_BUF_INIT;
    size_t w = with_offset(body.data ? body.data : "", body.len);
    if (w) {
        ig_buf_append(&out, body.data, w);
        ig_buf_append(&out, ctes.data, ctes.len);
        ig_buf_puts(&out, ", ");
        ig_buf_append(&out, body.data + w, body.len - w);
    } else {
        ig_buf_puts(&out, "with ");
        ig_buf_append(&out, ctes.data, ctes.len);
        ig_buf_putc(&out, '\n');
        ig_buf_append(&out, body.data ? body.data : "", body.len);
    }
    ig_buf_free(&body);
    ig_buf_free(&ctes);
    ig_buf_append(result, out.data, out.len);
    ig_buf_free(&out);
    return 0;
}

char *ig__tf_target_file(tf_project *p, const char *sub, const tf_node *n)
{
    /* a node defined in YAML (a generic test, a YAML snapshot) has its SQL
     * at <file>/<name>.sql, as dbt puts it */
    const char *f = n->original_file_path ? n->original_file_path : n->name;
    if (n->test_meta || ig_str_ends(f, ".yml") || ig_str_ends(f, ".yaml"))
        return ig_asprintf("%s/%s/%s/%s/%s.sql", p->target_path, sub, n->pkg->name, f, n->name);
    return ig_asprintf("%s/%s/%s/%s", p->target_path, sub, n->pkg->name, f);
}

ig_rc ig__tf_write_target(tf_project *p, const char *sub, const tf_node *n, const char *sql,
                          size_t len, ig_error *err)
{
    /* the folder of the previous write of this thread: most models share one */
    static __thread char last_dir[1024];
    char *path = ig__tf_target_file(p, sub, n);
    char *dir = ig_path_dirname(path);
    ig_rc rc = 0;
    if (strcmp(dir, last_dir) != 0) {
        if (!ig_fs_is_dir(dir)) rc = ig_fs_mkdirs(dir, err);
        if (!rc) snprintf(last_dir, sizeof last_dir, "%s", dir);
    }
    if (!rc) {
        /* an unchanged file is left alone: comparing costs a read, while
         * truncating and rewriting costs the file system a journal entry */
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        bool nl = len && sql[len - 1] != '\n';
        size_t want = len + (nl ? 1 : 0);
        struct stat st;
        bool same = false;
        if (fd >= 0 && fstat(fd, &st) == 0 && (size_t)st.st_size == want && want < (1u << 20)) {
            char *cur = ig_malloc(want + 1);
            same = read(fd, cur, want) == (ssize_t)want && !memcmp(cur, sql, len) &&
                   (!nl || cur[len] == '\n');
            free(cur);
        }
        if (fd < 0 || (!same && (ftruncate(fd, 0) != 0 || pwrite(fd, sql, len, 0) != (ssize_t)len ||
                                 (nl && pwrite(fd, "\n", 1, (off_t)len) != 1))))
            rc = ig_err(err, IG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        if (fd >= 0 && close(fd) && !rc) rc = ig_err(err, IG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        if (rc) last_dir[0] = 0;
    }
    free(dir);
    free(path);
    return rc;
}
