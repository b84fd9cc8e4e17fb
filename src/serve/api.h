/* The daemon's control plane for CLI commands on the same machine: while
 * `ingot serve` holds the warehouse, `ingot query` and `ingot pipeline run`
 * ask it to do the work (DESIGN.md: "a CLI command finds a running daemon of
 * the same project and asks it"). Internal to src/serve/ and src/cli/.
 *
 * Authentication: the daemon writes a random token to <pid file>.token, mode
 * 0600, at start; a request must come from a loopback address and carry
 * `Authorization: Bearer <token>`. Reading the token file needs the daemon's
 * OS user (or root), so the caller is the user the daemon runs as, and
 * queries run as that user (the same principal `ingot query` would be).
 *
 * Endpoints (docs/serve.md):
 *   POST /api/query                  {"sql", "format", "no_header", "null", "width",
 *                                     "max_rows", "color", "footer"} -> the result,
 *                                     rendered by src/output/ exactly as the CLI would
 *   GET  /api/pipelines/NAME/runs?since=ISO   the first run started since then
 * Both run on the HTTP worker that received them, on a clone of the daemon's
 * warehouse connection. */
#ifndef IG_SERVE_API_H
#define IG_SERVE_API_H

#include "core/buf.h"
#include "core/error.h"
#include "project/config.h"
#include "serve/http.h"
#include "serve/serve.h"
#include "warehouse/warehouse.h"

#include <stdbool.h>

/* Path of the token file: <pid file>.token (caller frees with free()). */
char *ig_serve_token_path(const ig_project *p);

/* Daemon side: create the token file with a new random token (64 hex
 * characters into tok[65]). IG_ERR_IO when it cannot be written. */
ig_rc ig__serve_token_create(const ig_project *p, char tok[65], ig_error *err);
/* True when the request comes from loopback with the right bearer token;
 * otherwise fills r with 401/403 and returns false. */
bool ig__serve_api_allowed(const char *token, const ig_http_request *req, ig_http_response *r);
/* POST /api/query on a clone of wh. */
void ig__serve_api_query(ig_wh *wh, const ig_http_request *req, ig_http_response *r);
/* GET /api/pipelines/NAME/runs?since=ISO: {"run": {...} | null, "tasks": [...]}. */
void ig__serve_api_runs(ig_wh *wh, const char *pipeline, const ig_http_request *req,
                        ig_http_response *r);
/* An error as the API sends it: {"success":false,"error":{code,name,message,
 * detail,hint,file,line,column}} with the status of the error table. */
void ig__serve_api_error(ig_http_response *r, const ig_error *e);

/* ---- the client (CLI side) ----------------------------------------------- */

typedef struct ig_serve_reply {
    int status;
    ig_buf head; /* the status line and headers as received */
    ig_buf body;
} ig_serve_reply;

/* One request to the running daemon `info` of project p, with the token;
 * blocks until the whole answer is in (Connection: close). Errors:
 * IG_ERR_IO when the daemon cannot be reached or the token read, naming
 * the daemon's pid and what to do. Caller frees out with
 * ig_serve_reply_free (also after an error). */
ig_rc ig_serve_call(const ig_project *p, const ig_serve_info *info, const char *method,
                    const char *path, const char *body, size_t len, ig_serve_reply *out,
                    ig_error *err);
/* A header of the reply (not NUL-terminated), NULL when absent. */
const char *ig_serve_reply_header(const ig_serve_reply *r, const char *name, size_t *len);
/* Turn an API error body into err (falls back to the status line). */
ig_rc ig_serve_reply_error(const ig_serve_reply *r, ig_error *err);
void ig_serve_reply_free(ig_serve_reply *r);

#endif
