package exports_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/veille-project/veille/pipeline/parse/exports"
)

func reportMBs(b *testing.B, n int) {
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
}

func benchParse(b *testing.B, name string, doc []byte, opts exports.Options) {
	b.Helper()
	for b.Loop() {
		msgs, _, err := exports.Parse(context.Background(), name, bytes.NewReader(doc), opts)
		if err != nil || len(msgs) == 0 {
			b.Fatalf("Parse: %d messages, %v", len(msgs), err)
		}
	}
	reportMBs(b, len(doc))
}

func BenchmarkParseWhatsApp(b *testing.B) {
	var sb strings.Builder
	for i := range 20_000 {
		fmt.Fprintf(&sb, "[%d/%d/2024 %02d:%02d:%02d] Awa Doumbia: Une rumeur circule sur les casques bleus près de Bambari, message %d.\nVoir https://veille.example.org/fiches/%d\n",
			i%28+1, i%12+1, i%24, i%60, i%60, i, i)
	}
	benchParse(b, "_chat.txt", []byte(sb.String()), exports.Options{})
}

func BenchmarkParseTelegram(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"name": "Info Centrafrique Direct", "type": "public_channel", "id": 1587346201, "messages": [`)
	for i := range 10_000 {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"id": %d, "type": "message", "date": "2024-05-01T10:11:12", "date_unixtime": "%d", "from": "Info Centrafrique Direct", "from_id": "channel1587346201", "text": ["URGENT ", {"type": "bold", "text": "Bambari"}, " : des habitants affirment que les casques bleus auraient quitté la ville. ", {"type": "text_link", "text": "Démenti", "href": "https://minusca.example.org/c/%d"}]}`,
			i+1, 1714558272+i*60, i)
	}
	sb.WriteString("]}")
	benchParse(b, "result.json", []byte(sb.String()), exports.Options{})
}

func BenchmarkParseCrowdTangle(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("Page Name,User Name,Facebook Id,Post Created,URL,Message,Link,Post Views\n")
	for i := range 20_000 {
		fmt.Fprintf(&sb, "Radio Ndeke Luka,radiondekeluka,112233445566778,2021-03-04 10:15:00 EST,https://www.facebook.com/radiondekeluka/posts/%d,\"La MINUSCA dément les rumeurs, post %d.\nLe communiqué : https://minusca.example.org/c/%d\",https://www.radiondekeluka.example/a/%d,%d\n",
			i, i, i, i, i)
	}
	benchParse(b, "ct.csv", []byte(sb.String()), exports.Options{})
}
