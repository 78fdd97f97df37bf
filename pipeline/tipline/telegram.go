package tipline

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Telegram modes.
const (
	TelegramPolling = "polling" // getUpdates long polling (the default)
	TelegramWebhook = "webhook" // Telegram POSTs updates to Handler
)

const (
	defaultTelegramBase    = "https://api.telegram.org"
	defaultPollTimeout     = 30 * time.Second
	telegramSecretHeader   = "X-Telegram-Bot-Api-Secret-Token"
	telegramMaxResponse    = 16 << 20 // 100 updates of 4096-character messages with entities fit
	telegramUpdateDedupTTL = time.Hour
	telegramConfirmTimeout = 2 * time.Second
)

// TelegramConfig configures the Telegram Bot API adapter.
type TelegramConfig struct {
	// Token is the bot token from @BotFather. Required. It is a secret: it
	// is never logged and never part of an error's text.
	Token string
	// BaseURL is the Bot API server; default "https://api.telegram.org".
	BaseURL string
	// Mode is TelegramPolling (default) or TelegramWebhook.
	Mode string
	// WebhookURL is the public HTTPS URL where Handler is mounted; required
	// in webhook mode, where Run registers it with setWebhook.
	WebhookURL string
	// WebhookSecret is the secret_token Telegram sends back in the
	// X-Telegram-Bot-Api-Secret-Token header; required in webhook mode,
	// 1–256 characters of A–Z, a–z, 0–9, _ and -.
	WebhookSecret string
	// PollTimeout is getUpdates' long-poll timeout, in whole seconds;
	// default 30 s.
	PollTimeout time.Duration
	// HashKey keys Tip.SenderHash and seals Tip.ChatID; at least
	// MinHashKeyLen bytes. Required; keep it stable or hashes change.
	HashKey []byte
	// HTTPClient calls the Bot API. Default: a client whose timeout is
	// PollTimeout + 15 s; a given client's Timeout, if set, must be longer
	// than PollTimeout.
	HTTPClient *http.Client
	// Logger gets operational logs (never texts, senders, chat ids or the
	// token); default slog.Default().
	Logger *slog.Logger
	// Messages are the fixed replies; empty fields take DefaultMessages.
	Messages Messages
	// Workers is how many tips are handled at once; default 4.
	Workers int
	// QueueSize bounds the webhook's queue; default 256. When it is full,
	// updates are acknowledged to Telegram but dropped and counted (see
	// Dropped).
	QueueSize int
	// HandlerTimeout bounds one Handler call; default 1 min.
	HandlerTimeout time.Duration
	// MaxBackoff caps the wait between retries after network errors;
	// default 1 min.
	MaxBackoff time.Duration
	// MaxBodyBytes limits a webhook request body; default 1 MiB.
	MaxBodyBytes int64
}

// Telegram is the Telegram Bot API adapter. In polling mode Run fetches
// updates itself; in webhook mode Run registers the webhook and works the
// queue that Handler fills, and Handler must be mounted at WebhookURL.
type Telegram struct {
	common
	token       string
	base        string
	mode        string
	webhookURL  string
	secret      string
	pollTimeout time.Duration
	client      *http.Client
	seal        sealer
	ans         *answerer
	disp        *dispatcher
	running     atomic.Bool
}

var _ Adapter = (*Telegram)(nil)

