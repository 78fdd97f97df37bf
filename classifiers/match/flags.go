package match

import (
	"cmp"
	"slices"
	"strings"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/catalog"
)

const maxEvidence = 3

// claimHits are the fired words that carry the claim (not the actor).
func (d *docView) claimHits(f *firing) []hit {
	var out []hit
	for _, h := range f.hits {
		if h.concept != d.c.cMission {
			out = append(out, h)
		}
	}
	if len(out) == 0 {
		return f.hits
	}
	return out
}

// stanceOf decides how the text relates to the claim one firing found.
func (d *docView) stanceOf(f *firing, transcript bool) string {
	ch := d.claimHits(f)
	pos := ch[0].t0
	for _, h := range ch {
		pos = min(pos, h.t0)
	}
	sent := d.toks[pos].sent
	sr := d.sents[sent]
	hs := d.hitsIn(sr[0], sr[1])
	c := d.c
	reportBefore, firstReport := false, int32(1<<30)
	for _, h := range hs {
		if h.concept == c.cReport && h.t0 < pos {
			reportBefore = true
			firstReport = min(firstReport, h.t0)
		}
	}
	for _, h := range hs {
		switch h.concept {
		case c.cDebunk:
			if d.fakeItem(hs, h) {
				continue // "faux bulletins": the fraud itself, no verdict
			}
			return classifiers.StanceDebunk
		case c.cNoProof:
			// "No evidence supports the claim that X" refutes; "they
			// accuse X without evidence" still reports.
			if !reportBefore || h.t0 < firstReport {
				return classifiers.StanceDebunk
			}
		case c.cDeny:
			if d.fakeItem(hs, h) {
				continue
			}
			if h.t0 < pos || !reportBefore {
				return classifiers.StanceDebunk
			}
		}
	}
	// A negation right before the claim's verb denies it ("did not
	// bring", "n'a pas hébergé", "haikuletwa").
	if !f.rule.negClaim {
		for _, h := range hs {
			if h.concept != c.cNeg {
				continue
			}
			for _, x := range f.hits {
				if !inSlot(x.concept, f.rule.verb) || d.toks[x.t0].clause != d.toks[h.t0].clause {
					continue
				}
				if x.t1-x.t0 > 1 && h.t0 >= x.t0 && h.t1 <= x.t1 {
					continue // the negation is part of the claim's own words
				}
				if dd := x.t0 - h.t1; (dd >= 0 && dd <= 4 && d.contentGap(h.t1, x.t0) <= 1) || (x.t0 == h.t0 && x.t1-x.t0 == 1 && h.t1-h.t0 == 1) {
					return classifiers.StanceDebunk
				}
				// French brackets the verb: "ne protège pas", "n'exploite
				// aucun site", "ne les arme jamais".
				if h.t0 >= x.t1 && h.t0-x.t1 <= 1 && d.neBefore(x.t0) {
					return classifiers.StanceDebunk
				}
				// Lingala and Sango negate after the verb: right after it
				// or its object ("bakimaki te", "amû ngombe pëpe"), right
				// after the claim's last word ("amû ngombe na a-rebelle
				// äpe"), or at the clause's end ("ememaki Ebola na Beni te").
				if h.t0 >= x.t1 && (postVerbalNeg[d.lang] ||
					postNeg[d.toks[h.t0].s] && (h.t0-x.t1 <= 2 || h.t0-claimEnd(f.hits) <= 1)) {
					return classifiers.StanceDebunk
				}
			}
		}
	}
	// A leading fact-check marker ("Fact check:", "Non,") governs the text,
	// or, in a transcript, the cue it opens.
	lead := sr[0]
	if !transcript {
		lead = 0
	}
	if d.leadsWithMarker(lead) {
		return classifiers.StanceDebunk
	}
	if !transcript && sent > 0 {
		// A short verdict opening the text ("This is false.", "C'est
		// faux !") governs the claims after it.
		if d.isVerdict(d.sents[0]) {
			return classifiers.StanceDebunk
		}
	}
	if !transcript && int(sent)+1 < len(d.sents) {
		nr := d.sents[sent+1]
		nh := d.hitsIn(nr[0], nr[1])
		// An unproven claim in the sentence after a reported one keeps the
		// report ("No evidence has been published.") unless the text puts
		// the claim forward itself.
		if has(nh, c.cDebunk) || (has(nh, c.cNoProof) && !has(hs, c.cReport)) {
			return classifiers.StanceDebunk
		}
		// A question answered by a bare "No." ("Did X do Y? No.", "Not at
		// all: ...").
		if d.isNoAnswer(d.toks[nr[0]].clause) && d.endsWithQuestion(sent) {
			return classifiers.StanceDebunk
		}
	}
	if has(hs, c.cReport) {
		return classifiers.StanceReport
	}
	return classifiers.StanceAssert
}

