package demo

import (
	"strings"
	"testing"
	"time"
)

func TestShiftDatesKeepsLayoutsAndGaps(t *testing.T) {
	in := `<pubDate>Wed, 25 Nov 2026 13:35:00 +0000</pubDate> <updated>2026-11-24T08:00:00+02:00</updated> "date_published": "2026-11-19T08:30:00Z" 00:14:03.200 --> 00:14:05.000`
	out := string(shiftDates([]byte(in), 13*24*time.Hour+2*time.Hour))
	for _, want := range []string{"Tue, 08 Dec 2026 15:35:00 +0000", "2026-12-07T10:00:00+02:00", "2026-12-02T10:30:00Z", "00:14:03.200 --> 00:14:05.000"} {
		if !strings.Contains(out, want) {
			t.Errorf("shifted text %q lacks %q", out, want)
		}
	}
}
