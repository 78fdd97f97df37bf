package parse

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"github.com/veille-project/veille/domain"
	"github.com/veille-project/veille/pipeline/config"
)

// Errors ParseFeed returns for documents with no usable feed.
var (
	ErrEmptyDocument = errors.New("empty document")
	ErrNotAFeed      = errors.New("not an RSS, Atom or JSON feed")
	ErrBrokenFeed    = errors.New("broken feed")
)

// MaxEntries bounds the entries taken from one feed document.
const MaxEntries = 10_000

// MaxItemText and MaxItemHTML bound one article, so that an item always
// fits in a bus message: longer text is cut at a character boundary,
// longer sanitised HTML is dropped (the text remains).
const (
	MaxItemText = 1 << 20
	MaxItemHTML = 1 << 20
)

// TranscriptRef is one <podcast:transcript> link of an episode.
type TranscriptRef struct {
	URL      string `json:"url"`
	Type     string `json:"type"`
	Language string `json:"language,omitempty"`
	Rel      string `json:"rel,omitempty"`
}

// Entry is one feed entry as an Item, with the transcripts it links to.
type Entry struct {
	Item        domain.Item
	Transcripts []TranscriptRef
	index       int // position in the document
}

// Feed is a parsed feed document.
type Feed struct {
	Format   string // "rss 2.0", "atom 1.0", "json 1.1"...
	Title    string
	Lang     string
	Entries  []Entry
	Warnings []string // what had to be repaired or guessed
}

// Items returns the entries' items.
func (f *Feed) Items() []domain.Item {
	out := make([]domain.Item, len(f.Entries))
	for i, e := range f.Entries {
		out[i] = e.Item
	}
	return out
}

// ParseFeed parses an RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed document
// into items for src. contentType is the HTTP Content-Type ("" for a file).
// It never fetches anything (DTDs and external entities are dropped, no
// entity is expanded), repairs what it safely can (mis-declared encodings,
// leading junk, truncation, illegal control characters) and reports those
// repairs in Feed.Warnings. fetched stamps the items and stands in for a
// missing publication date.
func ParseFeed(data []byte, contentType string, src config.Source, fetched time.Time) (*Feed, error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")))
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("ingest: %s: %w", src.Name, ErrEmptyDocument)
	}
	isJSON := trimmed[0] == '{'
	var warn []string
	doc := data
	if !isJSON {
		var err error
		doc, warn, err = prepareXML(data, contentType)
		if err != nil {
			return nil, fmt.Errorf("ingest: %s: %w", src.Name, err)
		}
	} else if !isValidUTF8(data) {
		doc = bytes.ToValidUTF8(data, []byte("\uFFFD"))
		warn = append(warn, "invalid UTF-8 bytes replaced")
	}
	var itemLangs []string // JSON Feed items' own language, by position
	if isJSON {
		// Any JSON object is not a JSON Feed: it names its version or at
		// least holds items (a chat export, say, does neither).
		var head struct {
			Version string          `json:"version"`
			Items   json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(doc, &head); err != nil {
			return nil, fmt.Errorf("ingest: %s: %w: JSON: %v", src.Name, ErrNotAFeed, err)
		}
		if !strings.Contains(head.Version, "jsonfeed.org/version/") && len(head.Items) == 0 {
			return nil, fmt.Errorf("ingest: %s: %w: JSON without a JSON Feed version or items", src.Name, ErrNotAFeed)
		}
		var items []struct {
			Language string `json:"language"`
		}
		if json.Unmarshal(head.Items, &items) == nil {
			for _, it := range items {
				itemLangs = append(itemLangs, NormLang(it.Language))
			}
		}
	}

	gf, err := parseGofeed(doc)
	if errors.Is(err, ErrNotAFeed) && !isJSON {
		// A feed wrapped in another document (an XHTML page, a SOAP
		// envelope): parse from its root element.
		if i := embeddedFeed(doc); i > 0 {
			if gf2, err2 := parseGofeed(doc[i:]); err2 == nil {
				warn = append(warn, fmt.Sprintf("feed found inside a %s document", rootElement(doc)))
				gf, err, doc = gf2, nil, doc[i:]
			}
		}
	}
	if errors.Is(err, ErrNotAFeed) && !isJSON {
		// A bare Podcasting 2.0 fragment (tags of one episode with no
		// channel or item around them): nothing to ingest, but not broken.
		if n := len(podcastTranscriptTag.FindAll(doc, MaxEntries)); n > 0 {
			warn = append(warn, fmt.Sprintf("podcast namespace tags in a %s document with no channel or item: %d transcript link(s) outside any episode, nothing to ingest", rootElement(doc), n))
			return &Feed{Format: "podcast fragment", Warnings: warn}, nil
		}
	}
	repaired := ""
	if err != nil && !isJSON && !errors.Is(err, ErrNotAFeed) && !errors.Is(err, ErrEmptyDocument) {
		fixed, what := repairXML(doc)
		if what != "" {
			if gf2, err2 := parseGofeed(fixed); err2 == nil {
				gf, err, repaired = gf2, nil, what
				warn = append(warn, what)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: %s: %w", src.Name, err)
	}
	f := buildFeed(gf, src, fetched, warn)
	if len(itemLangs) == len(gf.Items) {
		// An item's own language beats the feed's (JSON Feed 1.1).
		for i, e := range f.Entries {
			if l := itemLangs[e.index]; l != "" {
				f.Entries[i].Item.Lang = l
			}
		}
	}
	if repaired != "" && len(f.Entries) == 0 {
		return nil, fmt.Errorf("ingest: %s: %w: %s, and no entry survived", src.Name, ErrBrokenFeed, repaired)
	}
	return f, nil
}

func isValidUTF8(b []byte) bool { return bytes.Equal(bytes.ToValidUTF8(b, nil), b) }

// parseGofeed runs gofeed, turning its panics and detection failures into
// errors.
func parseGofeed(doc []byte) (f *gofeed.Feed, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("feed parser failed: %v", r)
		}
	}()
	p := gofeed.NewParser()
	f, err = p.Parse(bytes.NewReader(doc))
	switch {
	case errors.Is(err, gofeed.ErrFeedTypeNotDetected):
		root := rootElement(doc)
		if root == "" {
			return nil, ErrEmptyDocument
		}
		return nil, fmt.Errorf("%w (document starts with %s)", ErrNotAFeed, root)
	case err != nil:
		return nil, fmt.Errorf("feed parser: %w", err)
	}
	return f, nil
}

