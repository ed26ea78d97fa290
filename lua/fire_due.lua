-- fire_due.lua: fires the overdue alerts of one shard whose time has come
-- (docs/notifications.md, "Overdue"). The apply script keeps each open
-- case's deadlines in the sorted set cf:{sN}:due (member <case_id>|<limit>,
-- score the deadline in ms); a worker's timer reads the members due by now
-- and calls this script with them. Each member is checked again here and
-- removed as it fires, so that however many workers run the timer, an
-- alert fires once; the case remembers it (o|<limit>) and never gets that
-- alert again.
--
-- KEYS[1]      cf:{sN}:due
-- KEYS[2]      cf:{sN}:outbox
-- KEYS[2+i]    cf:{sN}:case:<case_id> of candidate i
-- ARGV[1]      now, ms (the wall clock, or the clock an operator set)
-- ARGV[2..]    candidate i's member, <case_id>|<limit>
-- Returns      how many alerts fired
--
-- LIMIT_ALERT (limit -> the word of its alert's topic) comes from the
-- prelude the store puts before this file (cf_store_script.c).

local now = tonumber(ARGV[1])
if not now or #ARGV - 1 ~= #KEYS - 2 then
  return redis.error_reply('ERR fire_due: ARGV[1] is not a time, or candidates and keys differ')
end

local fired = 0
for i = 2, #ARGV do
  local member = ARGV[i]
  local case_id, limit = member:match('^(.+)|([%a_]+)$')
  local due = tonumber(redis.call('ZSCORE', KEYS[1], member) or 'x')
  if case_id and LIMIT_ALERT[limit] and due and due <= now then
    redis.call('ZREM', KEYS[1], member)
    local case_key = KEYS[2 + i - 1]
    local prog = redis.call('HGET', case_key, 'prog')
    redis.call('HSET', case_key, 'o|' .. limit, '1')
    redis.call('HDEL', case_key, 'u|' .. limit)
    local body = { case_id = case_id, programme = prog or nil, limit = limit,
                   stage = LIMIT_ALERT[limit], due = due, now = now,
                   overdue_days = math.floor((now - due) / 86400000) }
    redis.call('XADD', KEYS[2], '*', 'topic', 'alert.overdue.' .. LIMIT_ALERT[limit],
               'body', cmsgpack.pack(body))
    fired = fired + 1
  end
end
return fired
