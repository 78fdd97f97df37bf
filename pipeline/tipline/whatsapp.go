package tipline

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

const (
	defaultGraphBase       = "https://graph.facebook.com"
	defaultGraphVersion    = "v21.0"
	whatsappSignatureHead  = "X-Hub-Signature-256"
	whatsappMaxResponse    = 1 << 20
	defaultWhatsAppTimeout = 30 * time.Second
)

// WhatsAppConfig configures the WhatsApp Cloud API adapter.
type WhatsAppConfig struct {
	// AppSecret is the Meta app secret that signs webhook payloads
	// (X-Hub-Signature-256). Required; a secret, never logged.
	AppSecret string
	// VerifyToken is the token entered in the app's webhook settings,
	// checked on Meta's GET verification request. Required; a secret.
	VerifyToken string
	// AccessToken is the system-user access token used to send replies.
	// Required; a secret, never logged or in an error's text.
	AccessToken string
	// PhoneNumberID is the business phone number's id, which replies are
	// sent from; notifications for other numbers of the same app are
	// ignored. Required, digits only.
	PhoneNumberID string
	// GraphBaseURL is the Graph API server; default
	// "https://graph.facebook.com".
	GraphBaseURL string
	// APIVersion is the Graph API version in the path; default "v21.0".
	APIVersion string
	// HashKey keys Tip.SenderHash and Tip.MessageID and seals Tip.ChatID;
	// at least MinHashKeyLen bytes. Required; keep it stable or hashes
	// change.
	HashKey []byte
	// HTTPClient sends replies; default a client with a 30 s timeout.
	HTTPClient *http.Client
	// Logger gets operational logs (never texts, senders, phone numbers or
	// secrets); default slog.Default().
	Logger *slog.Logger
	// Messages are the fixed replies; empty fields take DefaultMessages.
	Messages Messages
	// Workers is how many tips are handled at once; default 4.
	Workers int
	// QueueSize bounds the queue between the webhook and the workers;
	// default 256. When it is full, the notification is still answered 200
	// (so Meta does not redeliver into a full queue) and the message is
	// dropped, logged and counted (see Dropped).
	QueueSize int
	// HandlerTimeout bounds one Handler call; default 1 min.
	HandlerTimeout time.Duration
	// MaxBackoff caps the wait between attempts to send a reply; default
	// 1 min.
	MaxBackoff time.Duration
	// MaxBodyBytes limits a webhook request body; default 1 MiB.
	MaxBodyBytes int64
	// DedupTTL is how long a message id is remembered so that Meta's
	// redeliveries are answered once; default 24 h.
	DedupTTL time.Duration
}

// WhatsApp is the WhatsApp Cloud API adapter. It serves nothing by itself:
// mount Handler at the webhook URL configured in the Meta app, and call Run
// to work the queue Handler fills.
type WhatsApp struct {
	common
	appSecret   string
	verifyToken string
	accessToken string
	phoneID     string
	endpoint    string
	client      *http.Client
	seal        sealer
	ans         *answerer
	disp        *dispatcher
	running     atomic.Bool
}

var _ Adapter = (*WhatsApp)(nil)

