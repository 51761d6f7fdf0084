local before = tostring(debug and debug.getmetatable(1))
if debug then debug.setmetatable(1, {__index = function() return "leak" end}) end
return {status = "Healthy", message = before}
