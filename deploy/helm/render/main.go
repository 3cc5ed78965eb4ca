// Command render writes the manifests of a Helm chart as `helm template` does, for checking a chart where the
// helm binary cannot be installed (no package index this project uses ships it). It renders with the engine
// Helm renders with: Go's text/template, the sprig function library, and Helm's own functions (include, tpl,
// required, toYaml, fromYaml, toJson), values merged as Helm merges them (the chart's values.yaml, then each
// -f file: maps merge key by key, anything else is replaced), and missing keys refused (`helm lint --strict`).
//
//	render -chart deploy/helm/conveyor -name conveyor -namespace conveyor [-f values.yaml ...] [-values-out v.json]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

func readYAML(path string) map[string]interface{} {
	data, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		fail("%s: %v", path, err)
	}
	return out
}

// merge lays over onto base as Helm does: nested maps merge, every other value replaces.
func merge(base, over map[string]interface{}) map[string]interface{} {
	for k, v := range over {
		if vm, ok := v.(map[string]interface{}); ok {
			if bm, ok := base[k].(map[string]interface{}); ok {
				base[k] = merge(bm, vm)
				continue
			}
		}
		base[k] = v
	}
	return base
}

func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "render: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	chart := flag.String("chart", "", "the chart's folder")
	name := flag.String("name", "conveyor", "the release name")
	namespace := flag.String("namespace", "default", "the release namespace")
	var valueFiles files
	flag.Var(&valueFiles, "f", "a values file laid over the chart's (repeatable)")
	valuesOut := flag.String("values-out", "", "write the merged values here as JSON (to check values.schema.json)")
	flag.Parse()

	meta := readYAML(filepath.Join(*chart, "Chart.yaml"))
	values := readYAML(filepath.Join(*chart, "values.yaml"))
	for _, f := range valueFiles {
		values = merge(values, readYAML(f))
	}
	if *valuesOut != "" {
		data, err := json.Marshal(values)
		if err != nil {
			fail("%v", err)
		}
		if err := os.WriteFile(*valuesOut, data, 0o644); err != nil {
			fail("%v", err)
		}
	}
	top := map[string]interface{}{
		"Values":  values,
		"Release": map[string]interface{}{"Name": *name, "Namespace": *namespace, "Service": "Helm", "IsInstall": true},
		"Chart": map[string]interface{}{"Name": meta["name"], "Version": meta["version"],
			"AppVersion": meta["appVersion"]},
		"Capabilities": map[string]interface{}{"KubeVersion": map[string]interface{}{"Version": "v1.37.0"}},
	}

	root := template.New("chart").Option("missingkey=error")
	funcs := sprig.TxtFuncMap()
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		out := map[string]interface{}{}
		_ = yaml.Unmarshal([]byte(s), &out)
		return out
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil || v == "" {
			return nil, fmt.Errorf("%s", msg)
		}
		return v, nil
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	root.Funcs(funcs)

	paths, _ := filepath.Glob(filepath.Join(*chart, "templates", "*"))
	sort.Strings(paths)
	// named as Helm names them, so `include (print $.Template.BasePath "/config.yaml") $` finds a file
	chartName := fmt.Sprint(meta["name"])
	basePath := chartName + "/templates"
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			fail("%v", err)
		}
		if _, err := root.New(basePath + "/" + filepath.Base(p)).Parse(string(data)); err != nil {
			fail("%v", err)
		}
	}
	for _, p := range paths {
		base := filepath.Base(p)
		if strings.HasPrefix(base, "_") || !(strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml")) {
			continue // partials, and NOTES.txt, are not manifests
		}
		top["Template"] = map[string]interface{}{"Name": basePath + "/" + base, "BasePath": basePath}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, basePath+"/"+base, top); err != nil {
			fail("%v", err)
		}
		for _, doc := range strings.Split(buf.String(), "\n---") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			fmt.Printf("---\n# Source: %s/%s\n%s\n", basePath, base, strings.Trim(doc, "\n"))
		}
	}
}
