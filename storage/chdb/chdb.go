// Package chdb is the embedded backend: ClickHouse running in-process through
// chDB, with its data in one directory. It owns the process's single chDB
// session (chdb-go keeps one per process), serialises queries on it, and
// hands inserts to it through a batch file in RowBinary (JSON for column
// types the encoder does not cover).
package chdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/chdb/chdblib"
)

// ErrOtherDataDir is returned when a process that already opened chDB on
// one directory asks for another: chDB has one session per process.
var ErrOtherDataDir = errors.New("chdb: the process's chDB session already uses another data directory")

// The process-wide session, shared by every Conn and closed with the last.
var (
	mu      sync.Mutex // serialises every call into chDB
	session *chdblib.Conn
	path    string
	refs    int
	version string
)

// Conn is a handle on the process's chDB session.
type Conn struct {
	once sync.Once
}

var _ storage.Conn = (*Conn)(nil)

// Open opens (or joins) the process's chDB session on dataDir.
func Open(dataDir string) (*Conn, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("chdb: data dir %s: %w", dataDir, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if session != nil {
		if abs != path {
			return nil, fmt.Errorf("%w: %s (open: %s)", ErrOtherDataDir, abs, path)
		}
		refs++
		return &Conn{}, nil
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("chdb: data dir: %w", err)
	}
	s, err := chdblib.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("chdb: open session on %s: %w", abs, err)
	}
	out, err := query(s, "SELECT version()", "TabSeparated")
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("chdb: version: %w", err)
	}
	session, path, refs, version = s, abs, 1, strings.TrimSpace(string(out))
	return &Conn{}, nil
}

// query runs sql on s with mu held.
func query(s *chdblib.Conn, sql, format string) ([]byte, error) {
	return s.Query(sql, format)
}

func (c *Conn) run(ctx context.Context, sql, format string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	if session == nil {
		return nil, storage.ErrClosed
	}
	out, err := query(session, sql, format)
	if err != nil {
		return nil, classify(err)
	}
	return out, nil
}

var codeRe = regexp.MustCompile(`^Code: (\d+)\.`)

// classify wraps err with storage.ErrTransient when its ClickHouse code
// says a retry may succeed (too many parts, memory limit, timeout).
func classify(err error) error {
	if m := codeRe.FindStringSubmatch(err.Error()); m != nil {
		if code, _ := strconv.Atoi(m[1]); storage.TransientCode(code) {
			return fmt.Errorf("chdb: %w: %w", storage.ErrTransient, err)
		}
	}
	return fmt.Errorf("chdb: %w", err)
}

// Name is "chdb".
func (c *Conn) Name() string { return "chdb" }

// Version is chDB's ClickHouse version.
func (c *Conn) Version() string {
	mu.Lock()
	defer mu.Unlock()
	return version
}

// Exec runs a statement.
func (c *Conn) Exec(ctx context.Context, sql string) error {
	_, err := c.run(ctx, sql, "TabSeparated")
	return err
}

// Query runs sql and parses its TabSeparated output.
func (c *Conn) Query(ctx context.Context, sql string) ([][]string, error) {
	out, err := c.run(ctx, sql, "TabSeparated")
	if err != nil {
		return nil, err
	}
	return ParseTSV(out), nil
}

