package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/domain"
	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/pipeline/ingest"
	"github.com/veille-project/veille/pipeline/parse"
	"github.com/veille-project/veille/pipeline/tipline"
)

// tiplines holds the runner's tipline adapters, built once, and the
// health of each channel.
type tiplines struct {
	once     sync.Once
	adapters []tipline.Adapter
	hooks    map[string]http.Handler
	err      error

	mu     sync.Mutex
	health map[string]*tipHealth
}

// tipHealth is what the Sources page shows of a tipline channel.
type tipHealth struct {
	h    ingest.SourceHealth
	last []time.Time // tips of the last 24 h
}

// recordTip keeps a channel's health and writes it to the health bucket,
// where the Sources page reads it: when the last tip was answered, how
// many came in 24 h, the last failure (never a text or a sender).
func (r *Runner) recordTip(ctx context.Context, channel string, failure error) {
	src := "tipline-" + channel
	now := time.Now().UTC()
	r.tip.mu.Lock()
	if r.tip.health == nil {
		r.tip.health = map[string]*tipHealth{}
	}
	th := r.tip.health[src]
	if th == nil {
		th = &tipHealth{h: ingest.SourceHealth{Source: src, Kind: "tipline", URL: channel + " bot"}}
		r.tip.health[src] = th
	}
	th.h.LastPoll = now
	if failure != nil {
		th.h.LastError, th.h.LastErrorAt = failure.Error(), now
		th.h.ConsecutiveFailures++
	} else {
		th.h.LastSuccess, th.h.ConsecutiveFailures = now, 0
		th.h.ItemsTotal++
		th.last = append(th.last, now)
	}
	cut := now.Add(-24 * time.Hour)
	for len(th.last) > 0 && th.last[0].Before(cut) {
		th.last = th.last[1:]
	}
	th.h.ItemsLastDay = len(th.last)
	h := th.h
	r.tip.mu.Unlock()
	if r.Bus == nil {
		return
	}
	kv, err := r.Bus.JS.KeyValue(ctx, bus.KVHealth)
	if err == nil {
		var b []byte
		if b, err = json.Marshal(h); err == nil {
			_, err = kv.Put(context.WithoutCancel(ctx), bus.SourceKey(src), b)
		}
	}
	if err != nil {
		r.Log.Warn("record tipline health", "channel", channel, "err", err)
	}
}

// Tiplines builds the tipline adapters the configuration turns on (a
// Telegram bot when tipline.telegram.token is set, a WhatsApp number when
// tipline.whatsapp.access_token is) and the webhook handlers the web app
// mounts, by path. None configured: no adapter and no error.
func (r *Runner) Tiplines() ([]tipline.Adapter, map[string]http.Handler, error) {
	r.tip.once.Do(func() {
		r.tip.hooks = map[string]http.Handler{}
		cfg := r.Config.Tipline
		if cfg.Telegram.Token == "" && cfg.WhatsApp.AccessToken == "" {
			return
		}
		h, err := r.Pseudonyms()
		if err != nil {
			r.tip.err = err
			return
		}
		if c := cfg.Telegram; c.Token != "" {
			mode := tipline.TelegramPolling
			if c.Mode == "webhook" {
				mode = tipline.TelegramWebhook
			}
			t, err := tipline.NewTelegram(tipline.TelegramConfig{Token: c.Token, BaseURL: c.APIBase, Mode: mode,
				WebhookURL: c.WebhookURL, WebhookSecret: c.WebhookSecret, HashKey: h.Key(), Logger: r.Log})
			if err != nil {
				r.tip.err = err
				return
			}
			r.tip.adapters = append(r.tip.adapters, t)
			if mode == tipline.TelegramWebhook {
				r.tip.hooks["/tipline/telegram"] = t.Handler()
			}
		}
		if c := cfg.WhatsApp; c.AccessToken != "" {
			w, err := tipline.NewWhatsApp(tipline.WhatsAppConfig{AppSecret: c.AppSecret, VerifyToken: c.VerifyToken, AccessToken: c.AccessToken,
				PhoneNumberID: c.PhoneNumberID, GraphBaseURL: c.GraphBase, HashKey: h.Key(), Logger: r.Log})
			if err != nil {
				r.tip.err = err
				return
			}
			r.tip.adapters = append(r.tip.adapters, w)
			r.tip.hooks["/tipline/whatsapp"] = w.Handler()
		}
	})
	return r.tip.adapters, r.tip.hooks, r.tip.err
}

