// Package demo holds the demo's data: four fictional sources (feeds, a
// podcast with transcripts), their labels and the demo's configuration.
// The files are embedded in the veille binary, so `veille demo` runs from
// any folder.
package demo

import "embed"

// Files are the demo's feeds, transcripts, labels and veille.demo.yaml.
//
//go:embed *.xml *.json *.yaml *.jsonl transcripts
var Files embed.FS
