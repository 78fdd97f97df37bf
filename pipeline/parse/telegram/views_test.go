package telegram

import "testing"

func TestParseViews(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"845", 845},
		{"0", 0},
		{"1.2K", 1200},
		{"12.4K", 12400},
		{"999.9K", 999900},
		{"3M", 3_000_000},
		{"1.25M", 1_250_000},
		{"2.7B", 2_700_000_000},
		{"1,2K", 1200}, // decimal comma
		{"12k", 12000},
		{"1.2345K", 1234}, // digits below one view are dropped
		{"", 0},
		{"K", 0},
		{".5K", 0},
		{"1.K", 0},
		{"1.5", 0}, // a fraction of a view is no count
		{"1.2.3K", 0},
		{"-5", 0},
		{"12 views", 0},
		{"١٢", 0}, // Arabic-Indic digits are not what the preview shows
		{"9999999999K", 0},
	} {
		if got := parseViews(tc.in); got != tc.want {
			t.Errorf("parseViews(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestTidy(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"  a \u00a0 b  ", "a b"},
		{"\n\na\n\n\n\nb\n\n", "a\n\nb"},
		{"a\u202f:\u2003b", "a : b"},
		{"a\u200bb\ufeff", "ab"},
		{"x\x01y\x7fz", "xyz"},
		{"\xff\xfeok", "\ufffd\ufffdok"},
		{"👩\u200d💻 ok", "👩\u200d💻 ok"}, // joiners inside emoji stay
	} {
		if got := tidy(tc.in); got != tc.want {
			t.Errorf("tidy(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
