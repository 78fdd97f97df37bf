package tipline

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var testKey = []byte("0123456789abcdef-parse-test-key")

func testSealer(t *testing.T) sealer {
	t.Helper()
	s, err := newSealer(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTelegramUpdateToTip(t *testing.T) {
	const date = 1773301500 // 2026-03-12T07:45:00Z
	msg := func(fields string) string {
		return `{"update_id":9001,"message":{"message_id":42,"date":1773301500,` +
			`"from":{"id":777000111,"is_bot":false,"first_name":"Awa","username":"awa_b","language_code":"fr"},` +
			`"chat":{"id":777000111,"type":"private","first_name":"Awa"}` + fields + `}}`
	}
	tests := []struct {
		name      string
		update    string
		kind      kind
		text      string
		forwarded bool
	}{
		{"text", msg(`,"text":"Les casques bleus distribuent des armes à Bria"`), kindTip, "Les casques bleus distribuent des armes à Bria", false},
		{"forward_origin user", msg(`,"text":"Rumeur","forward_origin":{"type":"user","date":1773300000,"sender_user":{"id":5,"is_bot":false,"first_name":"X"}}`), kindTip, "Rumeur", true},
		{"forward_origin channel", msg(`,"text":"Rumeur","forward_origin":{"type":"channel","date":1773300000,"chat":{"id":-1001,"type":"channel","title":"Info"},"message_id":3}`), kindTip, "Rumeur", true},
		{"old forward_from", msg(`,"text":"Rumeur","forward_from":{"id":5,"is_bot":false,"first_name":"X"},"forward_date":1773300000`), kindTip, "Rumeur", true},
		{"old forward_from_chat", msg(`,"text":"Rumeur","forward_from_chat":{"id":-1001,"type":"channel","title":"Info"},"forward_date":1773300000`), kindTip, "Rumeur", true},
		{"old hidden sender", msg(`,"text":"Rumeur","forward_sender_name":"Quelqu'un","forward_date":1773300000`), kindTip, "Rumeur", true},
		{"photo with caption", msg(`,"photo":[{"file_id":"a","file_unique_id":"b","width":90,"height":90}],"caption":"Regardez ce convoi"`), kindTip, "Regardez ce convoi", false},
		{"forwarded photo with caption", msg(`,"photo":[{"file_id":"a","file_unique_id":"b","width":90,"height":90}],"caption":"Convoi","forward_date":1773300000,"forward_sender_name":"X"`), kindTip, "Convoi", true},
		{"photo without caption", msg(`,"photo":[{"file_id":"a","file_unique_id":"b","width":90,"height":90}]`), kindNeedText, "", false},
		{"sticker", msg(`,"sticker":{"file_id":"s","file_unique_id":"u","type":"regular","width":512,"height":512,"is_animated":false,"is_video":false}`), kindNeedText, "", false},
		{"voice", msg(`,"voice":{"file_id":"v","file_unique_id":"u","duration":3}`), kindNeedText, "", false},
		{"/start", msg(`,"text":"/start","entities":[{"offset":0,"length":6,"type":"bot_command"}]`), kindWelcome, "", false},
		{"/start with payload", msg(`,"text":"/start radio42"`), kindWelcome, "", false},
		{"/start@bot", msg(`,"text":"/start@VeilleTiplineBot"`), kindWelcome, "", false},
		{"/help", msg(`,"text":"/help"`), kindWelcome, "", false},
		{"/starter is text", msg(`,"text":"/starter pack"`), kindTip, "/starter pack", false},
		{"forwarded /start is a tip", msg(`,"text":"/start","forward_date":1773300000,"forward_sender_name":"X"`), kindTip, "/start", true},
		{"service message", msg(`,"pinned_message":{"message_id":1,"date":0,"chat":{"id":777000111,"type":"private"}}`), kindIgnore, "", false},
		{"group chat", `{"update_id":9001,"message":{"message_id":42,"date":1773301500,"from":{"id":777000111,"is_bot":false,"first_name":"Awa"},"chat":{"id":-100200,"type":"supergroup","title":"G"},"text":"Rumeur"}}`, kindIgnore, "", false},
		{"from a bot", `{"update_id":9001,"message":{"message_id":42,"date":1773301500,"from":{"id":5,"is_bot":true,"first_name":"B"},"chat":{"id":5,"type":"private"},"text":"x"}}`, kindIgnore, "", false},
		{"edited message", `{"update_id":9001,"edited_message":{"message_id":42,"date":1773301500,"edit_date":1773301600,"from":{"id":777000111,"is_bot":false,"first_name":"Awa"},"chat":{"id":777000111,"type":"private"},"text":"x"}}`, kindIgnore, "", false},
	}
	s := testSealer(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, in, err := decodeUpdate([]byte(tc.update), testKey, s)
			if err != nil {
				t.Fatalf("decodeUpdate: %v", err)
			}
			if id != 9001 {
				t.Errorf("update id = %d, want 9001", id)
			}
			if in.kind != tc.kind {
				t.Fatalf("kind = %d, want %d", in.kind, tc.kind)
			}
			if tc.kind == kindIgnore {
				return
			}
			tip := in.tip
			if tip.Text != tc.text || tip.Forwarded != tc.forwarded {
				t.Errorf("Text, Forwarded = %q, %v; want %q, %v", tip.Text, tip.Forwarded, tc.text, tc.forwarded)
			}
			if tip.Channel != ChannelTelegram || tip.MessageID != "42" || tip.LangHint != "fr" || !tip.Date.Equal(time.Unix(date, 0)) {
				t.Errorf("Channel, MessageID, LangHint, Date = %q, %q, %q, %v", tip.Channel, tip.MessageID, tip.LangHint, tip.Date)
			}
			if want := HashSender(testKey, ChannelTelegram, "777000111"); tip.SenderHash != want {
				t.Errorf("SenderHash = %q, want %q", tip.SenderHash, want)
			}
			if strings.Contains(tip.ChatID, "777000111") || strings.Contains(tip.SenderHash, "777000111") {
				t.Errorf("raw id in ChatID %q or SenderHash %q", tip.ChatID, tip.SenderHash)
			}
			if chat, err := s.open(ChannelTelegram, tip.ChatID); err != nil || chat != "777000111" {
				t.Errorf("open(ChatID) = %q, %v; want the chat id", chat, err)
			}
			if in.chat != "777000111" || in.replyTo != "42" {
				t.Errorf("reply to chat %q message %q", in.chat, in.replyTo)
			}
		})
	}
}