// NewTelegram checks cfg and makes the adapter.
func NewTelegram(cfg TelegramConfig) (*Telegram, error) {
	c, err := newCommon(ChannelTelegram, cfg.HashKey, cfg.Logger, cfg.Messages, cfg.Workers, cfg.QueueSize,
		cfg.HandlerTimeout, cfg.MaxBackoff, cfg.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	t := &Telegram{
		common:      c,
		token:       cfg.Token,
		mode:        or(cfg.Mode, TelegramPolling),
		pollTimeout: or(cfg.PollTimeout, defaultPollTimeout),
		client:      cfg.HTTPClient,
	}
	if err := validTelegramToken(cfg.Token); err != nil {
		return nil, err
	}
	if t.base, err = baseURL("telegram", "BaseURL", or(cfg.BaseURL, defaultTelegramBase)); err != nil {
		return nil, err
	}
	if t.pollTimeout < time.Second {
		return nil, fmt.Errorf("%w: telegram: PollTimeout is %v, want at least 1s", ErrConfig, cfg.PollTimeout)
	}
	switch t.mode {
	case TelegramPolling:
	case TelegramWebhook:
		if cfg.WebhookURL == "" {
			return nil, fmt.Errorf("%w: telegram: WebhookURL is empty (required in webhook mode)", ErrConfig)
		}
		if _, err := baseURL("telegram", "WebhookURL", cfg.WebhookURL); err != nil {
			return nil, err
		}
		if err := validWebhookSecret(cfg.WebhookSecret); err != nil {
			return nil, err
		}
		t.webhookURL, t.secret = cfg.WebhookURL, cfg.WebhookSecret
	default:
		return nil, fmt.Errorf("%w: telegram: Mode is %q, want %q or %q", ErrConfig, cfg.Mode, TelegramPolling, TelegramWebhook)
	}
	if t.client == nil {
		t.client = &http.Client{Timeout: t.pollTimeout + 15*time.Second}
	} else if t.mode == TelegramPolling && t.client.Timeout != 0 && t.client.Timeout <= t.pollTimeout {
		return nil, fmt.Errorf("%w: telegram: HTTPClient.Timeout (%v) must be longer than PollTimeout (%v)", ErrConfig, t.client.Timeout, t.pollTimeout)
	}
	if t.seal, err = newSealer(c.hashKey); err != nil {
		return nil, err
	}
	t.ans = &answerer{channel: ChannelTelegram, common: c, limit: telegramMaxText, send: t.sendMessage}
	t.disp = newDispatcher(ChannelTelegram, c.log, c.queueSize, telegramUpdateDedupTTL)
	return t, nil
}

func validTelegramToken(tok string) error {
	if tok == "" {
		return fmt.Errorf("%w: telegram: Token is empty", ErrConfig)
	}
	for _, r := range tok {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ':' || r == '_' || r == '-') {
			// The token is not quoted: it would leak into logs of the error.
			return fmt.Errorf("%w: telegram: Token has a character other than A-Z, a-z, 0-9, ':', '_' and '-'", ErrConfig)
		}
	}
	return nil
}

func validWebhookSecret(s string) error {
	if s == "" {
		return fmt.Errorf("%w: telegram: WebhookSecret is empty (required in webhook mode)", ErrConfig)
	}
	if len(s) > 256 {
		return fmt.Errorf("%w: telegram: WebhookSecret is longer than 256 characters", ErrConfig)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("%w: telegram: WebhookSecret has a character other than A-Z, a-z, 0-9, '_' and '-'", ErrConfig)
		}
	}
	return nil
}

// baseURL checks an absolute http(s) URL and drops a trailing slash.
func baseURL(channel, field, s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%w: %s: %s is not an absolute http(s) URL", ErrConfig, channel, field)
	}
	return strings.TrimRight(s, "/"), nil
}

// Name is ChannelTelegram.
func (t *Telegram) Name() string { return ChannelTelegram }

// Dropped is how many webhook updates were dropped because the queue was
// full.
func (t *Telegram) Dropped() int64 { return t.disp.dropped.Load() }

// Run answers tips with h until ctx ends, then returns nil. In polling mode
// it removes any webhook and long-polls getUpdates, confirming a batch of
// updates once it is answered; in webhook mode it registers the webhook and
// works Handler's queue. Network errors and 5xx answers are retried with a
// capped backoff, 429s after the retry_after Telegram gives; a refused
// token (ErrBadToken) or a refused webhook ends Run with an error.
func (t *Telegram) Run(ctx context.Context, h Handler) error {
	if h == nil {
		return errors.New("tipline: telegram: Run: nil Handler")
	}
	if !t.running.CompareAndSwap(false, true) {
		return errors.New("tipline: telegram: Run is already running")
	}
	defer t.running.Store(false)
	if t.mode == TelegramWebhook {
		return t.runWebhook(ctx, h)
	}
	return t.runPolling(ctx, h)
}

