package exports

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"
)

// CSV exports are read with encoding/csv, strict about quotes but not about
// the number of fields, so one bad row is reported and skipped instead of
// ending the file. Column names are matched without regard to case or
// surrounding spaces, in any order.

// headerFields are the field names Options.HeaderMap may map.
var headerFields = []string{"text", "date", "author", "url", "id", "chat", "views"}

func checkHeaderMap(hm map[string]string) error {
	if len(hm) == 0 {
		return nil
	}
	for k := range hm {
		if !slices.Contains(headerFields, k) {
			return fmt.Errorf("Options.HeaderMap: unknown field %q (want one of %s)", k, strings.Join(headerFields, ", "))
		}
	}
	if strings.TrimSpace(hm["text"]) == "" {
		return errors.New(`Options.HeaderMap: no column for "text"`)
	}
	return nil
}

// csvColumns indexes a header by lower-case, trimmed column name; the first
// of two equal names wins.
func csvColumns(header []string) map[string]int {
	cols := make(map[string]int, len(header))
	for i, h := range header {
		k := colKey(h)
		if _, dup := cols[k]; !dup {
			cols[k] = i
		}
	}
	return cols
}

func colKey(name string) string { return strings.ToLower(trimText(name)) }

func isCrowdTangle(cols map[string]int) bool {
	return has(cols, "post created") && has(cols, "url") && (has(cols, "page name") || has(cols, "account"))
}

func isMeta(cols map[string]int) bool {
	return has(cols, "creation_time") && has(cols, "text") && (has(cols, "post_owner.name") || has(cols, "post_owner.id"))
}

func has(cols map[string]int, name string) bool {
	_, ok := cols[name]
	return ok
}

// csvText returns CSV bytes as UTF-8. Spreadsheets save CSV as UTF-8
// (with or without BOM), UTF-16 with BOM, or Windows-1252; text that is
// mostly valid UTF-8 is taken as UTF-8 with bad bytes replaced, so one
// corrupt byte does not turn every accent into mojibake. head says data
// may end inside a character.
func csvText(data []byte, head bool) []byte {
	switch {
	case bytes.HasPrefix(data, utf8BOM):
		data = data[len(utf8BOM):]
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}), bytes.HasPrefix(data, []byte{0xfe, 0xff}):
		out, err := xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM).NewDecoder().Bytes(data)
		if err == nil {
			return out
		}
	}
	if head {
		data = data[:completeRunes(data)]
	}
	if utf8.Valid(data) {
		return data
	}
	var multi, bad int
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			bad++
		case n > 1:
			multi++
		}
		i += n
	}
	if multi >= bad {
		return bytes.ToValidUTF8(data, []byte("\uFFFD"))
	}
	if out, err := charmap.Windows1252.NewDecoder().Bytes(data); err == nil {
		return out
	}
	return bytes.ToValidUTF8(data, []byte("\uFFFD"))
}

// completeRunes is the length of data without a character cut at its end.
func completeRunes(data []byte) int {
	for j := 1; j <= utf8.UTFMax && j <= len(data); j++ {
		if utf8.RuneStart(data[len(data)-j]) {
			if !utf8.FullRune(data[len(data)-j:]) {
				return len(data) - j
			}
			break
		}
	}
	return len(data)
}

// sniffComma picks the separator of the header line: comma, semicolon (as
// French spreadsheets write) or tab, whichever is most frequent.
func sniffComma(data []byte) rune {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	comma, best := ',', bytes.Count(line, []byte(","))
	for _, c := range []rune{';', '\t'} {
		if n := bytes.Count(line, []byte(string(c))); n > best {
			comma, best = c, n
		}
	}
	return comma
}

// detectCSV recognises a CSV head by its header row.
func detectCSV(head []byte, hm map[string]string) (string, bool) {
	r := csv.NewReader(bytes.NewReader(head))
	r.Comma = sniffComma(head)
	r.FieldsPerRecord = -1
	header, _ := r.Read() // a header cut short by the head is still useful
	if len(header) < 2 {
		return "", false
	}
	cols := csvColumns(header)
	switch {
	case isCrowdTangle(cols):
		return FormatCrowdTangleCSV, true
	case isMeta(cols):
		return FormatMetaCSV, true
	case checkHeaderMap(hm) == nil && len(hm) > 0 && has(cols, colKey(hm["text"])):
		return FormatCSV, true
	}
	return "", false
}

