package match_test

import (
	"context"
	"testing"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/match"
)

func benchDocs() ([]classifiers.Doc, int) {
	var docs []classifiers.Doc
	n := 0
	for _, tc := range narrativeCases {
		docs = append(docs, classifiers.Doc{Text: tc.text, Lang: tc.lang})
		n += len(tc.text)
	}
	neg := "The Security Council renewed the mission's mandate for another year on Thursday, keeping its troop ceiling and its support to the electoral process, while several members questioned the cost of the operation and asked for a clear exit strategy."
	for range 30 {
		docs = append(docs, classifiers.Doc{Text: neg, Lang: "en"})
		n += len(neg)
	}
	return docs, n
}

func BenchmarkClassify(b *testing.B) {
	m := newMatcher(b)
	docs, n := benchDocs()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, d := range docs {
			if _, err := m.Classify(ctx, d); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/(1<<20), "MB/s")
}

func BenchmarkClassifyParallel(b *testing.B) {
	m := newMatcher(b)
	docs, n := benchDocs()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			for _, d := range docs {
				if _, err := m.Classify(ctx, d); err != nil {
					b.Error(err)
					return
				}
			}
		}
	})
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/(1<<20), "MB/s")
}

// BenchmarkEntities measures the optional entity extraction on one flagged
// English text, to compare with BenchmarkClassify.
func BenchmarkEntities(b *testing.B) {
	m, err := match.New(catalog.Default(), match.WithEntities())
	if err != nil {
		b.Fatal(err)
	}
	text := "Residents of Bambari told Radio Ndeke Luka that MINUSCA soldiers sold rifles to the UPC near Ippy, a claim Valentine Rugwabiza's mission denied in Bangui."
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := m.Classify(ctx, classifiers.Doc{Text: text, Lang: "en"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(text))*float64(b.N)/b.Elapsed().Seconds()/(1<<20), "MB/s")
}
