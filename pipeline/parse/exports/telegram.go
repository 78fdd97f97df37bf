package exports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Telegram Desktop writes result.json either for one chat — {"name", "type",
// "id", "messages": [...]} — or for the whole account, where chats sit in
// "chats": {"list": [...]} and "left_chats": {"list": [...]}. The document
// is read as a stream so a file cut short still yields the messages before
// the cut.

// looksTelegram reports whether a JSON head has the top-level keys of a
// single-chat or an account export.
func looksTelegram(head []byte) bool {
	keys := topLevelKeys(head)
	if keys["messages"] && (keys["type"] || keys["id"] || keys["name"]) {
		return true
	}
	return keys["about"] && (keys["personal_information"] || keys["chats"] || keys["left_chats"] || keys["contacts"])
}

// topLevelKeys lists the keys of the JSON object head starts, as far as
// head goes.
func topLevelKeys(head []byte) map[string]bool {
	keys := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(head))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return keys
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		key, ok := tok.(string)
		if !ok {
			return keys
		}
		keys[key] = true
		tok, err = dec.Token()
		if err != nil {
			return keys
		}
		if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
			for depth := 1; depth > 0; {
				tok, err := dec.Token()
				if err != nil {
					return keys
				}
				switch tok {
				case json.Delim('{'), json.Delim('['):
					depth++
				case json.Delim('}'), json.Delim(']'):
					depth--
				}
			}
		}
	}
}

// tgReader walks one result.json.
type tgReader struct {
	p     *parser
	dec   *json.Decoder
	found int // "messages" arrays and chat lists met
	read  int // message elements decoded
}

// errCut is a syntax error (or an early end) after which the rest of the
// document cannot be read.
type errCut struct {
	line int // 1-based index of the message being read, 0 between messages
	err  error
}

func (e *errCut) Error() string { return e.err.Error() }

func (p *parser) parseTelegram(data []byte) error {
	t := &tgReader{p: p, dec: json.NewDecoder(bytes.NewReader(data))}
	t.dec.UseNumber()
	tok, err := t.dec.Token()
	if err != nil {
		return fmt.Errorf("exports: %s: %w: not JSON: %w", p.file, ErrMalformed, err)
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("exports: %s: %w: not a JSON object", p.file, ErrMalformed)
	}
	err = t.chat("", false, true)
	var cut *errCut
	if errors.As(err, &cut) {
		if t.read == 0 {
			return fmt.Errorf("exports: %s: %w: broken JSON at byte %d: %w", p.file, ErrMalformed, t.dec.InputOffset(), cut.err)
		}
		return p.lineError(cut.line, fmt.Errorf("broken JSON at byte %d, rest of the file skipped: %w", t.dec.InputOffset(), cut.err))
	}
	if err != nil {
		return err
	}
	if t.found == 0 {
		return fmt.Errorf("exports: %s: %w: no \"messages\" array and no chat list", p.file, ErrMalformed)
	}
	return nil
}

// chat reads the members of an object whose '{' is consumed: a chat's name,
// id and messages and, at the top of an account export, the chat lists.
// where prefixes errors ("chats.list[2]: "); multi marks ids that need the
// chat id to be unique in the file.
func (t *tgReader) chat(where string, multi, top bool) error {
	var name, id string
	var own [][2]int // ranges of t.p.msgs read from this chat's messages
	err := func() error {
		for t.dec.More() {
			key, err := t.key()
			if err != nil {
				return err
			}
			switch {
			case key == "name":
				name, err = t.scalar()
			case key == "id":
				id, err = t.scalar()
			case key == "messages":
				from := len(t.p.msgs)
				t.found++
				err = t.messages(where)
				own = append(own, [2]int{from, len(t.p.msgs)})
			case top && (key == "chats" || key == "left_chats"):
				err = t.chatList(key)
			default:
				err = t.skip()
			}
			if err != nil {
				return err
			}
		}
		return t.closing()
	}()
	for _, r := range own {
		for i := r[0]; i < r[1]; i++ {
			m := &t.p.msgs[i]
			m.Chat = name
			if multi && id != "" {
				m.ID = id + ":" + m.ID
			}
		}
	}
	return err
}

