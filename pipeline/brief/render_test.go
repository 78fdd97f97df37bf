package brief

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func render(t *testing.T, b Brief) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, b); err != nil {
		t.Fatalf("Render(%s, %s): %v", b.Lang, b.Audience, err)
	}
	return buf.String()
}

func parse(t *testing.T, s string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatalf("the brief does not parse as HTML: %v", err)
	}
	return doc
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func elements(doc *html.Node, tag string) []*html.Node {
	var out []*html.Node
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag {
			out = append(out, n)
		}
	})
	return out
}

// visibleText is the text of the body as a reader sees it.
func visibleText(doc *html.Node) string {
	var b strings.Builder
	var f func(*html.Node)
	f = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "head" || n.Data == "style") {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			f(c)
		}
	}
	f(doc)
	return b.String()
}

// exampleCases are the example brief in both languages for both audiences.
func exampleCases() []Brief {
	var out []Brief
	for _, lang := range Languages {
		out = append(out, exampleBrief(lang), ForPartner(exampleBrief(lang), 5))
	}
	return out
}

func caseName(b Brief) string { return b.Lang + "-" + string(b.Audience) }

func TestRenderMatchesGolden(t *testing.T) {
	for _, b := range exampleCases() {
		t.Run(caseName(b), func(t *testing.T) {
			got := render(t, b)
			path := filepath.Join("testdata", "example-"+caseName(b)+".html")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("Render differs from %s; look at the new output with VEILLE_BRIEF_EXAMPLES, then run with -update", path)
			}
		})
	}
}

// forbidden are elements that load something, run something or send
// something; a brief has none.
var forbidden = []string{"script", "iframe", "frame", "object", "embed", "img", "picture", "link", "base",
	"form", "input", "button", "audio", "video", "source", "track", "image", "use", "foreignobject", "noscript"}

func TestRenderIsSelfContained(t *testing.T) {
	for _, b := range exampleCases() {
		t.Run(caseName(b), func(t *testing.T) {
			out := render(t, b)
			doc := parse(t, out)
			itemURLs := map[string]bool{}
			for _, r := range b.Narratives {
				for _, it := range r.Notable {
					if it.URL != "" {
						itemURLs[it.URL] = true
					}
				}
			}
			ids := map[string]bool{}
			walk(doc, func(n *html.Node) {
				if id, ok := attr(n, "id"); ok && n.Type == html.ElementNode {
					ids[id] = true
				}
			})
			webLinks := 0
			walk(doc, func(n *html.Node) {
				if n.Type != html.ElementNode {
					return
				}
				for _, tag := range forbidden {
					if n.Data == tag {
						t.Errorf("the brief has a <%s> element", n.Data)
					}
				}
				for _, a := range n.Attr {
					key := strings.ToLower(a.Key)
					switch {
					case strings.HasPrefix(key, "on"):
						t.Errorf("<%s> has an event handler %s", n.Data, a.Key)
					case key == "src" || key == "srcset" || key == "poster" || key == "data" || key == "action" || key == "formaction" || a.Namespace == "xlink":
						t.Errorf("<%s> loads %s=%q", n.Data, a.Key, a.Val)
					case key == "href":
						switch {
						case strings.HasPrefix(a.Val, "#"):
							if !ids[a.Val[1:]] {
								t.Errorf("link to #%s, which no element has as id", a.Val[1:])
							}
						case b.Audience == Internal && itemURLs[a.Val]:
							u, _ := url.Parse(a.Val)
							if u.Scheme != "http" && u.Scheme != "https" {
								t.Errorf("item link %q is not http(s)", a.Val)
							}
							webLinks++
						default:
							t.Errorf("<%s> links to %q, neither an anchor of the brief nor an item", n.Data, a.Val)
						}
					}
					if strings.Contains(a.Val, "url(") && !regexp.MustCompile(`^url\(#[a-z-]+\)$`).MatchString(a.Val) {
						t.Errorf("<%s %s=%q> refers to something outside the brief", n.Data, a.Key, a.Val)
					}
				}
			})
			if b.Audience == Internal && webLinks == 0 {
				t.Error("the internal brief links to none of its items")
			}
			styles := elements(doc, "style")
			if len(styles) != 1 {
				t.Fatalf("%d <style> elements, want 1", len(styles))
			}
			css := styles[0].FirstChild.Data
			for _, bad := range []string{"@import", "url(", "@font-face", "expression("} {
				if strings.Contains(css, bad) {
					t.Errorf("the CSS has %q", bad)
				}
			}
			for _, want := range []string{"@page", "size: A4", "@media print", "break-inside: avoid", "@media (max-width"} {
				if !strings.Contains(css, want) {
					t.Errorf("the CSS lacks %q", want)
				}
			}
			viewport := false
			for _, m := range elements(doc, "meta") {
				if name, _ := attr(m, "name"); name == "viewport" {
					viewport = true
				}
			}
			if !viewport {
				t.Error("no viewport meta: the brief would not fit a phone")
			}
			if lang, _ := attr(elements(doc, "html")[0], "lang"); lang != b.Lang {
				t.Errorf("<html lang=%q>, want %q", lang, b.Lang)
			}
			svgs := elements(doc, "svg")
			if len(svgs) < 2 {
				t.Fatalf("%d charts, want the bar chart and the daily strips", len(svgs))
			}
			for _, svg := range svgs {
				if role, _ := attr(svg, "role"); role != "img" {
					t.Errorf("a chart has role %q, want img", role)
				}
				if len(elements(svg, "title")) == 0 || len(elements(svg, "desc")) == 0 {
					t.Error("a chart has no <title> and <desc> to read instead")
				}
			}
		})
	}
}

