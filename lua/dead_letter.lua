-- dead_letter.lua: sets one poison event aside in the dead-letter stream
-- (docs/reliability.md, "Poison events"), once. Two workers that both run
-- a redelivered job event by event can both give up on the same event;
-- the marker, which holds the entry's id, makes the second find the first
-- one's entry instead of adding another. A replay (caseflow-ctl dlq
-- replay) deletes the entry and its marker together.
--
-- KEYS[1]      cf:{dlq}:dead:<event_id>
-- KEYS[2]      cf:{dlq}:stream
-- ARGV[1]      seconds the marker is kept
-- ARGV[2..]    the entry's fields and values
-- Returns      {id, 1} when added now, {id, 0} when the event was there

local id = redis.call('GET', KEYS[1])
if id then
  return { id, 0 }
end
id = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
redis.call('SET', KEYS[1], id, 'EX', ARGV[1])
return { id, 1 }
