/* The one path every query a person runs goes through: the CLI's `ingot
 * query`, later the PostgreSQL wire endpoint, the web UI's SQL editor and
 * the HTTP API. Governance applies here: today it identifies who runs what
 * and logs it; row-level security, masking, grants and the audit log
 * (issue: governance) plug in at this point without changing the callers.
 * Platform-internal SQL (migrations, loaders, the dbt runner) does not come
 * through here: it runs as the platform, not as a person. */
#ifndef IG_GOV_QUERY_H
#define IG_GOV_QUERY_H

#include "warehouse/warehouse.h"

typedef struct ig_principal {
    const char *user; /* who: the OS user on the CLI, the login elsewhere */
    const char *via;  /* "cli", "pgwire", "http", "ui" */
} ig_principal;

/* Fill p with the OS user running this process, via "cli". Strings borrowed
 * from static storage. */
void ig_principal_cli(ig_principal *p);

/* Run SQL a person asked for, as `who`, and open a cursor on the result
 * (caller closes with ig_wh_cursor_close). Errors: the warehouse's
 * (IG_ERR_SQL with position), or IG_ERR_AUTH when a policy refuses. */
ig_rc ig_gov_query(ig_wh *wh, const ig_principal *who, const char *sql, ig_wh_cursor **out,
                   ig_error *err);

#endif
