package storage

import (
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Terms returns the distinct lower-cased words of texts that Similar matches
// on: runs of letters and digits of three runes or more, sorted.
func Terms(texts ...string) []string {
	var out []string
	for _, text := range texts {
		for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		}) {
			if len(w) >= 3 && utf8.RuneCountInString(w) >= 3 {
				out = append(out, w)
			}
		}
	}
	if out == nil {
		return []string{}
	}
	sort.Strings(out)
	return slices.Compact(out)
}