// QueryFormat writes the result of sql in a ClickHouse output format.
func (c *Conn) QueryFormat(ctx context.Context, sql, format string, w io.Writer) error {
	out, err := c.run(ctx, sql, format)
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// Insert writes rows to the batch file in RowBinary (JSON arrays, one per
// row, where a column type has no RowBinary encoding here) and inserts them
// with INSERT ... SELECT FROM file(): ClickHouse reads a file several times
// faster than data inlined in the query, and RowBinary needs no parsing.
func (c *Conn) Insert(ctx context.Context, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	st, err := c.structure(ctx, table, cols)
	if err != nil {
		return err
	}
	for _, row := range rows {
		if len(row) != len(cols) {
			return fmt.Errorf("chdb: insert into %s: row has %d values for %d columns", table, len(row), len(cols))
		}
	}
	format, buf := "RowBinary", []byte(nil)
	if st.rowBinary {
		buf, err = encodeRowBinary(rows, st.types)
	}
	if !st.rowBinary || errors.Is(err, errNoRowBinary) {
		format = "JSONCompactEachRow"
		buf, err = encodeJSON(rows, cols)
	}
	if err != nil {
		return fmt.Errorf("chdb: insert into %s: %w", table, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	if session == nil {
		return storage.ErrClosed
	}
	// One batch file, rewritten in place for every insert (calls into chDB
	// are serialised anyway): creating and deleting a file per batch costs
	// more than writing it on file systems that scan recently freed inodes
	// on create. It is emptied once inserted.
	name := filepath.Join(path, "inserts", "batch")
	if err := writeBatch(name, buf); err != nil {
		return fmt.Errorf("chdb: insert into %s: batch file: %w", table, err)
	}
	defer func() { _ = os.Truncate(name, 0) }()
	sql := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") SELECT * FROM file(" +
		storage.Quote(name) + ", " + storage.Quote(format) + ", " + storage.Quote(st.structure) + ")" + insertSettings
	if _, err := query(session, sql, "TabSeparated"); err != nil {
		return classify(err)
	}
	return nil
}

var _ storage.HashQuerier = (*Conn)(nil)

// QueryHashes runs sql with {hashes} read from the batch file (RowBinary
// UInt64s): parsing thousands of numbers out of SQL text costs more than
// reading them from a file.
func (c *Conn) QueryHashes(ctx context.Context, sql string, hashes []uint64) ([][]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	buf := make([]byte, 0, 8*len(hashes))
	for _, h := range hashes {
		buf = binary.LittleEndian.AppendUint64(buf, h)
	}
	mu.Lock()
	defer mu.Unlock()
	if session == nil {
		return nil, storage.ErrClosed
	}
	name := filepath.Join(path, "inserts", "batch")
	if err := writeBatch(name, buf); err != nil {
		return nil, fmt.Errorf("chdb: hashes: batch file: %w", err)
	}
	defer func() { _ = os.Truncate(name, 0) }()
	sql = strings.ReplaceAll(sql, "{hashes}", "file("+storage.Quote(name)+", 'RowBinary', 'h UInt64')")
	out, err := query(session, sql, "TabSeparated")
	if err != nil {
		return nil, classify(err)
	}
	return ParseTSV(out), nil
}

// writeBatch replaces the contents of the batch file name with buf.
func writeBatch(name string, buf []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(name), 0o700); err == nil {
			f, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		}
	}
	if err != nil {
		return err
	}
	_, err = f.Write(buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func encodeRowBinary(rows [][]any, types []string) ([]byte, error) {
	buf := make([]byte, 0, len(rows)*192)
	var err error
	for _, row := range rows {
		for i, v := range row {
			if buf, err = appendRowBinary(buf, types[i], v); err != nil {
				return nil, err
			}
		}
	}
	return buf, nil
}

func encodeJSON(rows [][]any, cols []string) ([]byte, error) {
	buf := make([]byte, 0, len(rows)*256)
	for _, row := range rows {
		buf = append(buf, '[')
		for i, v := range row {
			if i > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = appendValue(buf, v); err != nil {
				return nil, fmt.Errorf("column %s: %w", cols[i], err)
			}
		}
		buf = append(buf, ']', '\n')
	}
	return buf, nil
}

// insertSettings cut work chDB need not do on a batch insert: a batch is
// small enough that parsing it in parallel costs more than it saves, and
// replacing rows of one key within the inserted block (optimize_on_insert)
// is left to merges and to FINAL, which every read of a replacing table
// uses anyway.
const insertSettings = " SETTINGS optimize_on_insert = 0, input_format_parallel_parsing = 0"

// structures caches the file() structure per table and column list.
var structures sync.Map

// fileStructure is the "col Type, ..." of a column list, its types, and
// whether RowBinary can carry them.
type fileStructure struct {
	structure string
	types     []string
	rowBinary bool
}

// structure returns the file() structure of cols of table, from the
// table's own column types.
func (c *Conn) structure(ctx context.Context, table string, cols []string) (*fileStructure, error) {
	key := table + "\x00" + strings.Join(cols, ",")
	if v, ok := structures.Load(key); ok {
		return v.(*fileStructure), nil
	}
	db, tb, ok := strings.Cut(table, ".")
	if !ok {
		return nil, fmt.Errorf("chdb: insert into %s: want database.table", table)
	}
	rows, err := c.Query(ctx, "SELECT name, type FROM system.columns WHERE database = "+storage.Quote(db)+" AND table = "+storage.Quote(tb))
	if err != nil {
		return nil, fmt.Errorf("chdb: insert into %s: column types: %w", table, err)
	}
	types := make(map[string]string, len(rows))
	for _, r := range rows {
		types[r[0]] = r[1]
	}
	st := &fileStructure{types: make([]string, len(cols))}
	parts := make([]string, len(cols))
	for i, col := range cols {
		t, ok := types[col]
		if !ok {
			return nil, fmt.Errorf("chdb: insert into %s: no column %s", table, col)
		}
		st.types[i] = t
		// The batch file declares LowCardinality columns as plain String:
		// reading rows into a LowCardinality column builds its dictionary
		// value by value, several times slower than converting the whole
		// String column once on insert.
		if t == "LowCardinality(String)" {
			t = "String"
		}
		parts[i] = col + " " + t
	}
	st.structure = strings.Join(parts, ", ")
	st.rowBinary = rowBinaryTypes(st.types)
	structures.Store(key, st)
	return st, nil
}

// Close releases this handle; the session closes with the last one.
func (c *Conn) Close() error {
	c.once.Do(func() {
		mu.Lock()
		defer mu.Unlock()
		refs--
		if refs == 0 && session != nil {
			session.Close()
			session = nil
		}
	})
	return nil
}

func appendValue(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendJSONString(buf, x), nil
	case []string:
		buf = append(buf, '[')
		for i, s := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, s)
		}
		return append(buf, ']'), nil
	case uint8:
		return strconv.AppendUint(buf, uint64(x), 10), nil
	case uint32:
		return strconv.AppendUint(buf, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(buf, x, 10), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case int:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			x = 0
		}
		return strconv.AppendFloat(buf, x, 'g', -1, 64), nil
	case time.Time:
		// Unix seconds: read the same whatever the session's time zone.
		return strconv.AppendInt(buf, x.Unix(), 10), nil
	default:
		return buf, fmt.Errorf("unsupported value type %T", v)
	}
}

