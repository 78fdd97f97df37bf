package exports

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// A WhatsApp export is one line per message start, continuation lines
// without a prefix for multi-line messages:
//
//	Android en  12/31/23, 9:05 PM - Name: text
//	Android fr  31/12/2023 21:05 - Name: texte
//	iOS en      [12/31/23, 9:05:33 PM] Name: text
//	iOS fr      [31/12/2023 21:05:33] Name: texte
//
// iOS puts U+200E (left-to-right mark) before system and media lines and
// before their text, and U+202F (narrow no-break space) before AM/PM. The
// day/month order rule is in the package documentation.

// waStampRE matches the date and time of a message line once U+202F and
// U+00A0 are plain spaces.
var waStampRE = regexp.MustCompile(`^(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4}),?\s+(à\s+)?(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?:\s*([AaPp])\.?\s?[Mm]\.?)?$`)

// waStart is a line that starts a message.
type waStart struct {
	f        [3]int // date fields in file order
	width    [3]int // their digit counts
	h, m, s  int
	ampm     byte // 'a', 'p', or 0 on a 24-hour clock
	frenchAt bool // "à" between date and time
	stamp    string
	rest     string // "Name: text", or a system line
}

// parseWAStart reads a line that starts a message.
func parseWAStart(line string) (waStart, bool) {
	s := strings.TrimLeftFunc(line, isMark)
	var stamp, rest string
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 || end > 48 {
			return waStart{}, false
		}
		stamp, rest = s[1:end], strings.TrimPrefix(s[end+1:], " ")
	} else {
		i := strings.Index(s, " - ")
		if i < 0 || i > 48 {
			return waStart{}, false
		}
		stamp, rest = s[:i], s[i+len(" - "):]
	}
	plain := strings.Map(func(r rune) rune {
		if r == '\u202f' || r == '\u00a0' {
			return ' '
		}
		return r
	}, stamp)
	sm := waStampRE.FindStringSubmatch(plain)
	if sm == nil {
		return waStart{}, false
	}
	w := waStart{stamp: plain, rest: rest, frenchAt: sm[4] != ""}
	for i := range 3 {
		w.f[i], _ = strconv.Atoi(sm[1+i])
		w.width[i] = len(sm[1+i])
	}
	w.h, _ = strconv.Atoi(sm[5])
	w.m, _ = strconv.Atoi(sm[6])
	if sm[7] != "" {
		w.s, _ = strconv.Atoi(sm[7])
	}
	if sm[8] != "" {
		w.ampm = sm[8][0] | 0x20
	}
	return w, true
}

type dateOrder int

const (
	dayFirst dateOrder = iota
	monthFirst
	yearFirst
)

// waOrder decides the file's day/month order, as the package documentation
// says.
func waOrder(starts []waStartAt, french bool) dateOrder {
	var bigFirst, bigSecond, twoDigitYear bool
	for _, st := range starts {
		w := st.w
		if w.width[0] == 4 {
			return yearFirst
		}
		bigFirst = bigFirst || w.f[0] > 12
		bigSecond = bigSecond || w.f[1] > 12
		twoDigitYear = twoDigitYear || w.width[2] <= 2
	}
	switch {
	case bigFirst:
		return dayFirst
	case bigSecond:
		return monthFirst
	case french:
		return dayFirst
	case twoDigitYear:
		return monthFirst
	}
	return dayFirst
}

// wall is the line's date and time as written, in UTC for want of a zone.
func (w waStart) wall(order dateOrder) (time.Time, error) {
	var y, mo, d, yw int
	switch order {
	case yearFirst:
		y, mo, d, yw = w.f[0], w.f[1], w.f[2], w.width[0]
	case monthFirst:
		mo, d, y, yw = w.f[0], w.f[1], w.f[2], w.width[2]
	default:
		d, mo, y, yw = w.f[0], w.f[1], w.f[2], w.width[2]
	}
	switch yw {
	case 1, 2:
		y += 2000
	case 4:
	default:
		return time.Time{}, fmt.Errorf("date %q: year is neither two nor four digits", w.stamp)
	}
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) {
		return time.Time{}, fmt.Errorf("date %q is not a valid date (%s)", w.stamp, orderName[order])
	}
	h := w.h
	switch w.ampm {
	case 0:
		if h > 23 {
			return time.Time{}, fmt.Errorf("time %q: hour over 23", w.stamp)
		}
	default:
		if h < 1 || h > 12 {
			return time.Time{}, fmt.Errorf("time %q: hour not 1-12 on a 12-hour clock", w.stamp)
		}
		h %= 12
		if w.ampm == 'p' {
			h += 12
		}
	}
	if w.m > 59 || w.s > 59 {
		return time.Time{}, fmt.Errorf("time %q: minutes or seconds over 59", w.stamp)
	}
	return time.Date(y, time.Month(mo), d, h, w.m, w.s, 0, time.UTC), nil
}

