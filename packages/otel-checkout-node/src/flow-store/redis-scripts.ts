/**
 * Lua scripts of the Redis flow store. Each runs atomically on the server, which is what makes
 * take/claim/ack safe with several processes. Keys (all under one prefix with a hash tag, so
 * they share a cluster slot): `<p>f:<tradeNo>` live flow (hash r=record, s=span id, c=claims,
 * w=the wait it was given, ms, e=its stalled span was exported, p=the provider's status in the
 * last notification that kept it waiting, t=callbacks that came while it was claimed), `<p>t:<tradeNo>` tombstone
 * (hash r, t=1 once a callback took it, l=stalled; or, for a take of an unknown trade number,
 * o=when, t, and no r), `<p>s:<spanId>` the span index (hash n=the trade number of the flow of
 * that `payment.create` span, live or in its tombstone, with the same expiry; or, for a take by
 * span of an unknown flow, o=when, t=takes, i=its trace id, and no n), `<p>due` sorted set of
 * trade numbers by the time they next become claimable, `<p>marker` a random value without TTL,
 * by which the store notices that Redis lost its data (see redis-setup-check.ts).
 *
 * The scripts that find a flow by its span read keys they build from the prefix (as CLAIM and
 * ACK do): they share the slot of the keys they are given through the hash tag.
 */

/**
 * Lua functions the take and keep-waiting scripts share. `takeFlow` and `keepFlowWaiting` act
 * on the flow held under one trade number (fk its live key, tk its tombstone) and return the
 * reply, or nil when no flow is held there; given `spanId` and `traceId`, they act only on a
 * record with both ids, and return nil for any other (a token never ends another flow).
 */
const FLOW_FUNCTIONS = `
local function isFlow(json, spanId, traceId)
  if not spanId then return true end
  local ok, record = pcall(cjson.decode, json)
  return ok and type(record) == 'table' and record.spanId == spanId and record.traceId == traceId
end

local function takeFlow(fk, due, tk, tradeNo, retention, prefix, spanId, traceId)
  local f = redis.call('HMGET', fk, 'r', 'c', 'e', 's')
  if f[1] then
    if not isFlow(f[1], spanId, traceId) then return nil end
    if (tonumber(f[2]) or 0) > 0 and not f[3] then
      -- Claimed, its stalled span not exported yet: the callback is late (left out of the counts),
      -- so the flow stays for its claimer to ack, or, if that claimer died before its export, for
      -- the next claim once the lease lapses. Taken away here, the flow would be counted nowhere.
      local before = redis.call('HINCRBY', fk, 't', 1) - 1
      local duplicate = 0
      if before > 0 then duplicate = 1 end
      return {1, f[1], duplicate, 1}
    end
    redis.call('DEL', fk)
    redis.call('ZREM', due, tradeNo)
    local late = 0
    if (tonumber(f[2]) or 0) > 0 then late = 1 end
    redis.call('HSET', tk, 'r', f[1], 't', 1, 'l', late)
    redis.call('PEXPIRE', tk, retention)
    -- The span index lives as long as the tombstone.
    if f[4] then redis.call('PEXPIRE', prefix .. 's:' .. f[4], retention) end
    return {1, f[1], 0, late}
  end
  local t = redis.call('HMGET', tk, 'r', 't', 'l')
  if t[1] then
    if not isFlow(t[1], spanId, traceId) then return nil end
    -- Written only when no callback took it yet: a provider's retries then write nothing, so
    -- Redis answers them even when it is out of memory and refuses writes.
    local duplicate = 0
    if (tonumber(t[2]) or 0) > 0 then duplicate = 1 else redis.call('HSET', tk, 't', 1) end
    return {2, t[1], duplicate, tonumber(t[3]) or 0}
  end
  return nil
end

local function keepFlowWaiting(fk, due, tk, tradeNo, now, retention, lastStatus, prefix, spanId, traceId)
  local f = redis.call('HMGET', fk, 'r', 'c', 'w', 't', 's')
  if f[1] then
    if not isFlow(f[1], spanId, traceId) then return nil end
    if (tonumber(f[2]) or 0) > 0 then
      local duplicate = 0
      if (tonumber(f[4]) or 0) > 0 then duplicate = 1 end
      return {3, f[1], duplicate, 1}
    end
    if lastStatus ~= '' then redis.call('HSET', fk, 'p', lastStatus) end
    local wait = tonumber(f[3])
    -- A flow written without its wait (by an older version) keeps the deadline it has.
    if wait then
      redis.call('ZADD', due, tonumber(now) + wait, tradeNo)
      local ttl = math.ceil(wait + tonumber(retention))
      redis.call('PEXPIRE', fk, ttl)
      if f[5] then redis.call('PEXPIRE', prefix .. 's:' .. f[5], ttl) end
    end
    return {1, f[1], 0, 0}
  end
  local t = redis.call('HMGET', tk, 'r', 't', 'l')
  if t[1] then
    if not isFlow(t[1], spanId, traceId) then return nil end
    local duplicate = 0
    if (tonumber(t[2]) or 0) > 0 then duplicate = 1 end
    return {2, t[1], duplicate, tonumber(t[3]) or 0}
  end
  return nil
end
`;

