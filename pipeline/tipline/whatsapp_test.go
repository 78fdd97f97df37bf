package tipline_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/veille-project/veille/pipeline/tipline"
	"github.com/veille-project/veille/pipeline/tipline/tiplinetest"
)

const (
	waAppSecret = "app-secret-7f3a9c0e"
	waVerify    = "verify-token-2b8e41"
	waAccess    = "EAAG-access-token-SECRET-51d0"
	waFrom      = "23672000001"
)

// newWhatsApp makes an adapter sending to srv and serves its Handler; it
// returns the webhook URL.
func newWhatsApp(t *testing.T, srv *tiplinetest.WhatsAppServer, mut func(*tipline.WhatsAppConfig)) (*tipline.WhatsApp, *logBuffer, string) {
	t.Helper()
	log, buf := newLog()
	cfg := tipline.WhatsAppConfig{
		AppSecret:     waAppSecret,
		VerifyToken:   waVerify,
		AccessToken:   waAccess,
		PhoneNumberID: tiplinetest.WAPhoneNumberID,
		GraphBaseURL:  srv.URL(),
		HashKey:       hashKey,
		Logger:        log,
		MaxBackoff:    200 * time.Millisecond,
	}
	if mut != nil {
		mut(&cfg)
	}
	wa, err := tipline.NewWhatsApp(cfg)
	if err != nil {
		t.Fatalf("NewWhatsApp: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/whatsapp", wa.Handler())
	hook := httptest.NewServer(mux)
	t.Cleanup(hook.Close)
	return wa, buf, hook.URL + "/whatsapp"
}

func TestWhatsAppVerify(t *testing.T) {
	srv := tiplinetest.NewWhatsApp(t, waAppSecret, waAccess)
	_, logs, hook := newWhatsApp(t, srv, nil)
	ctx := timeout(t)
	tests := []struct {
		name  string
		mode  string
		token string
		want  int
	}{
		{"right token", "subscribe", waVerify, http.StatusOK},
		{"wrong token", "subscribe", "verify-token-guess", http.StatusForbidden},
		{"empty token", "subscribe", "", http.StatusForbidden},
		{"wrong mode", "unsubscribe", waVerify, http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url := hook
			if tc.mode != "subscribe" {
				url += "?hub.mode=" + tc.mode
			}
			status, body, err := tiplinetest.Verify(ctx, url, tc.token, "1158201444")
			if err != nil {
				t.Fatal(err)
			}
			if status != tc.want {
				t.Fatalf("status %d, want %d", status, tc.want)
			}
			if tc.want == http.StatusOK && body != "1158201444" {
				t.Errorf("body %q, want the challenge", body)
			}
		})
	}
	assertClean(t, "log", logs.String(), waVerify, "verify-token-guess")
}

