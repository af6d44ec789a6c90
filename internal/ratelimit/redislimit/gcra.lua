-- GCRA on one bucket, atomically: the arithmetic of ratelimit.GCRA, on
-- Redis's clock.
--
-- KEYS[1]  the bucket: its TAT, Unix nanoseconds as a decimal string
-- ARGV[1]  the emission interval, in nanoseconds
-- ARGV[2]  the tolerance, burst × interval, in nanoseconds
-- ARGV[3], ARGV[4]  tests only: see below
--
-- Returns {allowed (0 or 1), remaining, base, now, reset, retry}: base is
-- Redis's TIME in whole seconds, and now, reset (ResetAt) and retry
-- (RetryAfter) are nanoseconds after base.
--
-- Lua's numbers are doubles, exact for integers below 2^53 but Unix
-- nanoseconds are above. So the stored TAT is split into seconds and
-- nanoseconds, and every instant is taken relative to base: offsets stay
-- below tolerance + interval + 1 s, which the caller keeps under 2^53.

-- Before Redis 5 a script that read TIME had to ask for effects replication.
if redis.replicate_commands then redis.replicate_commands() end

local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])

-- idiv is a // b for integers 0 <= a < 2^53 and b > 0, exact whatever
-- rounding the division of doubles did.
local function idiv(a, b)
  local q = math.floor(a / b)
  while q * b > a do q = q - 1 end
  while (q + 1) * b <= a do q = q + 1 end
  return q
end

-- ARGV[3] and ARGV[4], given only by the package's tests, replace TIME with
-- a fake clock's seconds and nanoseconds; the key then never expires.
local fake = ARGV[3] ~= nil
local base, now
if fake then
  base, now = tonumber(ARGV[3]), tonumber(ARGV[4])
else
  local clock = redis.call('TIME')
  base, now = tonumber(clock[1]), tonumber(clock[2]) * 1000
end

-- A bucket never seen, or whose TAT has passed, is full: its TAT is now.
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then
  local n = string.len(stored)
  local sec, ns = 0, tonumber(stored)
  if n > 9 then
    sec, ns = tonumber(string.sub(stored, 1, n - 9)), tonumber(string.sub(stored, n - 8))
  end
  -- Anything before base's second is in the past; anything unreadable is
  -- overwritten by the next admission.
  if sec and ns and sec >= base then
    tat = math.max((sec - base) * 1000000000 + ns, now)
  end
end

local nxt = tat + interval
if nxt - now > tolerance then
  return {0, 0, base, now, tat, nxt - now - tolerance}
end

local remaining = idiv(tolerance - (nxt - now), interval)
local s = idiv(nxt, 1000000000)
local ns = nxt - s * 1000000000
redis.call('SET', KEYS[1], string.format('%d%09d', base + s, ns))
-- The key lives until the bucket is full again: the TAT rounded up to the
-- millisecond, absolute, so that no rounding of a relative time ends it sooner.
if not fake then
  redis.call('PEXPIREAT', KEYS[1], (base + s) * 1000 + idiv(ns + 999999, 1000000))
end
return {1, remaining, base, now, nxt, 0}
