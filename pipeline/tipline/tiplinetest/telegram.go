package tiplinetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Bot API types, with the fields the stand-in and the tests use.
type (
	// Update is a Bot API Update.
	Update struct {
		UpdateID int64    `json:"update_id"`
		Message  *Message `json:"message,omitempty"`
	}
	// User is a Bot API User.
	User struct {
		ID           int64  `json:"id"`
		IsBot        bool   `json:"is_bot"`
		FirstName    string `json:"first_name"`
		Username     string `json:"username,omitempty"`
		LanguageCode string `json:"language_code,omitempty"`
	}
	// Chat is a Bot API Chat.
	Chat struct {
		ID        int64  `json:"id"`
		Type      string `json:"type"`
		FirstName string `json:"first_name,omitempty"`
		Title     string `json:"title,omitempty"`
	}
	// MessageOrigin is a Bot API MessageOrigin (Bot API 7.0 on).
	MessageOrigin struct {
		Type       string `json:"type"` // "user", "hidden_user", "chat", "channel"
		Date       int64  `json:"date"`
		SenderUser *User  `json:"sender_user,omitempty"`
		Chat       *Chat  `json:"chat,omitempty"`
		SenderName string `json:"sender_user_name,omitempty"`
	}
	// PhotoSize is a Bot API PhotoSize.
	PhotoSize struct {
		FileID       string `json:"file_id"`
		FileUniqueID string `json:"file_unique_id"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
	}
	// Sticker is the part of a Bot API Sticker the tests set.
	Sticker struct {
		FileID       string `json:"file_id"`
		FileUniqueID string `json:"file_unique_id"`
		Type         string `json:"type"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		IsAnimated   bool   `json:"is_animated"`
		IsVideo      bool   `json:"is_video"`
	}
	// Message is a Bot API Message.
	Message struct {
		MessageID       int64          `json:"message_id"`
		From            *User          `json:"from,omitempty"`
		Chat            Chat           `json:"chat"`
		Date            int64          `json:"date"`
		Text            string         `json:"text,omitempty"`
		Caption         string         `json:"caption,omitempty"`
		Photo           []PhotoSize    `json:"photo,omitempty"`
		Sticker         *Sticker       `json:"sticker,omitempty"`
		ForwardOrigin   *MessageOrigin `json:"forward_origin,omitempty"`
		ForwardFrom     *User          `json:"forward_from,omitempty"`
		ForwardFromChat *Chat          `json:"forward_from_chat,omitempty"`
		ForwardDate     int64          `json:"forward_date,omitempty"`
	}
)

// SentMessage is one sendMessage call the stand-in accepted.
type SentMessage struct {
	MessageID        int64 // the id the stand-in gave the bot's message
	ChatID           int64
	Text             string
	ReplyToMessageID int64 // 0 when not a reply
}

// TelegramServer is a stand-in Bot API server for one bot token. It keeps a
// queue of updates for getUpdates (or pushes them to a webhook once one is
// set), records sendMessage calls, and answers a wrong token with 404 like
// the real API.
type TelegramServer struct {
	t     testing.TB
	srv   *httptest.Server
	token string

	mu            sync.Mutex
	nextUpdate    int64
	nextMessage   int64
	updates       []Update // not yet confirmed
	newUpdate     chan struct{}
	sent          []SentMessage
	newSent       chan struct{}
	webhookURL    string
	webhookSecret string
	fail          map[string][]int
	calls         map[string][]time.Time
}