// csvMap says which columns hold what; -1 is absent. Lists are tried in
// order and the first non-empty cell wins.
type csvMap struct {
	text     []int
	textAlt  []int // joined when text is empty
	date     int
	day, tod int // a date split in two columns, used when date is empty
	author   []int
	chat     []int
	id       []int
	views    []int
	links    []int
}

func (p *parser) csvMapFor(format string, cols map[string]int) (csvMap, error) {
	col := func(name string) int {
		if i, ok := cols[colKey(name)]; ok {
			return i
		}
		return -1
	}
	list := func(names ...string) []int {
		var out []int
		for _, n := range names {
			if i := col(n); i >= 0 {
				out = append(out, i)
			}
		}
		return out
	}
	switch format {
	case FormatCrowdTangleCSV:
		return csvMap{
			text:    list("Message"),
			textAlt: list("Image Text", "Link Text", "Description"),
			date:    col("Post Created"),
			day:     col("Post Created Date"),
			tod:     col("Post Created Time"),
			author:  list("User Name", "Facebook Id"),
			chat:    list("Page Name", "Account"),
			id:      list("URL"),
			views:   list("Post Views", "Total Views"),
			links:   list("Link", "Final Link"),
		}, nil
	case FormatMetaCSV:
		return csvMap{
			text:   list("text"),
			date:   col("creation_time"),
			day:    -1,
			tod:    -1,
			author: list("post_owner.name", "post_owner.id"),
			chat:   list("post_owner.name"),
			id:     list("id"),
			views:  list("statistics.views"),
			links:  list("link_attachment.link"),
		}, nil
	}
	hm := p.opts.HeaderMap
	if len(hm) == 0 {
		return csvMap{}, fmt.Errorf("exports: %s: %w: a generic CSV needs Options.HeaderMap", p.file, ErrUnknownFormat)
	}
	var missing []string
	mapped := func(field string) []int {
		name, ok := hm[field]
		if !ok || strings.TrimSpace(name) == "" {
			return nil
		}
		i := col(name)
		if i < 0 {
			missing = append(missing, fmt.Sprintf("%s (%q)", field, name))
			return nil
		}
		return []int{i}
	}
	m := csvMap{
		text:   mapped("text"),
		date:   -1,
		day:    -1,
		tod:    -1,
		author: mapped("author"),
		chat:   mapped("chat"),
		id:     append(mapped("id"), mapped("url")...),
		views:  mapped("views"),
	}
	if d := mapped("date"); d != nil {
		m.date = d[0]
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return csvMap{}, fmt.Errorf("exports: %s: %w: no column for %s in the header", p.file, ErrMalformed, strings.Join(missing, ", "))
	}
	return m, nil
}

// csvRows reads records and, after an unclosed quote swallowed the lines
// that follow, starts again on the line after the bad record's first.
type csvRows struct {
	data     []byte
	r        *csv.Reader
	base     int // lines before the current reader's first line
	off      int // byte offset where the current reader starts
	restarts int
	comma    rune
}

// maxCSVRestarts bounds the re-reading an unclosed quote causes, which is
// the rest of the file each time.
const maxCSVRestarts = 16

func newCSVRows(data []byte) *csvRows {
	s := &csvRows{data: data, comma: sniffComma(data)}
	s.reset(0, 0)
	return s
}

func (s *csvRows) reset(off, base int) {
	s.off, s.base = off, base
	s.r = csv.NewReader(bytes.NewReader(s.data[off:]))
	s.r.Comma = s.comma
	s.r.FieldsPerRecord = -1
}

