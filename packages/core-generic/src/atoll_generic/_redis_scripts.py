"""The Lua scripts behind :class:`~atoll_generic.RedisBackend`: one atomic script per operation.

Every script reads the time from the server (``TIME``), never from the worker that calls it, so
workers whose clocks disagree still share one schedule. Numbers go back to Python as strings:
Redis truncates Lua numbers to integers on the way out.

A window limiter ("at most ``limit`` units in any ``interval`` seconds") keeps a log of what it
granted in the last ``interval``: a sorted set of reservation ids scored by grant time, their
amounts in a hash, and the running total (``used``) plus a ``blocked`` instant in a meta hash.
A reservation that does not fit gets back the exact number of seconds until it will (the
grant schedule's next conforming instant, as GCRA computes it), so a waiting worker sleeps
once instead of polling. Because the log holds every grant of the last interval, no sliding
window of ``interval`` seconds ever holds more than ``limit`` -- a plain GCRA bucket of the same
size lets up to twice that through across a window boundary. Settling rewrites a grant's amount
in place (refund or charge); an overrun settled after its grant left the window is owed by the
current one. Every key expires ``interval`` (plus a margin) after its last write, so a crashed
worker's reservations leave with the window.

A budget keeps ``spent`` and ``reserved`` in a hash and each open reservation as a lease (a
sorted set scored by expiry, amounts in a hash); expired leases of crashed workers return to
the pool on the next call.
"""

from __future__ import annotations

__all__ = [
    "BUDGET_OBSERVE",
    "BUDGET_RESERVE",
    "BUDGET_SETTLE",
    "MEMBERS",
    "SCRIPTS",
    "WINDOW_OBSERVE",
    "WINDOW_RESERVE",
    "WINDOW_SETTLE",
]

# Shared prologue of the window scripts: KEYS = log, amounts, meta; the server's time; drop the
# grants that left the window (in chunks: Lua's unpack has a stack limit).
_WINDOW_PROLOGUE = """
local log, amounts, meta = KEYS[1], KEYS[2], KEYS[3]
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local ttl = math.ceil(interval * 1000) + 5000
local used = tonumber(redis.call('HGET', meta, 'used') or '0')
local horizon = now - interval
while true do
  local old = redis.call('ZRANGEBYSCORE', log, '-inf', horizon, 'LIMIT', 0, 500)
  if #old == 0 then break end
  local sizes = redis.call('HMGET', amounts, unpack(old))
  for i = 1, #old do used = used - (tonumber(sizes[i]) or 0) end
  redis.call('ZREM', log, unpack(old))
  redis.call('HDEL', amounts, unpack(old))
end
if redis.call('ZCARD', log) == 0 or used < 0 then used = 0 end
local function save()
  redis.call('HSET', meta, 'used', tostring(used))
  redis.call('PEXPIRE', log, ttl)
  redis.call('PEXPIRE', amounts, ttl)
  redis.call('PEXPIRE', meta, ttl)
end
"""

WINDOW_RESERVE = (
    _WINDOW_PROLOGUE
    + """
-- ARGV: interval, id, amount, limit. Returns {1, granted_at, used} or {0, retry_after, used}.
local id, amount, limit = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local blocked = tonumber(redis.call('HGET', meta, 'blocked') or '0')
if now < blocked then
  save()
  return {0, tostring(blocked - now), tostring(used)}
end
local eps = 1e-9 * math.max(1, limit)
if used + amount <= limit + eps then
  used = used + amount
  redis.call('ZADD', log, now, id)
  redis.call('HSET', amounts, id, tostring(amount))
  save()
  return {1, tostring(now), tostring(used)}
end
-- The earliest instant at which enough of the oldest grants have left the window.
local need, freed, start = used + amount - limit, 0, 0
while true do
  local batch = redis.call('ZRANGE', log, start, start + 99, 'WITHSCORES')
  if #batch == 0 then break end
  local ids = {}
  for i = 1, #batch, 2 do ids[#ids + 1] = batch[i] end
  local sizes = redis.call('HMGET', amounts, unpack(ids))
  for i = 1, #ids do
    freed = freed + (tonumber(sizes[i]) or 0)
    if freed >= need - eps then
      save()
      local wait = tonumber(batch[2 * i]) + interval - now
      return {0, tostring(math.max(wait, 0.001)), tostring(used)}
    end
  end
  start = start + 100
end
save()
return {0, tostring(interval), tostring(used)}
"""
)

WINDOW_SETTLE = (
    _WINDOW_PROLOGUE
    + """
-- ARGV: interval, id, reserved, actual. A grant still in the window takes its actual amount
-- (a refund or a charge); an overrun settled after the grant left the window is owed now.
local id, reserved, actual = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local current = redis.call('HGET', amounts, id)
if current then
  used = used + actual - tonumber(current)
  if actual <= 0 then
    redis.call('ZREM', log, id)
    redis.call('HDEL', amounts, id)
  else
    redis.call('HSET', amounts, id, tostring(actual))
  end
elseif actual > reserved then
  local debt = id .. ':owed'
  used = used + actual - reserved
  redis.call('ZADD', log, now, debt)
  redis.call('HSET', amounts, debt, tostring(actual - reserved))
end
save()
return tostring(used)
"""
)

