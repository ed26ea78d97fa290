-- apply_events.lua: the third part of the apply script: what each event
-- type does to its case (stages, vulnerabilities, times, detention lists,
-- services) and to the non-case families (funding, flows). Per-type payload
-- elements e[4], e[5], ... are listed in PAYLOAD (apply_input.lua).

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

-- Adds the vulnerability flags the case has not seen; counted when registered.
local function add_vulns(c, flags)
  for _, flag in ipairs(flags) do
    if not c.f['v|' .. flag] then
      set(c, 'v|' .. flag, '1')
      if c.f.prog then add(F_VULN, c.f.prog .. '|' .. flag, 1) end
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
  if not c.f.prog then return end
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
  add_vulns(c, e[9])          -- before prog is set: counted with the others below
  local p = e[4]
  c.n = e[5]
  set(c, 'prog', p); set(c, 'n', tostring(e[5]))
  set(c, 'org', e[6]); set(c, 'host', e[7]); set(c, 'route', e[8])
  c.rt = e[11]
  set(c, 'rt', int(e[11]))
  if not has_bit(c.bits, 0) then c.bits = c.bits + 1 end
  c.dirty.bits = true
  for s = 0, ST_LAST do
    if has_bit(c.bits, s) then count_ever(c, s, ev) end
  end
  count_now(c, highest(c.bits), 1)
  local demo = e[10]
  for j = 1, #demo, 2 do add(F_DEMO, p .. '|' .. demo[j], demo[j + 1]) end
  for field in pairs(c.f) do
    if field:sub(1, 2) == 'v|' then add(F_VULN, p .. '|' .. field:sub(3), 1) end
  end
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

local HANDLERS = {
  [T_SCREENED] = function(c, e)
    add_vulns(c, e[4])
    service(c, F_SERVICES, 'screening|' .. e[5] .. ':' .. e[6], '-', 0)
    if e[7] > c.risk then
      touch(c)
      c.risk = e[7]
      set(c, 'risk', tostring(e[7]))
    end
  end,
  [T_ASSISTED] = function(c, e) service(c, F_SERVICES, 'assistance|' .. e[4], e[5], e[6]) end,
  [T_DETAINED] = function(c, e) append_time(c, 'd|' .. e[4], e[5]) end,
  [T_RELEASED] = function(c, e) append_time(c, 'r|' .. e[4], e[5]) end,
  [T_DEPARTED] = function(c, e)
    service(c, F_SERVICES, 'departure|' .. e[4], '-', 0)
    if e[5] == 1 then service(c, F_SERVICES, 'escort|' .. e[4], '-', 0) end
    keep_earliest(c, 'dt', e[6])
  end,
  [T_ARRIVED] = function(c, e)
    if keep_earliest(c, 'at', e[5]) then set(c, 'ad', e[4]) end
  end,
  [T_REINTEGRATION] = function(c, e)
    service(c, F_REINT, e[4] .. '|' .. e[5], e[6], e[7])
    keep_earliest(c, 'it', e[8])
  end,
  [T_MONITORED] = function(c, e)
    emit(c, F_MONITOR, 'surveys', 1)
    emit(c, F_MONITOR, 'economic', e[4])
    emit(c, F_MONITOR, 'social', e[5])
    emit(c, F_MONITOR, 'psychosocial', e[6])
    if e[7] >= 0 then
      emit(c, F_MONITOR, 'composite', e[7])
      emit(c, F_MONITOR, 'composite_surveys', 1)
    end
  end,
  [T_REUNIFIED] = function(c, e) service(c, F_SERVICES, 'reunification|' .. e[4], '-', 0) end,
  [T_CLOSED] = function(c, e) service(c, F_SERVICES, 'closure|' .. e[4], '-', 0) end,
}

local function apply_case(e, ev)
  local c = load_case(e[3])
  if e[1] == T_REGISTERED then return register(c, e, ev) end
  if not c.f.prog then add(F_QUALITY, 'before_registration', 1) end
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
-- (-1 when not given).
local function apply_flow(e)
  local base = table.concat({ e[4], e[5], e[6], e[7], e[8] }, '|') .. '|'
  add(F_FLOWS, base .. 'count', e[9])
  if e[10] >= 0 then
    add(F_FLOWS, base .. 'uasc', e[10])
    add(F_FLOWS, base .. 'uasc_base', e[9])
  end
  if e[11] >= 0 then add(F_FLOWS, base .. 'females', e[11]) end
  if e[12] >= 0 then add(F_FLOWS, base .. 'males', e[12]) end
end