// NewTelegram starts a stand-in for the bot with token; it stops when the
// test ends.
func NewTelegram(t testing.TB, token string) *TelegramServer {
	t.Helper()
	s := &TelegramServer{
		t:           t,
		token:       token,
		nextUpdate:  100000,
		nextMessage: 1,
		newUpdate:   make(chan struct{}),
		newSent:     make(chan struct{}),
		fail:        make(map[string][]int),
		calls:       make(map[string][]time.Time),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// Close stops the server early, to test an unreachable API.
func (s *TelegramServer) Close() { s.srv.Close() }

// URL is the base URL to configure as the Bot API server.
func (s *TelegramServer) URL() string { return s.srv.URL }

// Send queues an update (filling in update_id and the message's id and date
// when zero) and returns its update_id. When a webhook is set, it is POSTed
// there instead, as Telegram does.
func (s *TelegramServer) Send(u Update) int64 {
	s.t.Helper()
	s.mu.Lock()
	if u.UpdateID == 0 {
		u.UpdateID = s.nextUpdate
		s.nextUpdate++
	}
	if m := u.Message; m != nil {
		if m.MessageID == 0 {
			m.MessageID = s.nextMessage
			s.nextMessage++
		}
		if m.Date == 0 {
			m.Date = time.Now().Unix()
		}
	}
	hook, secret := s.webhookURL, s.webhookSecret
	if hook == "" {
		s.updates = append(s.updates, u)
		close(s.newUpdate)
		s.newUpdate = make(chan struct{})
	}
	s.mu.Unlock()
	if hook != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		status, err := PostUpdate(ctx, hook, secret, u)
		if err != nil || status != http.StatusOK {
			s.t.Errorf("tiplinetest: webhook delivery of update %d: status %d, %v", u.UpdateID, status, err)
		}
	}
	return u.UpdateID
}

// SendText queues a text message from user fromID in private chat chatID and
// returns the message's id.
func (s *TelegramServer) SendText(chatID, fromID int64, text, langCode string) int64 {
	s.t.Helper()
	m := &Message{
		From: &User{ID: fromID, FirstName: "Test", LanguageCode: langCode},
		Chat: Chat{ID: chatID, Type: "private", FirstName: "Test"},
		Text: text,
	}
	s.Send(Update{Message: m})
	return m.MessageID
}

// PostUpdate POSTs an update to a webhook the way Telegram does, with the
// secret token header when secret is not "", and returns the status.
func PostUpdate(ctx context.Context, webhookURL, secret string, u Update) (int, error) {
	body, err := json.Marshal(u)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Sent is every message sent so far.
func (s *TelegramServer) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentMessage(nil), s.sent...)
}

// WaitSent waits until at least n messages were sent, or ctx ends.
func (s *TelegramServer) WaitSent(ctx context.Context, n int) ([]SentMessage, error) {
	for {
		s.mu.Lock()
		sent, ch := append([]SentMessage(nil), s.sent...), s.newSent
		s.mu.Unlock()
		if len(sent) >= n {
			return sent, nil
		}
		select {
		case <-ctx.Done():
			return sent, fmt.Errorf("tiplinetest: %d of %d messages sent: %w", len(sent), n, ctx.Err())
		case <-ch:
		}
	}
}

// FailNext makes the next call of method answer 429 Too Many Requests with
// parameters.retry_after set to retryAfter seconds. Calls queue up.
func (s *TelegramServer) FailNext(method string, retryAfter int) {
	s.mu.Lock()
	s.fail[method] = append(s.fail[method], retryAfter)
	s.mu.Unlock()
}

// Calls is when method was called with the right token, in order.
func (s *TelegramServer) Calls(method string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.calls[method]...)
}

// Pending is how many updates the bot has not yet confirmed.
func (s *TelegramServer) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// Webhook is the webhook set with setWebhook, "" when none.
func (s *TelegramServer) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookURL, s.webhookSecret
}

func (s *TelegramServer) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || token != s.token {
		apiError(w, http.StatusNotFound, "Not Found", 0)
		return
	}
	params, err := readParams(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, "Bad Request: "+err.Error(), 0)
		return
	}
	s.mu.Lock()
	s.calls[method] = append(s.calls[method], time.Now())
	if q := s.fail[method]; len(q) > 0 {
		s.fail[method] = q[1:]
		s.mu.Unlock()
		apiError(w, http.StatusTooManyRequests, fmt.Sprintf("Too Many Requests: retry after %d", q[0]), q[0])
		return
	}
	s.mu.Unlock()
	switch method {
	case "getMe":
		ok200(w, User{ID: 1, IsBot: true, FirstName: "Tipline", Username: "tipline_bot"})
	case "getUpdates":
		s.getUpdates(w, r, params)
	case "sendMessage":
		s.sendMessage(w, params)
	case "setWebhook":
		u, _ := params["url"].(string)
		secret, _ := params["secret_token"].(string)
		s.mu.Lock()
		s.webhookURL, s.webhookSecret = u, secret
		s.mu.Unlock()
		ok200(w, true)
	case "deleteWebhook":
		s.mu.Lock()
		s.webhookURL, s.webhookSecret = "", ""
		if b, _ := params["drop_pending_updates"].(bool); b {
			s.updates = nil
		}
		s.mu.Unlock()
		ok200(w, true)
	default:
		apiError(w, http.StatusNotFound, "Not Found", 0)
	}
}

