// Package chdblib points chdb-go at the project-local libchdb.so before
// chdb-go loads it. chdb-go opens the library in a package init and panics
// when it is missing, so this package must be initialised first: it imports
// only os and path/filepath, and Go initialises it before os/exec (which
// chdb-go's loader imports), because packages are initialised in import-path
// order once their own imports are ready.
package chdblib

import (
	"fmt"
	"os"
	"path/filepath"
)

// Version is the libchdb release the project installs (scripts/setup-chdb.sh).
const Version = "26.5.3"

// Path is the library chdb-go will load, or "" when none was found.
var Path string

func init() {
	if p := os.Getenv("CHDB_LIB_PATH"); p != "" {
		Path = p
		return
	}
	Path = find()
	if Path == "" {
		fmt.Fprintf(os.Stderr, "veille: libchdb.so not found: run `make setup` (installs it under .cache/chdb/%s) or set CHDB_LIB_PATH\n", Version)
		os.Exit(1)
	}
	os.Setenv("CHDB_LIB_PATH", Path)
}

// find looks for .cache/chdb/<Version>/libchdb.so under VEILLE_HOME, then in
// the working directory and its parents (tests run in package directories),
// then beside the executable and its parents.
func find() string {
	rel := filepath.Join(".cache", "chdb", Version, "libchdb.so")
	var roots []string
	if h := os.Getenv("VEILLE_HOME"); h != "" {
		roots = append(roots, h)
	}
	if wd, err := os.Getwd(); err == nil {
		roots = append(roots, parents(wd)...)
	}
	if exe, err := os.Executable(); err == nil {
		roots = append(roots, parents(filepath.Dir(exe))...)
	}
	for _, r := range roots {
		p := filepath.Join(r, rel)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

func parents(dir string) []string {
	var out []string
	for {
		out = append(out, dir)
		up := filepath.Dir(dir)
		if up == dir {
			return out
		}
		dir = up
	}
}