func TestTelegramUndecodableUpdateKeepsItsID(t *testing.T) {
	id, _, err := decodeUpdate([]byte(`{"update_id":77,"message":{"message_id":"not a number"}}`), testKey, testSealer(t))
	if err == nil || id != 77 {
		t.Fatalf("decodeUpdate = %d, %v; want 77 and an error", id, err)
	}
}

func TestWhatsAppPayloadToTips(t *testing.T) {
	const phoneID = "106540352242922"
	const wamid = "wamid.HBgLMjM2NzIwMDAwMDEVAgASGBQzQUQ4NzJFRkMyMTk0QjQ0RTlBMwA="
	notif := func(phone, field, messages string) string {
		return `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"` + field + `","value":{` +
			`"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"` + phone + `"},` +
			`"contacts":[{"profile":{"name":"Awa B"},"wa_id":"23672000001"}],"messages":[` + messages + `]}}]}]}`
	}
	msg := func(typ, content string) string {
		return `{"from":"23672000001","id":"` + wamid + `","timestamp":"1773301500","type":"` + typ + `"` + content + `}`
	}
	tests := []struct {
		name      string
		payload   string
		kinds     []kind
		text      string
		forwarded bool
	}{
		{"text", notif(phoneID, "messages", msg("text", `,"text":{"body":"Les casques bleus volent le bétail"}`)), []kind{kindTip}, "Les casques bleus volent le bétail", false},
		{"forwarded", notif(phoneID, "messages", msg("text", `,"text":{"body":"Rumeur"},"context":{"forwarded":true}`)), []kind{kindTip}, "Rumeur", true},
		{"frequently forwarded", notif(phoneID, "messages", msg("text", `,"text":{"body":"Rumeur"},"context":{"forwarded":true,"frequently_forwarded":true}`)), []kind{kindTip}, "Rumeur", true},
		{"reply is not forwarded", notif(phoneID, "messages", msg("text", `,"text":{"body":"Et ça ?"},"context":{"from":"15550783881","id":"wamid.X"}`)), []kind{kindTip}, "Et ça ?", false},
		{"image with caption", notif(phoneID, "messages", msg("image", `,"image":{"caption":"Convoi à Bangui","mime_type":"image/jpeg","sha256":"x","id":"1"}`)), []kind{kindTip}, "Convoi à Bangui", false},
		{"video with caption", notif(phoneID, "messages", msg("video", `,"video":{"caption":"Vidéo choc","mime_type":"video/mp4","id":"1"}`)), []kind{kindTip}, "Vidéo choc", false},
		{"image without caption", notif(phoneID, "messages", msg("image", `,"image":{"mime_type":"image/jpeg","sha256":"x","id":"1"}`)), []kind{kindNeedText}, "", false},
		{"sticker", notif(phoneID, "messages", msg("sticker", `,"sticker":{"mime_type":"image/webp","id":"1","animated":false}`)), []kind{kindNeedText}, "", false},
		{"audio", notif(phoneID, "messages", msg("audio", `,"audio":{"mime_type":"audio/ogg","id":"1","voice":true}`)), []kind{kindNeedText}, "", false},
		{"unsupported", notif(phoneID, "messages", msg("unsupported", `,"errors":[{"code":131051,"title":"Message type unknown"}]`)), []kind{kindNeedText}, "", false},
		{"request_welcome", notif(phoneID, "messages", msg("request_welcome", ``)), []kind{kindWelcome}, "", false},
		{"reaction", notif(phoneID, "messages", msg("reaction", `,"reaction":{"message_id":"wamid.Y","emoji":"👍"}`)), nil, "", false},
		{"two messages", notif(phoneID, "messages", msg("text", `,"text":{"body":"a"}`)+","+msg("text", `,"text":{"body":"a"}`)), []kind{kindTip, kindTip}, "a", false},
		{"another number", notif("999", "messages", msg("text", `,"text":{"body":"x"}`)), nil, "", false},
		{"other field", notif(phoneID, "account_update", msg("text", `,"text":{"body":"x"}`)), nil, "", false},
		{"statuses", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",` +
			`"metadata":{"display_phone_number":"15550783881","phone_number_id":"` + phoneID + `"},` +
			`"statuses":[{"id":"wamid.Z","status":"delivered","timestamp":"1773301500","recipient_id":"23672000001"}]}}]}]}`, nil, "", false},
		{"other object", `{"object":"page","entry":[]}`, nil, "", false},
	}
	s := testSealer(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := decodeNotification([]byte(tc.payload))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			ins, other := whatsappInbound(n, phoneID, testKey, s)
			if tc.name == "another number" && other != 1 {
				t.Errorf("other = %d, want 1", other)
			}
			if len(ins) != len(tc.kinds) {
				t.Fatalf("got %d messages, want %d", len(ins), len(tc.kinds))
			}
			for i, in := range ins {
				if in.kind != tc.kinds[i] {
					t.Errorf("message %d: kind = %d, want %d", i, in.kind, tc.kinds[i])
				}
				tip := in.tip
				if tip.Text != tc.text || tip.Forwarded != tc.forwarded {
					t.Errorf("Text, Forwarded = %q, %v; want %q, %v", tip.Text, tip.Forwarded, tc.text, tc.forwarded)
				}
				if tip.Channel != ChannelWhatsApp || tip.LangHint != "" || !tip.Date.Equal(time.Unix(1773301500, 0)) {
					t.Errorf("Channel, LangHint, Date = %q, %q, %v", tip.Channel, tip.LangHint, tip.Date)
				}
				if want := HashSender(testKey, ChannelWhatsApp, "23672000001"); tip.SenderHash != want {
					t.Errorf("SenderHash = %q, want %q", tip.SenderHash, want)
				}
				// The wamid encodes the sender's number: it must not leave either.
				if tip.MessageID == wamid || len(tip.MessageID) != 32 {
					t.Errorf("MessageID = %q, want a 32-hex-digit hash of the wamid", tip.MessageID)
				}
				for _, f := range []string{tip.ChatID, tip.SenderHash, tip.MessageID, tip.ID()} {
					if strings.Contains(f, "23672000001") {
						t.Errorf("raw number in %q", f)
					}
				}
				if to, err := s.open(ChannelWhatsApp, tip.ChatID); err != nil || to != "23672000001" {
					t.Errorf("open(ChatID) = %q, %v", to, err)
				}
				if in.chat != "23672000001" || in.replyTo != wamid || in.dedup != wamid {
					t.Errorf("chat, replyTo, dedup = %q, %q, %q", in.chat, in.replyTo, in.dedup)
				}
			}
		})
	}
}