/**
 * KEYS: flow, due, tomb, span index. ARGV: record, spanId, deadline, ttlMs, tradeNo, waitMs,
 * issuedAt, retentionMs, traceId, prefix. Returns 0 (the same flow was there), 1 (recorded live)
 * or 2 (a take came first: recorded as taken).
 */
export const PUT_SCRIPT = `
local held = redis.call('HGET', KEYS[1], 's')
if held == ARGV[2] then return 0 end
local o = redis.call('HMGET', KEYS[3], 'o', 't')
local so = redis.call('HMGET', KEYS[4], 'o', 't', 'i')
local takes = 0
-- A take in the millisecond the flow was issued came after it (nothing can be called back before
-- its URL exists): with '>' such a flow waited for the callback that came, and was reported stalled.
if o[1] and tonumber(o[1]) >= tonumber(ARGV[7]) then takes = tonumber(o[2]) or 1 end
-- A take by the flow's own span (its token, no trade number) is its callback, whenever it was issued.
if so[1] and so[3] == ARGV[9] then takes = takes + (tonumber(so[2]) or 1) end
-- The first write of either branch is an HSET, which Redis refuses when it is out of memory
-- (maxmemory under noeviction): it checks only a script's first write, and lets every later one
-- through. Led by a DEL, which it never refuses, a full Redis took new flows without bound.
local ttl = ARGV[4]
if takes > 0 then
  redis.call('HSET', KEYS[3], 'r', ARGV[1], 't', takes, 'l', 0)
  redis.call('HDEL', KEYS[3], 'o')
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[5])
  redis.call('PEXPIRE', KEYS[3], ARGV[8])
  ttl = ARGV[8]
else
  -- A new flow for the trade number starts clean: no tombstone, no claims, no export of the one
  -- it replaces (every field the flow's hash can hold is written or removed).
  redis.call('HSET', KEYS[1], 'r', ARGV[1], 's', ARGV[2], 'c', 0, 'w', ARGV[6])
  redis.call('HDEL', KEYS[1], 'e', 'p', 't')
  redis.call('DEL', KEYS[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])
end
-- The flow's span index, with the expiry of what holds the flow (its live key or its tombstone).
redis.call('DEL', KEYS[4])
redis.call('HSET', KEYS[4], 'n', ARGV[5])
redis.call('PEXPIRE', KEYS[4], ttl)
-- The flow it replaces is gone, and so is its index (one a tombstone replaced keeps its own
-- expiry: the scripts that read it find another flow under the trade number, and leave it).
if held then
  local heldIndex = ARGV[10] .. 's:' .. held
  if redis.call('HGET', heldIndex, 'n') == ARGV[5] then redis.call('DEL', heldIndex) end
end
if takes > 0 then return 2 end
return 1`;

