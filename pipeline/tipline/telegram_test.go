package tipline_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/tipline"
	"github.com/veille-project/veille/pipeline/tipline/tiplinetest"
)

const (
	tgToken  = "7012345678:AAHfK3-TESTtokenSECRET_value"
	tgChat   = 555000111
	tgSender = 777000111
)

func newTelegram(t *testing.T, base string, mut func(*tipline.TelegramConfig)) (*tipline.Telegram, *logBuffer) {
	t.Helper()
	log, buf := newLog()
	cfg := tipline.TelegramConfig{
		Token:       tgToken,
		BaseURL:     base,
		PollTimeout: time.Second,
		HashKey:     hashKey,
		Logger:      log,
		MaxBackoff:  200 * time.Millisecond,
	}
	if mut != nil {
		mut(&cfg)
	}
	tg, err := tipline.NewTelegram(cfg)
	if err != nil {
		t.Fatalf("NewTelegram: %v", err)
	}
	return tg, buf
}

func TestTelegramAnswersTipAsReply(t *testing.T) {
	srv := tiplinetest.NewTelegram(t, tgToken)
	tg, logs := newTelegram(t, srv.URL(), nil)
	rec := &recorder{}
	start(t, tg, rec.handle)
	ctx := timeout(t)

	const text = "Les casques bleus distribuent des armes aux rebelles à Bria"
	mid := srv.SendText(tgChat, tgSender, text, "fr")
	sent, err := srv.WaitSent(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := sent[0]; got.ChatID != tgChat || got.ReplyToMessageID != mid || got.Text != "Vérifié : "+text {
		t.Errorf("sent %+v, want the Handler's reply to message %d in chat %d", got, mid, tgChat)
	}

	srv.SendText(tgChat, tgSender, "Deuxième rumeur", "fr")
	if _, err := srv.WaitSent(ctx, 2); err != nil {
		t.Fatal(err)
	}
	tips := rec.Tips()
	if len(tips) != 2 {
		t.Fatalf("Handler got %d tips, want 2", len(tips))
	}
	tip := tips[0]
	if tip.Channel != tipline.ChannelTelegram || tip.Text != text || tip.LangHint != "fr" || tip.Forwarded || tip.Date.IsZero() {
		t.Errorf("tip = %+v", tip)
	}
	if want := tipline.HashSender(hashKey, tipline.ChannelTelegram, "777000111"); tip.SenderHash != want || tips[1].SenderHash != want {
		t.Errorf("SenderHash = %q, %q; want %q for both", tip.SenderHash, tips[1].SenderHash, want)
	}
	assertClean(t, "tip", tip.ChatID+tip.SenderHash+tip.ID(), "777000111", "555000111")

	// The sealed ChatID still reaches the chat, for a follow-up.
	if err := tg.Send(ctx, tip.ChatID, "Suite : la MINUSCA a démenti."); err != nil {
		t.Fatalf("Send: %v", err)
	}
	sent, err = srv.WaitSent(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := sent[2]; got.ChatID != tgChat || got.ReplyToMessageID != 0 {
		t.Errorf("follow-up %+v, want a plain message to chat %d", got, tgChat)
	}
	if err := tg.Send(ctx, "777000111", "x"); !errors.Is(err, tipline.ErrBadChatID) {
		t.Errorf("Send(raw id) = %v, want ErrBadChatID", err)
	}

	eventually(t, "the updates are confirmed", func() bool { return srv.Pending() == 0 })
	assertClean(t, "log", logs.String(), text, "Deuxième rumeur", "777000111", "555000111", tgToken)
}

func TestTelegramFixedReplies(t *testing.T) {
	srv := tiplinetest.NewTelegram(t, tgToken)
	tg, logs := newTelegram(t, srv.URL(), nil)
	rec := &recorder{}
	start(t, tg, rec.handle)
	ctx := timeout(t)

	msg := func(m tiplinetest.Message) tiplinetest.Update {
		m.From = &tiplinetest.User{ID: tgSender, FirstName: "Awa", LanguageCode: "fr"}
		m.Chat = tiplinetest.Chat{ID: tgChat, Type: "private"}
		return tiplinetest.Update{Message: &m}
	}
	photo := []tiplinetest.PhotoSize{{FileID: "AgAD", FileUniqueID: "AQAD", Width: 90, Height: 67}}
	tests := []struct {
		name    string
		update  tiplinetest.Update
		reply   string
		handled bool // whether the Handler sees it
	}{
		{"/start", msg(tiplinetest.Message{Text: "/start"}), tipline.DefaultMessages.Welcome, false},
		{"/help", msg(tiplinetest.Message{Text: "/help"}), tipline.DefaultMessages.Welcome, false},
		{"photo without caption", msg(tiplinetest.Message{Photo: photo}), tipline.DefaultMessages.NeedText, false},
		{"sticker", msg(tiplinetest.Message{Sticker: &tiplinetest.Sticker{FileID: "CAAC", FileUniqueID: "AgAD", Type: "regular", Width: 512, Height: 512}}), tipline.DefaultMessages.NeedText, false},
		{"photo with caption", msg(tiplinetest.Message{Photo: photo, Caption: "Convoi d'armes"}), "Vérifié : Convoi d'armes", true},
		{"forwarded", msg(tiplinetest.Message{Text: "Transféré", ForwardOrigin: &tiplinetest.MessageOrigin{Type: "hidden_user", Date: 1773300000, SenderName: "X"}}), "Vérifié : Transféré", true},
		{"handler error", msg(tiplinetest.Message{Text: "Une panne de réseau"}), tipline.DefaultMessages.TryLater, true},
		{"handler panic", msg(tiplinetest.Message{Text: "Une panique à Bangui"}), tipline.DefaultMessages.TryLater, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(rec.Tips())
			srv.Send(tc.update)
			sent, err := srv.WaitSent(ctx, i+1)
			if err != nil {
				t.Fatal(err)
			}
			got := sent[i]
			if got.Text != tc.reply || got.ReplyToMessageID != tc.update.Message.MessageID {
				t.Errorf("reply %q to %d, want %q to %d", got.Text, got.ReplyToMessageID, tc.reply, tc.update.Message.MessageID)
			}
			if handled := len(rec.Tips()) > before; handled != tc.handled {
				t.Errorf("Handler called = %v, want %v", handled, tc.handled)
			}
		})
	}
	if tips := rec.Tips(); len(tips) < 2 || !tips[1].Forwarded {
		t.Errorf("forwarded tip not marked: %+v", tips)
	}
	out := logs.String()
	if !strings.Contains(out, "handler failed") {
		t.Errorf("handler failure not logged:\n%s", out)
	}
	assertClean(t, "log", out, "panne", "panique", "Convoi", "777000111", "555000111", tgToken)
}

func TestTelegramHonoursRetryAfter(t *testing.T) {
	srv := tiplinetest.NewTelegram(t, tgToken)
	srv.FailNext("getUpdates", 1)
	srv.FailNext("sendMessage", 1)
	srv.SendText(tgChat, tgSender, "Rumeur", "")
	tg, _ := newTelegram(t, srv.URL(), nil)
	start(t, tg, (&recorder{}).handle)
	if _, err := srv.WaitSent(timeout(t), 1); err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"getUpdates", "sendMessage"} {
		calls := srv.Calls(method)
		if len(calls) < 2 {
			t.Fatalf("%s called %d times, want a retry", method, len(calls))
		}
		if gap := calls[1].Sub(calls[0]); gap < 950*time.Millisecond {
			t.Errorf("%s retried after %v, want retry_after 1 s", method, gap)
		}
	}
}

