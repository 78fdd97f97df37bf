package alert

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/veille-project/veille/pipeline/fetch"
)

// newGuard is the fetcher's SSRF guard with the same allow-list
// (fetch.allow), so a webhook URL can reach no more than a feed URL can.
func newGuard(entries []string) (*fetch.Guard, error) {
	g, err := fetch.NewGuard(entries, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("alert: %w", err)
	}
	return g, nil
}

// webhook posts alerts as JSON that Slack, Mattermost and Teams incoming
// webhooks accept: "text" (markdown), "title" and "summary" (Teams cards),
// and the whole alert under "alert" for other receivers.
type webhook struct {
	client *http.Client
}

func newWebhook(g *fetch.Guard, timeout time.Duration) *webhook {
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would connect on our behalf, past the guard
		DialContext:           g.DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
	}
	return &webhook{client: &http.Client{
		Transport: tr,
		Timeout:   timeout,
		// A redirect is not followed: the receiver's URL is the one configured.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// WebhookBody is the JSON posted to a webhook. Type and Context make it a
// legacy Teams MessageCard; Slack and Mattermost read Text and ignore the
// rest.
type WebhookBody struct {
	Type    string  `json:"@type"`
	Context string  `json:"@context"`
	Text    string  `json:"text"`
	Title   string  `json:"title"`
	Summary string  `json:"summary"`
	Alert   *Record `json:"alert"`
}

// webhookTarget names a webhook without its path, which often holds the
// secret.
func webhookTarget(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid url)"
	}
	return u.Scheme + "://" + u.Host
}

func (w *webhook) send(ctx context.Context, rawURL string, rec *Record) error {
	body := WebhookBody{Type: "MessageCard", Context: "https://schema.org/extensions", Text: chatSafe(rec.Text), Title: chatSafe(rec.Subject), Summary: chatSafe(rec.Subject), Alert: withoutDeliveries(rec)}
	// Receivers that de-duplicate can key on the id: a retried alert keeps it.
	return w.post(ctx, rawURL, body, rec.ID)
}

// post sends body to a webhook; idempotencyKey, when set, names the
// message for receivers that de-duplicate.
func (w *webhook) post(ctx context.Context, rawURL string, body WebhookBody, idempotencyKey string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("alert: webhook %s: want an http or https url", webhookTarget(rawURL))
	}
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("alert: encode webhook body: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("alert: webhook %s: %w", webhookTarget(rawURL), err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Veille-Alerts/1.0")
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		// The url may carry a token: name the host only.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("alert: webhook %s: %w", webhookTarget(rawURL), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("alert: webhook %s: HTTP %d", webhookTarget(rawURL), resp.StatusCode)
	}
	return nil
}

func withoutDeliveries(r *Record) *Record {
	c := *r
	c.Deliveries = nil
	return &c
}

// mailer sends alerts by SMTP, upgrading with STARTTLS whenever the server
// offers it and authenticating (PLAIN, only over TLS or to loopback) when
// the URL names a user.
type mailer struct {
	host, addr, user, pass, from string
	tls                          *tls.Config
	timeout                      time.Duration
}

// newMailer reads smtp://[user[:password]@]host[:port]; the password may
// instead come from the environment (see FromConfig).
func newMailer(raw, password, from string, tlsConf *tls.Config, timeout time.Duration) (*mailer, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "smtp" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: alerts.smtp: want smtp://[user@]host[:port]", ErrRule)
	}
	m := &mailer{host: u.Hostname(), addr: u.Host, from: from, tls: tlsConf, timeout: timeout}
	if u.Port() == "" {
		m.addr = net.JoinHostPort(m.host, "25")
	}
	if u.User != nil {
		m.user = u.User.Username()
		m.pass, _ = u.User.Password()
	}
	if password != "" {
		m.pass = password
	}
	if m.from == "" {
		m.from = "veille@" + m.host
	}
	if m.tls == nil {
		m.tls = &tls.Config{ServerName: m.host, MinVersion: tls.VersionTLS12}
	}
	return m, nil
}

func (m *mailer) send(ctx context.Context, to []string, rec *Record) (err error) {
	return m.sendRaw(ctx, to, m.message(to, rec))
}

// sendRaw sends a whole message.
func (m *mailer) sendRaw(ctx context.Context, to []string, msg []byte) (err error) {
	d := net.Dialer{Timeout: m.timeout}
	conn, err := d.DialContext(ctx, "tcp", m.addr)
	if err != nil {
		return fmt.Errorf("alert: smtp %s: %w", m.addr, err)
	}
	deadline := time.Now().Add(m.timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("alert: smtp %s: %w", m.addr, err)
	}
	defer c.Close()
	step := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("alert: smtp %s: %s: %w", m.addr, what, err)
		}
		return nil
	}
	if err := step("hello", c.Hello("veille")); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := step("starttls", c.StartTLS(m.tls)); err != nil {
			return err
		}
	}
	if m.user != "" {
		if err := step("auth", c.Auth(smtp.PlainAuth("", m.user, m.pass, m.host))); err != nil {
			return err
		}
	}
	if err := step("mail from", c.Mail(m.from)); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := step("rcpt "+rcpt, c.Rcpt(rcpt)); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err := step("data", err); err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return step("write", err)
	}
	if err := step("end of data", w.Close()); err != nil {
		return err
	}
	return step("quit", c.Quit())
}

func (m *mailer) message(to []string, rec *Record) []byte {
	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", m.from)
	hdr("To", strings.Join(to, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", rec.Subject))
	hdr("Date", rec.At.UTC().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+rec.ID+"@veille>")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	hdr("Content-Language", rec.Lang)
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(rec.Text, "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}
