// Package match owns Veille's rule matcher: text normalisation with a byte
// map back to the original, language identification, the compiled concept
// lexicon and the per-narrative rules that combine concepts within a clause,
// a sentence, adjacent sentences or transcript cues. Every flag it returns
// names the rule and the words that fired.
package match

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/catalog"
)

type scope uint8

const (
	scopeSentence scope = iota
	scopeClause
	scopePair
	scopeDoc
)

type missionReq uint8

const (
	missionDoc missionReq = iota
	missionUnit
	missionNone
)

type rule struct {
	id       string
	narr     int
	slots    [][]int32
	none     []int32
	scope    scope
	window   int
	mission  missionReq
	negClaim bool
	verb     []int32 // the slot whose negation denies the claim
	agentNot []int32
	never    []int32
	ordered  bool
	weight   float64
}

// compiled is an immutable compiled catalog.
type compiled struct {
	cat     *catalog.Catalog
	lex     *lexicon
	narrs   []string
	rules   []rule
	version string
	// shared concept ids the matcher itself reads
	cMission, cNeg, cDebunk, cDeny, cReport, cLead, cDisclaim int32
	cNoProof                                                  int32   // optional: -1 when the lexicon lacks NO_PROOF
	cFakeItem                                                 int32   // optional: -1 when the lexicon lacks FAKE_ITEM
	cArmed                                                    int32   // optional: -1 when the lexicon lacks ARMED
	weaponish                                                 []int32 // WEAPON and the narratives' local arms concepts
}

func compile(cat *catalog.Catalog) (*compiled, error) {
	if cat == nil {
		return nil, fmt.Errorf("match: nil catalog")
	}
	c := &compiled{cat: cat, lex: newLexicon(), version: "match/1 catalog/" + cat.Version()}
	addConcept := func(name string, terms catalog.Terms) error {
		id := c.lex.conceptID(name)
		langs := make([]string, 0, len(terms))
		for l := range terms {
			langs = append(langs, l)
		}
		sort.Strings(langs)
		for _, l := range langs {
			for _, t := range terms[l] {
				for _, v := range variants(t, l) {
					if err := c.lex.add(id, v, l); err != nil {
						return fmt.Errorf("match: concept %s: %w", name, err)
					}
				}
			}
		}
		return nil
	}
	lexNames := make([]string, 0, len(cat.Lexicon()))
	for name := range cat.Lexicon() {
		lexNames = append(lexNames, name)
	}
	sort.Strings(lexNames)
	for _, name := range lexNames {
		if err := addConcept(name, cat.Lexicon()[name]); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"MISSION", "NEG", "DEBUNK", "DENY", "REPORT", "DEBUNK_LEAD", "DISCLAIM"} {
		if _, ok := cat.Lexicon()[name]; !ok {
			return nil, fmt.Errorf("match: shared lexicon lacks concept %s", name)
		}
	}
	c.cMission, c.cNeg = c.lex.ids["MISSION"], c.lex.ids["NEG"]
	c.cDebunk, c.cDeny, c.cReport = c.lex.ids["DEBUNK"], c.lex.ids["DENY"], c.lex.ids["REPORT"]
	c.cLead, c.cDisclaim = c.lex.ids["DEBUNK_LEAD"], c.lex.ids["DISCLAIM"]
	c.cNoProof, c.cArmed = -1, -1
	if id, ok := c.lex.ids["NO_PROOF"]; ok {
		c.cNoProof = id
	}
	c.cFakeItem = -1
	if id, ok := c.lex.ids["FAKE_ITEM"]; ok {
		c.cFakeItem = id
	}
	if id, ok := c.lex.ids["ARMED"]; ok {
		c.cArmed = id
	}
	if id, ok := c.lex.ids["WEAPON"]; ok {
		c.weaponish = append(c.weaponish, id)
	}
	for ni, e := range cat.Entries() {
		c.narrs = append(c.narrs, e.ID)
		local := make([]string, 0, len(e.Concepts))
		for name := range e.Concepts {
			local = append(local, name)
		}
		sort.Strings(local)
		for _, name := range local {
			if err := addConcept(e.ID+"/"+name, e.Concepts[name]); err != nil {
				return nil, err
			}
			if name == "arms" {
				c.weaponish = append(c.weaponish, c.lex.ids[e.ID+"/"+name])
			}
		}
		resolve := func(name string) int32 {
			if _, ok := e.Concepts[name]; ok {
				return c.lex.ids[e.ID+"/"+name]
			}
			return c.lex.ids[name]
		}
		for _, r := range e.Rules {
			cr := rule{id: e.ID + "/" + r.ID, narr: ni, window: r.Window, negClaim: r.NegatedClaim, weight: r.Weight}
			for _, slot := range r.All {
				var alts []int32
				for _, name := range strings.Split(slot, "|") {
					alts = append(alts, resolve(name))
				}
				cr.slots = append(cr.slots, alts)
			}
			for _, slot := range r.None {
				for _, name := range strings.Split(slot, "|") {
					cr.none = append(cr.none, resolve(name))
				}
			}
			cr.never = append(cr.never, c.cDisclaim)
			cr.ordered = r.Ordered
			for _, slot := range r.Never {
				for _, name := range strings.Split(slot, "|") {
					cr.never = append(cr.never, resolve(name))
				}
			}
			for _, slot := range r.AgentNot {
				for _, name := range strings.Split(slot, "|") {
					cr.agentNot = append(cr.agentNot, resolve(name))
				}
			}
			for _, alts := range cr.slots {
				if len(alts) == 1 && alts[0] == c.cMission {
					continue
				}
				cr.verb = alts
				break
			}
			switch r.Scope {
			case "clause":
				cr.scope = scopeClause
			case "pair":
				cr.scope = scopePair
			case "doc":
				cr.scope = scopeDoc
			}
			switch r.Mission {
			case "unit":
				cr.mission = missionUnit
			case "none":
				cr.mission = missionNone
			}
			c.rules = append(c.rules, cr)
		}
	}
	return c, nil
}