// NewWhatsApp checks cfg and makes the adapter.
func NewWhatsApp(cfg WhatsAppConfig) (*WhatsApp, error) {
	c, err := newCommon(ChannelWhatsApp, cfg.HashKey, cfg.Logger, cfg.Messages, cfg.Workers, cfg.QueueSize,
		cfg.HandlerTimeout, cfg.MaxBackoff, cfg.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, v string }{
		{"AppSecret", cfg.AppSecret}, {"VerifyToken", cfg.VerifyToken},
		{"AccessToken", cfg.AccessToken}, {"PhoneNumberID", cfg.PhoneNumberID},
	} {
		if f.v == "" {
			return nil, fmt.Errorf("%w: whatsapp: %s is empty", ErrConfig, f.name)
		}
	}
	if strings.TrimFunc(cfg.PhoneNumberID, func(r rune) bool { return r >= '0' && r <= '9' }) != "" {
		return nil, fmt.Errorf("%w: whatsapp: PhoneNumberID %q is not all digits", ErrConfig, cfg.PhoneNumberID)
	}
	if cfg.DedupTTL < 0 {
		return nil, fmt.Errorf("%w: whatsapp: DedupTTL is negative", ErrConfig)
	}
	version := or(cfg.APIVersion, defaultGraphVersion)
	if strings.ContainsAny(version, "/?#") {
		return nil, fmt.Errorf("%w: whatsapp: APIVersion %q is not a version such as v21.0", ErrConfig, version)
	}
	base, err := baseURL("whatsapp", "GraphBaseURL", or(cfg.GraphBaseURL, defaultGraphBase))
	if err != nil {
		return nil, err
	}
	w := &WhatsApp{
		common:      c,
		appSecret:   cfg.AppSecret,
		verifyToken: cfg.VerifyToken,
		accessToken: cfg.AccessToken,
		phoneID:     cfg.PhoneNumberID,
		endpoint:    base + "/" + version + "/" + cfg.PhoneNumberID + "/messages",
		client:      cfg.HTTPClient,
	}
	if w.client == nil {
		w.client = &http.Client{Timeout: defaultWhatsAppTimeout}
	}
	if w.seal, err = newSealer(c.hashKey); err != nil {
		return nil, err
	}
	w.ans = &answerer{channel: ChannelWhatsApp, common: c, limit: whatsappMaxText, send: w.sendText}
	w.disp = newDispatcher(ChannelWhatsApp, c.log, c.queueSize, or(cfg.DedupTTL, defaultDedupTTL))
	return w, nil
}

// Name is ChannelWhatsApp.
func (w *WhatsApp) Name() string { return ChannelWhatsApp }

// Dropped is how many messages were dropped because the queue was full.
func (w *WhatsApp) Dropped() int64 { return w.disp.dropped.Load() }

// Run answers the messages Handler queues, with h, until ctx ends; then it
// returns nil. Messages still queued then wait for the next Run.
func (w *WhatsApp) Run(ctx context.Context, h Handler) error {
	if h == nil {
		return errors.New("tipline: whatsapp: Run: nil Handler")
	}
	if !w.running.CompareAndSwap(false, true) {
		return errors.New("tipline: whatsapp: Run is already running")
	}
	defer w.running.Store(false)
	w.disp.run(ctx, w.workers, func(ctx context.Context, in inbound) { w.ans.answer(ctx, h, in) })
	return nil
}

// Handler is the webhook endpoint. GET answers Meta's verification request
// (hub.mode=subscribe and the right hub.verify_token: the hub.challenge as
// plain text; otherwise 403). POST takes notifications: the body must carry
// a valid X-Hub-Signature-256 (otherwise 401), is parsed, and its messages
// are queued for Run; the answer is 200 at once, whatever the Handler will
// take. A message id already seen within DedupTTL is ignored.
func (w *WhatsApp) Handler() http.Handler { return http.HandlerFunc(w.serveWebhook) }

func (w *WhatsApp) serveWebhook(rw http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		w.verify(rw, r)
	case http.MethodPost:
		w.notify(rw, r)
	default:
		rw.Header().Set("Allow", "GET, POST")
		http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (w *WhatsApp) verify(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("hub.mode") != "subscribe" || subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), []byte(w.verifyToken)) != 1 {
		w.log.Warn("tipline: whatsapp webhook: verification refused: wrong mode or verify token", "remote", r.RemoteAddr)
		http.Error(rw, "forbidden", http.StatusForbidden)
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Header().Set("X-Content-Type-Options", "nosniff")
	rw.Write([]byte(q.Get("hub.challenge")))
	w.log.Info("tipline: whatsapp webhook: verified")
}

