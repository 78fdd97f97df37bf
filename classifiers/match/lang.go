package match

import "github.com/veille-project/veille/classifiers/catalog"

// lang is the language knowledge of the catalog data (language.yaml):
// stopword profiles, negations, answer and verdict words, caller roles,
// SMS spellings and the missions' names.
var lang = catalog.DefaultLanguage()

// stopwords are the profiles language identification compares.
var stopwords = lang.Stopwords

var stopIndex = func() map[string][]string {
	m := map[string][]string{}
	for lang, ws := range stopwords {
		for _, w := range ws {
			m[w] = append(m[w], lang)
		}
	}
	return m
}()

// Languages Veille identifies.
var Languages = []string{"en", "fr", "ar", "sw", "ln", "sg"}

// Identify returns the language of text: Arabic by script, the others by
// stopword profile. hint (the declared language) wins when the evidence
// does not clearly point elsewhere.
func Identify(text, hint string) string {
	t := Normalize(text)
	return identify(tokenize(t, nil, nil, false), t.Norm, hint)
}

func identify(toks []token, normText string, hint string) string {
	arabic, latin := 0, 0
	score := map[string]float64{}
	for _, tk := range toks {
		if isArabicWord(tk.s) {
			arabic++
			continue
		}
		latin++
		for _, l := range stopIndex[tk.s] {
			score[l] += 1 / float64(len(stopIndex[tk.s]))
		}
	}
	if arabic > 0 && arabic >= latin {
		return "ar"
	}
	best, bestScore := "", 0.0
	for _, l := range Languages {
		if score[l] > bestScore {
			best, bestScore = l, score[l]
		}
	}
	if hint != "" && known(hint) {
		// Code-switching is common: keep the declared language unless
		// another one clearly dominates.
		if best == "" || score[hint] >= 0.5*bestScore || hint == "ar" && arabic > 0 {
			return hint
		}
	}
	if best == "" {
		if hint != "" {
			return hint
		}
		return "und"
	}
	return best
}

func known(l string) bool {
	for _, x := range Languages {
		if x == l {
			return true
		}
	}
	return false
}
