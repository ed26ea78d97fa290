-- apply_batch.lua: applies one shard's batch of validated caseflow events to
-- Redis in one atomic script call, idempotently (docs/storage.md is the
-- contract: key layout, field grammar, input encoding, semantics). Redis does
-- not roll a script back on error, so the whole input is checked before the
-- first write. For speed, counter deltas are summed in Lua and written with
-- one HINCRBY per distinct field at the end, and each case hash is read once
-- (HGETALL), changed in a Lua table and written back once with the changed
-- fields only. The numeric codes below mirror include/caseflow/cf_event.h.
--
-- KEYS[1..5]     cf:{sN}:stage, :returns, :vuln, :demo, :quality
-- KEYS[5+i]      cf:{sN}:eid:<event_id> of event i, i = 1..n
-- KEYS[6+n..]    cf:{sN}:case:<case_id>, each distinct case of the batch once
-- ARGV[1]        msgpack array of n events, each {type, stage, case_key, ...}
-- ARGV[2]        seconds an event_id is remembered (dedupe window)
-- ARGV[3]        seconds a case's state is kept after it is closed
-- Returns        {statuses, {event, stage, programme}, ...}: statuses has one
--                char per event, 'a' accepted or 'd' duplicate; then one
--                triple per stage entered (event index 1-based, stage code).

local STAGES = { [0] = 'registered', 'screened', 'assisted', 'departed', 'arrived',
                 'reintegrating', 'closed' }
local ST_ARRIVED, ST_LAST = 4, 6
local T_REGISTERED, T_SCREENED, T_ARRIVED = 0, 1, 6
local T_LAST_CASE, T_LAST = 10, 12
local F_STAGE, F_RETURNS, F_VULN, F_DEMO, F_QUALITY = 1, 2, 3, 4, 5
local NFAMILIES = 5

-- Shape of each type's payload after the 3-element header: Lua types of
-- elements 4, 5, ... ('strings' = an array of strings, 'pairs' = an array of
-- alternating string and integer 1..1000). A type not listed has no payload.
local PAYLOAD = {
  [T_REGISTERED] = { 'string', 'number', 'string', 'string', 'string', 'strings', 'pairs' },
  [T_SCREENED] = { 'strings' },
  [T_ARRIVED] = { 'string', 'string', 'string' },
}

-- ---- input checks (no writes before they pass) -------------------------

local function is_int(v, lo, hi)
  return type(v) == 'number' and v == math.floor(v) and v >= lo and v <= hi
end