/**
 * KEYS: flow, due, tomb. ARGV: tradeNo, retentionMs, now, orphanMs, prefix. Returns {state,
 * record, duplicate, late}; state 0 (unknown: the take is remembered for orphanMs; record '',
 * duplicate when an earlier take of it is remembered), 1 (taken), 2 (tombstone).
 */
export const TAKE_SCRIPT = `${FLOW_FUNCTIONS}
local taken = takeFlow(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[5])
if taken then return taken end
-- A second take before the write landed is a retry of the first notification: a duplicate, or
-- two copies arriving at once would both count as the flow's end.
local before = redis.call('HINCRBY', KEYS[3], 't', 1) - 1
redis.call('HSET', KEYS[3], 'o', ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
local duplicate = 0
if before > 0 then duplicate = 1 end
return {0, '', duplicate, 0}`;

/**
 * KEYS: span index, due. ARGV: spanId, traceId, retentionMs, now, orphanMs, prefix. `take` of
 * the flow of that span, found through the span index and checked against its record (both ids).
 * Returns as TAKE; for a span it has no index of, the take is remembered on the span's key for
 * orphanMs (a put of that flow landing after it records the flow as taken).
 */
export const TAKE_BY_SPAN_SCRIPT = `${FLOW_FUNCTIONS}
local n = redis.call('HGET', KEYS[1], 'n')
if n then
  local taken = takeFlow(ARGV[6] .. 'f:' .. n, KEYS[2], ARGV[6] .. 't:' .. n, n, ARGV[3], ARGV[6], ARGV[1], ARGV[2])
  if taken then return taken end
  -- The index names a flow that is not this one (a token of another trace with this span id, or a
  -- flow replaced under its trade number since): left as it is, and nothing is remembered (the put
  -- of a flow with this span id came already).
  return {0, '', 0, 0}
end
local o = redis.call('HMGET', KEYS[1], 't', 'i')
local before = 0
if o[2] == ARGV[2] then before = tonumber(o[1]) or 0 end
redis.call('HSET', KEYS[1], 'o', ARGV[4], 't', before + 1, 'i', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local duplicate = 0
if before > 0 then duplicate = 1 end
return {0, '', duplicate, 0}`;

/**
 * KEYS: flow, due, tomb. ARGV: tradeNo, now, retentionMs, lastStatus ('' for none), prefix.
 * Changes nothing but a live, unclaimed flow's due time (now + its wait), TTL (its span index's
 * too) and last status. Returns {state, record, duplicate, late}; state 0 (unknown), 1 (waits
 * again), 2 (tombstone), 3 (claimed by a sweeper: late).
 */
export const KEEP_WAITING_SCRIPT = `${FLOW_FUNCTIONS}
return keepFlowWaiting(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]) or {0}`;

/**
 * KEYS: span index, due. ARGV: spanId, traceId, now, retentionMs, lastStatus ('' for none),
 * prefix. KEEP_WAITING of the flow of that span, found as TAKE_BY_SPAN finds it; a flow it does
 * not hold is left alone ({0}), and nothing is remembered.
 */
export const KEEP_WAITING_BY_SPAN_SCRIPT = `${FLOW_FUNCTIONS}
local n = redis.call('HGET', KEYS[1], 'n')
if not n then return {0} end
return keepFlowWaiting(ARGV[6] .. 'f:' .. n, KEYS[2], ARGV[6] .. 't:' .. n, n, ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[1], ARGV[2]) or {0}`;

/**
 * KEYS: span index. ARGV: prefix. Reads, writes nothing: the record and last status of the live
 * flow the span index names, and the record of its tombstone, as {live record, last status,
 * tombstone record} ('' for each one absent), or {} when the index names no flow; the caller keeps
 * the one of its trace and span id.
 */