// rootElement names the first element of an XML document, or "JSON".
func rootElement(doc []byte) string {
	t := bytes.TrimSpace(doc)
	if len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return "JSON without a feed version"
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = false
	for range 10_000 {
		tok, err := d.RawToken()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Space != "" {
				return "<" + se.Name.Space + ":" + se.Name.Local + ">"
			}
			return "<" + se.Name.Local + ">"
		}
	}
	return ""
}

var podcastTranscriptTag = regexp.MustCompile(`<podcast:transcript[\s/>]`)

var embeddedRoot = regexp.MustCompile(`<(?:rss|feed|rdf:RDF)[\s>]`)

// embeddedFeed is the offset of a feed root element after the start of
// doc, or -1.
func embeddedFeed(doc []byte) int {
	loc := embeddedRoot.FindIndex(doc[1:])
	if loc == nil {
		return -1
	}
	return loc[0] + 1
}

var (
	firstElement = regexp.MustCompile(`<[A-Za-z_]`)
	doctypeStart = []byte("<!DOCTYPE")
	xmlDeclRe    = regexp.MustCompile(`<\?xml\s[^>]*\?>|<\?xml\?>`)
)

// prepareXML turns an XML feed into UTF-8 that Go's decoder reads safely:
// decoded text, no DOCTYPE (so no entity can be declared, let alone
// expanded or fetched), no XML declaration (its encoding no longer
// applies), no leading junk and no characters XML forbids.
func prepareXML(data []byte, contentType string) ([]byte, []string, error) {
	doc, warn, err := toUTF8(data, contentType, true)
	if err != nil {
		return nil, nil, err
	}
	// Leading junk: anything before the first '<'.
	if i := bytes.IndexByte(doc, '<'); i < 0 {
		return nil, nil, fmt.Errorf("%w: no markup", ErrNotAFeed)
	} else if len(bytes.TrimSpace(doc[:i])) > 0 {
		warn = append(warn, fmt.Sprintf("%d bytes of junk before the first element dropped", i))
		doc = doc[i:]
	} else {
		doc = doc[i:]
	}
	if loc := xmlDeclRe.FindIndex(doc); loc != nil && loc[0] < 4096 {
		doc = append(doc[:loc[0]:loc[0]], doc[loc[1]:]...)
	}
	root := len(doc)
	if loc := firstElement.FindIndex(doc); loc != nil {
		root = loc[0]
	}
	if i := bytes.Index(doc[:root], doctypeStart); i >= 0 {
		end := doctypeEnd(doc, i)
		if end < 0 {
			return nil, nil, fmt.Errorf("%w: unterminated DOCTYPE", ErrNotAFeed)
		}
		dtd := doc[i:end]
		doc = append(doc[:i:i], doc[end:]...)
		if bytes.Contains(dtd, []byte("<!ENTITY")) {
			var n int
			doc, n = substituteSimpleEntities(doc, dtd)
			warn = append(warn, fmt.Sprintf("DOCTYPE ignored: %d plain-text entities substituted, other entity declarations left unexpanded", n))
		}
	}
	return stripIllegalXMLChars(doc), warn, nil
}

