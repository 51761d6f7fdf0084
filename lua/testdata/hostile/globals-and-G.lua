local before = tostring(leak) .. tostring(rawget(_G, "_G") ~= nil)
leak = "yes" rawset(_G, "_G", nil) table.insert = nil
return {status = "Healthy", message = before}
