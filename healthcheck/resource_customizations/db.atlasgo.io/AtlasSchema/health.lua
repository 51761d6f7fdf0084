-- Health of a db.atlasgo.io AtlasSchema (Atlas Operator), by kubectl-atlas.
-- Written for Argo CD's default Lua VM: base and table libraries only (no string, no math).
-- Source and tests: https://github.com/kubectl-atlas/kubectl-atlas (healthcheck/).

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

-- AtlasSchema: Ready=True is healthy; the plan to approve is at planLink (or planURL).

local function healthy(meta, status)
  return verdict("Healthy", "schema applied")
end

local function approval_url(status)
  local url = text(status.planLink)
  if url == "" then
    url = text(status.planURL)
  end
  return url
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