// retryWait logs a failed call and waits before the next attempt; it
// returns the error when retrying cannot help: a refused token, or with
// final4xx another client error (such as setWebhook refusing the URL).
func (t *Telegram) retryWait(ctx context.Context, what string, err error, fails int, final4xx bool) error {
	if ctx.Err() != nil {
		return nil
	}
	if errors.Is(err, ErrBadToken) {
		return err
	}
	d := backoff(fails, t.maxBackoff)
	var ae *APIError
	if errors.As(err, &ae) {
		switch {
		case ae.RetryAfter > 0:
			d = ae.RetryAfter
		case final4xx && ae.Status >= 400 && ae.Status < 500 && ae.Status != http.StatusTooManyRequests:
			return err
		}
	}
	t.log.Warn("tipline: telegram: "+what+" failed; retrying", "err", err, "retry_in", d)
	sleep(ctx, d)
	return nil
}

func (t *Telegram) runWebhook(ctx context.Context, h Handler) error {
	params := map[string]any{
		"url":             t.webhookURL,
		"secret_token":    t.secret,
		"allowed_updates": []string{"message"},
	}
	for fails := 1; ; fails++ {
		err := t.call(ctx, "setWebhook", params, nil)
		if err == nil {
			break
		}
		if stop := t.retryWait(ctx, "setWebhook", err, fails, true); stop != nil {
			return stop
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	t.log.Info("tipline: telegram: webhook registered")
	t.disp.run(ctx, t.workers, func(ctx context.Context, in inbound) { t.ans.answer(ctx, h, in) })
	return nil
}

func (t *Telegram) runPolling(ctx context.Context, h Handler) error {
	// getUpdates answers 409 while a webhook is set.
	for fails := 1; ; fails++ {
		err := t.call(ctx, "deleteWebhook", map[string]any{"drop_pending_updates": false}, nil)
		if err == nil {
			break
		}
		if stop := t.retryWait(ctx, "deleteWebhook", err, fails, false); stop != nil {
			return stop
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	t.log.Info("tipline: telegram: polling for updates")
	var offset int64
	confirmed := true // whether Telegram has been sent the current offset
	fails := 0
	for {
		if ctx.Err() != nil {
			if !confirmed {
				t.confirm(ctx, offset)
			}
			return nil
		}
		raws, err := t.getUpdates(ctx, offset, t.pollTimeout, 100)
		if err != nil {
			fails++
			if stop := t.retryWait(ctx, "getUpdates", err, fails, false); stop != nil {
				return stop
			}
			continue
		}
		fails = 0
		confirmed = true
		next := offset
		var batch []inbound
		for _, raw := range raws {
			id, in, err := decodeUpdate(raw, t.hashKey, t.seal)
			if id < offset {
				continue // already answered
			}
			next = max(next, id+1)
			if err != nil {
				t.log.Warn("tipline: telegram: undecodable update skipped", "update_id", id, "err", err)
				continue
			}
			if in.kind != kindIgnore {
				batch = append(batch, in)
			}
		}
		t.answerBatch(ctx, h, batch)
		if ctx.Err() != nil {
			return nil // not confirmed: the batch is fetched again next time
		}
		if next != offset {
			offset, confirmed = next, false
		}
	}
}

// answerBatch answers one getUpdates batch, t.workers at a time, and
// returns when all are done.
func (t *Telegram) answerBatch(ctx context.Context, h Handler, batch []inbound) {
	sem := make(chan struct{}, t.workers)
	var wg sync.WaitGroup
	for _, in := range batch {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			t.ans.answer(ctx, h, in)
		})
	}
	wg.Wait()
}

// confirm tells Telegram the updates before offset are handled, so a
// restart does not answer them again. ctx has ended; this gets a short
// deadline of its own.
func (t *Telegram) confirm(ctx context.Context, offset int64) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), telegramConfirmTimeout)
	defer cancel()
	if _, err := t.getUpdates(cctx, offset, 0, 1); err != nil {
		t.log.Warn("tipline: telegram: confirming handled updates failed; they may be answered again", "err", err)
	}
}

