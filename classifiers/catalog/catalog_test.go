package catalog_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/internal/testenv"
)

func TestDefaultHoldsTheTaxonomy(t *testing.T) {
	shared := testenv.Shared(t)
	data, err := os.ReadFile(filepath.Join(shared, "corpus", "taxonomy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tax struct {
		Narratives []struct {
			ID         string `yaml:"id"`
			Priorities []int  `yaml:"priorities"`
		} `yaml:"narratives"`
	}
	if err := yaml.Unmarshal(data, &tax); err != nil {
		t.Fatal(err)
	}
	c := catalog.Default()
	if got, want := len(c.IDs()), len(tax.Narratives); got != want {
		t.Errorf("catalog has %d narratives, taxonomy %d", got, want)
	}
	for _, n := range tax.Narratives {
		e, ok := c.Get(n.ID)
		if !ok {
			t.Errorf("taxonomy id %s missing from the catalog", n.ID)
			continue
		}
		if len(e.Priorities) == 0 || e.Priorities[0] != n.Priorities[0] {
			t.Errorf("%s: priorities %v, taxonomy %v", n.ID, e.Priorities, n.Priorities)
		}
	}
}

func TestLookupsFallBack(t *testing.T) {
	c := catalog.Default()
	id := "weapons-to-armed-groups"
	for _, tc := range []struct{ lang, wantPrefix string }{
		{"fr", "Les Casques bleus"},
		{"en", "Peacekeepers"},
		{"xx", "Peacekeepers"}, // unknown language: English
	} {
		if got := c.Title(id, tc.lang); !strings.HasPrefix(got, tc.wantPrefix) {
			t.Errorf("Title(%s, %s) = %q, want prefix %q", id, tc.lang, got, tc.wantPrefix)
		}
	}
	if got := c.Responses(id, "ln"); len(got) == 0 || got[0] != c.Responses(id, "en")[0] {
		t.Errorf("Responses(ln) should fall back to en, got %v", got)
	}
	if got := c.Meaning(id, "sg"); got != c.Meaning(id, "en") {
		t.Errorf("Meaning(sg) = %q, want the English meaning", got)
	}
	for _, e := range c.Entries() {
		for _, l := range []string{"en", "fr"} {
			if len(c.Responses(e.ID, l)) == 0 || c.Title(e.ID, l) == "" || c.Meaning(e.ID, l) == "" {
				t.Errorf("%s: missing %s title, meaning or responses", e.ID, l)
			}
		}
	}
	if c.Title("no-such-id", "en") != "no-such-id" {
		t.Error("unknown id should title as itself")
	}
}

func TestLoadDirAddsANarrative(t *testing.T) {
	c, err := catalog.LoadDir("testdata/extra")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.IDs()) != len(catalog.Default().IDs())+1 {
		t.Fatalf("LoadDir ids = %v, want the default ones plus hoarding-fuel", c.IDs())
	}
	if _, ok := c.Get("hoarding-fuel"); !ok {
		t.Fatal("hoarding-fuel not loaded")
	}
	if _, ok := catalog.Default().Get("hoarding-fuel"); ok {
		t.Fatal("LoadDir changed the default catalog")
	}
}

func TestWithAddsWithoutChangingTheOriginal(t *testing.T) {
	base := catalog.Default()
	e := catalog.Entry{
		ID: "new-narrative", Priorities: []int{6},
		Title:     map[string]string{"en": "New", "fr": "Nouveau"},
		Meaning:   map[string]string{"en": "A new claim.", "fr": "Une nouvelle affirmation."},
		Responses: map[string][]string{"en": {"Answer."}, "fr": {"Réponse."}},
		Concepts:  map[string]catalog.Terms{"cue": {"en": {"flying carpet*"}}},
		Rules:     []catalog.Rule{{ID: "r1", All: []string{"MISSION", "cue"}}},
	}
	c, err := base.With(e)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("new-narrative"); !ok {
		t.Error("With did not add the entry")
	}
	if _, ok := base.Get("new-narrative"); ok {
		t.Error("With changed the original catalog")
	}
	bad := e
	bad.Rules = []catalog.Rule{{ID: "r1", All: []string{"nothing-here"}}}
	if _, err := base.With(bad); !errors.Is(err, catalog.ErrInvalid) {
		t.Errorf("With(bad rule) error = %v, want ErrInvalid", err)
	}
}

