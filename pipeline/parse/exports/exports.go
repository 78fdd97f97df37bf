package exports

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// Formats, as Detect returns them and Message.Format carries them.
const (
	FormatTelegramJSON   = "telegram-json"
	FormatWhatsAppTxt    = "whatsapp-txt" // also the .zip WhatsApp shares
	FormatCrowdTangleCSV = "crowdtangle-csv"
	FormatMetaCSV        = "meta-csv"
	FormatCSV            = "csv" // any CSV, through Options.HeaderMap
)

// Defaults for the zero Options.
const (
	DefaultMaxBytes      = 64 << 20
	DefaultMaxMessages   = 500_000
	DefaultMaxErrors     = 1_000
	DefaultMaxZipEntries = 20_000
)

// HeadSize is how many leading bytes Detect looks at; more are ignored.
const HeadSize = 8 << 10

var (
	// ErrUnknownFormat: the file is none of the supported exports.
	ErrUnknownFormat = errors.New("unknown export format")
	// ErrMalformed: the file claims a format but is unusable as a whole
	// (not JSON, no CSV header, no messages, not a zip).
	ErrMalformed = errors.New("malformed export")
	// ErrTooLarge: the input, or a zip entry once uncompressed, is over
	// Options.MaxBytes, or a zip entry inflates past the size it declares.
	ErrTooLarge = errors.New("export too large")
	// ErrTooManyEntries: a zip has more entries than Options.MaxZipEntries.
	ErrTooManyEntries = errors.New("too many zip entries")
	// ErrNoExport: a zip holds no file that is a supported export.
	ErrNoExport = errors.New("no export in archive")
	// ErrTooManyMessages: the file has more than Options.MaxMessages
	// messages; Parse returns the first MaxMessages with it.
	ErrTooManyMessages = errors.New("too many messages")
	// ErrTooManyErrors: more than Options.MaxErrors malformed lines, rows or
	// messages; Parse stops and returns what it had with it.
	ErrTooManyErrors = errors.New("too many malformed lines")
)

// Message is one message or post of an export.
type Message struct {
	Format string // one of the Format constants
	Chat   string // channel, chat, group or page name as the file gives it; may be ""
	// ID is stable within the file and across imports of the same file: the
	// Telegram message id ("<chat id>:<message id>" in a full-account export,
	// where ids repeat across chats), the post URL or id column of a CSV, or
	// else a hash of date, author, text and the count of identical earlier
	// messages.
	ID        string
	Author    string    // raw name or id as in the file: hash it, never log it
	Date      time.Time // UTC; see the package documentation for zones
	Text      string    // plain text, trimmed, never empty
	Links     []string  // URLs in the text and entities, first occurrence order, no duplicates
	Forwarded string    // forwarded-from name, where the format gives one
	Views     int       // where the format gives it, else 0
	// Line is the 1-based line (txt, csv) where the message starts, or its
	// 1-based position in its chat's "messages" array (json).
	Line int
}

// LineError is a malformed line, row or message that was skipped; parsing
// went on past it.
type LineError struct {
	File string // the name given to Parse; "archive.zip/entry.txt" inside a zip
	// Line is as in Message.Line. It is 0 only for JSON, when the error is
	// not inside one message (a whole chat of an account export, or the
	// document cut short between messages).
	Line int
	Err  error
}

func (e LineError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e LineError) Unwrap() error { return e.Err }

