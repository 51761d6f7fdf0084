local meta = obj.metadata
if type(meta) ~= "table" then
  meta = {}
end
-- Argo CD v3.5.1 answers Progressing "Pending deletion" itself before any script runs; later
-- Argo CD runs the script, which then names the finalizers the deletion waits for.
if meta.deletionTimestamp ~= nil then
  return verdict("Progressing", pending_deletion(meta.finalizers))
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
  return healthy(meta, status, ready)
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
    return verdict("Suspended", "waiting for approval, review at " .. redact(limit(url)))
  end
  local message = text(ready.message)
  if message ~= "" then
    return verdict("Suspended", "waiting for approval: " .. redact(limit(message)))
  end
  return verdict("Suspended", "waiting for approval")
end
return otherwise(ready)
