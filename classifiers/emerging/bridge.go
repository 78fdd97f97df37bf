package emerging

import (
	"strings"

	"github.com/veille-project/veille/classifiers/catalog"
)

// Bridge maps words of every language the catalog speaks to the name of the
// catalog concept that holds them (the shared lexicon's and each
// narrative's own), so that texts in Swahili, Lingala, Sango or Arabic meet
// French and English ones on the same terms. Only single words and
// "prefix*" terms of four letters or more are taken; concepts that carry no
// topic (negation, reporting, debunking, disclaimers) are left out.
type Bridge struct {
	exact    map[string]string
	prefix   map[string]string
	maxLen   int
	concepts map[string]bool // the concept names words are mapped to
}

// A word in several concepts goes to the smallest: the most specific one,
// and the one its translations most likely share.

// functional concepts of the shared lexicon say how a text speaks, not
// what of.
var functional = map[string]bool{"NEG": true, "DISCLAIM": true, "REPORT": true, "DEBUNK": true, "DENY": true, "DEBUNK_LEAD": true}

// NewBridge builds the bridge of a catalog; nil gives nil (no bridge).
func NewBridge(cat *catalog.Catalog) *Bridge {
	if cat == nil {
		return nil
	}
	b := &Bridge{exact: map[string]string{}, prefix: map[string]string{}, concepts: map[string]bool{}}
	size := map[string]int{} // word or stem → size of the concept it was given
	put := func(m map[string]string, key, name string, n int) {
		if old, ok := m[key]; ok && (size[key] < n || size[key] == n && old <= name) {
			return
		}
		m[key], size[key] = name, n
		b.concepts[name] = true
	}
	add := func(concept string, terms catalog.Terms) {
		name := strings.ToLower(concept)
		all := terms.All()
		// A concept of pronouns or particles (most of its French and
		// English words are function words) says nothing of a topic.
		function, known := 0, 0
		for _, l := range []string{"en", "fr"} {
			for _, t := range terms[l] {
				known++
				if stop[strings.ToLower(t)] {
					function++
				}
			}
		}
		if known > 0 && 2*function >= known {
			return
		}
		for _, t := range all {
			t = strings.ToLower(strings.TrimSpace(t))
			if strings.ContainsAny(t, " '-") || strings.HasPrefix(t, "*") {
				continue
			}
			if stem, ok := strings.CutSuffix(t, "*"); ok {
				if len(stem) >= 4 && !strings.Contains(stem, "*") {
					put(b.prefix, stem, name, len(all))
					b.maxLen = max(b.maxLen, len(stem))
				}
				continue
			}
			if len(t) >= 4 && !strings.Contains(t, "*") {
				put(b.exact, t, name, len(all))
			}
		}
	}
	lex := cat.Lexicon()
	for n, terms := range lex {
		if !functional[n] {
			add(n, terms)
		}
	}
	for _, e := range cat.Entries() {
		for n, terms := range e.Concepts {
			add(n, terms)
		}
	}
	return b
}

// lookup returns the concept of a normalised word, or "".
func (b *Bridge) lookup(w string) string {
	if b == nil {
		return ""
	}
	if c, ok := b.exact[w]; ok {
		return c
	}
	for k := min(len(w), b.maxLen); k >= 4; k-- {
		if c, ok := b.prefix[w[:k]]; ok {
			return c
		}
	}
	return ""
}

// isConcept reports whether t is a catalog concept name the bridge maps
// words to. Such terms are the narratives' vocabulary (camp, kill, plot):
// shared by many texts that say different things, they link texts only
// with the help of more specific terms.
func (b *Bridge) isConcept(t string) bool { return b != nil && b.concepts[t] }