func TestSealedChatIDIsBoundToChannelAndKey(t *testing.T) {
	s := testSealer(t)
	other, err := newSealer([]byte("another-key-of-sufficient-length"))
	if err != nil {
		t.Fatal(err)
	}
	sealed := s.seal(ChannelTelegram, "12345")
	if sealed == s.seal(ChannelTelegram, "12345") {
		t.Error("sealing is deterministic; want a fresh nonce each time")
	}
	tests := []struct {
		name    string
		s       sealer
		channel string
		in      string
		ok      bool
	}{
		{"same key and channel", s, ChannelTelegram, sealed, true},
		{"other channel", s, ChannelWhatsApp, sealed, false},
		{"other key", other, ChannelTelegram, sealed, false},
		{"tampered", s, ChannelTelegram, sealed[:len(sealed)-2] + "AA", false},
		{"raw id", s, ChannelTelegram, "12345", false},
		{"empty", s, ChannelTelegram, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.s.open(tc.channel, tc.in)
			if tc.ok && (err != nil || got != "12345") {
				t.Fatalf("open = %q, %v; want 12345", got, err)
			}
			if !tc.ok && err != ErrBadChatID {
				t.Fatalf("open = %q, %v; want ErrBadChatID", got, err)
			}
		})
	}
}

func TestHashSender(t *testing.T) {
	a := HashSender(testKey, ChannelTelegram, "777000111")
	if len(a) != 32 || strings.Contains(a, "777000111") {
		t.Errorf("HashSender = %q, want 32 hex digits without the id", a)
	}
	if a != HashSender(testKey, ChannelTelegram, "777000111") {
		t.Error("HashSender is not stable")
	}
	for _, b := range []string{
		HashSender(testKey, ChannelWhatsApp, "777000111"),
		HashSender(testKey, ChannelTelegram, "777000112"),
		HashSender([]byte("another-key-of-sufficient-length"), ChannelTelegram, "777000111"),
	} {
		if a == b {
			t.Errorf("HashSender collides: %q", b)
		}
	}
}

