local before = tostring(os and os.getenv and os.getenv("KUBECTL_ATLAS_LEAK"))
if os and os.setenv then os.setenv("KUBECTL_ATLAS_LEAK", "yes") end
return {status = "Healthy", message = before}
