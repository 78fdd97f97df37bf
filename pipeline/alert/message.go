package alert

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// words of an alert in the languages recipients read.
var phrases = map[string]map[string]string{
	"en": {
		"subject_new":    "[Veille] Surge: %s (%d in %s)",
		"subject_update": "[Veille] Still growing: %s (%d in %s)",
		"head_new":       "Surge of the narrative “%s” (%s).",
		"head_update":    "Update: the narrative “%s” (%s) keeps growing.",
		"count":          "%d flags in the last %s, %s its usual level (%.1f per %s over the previous %s).",
		"count_update":   "%d flags in the last %s, up from %d when last reported at %s.",
		"times":          "%.1f times",
		"since":          "Since: %s.",
		"rule":           "Rule: %s",
		"missions":       "missions",
		"langs":          "languages",
		"sources":        "sources",
		"items":          "Most telling items:",
		"score":          "score",
		"queue":          "Review queue: %s",
		"none":           "(no item text available)",
		"subject_prec":   "[Veille] Precision down: %s (%.0f%% of %d reviewed flags confirmed in %s)",
		"head_prec":      "Reviewers confirmed few of the classifier's flags of the narrative “%s” (%s).",
		"count_prec":     "%d of %d reviewed flags confirmed in the last %s: %.0f%%, below the rule's %.0f%%.",
		"advice_prec":    "The queue for this narrative holds many false alarms: check the catalog entry and the model's report on the models page.",
	},
	"fr": {
		"subject_new":    "[Veille] Hausse : %s (%d en %s)",
		"subject_update": "[Veille] Hausse continue : %s (%d en %s)",
		"head_new":       "Hausse du narratif « %s » (%s).",
		"head_update":    "Mise à jour : le narratif « %s » (%s) continue de progresser.",
		"count":          "%d signalements en %s, %s son niveau habituel (%.1f par %s sur la période de %s précédente).",
		"count_update":   "%d signalements en %s, contre %d lors de l'alerte de %s.",
		"times":          "%.1f fois",
		"since":          "Depuis : %s.",
		"rule":           "Règle : %s",
		"missions":       "missions",
		"langs":          "langues",
		"sources":        "sources",
		"items":          "Éléments les plus révélateurs :",
		"score":          "score",
		"queue":          "File de revue : %s",
		"none":           "(aucun texte disponible)",
		"subject_prec":   "[Veille] Précision en baisse : %s (%.0f %% de %d signalements relus confirmés en %s)",
		"head_prec":      "Les relecteurs ont confirmé peu de signalements du narratif « %s » (%s).",
		"count_prec":     "%d signalements confirmés sur %d relus ces %s : %.0f %%, sous les %.0f %% de la règle.",
		"advice_prec":    "La file de ce narratif contient beaucoup de fausses alertes : vérifiez l'entrée du catalogue et le rapport du modèle sur la page des modèles.",
	},
}

// renderPrecision writes the subject and text of a precision alert.
func renderPrecision(rec *Record) {
	l := rec.Lang
	w := span(time.Duration(rec.Window) * time.Second)
	rec.Subject = fmt.Sprintf(tr(l, "subject_prec"), rec.Title, 100*rec.Precision, rec.Reviewed, w)
	var b strings.Builder
	fmt.Fprintf(&b, tr(l, "head_prec"), rec.Title, rec.Narrative)
	b.WriteString("\n")
	fmt.Fprintf(&b, tr(l, "count_prec"), rec.Confirmed, rec.Reviewed, w, 100*rec.Precision, 100*rec.MinPrecision)
	b.WriteString("\n")
	fmt.Fprintf(&b, tr(l, "rule"), rec.Rule)
	b.WriteString("\n\n")
	b.WriteString(tr(l, "advice_prec"))
	b.WriteString("\n")
	fmt.Fprintf(&b, tr(l, "queue"), rec.ReviewURL)
	b.WriteString("\n")
	rec.Text = b.String()
}

