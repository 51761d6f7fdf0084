local before = tostring(table.undefined)
setmetatable(table, {__index = function() return "leak" end})
return {status = "Healthy", message = before}
