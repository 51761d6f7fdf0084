-- Hide credentials the way kubectl-atlas's Go redaction does (internal/redact Patterns: URL
-- passwords by the URL grammar, MySQL DSNs, password=/token:/... pairs, Authorization, Bearer),
-- step by step the same algorithm, so Argo CD and kubectl-atlas show the same text. It needs the
-- string library, which only useOpenLibs opens; without it messages pass as they are.
--
-- Speed matters: Argo CD gives a script one second on a busy controller, and gopher-lua is slow
-- at everything but its own Go functions. So bytes are searched by plain string.find (Go's
-- strings.Index: no pattern is parsed, none compiled), each search's answer is kept until the
-- scan passes it, and Lua code only looks at the places the searches stop at (a "://", an
-- "@net(", a separator after a letter a secret key can end with). Characters are classified by
-- table look-ups. No step rescans text an earlier step passed: the cost grows linearly.
local S = type(string) == "table" and type(string.find) == "function" and string or nil
local redact = function(s) return s end
-- A condition message holds at most 32768 bytes (metav1.Condition); longer text is cut there.
local MAX_MESSAGE = 32768
local limit = function(s) return s end
if S ~= nil then
  local byte, sub, find, lower = S.byte, S.sub, S.find, S.lower
  local MARK = "xxxxx"
  local LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
  local function set(chars)
    local t = {}
    for k = 1, #chars do t[byte(chars, k)] = true end
    return t
  end
  local ALPHA = set(LETTERS)
  local DIGIT = set("0123456789")
  local BLANK = set(" \t")
  local QUOTE = set("\"'")
  local KEY = set(LETTERS .. "0123456789_.-")
  local SCHEME = set(LETTERS .. "0123456789+-.")
  local URLEND = set(" \t\r\n\"'`<>")
  local TOKEN = set(LETTERS .. "0123456789-._~+/=")

  -- 0-based, so the code reads as the Go it mirrors: byte(s, i + 1) is s[i], sl(s, a, b) s[a:b]
  local function sl(s, a, b) return sub(s, a + 1, b) end
  local function index(s, from, pat)
    local p = find(s, pat, from + 1, true)
    if p == nil then return -1 end
    return p - 1
  end
  local function prefix(s, i, p) return sub(s, i + 1, i + #p) == p end
  -- finder(s, chars) returns next(from): the index of the first byte of chars in s at or after
  -- from, or #s. One plain search per byte kind, its answer kept until from passes it.
  local function finder(s, chars)
    local n, kinds, at, last = #s, {}, {}, 0
    for k = 1, #chars do kinds[k], at[k] = sub(chars, k, k), -1 end
    return function(from)
      if from < last then
        for k = 1, #kinds do at[k] = -1 end
      end
      last = from
      local best = n
      for k = 1, #kinds do
        local p = at[k]
        if p < from then
          p = find(s, kinds[k], from + 1, true)
          p = p and p - 1 or n
          at[k] = p
        end
        if p < best then best = p end
      end
      return best
    end
  end
  local URL_ENDS = " \t\r\n\"'`<>"
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
  local function suffix(k, p) return #k >= #p and sub(k, -#p) == p end

  local function is_http(scheme)
    local l = lower(scheme)
    return l == "http" or l == "https" or suffix(l, "+https") or suffix(l, "+http")
  end

  -- password_span finds the password of the URL url = s[start:stop], whose authority ends at
  -- auth_end; from is -1 when it has none. The scheme is s[j:i], read only when needed.
  -- scheme_start(s, i) is where the scheme of the "://" at i begins: i when it holds no letter
  local function scheme_start(s, i)
    local j = i
    while j > 0 and SCHEME[byte(s, j)] do j = j - 1 end
    while j < i and not ALPHA[byte(s, j + 1)] do j = j + 1 end
    return j
  end

  local function password_span(s, url, start, auth_end, stop, i)
    local a, p = nil, find(url, "@", 1, true) -- the last '@' of the authority
    while p ~= nil and start + p - 1 < auth_end do
      a = start + p - 1
      p = find(url, "@", p + 1, true)
    end
    if a ~= nil then
      local colon = find(url, ":", 1, true)
      if colon == nil or start + colon - 1 > a then
        if a > start and is_http(sl(s, scheme_start(s, i), i)) then return start, a end
        return -1, -1
      end
      return start + colon, a
    end
    local colon = find(url, ":", 1, true)
    if colon == nil or start + colon - 1 >= auth_end or auth_end == stop then return -1, -1 end
    colon = start + colon - 1
    -- a port (host:5432/db@x) is no password
    local port = colon + 1
    while port < auth_end and DIGIT[byte(s, port + 1)] do port = port + 1 end
    if port == auth_end and port > colon + 1 then return -1, -1 end
    a = find(url, "@", auth_end - start + 1, true)
    if a == nil then return -1, -1 end
    return colon + 1, start + a - 1
  end

  local function mask_urls(s)
    local m, pos = masking(s), 0
    local url_end = finder(s, URL_ENDS)
    while true do
      local i = index(s, pos, "://")
      if i < 0 then break end
      local start = i + 3
      pos = start
      -- a letter right before "://" ends a scheme (the common case, decided without a walk)
      if ALPHA[byte(s, i)] or scheme_start(s, i) ~= i then
        -- the URL ends at white space or a quote, its authority at the first / ? #
        local stop = url_end(start)
        local url = sl(s, start, stop)
        local auth_end = stop
        local p = find(url, "/", 1, true)
        if p ~= nil and start + p - 1 < auth_end then auth_end = start + p - 1 end
        p = find(url, "?", 1, true)
        if p ~= nil and start + p - 1 < auth_end then auth_end = start + p - 1 end
        p = find(url, "#", 1, true)
        if p ~= nil and start + p - 1 < auth_end then auth_end = start + p - 1 end
        local from, to = password_span(s, url, start, auth_end, stop, i)
        if from >= 0 then m.mask(from, to) end
        pos = stop
      end
    end
    return m.done()
  end

  -- MySQL DSNs: user:pass@net(addr)/db, net one of these (go-sql-driver/mysql)
  local NETS = { "tcp(", "tcp4(", "tcp6(", "udp(", "unix(", "memory(", "pipe(" }
  local NET_FIRST = set("tump")
  local function next_dsn_at(s, pos)
    while true do
      local i = index(s, pos, "@")
      if i < 0 then return -1 end
      if NET_FIRST[byte(s, i + 2)] then
        for _, net in ipairs(NETS) do
          if prefix(s, i + 1, net) then return i end
        end
      end
      pos = i + 1
    end
  end

  local function mask_dsns(s)
    local m = masking(s)
    local url_end = finder(s, URL_ENDS)
    local i = next_dsn_at(s, 0)
    while i >= 0 do
      local nxt = next_dsn_at(s, i + 1)
      -- the password ends at the last '@' before net( of the DSN (user:p@ss@tcp(...))
      if nxt < 0 or url_end(i) < nxt then
        local j = i
        while j > m.last and not URLEND[byte(s, j)] do j = j - 1 end
        local colon = find(sl(s, j, i), ":", 1, true)
        if colon ~= nil then m.mask(j + colon, i) end
      end
      i = nxt
    end
    return m.done()
  end

  -- A key names a secret when it is one of EXACT or ends with one of SUFFIXES (after any
  -- prefix); the suffixes are listed by their last letter, which decides most keys at once.
  local EXACT = { authorization = 2, ["proxy-authorization"] = 2, auth = 2, pwd = 1, pass = 1 }
  local SUFFIXES = {
    [100] = { "password", "passwd", "_pwd", "-pwd", ".pwd" }, -- d
    [116] = { "secret" }, [110] = { "token" }, -- t, n
    [121] = { "apikey", "api_key", "api-key" }, -- y
    [115] = { "_pass", "-pass", ".pass" }, -- s
  }
  -- the last letters, either case, of every secret key: a separator after any other byte
  -- ends no pair (h: auth, n: authorization)
  local LAST = set("dtnyshDTNYSH")
  -- the last four bytes (lower case) of every secret key, "pwd" for the one of three: read with
  -- one call before walking back over a key byte by byte, they turn most keys away (host, user,
  -- sslmode, ...), which is where the pass spends its time on text dense with URLs and pairs
  local TAILS = {}
  for _, k in ipairs({ "auth", "tion", "pass", "word", "sswd", "_pwd", "-pwd", ".pwd", "pwd", "cret",
    "oken", "ikey", "_key", "-key" }) do
    TAILS[k] = true
  end
  local NONE = {}
  local function key_kind(key)
    local k = lower(key)
    local e = EXACT[k]
    if e ~= nil then return e end
    for _, x in ipairs(SUFFIXES[byte(k, -1)] or NONE) do
      if suffix(k, x) then return 1 end
    end
    return 0
  end

  local function pair_key(s, j)
    if j == 0 then return 0 end
    -- one call for the byte before the separator, the separator and the two after it: most
    -- separators are decided by these alone
    local before, sep, n1, n2 = byte(s, j, j + 3)
    if sep == 58 and n1 == 47 and n2 == 47 then return 0 end
    local k = j
    if BLANK[before] or QUOTE[before] then
      while k > 0 and BLANK[byte(s, k)] do k = k - 1 end
      if k > 0 and QUOTE[byte(s, k)] then
        k = k - 1
        while k > 0 and byte(s, k) == 92 do k = k - 1 end
      end
      if k == 0 then return 0 end
      before = byte(s, k)
    end
    if not LAST[before] then return 0 end
    local stop = k
    local tail = lower(sub(s, stop > 3 and stop - 3 or 1, stop))
    if not (TAILS[tail] or TAILS[sub(tail, -3)]) then return 0 end
    while k > 0 and KEY[byte(s, k)] do k = k - 1 end
    local key = sl(s, k, stop)
    -- a flag name followed by ':' is a message about the flag; a key right after '=' is a value
    if (sep == 58 and prefix(key, 0, "--")) or (k > 0 and byte(s, k) == 61) then return 0 end
    local d = 0
    while byte(key, d + 1) == 45 do d = d + 1 end
    return key_kind(sl(key, d, #key))
  end

  local function skip_scheme(s, i)
    local j = i
    while j < #s and ALPHA[byte(s, j + 1)] do j = j + 1 end
    if j == i or j == #s or byte(s, j + 1) ~= 32 then return i end
    while j < #s and byte(s, j + 1) == 32 do j = j + 1 end
    return j
  end

  -- pair_value returns the span to mask of the value starting at v (after the separator). ends
  -- holds the finders of the bytes that end values, made once per scan.
  local function pair_value(s, v, kind, ends)
    local n = #s
    local c = byte(s, v + 1) -- nil past the end
    while BLANK[c] do
      v = v + 1
      c = byte(s, v + 1)
    end
    if v == n then return -1, -1 end
    local q = v
    while c == 92 do
      q = q + 1
      c = byte(s, q + 1)
    end
    if QUOTE[c] then
      local closing = sl(s, v, q + 1)
      local from = q + 1
      if kind == 2 then from = skip_scheme(s, from) end
      local json = q == v and byte(s, q + 1) == 34
      -- "...": a backslash escapes the next byte (JSON); '...', \"...\": the closing text.
      -- Either way a newline ends the value.
      local i = from
      while true do
        local p = ends.quoted(i)
        if p == n then return from, n end
        local c = byte(s, p + 1)
        if c == 10 then return from, p end
        if json and c == 92 then
          if p + 1 >= n then return from, n end
          i = p + 2
        elseif prefix(s, p, closing) then
          return from, p
        else
          i = p + 1
        end
      end
    end
    if kind == 2 then
      local from = skip_scheme(s, v)
      return from, ends.authorization(from)
    end
    return v, ends.plain(v)
  end

  local function mask_pairs(s)
    local m, j, n = masking(s), 0, #s
    local ends = {
      quoted = finder(s, "\n\"'\\"),
      authorization = finder(s, "\n\r\"'"),
      plain = finder(s, " \t\r\n&;\"'"),
    }
    -- the next '=' and ':' at or after j (the Go code tests every byte), each by a plain search
    -- kept until j passes it: every instruction counts, as Argo CD's VM checks its deadline on
    -- each one
    local eq, colon = -1, -1
    while true do
      if eq < j then
        eq = find(s, "=", j + 1, true)
        eq = eq and eq - 1 or n
      end
      if colon < j then
        colon = find(s, ":", j + 1, true)
        colon = colon and colon - 1 or n
      end
      j = eq < colon and eq or colon
      if j == n then break end
      -- most separators follow a key no secret ends with: the byte before and the last four
      -- (TAILS) skip those without a call
      local before, kind = byte(s, j), 0
      if j >= m.last then
        if LAST[before] then
          local tail = lower(sub(s, j > 3 and j - 3 or 1, j))
          if TAILS[tail] or TAILS[sub(tail, -3)] then kind = pair_key(s, j) end
        elseif BLANK[before] or QUOTE[before] then
          kind = pair_key(s, j)
        end
        if kind ~= 0 then
          local from, to = pair_value(s, j + 1, kind, ends)
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
      local b = i > 0 and byte(s, i) or nil
      if (b == 66 or b == 98) and not (i > 1 and KEY[byte(s, i - 1)]) then
        local t = i + 6
        while t < n and byte(s, t + 1) == 32 do t = t + 1 end
        local e = t
        while e < n and TOKEN[byte(s, e + 1)] do e = e + 1 end
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

  -- limit cuts text longer than a condition can hold before any scan, at the last white space
  -- within the limit (a credential cut in half would no longer look like one), and says so.
  limit = function(s)
    if #s <= MAX_MESSAGE then return s end
    -- the last white space: the first one of the reversed text, by plain searches
    local back, at = S.reverse(sub(s, 1, MAX_MESSAGE)), MAX_MESSAGE + 1
    for _, c in ipairs({ " ", "\t", "\r", "\n" }) do
      local p = find(back, c, 1, true)
      if p ~= nil and p < at then at = p end
    end
    local kept = at <= MAX_MESSAGE and sub(s, 1, MAX_MESSAGE - at) or ""
    return kept .. " [" .. (#s - #kept) .. " more bytes not shown]"
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
  local reason, message = limit(text(c.reason)), limit(text(c.message))
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

-- What an object being deleted waits for, in the words of Argo CD's own scripts (which answer
-- deleting objects since Argo CD runs scripts on them, after v3.5): the finalizers left.
local function pending_deletion(finalizers)
  local names = {}
  if type(finalizers) == "table" then
    for _, f in ipairs(finalizers) do
      if type(f) == "string" then
        names[#names + 1] = f
      end
    end
  end
  if #names == 0 then
    return "Pending deletion"
  end
  return "Pending deletion; blocked by finalizers: " .. table.concat(names, ", ")
end

-- A Ready=False whose reason no rule above knows: a failure of the operator (before v0.7.16 it
-- wrote no Stalled condition, so Ready alone tells).
local function failed(ready)
  return verdict("Degraded", detail(ready))
end

