-- apply_state.lua: the second part of the apply script: the batch's state
-- (counter deltas, cached case hashes, notifications) and the aggregates
-- that are a function of a case's state ("derived": returns, durations,
-- detention, risk). Those are kept order-independent by computing a case's
-- derived contribution before its first change in the batch and again at
-- the end, and adding the difference (docs/storage.md, "Semantics").

local delta = {}
for f = 1, NFAMILIES do delta[f] = {} end
local cases = {}
local notes = {}            -- {topic, body table}, written to the outbox in order
local TIMES_OF, RULES, EVENT_IDS = {}, {}, {}  -- occurred_at, the rules, event_id (set by the main part)

local function add(family, field, d)
  local t = delta[family]
  t[field] = (t[field] or 0) + d
end

-- Integers as Redis wants them: Lua's tostring gives 1e+14 for large ones.
local function int(x) return string.format('%.0f', x) end

-- A case: f holds its hash fields (strings) as read or set, dirty the
-- fields to write back, gone the fields to delete. Numbers used often are
-- also kept as numbers: number/string conversions are slow in Redis's Lua.
local TIMES = { 'rt', 'dt', 'at', 'it' }

local function load_case(key_index)
  return cases[key_index]
end

-- Reads every case hash of the batch (KEYS[first..]) and checks that the
-- family keys are hashes, all before the first write: an error after a
-- write would leave the batch half applied (Redis does not roll a script
-- back), with dedupe markers set for events that never counted. Returns an
-- error text, or nil.
local function read_before_writing(first)
  for f = 1, NFIXED do
    local want = FIXED_TYPES[f] or 'hash'
    local t = redis.call('TYPE', KEYS[f]).ok
    if t ~= want and t ~= 'none' then return KEYS[f] .. ' holds a ' .. t .. ', not a ' .. want end
  end
  for key_index = first, #KEYS do
    local flat = redis.pcall('HGETALL', KEYS[key_index])
    if flat.err then return KEYS[key_index] .. ': ' .. flat.err end
    local c = { f = {}, dirty = {}, gone = {} }
    for j = 1, #flat, 2 do c.f[flat[j]] = flat[j + 1] end
    c.bits = tonumber(c.f.bits or '0')
    c.n = c.f.n and tonumber(c.f.n)
    c.risk = tonumber(c.f.risk or '0')
    c.id = KEYS[key_index]:sub(KEYS[key_index]:find(':case:', 1, true) + 6)
    for _, t in ipairs(TIMES) do c[t] = c.f[t] and tonumber(c.f[t]) end
    cases[key_index] = c
  end
  return nil
end

local function set(c, field, value)
  c.f[field] = value
  c.dirty[field] = true
  c.gone[field] = nil
end

local function unset(c, field)
  c.f[field] = nil
  c.dirty[field] = nil
  c.gone[field] = true
end

local BIT = {}
for s = 0, NSTAGES - 1 do BIT[s] = 2 ^ s end
local function has_bit(bits, s) return bits % (2 * BIT[s]) >= BIT[s] end

local function highest(bits)
  for s = NSTAGES - 1, 0, -1 do
    if has_bit(bits, s) then return s end
  end
  return -1
end

-- ---- derived aggregates ----------------------------------------------------

local INTERVALS = { { 'registered-departed', 'rt', 'dt' }, { 'departed-arrived', 'dt', 'at' },
                    { 'arrived-reintegrating', 'at', 'it' } }

local function put(out, family, field, v)
  local t = out[family]
  if not t then t = {}; out[family] = t end
  t[field] = (t[field] or 0) + v
end

-- The histogram bucket [lo, hi) of a length in whole hours h: one hour wide
-- below 32 h, then 16 buckets per power of two.
local function bucket(h)
  if h < 32 then return h, h + 1 end
  local k = 5
  while 2 ^ (k + 1) <= h do k = k + 1 end
  local w = 2 ^ (k - 4)
  local lo = math.floor(h / w) * w
  return lo, lo + w
end

local function derive_durations(c, out, p)
  for _, iv in ipairs(INTERVALS) do
    local from, to = c[iv[2]], c[iv[3]]
    if from and to then
      local seconds = math.max(0, math.floor((to - from) / 1000))
      local lo, hi = bucket(math.floor(seconds / 3600))
      local base = p .. '|' .. iv[1] .. '|'
      put(out, F_DUR, base .. 'count', 1)
      put(out, F_DUR, base .. 'seconds', seconds)
      put(out, F_DUR, base .. 'bucket|' .. int(lo) .. '|' .. int(hi), 1)
    end
  end
end