func TestRenderShowsTheFiguresInTheBriefLanguage(t *testing.T) {
	const nnbsp = "\u202f"
	tests := []struct {
		lang         string
		want, reject []string
	}{
		{"en",
			[]string{"1,659", "1,395", "+18.9%", "1,318", "62%", "91.3%", "+2.6 pts", "1,207", "+24.7%", "−4.7%",
				"30\u00a0November – 6\u00a0December 2026", "23–29\u00a0November 2026", "7\u00a0December 2026, 06:00 UTC", "12\u00a0March 2025",
				"rising", "new", "Internal — not for distribution", "up from 0", "3\u00a0December 2026, 14:05 UTC"},
			[]string{"1" + nnbsp + "659", "18,9", "Nothing to report"}},
		{"fr",
			[]string{"1" + nnbsp + "659", "1" + nnbsp + "395", "+18,9" + nnbsp + "%", "62" + nnbsp + "%", "91,3" + nnbsp + "%",
				"+2,6\u00a0pts", "1" + nnbsp + "207", "+24,7" + nnbsp + "%", "−4,7" + nnbsp + "%",
				"du 30\u00a0novembre au 6\u00a0décembre 2026", "du 23 au 29\u00a0novembre 2026", "7\u00a0décembre 2026 à 06 h 00 UTC",
				"en hausse", "nouveau", "Interne — ne pas diffuser"},
			[]string{"1,659", "18.9", "91.3", "December", "rising", "Rien à signaler"}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			doc := parse(t, render(t, exampleBrief(tt.lang)))
			text := visibleText(doc)
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("the brief does not show %q", w)
				}
			}
			for _, r := range tt.reject {
				if strings.Contains(text, r) {
					t.Errorf("the %s brief shows %q", tt.lang, r)
				}
			}
			if tt.lang == "fr" {
				for _, n := range figureText(doc) {
					if m := regexp.MustCompile(`\d[%:;]|\d\.\d`).FindString(n); m != "" {
						t.Errorf("the French brief writes %q in %q: want a comma decimal and a space before %%, : and ;", m, n)
					}
				}
			}
		})
	}
}