func (w *WhatsApp) notify(rw http.ResponseWriter, r *http.Request) {
	body, ok := readBody(rw, r, w.maxBody)
	if !ok {
		w.log.Warn("tipline: whatsapp webhook: request refused: body unreadable or over the limit", "remote", r.RemoteAddr, "limit", w.maxBody)
		return
	}
	if !validSignature(body, r.Header.Get(whatsappSignatureHead), w.appSecret) {
		w.log.Warn("tipline: whatsapp webhook: request refused: bad or missing signature", "remote", r.RemoteAddr)
		http.Error(rw, "unauthorized", http.StatusUnauthorized)
		return
	}
	n, err := decodeNotification(body)
	if err != nil {
		w.log.Warn("tipline: whatsapp webhook: undecodable notification", "err", err)
		http.Error(rw, "undecodable notification", http.StatusBadRequest)
		return
	}
	ins, other := whatsappInbound(n, w.phoneID, w.hashKey, w.seal)
	if other > 0 {
		w.log.Debug("tipline: whatsapp webhook: messages for another phone number ignored", "count", other)
	}
	for _, in := range ins {
		w.disp.offer(in)
	}
	rw.WriteHeader(http.StatusOK)
}

// validSignature checks header "sha256=<hex HMAC-SHA256 of body with secret>"
// in constant time.
func validSignature(body []byte, header, secret string) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(sig, m.Sum(nil))
}

// Send sends text to a person, given a Tip.ChatID this adapter made; it is
// for follow-ups outside the Handler's reply (WhatsApp accepts free text
// only within 24 hours of the person's last message).
func (w *WhatsApp) Send(ctx context.Context, chatID, text string) error {
	to, err := w.seal.open(ChannelWhatsApp, chatID)
	if err != nil {
		return err
	}
	return w.ans.reply(ctx, to, text, "")
}

type waOutgoing struct {
	MessagingProduct string `json:"messaging_product"`
	To               string `json:"to"`
	Type             string `json:"type"`
	Text             struct {
		Body string `json:"body"`
	} `json:"text"`
	Context *waReplyContext `json:"context,omitempty"`
}

type waReplyContext struct {
	MessageID string `json:"message_id"`
}

// sendText is the answerer's sendFunc.
func (w *WhatsApp) sendText(ctx context.Context, to, text, replyTo string) error {
	msg := waOutgoing{MessagingProduct: "whatsapp", To: to, Type: "text"}
	msg.Text.Body = text
	if replyTo != "" {
		msg.Context = &waReplyContext{MessageID: replyTo}
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("tipline: whatsapp: messages: encoding request: %w", err)
	}
	return retrySend(ctx, w.maxBackoff, func() error { return w.post(ctx, body, to) })
}

