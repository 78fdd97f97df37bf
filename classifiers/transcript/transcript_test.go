package transcript_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/veille-project/veille/classifiers/transcript"
)

func TestParseVTT(t *testing.T) {
	f, err := os.Open("testdata/callin.vtt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cues, err := transcript.ParseVTT(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(cues) != 5 {
		t.Fatalf("got %d cues, want 5", len(cues))
	}
	if c := cues[1]; c.Start != 605000 || c.End != 609200 || c.Speaker != "Caller 1" || c.Text != "I tell you the MINUSMA helicopters drop" {
		t.Errorf("cue 2 = %+v", c)
	}
	if cues[4].Speaker != "" || cues[4].Text != "♪ Jingle ♪" {
		t.Errorf("jingle cue = %+v", cues[4])
	}
	doc := transcript.Doc("callin", "en", cues)
	for _, c := range doc.Cues {
		if !strings.HasPrefix(doc.Text[c.Offset:], c.Text) {
			t.Errorf("cue offset %d does not point at %q", c.Offset, c.Text)
		}
	}
}

func TestParseVTTRejectsOtherFormats(t *testing.T) {
	_, err := transcript.ParseVTT(strings.NewReader("1\n00:00:01,000 --> 00:00:02,000\nhello\n"))
	if !errors.Is(err, transcript.ErrNotVTT) {
		t.Errorf("error = %v, want ErrNotVTT", err)
	}
	_, err = transcript.ParseVTT(strings.NewReader("WEBVTT\n\n00:00:01.000 --> 00:00:xx.000\nhello\n"))
	if err != nil {
		t.Errorf("a malformed timing line should be skipped, got %v", err)
	}
}