func (s *TelegramServer) getUpdates(w http.ResponseWriter, r *http.Request, p map[string]any) {
	offset, limit, timeout := id(p["offset"]), int(num(p["limit"])), num(p["timeout"])
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	deadline := time.NewTimer(time.Duration(timeout * float64(time.Second)))
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if s.webhookURL != "" {
			s.mu.Unlock()
			apiError(w, http.StatusConflict, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first", 0)
			return
		}
		// An offset confirms every update before it.
		if offset != 0 {
			keep := s.updates[:0]
			for _, u := range s.updates {
				if u.UpdateID >= offset {
					keep = append(keep, u)
				}
			}
			s.updates = keep
		}
		out := append([]Update(nil), s.updates[:min(limit, len(s.updates))]...)
		wake := s.newUpdate
		s.mu.Unlock()
		if len(out) > 0 || timeout <= 0 {
			ok200(w, out)
			return
		}
		select {
		case <-wake:
		case <-deadline.C:
			ok200(w, []Update{})
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (s *TelegramServer) sendMessage(w http.ResponseWriter, p map[string]any) {
	text, _ := p["text"].(string)
	chatID := id(p["chat_id"])
	if chatID == 0 {
		apiError(w, http.StatusBadRequest, "Bad Request: chat not found", 0)
		return
	}
	if text == "" {
		apiError(w, http.StatusBadRequest, "Bad Request: message text is empty", 0)
		return
	}
	if utf16Len(text) > 4096 {
		apiError(w, http.StatusBadRequest, "Bad Request: message is too long", 0)
		return
	}
	var replyTo int64
	if rp, ok := p["reply_parameters"].(map[string]any); ok {
		replyTo = id(rp["message_id"])
	} else if v, ok := p["reply_to_message_id"]; ok {
		replyTo = id(v)
	}
	s.mu.Lock()
	m := SentMessage{MessageID: s.nextMessage, ChatID: chatID, Text: text, ReplyToMessageID: replyTo}
	s.nextMessage++
	s.sent = append(s.sent, m)
	close(s.newSent)
	s.newSent = make(chan struct{})
	s.mu.Unlock()
	ok200(w, Message{MessageID: m.MessageID, Chat: Chat{ID: chatID, Type: "private"}, Date: time.Now().Unix(), Text: text,
		From: &User{ID: 1, IsBot: true, FirstName: "Tipline"}})
}

// readParams reads a method's parameters from a JSON body, a form or the
// query string, as the Bot API accepts all three.
func readParams(r *http.Request) (map[string]any, error) {
	p := map[string]any{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		dec.UseNumber()
		if err := dec.Decode(&p); err != nil && err != io.EOF {
			return nil, err
		}
		return p, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	for k, v := range r.Form {
		var x any
		if json.Unmarshal([]byte(v[0]), &x) == nil {
			p[k] = x
		} else {
			p[k] = v[0]
		}
	}
	return p, nil
}

// num reads a JSON number (or numeric string) parameter, 0 when absent.
func num(v any) float64 {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return 0
}

// id reads an integer parameter such as a chat id without going through
// float64, which would round a large id.
func id(v any) int64 {
	switch x := v.(type) {
	case json.Number:
		n, _ := x.Int64()
		return n
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return int64(num(v))
}

// utf16Len is a text's length as Telegram counts it, in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

func ok200(w http.ResponseWriter, result any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

func apiError(w http.ResponseWriter, status int, desc string, retryAfter int) {
	body := map[string]any{"ok": false, "error_code": status, "description": desc}
	if retryAfter > 0 {
		body["parameters"] = map[string]any{"retry_after": retryAfter}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
