package web

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/storage"
)

var (
	errRateCheck = errors.New("too many rumour checks: wait a minute")
	errEmptyText = errors.New("text is empty")
	errLongText  = errors.New("text over 5000 characters")
)

const maxCheckText = 5000

// checkResult is what a rumour check tells a radio station. It names no
// stored item: similar items are given by title, source and date only.
type checkResult struct {
	Lang  string      `json:"lang"`
	Flags []checkFlag `json:"flags"`
}

type checkFlag struct {
	Narrative string                 `json:"narrative"`
	Title     string                 `json:"title"`
	Meaning   string                 `json:"meaning"`
	Stance    string                 `json:"stance"`
	Score     float64                `json:"score"`
	Evidence  []classifiers.Evidence `json:"evidence"`
	Spread    *storage.SpreadReport  `json:"spread,omitempty"`
	Similar   []similarItem          `json:"similar"`
	Responses []string               `json:"responses"`
}

type similarItem struct {
	Title     string    `json:"title"`
	Source    string    `json:"source"`
	Lang      string    `json:"lang"`
	Published time.Time `json:"published"`
}

// check classifies a rumour and gathers what the station needs to answer
// it on air.
func (a *app) check(ctx context.Context, u *session, text, lang string) (checkResult, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return checkResult{}, errEmptyText
	}
	if utf8.RuneCountInString(text) > maxCheckText || !utf8.ValidString(text) {
		return checkResult{}, errLongText
	}
	if !contains(languages, lang) {
		lang = ""
	}
	if !a.checkLim.take(u.user.Name) {
		return checkResult{}, errRateCheck
	}
	res, err := a.opt.Classifier.Classify(ctx, classifiers.Doc{ID: "check", Text: text, Lang: lang})
	if err != nil {
		return checkResult{}, fmt.Errorf("web: classify rumour: %w", err)
	}
	out := checkResult{Lang: res.Lang, Flags: []checkFlag{}}
	for _, f := range res.Flags {
		cf := checkFlag{Narrative: f.Narrative, Title: a.narrTitle(f.Narrative, u.lang), Meaning: a.meaning(f.Narrative, u.lang),
			Stance: f.Stance, Score: f.Score, Evidence: f.Evidence, Similar: []similarItem{},
			Responses: a.responses(f.Narrative, u.user.Lang, u.lang, res.Lang)}
		if sp, err := a.store.Spread(ctx, f.Narrative, time.Time{}); err == nil {
			cf.Spread = &sp
		} else if !errors.Is(err, storage.ErrNotFound) {
			a.log.Warn("spread failed", "narrative", f.Narrative, "err", err)
		}
		var terms []string
		for _, e := range f.Evidence {
			terms = append(terms, words(e.Text)...)
		}
		sim, err := a.store.Similar(ctx, storage.SimilarQuery{Narratives: []string{f.Narrative}, Terms: terms, Limit: 5})
		if err != nil {
			a.log.Warn("similar failed", "narrative", f.Narrative, "err", err)
		}
		for _, s := range sim {
			cf.Similar = append(cf.Similar, similarItem{Title: s.Title, Source: s.Source, Lang: s.Lang, Published: s.Published})
		}
		out.Flags = append(out.Flags, cf)
	}
	return out, nil
}