// chatList reads {"about": ..., "list": [chat, ...]}.
func (t *tgReader) chatList(key string) error {
	t.found++
	tok, err := t.token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		if err := t.skipRest(tok); err != nil {
			return err
		}
		return t.p.lineError(0, fmt.Errorf("%s is not an object", key))
	}
	for t.dec.More() {
		k, err := t.key()
		if err != nil {
			return err
		}
		if k != "list" {
			if err := t.skip(); err != nil {
				return err
			}
			continue
		}
		tok, err := t.token()
		if err != nil {
			return err
		}
		if tok != json.Delim('[') {
			if err := t.skipRest(tok); err != nil {
				return err
			}
			if err := t.p.lineError(0, fmt.Errorf("%s.list is not an array", key)); err != nil {
				return err
			}
			continue
		}
		for i := 0; t.dec.More(); i++ {
			where := fmt.Sprintf("%s.list[%d]: ", key, i)
			tok, err := t.token()
			if err != nil {
				return err
			}
			if tok != json.Delim('{') {
				if err := t.skipRest(tok); err != nil {
					return err
				}
				if err := t.p.lineError(0, fmt.Errorf("%snot a chat object", where)); err != nil {
					return err
				}
				continue
			}
			if err := t.chat(where, true, false); err != nil {
				return err
			}
		}
		if err := t.closing(); err != nil {
			return err
		}
	}
	return t.closing()
}

// messages reads a chat's "messages" array.
func (t *tgReader) messages(where string) error {
	tok, err := t.token()
	if err != nil {
		return err
	}
	if tok != json.Delim('[') {
		if err := t.skipRest(tok); err != nil {
			return err
		}
		return t.p.lineError(0, fmt.Errorf("%smessages is not an array", where))
	}
	for n := 1; t.dec.More(); n++ {
		var raw json.RawMessage
		if err := t.dec.Decode(&raw); err != nil {
			return &errCut{line: n, err: err}
		}
		t.read++
		m, keep, err := telegramMessage(raw, t.p.opts.Location)
		if err != nil {
			if err := t.p.lineError(n, fmt.Errorf("%s%w", where, err)); err != nil {
				return err
			}
			continue
		}
		if keep {
			m.Line = n
			if err := t.p.add(m); err != nil {
				return err
			}
		}
		if err := t.p.tick(); err != nil {
			return err
		}
	}
	return t.closing()
}

func (t *tgReader) token() (json.Token, error) {
	tok, err := t.dec.Token()
	if err != nil {
		return nil, &errCut{err: err}
	}
	return tok, nil
}

func (t *tgReader) key() (string, error) {
	tok, err := t.token()
	if err != nil {
		return "", err
	}
	k, ok := tok.(string)
	if !ok {
		return "", &errCut{err: fmt.Errorf("object key expected, found %v", tok)}
	}
	return k, nil
}

// closing consumes the '}' or ']' that ends the current value.
func (t *tgReader) closing() error {
	_, err := t.token()
	return err
}

func (t *tgReader) skip() error {
	var raw json.RawMessage
	if err := t.dec.Decode(&raw); err != nil {
		return &errCut{err: err}
	}
	return nil
}

