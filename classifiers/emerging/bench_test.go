package emerging_test

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/classifiers/emerging"
)

// syntheticDocs builds n texts about the missions from a vocabulary large
// enough that unrelated texts rarely share three salient words, plus the
// test stream's rumour repeated with variations.
func syntheticDocs(n int) []emerging.Doc {
	rng := rand.New(rand.NewSource(1))
	vocab := make([]string, 4000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("mot%04dx", i)
	}
	end := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	docs := make([]emerging.Doc, 0, n)
	for i := 0; i < n; i++ {
		words := []string{"MONUSCO"}
		for k := 0; k < 25; k++ {
			// Zipf-like: a few words are common, most are rare.
			words = append(words, vocab[int(float64(len(vocab))*rng.Float64()*rng.Float64())])
		}
		docs = append(docs, emerging.Doc{ID: fmt.Sprintf("d%05d", i), Text: strings.Join(words, " "), Lang: "fr",
			Source: fmt.Sprintf("s%d", i%40), Published: end.Add(-time.Duration(rng.Intn(48*60)) * time.Minute)})
	}
	return docs
}

func BenchmarkFind(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		docs := syntheticDocs(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				emerging.Find(docs, emerging.Options{})
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}
