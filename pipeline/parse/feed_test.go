package parse_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/parse"
)

var fetchedAt = time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)

func parseTestFeed(t *testing.T, name string, src config.Source) *parse.Feed {
	t.Helper()
	f, err := parse.ParseFeed(readTestdata(t, "feeds", name), "", src, fetchedAt)
	if err != nil {
		t.Fatalf("ParseFeed(%s): %v", name, err)
	}
	return f
}

func TestParseFeedRSS(t *testing.T) {
	src := config.Source{Name: "quotidien-bangui", Mission: "MINUSCA", Lang: "sg"}
	f := parseTestFeed(t, "minusca-fr.rss", src)
	if f.Format != "rss 2.0" || len(f.Entries) != 3 {
		t.Fatalf("format %q with %d entries, want rss 2.0 with 3", f.Format, len(f.Entries))
	}
	first := f.Entries[0].Item
	want := map[string][2]string{
		"ID":        {first.ID, parse.ItemID("quotidien-bangui", "qb-2026-03-12-001")},
		"Kind":      {first.Kind, "article"},
		"Source":    {first.Source, "quotidien-bangui"},
		"Title":     {first.Title, "Bambari : la MINUSCA dément toute livraison d’armes aux groupes armés"},
		"URL":       {first.URL, "https://quotidien-bangui.example.org/2026/03/12/bambari-minusca-dement"},
		"Lang":      {first.Lang, "fr"}, // the feed's fr-FR wins over the source hint
		"Mission":   {first.Mission, "MINUSCA"},
		"Published": {first.Published.Format(time.RFC3339), "2026-03-12T07:45:00Z"},
		"Hash":      {first.ContentHash, parse.ContentHash(first.Text)},
	}
	for field, gw := range want {
		if gw[0] != gw[1] {
			t.Errorf("%s = %q, want %q", field, gw[0], gw[1])
		}
	}
	for _, s := range []string{"Des messages circulant", "« sans fondement »", "Le marché de Bambari", "\n"} {
		if !strings.Contains(first.Text, s) {
			t.Errorf("Text lacks %q:\n%s", s, first.Text)
		}
	}
	for _, s := range []string{"document.cookie", "evil.example.net", "alert", "<"} {
		if strings.Contains(first.Text, s) {
			t.Errorf("Text keeps %q:\n%s", s, first.Text)
		}
	}
	for _, s := range []string{"<script", "onerror", "javascript:", "evil.example.net"} {
		if strings.Contains(first.HTML, s) {
			t.Errorf("HTML keeps %q:\n%s", s, first.HTML)
		}
	}
	if !strings.Contains(first.HTML, `rel="nofollow noreferrer noopener"`) || !strings.Contains(first.HTML, "https://minusca.example.org/communique") {
		t.Errorf("HTML lost the safe link or its rel: %s", first.HTML)
	}

	second := f.Entries[1].Item
	if want := "Calendrier\nL'Autorité nationale des élections a confirmé le calendrier.\nLe premier tour aura lieu en juillet.\nInscriptions : avril\nCampagne : juin"; second.Text != want {
		t.Errorf("content:encoded text = %q, want %q", second.Text, want)
	}
	third := f.Entries[2].Item
	if !third.Published.Equal(fetchedAt) {
		t.Errorf("undated entry published %s, want the fetch time %s", third.Published, fetchedAt)
	}
	if third.URL != "" || third.ID == "" || third.ID == first.ID {
		t.Errorf("undated, unlinked entry: URL %q ID %q", third.URL, third.ID)
	}
	if !strings.Contains(third.Text, "Bangui & de Bimbo") {
		t.Errorf("entity not decoded: %q", third.Text)
	}

	// The same document under another source: other ids, same content hashes.
	other := parseTestFeed(t, "minusca-fr.rss", config.Source{Name: "miroir"})
	for i := range f.Entries {
		a, b := f.Entries[i].Item, other.Entries[i].Item
		if a.ID == b.ID || a.ContentHash != b.ContentHash {
			t.Errorf("entry %d: ids %s/%s hashes %s/%s: want different ids, same hash", i, a.ID, b.ID, a.ContentHash, b.ContentHash)
		}
	}
}