export const PEEK_BY_SPAN_SCRIPT = `
local n = redis.call('HGET', KEYS[1], 'n')
if not n then return {} end
local f = redis.call('HMGET', ARGV[1] .. 'f:' .. n, 'r', 'p')
local t = redis.call('HGET', ARGV[1] .. 't:' .. n, 'r')
return {f[1] or '', f[2] or '', t or ''}`;

/** KEYS: due. ARGV: now, limit, leaseMs, prefix. Returns {record, claims, emitted (0/1), last status ('' for none), record, ...}. */
export const CLAIM_SCRIPT = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local out = {}
local nextDue = tonumber(ARGV[1]) + tonumber(ARGV[3])
local leased = {}
for _, id in ipairs(ids) do
  local k = ARGV[4] .. 'f:' .. id
  -- One read of the record, the export mark and the last status: a claim batch touches many flows.
  local f = redis.call('HMGET', k, 'r', 'e', 'p')
  if f[1] then
    out[#out + 1] = f[1]
    out[#out + 1] = redis.call('HINCRBY', k, 'c', 1)
    if f[2] then out[#out + 1] = 1 else out[#out + 1] = 0 end
    out[#out + 1] = f[3] or ''
    leased[#leased + 1] = nextDue
    leased[#leased + 1] = id
    -- one ZADD per 500 flows instead of one per flow; unpack has a stack limit
    if #leased >= 1000 then
      redis.call('ZADD', KEYS[1], unpack(leased))
      leased = {}
    end
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
if #leased > 0 then redis.call('ZADD', KEYS[1], unpack(leased)) end
return out`;

/**
 * KEYS: due. ARGV: prefix, then pairs of tradeNo and spanId ('' for any flow). Marks the claimed
 * ones among these flows as exported.
 */
export const MARK_EMITTED_SCRIPT = `
for i = 2, #ARGV - 1, 2 do
  local k = ARGV[1] .. 'f:' .. ARGV[i]
  local f = redis.call('HMGET', k, 'c', 's')
  -- Only the flow claimed: a new flow put for the trade number since has c = 0 (or, once
  -- claimed by another sweeper, another span id).
  if (tonumber(f[1]) or 0) > 0 and (ARGV[i + 1] == '' or f[2] == ARGV[i + 1]) then redis.call('HSET', k, 'e', 1) end
end
return 1`;

/**
 * KEYS: due. ARGV: prefix, retentionMs, then pairs of tradeNo and spanId ('' for any flow).
 * Acknowledges the claimed ones among these flows.
 */
export const ACK_SCRIPT = `
for i = 3, #ARGV - 1, 2 do
  local id = ARGV[i]
  local k = ARGV[1] .. 'f:' .. id
  local f = redis.call('HMGET', k, 'r', 'c', 's', 't')
  local r = f[1]
  -- Only the flow claimed, as in MARK_EMITTED.
  if r and (tonumber(f[2]) or 0) > 0 and (ARGV[i + 1] == '' or f[3] == ARGV[i + 1]) then
    redis.call('DEL', k)
    redis.call('ZREM', KEYS[1], id)
    local tk = ARGV[1] .. 't:' .. id
    -- Callbacks that came while it was claimed (late) make a later copy a duplicate.
    redis.call('HSET', tk, 'r', r, 't', tonumber(f[4]) or 0, 'l', 1)
    redis.call('PEXPIRE', tk, ARGV[2])
    -- The span index lives as long as the tombstone.
    if f[3] then redis.call('PEXPIRE', ARGV[1] .. 's:' .. f[3], ARGV[2]) end
  end
end
return 1`;

/**
 * KEYS: marker. ARGV: a new random value. Returns the marker's value: the one there, or, when there
 * is none, the new one, written now (SET NX and read back, in one step), so every process sharing
 * the store agrees on one value. No TTL: it must outlive every flow.
 */
export const MARKER_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]`;
