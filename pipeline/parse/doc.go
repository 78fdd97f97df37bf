// Package parse turns fetched bytes into Items: RSS, Atom and JSON feeds,
// podcast transcripts (WebVTT, SRT, JSON, HTML), text encodings and BOMs,
// feed HTML to plain text and to sanitised display HTML, and the stable
// item and content hashes. It reads no network and no disk; every parser
// bounds its input and work.
package parse
