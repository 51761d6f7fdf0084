local before = tostring(undefined_thing)
setmetatable(_G, {__index = function() return "leak" end})
return {status = "Healthy", message = before}