func tr(lang, key string) string {
	if p, ok := phrases[lang]; ok {
		return p[key]
	}
	return phrases["en"][key]
}

// span writes a duration the way people say it: 1h, 90m, 2d.
func span(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d >= time.Hour && d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	case d >= time.Minute && d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	}
	return d.String()
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// reviewURL links to the review queue filtered on the alert's narrative and
// the rule's missions, languages and sources, over the days the window
// spans (at least one).
func reviewURL(base string, r *rule, narrative string) string {
	q := url.Values{}
	q.Set("narrative", narrative)
	if len(r.Missions) > 0 {
		q.Set("mission", strings.Join(r.Missions, ","))
	}
	if len(r.Langs) > 0 {
		q.Set("lang", strings.Join(r.Langs, ","))
	}
	if len(r.Sources) > 0 {
		q.Set("source", strings.Join(r.Sources, ","))
	}
	days := int(math.Ceil(float64(r.window) / float64(24*time.Hour)))
	q.Set("days", strconv.Itoa(max(1, days)))
	return strings.TrimRight(base, "/") + "/queue?" + q.Encode()
}

// render fills rec.Subject and rec.Text in rec.Lang.
func render(rec *Record, r *rule, lastAt time.Time) {
	l := rec.Lang
	w := span(time.Duration(rec.Window) * time.Second)
	var b strings.Builder
	if rec.Kind == KindUpdate {
		rec.Subject = fmt.Sprintf(tr(l, "subject_update"), rec.Title, rec.Recent, w)
		fmt.Fprintf(&b, tr(l, "head_update"), rec.Title, rec.Narrative)
		b.WriteString("\n")
		fmt.Fprintf(&b, tr(l, "count_update"), rec.Recent, w, rec.Previous, stamp(lastAt))
	} else {
		rec.Subject = fmt.Sprintf(tr(l, "subject_new"), rec.Title, rec.Recent, w)
		fmt.Fprintf(&b, tr(l, "head_new"), rec.Title, rec.Narrative)
		b.WriteString("\n")
		fmt.Fprintf(&b, tr(l, "count"), rec.Recent, w, fmt.Sprintf(tr(l, "times"), rec.Factor), rec.Baseline, w, span(r.baseline))
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, tr(l, "since"), stamp(rec.Since))
	b.WriteString("\n")
	scope := []string{fmt.Sprintf(tr(l, "rule"), rec.Rule)}
	for _, f := range []struct {
		key  string
		vals []string
	}{{"missions", rec.Missions}, {"langs", rec.Langs}, {"sources", rec.Sources}} {
		if len(f.vals) > 0 {
			scope = append(scope, tr(l, f.key)+": "+strings.Join(f.vals, ", "))
		}
	}
	b.WriteString(strings.Join(scope, " · "))
	b.WriteString("\n\n")
	b.WriteString(tr(l, "items"))
	b.WriteString("\n")
	if len(rec.Items) == 0 {
		b.WriteString(tr(l, "none") + "\n")
	}
	for i, it := range rec.Items {
		title := it.Title
		if title == "" {
			title = it.ID
		}
		fmt.Fprintf(&b, "%d. %s — %s, %s, %s (%s %.2f, %s)\n", i+1, clip(title, 160), it.Source, it.Lang, stamp(it.Published), tr(l, "score"), it.Score, it.Stance)
		for _, ev := range it.Evidence {
			fmt.Fprintf(&b, "   “%s”\n", clip(ev, 280))
		}
		if it.URL != "" {
			fmt.Fprintf(&b, "   %s\n", it.URL)
		}
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, tr(l, "queue"), rec.ReviewURL)
	b.WriteString("\n")
	rec.Text = b.String()
}

// clip shortens s to at most n runes on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// chatSafe neutralises what a chat service would read as markup in text
// quoted from feeds: Slack's and Mattermost's <links|labels> and @channel
// style mentions that would page a whole team.
func chatSafe(s string) string {
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
	return strings.ReplaceAll(s, "@", "@\u200b")
}
