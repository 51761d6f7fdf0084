package healthcheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	yamlutil "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const customizationsKey = "resource.customizations"

// ParseArgoCDConfigMap reads the health customizations of an argocd-cm the way Argo CD's settings
// manager does: the nested `resource.customizations` blob first, then the split keys
// `resource.customizations.<type>.<group>_<Kind>` on top (split keys win; `all` means `*/*`;
// `useOpenLibs` must be a boolean). The input is a ConfigMap (one of several YAML documents is
// fine: the one named argocd-cm wins), a kustomize patch of it, or argo-cd Helm chart values
// (configs.cm). Keys of other customization types are accepted and ignored.
func ParseArgoCDConfigMap(data []byte) (map[string]Override, error) {
	cm, err := findConfigMapData(data)
	if err != nil {
		return nil, err
	}
	out := map[string]Override{}
	if blob := cm[customizationsKey]; blob != "" {
		var raw map[string]struct {
			HealthLua   string `json:"health.lua"`
			UseOpenLibs bool   `json:"health.lua.useOpenLibs"`
		}
		if err := yaml.Unmarshal([]byte(blob), &raw); err != nil {
			return nil, fmt.Errorf("data[%q] is not the YAML map Argo CD expects (<group>/<Kind>: {health.lua: ...}): %w", customizationsKey, err)
		}
		for k, v := range raw {
			out[k] = Override{HealthLua: v.HealthLua, UseOpenLibs: v.UseOpenLibs}
		}
	}
	keys := make([]string, 0, len(cm))
	for k := range cm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !strings.HasPrefix(k, customizationsKey) {
			continue
		}
		parts := strings.SplitN(k, ".", 4)
		if len(parts) < 4 {
			continue
		}
		key, err := splitKeyGroupKind(parts[3])
		if err != nil {
			return nil, fmt.Errorf("data[%q]: %w", k, err)
		}
		o := out[key]
		switch parts[2] {
		case "health":
			o.HealthLua = cm[k]
		case "useOpenLibs":
			b, err := strconv.ParseBool(cm[k])
			if err != nil {
				return nil, fmt.Errorf("data[%q] must be \"true\" or \"false\", not %q", k, cm[k])
			}
			o.UseOpenLibs = b
		case "actions", "ignoreDifferences", "ignoreResourceUpdates", "knownTypeFields":
		default:
			return nil, fmt.Errorf("data[%q]: resource customization type %q is not supported by Argo CD", k, parts[2])
		}
		out[key] = o
	}
	return out, nil
}

// splitKeyGroupKind turns "<group>_<Kind>" (or "<Kind>", or "all") into Argo CD's override key.
func splitKeyGroupKind(gk string) (string, error) {
	if gk == "all" {
		return "*/*", nil
	}
	parts := strings.Split(gk, "_")
	switch {
	case len(parts) == 2:
		return parts[0] + "/" + parts[1], nil
	case len(parts) == 1 && gk != "":
		return gk, nil
	}
	return "", fmt.Errorf("want resource.customizations.<type>.<group>_<Kind> or resource.customizations.<type>.<Kind>, got group/kind %q", gk)
}

// findConfigMapData returns the data of the argocd-cm in data.
func findConfigMapData(data []byte) (map[string]string, error) {
	type doc struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Data    map[string]string `json:"data"`
		Configs struct {
			CM map[string]any `json:"cm"`
		} `json:"configs"`
	}
	var found []doc
	dec := yamlutil.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for i := 1; ; i++ {
		var d doc
		if err := dec.Decode(&d); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("YAML document %d: %w", i, err)
		}
		switch {
		case d.Kind == "ConfigMap":
			found = append(found, d)
		case d.Kind == "" && d.Configs.CM != nil:
			// Helm values: configs.cm is copied into argocd-cm as-is; non-strings are the chart's own
			// settings, never customizations.
			d.Data = map[string]string{}
			for k, v := range d.Configs.CM {
				if s, ok := v.(string); ok {
					d.Data[k] = s
				}
			}
			found = append(found, d)
		}
	}
	switch len(found) {
	case 0:
		return nil, errors.New("no ConfigMap (kind: ConfigMap with data) or Helm values (configs.cm) found")
	case 1:
		return found[0].Data, nil
	}
	for _, d := range found {
		if d.Metadata.Name == "argocd-cm" {
			return d.Data, nil
		}
	}
	return nil, fmt.Errorf("%d ConfigMaps and none named argocd-cm: keep only the argocd-cm", len(found))
}
