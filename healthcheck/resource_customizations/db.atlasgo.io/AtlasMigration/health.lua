-- Health of a db.atlasgo.io AtlasMigration (Atlas Operator), by kubectl-atlas.
-- Written for Argo CD's default Lua VM: base and table libraries only (no string, no math).
-- Source and tests: https://github.com/kubectl-atlas/kubectl-atlas (healthcheck/).

-- Hide credentials the way kubectl-atlas's Go redaction does (internal/redact Patterns: URL
-- passwords by the URL grammar, MySQL DSNs, password=/token:/... pairs, Authorization, Bearer),
-- step by step the same algorithm, so Argo CD and kubectl-atlas show the same text. It needs the
-- string library, which only useOpenLibs opens; without it messages pass as they are.
local S = type(string) == "table" and type(string.find) == "function" and string or nil
local redact = function(s) return s end
if S ~= nil then
  local MARK = "xxxxx"
  local function isspace(c) return c == 32 or c == 9 or c == 13 or c == 10 end
  local function isalpha(c) return c ~= nil and ((c >= 97 and c <= 122) or (c >= 65 and c <= 90)) end
  local function isdigit(c) return c ~= nil and c >= 48 and c <= 57 end
  local function iskey(c) return isalpha(c) or isdigit(c) or c == 95 or c == 46 or c == 45 end
  local function isscheme(c) return isalpha(c) or isdigit(c) or c == 43 or c == 45 or c == 46 end
  local function isurlend(c) return isspace(c) or c == 34 or c == 39 or c == 96 or c == 60 or c == 62 end
  local function isvalueend(c) return isspace(c) or c == 38 or c == 59 or c == 34 or c == 39 end
  local function istoken(c)
    return isalpha(c) or isdigit(c) or c == 45 or c == 46 or c == 95 or c == 126 or c == 43 or c == 47 or c == 61
  end
  -- 0-based helpers, so the code reads as the Go it mirrors: at(s, i) is s[i], sl(s, a, b) s[a:b]
  local function at(s, i) return S.byte(s, i + 1) end
  local function sl(s, a, b) return S.sub(s, a + 1, b) end
  local function index(s, from, pat)
    local p = S.find(s, pat, from + 1, true)
    if p == nil then return -1 end
    return p - 1
  end
  local function first(s, c, a, b)
    for k = a, b - 1 do if at(s, k) == c then return k end end
    return -1
  end
  local function lastof(s, c, a, b)
    for k = b - 1, a, -1 do if at(s, k) == c then return k end end
    return -1
  end
  local function prefix(s, i, p) return S.sub(s, i + 1, i + #p) == p end
  -- masking(s) builds s with spans replaced by MARK, left to right (the Go masking type). The
  -- pieces are merged as they come (a stack of ever shorter strings), because gopher-lua's
  -- table.concat pushes every piece on its value stack, which overflows past a few thousand.
  local function masking(s)
    local m = { parts = {}, last = 0 }
    local function add(piece)
      local p = m.parts
      p[#p + 1] = piece
      while #p > 1 and #p[#p - 1] <= #p[#p] do
        local top = table.remove(p)
        p[#p] = p[#p] .. top
      end
    end
    function m.mask(from, to)
      add(sl(s, m.last, from) .. MARK)
      m.last = to
    end
    function m.done()
      if m.last == 0 then return s end
      add(sl(s, m.last, #s))
      return table.concat(m.parts)
    end
    return m
  end
  local function suffix(k, p) return #k >= #p and S.sub(k, -#p) == p end

  local function is_http(scheme)
    local l = S.lower(scheme)
    return l == "http" or l == "https" or suffix(l, "+https") or suffix(l, "+http")
  end

  local function password_span(s, start, auth_end, stop, http)
    local a = lastof(s, 64, start, auth_end)
    if a >= 0 then
      local colon = first(s, 58, start, a)
      if colon < 0 then
        if http and a > start then return start, a end
        return -1, -1
      end
      return colon + 1, a
    end
    local colon = first(s, 58, start, auth_end)
    if colon < 0 or auth_end == stop then return -1, -1 end
    local port = colon + 1
    while port < auth_end and isdigit(at(s, port)) do port = port + 1 end
    if port == auth_end and port > colon + 1 then return -1, -1 end
    a = first(s, 64, auth_end, stop)
    if a < 0 then return -1, -1 end
    return colon + 1, a
  end

  local function mask_urls(s)
    local m, pos, n = masking(s), 0, #s
    while true do
      local i = index(s, pos, "://")
      if i < 0 then break end
      local start = i + 3
      pos = start
      local j = i
      while j > 0 and isscheme(at(s, j - 1)) do j = j - 1 end
      while j < i and not isalpha(at(s, j)) do j = j + 1 end
      if j ~= i then
        -- the URL ends at white space or a quote, its authority at / ? # (found, not walked)
        local stop = (S.find(s, "[ \t\r\n\"'`<>]", start + 1) or (n + 1)) - 1
        local auth_end = start + (S.find(sl(s, start, stop), "[/?#]") or (stop - start + 1)) - 1
        local from, to = password_span(s, start, auth_end, stop, is_http(sl(s, j, i)))
        if from >= 0 then m.mask(from, to) end
        pos = stop
      end
    end
    return m.done()
  end

  local NETS = { "tcp(", "tcp4(", "tcp6(", "udp(", "unix(", "memory(", "pipe(" }
  local function next_dsn_at(s, pos)
    while true do
      local i = index(s, pos, "@")
      if i < 0 then return -1 end
      for _, net in ipairs(NETS) do
        if prefix(s, i + 1, net) then return i end
      end
      pos = i + 1
    end
  end
  local function has_url_end(s, a, b)
    for k = a, b - 1 do if isurlend(at(s, k)) then return true end end
    return false
  end

  local function mask_dsns(s)
    local m, pos = masking(s), 0
    while true do
      local i = next_dsn_at(s, pos)
      if i < 0 then break end
      pos = i + 1
      local nxt = next_dsn_at(s, i + 1)
      if not (nxt >= 0 and not has_url_end(s, i, nxt)) then
        local j = i
        while j > m.last and not isurlend(at(s, j - 1)) do j = j - 1 end
        local colon = first(s, 58, j, i)
        if colon >= 0 then m.mask(colon + 1, i) end
      end
    end
    return m.done()
  end

  local SECRET_SUFFIXES = { "password", "passwd", "secret", "token", "apikey", "api_key", "api-key" }
  local SHORT_SUFFIXES = { "_pwd", "-pwd", ".pwd", "_pass", "-pass", ".pass" }
  local function key_kind(key)
    local k = S.lower(key)
    if k == "authorization" or k == "proxy-authorization" or k == "auth" then return 2 end
    if k == "pwd" or k == "pass" then return 1 end
    for _, x in ipairs(SECRET_SUFFIXES) do if suffix(k, x) then return 1 end end
    for _, x in ipairs(SHORT_SUFFIXES) do if suffix(k, x) then return 1 end end
    return 0
  end

  local function pair_key(s, j)
    if at(s, j) == 58 and j + 2 < #s and at(s, j + 1) == 47 and at(s, j + 2) == 47 then return 0 end
    local k = j
    while k > 0 and (at(s, k - 1) == 32 or at(s, k - 1) == 9) do k = k - 1 end
    if k > 0 and (at(s, k - 1) == 34 or at(s, k - 1) == 39) then
      k = k - 1
      while k > 0 and at(s, k - 1) == 92 do k = k - 1 end
    end
    local stop = k
    while k > 0 and iskey(at(s, k - 1)) do k = k - 1 end
    if k == stop then return 0 end
    local key = sl(s, k, stop)
    if (at(s, j) == 58 and prefix(key, 0, "--")) or (k > 0 and at(s, k - 1) == 61) then return 0 end
    local d = 0
    while at(key, d) == 45 do d = d + 1 end
    return key_kind(sl(key, d, #key))
  end

  local function skip_scheme(s, i)
    local j = i
    while j < #s and isalpha(at(s, j)) do j = j + 1 end
    if j == i or j == #s or at(s, j) ~= 32 then return i end
    while j < #s and at(s, j) == 32 do j = j + 1 end
    return j
  end

  local function pair_value(s, v, kind)
    local n = #s
    while v < n and (at(s, v) == 32 or at(s, v) == 9) do v = v + 1 end
    if v == n then return -1, -1 end
    local q = v
    while q < n and at(s, q) == 92 do q = q + 1 end
    if q < n and (at(s, q) == 34 or at(s, q) == 39) then
      local closing = sl(s, v, q + 1)
      local from = q + 1
      if kind == 2 then from = skip_scheme(s, from) end
      local i = from
      while i < n and not prefix(s, i, closing) and at(s, i) ~= 10 do
        if q == v and at(s, q) == 34 and at(s, i) == 92 and i + 1 < n then i = i + 1 end
        i = i + 1
      end
      if i > n then i = n end
      return from, i
    end
    if kind == 2 then
      local from = skip_scheme(s, v)
      local i = from
      while i < n do
        local c = at(s, i)
        if c == 10 or c == 13 or c == 34 or c == 39 then break end
        i = i + 1
      end
      return from, i
    end
    local i = v
    while i < n and not isvalueend(at(s, i)) do i = i + 1 end
    return v, i
  end

  local function mask_pairs(s)
    local m, j, n = masking(s), 0, #s
    while j < n do
      local p = S.find(s, "[=:]", j + 1) -- the next separator; the Go code tests every byte
      if p == nil then break end
      j = p - 1
      if j >= m.last then
        local kind = pair_key(s, j)
        if kind ~= 0 then
          local from, to = pair_value(s, j + 1, kind)
          if from >= 0 and to ~= from then
            m.mask(from, to)
            j = to - 1
          end
        end
      end
      j = j + 1
    end
    return m.done()
  end

  local function mask_bearer(s)
    local m, pos, n = masking(s), 0, #s
    while true do
      local i = index(s, pos, "earer ")
      if i < 0 then break end
      pos = i + 1
      local b = i > 0 and at(s, i - 1) or nil
      if (b == 66 or b == 98) and not (i > 1 and iskey(at(s, i - 2))) then
        local t = i + 6
        while t < n and at(s, t) == 32 do t = t + 1 end
        local e = t
        while e < n and istoken(at(s, e)) do e = e + 1 end
        if e - t >= 8 and not prefix(s, t, MARK) then
          m.mask(t, e)
          pos = e
        end
      end
    end
    return m.done()
  end

  redact = function(s)
    return mask_bearer(mask_pairs(mask_dsns(mask_urls(s))))
  end
end

local function text(v)
  if type(v) == "string" then
    return v
  end
  return ""
end

-- Conditions may come with nulls dropped (Argo CD does that) or hold junk: check every level.
local function condition(status, kind)
  if type(status.conditions) ~= "table" then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if type(c) == "table" and c.type == kind then
      return c
    end
  end
  return nil
end

-- "Reason: message", without repeating a message that is only the reason word.
local function detail(c)
  local reason, message = text(c.reason), text(c.message)
  if reason == "" and message == "" then
    return text(c.type) .. " is " .. text(c.status)
  end
  if message == "" or message == reason then
    return redact(reason)
  end
  if reason == "" then
    return redact(message)
  end
  return redact(reason .. ": " .. message)
end

local function verdict(status, message)
  return { status = status, message = message }
end

-- AtlasMigration: Ready=True is healthy once the applied version is the directory's newest.

local TARGET_VERSION = "kubectl-atlas.io/target-version"

local function healthy(meta, status)
  -- Editing the migration ConfigMap does not bump the generation: a Ready=True from the previous
  -- directory lingers until the operator catches up. The target version tells them apart.
  -- Atlas counts a version as applied when it is not above the last revision, comparing the
  -- strings byte by byte (so "10" < "9"); Lua's string < is that order, no library needed.
  local applied = text(status.lastAppliedVersion)
  local target = ""
  if type(meta.annotations) == "table" then
    target = text(meta.annotations[TARGET_VERSION])
  end
  if target ~= "" and (applied == "" or applied < target) then
    if applied == "" then
      return verdict("Progressing", "no version applied yet, waiting for " .. target)
    end
    return verdict("Progressing", "applied version " .. applied .. ", waiting for " .. target)
  end
  if applied == "" then
    return verdict("Healthy", "migrations applied")
  end
  return verdict("Healthy", "applied version " .. applied)
end

local function approval_url(status)
  return text(status.approvalUrl)
end

local meta = obj.metadata
if type(meta) ~= "table" then
  meta = {}
end
if meta.deletionTimestamp ~= nil then
  return verdict("Progressing", "Pending deletion")
end
local status = obj.status
if type(status) ~= "table" then
  status = {}
end

-- A status written for an older spec says nothing about the current one (the CRD defaults
-- observedGeneration to -1; operators before v0.7.16 do not set it at all).
local generation, observed = meta.generation, status.observedGeneration
if type(generation) == "number" and type(observed) == "number" and observed < generation then
  return verdict("Progressing", "waiting for the operator to observe generation " .. generation)
end

local ready = condition(status, "Ready")
if ready ~= nil and ready.status == "True" then
  return healthy(meta, status)
end

local stalled = condition(status, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  if ready ~= nil then
    return verdict("Degraded", detail(ready))
  end
  return verdict("Degraded", detail(stalled))
end
if ready == nil then
  return verdict("Progressing", "Waiting for Atlas Operator")
end

local reason = text(ready.reason)
if reason == "Reconciling" or reason == "GettingDevDB" then
  return verdict("Progressing", detail(ready))
end
if reason == "ApprovalPending" then
  local url = approval_url(status)
  if url ~= "" then
    return verdict("Suspended", "waiting for approval, review at " .. redact(url))
  end
  local message = text(ready.message)
  if message ~= "" then
    return verdict("Suspended", "waiting for approval: " .. redact(message))
  end
  return verdict("Suspended", "waiting for approval")
end
return verdict("Degraded", detail(ready))
