// Package emerging finds rumours no catalog entry knows yet. Among texts that
// speak of a UN mission but carry no known narrative it finds the ones that
// say the same thing — near-duplicates by MinHash over word shingles, then
// texts sharing salient terms (weighed against all texts seen), across French
// and English through a small bilingual term map — and ranks the groups by
// growth and spread. It also turns a group into a draft catalog entry and
// promotes an edited entry into the live matcher. It reads no storage: its
// input is a slice of Doc.
package emerging

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"sort"
	"time"
)

// Doc is one text without a known narrative.
type Doc struct {
	ID        string    `json:"id"`
	Text      string    `json:"text"`
	Lang      string    `json:"lang"`
	Source    string    `json:"source"`
	Station   string    `json:"station,omitempty"`
	Published time.Time `json:"published"`
}

// Group is a set of texts that say the same thing.
type Group struct {
	// ID is stable while the group's earliest text stays in the window.
	ID string `json:"id"`
	// Terms are the group's salient terms, most telling first (shared
	// English forms for words the bilingual map knows).
	Terms []string `json:"terms"`
	// Items are the doc ids, earliest first.
	Items     []string  `json:"items"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Sources   []string  `json:"sources"`
	Langs     []string  `json:"langs"`
	Stations  []string  `json:"stations,omitempty"`
	// Recent and Earlier count the items in the last Options.Recent and
	// before it; Growth is (Recent+1)/(Earlier+1).
	Recent  int     `json:"recent"`
	Earlier int     `json:"earlier"`
	Growth  float64 `json:"growth"`
	// Core are the two or three terms found together in most of the
	// group's texts; Draft builds its rule from them.
	Core []string `json:"core"`
	// Score ranks groups: size, growth and spread (see Find).
	Score float64 `json:"score"`
	// Surface holds, per term and language, the words the texts used for
	// it; Draft turns them into catalog terms.
	Surface map[string]map[string][]string `json:"surface,omitempty"`
}

// Options tune Find; zero values take the defaults.
type Options struct {
	// Now ends the period (default: the latest Published).
	Now time.Time
	// Recent is the span Growth counts as recent (default 12h).
	Recent time.Duration
	// MinItems is the smallest group reported (default 3).
	MinItems int
	// NearDup is the estimated Jaccard similarity of 3-word shingles above
	// which two texts are near-duplicates (default 0.5).
	NearDup float64
	// MinShared is how many salient terms two texts must share to be
	// grouped (default 3).
	MinShared int
	// Salient is how many top TF-IDF terms of a text count as salient
	// (default 10).
	Salient int
	// Background holds document frequencies of other texts (e.g. all items
	// of the period, flagged ones too) so that terms common everywhere weigh
	// little; BackgroundDocs is how many texts they were counted over.
	Background     map[string]int
	BackgroundDocs int
	// Limit caps the groups returned (0: all).
	Limit int
	// Bridge maps words of other languages to catalog concepts (see
	// NewBridge); nil uses the bilingual French-English map alone.
	Bridge *Bridge
}

func (o *Options) defaults(docs []Doc) {
	if o.Now.IsZero() {
		for _, d := range docs {
			if d.Published.After(o.Now) {
				o.Now = d.Published
			}
		}
	}
	if o.Recent <= 0 {
		o.Recent = 12 * time.Hour
	}
	if o.MinItems <= 0 {
		o.MinItems = 3
	}
	if o.NearDup <= 0 {
		o.NearDup = 0.5
	}
	if o.MinShared <= 0 {
		o.MinShared = 3
	}
	if o.Salient <= 0 {
		o.Salient = 10
	}
}

// Terms returns the distinct terms of a text as Find sees them with the
// bridge b (nil: none); callers use it to count Options.Background.
func Terms(text string, b *Bridge) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range words(text) {
		if c := canonical(w, b); c != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

type prepared struct {
	terms   []string            // canonical terms in text order
	tf      map[string]int      // term counts
	surface map[string][]string // term → normalised words used
	salient map[string]float64  // top terms with their weight
}

// Find groups the docs that say the same thing and returns the groups of at
// least MinItems docs, highest Score first. Score is
//
//	items × (1 + log2(Growth)) × (1 + 0.5·(sources−1) + (langs−1) + 0.5·stations)
//
// with the growth term floored at 0.25: a fast-growing rumour carried by
// several outlets in two languages outranks a story that one outlet
// repeated last week.
func Find(docs []Doc, opts Options) []Group {
	opts.defaults(docs)
	n := len(docs)
	if n == 0 {
		return nil
	}
	prep := make([]prepared, n)
	df := map[string]int{}
	for i, d := range docs {
		p := prepared{tf: map[string]int{}, surface: map[string][]string{}}
		for _, w := range words(d.Text) {
			c := canonical(w, opts.Bridge)
			if c == "" {
				continue
			}
			p.terms = append(p.terms, c)
			if p.tf[c] == 0 {
				df[c]++
			}
			p.tf[c]++
			if !contains(p.surface[c], w) {
				p.surface[c] = append(p.surface[c], w)
			}
		}
		prep[i] = p
	}
	total := n + opts.BackgroundDocs
	idf := func(t string) float64 {
		return math.Log(float64(total+1) / float64(df[t]+opts.Background[t]+1))
	}
	// A term in more than a third of the texts says nothing about any.
	common := func(t string) bool { return df[t]+opts.Background[t] > total/3+1 }
	for i := range prep {
		type tw struct {
			t string
			w float64
		}
		var ws []tw
		for t, c := range prep[i].tf {
			// A term no other candidate uses links nothing.
			if generic[t] || common(t) || df[t] < 2 {
				continue
			}
			ws = append(ws, tw{t, (1 + math.Log(float64(c))) * idf(t)})
		}
		sort.Slice(ws, func(a, b int) bool {
			if ws[a].w != ws[b].w {
				return ws[a].w > ws[b].w
			}
			return ws[a].t < ws[b].t
		})
		if len(ws) > opts.Salient {
			ws = ws[:opts.Salient]
		}
		prep[i].salient = map[string]float64{}
		for _, x := range ws {
			prep[i].salient[x.t] = x.w
		}
	}

	uf := newUnionFind(n)
	// 1. Near-duplicates: the same text reworded a little or republished.
	sigs := make([]Signature, n)
	var idx []int
	for i := range prep {
		sh := Shingles(prep[i].terms, 3)
		if len(sh) == 0 {
			continue
		}
		idx = append(idx, i)
		sigs[len(idx)-1] = MinHash(sh)
	}
	for _, p := range nearDuplicates(sigs[:len(idx)], opts.NearDup) {
		uf.union(idx[p[0]], idx[p[1]])
	}
	// 2. Texts sharing enough salient terms, through an inverted index:
	// for each text, count the terms it shares with every later text that
	// has one of its salient terms (a dense counter, reset after each text).
	postings := map[string][]int{}
	for i := range prep {
		for t := range prep[i].salient {
			postings[t] = append(postings[t], i) // ascending i
		}
	}
	count := make([]int32, n)
	var touched []int
	for i := range prep {
		touched = touched[:0]
		for t := range prep[i].salient {
			ds := postings[t]
			k := sort.SearchInts(ds, i+1)
			for _, j := range ds[k:] {
				if count[j] == 0 {
					touched = append(touched, j)
				}
				count[j] += linkWeight(opts.Bridge, t)
			}
		}
		for _, j := range touched {
			// k counts shared terms in halves: a concept term is half a term.
			k := int(count[j])
			count[j] = 0
			small := min(len(prep[i].salient), len(prep[j].salient))
			if k >= 2*opts.MinShared && float64(k) >= 0.6*float64(small) {
				uf.union(i, j)
			}
		}
	}

	members := map[int][]int{}
	for i := range docs {
		r := uf.find(i)
		members[r] = append(members[r], i)
	}
	var groups []Group
	for _, ms := range members {
		if len(ms) < opts.MinItems {
			continue
		}
		g := buildGroup(docs, prep, ms, idf, common, opts)
		// A chain of texts linked pairwise but with no two terms a third of
		// them share says no one thing.
		if len(g.Terms) < 2 {
			continue
		}
		groups = append(groups, g)
	}
	sort.Slice(groups, func(a, b int) bool {
		if groups[a].Score != groups[b].Score {
			return groups[a].Score > groups[b].Score
		}
		return groups[a].ID < groups[b].ID
	})
	if opts.Limit > 0 && len(groups) > opts.Limit {
		groups = groups[:opts.Limit]
	}
	return groups
}

func buildGroup(docs []Doc, prep []prepared, ms []int, idf func(string) float64, common func(string) bool, opts Options) Group {
	sort.Slice(ms, func(a, b int) bool {
		da, db := docs[ms[a]], docs[ms[b]]
		if !da.Published.Equal(db.Published) {
			return da.Published.Before(db.Published)
		}
		return da.ID < db.ID
	})
	g := Group{Surface: map[string]map[string][]string{}}
	sources, langs, stations := map[string]bool{}, map[string]bool{}, map[string]bool{}
	weight, uses := map[string]float64{}, map[string]int{}
	cutoff := opts.Now.Add(-opts.Recent)
	for _, i := range ms {
		d := docs[i]
		g.Items = append(g.Items, d.ID)
		if g.FirstSeen.IsZero() || d.Published.Before(g.FirstSeen) {
			g.FirstSeen = d.Published
		}
		if d.Published.After(g.LastSeen) {
			g.LastSeen = d.Published
		}
		if d.Published.After(cutoff) {
			g.Recent++
		} else {
			g.Earlier++
		}
		add(sources, &g.Sources, d.Source)
		add(langs, &g.Langs, d.Lang)
		add(stations, &g.Stations, d.Station)
		for t := range prep[i].tf {
			if generic[t] || common(t) {
				continue
			}
			weight[t] += idf(t)
			uses[t]++
			lang := d.Lang
			if lang == "" {
				lang = "*"
			}
			if g.Surface[t] == nil {
				g.Surface[t] = map[string][]string{}
			}
			for _, w := range prep[i].surface[t] {
				if !contains(g.Surface[t][lang], w) {
					g.Surface[t][lang] = append(g.Surface[t][lang], w)
				}
			}
		}
	}
	// A term is the group's when at least a third of its texts use it.
	type tw struct {
		t string
		w float64
	}
	var ws []tw
	for t, w := range weight {
		if u := uses[t]; u*3 >= len(ms) && u >= 2 {
			ws = append(ws, tw{t, w})
		}
	}
	sort.Slice(ws, func(a, b int) bool {
		if ws[a].w != ws[b].w {
			return ws[a].w > ws[b].w
		}
		return ws[a].t < ws[b].t
	})
	for i, x := range ws {
		if i == 8 {
			break
		}
		g.Terms = append(g.Terms, x.t)
	}
	for t := range g.Surface {
		if !contains(g.Terms, t) {
			delete(g.Surface, t)
		}
	}
	g.Core = coreTerms(g.Terms, prep, ms)
	sort.Strings(g.Sources)
	sort.Strings(g.Langs)
	sort.Strings(g.Stations)
	sum := sha256.Sum256([]byte(g.Items[0]))
	g.ID = "g-" + hex.EncodeToString(sum[:6])
	g.Growth = float64(g.Recent+1) / float64(g.Earlier+1)
	gf := math.Max(0.25, 1+math.Log2(g.Growth))
	spread := 1 + 0.5*float64(len(g.Sources)-1) + float64(len(g.Langs)-1) + 0.5*float64(len(g.Stations))
	g.Score = math.Round(float64(len(ms))*gf*spread*100) / 100
	return g
}

// coreTerms picks, among the top five terms, the three (or two) that occur
// together in the most texts of the group.
func coreTerms(terms []string, prep []prepared, ms []int) []string {
	top := terms[:min(5, len(terms))]
	if len(top) <= 2 {
		return append([]string(nil), top...)
	}
	together := func(set ...string) int {
		n := 0
		for _, i := range ms {
			all := true
			for _, t := range set {
				if prep[i].tf[t] == 0 {
					all = false
					break
				}
			}
			if all {
				n++
			}
		}
		return n
	}
	var best []string
	bestN := 0
	for a := 0; a < len(top); a++ {
		for b := a + 1; b < len(top); b++ {
			for c := b + 1; c < len(top); c++ {
				if n := together(top[a], top[b], top[c]); n > bestN {
					best, bestN = []string{top[a], top[b], top[c]}, n
				}
			}
		}
	}
	// Three terms that meet in fewer than two texts make a rule too narrow.
	if bestN >= 2 {
		return best
	}
	for a := 0; a < len(top); a++ {
		for b := a + 1; b < len(top); b++ {
			if n := together(top[a], top[b]); n > bestN {
				best, bestN = []string{top[a], top[b]}, n
			}
		}
	}
	return best
}

func add(seen map[string]bool, list *[]string, v string) {
	if v != "" && !seen[v] {
		seen[v] = true
		*list = append(*list, v)
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

type unionFind struct{ parent []int }

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]int, n)}
	for i := range u.parent {
		u.parent[i] = i
	}
	return u
}

func (u *unionFind) find(x int) int {
	for u.parent[x] != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = u.parent[x]
	}
	return x
}

func (u *unionFind) union(a, b int) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	if ra > rb {
		ra, rb = rb, ra
	}
	u.parent[rb] = ra
}

// linkWeight is what one shared salient term adds to a pair's link count,
// in halves: 2 for a specific term, 1 for a catalog concept.
func linkWeight(b *Bridge, t string) int32 {
	if b.isConcept(t) {
		return 1
	}
	return 2
}