// fakeItem reports whether a refutation cue is part of a named forgery
// ("des urnes pleines de faux bulletins", "fake ballots"), which is the
// claim's substance, not a verdict on it.
func (d *docView) fakeItem(hs []hit, cue hit) bool {
	if d.c.cFakeItem < 0 {
		return false
	}
	for _, h := range hs {
		if h.concept == d.c.cFakeItem && h.t0 <= cue.t0 && cue.t1 <= h.t1 {
			return true
		}
	}
	return false
}

// leadsWithMarker reports whether a fact-check marker ("Fact check:",
// "Non,", "Intox :") opens a short clause at token lead.
func (d *docView) leadsWithMarker(lead int32) bool {
	if int(lead) >= len(d.toks) {
		return false
	}
	for _, h := range d.hitsIn(lead, lead+2) {
		if h.concept == d.c.cLead && h.t0 <= lead+1 && d.toks[h.t0].clause == d.toks[lead].clause && d.clauseLen(d.toks[lead].clause) <= 4 {
			return true
		}
	}
	return false
}

// postVerbalNeg holds the languages whose negation follows the verb.
var postVerbalNeg = catalog.Set(lang.NegationAfterVerb)

// clitics may stand between "ne" and its verb ("ne les arme pas", "n'en
// livre aucune").
// claimEnd is the token after the last word that fired.
func claimEnd(hs []hit) int32 {
	end := int32(0)
	for _, h := range hs {
		end = max(end, h.t1)
	}
	return end
}

// postNeg are the negations that follow the verb they deny (Lingala "te",
// Sango "pepe", "ape").
var postNeg = catalog.Set(lang.PostNegations)

var clitics = catalog.Set(lang.Clitics)

// neBefore reports whether the French negation "ne"/"n'" opens the verb
// at token t, clitic pronouns aside, within the verb's clause.
func (d *docView) neBefore(t int32) bool {
	cl := d.toks[t].clause
	for k, n := t-1, 0; k >= 0 && n < 3 && d.toks[k].clause == cl; k, n = k-1, n+1 {
		switch w := d.toks[k].s; {
		case w == "ne" || w == "n":
			return true
		case !clitics[w]:
			return false
		}
	}
	return false
}

// determiners may stand between a negation and the claim's word ("n'est
// pas de l'espionnage", "is not a coup").
var determiners = catalog.Set(lang.Determiners)

// contentGap counts the words in tokens [a, b) that are not determiners.
func (d *docView) contentGap(a, b int32) int32 {
	n := int32(0)
	for i := a; i < b; i++ {
		if !determiners[d.toks[i].s] {
			n++
		}
	}
	return n
}

// answerWords make up a bare negative answer ("No.", "Not at all:",
// "Absolutely not", "Non, pas du tout", "Hapana.").
var answerWords = catalog.Set(lang.AnswerWords)

// isNoAnswer reports whether clause cl is a bare negative answer.
func (d *docView) isNoAnswer(cl int32) bool {
	r := d.cls[cl]
	if r[1]-r[0] == 0 || r[1]-r[0] > 4 {
		return false
	}
	for i := r[0]; i < r[1]; i++ {
		if !answerWords[d.toks[i].s] {
			return false
		}
	}
	return true
}

