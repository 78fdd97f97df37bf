// Package train owns the labelled texts Veille's learned layer is trained
// on: JSONL files written for the project (see WRITING.md), embedded in the
// binary so that `veille train` rebuilds the shipped model anywhere.
package train

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"

	"github.com/veille-project/veille/classifiers/eval"
)

//go:embed data/*.jsonl
var data embed.FS

// Files lists the embedded training files, sorted.
func Files() []string {
	names, _ := fs.Glob(data, "data/*.jsonl")
	sort.Strings(names)
	return names
}

// Load reads every embedded training item, file by file in name order.
func Load() ([]eval.Item, error) {
	var out []eval.Item
	for _, name := range Files() {
		b, err := data.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		items, err := Parse(name, b)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
	}
	return out, nil
}

// Parse reads labelled JSONL; name is used in errors.
func Parse(name string, b []byte) ([]eval.Item, error) {
	var out []eval.Item
	for n, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var it eval.Item
		if err := json.Unmarshal(line, &it); err != nil {
			return nil, fmt.Errorf("train: %s:%d: %w", name, n+1, err)
		}
		out = append(out, it)
	}
	return out, nil
}
