package parse_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/veille-project/veille/domain"
	"github.com/veille-project/veille/pipeline/parse"
)

func readTestdata(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkOffsets asserts every cue's text sits at its offset in the text.
func checkOffsets(t *testing.T, tr *parse.Transcript) {
	t.Helper()
	for i, c := range tr.Cues {
		if c.Offset < 0 || c.Offset+len(c.Text) > len(tr.Text) || tr.Text[c.Offset:c.Offset+len(c.Text)] != c.Text {
			t.Errorf("cue %d: offset %d does not point at %q in the text", i, c.Offset, c.Text)
		}
	}
	var texts []string
	for _, c := range tr.Cues {
		texts = append(texts, c.Text)
	}
	if got := strings.Join(texts, "\n"); got != tr.Text {
		t.Errorf("Text is not the cue texts joined by newlines:\n%q\n%q", tr.Text, got)
	}
}

func compareCues(t *testing.T, got, want []domain.Cue) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d cues, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		g.Offset, w.Offset = 0, 0
		if g != w {
			t.Errorf("cue %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestParseVTTRadioJournal(t *testing.T) {
	tr, err := parse.ParseVTT(readTestdata(t, "transcripts", "journal.vtt"))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Format != "vtt" {
		t.Errorf("format %q", tr.Format)
	}
	compareCues(t, tr.Cues, []domain.Cue{
		{Start: 0, End: 4200, Speaker: "Présentatrice", Text: "Bonjour, il est sept heures à Bangui."},
		{Start: 4200, End: 9850, Speaker: "Présentatrice", Text: "Une rumeur circule depuis hier sur les réseaux sociaux : des casques bleus auraient livré des armes près de Bambari."},
		{Start: 9850, End: 15000, Speaker: "Porte-parole de la MINUSCA", Text: "Ces allégations sont sans fondement, nous l'avons vérifié & documenté."},
		{Start: 15000, End: 19500, Speaker: "Présentatrice", Text: "La météo : orages attendus dans l'après-midi. Bonne journée."},
	})
	checkOffsets(t, tr)
}

func TestParseSRTRadioJournal(t *testing.T) {
	tr, err := parse.ParseSRT(readTestdata(t, "transcripts", "journal.srt"))
	if err != nil {
		t.Fatal(err)
	}
	compareCues(t, tr.Cues, []domain.Cue{
		{Start: 0, End: 3500, Speaker: "Présentateur", Text: "Bonjour et bienvenue au journal."},
		{Start: 3500, End: 8000, Text: "Des messages affirment que la MINUSCA quitterait Bangui la semaine prochaine."},
		{Start: 8000, End: 12250, Speaker: "Porte-parole", Text: "Aucun retrait n'est prévu, le mandat court jusqu'en novembre."},
		{Start: 12250, End: 15000, Text: "Fin du journal."},
	})
	checkOffsets(t, tr)
}

func TestParseTranscriptTolerance(t *testing.T) {
	utf16 := []byte{0xFF, 0xFE}
	for _, r := range "WEBVTT\n\n00:01.000 --> 00:02.000\nBonjour\n" {
		utf16 = append(utf16, byte(r), 0)
	}
	tests := []struct {
		name, hint, doc string
		want            []domain.Cue
	}{
		{"vtt missing hours", "", "WEBVTT\n\n01:02.500 --> 01:04.000\nsalut\n",
			[]domain.Cue{{Start: 62500, End: 64000, Text: "salut"}}},
		{"vtt bare CR line endings", "", "WEBVTT\r\r00:00:01.000 --> 00:00:02.000\rune\rdeux\r",
			[]domain.Cue{{Start: 1000, End: 2000, Text: "une deux"}}},
		{"vtt cue settings and identifier", "", "WEBVTT\n\ncue-1\n00:00:01.000 --> 00:00:02.000 position:10% align:end\n<b>gras</b> &lt;ok&gt;\n",
			[]domain.Cue{{Start: 1000, End: 2000, Text: "gras <ok>"}}},
		{"vtt voice with class", "", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v.first.loud Jean Dupont>Oui</v>\n",
			[]domain.Cue{{Start: 1000, End: 2000, Speaker: "Jean Dupont", Text: "Oui"}}},
		{"vtt bad cue skipped, good kept", "", "WEBVTT\n\n00:00:aa.000 --> 00:00:02.000\nmauvais\n\n00:00:03.000 --> 00:00:04.000\nbon\n",
			[]domain.Cue{{Start: 3000, End: 4000, Text: "bon"}}},
		{"vtt end before start skipped", "", "WEBVTT\n\n00:00:05.000 --> 00:00:04.000\nx\n\n00:00:06.000 --> 00:00:07.000\ny\n",
			[]domain.Cue{{Start: 6000, End: 7000, Text: "y"}}},
		{"vtt utf-16 with BOM", "", string(utf16),
			[]domain.Cue{{Start: 1000, End: 2000, Text: "Bonjour"}}},
		{"srt without numbers, dot separator, no millis", "x.srt", "00:00:01 --> 00:00:02.5\nun\n\n00:00:03,000 --> 00:00:04,000\ndeux\n",
			[]domain.Cue{{Start: 1000, End: 2500, Text: "un"}, {Start: 3000, End: 4000, Text: "deux"}}},
		{"srt cues without blank lines", "x.srt", "1\n00:00:01,000 --> 00:00:02,000\nun\n2\n00:00:03,000 --> 00:00:04,000\ndeux\n",
			[]domain.Cue{{Start: 1000, End: 2000, Text: "un"}, {Start: 3000, End: 4000, Text: "deux"}}},
		{"srt windows-1252", "x.srt", "1\n00:00:01,000 --> 00:00:02,000\nd\xe9j\xe0 vu\n",
			[]domain.Cue{{Start: 1000, End: 2000, Text: "déjà vu"}}},
		{"srt lower-case words are not a speaker", "x.srt", "1\n00:00:01,000 --> 00:00:02,000\nLa météo : orages\n",
			[]domain.Cue{{Start: 1000, End: 2000, Text: "La météo : orages"}}},
		{"json segments merged per sentence and speaker", "t.json",
			`{"version":"1.0.0","segments":[{"speaker":"A","startTime":0.5,"endTime":0.75,"body":"Il"},{"speaker":"A","startTime":1,"endTime":1.25,"body":"pleut."},{"speaker":"A","startTime":1.5,"endTime":2,"body":"Oui"},{"speaker":"B","startTime":2.5,"endTime":3,"body":"Non"}]}`,
			[]domain.Cue{{Start: 500, End: 1250, Speaker: "A", Text: "Il pleut."}, {Start: 1500, End: 2000, Speaker: "A", Text: "Oui"}, {Start: 2500, End: 3000, Speaker: "B", Text: "Non"}}},
		{"podcasting html", "text/html", "<cite>Awa:</cite><time>0:05</time><p>Bonjour&nbsp;à tous</p><cite>Ali:</cite><time>1:02</time><p>Merci</p>",
			[]domain.Cue{{Start: 5000, End: 62000, Speaker: "Awa", Text: "Bonjour à tous"}, {Start: 62000, End: 62000, Speaker: "Ali", Text: "Merci"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := parse.ParseTranscript([]byte(tc.doc), tc.hint)
			if err != nil {
				t.Fatal(err)
			}
			compareCues(t, tr.Cues, tc.want)
			checkOffsets(t, tr)
		})
	}
}

func TestParseTranscriptErrors(t *testing.T) {
	many := func(format string, n int) string {
		var b strings.Builder
		if format == "vtt" {
			b.WriteString("WEBVTT\n\n")
		}
		for i := range n {
			fmt.Fprintf(&b, "%d\n00:00:%02d.000 --> 00:00:%02d.500\nc\n\n", i+1, i%60, i%60)
		}
		return b.String()
	}
	tests := []struct {
		name, hint, doc string
		is              error
		mention         string
	}{
		{"vtt without header", "a.vtt", "\nBROKENVTT\n", parse.ErrTranscriptFormat, "line 1"},
		{"vtt only bad timings", "", "WEBVTT\n\n00:00:01.000 -> 00:00:02.000\nx\n\n00:0x:01.000 --> 00:00:02.000\ny\n", parse.ErrTranscriptFormat, "line 6"},
		{"srt only bad timings", "a.srt", "1\n00:00:01,000 --> zz\nx\n", parse.ErrTranscriptFormat, "line 2"},
		{"srt no timing at all", "a.srt", "juste du texte\n", parse.ErrTranscriptFormat, "line 1"},
		{"json broken", "a.json", "{\"segments\": [\n{\"body\": }", parse.ErrTranscriptFormat, "line 2"},
		{"vtt too many cues", "", many("vtt", parse.MaxCues+1), parse.ErrTooManyCues, "line "},
		{"srt too many cues", "a.srt", many("srt", parse.MaxCues+1), parse.ErrTooManyCues, "line "},
		{"too large", "a.vtt", "WEBVTT\n\n" + strings.Repeat("x", parse.MaxTranscriptBytes), parse.ErrTranscriptTooLarge, "limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse.ParseTranscript([]byte(tc.doc), tc.hint)
			if !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("err %q does not mention %q", err, tc.mention)
			}
		})
	}
}

func TestParseTranscriptKeepsItemsBusSized(t *testing.T) {
	var b strings.Builder
	b.WriteString("WEBVTT\n\n")
	line := strings.Repeat("une phrase assez longue pour remplir la transcription ", 2)
	for i := range 30_000 {
		fmt.Fprintf(&b, "%02d:%02d:%02d.000 --> %02d:%02d:%02d.900\n%s\n\n", i/3600, i/60%60, i%60, i/3600, i/60%60, i%60, line)
	}
	tr, err := parse.ParseVTT([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Text) > parse.MaxTranscriptText || len(tr.Cues) == 0 || len(tr.Cues) == 30_000 || len(tr.Warnings) == 0 {
		t.Fatalf("%d bytes of text, %d cues, warnings %v: want the text cut under %d bytes with a warning",
			len(tr.Text), len(tr.Cues), tr.Warnings, parse.MaxTranscriptText)
	}
	checkOffsets(t, tr)

	plain, err := parse.ParseTranscript([]byte(strings.Repeat("é", parse.MaxTranscriptText)), "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	if len(plain.Text) > parse.MaxTranscriptText || !utf8.ValidString(plain.Text) {
		t.Errorf("plain transcript: %d bytes, valid UTF-8 %v", len(plain.Text), utf8.ValidString(plain.Text))
	}
}
func TestVTTCuesBackwardsOrUnsorted(t *testing.T) {
	vtt := "WEBVTT\n\n00:00:05.000 --> 00:00:07.000\n<v Host>second\n\n00:00:01.000 --> 00:00:03.000\n<v Host>first\n\n00:00:09.000 --> 00:00:08.000\n<v Caller>backwards\n"
	tr, err := parse.ParseTranscript([]byte(vtt), "text/vtt")
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Cues) != 2 || tr.Cues[0].Text != "first" || tr.Cues[1].Text != "second" {
		t.Fatalf("cues %+v, want first then second, the backwards cue dropped", tr.Cues)
	}
	if tr.Text != "first\nsecond" || tr.Cues[1].Offset != len("first\n") {
		t.Fatalf("text %q, offsets %d: want the sorted cues joined", tr.Text, tr.Cues[1].Offset)
	}
	w := strings.Join(tr.Warnings, "; ")
	if !strings.Contains(w, "before it starts") || !strings.Contains(w, "sorted") {
		t.Fatalf("warnings %q, want both repairs named", w)
	}
}
