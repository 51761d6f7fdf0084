local reg = debug and debug.getregistry()
local before = tostring(reg and reg.leak)
if reg then reg.leak = "yes" end
return {status = "Healthy", message = before}