func TestLoadErrorsNameFileAndField(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want []string
	}{
		{"testdata/bad-concept", []string{"broken.yaml", "rules[0]", `"no_such_concept"`}},
		{"testdata/bad-field", []string{"typo.yaml", "titel"}},
		{"testdata/bad-title", []string{"notitle.yaml", "title.fr"}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			_, err := catalog.LoadDir(tc.dir)
			if !errors.Is(err, catalog.ErrInvalid) {
				t.Fatalf("LoadDir(%s) error = %v, want ErrInvalid", tc.dir, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := catalog.LoadDir("testdata/no-such-dir"); err == nil {
		t.Error("LoadDir of a missing directory should fail")
	}
}

var wordRE = regexp.MustCompile(`[\pL\pN]+`)

func words(s string) []string { return wordRE.FindAllString(strings.ToLower(s), -1) }

// TestNoPatternQuotesTheCorpus guards generalisation: no catalog term or
// response may repeat ten or more consecutive words of a corpus item.
func TestNoPatternQuotesTheCorpus(t *testing.T) {
	shared := testenv.Shared(t)
	const n = 10
	grams := map[string]string{}
	files, _ := filepath.Glob(filepath.Join(shared, "corpus", "*.jsonl"))
	vtts, _ := filepath.Glob(filepath.Join(shared, "corpus", "transcripts", "*.vtt"))
	for _, f := range append(files, vtts...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			w := words(line)
			for i := 0; i+n <= len(w); i++ {
				grams[strings.Join(w[i:i+n], " ")] = filepath.Base(f)
			}
		}
	}
	if len(grams) == 0 {
		t.Fatal("no corpus text read")
	}
	c := catalog.Default()
	var texts []string
	for _, terms := range c.Lexicon() {
		texts = append(texts, terms.All()...)
	}
	for _, e := range c.Entries() {
		for _, terms := range e.Concepts {
			texts = append(texts, terms.All()...)
		}
		for _, rs := range e.Responses {
			texts = append(texts, rs...)
		}
	}
	for _, tx := range texts {
		w := words(tx)
		for i := 0; i+n <= len(w); i++ {
			if f, ok := grams[strings.Join(w[i:i+n], " ")]; ok {
				t.Errorf("catalog text %q quotes %d words of %s", tx, n, f)
			}
		}
	}
}

func TestLintFindsTermsThatDoNothing(t *testing.T) {
	if f := catalog.Default().Lint(); len(f) > 0 {
		t.Fatalf("the built-in catalog has %d lint findings, e.g. %s: run veille catalog fmt on it", len(f), f[0])
	}
	yml := []byte(`id: fuel-test
title: {en: Fuel test, fr: Test carburant}
meaning: {en: A test., fr: Un test.}
responses: {en: [No.], fr: [Non.]}
concepts:
  hoard: {en: [hoard*, hoarding, "buying up", "buying up"]}
rules:
  - {id: r, all: [MISSION, hoard]}
`)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fuel-test.yaml"), yml, 0o644); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(cat.Lint())
	if !strings.Contains(got, `"hoarding" is already matched by "hoard*"`) || !strings.Contains(got, `"buying up" is listed twice`) {
		t.Fatalf("lint findings %s, want the covered and the repeated term", got)
	}
	out, err := catalog.Format(yml)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "hoarding") || strings.Count(string(out), "buying up") != 1 || !strings.Contains(string(out), "- hoard*") {
		t.Fatalf("formatted file keeps useless terms or is not one term per line:\n%s", out)
	}
}
