-- wrk script for bench/api.py: each connection alternates the first page and the deep cursor page of the same
-- filtered transactions list, with the retailer's token, and every answer is checked (status 200 and exactly
-- $WRK_API_ROWS rows), so a fast error can never pass for throughput.
--
-- Environment: WRK_API_TOKEN, WRK_API_FIRST and WRK_API_DEEP (paths with their query), WRK_API_ROWS,
-- WRK_API_RESULT (the file done() writes):
--   summary <duration_us> <responses> <connect> <read> <write> <status> <timeout> <p50_us> <p99_us> <max_us>
--   thread <id> <good answers> <bad answers>
-- Run with as many threads as connections (-t N -c N), so a thread's requests alternate on one connection.

local threads = {}
local rows = tonumber(os.getenv("WRK_API_ROWS"))

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  local headers = {["Authorization"] = "Token " .. os.getenv("WRK_API_TOKEN")}
  pages = {
    wrk.format("GET", os.getenv("WRK_API_FIRST"), headers),
    wrk.format("GET", os.getenv("WRK_API_DEEP"), headers),
  }
  -- Threads start on alternate pages, so both kinds are in flight at any time.
  turn = wrk.thread:get("id") % 2
  good, bad = 0, 0
end

function request()
  turn = 1 - turn
  return pages[turn + 1]
end

function response(status, headers, body)
  -- Each row of a page starts with {"id": (the rows are spliced from PostgreSQL-rendered JSON).
  local _, found = string.gsub(body, '{"id":', "")
  if status == 200 and found == rows then
    good = good + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("WRK_API_RESULT"), "w"))
  local e = summary.errors
  out:write(string.format("summary %d %d %d %d %d %d %d %d %d %d\n", summary.duration, summary.requests,
    e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
  for _, thread in ipairs(threads) do
    out:write(string.format("thread %d %d %d\n", thread:get("id"), thread:get("good"), thread:get("bad")))
  end
  out:close()
end