var orderName = map[dateOrder]string{dayFirst: "read day first", monthFirst: "read month first", yearFirst: "read year first"}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// waSplit splits "Name: text"; ok is false for a system line.
func waSplit(rest string) (author, body string, ok bool) {
	i := strings.Index(rest, ": ")
	if i < 0 {
		return "", "", false
	}
	author = trimText(rest[:i])
	if author == "" {
		return "", "", false
	}
	// A system line can hold ": " inside a quoted group subject.
	la := strings.ToLower(author)
	for _, p := range waSystemInAuthor {
		if strings.Contains(la, p) {
			return "", "", false
		}
	}
	return author, rest[i+2:], true
}

var waSystemInAuthor = []string{
	"changed the subject", "changed the group", "changed this group", "created group",
	"a modifié le sujet", "a changé le sujet", "a modifié la description", "a changé la description",
	"a modifié le nom", "a créé le groupe",
}

var (
	// iOS: "‎<attached: 00000012-PHOTO-2023-12-31-21-05-33.jpg>".
	waAttachedRE = regexp.MustCompile(`(?i)\x{200e}?<(?:attached|pi[èe]ce jointe)\s*:[^>\n]*>`)
	// Android: "IMG-20231231-WA0003.jpg (file attached)", caption on the next lines.
	waFileAttachedRE = regexp.MustCompile(`(?i)^\S.*\.[a-z0-9]{1,5} \((?:file attached|fichier joint|fichier attaché)\)$`)
	waEditedRE       = regexp.MustCompile(`(?i)\s*\x{200e}?<(?:this message was edited|ce message a été modifié)>`)
)

// waMediaEN and waMediaFR are whole message texts that stand for media,
// calls or deletions, lower case, without a final full stop.
var (
	waMediaEN = map[string]bool{
		"<media omitted>": true, "image omitted": true, "video omitted": true, "audio omitted": true,
		"sticker omitted": true, "gif omitted": true, "document omitted": true, "contact card omitted": true,
		"this message was deleted": true, "you deleted this message": true, "null": true,
		"missed voice call": true, "missed video call": true, "<view once message omitted>": true,
	}
	waMediaFR = map[string]bool{
		"<médias omis>": true, "<média omis>": true, "image absente": true, "vidéo absente": true,
		"audio omis": true, "audio absent": true, "autocollant omis": true, "gif retiré": true, "gif omis": true,
		"document omis": true, "fiche contact omise": true, "carte de contact omise": true,
		"ce message a été supprimé": true, "vous avez supprimé ce message": true,
		"appel vocal manqué": true, "appel vidéo manqué": true,
	}
)

var waMediaPrefixes = []string{"waiting for this message", "en attente de ce message"}

func mediaKey(text string) string { return strings.ToLower(strings.TrimRight(trimText(text), ". ")) }

