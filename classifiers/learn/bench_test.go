package learn

import (
	"context"
	"testing"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/classifiers/train"
)

func benchDocs(b *testing.B) []classifiers.Doc {
	items, err := train.Load()
	if err != nil {
		b.Fatal(err)
	}
	var docs []classifiers.Doc
	for _, it := range items {
		docs = append(docs, classifiers.Doc{ID: it.ID, Text: it.Text, Lang: it.Lang})
	}
	return docs
}

func benchClassifier(b *testing.B) *Classifier {
	m, err := match.New(catalog.Default())
	if err != nil {
		b.Fatal(err)
	}
	model, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	return New(m, model)
}

// BenchmarkClassify measures the whole classifier (rules and model) on the
// project's training texts.
func BenchmarkClassify(b *testing.B) {
	c := benchClassifier(b)
	docs := benchDocs(b)
	ctx := context.Background()
	var n int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := docs[i%len(docs)]
		if _, err := c.Classify(ctx, d); err != nil {
			b.Fatal(err)
		}
		n += int64(len(d.Text))
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds()/1e6, "MB/s")
}
