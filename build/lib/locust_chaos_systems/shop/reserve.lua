-- Atomic reservation: idempotency check, stock check and decrement, stream append.
-- KEYS[1] stock key, KEYS[2] idempotency hash, KEYS[3] order stream
-- ARGV[1] idempotency key, ARGV[2] new order id, ARGV[3] product id, ARGV[4] user id,
-- ARGV[5] 'skip-idempotency-check' only for the racy-idempotency bug switch (the caller checked, racily)
if ARGV[5] ~= 'skip-idempotency-check' then
  local existing = redis.call('HGET', KEYS[2], ARGV[1])
  if existing then
    return {'ok', existing}
  end
end
local stock = redis.call('GET', KEYS[1])
if not stock then
  return {'no-sale', ''}
end
if tonumber(stock) <= 0 then
  return {'sold-out', ''}
end
redis.call('DECR', KEYS[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('XADD', KEYS[3], '*', 'order_id', ARGV[2], 'idempotency_key', ARGV[1],
           'product_id', ARGV[3], 'user_id', ARGV[4])
return {'ok', ARGV[2]}
