-- Hide passwords in URLs (mysql://user:pass@host, ?password=...). Only possible when the string
-- library is there (useOpenLibs); kubectl-atlas redacts its own output in Go either way.
local function redact(s)
  if type(string) == "table" and type(string.gsub) == "function" then
    s = string.gsub(s, "(://[^/@: \t\r\n]*:)[^@ \t\r\n]*@", "%1xxxxx@")
    s = string.gsub(s, "([?&;][Pp][Aa][Ss][Ss][Ww][Oo][Rr][Dd]=)[^& \t\r\n]*", "%1xxxxx")
  end
  return s
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

