// Package blind holds the blind split: labelled texts written apart from
// the training data and never read for errors. Figures on it are the
// project's estimate of how the classifier does on text it was not built
// around, and the learning loop's gate measures every candidate model on
// it. It is embedded so that the gate runs anywhere the binary does.
package blind

import (
	"embed"
	"io/fs"
	"sort"

	"github.com/veille-project/veille/classifiers/eval"
	"github.com/veille-project/veille/classifiers/train"
)

//go:embed *.jsonl
var files embed.FS

// Load reads the blind split, file by file in name order.
func Load() ([]eval.Item, error) {
	names, _ := fs.Glob(files, "*.jsonl")
	sort.Strings(names)
	var out []eval.Item
	for _, name := range names {
		b, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		items, err := train.Parse("blind/"+name, b)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
	}
	return out, nil
}
