package web

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/storage"
)

func TestHighlight(t *testing.T) {
	for _, tc := range []struct {
		name  string
		text  string
		spans []span
		want  string
	}{
		{"none", "a <b> & c", nil, "a &lt;b&gt; &amp; c"},
		{"one", "they deliver arms at night", []span{{5, 17, "W"}}, `they <mark title="W">deliver arms</mark> at night`},
		{"escaped inside", "x <script>y</script> z", []span{{2, 20, "N"}}, `x <mark title="N">&lt;script&gt;y&lt;/script&gt;</mark> z`},
		{"overlap split", "abcdef", []span{{0, 4, "A"}, {2, 6, "B"}}, `<mark title="A">ab</mark><mark title="A, B">cd</mark><mark title="B">ef</mark>`},
		{"out of range dropped", "abc", []span{{1, 9, "A"}, {-1, 2, "B"}, {2, 2, "C"}}, "abc"},
		{"cuts a character dropped", "élan", []span{{1, 3, "A"}}, "élan"},
		{"label escaped", "abc", []span{{0, 1, `"><script>`}}, `<mark title="&#34;&gt;&lt;script&gt;">a</mark>bc`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(highlight(tc.text, tc.spans)); got != tc.want {
				t.Fatalf("highlight = %s\nwant        %s", got, tc.want)
			}
		})
	}
}

func TestMessagesComplete(t *testing.T) {
	for lang, m := range messages {
		for key := range messages["en"] {
			if _, ok := m[key]; !ok {
				t.Errorf("%s lacks %q", lang, key)
			}
		}
		for key := range m {
			if _, ok := messages["en"][key]; !ok {
				t.Errorf("%s has %q, which English lacks", lang, key)
			}
		}
	}
	// Every literal key a template asks for exists.
	re := regexp.MustCompile(`\.T "([a-z_]+)"`)
	files, _ := templateFS.ReadDir("templates")
	for _, f := range files {
		b, _ := templateFS.ReadFile("templates/" + f.Name())
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if _, ok := messages["en"][m[1]]; !ok {
				t.Errorf("%s asks for unknown message %q", f.Name(), m[1])
			}
		}
	}
	// Keys built with printf: roles, stances, decisions.
	for _, k := range append(append([]string{"role_admin", "role_reviewer", "role_radio", "role_analyst"}, prefixed("stance_", stances)...), prefixed("dec_", decisions)...) {
		if _, ok := messages["en"][k]; !ok {
			t.Errorf("no message %q", k)
		}
	}
}

func prefixed(p string, list []string) []string {
	var out []string
	for _, s := range list {
		out = append(out, p+s)
	}
	return out
}

func TestBuildChart(t *testing.T) {
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	until := since.AddDate(0, 0, 9)
	tbl := storage.Table{Columns: []string{"day", "narrative", "flags"}, Rows: [][]string{
		{"2026-11-01", "a", "2"}, {"2026-11-05", "a", "4"}, {"2026-11-05", "b", "1"}, {"2026-10-01", "a", "99"},
	}}
	c := buildChart(tbl, "narrative", since, until, strings.ToUpper)
	if c.Empty || len(c.Series) != 2 || c.Max != 4 {
		t.Fatalf("chart %+v", c)
	}
	if c.Series[0].Label != "A" || c.Series[0].Total != 6 {
		t.Fatalf("first series %+v, want A with 6 (the row before since left out)", c.Series[0])
	}
	if n := len(strings.Fields(c.Series[0].Points)); n != 10 {
		t.Fatalf("%d points, want one per day (10)", n)
	}
	if e := buildChart(storage.Table{Columns: []string{"day", "narrative", "flags"}}, "narrative", since, until, strings.ToUpper); !e.Empty {
		t.Fatal("empty table gives a non-empty chart")
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/queue?x=1": "/queue?x=1", "": "/", "//evil.example": "/", "https://evil.example": "/", "/\\evil": "/", "/a\r\nSet-Cookie: x": "/",
		"/\t/evil.example/": "/", "/\n/evil.example": "/", "\\\\evil.example": "/", "\\/evil.example": "/", " //evil.example": "/",
		"\x00//evil.example": "/", "/%2F/x": "/%2F/x", "javascript:alert(1)": "/", "/items/a%2Fb?next=//x": "/items/a%2Fb?next=//x",
		"/\u00a0/x": "/", "http:/evil.example": "/", "/\x7f/x": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(2, time.Minute, func() time.Time { return now })
	if !l.take("a") || !l.take("a") || l.take("a") {
		t.Fatal("limit of 2 not enforced")
	}
	if !l.take("b") {
		t.Fatal("keys share a limit")
	}
	now = now.Add(time.Minute)
	if !l.take("a") {
		t.Fatal("window did not reset")
	}
}

func TestLimiterStaysBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(3, time.Minute, func() time.Time { return now })
	l.maxKeys = 100
	for i := 0; i < 10_000; i++ { // one caller cycling keys inside one window
		l.take(fmt.Sprint("name", i))
		if len(l.seen) > l.maxKeys {
			t.Fatalf("after %d keys the limiter holds %d, over its bound of %d", i+1, len(l.seen), l.maxKeys)
		}
	}
	// A key counted just now keeps its count while there is room.
	l = newLimiter(1, time.Minute, func() time.Time { return now })
	l.maxKeys = 100
	l.take("victim")
	for i := 0; i < 50; i++ {
		l.take(fmt.Sprint("other", i))
	}
	if l.take("victim") {
		t.Fatal("a live count was lost although the limiter had room")
	}
	// Once windows expire they are swept instead of evicting live keys.
	now = now.Add(time.Minute)
	for i := 0; i < 100; i++ {
		l.take(fmt.Sprint("late", i))
	}
	if len(l.seen) > l.maxKeys {
		t.Fatalf("holds %d keys after expiry, bound %d", len(l.seen), l.maxKeys)
	}
}

