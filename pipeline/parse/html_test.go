package parse_test

import (
	"strings"
	"testing"

	"github.com/veille-project/veille/pipeline/parse"
)

func TestHTMLToText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain text kept", "Les casques bleus  sont\tarrivés.", "Les casques bleus sont arrivés."},
		{"entities decoded", "Q&amp;A &laquo;&nbsp;oui&nbsp;&raquo; &#8217; &eacute;", "Q&A « oui » ’ é"},
		{"blocks become lines", "<p>Un</p><p>Deux<br>Trois</p><ul><li>a</li><li>b</li></ul>", "Un\nDeux\nTrois\na\nb"},
		{"script and style dropped", "<p>avant</p><script>alert('x')</script><style>p{}</style><p>après</p>", "avant\naprès"},
		{"nested skipped elements", "a<object><object>x</object>y</object>b", "ab"},
		{"comments dropped", "a<!-- <script>alert(1)</script> -->b", "ab"},
		{"image alt stands in", `voir <img src="x.jpg" alt="la carte" onerror="alert(1)"> ici`, "voir la carte ici"},
		{"inline tags do not split words", "MI<b>NUS</b>CA", "MINUSCA"},
		{"blank lines removed", "<div>\n\n  <p>\n un \n</p>\n\n</div>", "un"},
		{"cp1252 controls demoronised", "don\u0092t", "don’t"},
		{"invalid utf-8 replaced", "a\xffb", "a\uFFFDb"},
		{"unclosed tags tolerated", "<p>texte <b>gras", "texte gras"},
		{"lone angle bracket", "3 < 4 et 5 > 2", "3 < 4 et 5 > 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parse.HTMLToText(tc.in); got != tc.want {
				t.Errorf("HTMLToText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSanitizeHTMLRemovesActiveContent(t *testing.T) {
	tests := []struct {
		name, in string
		gone     []string
		kept     []string
	}{
		{"script", `<p>ok</p><script>alert(1)</script>`, []string{"<script", "alert"}, []string{"<p>ok</p>"}},
		{"onerror", `<img src="https://ex.org/a.jpg" onerror="alert(1)">`, []string{"onerror", "alert"}, []string{`src="https://ex.org/a.jpg"`}},
		{"onclick", `<a href="https://ex.org/" onclick="steal()">lien</a>`, []string{"onclick", "steal"}, []string{"lien"}},
		{"javascript url", `<a href="javascript:alert(2)">x</a>`, []string{"javascript"}, []string{"x"}},
		{"iframe", `<iframe src="https://evil.example/"></iframe>texte`, []string{"iframe", "evil"}, []string{"texte"}},
		{"style attribute overlay", `<div style="position:absolute;top:0">x</div>`, []string{"style", "position"}, []string{"x"}},
		{"style element", `<style>body{display:none}</style>x`, []string{"<style", "display"}, []string{"x"}},
		{"data url", `<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>`, []string{"data:"}, []string{"x"}},
		{"malformed comment", `sa<!-- -- nonwhitespace >fe<script>alert(1);</script>`, []string{"<script", "alert"}, nil},
		{"links get rel", `<a href="https://ex.org/">x</a>`, nil, []string{"nofollow", "noopener", `href="https://ex.org/"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := parse.SanitizeHTML(tc.in)
			for _, g := range tc.gone {
				if strings.Contains(strings.ToLower(got), strings.ToLower(g)) {
					t.Errorf("SanitizeHTML(%q) = %q still has %q", tc.in, got, g)
				}
			}
			for _, k := range tc.kept {
				if !strings.Contains(got, k) {
					t.Errorf("SanitizeHTML(%q) = %q lost %q", tc.in, got, k)
				}
			}
		})
	}
}

func TestContentHashNormalises(t *testing.T) {
	a := parse.ContentHash("La MINUSCA dément\n les  rumeurs.")
	b := parse.ContentHash("  la minusca DÉMENT les rumeurs. ")
	c := parse.ContentHash("La MINUSCA confirme les rumeurs.")
	if a != b {
		t.Errorf("same text, different hashes: %s %s", a, b)
	}
	if a == c {
		t.Error("different texts, same hash")
	}
	if len(a) != 32 {
		t.Errorf("hash %q: want 32 hex characters", a)
	}
	if parse.ItemID("src-a", "guid-1") == parse.ItemID("src-b", "guid-1") {
		t.Error("ItemID ignores the source")
	}
	if parse.ItemID("src-a", "guid-1") != parse.ItemID("src-a", "guid-1") {
		t.Error("ItemID is not stable")
	}
}