func TestDedupForgetsAfterTTLAndBeyondMax(t *testing.T) {
	d := newDedup(time.Minute, 3)
	t0 := time.Unix(1773301500, 0)
	steps := []struct {
		key string
		at  time.Duration
		new bool
	}{
		{"a", 0, true},
		{"a", time.Second, false},
		{"b", 2 * time.Second, true},
		{"a", 59 * time.Second, false},
		{"a", 61 * time.Second, true}, // expired
		{"c", 62 * time.Second, true},
		{"d", 63 * time.Second, true}, // over max: the oldest, b, goes
		{"b", 64 * time.Second, true},
		{"d", 65 * time.Second, false},
	}
	for i, s := range steps {
		if got := d.add(s.key, t0.Add(s.at)); got != s.new {
			t.Fatalf("step %d: add(%q) = %v, want %v", i, s.key, got, s.new)
		}
	}
	d.remove("d")
	if !d.add("d", t0.Add(66*time.Second)) {
		t.Error("a removed key is still remembered")
	}
}

func TestScrubRemovesTokenFromTransportErrors(t *testing.T) {
	const token = "123456:AAE-secret_token"
	err := scrub(&url.Error{Op: "Post", URL: "https://api.telegram.org/bot" + token + "/getUpdates", Err: errors.New("dial tcp: connection refused")}, token)
	if strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("scrub(url.Error) = %q", err)
	}
	err = scrub(errors.New("proxy said: bad path /bot"+token+"/x"), token)
	if strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("scrub = %q", err)
	}
}

