package transcript_test

import (
	"testing"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/transcript"
)

func TestDocJoinsCuesWithTheirOffsets(t *testing.T) {
	cues := []classifiers.Cue{
		{Start: 0, End: 2000, Speaker: "HOST", Text: "Bonsoir, la ligne est ouverte."},
		{Start: 2000, End: 5500, Speaker: "CALLER", Text: "On dit que les casques bleus livrent des armes."},
	}
	d := transcript.Doc("callin", "fr", cues)
	if d.ID != "callin" || d.Lang != "fr" || d.Text != cues[0].Text+"\n"+cues[1].Text {
		t.Fatalf("doc %+v", d)
	}
	for i, c := range d.Cues {
		if d.Text[c.Offset:c.Offset+len(c.Text)] != cues[i].Text || c.Speaker != cues[i].Speaker {
			t.Errorf("cue %d at offset %d does not index its text", i, c.Offset)
		}
	}
	if cues[1].Offset != 0 {
		t.Error("Doc changed the cues it was given")
	}
}
