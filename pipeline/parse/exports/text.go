package exports

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// urlRE finds web addresses in free text; trailing punctuation is trimmed
// afterwards because it usually ends the sentence, not the URL.
var urlRE = regexp.MustCompile(`(?i)\b(?:https?://|www\.)[^\s<>"'«»“”‘’\x{200e}\x{200f}]+`)

// findLinks returns the URLs in text, in order, without duplicates, after
// those already in links.
func findLinks(links []string, text string) []string {
	if !strings.Contains(text, "://") && !strings.Contains(text, "www.") && !strings.Contains(text, "WWW.") && !strings.Contains(text, "Www.") {
		return links
	}
	for _, u := range urlRE.FindAllString(text, -1) {
		links = appendLink(links, trimURL(u))
	}
	return links
}

// appendLink adds u, given a scheme if it has none, unless it is already
// there.
func appendLink(links []string, u string) []string {
	u = strings.TrimSpace(u)
	if u == "" {
		return links
	}
	if !hasScheme(u) {
		u = "http://" + u
	}
	for _, l := range links {
		if l == u {
			return links
		}
	}
	return append(links, u)
}

func hasScheme(u string) bool {
	i := strings.Index(u, ":")
	if i <= 0 {
		return false
	}
	for _, r := range u[:i] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.') {
			return false
		}
	}
	return strings.HasPrefix(u[i:], "://") || strings.EqualFold(u[:i], "mailto") || strings.EqualFold(u[:i], "tg")
}

// trimURL drops sentence punctuation after a URL, and a closing
// parenthesis the URL did not open.
func trimURL(u string) string {
	for u != "" {
		last := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?", last) >= 0:
			u = u[:len(u)-1]
		case last == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
			u = u[:len(u)-1]
		default:
			if strings.HasSuffix(u, "…") {
				u = strings.TrimSuffix(u, "…")
				continue
			}
			return u
		}
	}
	return u
}

// hashID is the id of a message whose file gives none: date (wall clock as
// written, so Options.Location does not change it), author, text and how
// many identical messages came before, hashed. 32 hex characters.
func hashID(format string, wall time.Time, author, text string, nth int) string {
	h := sha256.New()
	for _, s := range []string{format, wall.Format("2006-01-02T15:04:05.999999999"), author, text, strconv.Itoa(nth)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// idCounter numbers identical messages so each gets its own hash id.
type idCounter map[[32]byte]int

func (c idCounter) next(format string, wall time.Time, author, text string) string {
	key := sha256.Sum256([]byte(format + "\x00" + wall.Format(time.RFC3339Nano) + "\x00" + author + "\x00" + text))
	n := c[key]
	c[key] = n + 1
	return hashID(format, wall, author, text, n)
}

// trimText trims spaces and the invisible direction marks phones add around
// text.
func trimText(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || isMark(r)
	})
}

// isMark reports the invisible formatting characters (direction marks,
// embeddings, isolates, BOM) that carry no text.
func isMark(r rune) bool {
	switch {
	case r == '\u200e', r == '\u200f', r == '\ufeff':
		return true
	case r >= '\u202a' && r <= '\u202e':
		return true
	case r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}
