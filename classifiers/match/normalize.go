package match

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Text is a normalised text: lower case, accents and Arabic letter variants
// folded, harakat and tatweel dropped, letter elongations collapsed and
// hashtags split into words. Every byte of Norm maps back to the original
// UTF-8 rune that produced it, so spans found on Norm are exact substrings
// of the original.
type Text struct {
	Orig  string
	Norm  string
	start []int32 // per Norm byte: original start of the producing rune
	end   []int32 // per Norm byte: original end of the producing rune
}

// OrigSpan maps the Norm byte range [ns, ne) to the original byte range.
func (t *Text) OrigSpan(ns, ne int) (int, int) {
	if ne <= ns || ns < 0 || ne > len(t.Norm) {
		return 0, 0
	}
	return int(t.start[ns]), int(t.end[ne-1])
}

// latinFold maps lower-case runes below 0x250 to their base letters.
var latinFold [0x300]string

func init() {
	for r := rune(0xC0); r < 0x300; r++ {
		d := norm.NFD.String(string(r))
		var b strings.Builder
		for _, x := range d {
			if !unicode.Is(unicode.Mn, x) {
				b.WriteRune(x)
			}
		}
		if s := b.String(); s != string(r) {
			latinFold[r] = s
		}
	}
	for r, s := range map[rune]string{'œ': "oe", 'æ': "ae", 'ß': "ss", 'ø': "o", 'đ': "d", 'ł': "l", 'ı': "i", 'ɛ': "e", 'ɔ': "o"} {
		latinFold[r] = s
	}
}

// foldRune returns the normalised form of a lower-case rune: itself, a
// replacement string, or "" to drop it.
func foldRune(r rune) (rune, string, bool) {
	switch {
	case r < 0x80:
		return r, "", true
	case r < 0x300:
		if s := latinFold[r]; s != "" {
			return 0, s, true
		}
		return r, "", true
	case r >= 0x0600 && r <= 0x06FF:
		switch r {
		case 'أ', 'إ', 'آ', 'ٱ':
			return 'ا', "", true
		case 'ة':
			return 'ه', "", true
		case 'ى', 'ئ', 'ی':
			return 'ي', "", true
		case 'ؤ':
			return 'و', "", true
		case 'گ', 'ڨ':
			return 'ق', "", true
		case 'ک':
			return 'ك', "", true
		case 'ـ':
			return 0, "", false
		}
		if (r >= 0x064B && r <= 0x065F) || r == 0x0670 {
			return 0, "", false
		}
		if r >= 0x0660 && r <= 0x0669 {
			return '0' + (r - 0x0660), "", true
		}
		return r, "", true
	case r == '’' || r == '‘' || r == '`' || r == '´' || r == 'ʼ':
		return '\'', "", true
	case r == '«' || r == '»' || r == '“' || r == '”' || r == '„':
		return '"', "", true
	case r == '\u00A0' || r == '\u202F' || r == '\u2009':
		return ' ', "", true
	}
	if unicode.Is(unicode.Mn, r) || r == '\u200B' || r == '\u200C' || r == '\u200D' || r == '\uFE0F' {
		return 0, "", false
	}
	return r, "", true
}

// Normalize folds s for matching and keeps the byte map back to s.
func Normalize(s string) *Text {
	t := &Text{Orig: s}
	normalizeInto(t, s, make([]byte, 0, len(s)+8))
	return t
}

func normalizeInto(t *Text, s string, buf []byte) []byte {
	t.Orig = s
	t.start = t.start[:0]
	t.end = t.end[:0]
	var last1, last2 rune = -1, -1
	collapsing := rune(-1)
	inHash := false
	hashSplit := -1
	prevRaw := rune(-1)
	emit := func(r rune, i, w int) {
		n := len(buf)
		buf = utf8.AppendRune(buf, r)
		for k := n; k < len(buf); k++ {
			t.start = append(t.start, int32(i))
			t.end = append(t.end, int32(i+w))
		}
		last2, last1 = last1, r
	}
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w <= 1 {
			emit(' ', i, w)
			i += w
			prevRaw = ' '
			continue
		}
		next := rune(-1)
		if i+w < len(s) {
			next, _ = utf8.DecodeRuneInString(s[i+w:])
		}
		if r == '#' && next >= 0 && unicode.IsLetter(next) {
			inHash = true
			hashSplit = missionTagEnd(s, i+w)
			emit(' ', i, w)
			i += w
			prevRaw = ' '
			continue
		}
		isLetter := unicode.IsLetter(r)
		if inHash {
			if !isLetter && !unicode.IsDigit(r) {
				inHash = false
			} else if i == hashSplit || (i > hashSplit && unicode.IsUpper(r) && prevRaw >= 0 &&
				(unicode.IsLower(prevRaw) || (unicode.IsUpper(prevRaw) && next >= 0 && unicode.IsLower(next)))) {
				emit(' ', i, 0)
				t.end[len(t.end)-1] = int32(i) // the inserted space covers nothing
				t.start[len(t.start)-1] = int32(i)
			}
		}
		prevRaw = r
		lr := unicode.ToLower(r)
		fr, rep, keep := foldRune(lr)
		if !keep {
			// Dropped marks extend the previous rune's span so the map
			// still covers every original byte of a word.
			if n := len(t.end); n > 0 && int(t.end[n-1]) == i {
				for k := n - 1; k >= 0 && int(t.start[k]) == int(t.start[n-1]); k-- {
					t.end[k] = int32(i + w)
				}
			}
			i += w
			continue
		}
		if rep != "" {
			for _, x := range rep {
				emit(x, i, w)
			}
			i += w
			continue
		}
		if isLetter && (fr == collapsing || (fr == last1 && fr == last2)) {
			// Elongation ("noooo", "MINUSMAAA"): keep one letter whose
			// span covers the whole run.
			if fr != collapsing {
				n := utf8.RuneLen(fr)
				buf = buf[:len(buf)-n]
				t.start = t.start[:len(t.start)-n]
				t.end = t.end[:len(t.end)-n]
				collapsing, last2 = fr, -1
			}
			n := len(t.end)
			st := t.start[n-1]
			for k := n - 1; k >= 0 && t.start[k] == st; k-- {
				t.end[k] = int32(i + w)
			}
			i += w
			continue
		}
		collapsing = -1
		emit(fr, i, w)
		i += w
	}
	t.Norm = string(buf)
	return buf
}

// missionTagEnd returns where a mission name that opens a hashtag ends
// ("#MONUSCOout" splits after MONUSCO), or -1.
func missionTagEnd(s string, at int) int {
	for _, p := range missionPrefixes {
		if len(s) >= at+len(p)+2 && strings.EqualFold(s[at:at+len(p)], p) {
			return at + len(p)
		}
	}
	return -1
}
