package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/classifiers/eval"
	"github.com/veille-project/veille/classifiers/learn"
	"github.com/veille-project/veille/classifiers/train"
	"github.com/veille-project/veille/domain"
	"github.com/veille-project/veille/pipeline/bus"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/models"
	"github.com/veille-project/veille/pipeline/run"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/web"
)

// TestLearningLoop runs the loop on the embedded default: items go through
// the running classify and store stages; a reviewer confirms, rejects and
// adds missed flags through the API; `veille train --reviews` trains a
// candidate whose report is measured on the blind split and on the newest
// reviews, which it never saw; an admin promotes it through the API and
// the running classify worker uses it within seconds, without a restart;
// `veille reclassify` then leaves each item counted once, under the new
// version, with its reviews attached; production precision counts the
// decisions; a rollback restores the previous model everywhere.
//
// So that training takes seconds, the active model at the start is a small
// one trained on a sample of the project's data (promoted with --force,
// as an operator would bootstrap), and the candidate is trained the same
// way on that sample plus the reviews.
func TestLearningLoop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	dir := t.TempDir()
	nats, err := bus.StartEmbedded(filepath.Join(dir, "nats"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer nats.Shutdown()
	cfgPath := filepath.Join(dir, "veille.yaml")
	yaml := fmt.Sprintf("data_dir: %s\nnats: %s\n", filepath.Join(dir, "data"), nats.URL())
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := run.OpenAll(ctx, cfg, "learning-test")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	reg, err := models.Open(ctx, r.Bus)
	if err != nil {
		t.Fatal(err)
	}

	// The project's data split: a base sample, and texts to review.
	all, err := train.Load()
	if err != nil {
		t.Fatal(err)
	}
	var base, toReview []eval.Item
	for i := 0; i+6 < len(all); i += 13 {
		base = append(base, all[i])
		if len(toReview) < 200 {
			toReview = append(toReview, all[i+6])
		}
	}
	basePath := filepath.Join(dir, "base.jsonl")
	writeJSONL(t, basePath, base)
	small := []string{"--no-embedded", "--data", basePath, "--epochs", "5", "--folds", "2", "--config", cfgPath}

	// The active model at the start: trained on the base sample.
	cfgSmall := learn.DefaultConfig
	cfgSmall.Folds, cfgSmall.Epochs = 2, 5
	tr := &learn.Trainer{Matcher: r.Matcher, Narratives: r.Matcher.Catalog().IDs(), Config: cfgSmall}
	first, _, err := tr.Train(ctx, learn.FromItems(base))
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Put(ctx, first, nil); err != nil {
		t.Fatal(err)
	}
	if err := reg.ForcePromote(ctx, first.Version(), "bootstrap"); err != nil {
		t.Fatal(err)
	}

	// The stages, as `veille run` starts them.
	stages, stop := context.WithCancel(ctx)
	defer stop()
	for _, fn := range []func(context.Context) error{r.ClassifyStage().Run, r.StoreStage().Run, r.WatchModel} {
		go func() {
			if err := fn(stages); err != nil && stages.Err() == nil {
				t.Error(err)
			}
		}()
	}
	waitModel(t, r, first.Version())

	// The texts to review go through the pipeline.
	pub := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
	gold := map[string][]eval.Label{}
	for i, it := range toReview {
		id := fmt.Sprintf("learn-%03d", i)
		gold[id] = it.Labels
		item := domain.Item{ID: id, ContentHash: id, Source: "radio-test", Kind: "article", Text: it.Text, Lang: it.Lang, Mission: "MONUSCO",
			Published: pub.Add(time.Duration(i) * time.Minute), Fetched: pub}
		if err := r.Bus.PublishItem(ctx, item); err != nil {
			t.Fatal(err)
		}
	}
	waitItems(ctx, t, r.Store, int64(len(toReview)))

	h, err := webHandler(r, &run.Ops{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	_, reviewer, err := web.CreateUser(ctx, r.Store, "rev-amina", storage.RoleReviewer, "en", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, admin, err := web.CreateUser(ctx, r.Store, "admin-joseph", storage.RoleAdmin, "en", time.Now())
	if err != nil {
		t.Fatal(err)
	}

	// A reviewer decides every flag by the texts' labels, in item order,
	// and adds the flags the classifier missed.
	ids := make([]string, 0, len(gold))
	for id := range gold {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	decisions, modelDecisions, confirmed, missed := 0, 0, 0, 0
	for _, id := range ids {
		var det storage.ItemDetail
		apiGet(t, srv.URL+"/api/v1/items/"+id, reviewer, &det)
		want := map[string]string{}
		for _, l := range gold[id] {
			want[l.Narrative] = l.Stance
		}
		found := map[string]bool{}
		for _, f := range det.Flags {
			decision := storage.DecisionFalsePositive
			if _, ok := want[f.Narrative]; ok {
				decision = storage.DecisionConfirm
				found[f.Narrative] = true
				confirmed++
			}
			apiPost(t, srv.URL+"/api/v1/reviews", reviewer, map[string]string{"item_id": id, "narrative": f.Narrative, "stance": f.Stance, "decision": decision}, http.StatusOK, http.StatusCreated, http.StatusNoContent)
			decisions++
			modelDecisions++
		}
		for n, stance := range want {
			if found[n] {
				continue
			}
			apiPost(t, srv.URL+"/api/v1/items/"+id+"/flags", reviewer, map[string]string{"narrative": n, "stance": stance, "evidence": firstWords(det.Item.IndexedText(), 4)}, http.StatusCreated)
			decisions++
			missed++
		}
	}
	if modelDecisions < 50 || missed == 0 || confirmed == 0 {
		t.Fatalf("%d decisions on the model's flags (%d confirmed), %d missed flags added: too few to learn from", modelDecisions, confirmed, missed)
	}

	// Production precision counts the decisions.
	prec, err := r.Store.Precision(ctx, time.Now().Add(-time.Hour), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	sumReviewed, sumConfirmed, sumMissed := 0, 0, 0
	for _, p := range prec {
		sumReviewed += p.Reviewed
		sumConfirmed += p.Confirmed
		sumMissed += p.Missed
	}
	if sumReviewed != modelDecisions || sumConfirmed != confirmed || sumMissed != missed {
		t.Errorf("production precision counts %d reviewed, %d confirmed, %d missed; want %d, %d, %d", sumReviewed, sumConfirmed, sumMissed, modelDecisions, confirmed, missed)
	}

	// veille train --reviews: a candidate, measured, stored in the bus.
	out := captureStdout(t, func() error { return runTrain(ctx, append([]string{"--reviews"}, small...)) })
	t.Logf("veille train --reviews:\n%s", out)
	list, err := reg.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var cand *models.Entry
	for i := range list {
		if list[i].Report != nil && list[i].Version != first.Version() {
			cand = &list[i]
		}
	}
	if cand == nil {
		t.Fatalf("no candidate stored; versions %+v", list)
	}
	rep := cand.Report
	hold := rep.Training.HoldBack
	if rep.Active != first.Version() || hold == 0 || rep.Training.Items != len(base)+rep.Training.Reviewed-hold {
		t.Fatalf("report against %s, %d texts, %d reviewed, %d held back; want against %s, the base and the reviews but the held-back ones",
			rep.Active, rep.Training.Items, rep.Training.Reviewed, hold, first.Version())
	}
	if len(rep.Sets) != 2 || rep.Sets[1].Name != "reviews-held-back" || rep.Sets[1].Active.Items != hold {
		t.Fatalf("report sets %+v, want the blind split and the %d held-back reviews", rep.Sets, hold)
	}
	if !rep.Passed {
		t.Fatalf("candidate refused: %v", rep.Reasons)
	}

	// An admin promotes it through the API; the running worker follows.
	apiPost(t, srv.URL+"/api/v1/models/"+cand.Version+"/promote", admin, nil, http.StatusOK)
	waitModel(t, r, cand.Version)
	var listed struct{ Models []web.ModelEntry }
	apiGet(t, srv.URL+"/api/v1/models", admin, &listed)
	activeListed := false
	for _, e := range listed.Models {
		if e.Active {
			activeListed = e.Version == cand.Version && e.Blind != nil && e.Blind.F1 > 0.5 && e.Report != nil
		}
	}
	if !activeListed {
		t.Errorf("the models API does not show %s active with its blind figures and report: %+v", cand.Version, listed.Models)
	}
	fresh := domain.Item{ID: "learn-after", ContentHash: "learn-after", Source: "radio-test", Kind: "article", Lang: "fr", Mission: "MONUSCO",
		Text: "Les casques bleus livrent des armes aux rebelles la nuit, disent les habitants de Beni.", Published: pub, Fetched: pub}
	if err := r.Bus.PublishItem(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	waitItems(ctx, t, r.Store, int64(len(toReview)+1))
	det := waitFlags(ctx, t, r.Store, fresh.ID)
	for _, f := range det.Flags {
		if !strings.Contains(f.ClassifierVersion, cand.Version) {
			t.Errorf("flag of a new item has version %q, want the promoted model %s", f.ClassifierVersion, cand.Version)
		}
	}

	// veille reclassify: every item under the new version, counted once.
	reviewsBefore := countReviews(ctx, t, r.Store)
	if out := captureStdout(t, func() error { return runReclassify(ctx, []string{"--since", "30d", "--config", cfgPath}) }); !strings.Contains(out, "re-classified with") {
		t.Fatalf("veille reclassify printed %q", out)
	}
	version := r.Classifier.Version()
	tot, err := r.Store.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	trend, err := r.Store.Trends(ctx, storage.TrendQuery{By: []string{"narrative"}})
	if err != nil {
		t.Fatal(err)
	}
	sum := int64(0)
	for _, row := range trend.Rows {
		var n int64
		fmt.Sscan(row[len(row)-1], &n)
		sum += n
	}
	if sum != tot.Flags {
		t.Errorf("trends count %d flags, storage holds %d live ones", sum, tot.Flags)
	}
	for _, id := range append(ids, fresh.ID) {
		det, err := r.Store.Item(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, f := range det.Flags {
			k := f.Narrative + "/" + f.Stance
			if seen[k] {
				t.Errorf("item %s: flag %s twice", id, k)
			}
			seen[k] = true
			reviewed := false
			for _, rv := range det.Reviews {
				reviewed = reviewed || rv.Narrative == f.Narrative && rv.Stance == f.Stance
			}
			if f.ClassifierVersion != version && !reviewed && !strings.HasPrefix(f.ClassifierVersion, storage.AddedByReviewer) {
				t.Errorf("item %s: unreviewed flag %s of version %q left after re-classification with %s", id, k, f.ClassifierVersion, version)
			}
		}
	}
	if after := countReviews(ctx, t, r.Store); after != reviewsBefore {
		t.Errorf("%d reviews after re-classification, %d before", after, reviewsBefore)
	}

	// Rollback, through the API, restores the previous model everywhere.
	apiPost(t, srv.URL+"/api/v1/models/rollback", admin, nil, http.StatusOK)
	waitModel(t, r, first.Version())
	if v, _ := reg.Active(ctx); v != first.Version() {
		t.Fatalf("active %s after rollback, want %s", v, first.Version())
	}

	// The same from the command line.
	cli := func(args ...string) string {
		return captureStdout(t, func() error { return runModel(ctx, append(args, "--config", cfgPath, "--by", "ops")) })
	}
	if out := cli("list"); !strings.Contains(out, cand.Version) || !strings.Contains(out, "passed") {
		t.Errorf("veille model list printed:\n%s", out)
	}
	if out := cli("show", cand.Version); !strings.Contains(out, "PASSED") || !strings.Contains(out, "reviews-held-back") {
		t.Errorf("veille model show printed:\n%s", out)
	}
	cli("promote", cand.Version)
	waitModel(t, r, cand.Version)
	cli("rollback")
	waitModel(t, r, first.Version())
}

func writeJSONL(t *testing.T, path string, items []eval.Item) {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, it := range items {
		if err := enc.Encode(it); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func waitModel(t *testing.T, r *run.Runner, version string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if m := r.Classifier.Model(); m != nil && m.Version() == version {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("classifier still on %s, want %s", r.Classifier.Version(), version)
		}
	}
}

func waitItems(ctx context.Context, t *testing.T, st storage.Store, n int64) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		tot, err := st.Counts(ctx)
		if err == nil && tot.Items >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d items stored, want %d (%v)", tot.Items, n, err)
		}
	}
}

func waitFlags(ctx context.Context, t *testing.T, st storage.Store, id string) storage.ItemDetail {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		det, err := st.Item(ctx, id)
		if err == nil && len(det.Flags) > 0 {
			return det
		}
		if time.Now().After(deadline) {
			t.Fatalf("item %s has no flags (%v)", id, err)
		}
	}
}

func countReviews(ctx context.Context, t *testing.T, st storage.Store) int64 {
	t.Helper()
	tot, err := st.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return tot.Reviews
}

// firstWords is the text up to the end of its n-th word: an exact excerpt.
func firstWords(s string, n int) string {
	end, words, in := 0, 0, false
	for i, r := range s {
		space := r == ' ' || r == '\n' || r == '\t'
		if !space && !in {
			words++
			in = true
		}
		if space && in {
			in = false
			if words == n {
				return s[:i]
			}
		}
		end = i + len(string(r))
	}
	return s[:end]
}

func apiPost(t *testing.T, u, token string, body any, want ...int) []byte {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest("POST", u, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	for _, w := range want {
		if resp.StatusCode == w {
			return b.Bytes()
		}
	}
	t.Fatalf("POST %s: status %d, want %v: %s", u, resp.StatusCode, want, b.String())
	return nil
}

// captureStdout runs fn with os.Stdout going to a pipe and returns what it
// printed.
func captureStdout(t *testing.T, fn func() error) string {
	t.Helper()
	old := os.Stdout
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout = wr
	done := make(chan string)
	go func() {
		var b bytes.Buffer
		b.ReadFrom(rd)
		done <- b.String()
	}()
	err = fn()
	wr.Close()
	os.Stdout = old
	out := <-done
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out
}
