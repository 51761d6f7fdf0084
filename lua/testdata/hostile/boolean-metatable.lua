local ok, v = pcall(function() return (true).x end)
setmetatable(true, {__index = function() return "leak" end})
return {status = "Healthy", message = tostring(ok) .. tostring(v)}
