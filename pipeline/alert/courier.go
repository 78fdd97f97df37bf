package alert

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/veille-project/veille/pipeline/config"
)

// Courier sends what is not an alert — a brief — through the alert
// channels: e-mail (with an attachment) and chat webhooks, with the same
// SMTP settings, address guard and timeouts.
type Courier struct {
	mail *mailer
	hook *webhook
}

// NewCourier builds a courier from veille.yaml; e-mail needs alerts.smtp.
// tlsConf verifies the SMTP server (nil: the system's roots).
func NewCourier(cfg config.Config, tlsConf *tls.Config) (*Courier, error) {
	g, err := newGuard(cfg.Fetch.Allow)
	if err != nil {
		return nil, err
	}
	c := &Courier{hook: newWebhook(g, 20*time.Second)}
	if cfg.Alerts.SMTP != "" {
		if c.mail, err = newMailer(cfg.Alerts.SMTP, os.Getenv("VEILLE_SMTP_PASSWORD"), cfg.Alerts.From, tlsConf, 20*time.Second); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// ErrNoSMTP: e-mail was asked for but alerts.smtp is not set.
var ErrNoSMTP = errors.New("alert: e-mail needs alerts.smtp")

// Attachment is a file sent with an e-mail.
type Attachment struct {
	Name, ContentType string
	Data              []byte
}

// Email sends a plain-text message with attachments.
func (c *Courier) Email(ctx context.Context, to []string, subject, text string, files ...Attachment) error {
	if c.mail == nil {
		return ErrNoSMTP
	}
	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	mw := multipart.NewWriter(io.Discard)
	hdr("From", c.mail.from)
	hdr("To", strings.Join(to, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", subject))
	hdr("Date", time.Now().UTC().Format(time.RFC1123Z))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "multipart/mixed; boundary="+mw.Boundary())
	b.WriteString("\r\n")
	w := multipart.NewWriter(&b)
	if err := w.SetBoundary(mw.Boundary()); err != nil {
		return err
	}
	part, err := w.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}, "Content-Transfer-Encoding": {"quoted-printable"}})
	if err != nil {
		return err
	}
	qp := quotedprintable.NewWriter(part)
	_, _ = qp.Write([]byte(strings.ReplaceAll(text, "\n", "\r\n")))
	_ = qp.Close()
	for _, f := range files {
		part, err := w.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {f.ContentType},
			"Content-Transfer-Encoding": {"base64"},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": f.Name})},
		})
		if err != nil {
			return err
		}
		enc := base64.StdEncoding.EncodeToString(f.Data)
		for len(enc) > 76 {
			io.WriteString(part, enc[:76]+"\r\n")
			enc = enc[76:]
		}
		io.WriteString(part, enc+"\r\n")
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.mail.sendRaw(ctx, to, b.Bytes())
}

// Webhook posts a chat message (Slack, Mattermost, Teams) with text.
func (c *Courier) Webhook(ctx context.Context, rawURL, title, text string) error {
	return c.hook.post(ctx, rawURL, WebhookBody{Type: "MessageCard", Context: "https://schema.org/extensions",
		Text: chatSafe(text), Title: chatSafe(title), Summary: chatSafe(title)}, "")
}
