/* `ingot docs generate`: the dbt project's documentation as
 * target/catalog.json (what the warehouse holds: relations, columns,
 * types, row counts), target/manifest.json, and target/index.html: one
 * self-contained page (the data embedded as JSON, vanilla JS, no network,
 * no external assets) listing models, sources, seeds, snapshots and tests
 * with their descriptions, columns, tests, SQL and a clickable lineage
 * graph. Open it from the file system; no server is needed.
 *
 * Caller: src/cli/cmd_docs.c. Loads the project afresh and frees
 * everything before it returns, like the other entry points of
 * transform.h. */
#ifndef IG_TF_DOCS_H
#define IG_TF_DOCS_H

#include "transform/transform.h"

typedef struct ig_docs_result {
    char *index_path;   /* absolute path of index.html (caller frees with ig_docs_result_free) */
    char *catalog_path; /* absolute path of catalog.json */
    size_t nodes;       /* documented nodes (models, seeds, snapshots, tests, sources) */
    size_t relations;   /* of those, relations found in the warehouse */
    size_t compile_errors; /* nodes whose SQL did not compile (shown raw) */
} ig_docs_result;

void ig_docs_result_free(ig_docs_result *r);

/* Parse the project, compile every enabled node (unless no_compile: the
 * raw SQL is shown), read the catalog from the warehouse (wh, or the
 * profile's / project's warehouse opened here) and write catalog.json,
 * manifest.json and index.html into the target path. A node that fails to
 * compile is shown with its raw SQL and counted; that is no error. Errors:
 * the project does not load or parse, the warehouse cannot be opened, a
 * file cannot be written. */
ig_rc ig_transform_docs_generate(const ig_project *project, ig_wh *wh,
                                 const ig_transform_options *opts, bool no_compile,
                                 ig_docs_result *res, ig_error *err);

#endif