// post sends one message. No error it returns holds the access token or
// the recipient's number.
func (w *WhatsApp) post(ctx context.Context, body []byte, to string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("tipline: whatsapp: messages: %w", scrub(err, w.accessToken))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+w.accessToken)
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("tipline: whatsapp: messages: %w", scrub(err, w.accessToken, to))
	}
	defer resp.Body.Close()
	b, err := readLimited(resp.Body, whatsappMaxResponse)
	if err != nil {
		return fmt.Errorf("tipline: whatsapp: messages: reading response: %w", scrub(err, w.accessToken, to))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	var e struct {
		Error struct {
			Message string `json:"message"`
			Code    int    `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(b, &e)
	desc := e.Error.Message
	if desc == "" {
		desc = http.StatusText(resp.StatusCode)
	}
	for _, s := range []string{w.accessToken, to} {
		desc = strings.ReplaceAll(desc, s, "[redacted]")
	}
	ae := &APIError{
		Channel:     ChannelWhatsApp,
		Method:      "messages",
		Status:      resp.StatusCode,
		Code:        e.Error.Code,
		Description: desc,
		// Graph's code 190 is an invalid or expired access token.
		badToken: resp.StatusCode == http.StatusUnauthorized || e.Error.Code == 190,
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		ae.RetryAfter = time.Duration(s) * time.Second
	}
	return ae
}

// Cloud API webhook types, only the fields read here.
type (
	waNotification struct {
		Object string `json:"object"`
		Entry  []struct {
			Changes []struct {
				Field string  `json:"field"`
				Value waValue `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	waValue struct {
		MessagingProduct string `json:"messaging_product"`
		Metadata         struct {
			PhoneNumberID string `json:"phone_number_id"`
		} `json:"metadata"`
		Messages []waMessage `json:"messages"`
	}
	waMessage struct {
		From      string `json:"from"`
		ID        string `json:"id"`
		Timestamp string `json:"timestamp"`
		Type      string `json:"type"`
		Text      *struct {
			Body string `json:"body"`
		} `json:"text"`
		Image    *waMedia `json:"image"`
		Video    *waMedia `json:"video"`
		Document *waMedia `json:"document"`
		Context  *struct {
			Forwarded           bool `json:"forwarded"`
			FrequentlyForwarded bool `json:"frequently_forwarded"`
		} `json:"context"`
	}
	waMedia struct {
		Caption string `json:"caption"`
	}
)

func decodeNotification(body []byte) (waNotification, error) {
	var n waNotification
	err := json.Unmarshal(body, &n)
	return n, err
}

// whatsappInbound is what a notification's messages call for, and how many
// messages were for a phone number other than phoneID. Status changes and
// other fields are ignored.
func whatsappInbound(n waNotification, phoneID string, hashKey []byte, s sealer) (ins []inbound, other int) {
	if n.Object != "whatsapp_business_account" {
		return nil, 0
	}
	for _, e := range n.Entry {
		for _, ch := range e.Changes {
			if ch.Field != "messages" {
				continue
			}
			if ch.Value.Metadata.PhoneNumberID != phoneID {
				other += len(ch.Value.Messages)
				continue
			}
			for _, m := range ch.Value.Messages {
				if in := whatsappMessage(m, hashKey, s); in.kind != kindIgnore {
					ins = append(ins, in)
				}
			}
		}
	}
	return ins, other
}

func whatsappMessage(m waMessage, hashKey []byte, s sealer) inbound {
	if m.From == "" || m.ID == "" {
		return inbound{kind: kindIgnore}
	}
	date := time.Now().UTC()
	if sec, err := strconv.ParseInt(m.Timestamp, 10, 64); err == nil && sec > 0 {
		date = time.Unix(sec, 0).UTC()
	}
	in := inbound{
		tip: Tip{
			Channel:    ChannelWhatsApp,
			ChatID:     s.seal(ChannelWhatsApp, m.From),
			SenderHash: HashSender(hashKey, ChannelWhatsApp, m.From),
			// A wamid is base64 of a structure that holds the sender's phone
			// number, so only its keyed hash leaves the adapter.
			MessageID: HashSender(hashKey, "whatsapp-message", m.ID),
			Forwarded: m.Context != nil && (m.Context.Forwarded || m.Context.FrequentlyForwarded),
			Date:      date,
		},
		chat:    m.From,
		replyTo: m.ID,
		dedup:   m.ID,
	}
	var text string
	switch m.Type {
	case "text":
		if m.Text != nil {
			text = m.Text.Body
		}
	case "image", "video", "document":
		for _, media := range []*waMedia{m.Image, m.Video, m.Document} {
			if media != nil && media.Caption != "" {
				text = media.Caption
			}
		}
	case "request_welcome":
		in.kind = kindWelcome
		return in
	case "reaction", "system", "":
		// A reaction to our reply or a number change: nothing to answer.
		in.kind = kindIgnore
		return in
	}
	if strings.TrimSpace(text) == "" {
		in.kind = kindNeedText
		return in
	}
	in.kind, in.tip.Text = kindTip, text
	return in
}
