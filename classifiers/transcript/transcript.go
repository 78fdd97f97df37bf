// Package transcript reads WebVTT radio transcripts into timed cues and
// builds the classifier Doc for them (cue texts joined by newlines, with
// each cue's byte offset). It is deliberately small: the ingest stage has its
// own tolerant parser for feeds; this one serves evaluation and tools.
package transcript

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/veille-project/veille/classifiers"
)

// ErrNotVTT marks input without the WEBVTT header.
var ErrNotVTT = errors.New("transcript: missing WEBVTT header")

var (
	timing = regexp.MustCompile(`^((?:\d+:)?\d{2}:\d{2}[.,]\d{3})\s+-->\s+((?:\d+:)?\d{2}:\d{2}[.,]\d{3})`)
	voice  = regexp.MustCompile(`^<v(?:\.[^ >]*)?\s+([^>]+)>`)
	tags   = regexp.MustCompile(`</?[a-z][^>]*>`)
)

// ParseVTT reads a WebVTT file into cues (voice tags stripped, the speaker
// kept). Offsets are left at zero; Doc sets them.
func ParseVTT(r io.Reader) ([]classifiers.Cue, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	if !sc.Scan() {
		return nil, ErrNotVTT
	}
	line++
	if !strings.HasPrefix(strings.TrimPrefix(sc.Text(), "\uFEFF"), "WEBVTT") {
		return nil, ErrNotVTT
	}
	var cues []classifiers.Cue
	var cur *classifiers.Cue
	var text []string
	inNote := false
	flush := func() {
		if cur != nil {
			cur.Text = strings.TrimSpace(strings.Join(text, " "))
			if cur.Text != "" {
				cues = append(cues, *cur)
			}
		}
		cur, text = nil, nil
	}
	for sc.Scan() {
		line++
		l := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(l) == "" {
			flush()
			inNote = false
			continue
		}
		if inNote {
			continue
		}
		if cur == nil {
			if strings.HasPrefix(l, "NOTE") || strings.HasPrefix(l, "STYLE") || strings.HasPrefix(l, "REGION") {
				inNote = true
				continue
			}
			if m := timing.FindStringSubmatch(l); m != nil {
				a, err1 := parseTS(m[1])
				b, err2 := parseTS(m[2])
				if err := errors.Join(err1, err2); err != nil {
					return nil, fmt.Errorf("transcript: line %d: %w", line, err)
				}
				cur = &classifiers.Cue{Start: a, End: b}
			}
			continue // cue identifier line
		}
		if len(text) == 0 {
			if m := voice.FindStringSubmatch(l); m != nil {
				cur.Speaker = strings.TrimSpace(m[1])
			}
		}
		text = append(text, strings.TrimSpace(tags.ReplaceAllString(l, "")))
	}
	flush()
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("transcript: read: %w", err)
	}
	return cues, nil
}

func parseTS(s string) (int64, error) {
	s = strings.Replace(s, ",", ".", 1)
	parts := strings.Split(s, ":")
	var h, m int64
	var err error
	if len(parts) == 3 {
		if h, err = strconv.ParseInt(parts[0], 10, 64); err != nil {
			return 0, fmt.Errorf("bad timestamp %q", s)
		}
		parts = parts[1:]
	}
	if m, err = strconv.ParseInt(parts[0], 10, 64); err != nil {
		return 0, fmt.Errorf("bad timestamp %q", s)
	}
	sec, err := strconv.ParseFloat(parts[1], 64)
	if err != nil {
		return 0, fmt.Errorf("bad timestamp %q", s)
	}
	return (h*3600+m*60)*1000 + int64(sec*1000+0.5), nil
}

// Doc joins cues into a classifier Doc: Text is the cue texts separated by
// "\n" and each cue's Offset is where its text starts in Text.
func Doc(id, lang string, cues []classifiers.Cue) classifiers.Doc {
	var b strings.Builder
	out := make([]classifiers.Cue, len(cues))
	for i, c := range cues {
		if i > 0 {
			b.WriteByte('\n')
		}
		c.Offset = b.Len()
		b.WriteString(c.Text)
		out[i] = c
	}
	return classifiers.Doc{ID: id, Text: b.String(), Lang: lang, Cues: out}
}
