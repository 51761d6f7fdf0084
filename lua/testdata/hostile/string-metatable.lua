local mt = getmetatable("")
local before = tostring(mt ~= nil and mt.__index ~= nil and mt.__index.leak)
if mt and mt.__index then mt.__index.leak = "yes" end
if debug then debug.setmetatable("", {__index = {upper = function() return "leak" end}}) end
return {status = "Healthy", message = before}
