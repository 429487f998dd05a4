-- wrk script for bench/first-bench.sh.
--   BENCH_METHOD=PATCH  sends PATCH with the JSON body {"discount_pct": 10} (default: GET, no body)
--   BENCH_STATUS=1      counts response status codes and keeps the first non-2xx body per thread
--                       (a Lua call per response: off for the direct baseline, which it would slow)
--   BENCH_OUT=FILE      done() appends one tab-separated result line to FILE:
--     requests  duration_us  rps  p50_us  p90_us  p99_us  max_us  mean_us
--     err_connect  err_read  err_write  err_timeout  err_status(non-2xx/3xx)  statuses  first_bad
local method = os.getenv("BENCH_METHOD") or "GET"
if method == "PATCH" then
  wrk.method = "PATCH"
  wrk.body = '{"discount_pct": 10}'
  wrk.headers["Content-Type"] = "application/json"
else
  wrk.method = method
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

if os.getenv("BENCH_STATUS") == "1" then
  statuses = {}
  first_bad = ""
  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    if (status < 200 or status > 299) and first_bad == "" then
      first_bad = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

local function clean(s)
  return (string.gsub(s or "", "[\t\r\n]", " "))
end

function done(summary, latency, requests)
  local out = os.getenv("BENCH_OUT")
  if not out then return end
  local counts, bad = {}, ""
  for _, t in ipairs(threads) do
    local st = t:get("statuses")
    if type(st) == "table" then
      for code, n in pairs(st) do counts[code] = (counts[code] or 0) + n end
    end
    local b = t:get("first_bad")
    if bad == "" and type(b) == "string" then bad = b end
  end
  local parts = {}
  for code, n in pairs(counts) do table.insert(parts, code .. "=" .. n) end
  table.sort(parts)
  local e = summary.errors
  local secs = summary.duration / 1e6
  local line = string.format("%d\t%d\t%.1f\t%d\t%d\t%d\t%d\t%.1f\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n",
    summary.requests, summary.duration, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.timeout, e.status,
    #parts > 0 and table.concat(parts, ",") or "-", bad ~= "" and clean(bad) or "-")
  local f = assert(io.open(out, "a"))
  f:write(line)
  f:close()
end
