-- Health of a db.atlasgo.io AtlasMigration (Atlas Operator), by kubectl-atlas.
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

-- AtlasMigration: Ready=True is healthy once the applied version is the directory's newest.

local TARGET_VERSION = "kubectl-atlas.io/target-version"

local function healthy(meta, status)
  -- Editing the migration ConfigMap does not bump the generation: a Ready=True from the previous
  -- directory lingers until the operator catches up. The target version tells them apart.
  local applied = text(status.lastAppliedVersion)
  local target = ""
  if type(meta.annotations) == "table" then
    target = text(meta.annotations[TARGET_VERSION])
  end
  if target ~= "" and applied ~= target then
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