// figureText returns the texts of the brief's own figures: numeric cells,
// facts and chart labels.
func figureText(doc *html.Node) []string {
	var out []string
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		class, _ := attr(n, "class")
		if n.Data == "dd" || n.Data == "text" || n.Data == "desc" || (n.Data == "td" && class == "n") {
			out = append(out, visibleText(n))
		}
	})
	return out
}

func TestRenderListsEveryFigureWithItsCommand(t *testing.T) {
	b := exampleBrief("en")
	doc := parse(t, render(t, b))
	var appendix *html.Node
	walk(doc, func(n *html.Node) {
		if id, _ := attr(n, "id"); id == "appendix" && n.Data == "h2" {
			appendix = n.Parent
		}
	})
	if appendix == nil {
		t.Fatal("no appendix")
	}
	rows := elements(appendix, "tr")[1:]
	if len(rows) != len(b.Appendix) {
		t.Fatalf("appendix has %d rows, want %d", len(rows), len(b.Appendix))
	}
	for i, tr := range rows {
		codes := elements(tr, "code")
		if len(codes) != 1 || visibleText(codes[0]) != b.Appendix[i].Query {
			t.Errorf("row %d: command %q, want %q", i, visibleText(tr), b.Appendix[i].Query)
		}
	}
	text := visibleText(appendix)
	for _, want := range []string{"1,659", "91.3%", "1,207", "veille query trends --by narrative,day --narrative weapons-to-armed-groups"} {
		if !strings.Contains(text, want) {
			t.Errorf("appendix lacks %q", want)
		}
	}
}

func TestRenderHighlightsEvidence(t *testing.T) {
	for _, b := range exampleCases() {
		t.Run(caseName(b), func(t *testing.T) {
			doc := parse(t, render(t, b))
			marks := map[string]bool{}
			for _, m := range elements(doc, "mark") {
				marks[visibleText(m)] = true
			}
			for _, want := range []string{"décharger des caisses d'armes pour les rebelles", "les Casques bleus qui donnent des fusils aux groupes armés"} {
				if !marks[want] {
					t.Errorf("evidence %q is not in a <mark>", want)
				}
			}
		})
	}
}

func TestRenderSaysWhoTheBriefIsFor(t *testing.T) {
	for _, b := range exampleCases() {
		t.Run(caseName(b), func(t *testing.T) {
			doc := parse(t, render(t, b))
			footers := elements(doc, "footer")
			if len(footers) != 1 {
				t.Fatalf("%d footers, want 1", len(footers))
			}
			l := locale{lang: b.Lang}
			text := visibleText(footers[0])
			for _, want := range []string{l.t("audience_" + string(b.Audience)), l.period(b.From, b.To)} {
				if !strings.Contains(text, want) {
					t.Errorf("footer %q lacks %q", text, want)
				}
			}
		})
	}
}

