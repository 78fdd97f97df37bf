package match

import (
	"unicode"
	"unicode/utf8"
)

// token is one word of a normalised text.
type token struct {
	s      string // normalised form used for lookups (may be an alias)
	ns, ne int32  // byte range in Text.Norm
	sent   int32  // sentence index
	clause int32  // clause index (clauses never cross sentences)
}

// missionPrefixes are split off glued words ("monuscodegage" → "monusco degage").
var missionPrefixes = lang.GluedPrefixes

// aliases rewrite SMS spellings and abbreviations to their plain form.
var aliases = lang.SMSAliases

var leet = map[byte]byte{'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b'}

func isSentenceEnd(r rune) bool {
	switch r {
	case '.', '!', '?', '؟', '…', '\n', '\r', '।':
		return true
	}
	return false
}

func isClauseEnd(r rune) bool {
	switch r {
	case ',', ';', ':', '—', '–', '(', ')', '"', '|', '/', '•', '،', '؛', '[', ']', '=', '*':
		return true
	}
	return unicode.Is(unicode.So, r) // emoji end a clause
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// tokenize splits t.Norm into words with sentence and clause indexes.
// breaks, when set, holds Norm offsets that start a new sentence (speaker
// changes in a transcript); with softNL a newline is plain space, so a
// sentence may run over two cues of one speaker.
func tokenize(t *Text, toks []token, breaks []int, softNL bool) []token {
	s := t.Norm
	sent, clause := int32(0), int32(0)
	sentOpen, clauseOpen := false, false
	bi := 0
	newSentence := func() {
		if sentOpen {
			sent++
			clause++
			sentOpen, clauseOpen = false, false
		}
	}
	for i := 0; i < len(s); {
		for bi < len(breaks) && breaks[bi] <= i {
			newSentence()
			bi++
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			switch {
			case softNL && (r == '\n' || r == '\r'):
			case isSentenceEnd(r):
				// A dot between digits or after a single letter is not a sentence end.
				if r == '.' && i+1 < len(s) && s[i+1] != ' ' && s[i+1] != '\n' && s[i+1] != '"' && s[i+1] != '.' {
					break
				}
				newSentence()
			case isClauseEnd(r):
				if clauseOpen {
					clause++
					clauseOpen = false
				}
			case r == '-' && i > 0 && s[i-1] == ' ' && i+1 < len(s) && s[i+1] == ' ':
				if clauseOpen {
					clause++
					clauseOpen = false
				}
			}
			i += w
			continue
		}
		j := i + w
		for j < len(s) {
			r2, w2 := utf8.DecodeRuneInString(s[j:])
			if !isWordRune(r2) {
				break
			}
			j += w2
		}
		word := s[i:j]
		sentOpen, clauseOpen = true, true
		if p, rest := splitMission(word); rest != "" {
			toks = append(toks, token{s: p, ns: int32(i), ne: int32(i + len(p)), sent: sent, clause: clause})
			toks = append(toks, token{s: aliasOf(t, rest, i+len(p), j), ns: int32(i + len(p)), ne: int32(j), sent: sent, clause: clause})
		} else {
			toks = append(toks, token{s: aliasOf(t, word, i, j), ns: int32(i), ne: int32(j), sent: sent, clause: clause})
		}
		i = j
	}
	return toks
}

func splitMission(w string) (string, string) {
	if len(w) < 8 || w[0] < 'a' || w[0] > 'z' {
		return w, ""
	}
	for _, p := range missionPrefixes {
		if len(w) >= len(p)+2 && w[:len(p)] == p {
			return p, w[len(p):]
		}
	}
	return w, ""
}

func aliasOf(t *Text, w string, ns, ne int) string {
	if len(w) > 5 && !hasDigit(w) {
		return w
	}
	if w == "un" {
		os, oe := t.OrigSpan(ns, ne)
		if t.Orig[os:oe] == "UN" {
			return "onu"
		}
		return w
	}
	if a, ok := aliases[w]; ok {
		return a
	}
	return leetFold(w)
}

// leetFold rewrites leet spellings, digits between letters ("k1ll",
// "c0ltan", Arabizi "mousala7in"); lexicon terms are folded the same way.
func leetFold(w string) string {
	var b []byte
	for k := 1; k+1 < len(w); k++ {
		c := w[k]
		if rep, ok := leet[c]; ok && isASCIILetter(w[k-1]) && (isASCIILetter(w[k+1]) || (k+2 < len(w) && leet[w[k+1]] != 0 && isASCIILetter(w[k+2]))) {
			if b == nil {
				b = []byte(w)
			}
			b[k] = rep
		}
	}
	if b != nil {
		return string(b)
	}
	return w
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' }

func hasDigit(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] >= '0' && w[i] <= '9' {
			return true
		}
	}
	return false
}
