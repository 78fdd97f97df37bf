package storage

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// Conn is the thin layer each backend implements under the shared SQL:
// statements, queries whose rows come back as ClickHouse's text forms, and
// batch inserts that name their columns.
type Conn interface {
	// Name is "chdb" or "clickhouse".
	Name() string
	// Version is the engine's version, e.g. "26.5.1.1" or "18.16.1".
	Version() string
	Exec(ctx context.Context, sql string) error
	// Query returns each row as the text form of its values: numbers in
	// decimal, DateTime as "2006-01-02 15:04:05" in the column's zone,
	// strings raw.
	Query(ctx context.Context, sql string) ([][]string, error)
	// Insert appends rows to db.table; each row holds, in cols order, values
	// of type string, []string, uint8, uint32, uint64, int64, float64 or
	// time.Time.
	Insert(ctx context.Context, table string, cols []string, rows [][]any) error
	// QueryFormat writes the result of sql in a ClickHouse output format
	// (e.g. Parquet); ErrUnsupported when the backend cannot.
	QueryFormat(ctx context.Context, sql, format string, w io.Writer) error
	Close() error
}

// HashQuerier is implemented by a Conn that can hand a query a list of
// hashes more cheaply than as SQL text.
type HashQuerier interface {
	// QueryHashes runs sql, in which {hashes} stands for a table of one
	// UInt64 column h holding hashes.
	QueryHashes(ctx context.Context, sql string, hashes []uint64) ([][]string, error)
}

// Sentinel errors callers branch on.
var (
	// ErrTransient marks a failure worth retrying with backoff: the server
	// is unreachable, restarting, overloaded or timed out. Errors without it
	// (bad SQL, bad value, unsupported feature) will fail again.
	ErrTransient = errors.New("storage: transient failure")
	// ErrUnsupported marks a feature the backend or its version lacks.
	ErrUnsupported = errors.New("storage: unsupported by this backend")
	// ErrBadQuery marks a query with an unknown dimension, format or range.
	ErrBadQuery = errors.New("storage: bad query")
	// ErrClosed is returned by a closed store.
	ErrClosed = errors.New("storage: closed")
)

// transientCodes are ClickHouse exception codes worth a retry.
var transientCodes = map[int]bool{
	159: true, // TIMEOUT_EXCEEDED
	202: true, // TOO_MANY_SIMULTANEOUS_QUERIES
	203: true, // NO_FREE_CONNECTION
	209: true, // SOCKET_TIMEOUT
	210: true, // NETWORK_ERROR
	241: true, // MEMORY_LIMIT_EXCEEDED
	252: true, // TOO_MANY_PARTS
	394: true, // QUERY_WAS_CANCELLED
}

// TransientCode reports whether a ClickHouse exception code marks a failure
// worth retrying (see ErrTransient).
func TransientCode(code int) bool { return transientCodes[code] }

// Quote returns s as a ClickHouse string literal. Backslash and quote are
// escaped and every control byte is written as \xHH, so the literal holds no
// raw newline or NUL; other bytes pass through unchanged. All values that
// reach SQL text go through Quote, QuoteList, Time or strconv.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\'':
			b.WriteString(`\'`)
		case c < 0x20 || c == 0x7f:
			const hex = "0123456789ABCDEF"
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// QuoteList returns values as a parenthesised list of literals for IN.
func QuoteList(values []string) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = Quote(v)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// inSet returns "col IN set" for many values: one string literal split on
// the server, far cheaper to parse than thousands of literals. Values that
// hold the separator fall back to a plain list.
func inSet(col string, values []string) string {
	const sep = "\x1f"
	if len(values) < 64 {
		return col + " IN " + QuoteList(values)
	}
	for _, v := range values {
		if strings.Contains(v, sep) {
			return col + " IN " + QuoteList(values)
		}
	}
	return col + " IN (SELECT arrayJoin(splitByChar(" + Quote(sep) + ", " + Quote(strings.Join(values, sep)) + ")))"
}

// QuoteArray returns values as an Array(String) literal.
func QuoteArray(values []string) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = Quote(v)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Time returns t as a DateTime expression; a Unix timestamp does not depend
// on any server time zone. Times outside DateTime's range are clamped.
func Time(t time.Time) string {
	return "toDateTime(" + strconv.FormatInt(clampUnix(t), 10) + ")"
}

// maxUnix is the last second a DateTime holds (2106-02-07).
const maxUnix = 1<<32 - 1

func clampUnix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	u := t.Unix()
	if u < 0 {
		return 0
	}
	if u > maxUnix {
		return maxUnix
	}
	return u
}

// DBTime returns t as it is stored in a DateTime column: UTC, to the
// second, within DateTime's range; the zero time is stored as the epoch.
func DBTime(t time.Time) time.Time {
	return time.Unix(clampUnix(t), 0).UTC()
}

// dateTimeLayout is ClickHouse's text form of DateTime.
const dateTimeLayout = "2006-01-02 15:04:05"

// parseTime reads a DateTime in its text form; the epoch reads as the zero
// time, which is how an unset time is stored.
func parseTime(s string) time.Time {
	t, err := time.ParseInLocation(dateTimeLayout, s, time.UTC)
	if err != nil || t.Unix() == 0 {
		return time.Time{}
	}
	return t
}

func parseInt(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		u, _ := strconv.ParseUint(s, 10, 64)
		return int64(u)
	}
	return n
}

func parseFloat(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
