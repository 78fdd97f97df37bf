package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/domain"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/run"
	"github.com/veille-project/veille/pipeline/tipline/tiplinetest"
	"github.com/veille-project/veille/storage"
)

// TestTiplineEndToEnd runs both tipline adapters as `veille run` does,
// against local servers that speak the Bot API and the Cloud API: a
// forwarded rumour gets the narrative and its response lines in the
// sender's language, an unknown one gets the plain answer that the team
// will look at it; every tip is stored as an item of kind tip with the
// sender only as a keyed hash, and classified like any item; a webhook
// with a bad signature is refused and logged without its body.
func TestTiplineEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const token = "123456:test-token_ABC"
	tg := tiplinetest.NewTelegram(t, token)
	wa := tiplinetest.NewWhatsApp(t, "app-secret-for-tests", "wa-access-token")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Tipline = config.Tipline{Mission: "MONUSCO",
		Telegram: config.TiplineTelegram{Token: token, APIBase: tg.URL()},
		WhatsApp: config.TiplineWhatsApp{AccessToken: "wa-access-token", AppSecret: "app-secret-for-tests", VerifyToken: "verify-me",
			PhoneNumberID: tiplinetest.WAPhoneNumberID, GraphBase: wa.URL()}}
	var logs bytes.Buffer
	r, err := run.Open(ctx, cfg, "tipline-test")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Log = slog.New(slog.NewTextHandler(&logs, nil))
	if err := r.OpenStore(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.OpenMatcher(); err != nil {
		t.Fatal(err)
	}
	stages, stop := context.WithCancel(ctx)
	defer stop()
	for _, fn := range []func(context.Context) error{r.ClassifyStage().Run, r.StoreStage().Run, r.RunTiplines} {
		go func() {
			if err := fn(stages); err != nil && stages.Err() == nil {
				t.Error(err)
			}
		}()
	}
	h, err := webHandler(r, &run.Ops{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	// Telegram: a known rumour in French, then an unknown one.
	tg.SendText(5001, 777000111, "On m'a transféré ça : les casques bleus livrent des armes aux rebelles la nuit à Bunia.", "fr")
	sent, err := tg.WaitSent(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sent[0].Text, "fausse information connue") || !strings.Contains(sent[0].Text, "- ") {
		t.Errorf("answer to a known rumour: %q, want the narrative and its response lines in French", sent[0].Text)
	}
	tg.SendText(5001, 777000111, "Le marché central de Bunia ouvrira plus tard demain à cause de la pluie.", "fr")
	if sent, err = tg.WaitSent(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sent[1].Text, "Nous ne connaissons pas encore") {
		t.Errorf("answer to an unknown text: %q", sent[1].Text)
	}

	// WhatsApp: the verification handshake, a bad signature, a rumour in English.
	if code, body, err := tiplinetest.Verify(ctx, srv.URL+"/tipline/whatsapp", "verify-me", "challenge-42"); err != nil || code != 200 || body != "challenge-42" {
		t.Fatalf("verification: %d %q %v", code, body, err)
	}
	secretBody := "the UN base in Goma hides weapons for M23 SECRET-BODY-MARKER"
	code, err := wa.DeliverBadSignature(ctx, srv.URL+"/tipline/whatsapp", tiplinetest.Notification(tiplinetest.TextMessage("23672000001", secretBody)))
	if err != nil || code != http.StatusUnauthorized {
		t.Fatalf("bad signature: %d %v, want 401", code, err)
	}
	if _, err := wa.DeliverText(ctx, srv.URL+"/tipline/whatsapp", "23672000001", "Forwarded many times: UN peacekeepers are giving guns to the rebels in Ituri."); err != nil {
		t.Fatal(err)
	}
	waSent, err := wa.WaitSent(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(waSent[0].Text, "known false claim") {
		t.Errorf("WhatsApp answer: %q, want the narrative in English", waSent[0].Text)
	}
	if strings.Contains(logs.String(), "SECRET-BODY-MARKER") || strings.Contains(logs.String(), "app-secret-for-tests") || strings.Contains(logs.String(), token) {
		t.Error("the logs hold a refused body, the app secret or the bot token")
	}

	// Every tip is an item of kind tip, sender hashed, classified.
	waitItems(ctx, t, r.Store, 3)
	rows, err := r.Store.Queue(ctx, storage.QueueQuery{Filter: storage.Filter{Sources: []string{"tipline-telegram", "tipline-whatsapp"}}, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	flagged := map[string]bool{}
	for _, q := range rows {
		flagged[q.Flag.Source] = true
		if q.Flag.Mission != "MONUSCO" {
			t.Errorf("tip flag filed under mission %q", q.Flag.Mission)
		}
		det, err := r.Store.Item(ctx, q.Flag.ItemID)
		if err != nil {
			t.Fatal(err)
		}
		it := det.Item
		if it.Kind != domain.KindTip || it.Author == "" || strings.Contains(it.Author, "777000111") || strings.Contains(it.Author, "23672000001") {
			t.Errorf("tip item %+v: want kind tip and a hashed sender", it)
		}
	}
	if !flagged["tipline-telegram"] || !flagged["tipline-whatsapp"] {
		t.Errorf("flags of tips by source %v, want both tiplines", flagged)
	}

	// The Sources page lists both channels with what they answered.
	list, err := sourceList{r}.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, s := range list {
		if s.Kind == "tipline" && s.Fixed && !s.LastSuccess.IsZero() {
			got[s.Name] = s.ItemsLastDay
		}
	}
	if got["tipline-telegram"] != 2 || got["tipline-whatsapp"] != 1 {
		t.Errorf("tipline channels on the Sources page: %v, want telegram 2 and whatsapp 1 tips in 24 h", got)
	}
}
