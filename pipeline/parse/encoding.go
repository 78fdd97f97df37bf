package parse

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// ErrEncoding: the bytes could not be turned into UTF-8 text.
var ErrEncoding = errors.New("undecodable text encoding")

// boms in the order they must be tested (UTF-32LE starts like UTF-16LE).
var boms = []struct {
	bom  []byte
	name string
	enc  encoding.Encoding
}{
	{[]byte{0x00, 0x00, 0xFE, 0xFF}, "UTF-32BE", utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM)},
	{[]byte{0xFF, 0xFE, 0x00, 0x00}, "UTF-32LE", utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM)},
	{[]byte{0xEF, 0xBB, 0xBF}, "UTF-8", nil},
	{[]byte{0xFE, 0xFF}, "UTF-16BE", unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)},
	{[]byte{0xFF, 0xFE}, "UTF-16LE", unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)},
}

var xmlDeclEncoding = regexp.MustCompile(`(?s)^\s*(?:<!--.*?-->\s*)*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:\-]*)["']`)

// toUTF8 decodes b to valid UTF-8 using, in order: a byte-order mark, the
// XML declaration's encoding (unless the bytes are already valid UTF-8 with
// non-ASCII text, a common mislabelling), the HTTP charset, and finally a
// guess. It reports what it had to guess in warnings.
func toUTF8(b []byte, contentType string, isXML bool) ([]byte, []string, error) {
	var warn []string
	for _, m := range boms {
		if bytes.HasPrefix(b, m.bom) {
			rest := b[len(m.bom):]
			if m.enc == nil {
				if !utf8.Valid(rest) {
					warn = append(warn, "invalid UTF-8 bytes after a UTF-8 byte-order mark replaced")
					rest = bytes.ToValidUTF8(rest, []byte("\uFFFD"))
				}
				return rest, warn, nil
			}
			out, err := m.enc.NewDecoder().Bytes(rest)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: %s byte-order mark: %v", ErrEncoding, m.name, err)
			}
			return bytes.ToValidUTF8(out, []byte("\uFFFD")), warn, nil
		}
	}
	// UTF-16 without BOM: "<\0?\0" or "\0<\0?".
	if len(b) >= 4 && isXML {
		switch {
		case b[0] == '<' && b[1] == 0 && b[2] != 0 && b[3] == 0:
			out, err := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder().Bytes(b)
			if err == nil {
				return bytes.ToValidUTF8(out, []byte("\uFFFD")), warn, nil
			}
		case b[0] == 0 && b[1] == '<' && b[2] == 0 && b[3] != 0:
			out, err := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder().Bytes(b)
			if err == nil {
				return bytes.ToValidUTF8(out, []byte("\uFFFD")), warn, nil
			}
		}
	}

	valid := utf8.Valid(b)
	declared := ""
	if isXML {
		head := b
		if len(head) > 4096 {
			head = head[:4096]
		}
		if m := xmlDeclEncoding.FindSubmatch(head); m != nil {
			declared = strings.ToLower(string(m[1]))
		}
	}
	httpCharset := ""
	if contentType != "" {
		if _, params, err := mime.ParseMediaType(contentType); err == nil {
			httpCharset = strings.ToLower(params["charset"])
		}
	}

	decodeWith := func(label string) ([]byte, bool) {
		enc, name := charset.Lookup(label)
		if enc == nil {
			return nil, false
		}
		if name == "utf-8" {
			return bytes.ToValidUTF8(b, []byte("\uFFFD")), true
		}
		out, err := enc.NewDecoder().Bytes(b)
		if err != nil {
			return nil, false
		}
		return bytes.ToValidUTF8(out, []byte("\uFFFD")), true
	}

	// A label is a claim about the bytes; the bytes are checked first.
	// A wide (UTF-16/32) label on bytes with no NUL, or a legacy label on
	// bytes that read as UTF-8, is a mislabelling: read UTF-8 and say so.
	mislabelled := func(label, where string) ([]byte, bool) {
		switch {
		case isWideLabel(label) && !hasNUL(b):
			warn = append(warn, fmt.Sprintf("%s says %q but the bytes are 8-bit; read as UTF-8", where, label))
		case isUTF8Label(label) || isWideLabel(label):
			return nil, false
		case valid && hasNonASCII(b):
			warn = append(warn, fmt.Sprintf("%s says %q but the bytes are UTF-8; read as UTF-8", where, label))
		case !valid && mostlyUTF8(b):
			warn = append(warn, fmt.Sprintf("%s says %q but the bytes are UTF-8 with a few bad bytes; read as UTF-8, bad bytes replaced", where, label))
		default:
			return nil, false
		}
		return bytes.ToValidUTF8(b, []byte("\uFFFD")), true
	}
	if declared != "" && !isUTF8Label(declared) {
		if out, ok := mislabelled(declared, "the XML declaration"); ok {
			return out, warn, nil
		}
		if out, ok := decodeWith(declared); ok {
			return out, warn, nil
		}
		warn = append(warn, fmt.Sprintf("unknown declared encoding %q", declared))
	}
	if httpCharset != "" && !isUTF8Label(httpCharset) {
		if out, ok := mislabelled(httpCharset, "the HTTP charset"); ok {
			return out, warn, nil
		}
	}
	if valid {
		return b, warn, nil
	}
	if httpCharset != "" && !isUTF8Label(httpCharset) {
		if out, ok := decodeWith(httpCharset); ok {
			warn = append(warn, fmt.Sprintf("invalid UTF-8; decoded with the HTTP charset %q", httpCharset))
			return out, warn, nil
		}
	}
	// Mostly-UTF-8 with a few stray bytes keeps its UTF-8; otherwise the
	// bytes are most likely a legacy single-byte encoding.
	if hasValidMultibyte(b) {
		warn = append(warn, "invalid UTF-8 bytes replaced")
		return bytes.ToValidUTF8(b, []byte("\uFFFD")), warn, nil
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrEncoding, err)
	}
	warn = append(warn, "invalid UTF-8 and no usable encoding declared; decoded as windows-1252")
	return out, warn, nil
}

