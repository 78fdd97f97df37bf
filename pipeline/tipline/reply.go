package tipline

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Both platforms cap a text message at 4096 characters; Telegram counts
// UTF-16 code units, so lengths here are counted that way, which is never
// less than the rune count.
const (
	telegramMaxText = 4096
	whatsappMaxText = 4096
	// maxReplyParts is how many messages one reply may become; past that it
	// is trimmed, since a wall of messages helps nobody.
	maxReplyParts = 3
)

// splitReply cuts s into at most maxParts messages of at most limit UTF-16
// code units each, at a paragraph, line, sentence or word break when one is
// in the second half of the window, else between runes (never inside a
// combining sequence when that can be avoided). What does not fit in
// maxParts is trimmed and the last part ends with "…".
func splitReply(s string, limit, maxParts int) []string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
	var parts []string
	for s != "" {
		if utf16Len(s) <= limit {
			parts = append(parts, s)
			break
		}
		if len(parts) == maxParts-1 {
			cut := cutPoint(s, limit-1) // room for the ellipsis, one code unit
			parts = append(parts, strings.TrimRightFunc(s[:cut], unicode.IsSpace)+"…")
			break
		}
		cut := cutPoint(s, limit)
		parts = append(parts, strings.TrimRightFunc(s[:cut], unicode.IsSpace))
		s = strings.TrimLeftFunc(s[cut:], unicode.IsSpace)
	}
	return parts
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16Width(r)
	}
	return n
}

func utf16Width(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// fitPrefix is the byte length of the longest prefix of s that is at most
// limit UTF-16 code units long.
func fitPrefix(s string, limit int) int {
	n := 0
	for i, r := range s {
		w := utf16Width(r)
		if n+w > limit {
			return i
		}
		n += w
	}
	return len(s)
}

// cutPoint is a byte index in (0, len(s)] where s may be cut so that s[:i]
// fits in limit code units.
func cutPoint(s string, limit int) int {
	end := fitPrefix(s, limit)
	if end == 0 { // only when limit is below one rune's width
		_, size := utf8.DecodeRuneInString(s)
		return size
	}
	if end == len(s) {
		return end
	}
	window := s[:end]
	half := end / 2
	for _, sep := range []string{"\n\n", "\n"} {
		if i := strings.LastIndex(window, sep); i > half {
			return i
		}
	}
	for _, sep := range []string{". ", "! ", "? ", "。"} {
		if i := strings.LastIndex(window, sep); i > half {
			return i + len(strings.TrimRight(sep, " "))
		}
	}
	if i := strings.LastIndexFunc(window, unicode.IsSpace); i > half {
		return i
	}
	// No break: step back over marks and joiners so an accent or an emoji
	// sequence is not split from its base.
	i := end
	for i > 0 {
		next, _ := utf8.DecodeRuneInString(s[i:])
		prev, size := utf8.DecodeLastRuneInString(s[:i])
		if !joins(next) && prev != '\u200d' {
			break
		}
		i -= size
	}
	if i == 0 {
		return end
	}
	return i
}

// joins reports whether r attaches to the rune before it.
func joins(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me) || r == '\u200d' || (r >= '\ufe00' && r <= '\ufe0f') ||
		(r >= 0x1f3fb && r <= 0x1f3ff) // skin-tone modifiers
}
