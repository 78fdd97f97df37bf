package tiplinetest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// WhatsApp Cloud API webhook types, with the fields the stand-in and the
// tests use.
type (
	// WANotification is a webhook notification body.
	WANotification struct {
		Object string    `json:"object"`
		Entry  []WAEntry `json:"entry"`
	}
	// WAEntry is one entry of a notification.
	WAEntry struct {
		ID      string     `json:"id"`
		Changes []WAChange `json:"changes"`
	}
	// WAChange is one change of an entry.
	WAChange struct {
		Field string  `json:"field"`
		Value WAValue `json:"value"`
	}
	// WAValue is a change's value.
	WAValue struct {
		MessagingProduct string      `json:"messaging_product"`
		Metadata         WAMetadata  `json:"metadata"`
		Contacts         []WAContact `json:"contacts,omitempty"`
		Messages         []WAMessage `json:"messages,omitempty"`
		Statuses         []WAStatus  `json:"statuses,omitempty"`
	}
	// WAMetadata names the business number a change is for.
	WAMetadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	}
	// WAContact is the sender's profile.
	WAContact struct {
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
		WaID string `json:"wa_id"`
	}
	// WAMessage is one incoming message.
	WAMessage struct {
		From      string     `json:"from"`
		ID        string     `json:"id"`
		Timestamp string     `json:"timestamp"`
		Type      string     `json:"type"`
		Text      *WAText    `json:"text,omitempty"`
		Image     *WAMedia   `json:"image,omitempty"`
		Video     *WAMedia   `json:"video,omitempty"`
		Sticker   *WAMedia   `json:"sticker,omitempty"`
		Audio     *WAMedia   `json:"audio,omitempty"`
		Context   *WAContext `json:"context,omitempty"`
	}
	// WAText is a text message's content.
	WAText struct {
		Body string `json:"body"`
	}
	// WAMedia is a media message's content.
	WAMedia struct {
		ID       string `json:"id"`
		MimeType string `json:"mime_type"`
		SHA256   string `json:"sha256,omitempty"`
		Caption  string `json:"caption,omitempty"`
	}
	// WAContext marks a forwarded message (or a reply).
	WAContext struct {
		Forwarded           bool   `json:"forwarded,omitempty"`
		FrequentlyForwarded bool   `json:"frequently_forwarded,omitempty"`
		From                string `json:"from,omitempty"`
		ID                  string `json:"id,omitempty"`
	}
	// WAStatus is a delivery status of a sent message.
	WAStatus struct {
		ID          string `json:"id"`
		Status      string `json:"status"`
		Timestamp   string `json:"timestamp"`
		RecipientID string `json:"recipient_id"`
	}
)

// WASent is one message sent through the stand-in's messages endpoint.
type WASent struct {
	PhoneNumberID string // from the URL path
	Version       string // from the URL path, such as "v21.0"
	To            string
	Text          string
	ReplyTo       string // context.message_id, "" when not a reply
	ID            string // the wamid the stand-in gave it
}

// Stand-in business number.
const (
	WAPhoneNumberID      = "106540352242922"
	WADisplayPhoneNumber = "15550783881"
)

// WhatsAppServer is a stand-in for the Cloud API's messages endpoint, and
// the sender of signed webhook notifications, for one app secret and access
// token.
type WhatsAppServer struct {
	t           testing.TB
	srv         *httptest.Server
	appSecret   string
	accessToken string

	mu      sync.Mutex
	sent    []WASent
	newSent chan struct{}
	fail    []int
	calls   int
}

// NewWhatsApp starts a stand-in; it stops when the test ends.
func NewWhatsApp(t testing.TB, appSecret, accessToken string) *WhatsAppServer {
	t.Helper()
	s := &WhatsAppServer{t: t, appSecret: appSecret, accessToken: accessToken, newSent: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// Close stops the server early, to test an unreachable API.
func (s *WhatsAppServer) Close() { s.srv.Close() }

// URL is the base URL to configure as the Graph API server.
func (s *WhatsAppServer) URL() string { return s.srv.URL }

// Sent is every message sent so far.
func (s *WhatsAppServer) Sent() []WASent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]WASent(nil), s.sent...)
}

