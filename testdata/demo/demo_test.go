// Package demo_test checks the demo data set that `make demo` serves: every
// feed parses, every item has exactly one label line that agrees with it,
// transcripts are valid WebVTT/SRT, the surge and the uncatalogued rumour the
// demo relies on are really in the data, and no demo text reuses the
// development corpus.
package demo_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/microcosm-cc/bluemonday"
	"github.com/mmcdole/gofeed"
	"go.yaml.in/yaml/v3"

	"github.com/veille-project/veille/internal/testenv"
	"github.com/veille-project/veille/pipeline/config"
)

// base stands in for the demo server's address.
const base = "http://127.0.0.1:8999"

// label is one line of labels.jsonl.
type label struct {
	ID         string `json:"id"`
	Lang       string `json:"lang"`
	Kind       string `json:"kind"`
	Mission    string `json:"mission"`
	Source     string `json:"source"`
	Text       string `json:"text"`
	Labels     []narr `json:"labels"`
	File       string `json:"file"`
	Title      string `json:"title"`
	Published  string `json:"published"`
	URL        string `json:"url"`
	Transcript string `json:"transcript"`
	Surge      bool   `json:"surge"`
	Emerging   bool   `json:"emerging"`
}

type narr struct {
	Narrative string   `json:"narrative"`
	Stance    string   `json:"stance"`
	Evidence  []string `json:"evidence"`
}

// cue is one timed transcript line, voice tag removed.
type cue struct {
	start, end time.Duration
	speaker    string
	text       string
}

var feeds = []struct {
	file     string
	feedType string // gofeed's Feed.FeedType
	items    int
}{
	{"sahel-monitor.rss.xml", "rss", 19},
	{"echos-de-bangui.atom.xml", "atom", 18},
	{"radio-okapi-style.podcast.xml", "rss", 3},
	{"kivu-watch.json", "json", 8},
}

