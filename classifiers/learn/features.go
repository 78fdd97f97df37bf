package learn

import (
	"math"
	"sort"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/match"
)

// dimBits sets the hashed feature space: 2^18 buckets.
const (
	dimBits = 18
	dimMask = 1<<dimBits - 1
)

// Feature kinds, mixed into each hash so that a word and a character
// n-gram with the same bytes land in different buckets.
const (
	kWord byte = iota + 1
	kBigram
	kChar
	kConcept
	kConceptPair
	kRule
	kRuleStance
	kLang
	kNarrStance // stance model only: the narrative the stance is asked for
	kRuleStanceFor
)

const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

func hashBytes(kind byte, parts ...string) uint32 {
	h := uint32(fnvOffset)
	h ^= uint32(kind)
	h *= fnvPrime
	for i, p := range parts {
		if i > 0 {
			h ^= 0xff
			h *= fnvPrime
		}
		for j := 0; j < len(p); j++ {
			h ^= uint32(p[j])
			h *= fnvPrime
		}
	}
	return h & dimMask
}

// sink receives every feature occurrence of a text: its hash and the
// sentence it comes from (-1 for whole-text features such as rules).
type sink func(h uint32, sent int, meta bool)

// extract emits the features of one analysed text: word unigrams and
// bigrams, character 3- to maxGram-grams of each word, the lexicon concepts
// per text and their pairs within a sentence, the rules that fired with
// their stance, and the language.
func extract(an *match.Analysis, rules classifiers.Result, maxGram int, emit sink) {
	var bounds []int
	for si, s := range an.Sentences {
		bounds = textFeatures(s, si, maxGram, bounds, emit)
	}
	extractMeta(an, rules, emit)
}

// textFeatures emits the word, bigram and character features of one
// sentence; bounds is scratch space, returned for reuse.
func textFeatures(s match.Sentence, si, maxGram int, bounds []int, emit sink) []int {
	prev := ""
	for _, w := range s.Words {
		if prev != "" {
			emit(hashBytes(kBigram, prev, w), si, false)
		}
		prev = w
		bounds = wordGrams(w, maxGram, bounds, func(h uint32) { emit(h, si, false) })
	}
	return bounds
}

// wordGrams emits the features of one word alone: the word and its
// character 3- to maxGram-grams (of "<word>"). They depend on the word
// only, so scoring caches their sum per word.
func wordGrams(w string, maxGram int, bounds []int, emit func(uint32)) []int {
	emit(hashBytes(kWord, w))
	if len(w) > 40 {
		return bounds // URLs and junk tokens add nothing but cost
	}
	// Rune boundaries of "<"+w+">", in bytes of that padded word.
	bounds = append(bounds[:0], 0)
	for i := range w {
		bounds = append(bounds, i+1)
	}
	bounds = append(bounds, len(w)+1, len(w)+2)
	nr := len(bounds) - 1
	for st := 0; st+3 <= nr; st++ {
		// One pass yields the 3- to maxGram-grams starting here.
		h := uint32(fnvOffset)
		h ^= uint32(kChar)
		h *= fnvPrime
		for p := bounds[st]; p < bounds[min(st+maxGram, nr)]; p++ {
			var c byte
			switch {
			case p == 0:
				c = '<'
			case p == len(w)+1:
				c = '>'
			default:
				c = w[p-1]
			}
			h ^= uint32(c)
			h *= fnvPrime
			if e := p + 1; e == bounds[st+3] || (maxGram >= 4 && st+4 <= nr && e == bounds[st+4]) || (maxGram >= 5 && st+5 <= nr && e == bounds[st+5]) {
				emit(h & dimMask)
			}
		}
	}
	return bounds
}

// extractMeta emits the concept, rule and language features.
func extractMeta(an *match.Analysis, rules classifiers.Result, emit sink) {
	for si, cs := range an.Concepts {
		for i, c := range cs {
			emit(hashBytes(kConcept, c), si, true)
			for _, d := range cs[i+1:] {
				a, b := c, d
				if b < a {
					a, b = b, a
				}
				emit(hashBytes(kConceptPair, a, b), si, true)
			}
		}
	}
	for _, f := range rules.Flags {
		emit(hashBytes(kRule, f.Narrative), -1, true)
		emit(hashBytes(kRuleStance, f.Narrative, f.Stance), -1, true)
	}
	if rules.Lang != "" {
		emit(hashBytes(kLang, rules.Lang), -1, true)
	}
}

// vector is a sparse feature vector: unique hashes, each with its value.
type vector struct {
	idx []uint32
	val []float32
}

// docVector turns a text's features into a vector. Text features and
// meta features (concepts, rules, language) are two blocks; a feature's
// value is how often it occurs divided by the square root of its block's
// occurrences, so a long text does not outvote a short one.
func docVector(an *match.Analysis, rules classifiers.Result, maxGram int) vector {
	text, meta := map[uint32]float32{}, map[uint32]float32{}
	var nt, nm int
	extract(an, rules, maxGram, func(h uint32, _ int, m bool) {
		if m {
			nm++
			meta[h]++
		} else {
			nt++
			text[h]++
		}
	})
	v := vector{idx: make([]uint32, 0, len(text)+len(meta)), val: make([]float32, 0, len(text)+len(meta))}
	add := func(hs map[uint32]float32, n int) {
		x := float32(norm(n))
		for h, c := range hs {
			v.idx = append(v.idx, h)
			v.val = append(v.val, c*x)
		}
	}
	add(text, nt)
	add(meta, nm)
	sort.Stable(byIdx(v))
	return v
}

// norm is the scale of a block with this many feature occurrences.
func norm(occurrences int) float64 {
	if occurrences == 0 {
		return 0
	}
	return 1 / math.Sqrt(float64(occurrences))
}

type byIdx vector

func (b byIdx) Len() int           { return len(b.idx) }
func (b byIdx) Less(i, j int) bool { return b.idx[i] < b.idx[j] }
func (b byIdx) Swap(i, j int) {
	b.idx[i], b.idx[j] = b.idx[j], b.idx[i]
	b.val[i], b.val[j] = b.val[j], b.val[i]
}
