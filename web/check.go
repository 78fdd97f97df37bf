package web

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/mission"
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
	Lang string `json:"lang"` // the rumour's language
	// ResponseLang is the language the response lines are in, and
	// ResponseFrom why: "station" (the station's language), "rumour" (the
	// rumour's) or "fallback" (French or English: nothing closer exists).
	ResponseLang string `json:"response_lang"`
	ResponseFrom string `json:"response_from"`
	// Mission narrows spread and similar items; MissionFrom says where it
	// came from: "chosen", "text" (named in the rumour) or "station".
	Mission     string      `json:"mission,omitempty"`
	MissionFrom string      `json:"mission_from,omitempty"`
	Flags       []checkFlag `json:"flags"`
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
// it on air. The rumour is made plain first (markup, entities, line breaks
// inside sentences) and evidence offsets are mapped back to the text as
// pasted. chosenMission, when set, is the mission the station asks about.
func (a *app) check(ctx context.Context, u *session, text, lang, chosenMission string) (checkResult, error) {
	if utf8.RuneCountInString(text) > maxCheckText || !utf8.ValidString(text) {
		return checkResult{}, errLongText
	}
	plain := plainRumour(text)
	if plain.Plain == "" {
		return checkResult{}, errEmptyText
	}
	if !contains(languages, lang) {
		lang = ""
	}
	if !a.checkLim.take(u.user.Name) {
		return checkResult{}, errRateCheck
	}
	res, err := a.opt.Classifier.Classify(ctx, classifiers.Doc{ID: "check", Text: plain.Plain, Lang: lang})
	if err != nil {
		return checkResult{}, fmt.Errorf("web: classify rumour: %w", err)
	}
	out := checkResult{Lang: res.Lang, Flags: []checkFlag{}}
	switch {
	case contains(mission.All, chosenMission):
		out.Mission, out.MissionFrom = chosenMission, "chosen"
	case mission.Of(plain.Plain) != "":
		out.Mission, out.MissionFrom = mission.Of(plain.Plain), "text"
	case u.user.Mission != "":
		out.Mission, out.MissionFrom = u.user.Mission, "station"
	}
	var missions []string
	if out.Mission != "" {
		missions = []string{out.Mission}
	}
	for _, f := range res.Flags {
		cf := checkFlag{Narrative: f.Narrative, Title: a.narrTitle(f.Narrative, u.lang), Meaning: a.meaning(f.Narrative, u.lang),
			Stance: f.Stance, Score: f.Score, Similar: []similarItem{}}
		for _, e := range f.Evidence {
			e.Start, e.End = plain.Span(e.Start, e.End)
			e.Text = text[e.Start:e.End]
			cf.Evidence = append(cf.Evidence, e)
		}
		var from string
		cf.Responses, out.ResponseLang, from = a.responseLines(f.Narrative, u.user.ResponseLang, res.Lang)
		if out.ResponseFrom == "" {
			out.ResponseFrom = from
		}
		if sp, err := a.store.Spread(ctx, f.Narrative, time.Time{}, missions...); err == nil {
			cf.Spread = &sp
		} else if !errors.Is(err, storage.ErrNotFound) {
			a.log.Warn("spread failed", "narrative", f.Narrative, "err", err)
		}
		var terms []string
		for _, e := range cf.Evidence {
			terms = append(terms, words(e.Text)...)
		}
		sim, err := a.store.Similar(ctx, storage.SimilarQuery{Narratives: []string{f.Narrative}, Terms: terms, Missions: missions, Limit: 5})
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

// responseLines returns a narrative's response lines in the station's
// language, else the rumour's, else French or English, with the language
// used and why.
func (a *app) responseLines(narrative, station, rumour string) ([]string, string, string) {
	for _, c := range []struct{ lang, from string }{{station, "station"}, {rumour, "rumour"}, {"fr", "fallback"}, {"en", "fallback"}} {
		if c.lang == "" {
			continue
		}
		if rs := a.opt.Catalog.Responses(narrative, c.lang); len(rs) > 0 {
			return rs, c.lang, c.from
		}
	}
	return nil, "", ""
}