func TestSplitReply(t *testing.T) {
	word := strings.Repeat("mot ", 1500)                                    // 6000 units, spaces
	para := strings.Repeat("a", 3000) + "\n\n" + strings.Repeat("b ", 1000) // break at the paragraph
	solid := strings.Repeat("x", 5000)                                      // no break at all
	emoji := strings.Repeat("👍", 3000)                                      // 6000 units: surrogate pairs
	accents := strings.Repeat("e\u0301", 3000)                              // base + combining mark
	family := strings.Repeat("👩\u200d👩\u200d👧", 1000)                       // ZWJ sequences
	huge := strings.Repeat("phrase. ", 3000)                                // over three messages
	tests := []struct {
		name     string
		in       string
		parts    int
		trimmed  bool
		firstLen int // in UTF-16 units, 0 = don't check
	}{
		{"empty", "  ", 0, false, 0},
		{"short", " Bonjour ", 1, false, 7},
		{"exactly the limit", strings.Repeat("é", 4096), 1, false, 4096},
		{"words", word, 2, false, 0},
		{"paragraph", para, 2, false, 3000},
		{"no break", solid, 2, false, 4096},
		{"emoji", emoji, 2, false, 4096},
		{"combining marks", accents, 2, false, 0},
		{"zwj sequences", family, 2, false, 0},
		{"too long", huge, 3, true, 0},
		{"invalid utf-8", "ok \xff\xfe done", 1, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parts := splitReply(tc.in, 4096, 3)
			if len(parts) != tc.parts {
				t.Fatalf("%d parts, want %d", len(parts), tc.parts)
			}
			for i, p := range parts {
				if n := utf16Len(p); n > 4096 || n == 0 {
					t.Errorf("part %d: %d units", i, n)
				}
				if !utf8.ValidString(p) {
					t.Errorf("part %d: invalid UTF-8", i)
				}
				if r := []rune(p)[0]; joins(r) {
					t.Errorf("part %d starts with joining rune %U", i, r)
				}
				if rs := []rune(p); rs[len(rs)-1] == '\u200d' {
					t.Errorf("part %d ends with a zero-width joiner", i)
				}
			}
			if tc.firstLen > 0 && utf16Len(parts[0]) != tc.firstLen {
				t.Errorf("first part %d units, want %d", utf16Len(parts[0]), tc.firstLen)
			}
			last := ""
			if len(parts) > 0 {
				last = parts[len(parts)-1]
			}
			if got := strings.HasSuffix(last, "…"); got != tc.trimmed {
				t.Errorf("trimmed = %v, want %v", got, tc.trimmed)
			}
			if !tc.trimmed && strings.ToValidUTF8(tc.in, "\uFFFD") != "" {
				joined := strings.Join(strings.Fields(strings.Join(parts, " ")), "")
				want := strings.Join(strings.Fields(strings.ToValidUTF8(tc.in, "\uFFFD")), "")
				if joined != want {
					t.Error("parts do not add up to the reply")
				}
			}
		})
	}
}