// simpleEntity matches an internal general entity whose value is plain text:
// no markup, no references, so substituting it cannot nest or grow
// recursively. External (SYSTEM/PUBLIC) and parameter entities never match.
var simpleEntity = regexp.MustCompile(`<!ENTITY\s+([A-Za-z_][A-Za-z0-9._\-]{0,63})\s+(?:"([^"<&%]{0,1000})"|'([^'<&%]{0,1000})')\s*>`)

// substituteSimpleEntities replaces references to the DTD's plain-text
// entities, at most 64 of them, never letting the document more than double.
func substituteSimpleEntities(doc, dtd []byte) ([]byte, int) {
	ms := simpleEntity.FindAllSubmatch(dtd, 64)
	if len(ms) == 0 {
		return doc, 0
	}
	limit := 2*len(doc) + 4096
	n := 0
	for _, m := range ms {
		val := m[2]
		if len(val) == 0 {
			val = m[3]
		}
		ref := []byte("&" + string(m[1]) + ";")
		if c := bytes.Count(doc, ref); c > 0 && len(doc)+c*(len(val)-len(ref)) <= limit {
			doc = bytes.ReplaceAll(doc, ref, val)
			n++
		}
	}
	return doc, n
}

// doctypeEnd finds the '>' closing the DOCTYPE at i, skipping quoted
// strings and the internal subset; -1 if there is none.
func doctypeEnd(doc []byte, i int) int {
	depth := 0
	var quote byte
	for j := i + len(doctypeStart); j < len(doc); j++ {
		c := doc[j]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			if depth > 0 {
				depth--
			}
		case c == '>' && depth == 0:
			return j + 1
		}
	}
	return -1
}

// stripIllegalXMLChars drops C0 controls other than tab/LF/CR and the
// non-characters U+FFFE/U+FFFF, which XML 1.0 forbids anywhere.
func stripIllegalXMLChars(doc []byte) []byte {
	bad := false
	for _, c := range doc {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			bad = true
			break
		}
	}
	if !bad && !bytes.Contains(doc, []byte("\uFFFE")) && !bytes.Contains(doc, []byte("\uFFFF")) {
		return doc
	}
	out := make([]byte, 0, len(doc))
	for _, c := range doc {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			continue
		}
		out = append(out, c)
	}
	out = bytes.ReplaceAll(out, []byte("\uFFFE"), nil)
	return bytes.ReplaceAll(out, []byte("\uFFFF"), nil)
}

// repairXML rewrites a broken document: end tags that close nothing are
// dropped, missing ones are inserted, and at a syntax error or early EOF the
// document is cut at the last complete token and every open element closed.
// It returns what it did, or "" when it found nothing to repair.
func repairXML(doc []byte) ([]byte, string) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = false
	var out bytes.Buffer
	out.Grow(len(doc) + 256)
	type open struct{ raw string }
	var stack []open
	rawName := func(n xml.Name) string {
		if n.Space != "" {
			return n.Space + ":" + n.Local
		}
		return n.Local
	}
	var prev int64
	changed := ""
	for {
		tok, err := d.RawToken()
		off := d.InputOffset()
		if err != nil {
			if err != io.EOF {
				changed = fmt.Sprintf("broken XML cut at byte %d (%v) and closed", prev, err)
			} else if len(stack) > 0 {
				changed = "truncated XML: unclosed elements closed"
			}
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, open{rawName(t.Name)})
		case xml.EndElement:
			name := rawName(t.Name)
			at := -1
			for k := len(stack) - 1; k >= 0; k-- {
				if stack[k].raw == name {
					at = k
					break
				}
			}
			if at < 0 {
				changed = "stray end tags dropped"
				prev = off
				continue
			}
			for k := len(stack) - 1; k > at; k-- {
				out.WriteString("</" + stack[k].raw + ">")
				changed = "unclosed elements closed"
			}
			stack = stack[:at]
		}
		out.Write(doc[prev:off])
		prev = off
	}
	if changed == "" {
		return doc, ""
	}
	for k := len(stack) - 1; k >= 0; k-- {
		out.WriteString("</" + stack[k].raw + ">")
	}
	return out.Bytes(), changed
}

