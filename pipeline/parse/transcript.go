package parse

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"mime"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/veille-project/veille/domain"
)

// Transcript limits. A radio day is far below all three.
const (
	MaxTranscriptBytes = 8 << 20
	MaxCues            = 50_000
	// MaxTranscriptText bounds the joined text so that the item, which
	// carries each cue's text twice, fits in a bus message; later cues are
	// dropped with a warning.
	MaxTranscriptText = 2 << 20
)

// Transcript errors, for errors.Is.
var (
	ErrTranscriptTooLarge = errors.New("transcript too large")
	ErrTooManyCues        = errors.New("too many cues")
	ErrTranscriptFormat   = errors.New("malformed transcript")
)

// Transcript is a parsed transcript: its text (cue texts joined by "\n")
// and its cues, each with the byte offset of its text in Text.
type Transcript struct {
	Format   string // vtt, srt, json, html, text
	Text     string
	Cues     []domain.Cue
	Warnings []string
}

// ParseTranscript parses a WebVTT, SRT, Podcasting 2.0 JSON or HTML
// transcript, or plain text. hint is a Content-Type or a file name and is
// used when the bytes do not say what they are ("" to sniff only).
func ParseTranscript(data []byte, hint string) (*Transcript, error) {
	if len(data) > MaxTranscriptBytes {
		return nil, fmt.Errorf("transcript: %d bytes is over the %d-byte limit: %w", len(data), MaxTranscriptBytes, ErrTranscriptTooLarge)
	}
	if looksBinary(data) {
		return nil, fmt.Errorf("transcript: the bytes are binary data, not text: %w", ErrTranscriptFormat)
	}
	text, warn, err := toUTF8(data, contentTypeOnly(hint), false)
	if err != nil {
		return nil, fmt.Errorf("transcript: %w", err)
	}
	format := transcriptFormat(text, hint)
	var t *Transcript
	switch format {
	case "vtt":
		t, err = parseVTT(string(text))
	case "srt":
		t, err = parseSRT(string(text))
	case "json":
		t, err = parseJSONTranscript(text)
	case "html":
		t = parseHTMLTranscript(string(text))
	default:
		t = &Transcript{Format: "text", Text: collapseText(string(text))}
	}
	if err != nil {
		return nil, err
	}
	if len(t.Cues) == 0 && len(t.Text) > MaxTranscriptText {
		t.Text = truncateUTF8(t.Text, MaxTranscriptText)
		t.Warnings = append(t.Warnings, fmt.Sprintf("%s: text cut at %d bytes", t.Format, MaxTranscriptText))
	}
	t.Warnings = append(warn, t.Warnings...)
	return t, nil
}

// ParseVTT parses a WebVTT document.
func ParseVTT(data []byte) (*Transcript, error) { return ParseTranscript(data, "text/vtt") }

// ParseSRT parses a SubRip document.
func ParseSRT(data []byte) (*Transcript, error) { return ParseTranscript(data, "application/x-subrip") }

func contentTypeOnly(hint string) string {
	if strings.Contains(hint, "/") && !strings.Contains(hint, ".") {
		return hint
	}
	if strings.Contains(hint, "charset=") {
		return hint
	}
	return ""
}

// transcriptFormat decides from the bytes first, then from the hint.
func transcriptFormat(text []byte, hint string) string {
	t := bytes.TrimLeft(text, " \t\r\n")
	switch {
	case bytes.HasPrefix(t, []byte("WEBVTT")):
		return "vtt"
	case len(t) > 0 && t[0] == '{':
		return "json"
	}
	h := strings.ToLower(strings.TrimSpace(hint))
	// A hint is a media type only when it is a known one: "dir/f.vtt"
	// parses as a media type but is a file name.
	mt, _, err := mime.ParseMediaType(h)
	if err != nil {
		mt = ""
	}
	switch mt {
	case "text/vtt":
		return "vtt"
	case "application/x-subrip", "application/srt", "text/srt", "application/x-srt", "text/x-srt":
		return "srt"
	case "application/json", "application/x-json", "text/json":
		return "json"
	case "text/html", "application/xhtml+xml":
		return "html"
	}
	switch path.Ext(h) {
	case ".vtt", ".webvtt":
		return "vtt"
	case ".srt":
		return "srt"
	case ".json":
		return "json"
	case ".html", ".htm":
		return "html"
	}
	switch {
	case len(t) > 0 && t[0] == '<':
		return "html"
	case bytes.Contains(t, []byte("-->")):
		return "srt"
	}
	return "text"
}

// looksBinary reports bytes that are no text in any encoding a transcript
// comes in: a NUL or many control characters in the first 8 KB, with no
// UTF-16 or UTF-32 byte-order mark to explain them.
func looksBinary(b []byte) bool {
	for _, m := range boms {
		if bytes.HasPrefix(b, m.bom) {
			return false
		}
	}
	head := b[:min(len(b), 8192)]
	ctl := 0
	for _, c := range head {
		switch {
		case c == 0:
			return true
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f':
			ctl++
		}
	}
	return len(head) > 0 && ctl*20 > len(head)
}

