package alert_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/veille-project/veille/pipeline/alert"
	"github.com/veille-project/veille/pipeline/config"
)

// receiver is a loopback webhook endpoint that fails its first failFirst
// requests with HTTP 500.
type receiver struct {
	mu        sync.Mutex
	failFirst int
	hits      int
	bodies    []alert.WebhookBody
	keys      []string
	srv       *httptest.Server
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	rc := &receiver{failFirst: failFirst}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.hits++
		rc.keys = append(rc.keys, r.Header.Get("Idempotency-Key"))
		if rc.hits <= rc.failFirst {
			http.Error(w, "try later", http.StatusInternalServerError)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var body alert.WebhookBody
		if err := json.Unmarshal(b, &body); err != nil || body.Text == "" {
			http.Error(w, "want {\"text\": ...}", http.StatusBadRequest)
			return
		}
		rc.bodies = append(rc.bodies, body)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) snapshot() (hits int, bodies []alert.WebhookBody, keys []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.hits, append([]alert.WebhookBody(nil), rc.bodies...), append([]string(nil), rc.keys...)
}

func engineOptions(rules ...config.AlertRule) alert.Options {
	return alert.Options{
		Rules: rules, Querier: store, JS: nats.JS, Replicas: 1,
		Titles:  func(id, lang string) string { return lang + ":" + id },
		BaseURL: "https://veille.example.org/", Allow: []string{"127.0.0.1"},
		Retries: 4, Backoff: 5 * time.Millisecond, Timeout: 5 * time.Second,
	}
}

func deliveryOf(r alert.Record, channel string) alert.Delivery {
	for _, d := range r.Deliveries {
		if d.Channel == channel {
			return d
		}
	}
	return alert.Delivery{}
}

// TestReplaySurgeAlertsOnce replays a week of a narrative's ordinary level,
// then a surge at a known time, evaluating every five minutes as the engine
// would: one alert (and at most the one update the rule allows) reaches the
// NATS subscriber and the webhook, within one window of the surge.
func TestReplaySurgeAlertsOnce(t *testing.T) {
	ctx := testCtx(t)
	t0 := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	var rows []flagged
	// A week of baseline: one flag every four hours.
	for at := t0.Add(-7 * 24 * time.Hour); at.Before(t0); at = at.Add(4 * time.Hour) {
		rows = append(rows, flagged{id: "rp-base-" + at.Format("0102T15"), narrative: "replay-weapons", mission: "MONUSCO",
			lang: "fr", source: "radio-a", stance: "assert", evidence: "ordinary level", score: 0.5, at: at})
	}
	// A steady narrative that never surges.
	for at := t0.Add(-7 * 24 * time.Hour); at.Before(t0.Add(6 * time.Hour)); at = at.Add(time.Hour) {
		rows = append(rows, flagged{id: "rp-calm-" + at.Format("0102T15"), narrative: "replay-calm", mission: "MONUSCO",
			lang: "en", source: "wire", stance: "report", evidence: "steady", score: 0.7, at: at})
	}
	// The surge: 30 flags in 45 minutes; three stand out by score.
	telling := map[int]float64{1: 0.97, 3: 0.95, 5: 0.93}
	for i := 0; i < 30; i++ {
		score, ok := telling[i]
		if !ok {
			score = 0.6
		}
		rows = append(rows, flagged{id: fmt.Sprintf("rp-surge-%02d", i), narrative: "replay-weapons", mission: "MONUSCO",
			lang: []string{"fr", "en"}[i%2], source: []string{"radio-a", "blog-b", "feed-c"}[i%3], stance: "assert",
			evidence: fmt.Sprintf("les casques bleus livrent des armes (%d)", i), score: score, at: t0.Add(time.Duration(i) * 90 * time.Second)})
	}
	// The same narrative surging in another mission: outside the rule.
	for i := 0; i < 20; i++ {
		rows = append(rows, flagged{id: fmt.Sprintf("rp-other-%02d", i), narrative: "replay-weapons", mission: "MINUSCA",
			lang: "fr", source: "radio-z", stance: "assert", evidence: "ailleurs", score: 0.9, at: t0.Add(2*time.Hour + time.Duration(i)*time.Minute)})
	}
	insert(t, rows)

	hook := newReceiver(t, 0)
	sub, err := nats.NC.SubscribeSync(alert.Subject)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	rule := config.AlertRule{Name: "replay", Narratives: []string{"replay-weapons", "replay-calm"}, Missions: []string{"MONUSCO"},
		Window: config.Duration(time.Hour), Factor: 4, MinCount: 5, Cooldown: config.Duration(12 * time.Hour),
		Webhook: hook.srv.URL + "/hooks/secret-token", Lang: "fr"}
	eng, err := alert.New(ctx, engineOptions(rule))
	if err != nil {
		t.Fatal(err)
	}
	var got []alert.Record
	for now := t0.Add(-2 * time.Hour); !now.After(t0.Add(6 * time.Hour)); now = now.Add(5 * time.Minute) {
		recs, err := eng.Evaluate(ctx, now)
		if err != nil {
			t.Fatalf("evaluate at %s: %v", now, err)
		}
		got = append(got, recs...)
	}
	eng.Wait()

	var news []alert.Record
	updates := 0
	for _, r := range got {
		t.Logf("%s %s at %s: %d flags, factor %.1f", r.Kind, r.Narrative, r.At.Format("15:04"), r.Recent, r.Factor)
		if r.Narrative != "replay-weapons" {
			t.Errorf("alert on %s at %s: it never surged", r.Narrative, r.At)
		}
		switch r.Kind {
		case alert.KindNew:
			news = append(news, r)
		case alert.KindUpdate:
			updates++
		}
	}
	if len(news) != 1 || updates > 1 {
		t.Fatalf("%d new alerts and %d updates for one surge, want 1 and at most 1: %+v", len(news), updates, got)
	}
	first := news[0]
	if first.At.Before(t0) || first.At.After(t0.Add(time.Hour)) {
		t.Errorf("alert at %s, surge began %s: want within one window", first.At, t0)
	}
	if !first.Since.Equal(t0) {
		t.Errorf("since %s, want the surge's first flag %s", first.Since, t0)
	}
	if first.Recent < 5 || first.Factor < 4 {
		t.Errorf("alert counts recent %d factor %.2f: below the rule", first.Recent, first.Factor)
	}
	var ids []string
	for _, it := range first.Items {
		ids = append(ids, it.ID)
	}
	if strings.Join(ids, ",") != "rp-surge-01,rp-surge-03,rp-surge-05" {
		t.Errorf("most telling items %v, want the three highest scores in order", ids)
	}
	if len(first.Items) > 0 && (len(first.Items[0].Evidence) == 0 || first.Items[0].Evidence[0] == "") {
		t.Errorf("item without evidence: %+v", first.Items[0])
	}
	for _, want := range []string{"https://veille.example.org/queue?", "narrative=replay-weapons", "mission=MONUSCO"} {
		if !strings.Contains(first.ReviewURL, want) {
			t.Errorf("review url %q lacks %q", first.ReviewURL, want)
		}
	}
	if !strings.HasPrefix(first.Subject, "[Veille] Hausse") || !strings.Contains(first.Text, "fr:replay-weapons") ||
		!strings.Contains(first.Text, first.ReviewURL) || !strings.Contains(first.Text, "livrent des armes") {
		t.Errorf("French alert text lacks its parts:\n%s\n%s", first.Subject, first.Text)
	}

	// Every alert reached the NATS subscriber once, and the webhook once.
	seen := map[string]int{}
	for {
		m, err := sub.NextMsg(200 * time.Millisecond)
		if err != nil {
			break
		}
		var r alert.Record
		if err := json.Unmarshal(m.Data, &r); err != nil {
			t.Fatalf("alert message is not JSON: %v", err)
		}
		seen[r.ID]++
	}
	hits, bodies, _ := hook.snapshot()
	if len(seen) != len(got) || hits != len(got) || len(bodies) != len(got) {
		t.Errorf("%d alerts, NATS saw %d, webhook %d posts", len(got), len(seen), hits)
	}
	for _, r := range got {
		if seen[r.ID] != 1 {
			t.Errorf("alert %s published %d times on NATS", r.ID, seen[r.ID])
		}
		logged, err := eng.Log().Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range logged.Deliveries {
			if d.Status != alert.StatusSent || d.Attempts != 1 {
				t.Errorf("alert %s %s delivery: %+v", r.ID, d.Channel, d)
			}
		}
		if d := deliveryOf(logged, alert.ChannelWebhook); strings.Contains(d.Target, "secret-token") {
			t.Errorf("webhook target %q shows the url's secret path", d.Target)
		}
	}
	if len(bodies) > 0 && (bodies[0].Type != "MessageCard" || bodies[0].Alert == nil || bodies[0].Alert.Narrative != "replay-weapons" || !strings.Contains(bodies[0].Text, "Hausse")) {
		t.Errorf("webhook body: %+v", bodies[0])
	}

	// A restarted engine remembers: no second alert for the same surge.
	again, err := alert.New(ctx, engineOptions(rule))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := again.Evaluate(ctx, t0.Add(40*time.Minute))
	again.Wait()
	if err != nil || len(recs) != 0 {
		t.Errorf("after restart: %d alerts (%v), want none", len(recs), err)
	}
}

// TestWebhookRetriedUntilDelivered: a receiver that fails twice then
// accepts gets the alert delivered exactly once, with the same idempotency
// key on every try, and the log says how it went.
func TestWebhookRetriedUntilDelivered(t *testing.T) {
	ctx := testCtx(t)
	t1 := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	var rows []flagged
	for i := 0; i < 4; i++ {
		rows = append(rows, flagged{id: fmt.Sprintf("rt-%d", i), narrative: "retry-narrative", mission: "MINUSCA", lang: "en",
			source: "s", stance: "assert", evidence: "claim", score: 0.8, at: t1.Add(time.Duration(i) * time.Minute)})
	}
	insert(t, rows)
	hook := newReceiver(t, 2)
	rule := config.AlertRule{Name: "retry", Narratives: []string{"retry-narrative"}, Threshold: 3,
		Window: config.Duration(time.Hour), Webhook: hook.srv.URL}
	eng, err := alert.New(ctx, engineOptions(rule))
	if err != nil {
		t.Fatal(err)
	}
	// A dry run finds the alert but neither sends nor remembers it.
	dry, err := eng.Check(ctx, t1.Add(30*time.Minute))
	eng.Wait()
	if hits, _, _ := hook.snapshot(); err != nil || len(dry) != 1 || hits != 0 {
		t.Fatalf("check: %d alerts, %d requests (%v); want 1 and none", len(dry), hits, err)
	}
	if _, err := eng.Log().Get(ctx, dry[0].ID); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("a dry-run alert was logged: %v", err)
	}
	retriesBefore := counter(t, "veille_alert_delivery_attempts_total", "webhook", "retry")
	recs, err := eng.Evaluate(ctx, t1.Add(30*time.Minute))
	if err != nil || len(recs) != 1 {
		t.Fatalf("evaluate: %d alerts, %v; want 1", len(recs), err)
	}
	eng.Wait()
	if d := counter(t, "veille_alert_delivery_attempts_total", "webhook", "retry") - retriesBefore; d != 2 {
		t.Errorf("retry metric grew by %v, want 2", d)
	}
	hits, bodies, keys := hook.snapshot()
	if hits != 3 || len(bodies) != 1 {
		t.Fatalf("receiver saw %d requests and accepted %d, want 3 and 1", hits, len(bodies))
	}
	for _, k := range keys {
		if k != recs[0].ID {
			t.Errorf("idempotency key %q, want the alert id %q", k, recs[0].ID)
		}
	}
	logged, err := eng.Log().Get(ctx, recs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := deliveryOf(logged, alert.ChannelWebhook); d.Status != alert.StatusSent || d.Attempts != 3 || d.LastError != "" {
		t.Errorf("webhook delivery %+v, want sent after 3 attempts", d)
	}
	if !logged.Done() {
		t.Error("record still pending")
	}
	// Later evaluations within the cooldown send nothing more.
	recs, err = eng.Evaluate(ctx, t1.Add(45*time.Minute))
	eng.Wait()
	if hits, _, _ := hook.snapshot(); err != nil || len(recs) != 0 || hits != 3 {
		t.Errorf("second evaluation: %d alerts, %d requests (%v); want none more", len(recs), hits, err)
	}
}

// TestFailedDeliveryReported: a receiver that never accepts gets Retries
// attempts, and the alert stays in the log marked failed with the error.
func TestFailedDeliveryReported(t *testing.T) {
	ctx := testCtx(t)
	t2 := time.Date(2026, 6, 2, 8, 0, 0, 0, time.UTC)
	var rows []flagged
	for i := 0; i < 3; i++ {
		rows = append(rows, flagged{id: fmt.Sprintf("fl-%d", i), narrative: "fail-narrative", mission: "UNMISS", lang: "en",
			source: "s", stance: "assert", evidence: "claim", score: 0.8, at: t2.Add(time.Duration(i) * time.Minute)})
	}
	insert(t, rows)
	hook := newReceiver(t, 1000)
	rule := config.AlertRule{Name: "fail", Narratives: []string{"fail-narrative"}, Threshold: 2, Webhook: hook.srv.URL}
	eng, err := alert.New(ctx, engineOptions(rule))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := eng.Evaluate(ctx, t2.Add(10*time.Minute))
	if err != nil || len(recs) != 1 {
		t.Fatalf("evaluate: %d alerts, %v; want 1", len(recs), err)
	}
	eng.Wait()
	if hits, _, _ := hook.snapshot(); hits != 4 {
		t.Errorf("receiver saw %d attempts, want Retries = 4", hits)
	}
	recent, err := eng.Log().Recent(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var logged *alert.Record
	for i := range recent {
		if recent[i].ID == recs[0].ID {
			logged = &recent[i]
		}
	}
	if logged == nil {
		t.Fatal("failed alert missing from the log")
	}
	d := deliveryOf(*logged, alert.ChannelWebhook)
	if d.Status != alert.StatusFailed || d.Attempts != 4 || !strings.Contains(d.LastError, "HTTP 500") {
		t.Errorf("webhook delivery %+v, want failed after 4 attempts with HTTP 500", d)
	}
	if n := deliveryOf(*logged, alert.ChannelNATS); n.Status != alert.StatusSent {
		t.Errorf("NATS delivery %+v, want sent", n)
	}
	pending, err := eng.Log().Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pending {
		if p.ID == logged.ID {
			t.Error("a failed alert is listed as pending")
		}
	}
}

// TestWebhookRefusesPrivateAddress: without an allow-list entry the guard
// refuses the loopback receiver; nothing reaches it.
func TestWebhookRefusesPrivateAddress(t *testing.T) {
	ctx := testCtx(t)
	t3 := time.Date(2026, 6, 3, 8, 0, 0, 0, time.UTC)
	var rows []flagged
	for i := 0; i < 3; i++ {
		rows = append(rows, flagged{id: fmt.Sprintf("pv-%d", i), narrative: "private-narrative", mission: "UNIFIL", lang: "en",
			source: "s", stance: "assert", evidence: "claim", score: 0.8, at: t3.Add(time.Duration(i) * time.Minute)})
	}
	insert(t, rows)
	hook := newReceiver(t, 0)
	opts := engineOptions(config.AlertRule{Name: "private", Narratives: []string{"private-narrative"}, Threshold: 2, Webhook: hook.srv.URL})
	opts.Allow, opts.Retries = nil, 2
	eng, err := alert.New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := eng.Evaluate(ctx, t3.Add(10*time.Minute))
	if err != nil || len(recs) != 1 {
		t.Fatalf("evaluate: %d alerts, %v; want 1", len(recs), err)
	}
	eng.Wait()
	if hits, _, _ := hook.snapshot(); hits != 0 {
		t.Errorf("the loopback receiver got %d requests past the guard", hits)
	}
	logged, err := eng.Log().Get(ctx, recs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := deliveryOf(logged, alert.ChannelWebhook); d.Status != alert.StatusFailed || !strings.Contains(d.LastError, alert.ErrPrivateAddress.Error()) {
		t.Errorf("webhook delivery %+v, want failed as a private address", d)
	}
}

// TestPendingDeliveryResumedAfterRestart: a delivery cut short by a stop
// stays pending in the log, and the next engine delivers it.
func TestPendingDeliveryResumedAfterRestart(t *testing.T) {
	ctx := testCtx(t)
	t6 := time.Date(2026, 6, 6, 8, 0, 0, 0, time.UTC)
	var rows []flagged
	for i := 0; i < 3; i++ {
		rows = append(rows, flagged{id: fmt.Sprintf("rs-%d", i), narrative: "resume-narrative", mission: "MONUSCO", lang: "en",
			source: "s", stance: "assert", evidence: "claim", score: 0.8, at: t6.Add(time.Duration(i) * time.Minute)})
	}
	insert(t, rows)
	hook := newReceiver(t, 1)
	rule := config.AlertRule{Name: "resume", Narratives: []string{"resume-narrative"}, Threshold: 2, Webhook: hook.srv.URL}
	opts := engineOptions(rule)
	opts.Backoff = time.Hour // the first engine stops long before its retry
	first, err := alert.New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	stopCtx, stop := context.WithCancel(ctx)
	recs, err := first.Evaluate(stopCtx, t6.Add(10*time.Minute))
	if err != nil || len(recs) != 1 {
		t.Fatalf("evaluate: %d alerts, %v", len(recs), err)
	}
	// Stop only once the first failed try is on record: a stop during a
	// try leaves it uncounted, which is right but not what is tested here.
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec, err := first.Log().Get(ctx, recs[0].ID)
		if err == nil && deliveryOf(rec, alert.ChannelWebhook).Attempts >= 1 {
			break
		}
		if time.Now().After(deadline) {
			hits, _, _ := hook.snapshot()
			t.Fatalf("the first try was never recorded (receiver hits %d)", hits)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	first.Wait()
	logged, err := first.Log().Get(ctx, recs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := deliveryOf(logged, alert.ChannelWebhook); d.Status != alert.StatusPending || d.Attempts != 1 {
		t.Fatalf("after the stop: webhook delivery %+v, want pending after 1 attempt", d)
	}

	second, err := alert.New(ctx, engineOptions(rule))
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	second.Wait()
	logged, err = second.Log().Get(ctx, recs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := deliveryOf(logged, alert.ChannelWebhook); d.Status != alert.StatusSent || d.Attempts != 2 {
		t.Errorf("after resuming: webhook delivery %+v, want sent on the 2nd attempt", d)
	}
	if hits, bodies, _ := hook.snapshot(); hits != 2 || len(bodies) != 1 {
		t.Errorf("receiver saw %d requests, accepted %d; want 2 and 1", hits, len(bodies))
	}
}

// counter reads a counter of the default registry by its label values.
func counter(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	fams, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var vals []string
			for _, l := range m.GetLabel() {
				vals = append(vals, l.GetValue())
			}
			if strings.Join(vals, ",") == strings.Join(labels, ",") {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestNewRefusesBadConfig(t *testing.T) {
	ctx := testCtx(t)
	tests := []struct {
		name  string
		edit  func(o *alert.Options)
		isErr error
	}{
		{"email without smtp", func(o *alert.Options) { o.Rules = []config.AlertRule{{Name: "x", Email: []string{"a@b.example"}}} }, alert.ErrRule},
		{"smtp not a url", func(o *alert.Options) { o.SMTP = "mail.example:25" }, alert.ErrRule},
		{"duplicate rule", func(o *alert.Options) { o.Rules = []config.AlertRule{{Name: "x"}, {Name: "x"}} }, alert.ErrRule},
		{"bad language", func(o *alert.Options) { o.Rules = []config.AlertRule{{Name: "x", Lang: "xx"}} }, alert.ErrRule},
		{"bad allow entry", func(o *alert.Options) { o.Allow = []string{"10.0.0.0/8 and more"} }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := engineOptions()
			tc.edit(&o)
			_, err := alert.New(ctx, o)
			if err == nil || (tc.isErr != nil && !errors.Is(err, tc.isErr)) {
				t.Fatalf("New = %v, want an error (%v)", err, tc.isErr)
			}
		})
	}
}

// TestRunEvaluatesEveryInterval runs the engine's loop on a fast interval:
// many evaluations, one alert, and Run returns when its context ends.
func TestRunEvaluatesEveryInterval(t *testing.T) {
	ctx := testCtx(t)
	t7 := time.Date(2026, 6, 7, 8, 0, 0, 0, time.UTC)
	var rows []flagged
	for i := 0; i < 4; i++ {
		rows = append(rows, flagged{id: fmt.Sprintf("rn-%d", i), narrative: "run-narrative", mission: "MONUSCO", lang: "en",
			source: "s", stance: "assert", evidence: "claim", score: 0.8, at: t7.Add(time.Duration(i) * time.Minute)})
	}
	insert(t, rows)
	hook := newReceiver(t, 0)
	opts := engineOptions(config.AlertRule{Name: "run", Narratives: []string{"run-narrative"}, Threshold: 3, Webhook: hook.srv.URL})
	opts.Interval = 20 * time.Millisecond
	var mu sync.Mutex
	ticks := 0
	opts.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		ticks++
		return t7.Add(10*time.Minute + time.Duration(ticks)*time.Second)
	}
	eng, err := alert.New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	before := counter(t, "veille_alert_evaluations_total")
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- eng.Run(runCtx) }()
	deadline := time.Now().Add(20 * time.Second)
	for counter(t, "veille_alert_evaluations_total")-before < 5 {
		if time.Now().After(deadline) {
			t.Fatal("fewer than 5 evaluations in 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if hits, bodies, _ := hook.snapshot(); hits != 1 || len(bodies) != 1 {
		t.Errorf("webhook got %d requests over many evaluations, want 1", hits)
	}
}
