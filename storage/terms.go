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
		if isASCII(text) {
			out = appendASCIITerms(out, text)
			continue
		}
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

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// appendASCIITerms is Terms for one ASCII text, where letters and digits
// are [A-Za-z0-9]: the words are cut from one lower-cased copy of text, one
// allocation rather than one per word.
func appendASCIITerms(out []string, text string) []string {
	lower := text
	for i := 0; i < len(text); i++ {
		if c := text[i]; 'A' <= c && c <= 'Z' {
			lower = strings.ToLower(text)
			break
		}
	}
	start := -1
	for i := 0; i <= len(lower); i++ {
		if i < len(lower) {
			if c := lower[i]; ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') {
				if start < 0 {
					start = i
				}
				continue
			}
		}
		if start >= 0 && i-start >= 3 {
			out = append(out, lower[start:i])
		}
		start = -1
	}
	return out
}
