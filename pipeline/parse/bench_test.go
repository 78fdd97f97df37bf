package parse_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/parse"
)

func reportMBs(b *testing.B, n int) {
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
}

func BenchmarkParseFeed(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>bench</title>`)
	for i := range 500 {
		fmt.Fprintf(&sb, `<item><title>Article %d sur la MINUSCA</title><link>https://ex.org/%d</link><guid>g%d</guid><pubDate>Thu, 12 Mar 2026 07:45:00 +0000</pubDate><description><![CDATA[<p>Des messages affirment que des casques bleus auraient livré des armes.</p><p>La mission a démenti ces allégations &laquo; sans fondement &raquo;.</p><script>x()</script>]]></description></item>`, i, i, i)
	}
	sb.WriteString(`</channel></rss>`)
	doc := []byte(sb.String())
	src := config.Source{Name: "bench"}
	now := time.Now()
	for b.Loop() {
		if _, err := parse.ParseFeed(doc, "", src, now); err != nil {
			b.Fatal(err)
		}
	}
	reportMBs(b, len(doc))
}

func BenchmarkParseVTT(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("WEBVTT\n\n")
	for i := range 5000 {
		fmt.Fprintf(&sb, "%02d:%02d:%02d.000 --> %02d:%02d:%02d.500\n<v Présentatrice>Une rumeur circule sur les casques bleus près de Bambari, phrase %d.\n\n",
			i/3600, i/60%60, i%60, i/3600, i/60%60, i%60, i)
	}
	doc := []byte(sb.String())
	for b.Loop() {
		if _, err := parse.ParseVTT(doc); err != nil {
			b.Fatal(err)
		}
	}
	reportMBs(b, len(doc))
}

func BenchmarkHTMLToText(b *testing.B) {
	doc := strings.Repeat(`<div class="article"><h2>Titre</h2><p>Des messages &laquo;&nbsp;sans fondement&nbsp;&raquo; circulent <a href="https://ex.org/">ici</a>.<br>Suite.</p><script>track()</script></div>`, 500)
	for b.Loop() {
		parse.HTMLToText(doc)
	}
	reportMBs(b, len(doc))
}
