local before = tostring(package.loaded.leak) .. tostring(package.path)
package.loaded.leak = "yes" package.path = "leak" package.preload.os = nil
return {status = "Healthy", message = before .. type(require("os").time)}