func (t *Telegram) getUpdates(ctx context.Context, offset int64, timeout time.Duration, limit int) ([]json.RawMessage, error) {
	secs := int(math.Ceil(timeout.Seconds()))
	ctx, cancel := context.WithTimeout(ctx, timeout+10*time.Second)
	defer cancel()
	params := map[string]any{
		"offset":          offset,
		"timeout":         secs,
		"limit":           limit,
		"allowed_updates": []string{"message"},
	}
	var raws []json.RawMessage
	if err := t.call(ctx, "getUpdates", params, &raws); err != nil {
		return nil, err
	}
	return raws, nil
}

// Handler receives Telegram's webhook POSTs. It accepts an update only when
// the X-Telegram-Bot-Api-Secret-Token header matches WebhookSecret (so in
// polling mode it accepts nothing), answers 200 at once and queues the
// update for Run; a repeated update_id is ignored.
func (t *Telegram) Handler() http.Handler { return http.HandlerFunc(t.serveWebhook) }

func (t *Telegram) serveWebhook(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	got := r.Header.Get(telegramSecretHeader)
	if t.secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(t.secret)) != 1 {
		t.log.Warn("tipline: telegram webhook: request refused: wrong or missing secret token", "remote", r.RemoteAddr)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	body, ok := readBody(w, r, t.maxBody)
	if !ok {
		t.log.Warn("tipline: telegram webhook: request refused: body unreadable or over the limit", "remote", r.RemoteAddr, "limit", t.maxBody)
		return
	}
	id, in, err := decodeUpdate(body, t.hashKey, t.seal)
	if err != nil {
		t.log.Warn("tipline: telegram webhook: undecodable update", "update_id", id, "err", err)
		http.Error(w, "undecodable update", http.StatusBadRequest)
		return
	}
	if in.kind != kindIgnore {
		t.disp.offer(in)
	}
	w.WriteHeader(http.StatusOK)
}

// Send sends text to a chat, given a Tip.ChatID this adapter made; it is for
// follow-ups outside the Handler's reply.
func (t *Telegram) Send(ctx context.Context, chatID, text string) error {
	chat, err := t.seal.open(ChannelTelegram, chatID)
	if err != nil {
		return err
	}
	return t.ans.reply(ctx, chat, text, "")
}

// sendMessage is the answerer's sendFunc.
func (t *Telegram) sendMessage(ctx context.Context, chat, text, replyTo string) error {
	chatID, err := strconv.ParseInt(chat, 10, 64)
	if err != nil {
		return fmt.Errorf("tipline: telegram: sendMessage: malformed chat id")
	}
	params := map[string]any{"chat_id": chatID, "text": text}
	if replyTo != "" {
		mid, err := strconv.ParseInt(replyTo, 10, 64)
		if err != nil {
			return fmt.Errorf("tipline: telegram: sendMessage: malformed message id")
		}
		params["reply_parameters"] = map[string]any{"message_id": mid, "allow_sending_without_reply": true}
	}
	return retrySend(ctx, t.maxBackoff, func() error { return t.call(ctx, "sendMessage", params, nil) })
}

// retrySend calls send up to sendAttempts times while it fails with a 429,
// a 5xx or a network error, waiting what the platform asks or a backoff.
func retrySend(ctx context.Context, maxBackoff time.Duration, send func() error) error {
	for attempt := 1; ; attempt++ {
		err := send()
		if err == nil || attempt == sendAttempts || ctx.Err() != nil {
			return err
		}
		wait := backoff(attempt, maxBackoff)
		var ae *APIError
		if errors.As(err, &ae) {
			if ae.Status != http.StatusTooManyRequests && ae.Status < 500 {
				return err
			}
			if ae.RetryAfter > 0 {
				wait = ae.RetryAfter
			}
		} else if errors.Is(err, ErrBadToken) {
			return err
		}
		if !sleep(ctx, wait) {
			return err
		}
	}
}

