package match

import (
	"fmt"
	"slices"
	"strings"
)

type patKind uint8

const (
	patExact patKind = iota
	patPrefix
	patSuffix
	patContains
)

type pattern struct {
	s    string
	kind patKind
}

func (p pattern) match(w string) bool {
	switch p.kind {
	case patExact:
		return w == p.s
	case patPrefix:
		return strings.HasPrefix(w, p.s)
	case patSuffix:
		return strings.HasSuffix(w, p.s)
	default:
		return strings.Contains(w, p.s)
	}
}

// term is one lexicon entry: a sequence of word patterns for a concept.
type term struct {
	concept int32
	pats    []pattern
	src     string
	lang    string // set for "=word" terms: match only texts in this language
}

// termMeta is what the scan reads of every candidate term, kept apart from
// the terms so that ruling most candidates out touches 4 bytes each.
type termMeta struct {
	lang uint8 // 0: any language; else an index into lexicon.langs
	// next0 is the first byte every token matching the second word starts
	// with (0 when any byte may): most candidates of a common first word
	// ("a", "ne", "not") are ruled out on it without a pattern match.
	next0 byte
	n     uint8 // words in the term, capped at 255
}

// lexicon indexes terms by their first word for one pass over the tokens.
type lexicon struct {
	terms    []term
	exact    map[string][]int32
	prefix   map[string][]int32
	suffix   map[string][]int32 // terms whose first word is a suffix pattern, by its last two bytes
	contains []int32            // terms whose first word is a contains pattern
	// containsMajor holds the contains terms written for en, fr or ar,
	// the only ones looked for in texts of those languages: infix
	// patterns of Bantu and Sango morphology ("*sambaza*") are looked
	// for in texts of the other languages only.
	containsMajor []int32
	preLens       map[uint16][]int // prefix pattern lengths by their first two bytes
	concepts      []string
	ids           map[string]int32
	meta          []termMeta // by term id
	langs         []string   // languages of "=word" terms; termMeta.lang-1 indexes it
}

func newLexicon() *lexicon {
	return &lexicon{exact: map[string][]int32{}, prefix: map[string][]int32{}, suffix: map[string][]int32{}, preLens: map[uint16][]int{}, ids: map[string]int32{}}
}

func (lx *lexicon) conceptID(name string) int32 {
	if id, ok := lx.ids[name]; ok {
		return id
	}
	id := int32(len(lx.concepts))
	lx.concepts = append(lx.concepts, name)
	lx.ids[name] = id
	return id
}

// add compiles one term text ("blue helmet*", "*wapa") for a concept.
func (lx *lexicon) add(concept int32, text, lang string) error {
	var pats []pattern
	only := ""
	if strings.HasPrefix(text, "=") {
		text, only = text[1:], lang
	}
	for _, raw := range strings.Fields(text) {
		pre := strings.HasSuffix(raw, "*")
		suf := strings.HasPrefix(raw, "*")
		word := strings.Trim(raw, "*")
		if word == "" {
			return fmt.Errorf("term %q: empty word", text)
		}
		nt := Normalize(word)
		toks := tokenize(nt, nil, nil, false)
		if len(toks) == 0 {
			return fmt.Errorf("term %q: no word in %q", text, raw)
		}
		for k, tk := range toks {
			p := pattern{s: nt.Norm[tk.ns:tk.ne]}
			if hasDigit(p.s) {
				p.s = leetFold(p.s) // as the tokenizer reads the text
			}
			switch {
			case suf && pre && len(toks) == 1:
				p.kind = patContains
			case suf && k == 0:
				p.kind = patSuffix
			case pre && k == len(toks)-1:
				p.kind = patPrefix
			}
			pats = append(pats, p)
		}
	}
	if len(pats) == 0 {
		return fmt.Errorf("term %q: no word", text)
	}
	id := int32(len(lx.terms))
	var next0 byte
	if len(pats) > 1 && (pats[1].kind == patExact || pats[1].kind == patPrefix) && pats[1].s != "" && pats[1].s[0] < 0x80 {
		next0 = pats[1].s[0]
	}
	lx.terms = append(lx.terms, term{concept: concept, pats: pats, src: text, lang: only})
	lx.meta = append(lx.meta, termMeta{lang: lx.langID(only), next0: next0, n: uint8(min(len(pats), 255))})
	first := pats[0]
	switch first.kind {
	case patExact:
		lx.exact[first.s] = append(lx.exact[first.s], id)
	case patPrefix:
		lx.prefix[first.s] = append(lx.prefix[first.s], id)
		k := key2(first.s)
		if !slices.Contains(lx.preLens[k], len(first.s)) {
			lx.preLens[k] = append(lx.preLens[k], len(first.s))
		}
	case patSuffix:
		if len(first.s) < 2 {
			lx.addContains(id, lang)
		} else {
			k := first.s[len(first.s)-2:]
			lx.suffix[k] = append(lx.suffix[k], id)
		}
	default:
		lx.addContains(id, lang)
	}
	return nil
}

