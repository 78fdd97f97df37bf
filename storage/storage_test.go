package storage

import (
	"reflect"
	"testing"
	"time"
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
