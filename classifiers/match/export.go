package match

// Words returns the normalised words of text as the matcher sees them
// (folded, SMS spellings and leet rewritten, glued mission names split).
func Words(text string) []string {
	t := Normalize(text)
	toks := tokenize(t, nil, nil, false)
	out := make([]string, len(toks))
	for i, tk := range toks {
		out[i] = tk.s
	}
	return out
}

// Sentence is one sentence of a text: its byte span in the original and
// its normalised words.
type Sentence struct {
	Start, End int
	Words      []string
}

// Sentences splits text into sentences with their original byte spans.
func Sentences(text string) []Sentence {
	t := Normalize(text)
	toks := tokenize(t, nil, nil, false)
	var out []Sentence
	for i, tk := range toks {
		a, b := t.OrigSpan(int(tk.ns), int(tk.ne))
		if i == 0 || tk.sent != toks[i-1].sent {
			out = append(out, Sentence{Start: a})
		}
		s := &out[len(out)-1]
		s.End = b
		s.Words = append(s.Words, tk.s)
	}
	return out
}

// TextCues says what the shared lexicon finds in a whole text: a mention of
// the mission, refutation or denial cues, and report cues. Other
// classifiers use it to gate and orient their own flags.
type TextCues struct {
	Mission, Debunk, Report bool
}

// Cues scans text with the matcher's shared lexicon.
func (m *Matcher) Cues(text, lang string) TextCues {
	c := m.cur.Load()
	t := Normalize(text)
	toks := tokenize(t, nil, nil, false)
	l := identify(toks, t.Norm, lang)
	var tc TextCues
	for _, h := range c.lex.scan(toks, nil, nil, l) {
		switch h.concept {
		case c.cMission:
			tc.Mission = true
		case c.cDebunk, c.cDeny:
			tc.Debunk = true
		case c.cReport:
			tc.Report = true
		}
	}
	return tc
}
