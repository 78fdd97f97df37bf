package storage

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Terms returns the distinct lower-cased words of texts that Similar matches
// on: runs of letters and digits of three runes or more, sorted.
func Terms(texts ...string) []string {
	seen := map[string]bool{}
	for _, text := range texts {
		for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		}) {
			if utf8.RuneCountInString(w) >= 3 {
				seen[w] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for w := range seen {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}
