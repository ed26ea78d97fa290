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
-- Returns {statuses, notifications}: statuses has one char per event, 'a'
-- accepted or 'd' duplicate; notifications is how many went to the outbox.

local events, times, rules = check_input()
if not events then return redis.error_reply('ERR apply_batch: ' .. times) end
TIMES_OF, RULES = times, rules
local why = read_before_writing(NFIXED + #events + 1)
if why then return redis.error_reply('WRONGTYPE apply_batch: ' .. why) end

local ttl = ARGV[2]          -- checked above; passed on as the string it is
local status = {}
for i, e in ipairs(events) do
  -- SET NX both tests and marks: false when the event_id is known
  if redis.call('SET', KEYS[NFIXED + i], '1', 'EX', ttl, 'NX') then
    status[i] = 'a'
    if e[1] == T_FUNDING then apply_funding(e)
    elseif e[1] == T_FLOW then apply_flow(e)
    else apply_case(e, i) end
  else
    status[i] = 'd'
    add(F_QUALITY, 'duplicate', 1)
  end
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
  if (#args > 0 or #gone > 0) and has_bit(c.bits, ST_LAST) then
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