func TestParseFeedAtomAndJSON(t *testing.T) {
	atom := parseTestFeed(t, "unifil-en.atom", config.Source{Name: "monitor", Lang: "ar", Mission: "UNIFIL"})
	if atom.Format != "atom 1.0" || len(atom.Entries) != 2 {
		t.Fatalf("atom: %q with %d entries", atom.Format, len(atom.Entries))
	}
	a0, a1 := atom.Entries[0].Item, atom.Entries[1].Item
	if a0.Title != "UNIFIL patrol not involved in Naqoura incident" {
		t.Errorf("HTML title not turned into text: %q", a0.Title)
	}
	if a0.URL != "https://monitor.example.com/2026/03/unifil-patrol-naqoura" || a1.URL != "https://monitor.example.com/second" {
		t.Errorf("relative links not resolved: %q %q", a0.URL, a1.URL)
	}
	if got := a1.Published.Format(time.RFC3339); got != "2026-03-11T06:30:00Z" {
		t.Errorf("published %s, want 2026-03-11T06:30:00Z (UTC)", got)
	}
	if a0.Text != "Claims that a UNIFIL patrol opened fire near Naqoura were denied by the mission on Thursday." {
		t.Errorf("atom text %q", a0.Text)
	}

	js := parseTestFeed(t, "monusco.json", config.Source{Name: "goma", Lang: "en", Mission: "MONUSCO"})
	if js.Format != "json 1.1" || len(js.Entries) != 2 {
		t.Fatalf("json: %q with %d entries", js.Format, len(js.Entries))
	}
	j0 := js.Entries[0].Item
	if j0.Lang != "fr" || j0.Mission != "MONUSCO" || j0.Published.Format(time.RFC3339) != "2026-03-12T05:00:00Z" {
		t.Errorf("json item lang %q mission %q published %s", j0.Lang, j0.Mission, j0.Published)
	}
	if j0.Text != "Le retrait de la MONUSCO du Sud-Kivu est achevé.\nUne rumeur affirme que la mission resterait indéfiniment." {
		t.Errorf("json text %q", j0.Text)
	}
	if js.Entries[1].Item.Text != "Les prix du manioc ont augmenté de 10 %." {
		t.Errorf("content_text %q", js.Entries[1].Item.Text)
	}
}

func TestParseFeedSourceLangFillsGaps(t *testing.T) {
	doc := `<rss version="2.0"><channel><title>x</title><item><title>Sans langue</title><guid>g1</guid></item></channel></rss>`
	f, err := parse.ParseFeed([]byte(doc), "", config.Source{Name: "s", Lang: "ar", Mission: "UNMISS"}, fetchedAt)
	if err != nil {
		t.Fatal(err)
	}
	if it := f.Entries[0].Item; it.Lang != "ar" || it.Mission != "UNMISS" || it.Text != "Sans langue" {
		t.Errorf("hints not applied: lang %q mission %q text %q", it.Lang, it.Mission, it.Text)
	}
}

func TestParseFeedNeverExpandsEntities(t *testing.T) {
	start := time.Now()
	f, err := parse.ParseFeed(readTestdata(t, "feeds", "billion-laughs.xml"), "", config.Source{Name: "bomb"}, fetchedAt)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("parsing an entity bomb took %s", took)
	}
	if err != nil {
		return // refusing is fine too
	}
	for _, e := range f.Entries {
		if strings.Contains(e.Item.Text+e.Item.Title, "lollol") || len(e.Item.Text) > 1000 {
			t.Fatalf("entities were expanded: %d bytes of text", len(e.Item.Text))
		}
	}
}