// block is a run of non-blank lines and the line number of its first line.
type block struct {
	line  int
	lines []string
}

func splitBlocks(s string) []block {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var out []block
	var cur *block
	for i, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == "" {
			cur = nil
			continue
		}
		if cur == nil {
			out = append(out, block{line: i + 1})
			cur = &out[len(out)-1]
		}
		cur.lines = append(cur.lines, l)
	}
	return out
}

// parseTimestamp reads [hh:]mm:ss[.,]fff with tolerance for missing hours,
// missing or short fractions, and ',' or '.' as separator; milliseconds.
func parseTimestamp(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 20 {
		return 0, false
	}
	frac := int64(0)
	if i := strings.LastIndexAny(s, ".,"); i >= 0 {
		f := s[i+1:]
		s = s[:i]
		if f == "" || len(f) > 9 {
			return 0, false
		}
		for len(f) < 3 {
			f += "0"
		}
		v, err := strconv.ParseInt(f[:3], 10, 64)
		if err != nil || v < 0 {
			return 0, false
		}
		frac = v
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	var total int64
	for i, p := range parts {
		if p == "" || len(p) > 6 {
			return 0, false
		}
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil || v < 0 {
			return 0, false
		}
		if i > 0 && v > 59 {
			return 0, false
		}
		total = total*60 + v
	}
	return total*1000 + frac, true
}

// parseTiming reads "start --> end [settings]".
func parseTiming(l string) (start, end int64, ok bool) {
	a, b, found := strings.Cut(l, "-->")
	if !found {
		return 0, 0, false
	}
	fs := strings.Fields(b)
	if len(fs) == 0 {
		return 0, 0, false
	}
	start, ok1 := parseTimestamp(a)
	end, ok2 := parseTimestamp(fs[0])
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	return start, end, true // a cue ending before it starts is refused by cueBuilder.add
}

var (
	voiceTag = regexp.MustCompile(`<v(?:\.[^ \t>]*)?[ \t]+([^>]*)>`)
	anyTag   = regexp.MustCompile(`<[^>]*>`)
	assTag   = regexp.MustCompile(`\{\\[^}]*\}`)
	// "Travis: ...", "MAN:", "SPEAKER_01: ..." at the start of a cue.
	// French typography puts a (narrow) space before the colon.
	speakerPrefix = regexp.MustCompile(`^(\p{Lu}[\p{L}\p{N}_'.\-]*(?: \p{Lu}[\p{L}\p{N}_'.\-]*){0,2})[ \x{00A0}\x{202F}]?:(?:\s+|$)`)
)

// cueText cleans one cue's payload lines: tags stripped, entities decoded,
// lines joined by a space. It returns the first voice tag's speaker.
func cueText(lines []string) (text, speaker string) {
	s := strings.Join(lines, "\n")
	if strings.Contains(s, "<") {
		if m := voiceTag.FindStringSubmatch(s); m != nil {
			speaker = strings.TrimSpace(html.UnescapeString(m[1]))
		}
		s = anyTag.ReplaceAllString(s, "")
	}
	if strings.Contains(s, "{\\") {
		s = assTag.ReplaceAllString(s, "")
	}
	if strings.Contains(s, "&") {
		s = html.UnescapeString(s)
	}
	return strings.Join(strings.Fields(s), " "), speaker
}

type cueBuilder struct {
	format string
	cues   []domain.Cue
	warn   []string
}

func (b *cueBuilder) add(line int, c domain.Cue) error {
	if c.Text == "" {
		return nil
	}
	if len(b.cues) >= MaxCues {
		return fmt.Errorf("transcript: %s: line %d: more than %d cues: %w", b.format, line, MaxCues, ErrTooManyCues)
	}
	if c.End < c.Start {
		b.skipped(line, fmt.Sprintf("cue ends (%dms) before it starts (%dms); skipped", c.End, c.Start))
		return nil
	}
	b.cues = append(b.cues, c)
	return nil
}

func (b *cueBuilder) skipped(line int, why string) {
	if len(b.warn) < 20 {
		b.warn = append(b.warn, fmt.Sprintf("%s: line %d: %s", b.format, line, why))
	}
}

// finish puts the cues in time order, joins their texts and sets each
// cue's offset.
func (b *cueBuilder) finish() *Transcript {
	if !slices.IsSortedFunc(b.cues, func(x, y domain.Cue) int { return cmp.Compare(x.Start, y.Start) }) {
		slices.SortStableFunc(b.cues, func(x, y domain.Cue) int { return cmp.Compare(x.Start, y.Start) })
		b.warn = append(b.warn, fmt.Sprintf("%s: cues out of time order; sorted by start", b.format))
	}
	var sb strings.Builder
	for i := range b.cues {
		if sb.Len()+1+len(b.cues[i].Text) > MaxTranscriptText {
			b.warn = append(b.warn, fmt.Sprintf("%s: text over %d bytes: %d of %d cues kept", b.format, MaxTranscriptText, i, len(b.cues)))
			b.cues = b.cues[:i]
			break
		}
		if i > 0 {
			sb.WriteByte('\n')
		}
		b.cues[i].Offset = sb.Len()
		sb.WriteString(b.cues[i].Text)
	}
	return &Transcript{Format: b.format, Text: sb.String(), Cues: b.cues, Warnings: b.warn}
}

func isBlockKeyword(l, kw string) bool {
	if !strings.HasPrefix(l, kw) {
		return false
	}
	return len(l) == len(kw) || l[len(kw)] == ' ' || l[len(kw)] == '\t'
}

func parseVTT(s string) (*Transcript, error) {
	blocks := splitBlocks(s)
	if len(blocks) == 0 || blocks[0].line != 1 || !isBlockKeyword(strings.TrimPrefix(blocks[0].lines[0], "\uFEFF"), "WEBVTT") {
		return nil, fmt.Errorf("transcript: vtt: line 1: missing WEBVTT header: %w", ErrTranscriptFormat)
	}
	b := &cueBuilder{format: "vtt"}
	bad := 0
	firstBad := 0
	for _, blk := range blocks[1:] {
		first := blk.lines[0]
		if isBlockKeyword(first, "NOTE") || isBlockKeyword(first, "STYLE") || isBlockKeyword(first, "REGION") {
			continue
		}
		ti := 0
		if !strings.Contains(first, "-->") {
			if len(blk.lines) < 2 || !strings.Contains(blk.lines[1], "-->") {
				b.skipped(blk.line, "block without cue timing skipped")
				continue
			}
			ti = 1
		}
		start, end, ok := parseTiming(blk.lines[ti])
		if !ok {
			bad++
			if firstBad == 0 {
				firstBad = blk.line + ti
			}
			b.skipped(blk.line+ti, fmt.Sprintf("bad cue timing %q skipped", Clip(blk.lines[ti], 60)))
			continue
		}
		text, speaker := cueText(blk.lines[ti+1:])
		if err := b.add(blk.line, domain.Cue{Start: start, End: end, Speaker: speaker, Text: text}); err != nil {
			return nil, err
		}
	}
	if len(b.cues) == 0 && bad > 0 {
		return nil, fmt.Errorf("transcript: vtt: line %d: no valid cue (%d with bad timing): %w", firstBad, bad, ErrTranscriptFormat)
	}
	return b.finish(), nil
}

func parseSRT(s string) (*Transcript, error) {
	s = strings.TrimPrefix(s, "\uFEFF")
	b := &cueBuilder{format: "srt"}
	bad, firstBad, timings := 0, 0, 0
	for _, blk := range splitBlocks(s) {
		// A cue may hold several timing lines when blank lines are
		// missing; split the block at each of them.
		i := 0
		for i < len(blk.lines) {
			for i < len(blk.lines) && !strings.Contains(blk.lines[i], "-->") {
				if i+1 < len(blk.lines) && strings.Contains(blk.lines[i+1], "-->") {
					i++ // sequence number or other label
					continue
				}
				if i == 0 {
					b.skipped(blk.line, "text without cue timing skipped")
				}
				i++
			}
			if i >= len(blk.lines) {
				break
			}
			tl := blk.line + i
			start, end, ok := parseTiming(blk.lines[i])
			i++
			j := i
			for j < len(blk.lines) && !strings.Contains(blk.lines[j], "-->") &&
				!(j+1 < len(blk.lines) && isDigits(blk.lines[j]) && strings.Contains(blk.lines[j+1], "-->")) {
				j++
			}
			payload := blk.lines[i:j]
			i = j
			if !ok {
				bad++
				if firstBad == 0 {
					firstBad = tl
				}
				b.skipped(tl, fmt.Sprintf("bad cue timing %q skipped", Clip(blk.lines[tl-blk.line], 60)))
				continue
			}
			timings++
			text, speaker := cueText(payload)
			if c := strings.IndexByte(text, ':'); speaker == "" && c > 0 && c < 64 {
				if m := speakerPrefix.FindStringSubmatch(text[:min(len(text), 80)]); m != nil {
					speaker = m[1]
					text = strings.TrimSpace(text[len(m[0]):])
				}
			}
			if err := b.add(tl, domain.Cue{Start: start, End: end, Speaker: speaker, Text: text}); err != nil {
				return nil, err
			}
		}
	}
	if len(b.cues) == 0 {
		if bad > 0 {
			return nil, fmt.Errorf("transcript: srt: line %d: no valid cue (%d with bad timing): %w", firstBad, bad, ErrTranscriptFormat)
		}
		if timings == 0 && strings.TrimSpace(s) != "" {
			return nil, fmt.Errorf("transcript: srt: line 1: no cue timing line (\"00:00:01,000 --> 00:00:02,000\") found: %w", ErrTranscriptFormat)
		}
	}
	return b.finish(), nil
}

func isDigits(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Clip shortens s to at most n bytes for messages, marking the cut.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// jsonTranscript is the Podcasting 2.0 JSON transcript.
type jsonTranscript struct {
	Version  string `json:"version"`
	Segments []struct {
		Speaker   string   `json:"speaker"`
		StartTime *float64 `json:"startTime"`
		EndTime   *float64 `json:"endTime"`
		Body      string   `json:"body"`
	} `json:"segments"`
}

// parseJSONTranscript merges word-level segments of one speaker into cues
// that end at sentence punctuation, a speaker change or after 15 seconds.
func parseJSONTranscript(data []byte) (*Transcript, error) {
	var jt jsonTranscript
	if err := json.Unmarshal(data, &jt); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
			return nil, fmt.Errorf("transcript: json: line %d: %v: %w", line, err, ErrTranscriptFormat)
		}
		return nil, fmt.Errorf("transcript: json: %v: %w", err, ErrTranscriptFormat)
	}
	if jt.Segments == nil {
		return nil, fmt.Errorf("transcript: json: no \"segments\" array: %w", ErrTranscriptFormat)
	}
	if len(jt.Segments) > 8*MaxCues {
		return nil, fmt.Errorf("transcript: json: %d segments is over the limit of %d: %w", len(jt.Segments), 8*MaxCues, ErrTooManyCues)
	}
	b := &cueBuilder{format: "json"}
	var cur domain.Cue
	var words []string
	flush := func() error {
		if len(words) == 0 {
			return nil
		}
		cur.Text = strings.Join(strings.Fields(html.UnescapeString(strings.Join(words, " "))), " ")
		words = nil
		return b.add(0, cur)
	}
	for _, seg := range jt.Segments {
		body := strings.TrimSpace(seg.Body)
		if body == "" {
			continue
		}
		start, end := msOf(seg.StartTime), msOf(seg.EndTime)
		speaker := strings.TrimSpace(seg.Speaker)
		if len(words) > 0 && (speaker != cur.Speaker || start-cur.Start > 15_000) {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		if len(words) == 0 {
			cur = domain.Cue{Start: start, Speaker: speaker}
		}
		words = append(words, body)
		cur.End = max(end, start, cur.End)
		if strings.ContainsAny(body[len(body)-1:], ".?!") {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return b.finish(), nil
}

func msOf(f *float64) int64 {
	if f == nil || *f < 0 || *f > 1e7 {
		return 0
	}
	return int64(*f*1000 + 0.5)
}

var (
	htmlCite = regexp.MustCompile(`(?is)<cite>(.*?)</cite>`)
	htmlTime = regexp.MustCompile(`(?is)<time>(.*?)</time>`)
	htmlPara = regexp.MustCompile(`(?is)<p>(.*?)</p>`)
	htmlPart = regexp.MustCompile(`(?is)<cite>.*?</cite>|<time>.*?</time>|<p>.*?</p>`)
)

// parseHTMLTranscript reads the Podcasting 2.0 HTML layout (<cite>speaker
// </cite><time>m:ss</time><p>text</p>); other HTML becomes plain text.
func parseHTMLTranscript(s string) *Transcript {
	b := &cueBuilder{format: "html"}
	var speaker string
	var at int64 = -1
	for _, part := range htmlPart.FindAllString(s, 8*MaxCues) {
		switch {
		case htmlCite.MatchString(part):
			speaker = strings.TrimSuffix(strings.TrimSpace(HTMLToText(htmlCite.FindStringSubmatch(part)[1])), ":")
		case htmlTime.MatchString(part):
			if ms, ok := parseTimestamp(HTMLToText(htmlTime.FindStringSubmatch(part)[1])); ok {
				at = ms
			}
		default:
			text := strings.Join(strings.Fields(HTMLToText(htmlPara.FindStringSubmatch(part)[1])), " ")
			if at < 0 || text == "" {
				continue
			}
			if n := len(b.cues); n > 0 && b.cues[n-1].End == b.cues[n-1].Start {
				b.cues[n-1].End = max(at, b.cues[n-1].Start)
			}
			if b.add(0, domain.Cue{Start: at, End: at, Speaker: speaker, Text: text}) != nil {
				return b.finish()
			}
		}
	}
	if len(b.cues) == 0 {
		return &Transcript{Format: "html", Text: HTMLToText(s)}
	}
	return b.finish()
}