// telegramResponse is the Bot API's envelope.
type telegramResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// call POSTs params as JSON to a Bot API method and decodes the result into
// result (when not nil). No error it returns holds the token.
func (t *Telegram) call(ctx context.Context, method string, params, result any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("tipline: telegram: %s: encoding request: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/bot"+t.token+"/"+method, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("tipline: telegram: %s: %w", method, scrub(err, t.token))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return fmt.Errorf("tipline: telegram: %s: %w", method, scrub(err, t.token))
	}
	defer resp.Body.Close()
	b, err := readLimited(resp.Body, telegramMaxResponse)
	if err != nil {
		return fmt.Errorf("tipline: telegram: %s: reading response: %w", method, scrub(err, t.token))
	}
	var r telegramResponse
	if err := json.Unmarshal(b, &r); err != nil {
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusNotFound {
			return &APIError{Channel: ChannelTelegram, Method: method, Status: resp.StatusCode, Code: resp.StatusCode,
				Description: "non-JSON answer; token refused or wrong BaseURL", badToken: true}
		}
		return fmt.Errorf("tipline: telegram: %s: HTTP %d: undecodable response: %w", method, resp.StatusCode, err)
	}
	if !r.OK {
		ae := &APIError{
			Channel:     ChannelTelegram,
			Method:      method,
			Status:      resp.StatusCode,
			Code:        r.ErrorCode,
			Description: strings.ReplaceAll(r.Description, t.token, "[redacted]"),
			// Telegram answers 401 to a revoked token and 404 to an unknown one.
			badToken: r.ErrorCode == http.StatusUnauthorized || r.ErrorCode == http.StatusNotFound,
		}
		if r.Parameters != nil && r.Parameters.RetryAfter > 0 {
			ae.RetryAfter = time.Duration(r.Parameters.RetryAfter) * time.Second
		}
		return ae
	}
	if result != nil {
		if err := json.Unmarshal(r.Result, result); err != nil {
			return fmt.Errorf("tipline: telegram: %s: undecodable result: %w", method, err)
		}
	}
	return nil
}

// Bot API types, only the fields read here.
type (
	tgUpdate struct {
		UpdateID int64      `json:"update_id"`
		Message  *tgMessage `json:"message"`
	}
	tgUser struct {
		ID           int64  `json:"id"`
		IsBot        bool   `json:"is_bot"`
		LanguageCode string `json:"language_code"`
	}
	tgChat struct {
		ID   int64  `json:"id"`
		Type string `json:"type"`
	}
	tgMessage struct {
		MessageID  int64   `json:"message_id"`
		From       *tgUser `json:"from"`
		SenderChat *tgChat `json:"sender_chat"`
		Chat       tgChat  `json:"chat"`
		Date       int64   `json:"date"`
		Text       string  `json:"text"`
		Caption    string  `json:"caption"`

		ForwardOrigin     json.RawMessage `json:"forward_origin"`    // Bot API 7.0 on
		ForwardFrom       json.RawMessage `json:"forward_from"`      // before 7.0
		ForwardFromChat   json.RawMessage `json:"forward_from_chat"` // before 7.0
		ForwardSenderName string          `json:"forward_sender_name"`
		ForwardDate       int64           `json:"forward_date"`

		// Content without text of its own: present means "ask for text".
		Photo     json.RawMessage `json:"photo"`
		Sticker   json.RawMessage `json:"sticker"`
		Video     json.RawMessage `json:"video"`
		VideoNote json.RawMessage `json:"video_note"`
		Voice     json.RawMessage `json:"voice"`
		Audio     json.RawMessage `json:"audio"`
		Document  json.RawMessage `json:"document"`
		Animation json.RawMessage `json:"animation"`
		Location  json.RawMessage `json:"location"`
		Venue     json.RawMessage `json:"venue"`
		Contact   json.RawMessage `json:"contact"`
		Poll      json.RawMessage `json:"poll"`
		Dice      json.RawMessage `json:"dice"`
		Story     json.RawMessage `json:"story"`
	}
)

