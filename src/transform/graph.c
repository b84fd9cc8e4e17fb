/* The DAG: refs and sources resolved to nodes (dependencies and their
 * reverse, children), a topological order by Kahn's algorithm in O(nodes +
 * edges), and a cycle reported with its path when there is one. Seeds,
 * snapshots and tests (issue 5) are nodes of the same graph. */
#include "transform/tf_int.h"

#include "core/mem.h"
#include "core/str.h"

#include <stdlib.h>
#include <string.h>

static tf_node *find_ref(tf_project *p, const tf_node *from, const tf_ref *r)
{
    char key[600];
    const char *vsep = r->version ? ".v" : "", *vs = r->version ? r->version : "";
    if (r->package) {
        snprintf(key, sizeof key, "%s.%s%s%s", r->package, r->name, vsep, vs);
        return ig__tf_map_get(&p->node_by_name, key);
    }
    snprintf(key, sizeof key, "%s.%s%s%s", from->pkg->name, r->name, vsep, vs);
    tf_node *n = ig__tf_map_get(&p->node_by_name, key);
    if (n) return n;
    snprintf(key, sizeof key, "%s%s%s", r->name, vsep, vs);
    return ig__tf_map_get(&p->node_by_name, key);
}

static void add_dep(tf_node *n, int d)
{
    for (size_t i = 0; i < n->ndeps; i++)
        if (n->deps[i] == d) return;
    n->deps = ig_realloc(n->deps, (n->ndeps + 1) * sizeof *n->deps);
    n->deps[n->ndeps++] = d;
}

static void add_kid(tf_node *n, int k)
{
    if (n->nkids == n->kids_cap) {
        n->kids_cap = n->kids_cap ? n->kids_cap * 2 : 4;
        n->kids = ig_realloc(n->kids, n->kids_cap * sizeof *n->kids);
    }
    n->kids[n->nkids++] = k;
}

ig_rc ig__tf_link(tf_project *p, ig_error *err)
{
    for (size_t i = 0; i < p->nnodes; i++) {
        tf_node *n = p->nodes[i];
        if (n->kind == TF_SOURCE || !n->enabled) continue;
        for (size_t k = 0; k < n->nrefs; k++) {
            tf_ref *r = &n->refs[k];
            tf_node *t = find_ref(p, n, r);
            if (!t || !t->enabled) {
                ig_err(err, IG_ERR_TEMPLATE,
                       "Compilation Error: model '%s' (%s) depends on a node named '%s%s%s'%s%s "
                       "which %s",
                       n->unique_id, n->original_file_path, r->package ? r->package : "",
                       r->package ? "." : "", r->name, r->version ? " with version " : "",
                       r->version ? r->version : "", t ? "is disabled" : "was not found");
                ig_tmpl_error_at(err, n->original_file_path, n->raw, n->raw_len, r->line, r->col); /* the ref() call */
                if (!t) {
                    const char **names = ig_malloc(p->nnodes * sizeof *names);
                    size_t nn = 0;
                    for (size_t j = 0; j < p->nnodes; j++)
                        if (p->nodes[j]->kind == TF_MODEL) names[nn++] = p->nodes[j]->name;
                    const char *s = ig_str_suggest(r->name, names, nn);
                    if (s) ig_err_hint(err, "did you mean ref('%s')?", s);
                    free(names);
                }
                return IG_ERR_TEMPLATE;
            }
            r->target = t->index;
            if (t == n) {
                ig_err(err, IG_ERR_TEMPLATE, "Found a cycle: %s --> %s", n->unique_id, n->unique_id);
                ig_err_hint(err, "a model cannot ref() itself; use {{ this }} for its own relation");
                return IG_ERR_TEMPLATE;
            }
            add_dep(n, t->index);
        }
        for (size_t k = 0; k < n->nsrcs; k++) {
            tf_ref *r = &n->srcs[k];
            char key[600];
            snprintf(key, sizeof key, "%s.%s", r->package, r->name);
            tf_node *s = ig__tf_map_get(&p->src_by_name, key);
            if (!s) {
                ig_err(err, IG_ERR_TEMPLATE,
                       "Compilation Error: model '%s' (%s) depends on a source named '%s.%s' "
                       "which was not found",
                       n->unique_id, n->original_file_path, r->package, r->name);
                ig_tmpl_error_at(err, n->original_file_path, n->raw, n->raw_len, r->line, r->col); /* the source() call */
                ig_err_hint(err, "declare it under sources: in a .yml file of the model paths");
                return IG_ERR_TEMPLATE;
            }
            r->target = s->index;
            add_dep(n, s->index);
        }
    }
    for (size_t i = 0; i < p->nnodes; i++) {
        tf_node *n = p->nodes[i];
        for (size_t k = 0; k < n->ndeps; k++) add_kid(p->nodes[n->deps[k]], n->index);
    }
    int *order = ig_malloc((p->nnodes + 1) * sizeof *order);
    size_t cnt;
    ig_rc rc = ig__tf_toposort(p, order, &cnt, err);
    free(order);
    return rc;
}

ig_rc ig__tf_toposort(tf_project *p, int *order, size_t *count, ig_error *err)
{
    size_t n = p->nnodes;
    int *indeg = ig_calloc(n + 1, sizeof *indeg);
    size_t live = 0;
    for (size_t i = 0; i < n; i++) {
        tf_node *x = p->nodes[i];
        if (!x->enabled) continue;
        live++;
        for (size_t k = 0; k < x->ndeps; k++)
            if (p->nodes[x->deps[k]]->enabled) indeg[i]++;
    }
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < n; i++)
        if (p->nodes[i]->enabled && indeg[i] == 0) order[tail++] = (int)i;
    while (head < tail) {
        tf_node *x = p->nodes[order[head++]];
        for (size_t k = 0; k < x->nkids; k++) {
            int c = x->kids[k];
            if (p->nodes[c]->enabled && --indeg[c] == 0) order[tail++] = c;
        }
    }
    *count = tail;
    if (tail == live) {
        free(indeg);
        return 0;
    }
    /* a cycle: walk dependencies among the nodes left until one repeats */
    int start = -1;
    for (size_t i = 0; i < n && start < 0; i++)
        if (p->nodes[i]->enabled && indeg[i] > 0) start = (int)i;
    int *seen = ig_calloc(n + 1, sizeof *seen);
    int *path = ig_malloc((n + 1) * sizeof *path);
    size_t plen = 0;
    int cur = start;
    while (!seen[cur]) {
        seen[cur] = (int)plen + 1;
        path[plen++] = cur;
        tf_node *x = p->nodes[cur];
        int next = -1;
        for (size_t k = 0; k < x->ndeps && next < 0; k++)
            if (p->nodes[x->deps[k]]->enabled && indeg[x->deps[k]] > 0) next = x->deps[k];
        if (next < 0) break;
        cur = next;
    }
    ig_buf b = IG_BUF_INIT;
    /* the path runs child -> parent; print it parent -> child, as data flows */
    size_t from = seen[cur] ? (size_t)seen[cur] - 1 : 0;
    for (size_t i = plen; i-- > from;) ig_buf_printf(&b, "%s --> ", p->nodes[path[i]]->unique_id);
    ig_buf_puts(&b, p->nodes[path[plen - 1]]->unique_id);
    ig_err(err, IG_ERR_TEMPLATE, "Found a cycle: %s", ig_buf_cstr(&b));
    ig_err_hint(err, "a model cannot depend on itself through ref(); break the cycle");
    ig_buf_free(&b);
    free(seen);
    free(path);
    free(indeg);
    return IG_ERR_TEMPLATE;
}
