// Package docsgen writes the parts of the documentation that are read
// from the code, so that they cannot drift from it: the reference of the
// Prometheus metrics.
package docsgen

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Metric is one metric as the code declares it.
type Metric struct {
	Name, Kind, Help, File string
	Labels                 []string
}

// Metrics reads every prometheus.*Opts literal with a Name in the non-test
// Go files under root.
func Metrics(root string) ([]Metric, error) {
	var out []Metric
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return fmt.Errorf("docsgen: %w", err)
		}
		rel, _ := filepath.Rel(root, path)
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			fn, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if x, ok := fn.X.(*ast.Ident); !ok || x.Name != "prometheus" || !strings.HasPrefix(fn.Sel.Name, "New") {
				return true
			}
			lit, ok := call.Args[0].(*ast.CompositeLit)
			if !ok {
				return true
			}
			m := Metric{Kind: strings.TrimSuffix(strings.TrimPrefix(fn.Sel.Name, "New"), "Func"), File: filepath.ToSlash(rel)}
			m.Kind = strings.TrimSuffix(m.Kind, "Vec")
			for _, el := range lit.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				key, _ := kv.Key.(*ast.Ident)
				if key == nil {
					continue
				}
				switch key.Name {
				case "Name", "Help":
					if s, ok := kv.Value.(*ast.BasicLit); ok {
						v, _ := strconv.Unquote(s.Value)
						if key.Name == "Name" {
							m.Name = v
						} else {
							m.Help = v
						}
					}
				case "ConstLabels":
					if c, ok := kv.Value.(*ast.CompositeLit); ok {
						for _, e := range c.Elts {
							if kv, ok := e.(*ast.KeyValueExpr); ok {
								if s, ok := kv.Key.(*ast.BasicLit); ok {
									v, _ := strconv.Unquote(s.Value)
									m.Labels = append(m.Labels, v)
								}
							}
						}
					}
				}
			}
			if len(call.Args) > 1 {
				if c, ok := call.Args[1].(*ast.CompositeLit); ok {
					for _, e := range c.Elts {
						if s, ok := e.(*ast.BasicLit); ok {
							v, _ := strconv.Unquote(s.Value)
							m.Labels = append(m.Labels, v)
						}
					}
				}
			}
			if m.Name != "" {
				out = append(out, m)
			}
			return true
		})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// MetricsDoc is docs/metrics.md for the metrics.
func MetricsDoc(ms []Metric) string {
	var b strings.Builder
	b.WriteString("# Metrics\n\n")
	b.WriteString("Every metric Veille exports on `metrics.addr` (`/metrics`, loopback by default), read from the code by\n")
	b.WriteString("`go test ./internal/docsgen/ -update`; a test fails when this page and the code differ.\n\n")
	b.WriteString("| metric | type | labels | meaning | declared in |\n| --- | --- | --- | --- | --- |\n")
	for _, m := range ms {
		labels := "—"
		if len(m.Labels) > 0 {
			labels = "`" + strings.Join(m.Labels, "`, `") + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | `%s` |\n", m.Name, strings.ToLower(m.Kind), labels, m.Help, m.File)
	}
	return b.String()
}