func TestStaticAssetsSmall(t *testing.T) {
	b, err := os.ReadFile("static/style.css")
	if err != nil || len(b) > 20<<10 {
		t.Fatalf("style.css: %v, %d bytes", err, len(b))
	}
}

func TestCompress(t *testing.T) {
	h := compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bin" {
			w.Header().Set("Content-Type", "application/vnd.apache.parquet")
		} else {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		w.Write([]byte(strings.Repeat("<p>veille</p>", 200)))
	}))
	for _, tc := range []struct {
		path, accept, want string
	}{
		{"/page", "gzip, deflate", "gzip"},
		{"/page", "", ""},
		{"/bin", "gzip", ""},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", tc.path, nil)
		if tc.accept != "" {
			req.Header.Set("Accept-Encoding", tc.accept)
		}
		h.ServeHTTP(rec, req)
		if got := rec.Header().Get("Content-Encoding"); got != tc.want {
			t.Errorf("%s with %q: Content-Encoding %q, want %q", tc.path, tc.accept, got, tc.want)
		}
		body := rec.Body.Bytes()
		if tc.want == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
			if rec.Body.Len() > len(body)/4 {
				t.Errorf("compressed %d bytes to %d", len(body), rec.Body.Len())
			}
		}
		if string(body) != strings.Repeat("<p>veille</p>", 200) {
			t.Errorf("%s with %q: body changed", tc.path, tc.accept)
		}
	}
}

// FuzzSafeNext checks that whatever next= holds, the redirect stays on
// this site even after a browser strips and rewrites it.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/queue", "//evil.example", "/\t/evil.example", "\\\\evil", "/%2F%2Fevil", "http://x", " /x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		// What a browser does before resolving: drop tabs and newlines,
		// trim controls and spaces, read backslashes as slashes.
		b := strings.Map(func(r rune) rune {
			switch r {
			case '\t', '\n', '\r':
				return -1
			case '\\':
				return '/'
			}
			return r
		}, got)
		b = strings.TrimFunc(b, func(r rune) bool { return r <= ' ' })
		if !strings.HasPrefix(b, "/") || strings.HasPrefix(b, "//") {
			t.Fatalf("safeNext(%q) = %q, which a browser reads as %q: off-site", next, got, b)
		}
		u, err := url.Parse(b)
		if err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("safeNext(%q) = %q parses to host %q scheme %q", next, got, u.Host, u.Scheme)
		}
	})
}

func TestPlainRumour(t *testing.T) {
	for _, tc := range []struct{ in, want, evidence string }{
		{"Les casques bleus vendent\ndes armes aux M23", "Les casques bleus vendent des armes aux M23", "vendent\ndes armes"},
		{"   \n  MONUSCO vend des armes  ", "MONUSCO vend des armes", "vend des armes"},
		{"<p>Les <b>casques bleus</b> livrent</p><p>des armes &amp; des munitions</p>", "Les casques bleus livrent\ndes armes & des munitions", "casques bleus</b> livrent"},
		{"Ligne un.\n\nLigne deux.", "Ligne un.\nLigne deux.", "Ligne deux"},
		{"caf&eacute; &nbsp;noir", "café noir", "noir"},
	} {
		p := plainRumour(tc.in)
		if p.Plain != tc.want {
			t.Errorf("plainRumour(%q) = %q, want %q", tc.in, p.Plain, tc.want)
			continue
		}
		// A span of the plain text maps back onto the pasted words.
		i := strings.Index(tc.in, tc.evidence)
		plainEv := plainRumour(tc.evidence).Plain
		j := strings.Index(p.Plain, plainEv)
		if j < 0 {
			t.Fatalf("%q not in %q", plainEv, p.Plain)
		}
		s, e := p.Span(j, j+len(plainEv))
		if s != i || e != i+len(tc.evidence) {
			t.Errorf("%q: span of %q maps to [%d:%d] %q, want [%d:%d]", tc.in, plainEv, s, e, tc.in[s:e], i, i+len(tc.evidence))
		}
	}
}