local function sorted_times(list)
  local t = {}
  for v in string.gmatch(list or '', '[^,]+') do t[#t + 1] = tonumber(v) end
  table.sort(t)
  return t
end

-- Per country: detentions d|<country> and releases r|<country>, each a
-- comma-separated list of times; the i-th detention pairs with the i-th release.
local function derive_detention(c, out, p)
  for field in pairs(c.f) do
    local country = field:match('^d|(.+)$')
    if country then
      local d, r = sorted_times(c.f[field]), sorted_times(c.f['r|' .. country])
      local base = p .. '|' .. country .. '|'
      put(out, F_DETENTION, base .. 'cases', 1)
      if #d > #r then put(out, F_DETENTION, base .. 'now', 1) end
      local episodes, seconds = math.min(#d, #r), 0
      for i = 1, episodes do seconds = seconds + math.max(0, math.floor((r[i] - d[i]) / 1000)) end
      put(out, F_DETENTION, base .. 'episodes', episodes)
      put(out, F_DETENTION, base .. 'seconds', seconds)
    end
  end
end

local RETURN_DIMS = { { 'origin|', 'org' }, { 'host|', 'host' }, { 'programme|', 'prog' },
                      { 'route|', 'route' } }

-- What a case adds to the derived families now: nothing until registered.
local function derive(c)
  local out = {}
  local p = c.f.prog
  if not p then return out end
  if c.at then
    for _, dim in ipairs(RETURN_DIMS) do
      local base = c.f.ad .. '|' .. dim[1] .. c.f[dim[2]] .. '|' .. p .. '|'
      put(out, F_RETURNS, base .. 'cases', 1)
      put(out, F_RETURNS, base .. 'persons', c.n)
    end
  end
  if c.risk > 0 then put(out, F_VULN, p .. '|risk:' .. RISKS[c.risk], 1) end
  derive_durations(c, out, p)
  derive_detention(c, out, p)
  return out
end

-- Call before changing anything derive() reads: remembers the case's
-- contribution as it was when the batch first touched it.
local function touch(c)
  if not c.before then c.before = derive(c) end
end

local function settle_derived(c)
  if not c.before then return end
  local after = derive(c)
  for family = 1, NFAMILIES do
    local b, a = c.before[family] or {}, after[family] or {}
    for field, v in pairs(a) do add(family, field, v - (b[field] or 0)) end
    for field, v in pairs(b) do
      if a[field] == nil then add(family, field, -v) end
    end
  end
end

-- ---- counted services ------------------------------------------------------

-- Adds d to a per-event counter of a case (services delivered, monitoring
-- scores): at once when the case is registered, else kept on the case as
-- q|<family>|<rest> until its registration flushes it.
local function emit(c, family, rest, d)
  if d == 0 then return end
  if c.f.prog then
    local prefix = c.f.prog .. '|'
    if family == F_MONITOR then prefix = prefix .. c.f.org .. '|' end
    add(family, prefix .. rest, d)
  else
    local field = 'q|' .. family .. '|' .. rest
    set(c, field, int(tonumber(c.f[field] or '0') + d))
  end
end

local function flush_pending(c)
  for field, v in pairs(c.f) do
    local family, rest = field:match('^q|(%d+)|(.+)$')
    if family then
      unset(c, field)
      emit(c, tonumber(family), rest, tonumber(v))
    end
  end
end

-- ---- notifications -----------------------------------------------------------

-- The event_id of event ev (ARGV[8]).
local function event_id_of(ev)
  return EVENT_IDS[ev]
end

-- Queues a notification about case c caused by event ev; fields are added
-- to the body {case_id, programme, event_id, occurred_at}. cause, when
-- given, is {event_id, occurred_at} of an earlier event that the
-- notification is about (a stage entered before the registration).
local function note(c, ev, topic, fields, cause)
  local body = fields or {}
  body.case_id = c.id
  body.programme = c.f.prog
  body.event_id = cause and cause[1] or event_id_of(ev)
  body.occurred_at = cause and cause[2] or TIMES_OF[ev]
  notes[#notes + 1] = { topic, body }
end

local function write_notes()
  for _, n in ipairs(notes) do
    redis.call('XADD', KEYS[K_OUTBOX], '*', 'topic', n[1], 'body', cmsgpack.pack(n[2]))
  end
end

-- ---- overdue deadlines -------------------------------------------------------

-- The earliest open detention's start (detentions beyond their releases).
local function open_detention_since(c)
  local since
  for field in pairs(c.f) do
    local country = field:match('^d|(.+)$')
    if country then
      local d, r = sorted_times(c.f[field]), sorted_times(c.f['r|' .. country])
      if #d > #r and (not since or d[#r + 1] < since) then since = d[#r + 1] end
    end
  end
  return since
end

-- When each of the case's limits falls due now, from its state: a limit
-- runs while the case is registered, open and still in that stage (a case
-- that departed is no longer held in detention).
local function due_of(c)
  local out, lim = {}, RULES.overdue or {}
  if not c.f.prog or has_bit(c.bits, ST_CLOSED) then return out end
  if lim.registered_departed and c.rt and not c.dt then
    out.registered_departed = c.rt + lim.registered_departed
  end
  if lim.arrived_reintegrating and c.at and not c.it then
    out.arrived_reintegrating = c.at + lim.arrived_reintegrating
  end
  local since = lim.detained and not c.dt and open_detention_since(c)
  if since then out.detained = since + lim.detained end
  return out
end

-- Keeps the shard's deadline set in line with the case: u|<limit> holds
-- the deadline in the set; o|<limit> marks a limit that fired (once only).
local function sync_due(c)
  local want = due_of(c)
  for _, limit in ipairs(LIMITS) do
    local due = not c.f['o|' .. limit] and want[limit] and int(want[limit]) or nil
    if due ~= c.f['u|' .. limit] then
      local member = c.id .. '|' .. limit
      if due then
        redis.call('ZADD', KEYS[K_DUE], due, member)
        set(c, 'u|' .. limit, due)
      else
        redis.call('ZREM', KEYS[K_DUE], member)
        unset(c, 'u|' .. limit)
      end
    end
  end
end
