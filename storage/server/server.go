// Package server is the ClickHouse server backend: the shared SQL of package
// storage over clickhouse-go's native protocol. It owns the connection pool,
// turning rows into their text forms, and classing failures as transient
// (worth a retry) or not.
package server

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	chdriver "github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/veille-project/veille/storage"
)

// Conn is a pool of native-protocol connections to one ClickHouse server.
type Conn struct {
	conn    chdriver.Conn
	version string
}

var _ storage.Conn = (*Conn)(nil)

// Open connects to a clickhouse://user:password@host:9000/db DSN and returns
// the connection and the database the DSN names ("" when none). The
// connection itself uses database "default", so that it works before the
// named database exists; every table is qualified.
func Open(ctx context.Context, dsn string) (*Conn, string, error) {
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return nil, "", fmt.Errorf("clickhouse: dsn: %w", err)
	}
	db := opts.Auth.Database
	if db == "default" {
		db = ""
	}
	opts.Auth.Database = "default"
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 5 * time.Second
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, "", fmt.Errorf("clickhouse: open %s: %w", strings.Join(opts.Addr, ","), classify(err))
	}
	c := &Conn{conn: conn}
	var v string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		conn.Close()
		return nil, "", fmt.Errorf("clickhouse: connect %s: %w", strings.Join(opts.Addr, ","), classify(err))
	}
	c.version = v
	return c, db, nil
}

// Name is "clickhouse".
func (c *Conn) Name() string { return "clickhouse" }

// Version is the server's version.
func (c *Conn) Version() string { return c.version }

// Exec runs a statement.
func (c *Conn) Exec(ctx context.Context, sql string) error {
	if err := c.conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("clickhouse: %w", classify(err))
	}
	return nil
}

// Query runs sql and returns each value in ClickHouse's text form.
func (c *Conn) Query(ctx context.Context, sql string) ([][]string, error) {
	rows, err := c.conn.Query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %w", classify(err))
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	ptrs := make([]any, len(types))
	for i, t := range types {
		ptrs[i] = reflect.New(t.ScanType()).Interface()
	}
	var out [][]string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("clickhouse: scan: %w", err)
		}
		row := make([]string, len(ptrs))
		for i, p := range ptrs {
			row[i] = text(reflect.ValueOf(p).Elem().Interface())
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse: %w", classify(err))
	}
	return out, nil
}

// text formats a scanned value the way ClickHouse's TabSeparated output
// does, so that both backends give the storage package the same strings.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case time.Time:
		return x.Format("2006-01-02 15:04:05")
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case uint8, uint16, uint32, uint64, int8, int16, int32, int64, int, uint:
		return fmt.Sprint(x)
	case *string:
		if x == nil {
			return `\N`
		}
		return *x
	default:
		return fmt.Sprint(x)
	}
}

// QueryFormat is unsupported: the native protocol returns blocks, not a
// server-side output format such as Parquet.
func (c *Conn) QueryFormat(ctx context.Context, sql, format string, w io.Writer) error {
	return fmt.Errorf("%w: %s output from clickhouse server %s over the native protocol (use the embedded backend, or csv/jsonl)",
		storage.ErrUnsupported, format, c.version)
}

// Insert sends rows as one batch; the INSERT names its columns, which old
// servers (18.x) need.
func (c *Conn) Insert(ctx context.Context, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	batch, err := c.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+")")
	if err != nil {
		return fmt.Errorf("clickhouse: insert into %s: %w", table, classify(err))
	}
	for _, r := range rows {
		if err := batch.Append(r...); err != nil {
			_ = batch.Abort()
			return fmt.Errorf("clickhouse: insert into %s: %w", table, classify(err))
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("clickhouse: insert into %s: %w", table, classify(err))
	}
	return nil
}

// Close closes the pool.
func (c *Conn) Close() error { return c.conn.Close() }

// classify wraps err with storage.ErrTransient when a retry may succeed.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		if storage.TransientCode(int(ex.Code)) {
			return fmt.Errorf("%w: %w", storage.ErrTransient, err)
		}
		return err
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, clickhouse.ErrAcquireConnTimeout),
		errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", storage.ErrTransient, err)
	}
	return err
}