func TestParseFeedRepairsAndRejects(t *testing.T) {
	tests := []struct {
		name, doc string
		entries   int
		is        error
	}{
		{"truncated after two items", `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>un</title><guid>1</guid></item><item><title>deux</title><guid>2</guid></item><item><title>trois`, 3, nil},
		{"junk before the document", "\n\nHTTP/1.1 200 OK\n<rss version=\"2.0\"><channel><item><title>x</title><guid>1</guid></item></channel></rss>", 1, nil},
		{"control characters", "<rss version=\"2.0\"><channel><item><title>a\x08b\x00c</title><guid>1</guid></item></channel></rss>", 1, nil},
		{"html entities in xml", `<rss version="2.0"><channel><item><title>caf&eacute; &nbsp;&amp; th&eacute;</title><guid>1</guid></item></channel></rss>`, 1, nil},
		{"bare ampersand", `<rss version="2.0"><channel><item><title>A & B</title><guid>1</guid></item></channel></rss>`, 1, nil},
		{"empty", "  \n ", 0, parse.ErrEmptyDocument},
		{"comment only", "<!-- nothing -->", 0, parse.ErrEmptyDocument},
		{"not a feed", `<?xml version="1.0"?><html><body>hello</body></html>`, 0, parse.ErrNotAFeed},
		{"plain text", "hello world", 0, parse.ErrNotAFeed},
		{"broken with nothing to save", `<rss version="2.0"><channel><title>t</title></chan`, 0, parse.ErrBrokenFeed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parse.ParseFeed([]byte(tc.doc), "", config.Source{Name: "s"}, fetchedAt)
			if tc.is != nil {
				if !errors.Is(err, tc.is) {
					t.Fatalf("err = %v, want %v", err, tc.is)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Entries) != tc.entries {
				t.Fatalf("%d entries, want %d (warnings %v)", len(f.Entries), tc.entries, f.Warnings)
			}
		})
	}
}

func TestParseFeedCapsHugeEntries(t *testing.T) {
	huge := strings.Repeat("<p>Des rumeurs sur la mission.</p>", 50_000) // ~1.7 MB
	doc := `<rss version="2.0"><channel><item><title>énorme</title><guid>1</guid><description><![CDATA[` + huge + `]]></description></item></channel></rss>`
	f, err := parse.ParseFeed([]byte(doc), "", config.Source{Name: "s"}, fetchedAt)
	if err != nil {
		t.Fatal(err)
	}
	it := f.Entries[0].Item
	if len(it.Text) > parse.MaxItemText || len(it.HTML) > parse.MaxItemHTML || len(f.Warnings) != 2 {
		t.Errorf("text %d bytes, html %d bytes, warnings %v: want both within the limits, with warnings", len(it.Text), len(it.HTML), f.Warnings)
	}
	if !strings.HasPrefix(it.Text, "Des rumeurs sur la mission.") {
		t.Errorf("text starts %q", it.Text[:40])
	}
}

func TestParseFeedEncodings(t *testing.T) {
	latin1 := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><item><title>Caf\xe9 \xe0 Bangui</title><guid>1</guid></item></channel></rss>"
	mislabelled := "<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss version=\"2.0\"><channel><item><title>Café à Bangui</title><guid>1</guid></item></channel></rss>"
	undeclared := "<rss version=\"2.0\"><channel><item><title>Caf\xe9 \xe0 Bangui</title><guid>1</guid></item></channel></rss>"
	utf16 := []byte{0xFE, 0xFF}
	for _, r := range `<?xml version="1.0" encoding="UTF-16"?><rss version="2.0"><channel><item><title>Café à Bangui</title><guid>1</guid></item></channel></rss>` {
		utf16 = append(utf16, byte(r>>8), byte(r))
	}
	for name, doc := range map[string]string{"latin1": latin1, "mislabelled": mislabelled, "undeclared": undeclared, "utf16": string(utf16)} {
		t.Run(name, func(t *testing.T) {
			f, err := parse.ParseFeed([]byte(doc), "", config.Source{Name: "s"}, fetchedAt)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Entries[0].Item.Title; got != "Café à Bangui" {
				t.Errorf("title %q, want %q (warnings %v)", got, "Café à Bangui", f.Warnings)
			}
		})
	}
}