local function check_value(v, want)
  if want == 'strings' or want == 'pairs' then
    if type(v) ~= 'table' then return false end
    for j = 1, #v do
      local count = want == 'pairs' and j % 2 == 0
      if count and not is_int(v[j], 1, 1000) then return false end
      if not count and (type(v[j]) ~= 'string' or #v[j] == 0) then return false end
    end
    return want == 'strings' or #v % 2 == 0
  end
  return type(v) == want and (want ~= 'string' or #v > 0)
end

local function check_event(ev, n)
  if type(ev) ~= 'table' then return 'not an array' end
  if not is_int(ev[1], 0, T_LAST) then return 'bad type' end
  if not is_int(ev[2], -1, ST_LAST) then return 'bad stage' end
  local is_case = ev[1] <= T_LAST_CASE
  if is_case and not is_int(ev[3], NFAMILIES + 1 + n, #KEYS) then return 'bad case key' end
  if not is_case and ev[3] ~= 0 then return 'case key on a non-case event' end
  local shape = PAYLOAD[ev[1]] or {}
  if #ev ~= 3 + #shape then return 'payload has ' .. (#ev - 3) .. ' elements' end
  for j, want in ipairs(shape) do
    if not check_value(ev[3 + j], want) then return 'payload element ' .. j end
  end
  if ev[1] == T_REGISTERED and not is_int(ev[5], 1, 1000) then return 'bad persons' end
  return nil
end

local function check_input()
  local ok, events = pcall(cmsgpack.unpack, ARGV[1] or '')
  if not ok or type(events) ~= 'table' then return nil, 'ARGV[1] is not a msgpack array' end
  local n = #events
  if #KEYS < NFAMILIES + n then return nil, 'KEYS has no eid key for every event' end
  local ttl = ARGV[2] or ''
  if not ttl:match('^[1-9]%d*$') or tonumber(ttl) > 2 ^ 31 then
    return nil, 'ARGV[2] is not a ttl'
  end
  local case_ttl = ARGV[3] or ''
  if not case_ttl:match('^[1-9]%d*$') or tonumber(case_ttl) > 2 ^ 31 then
    return nil, 'ARGV[3] is not a ttl'
  end
  for i = 1, n do
    local why = check_event(events[i], n)
    if why then return nil, 'event ' .. i .. ': ' .. why end
  end
  return events
end

-- ---- batch state: counter deltas, cached cases, notifications ---------

local delta = {}
for f = 1, NFAMILIES do delta[f] = {} end
local cases = {}
local notes = {}

local function add(family, field, d)
  local t = delta[family]
  t[field] = (t[field] or 0) + d
end

-- A case: f holds its hash fields (strings) as read or set, dirty the
-- fields to write back. The stage bits and the persons count are also kept
-- as numbers (c.bits, c.n): number/string conversions are slow in Redis's
-- Lua, so they happen once on load and once on write-back.
local function load_case(key_index)
  local c = cases[key_index]
  if not c then
    local flat = redis.call('HGETALL', KEYS[key_index])
    c = { f = {}, dirty = {} }
    for j = 1, #flat, 2 do c.f[flat[j]] = flat[j + 1] end
    c.bits = tonumber(c.f.bits or '0')
    c.n = c.f.n and tonumber(c.f.n)
    cases[key_index] = c
  end
  return c
end

local function set(c, field, value)
  c.f[field] = value
  c.dirty[field] = true
end

local function set_bits(c, bits)
  c.bits = bits
  c.dirty.bits = true
end

local BIT = {}
for s = 0, ST_LAST do BIT[s] = 2 ^ s end
local function has_bit(bits, s) return bits % (2 * BIT[s]) >= BIT[s] end

local function highest(bits)
  for s = ST_LAST, 0, -1 do
    if has_bit(bits, s) then return s end
  end
  return -1
end

-- ---- aggregates of a registered case -----------------------------------

-- The four stage field names of programme p and stage s, built once a call.
local stage_names = {}
local function stage_fields(p, s)
  local by_stage = stage_names[p]
  if not by_stage then
    by_stage = {}
    stage_names[p] = by_stage
  end
  local t = by_stage[s]
  if not t then
    local base = p .. '|' .. STAGES[s] .. '|'
    t = { base .. 'now|cases', base .. 'now|persons', base .. 'ever|cases',
          base .. 'ever|persons' }
    by_stage[s] = t
  end
  return t
end

local function count_now(c, s, sign)
  local t = stage_fields(c.f.prog, s)
  add(F_STAGE, t[1], sign)
  add(F_STAGE, t[2], sign * c.n)
end

-- ever totals and the notification of stage s, caused by event ev
local function count_ever(c, s, ev)
  local t = stage_fields(c.f.prog, s)
  add(F_STAGE, t[3], 1)
  add(F_STAGE, t[4], c.n)
  notes[#notes + 1] = { ev, s, c.f.prog }
end

local function count_return(c)
  local p, n = c.f.prog, c.n
  local dims = { 'origin|' .. c.f.org, 'host|' .. c.f.host, 'programme|' .. p,
                 'route|' .. c.f.route }
  for _, period in ipairs({ c.f.ad, c.f.am, c.f.ay }) do
    for _, dim in ipairs(dims) do
      local base = period .. '|' .. dim .. '|' .. p .. '|'
      add(F_RETURNS, base .. 'cases', 1)
      add(F_RETURNS, base .. 'persons', n)
    end
  end
end

-- Adds the vulnerability flags the case has not seen; counted when registered.
local function add_vulns(c, flags)
  for _, flag in ipairs(flags) do
    if not c.f['v|' .. flag] then
      set(c, 'v|' .. flag, '1')
      if c.f.prog then add(F_VULN, c.f.prog .. '|' .. flag, 1) end
    end
  end
end

-- ---- per-type handlers ---------------------------------------------------

-- A stage event: a stage seen before changes nothing; a new one is kept,
-- and counted (with its notification) once the case is registered.
local function enter_stage(c, s, ev)
  local bits = c.bits
  if has_bit(bits, s) then return end
  local current = highest(bits)
  set_bits(c, bits + BIT[s])
  if not c.f.prog then return end
  count_ever(c, s, ev)
  if s > current then
    count_now(c, current, -1)
    count_now(c, s, 1)
  else
    add(F_QUALITY, 'out_of_order', 1)
  end
  if s == ST_ARRIVED then count_return(c) end
end

-- The registration makes the case known: every stage kept so far is counted.
local function register(c, e, ev)
  if c.f.prog then
    add(F_QUALITY, 'repeat_registration', 1)
    return
  end
  add_vulns(c, e[9])          -- before prog is set: counted with the others below
  local p = e[4]
  c.n = e[5]
  set(c, 'prog', p); set(c, 'n', tostring(e[5]))
  set(c, 'org', e[6]); set(c, 'host', e[7]); set(c, 'route', e[8])
  local bits = c.bits
  if not has_bit(bits, 0) then bits = bits + 1 end
  set_bits(c, bits)
  for s = 0, ST_LAST do
    if has_bit(bits, s) then count_ever(c, s, ev) end
  end
  count_now(c, highest(bits), 1)
  if has_bit(bits, ST_ARRIVED) then count_return(c) end
  local demo = e[10]
  for j = 1, #demo, 2 do add(F_DEMO, p .. '|' .. demo[j], demo[j + 1]) end
  for field in pairs(c.f) do
    if field:sub(1, 2) == 'v|' then add(F_VULN, p .. '|' .. field:sub(3), 1) end
  end
end

local HANDLERS = {
  [T_SCREENED] = function(c, e) add_vulns(c, e[4]) end,
  [T_ARRIVED] = function(c, e)
    if not has_bit(c.bits, ST_ARRIVED) then
      set(c, 'ad', e[4]); set(c, 'am', e[5]); set(c, 'ay', e[6])
    end
  end,
}

local function apply_case(e, ev)
  local c = load_case(e[3])
  if e[1] == T_REGISTERED then return register(c, e, ev) end
  if not c.f.prog then add(F_QUALITY, 'before_registration', 1) end
  local handler = HANDLERS[e[1]]
  if handler then handler(c, e, ev) end
  if e[2] >= 0 then enter_stage(c, e[2], ev) end
end

-- ---- main ------------------------------------------------------------------

local events, why = check_input()
if not events then return redis.error_reply('ERR apply_batch: ' .. why) end

local ttl = ARGV[2]          -- checked above; passed on as the string it is
local status = {}
for i, e in ipairs(events) do
  -- SET NX both tests and marks: false when the event_id is known
  if redis.call('SET', KEYS[NFAMILIES + i], '1', 'EX', ttl, 'NX') then
    status[i] = 'a'
    if e[3] > 0 then apply_case(e, i) end
  else
    status[i] = 'd'
    add(F_QUALITY, 'duplicate', 1)
  end
end

for key_index, c in pairs(cases) do
  if c.dirty.bits then c.f.bits = tostring(c.bits) end
  local args = {}
  for field in pairs(c.dirty) do
    args[#args + 1] = field
    args[#args + 1] = c.f[field]
  end
  if #args > 0 then redis.call('HSET', KEYS[key_index], unpack(args)) end
  -- A closed case's state goes after ARGV[3] seconds (counted again from its
  -- latest event); the aggregates it fed stay.
  if #args > 0 and has_bit(c.bits, ST_LAST) then
    redis.call('EXPIRE', KEYS[key_index], ARGV[3])
  end
end
for family = 1, NFAMILIES do
  for field, d in pairs(delta[family]) do
    if d ~= 0 then redis.call('HINCRBY', KEYS[family], field, d) end
  end
end

local reply = { table.concat(status) }
for _, note in ipairs(notes) do reply[#reply + 1] = note end
return reply
