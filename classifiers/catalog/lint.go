package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// Finding is one thing an analyst may want to fix in the catalog: it is
// not an error (the catalog loads), but a term that does nothing.
type Finding struct {
	Where string // file and concept, e.g. "lexicon.yaml: WEAPON (fr)"
	What  string
}

func (f Finding) String() string { return f.Where + ": " + f.What }

// Lint lists terms that do nothing: a term given twice in one concept and
// language, and a word already matched by a wildcard of the same concept
// and language ("arme" beside "arm*", "kuwapa" beside "*wapa"). A concept
// no rule uses is not reported: the learned layer reads every concept.
func (c *Catalog) Lint() []Finding {
	var out []Finding
	check := func(where string, t Terms) {
		langs := make([]string, 0, len(t))
		for l := range t {
			langs = append(langs, l)
		}
		sort.Strings(langs)
		for _, l := range langs {
			seen := map[string]bool{}
			var wild []string
			for _, term := range t[l] {
				k := strings.ToLower(strings.TrimSpace(term))
				if seen[k] {
					out = append(out, Finding{fmt.Sprintf("%s (%s)", where, l), fmt.Sprintf("term %q is listed twice", term)})
				}
				seen[k] = true
				if !strings.Contains(k, " ") && strings.Contains(k, "*") && !strings.HasPrefix(k, "=") {
					wild = append(wild, k)
				}
			}
			for _, term := range t[l] {
				k := strings.ToLower(strings.TrimSpace(term))
				if strings.ContainsAny(k, "* =") {
					continue
				}
				for _, w := range wild {
					if wildMatches(w, k) {
						out = append(out, Finding{fmt.Sprintf("%s (%s)", where, l), fmt.Sprintf("term %q is already matched by %q", term, w)})
						break
					}
				}
			}
		}
	}
	names := make([]string, 0, len(c.lexicon))
	for n := range c.lexicon {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		check("lexicon.yaml: "+n, c.lexicon[n])
	}
	for _, e := range c.entries {
		cnames := make([]string, 0, len(e.Concepts))
		for n := range e.Concepts {
			cnames = append(cnames, n)
		}
		sort.Strings(cnames)
		for _, n := range cnames {
			check(e.file+": "+n, e.Concepts[n])
		}
	}
	return out
}

// wildMatches says whether pattern ("arm*", "*wapa", "*gaw*") matches word.
func wildMatches(pattern, word string) bool {
	core := strings.Trim(pattern, "*")
	if core == "" {
		return false
	}
	switch {
	case strings.HasPrefix(pattern, "*") && strings.HasSuffix(pattern, "*"):
		return strings.Contains(word, core)
	case strings.HasSuffix(pattern, "*"):
		return strings.HasPrefix(word, core)
	case strings.HasPrefix(pattern, "*"):
		return strings.HasSuffix(word, core)
	}
	return false
}
