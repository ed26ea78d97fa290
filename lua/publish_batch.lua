-- publish_batch.lua: the broker's outbox reader calls this once per batch it
-- has handed over (docs/notifications.md, "Milestones" and "Late joiners").
-- In one atomic call it saves where the reader has got to in every outbox,
-- adds the batch's returns (its case.<programme>.arrived notifications) to
-- each programme's totals, announces the marks they reach, and keeps the
-- state a late subscriber's snapshot gives: figures per programme and stage,
-- the open overdue alerts, the last milestone per programme. So the state
-- is always exactly that of the notifications up to the saved cursors, and
-- a reader that dies and reads a batch again counts it once.
--
-- KEYS, in the order of cf_keys_pub_t (PUB_* in the prelude the store puts
-- before this file, cf_store_script.c):
-- KEYS[PUB_CURSOR]   cf:{pub}:cursor    hash: shard (s0..s7, pub) -> last entry read
-- KEYS[PUB_RETURNS]  cf:{pub}:returns   hash: <programme>|cases, <programme>|persons
-- KEYS[PUB_MARKS]    cf:{pub}:marks     hash: <programme>|<kind>|<mark> -> 1 when announced
-- KEYS[PUB_OUTBOX]   cf:{pub}:outbox    the milestone notifications
-- KEYS[PUB_FIGURES]  cf:{pub}:figures   hash: <programme>|<stage>|cases, ...|persons (entered)
-- KEYS[PUB_OPEN]     cf:{pub}:open      hash: <case_id>|<limit> -> the alert's body
-- KEYS[PUB_LAST]     cf:{pub}:last      hash: <programme> -> its last milestone's body
-- ARGV[1]  msgpack map of the cursors to save, {field: entry id}
-- ARGV[2]  msgpack map of the batch's returns, {programme: [cases, persons]}
-- ARGV[3]  the packed rules (cf_rules_pack): milestones {programme or *: [[mark, kind]...]}
-- ARGV[4]  msgpack map {figures: [["<programme>|<stage>", cases, persons]...],
--          alerts: [["o", "<case_id>|<limit>", body] or ["c", "<case_id>|<limit>"]...]},
--          the alerts opened and closed in the order they were published, so that
--          the open set is what a subscriber who saw them all would hold
-- Returns  how many milestones it announced

local ok1, cursors = pcall(cmsgpack.unpack, ARGV[1] or '')
local ok2, returns = pcall(cmsgpack.unpack, ARGV[2] or '')
local ok3, rules = pcall(cmsgpack.unpack, ARGV[3] or '')
local ok4, state = pcall(cmsgpack.unpack, ARGV[4] or '')
if not (ok1 and ok2 and ok3 and ok4) or type(cursors) ~= 'table' or type(returns) ~= 'table'
    or type(rules) ~= 'table' or type(state) ~= 'table' then
  return redis.error_reply('ERR publish_batch: ARGV[1..4] must be msgpack maps')
end

for field, id in pairs(cursors) do redis.call('HSET', KEYS[PUB_CURSOR], field, id) end
local sums = {}
for _, f in ipairs(state.figures or {}) do
  local s = sums[f[1]] or { 0, 0 }
  s[1], s[2] = s[1] + f[2], s[2] + f[3]
  sums[f[1]] = s
end
for field, s in pairs(sums) do
  redis.call('HINCRBY', KEYS[PUB_FIGURES], field .. '|cases', s[1])
  redis.call('HINCRBY', KEYS[PUB_FIGURES], field .. '|persons', s[2])
end
-- The alerts' last word per field wins (they come in the order they were
-- published), and one HSET and one HDEL write them: a stage notification
-- closes its case's alerts, so there is about one close per event, and a
-- call from Lua costs Redis several times the command itself.
local last, order = {}, {}
for _, op in ipairs(state.alerts or {}) do
  if last[op[2]] == nil then order[#order + 1] = op[2] end
  last[op[2]] = op[1] == 'o' and op[3] or false
end
local opened, closed = {}, {}
for _, field in ipairs(order) do
  if last[field] then
    opened[#opened + 1] = field
    opened[#opened + 1] = last[field]
  else
    closed[#closed + 1] = field
  end
  if #opened >= 512 then redis.call('HSET', KEYS[PUB_OPEN], unpack(opened)); opened = {} end
  if #closed >= 512 then redis.call('HDEL', KEYS[PUB_OPEN], unpack(closed)); closed = {} end
end
if #opened > 0 then redis.call('HSET', KEYS[PUB_OPEN], unpack(opened)) end
if #closed > 0 then redis.call('HDEL', KEYS[PUB_OPEN], unpack(closed)) end

local marks_of = rules.milestones or {}
local announced = 0
for programme, delta in pairs(returns) do
  local totals = {}
  for i, kind in ipairs({ 'cases', 'persons' }) do
    local field = programme .. '|' .. kind
    local before = tonumber(redis.call('HGET', KEYS[PUB_RETURNS], field) or '0')
    totals[kind] = { before, before + delta[i] }
    if delta[i] ~= 0 then redis.call('HINCRBY', KEYS[PUB_RETURNS], field, delta[i]) end
  end
  for _, mark in ipairs(marks_of[programme] or marks_of['*'] or {}) do
    local value, kind = mark[1], mark[2]
    local t = totals[kind]
    local flag = programme .. '|' .. kind .. '|' .. value
    if t and t[1] < value and t[2] >= value
        and redis.call('HSETNX', KEYS[PUB_MARKS], flag, '1') == 1 then
      local body = cmsgpack.pack({ programme = programme, mark = value, kind = kind,
                                   returned_cases = totals.cases[2],
                                   returned_persons = totals.persons[2] })
      redis.call('XADD', KEYS[PUB_OUTBOX], '*', 'topic', 'milestone.' .. programme, 'body', body)
      redis.call('HSET', KEYS[PUB_LAST], programme, body)
      announced = announced + 1
    end
  end
end
return announced