func TestRenderEscapesHostileText(t *testing.T) {
	const hostile = `<script>alert(1)</script>`
	text := "Avant " + hostile + ` puis <img src=x onerror="alert(2)"> et la MINUSCA arme les rebelles.`
	b := Brief{
		ID: "hostile", Lang: "fr", Audience: Internal, Mission: hostile,
		From: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC),
		Headline: Headline{Flags: 10, Items: 10, Sources: 1, Languages: 1},
		Narratives: []NarrativeRow{{
			ID: "x", Name: `"><script>alert(3)</script>`, Flags: 10, Daily: []int{10},
			Stances: Stances{Spreading: 10}, Sources: []string{`<b onmouseover="alert(4)">radio</b>`},
			ResponseLines: []string{hostile},
			Notable: []NotableItem{{
				Title: `</h5>` + hostile, URL: "javascript:alert(5)", Source: hostile, Text: text,
				Evidence: []Span{
					{Start: 0, End: len("Avant <script>"), Text: "Avant <script>"},
					ev(text, "la MINUSCA arme les rebelles"),
				},
				Decision: DecisionConfirm, Author: hostile, Note: `<iframe src="//evil.example">`,
			}},
		}},
		Emerging: []EmergingRow{{Label: hostile, Terms: []string{hostile}}},
		Alerts:   []AlertRow{{Narrative: "x", Rule: hostile, Summary: hostile}},
		Changes:  []string{hostile},
		Appendix: []Figure{{Label: hostile, Value: 10, Query: "veille query trends </code>" + hostile}},
	}
	for _, b := range []Brief{b, ForPartner(b, 5)} {
		t.Run(string(b.Audience), func(t *testing.T) {
			out := render(t, b)
			doc := parse(t, out)
			for _, tag := range []string{"script", "img", "iframe", "b"} {
				if n := len(elements(doc, tag)); n > 0 {
					t.Errorf("hostile text made %d <%s> elements", n, tag)
				}
			}
			walk(doc, func(n *html.Node) {
				for _, a := range n.Attr {
					if strings.HasPrefix(a.Key, "on") || strings.Contains(a.Val, "javascript:") {
						t.Errorf("hostile text made <%s %s=%q>", n.Data, a.Key, a.Val)
					}
				}
			})
			if !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Error("the item text's <script> does not come out escaped")
			}
			if !strings.Contains(visibleText(doc), hostile) {
				t.Error("the hostile text is not shown as text")
			}
		})
	}
}

func TestRenderNothingToReport(t *testing.T) {
	empty := func(lang string) Brief {
		return Brief{
			ID: "minusma-2026-w49", Mission: "MINUSMA", Lang: lang, Audience: Internal,
			From: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC),
			PrevFrom: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), PrevTo: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC),
			Generated: time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC),
			Headline:  Headline{PrevFlags: 12, PrevItems: 11, PrevSources: 4, PrevLanguages: 2, PrevReviewed: 1, PrevPrecision: share(0.75)},
			Appendix:  []Figure{{Label: "Flags", Value: 0, Query: "veille query trends --by narrative --mission MINUSMA --since 8d --until 1d"}},
		}
	}
	tests := []struct {
		lang string
		want []string
	}{
		{"en", []string{"Nothing to report: no flag in this period.", "no reviewed flags this period", "30\u00a0November – 6\u00a0December 2026", "75%"}},
		{"fr", []string{"Rien à signaler\u00a0: aucun signalement sur la période.", "aucun signalement revu sur la période", "du 30\u00a0novembre au 6\u00a0décembre 2026", "75\u202f%"}},
	}
	for _, tt := range tests {
		for _, b := range []Brief{empty(tt.lang), ForPartner(empty(tt.lang), 5)} {
			t.Run(caseName(b), func(t *testing.T) {
				doc := parse(t, render(t, b))
				text := visibleText(doc)
				for _, w := range tt.want {
					if b.Audience == Partner && (strings.Contains(w, "revu") || strings.Contains(w, "review") || strings.Contains(w, "%")) {
						continue
					}
					if !strings.Contains(text, w) {
						t.Errorf("the empty brief does not say %q", w)
					}
				}
				if n := len(elements(doc, "svg")); n != 0 {
					t.Errorf("the empty brief draws %d charts", n)
				}
			})
		}
	}
}

