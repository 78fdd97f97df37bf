// Package ingest polls configured sources — feeds through the fetch
// package, folders of transcripts on disk — parses each document with the
// parse package and hands every new item to a publish function. It owns
// the schedule (intervals, jitter, backoff, per-source concurrency),
// duplicate suppression before publishing and each source's health;
// publishing is the bus package's job.
package ingest
