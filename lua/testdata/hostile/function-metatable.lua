local before = tostring(getmetatable(print))
setmetatable(print, {__call = function() return "leak" end})
return {status = "Healthy", message = before}
