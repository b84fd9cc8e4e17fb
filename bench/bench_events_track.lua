-- wrk script: one track event per request over keep-alive, with a unique
-- messageId per request (thread id + counter). WRITE_KEY from the environment.
local counter = 0
local nthreads = 0
function setup(thread) nthreads = nthreads + 1; thread:set("tid", nthreads) end
function init(args)
  run = os.getenv("RUN") or "run"
  local key = os.getenv("WRITE_KEY") or "bench"
  local auth = "Basic " .. (os.getenv("WRITE_KEY_B64") or "")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = auth
end
function request()
  counter = counter + 1
  local body = string.format('{"userId":"user-%d","event":"Product Viewed","messageId":"%s-t%d-%d","properties":{"product_id":"p-%d","price":19.99,"currency":"EUR"},"context":{"library":{"name":"wrk"}},"originalTimestamp":"2026-11-25T10:00:00.000Z","sentAt":"2026-11-25T10:00:00.100Z"}', counter % 1000, run, tid, counter, counter % 500)
  return wrk.format(nil, "/v1/track", nil, body)
end
