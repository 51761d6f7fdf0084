local before = tostring(getmetatable(1))
setmetatable(1, {__index = function() return "leak" end})
return {status = "Healthy", message = before}
