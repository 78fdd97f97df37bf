package match

// Stopword profiles for the languages Veille reads. Only words frequent in
// one language and rare in the others are listed.
var stopwords = map[string][]string{
	"en": {"the", "and", "of", "to", "is", "are", "in", "that", "they", "was", "for", "with", "on", "by", "it", "this", "have", "from", "said", "their", "were", "not", "what", "who", "our", "we", "has", "at", "you", "will", "people", "after", "been"},
	"fr": {"le", "la", "les", "des", "de", "du", "et", "est", "une", "que", "qui", "dans", "pour", "sur", "pas", "au", "aux", "ont", "sont", "avec", "ce", "il", "ils", "elle", "nous", "leur", "leurs", "selon", "mais", "c", "d", "l", "qu", "se", "ne", "plus", "par"},
	"sw": {"wa", "kwa", "ni", "za", "katika", "kuwa", "hiyo", "huo", "kwamba", "wao", "sana", "bado", "tena", "watu", "hii", "hawa", "yetu", "zao", "lakini", "pia", "baada", "wakati", "kama", "hakuna", "mjini", "kila", "iko", "huko", "wanasema", "kwenye", "imesema", "ili", "sasa", "zetu", "wetu", "yao", "huu", "hapa", "kabla", "karibu"},
	"ln": {"ezali", "bazali", "mpo", "te", "oyo", "biso", "bango", "ba", "lokola", "kaka", "mpe", "kasi", "elobi", "bato", "moto", "eloko", "lelo", "bandeko", "tokoki", "bakende", "boye", "nyonso", "ndenge", "wapi", "sikoyo", "mingi", "ete", "epai", "nde", "ezalaki", "bazalaki", "likambo"},
	// Arabic written in Latin letters (Arabizi), for the declared "ar" to
	// hold against French and English function words.
	"ar": {"el", "3am", "wallah", "wallahi", "enno", "mesh", "mish", "hayda", "hene", "kel", "shi", "ma3", "la2", "ya3ni", "3al", "lal", "bel", "fi", "ana", "illa", "hiya", "dol", "nas"},
	"sg": {"ti", "ayeke", "so", "azo", "ala", "pepe", "sara", "tene", "mbi", "lo", "ni", "yeke", "nga", "ngbanga", "kode", "mbeni", "aga", "ndo", "tongana", "lege", "ye", "awe", "ngu"},
}

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
