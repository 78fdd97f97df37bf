package match

import "slices"

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
	Spans      [][2]int // original byte span of each word (set by Analyze)
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

// Analysis is what the matcher saw in one text: its sentences (original
// byte spans and normalised words) and, per sentence, the lexicon concepts
// found in it. An Analysis can be reused across calls to AnalyzeInto.
type Analysis struct {
	Sentences []Sentence
	// Concepts[i] holds the names of the concepts found in sentence i, in
	// text order, repeats removed.
	Concepts [][]string
	words    []string // backing store of every Sentence.Words
	spans    [][2]int // backing store of every Sentence.Spans
	firstTok []int    // per sentence, index of its first token
}

func (a *Analysis) fill(c *compiled, t *Text, toks []token, hits []hit) {
	a.Sentences = a.Sentences[:0]
	a.words = a.words[:0]
	a.spans = a.spans[:0]
	a.firstTok = a.firstTok[:0]
	for i, tk := range toks {
		a0, b0 := t.OrigSpan(int(tk.ns), int(tk.ne))
		if i == 0 || tk.sent != toks[i-1].sent {
			a.Sentences = append(a.Sentences, Sentence{Start: a0})
			a.firstTok = append(a.firstTok, i)
		}
		a.Sentences[len(a.Sentences)-1].End = b0
		a.words = append(a.words, tk.s)
		a.spans = append(a.spans, [2]int{a0, b0})
	}
	for i := range a.Sentences {
		end := len(toks)
		if i+1 < len(a.firstTok) {
			end = a.firstTok[i+1]
		}
		a.Sentences[i].Words = a.words[a.firstTok[i]:end:end]
		a.Sentences[i].Spans = a.spans[a.firstTok[i]:end:end]
	}
	if n := len(a.Sentences); n <= cap(a.Concepts) {
		a.Concepts = a.Concepts[:n] // keeps the inner slices' room
	} else {
		a.Concepts = append(a.Concepts[:cap(a.Concepts)], make([][]string, n-cap(a.Concepts))...)
	}
	for i := range a.Concepts {
		a.Concepts[i] = a.Concepts[i][:0]
	}
	si := 0
	for _, h := range hits {
		for si+1 < len(a.firstTok) && a.firstTok[si+1] <= int(h.t0) {
			si++
		}
		for si > 0 && a.firstTok[si] > int(h.t0) {
			si--
		}
		name := c.lex.concepts[h.concept]
		if !slices.Contains(a.Concepts[si], name) {
			a.Concepts[si] = append(a.Concepts[si], name)
		}
	}
}
