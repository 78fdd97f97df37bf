package parse_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/parse"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/; run a fuzzer with
//
//	go test -run '^$' -fuzz FuzzParseVTT -fuzztime 60s ./pipeline/parse/

func checkTranscriptInvariants(t *testing.T, tr *parse.Transcript) {
	if !utf8.ValidString(tr.Text) {
		t.Fatalf("text is not valid UTF-8: %q", tr.Text)
	}
	if len(tr.Cues) > parse.MaxCues {
		t.Fatalf("%d cues, over the limit", len(tr.Cues))
	}
	for i, c := range tr.Cues {
		if c.End < c.Start || c.Start < 0 {
			t.Fatalf("cue %d: start %d end %d", i, c.Start, c.End)
		}
		if c.Text == "" || strings.Contains(c.Text, "\n") {
			t.Fatalf("cue %d: text %q: want one non-empty line", i, c.Text)
		}
		if c.Offset < 0 || c.Offset+len(c.Text) > len(tr.Text) || tr.Text[c.Offset:c.Offset+len(c.Text)] != c.Text {
			t.Fatalf("cue %d: offset %d does not point at its text", i, c.Offset)
		}
	}
}

func FuzzParseVTT(f *testing.F) {
	f.Add([]byte("WEBVTT\n\n00:00.000 --> 00:01.000\n<v A>x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := parse.ParseTranscript(data, "text/vtt")
		if err != nil {
			return
		}
		checkTranscriptInvariants(t, tr)
	})
}

func FuzzParseSRT(f *testing.F) {
	f.Add([]byte("1\n00:00:01,000 --> 00:00:02,000\nx\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := parse.ParseTranscript(data, "application/x-subrip")
		if err != nil {
			return
		}
		checkTranscriptInvariants(t, tr)
	})
}

func FuzzHTMLToText(f *testing.F) {
	f.Add("<p>a</p><script>x</script>")
	f.Fuzz(func(t *testing.T, s string) {
		out := parse.HTMLToText(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		for _, line := range strings.Split(out, "\n") {
			if out != "" && (line == "" || strings.TrimSpace(line) != line || strings.Contains(line, "  ")) {
				t.Fatalf("line %q of %q is blank or not collapsed", line, out)
			}
		}
		clean := parse.SanitizeHTML(s)
		if bad := activeContent(clean); bad != "" {
			t.Fatalf("SanitizeHTML(%q) = %q keeps %s", s, clean, bad)
		}
	})
}

// activeContent names the first script-capable element or attribute of an
// HTML fragment, as a browser would tokenise it.
func activeContent(fragment string) string {
	z := html.NewTokenizer(strings.NewReader(fragment))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "script", "style", "iframe", "object", "embed", "frame", "base", "meta", "link", "form":
				return "<" + tok.Data + ">"
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
				if strings.HasPrefix(a.Key, "on") || a.Key == "style" ||
					strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:") {
					return a.Key + "=" + a.Val
				}
			}
		}
	}
}

func FuzzParseFeed(f *testing.F) {
	f.Add([]byte(`<rss version="2.0"><channel><item><title>t</title><guid>g</guid></item></channel></rss>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		feed, err := parse.ParseFeed(data, "", config.Source{Name: "fuzz"}, time.Unix(0, 0))
		if err != nil {
			return
		}
		for _, e := range feed.Entries {
			if e.Item.ID == "" || !utf8.ValidString(e.Item.Text) || !utf8.ValidString(e.Item.Title) {
				t.Fatalf("bad item %+v", e.Item)
			}
		}
	})
}

// FuzzFeedEncodings feeds arbitrary bytes under arbitrary charset labels:
// whatever the label claims, what comes out is valid UTF-8 and no label
// makes the parser panic.
func FuzzFeedEncodings(f *testing.F) {
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"UTF-16\"?><rss><channel><item><title>\xc3\xa9t\xe9</title></item></channel></rss>"), "utf-16")
	f.Add([]byte("<rss><channel><item><title>caf\xc3\xa9</title></item></channel></rss>"), "iso-8859-1")
	f.Add([]byte("\xff\xfe<\x00r\x00s\x00s\x00>\x00"), "utf-8")
	f.Add([]byte("<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>x</title></feed>"), "windows-1256")
	src := config.Source{Name: "fuzz", URL: "https://feed.example/"}
	f.Fuzz(func(t *testing.T, data []byte, label string) {
		feed, err := parse.ParseFeed(data, "application/xml; charset="+label, src, time.Unix(0, 0))
		if err != nil {
			return
		}
		for _, e := range feed.Entries {
			if !utf8.ValidString(e.Item.Title) || !utf8.ValidString(e.Item.Text) {
				t.Fatalf("invalid UTF-8 out of label %q: %q / %q", label, e.Item.Title, e.Item.Text)
			}
		}
	})
}