// TestPodcastFragment: Podcasting 2.0 tags with no channel or item around
// them are read as an empty feed with a warning, not as an error; any
// other unknown document is still not a feed.
func TestPodcastFragment(t *testing.T) {
	src := config.Source{Name: "frag", Kind: "podcast"}
	frag := `<?xml version="1.0"?>
<wrapper xmlns:podcast="https://podcastindex.org/namespace/1.0">
  <podcast:episode>3</podcast:episode>
  <podcast:transcript url="https://radio.example.org/ep3.vtt" type="text/vtt"/>
</wrapper>`
	f, err := parse.ParseFeed([]byte(frag), "application/xml", src, time.Now())
	if err != nil {
		t.Fatalf("fragment: %v", err)
	}
	if len(f.Entries) != 0 || len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0], "1 transcript link") {
		t.Errorf("fragment: %d entries, warnings %q", len(f.Entries), f.Warnings)
	}
	_, err = parse.ParseFeed([]byte(`<wrapper><episode>3</episode></wrapper>`), "application/xml", src, time.Now())
	if !errors.Is(err, parse.ErrNotAFeed) {
		t.Errorf("plain wrapper: got %v, want ErrNotAFeed", err)
	}
}

// TestLabelsDisagreeingWithTheBytes reads feeds whose declared encoding is
// wrong: the bytes win, and the feed's warnings say the label was wrong.
func TestLabelsDisagreeingWithTheBytes(t *testing.T) {
	for _, tc := range []struct {
		file, contentType string
		wantTitle         string
		wantWarn          string
	}{
		{"utf16-label-utf8-bytes.xml", "application/rss+xml", "Élections : la CENI reçoit le matériel", "8-bit"},
		{"latin1-label-utf8-bytes.xml", "application/rss+xml; charset=ISO-8859-1", "Les écoles rouvrent à Goma après la pause", "bytes are UTF-8"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "encodings", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			f, err := parse.ParseFeed(data, tc.contentType, config.Source{Name: "t", URL: "https://radio.example/feed"}, time.Now())
			if err != nil {
				t.Fatalf("ParseFeed: %v", err)
			}
			if len(f.Entries) == 0 || f.Entries[0].Item.Title != tc.wantTitle {
				t.Fatalf("first title %q, want %q", firstTitle(f), tc.wantTitle)
			}
			if !strings.Contains(strings.Join(f.Warnings, "; "), tc.wantWarn) {
				t.Fatalf("warnings %q do not say %q", f.Warnings, tc.wantWarn)
			}
		})
	}
}

func firstTitle(f *parse.Feed) string {
	if len(f.Entries) == 0 {
		return "(no entries)"
	}
	return f.Entries[0].Item.Title
}

func TestJSONThatIsNoFeed(t *testing.T) {
	export := `{"name":"Groupe Beni","type":"public_supergroup","id":1234,"messages":[{"id":1,"type":"message","date":"2026-03-01T10:00:00","text":"Bonjour"}]}`
	_, err := parse.ParseFeed([]byte(export), "application/json", config.Source{Name: "export"}, time.Now())
	if !errors.Is(err, parse.ErrNotAFeed) || !strings.Contains(err.Error(), "JSON Feed") {
		t.Fatalf("a chat export parsed as a feed: %v, want ErrNotAFeed naming JSON Feed", err)
	}
}

func TestJSONFeedItemLanguageBeatsTheFeeds(t *testing.T) {
	doc := `{"version": "https://jsonfeed.org/version/1.1", "title": "Radio Kivu", "language": "sw",
	 "items": [
	  {"id": "1", "url": "https://kivu.example/1", "content_text": "Habari za asubuhi kutoka Goma.", "language": "sw"},
	  {"id": "2", "url": "https://kivu.example/2", "content_text": "Morning news from Goma in English.", "language": "en-GB"},
	  {"id": "3", "url": "https://kivu.example/3", "content_text": "Sango ya ntongo na Lingala.", "language": "ln"},
	  {"id": "4", "url": "https://kivu.example/4", "content_text": "No language given: the feed's."}
	 ]}`
	f, err := parse.ParseFeed([]byte(doc), "application/feed+json", config.Source{Name: "kivu"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range f.Entries {
		got = append(got, e.Item.Lang)
	}
	if strings.Join(got, " ") != "sw en ln sw" {
		t.Fatalf("item languages %q, want each item's own, else the feed's", got)
	}
}