func TestRenderRefusesWhatItCannotRender(t *testing.T) {
	base := exampleBrief("en")
	scrubbed := ForPartner(base, 5)
	tests := []struct {
		name string
		b    func() Brief
		want error
	}{
		{"unknown language", func() Brief { b := base; b.Lang = "de"; return b }, ErrInvalid},
		{"no language", func() Brief { b := base; b.Lang = ""; return b }, ErrInvalid},
		{"unknown audience", func() Brief { b := base; b.Audience = "public"; return b }, ErrInvalid},
		{"partner brief not from ForPartner", func() Brief { b := base; b.Audience = Partner; return b }, ErrNotForPartner},
		{"partner brief given an author back", func() Brief {
			b := ForPartner(base, 5)
			b.Narratives[0].Notable[0].Author = "a:5d41402abc4b2a76"
			return b
		}, ErrNotForPartner},
		{"partner brief given a small count back", func() Brief {
			b := ForPartner(base, 5)
			b.Narratives[0].Daily[0] = 2
			return b
		}, ErrNotForPartner},
		{"partner brief given a command back", func() Brief {
			b := ForPartner(base, 5)
			b.Appendix[0].Query = "veille query trends"
			return b
		}, ErrNotForPartner},
		{"partner brief given sensitive sources back", func() Brief {
			b := ForPartner(base, 5)
			b.SensitiveSources = base.SensitiveSources
			return b
		}, ErrNotForPartner},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Render(&bytes.Buffer{}, tt.b())
			if !errors.Is(err, tt.want) {
				t.Fatalf("Render = %v, want %v", err, tt.want)
			}
		})
	}
	if err := Render(&bytes.Buffer{}, scrubbed); err != nil {
		t.Fatalf("Render(ForPartner(b)) = %v", err)
	}
}

func TestWordsExistInEveryLanguage(t *testing.T) {
	for _, lang := range Languages {
		if _, ok := words[lang]; !ok {
			t.Fatalf("no words for %s", lang)
		}
	}
	verbs := regexp.MustCompile(`%[a-z]`)
	for key, en := range words["en"] {
		for _, lang := range Languages {
			s, ok := words[lang][key]
			if !ok {
				t.Errorf("%s: no %q", lang, key)
				continue
			}
			if got, want := len(verbs.FindAllString(s, -1)), len(verbs.FindAllString(en, -1)); got != want {
				t.Errorf("%s %q has %d verbs, English %d", lang, key, got, want)
			}
		}
	}
	for _, lang := range Languages {
		if len(words[lang]) != len(words["en"]) {
			t.Errorf("%s has %d words, English %d", lang, len(words[lang]), len(words["en"]))
		}
	}
}

