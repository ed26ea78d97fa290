-- apply_input.lua: the first part of caseflow's apply script (the store loads
-- apply_input, apply_state, apply_events and apply_batch, in that order, as
-- one script: docs/storage.md). Here: the check of the whole input, done
-- before the first write because Redis does not roll a script back on error.
--
-- The codes, the key layout and the payload shapes are not kept here: the
-- store puts a prelude of Lua locals made from its C tables before this file
-- (cf_store_script.c; unit.cf_vocab checks that it names every entry and
-- that these files use no name it lacks):
--   STAGES, ST_<STAGE>, NSTAGES   the stages (codes from 0)
--   T_<TYPE>, NTYPES, CASE_TYPES  the cf_event_type_t codes (T_CASE_REGISTERED ...)
--   F_<FAMILY>, NFAMILIES         the families' KEYS indexes (F_STAGE ...)
--   K_OUTBOX, K_DUE, K_ROUTE_DAY, K_SPIKE, NFIXED, FIXED_TYPES   the other fixed KEYS
--   PAYLOAD     each type's element kinds after the 3-element header: 'string'
--               (non-empty), 'int' (an integer, -1 = absent), 'strings' (an
--               array of strings), 'pairs' (alternating string and integer
--               1..1000); docs/storage.md, "Script input", names each element
--   SERVICES    what each type counts in the services family (apply_events.lua)
--   RISKS, ALERT_RISK, LIMITS     risk levels 1..3, the flag of a high risk, the limits
--
-- KEYS[1..NFIXED]     cf:{sN}:<family> for the families, in F_* order, then
--                     cf:{sN}:outbox (notifications), :due (overdue deadlines),
--                     :route_day (flow counts per route and day), :spike (routes in a spike)
-- KEYS[NFIXED+2i-1]   cf:{sN}:eid:<g>:<bucket>, event i's dedupe bucket in the
--                     generation g = ARGV[9], i = 1..n
-- KEYS[NFIXED+2i]     cf:{sN}:eid:<g-1>:<bucket>, the same in the previous one
-- KEYS[NFIXED+1+2n..] cf:{sN}:case:<case_id>, each distinct case of the batch once
-- ARGV[1]         msgpack array of n events, each {type, stage, case_key, payload...}
-- ARGV[2]         seconds an event_id is remembered (dedupe window)
-- ARGV[3]         seconds a case's state is kept after it is closed
-- ARGV[4]         msgpack array of the n events' occurred_at (ms)
-- ARGV[5]         msgpack map of the notification rules (docs/notifications.md)
-- ARGV[6]         the tag of the request these events serve (a decimal
--                 1..2147483647, a digest of its id; may be empty): each dedupe
--                 marker holds it, so that a retry of the same request finds
--                 its own earlier writes (docs/reliability.md)
-- ARGV[7]         the n events' marker fields, 12 bytes each (cf_keys_eid_digest)
-- ARGV[8]         msgpack array of the n events' event_id
-- ARGV[9]         the generation KEYS were named for (decimal)

local function is_int(v, lo, hi)
  return type(v) == 'number' and v == math.floor(v) and v >= lo and v <= hi
end

local MAX_INT = 2 ^ 53

local function check_value(v, want)
  if want == 'int' then return is_int(v, -1, MAX_INT) end
  if want == 'strings' or want == 'pairs' then
    if type(v) ~= 'table' then return false end
    for j = 1, #v do
      local count = want == 'pairs' and j % 2 == 0
      if count and not is_int(v[j], 1, 1000) then return false end
      if not count and (type(v[j]) ~= 'string' or #v[j] == 0) then return false end
    end
    return want == 'strings' or #v % 2 == 0
  end
  return type(v) == want and #v > 0
end

local function check_event(ev, n)
  if type(ev) ~= 'table' then return 'not an array' end
  if not is_int(ev[1], 0, NTYPES - 1) then return 'bad type' end
  if not is_int(ev[2], -1, NSTAGES - 1) then return 'bad stage' end
  local is_case = CASE_TYPES[ev[1]]
  if is_case and not is_int(ev[3], NFIXED + 1 + 2 * n, #KEYS) then return 'bad case key' end
  if not is_case and ev[3] ~= 0 then return 'case key on a non-case event' end
  local shape = PAYLOAD[ev[1]]
  if #ev ~= 3 + #shape then return 'payload has ' .. (#ev - 3) .. ' elements' end
  for j, want in ipairs(shape) do
    if not check_value(ev[3 + j], want) then return 'payload element ' .. j end
  end
  if ev[1] == T_CASE_REGISTERED and not is_int(ev[5], 1, 1000) then return 'bad persons' end
  return nil
end

local function check_ttl(s)
  return type(s) == 'string' and s:match('^[1-9]%d*$') and tonumber(s) <= 2 ^ 31
end

local function check_input()
  local ok, events = pcall(cmsgpack.unpack, ARGV[1] or '')
  if not ok or type(events) ~= 'table' then return nil, 'ARGV[1] is not a msgpack array' end
  local n = #events
  if #KEYS < NFIXED + 2 * n then return nil, 'KEYS has no eid key for every event' end
  if not check_ttl(ARGV[2]) then return nil, 'ARGV[2] is not a ttl' end
  if not check_ttl(ARGV[3]) then return nil, 'ARGV[3] is not a ttl' end
  local ok_t, times = pcall(cmsgpack.unpack, ARGV[4] or '')
  if not ok_t or type(times) ~= 'table' or #times ~= n then
    return nil, 'ARGV[4] is not an array of one time per event'
  end
  for i = 1, n do
    if not is_int(times[i], -MAX_INT, MAX_INT) then return nil, 'ARGV[4]: time ' .. i end
    local why = check_event(events[i], n)
    if why then return nil, 'event ' .. i .. ': ' .. why end
  end
  local ok_r, rules = pcall(cmsgpack.unpack, ARGV[5] or '')
  if not ok_r or type(rules) ~= 'table' then return nil, 'ARGV[5] is not a msgpack map' end
  if type(ARGV[6]) ~= 'string' or #ARGV[6] > 10
     or not (ARGV[6] == '' or ARGV[6]:match('^[1-9]%d*$')) then
    return nil, 'ARGV[6] is not a request tag'
  end
  if type(ARGV[7]) ~= 'string' or #ARGV[7] ~= 12 * n then
    return nil, 'ARGV[7] is not one 12-byte digest per event'
  end
  local ok_i, ids = pcall(cmsgpack.unpack, ARGV[8] or '')
  if not ok_i or type(ids) ~= 'table' or #ids ~= n then
    return nil, 'ARGV[8] is not an array of one event_id per event'
  end
  for i = 1, n do
    if type(ids[i]) ~= 'string' or #ids[i] == 0 then return nil, 'ARGV[8]: event_id ' .. i end
  end
  if type(ARGV[9]) ~= 'string' or not ARGV[9]:match('^%d+$') then
    return nil, 'ARGV[9] is not a generation'
  end
  return events, times, rules, ids
end
