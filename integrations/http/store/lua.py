"""Lua translations of ``algorithms.py`` for Redis: each runs atomically on the server, so every worker process
and thread of every host shares one budget, one semaphore and one breaker per provider account.

Numbers go back to Python as strings: Redis truncates Lua floats to integers otherwise.
"""

BUCKET_RESERVE = """
local k = KEYS[1]
local now = tonumber(ARGV[1]); local cost = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[5]); local headroom = tonumber(ARGV[6]); local ttl = tonumber(ARGV[8])
local blocked = tonumber(redis.call('HGET', k, 'blocked_until') or 0)
if ARGV[7] == '1' and now >= tonumber(redis.call('HGET', k, 'slow_until') or 0) then
  redis.call('HDEL', k, 'slow_until', 'rate')
  local wait = math.max(0, blocked - now)
  if wait <= max_wait then return {1, tostring(wait), ''} end
  return {0, tostring(wait), ''}
end
local rate = math.max(tonumber(redis.call('HGET', k, 'rate') or ARGV[3]), 1e-9)
local burst = tonumber(redis.call('HGET', k, 'burst') or ARGV[4])
local tokens = tonumber(redis.call('HGET', k, 'tokens') or burst)
local ts = tonumber(redis.call('HGET', k, 'ts') or now)
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate); ts = now end
headroom = math.min(headroom, math.max(0, burst - cost))
local need = cost + headroom - tokens
local wait = 0
if need > 0 then wait = need / rate end
wait = math.max(wait, blocked - now)
local granted = 0
if wait <= max_wait then tokens = tokens - cost; granted = 1 end
redis.call('HSET', k, 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('EXPIRE', k, ttl)
return {granted, tostring(wait), tostring(tokens)}
"""

BUCKET_ADJUST = """
local k = KEYS[1]
local now = tonumber(ARGV[1]); local dflt_rate = tonumber(ARGV[2]); local dflt_burst = tonumber(ARGV[3])
local refund = tonumber(ARGV[4]); local ttl = tonumber(ARGV[12])
if ARGV[6] ~= '' then redis.call('HSET', k, 'rate', ARGV[6]) end
if ARGV[7] ~= '' then redis.call('HSET', k, 'burst', ARGV[7]) end
local slowing = ARGV[9] ~= ''
if slowing then
  local slow_until = tonumber(redis.call('HGET', k, 'slow_until') or 0)
  local current = dflt_rate
  if slow_until > now then current = tonumber(redis.call('HGET', k, 'rate') or dflt_rate) end
  redis.call('HSET', k, 'rate', tostring(math.max(tonumber(ARGV[11]), current * tonumber(ARGV[10]))),
             'slow_until', tostring(math.max(slow_until, tonumber(ARGV[9]))))
end
local rate = math.max(tonumber(redis.call('HGET', k, 'rate') or dflt_rate), 1e-9)
local burst = tonumber(redis.call('HGET', k, 'burst') or dflt_burst)
local tokens = tonumber(redis.call('HGET', k, 'tokens') or burst)
local ts = tonumber(redis.call('HGET', k, 'ts') or now)
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate); ts = now end
tokens = math.min(burst, tokens + refund)
if ARGV[5] ~= '' then tokens = math.min(tokens, tonumber(ARGV[5])) end
if slowing then tokens = math.min(tokens, 0) end
redis.call('HSET', k, 'tokens', tostring(tokens), 'ts', tostring(ts))
if ARGV[8] ~= '' then
  local blocked = tonumber(redis.call('HGET', k, 'blocked_until') or 0)
  redis.call('HSET', k, 'blocked_until', tostring(math.max(blocked, tonumber(ARGV[8]))))
end
redis.call('EXPIRE', k, ttl)
return tostring(tokens)
"""

SLOT_ACQUIRE = """
local k = KEYS[1]
local now = tonumber(ARGV[1]); local lease = tonumber(ARGV[3]); local limit = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
local n = redis.call('ZCARD', k)
if n < limit then
  redis.call('ZADD', k, tostring(now + lease), ARGV[2])
  redis.call('EXPIRE', k, math.ceil(lease * 2) + 60)
  return {1, '0', n + 1}
end
local first = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
return {0, tostring(math.max(0, tonumber(first[2]) - now)), n}
"""

BREAKER_BEFORE = """
local k = KEYS[1]
local now = tonumber(ARGV[1]); local cooldown = tonumber(ARGV[2]); local probe_timeout = tonumber(ARGV[3])
local state = redis.call('HGET', k, 'state') or 'closed'
if state == 'open' then
  local reopen_at = tonumber(redis.call('HGET', k, 'opened_at') or 0) + cooldown
  if now < reopen_at then return {'reject', tostring(reopen_at - now)} end
  redis.call('HSET', k, 'state', 'half_open', 'probe_until', tostring(now + probe_timeout))
  return {'probe', '0'}
end
if state == 'half_open' then
  local probe_until = tonumber(redis.call('HGET', k, 'probe_until') or 0)
  if now < probe_until then return {'reject', tostring(probe_until - now)} end
  redis.call('HSET', k, 'probe_until', tostring(now + probe_timeout))
  return {'probe', '0'}
end
return {'allow', '0'}
"""

BREAKER_SUCCESS = """
local previous = redis.call('HGET', KEYS[1], 'state') or 'closed'
if previous ~= 'closed' then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  redis.call('HSET', KEYS[1], 'state', 'closed')
  return previous
end
-- Successes only matter for the failure rate while failures are on record (see algorithms.breaker_success).
if ARGV[1] and redis.call('EXISTS', KEYS[2]) == 1 then
  local now = tonumber(ARGV[1]); local window = tonumber(ARGV[2])
  redis.call('ZADD', KEYS[3], tostring(now), ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', tostring(now - window))
  redis.call('EXPIRE', KEYS[3], math.ceil(window) + 60)
end
return previous
"""

BREAKER_FAILURE = """
local k = KEYS[1]; local f = KEYS[2]; local ok = KEYS[3]
local now = tonumber(ARGV[1]); local window = tonumber(ARGV[2]); local threshold = tonumber(ARGV[3])
local rate = tonumber(ARGV[5] or '0') or 0
local state = redis.call('HGET', k, 'state') or 'closed'
if state == 'half_open' then
  redis.call('HSET', k, 'state', 'open', 'opened_at', tostring(now))
  redis.call('DEL', f, ok)
  return 'opened'
end
if state == 'open' then return 'open' end
redis.call('ZADD', f, tostring(now), ARGV[4])
redis.call('ZREMRANGEBYSCORE', f, '-inf', tostring(now - window))
redis.call('ZREMRANGEBYSCORE', ok, '-inf', tostring(now - window))
local failures = redis.call('ZCARD', f); local successes = redis.call('ZCARD', ok)
if failures >= threshold and failures / (failures + successes) >= rate then
  redis.call('HSET', k, 'state', 'open', 'opened_at', tostring(now))
  redis.call('DEL', f, ok)
  return 'opened'
end
redis.call('EXPIRE', f, math.ceil(window) + 60)
return 'closed'
"""
