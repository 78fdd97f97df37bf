// Package chdblib finds and opens libchdb.so, the embedded ClickHouse
// engine, on first use: a binary that never opens the embedded backend
// (classify, eval, feeds check, train, a server deployment) runs without
// it. It speaks the library's C API through purego, with no cgo.
package chdblib

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// Version is the libchdb release the project installs (scripts/setup-chdb.sh).
const Version = "26.5.3"

// ErrMissing: no libchdb.so was found.
var ErrMissing = errors.New("libchdb.so not found: run `make setup` or `veille setup` (installs it under .cache/chdb/" + Version + ") or set CHDB_LIB_PATH")

// Find returns the library to load: CHDB_LIB_PATH, else
// .cache/chdb/<Version>/libchdb.so under VEILLE_HOME, the working directory
// and its parents (tests run in package directories), beside the
// executable and its parents, and the user's cache (veille setup); "" when
// none exists.
func Find() string {
	if p := os.Getenv("CHDB_LIB_PATH"); p != "" {
		return p
	}
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
	if p := UserCache(); p != "" {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// UserCache is where veille setup installs the library outside a checkout:
// $XDG_CACHE_HOME/veille/chdb/<Version>/libchdb.so (or ~/.cache/...).
func UserCache() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "veille", "chdb", Version, "libchdb.so")
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

type connection struct{ internal unsafe.Pointer }
type result struct{ internal unsafe.Pointer }

// lib holds the library's functions.
type lib struct {
	connect   func(argc int, argv []*byte) *connection
	closeConn func(conn *connection)
	query     func(conn unsafe.Pointer, query, format string) *result
	destroy   func(r *result)
	buffer    func(r *result) *byte
	length    func(r *result) uint
	errorMsg  func(r *result) string
}

var (
	once    sync.Once
	loaded  *lib
	loadErr error
)

func load() (*lib, error) {
	once.Do(func() {
		path := Find()
		if path == "" {
			loadErr = ErrMissing
			return
		}
		h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err != nil {
			loadErr = fmt.Errorf("chdb: load %s: %w", path, err)
			return
		}
		l := &lib{}
		for name, fn := range map[string]any{
			"chdb_connect": &l.connect, "chdb_close_conn": &l.closeConn, "chdb_query": &l.query,
			"chdb_destroy_query_result": &l.destroy, "chdb_result_buffer": &l.buffer,
			"chdb_result_length": &l.length, "chdb_result_error": &l.errorMsg,
		} {
			if _, err := purego.Dlsym(h, name); err != nil {
				loadErr = fmt.Errorf("chdb: %s has no %s: %w", path, name, err)
				return
			}
			purego.RegisterLibFunc(fn, h, name)
		}
		loaded = l
	})
	return loaded, loadErr
}

// Conn is an open chDB engine on one data directory. chDB allows one per
// process; callers serialise its use.
type Conn struct {
	l    *lib
	conn *connection
}

// Open loads the library if needed and starts the engine on dir.
func Open(dir string) (c *Conn, err error) {
	l, err := load()
	if err != nil {
		return nil, err
	}
	args := []string{"clickhouse", "--path=" + dir}
	argv := make([]*byte, len(args))
	for i, a := range args {
		b := append([]byte(a), 0)
		argv[i] = &b[0]
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("chdb: connect: %v", r)
		}
	}()
	conn := l.connect(len(argv), argv)
	if conn == nil {
		return nil, fmt.Errorf("chdb: could not start the engine on %s", dir)
	}
	return &Conn{l: l, conn: conn}, nil
}

// Query runs sql and returns its output in format, copied.
func (c *Conn) Query(sql, format string) ([]byte, error) {
	r := c.l.query(c.conn.internal, sql, format)
	if r == nil {
		return nil, nil
	}
	defer c.l.destroy(r)
	if msg := c.l.errorMsg(r); msg != "" {
		return nil, errors.New(msg)
	}
	buf, n := c.l.buffer(r), c.l.length(r)
	if buf == nil || n == 0 {
		return nil, nil
	}
	return append([]byte(nil), unsafe.Slice(buf, n)...), nil
}

// Close stops the engine.
func (c *Conn) Close() {
	if c.conn != nil {
		c.l.closeConn(c.conn)
		c.conn = nil
	}
}
