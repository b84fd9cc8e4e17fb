/* The governed query path. */
#include "govern/query.h"

#include "core/log.h"

#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

void ig_principal_cli(ig_principal *p)
{
    const char *u = getenv("USER");
    if (!u || !*u) {
        struct passwd *pw = getpwuid(geteuid());
        u = pw ? pw->pw_name : "unknown";
    }
    p->user = u;
    p->via = "cli";
}

ig_rc ig_gov_query(ig_wh *wh, const ig_principal *who, const char *sql, ig_wh_cursor **out,
                   ig_error *err)
{
    ig_log_kv(IG_LOG_DEBUG, "query.run", "query", "user", who->user, "via", who->via, "sql", sql,
              NULL);
    return ig_wh_query(wh, sql, out, err);
}