// Matcher classifies texts with a compiled catalog. It is safe for
// concurrent use; Swap replaces the catalog atomically.
type Matcher struct {
	cur      atomic.Pointer[compiled]
	pool     chan *state // free list; unlike a sync.Pool it survives GC
	entities bool
}

// New compiles the catalog.
func New(cat *catalog.Catalog, opts ...Option) (*Matcher, error) {
	c, err := compile(cat)
	if err != nil {
		return nil, err
	}
	m := &Matcher{}
	for _, o := range opts {
		o(m)
	}
	m.cur.Store(c)
	m.pool = make(chan *state, 64)
	return m, nil
}

// Swap compiles cat and makes it the matcher's catalog; calls in flight
// finish with the old one. On error the matcher keeps its catalog.
func (m *Matcher) Swap(cat *catalog.Catalog) error {
	c, err := compile(cat)
	if err != nil {
		return err
	}
	m.cur.Store(c)
	return nil
}

// Catalog returns the catalog in use.
func (m *Matcher) Catalog() *catalog.Catalog { return m.cur.Load().cat }

// Version names the matcher and its catalog.
func (m *Matcher) Version() string { return m.cur.Load().version }

// state is per-call scratch space, pooled.
type state struct {
	text    Text
	buf     []byte
	toks    []token
	hits    []hit
	scratch []int32
	breaks  []int
	sents   [][2]int32
	cls     [][2]int32
	slab    []uint64 // backing store for per-unit concept sets
	cands   [][]hit  // matchSlots: candidates per slot
	chosen  []hit    // matchSlots: the set being tried
	best    []hit    // matchSlots: the closest set so far
}

// firing is one rule that fired on one unit.
type firing struct {
	rule       *rule
	hits       []hit
	t0, t1     int32 // token range of the unit
	stance     string
	cue0, cue1 int
}

// Classify returns the narratives doc carries.
func (m *Matcher) Classify(ctx context.Context, doc classifiers.Doc) (classifiers.Result, error) {
	return m.classify(ctx, doc, nil)
}

// Analyze classifies doc and also says what the matcher saw on the way:
// the sentences with their normalised words and the lexicon concepts found
// in each. The learned layer reads both as features.
func (m *Matcher) Analyze(ctx context.Context, doc classifiers.Doc) (classifiers.Result, *Analysis, error) {
	a := &Analysis{}
	res, err := m.classify(ctx, doc, a)
	return res, a, err
}