func TestNewConfigErrorsNameTheField(t *testing.T) {
	good := TelegramConfig{Token: "123:abc", HashKey: testKey}
	wa := WhatsAppConfig{AppSecret: "s", VerifyToken: "v", AccessToken: "a", PhoneNumberID: "1", HashKey: testKey}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"telegram token", tgErr(func(c *TelegramConfig) { c.Token = "" }, good), "Token is empty"},
		{"telegram token chars", tgErr(func(c *TelegramConfig) { c.Token = "12:ab/../x" }, good), "Token has a character"},
		{"telegram hash key", tgErr(func(c *TelegramConfig) { c.HashKey = nil }, good), "HashKey is empty"},
		{"telegram short hash key", tgErr(func(c *TelegramConfig) { c.HashKey = []byte("short") }, good), "HashKey is 5 bytes"},
		{"telegram mode", tgErr(func(c *TelegramConfig) { c.Mode = "push" }, good), "Mode is \"push\""},
		{"telegram webhook url", tgErr(func(c *TelegramConfig) { c.Mode = TelegramWebhook; c.WebhookSecret = "s" }, good), "WebhookURL is empty"},
		{"telegram webhook secret", tgErr(func(c *TelegramConfig) { c.Mode = TelegramWebhook; c.WebhookURL = "https://x.org/tg" }, good), "WebhookSecret is empty"},
		{"telegram webhook secret chars", tgErr(func(c *TelegramConfig) {
			c.Mode, c.WebhookURL, c.WebhookSecret = TelegramWebhook, "https://x.org/tg", "a b"
		}, good), "WebhookSecret has a character"},
		{"telegram base url", tgErr(func(c *TelegramConfig) { c.BaseURL = "api.telegram.org" }, good), "BaseURL is not"},
		{"telegram client timeout", tgErr(func(c *TelegramConfig) { c.HTTPClient = &http.Client{Timeout: 10 * time.Second} }, good), "HTTPClient.Timeout"},
		{"telegram poll timeout", tgErr(func(c *TelegramConfig) { c.PollTimeout = time.Millisecond }, good), "PollTimeout"},
		{"whatsapp app secret", waErr(func(c *WhatsAppConfig) { c.AppSecret = "" }, wa), "AppSecret is empty"},
		{"whatsapp verify token", waErr(func(c *WhatsAppConfig) { c.VerifyToken = "" }, wa), "VerifyToken is empty"},
		{"whatsapp access token", waErr(func(c *WhatsAppConfig) { c.AccessToken = "" }, wa), "AccessToken is empty"},
		{"whatsapp phone number id", waErr(func(c *WhatsAppConfig) { c.PhoneNumberID = "" }, wa), "PhoneNumberID is empty"},
		{"whatsapp phone number id digits", waErr(func(c *WhatsAppConfig) { c.PhoneNumberID = "12/../3" }, wa), "PhoneNumberID \"12/../3\" is not all digits"},
		{"whatsapp hash key", waErr(func(c *WhatsAppConfig) { c.HashKey = nil }, wa), "HashKey is empty"},
		{"whatsapp graph url", waErr(func(c *WhatsAppConfig) { c.GraphBaseURL = "ftp://x" }, wa), "GraphBaseURL is not"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, ErrConfig) || !strings.Contains(tc.err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrConfig naming %q", tc.err, tc.want)
			}
		})
	}
	if _, err := NewTelegram(good); err != nil {
		t.Errorf("NewTelegram(minimal) = %v", err)
	}
	if _, err := NewWhatsApp(wa); err != nil {
		t.Errorf("NewWhatsApp(minimal) = %v", err)
	}
}

func tgErr(f func(*TelegramConfig), c TelegramConfig) error {
	f(&c)
	_, err := NewTelegram(c)
	return err
}

func waErr(f func(*WhatsAppConfig), c WhatsAppConfig) error {
	f(&c)
	_, err := NewWhatsApp(c)
	return err
}