// skipRest skips the rest of a value whose first token was tok.
func (t *tgReader) skipRest(tok json.Token) error {
	if tok != json.Delim('{') && tok != json.Delim('[') {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := t.token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// scalar reads a string or number as text; anything else is "".
func (t *tgReader) scalar() (string, error) {
	var v any
	if err := t.dec.Decode(&v); err != nil {
		return "", &errCut{err: err}
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	}
	return "", nil
}

// telegramMessage converts one element of "messages"; keep is false for
// service messages and messages without text (photos, stickers, polls).
// Fields Telegram has written as strings or as numbers over the years are
// read as either.
func telegramMessage(raw json.RawMessage, loc *time.Location) (m Message, keep bool, err error) {
	if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '{' {
		return m, false, errors.New("message is not a JSON object")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return m, false, fmt.Errorf("message: %w", err)
	}
	str := func(key string) string {
		if err != nil {
			return ""
		}
		v, ok := fields[key]
		if !ok {
			return ""
		}
		var f flexString
		if e := json.Unmarshal(v, &f); e != nil {
			err = fmt.Errorf("field %q: %w", key, e)
		}
		return string(f)
	}
	typ, idStr, date, unix := str("type"), str("id"), str("date"), str("date_unixtime")
	from, fromID, fwd, views := str("from"), str("from_id"), str("forwarded_from"), str("views")
	if err != nil {
		return m, false, err
	}
	if typ != "message" && typ != "" {
		return m, false, nil
	}
	text, links, err := telegramText(fields["text"], "text")
	if err != nil {
		return m, false, err
	}
	if trimText(text) == "" {
		text, links, err = telegramText(fields["text_entities"], "text_entities")
		if err != nil {
			return m, false, err
		}
	}
	text = trimText(text)
	if text == "" {
		return m, false, nil
	}
	if idStr == "" {
		return m, false, errors.New("message has no id")
	}
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil {
		return m, false, fmt.Errorf("message id %q is not an integer", short(idStr))
	}
	var when time.Time
	switch {
	case unix != "":
		sec, err := strconv.ParseInt(unix, 10, 64)
		if err != nil {
			return m, false, fmt.Errorf("message %d: date_unixtime %q is not a number of seconds", id, short(unix))
		}
		when = time.Unix(sec, 0).UTC()
	case date != "":
		d, err := time.ParseInLocation("2006-01-02T15:04:05", date, loc)
		if err != nil {
			return m, false, fmt.Errorf("message %d: date %q is not YYYY-MM-DDThh:mm:ss", id, short(date))
		}
		when = d.UTC()
	default:
		return m, false, fmt.Errorf("message %d has no date", id)
	}
	author := from
	if author == "" {
		author = fromID
	}
	n, _ := strconv.Atoi(views)
	return Message{
		Format:    FormatTelegramJSON,
		ID:        strconv.FormatInt(id, 10),
		Author:    author,
		Date:      when,
		Text:      text,
		Links:     findLinks(links, text),
		Forwarded: fwd,
		Views:     max(n, 0),
	}, true, nil
}

// tgEntity is a formatted run of a message text: {"type": "text_link",
// "text": "ici", "href": "https://…"}.
type tgEntity struct {
	Type flexString `json:"type"`
	Text flexString `json:"text"`
	Href flexString `json:"href"`
}

// telegramText reads "text" (a string, or an array of strings and
// entities) or "text_entities" (an array of entities) into plain text and
// the links its entities carry.
func telegramText(raw json.RawMessage, field string) (string, []string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", nil, fmt.Errorf("%s: %w", field, err)
		}
		return s, nil, nil
	case '[':
		var parts []json.RawMessage
		if err := json.Unmarshal(raw, &parts); err != nil {
			return "", nil, fmt.Errorf("%s: %w", field, err)
		}
		var b strings.Builder
		var links []string
		for i, part := range parts {
			part = bytes.TrimSpace(part)
			if len(part) > 0 && part[0] == '"' {
				var s string
				if err := json.Unmarshal(part, &s); err != nil {
					return "", nil, fmt.Errorf("%s[%d]: %w", field, i, err)
				}
				b.WriteString(s)
				continue
			}
			if len(part) == 0 || part[0] != '{' {
				return "", nil, fmt.Errorf("%s[%d] is neither a string nor an entity object", field, i)
			}
			var e tgEntity
			if err := json.Unmarshal(part, &e); err != nil {
				return "", nil, fmt.Errorf("%s[%d]: %w", field, i, err)
			}
			b.WriteString(string(e.Text))
			switch e.Type {
			case "link":
				links = appendLink(links, trimURL(string(e.Text)))
			case "text_link":
				links = appendLink(links, string(e.Href))
			}
		}
		return b.String(), links, nil
	}
	return "", nil, fmt.Errorf("%s is neither a string nor an array", field)
}

// flexString accepts a JSON string, number or null.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*s = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
		return nil
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		*s = flexString(b)
		return nil
	}
	return fmt.Errorf("want a string or a number, found %s", jsonKind(b))
}

// short cuts a value quoted in an error message.
func short(s string) string {
	const n = 40
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}

// jsonKind names the kind of JSON value b is, for error messages.
func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	}
	return "an invalid value"
}
