// Package demo holds the demo's data: five fictional sources (feeds, a
// podcast with transcripts, a Telegram channel's preview), a WhatsApp chat
// export the demo drops in a watched folder, a few tipline messages, their
// labels and the demo's configuration.
// The files are embedded in the veille binary, so `veille demo` runs from
// any folder.
package demo

import "embed"

// Files are the demo's feeds, transcripts, labels and veille.demo.yaml.
//
//go:embed *.xml *.json *.yaml *.jsonl transcripts telegram exports
var Files embed.FS