// AnalyzeInto is Analyze filling a, which may be reused from an earlier
// call (its previous contents are dropped).
func (m *Matcher) AnalyzeInto(ctx context.Context, doc classifiers.Doc, a *Analysis) (classifiers.Result, error) {
	return m.classify(ctx, doc, a)
}

func (m *Matcher) classify(ctx context.Context, doc classifiers.Doc, a *Analysis) (classifiers.Result, error) {
	if err := ctx.Err(); err != nil {
		return classifiers.Result{}, err
	}
	c := m.cur.Load()
	var st *state
	select {
	case st = <-m.pool:
	default:
		st = &state{}
	}
	defer func() {
		select {
		case m.pool <- st:
		default:
		}
	}()

	st.buf = normalizeInto(&st.text, doc.Text, st.buf[:0])
	st.breaks = st.breaks[:0]
	var cueStarts []int // Norm offset of each cue, for transcripts
	for i, cu := range doc.Cues {
		off := normOffset(&st.text, cu.Offset)
		cueStarts = append(cueStarts, off)
		if i > 0 && cu.Speaker != doc.Cues[i-1].Speaker {
			st.breaks = append(st.breaks, off)
		}
	}
	st.toks = tokenize(&st.text, st.toks[:0], st.breaks, len(doc.Cues) > 0)
	lang := identify(st.toks, st.text.Norm, doc.Lang)
	st.hits = c.lex.scan(st.toks, st.hits[:0], st.scratch, lang)
	st.hits = c.dropWeaponsInGroups(st.hits)
	res := classifiers.Result{Lang: lang, Flags: []classifiers.Flag{}}
	if a != nil {
		a.fill(c, &st.text, st.toks, st.hits)
	}
	if len(st.toks) == 0 {
		return res, nil
	}
	st.slab = st.slab[:0]
	d := &docView{c: c, lang: lang, st: st, hits: st.hits, toks: st.toks, sents: st.sents[:0], cls: st.cls[:0]}
	d.index()
	st.sents, st.cls = d.sents, d.cls
	firings, err := d.run(ctx)
	if err != nil {
		return res, err
	}
	if len(firings) == 0 {
		return res, nil
	}
	res.Flags = d.flags(firings, doc, cueStarts)
	if m.entities && lang == "en" && len(res.Flags) > 0 {
		ents := entities(doc.Text)
		for i := range res.Flags {
			res.Flags[i].Entities = ents
		}
	}
	return res, nil
}

// dropWeaponsInGroups removes weapon hits that are part of an armed-group
// phrase: "armés" in "groupes armés", "armed" in "armed men".
func (c *compiled) dropWeaponsInGroups(hs []hit) []hit {
	if c.cArmed < 0 {
		return hs
	}
	out := hs[:0]
	for i, h := range hs {
		if slices.Contains(c.weaponish, h.concept) && c.insideArmed(hs, i) {
			continue
		}
		out = append(out, h)
	}
	return out
}

// insideArmed reports whether hs[i] lies within a longer ARMED hit. Hits
// are in token order, so candidates start at most a few hits away.
func (c *compiled) insideArmed(hs []hit, i int) bool {
	h := hs[i]
	for j := i - 1; j >= 0 && h.t0-hs[j].t0 < 8; j-- {
		if x := hs[j]; x.concept == c.cArmed && x.t0 <= h.t0 && h.t1 <= x.t1 && x.t1-x.t0 > h.t1-h.t0 {
			return true
		}
	}
	for j := i + 1; j < len(hs) && hs[j].t0 == h.t0; j++ {
		if x := hs[j]; x.concept == c.cArmed && h.t1 <= x.t1 && x.t1-x.t0 > h.t1-h.t0 {
			return true
		}
	}
	return false
}

func normOffset(t *Text, orig int) int {
	i := sort.Search(len(t.start), func(k int) bool { return int(t.start[k]) >= orig })
	return i
}

// cueOf returns the index of the cue holding the Norm offset.
func cueOf(cueStarts []int, off int32) int {
	i := sort.SearchInts(cueStarts, int(off)+1) - 1
	return max(i, 0)
}

type docView struct {
	c     *compiled
	lang  string
	st    *state
	hits  []hit
	toks  []token
	sents [][2]int32 // token range per sentence
	cls   [][2]int32 // token range per clause
	hasM  bool
	bits  bitset // concepts present anywhere in the text
}

// bitset is a set of concept ids.
type bitset []uint64

