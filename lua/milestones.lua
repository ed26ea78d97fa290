-- milestones.lua: the broker's outbox reader calls this once per batch it
-- has handed over (docs/notifications.md, "Milestones"). It saves where the
-- reader has got to in every shard's outbox and adds the batch's returns
-- (its case.<programme>.arrived notifications) to each programme's totals,
-- in one atomic call, so that a reader that dies and reads the batch again
-- counts it once. A total that reaches a mark of the rules for the first
-- time appends milestone.<programme> to the milestone outbox, once.
--
-- KEYS[1]  cf:{pub}:cursor    hash: shard (s0..s7, pub) -> last entry read
-- KEYS[2]  cf:{pub}:returns   hash: <programme>|cases, <programme>|persons
-- KEYS[3]  cf:{pub}:marks     hash: <programme>|<kind>|<mark> -> 1 when announced
-- KEYS[4]  cf:{pub}:outbox    the milestone notifications
-- ARGV[1]  msgpack map of the cursors to save, {field: entry id}
-- ARGV[2]  msgpack map of the batch's returns, {programme: [cases, persons]}
-- ARGV[3]  the packed rules (cf_rules_pack): milestones {programme or *: [[mark, kind]...]}
-- Returns  how many milestones it announced

local ok1, cursors = pcall(cmsgpack.unpack, ARGV[1] or '')
local ok2, returns = pcall(cmsgpack.unpack, ARGV[2] or '')
local ok3, rules = pcall(cmsgpack.unpack, ARGV[3] or '')
if not (ok1 and ok2 and ok3) or type(cursors) ~= 'table' or type(returns) ~= 'table'
    or type(rules) ~= 'table' then
  return redis.error_reply('ERR milestones: ARGV[1..3] must be msgpack maps')
end

for field, id in pairs(cursors) do redis.call('HSET', KEYS[1], field, id) end

local marks_of = rules.milestones or {}
local announced = 0
for programme, delta in pairs(returns) do
  local totals = {}
  for i, kind in ipairs({ 'cases', 'persons' }) do
    local field = programme .. '|' .. kind
    local before = tonumber(redis.call('HGET', KEYS[2], field) or '0')
    totals[kind] = { before, before + delta[i] }
    if delta[i] ~= 0 then redis.call('HINCRBY', KEYS[2], field, delta[i]) end
  end
  for _, mark in ipairs(marks_of[programme] or marks_of['*'] or {}) do
    local value, kind = mark[1], mark[2]
    local t = totals[kind]
    local flag = programme .. '|' .. kind .. '|' .. value
    if t and t[1] < value and t[2] >= value and redis.call('HSETNX', KEYS[3], flag, '1') == 1 then
      redis.call('XADD', KEYS[4], '*', 'topic', 'milestone.' .. programme, 'body',
                 cmsgpack.pack({ programme = programme, mark = value, kind = kind,
                                 returned_cases = totals.cases[2],
                                 returned_persons = totals.persons[2] }))
      announced = announced + 1
    end
  end
end
return announced
