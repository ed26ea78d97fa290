-- apply_events.lua: the third part of the apply script: what each event
-- type does to its case (stages, vulnerabilities, times, detention lists,
-- services) and to the non-case families (funding, flows). Per-type payload
-- elements e[4], e[5], ... are those of the type's row in
-- src/domain/cf_event_types.c (their kinds: PAYLOAD, in the prelude). The
-- services a type counts are table-driven too (SERVICES); a type that only
-- counts services needs no handler here.

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

-- ever totals and the notification of stage s, caused by event ev; a stage
-- entered before the registration is announced with the event that entered
-- it (kept as st|<s> and se|<s> until then), not with the registration
local function count_ever(c, s, ev)
  local t = stage_fields(c.f.prog, s)
  add(F_STAGE, t[3], 1)
  add(F_STAGE, t[4], c.n)
  local at, by = c.f['st|' .. s], c.f['se|' .. s]
  local cause = at and by and { by, tonumber(at) } or nil
  if at then unset(c, 'st|' .. s) end
  if by then unset(c, 'se|' .. s) end
  note(c, ev, 'case.' .. c.f.prog .. '.' .. STAGES[s], { stage = STAGES[s], persons = c.n }, cause)
end

-- alert.vulnerable.<flag> for a registered case, when the rules name the flag.
local function alert_vulnerable(c, ev, flag)
  for _, alerting in ipairs(RULES.vulnerable or {}) do
    if alerting == flag then
      note(c, ev, 'alert.vulnerable.' .. flag, { flag = flag })
      return
    end
  end
end

-- Adds the vulnerability flags the case has not seen; counted (and alerted)
-- when registered.
local function add_vulns(c, flags, ev)
  for _, flag in ipairs(flags) do
    if not c.f['v|' .. flag] then
      set(c, 'v|' .. flag, '1')
      if c.f.prog then
        add(F_VULN, c.f.prog .. '|' .. flag, 1)
        alert_vulnerable(c, ev, flag)
      end
    end
  end
end

-- A stage event: a stage seen before changes nothing; a new one is kept,
-- and counted (with its notification) once the case is registered.
local function enter_stage(c, s, ev)
  local bits = c.bits
  if has_bit(bits, s) then return end
  local current = highest(bits)
  c.bits = bits + BIT[s]
  c.dirty.bits = true
  if not c.f.prog then
    set(c, 'st|' .. s, int(TIMES_OF[ev]))
    set(c, 'se|' .. s, event_id_of(ev))
    return
  end
  count_ever(c, s, ev)
  if s > current then
    count_now(c, current, -1)
    count_now(c, s, 1)
  else
    add(F_QUALITY, 'out_of_order', 1)
  end
end

-- Keeps the earliest time of a kind (dt, at, it): what the durations and the
-- return's day are measured from, whatever order the events came in.
local function keep_earliest(c, name, t)
  if c[name] and c[name] <= t then return false end
  touch(c)
  c[name] = t
  set(c, name, int(t))
  return true
end

-- The registration makes the case known: every stage and service kept so far
-- is counted.
local function register(c, e, ev)
  if c.f.prog then
    add(F_QUALITY, 'repeat_registration', 1)
    return
  end
  touch(c)
  add_vulns(c, e[9], ev)      -- before prog is set: counted with the others below
  local p = e[4]
  c.n = e[5]
  set(c, 'prog', p); set(c, 'n', tostring(e[5]))
  set(c, 'org', e[6]); set(c, 'host', e[7]); set(c, 'route', e[8])
  c.rt = e[11]
  set(c, 'rt', int(e[11]))
  if not has_bit(c.bits, 0) then c.bits = c.bits + 1 end
  c.dirty.bits = true
  for s = 0, NSTAGES - 1 do
    if has_bit(c.bits, s) then count_ever(c, s, ev) end
  end
  count_now(c, highest(c.bits), 1)
  local demo = e[10]
  for j = 1, #demo, 2 do add(F_DEMO, p .. '|' .. demo[j], demo[j + 1]) end
  for field in pairs(c.f) do
    if field:sub(1, 2) == 'v|' then
      add(F_VULN, p .. '|' .. field:sub(3), 1)
      alert_vulnerable(c, ev, field:sub(3))
    end
  end
  if c.risk == 3 then alert_vulnerable(c, ev, ALERT_RISK) end
  flush_pending(c)
end

-- A service counted once per event, with its value (in cents) if any.
local function service(c, family, rest, currency, cents)
  emit(c, family, rest .. '|' .. currency .. '|' .. (family == F_REINT and 'services' or 'events'), 1)
  if currency ~= '-' then emit(c, family, rest .. '|' .. currency .. '|value', cents) end
end

local function append_time(c, field, t)
  touch(c)
  local list = c.f[field]
  set(c, field, list and (list .. ',' .. int(t)) or int(t))
end

-- alert.predeparture: a departure with no medical screening in the rules'
-- window before it (the screenings known when the departure is applied).
local function check_predeparture(c, ev, t)
  local window = RULES.predeparture_ms
  if not window then return end
  for v in string.gmatch(c.f.sm or '', '[^,]+') do
    local screened = tonumber(v)
    if screened <= t and screened >= t - window then return end
  end
  note(c, ev, 'alert.predeparture', { window_h = window / 3600000 })
end

-- The services the type's row lists (SERVICES: {kind, detail, detail2,
-- money, when} as positions in e, false when none): <kind>|<detail>[:<detail2>],
-- with the money's currency and cents, when e[when] is 1 if it names one.
local function count_services(c, e)
  local list = SERVICES[e[1]]
  if not list then return end
  for _, s in ipairs(list) do
    if not s[5] or e[s[5]] == 1 then
      local rest = s[1] .. '|' .. e[s[2]] .. (s[3] and ':' .. e[s[3]] or '')
      if s[4] then service(c, F_SERVICES, rest, e[s[4]], e[s[4] + 1])
      else service(c, F_SERVICES, rest, '-', 0) end
    end
  end
