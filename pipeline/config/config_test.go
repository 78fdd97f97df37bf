package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Setenv("VEILLE_NATS", "")
	cfg, err := Parse("t.yaml", []byte("nats: nats://a:4222\ntext_retention: 90d\nsources:\n  - {name: a, url: http://x/feed, kind: rss, interval: 15m}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NATS != "nats://a:4222" || time.Duration(cfg.TextRetention) != 90*24*time.Hour || time.Duration(cfg.Sources[0].Interval) != 15*time.Minute {
		t.Fatalf("parsed %+v", cfg)
	}
	if cfg.ClickHouse != "embedded" || cfg.Fetch.MaxBody != 15<<20 {
		t.Fatalf("defaults lost: %+v", cfg)
	}
}

func TestParseErrorsNameTheProblem(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"nast: x\n", "field nast not found"},
		{"text_retention: soon\n", `bad duration "soon"`},
		{"replicas: 9\n", "replicas 9"},
		{"sources:\n  - {name: a, url: u, kind: tv}\n", `kind "tv"`},
		{"sources:\n  - {name: a, url: u}\n  - {name: b, url: u}\n", `"a" and "b" have the same url`},
		{"sources:\n  - {url: u}\n", "sources[0]: no name"},
	} {
		_, err := Parse("veille.yaml", []byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", tc.doc, err, tc.want)
		}
	}
}

func TestEnvOverrides(t *testing.T) {
	t.Setenv("VEILLE_CLICKHOUSE", "clickhouse://ch:9000/veille")
	t.Setenv("VEILLE_REPLICAS", "3")
	cfg, err := Parse("t.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClickHouse != "clickhouse://ch:9000/veille" || cfg.Replicas != 3 {
		t.Fatalf("env not applied: %+v", cfg)
	}
}

func TestDefaultDataDirOutsideACheckout(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("XDG_DATA_HOME", "/srv/share")
	if got := DefaultDataDir(); got != "/srv/share/veille" {
		t.Fatalf("data dir outside a checkout = %q, want $XDG_DATA_HOME/veille", got)
	}
	if err := os.Mkdir("data", 0o755); err != nil {
		t.Fatal(err)
	}
	if got := DefaultDataDir(); got != "data" {
		t.Fatalf("data dir beside an existing data folder = %q, want data", got)
	}
}

// TestEveryKeyIsDocumented walks the configuration's yaml keys and looks
// for each in docs/: a key added to the code and not to the operators'
// reference fails here.
func TestEveryKeyIsDocumented(t *testing.T) {
	var docs strings.Builder
	files, _ := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs.Write(b)
	}
	if docs.Len() == 0 {
		t.Fatal("no docs/*.md beside the code")
	}
	var walk func(reflect.Type, string)
	walk = func(tp reflect.Type, prefix string) {
		for i := 0; i < tp.NumField(); i++ {
			f := tp.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			key := prefix + tag
			switch {
			case f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(Duration(0)):
				walk(f.Type, key+".")
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				if !strings.Contains(docs.String(), "`"+tag) {
					t.Errorf("key %s is documented nowhere in docs/", key)
				}
			default:
				if !strings.Contains(docs.String(), "`"+key+"`") && !strings.Contains(docs.String(), "`"+key+" ") && !strings.Contains(docs.String(), "`"+tag+"`") {
					t.Errorf("key %s is documented nowhere in docs/", key)
				}
			}
		}
	}
	walk(reflect.TypeOf(Config{}), "")
}