// Options tune Parse. The zero value is usable: limits take their defaults.
type Options struct {
	// Format skips detection when set to one of the Format constants.
	Format string
	// MaxBytes bounds the input and, for a zip, the total uncompressed size
	// of the entries read. Default DefaultMaxBytes.
	MaxBytes int64
	// MaxMessages bounds the messages returned. Default DefaultMaxMessages.
	MaxMessages int
	// MaxErrors bounds the LineErrors before a file is given up as not
	// being the format it looked like. Default DefaultMaxErrors.
	MaxErrors int
	// MaxZipEntries bounds the entries of a zip. Default DefaultMaxZipEntries.
	MaxZipEntries int
	// HeaderMap maps field names (text, date, author, url, id, chat, views)
	// to a generic CSV's column names; "text" is required. It is used only
	// for CSV files that are neither CrowdTangle nor Meta exports.
	HeaderMap map[string]string
	// Location is the zone of dates that carry none. Nil means UTC.
	Location *time.Location
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxMessages <= 0 {
		o.MaxMessages = DefaultMaxMessages
	}
	if o.MaxErrors <= 0 {
		o.MaxErrors = DefaultMaxErrors
	}
	if o.MaxZipEntries <= 0 {
		o.MaxZipEntries = DefaultMaxZipEntries
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	return o
}

// Detect recognises a file from its name and first bytes (HeadSize is
// enough): a Telegram result.json, a WhatsApp .txt or .zip, a CrowdTangle
// or Meta Content Library CSV. A generic CSV needs a column map: see
// DetectWith.
func Detect(name string, head []byte) (format string, ok bool) {
	return DetectWith(name, head, Options{})
}

// DetectWith is Detect that also recognises a generic CSV when
// opts.HeaderMap is set and the file's header has the column it maps
// "text" to.
func DetectWith(name string, head []byte, opts Options) (format string, ok bool) {
	if len(head) > HeadSize {
		head = head[:HeadSize]
	}
	if isZip(head) {
		return detectZip(name, head)
	}
	head = bytes.TrimPrefix(head, utf8BOM)
	switch strings.ToLower(path.Ext(slashed(name))) {
	case ".json":
		if looksTelegram(head) {
			return FormatTelegramJSON, true
		}
	case ".txt":
		if looksWhatsApp(head) {
			return FormatWhatsAppTxt, true
		}
	case ".csv", ".tsv":
		return detectCSV(csvText(head, true), opts.HeaderMap)
	}
	return "", false
}

// Parse reads one export — detected from name and content unless
// opts.Format is set — and returns its messages in file order. A malformed
// line, row or message is skipped and reported in errs; err is for a file
// that cannot be used at all (unknown format, not JSON, no CSV header, zip
// without an export, a limit exceeded). With ErrTooManyMessages or
// ErrTooManyErrors the messages read so far are returned too.
func Parse(ctx context.Context, name string, r io.Reader, opts Options) (msgs []Message, errs []LineError, err error) {
	opts = opts.withDefaults()
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("exports: %s: %w", name, err)
	}
	if err := checkHeaderMap(opts.HeaderMap); err != nil {
		return nil, nil, fmt.Errorf("exports: %s: %w", name, err)
	}
	data, err := io.ReadAll(io.LimitReader(r, opts.MaxBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("exports: %s: reading: %w", name, err)
	}
	if int64(len(data)) > opts.MaxBytes {
		hint := ""
		if isZip(data) {
			hint = "; a WhatsApp chat exported without media is much smaller"
		}
		return nil, nil, fmt.Errorf("exports: %s: %w: over %d bytes (Options.MaxBytes)%s", name, ErrTooLarge, opts.MaxBytes, hint)
	}
	p := &parser{ctx: ctx, opts: opts, file: name}
	if isZip(data) {
		err = p.parseZip(name, data)
	} else {
		err = p.parseFile(name, name, data)
	}
	return p.msgs, p.errs, err
}

// parser collects what one Parse call finds and enforces its limits.
type parser struct {
	ctx   context.Context
	opts  Options
	file  string // name LineErrors carry
	msgs  []Message
	errs  []LineError
	ticks int
}

// parseFile parses data as the format detected for name; chatName is the
// name a WhatsApp chat's title is read from (the zip's, for an entry).
func (p *parser) parseFile(name, chatName string, data []byte) error {
	format := p.opts.Format
	if format == "" {
		var ok bool
		if format, ok = DetectWith(name, data, p.opts); !ok {
			return fmt.Errorf("exports: %s: %w (want a Telegram result.json, a WhatsApp .txt or .zip, a CrowdTangle or Meta CSV, or a CSV with Options.HeaderMap)", p.file, ErrUnknownFormat)
		}
	}
	switch format {
	case FormatTelegramJSON:
		return p.parseTelegram(data)
	case FormatWhatsAppTxt:
		return p.parseWhatsApp(data, whatsAppChatName(chatName, name))
	case FormatCrowdTangleCSV, FormatMetaCSV, FormatCSV:
		return p.parseCSV(data, format)
	}
	return fmt.Errorf("exports: %s: %w: Options.Format %q", p.file, ErrUnknownFormat, format)
}

// add keeps m unless the message limit is reached.
func (p *parser) add(m Message) error {
	if len(p.msgs) >= p.opts.MaxMessages {
		return fmt.Errorf("exports: %s: %w: over %d (Options.MaxMessages)", p.file, ErrTooManyMessages, p.opts.MaxMessages)
	}
	p.msgs = append(p.msgs, m)
	return nil
}

// lineError records a skipped line unless the error limit is reached.
func (p *parser) lineError(line int, err error) error {
	if len(p.errs) >= p.opts.MaxErrors {
		return fmt.Errorf("exports: %s: %w: over %d (Options.MaxErrors)", p.file, ErrTooManyErrors, p.opts.MaxErrors)
	}
	p.errs = append(p.errs, LineError{File: p.file, Line: line, Err: err})
	return nil
}

// tick checks the context every few hundred lines.
func (p *parser) tick() error {
	p.ticks++
	if p.ticks%256 != 0 {
		return nil
	}
	if err := p.ctx.Err(); err != nil {
		return fmt.Errorf("exports: %s: %w", p.file, err)
	}
	return nil
}

var utf8BOM = []byte("\ufeff")

// slashed makes a Windows path's separators slashes so path.Base works.
func slashed(name string) string { return strings.ReplaceAll(name, `\`, "/") }
