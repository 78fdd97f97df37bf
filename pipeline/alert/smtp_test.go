package alert_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/alert"
	"github.com/veille-project/veille/pipeline/config"
)

// smtpServer is a small SMTP receiver on loopback: EHLO, STARTTLS, MAIL,
// RCPT, DATA, QUIT — enough of the protocol for a real client.
type smtpServer struct {
	ln    net.Listener
	tls   *tls.Config
	mu    sync.Mutex
	mails []receivedMail
}

type receivedMail struct {
	from    string
	rcpt    []string
	data    string
	overTLS bool
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtp.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"smtp.test"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func startSMTP(t *testing.T, cert tls.Certificate) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, tls: &tls.Config{Certificates: []tls.Certificate{cert}}}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	say := func(line string) { w.WriteString(line + "\r\n"); w.Flush() }
	var m receivedMail
	say("220 smtp.test ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(cmd, " ", 2)[0])
		switch {
		case verb == "EHLO" || verb == "HELO":
			if m.overTLS {
				say("250-smtp.test\r\n250 8BITMIME")
			} else {
				say("250-smtp.test\r\n250-8BITMIME\r\n250 STARTTLS")
			}
		case verb == "STARTTLS":
			say("220 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, m.overTLS = tc, true
			r, w = bufio.NewReader(tc), bufio.NewWriter(tc)
		case strings.HasPrefix(strings.ToUpper(cmd), "MAIL FROM:"):
			// Parameters (BODY=8BITMIME) follow the address.
			m.from = strings.Trim(strings.Fields(cmd[len("MAIL FROM:"):])[0], "<>")
			say("250 ok")
		case strings.HasPrefix(strings.ToUpper(cmd), "RCPT TO:"):
			m.rcpt = append(m.rcpt, strings.Trim(cmd[len("RCPT TO:"):], "<> "))
			say("250 ok")
		case verb == "DATA":
			say("354 end with <CRLF>.<CRLF>")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			m.data = b.String()
			s.mu.Lock()
			s.mails = append(s.mails, m)
			s.mu.Unlock()
			say("250 queued")
		case verb == "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}

func (s *smtpServer) received() []receivedMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]receivedMail(nil), s.mails...)
}

