-- AtlasMigration: Ready=True is healthy once the applied version is the directory's newest.

local TARGET_VERSION = "kubectl-atlas.io/target-version"

local function healthy(meta, status, ready)
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

local otherwise = failed