// buildFeed turns gofeed's result into Entries.
func buildFeed(gf *gofeed.Feed, src config.Source, fetched time.Time, warn []string) *Feed {
	f := &Feed{
		Format:   strings.TrimSpace(gf.FeedType + " " + strings.TrimPrefix(gf.FeedVersion, "https://jsonfeed.org/version/")),
		Title:    HTMLToText(gf.Title),
		Lang:     NormLang(gf.Language),
		Warnings: warn,
	}
	items := gf.Items
	if len(items) > MaxEntries {
		f.Warnings = append(f.Warnings, fmt.Sprintf("%d entries; only the first %d taken", len(items), MaxEntries))
		items = items[:MaxEntries]
	}
	base, _ := url.Parse(gf.Link)
	for i, it := range items {
		if it == nil {
			continue
		}
		e := buildEntry(it, f, src, base, fetched)
		e.index = i
		if e.Item.Text == "" && e.Item.HTML == "" && e.Item.URL == "" && it.GUID == "" && len(e.Transcripts) == 0 {
			continue
		}
		f.Entries = append(f.Entries, e)
	}
	return f
}

func buildEntry(it *gofeed.Item, f *Feed, src config.Source, base *url.URL, fetched time.Time) Entry {
	body := it.Content
	if strings.TrimSpace(HTMLToText(body)) == "" {
		body = it.Description
	}
	if body == "" && it.ITunesExt != nil {
		body = it.ITunesExt.Summary
	}
	item := domain.Item{
		Source:  src.Name,
		Kind:    "article",
		Title:   HTMLToText(it.Title),
		Text:    HTMLToText(body),
		HTML:    SanitizeHTML(body),
		URL:     safeURL(strings.TrimSpace(it.Link), base),
		Fetched: fetched.UTC(),
		Lang:    f.Lang,
		Mission: src.Mission,
		Station: src.Station,
	}
	if item.URL == "" {
		for _, l := range it.Links {
			if u := safeURL(strings.TrimSpace(l), base); u != "" {
				item.URL = u
				break
			}
		}
	}
	if it.DublinCoreExt != nil && len(it.DublinCoreExt.Language) > 0 {
		item.Lang = NormLang(it.DublinCoreExt.Language[0])
	}
	if item.Lang == "" {
		item.Lang = NormLang(src.Lang)
	}
	switch {
	case it.PublishedParsed != nil && !it.PublishedParsed.IsZero():
		item.Published = it.PublishedParsed.UTC()
	case it.UpdatedParsed != nil && !it.UpdatedParsed.IsZero():
		item.Published = it.UpdatedParsed.UTC()
	default:
		item.Published = item.Fetched
	}
	if item.Text == "" {
		item.Text = item.Title
	}
	if len(item.Text) > MaxItemText {
		item.Text = truncateUTF8(item.Text, MaxItemText)
		f.Warnings = append(f.Warnings, fmt.Sprintf("entry %q: text cut at %d bytes", Clip(item.Title, 60), MaxItemText))
	}
	if len(item.HTML) > MaxItemHTML {
		item.HTML = ""
		f.Warnings = append(f.Warnings, fmt.Sprintf("entry %q: HTML over %d bytes dropped", Clip(item.Title, 60), MaxItemHTML))
	}
	key := strings.TrimSpace(it.GUID)
	if key == "" {
		key = item.URL
	}
	if key == "" {
		key = item.Title + "\x00" + strings.TrimSpace(it.Published) + strings.TrimSpace(it.Updated)
	}
	item.ID = ItemID(src.Name, key)
	item.ContentHash = ContentHash(item.Text)
	return Entry{Item: item, Transcripts: transcriptRefs(it, base)}
}

// transcriptRefs collects <podcast:transcript> links, whatever prefix the
// feed bound the Podcasting 2.0 namespace to (or none, undeclared).
func transcriptRefs(it *gofeed.Item, base *url.URL) []TranscriptRef {
	var out []TranscriptRef
	for prefix, elems := range it.Extensions {
		if prefix != "podcast" && !strings.Contains(prefix, "podcastindex.org/namespace") {
			continue
		}
		for _, e := range elems["transcript"] {
			u := safeURL(strings.TrimSpace(e.Attrs["url"]), base)
			if u == "" {
				continue
			}
			out = append(out, TranscriptRef{
				URL:      u,
				Type:     strings.ToLower(strings.TrimSpace(e.Attrs["type"])),
				Language: e.Attrs["language"],
				Rel:      e.Attrs["rel"],
			})
		}
	}
	return out
}

// safeURL resolves ref against base and keeps it only if it is http(s).
func safeURL(ref string, base *url.URL) string {
	if ref == "" {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if base != nil && !u.IsAbs() && (base.Scheme == "http" || base.Scheme == "https") {
		u = base.ResolveReference(u)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return ""
	}
	return u.String()
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// NormLang reduces a language tag to its lower-case primary subtag
// ("fr-FR" → "fr").
func NormLang(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "-_"); i >= 0 {
		s = s[:i]
	}
	if len(s) < 2 || len(s) > 3 {
		return ""
	}
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return ""
		}
	}
	return s
}