// verdictWords may accompany a refutation cue in a short verdict ("This is
// totally false.", "C'est archi faux !").
var verdictWords = catalog.Set(lang.VerdictWords)

// isVerdict reports whether a sentence is a short verdict: a refutation
// cue framed by verdictWords and nothing else.
func (d *docView) isVerdict(s [2]int32) bool {
	if s[1]-s[0] > 5 {
		return false
	}
	var covered [5]bool
	found := false
	for _, h := range d.hitsIn(s[0], s[1]) {
		if h.concept != d.c.cDebunk {
			continue
		}
		found = true
		for i := h.t0; i < h.t1 && i < s[1]; i++ {
			covered[i-s[0]] = true
		}
	}
	if !found {
		return false
	}
	// At least one verdict word: "Lies!" or "The truth:" alone may open
	// a rant that asserts the claim.
	framed := false
	for i := s[0]; i < s[1]; i++ {
		if covered[i-s[0]] {
			continue
		}
		if !verdictWords[d.toks[i].s] {
			return false
		}
		framed = true
	}
	return framed
}

// endsWithQuestion reports whether sentence sent closes with a question
// mark.
func (d *docView) endsWithQuestion(sent int32) bool {
	norm := d.st.text.Norm
	for i := int(d.toks[d.sents[sent][1]-1].ne); i < len(norm); i++ {
		switch norm[i] {
		case '?':
			return true
		case ' ', '"', '\'', ')', '\xc2', '\xbb', '\xab':
			continue
		}
		return strings.HasPrefix(norm[i:], "؟")
	}
	return false
}

func (d *docView) clauseLen(cl int32) int32 {
	r := d.cls[cl]
	return r[1] - r[0]
}

// span returns the evidence token range for a firing: the clauses around
// the words that fired, within one sentence. When the words fired in
// several sentences, the sentence carrying most of the claim wins, then the
// one holding a cue for the flag's stance.
func (d *docView) span(f *firing) (int32, int32) {
	ch := d.claimHits(f)
	best, bestScore := d.toks[ch[0].t0].sent, -1
	for _, h := range ch {
		sent := d.toks[h.t0].sent
		score := 0
		for _, x := range f.hits {
			if x.concept != d.c.cMission && d.toks[x.t0].sent == sent {
				score += 10
			}
		}
		sr := d.sents[sent]
		for _, x := range d.hitsIn(sr[0], sr[1]) {
			if stanceCue(d.c, x.concept) == f.stance {
				score += 5
				break
			}
		}
		if score > bestScore {
			best, bestScore = sent, score
		}
	}
	s := d.sents[best]
	lo, hi := int32(-1), int32(-1)
	for _, h := range f.hits {
		if d.toks[h.t0].sent != best {
			continue
		}
		if lo < 0 || h.t0 < lo {
			lo = h.t0
		}
		hi = max(hi, min(h.t1, s[1]))
	}
	cl0 := d.cls[d.toks[lo].clause][0]
	cl1 := d.cls[d.toks[hi-1].clause][1]
	if cl1-cl0 <= 28 {
		return cl0, cl1
	}
	// Long clause: a window of a few words around the fired words.
	return max(lo-4, cl0), min(hi+4, cl1)
}

// stanceCue maps a stance cue concept to its stance ("" for others).
func stanceCue(c *compiled, concept int32) string {
	switch concept {
	case c.cDebunk, c.cDeny:
		return classifiers.StanceDebunk
	case c.cReport:
		return classifiers.StanceReport
	}
	return ""
}

