-- wrk script for bench/webhooks.py: replays pre-generated signed webhook requests and records every answer.
--
-- bench/webhooks.py writes one file per wrk thread into $WRK_WEBHOOKS_DIR (thread-1.req, thread-2.req, ...):
-- records of "<length> <event id>\n" followed by exactly <length> bytes of raw HTTP request. Each thread walks its
-- own file once, in order, so an event is only sent again where the file repeats it (the intended duplicates).
-- A thread that reaches the end of its file stops sending (it never wraps around) and reports "exhausted", which
-- makes the bench refuse the run.
--
-- Run with as many threads as connections (-t N -c N): a thread then owns one connection, which sends its next
-- request only after the previous answer (or after a socket error and reconnect), so response() always belongs
-- to the last request() of its thread. That is how each answer is tied to its event id.
--
-- done() runs after all threads joined and writes $WRK_WEBHOOKS_DIR/result.txt:
--   summary <duration_us> <responses> <connect> <read> <write> <status> <timeout> <p50_us> <p99_us> <max_us>
--   thread <id> <requests started> <exhausted 0|1>
--   <event id> <status> <us>       one line per response, in the order the thread received them, with its
--                                  latency as this script measured it (see below)
--
-- wrk's own latency percentiles (the summary line) include its coordinated-omission correction: for every answer
-- slower than twice the mean interval between a connection's requests it adds synthetic samples (checked with
-- wrk 4.1: a 1 ms / 50 ms bimodal server gives p60 13 ms from wrk, 1.2 ms raw). The per-answer figures are the
-- uncorrected times from handing the request to wrk to its complete answer, so the bench can report both.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000000 + tonumber(timespec.tv_nsec) / 1000
end

local dir = os.getenv("WRK_WEBHOOKS_DIR")
local threads = {}
-- Paced runs (bench/webhooks.py's "paced" scenario): each thread sends one request every WRK_INTERVAL_US
-- microseconds at most (threads * 1e6 / interval = the target rate). A thread behind schedule (a slow answer)
-- sends at once and does not burst to catch up. Unset or 0: as fast as the answers come (closed loop).
local interval_us = tonumber(os.getenv("WRK_INTERVAL_US") or "0") or 0
if interval_us > 0 then
  -- Defined only when pacing: wrk routes every request through a timer when a delay() function exists.
  function delay()
    local now = now_us()
    next_at = (next_at or now) + interval_us
    if next_at <= now then
      next_at = now
      return 0
    end
    return (next_at - now) / 1000
  end
end

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  -- Opened here, read lazily in request(): init() of thread k+1 runs while thread k already sends, so loading
  -- whole files here would start the threads at different times.
  local id = wrk.thread:get("id")
  requests_file = assert(io.open(dir .. "/thread-" .. id .. ".req", "rb"))
  started = 0
  exhausted = 0
  pending = nil
  answers = {}
end

function request()
  local head = requests_file:read("*l")
  if head == nil then
    -- End of the list: stop this thread. wrk still writes whatever request() returns on this connection, so
    -- return a GET the portal answers 404 without touching webhooks (and the thread no longer reads it).
    exhausted = 1
    pending = nil
    wrk.thread:stop()
    return "GET /bench/exhausted/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
  end
  local length, event_id = head:match("^(%d+) (%S+)$")
  local raw = requests_file:read(tonumber(length))
  started = started + 1
  -- wrk calls request() once on the first thread before the run to count pipelined requests and never sends
  -- that one; it is simply overwritten here by the next call, so it counts as not acknowledged.
  pending = event_id
  sent_at = now_us()
  return raw
end

function response(status, headers, body)
  if pending ~= nil then
    answers[#answers + 1] = string.format("%s %d %d", pending, status, now_us() - sent_at)
    pending = nil
  end
end

function done(summary, latency, requests)
  local out = assert(io.open(dir .. "/result.txt", "w"))
  local e = summary.errors
  out:write(string.format("summary %d %d %d %d %d %d %d %d %d %d\n", summary.duration, summary.requests,
    e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
  for _, thread in ipairs(threads) do
    out:write(string.format("thread %d %d %d\n", thread:get("id"), thread:get("started"), thread:get("exhausted")))
    local answers = thread:get("answers")
    out:write(table.concat(answers, "\n"))
    if #answers > 0 then
      out:write("\n")
    end
  end
  out:close()
end