end

local HANDLERS = {
  [T_CASE_SCREENED] = function(c, e, ev)
    add_vulns(c, e[4], ev)
    if e[5] == 'medical' then
      set(c, 'sm', c.f.sm and (c.f.sm .. ',' .. int(e[8])) or int(e[8]))
    end
    if e[7] > c.risk then
      touch(c)
      c.risk = e[7]
      set(c, 'risk', tostring(e[7]))
      if e[7] == 3 and c.f.prog then alert_vulnerable(c, ev, ALERT_RISK) end
    end
  end,
  [T_CASE_DETAINED] = function(c, e) append_time(c, 'd|' .. e[4], e[5]) end,
  [T_CASE_RELEASED] = function(c, e) append_time(c, 'r|' .. e[4], e[5]) end,
  [T_CASE_DEPARTED] = function(c, e, ev)
    keep_earliest(c, 'dt', e[6])
    check_predeparture(c, ev, e[6])
  end,
  [T_CASE_ARRIVED] = function(c, e)
    if keep_earliest(c, 'at', e[5]) then set(c, 'ad', e[4]) end
  end,
  [T_CASE_REINTEGRATION] = function(c, e)
    service(c, F_REINT, e[4] .. '|' .. e[5], e[6], e[7])
    keep_earliest(c, 'it', e[8])
  end,
  [T_CASE_MONITORED] = function(c, e)
    emit(c, F_MONITOR, 'surveys', 1)
    emit(c, F_MONITOR, 'economic', e[4])
    emit(c, F_MONITOR, 'social', e[5])
    emit(c, F_MONITOR, 'psychosocial', e[6])
    if e[7] >= 0 then
      emit(c, F_MONITOR, 'composite', e[7])
      emit(c, F_MONITOR, 'composite_surveys', 1)
    end
  end,
}

local function apply_case(e, ev)
  local c = load_case(e[3])
  if e[1] == T_CASE_REGISTERED then return register(c, e, ev) end
  if not c.f.prog then add(F_QUALITY, 'before_registration', 1) end
  count_services(c, e)
  local handler = HANDLERS[e[1]]
  if handler then handler(c, e, ev) end
  if e[2] >= 0 then enter_stage(c, e[2], ev) end
end

-- funding.transaction: day, donor, project_id (both escaped), currency,
-- transaction type, cents.
local function apply_funding(e)
  local base = table.concat({ e[4], e[5], e[6], e[7], e[8] }, '|') .. '|'
  add(F_FUNDING, base .. 'transactions', 1)
  add(F_FUNDING, base .. 'value', e[9])
end

-- flow.observed: day, route, from, to, country, count, uasc, females, males
-- (-1 when not given), day number. The flows of one route meet in one shard
-- (cf_store_shard_of), so that its spike can be seen here.
local route_days = {}       -- route -> {latest day number, {day number -> count}}
local function apply_flow(e)
  local base = table.concat({ e[4], e[5], e[6], e[7], e[8] }, '|') .. '|'
  add(F_FLOWS, base .. 'count', e[9])
  if e[5] ~= '-' then
    local r = route_days[e[5]] or { 0, {} }
    route_days[e[5]] = r
    r[1] = math.max(r[1], e[13])
    r[2][e[13]] = (r[2][e[13]] or 0) + e[9]
  end
  if e[10] >= 0 then
    add(F_FLOWS, base .. 'uasc', e[10])
    add(F_FLOWS, base .. 'uasc_base', e[9])
  end
  if e[11] >= 0 then add(F_FLOWS, base .. 'females', e[11]) end
  if e[12] >= 0 then add(F_FLOWS, base .. 'males', e[12]) end
end

-- ---- spikes ---------------------------------------------------------------

-- Writes the batch's flow counts per route and day, then looks at each
-- route's latest day: alert.spike.<route> when its last 7 days exceed the
-- previous 28 days' daily mean x 7 x ratio with at least min_count, once
-- per spike (the route stays marked until the condition ends).
local function settle_spikes()
  for route, r in pairs(route_days) do
    for day, count in pairs(r[2]) do
      redis.call('HINCRBY', KEYS[K_ROUTE_DAY], route .. '|' .. int(day), count)
    end
    local rule = (RULES.spike or {})[route] or (RULES.spike or {})['*']
    local latest = math.max(r[1], tonumber(redis.call('HGET', KEYS[K_SPIKE], route .. '|day') or '0'))
    redis.call('HSET', KEYS[K_SPIKE], route .. '|day', int(latest))
    if rule then
      local fields = {}
      for d = latest - 34, latest do fields[#fields + 1] = route .. '|' .. int(d) end
      local counts = redis.call('HMGET', KEYS[K_ROUTE_DAY], unpack(fields))
      local last7, prev28 = 0, 0
      for j, v in ipairs(counts) do
        local n = tonumber(v or '0') or 0
        if j > 28 then last7 = last7 + n else prev28 = prev28 + n end
      end
      local spiking = last7 >= rule[2] and last7 > prev28 / 28 * 7 * rule[1]
      local marked = redis.call('HGET', KEYS[K_SPIKE], route)
      if spiking and not marked then
        redis.call('HSET', KEYS[K_SPIKE], route, '1')
        notes[#notes + 1] = { 'alert.spike.' .. route, { route = route, last_7_days = last7,
          previous_28_days = prev28, ratio = rule[1], min_count = rule[2],
          day = latest } }
      elseif not spiking and marked then
        redis.call('HDEL', KEYS[K_SPIKE], route)
      end
    end
  end
end