func (b bitset) has(c int32) bool { return b[c>>6]&(1<<(c&63)) != 0 }

func (b bitset) any(cs []int32) bool {
	for _, c := range cs {
		if b.has(c) {
			return true
		}
	}
	return false
}

func (d *docView) bitsOf(hs []hit) bitset {
	n := (len(d.c.lex.concepts) + 63) / 64
	if len(d.st.slab)+n > cap(d.st.slab) {
		d.st.slab = make([]uint64, 0, max(4*cap(d.st.slab), 64*n))
	}
	d.st.slab = d.st.slab[:len(d.st.slab)+n]
	b := bitset(d.st.slab[len(d.st.slab)-n:])
	clear(b)
	for _, h := range hs {
		b[h.concept>>6] |= 1 << (h.concept & 63)
	}
	return b
}

func (d *docView) index() {
	for i, tk := range d.toks {
		if int(tk.sent) >= len(d.sents) {
			d.sents = append(d.sents, [2]int32{int32(i), int32(i + 1)})
		}
		d.sents[tk.sent][1] = int32(i + 1)
		if int(tk.clause) >= len(d.cls) {
			for len(d.cls) <= int(tk.clause) {
				d.cls = append(d.cls, [2]int32{int32(i), int32(i)})
			}
			d.cls[tk.clause][0] = int32(i)
		}
		d.cls[tk.clause][1] = int32(i + 1)
	}
	d.bits = d.bitsOf(d.hits)
	d.hasM = d.bits.has(d.c.cMission)
}

// hitsIn returns the hits whose words lie in tokens [t0, t1).
func (d *docView) hitsIn(t0, t1 int32) []hit {
	a := sort.Search(len(d.hits), func(k int) bool { return d.hits[k].t0 >= t0 })
	b := a
	for b < len(d.hits) && d.hits[b].t0 < t1 {
		b++
	}
	return d.hits[a:b]
}

func has(hs []hit, concept int32) bool {
	for _, h := range hs {
		if h.concept == concept {
			return true
		}
	}
	return false
}

func (d *docView) units(s scope) [][2]int32 {
	switch s {
	case scopeClause:
		return d.cls
	case scopeDoc:
		return [][2]int32{{0, int32(len(d.toks))}}
	case scopePair:
		if len(d.sents) < 2 {
			return d.sents
		}
		out := make([][2]int32, 0, len(d.sents)-1)
		for i := 0; i+1 < len(d.sents); i++ {
			out = append(out, [2]int32{d.sents[i][0], d.sents[i+1][1]})
		}
		return out
	}
	return d.sents
}

func (d *docView) run(ctx context.Context) ([]firing, error) {
	var out []firing
	var unitsBy [scopeDoc + 1][][2]int32
	var bitsBy [scopeDoc + 1][]bitset
	// A text that opens with a fact-check marker refutes what follows:
	// the real event it names ("Non, ... la vidéo montre une opération de
	// désarmement") must not veto the claim it refutes.
	refuted := d.leadsWithMarker(0)
rules:
	for ri := range d.c.rules {
		r := &d.c.rules[ri]
		if r.mission == missionDoc && !d.hasM {
			continue
		}
		// Most rules lack a concept in the whole text: skip them cheaply.
		for _, alts := range r.slots {
			if !d.bits.any(alts) {
				continue rules
			}
		}
		// A long text is checked against the caller's deadline as it goes.
		if len(d.hits) > 256 && ri%16 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		us := unitsBy[r.scope]
		if us == nil {
			us = d.units(r.scope)
			unitsBy[r.scope] = us
			bitsBy[r.scope] = make([]bitset, len(us))
			for i, u := range us {
				bitsBy[r.scope][i] = d.bitsOf(d.hitsIn(u[0], u[1]))
			}
		}
	units:
		for ui, u := range us {
			ub := bitsBy[r.scope][ui]
			for _, alts := range r.slots {
				if !ub.any(alts) {
					continue units
				}
			}
			hs := d.hitsIn(u[0], u[1])
			if r.mission == missionUnit && !ub.has(d.c.cMission) {
				continue
			}
			// A refutation or a report may name the real event a veto
			// stands for ("the photo shows a disarmament ceremony", "the
			// mission said it only carried ballots on request"): vetoes
			// then wait.
			vetoed := false
			if !refuted && !has(hs, d.c.cDebunk) && !has(hs, d.c.cDeny) && !has(hs, d.c.cReport) {
				for _, n := range r.none {
					if has(hs, n) {
						vetoed = true
						break
					}
				}
			}
			for _, n := range r.never {
				if has(hs, n) {
					vetoed = true
					break
				}
			}
			if vetoed {
				continue
			}
			if chosen, ok := matchSlots(r, hs, d.st); ok && !d.otherAgent(r, chosen, hs) {
				out = append(out, firing{rule: r, hits: chosen, t0: u[0], t1: u[1]})
			}
		}
	}
	return out, nil
}

