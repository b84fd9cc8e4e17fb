/* The one table of error codes. Each code has a class name, a SQLSTATE (for
 * the PostgreSQL wire protocol), an HTTP status (for the daemon's API) and a
 * CLI exit code, so the same error reads the same everywhere. Include with
 * IG_ERRCODE defined to expand the table. */
/*          code                 name            sqlstate  http exit */
IG_ERRCODE(IG_OK,               "ok",            "00000",  200, 0)
IG_ERRCODE(IG_ERR_USAGE,        "usage",         "42601",  400, 2)
IG_ERRCODE(IG_ERR_CONFIG,       "config",        "F0000",  400, 3)
IG_ERRCODE(IG_ERR_NOT_FOUND,    "not_found",     "42P01",  404, 4)
IG_ERRCODE(IG_ERR_IO,           "io",            "58030",  500, 5)
IG_ERRCODE(IG_ERR_SQL,          "sql",           "42000",  400, 6)
IG_ERRCODE(IG_ERR_LOCKED,       "locked",        "55006",  409, 7)
IG_ERRCODE(IG_ERR_VERSION,      "version",       "0A000",  409, 8)
IG_ERRCODE(IG_ERR_DATA,         "data",          "22000",  422, 9)
IG_ERRCODE(IG_ERR_TEMPLATE,     "template",      "42601",  400, 10)
IG_ERRCODE(IG_ERR_NETWORK,      "network",       "08006",  502, 11)
IG_ERRCODE(IG_ERR_AUTH,         "auth",          "28000",  401, 12)
IG_ERRCODE(IG_ERR_LIMIT,        "limit",         "54000",  413, 13)
IG_ERRCODE(IG_ERR_FAILED,       "failed",        "XX000",  500, 14)
IG_ERRCODE(IG_ERR_INTERRUPTED,  "interrupted",   "57014",  503, 130)
IG_ERRCODE(IG_ERR_INTERNAL,     "internal",      "XX000",  500, 70)
