package telegram_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/veille-project/veille/pipeline/parse/telegram"
)

func reportMBs(b *testing.B, n int) {
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
}

func BenchmarkParsePage(b *testing.B) {
	doc, err := os.ReadFile(filepath.Join("testdata", "channel_newest.html"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		p, err := telegram.ParsePage(bytes.NewReader(doc), "BanguiVeilleInfo")
		if err != nil || len(p.Posts) == 0 {
			b.Fatal(p, err)
		}
	}
	reportMBs(b, len(doc))
}