// matchSlots picks one hit per slot, the closest set within the window.
// Hits are in text order; each slot's candidates are found by binary
// search, so a long unit costs O(hits · slots · log hits), not the square
// of its hits.
func matchSlots(r *rule, hs []hit, st *state) ([]hit, bool) {
	if !slices.IsSortedFunc(hs, func(a, b hit) int { return cmp.Compare(a.t0, b.t0) }) {
		hs = slices.Clone(hs)
		slices.SortStableFunc(hs, func(a, b hit) int { return cmp.Compare(a.t0, b.t0) })
	}
	in := func(h hit, alts []int32) bool {
		return slices.Contains(alts, h.concept)
	}
	// Candidates of each slot after the first, in text order, in the
	// call's scratch space.
	for len(st.cands) < len(r.slots) {
		st.cands = append(st.cands, nil)
	}
	cands := st.cands[:len(r.slots)]
	for k, alts := range r.slots[1:] {
		cands[k+1] = cands[k+1][:0]
		for _, h := range hs {
			if in(h, alts) {
				cands[k+1] = append(cands[k+1], h)
			}
		}
		if len(cands[k+1]) == 0 {
			return nil, false
		}
	}
	// firstAt returns the index of the first candidate starting at or after t.
	firstAt := func(cs []hit, t int32) int {
		i, _ := slices.BinarySearchFunc(cs, t, func(h hit, t int32) int { return cmp.Compare(h.t0, t) })
		return i
	}
	best := st.best[:0]
	have := false
	bestSpan := int32(1 << 30)
	chosen := st.chosen[:0]
	for _, h0 := range hs {
		if !in(h0, r.slots[0]) {
			continue
		}
		chosen = append(chosen[:0], h0)
		lo, hi := h0.t0, h0.t1
		ok := true
		for k := 1; k < len(r.slots); k++ {
			cs := cands[k]
			var pick hit
			found := false
			if r.ordered {
				// Every candidate lies after h0, so the closest is the
				// first one after the previous pick.
				if i := firstAt(cs, chosen[len(chosen)-1].t1); i < len(cs) {
					pick, found = cs[i], true
				}
			} else {
				// The closest start on either side; on a tie the earlier.
				i := firstAt(cs, h0.t0)
				if i < len(cs) {
					pick, found = cs[i], true
				}
				if i > 0 {
					j := firstAt(cs, cs[i-1].t0) // first of the hits starting there
					if left := cs[j]; !found || h0.t0-left.t0 <= pick.t0-h0.t0 {
						pick, found = left, true
					}
				}
			}
			if !found {
				ok = false
				break
			}
			chosen = append(chosen, pick)
			lo, hi = min(lo, pick.t0), max(hi, pick.t1)
		}
		if !ok {
			// An ordered rule may find nothing after a late first slot
			// ("…let the militia attack; MONUSCO says…"): try the next.
			// Unordered, a slot missing for one start is missing for all.
			if r.ordered {
				continue
			}
			return nil, false
		}
		if span := hi - lo; span < bestSpan {
			best, bestSpan, have = append(best[:0], chosen...), span, true
		}
	}
	st.best, st.chosen = best, chosen
	if !have {
		return nil, false
	}
	if r.window > 0 && bestSpan > int32(r.window) {
		return nil, false
	}
	return slices.Clone(best), true
}

// conjunctions do not separate a doer from its verb ("the UPC and shoot").
var conjunctions = catalog.Set(lang.Conjunctions)

// byWords introduce the doer of a passive verb.
var byWords = catalog.Set(lang.ByWords)

// jointArticles may stand between a conjunction and the agent it joins.
var jointArticles = catalog.Set(lang.JointArticles)

