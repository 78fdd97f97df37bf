// Package ingest fetches configured sources — RSS, Atom, JSON Feed, podcast
// feeds with transcripts, folders of WebVTT/SRT transcripts — and turns each
// entry into a storage.Item. It owns polling, politeness (conditional GET,
// per-host limits, jittered schedules, backoff), duplicate suppression before
// publishing, feed health, and the fetcher's and parsers' safety limits
// (non-public addresses refused at connect time, bounded sizes and times, no
// DTD entity ever expanded or fetched). Publishing is the bus package's job:
// the Poller hands each new item to a publish function.
package ingest