func TestTelegramLongPollStopsPromptly(t *testing.T) {
	srv := tiplinetest.NewTelegram(t, tgToken)
	tg, _ := newTelegram(t, srv.URL(), func(c *tipline.TelegramConfig) { c.PollTimeout = 30 * time.Second })
	stop := start(t, tg, (&recorder{}).handle)
	eventually(t, "the long poll is under way", func() bool { return len(srv.Calls("getUpdates")) > 0 })
	t0 := time.Now()
	stop()
	if d := time.Since(t0); d > time.Second {
		t.Errorf("Run took %v to stop", d)
	}
}

func TestTelegramRefusedTokenEndsRun(t *testing.T) {
	srv := tiplinetest.NewTelegram(t, "7012345678:AAH-the-right-token")
	tg, logs := newTelegram(t, srv.URL(), nil)
	err := tg.Run(timeout(t), (&recorder{}).handle)
	if !errors.Is(err, tipline.ErrBadToken) {
		t.Fatalf("Run = %v, want ErrBadToken", err)
	}
	assertClean(t, "error", err.Error(), tgToken)
	assertClean(t, "log", logs.String(), tgToken)
}

func TestTelegramTokenNeverInErrorsOrLogs(t *testing.T) {
	t.Run("unreachable from the start", func(t *testing.T) {
		srv := tiplinetest.NewTelegram(t, tgToken)
		srv.Close()
		tg, logs := newTelegram(t, srv.URL(), nil)
		ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
		defer cancel()
		if err := tg.Run(ctx, (&recorder{}).handle); err != nil {
			t.Errorf("Run = %v, want nil when ctx ends", err)
		}
		out := logs.String()
		if !strings.Contains(out, "deleteWebhook failed") {
			t.Errorf("network failure not logged:\n%s", out)
		}
		assertClean(t, "log", out, tgToken, "AAHfK3")
	})
	t.Run("gone while sending", func(t *testing.T) {
		srv := tiplinetest.NewTelegram(t, tgToken)
		tg, logs := newTelegram(t, srv.URL(), nil)
		rec := &recorder{}
		stop := start(t, tg, rec.handle)
		srv.SendText(tgChat, tgSender, "Rumeur", "")
		if _, err := srv.WaitSent(timeout(t), 1); err != nil {
			t.Fatal(err)
		}
		stop()
		srv.Close()
		err := tg.Send(timeout(t), rec.Tips()[0].ChatID, "Suite")
		if err == nil {
			t.Fatal("Send to a closed server succeeded")
		}
		assertClean(t, "error", err.Error(), tgToken, "AAHfK3")
		assertClean(t, "log", logs.String(), tgToken, "AAHfK3")
	})
}

