// Package mission owns the missions Veille knows and the names people write
// for them: it says which mission a text speaks of first.
package mission

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/veille-project/veille/classifiers/catalog"
)

// missionNames maps the names people write for each mission (lower case,
// from the catalog's language.yaml) to its acronym. A source may carry no mission hint (a regional digest):
// the classify stage then names the mission the text speaks of first.
var missionNames = func() map[string]string {
	m := map[string]string{}
	for _, ms := range catalog.DefaultLanguage().Missions {
		for _, n := range ms.Names {
			m[n] = ms.Acronym
		}
	}
	return m
}()

// Of returns the mission named first in text, or "" (its acronym:
// MINUSMA, MINUSCA, MONUSCO, UNMISS, UNIFIL, UNISFA).
func Of(text string) string {
	lower := strings.ToLower(text)
	sameOffsets := len(lower) == len(text)
	best, at := "", len(lower)+1
	for name, m := range missionNames {
		for off := 0; off < at && off < len(lower); {
			i := strings.Index(lower[off:], name)
			if i < 0 {
				break
			}
			i += off
			j := i + len(name)
			// "#MINUSMAdehors": an acronym in capitals may run into the
			// next word; otherwise the name must stand alone ("unmissable").
			caps := sameOffsets && text[i:j] == strings.ToUpper(name)
			if i < at && !letterBefore(lower, i) && (caps || !letterAfter(lower, j)) {
				best, at = m, i
				break
			}
			off = j
		}
	}
	return best
}

func letterBefore(s string, i int) bool {
	if i == 0 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return unicode.IsLetter(r)
}

func letterAfter(s string, j int) bool {
	if j >= len(s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[j:])
	return unicode.IsLetter(r)
}

// All lists the missions Veille knows, by acronym.
var All = func() []string {
	var out []string
	for _, ms := range catalog.DefaultLanguage().Missions {
		out = append(out, ms.Acronym)
	}
	return out
}()
