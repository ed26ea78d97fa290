-- apply_batch.lua: the last part of caseflow's apply script, which applies
-- one shard's batch of validated events to Redis in one atomic call,
-- idempotently (docs/storage.md is the contract: key layout, field grammar,
-- input encoding, semantics). The store loads apply_input.lua,
-- apply_state.lua, apply_events.lua and this file as one script. For speed,
-- counter deltas are summed in Lua and written with one HINCRBY per distinct
-- field at the end, and each case hash is read once (HGETALL), changed in a
-- Lua table and written back once with the changed fields only.
--
-- Notifications are appended to the shard's outbox stream in the same call
-- (the broker publishes them from there), so that they are written exactly
-- once, with the counters they announce.
--
-- The call is whole or nothing: it reads and computes first, checks what
-- Redis could refuse (key types, above; counters that would overflow, below)
-- and only then writes, because Redis rolls nothing back on an error.
--
-- Returns {statuses, notifications}: statuses has one char per event, 'a'
-- accepted or 'd' duplicate; notifications is how many went to the outbox.
-- 'a' is an event first applied while serving this request (ARGV[6]), by
-- this call or by an earlier attempt of the same request whose reply was
-- lost; 'd' one that another request applied, or a repeat within the batch.

local events, times, rules, ids = check_input()
if not events then return redis.error_reply('ERR apply_batch: ' .. times) end
TIMES_OF, RULES, EVENT_IDS = times, rules, ids

-- The dedupe markers' generation is Redis's clock over --eid-ttl (ARGV[2]),
-- one clock for every worker, so that no worker's skew hides a marker. The
-- caller named the marker KEYS for ARGV[9]; when that is not the
-- generation now, nothing is read or written and the caller is told which
-- one it is (CFGEN <generation>), to name the keys again.
local ttl = tonumber(ARGV[2])
local generation = math.floor(tonumber(redis.call('TIME')[1]) / ttl)
if string.format('%d', generation) ~= ARGV[9] then
  return redis.error_reply(string.format('CFGEN %d', generation))
end

local n = #events
local why = read_before_writing(NFIXED + 2 * n + 1)
if why then return redis.error_reply('WRONGTYPE apply_batch: ' .. why) end

-- Event i's marker is the field digest(i) of its bucket in this generation
-- (KEYS[NFIXED + 2i - 1]) or the previous one (KEYS[NFIXED + 2i]); its value
-- is the request's tag (ARGV[6]).
local request = ARGV[6]
local mark = request ~= '' and request or '0'
local status = {}
local fresh = {}             -- the markers to set, once the batch is known good
local seen = {}
for i, e in ipairs(events) do
  local key, digest = KEYS[NFIXED + 2 * i - 1], ARGV[7]:sub(12 * i - 11, 12 * i)
  local marked = seen[digest] or redis.call('HGET', key, digest)
                 or redis.call('HGET', KEYS[NFIXED + 2 * i], digest)
  seen[digest] = true
  if not marked then
    status[i] = 'a'
    fresh[#fresh + 1] = i
    if e[1] == T_FUNDING_TRANSACTION then apply_funding(e)
    elseif e[1] == T_FLOW_OBSERVED then apply_flow(e)
    else apply_case(e, i) end
  elseif marked == request then
    status[i] = 'a'            -- applied by an earlier attempt of this request
  else
    status[i] = 'd'
    add(F_QUALITY, 'duplicate', 1)
  end
end

-- A counter HINCRBY would refuse (past a signed 64-bit integer) stops the
-- batch here, before any write. Lua's numbers are doubles, so the bound
-- keeps a margin: a value within 2^12 of the limit is refused too.
local LIMIT = 2 ^ 63 - 2 ^ 12
local function overflows(key, fields, deltas)
  if #fields == 0 then return nil end
  local now = redis.call('HMGET', key, unpack(fields))
  for j, field in ipairs(fields) do
    local sum = (tonumber(now[j] or '0') or 0) + deltas[j]
    if math.abs(deltas[j]) > MAX_INT or math.abs(sum) > LIMIT then
      return 'counter would overflow: ' .. key .. ' ' .. field .. ' (' .. (now[j] or '0')
             .. ' + ' .. int(deltas[j]) .. ')'
    end
  end
  return nil
end
local function check_counters()
  for family = 1, NFAMILIES do
    local fields, deltas = {}, {}
    for field, d in pairs(delta[family]) do
      if d ~= 0 then fields[#fields + 1] = field; deltas[#deltas + 1] = d end
    end
    local why = overflows(KEYS[family], fields, deltas)
    if why then return why end
  end
  for route, r in pairs(route_days) do
    local fields, deltas = {}, {}
    for day, count in pairs(r[2]) do
      fields[#fields + 1] = route .. '|' .. int(day); deltas[#deltas + 1] = count
    end
    local why = overflows(KEYS[K_ROUTE_DAY], fields, deltas)
    if why then return why end
  end
  return nil
end
local why_not = check_counters()
if why_not then return redis.error_reply('ERR apply_batch: ' .. why_not) end

-- A bucket of generation g lives until the end of generation g + 1, the
-- last in which a lookup reads it: a marker is kept between one and two
-- --eid-ttl (docs/storage.md). EXPIREAT is set once per bucket per call.
local by_bucket, buckets = {}, {}
for _, i in ipairs(fresh) do
  local key = KEYS[NFIXED + 2 * i - 1]
  local b = by_bucket[key]
  if not b then b = {}; by_bucket[key] = b; buckets[#buckets + 1] = key end
  b[#b + 1] = ARGV[7]:sub(12 * i - 11, 12 * i)
  b[#b + 1] = mark
end
local expire_at = (generation + 2) * ttl
for _, key in ipairs(buckets) do
  redis.call('HSET', key, unpack(by_bucket[key]))
  redis.call('EXPIREAT', key, expire_at)
end

for key_index, c in pairs(cases) do
  settle_derived(c)
  sync_due(c)
  if c.dirty.bits then c.f.bits = tostring(c.bits) end
  local args = {}
  for field in pairs(c.dirty) do
    args[#args + 1] = field
    args[#args + 1] = c.f[field]
  end
  if #args > 0 then redis.call('HSET', KEYS[key_index], unpack(args)) end
  local gone = {}
  for field in pairs(c.gone) do gone[#gone + 1] = field end
  if #gone > 0 then redis.call('HDEL', KEYS[key_index], unpack(gone)) end
  -- A closed case's state goes after ARGV[3] seconds (counted again from its
  -- latest event); the aggregates it fed stay.
  if (#args > 0 or #gone > 0) and has_bit(c.bits, ST_CLOSED) then
    redis.call('EXPIRE', KEYS[key_index], ARGV[3])
  end
end
for family = 1, NFAMILIES do
  for field, d in pairs(delta[family]) do
    if d ~= 0 then redis.call('HINCRBY', KEYS[family], field, int(d)) end
  end
end

settle_spikes()
write_notes()
return { table.concat(status), #notes }
