package healthcheck

// customizationsDir holds the scripts and fixtures in Argo CD's resource_customizations layout
// (db.atlasgo.io/<Kind>/{health.lua,health_test.yaml,testdata/}; the generic script of every
// other kind in db.atlasgo.io/_, Argo CD's folder name for a wildcard), so the folder can be diffed
// against Argo CD's and sent upstream as is. Each health.lua is generated from scripts/ and
// checked in; TestCustomizationsUpToDate fails when one is stale.
const customizationsDir = "resource_customizations"

//go:generate sh -c "go run ../cmd/kubectl-atlas healthcheck generate --format lua --kind AtlasMigration > resource_customizations/db.atlasgo.io/AtlasMigration/health.lua"
//go:generate sh -c "go run ../cmd/kubectl-atlas healthcheck generate --format lua --kind AtlasSchema > resource_customizations/db.atlasgo.io/AtlasSchema/health.lua"
//go:generate sh -c "go run ../cmd/kubectl-atlas healthcheck generate --format lua --kind '*' > resource_customizations/db.atlasgo.io/_/health.lua"