// next returns the next record and its first line; err is io.EOF at the end
// and otherwise a description of the bad row starting at line.
func (s *csvRows) next() (rec []string, line int, err error) {
	rec, err = s.r.Read()
	if err == nil {
		l, _ := s.r.FieldPos(0)
		return rec, s.base + l, nil
	}
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return nil, 0, err
	}
	start, at := s.base+pe.StartLine, s.base+pe.Line
	if pe.Line > pe.StartLine && s.restarts < maxCSVRestarts {
		s.restarts++
		off := s.off
		for range pe.StartLine {
			i := bytes.IndexByte(s.data[off:], '\n')
			if i < 0 {
				off = len(s.data)
				break
			}
			off += i + 1
		}
		s.reset(off, start)
	}
	if at != start {
		return nil, start, fmt.Errorf("line %d, column %d: %w", at, pe.Column, pe.Err)
	}
	return nil, start, fmt.Errorf("column %d: %w", pe.Column, pe.Err)
}

func (p *parser) parseCSV(data []byte, format string) error {
	rows := newCSVRows(csvText(data, false))
	header, _, err := rows.next()
	if err == io.EOF {
		return fmt.Errorf("exports: %s: %w: empty file, no header row", p.file, ErrMalformed)
	}
	if err != nil {
		return fmt.Errorf("exports: %s: %w: header row: %w", p.file, ErrMalformed, err)
	}
	cm, err := p.csvMapFor(format, csvColumns(header))
	if err != nil {
		return err
	}
	if len(cm.text) == 0 {
		return fmt.Errorf("exports: %s: %w: no text column in the header", p.file, ErrMalformed)
	}
	if format != FormatCSV && cm.date < 0 && (cm.day < 0 || cm.tod < 0) {
		return fmt.Errorf("exports: %s: %w: no date column in the header", p.file, ErrMalformed)
	}
	ids := idCounter{}
	for {
		rec, line, err := rows.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if err := p.lineError(line, err); err != nil {
				return err
			}
			continue
		}
		if err := p.tick(); err != nil {
			return err
		}
		if len(rec) < len(header) || len(rec) > len(header) && !allEmpty(rec[len(header):]) {
			if err := p.lineError(line, fmt.Errorf("row has %d fields, header has %d", len(rec), len(header))); err != nil {
				return err
			}
			continue
		}
		m, keep, err := p.csvMessage(format, cm, rec, ids)
		if err != nil {
			if err := p.lineError(line, err); err != nil {
				return err
			}
			continue
		}
		if keep {
			m.Line = line
			if err := p.add(m); err != nil {
				return err
			}
		}
	}
}

