package brief

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ev returns the evidence span of phrase in text; it panics when the
// phrase is not there, which is a mistake in the example.
func ev(text, phrase string) Span {
	i := strings.Index(text, phrase)
	if i < 0 {
		panic("example: " + phrase + " not in text")
	}
	return Span{Start: i, End: i + len(phrase), Text: phrase}
}

func share(x float64) *float64 { return &x }

// exampleBrief is a week of MINUSCA monitoring, 30 November to 6 December
// 2026, with the narratives' names and the figures' labels in lang.
func exampleBrief(lang string) Brief {
	fr := lang == "fr"
	pick := func(en, frText string) string {
		if fr {
			return frText
		}
		return en
	}

	post := "Ils disent protéger les civils mais hier soir à Kaga-Bandoro des témoins ont vu un camion blanc de la MINUSCA décharger des caisses d'armes pour les rebelles près du marché. Partagez avant que ce soit supprimé !"
	transcript := strings.Repeat("Bonsoir chers auditeurs, vous écoutez le journal du soir. La saison des pluies se termine et les routes vers Bambari rouvrent peu à peu ; les commerçants attendent les camions de manioc et de sucre. ", 8) +
		"Un auditeur appelle : « Ce sont les Casques bleus qui donnent des fusils aux groupes armés, tout le monde le sait au quartier. » " +
		"Le présentateur répond que ces accusations n'ont pas été vérifiées et que la mission les dément. " +
		strings.Repeat("Passons aux nouvelles du sport : le championnat reprend samedi au stade Barthélemy Boganda, et les jeunes de Bambari préparent le tournoi inter-quartiers. ", 6)
	debunk := "FAUX : non, la MINUSCA ne livre pas d'armes aux rebelles. La photo qui circule montre un exercice de 2019 à Bouar."
	organs := "Attention parents : des soldats étrangers prennent les enfants à Bria pour vendre leurs organes, gardez vos enfants à la maison."
	minerals := "La mission pille l'or et les diamants de Ndassima pendant que le peuple souffre."

	weapons := NarrativeRow{
		ID: "weapons-to-armed-groups", Name: pick("Peacekeepers arm the armed groups", "Les Casques bleus arment les groupes armés"),
		Flags: 1207, PrevFlags: 968, Daily: []int{142, 155, 171, 190, 198, 181, 170},
		Stances: Stances{Spreading: 788, Reporting: 301, Debunking: 118},
		Sources: []string{"Facebook : Bangui Actu", "Radio Ndeke Luka", "Radio communautaire de Bambari", "Oubangui Médias"},
		Langs:   []string{"fr", "sg"}, FirstSeen: time.Date(2025, time.March, 12, 9, 41, 0, 0, time.UTC), Rising: true,
		Notable: []NotableItem{
			{ItemID: "it-7f3a9c", Source: "Facebook : Bangui Actu", Lang: "fr", Title: "Camion de la MINUSCA à Kaga-Bandoro",
				URL: "https://www.facebook.com/banguiactu/posts/7f3a9c", Published: time.Date(2026, time.December, 3, 19, 12, 0, 0, time.UTC),
				Text: post, Evidence: []Span{ev(post, "décharger des caisses d'armes pour les rebelles")},
				Decision: DecisionNeedsResponse, Author: "a:5d41402abc4b2a76", Note: "Photo réutilisée d'un exercice de 2019 ; partagée 2 400 fois en 12 h."},
			{ItemID: "it-2b81e0", Source: "Radio communautaire de Bambari", Lang: "fr", Title: "Journal du soir",
				URL: "https://radio-bambari.example.cf/podcast/2026-12-02", Published: time.Date(2026, time.December, 2, 18, 0, 0, 0, time.UTC),
				Text: transcript, Evidence: []Span{ev(transcript, "les Casques bleus qui donnent des fusils aux groupes armés")},
				Decision: DecisionConfirm, Author: "a:9e107d9d372bb682", Note: "L'animateur a démenti à l'antenne ; appel d'un auditeur."},
			{ItemID: "it-c4d1aa", Source: "Oubangui Médias", Lang: "fr", Title: "Vérification : la MINUSCA n'arme pas les rebelles",
				URL: "https://oubanguimedias.example.cf/verif-armes", Published: time.Date(2026, time.December, 4, 10, 30, 0, 0, time.UTC),
				Text: debunk, Evidence: []Span{ev(debunk, "la MINUSCA ne livre pas d'armes aux rebelles")},
				Decision: DecisionFalsePositive, Note: "Article de vérification, pas une diffusion."},
		},
		ResponseLines: []string{
			pick("MINUSCA does not supply weapons to any armed group; its mandate is to protect civilians and support disarmament.",
				"La MINUSCA ne fournit d'armes à aucun groupe armé ; son mandat est de protéger les civils et d'appuyer le désarmement."),
			pick("Weapons seized by the mission are recorded and destroyed in public ceremonies with the authorities.",
				"Les armes saisies par la mission sont enregistrées et détruites lors de cérémonies publiques avec les autorités."),
		},
	}
	resources := NarrativeRow{
		ID: "resource-exploitation", Name: pick("The mission loots minerals", "La mission pille les minerais"),
		Flags: 287, PrevFlags: 301, Daily: []int{45, 41, 38, 44, 40, 39, 40},
		Stances: Stances{Spreading: 190, Reporting: 70, Debunking: 27},
		Sources: []string{"Facebook : Centrafrique Debout", "Radio Ndeke Luka", "TikTok : @kodro_news"},
		Langs:   []string{"fr", "sg"}, FirstSeen: time.Date(2024, time.October, 2, 0, 0, 0, 0, time.UTC),
		Notable: []NotableItem{
			{ItemID: "it-51aa07", Source: "TikTok : @kodro_news", Lang: "fr", Title: "",
				URL: "https://www.tiktok.com/@kodro_news/video/51aa07", Published: time.Date(2026, time.December, 1, 8, 5, 0, 0, time.UTC),
				Text: minerals, Evidence: []Span{ev(minerals, "La mission pille l'or et les diamants")},
				Decision: DecisionConfirm, Author: "a:1f3870be274f6c49"},
		},
		ResponseLines: []string{pick("The mission has no mining activity; mining permits are issued by the Central African authorities only.",
			"La mission n'a aucune activité minière ; seuls les services de l'État centrafricain délivrent les permis d'exploitation.")},
	}
	collusion := NarrativeRow{
		ID: "collusion-with-terrorists", Name: pick("The mission colludes with rebel groups", "La mission pactise avec les rebelles"),
		Flags: 96, PrevFlags: 88, Daily: []int{12, 15, 11, 14, 16, 13, 15},
		Stances: Stances{Spreading: 61, Reporting: 25, Debunking: 10},
		Sources: []string{"WhatsApp : Bossangoa Infos", "Radio Ndeke Luka"}, Langs: []string{"fr", "sg"},
		FirstSeen: time.Date(2024, time.June, 17, 0, 0, 0, 0, time.UTC),
	}
	children := NarrativeRow{
		ID: "child-abduction-organ-trafficking", Name: pick("Peacekeepers abduct children for their organs", "Des Casques bleus enlèvent des enfants pour leurs organes"),
		Flags: 41, PrevFlags: 0, Daily: []int{0, 0, 3, 9, 14, 10, 5},
		Stances: Stances{Spreading: 30, Reporting: 8, Debunking: 3},
		Sources: []string{"WhatsApp : Parents de Bria", "Facebook : Bria Actu"}, Langs: []string{"fr", "sg"},
		FirstSeen: time.Date(2026, time.December, 2, 7, 55, 0, 0, time.UTC), Rising: true,
		Notable: []NotableItem{
			{ItemID: "it-0ce2f1", Source: "WhatsApp : Parents de Bria", Lang: "fr", Title: "Message transféré",
				Published: time.Date(2026, time.December, 2, 7, 55, 0, 0, time.UTC), Text: organs,
				Evidence: []Span{ev(organs, "prennent les enfants à Bria pour vendre leurs organes")},
				Decision: DecisionNeedsResponse, Author: "a:8277e0910d750195", Note: "Même texte reçu sur trois groupes ; alerter la section Protection de l'enfance."},
		},
		ResponseLines: []string{pick("No child has been taken by peacekeepers. Report any missing child to the police or to the mission's toll-free number.",
			"Aucun enfant n'a été enlevé par des Casques bleus. Signalez toute disparition à la police ou au numéro vert de la mission.")},
	}
	occupation := NarrativeRow{
		ID: "foreign-occupation", Name: pick("The mission is a foreign occupation force", "La mission est une force d'occupation étrangère"),
		Flags: 23, PrevFlags: 31, Daily: []int{4, 3, 2, 5, 3, 4, 2},
		Stances: Stances{Spreading: 17, Reporting: 5, Debunking: 1},
		Sources: []string{"Facebook : Bangui Actu"}, Langs: []string{"fr"},
		FirstSeen: time.Date(2024, time.January, 8, 0, 0, 0, 0, time.UTC),
	}
	disease := NarrativeRow{
		ID: "deliberate-disease-spread", Name: pick("Peacekeepers spread disease on purpose", "Les Casques bleus propagent des maladies exprès"),
		Flags: 3, PrevFlags: 7, Daily: []int{0, 1, 0, 0, 2, 0, 0},
		Stances: Stances{Spreading: 3}, Sources: []string{"Radio communautaire de Bambari"}, Langs: []string{"sg"},
		FirstSeen: time.Date(2025, time.August, 20, 0, 0, 0, 0, time.UTC),
	}
	election := NarrativeRow{
		ID: "election-manipulation", Name: pick("The mission rigs the elections", "La mission truque les élections"),
		Flags: 2, PrevFlags: 0, Daily: []int{0, 0, 0, 1, 0, 1, 0},
		Stances: Stances{Spreading: 1, Reporting: 1}, Sources: []string{"Facebook : Centrafrique Debout"}, Langs: []string{"fr"},
		FirstSeen: time.Date(2025, time.November, 3, 0, 0, 0, 0, time.UTC),
	}
	rows := []NarrativeRow{weapons, resources, collusion, children, occupation, disease, election}

	week := time.Date(2026, time.November, 30, 0, 0, 0, 0, time.UTC)
	const scope = " --mission MINUSCA --since 8d --until 1d"
	appendix := []Figure{
		{Label: pick("Flags", "Signalements"), Value: 1659, Query: "veille query trends --by narrative" + scope},
		{Label: pick("Flags, previous period", "Signalements, période précédente"), Value: 1395, Query: "veille query trends --by narrative --mission MINUSCA --since 15d --until 8d"},
		{Label: pick("Items flagged", "Contenus signalés"), Value: 1318, Query: "veille query trends --by day --format json" + scope},
		{Label: pick("Sources", "Sources"), Value: 38, Query: "veille query trends --by source" + scope},
		{Label: pick("Languages", "Langues"), Value: 3, Query: "veille query trends --by lang" + scope},
		{Label: pick("Flags reviewed", "Signalements revus"), Value: 0.62, Share: true, Query: "veille query trends --by narrative,stance" + scope},
		{Label: pick("Confirmed among reviewed", "Confirmés parmi les revus"), Value: 0.913, Share: true, Query: "veille query trends --by narrative --stance assert,report,debunk" + scope},
	}
	for _, r := range rows {
		appendix = append(appendix, Figure{Label: r.Name, Narrative: r.ID, Value: float64(r.Flags),
			Query: "veille query trends --by narrative,day --narrative " + r.ID + scope})
	}

	return Brief{
		ID: "minusca-2026-w49", Mission: "MINUSCA", Lang: lang, Audience: Internal,
		From: week, To: week.AddDate(0, 0, 7), PrevFrom: week.AddDate(0, 0, -7), PrevTo: week,
		Generated:    time.Date(2026, time.December, 7, 6, 0, 0, 0, time.UTC),
		ModelVersion: "match-2026.12.1", CatalogVersion: "catalog-2026.12.1",
		Headline: Headline{Flags: 1659, PrevFlags: 1395, Items: 1318, PrevItems: 1122, Sources: 38, PrevSources: 35,
			Languages: 3, PrevLanguages: 3, Reviewed: 0.62, PrevReviewed: 0.55, Precision: share(0.913), PrevPrecision: share(0.887)},
		Narratives: rows,
		Emerging: []EmergingRow{
			{Label: pick("Vaccination in Bria poisons children", "La vaccination à Bria empoisonne les enfants"), Terms: []string{"vaccin", "Bria", "empoisonnés", "enfants"}, Items: 17, Sources: 6},
			{Label: pick("Fuel shortage blamed on mission convoys", "Pénurie de carburant imputée aux convois de la mission"), Terms: []string{"carburant", "pénurie", "convois"}, Items: 9, Sources: 4},
		},
		Alerts: []AlertRow{
			{Fired: time.Date(2026, time.December, 3, 14, 5, 0, 0, time.UTC), Rule: "surge-24h: count ≥ 150 in 24h",
				Narrative: "weapons-to-armed-groups", Summary: pick("190 flags in the last 24 h, 1.4 times the usual level.", "190 signalements en 24 h, 1,4 fois le niveau habituel.")},
			{Fired: time.Date(2026, time.December, 4, 8, 30, 0, 0, time.UTC), Rule: "rise-vs-baseline: factor ≥ 3 over 7d",
				Narrative: "child-abduction-organ-trafficking", Summary: pick("14 flags in the last 24 h, none the week before.", "14 signalements en 24 h, aucun la semaine précédente.")},
		},
		Changes: []string{
			pick("Catalog 2026.11.3 → 2026.12.1: Sango terms added to child-abduction-organ-trafficking.",
				"Catalogue 2026.11.3 → 2026.12.1 : termes sango ajoutés à child-abduction-organ-trafficking."),
			pick("Threshold of resource-exploitation raised from 0.55 to 0.60 on 2 December.",
				"Seuil de resource-exploitation relevé de 0,55 à 0,60 le 2 décembre."),
		},
		Appendix:         appendix,
		SensitiveSources: map[string]bool{"Radio communautaire de Bambari": true, "WhatsApp : Parents de Bria": true},
	}
}

// TestWriteExamples writes the example brief in both languages for both
// audiences, to look at in a browser:
//
//	VEILLE_BRIEF_EXAMPLES=/tmp go test -run TestWriteExamples ./pipeline/brief/
func TestWriteExamples(t *testing.T) {
	dir := os.Getenv("VEILLE_BRIEF_EXAMPLES")
	if dir == "" {
		t.Skip("set VEILLE_BRIEF_EXAMPLES to a directory to write the example briefs")
	}
	for _, lang := range Languages {
		for _, b := range []Brief{exampleBrief(lang), ForPartner(exampleBrief(lang), 5)} {
			name := "brief-example-" + lang + ".html"
			if b.Audience == Partner {
				name = "brief-example-" + lang + "-partner.html"
			}
			f, err := os.Create(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := Render(f, b); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", f.Name())
		}
	}
}