// appendJSONString writes s as a JSON string. Bytes that are not valid
// UTF-8 pass through unchanged (ClickHouse strings are bytes), so every
// string round-trips exactly.
func appendJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"':
			buf = append(buf, '\\', '"')
		case '\\':
			buf = append(buf, '\\', '\\')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\t':
			buf = append(buf, '\\', 't')
		case '\r':
			buf = append(buf, '\\', 'r')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		}
		start = i + 1
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// ParseTSV splits ClickHouse TabSeparated output into rows of unescaped
// fields.
func ParseTSV(out []byte) [][]string {
	if len(out) == 0 {
		return nil
	}
	lines := bytes.Split(bytes.TrimSuffix(out, []byte{'\n'}), []byte{'\n'})
	rows := make([][]string, len(lines))
	for i, line := range lines {
		fields := bytes.Split(line, []byte{'\t'})
		row := make([]string, len(fields))
		for j, f := range fields {
			row[j] = unescapeTSV(f)
		}
		rows[i] = row
	}
	return rows
}

func unescapeTSV(f []byte) string {
	if bytes.IndexByte(f, '\\') < 0 {
		return string(f)
	}
	out := make([]byte, 0, len(f))
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '\\' || i+1 == len(f) {
			out = append(out, c)
			continue
		}
		i++
		switch f[i] {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case '0':
			out = append(out, 0)
		case 'a':
			out = append(out, '\a')
		case 'v':
			out = append(out, '\v')
		case 'x':
			if i+2 < len(f) {
				if v, err := strconv.ParseUint(string(f[i+1:i+3]), 16, 8); err == nil {
					out = append(out, byte(v))
					i += 2
					continue
				}
			}
			out = append(out, 'x')
		default:
			out = append(out, f[i])
		}
	}
	return string(out)
}
