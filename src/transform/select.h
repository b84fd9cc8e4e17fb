/* Node selection: dbt's selection grammar over every kind of node of a
 * parsed project (models, seeds, snapshots, tests, sources, analyses).
 *
 *   --select "a +b c+2 @d tag:nightly,resource_type:model"
 *     space: union; comma: intersection; each criterion is
 *     [@][N+]method:value[+N] or a bare value (fqn, or path / file when it
 *     looks like one). Methods: fqn, path, file, tag, config.KEY, source,
 *     resource_type, test_type, package, state (new, old, modified,
 *     modified.body, modified.configs, unmodified) and result.
 *   --exclude SPEC   subtracted from the selection
 *   --selector NAME  a definition of selectors.yml (union / intersection /
 *     exclude, method / value / children / parents / *_depth /
 *     childrens_parents / indirect_selection); `default: true` applies when
 *     neither --select nor --selector is given
 *
 * Tests are selected indirectly as dbt's default "eager" mode does: a test
 * any of whose parents a criterion selects is selected by it too.
 *
 * Used by run.c (every command that selects) and by the tests. Reads
 * selectors.yml, --state DIR/manifest.json and DIR/run_results.json; keeps
 * nothing after the call. Not thread-safe for one project (reads only). */
#ifndef IG_TF_SELECT_H
#define IG_TF_SELECT_H

#include "transform/tf_int.h"

#include <stdio.h>

/* Bits of ig_tf_select_opts.resource_types: 1u << tf_kind. */
#define IG_TF_RT(kind) (1u << (unsigned)(kind))

typedef struct ig_tf_select_opts {
    const char *select;   /* --select; NULL or "": everything (or the default selector) */
    const char *exclude;  /* --exclude; NULL: none */
    const char *selector; /* --selector NAME of selectors.yml; NULL: none */
    const char *state_dir; /* --state DIR: manifest.json for state:, run_results.json for result: */
    /* the kinds the command runs (IG_TF_RT(TF_MODEL) | ...); 0: every kind.
     * Applied last, after graph operators and indirect test selection. */
    unsigned resource_types;
    /* "eager" (NULL: the default), "cautious", "buildable" or "empty" */
    const char *indirect_selection;
    /* where warnings ("does not match any enabled nodes", "Nothing to do")
     * are printed, as dbt prints them; NULL: the log (warn level) */
    FILE *out;
} ig_tf_select_opts;

/* Select nodes of p: sel[i] is set to 1 for every selected node p->nodes[i]
 * (sel holds p->nnodes chars, all overwritten). Only enabled nodes are
 * selected. A criterion that matches nothing is a warning, and so is an
 * empty selection (*sel all 0 and return 0); a bare name that matches no
 * node is IG_ERR_NOT_FOUND with the nearest name as a hint. Malformed
 * specs, unknown methods, a missing --state manifest, an unknown
 * --selector or an invalid selectors.yml are errors saying what to fix. */
ig_rc ig__tf_select(tf_project *p, const ig_tf_select_opts *o, char *sel, ig_error *err);

/* The number of nodes set in sel (p->nnodes chars). */
size_t ig__tf_select_count(const tf_project *p, const char *sel);

#endif
