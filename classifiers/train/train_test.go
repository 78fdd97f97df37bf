package train_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/eval"
	"github.com/veille-project/veille/classifiers/train"
)

func load(t *testing.T) []eval.Item {
	t.Helper()
	items, err := train.Load()
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// TestTrainingDataFollowsTheGuide checks every item against WRITING.md and
// the volumes the learned layer needs.
func TestTrainingDataFollowsTheGuide(t *testing.T) {
	known := map[string]bool{}
	for _, id := range catalog.Default().IDs() {
		known[id] = true
	}
	stances := map[string]bool{"assert": true, "report": true, "debunk": true}
	perLang, negatives := map[string]int{}, 0
	ids := map[string]bool{}
	for _, it := range load(t) {
		if ids[it.ID] {
			t.Errorf("%s: id used twice", it.ID)
		}
		ids[it.ID] = true
		perLang[it.Lang]++
		if !strings.HasPrefix(it.ID, it.Lang+"-") {
			t.Errorf("%s: id does not start with its language %q", it.ID, it.Lang)
		}
		if len(it.Labels) == 0 {
			negatives++
		}
		seen := map[string]bool{}
		for _, l := range it.Labels {
			if !known[l.Narrative] || !stances[l.Stance] || seen[l.Narrative] {
				t.Errorf("%s: label %s/%s unknown or repeated", it.ID, l.Narrative, l.Stance)
			}
			seen[l.Narrative] = true
			if len(l.Evidence) < 1 || len(l.Evidence) > 3 {
				t.Errorf("%s: %d evidence strings, want 1 to 3", it.ID, len(l.Evidence))
			}
			for _, e := range l.Evidence {
				if n := len(strings.Fields(e)); !strings.Contains(it.Text, e) || n < 3 || n > 25 {
					t.Errorf("%s: evidence %q is not a 3-25 word substring of the text", it.ID, e)
				}
			}
		}
	}
	total := len(ids)
	if total < 4000 {
		t.Errorf("%d items, want at least 4000", total)
	}
	for lang, want := range map[string]int{"en": 1000, "fr": 1000, "ar": 300, "sw": 300, "ln": 300, "sg": 300} {
		if perLang[lang] < want {
			t.Errorf("%s: %d items, want at least %d", lang, perLang[lang], want)
		}
	}
	if negatives*10 < total*4 {
		t.Errorf("%d of %d items carry no narrative, want at least 40%%", negatives, total)
	}
}

var word = regexp.MustCompile(`[\p{L}\p{N}\p{M}_]+`)

func runs(text string, n int) []string {
	w := word.FindAllString(strings.ToLower(text), -1)
	var out []string
	for i := 0; i+n <= len(w); i++ {
		out = append(out, strings.Join(w[i:i+n], " "))
	}
	return out
}

// TestTrainingDataQuotesNoEvaluationText makes sure no training item
// shares a run of eight words with the shared evaluation corpus or with
// the project's blind split.
func TestTrainingDataQuotesNoEvaluationText(t *testing.T) {
	eval := map[string]string{}
	add := func(where, text string) {
		for _, r := range runs(text, 8) {
			eval[r] = where
		}
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "corpus", "*.jsonl"))
	blind, _ := filepath.Glob(filepath.Join("..", "blind", "*.jsonl"))
	if len(blind) == 0 {
		t.Fatal("no blind split in classifiers/blind")
	}
	for _, f := range append(files, blind...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			var it struct{ Text string }
			if json.Unmarshal([]byte(line), &it) == nil {
				add(filepath.Base(f), it.Text)
			}
		}
	}
	vtts, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "corpus", "transcripts", "*.vtt"))
	for _, f := range vtts {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		add(filepath.Base(f), string(b))
	}
	if len(files) == 0 {
		t.Log("no shared corpus beside the project: checked against the blind split only")
	}
	for _, it := range load(t) {
		for _, r := range runs(it.Text, 8) {
			if where, ok := eval[r]; ok {
				t.Errorf("%s shares %q with %s", it.ID, r, where)
				break
			}
		}
	}
}
