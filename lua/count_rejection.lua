-- count_rejection.lua: counts one rejected event in the quality report
-- (docs/storage.md, "Counter fields", quality), once. A producer that sends
-- the same bad event again, or a job run again after a Redis failure or a
-- lost worker, finds it counted already: the marker key says so for as long as
-- duplicate events are recognised (--eid-ttl). An event without a usable
-- event_id has no marker and is counted each time it is rejected.
--
-- KEYS[1]      cf:{sN}:quality
-- KEYS[2]      cf:{sN}:rej:<event_id>|<field>, when the event has an id
-- ARGV[1]      the counter, rejected|<field>
-- ARGV[2]      seconds the marker is kept
-- Returns      1 when counted now, 0 when it was counted before

if KEYS[2] and not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
  return 0
end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
return 1