func readLabels(t *testing.T) []label {
	t.Helper()
	f, err := os.Open("labels.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []label
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var l label
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("labels.jsonl:%d: %v", n, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func readFeed(t *testing.T, file string) *gofeed.Feed {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.ReplaceAll(b, []byte("{{BASE}}"), []byte(base))
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return feed
}

var spaces = regexp.MustCompile(`\s+`)

// plainText is an item's HTML reduced to the text a classifier reads.
func plainText(s string) string {
	s = html.UnescapeString(bluemonday.StrictPolicy().Sanitize(s))
	return strings.TrimSpace(spaces.ReplaceAllString(s, " "))
}

func TestFeedsParseAndAgreeWithLabels(t *testing.T) {
	labels := readLabels(t)
	byID := map[string]label{}
	for _, l := range labels {
		if _, dup := byID[l.ID]; dup {
			t.Errorf("labels.jsonl: id %s twice", l.ID)
		}
		byID[l.ID] = l
	}
	seen := map[string]bool{}
	for _, f := range feeds {
		t.Run(f.file, func(t *testing.T) {
			feed := readFeed(t, f.file)
			if feed.FeedType != f.feedType {
				t.Errorf("feed type %s, want %s", feed.FeedType, f.feedType)
			}
			if len(feed.Items) != f.items {
				t.Errorf("%d items, want %d", len(feed.Items), f.items)
			}
			for _, it := range feed.Items {
				if it.GUID == "" || seen[it.GUID] {
					t.Errorf("item %q: empty or repeated GUID %q", it.Title, it.GUID)
					continue
				}
				seen[it.GUID] = true
				l, ok := byID[it.GUID]
				if !ok {
					t.Errorf("item %s has no line in labels.jsonl", it.GUID)
					continue
				}
				if l.File != f.file {
					t.Errorf("%s: labels say file %s", it.GUID, l.File)
				}
				if it.Title != l.Title {
					t.Errorf("%s: title %q, labels say %q", it.GUID, it.Title, l.Title)
				}
				if it.PublishedParsed == nil {
					t.Errorf("%s: no parseable publication date", it.GUID)
				} else if want := l.Published; it.PublishedParsed.UTC().Format(time.RFC3339) != want {
					t.Errorf("%s: published %s, labels say %s", it.GUID, it.PublishedParsed.UTC().Format(time.RFC3339), want)
				}
				if strings.Contains(it.Link, "{{") || !strings.HasPrefix(it.Link, base+"/") {
					t.Errorf("%s: link %q does not start with {{BASE}}", it.GUID, it.Link)
				}
				if l.Transcript != "" {
					checkTranscriptItem(t, it, l)
					continue
				}
				body := it.Content
				if body == "" {
					body = it.Description
				}
				if got := plainText(body); got != l.Text {
					t.Errorf("%s: plain text differs from labels.jsonl\n got: %s\nwant: %s", it.GUID, got, l.Text)
				}
			}
		})
	}
	for id := range byID {
		if !seen[id] {
			t.Errorf("labels.jsonl id %s is in no feed", id)
		}
	}
}

// checkTranscriptItem checks that an episode points at its transcript file
// and that the labelled text is that transcript's cues joined by spaces.
func checkTranscriptItem(t *testing.T, it *gofeed.Item, l label) {
	t.Helper()
	var urls []string
	for _, ext := range it.Extensions["podcast"]["transcript"] {
		if ext.Attrs["language"] != "fr" {
			t.Errorf("%s: transcript language %q", it.GUID, ext.Attrs["language"])
		}
		want := map[string]string{".vtt": "text/vtt", ".srt": "application/x-subrip"}[filepath.Ext(ext.Attrs["url"])]
		if ext.Attrs["type"] != want {
			t.Errorf("%s: transcript %s has type %q, want %q", it.GUID, ext.Attrs["url"], ext.Attrs["type"], want)
		}
		urls = append(urls, ext.Attrs["url"])
	}
	if want := base + "/" + l.Transcript; !slices.Contains(urls, want) {
		t.Errorf("%s: transcript urls %v, want %s", it.GUID, urls, want)
	}
	if len(it.Enclosures) != 1 {
		t.Errorf("%s: %d enclosures, want 1", it.GUID, len(it.Enclosures))
	}
	cues := readCues(t, l.Transcript)
	texts := make([]string, len(cues))
	for i, c := range cues {
		texts[i] = c.text
	}
	if got := strings.Join(texts, " "); got != l.Text {
		t.Errorf("%s: transcript text differs from labels.jsonl\n got: %s\nwant: %s", it.GUID, got, l.Text)
	}
}

var (
	vttTiming = regexp.MustCompile(`^(\d{2}):(\d{2}):(\d{2})\.(\d{3}) --> (\d{2}):(\d{2}):(\d{2})\.(\d{3})$`)
	srtTiming = regexp.MustCompile(`^(\d{2}):(\d{2}):(\d{2}),(\d{3}) --> (\d{2}):(\d{2}):(\d{2}),(\d{3})$`)
	voice     = regexp.MustCompile(`^<v ([A-Z][A-Za-z]*(?: \d+)?)>([^<>]+)$`)
)

func stamp(m []string) time.Duration {
	var h, mi, s, ms int
	fmt.Sscanf(strings.Join(m, " "), "%d %d %d %d", &h, &mi, &s, &ms)
	return time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(s)*time.Second + time.Duration(ms)*time.Millisecond
}

// readCues parses a WebVTT or SRT file strictly: numbered cues in order,
// well-formed timings, one text line each, no overlaps.
func readCues(t *testing.T, path string) []cue {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	isVTT := strings.HasSuffix(path, ".vtt")
	timing := srtTiming
	blocks := strings.Split(strings.TrimSpace(string(b)), "\n\n")
	if isVTT {
		timing = vttTiming
		if blocks[0] != "WEBVTT" {
			t.Fatalf("%s: first block %q, want WEBVTT", path, blocks[0])
		}
		blocks = blocks[1:]
	}
	var cues []cue
	for _, blk := range blocks {
		lines := strings.Split(blk, "\n")
		if strings.HasPrefix(lines[0], "NOTE") {
			continue
		}
		if len(lines) != 3 {
			t.Fatalf("%s: cue block %q: want number, timing, one text line", path, blk)
		}
		if lines[0] != fmt.Sprint(len(cues)+1) {
			t.Errorf("%s: cue number %q, want %d", path, lines[0], len(cues)+1)
		}
		m := timing.FindStringSubmatch(lines[1])
		if m == nil {
			t.Fatalf("%s: bad timing line %q", path, lines[1])
		}
		c := cue{start: stamp(m[1:5]), end: stamp(m[5:9]), text: lines[2]}
		if isVTT && strings.HasPrefix(c.text, "<") {
			v := voice.FindStringSubmatch(c.text)
			if v == nil {
				t.Errorf("%s: bad voice tag in %q", path, c.text)
			} else {
				c.speaker, c.text = v[1], v[2]
			}
		}
		if c.end <= c.start {
			t.Errorf("%s: cue %d ends before it starts", path, len(cues)+1)
		}
		if n := len(cues); n > 0 && c.start < cues[n-1].end {
			t.Errorf("%s: cue %d overlaps the previous one", path, n+1)
		}
		cues = append(cues, c)
	}
	if len(cues) < 15 || len(cues) > 30 {
		t.Errorf("%s: %d cues, want 15-30", path, len(cues))
	}
	return cues
}

func TestTranscripts(t *testing.T) {
	labels := readLabels(t)
	split := 0
	for _, l := range labels {
		if l.Transcript == "" {
			continue
		}
		t.Run(l.Transcript, func(t *testing.T) {
			cues := readCues(t, l.Transcript)
			speakers := map[string]bool{}
			for _, c := range cues {
				speakers[c.speaker] = true
			}
			if strings.HasSuffix(l.Transcript, ".vtt") && (!speakers["Host"] || !speakers["Caller 1"]) {
				t.Errorf("speakers %v: want Host and Caller 1", speakers)
			}
			// Every evidence string lies in one cue or straddles two
			// consecutive cues (the demo's split claim).
			for _, n := range l.Labels {
				for _, ev := range n.Evidence {
					where := -1
					for i, c := range cues {
						if strings.Contains(c.text, ev) {
							where = i
							break
						}
						if i+1 < len(cues) && strings.Contains(c.text+" "+cues[i+1].text, ev) {
							where = i
							split++
							break
						}
					}
					if where < 0 {
						t.Errorf("evidence %q is in no cue or pair of consecutive cues", ev)
					}
				}
			}
		})
	}
	if split == 0 {
		t.Error("no evidence straddles two cues; the demo needs one claim split across cues")
	}
}

func TestLabelsFollowTheCorpusRules(t *testing.T) {
	shared := testenv.Shared(t)
	var tax struct {
		Narratives []struct {
			ID string `yaml:"id"`
		} `yaml:"narratives"`
		Stances map[string]string `yaml:"stances"`
	}
	b, err := os.ReadFile(filepath.Join(shared, "corpus", "taxonomy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &tax); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, n := range tax.Narratives {
		known[n.ID] = true
	}
	labels := readLabels(t)
	if len(labels) < 45 {
		t.Errorf("%d demo items, want at least 45", len(labels))
	}
	covered := map[string]bool{}
	stances := map[string]int{}
	plain := 0
	for _, l := range labels {
		if !slices.Contains([]string{"en", "fr", "sw", "ln"}, l.Lang) {
			t.Errorf("%s: lang %q", l.ID, l.Lang)
		}
		if !slices.Contains([]string{"post", "article", "comment", "message", "headline", "transcript"}, l.Kind) {
			t.Errorf("%s: kind %q", l.ID, l.Kind)
		}
		if !slices.Contains([]string{"MINUSMA", "MINUSCA", "MONUSCO", "UNMISS", "UNIFIL", "UNISFA", "none"}, l.Mission) {
			t.Errorf("%s: mission %q", l.ID, l.Mission)
		}
		if len(l.Labels) == 0 && !l.Emerging {
			plain++
		}
		pairs := map[string]bool{}
		for _, n := range l.Labels {
			if !known[n.Narrative] {
				t.Errorf("%s: unknown narrative %q", l.ID, n.Narrative)
			}
			if _, ok := tax.Stances[n.Stance]; !ok {
				t.Errorf("%s: unknown stance %q", l.ID, n.Stance)
			}
			key := n.Narrative + "/" + n.Stance
			if l.Transcript == "" {
				key = n.Narrative // one stance per narrative outside transcripts
			}
			if pairs[key] {
				t.Errorf("%s: %s labelled twice", l.ID, key)
			}
			pairs[key] = true
			covered[n.Narrative] = true
			stances[n.Stance]++
			if len(n.Evidence) < 1 || len(n.Evidence) > 3 {
				t.Errorf("%s: %d evidence strings, want 1-3", l.ID, len(n.Evidence))
			}
			for _, ev := range n.Evidence {
				if !strings.Contains(l.Text, ev) {
					t.Errorf("%s: evidence %q not in text", l.ID, ev)
				}
				if w := len(strings.Fields(ev)); w < 3 || w > 25 {
					t.Errorf("%s: evidence %q has %d words, want 3-25", l.ID, ev, w)
				}
			}
		}
	}
	if len(covered) < 8 {
		t.Errorf("%d narratives covered, want at least 8", len(covered))
	}
	for _, s := range []string{"assert", "report", "debunk"} {
		if stances[s] < 5 {
			t.Errorf("%d %s labels, want at least 5", stances[s], s)
		}
	}
	if share := float64(plain) / float64(len(labels)); share < 0.25 || share > 0.40 {
		t.Errorf("ordinary items without narrative: %.0f%%, want about 30%%", 100*share)
	}
}

// TestSurge checks the alerting demo's premise: weapons-supply claims about
// MINUSCA pile up in the last six hours of the data after a quiet week.
func TestSurge(t *testing.T) {
	labels := readLabels(t)
	var last time.Time
	for _, l := range labels {
		p, err := time.Parse(time.RFC3339, l.Published)
		if err != nil {
			t.Fatalf("%s: %v", l.ID, err)
		}
		if p.After(last) {
			last = p
		}
	}
	window := last.Add(-6 * time.Hour)
	inWindow, perDay := 0, map[string]int{}
	for _, l := range labels {
		p, _ := time.Parse(time.RFC3339, l.Published)
		carries := false
		for _, n := range l.Labels {
			carries = carries || n.Narrative == "weapons-to-armed-groups"
		}
		if !carries || l.Mission != "MINUSCA" {
			if l.Surge {
				t.Errorf("%s is marked surge but carries no MINUSCA weapons claim", l.ID)
			}
			continue
		}
		if p.After(window) {
			inWindow++
			if !l.Surge {
				t.Errorf("%s is in the surge window but not marked surge", l.ID)
			}
		} else {
			perDay[p.Format(time.DateOnly)]++
		}
	}
	if inWindow < 8 {
		t.Errorf("%d items carry the surge narrative in the last 6h, want at least 8", inWindow)
	}
	for day, n := range perDay {
		if n > 1 {
			t.Errorf("%s: %d items before the surge, want at most 1 a day", day, n)
		}
	}
}

// TestEmergingRumour checks the uncatalogued rumour: several items in both
// languages, none labelled with a catalogued narrative, all about the mission.
func TestEmergingRumour(t *testing.T) {
	mission := regexp.MustCompile(`(?i)MINUSCA|blue helmets|peacekeepers|casques bleus`)
	rain := regexp.MustCompile(`(?i)rain|cloud|pluie|nuages`)
	langs := map[string]int{}
	for _, l := range readLabels(t) {
		if !l.Emerging {
			continue
		}
		langs[l.Lang]++
		if len(l.Labels) != 0 {
			t.Errorf("%s: emerging item carries %v", l.ID, l.Labels)
		}
		if !mission.MatchString(l.Text) || !rain.MatchString(l.Text) {
			t.Errorf("%s: emerging item does not speak of the mission and the rain", l.ID)
		}
	}
	if langs["en"] < 2 || langs["fr"] < 2 || langs["en"]+langs["fr"] < 5 {
		t.Errorf("emerging items per language %v, want at least 5 with both en and fr", langs)
	}
}

func TestHostileMarkupIsThereToBeRemoved(t *testing.T) {
	b, err := os.ReadFile("echos-de-bangui.atom.xml")
	if err != nil {
		t.Fatal(err)
	}
	raw := html.UnescapeString(string(b))
	for _, payload := range []string{`<script>alert('x')</script>`, `<img src=x onerror="alert(1)">`} {
		if !strings.Contains(raw, payload) {
			t.Errorf("feed lacks hostile payload %s", payload)
		}
	}
	for _, l := range readLabels(t) {
		if strings.Contains(l.Text, "alert(") || strings.Contains(l.Text, "<") {
			t.Errorf("%s: labelled text keeps markup: %q", l.ID, l.Text)
		}
	}
}

func TestDemoConfigLoads(t *testing.T) {
	b, err := os.ReadFile("veille.demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "veille.yaml")
	if err := os.WriteFile(path, bytes.ReplaceAll(b, []byte("{{BASE}}"), []byte(base)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"VEILLE_NATS", "VEILLE_CLICKHOUSE", "VEILLE_LISTEN", "VEILLE_DATA", "VEILLE_REPLICAS", "VEILLE_CATALOG"} {
		t.Setenv(env, "")
	}
	cfg, err := config.Load(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Fetch.Allow, []string{"127.0.0.1"}) {
		t.Errorf("fetch.allow = %v, want only 127.0.0.1", cfg.Fetch.Allow)
	}
	var files []string
	for _, s := range cfg.Sources {
		f := strings.TrimPrefix(s.URL, base+"/")
		if f == s.URL {
			t.Errorf("source %s: url %s is not under {{BASE}}", s.Name, s.URL)
		}
		if s.Kind == "telegram" {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("source %s: %v", s.Name, err)
			}
			continue
		}
		files = append(files, f)
	}
	var want []string
	for _, f := range feeds {
		want = append(want, f.file)
	}
	sort.Strings(files)
	sort.Strings(want)
	if !slices.Equal(files, want) {
		t.Errorf("sources serve %v, want %v", files, want)
	}
	if len(cfg.Alerts.Rules) == 0 || !slices.Contains(cfg.Alerts.Rules[0].Narratives, "weapons-to-armed-groups") {
		t.Errorf("first alert rule %+v: want the weapons-to-armed-groups surge", cfg.Alerts.Rules)
	}
}

// words splits text into lower-case words for overlap checks.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

const shingle = 10

// TestNoCorpusText fails if any demo text shares 10 consecutive words with
// an item or transcript of the development corpus.
func TestNoCorpusText(t *testing.T) {
	dir := filepath.Join(testenv.Shared(t), "corpus")
	seen := map[string]string{}
	add := func(where, text string) {
		w := words(text)
		for i := 0; i+shingle <= len(w); i++ {
			seen[strings.Join(w[i:i+shingle], " ")] = where
		}
	}
	jsonl, _ := filepath.Glob(filepath.Join(dir, "dev-*.jsonl"))
	vtts, _ := filepath.Glob(filepath.Join(dir, "transcripts", "*.vtt"))
	if len(jsonl) == 0 || len(vtts) == 0 {
		t.Fatalf("no corpus files under %s", dir)
	}
	for _, p := range jsonl {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var it struct{ ID, Text string }
			if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			add(it.ID, it.Text)
		}
		f.Close()
	}
	for _, p := range vtts {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, ln := range strings.Split(string(b), "\n") {
			if !strings.Contains(ln, "-->") {
				lines = append(lines, regexp.MustCompile(`</?v[^>]*>`).ReplaceAllString(ln, ""))
			}
		}
		add(filepath.Base(p), strings.Join(lines, " "))
	}
	for _, l := range readLabels(t) {
		w := words(l.Title + " . " + l.Text)
		for i := 0; i+shingle <= len(w); i++ {
			if src, ok := seen[strings.Join(w[i:i+shingle], " ")]; ok {
				t.Errorf("%s shares %q with corpus %s", l.ID, strings.Join(w[i:i+shingle], " "), src)
				break
			}
		}
	}
}
