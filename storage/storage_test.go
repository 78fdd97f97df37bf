package storage

import (
	"math/rand"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `''`},
		{"plain", `'plain'`},
		{"it's", `'it\'s'`},
		{`a\b`, `'a\\b'`},
		{`\'); DROP TABLE items; --`, `'\\\'); DROP TABLE items; --'`},
		{"a\nb\x00c\td", `'a\x0Ab\x00c\x09d'`},
		{"é日", "'é日'"},
	} {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if got := QuoteList([]string{"a", "b'"}); got != `('a', 'b\'')` {
		t.Errorf("QuoteList = %s", got)
	}
}

func TestTimeIsUnixAndClamped(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Time{}, "toDateTime(0)"},
		{time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), "toDateTime(0)"},
		{time.Date(2026, 1, 1, 1, 0, 0, 0, time.FixedZone("WAT", 3600)), "toDateTime(1767225600)"},
		{time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), "toDateTime(4294967295)"},
	} {
		if got := Time(tc.in); got != tc.want {
			t.Errorf("Time(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestCaps(t *testing.T) {
	for _, tc := range []struct {
		version string
		lc, ttl bool
	}{
		{"18.16.1", false, false},
		{"19.5.3", true, false},
		{"19.6.1", true, true},
		{"26.5.1.1", true, true},
		{"", false, false},
	} {
		c := capsOf(tc.version)
		if c.lowCardinality != tc.lc || c.ttl != tc.ttl {
			t.Errorf("capsOf(%q) = %+v, want lowCardinality %v ttl %v", tc.version, c, tc.lc, tc.ttl)
		}
	}
}

func TestTerms(t *testing.T) {
	got := Terms("Les Casques bleus, les CASQUES!", "ONU l'a dit: 日本語です")
	want := []string{"bleus", "casques", "dit", "les", "onu", "日本語です"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Terms = %q, want %q", got, want)
	}
}

// TestTermsASCII checks the ASCII path of Terms against the Unicode rules
// it stands for, on random ASCII texts and on edge cases.
func TestTermsASCII(t *testing.T) {
	reference := func(text string) []string {
		var out []string
		for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		}) {
			if utf8.RuneCountInString(w) >= 3 {
				out = append(out, w)
			}
		}
		sort.Strings(out)
		return slices.Compact(append([]string{}, out...))
	}
	texts := []string{"", "ab", "abc", "ABC", "a1B2c3", "x_y-z", "Les CASQUES bleus!", "123 4567", "end.", "...abc", "\x00abc\x7fdef"}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		b := make([]byte, rng.Intn(40))
		for j := range b {
			b[j] = byte(rng.Intn(128))
		}
		texts = append(texts, string(b))
	}
	for _, text := range texts {
		if got, want := Terms(text), reference(text); !reflect.DeepEqual(got, want) {
			t.Fatalf("Terms(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestFilterWhere(t *testing.T) {
	f := Filter{Since: time.Unix(100, 0), Narratives: []string{"a'b"}, Stances: []string{"assert", "report"}}
	want := "published >= toDateTime(100) AND narrative IN ('a\\'b') AND stance IN ('assert', 'report')"
	if got := f.where(); got != want {
		t.Errorf("where = %s\nwant    %s", got, want)
	}
	if got := (Filter{}).where(); got != "" {
		t.Errorf("empty filter where = %q", got)
	}
}