func TestWhatsAppAnswersTipAsReply(t *testing.T) {
	srv := tiplinetest.NewWhatsApp(t, waAppSecret, waAccess)
	wa, logs, hook := newWhatsApp(t, srv, nil)
	rec := &recorder{}
	start(t, wa, rec.handle)
	ctx := timeout(t)

	const text = "Les casques bleus volent le bétail près de Kaga-Bandoro"
	wamid, err := srv.DeliverText(ctx, hook, waFrom, text)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := srv.WaitSent(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := tiplinetest.WASent{PhoneNumberID: tiplinetest.WAPhoneNumberID, Version: "v21.0", To: waFrom, Text: "Vérifié : " + text, ReplyTo: wamid}
	if got := sent[0]; got.PhoneNumberID != want.PhoneNumberID || got.Version != want.Version || got.To != want.To || got.Text != want.Text || got.ReplyTo != want.ReplyTo {
		t.Errorf("sent %+v, want %+v", got, want)
	}

	fwd := tiplinetest.TextMessage(waFrom, "Transféré plusieurs fois")
	fwd.Context = &tiplinetest.WAContext{Forwarded: true, FrequentlyForwarded: true}
	if status, err := srv.Deliver(ctx, hook, tiplinetest.Notification(fwd)); err != nil || status != http.StatusOK {
		t.Fatalf("Deliver = %d, %v", status, err)
	}
	if _, err := srv.WaitSent(ctx, 2); err != nil {
		t.Fatal(err)
	}
	tips := rec.Tips()
	if len(tips) != 2 {
		t.Fatalf("Handler got %d tips, want 2", len(tips))
	}
	tip := tips[0]
	if tip.Channel != tipline.ChannelWhatsApp || tip.Text != text || tip.Forwarded || !tips[1].Forwarded {
		t.Errorf("tips = %+v", tips)
	}
	if want := tipline.HashSender(hashKey, tipline.ChannelWhatsApp, waFrom); tip.SenderHash != want || tips[1].SenderHash != want {
		t.Errorf("SenderHash = %q, %q; want %q for both", tip.SenderHash, tips[1].SenderHash, want)
	}
	assertClean(t, "tip", tip.ChatID+tip.SenderHash+tip.MessageID+tip.ID(), waFrom, wamid)

	if err := wa.Send(ctx, tip.ChatID, "Suite : démenti officiel."); err != nil {
		t.Fatalf("Send: %v", err)
	}
	sent, err = srv.WaitSent(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := sent[2]; got.To != waFrom || got.ReplyTo != "" {
		t.Errorf("follow-up %+v, want a plain message to %s", got, waFrom)
	}
	assertClean(t, "log", logs.String(), text, "Transféré", waFrom, wamid, waAccess, waAppSecret)
}

func TestWhatsAppFixedReplies(t *testing.T) {
	srv := tiplinetest.NewWhatsApp(t, waAppSecret, waAccess)
	wa, logs, hook := newWhatsApp(t, srv, nil)
	rec := &recorder{}
	start(t, wa, rec.handle)
	ctx := timeout(t)

	media := &tiplinetest.WAMedia{ID: "1034789", MimeType: "image/jpeg", SHA256: "c2hh"}
	captioned := *media
	captioned.Caption = "Convoi d'armes à Bambari"
	tests := []struct {
		name    string
		msg     tiplinetest.WAMessage
		reply   string
		handled bool
	}{
		{"image without caption", tiplinetest.WAMessage{Type: "image", Image: media}, tipline.DefaultMessages.NeedText, false},
		{"sticker", tiplinetest.WAMessage{Type: "sticker", Sticker: &tiplinetest.WAMedia{ID: "1", MimeType: "image/webp"}}, tipline.DefaultMessages.NeedText, false},
		{"voice note", tiplinetest.WAMessage{Type: "audio", Audio: &tiplinetest.WAMedia{ID: "2", MimeType: "audio/ogg"}}, tipline.DefaultMessages.NeedText, false},
		{"welcome request", tiplinetest.WAMessage{Type: "request_welcome"}, tipline.DefaultMessages.Welcome, false},
		{"image with caption", tiplinetest.WAMessage{Type: "image", Image: &captioned}, "Vérifié : Convoi d'armes à Bambari", true},
		{"video with caption", tiplinetest.WAMessage{Type: "video", Video: &tiplinetest.WAMedia{ID: "3", MimeType: "video/mp4", Caption: "Vidéo"}}, "Vérifié : Vidéo", true},
		{"handler error", tiplinetest.TextMessage(waFrom, "Une panne"), tipline.DefaultMessages.TryLater, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(rec.Tips())
			m := tc.msg
			m.From = waFrom
			n := tiplinetest.Notification(m)
			if status, err := srv.Deliver(ctx, hook, n); err != nil || status != http.StatusOK {
				t.Fatalf("Deliver = %d, %v", status, err)
			}
			sent, err := srv.WaitSent(ctx, i+1)
			if err != nil {
				t.Fatal(err)
			}
			if got := sent[i]; got.Text != tc.reply || got.ReplyTo != n.Entry[0].Changes[0].Value.Messages[0].ID {
				t.Errorf("reply %q to %q, want %q", got.Text, got.ReplyTo, tc.reply)
			}
			if handled := len(rec.Tips()) > before; handled != tc.handled {
				t.Errorf("Handler called = %v, want %v", handled, tc.handled)
			}
		})
	}

	t.Run("statuses get nothing", func(t *testing.T) {
		n := tiplinetest.Notification()
		n.Entry[0].Changes[0].Value.Statuses = []tiplinetest.WAStatus{{ID: tiplinetest.NewWAMID(), Status: "read", Timestamp: "1773301500", RecipientID: waFrom}}
		if status, err := srv.Deliver(ctx, hook, n); err != nil || status != http.StatusOK {
			t.Fatalf("Deliver = %d, %v", status, err)
		}
		srv.DeliverText(ctx, hook, waFrom, "Dernière")
		if _, err := srv.WaitSent(ctx, len(tests)+1); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		if n := len(srv.Sent()); n != len(tests)+1 {
			t.Errorf("%d messages sent, want %d", n, len(tests)+1)
		}
	})
	assertClean(t, "log", logs.String(), "panne", "Convoi", waFrom, waAccess)
}

func TestWhatsAppRefusesBadSignature(t *testing.T) {
	srv := tiplinetest.NewWhatsApp(t, waAppSecret, waAccess)
	wa, logs, hook := newWhatsApp(t, srv, nil)
	rec := &recorder{}
	start(t, wa, rec.handle)
	ctx := timeout(t)

	const text = "Texte d'une requête forgée"
	payload, _ := json.Marshal(tiplinetest.Notification(tiplinetest.TextMessage(waFrom, text)))
	post := func(sig string) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, hook, bytes.NewReader(payload))
		if sig != "" {
			req.Header.Set("X-Hub-Signature-256", sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := tiplinetest.Sign(waAppSecret, payload)
	tests := []struct {
		name   string
		status func() int
	}{
		{"signed with another secret", func() int {
			s, err := srv.DeliverBadSignature(ctx, hook, payload)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"no signature", func() int { return post("") }},
		{"not hex", func() int { return post("sha256=zz" + good[9:]) }},
		{"no prefix", func() int { return post(strings.TrimPrefix(good, "sha256=")) }},
		{"sha1 prefix", func() int { return post("sha1=" + good[7:]) }},
		{"truncated", func() int { return post(good[:len(good)-2]) }},
		{"signature of another body", func() int { return post(tiplinetest.Sign(waAppSecret, []byte("{}"))) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.status(); got != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", got)
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	if len(rec.Tips()) != 0 || srv.Calls() != 0 {
		t.Errorf("a refused notification reached the Handler (%d) or the API (%d)", len(rec.Tips()), srv.Calls())
	}
	out := logs.String()
	if strings.Count(out, "bad or missing signature") != len(tests) {
		t.Errorf("refusals not logged:\n%s", out)
	}
	assertClean(t, "log", out, text, waFrom, waAppSecret, waAccess, good[7:])
}

func TestWhatsAppAnswersDuplicatesOnce(t *testing.T) {
	srv := tiplinetest.NewWhatsApp(t, waAppSecret, waAccess)
	wa, _, hook := newWhatsApp(t, srv, nil)
	rec := &recorder{}
	start(t, wa, rec.handle)
	ctx := timeout(t)

	n := tiplinetest.Notification(tiplinetest.TextMessage(waFrom, "Rumeur redélivrée"))
	for range 3 {
		if status, err := srv.Deliver(ctx, hook, n); err != nil || status != http.StatusOK {
			t.Fatalf("Deliver = %d, %v; want 200 each time", status, err)
		}
	}
	// The same message inside a notification that also holds a new one.
	n.Entry[0].Changes[0].Value.Messages = append(n.Entry[0].Changes[0].Value.Messages, tiplinetest.TextMessage(waFrom, "Nouvelle"))
	if status, err := srv.Deliver(ctx, hook, n); err != nil || status != http.StatusOK {
		t.Fatalf("Deliver = %d, %v", status, err)
	}
	if _, err := srv.WaitSent(ctx, 2); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if sent, tips := len(srv.Sent()), len(rec.Tips()); sent != 2 || tips != 2 {
		t.Errorf("%d replies for %d Handler calls, want 2 and 2", sent, tips)
	}
}

func TestWhatsAppSlowHandlerDoesNotStallWebhook(t *testing.T) {
	srv := tiplinetest.NewWhatsApp(t, waAppSecret, waAccess)
	wa, logs, hook := newWhatsApp(t, srv, func(c *tipline.WhatsAppConfig) { c.Workers, c.QueueSize = 1, 1 })
	rec := &recorder{block: make(chan struct{})}
	start(t, wa, rec.handle)
	ctx := timeout(t)

	if _, err := srv.DeliverText(ctx, hook, waFrom, "première"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the worker is busy", func() bool { return len(rec.Tips()) == 1 })
	t0 := time.Now()
	for _, text := range []string{"en file", "de trop", "encore de trop"} {
		if _, err := srv.DeliverText(ctx, hook, waFrom, text); err != nil {
			t.Fatalf("DeliverText(%q): %v", text, err)
		}
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("webhook took %v while the Handler was busy", d)
	}
	if got := wa.Dropped(); got != 2 {
		t.Errorf("Dropped = %d, want 2", got)
	}
	close(rec.block)
	if _, err := srv.WaitSent(ctx, 2); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "queue full") || !strings.Contains(out, "dropped_total=2") {
		t.Errorf("drops not logged:\n%s", out)
	}
}

func TestWhatsAppRetriesRateLimitAndSplitsLongReplies(t *testing.T) {
	srv := tiplinetest.NewWhatsApp(t, waAppSecret, waAccess)
	srv.FailNext(http.StatusTooManyRequests)
	wa, _, hook := newWhatsApp(t, srv, nil)
	long := strings.Repeat("Cette information est fausse. ", 200) // 6000 characters
	rec := &recorder{reply: func(tipline.Tip) string { return long }}
	start(t, wa, rec.handle)
	ctx := timeout(t)

	t0 := time.Now()
	wamid, err := srv.DeliverText(ctx, hook, waFrom, "Rumeur")
	if err != nil {
		t.Fatal(err)
	}
	sent, err := srv.WaitSent(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < 950*time.Millisecond {
		t.Errorf("sent after %v, want the 1 s Retry-After honoured", d)
	}
	if sent[0].ReplyTo != wamid || sent[1].ReplyTo != "" {
		t.Errorf("reply contexts %q, %q; want the first part only as a reply", sent[0].ReplyTo, sent[1].ReplyTo)
	}
	for i, s := range sent {
		if n := utf8.RuneCountInString(s.Text); n > 4096 || !strings.HasSuffix(s.Text, "fausse.") {
			t.Errorf("part %d: %d characters, ends %q", i, n, s.Text[len(s.Text)-10:])
		}
	}
	if got := strings.Join([]string{sent[0].Text, sent[1].Text}, " "); got != strings.TrimSpace(long) {
		t.Error("parts do not add up to the reply")
	}
}

func TestWhatsAppSecretsNeverInErrors(t *testing.T) {
	t.Run("refused access token", func(t *testing.T) {
		srv := tiplinetest.NewWhatsApp(t, waAppSecret, waAccess)
		const wrong = "EAAG-wrong-token-SECRET-77"
		wa, logs, hook := newWhatsApp(t, srv, func(c *tipline.WhatsAppConfig) { c.AccessToken = wrong })
		rec := &recorder{}
		start(t, wa, rec.handle)
		ctx := timeout(t)
		if _, err := srv.DeliverText(ctx, hook, waFrom, "Rumeur"); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the reply fails", func() bool { return strings.Contains(logs.String(), "reply failed") })
		err := wa.Send(ctx, rec.Tips()[0].ChatID, "Suite")
		if !errors.Is(err, tipline.ErrBadToken) {
			t.Errorf("Send = %v, want ErrBadToken", err)
		}
		assertClean(t, "error", err.Error(), wrong, waFrom)
		assertClean(t, "log", logs.String(), wrong, waFrom, "Rumeur")
	})
	t.Run("unreachable", func(t *testing.T) {
		srv := tiplinetest.NewWhatsApp(t, waAppSecret, waAccess)
		wa, logs, hook := newWhatsApp(t, srv, nil)
		rec := &recorder{}
		stop := start(t, wa, rec.handle)
		ctx := timeout(t)
		if _, err := srv.DeliverText(ctx, hook, waFrom, "Rumeur"); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.WaitSent(ctx, 1); err != nil {
			t.Fatal(err)
		}
		stop()
		srv.Close()
		err := wa.Send(ctx, rec.Tips()[0].ChatID, "Suite")
		if err == nil {
			t.Fatal("Send to a closed server succeeded")
		}
		assertClean(t, "error", err.Error(), waAccess, waFrom)
		assertClean(t, "log", logs.String(), waAccess, waFrom)
	})
}
