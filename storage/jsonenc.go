package storage

import (
	"strconv"
	"unicode/utf8"
)

// Hand-written JSON for the columns written on every flag: no reflection
// and one buffer per batch. The output decodes with encoding/json to the
// same values as json.Marshal's.

// appendJSONString writes s as a JSON string; invalid UTF-8 becomes U+FFFD
// as with json.Marshal.
func appendJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// appendEvidenceJSON writes ev as json.Marshal would (an empty list for nil).
func appendEvidenceJSON(buf []byte, ev []Evidence) []byte {
	buf = append(buf, '[')
	for i, e := range ev {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"start":`...)
		buf = strconv.AppendInt(buf, int64(e.Start), 10)
		buf = append(buf, `,"end":`...)
		buf = strconv.AppendInt(buf, int64(e.End), 10)
		buf = append(buf, `,"text":`...)
		buf = appendJSONString(buf, e.Text)
		if e.CueStart != 0 {
			buf = append(buf, `,"cue_start_ms":`...)
			buf = strconv.AppendInt(buf, e.CueStart, 10)
		}
		if e.CueEnd != 0 {
			buf = append(buf, `,"cue_end_ms":`...)
			buf = strconv.AppendInt(buf, e.CueEnd, 10)
		}
		buf = append(buf, '}')
	}
	return append(buf, ']')
}

// appendStringsJSON writes ss as a JSON array of strings (empty for nil).
func appendStringsJSON(buf []byte, ss []string) []byte {
	buf = append(buf, '[')
	for i, s := range ss {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, s)
	}
	return append(buf, ']')
}