func (lx *lexicon) addContains(id int32, lang string) {
	lx.contains = append(lx.contains, id)
	if majorLang(lang) {
		lx.containsMajor = append(lx.containsMajor, id)
	}
}

// majorLang reports whether texts of lang are matched against contains
// terms of their own group only.
func majorLang(lang string) bool { return lang == "en" || lang == "fr" || lang == "ar" }

// hit is one concept found on tokens [t0, t1).
type hit struct {
	concept int32
	t0, t1  int32
	term    int32
}

func isArabicWord(w string) bool {
	return len(w) >= 2 && w[0] >= 0xD8 && w[0] <= 0xDB
}

// arabicVariants strips common proclitics (wa-, fa-, bi-, li-, ka-, al-)
// and suffixes (plural and object pronouns) so lexicon stems match.
func arabicVariants(w string, out []string) []string {
	out = append(out, w)
	base := w
	for _, p := range []string{"و", "ف"} {
		if strings.HasPrefix(base, p) && len(base)-len(p) >= 6 {
			base = base[len(p):]
			out = append(out, base)
			break
		}
	}
	for _, p := range []string{"بال", "لل", "ال", "كال", "ب", "ل", "ك"} {
		if strings.HasPrefix(base, p) && len(base)-len(p) >= 6 {
			base = base[len(p):]
			out = append(out, base)
			break
		}
	}
	for _, x := range []string{"ون", "وا", "ين", "هم", "ها", "ات", "نا"} {
		if strings.HasSuffix(base, x) && len(base)-len(x) >= 6 {
			out = append(out, base[:len(base)-len(x)])
			break
		}
	}
	return out
}

// scan finds every term on toks and appends hits in token order.
// langID numbers a "=word" term's language from 1 ("" is 0: any).
func (lx *lexicon) langID(lang string) uint8 {
	if lang == "" {
		return 0
	}
	if i := slices.Index(lx.langs, lang); i >= 0 {
		return uint8(i + 1)
	}
	lx.langs = append(lx.langs, lang)
	return uint8(len(lx.langs))
}

func (lx *lexicon) scan(toks []token, hits []hit, scratch []int32, lang string) []hit {
	var variants [6]string
	textLang := uint8(255) // a language no "=word" term has
	if i := slices.Index(lx.langs, lang); i >= 0 {
		textLang = uint8(i + 1)
	}
	contains := lx.contains
	if majorLang(lang) {
		contains = lx.containsMajor
	}
	for i := range toks {
		words := variants[:0]
		if isArabicWord(toks[i].s) {
			words = arabicVariants(toks[i].s, words)
		} else {
			words = append(words, toks[i].s)
			// Sango marks verbs and plurals with a- on borrowed words
			// too ("alivrer", "aenlever"): look the stem up as well.
			if lang == "sg" && len(toks[i].s) >= 5 && toks[i].s[0] == 'a' {
				words = append(words, toks[i].s[1:])
			}
		}
		cand := scratch[:0]
		for vi, w := range words {
			cand = append(cand, lx.exact[w]...)
			if len(w) >= 2 {
				for _, l := range lx.preLens[key2(w)] {
					if l <= len(w) {
						cand = append(cand, lx.prefix[w[:l]]...)
					}
				}
			}
			if vi == 0 && len(w) >= 2 {
				for _, id := range lx.suffix[w[len(w)-2:]] {
					if lx.terms[id].pats[0].match(w) {
						cand = append(cand, id)
					}
				}
				for _, id := range contains {
					if lx.terms[id].pats[0].match(w) {
						cand = append(cand, id)
					}
				}
			}
		}
		for _, id := range cand {
			mt := lx.meta[id]
			if mt.lang != 0 && mt.lang != textLang {
				continue
			}
			if i+int(mt.n) > len(toks) {
				continue
			}
			if mt.next0 != 0 && (toks[i+1].s == "" || toks[i+1].s[0] != mt.next0) {
				continue // an ASCII word can only match a token starting with it
			}
			tm := &lx.terms[id]
			n := len(tm.pats)
			ok := true
			for k := 1; k < n; k++ {
				w := toks[i+k].s
				if !tm.pats[k].match(w) {
					if !isArabicWord(w) || !matchArabic(tm.pats[k], w) {
						ok = false
						break
					}
				}
			}
			if ok && n > 1 && toks[i+n-1].sent != toks[i].sent {
				ok = false
			}
			if ok {
				hits = append(hits, hit{concept: tm.concept, t0: int32(i), t1: int32(i + n), term: id})
			}
		}
		scratch = cand
	}
	return hits
}

func matchArabic(p pattern, w string) bool {
	var buf [6]string
	for _, v := range arabicVariants(w, buf[:0])[1:] {
		if p.match(v) {
			return true
		}
	}
	return false
}

func key2(s string) uint16 {
	if len(s) < 2 {
		return uint16(s[0]) << 8
	}
	return uint16(s[0])<<8 | uint16(s[1])
}