func isWAMedia(text string) bool {
	if len(text) > 80 { // longer than any marker
		return false
	}
	t := mediaKey(text)
	if waMediaEN[t] || waMediaFR[t] {
		return true
	}
	for _, p := range waMediaPrefixes {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// waClean turns a message body into its text; ok is false for system and
// media lines. iOS starts the text of those with U+200E.
func waClean(body string) (string, bool) {
	if strings.HasPrefix(body, "\u200e") {
		return "", false
	}
	lines := strings.Split(body, "\n")
	kept := lines[:0]
	for _, l := range lines {
		if strings.Contains(l, "<") {
			l = waAttachedRE.ReplaceAllString(l, "")
		}
		if t := trimText(l); strings.HasSuffix(t, ")") && waFileAttachedRE.MatchString(t) {
			continue
		}
		kept = append(kept, l)
	}
	text := strings.Join(kept, "\n")
	if strings.Contains(text, "<") {
		text = waEditedRE.ReplaceAllString(text, "")
	}
	text = trimText(text)
	if text == "" || isWAMedia(text) {
		return "", false
	}
	return text, true
}

// waFrenchMarkers, in lower case, appear in French system and media lines.
var waFrenchMarkers = []string{
	"chiffrés de bout en bout", "médias omis", "absente", "supprimé", "a ajouté", "a créé",
	"pièce jointe", "fichier joint", "modifié", "a quitté", "est parti", "a retiré", "a rejoint",
	" omis", "manqué", "vous avez",
}

// waFrench reports whether a line is a French system or media line; what
// people write is not looked at, since bilingual chats are common.
func waFrench(w waStart) bool {
	if w.frenchAt {
		return true
	}
	_, body, ok := waSplit(w.rest)
	var probe string
	switch {
	case !ok:
		probe = w.rest
	case strings.HasPrefix(body, "\u200e"):
		probe = body
	default:
		first, _, _ := strings.Cut(body, "\n")
		lb := strings.ToLower(trimText(first))
		return waMediaFR[mediaKey(lb)] || strings.HasSuffix(lb, "(fichier joint)") ||
			strings.Contains(lb, "<pièce jointe") || strings.Contains(strings.ToLower(body), "<ce message a été modifié>")
	}
	probe = strings.ToLower(probe)
	for _, m := range waFrenchMarkers {
		if strings.Contains(probe, m) {
			return true
		}
	}
	return false
}

type waStartAt struct {
	line int // 0-based index in lines
	w    waStart
}

func (p *parser) parseWhatsApp(data []byte, chat string) error {
	text := string(bytes.TrimPrefix(data, utf8BOM))
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	lines := strings.Split(text, "\n")
	var starts []waStartAt
	french := false
	for i, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		lines[i] = l
		if w, ok := parseWAStart(l); ok {
			starts = append(starts, waStartAt{i, w})
			french = french || waFrench(w)
		}
		if err := p.tick(); err != nil {
			return err
		}
	}
	order := waOrder(starts, french)

	ids := idCounter{}
	var (
		cur      *strings.Builder // body of the message being read; nil when none
		curLine  int
		curWall  time.Time
		curRest  string
		skipping bool // inside a message whose first line was refused
	)
	flush := func() error {
		if cur == nil {
			return nil
		}
		defer func() { cur = nil }()
		author, body, ok := waSplit(curRest) // "Name: " is on the first line or nowhere
		if !ok {
			return nil
		}
		text, ok := waClean(body + cur.String())
		if !ok {
			return nil
		}
		y, mo, d := curWall.Date()
		h, mi, s := curWall.Clock()
		return p.add(Message{
			Format: FormatWhatsAppTxt,
			Chat:   chat,
			ID:     ids.next(FormatWhatsAppTxt, curWall, author, text),
			Author: author,
			Date:   time.Date(y, mo, d, h, mi, s, 0, p.opts.Location).UTC(),
			Text:   text,
			Links:  findLinks(nil, text),
			Line:   curLine,
		})
	}
	next := 0
	for i, l := range lines {
		if next < len(starts) && starts[next].line == i {
			w := starts[next].w
			next++
			if err := flush(); err != nil {
				return err
			}
			wall, err := w.wall(order)
			if err != nil {
				skipping = true
				if err := p.lineError(i+1, err); err != nil {
					return err
				}
				continue
			}
			skipping = false
			cur, curLine, curWall, curRest = &strings.Builder{}, i+1, wall, w.rest
			continue
		}
		switch {
		case cur != nil:
			cur.WriteByte('\n')
			cur.WriteString(l)
		case skipping || trimText(l) == "":
		default:
			if err := p.lineError(i+1, errors.New("not a WhatsApp message line, and no message before it")); err != nil {
				return err
			}
		}
	}
	return flush()
}

// looksWhatsApp reports whether the first non-empty line of a .txt head is
// a WhatsApp message line.
func looksWhatsApp(head []byte) bool {
	for len(head) > 0 {
		line, rest, _ := bytes.Cut(head, []byte("\n"))
		head = rest
		l := trimText(string(line))
		if l == "" {
			continue
		}
		_, ok := parseWAStart(l)
		return ok
	}
	return false
}

// waNamePrefixes start the file names WhatsApp gives exports, lower case.
var waNamePrefixes = []string{
	"whatsapp chat with ", "whatsapp chat - ", "discussion whatsapp avec ", "discussion whatsapp - ",
	"whatsapp-chat mit ", "chat de whatsapp con ", "chat whatsapp con ", "conversa do whatsapp com ",
}

// whatsAppChatName reads the chat title from the first of names that is
// named the way WhatsApp names exports ("WhatsApp Chat with X.zip",
// "Discussion WhatsApp avec X.txt"); "" when none is.
func whatsAppChatName(names ...string) string {
	for _, n := range names {
		base := path.Base(slashed(n))
		if ext := strings.ToLower(path.Ext(base)); ext == ".txt" || ext == ".zip" {
			base = base[:len(base)-len(ext)]
		}
		base = norm.NFC.String(base)
		for _, p := range waNamePrefixes {
			if len(base) > len(p) && strings.EqualFold(base[:len(p)], p) {
				return trimText(base[len(p):])
			}
		}
	}
	return ""
}

// isWhatsAppTxtName reports the names a zip gives the chat text: iOS's
// _chat.txt, Android's "WhatsApp Chat with X.txt".
func isWhatsAppTxtName(name string) bool {
	base := path.Base(slashed(name))
	if base == "_chat.txt" {
		return true
	}
	return strings.EqualFold(path.Ext(base), ".txt") && whatsAppChatName(base) != ""
}
