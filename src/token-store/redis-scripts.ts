// Lua scripts of the Redis token store: each multi-key change happens atomically in Redis.
// Keys: `${prefix}at:<sha256>` access claims, `rt:<sha256>` refresh claims + access hash,
// `used:<sha256>` tombstone of a rotated refresh token (its family id), `fam:<id>` the family's
// live pair, `user:<id>` / `client:<id>` sorted sets of family ids scored by expiry.
// These scripts touch keys they derive from the prefix, so they need a single Redis (or Sentinel),
// not Redis Cluster.

const REVOKE_FAMILY_FN = `
local function revokeFamily(prefix, fam)
  local f = redis.call('HMGET', prefix .. 'fam:' .. fam, 'at', 'rt', 'u', 'c')
  if f[1] then redis.call('DEL', prefix .. 'at:' .. f[1]) end
  if f[2] and f[2] ~= '' then redis.call('DEL', prefix .. 'rt:' .. f[2]) end
  if f[3] then redis.call('ZREM', prefix .. 'user:' .. f[3], fam) end
  if f[4] then redis.call('ZREM', prefix .. 'client:' .. f[4], fam) end
  redis.call('DEL', prefix .. 'fam:' .. fam)
end
`;

/** KEYS: at, rt|'', fam, userIndex, clientIndex. ARGV: atValue, atExpMs, rtValue|'', rtExpMs, atHash, rtHash|'', familyId, nowMs, userId, clientId */
export const SAVE_PAIR = `
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
local famExp = ARGV[2]
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[2], ARGV[3], 'PXAT', ARGV[4])
  famExp = ARGV[4]
end
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], 'at', ARGV[5], 'rt', ARGV[6], 'u', ARGV[9], 'c', ARGV[10])
redis.call('PEXPIREAT', KEYS[3], famExp)
for i = 4, 5 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[8])
  redis.call('ZADD', KEYS[i], famExp, ARGV[7])
  local last = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', KEYS[i], last[2])
end
return 1
`;

/** KEYS: rt, used. ARGV: prefix. Returns {'consumed', value} | {'reused', familyId} | {'unknown'}. */
export const CONSUME_REFRESH = `${REVOKE_FAMILY_FN}
local v = redis.call('GET', KEYS[1])
if v then
  local stored = cjson.decode(v)
  local ttl = redis.call('PTTL', KEYS[1])
  redis.call('DEL', KEYS[1], ARGV[1] .. 'at:' .. stored.a)
  if ttl > 0 then redis.call('SET', KEYS[2], stored.c.familyId, 'PX', ttl) end
  return {'consumed', v}
end
local fam = redis.call('GET', KEYS[2])
if fam then
  revokeFamily(ARGV[1], fam)
  return {'reused', fam}
end
return {'unknown'}
`;

/** KEYS: rt. ARGV: prefix. Deletes the refresh token and the access token issued with it. */
export const REVOKE_REFRESH = `
local v = redis.call('GET', KEYS[1])
if not v then return false end
local stored = cjson.decode(v)
redis.call('DEL', KEYS[1], ARGV[1] .. 'at:' .. stored.a)
return v
`;

/** ARGV: prefix, familyId. */
export const REVOKE_FAMILY = `${REVOKE_FAMILY_FN}
revokeFamily(ARGV[1], ARGV[2])
return 1
`;

/** KEYS: index. ARGV: prefix. Returns the number of families revoked. */
export const REVOKE_INDEX = `${REVOKE_FAMILY_FN}
local fams = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, fam in ipairs(fams) do revokeFamily(ARGV[1], fam) end
redis.call('DEL', KEYS[1])
return #fams
`;
