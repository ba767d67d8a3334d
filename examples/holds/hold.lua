-- One script so that the idempotency check, the stock decrement and the stream entry happen
-- atomically: no two requests can take the last unit, and a hold is never granted without its entry.
-- KEYS: stock:<sku>, hold-requests, holds stream.  ARGV: request key, new hold id, sku.
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then
  return {'ok', existing}
end
local stock = redis.call('GET', KEYS[1])
if not stock then
  return {'no-stock-key', ''}
end
if tonumber(stock) <= 0 then
  return {'out-of-stock', ''}
end
redis.call('DECR', KEYS[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('XADD', KEYS[3], '*', 'hold_id', ARGV[2], 'request_key', ARGV[1], 'sku', ARGV[3])
return {'ok', ARGV[2]}
