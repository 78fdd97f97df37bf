package parse

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
)

// ItemID is the stable id of an entry: the source name and the entry's
// GUID (or link, or title and date) hashed, 32 hex characters.
func ItemID(source, key string) string {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// ContentHash hashes text after normalisation (case folded, whitespace
// collapsed, punctuation-only differences kept), so the same article
// carried by two sources gets the same hash. 32 hex characters.
func ContentHash(text string) string {
	return hashNormalised(NormaliseForHash(text))
}

func hashNormalised(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// NormaliseForHash is the text ContentHash hashes: lower case, every run of
// whitespace one space, trimmed.
func NormaliseForHash(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	space := false
	for _, r := range text {
		if unicode.IsSpace(r) || r == '\u00a0' {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