func TestLocaleFormatsNumbers(t *testing.T) {
	en, fr := locale{lang: "en"}, locale{lang: "fr"}
	tests := []struct {
		got, want string
	}{
		{en.int(0), "0"},
		{en.int(999), "999"},
		{en.int(1000), "1,000"},
		{en.int(1234567), "1,234,567"},
		{en.int(-1234), "−1,234"},
		{fr.int(1234), "1\u202f234"},
		{fr.int(1234567), "1\u202f234\u202f567"},
		{en.count(Suppressed, 5), "<\u00a05"},
		{en.count(12, 5), "12"},
		{en.percent(0.913), "91.3%"},
		{en.percent(0.62), "62%"},
		{en.percent(1), "100%"},
		{en.percent(0.0004), "0%"},
		{fr.percent(0.913), "91,3\u202f%"},
		{fr.percent(0.62), "62\u202f%"},
		{en.change(1659, 1395), "+18.9%"},
		{fr.change(1659, 1395), "+18,9\u202f%"},
		{en.change(287, 301), "−4.7%"},
		{en.change(3, 3), "0%"},
		{en.change(5, 0), "up from 0"},
		{fr.change(5, 0), "contre 0 avant"},
		{en.change(0, 0), "—"},
		{en.change(Suppressed, 10), "—"},
		{en.change(10, Suppressed), "—"},
		{en.points(0.62, 0.55), "+7 pts"},
		{fr.points(0.5, 0.525), "−2,5\u00a0pts"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

func TestLocaleFormatsDates(t *testing.T) {
	en, fr := locale{lang: "en"}, locale{lang: "fr"}
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		got, want string
	}{
		{en.date(d(2026, 12, 7)), "7\u00a0December 2026"},
		{fr.date(d(2026, 12, 7)), "7\u00a0décembre 2026"},
		{fr.date(d(2026, 12, 1)), "1er\u00a0décembre 2026"},
		{fr.date(d(2026, 8, 15)), "15\u00a0août 2026"},
		{en.date(time.Time{}), "—"},
		{en.dateTime(time.Date(2026, 12, 3, 14, 5, 0, 0, time.UTC)), "3\u00a0December 2026, 14:05 UTC"},
		{fr.dateTime(time.Date(2026, 12, 3, 14, 5, 0, 0, time.UTC)), "3\u00a0décembre 2026 à 14 h 05 UTC"},
		{en.period(d(2026, 12, 1), d(2026, 12, 8)), "1–7\u00a0December 2026"},
		{fr.period(d(2026, 12, 1), d(2026, 12, 8)), "du 1er au 7\u00a0décembre 2026"},
		{en.period(d(2026, 11, 30), d(2026, 12, 7)), "30\u00a0November – 6\u00a0December 2026"},
		{fr.period(d(2026, 11, 30), d(2026, 12, 7)), "du 30\u00a0novembre au 6\u00a0décembre 2026"},
		{en.period(d(2026, 12, 28), d(2027, 1, 4)), "28\u00a0December 2026 – 3\u00a0January 2027"},
		{fr.period(d(2026, 12, 28), d(2027, 1, 4)), "du 28\u00a0décembre 2026 au 3\u00a0janvier 2027"},
		{en.period(d(2026, 12, 7), d(2026, 12, 8)), "7\u00a0December 2026"},
		{en.period(d(2026, 12, 7), time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)), "7\u00a0December 2026"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

func TestHighlight(t *testing.T) {
	text := "Les Casques bleus arment les rebelles à Bria."
	tests := []struct {
		name string
		ev   []Span
		want string
	}{
		{"one span", []Span{ev(text, "arment les rebelles")},
			"Les Casques bleus <mark>arment les rebelles</mark> à Bria."},
		{"overlapping spans make one mark", []Span{ev(text, "arment les"), ev(text, "les rebelles")},
			"Les Casques bleus <mark>arment les rebelles</mark> à Bria."},
		{"offsets that do not cover the words are found by the words", []Span{{Start: 3, End: 9, Text: "Bria"}},
			"Les Casques bleus arment les rebelles à <mark>Bria</mark>."},
		{"a span out of the text is left out", []Span{{Start: 40, End: 400}},
			"Les Casques bleus arment les rebelles à Bria."},
		{"a span cutting a character is left out", []Span{{Start: strings.Index(text, "à") + 1, End: len(text)}},
			"Les Casques bleus arment les rebelles à Bria."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, excerpt := highlight(text, tt.ev)
			if string(got) != tt.want || excerpt {
				t.Errorf("highlight = %q, %v; want %q, false", got, excerpt, tt.want)
			}
		})
	}
}

func TestHighlightCutsLongTextsToPassages(t *testing.T) {
	long := strings.Repeat("bla bla bla. ", 200) + "La mission pille les diamants." + strings.Repeat(" rien à voir.", 200)
	got, excerpt := highlight(long, []Span{ev(long, "pille les diamants")})
	s := string(got)
	if !excerpt {
		t.Error("a long text is not marked as an excerpt")
	}
	if !strings.HasPrefix(s, "… ") || !strings.HasSuffix(s, " …") {
		t.Errorf("the passage does not say it is cut: %.40q … %.40q", s, s[max(0, len(s)-40):])
	}
	if !strings.Contains(s, "<mark>pille les diamants</mark>") {
		t.Error("the passage lost its evidence")
	}
	if len(s) > 2*around+200 {
		t.Errorf("passage of %d bytes, want about %d", len(s), 2*around)
	}
}

func ExampleRender() {
	b := Brief{
		Mission: "MONUSCO", Lang: "en", Audience: Internal,
		From: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC),
		Headline: Headline{Flags: 0, PrevFlags: 4},
	}
	var buf bytes.Buffer
	if err := Render(&buf, b); err != nil {
		fmt.Println(err)
	}
	fmt.Println(strings.Contains(buf.String(), "Nothing to report"))
	// Output: true
}