// RunTiplines answers tips on every configured adapter until ctx ends.
func (r *Runner) RunTiplines(ctx context.Context) error {
	adapters, _, err := r.Tiplines()
	if err != nil || len(adapters) == 0 {
		return err
	}
	errs := make(chan error, len(adapters))
	for _, a := range adapters {
		go func() {
			err := a.Run(ctx, r.AnswerTip)
			if err != nil {
				err = fmt.Errorf("tipline %s: %w", a.Name(), err)
			}
			errs <- err
		}()
	}
	var all []error
	for range adapters {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// TipItem is the item a tip becomes: kind tip, its source the tipline
// channel, its author the sender's keyed hash, its id stable across
// redeliveries.
func TipItem(tip tipline.Tip, mission string, now time.Time) domain.Item {
	src := "tipline-" + tip.Channel
	it := domain.Item{ID: parse.ItemID(src, tip.ID()), Source: src, Kind: domain.KindTip, Text: tip.Text,
		Lang: parse.NormLang(tip.LangHint), Mission: mission, Author: tip.SenderHash, Published: tip.Date, Fetched: now}
	if it.Published.IsZero() {
		it.Published = now
	}
	if tip.Forwarded {
		it.Meta = map[string]string{"forwarded": "yes"}
	}
	it.ContentHash = parse.ContentHash(it.Text)
	return it
}

// AnswerTip is the tipline's handler: the tip is classified for the
// answer and published like any item, so that reviewers see it and the
// trends count it; the answer, in the tip's language, names the narratives
// found with their response lines, or says that no known narrative was
// found and that the team will look at it.
func (r *Runner) AnswerTip(ctx context.Context, tip tipline.Tip) (string, error) {
	it := TipItem(tip, r.Config.Tipline.Mission, time.Now().UTC())
	res, err := r.Classifier.Classify(ctx, DocOf(it))
	if err != nil {
		err = fmt.Errorf("tipline: classify: %w", err)
		r.recordTip(ctx, tip.Channel, err)
		return "", err
	}
	if it.Lang == "" {
		it.Lang = res.Lang
	}
	if err := r.Bus.PublishItem(ctx, it); err != nil {
		r.recordTip(ctx, tip.Channel, err)
		return "", err
	}
	r.recordTip(ctx, tip.Channel, nil)
	return tipReply(r, res, it.Lang), nil
}

// tipWords are the fixed words of a tipline answer. Lingala and Sango
// speakers get the French words, with the catalog's lines in their
// language where it has them.
var tipWords = map[string][3]string{
	"fr": {"Ce message correspond à une fausse information connue :", "Ce qu'il faut savoir :", "Nous ne connaissons pas encore cette information. L'équipe va l'examiner. Merci de nous l'avoir transmise."},
	"en": {"This message matches a known false claim:", "What to know:", "We do not know this claim yet. The team will look into it. Thank you for sending it."},
	"ar": {"هذه الرسالة تطابق ادعاءً كاذبًا معروفًا:", "ما يجب معرفته:", "لا نعرف هذا الادعاء بعد. سيدرسه الفريق. شكرًا لإرساله."},
	"sw": {"Ujumbe huu unalingana na madai ya uongo yanayojulikana:", "Unachopaswa kujua:", "Bado hatujui madai haya. Timu itayachunguza. Asante kwa kututumia."},
}

func tipReply(r *Runner, res classifiers.Result, lang string) string {
	w, ok := tipWords[lang]
	if !ok {
		w = tipWords["fr"]
	}
	cat := r.Matcher.Catalog()
	var b strings.Builder
	seen := map[string]bool{}
	for _, f := range res.Flags {
		if seen[f.Narrative] || f.Stance == classifiers.StanceDebunk || len(seen) == 2 {
			continue
		}
		seen[f.Narrative] = true
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		fmt.Fprintf(&b, "%s %s\n%s\n", w[0], cat.Title(f.Narrative, lang), w[1])
		for _, line := range cat.Responses(f.Narrative, lang) {
			fmt.Fprintf(&b, "- %s\n", line)
		}
	}
	if b.Len() == 0 {
		return w[2]
	}
	return strings.TrimSpace(b.String())
}