func TestEmailOverSTARTTLS(t *testing.T) {
	ctx := testCtx(t)
	cert, pool := selfSigned(t)
	srv := startSMTP(t, cert)
	t4 := time.Date(2026, 6, 4, 8, 0, 0, 0, time.UTC)
	var rows []flagged
	for i := 0; i < 5; i++ {
		rows = append(rows, flagged{id: fmt.Sprintf("em-%d", i), narrative: "email-narrative", mission: "MONUSCO", lang: "en",
			source: "radio", stance: "assert", evidence: "peacekeepers are said to deliver arms", score: 0.8, at: t4.Add(time.Duration(i) * time.Minute)})
	}
	insert(t, rows)
	opts := engineOptions(config.AlertRule{Name: "email", Narratives: []string{"email-narrative"}, Threshold: 3,
		Email: []string{"stratcom@mission.example.org", "radio@mission.example.org"}, Lang: "en"})
	opts.SMTP = "smtp://" + srv.ln.Addr().String()
	opts.From = "veille@mission.example.org"
	opts.SMTPTLS = &tls.Config{RootCAs: pool, ServerName: "smtp.test", MinVersion: tls.VersionTLS12}
	eng, err := alert.New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := eng.Evaluate(ctx, t4.Add(20*time.Minute))
	if err != nil || len(recs) != 1 {
		t.Fatalf("evaluate: %d alerts, %v; want 1", len(recs), err)
	}
	eng.Wait()
	mails := srv.received()
	if len(mails) != 1 {
		t.Fatalf("SMTP server received %d messages, want 1", len(mails))
	}
	m := mails[0]
	if !m.overTLS {
		t.Error("the message was sent in clear although STARTTLS was offered")
	}
	if m.from != "veille@mission.example.org" || strings.Join(m.rcpt, ",") != "stratcom@mission.example.org,radio@mission.example.org" {
		t.Errorf("envelope from %q to %v", m.from, m.rcpt)
	}
	msg, err := mail.ReadMessage(strings.NewReader(m.data))
	if err != nil {
		t.Fatalf("received message does not parse: %v", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != recs[0].Subject || !strings.HasPrefix(subject, "[Veille] Surge") {
		t.Errorf("subject %q (%v), want %q", subject, err, recs[0].Subject)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"en:email-narrative", "deliver arms", recs[0].ReviewURL} {
		if !strings.Contains(string(body), want) {
			t.Errorf("mail body lacks %q:\n%s", want, body)
		}
	}
	logged, err := eng.Log().Get(ctx, recs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := deliveryOf(logged, alert.ChannelEmail); d.Status != alert.StatusSent || d.Attempts != 1 {
		t.Errorf("email delivery %+v", d)
	}
}

func TestEmailRefusesUntrustedCertificate(t *testing.T) {
	ctx := testCtx(t)
	cert, _ := selfSigned(t)
	srv := startSMTP(t, cert)
	t5 := time.Date(2026, 6, 5, 8, 0, 0, 0, time.UTC)
	var rows []flagged
	for i := 0; i < 3; i++ {
		rows = append(rows, flagged{id: fmt.Sprintf("eu-%d", i), narrative: "email-untrusted", mission: "MONUSCO", lang: "en",
			source: "radio", stance: "assert", evidence: "claim", score: 0.8, at: t5.Add(time.Duration(i) * time.Minute)})
	}
	insert(t, rows)
	opts := engineOptions(config.AlertRule{Name: "email-untrusted", Narratives: []string{"email-untrusted"}, Threshold: 2,
		Email: []string{"stratcom@mission.example.org"}})
	opts.SMTP, opts.Retries = "smtp://"+srv.ln.Addr().String(), 2
	eng, err := alert.New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := eng.Evaluate(ctx, t5.Add(20*time.Minute))
	if err != nil || len(recs) != 1 {
		t.Fatalf("evaluate: %d alerts, %v", len(recs), err)
	}
	eng.Wait()
	if n := len(srv.received()); n != 0 {
		t.Errorf("%d messages sent to a server whose certificate is not trusted", n)
	}
	logged, _ := eng.Log().Get(ctx, recs[0].ID)
	if d := deliveryOf(logged, alert.ChannelEmail); d.Status != alert.StatusFailed || !strings.Contains(d.LastError, "starttls") {
		t.Errorf("email delivery %+v, want failed at starttls", d)
	}
}

// TestCourierEmailsWithAttachment: a brief goes out over STARTTLS as a
// multipart message, its text readable and the HTML attached whole.
func TestCourierEmailsWithAttachment(t *testing.T) {
	ctx := testCtx(t)
	cert, pool := selfSigned(t)
	srv := startSMTP(t, cert)
	cfg := config.Default()
	cfg.Alerts.SMTP = "smtp://" + srv.ln.Addr().String()
	cfg.Alerts.From = "veille@mission.example.org"
	c, err := alert.NewCourier(cfg, &tls.Config{RootCAs: pool, ServerName: "smtp.test", MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	html := "<!DOCTYPE html><title>Note</title><p>" + strings.Repeat("Évolution des narratifs — ", 40) + "</p>"
	err = c.Email(ctx, []string{"head-of-mission@mission.example.org"}, "[Veille] Note hebdomadaire", "La note de la semaine est jointe.",
		alert.Attachment{Name: "brief-monusco.html", ContentType: "text/html; charset=utf-8", Data: []byte(html)})
	if err != nil {
		t.Fatal(err)
	}
	mails := srv.received()
	if len(mails) != 1 || !mails[0].overTLS {
		t.Fatalf("received %d messages (TLS %v), want 1 over TLS", len(mails), len(mails) == 1 && mails[0].overTLS)
	}
	msg, err := mail.ReadMessage(strings.NewReader(mails[0].data))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var text, attached, name string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		// The reader decodes a quoted-printable part itself.
		if p.Header.Get("Content-Transfer-Encoding") == "base64" {
			d, _ := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(b), "\r\n", ""))
			attached, name = string(d), p.FileName()
		} else {
			text = string(b)
		}
	}
	if !strings.Contains(text, "La note de la semaine est jointe.") || attached != html || name != "brief-monusco.html" {
		t.Errorf("text %q, attachment %q of %d bytes, want the text and the %d-byte HTML", text, name, len(attached), len(html))
	}
}
