package synth

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/veille-project/veille/storage"
)

// Synthetic sentence parts for load and fault tests: claims, reports,
// denials and ordinary news, recombined so texts vary.
var (
	synthMissions = []string{"MINUSCA", "MONUSCO", "MINUSMA", "UNMISS", "UNIFIL"}
	synthPlaces   = []string{"Bangui", "Bria", "Goma", "Beni", "Bunia", "Gao", "Kidal", "Bentiu", "Malakal", "Naqoura", "Ndélé", "Uvira"}
	synthClaims   = []string{
		"Witnesses say %s helicopters dropped crates of rifles to the rebels near %s last night.",
		"Les casques bleus de la %s livrent des munitions aux groupes armés autour de %s, disent des habitants.",
		"The %s convoy is smuggling gold and coltan out of the mines near %s.",
		"Des parents affirment que des véhicules de la %s enlèvent des enfants à %s.",
		"%s troops fired on a crowd of civilians in %s and killed many people on purpose.",
		"They say the %s brought the disease to %s deliberately to kill us.",
	}
	synthNews = []string{
		"The price of cassava rose again at the central market in %[2]s, traders said on %[3]s.",
		"Heavy rains cut the road between %[2]s and the river port; engineers of the %[1]s are repairing a bridge.",
		"Le championnat de football reprend samedi à %[2]s après deux semaines de pause.",
		"The %[1]s held a workshop in %[2]s on radio journalism for community stations.",
		"Une campagne de vaccination contre la rougeole débute lundi à %[2]s.",
	}
)

// Texts returns n generated items, the same for the same seed:
// about one in three carries a narrative claim, the rest is ordinary news.
func Texts(n int, seed uint64) []storage.Item {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	out := make([]storage.Item, n)
	for i := range out {
		mission := synthMissions[r.IntN(len(synthMissions))]
		place := synthPlaces[r.IntN(len(synthPlaces))]
		day := base.Add(time.Duration(r.IntN(24*24)) * time.Hour)
		var b strings.Builder
		for range 1 + r.IntN(3) {
			fmt.Fprintf(&b, synthNews[r.IntN(len(synthNews))]+" ", mission, place, day.Format("Monday"))
		}
		if r.IntN(3) == 0 {
			fmt.Fprintf(&b, synthClaims[r.IntN(len(synthClaims))]+" ", mission, place)
		}
		fmt.Fprintf(&b, "(ref %d)", i)
		text := b.String()
		lang := "en"
		if strings.Contains(text, "Les ") || strings.Contains(text, "Une ") || strings.Contains(text, "Des ") {
			lang = ""
		}
		out[i] = storage.Item{
			ID:          fmt.Sprintf("synth-%d-%08d", seed, i),
			ContentHash: fmt.Sprintf("h%d", i),
			Source:      fmt.Sprintf("synthetic-%d", i%7),
			Kind:        "article",
			URL:         fmt.Sprintf("https://news.example/%d", i),
			Title:       fmt.Sprintf("Dispatch %d from %s", i, place),
			Text:        text,
			Lang:        lang,
			Mission:     mission,
			Published:   day,
			Fetched:     day.Add(time.Minute),
		}
	}
	return out
}