// Calls is how many requests reached the messages endpoint.
func (s *WhatsAppServer) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// WaitSent waits until at least n messages were sent, or ctx ends.
func (s *WhatsAppServer) WaitSent(ctx context.Context, n int) ([]WASent, error) {
	for {
		s.mu.Lock()
		sent, ch := append([]WASent(nil), s.sent...), s.newSent
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

// FailNext makes the next send answer with HTTP status (429 comes with the
// Graph rate-limit error 130429 and Retry-After: 1). Calls queue up.
func (s *WhatsAppServer) FailNext(status int) {
	s.mu.Lock()
	s.fail = append(s.fail, status)
	s.mu.Unlock()
}

func (s *WhatsAppServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method != http.MethodPost || len(parts) != 3 || parts[2] != "messages" {
		graphError(w, http.StatusBadRequest, 100, "Unsupported request - method type: "+strings.ToLower(r.Method))
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.accessToken {
		graphError(w, http.StatusUnauthorized, 190, "Invalid OAuth access token - Cannot parse access token")
		return
	}
	s.mu.Lock()
	if len(s.fail) > 0 {
		status := s.fail[0]
		s.fail = s.fail[1:]
		s.mu.Unlock()
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
			graphError(w, status, 130429, "Rate limit hit")
		} else {
			graphError(w, status, 131000, "Something went wrong")
		}
		return
	}
	s.mu.Unlock()
	var msg struct {
		MessagingProduct string `json:"messaging_product"`
		To               string `json:"to"`
		Type             string `json:"type"`
		Text             struct {
			Body string `json:"body"`
		} `json:"text"`
		Context struct {
			MessageID string `json:"message_id"`
		} `json:"context"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&msg); err != nil {
		graphError(w, http.StatusBadRequest, 100, "Invalid parameter")
		return
	}
	switch {
	case msg.MessagingProduct != "whatsapp":
		graphError(w, http.StatusBadRequest, 100, "The parameter messaging_product is required.")
		return
	case msg.To == "":
		graphError(w, http.StatusBadRequest, 100, "The parameter to is required.")
		return
	case msg.Type != "text" || msg.Text.Body == "":
		graphError(w, http.StatusBadRequest, 100, "The parameter text['body'] is required.")
		return
	case len([]rune(msg.Text.Body)) > 4096:
		graphError(w, http.StatusBadRequest, 100, "Param text['body'] must be at most 4096 characters long.")
		return
	}
	sent := WASent{PhoneNumberID: parts[1], Version: parts[0], To: msg.To, Text: msg.Text.Body, ReplyTo: msg.Context.MessageID, ID: NewWAMID()}
	s.mu.Lock()
	s.sent = append(s.sent, sent)
	close(s.newSent)
	s.newSent = make(chan struct{})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{{"input": msg.To, "wa_id": msg.To}},
		"messages":          []map[string]string{{"id": sent.ID}},
	})
}

func graphError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": msg, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfGhIjK",
	}})
}

// NewWAMID makes a message id shaped like WhatsApp's.
func NewWAMID() string {
	b := make([]byte, 24)
	rand.Read(b)
	return "wamid." + base64.RawStdEncoding.EncodeToString(b)
}

// Notification wraps messages into a notification for the stand-in's
// business number, filling in each message's id and timestamp when empty
// and a contact for each sender.
func Notification(msgs ...WAMessage) WANotification {
	v := WAValue{
		MessagingProduct: "whatsapp",
		Metadata:         WAMetadata{DisplayPhoneNumber: WADisplayPhoneNumber, PhoneNumberID: WAPhoneNumberID},
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		if m.ID == "" {
			m.ID = NewWAMID()
		}
		if m.Timestamp == "" {
			m.Timestamp = strconv.FormatInt(time.Now().Unix(), 10)
		}
		v.Messages = append(v.Messages, m)
		if !seen[m.From] {
			seen[m.From] = true
			c := WAContact{WaID: m.From}
			c.Profile.Name = "Test User"
			v.Contacts = append(v.Contacts, c)
		}
	}
	return WANotification{
		Object: "whatsapp_business_account",
		Entry:  []WAEntry{{ID: "102290129340398", Changes: []WAChange{{Field: "messages", Value: v}}}},
	}
}

// TextMessage is a text message from a WhatsApp number.
func TextMessage(from, text string) WAMessage {
	return WAMessage{From: from, ID: NewWAMID(), Type: "text", Text: &WAText{Body: text}}
}

// Sign is the X-Hub-Signature-256 value Meta sends for body.
func Sign(appSecret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Deliver POSTs payload (a []byte body, or a value to encode as JSON) to a
// webhook signed with the app secret, as Meta does, and returns the status.
func (s *WhatsAppServer) Deliver(ctx context.Context, webhookURL string, payload any) (int, error) {
	body, err := payloadBytes(payload)
	if err != nil {
		return 0, err
	}
	return postSigned(ctx, webhookURL, body, Sign(s.appSecret, body))
}

// DeliverText delivers a text message from a number and returns its id; a
// status other than 200 is an error.
func (s *WhatsAppServer) DeliverText(ctx context.Context, webhookURL, from, text string) (string, error) {
	m := TextMessage(from, text)
	status, err := s.Deliver(ctx, webhookURL, Notification(m))
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("tiplinetest: webhook answered %d", status)
	}
	return m.ID, err
}

// DeliverBadSignature POSTs payload signed with the wrong secret and returns
// the status.
func (s *WhatsAppServer) DeliverBadSignature(ctx context.Context, webhookURL string, payload any) (int, error) {
	body, err := payloadBytes(payload)
	if err != nil {
		return 0, err
	}
	return postSigned(ctx, webhookURL, body, Sign(s.appSecret+"-wrong", body))
}

// Verify sends Meta's GET verification request and returns the status and
// body.
func Verify(ctx context.Context, webhookURL, verifyToken, challenge string) (int, string, error) {
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {verifyToken}, "hub.challenge": {challenge}}
	sep := "?"
	if strings.Contains(webhookURL, "?") {
		sep = "&"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, webhookURL+sep+q.Encode(), nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), err
}

func payloadBytes(payload any) ([]byte, error) {
	if b, ok := payload.([]byte); ok {
		return b, nil
	}
	return json.Marshal(payload)
}

func postSigned(ctx context.Context, webhookURL string, body []byte, sig string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
