// Lua scripts of the Redis token store: each change happens atomically in Redis, and each script
// touches the keys of ONE hash slot, so that the store works on Redis Cluster (the tags below).
//
// Keys (prefix p, family f, client c):
//   p{f:<f>}                  hash: the family's live pair (at, rt hashes), its client (c), dead=1 once revoked
//   p{f:<f>}:at:<sha256>      access-token claims (JSON)
//   p{f:<f>}:rt:<sha256>      refresh record: claims and the hash of the access token issued with it
//   p{f:<f>}:used:<sha256>    a rotated refresh token, kept until it would have expired (reuse detection)
//   p{c:<c>}:gen              the client's cut-off generation
//   p{c:<c>}:fams             sorted set of the client's family ids, scored by expiry (ms)
// A family's keys share the tag {f:…}, so families (and with them the tokens) spread over every
// master; a client's index and generation share {c:…}. Scripts derive keys only inside their own
// tag (ARGV[1] is the family's key prefix), never across slots.

const KILL_FAMILY_FN = `
local function killFamily(family, famPrefix, tombstoneMs)
  local f = redis.call('HMGET', family, 'at', 'rt')
  if f[1] then redis.call('DEL', famPrefix .. 'at:' .. f[1]) end
  if f[2] and f[2] ~= '' then redis.call('DEL', famPrefix .. 'rt:' .. f[2]) end
  redis.call('HDEL', family, 'at', 'rt')
  redis.call('HSET', family, 'dead', '1')
  if redis.call('PTTL', family) < tonumber(tombstoneMs) then redis.call('PEXPIRE', family, tombstoneMs) end
end
`;

/**
 * KEYS: family, at, rt (the at key again when there is no refresh token).
 * ARGV: atValue, atExpMs, rtValue|'', rtExpMs, atHash, rtHash|'', clientId.
 * Returns 0 when the family is dead (nothing written), 1 when saved.
 */
export const SAVE_PAIR = `
if redis.call('HEXISTS', KEYS[1], 'dead') == 1 then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'PXAT', ARGV[2])
local famExp = ARGV[2]
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[3], ARGV[3], 'PXAT', ARGV[4])
  famExp = ARGV[4]
end
redis.call('HSET', KEYS[1], 'at', ARGV[5], 'rt', ARGV[6], 'c', ARGV[7])
redis.call('PEXPIREAT', KEYS[1], famExp)
return 1
`;

/**
 * KEYS: client gen, client fams. ARGV: familyId, familyExpMs, nowMs.
 * Indexes the family under its client and answers the client's generation.
 */
export const INDEX_FAMILY = `
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], last[2])
return redis.call('GET', KEYS[1]) or '0'
`;

/** KEYS: client gen, client fams. Bumps the generation and answers the client's family ids. */
export const CUT_OFF = `
redis.call('INCR', KEYS[1])
return redis.call('ZRANGE', KEYS[2], 0, -1)
`;

/** KEYS: family. ARGV: family key prefix, tombstoneMs. */
export const REVOKE_FAMILY = `${KILL_FAMILY_FN}
killFamily(KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/**
 * KEYS: rt, used, family. ARGV: family key prefix, tombstoneMs.
 * Returns {'consumed', record} | {'reused'} | {'unknown'}.
 */
export const CONSUME_REFRESH = `${KILL_FAMILY_FN}
local v = redis.call('GET', KEYS[1])
if v then
  local stored = cjson.decode(v)
  local ttl = redis.call('PTTL', KEYS[1])
  redis.call('DEL', KEYS[1], ARGV[1] .. 'at:' .. stored.a)
  if ttl > 0 then redis.call('SET', KEYS[2], '1', 'PX', ttl) end
  return {'consumed', v}
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  killFamily(KEYS[3], ARGV[1], ARGV[2])
  return {'reused'}
end
return {'unknown'}
`;

/**
 * KEYS: rt, used, family. ARGV: family key prefix, tombstoneMs, clientId.
 * RFC 7009 revocation of a refresh token, live or already rotated: the whole family dies.
 */
export const REVOKE_REFRESH = `${KILL_FAMILY_FN}
if redis.call('EXISTS', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[2]) == 0 then return 'unknown' end
local owner = redis.call('HGET', KEYS[3], 'c')
if not owner then return 'unknown' end
if owner ~= ARGV[3] then return 'other_client' end
killFamily(KEYS[3], ARGV[1], ARGV[2])
return 'revoked'
`;