func allEmpty(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// csvMessage converts one row; keep is false for a post without text.
func (p *parser) csvMessage(format string, cm csvMap, rec []string, ids idCounter) (Message, bool, error) {
	first := func(idx []int) string {
		for _, i := range idx {
			if v := trimText(rec[i]); v != "" {
				return v
			}
		}
		return ""
	}
	text := first(cm.text)
	if text == "" {
		var parts []string
		for _, i := range cm.textAlt {
			if v := trimText(rec[i]); v != "" {
				parts = append(parts, v)
			}
		}
		text = strings.Join(parts, "\n\n")
	}
	if text == "" {
		return Message{}, false, nil
	}
	var date, wall time.Time
	ds := ""
	if cm.date >= 0 {
		ds = trimText(rec[cm.date])
	}
	var err error
	switch {
	case ds != "":
		date, wall, err = parseCSVDate(ds, p.opts.Location)
	case cm.day >= 0 && cm.tod >= 0 && trimText(rec[cm.day]) != "":
		date, wall, err = parseCSVDate(trimText(rec[cm.day])+" "+trimText(rec[cm.tod]), p.opts.Location)
	case cm.date >= 0 || cm.day >= 0:
		err = errors.New("no date")
	}
	if err != nil {
		return Message{}, false, err
	}
	author := first(cm.author)
	var links []string
	for _, i := range cm.links {
		if v := trimText(rec[i]); v != "" && !strings.ContainsAny(v, " \t\n") {
			links = appendLink(links, v)
		}
	}
	id := first(cm.id)
	if id == "" {
		id = ids.next(format, wall, author, text)
	}
	return Message{
		Format: format,
		Chat:   first(cm.chat),
		ID:     id,
		Author: author,
		Date:   date,
		Text:   text,
		Links:  findLinks(links, text),
		Views:  parseCount(first(cm.views)),
	}, true, nil
}

// parseCount reads "12345" or "12,345"; anything else is 0.
func parseCount(s string) int {
	s = strings.NewReplacer(",", "", " ", "", "\u00a0", "", "\u202f", "").Replace(s)
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

var (
	zonedLayouts = []string{
		time.RFC3339,
		"2006-01-02T15:04:05Z0700",
		"2006-01-02T15:04Z07:00",
		"2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05Z0700",
		"2006-01-02 15:04:05 Z07:00",
		"2006-01-02 15:04:05 -0700",
		"2006-01-02 15:04 -0700",
		"2006-01-02 15:04 Z07:00",
		time.RFC1123Z,
	}
	plainLayouts = []string{
		"2006-01-02T15:04:05",
		"2006-01-02 15:04:05",
		"2006-01-02T15:04",
		"2006-01-02 15:04",
		"2006-01-02",
	}
)

// zoneAbbr are the zone abbreviations CrowdTangle and similar tools write,
// in seconds east of UTC. Ambiguous ones take the North American meaning
// (CST is US Central, not China); IST is left out as it has three.
var zoneAbbr = map[string]int{
	"UTC": 0, "UT": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 3600, "BST": 3600,
	"CET": 3600, "CEST": 7200, "MET": 3600, "MEST": 7200, "EET": 7200, "EEST": 10800, "MSK": 10800,
	"WAT": 3600, "CAT": 7200, "EAT": 10800, "SAST": 7200,
	"AST": -4 * 3600, "ADT": -3 * 3600, "EST": -5 * 3600, "EDT": -4 * 3600, "CST": -6 * 3600,
	"CDT": -5 * 3600, "MST": -7 * 3600, "MDT": -6 * 3600, "PST": -8 * 3600, "PDT": -7 * 3600,
	"AKST": -9 * 3600, "AKDT": -8 * 3600, "HST": -10 * 3600, "NST": -(3*3600 + 1800), "NDT": -(2*3600 + 1800),
	"PKT": 5 * 3600, "ICT": 7 * 3600, "WIB": 7 * 3600, "HKT": 8 * 3600, "SGT": 8 * 3600, "PHT": 8 * 3600,
	"AWST": 8 * 3600, "JST": 9 * 3600, "KST": 9 * 3600, "ACST": 9*3600 + 1800, "AEST": 10 * 3600,
	"AEDT": 11 * 3600, "NZST": 12 * 3600, "NZDT": 13 * 3600,
}

// parseCSVDate reads ISO 8601 / RFC 3339 dates with or without zone,
// "YYYY-MM-DD hh:mm:ss" followed by a numeric offset or a zone
// abbreviation, and unix seconds (or milliseconds, 13 digits). Dates
// without zone are read in loc. wall is the date as written, for ids.
func parseCSVDate(s string, loc *time.Location) (date, wall time.Time, err error) {
	if n, ok := unixDigits(s); ok {
		t := time.Unix(n, 0)
		if len(strings.TrimPrefix(s, "-")) >= 13 {
			t = time.UnixMilli(n)
		}
		return t.UTC(), t.UTC(), nil
	}
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), t.UTC(), nil
		}
	}
	if i := strings.LastIndexByte(s, ' '); i > 0 && isLetters(s[i+1:]) {
		abbr := strings.ToUpper(s[i+1:])
		off, known := zoneAbbr[abbr]
		for _, l := range plainLayouts {
			t, err := time.ParseInLocation(l, s[:i], time.FixedZone(abbr, off))
			if err != nil {
				continue
			}
			if !known {
				return date, wall, fmt.Errorf("date %q: unknown zone abbreviation %q", short(s), short(abbr))
			}
			return t.UTC(), t.UTC(), nil
		}
	}
	for _, l := range plainLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			w, _ := time.Parse(l, s)
			return t.UTC(), w, nil
		}
	}
	return date, wall, fmt.Errorf("date %q is neither ISO 8601, \"YYYY-MM-DD hh:mm:ss ZONE\" nor unix seconds", short(s))
}

func unixDigits(s string) (int64, bool) {
	d := strings.TrimPrefix(s, "-")
	if len(d) < 9 || len(d) > 13 {
		return 0, false
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func isLetters(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}
