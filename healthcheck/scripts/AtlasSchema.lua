-- AtlasSchema: Ready=True is healthy; the plan to approve is at planLink (or planURL).

local function healthy(meta, status, ready)
  return verdict("Healthy", "schema applied")
end

local function approval_url(status)
  local url = text(status.planLink)
  if url == "" then
    url = text(status.planURL)
  end
  return url
end

local otherwise = failed

