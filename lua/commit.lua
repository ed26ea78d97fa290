-- commit.lua: writes what a worker computed for one shard (src/domain/cf_fold.c,
-- built into a list of operations by src/store/cf_commit.c) in one atomic
-- call, whole or not at all (docs/storage.md, "The commit"). Redis knows no
-- domain here: the worker read the states it computed from, and this call
-- writes only if Redis still holds them, so that a worker that computed
-- from stale states (another worker committed the same case in between, or
-- a retry after a lost reply finds its own first attempt) is refused and
-- reads again, and nothing is counted twice.
--
-- Redis rolls nothing back on an error, so every check comes before the
-- first write: the guards, the key types, and the counters that would
-- overflow.
--
-- KEYS       every key the call reads or writes, all of one shard's hash tag
-- ARGV[1]    the generation the dedupe markers' keys were named for (the
--            Redis clock over ARGV[2]), '' when the call sets no marker
-- ARGV[2]    --eid-ttl, seconds
-- ARGV[3]    msgpack array of operations, each an array {code, k, ...} with k
--            an index into KEYS; integers that may pass 2^53 (deltas) are
--            decimal strings, since Lua's numbers are doubles.
--   guards, checked in order; the first that fails answers CFSTALE <index>:
--   {'g', k, old}            string k holds old (false: k does not exist)
--   {'f', k, field, old}     field of hash k holds old (false: absent)
--   {'a', k, field...}       no field of hash k exists (dedupe markers)
--   {'t', k, type}           k is absent or of that type (keys written but not
--                            read above: streams and sorted sets)
--   writes, in order:
--   {'i', k, field, delta...}   add each delta (one HSET of the new values,
--                               HINCRBY past 2^53); the call is refused whole
--                               when one would pass a signed 64-bit integer
--                               or a field holds no integer
--   {'s', k, value, ttl}     SET, with EX ttl when ttl > 0
--   {'h', k, field, value...}   HSET
--   {'e', k, at}             EXPIREAT
--   {'z', k, score, member...}  ZADD
--   {'r', k, member...}      ZREM
--   {'x', k, topic, body}    XADD * topic <topic> body <body>
-- Returns    how many notifications (XADD) it wrote.

local ttl = tonumber(ARGV[2])
if ARGV[1] ~= '' then
  if not ttl or ttl < 1 then return redis.error_reply('ERR commit: ARGV[2] is not a ttl') end
  local generation = math.floor(tonumber(redis.call('TIME')[1]) / ttl)
  if string.format('%d', generation) ~= ARGV[1] then
    return redis.error_reply(string.format('CFGEN %d', generation))
  end
end

local ok, ops = pcall(cmsgpack.unpack, ARGV[3] or '')
if not ok or type(ops) ~= 'table' then
  return redis.error_reply('ERR commit: ARGV[3] is not a msgpack array')
end

-- An error reply of a guard's read: the key is of another type than want.
local function failed(reply, key, want)
  if type(reply) == 'table' and reply.err then
    return redis.error_reply('WRONGTYPE commit: ' .. key .. ' holds a '
                             .. redis.call('TYPE', key).ok .. ', not a ' .. want)
  end
  return nil
end

-- Counters: the guard pass reads each key's fields (HMGET) and works out
-- the new values, so that a counter HINCRBY would refuse (past a signed
-- 64-bit integer, or not an integer) stops the call before any write, and
-- so that the write is one HSET per key of the new values rather than one
-- HINCRBY per field. Lua's numbers are doubles: a value below 2^53 is
-- exact and set; a larger one is left to HINCRBY, and the bound keeps a
-- margin (a value within 2^12 of the limit is refused).
local EXACT, LIMIT = 2 ^ 53, 2 ^ 63 - 2 ^ 12
local sums = {}             -- op index -> {set = {field, value...}, incr = {field, delta...}}
local function add_counters(j, key, op)
  local fields = {}
  for m = 3, #op, 2 do fields[#fields + 1] = op[m] end
  local now = redis.pcall('HMGET', key, unpack(fields))
  local bad = failed(now, key, 'hash')
  if bad then return bad end
  local out = { set = {}, incr = {} }
  for m, field in ipairs(fields) do
    local delta, before = tonumber(op[2 * m + 2]), tonumber(now[m] or '0')
    if not before or before ~= math.floor(before) then
      return redis.error_reply('ERR commit: counter is not an integer: ' .. key .. ' ' .. field)
    end
    local sum = before + (delta or 0)
    if not delta or math.abs(delta) > LIMIT or math.abs(sum) > LIMIT then
      return redis.error_reply('ERR commit: counter would overflow: ' .. key .. ' ' .. field
                               .. ' (' .. (now[m] or '0') .. ' + ' .. tostring(op[2 * m + 2]) .. ')')
    end
    if math.abs(before) < EXACT and math.abs(delta) < EXACT and math.abs(sum) < EXACT then
      out.set[#out.set + 1] = field
      out.set[#out.set + 1] = string.format('%.0f', sum)
    else
      out.incr[#out.incr + 1] = field
      out.incr[#out.incr + 1] = op[2 * m + 2]
    end
  end
  sums[j] = out
  return nil
end

for j, op in ipairs(ops) do
  if type(op) ~= 'table' or not KEYS[op[2]] then
    return redis.error_reply('ERR commit: operation ' .. j .. ' names no key')
  end
  local code, key = op[1], KEYS[op[2]]
  local bad
  if code == 'g' then
    local v = redis.pcall('GET', key)
    bad = failed(v, key, 'string')
    if not bad and v ~= op[3] then return redis.error_reply('CFSTALE ' .. j) end
  elseif code == 'f' then
    local v = redis.pcall('HGET', key, op[3])
    bad = failed(v, key, 'hash')
    if not bad and v ~= op[4] then return redis.error_reply('CFSTALE ' .. j) end
  elseif code == 'a' then
    local v = redis.pcall('HMGET', key, unpack(op, 3))
    bad = failed(v, key, 'hash')
    if not bad then
      for m = 1, #op - 2 do
        if v[m] then return redis.error_reply('CFSTALE ' .. j) end
      end
    end
  elseif code == 't' then
    local t = redis.call('TYPE', key).ok
    if t ~= op[3] and t ~= 'none' then
      bad = redis.error_reply('WRONGTYPE commit: ' .. key .. ' holds a ' .. t .. ', not a ' .. op[3])
    end
  elseif code == 'i' then
    bad = add_counters(j, key, op)
  end
  if bad then return bad end
end

local notes = 0
for j, op in ipairs(ops) do
  local code, key = op[1], KEYS[op[2]]
  if code == 'i' then
    local sum = sums[j]
    if #sum.set > 0 then redis.call('HSET', key, unpack(sum.set)) end
    for m = 1, #sum.incr, 2 do redis.call('HINCRBY', key, sum.incr[m], sum.incr[m + 1]) end
  elseif code == 's' then
    if tonumber(op[4]) > 0 then redis.call('SET', key, op[3], 'EX', op[4])
    else redis.call('SET', key, op[3]) end
  elseif code == 'h' then
    redis.call('HSET', key, unpack(op, 3))
  elseif code == 'e' then
    redis.call('EXPIREAT', key, op[3])
  elseif code == 'z' then
    redis.call('ZADD', key, unpack(op, 3))
  elseif code == 'r' then
    redis.call('ZREM', key, unpack(op, 3))
  elseif code == 'x' then
    redis.call('XADD', key, '*', 'topic', op[3], 'body', op[4])
    notes = notes + 1
  end
end
return notes