func (d *docView) flags(fs []firing, doc classifiers.Doc, cueStarts []int) []classifiers.Flag {
	transcript := len(doc.Cues) > 0
	type key struct {
		narr   int
		stance string
	}
	type group struct {
		key    key
		fires  []*firing
		rules  map[string]bool
		weight float64
	}
	groups := map[key]*group{}
	var order []key
	for i := range fs {
		fs[i].stance = d.stanceOf(&fs[i], transcript)
	}
	if transcript {
		fs = d.transcriptStances(fs, doc, cueStarts)
	}
	for i := range fs {
		f := &fs[i]
		k := key{narr: f.rule.narr}
		if transcript {
			k.stance = f.stance
		}
		g, ok := groups[k]
		if !ok {
			g = &group{key: k, rules: map[string]bool{}}
			groups[k] = g
			order = append(order, k)
		}
		g.fires = append(g.fires, f)
		g.rules[f.rule.id] = true
		g.weight = max(g.weight, f.rule.weight)
	}
	var out []classifiers.Flag
	for _, k := range order {
		g := groups[k]
		stance := k.stance
		if !transcript {
			stance = dominant(g.fires)
		}
		fl := classifiers.Flag{Narrative: d.c.narrs[k.narr], Stance: stance}
		type span struct{ a, b int32 }
		var spans []span
		// Most specific rules first: more concepts combined, then heavier.
		fires := append([]*firing(nil), g.fires...)
		slices.SortStableFunc(fires, func(a, b *firing) int {
			if c := cmp.Compare(len(b.rule.slots), len(a.rule.slots)); c != 0 {
				return c
			}
			return cmp.Compare(b.rule.weight, a.rule.weight)
		})
		for _, f := range fires {
			if f.stance != stance && len(g.fires) > 1 && !transcript {
				// Prefer evidence that carries the flag's stance.
				continue
			}
			a, b := d.span(f)
			dup := false
			for _, s := range spans {
				if a < s.b && s.a < b {
					dup = true
					break
				}
			}
			if dup || len(spans) >= maxEvidence {
				continue
			}
			// Extra spans only from rules combining three concepts or more:
			// looser matches add noise to what a reviewer reads.
			if len(spans) > 0 && len(f.rule.slots) < 3 {
				continue
			}
			spans = append(spans, span{a, b})
			os, oe := d.st.text.OrigSpan(int(d.toks[a].ns), int(d.toks[b-1].ne))
			ev := classifiers.Evidence{Start: os, End: oe, Text: doc.Text[os:oe], Rule: d.ruleTrace(f)}
			if transcript {
				c0, c1 := cueOf(cueStarts, d.toks[a].ns), cueOf(cueStarts, d.toks[b-1].ns)
				ev.CueStart, ev.CueEnd = doc.Cues[c0].Start, doc.Cues[c1].End
			}
			fl.Evidence = append(fl.Evidence, ev)
		}
		slices.SortStableFunc(fl.Evidence, func(a, b classifiers.Evidence) int { return cmp.Compare(a.Start, b.Start) })
		score := 0.55 + 0.1*float64(len(g.rules)-1) + 0.05*float64(len(fl.Evidence)-1) + g.weight
		fl.Score = float64(int(min(score, 0.99)*100+0.5)) / 100
		out = append(out, fl)
	}
	return out
}

// dominant picks the stance of a narrative in a text: a refutation
// anywhere wins, then a report, else the text asserts it.
func dominant(fs []*firing) string {
	n := map[string]int{}
	for _, f := range fs {
		n[f.stance]++
	}
	switch {
	case n[classifiers.StanceDebunk] > 0:
		return classifiers.StanceDebunk
	case n[classifiers.StanceReport] > 0:
		return classifiers.StanceReport
	}
	return classifiers.StanceAssert
}

func (d *docView) ruleTrace(f *firing) string {
	var b strings.Builder
	b.WriteString(f.rule.id)
	b.WriteString(": ")
	for i, h := range f.hits {
		if i > 0 {
			b.WriteString(" + ")
		}
		a, e := d.st.text.OrigSpan(int(d.toks[h.t0].ns), int(d.toks[h.t1-1].ne))
		b.WriteString(d.st.text.Orig[a:e])
	}
	return b.String()
}