func present(r json.RawMessage) bool { return len(r) > 0 && string(r) != "null" }

func (m *tgMessage) forwarded() bool {
	return present(m.ForwardOrigin) || present(m.ForwardFrom) || present(m.ForwardFromChat) ||
		m.ForwardSenderName != "" || m.ForwardDate != 0
}

func (m *tgMessage) hasContent() bool {
	for _, r := range []json.RawMessage{m.Photo, m.Sticker, m.Video, m.VideoNote, m.Voice, m.Audio,
		m.Document, m.Animation, m.Location, m.Venue, m.Contact, m.Poll, m.Dice, m.Story} {
		if present(r) {
			return true
		}
	}
	return false
}

// decodeUpdate reads one Update. The update id is returned even when the
// rest does not decode, so the offset can move past it.
func decodeUpdate(raw []byte, hashKey []byte, s sealer) (int64, inbound, error) {
	var u tgUpdate
	if err := json.Unmarshal(raw, &u); err != nil {
		var id struct {
			UpdateID int64 `json:"update_id"`
		}
		_ = json.Unmarshal(raw, &id)
		return id.UpdateID, inbound{}, err
	}
	return u.UpdateID, telegramInbound(u, hashKey, s), nil
}

// telegramInbound is what an update calls for. Only messages in private
// chats count: the tipline is a one-to-one conversation, and a bot added to
// a group must not answer the group.
func telegramInbound(u tgUpdate, hashKey []byte, s sealer) inbound {
	m := u.Message
	if m == nil || m.Chat.Type != "private" || (m.From != nil && m.From.IsBot) {
		return inbound{kind: kindIgnore}
	}
	sender := m.Chat.ID
	var lang string
	switch {
	case m.From != nil:
		sender, lang = m.From.ID, m.From.LanguageCode
	case m.SenderChat != nil:
		sender = m.SenderChat.ID
	}
	date := time.Now().UTC()
	if m.Date > 0 {
		date = time.Unix(m.Date, 0).UTC()
	}
	chat := strconv.FormatInt(m.Chat.ID, 10)
	in := inbound{
		tip: Tip{
			Channel:    ChannelTelegram,
			ChatID:     s.seal(ChannelTelegram, chat),
			SenderHash: HashSender(hashKey, ChannelTelegram, strconv.FormatInt(sender, 10)),
			MessageID:  strconv.FormatInt(m.MessageID, 10),
			Forwarded:  m.forwarded(),
			LangHint:   lang,
			Date:       date,
		},
		chat:    chat,
		replyTo: strconv.FormatInt(m.MessageID, 10),
		dedup:   "update:" + strconv.FormatInt(u.UpdateID, 10),
	}
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	switch {
	case !in.tip.Forwarded && (isCommand(text, "start") || isCommand(text, "help")):
		in.kind = kindWelcome
	case strings.TrimSpace(text) != "":
		in.kind, in.tip.Text = kindTip, text
	case m.hasContent():
		in.kind = kindNeedText
	default:
		in.kind = kindIgnore // a service message
	}
	return in
}

// isCommand reports whether text is the bot command /name, alone, with
// arguments ("/start payload") or addressed ("/start@SomeBot").
func isCommand(text, name string) bool {
	if len(text) < len(name)+1 || text[0] != '/' || !strings.EqualFold(text[1:len(name)+1], name) {
		return false
	}
	rest := text[len(name)+1:]
	return rest == "" || rest[0] == '@' || rest[0] == ' ' || rest[0] == '\n'
}
