package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/eval"
	"github.com/veille-project/veille/classifiers/match"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func init() {
	register(&command{
		name:    "eval",
		summary: "score the classifier on labelled JSONL and transcripts",
		run:     runEval,
	})
}

func runEval(ctx context.Context, args []string) error {
	fs := newFlags("eval")
	var data multiFlag
	fs.Var(&data, "data", "labelled JSONL file (repeatable)")
	trDir := fs.String("transcripts", "", "directory with labels.jsonl and .vtt transcripts")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	check := fs.Bool("check", false, "exit 1 when a figure is below its target")
	catDir := fs.String("catalog", "", "catalog directory layered over the embedded catalog")
	misses := fs.Int("misses", 30, "how many misses to list")
	gateTr := fs.Float64("transcripts-f1", 0, "with --check, minimum transcript micro-F1 over (file, narrative, stance); 0 = report only")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(data) == 0 && *trDir == "" {
		return fmt.Errorf("%w: veille eval --data FILE.jsonl [--data ...] [--transcripts DIR] [--json] [--check]", errUsage)
	}
	m, err := newMatcher(*catDir)
	if err != nil {
		return err
	}
	var items, trs []eval.Item
	for _, p := range data {
		it, err := eval.LoadJSONL(p)
		if err != nil {
			return err
		}
		items = append(items, it...)
	}
	if *trDir != "" {
		if trs, err = eval.LoadTranscripts(*trDir); err != nil {
			return err
		}
	}
	rep, err := eval.Run(ctx, m, items, trs)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	} else {
		fmt.Printf("classifier %s\n\n", m.Version())
		rep.Write(os.Stdout, *misses)
	}
	if *check {
		t := eval.DefaultTargets
		t.Transcripts = *gateTr
		if bad := rep.Check(t); len(bad) > 0 {
			for _, b := range bad {
				fmt.Fprintln(os.Stderr, "BELOW TARGET:", b)
			}
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "all figures on target")
	}
	return nil
}

func newMatcher(dir string, opts ...match.Option) (*match.Matcher, error) {
	cat := catalog.Default()
	if dir != "" {
		var err error
		if cat, err = catalog.LoadDir(dir); err != nil {
			return nil, err
		}
	}
	return match.New(cat, opts...)
}