WINDOW_OBSERVE = (
    _WINDOW_PROLOGUE
    + """
-- ARGV: interval, id, limit, remaining, reset_after, retry_after ('' when absent).
-- remaining caps what is left until the provider's reset: a placeholder grant of the excess,
-- placed so that it leaves the window at that reset (or after a whole window when no reset
-- was given). retry_after blocks new grants until then.
local id, limit = ARGV[2], tonumber(ARGV[3])
local remaining, reset_after, retry_after = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
if retry_after and retry_after > 0 then
  local blocked = tonumber(redis.call('HGET', meta, 'blocked') or '0')
  redis.call('HSET', meta, 'blocked', tostring(math.max(blocked, now + retry_after)))
end
if remaining then
  local excess = (limit - used) - math.max(remaining, 0)
  local leaves = now + interval
  if reset_after then leaves = now + math.max(reset_after, 0) end
  if excess > 0 and leaves > now then
    used = used + excess
    redis.call('ZADD', log, leaves - interval, id)
    redis.call('HSET', amounts, id, tostring(excess))
  end
end
save()
return tostring(used)
"""
)

# Shared prologue of the budget scripts: KEYS = state, leases, amounts; expired leases (crashed
# workers) go back to the pool.
_BUDGET_PROLOGUE = """
local state, leases, amounts = KEYS[1], KEYS[2], KEYS[3]
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local ttl = math.ceil(tonumber(ARGV[1]) * 1000)
local spent = tonumber(redis.call('HGET', state, 'spent') or '0')
local reserved = tonumber(redis.call('HGET', state, 'reserved') or '0')
while true do
  local gone = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, 500)
  if #gone == 0 then break end
  local sizes = redis.call('HMGET', amounts, unpack(gone))
  for i = 1, #gone do reserved = reserved - (tonumber(sizes[i]) or 0) end
  redis.call('ZREM', leases, unpack(gone))
  redis.call('HDEL', amounts, unpack(gone))
end
if redis.call('ZCARD', leases) == 0 or reserved < 0 then reserved = 0 end
local function save()
  redis.call('HSET', state, 'spent', tostring(spent), 'reserved', tostring(reserved))
  redis.call('PEXPIRE', state, ttl)
  redis.call('PEXPIRE', leases, ttl)
  redis.call('PEXPIRE', amounts, ttl)
end
"""

BUDGET_RESERVE = (
    _BUDGET_PROLOGUE
    + """
-- ARGV: ttl, id, amount, budget, lease. Returns {status, spent, reserved, hint}: 1 granted,
-- -1 exhausted (even refunding every open reservation could not make room), 0 wait (hint:
-- seconds until the first open lease expires).
local id, amount, budget, lease = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local eps = 1e-9 * math.max(1, budget)
if spent >= budget - eps or spent + amount > budget + eps then
  save()
  return {-1, tostring(spent), tostring(reserved), '0'}
end
if spent + reserved + amount <= budget + eps then
  reserved = reserved + amount
  redis.call('ZADD', leases, now + lease, id)
  redis.call('HSET', amounts, id, tostring(amount))
  save()
  return {1, tostring(spent), tostring(reserved), '0'}
end
local first = redis.call('ZRANGE', leases, 0, 0, 'WITHSCORES')
local hint = lease
if #first == 2 then hint = tonumber(first[2]) - now end
save()
return {0, tostring(spent), tostring(reserved), tostring(hint)}
"""
)

BUDGET_SETTLE = (
    _BUDGET_PROLOGUE
    + """
-- ARGV: ttl, id, reserved amount, spent amount. A lease that already expired was returned to
-- the pool, so only the spending is recorded.
local id, amount, cost = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('ZREM', leases, id) == 1 then
  reserved = reserved - amount
  redis.call('HDEL', amounts, id)
end
spent = spent + cost
save()
return {tostring(spent), tostring(reserved)}
"""
)

BUDGET_OBSERVE = (
    _BUDGET_PROLOGUE
    + """
-- ARGV: ttl, budget, remaining. An outside figure for the money left: spent never drops.
local budget, remaining = tonumber(ARGV[2]), tonumber(ARGV[3])
spent = math.max(spent, budget - remaining)
save()
return {tostring(spent), tostring(reserved)}
"""
)

MEMBERS = """
-- KEYS: members. ARGV: id, stale seconds. Records this worker and counts the live ones.
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local stale = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - stale)
redis.call('PEXPIRE', KEYS[1], math.ceil(stale * 1000))
return redis.call('ZCARD', KEYS[1])
"""

SCRIPTS: dict[str, str] = {
    "window_reserve": WINDOW_RESERVE,
    "window_settle": WINDOW_SETTLE,
    "window_observe": WINDOW_OBSERVE,
    "budget_reserve": BUDGET_RESERVE,
    "budget_settle": BUDGET_SETTLE,
    "budget_observe": BUDGET_OBSERVE,
    "members": MEMBERS,
}
"""Every script by name; the backend loads each once and calls it by its SHA1."""