func TestTelegramWebhook(t *testing.T) {
	const secret = "hook-Secret_0123456789"
	srv := tiplinetest.NewTelegram(t, tgToken)
	var tg *tipline.Telegram
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tg.Handler().ServeHTTP(w, r) }))
	t.Cleanup(hook.Close)
	tg, logs := newTelegram(t, srv.URL(), func(c *tipline.TelegramConfig) {
		c.Mode, c.WebhookURL, c.WebhookSecret = tipline.TelegramWebhook, hook.URL+"/telegram", secret
	})
	rec := &recorder{}
	start(t, tg, rec.handle)
	ctx := timeout(t)
	eventually(t, "the webhook is set", func() bool { u, s := srv.Webhook(); return u == hook.URL+"/telegram" && s == secret })

	mid := srv.SendText(tgChat, tgSender, "Rumeur par webhook", "en")
	sent, err := srv.WaitSent(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if sent[0].ReplyToMessageID != mid || sent[0].Text != "Vérifié : Rumeur par webhook" {
		t.Errorf("sent %+v", sent[0])
	}

	refused := tiplinetest.Update{UpdateID: 1, Message: &tiplinetest.Message{
		MessageID: 9, Date: 1773301500, Text: "Texte refusé",
		From: &tiplinetest.User{ID: tgSender, FirstName: "A"}, Chat: tiplinetest.Chat{ID: tgChat, Type: "private"},
	}}
	for _, tc := range []struct{ name, secret string }{{"no secret", ""}, {"wrong secret", "hook-Secret_wrong"}, {"prefix of secret", secret[:8]}} {
		t.Run(tc.name, func(t *testing.T) {
			status, err := tiplinetest.PostUpdate(ctx, hook.URL+"/telegram", tc.secret, refused)
			if err != nil || status != http.StatusUnauthorized {
				t.Fatalf("POST = %d, %v; want 401", status, err)
			}
		})
	}

	// Telegram redelivers an update it got no 200 for: answer it once.
	dup := refused
	dup.UpdateID, dup.Message.Text = 2, "Rumeur en double"
	for range 3 {
		if status, err := tiplinetest.PostUpdate(ctx, hook.URL+"/telegram", secret, dup); err != nil || status != http.StatusOK {
			t.Fatalf("POST = %d, %v; want 200", status, err)
		}
	}
	srv.SendText(tgChat, tgSender, "Dernière", "")
	if _, err := srv.WaitSent(ctx, 3); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(srv.Sent()); n != 3 {
		t.Errorf("%d replies, want 3 (the duplicate answered once)", n)
	}

	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL+"/telegram", bytes.NewReader(make([]byte, 2<<20)))
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB body: %v, %v; want 413", resp, err)
	} else {
		resp.Body.Close()
	}

	out := logs.String()
	if strings.Count(out, "wrong or missing secret token") != 3 {
		t.Errorf("refusals not logged:\n%s", out)
	}
	assertClean(t, "log", out, "Texte refusé", "Rumeur", secret, tgToken, "777000111", "555000111")
}
