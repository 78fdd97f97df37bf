package brief

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// secretBrief holds a marker in every field a partner must not see, and
// EVIDENCE-SHOWN in the evidence a partner does see.
func secretBrief(lang string) Brief {
	text := "FULLTEXT-SECRET avant. EVIDENCE-SHOWN la MINUSCA arme les rebelles. FULLTEXT-SECRET après."
	fp := "FALSEPOS-SECRET la MINUSCA n'arme personne."
	item := func(decision string) NotableItem {
		return NotableItem{ItemID: "ITEMID-SECRET", Source: "SENSITIVE-SOURCE", Lang: "fr", Title: "TITLE-SECRET",
			URL: "https://example.org/URL-SECRET", Published: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC),
			Text: text, Evidence: []Span{ev(text, "EVIDENCE-SHOWN la MINUSCA arme les rebelles")},
			Decision: decision, Author: "AUTHOR-SECRET", Note: "NOTE-SECRET"}
	}
	return Brief{
		ID: "secret", Title: "Brief", Mission: "MINUSCA", Lang: lang, Audience: Internal,
		From: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC),
		PrevFrom: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), PrevTo: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC),
		Generated:    time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC),
		ModelVersion: "MODEL-SECRET", CatalogVersion: "CATALOG-SECRET",
		Headline: Headline{Flags: 67, PrevFlags: 40, Items: 60, PrevItems: 38, Sources: 7, PrevSources: 6, Languages: 2, PrevLanguages: 2,
			Reviewed: 0.5, PrevReviewed: 0.4, Precision: share(0.8), PrevPrecision: share(0.7)},
		Narratives: []NarrativeRow{
			{ID: "weapons-to-armed-groups", Name: "Peacekeepers arm the armed groups", Flags: 60, PrevFlags: 38,
				Daily: []int{8, 9, 10, 9, 8, 8, 8}, Stances: Stances{Spreading: 40, Reporting: 15, Debunking: 5},
				Sources: []string{"Radio Ndeke Luka", "SENSITIVE-SOURCE"}, Langs: []string{"fr", "sg"},
				Notable: []NotableItem{
					item(DecisionConfirm),
					item(DecisionNeedsResponse),
					{Source: "Oubangui Médias", Text: fp, Evidence: []Span{ev(fp, "FALSEPOS-SECRET")}, Decision: DecisionFalsePositive},
					{Source: "Oubangui Médias", Title: "UNREVIEWED-SECRET", Text: fp, Decision: ""},
				},
				ResponseLines: []string{"MINUSCA supplies no weapons."}},
			{ID: "deliberate-disease-spread", Name: "FOLDED-SECRET", Flags: 3, PrevFlags: 2, Daily: []int{0, 1, 0, 0, 2, 0, 0},
				Stances: Stances{Spreading: 3}, Sources: []string{"FOLDED-SOURCE-SECRET"}, Langs: []string{"sg"},
				Notable: []NotableItem{{Source: "FOLDED-SOURCE-SECRET", Text: "FOLDED-ITEM-SECRET", Decision: DecisionConfirm}}},
			// Two small narratives, so that together they reach the
			// threshold and the large one is not folded with them.
			{ID: "election-manipulation", Name: "FOLDED-SECRET too", Flags: 4, Daily: []int{0, 0, 0, 4, 0, 0, 0},
				Stances: Stances{Reporting: 4}, Langs: []string{"fr"}},
		},
		Emerging: []EmergingRow{{Label: "EMERGING-SECRET", Terms: []string{"TERM-SECRET"}, Items: 12, Sources: 3}},
		Alerts: []AlertRow{
			{Fired: time.Date(2026, 12, 3, 14, 5, 0, 0, time.UTC), Rule: "RULE-SECRET", Narrative: "weapons-to-armed-groups", Summary: "SUMMARY-SECRET"},
			{Fired: time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC), Rule: "RULE-SECRET", Narrative: "deliberate-disease-spread", Summary: "SUMMARY-SECRET"},
		},
		Changes:          []string{"CHANGE-SECRET"},
		Appendix:         []Figure{{Label: "Flags", Value: 67, Query: "veille query trends QUERY-SECRET"}, {Label: "PRECISION-SECRET", Value: 0.8, Share: true}},
		SensitiveSources: map[string]bool{"SENSITIVE-SOURCE": true},
	}
}

