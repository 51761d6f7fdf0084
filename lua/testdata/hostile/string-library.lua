local before = tostring(string and string.leak) .. tostring(string and string.upper("x"))
if string then string.leak = "yes" string.upper = function() return "leak" end end
return {status = "Healthy", message = before}