// jointWithMission reports whether agent hit h is joined to the mission
// as one subject ("MONUSCO na ba ADF ni kitu kimoja", "la MINUSMA wa el
// irhabiyin", "المينوسما والإرهابيين"): the mission acts too.
func (d *docView) jointWithMission(h hit, hs []hit) bool {
	start := h.t0 // the longest hit of the agent ending here ("ba adf", "adf")
	for _, x := range hs {
		if x.concept == h.concept && x.t1 == h.t1 && x.t0 < start {
			start = x.t0
		}
	}
	if start > 0 && jointArticles[d.toks[start-1].s] {
		start-- // "wa el irhabiyin", "na les rebelles"
	}
	end := start
	if w := d.toks[start].s; !(isArabicWord(w) && strings.HasPrefix(w, "و")) {
		if start == 0 || !(conjunctions[d.toks[start-1].s] || d.toks[start-1].s == "wa") {
			return false
		}
		end = start - 1
	}
	for _, m := range hs {
		if m.concept == d.c.cMission && m.t1 == end && d.toks[m.t0].clause == d.toks[h.t0].clause {
			return true
		}
	}
	return false
}

// isBy reports whether w introduces the doer of verb hit v. Swahili,
// Lingala and Sango "na" is also "with", "and" and "to" ("amû ngombe na
// a-rebelle", "asara kua na a-rebelle"): it marks a doer only after a
// passive verb ("waliuawa na", "alitekwa na", "babomamaki na").
func (d *docView) isBy(w string, v hit) bool {
	if !byWords[w] {
		return false
	}
	if w != "na" {
		return true
	}
	vw := d.toks[v.t1-1].s
	return strings.HasSuffix(vw, "wa") || strings.HasSuffix(vw, "we") || strings.Contains(vw, "ama")
}

// ofWords introduce a doer right after a noun ("les massacres des ADF").
var ofWords = catalog.Set(lang.OfWords)

// otherAgent reports whether one of the rule's agent_not concepts ends
// right before the verb hit (at most one word between, not a conjunction).
func (d *docView) otherAgent(r *rule, chosen, hs []hit) bool {
	if len(r.agentNot) == 0 {
		return false
	}
	for _, v := range chosen {
		if !inSlot(v.concept, r.verb) {
			continue
		}
		for _, h := range hs {
			if !inSlot(h.concept, r.agentNot) {
				continue
			}
			gap := v.t0 - h.t1
			if (gap == 0 || (gap == 1 && !conjunctions[d.toks[h.t1].s])) && !d.jointWithMission(h, hs) {
				return true
			}
			// Passive with the doer after the verb: "massacred by the ADF",
			// "the occupation of Kidal by the CMA".
			after := h.t0 - v.t1
			// Arabic puts the doer right after the verb, a plural doer in
			// the nominative "-ون" ("قتل المسلحون"); "-ين" is the object
			// ("تحمي الإرهابيين").
			if after == 0 && isArabicWord(d.toks[v.t1-1].s) && strings.HasSuffix(d.toks[h.t0].s, "ون") {
				return true
			}
			if after >= 1 && after <= 3 && d.isBy(d.toks[h.t0-1].s, v) || after == 1 && ofWords[d.toks[h.t0-1].s] {
				return true
			}
			if after >= 2 && after <= 6 {
				k := h.t0 - 1
				for k > v.t1 && determiners[d.toks[k].s] {
					k--
				}
				if w := d.toks[k].s; k >= v.t1 && (w == "by" || w == "par") && d.toks[k].sent == d.toks[v.t0].sent {
					return true
				}
			}
		}
	}
	return false
}

// variants returns a term and its informal spellings: English "-ing"
// words also as "-in" ("givin"), and "un" also as the upper-case "UN" the
// tokenizer reads as "onu".
func variants(term, lang string) []string {
	out := []string{term}
	if lang != "en" {
		return out
	}
	words := strings.Fields(term)
	changed := false
	alt := make([]string, len(words))
	for i, w := range words {
		alt[i] = w
		switch {
		case w == "un":
			alt[i], changed = "onu", true
		case len(w) > 5 && strings.HasSuffix(w, "ing"):
			alt[i], changed = strings.TrimSuffix(w, "g"), true
		}
	}
	if changed {
		out = append(out, strings.Join(alt, " "))
	}
	return out
}
