-- wrk script: /v1/batch requests of 100 track events each (BATCH env to
-- change), unique messageIds, over keep-alive.
local counter = 0
local nthreads = 0
function setup(thread) nthreads = nthreads + 1; thread:set("tid", nthreads) end
function init(args)
  run = os.getenv("RUN") or "run"
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Basic " .. (os.getenv("WRITE_KEY_B64") or "")
  n = tonumber(os.getenv("BATCH") or "100")
end
function request()
  counter = counter + 1
  local items = {}
  for i = 1, n do
    items[i] = string.format('{"type":"track","userId":"user-%d","event":"Product Viewed","messageId":"%s-b%d-%d-%d","properties":{"product_id":"p-%d","price":19.99}}', i, run, tid, counter, i, i)
  end
  local body = '{"batch":[' .. table.concat(items, ",") .. '],"context":{"library":{"name":"wrk"}},"sentAt":"2026-11-25T10:00:00.100Z"}'
  return wrk.format(nil, "/v1/batch", nil, body)
end
