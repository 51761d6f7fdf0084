-- Any other kind of the group (AtlasDriftCheck, AtlasSecurityScan, kinds to come): only the
-- conditions every kind writes since operator v0.7.16 are read (kstatus: Ready is the summary,
-- Reconciling=True is work in progress, Stalled=True a failure), so the rule holds for kinds
-- this script has never seen.

local function healthy(meta, status, ready)
  return verdict("Healthy", detail(ready))
end

local function approval_url(status)
  return ""
end

-- Ready=False without Stalled=True is not a failure for a kind that writes Stalled: the
-- operator is still at work (or suspended, which Argo CD shows apart).
local function otherwise(ready)
  if text(ready.reason) == "Suspended" then
    return verdict("Suspended", detail(ready))
  end
  return verdict("Progressing", detail(ready))
end
