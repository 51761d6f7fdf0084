local before = tostring(leak)
setfenv(0, {leak = "yes"})
return {status = "Healthy", message = before}