var secrets = []string{"FULLTEXT-SECRET", "AUTHOR-SECRET", "NOTE-SECRET", "URL-SECRET", "TITLE-SECRET", "ITEMID-SECRET",
	"SENSITIVE-SOURCE", "FALSEPOS-SECRET", "UNREVIEWED-SECRET", "FOLDED-SECRET", "FOLDED-SOURCE-SECRET", "FOLDED-ITEM-SECRET",
	"MODEL-SECRET", "CATALOG-SECRET", "EMERGING-SECRET", "TERM-SECRET", "RULE-SECRET", "SUMMARY-SECRET",
	"CHANGE-SECRET", "QUERY-SECRET", "PRECISION-SECRET"}

func TestPartnerBriefLeavesOutInternalFields(t *testing.T) {
	for _, lang := range Languages {
		t.Run(lang, func(t *testing.T) {
			internal := render(t, secretBrief(lang))
			// ITEMID-SECRET is kept internally but not shown; every other
			// marker must be in the internal brief, so the test proves
			// something about the partner one.
			for _, s := range secrets {
				if s != "ITEMID-SECRET" && s != "UNREVIEWED-SECRET" && !strings.Contains(internal, s) {
					t.Errorf("internal brief lacks %s", s)
				}
			}
			partner := render(t, ForPartner(secretBrief(lang), 5))
			for _, s := range secrets {
				if strings.Contains(partner, s) {
					t.Errorf("partner brief shows %s", s)
				}
			}
			text := visibleText(parse(t, partner))
			for _, want := range []string{"EVIDENCE-SHOWN la MINUSCA arme les rebelles", "Radio Ndeke Luka", "MINUSCA supplies no weapons.",
				locale{lang: lang}.t("audience_partner"), locale{lang: lang}.t("source_withheld"), locale{lang: lang}.t("other_narratives")} {
				if !strings.Contains(text, want) {
					t.Errorf("partner brief lacks %q", want)
				}
			}
			for _, reject := range []string{locale{lang: lang}.t("precision"), locale{lang: lang}.t("reviewed"), "https://"} {
				if strings.Contains(partner, reject) {
					t.Errorf("partner brief shows %q", reject)
				}
			}
		})
	}
}

func TestForPartnerKeepsOnlyConfirmedItemsAndTheirEvidence(t *testing.T) {
	p := ForPartner(secretBrief("en"), 5)
	items := p.Narratives[0].Notable
	if len(items) != 2 {
		t.Fatalf("%d notable items kept, want the confirmed one and the one needing a response", len(items))
	}
	for _, it := range items {
		want := NotableItem{Lang: "fr", Published: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), Decision: it.Decision,
			Evidence: []Span{{Text: "EVIDENCE-SHOWN la MINUSCA arme les rebelles"}}}
		if it.Decision != DecisionConfirm && it.Decision != DecisionNeedsResponse {
			t.Errorf("kept an item decided %q", it.Decision)
		}
		if it.Source != want.Source || it.Text != "" || it.Title != "" || it.URL != "" || it.ItemID != "" || it.Author != "" || it.Note != "" ||
			!slices.Equal(it.Evidence, want.Evidence) {
			t.Errorf("kept item %+v, want %+v", it, want)
		}
	}
	if p.SensitiveSources != nil {
		t.Error("the partner brief carries the names of sensitive sources")
	}
	if got := p.Narratives[0].Sources; !slices.Equal(got, []string{"Radio Ndeke Luka"}) {
		t.Errorf("sources %v, want the one not sensitive", got)
	}
	if len(p.Alerts) != 1 || p.Alerts[0].Rule != "" || p.Alerts[0].Summary != "" {
		t.Errorf("alerts %+v, want the one on a shown narrative without rule or summary", p.Alerts)
	}
}

func TestForPartnerQuotesAtMostALongSpan(t *testing.T) {
	text := strings.Repeat("la MINUSCA arme les rebelles ", 40)
	b := secretBrief("en")
	b.Narratives[0].Notable = []NotableItem{{Text: text, Evidence: []Span{{Start: 0, End: len(text)}}, Decision: DecisionConfirm}}
	q := ForPartner(b, 5).Narratives[0].Notable[0].Evidence[0].Text
	if len(q) > maxQuote+len(" …") || !strings.HasSuffix(q, "…") {
		t.Errorf("quote of %d bytes (%q…), want at most %d", len(q), q[:20], maxQuote)
	}
}

