// Package envscan reads Go source to learn which environment variables a
// program reads and which defaults it declares, so deployment descriptors
// (docker compose, Kubernetes, the local stack) can be checked against the
// code instead of against a list someone must remember to update.
package envscan

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var varName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// Reads returns the environment variables read by the non-test Go files
// under dir: every call such as getenv("X"), os.Getenv("X"),
// p.Getenv("X"), env("X") or os.LookupEnv("X") with a constant name.
func Reads(dir string) ([]string, error) {
	seen := map[string]bool{}
	err := walk(dir, func(f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 || !readsEnv(call.Fun) {
				return true
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if name, err := strconv.Unquote(lit.Value); err == nil && varName.MatchString(name) {
					seen[name] = true
				}
			}
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

func readsEnv(fun ast.Expr) bool {
	var name string
	switch f := fun.(type) {
	case *ast.Ident:
		name = f.Name
	case *ast.SelectorExpr:
		name = f.Sel.Name
	default:
		return false
	}
	name = strings.ToLower(name)
	return name == "env" || strings.HasSuffix(name, "getenv") || name == "lookupenv"
}

// StringField returns the constant string values given to field name in
// composite literals under dir, e.g. DefaultAddr: "127.0.0.1:8081".
func StringField(dir, field string) ([]string, error) {
	var out []string
	err := walk(dir, func(f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			kv, ok := n.(*ast.KeyValueExpr)
			if !ok {
				return true
			}
			if key, ok := kv.Key.(*ast.Ident); ok && key.Name == field {
				if lit, ok := kv.Value.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if v, err := strconv.Unquote(lit.Value); err == nil {
						out = append(out, v)
					}
				}
			}
			return true
		})
	})
	return out, err
}

func walk(dir string, visit func(*ast.File)) error {
	fset := token.NewFileSet()
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		found = true
		visit(f)
		return nil
	})
	if err == nil && !found {
		err = fmt.Errorf("no Go files under %s", dir)
	}
	return err
}