func isUTF8Label(l string) bool {
	l = strings.ToLower(strings.TrimSpace(l))
	return l == "utf-8" || l == "utf8" || l == "us-ascii" || l == "ascii"
}

// isWideLabel reports a UTF-16 or UTF-32 label.
func isWideLabel(l string) bool {
	l = strings.ToLower(strings.TrimSpace(l))
	return strings.HasPrefix(l, "utf-16") || strings.HasPrefix(l, "utf-32") || strings.HasPrefix(l, "ucs-2") || strings.HasPrefix(l, "ucs-4")
}

// hasNUL reports a NUL byte among the first kilobytes: UTF-16 and UTF-32
// text has them wherever it holds ASCII, 8-bit text never.
func hasNUL(b []byte) bool {
	return bytes.IndexByte(b[:min(len(b), 4096)], 0) >= 0
}

// mostlyUTF8 reports bytes that are UTF-8 but for a stray byte or two:
// several well-formed multi-byte sequences and at most one bad byte in
// twenty non-ASCII ones.
func mostlyUTF8(b []byte) bool {
	good, bad := 0, 0
	for i := 0; i < len(b); {
		if b[i] < 0x80 {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			bad++
			i++
			continue
		}
		good++
		i += n
	}
	return good >= 3 && bad*20 <= good
}

func hasNonASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

// hasValidMultibyte reports whether b holds at least one well-formed
// multi-byte UTF-8 sequence.
func hasValidMultibyte(b []byte) bool {
	for i := 0; i < len(b); {
		if b[i] < 0x80 {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError && n > 1 {
			return true
		}
		i++
	}
	return false
}
