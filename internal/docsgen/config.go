package docsgen

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/veille-project/veille/pipeline/config"
)

// Key is one key of veille.yaml.
type Key struct {
	Key, Env, Default, Meaning string
}

// ConfigKeys reads the configuration's keys from pipeline/config/config.go
// under root: each field with a yaml tag, its doc comment, the VEILLE_*
// variable that sets it, and its default from config.Default().
func ConfigKeys(root string) ([]Key, error) {
	path := root + "/pipeline/config/config.go"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("docsgen: %w", err)
	}
	structs := map[string]*ast.StructType{}
	ast.Inspect(f, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok {
			if st, ok := ts.Type.(*ast.StructType); ok {
				structs[ts.Name.Name] = st
			}
		}
		return true
	})
	envs := envOf(f)
	var keys []Key
	var walk func(st *ast.StructType, v reflect.Value, prefix, goPath string)
	walk = func(st *ast.StructType, v reflect.Value, prefix, goPath string) {
		for _, fld := range st.Fields.List {
			if fld.Tag == nil || len(fld.Names) == 0 {
				continue
			}
			tag := reflect.StructTag(strings.Trim(fld.Tag.Value, "`")).Get("yaml")
			tag = strings.Split(tag, ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			name := fld.Names[0].Name
			key, gp := prefix+tag, goPath+"."+name
			fv := v.FieldByName(name)
			typ := typeName(fld.Type)
			if sub, ok := structs[typ]; ok && typ != "Duration" {
				if _, isSlice := fld.Type.(*ast.ArrayType); !isSlice {
					walk(sub, fv, key+".", gp)
					continue
				}
			}
			def := defaultOf(fv)
			if key == "data_dir" {
				def = "" // depends on the machine: see the meaning
			}
			keys = append(keys, Key{Key: key, Env: envs[strings.TrimPrefix(gp, ".")], Default: def, Meaning: doc(fld)})
		}
	}
	walk(structs["Config"], reflect.ValueOf(config.Default()), "", "")
	return keys, nil
}

func typeName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.ArrayType:
		return typeName(t.Elt)
	case *ast.StarExpr:
		return typeName(t.X)
	}
	return ""
}

var envCall = regexp.MustCompile(`^VEILLE_[A-Z_]+$`)

// envOf maps Go field paths ("Classifier.Model") to the VEILLE_* variable
// read into them by calls such as str("VEILLE_MODEL", &c.Classifier.Model).
func envOf(f *ast.File) map[string]string {
	out := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) != 2 {
			return true
		}
		lit, ok := call.Args[0].(*ast.BasicLit)
		if !ok {
			return true
		}
		env := strings.Trim(lit.Value, `"`)
		un, ok := call.Args[1].(*ast.UnaryExpr)
		if !ok || !envCall.MatchString(env) {
			return true
		}
		var parts []string
		for x := un.X; ; {
			sel, ok := x.(*ast.SelectorExpr)
			if !ok {
				break
			}
			parts = append([]string{sel.Sel.Name}, parts...)
			x = sel.X
		}
		out[strings.Join(parts, ".")] = env
		return true
	})
	return out
}

func doc(f *ast.Field) string {
	text := ""
	if f.Doc != nil {
		text = f.Doc.Text()
	} else if f.Comment != nil {
		text = f.Comment.Text()
	}
	text = strings.Join(strings.Fields(text), " ")
	return strings.ReplaceAll(text, "|", "\\|")
}

func defaultOf(v reflect.Value) string {
	if !v.IsValid() || v.IsZero() {
		return ""
	}
	switch x := v.Interface().(type) {
	case config.Duration:
		return formatDuration(time.Duration(x))
	case []string:
		return strings.Join(x, ", ")
	}
	if v.Kind() == reflect.Slice || v.Kind() == reflect.Map {
		return ""
	}
	return fmt.Sprint(v.Interface())
}

// ConfigDoc is docs/config.md for the keys.
func ConfigDoc(keys []Key) string {
	var b strings.Builder
	b.WriteString("# Configuration reference\n\n")
	b.WriteString("Every key of `veille.yaml`, read from `pipeline/config/config.go` by\n")
	b.WriteString("`go test ./internal/docsgen/ -update`; a test fails when this page and the code differ.\n")
	b.WriteString("A `VEILLE_*` variable, where there is one, overrides the file. Lists of\n")
	b.WriteString("sources, alert rules and brief schedules are described where they are used:\n")
	b.WriteString("[ingest.md](ingest.md), [early-warning.md](early-warning.md), [guide-analysts.md](guide-analysts.md).\n\n")
	b.WriteString("| key | env | default | meaning |\n| --- | --- | --- | --- |\n")
	for _, k := range keys {
		env, def := "", ""
		if k.Env != "" {
			env = "`" + k.Env + "`"
		}
		if k.Default != "" {
			def = "`" + k.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", k.Key, env, def, k.Meaning)
	}
	return b.String()
}

// formatDuration writes a duration as veille.yaml does: whole days as
// "7d", else Go's form without zero units ("1m", not "1m0s").
func formatDuration(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