func inSlot(c int32, alts []int32) bool {
	for _, a := range alts {
		if a == c {
			return true
		}
	}
	return false
}

// callerRoles are voice-tag roles of people phoning in or interviewed in
// the street; other named roles (host, guest, newsreader, doctor...) speak
// for the programme.
var callerRoles = lang.CallerRoles

func isCaller(speaker string) bool {
	s := strings.ToLower(speaker)
	for _, r := range callerRoles {
		if strings.Contains(s, r) {
			return true
		}
	}
	return false
}

// transcriptStances adjusts stances by speaker turn: the programme's own
// voices restating a claim report or refute it, and a caller's claim that
// the next programme voice refutes also yields a debunk.
func (d *docView) transcriptStances(fs []firing, doc classifiers.Doc, cueStarts []int) []firing {
	n := len(doc.Cues)
	cueTok := make([][2]int32, n)
	for i := range cueTok {
		cueTok[i] = [2]int32{-1, -1}
	}
	for ti, tk := range d.toks {
		ci := cueOf(cueStarts, tk.ns)
		if cueTok[ci][0] < 0 {
			cueTok[ci][0] = int32(ti)
		}
		cueTok[ci][1] = int32(ti + 1)
	}
	refutes := func(ci int) []hit {
		if cueTok[ci][0] < 0 {
			return nil
		}
		// A refutation: a debunk or denial cue, or a negation about the
		// mission ("UNMISS does not count votes").
		var out, neg []hit
		mission := false
		for _, h := range d.hitsIn(cueTok[ci][0], cueTok[ci][1]) {
			switch h.concept {
			case d.c.cDebunk, d.c.cDeny:
				out = append(out, h)
			case d.c.cNeg:
				neg = append(neg, h)
			case d.c.cMission:
				mission = true
			}
		}
		if len(out) == 0 && mission {
			return neg
		}
		return out
	}
	hasDebunk := map[int]bool{}
	for i := range fs {
		f := &fs[i]
		ci := cueOf(cueStarts, d.toks[d.claimHits(f)[0].t0].ns)
		sp := doc.Cues[ci].Speaker
		if sp == "" || isCaller(sp) || f.stance == classifiers.StanceDebunk {
			continue
		}
		// A programme voice: refuting in its turn or in the programme's
		// next cues (the newsreader reports, the spokesperson denies),
		// else reporting.
		f.stance = classifiers.StanceReport
		for cj := ci; cj < n && cj <= ci+4; cj++ {
			if s := doc.Cues[cj].Speaker; s == "" || isCaller(s) {
				break
			}
			if len(refutes(cj)) > 0 {
				f.stance = classifiers.StanceDebunk
				break
			}
		}
	}
	for _, f := range fs {
		if f.stance == classifiers.StanceDebunk {
			hasDebunk[f.rule.narr] = true
		}
	}
	var extra []firing
	for _, f := range fs {
		if f.stance != classifiers.StanceAssert || hasDebunk[f.rule.narr] {
			continue
		}
		ci := cueOf(cueStarts, d.toks[d.claimHits(&f)[0].t0].ns)
		if !isCaller(doc.Cues[ci].Speaker) {
			continue
		}
		for cj := ci + 1; cj < n && cj <= ci+4; cj++ {
			sp := doc.Cues[cj].Speaker
			if sp == "" || isCaller(sp) {
				continue
			}
			if hs := refutes(cj); len(hs) > 0 {
				extra = append(extra, firing{rule: f.rule, hits: hs[:1], t0: cueTok[cj][0], t1: cueTok[cj][1], stance: classifiers.StanceDebunk})
				hasDebunk[f.rule.narr] = true
				break
			}
		}
	}
	fs = append(fs, extra...)
	// When the programme refutes a claim, its restating of the claim is
	// part of the refutation, not a separate report.
	out := fs[:0]
	for _, f := range fs {
		if f.stance == classifiers.StanceReport && hasDebunk[f.rule.narr] {
			continue
		}
		out = append(out, f)
	}
	return out
}
