package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/match"
)

func TestClassifyStreamKeepsOrderAndReportsBadLines(t *testing.T) {
	m, err := match.New(catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	var in strings.Builder
	for i := range 200 {
		switch i % 5 {
		case 0:
			fmt.Fprintf(&in, `{"id":"n%d","text":"MINUSCA soldiers sold rifles to the UPC rebels near Bambari.","lang":"en"}`+"\n", i)
		case 1:
			in.WriteString("not json\n")
		case 2:
			fmt.Fprintf(&in, `{"id":"n%d"}`+"\n", i)
		case 3:
			in.WriteString("{\"id\":\"bad\",\"text\":\"\xff\"}\n")
		default:
			fmt.Fprintf(&in, `{"id":"n%d","text":"Rice prices rose in Gao this week."}`+"\n", i)
		}
	}
	in.WriteString(`{"id":"big","text":"` + strings.Repeat("a", maxClassifyLine) + `"}` + "\n")
	var out bytes.Buffer
	if err := classifyStream(context.Background(), m, strings.NewReader(in.String()), &out, 4); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 201 {
		t.Fatalf("got %d output lines for 201 input lines", len(lines))
	}
	for i, l := range lines {
		var o struct {
			ID    any               `json:"id"`
			Error string            `json:"error"`
			Flags []json.RawMessage `json:"flags"`
		}
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, l)
		}
		wantErr := i == 200 || i%5 == 1 || i%5 == 2 || i%5 == 3
		if (o.Error != "") != wantErr {
			t.Errorf("line %d: error %q, want error: %v", i+1, o.Error, wantErr)
		}
		if wantErr && !strings.HasPrefix(o.Error, fmt.Sprintf("line %d:", i+1)) {
			t.Errorf("line %d: error %q does not name the line", i+1, o.Error)
		}
		if i < 200 && i%5 == 0 {
			if o.ID != fmt.Sprintf("n%d", i) || len(o.Flags) != 1 {
				t.Errorf("line %d: id %v, %d flags; want n%d with one flag", i+1, o.ID, len(o.Flags), i)
			}
		}
		if i%5 == 4 && (o.Flags == nil || len(o.Flags) != 0) {
			t.Errorf("line %d: want an empty flags list, got %s", i+1, l)
		}
	}
}
