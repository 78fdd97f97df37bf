package emerging

import (
	"encoding/binary"
	"hash/fnv"
	"math"
)

// MinHash signatures estimate the Jaccard similarity of two sets of word
// shingles: the share of positions where two signatures agree.
const (
	sigLen = 64
	bands  = 16
	rows   = sigLen / bands
)

// mixers are the per-position seeds; fixed so that signatures are stable
// across runs and processes.
var mixers = func() [sigLen]uint64 {
	var m [sigLen]uint64
	x := uint64(0x9E3779B97F4A7C15)
	for i := range m {
		x = splitmix(x)
		m[i] = x | 1
	}
	return m
}()

func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// Signature is a MinHash signature.
type Signature [sigLen]uint64

// Shingles returns the hashed k-word shingles of words (the whole sequence
// as one shingle when it is shorter than k).
func Shingles(words []string, k int) []uint64 {
	if len(words) == 0 {
		return nil
	}
	if len(words) < k {
		k = len(words)
	}
	seen := map[uint64]bool{}
	out := make([]uint64, 0, len(words)-k+1)
	for i := 0; i+k <= len(words); i++ {
		h := fnv.New64a()
		for _, w := range words[i : i+k] {
			h.Write([]byte(w))
			h.Write([]byte{0})
		}
		v := h.Sum64()
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// MinHash returns the signature of a set of hashed shingles. An empty set
// has the all-ones signature, similar to nothing but another empty set.
func MinHash(shingles []uint64) Signature {
	var s Signature
	for i := range s {
		s[i] = math.MaxUint64
	}
	for _, x := range shingles {
		for i, m := range mixers {
			if v := splitmix(x ^ m); v < s[i] {
				s[i] = v
			}
		}
	}
	return s
}

// Similarity estimates the Jaccard similarity of the sets behind a and b.
func (a *Signature) Similarity(b *Signature) float64 {
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	return float64(same) / sigLen
}

// bandKeys returns one bucket key per band: two signatures that agree on a
// whole band share its key (locality-sensitive hashing), so only those pairs
// need comparing.
func (a *Signature) bandKeys() [bands]uint64 {
	var out [bands]uint64
	var buf [8 * rows]byte
	for b := 0; b < bands; b++ {
		for r := 0; r < rows; r++ {
			binary.LittleEndian.PutUint64(buf[8*r:], a[b*rows+r])
		}
		h := fnv.New64a()
		h.Write(buf[:])
		out[b] = h.Sum64() ^ uint64(b)<<56
	}
	return out
}

// nearDuplicates returns the pairs (i < j) of signatures whose estimated
// similarity is at least threshold, found through band buckets.
func nearDuplicates(sigs []Signature, threshold float64) [][2]int {
	buckets := map[uint64][]int{}
	for i := range sigs {
		for _, k := range sigs[i].bandKeys() {
			buckets[k] = append(buckets[k], i)
		}
	}
	seen := map[[2]int]bool{}
	var out [][2]int
	for _, members := range buckets {
		for x := 0; x < len(members); x++ {
			for y := x + 1; y < len(members); y++ {
				p := [2]int{members[x], members[y]}
				if p[0] > p[1] {
					p[0], p[1] = p[1], p[0]
				}
				if seen[p] {
					continue
				}
				seen[p] = true
				if sigs[p[0]].Similarity(&sigs[p[1]]) >= threshold {
					out = append(out, p)
				}
			}
		}
	}
	return out
}