func TestForPartnerFoldsSmallNarratives(t *testing.T) {
	row := func(id string, flags, prev int) NarrativeRow {
		return NarrativeRow{ID: id, Name: id, Flags: flags, PrevFlags: prev, Daily: []int{flags}, Stances: Stances{Spreading: flags}}
	}
	tests := []struct {
		name      string
		rows      []NarrativeRow
		wantIDs   []string
		wantOther int // flags of the "other narratives" row, -2 when there is none
	}{
		{"nothing small", []NarrativeRow{row("a", 40, 30), row("b", 12, 9)}, []string{"a", "b"}, -2},
		{"small ones fold", []NarrativeRow{row("a", 40, 30), row("b", 12, 9), row("c", 3, 0), row("d", 4, 1)}, []string{"a", "b", ""}, 7},
		{"folded ones under the threshold take the next smallest", []NarrativeRow{row("a", 40, 30), row("b", 12, 9), row("c", 3, 0), row("d", 1, 1)}, []string{"a", ""}, 16},
		{"everything small", []NarrativeRow{row("c", 3, 0), row("d", 1, 1)}, []string{""}, Suppressed},
		{"ranked whatever the order given", []NarrativeRow{row("b", 12, 9), row("c", 3, 8), row("a", 40, 30), row("d", 2, 1)}, []string{"a", "b", ""}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := secretBrief("en")
			b.Narratives = tt.rows
			p := ForPartner(b, 5)
			var ids []string
			other := -2
			for _, r := range p.Narratives {
				ids = append(ids, r.ID)
				if r.Other {
					other = r.Flags
				}
			}
			if !slices.Equal(ids, tt.wantIDs) || other != tt.wantOther {
				t.Errorf("rows %q with other %d, want %q with other %d", ids, other, tt.wantIDs, tt.wantOther)
			}
		})
	}
}

func TestForPartnerHidesSmallCounts(t *testing.T) {
	b := secretBrief("en")
	b.Headline.PrevItems = 3
	b.Narratives[0].Daily = []int{10, 2, 0, 28, 9, 6, 5}
	b.Narratives[0].Stances = Stances{Spreading: 57, Reporting: 2, Debunking: 1}
	p := ForPartner(b, 5)
	r := p.Narratives[0]
	S, W := Suppressed, Withheld
	if want := []int{10, S, 0, 28, 9, 6, W}; !slices.Equal(r.Daily, want) {
		t.Errorf("daily %v, want %v (2 hidden, and 5 with it so it cannot be subtracted out)", r.Daily, want)
	}
	if want := (Stances{Spreading: W, Reporting: S, Debunking: S}); r.Stances != want {
		t.Errorf("stances %+v, want %+v", r.Stances, want)
	}
	if p.Headline.PrevItems != S || p.Headline.Flags != 67 || p.Headline.Sources != 7 || p.Headline.Languages != 2 {
		t.Errorf("headline %+v, want items of the previous period hidden and the rest kept", p.Headline)
	}
	if p.Headline.Precision != nil || p.Headline.Reviewed != 0 {
		t.Error("the partner brief keeps review coverage or precision")
	}
	text := visibleText(parse(t, render(t, p)))
	for _, want := range []string{"<\u00a05", "≥\u00a05"} {
		if !strings.Contains(text, want) {
			t.Errorf("hidden counts are not shown as %q", want)
		}
	}
}

func TestHide(t *testing.T) {
	S, W := Suppressed, Withheld
	tests := []struct {
		in, want []int
	}{
		{[]int{10, 20, 30}, []int{10, 20, 30}},
		{[]int{0, 0, 7}, []int{0, 0, 7}},
		{[]int{3, 20, 30}, []int{S, W, 30}},
		{[]int{3, 4, 30}, []int{S, S, 30}},
		{[]int{1, 1, 9, 30}, []int{S, S, W, 30}},
		{[]int{4}, []int{S}},
		{[]int{2, 0}, []int{S, 0}},
	}
	for _, tt := range tests {
		cells := slices.Clone(tt.in)
		ptrs := make([]*int, len(cells))
		for i := range cells {
			ptrs[i] = &cells[i]
		}
		hide(ptrs, 5)
		if !slices.Equal(cells, tt.want) {
			t.Errorf("hide(%v, 5) = %v, want %v", tt.in, cells, tt.want)
		}
	}
}

func TestForPartnerOfAPartnerBriefChangesNothing(t *testing.T) {
	p := ForPartner(exampleBrief("fr"), 5)
	again := ForPartner(p, 10)
	if render(t, again) != render(t, p) {
		t.Error("ForPartner of a partner brief changed it")
	}
}

func TestForPartnerDefaultThreshold(t *testing.T) {
	if p := ForPartner(secretBrief("en"), 0); p.MinCount != DefaultMinCount {
		t.Errorf("MinCount %d, want %d", p.MinCount, DefaultMinCount)
	}
}
