package emerging_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/emerging"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/internal/testenv"
)

func readStream(t *testing.T) []emerging.Doc {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "stream.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []emerging.Doc
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var d emerging.Doc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("stream.jsonl: %v", err)
		}
		docs = append(docs, d)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return docs
}

func TestMinHashEstimatesJaccard(t *testing.T) {
	words := func(prefix string, n int) []string {
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, prefix+string(rune('a'+i%26))+string(rune('a'+i/26)))
		}
		return out
	}
	base := words("w", 200)
	tests := []struct {
		name string
		a, b []string
	}{
		{"identical", base, base},
		{"disjoint", base, words("z", 200)},
		{"half", base[:150], base[50:]},
		{"most", base[:190], base[10:]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sa, sb := emerging.Shingles(tc.a, 1), emerging.Shingles(tc.b, 1)
			inter := 0
			set := map[uint64]bool{}
			for _, x := range sa {
				set[x] = true
			}
			for _, x := range sb {
				if set[x] {
					inter++
				}
			}
			want := float64(inter) / float64(len(sa)+len(sb)-inter)
			ma, mb := emerging.MinHash(sa), emerging.MinHash(sb)
			got := ma.Similarity(&mb)
			if math.Abs(got-want) > 0.17 {
				t.Fatalf("similarity %.2f, true Jaccard %.2f", got, want)
			}
		})
	}
}

func TestShinglesAreOrderSensitiveAndDistinct(t *testing.T) {
	a := emerging.Shingles([]string{"a", "b", "c", "d"}, 3)
	b := emerging.Shingles([]string{"d", "c", "b", "a"}, 3)
	if len(a) != 2 || len(b) != 2 {
		t.Fatalf("4 words give %d and %d 3-shingles, want 2", len(a), len(b))
	}
	if slices.Contains(b, a[0]) || slices.Contains(b, a[1]) {
		t.Fatal("reversed text shares a shingle")
	}
	if got := emerging.Shingles([]string{"x", "x", "x", "x"}, 2); len(got) != 1 {
		t.Fatalf("repeated shingles counted %d times, want once", len(got))
	}
	if got := emerging.Shingles([]string{"solo"}, 3); len(got) != 1 {
		t.Fatalf("a text shorter than k gives %d shingles, want 1", len(got))
	}
}

func TestTermsShareFrenchAndEnglish(t *testing.T) {
	tests := []struct{ fr, en, term string }{
		{"Les antennes", "the antennas", "antenna"},
		{"la pluie", "the rain", "rain"},
		{"la sécheresse", "a drought", "drought"},
		{"ils empoisonnent", "poisoned", "poison"},
		{"les récoltes", "harvests", "harvest"},
		{"ils chassent", "chasing", "chase"},
	}
	for _, tc := range tests {
		t.Run(tc.term, func(t *testing.T) {
			fr, en := emerging.Terms(tc.fr, nil), emerging.Terms(tc.en, nil)
			if !slices.Contains(fr, tc.term) || !slices.Contains(en, tc.term) {
				t.Fatalf("Terms(%q) = %v, Terms(%q) = %v; want both to hold %q", tc.fr, fr, tc.en, en, tc.term)
			}
		})
	}
	if got := emerging.Terms("la violence", nil); slices.Contains(got, "rape") {
		t.Fatalf("Terms(violence) = %v: a bilingual key matched past its inflections", got)
	}
	if got := emerging.Terms("le la les de des the of", nil); len(got) != 0 {
		t.Fatalf("function words give terms %v", got)
	}
}

func TestMentionsMission(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"Les casques bleus sont arrivés.", true},
		{"MONUSCO said on Monday", true},
		{"The UN base at Sake", true},
		{"un homme est arrivé au marché", false},
		{"les peacekeepers de la Minusca", true},
		{"Selon l'ONU, la situation est calme", true},
		{"The market reopened after the rain.", false},
		{"Walinda amani wanasema", true},
		{"قالت قوات حفظ السلام", true},
		{"قالت الأمم المتحدة", true},
	}
	for _, tc := range tests {
		if got := emerging.MentionsMission(tc.text); got != tc.want {
			t.Errorf("MentionsMission(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestFindRanksNewRumourFirst(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bridge *emerging.Bridge
	}{{"bilingual map", nil}, {"catalog bridge", emerging.NewBridge(catalog.Default())}} {
		t.Run(tc.name, func(t *testing.T) { testRumourFirst(t, tc.bridge) })
	}
}

func testRumourFirst(t *testing.T, bridge *emerging.Bridge) {
	docs := readStream(t)
	groups := emerging.Find(docs, emerging.Options{Bridge: bridge})
	if len(groups) == 0 {
		t.Fatal("no group found")
	}
	for _, g := range groups {
		t.Logf("%s score %.2f growth %.2f items %v terms %v core %v", g.ID, g.Score, g.Growth, g.Items, g.Terms, g.Core)
	}
	top := groups[0]
	var rumour []string
	for _, id := range top.Items {
		if !strings.HasPrefix(id, "rum-") {
			t.Errorf("top group holds %s, which is not the rumour", id)
			continue
		}
		rumour = append(rumour, id)
	}
	if len(rumour) < 7 {
		t.Errorf("top group holds %d of the 8 rumour texts: %v", len(rumour), top.Items)
	}
	if !slices.Equal(top.Langs, []string{"en", "fr"}) {
		t.Errorf("top group languages %v, want en and fr", top.Langs)
	}
	for _, term := range []string{"antenna", "rain", "drought"} {
		if !slices.Contains(top.Terms, term) {
			t.Errorf("top group terms %v lack %q", top.Terms, term)
		}
	}
	if top.Growth <= 1 || top.Recent != len(top.Items) {
		t.Errorf("top group growth %.2f (recent %d, earlier %d): want all recent", top.Growth, top.Recent, top.Earlier)
	}
	// The republished wire story is a group too, but an old one in one language.
	var wire *emerging.Group
	for i := range groups {
		if slices.Contains(groups[i].Items, "wire-1") {
			wire = &groups[i]
		}
	}
	if wire == nil {
		t.Fatalf("the three copies of the wire story were not grouped: %+v", groups)
	}
	if len(wire.Items) != 3 || wire.Score >= top.Score || wire.Growth >= 1 {
		t.Errorf("wire group %v score %.2f growth %.2f; rumour score %.2f", wire.Items, wire.Score, wire.Growth, top.Score)
	}
	// Stable ids: the same input gives the same groups.
	again := emerging.Find(docs, emerging.Options{Bridge: bridge})
	if again[0].ID != top.ID {
		t.Errorf("group id changed between runs: %s then %s", top.ID, again[0].ID)
	}
}

func TestFindIgnoresUnrelatedTexts(t *testing.T) {
	var docs []emerging.Doc
	for i, d := range readStream(t) {
		if strings.HasPrefix(d.ID, "ord-") {
			d.Published = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
			docs = append(docs, d)
		}
	}
	for _, g := range emerging.Find(docs, emerging.Options{}) {
		t.Errorf("ordinary, unrelated texts grouped: %v (terms %v)", g.Items, g.Terms)
	}
}

func TestPromoteFlagsNextItem(t *testing.T) {
	ctx := context.Background()
	groups := emerging.Find(readStream(t), emerging.Options{})
	entry := emerging.Draft(groups[0])
	if !strings.HasPrefix(entry.ID, "emerging-") || len(entry.Rules) == 0 {
		t.Fatalf("draft %s rules %+v: want an emerging- id and rules", entry.ID, entry.Rules)
	}
	for _, r := range entry.Rules {
		if len(r.All) < 2 {
			t.Fatalf("draft rule %+v: want two or more terms per rule", r)
		}
	}
	next, err := os.ReadFile(filepath.Join("testdata", "next-item.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := match.New(catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	doc := classifiers.Doc{ID: "next", Text: string(next), Lang: "fr"}
	if narratives(t, m, doc)[entry.ID] {
		t.Fatalf("flagged %s before promotion", entry.ID)
	}
	// The admin edits the draft's YAML before saving it.
	data, err := emerging.MarshalEntry(entry)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), "Draft: ", "Mission antennas chase the rain: ", 1)
	dir := t.TempDir()
	cat, err := emerging.PromoteYAML(ctx, dir, []byte(edited), m)
	if err != nil {
		t.Fatalf("promote: %v", err)
	}
	if !strings.HasPrefix(cat.Title(entry.ID, "en"), "Mission antennas chase the rain") {
		t.Errorf("promoted title %q: the admin's edit was lost", cat.Title(entry.ID, "en"))
	}
	if _, err := os.Stat(filepath.Join(dir, entry.ID+".yaml")); err != nil {
		t.Errorf("no catalog file written: %v", err)
	}
	if !narratives(t, m, doc)[entry.ID] {
		t.Fatalf("next item not flagged with %s after promotion", entry.ID)
	}
	// A catalog loaded afresh from the directory knows it too (restart).
	reloaded, err := catalog.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := reloaded.Get(entry.ID); !ok {
		t.Errorf("%s missing from the reloaded catalog", entry.ID)
	}
	if _, err := emerging.Promote(ctx, dir, entry, m); !errors.Is(err, emerging.ErrExists) {
		t.Errorf("promoting %s twice: %v, want ErrExists", entry.ID, err)
	}
}

func TestPromoteRefusesInvalidEntry(t *testing.T) {
	m, err := match.New(catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bad := catalog.Entry{ID: "Not An Id"}
	if _, err := emerging.Promote(context.Background(), dir, bad, m); !errors.Is(err, catalog.ErrInvalid) {
		t.Fatalf("Promote(invalid) = %v, want catalog.ErrInvalid", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 0 {
		t.Fatalf("an invalid entry left files: %v", files)
	}
}

func narratives(t *testing.T, m *match.Matcher, doc classifiers.Doc) map[string]bool {
	t.Helper()
	res, err := m.Classify(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, f := range res.Flags {
		out[f.Narrative] = true
	}
	return out
}

// TestRumourRanksFirstAmongCorpusTexts injects the rumour into the shared
// corpus's real texts: those without a label are the candidates (as the
// pipeline's unflagged items would be), the labelled ones the background.
func TestRumourRanksFirstAmongCorpusTexts(t *testing.T) {
	shared := testenv.Shared(t)
	end := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	var docs []emerging.Doc
	bridge := emerging.NewBridge(catalog.Default())
	bg := map[string]int{}
	bgDocs := 0
	paths, _ := filepath.Glob(filepath.Join(shared, "corpus", "dev-*.jsonl"))
	if len(paths) == 0 {
		testenv.Missing(t, "corpus dev-*.jsonl")
	}
	n := 0
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var r struct {
				ID, Lang, Source, Text string
				Labels                 []json.RawMessage
			}
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if len(r.Labels) > 0 {
				for _, term := range emerging.Terms(r.Text, bridge) {
					bg[term]++
				}
				bgDocs++
				continue
			}
			if !emerging.MentionsMission(r.Text) {
				continue
			}
			n++
			docs = append(docs, emerging.Doc{ID: r.ID, Text: r.Text, Lang: r.Lang, Source: r.Source,
				Published: end.Add(-time.Duration(n%48) * time.Hour)})
		}
		f.Close()
	}
	if len(docs) < 50 {
		t.Fatalf("only %d unlabelled corpus texts about the missions", len(docs))
	}
	for _, d := range readStream(t) {
		if strings.HasPrefix(d.ID, "rum-") {
			docs = append(docs, d)
		}
	}
	groups := emerging.Find(docs, emerging.Options{Now: end, Background: bg, BackgroundDocs: bgDocs, Bridge: bridge})
	if len(groups) == 0 {
		t.Fatal("no group found")
	}
	for _, id := range groups[0].Items {
		if !strings.HasPrefix(id, "rum-") {
			t.Errorf("top group %v (terms %v) holds corpus text %s", groups[0].Items, groups[0].Terms, id)
		}
	}
	if len(groups[0].Items) < 7 {
		t.Errorf("top group %v: want at least 7 of the 8 rumour texts", groups[0].Items)
	}
	for _, g := range groups[1:] {
		for _, id := range g.Items {
			if strings.HasPrefix(id, "rum-") {
				t.Errorf("rumour text %s split into another group %s", id, g.ID)
			}
		}
	}
}

func TestFindDropsChainsWithoutACommonTheme(t *testing.T) {
	chain := func(n int) []emerging.Doc {
		at := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
		var docs []emerging.Doc
		link := func(i int) string {
			return fmt.Sprintf("qzx%da qzx%db qzx%dc", i, i, i)
		}
		for i := 0; i < n; i++ {
			text := "MONUSCO " + link(i)
			if i > 0 {
				text += " " + link(i-1)
			}
			docs = append(docs, emerging.Doc{ID: fmt.Sprintf("c%d", i), Text: text, Lang: "en", Source: "s", Published: at.Add(time.Duration(i) * time.Hour)})
		}
		return docs
	}
	if got := emerging.Find(chain(3), emerging.Options{}); len(got) != 1 || len(got[0].Items) != 3 {
		t.Errorf("three texts sharing terms pairwise: %+v, want one group", got)
	}
	if got := emerging.Find(chain(8), emerging.Options{}); len(got) != 0 {
		t.Errorf("a chain of eight texts with no common terms was reported: %+v", got)
	}
}

func TestBridgeJoinsOtherLanguagesThroughTheCatalog(t *testing.T) {
	b := emerging.NewBridge(catalog.Default())
	tests := []struct{ a, b string }{
		{"watoto", "les enfants"},
		{"silaha", "des armes"},
		{"amolenge", "the children"},
	}
	for _, tc := range tests {
		x, y := emerging.Terms(tc.a, b), emerging.Terms(tc.b, b)
		if len(x) == 0 || !slices.Equal(x, y) {
			t.Errorf("Terms(%q) = %v, Terms(%q) = %v; want the same terms", tc.a, x, tc.b, y)
		}
	}
	if x, y := emerging.Terms("watoto", nil), emerging.Terms("enfants", nil); slices.Equal(x, y) {
		t.Errorf("without a bridge, Swahili %v met French %v", x, y)
	}
	// Words that carry no topic stay out, whatever concept lists them.
	if got := emerging.Terms("jamais pas not never wao bango", b); len(got) != 0 {
		t.Errorf("negations gave terms %v", got)
	}
}

func TestStemsFrenchPlurals(t *testing.T) {
	for in, want := range map[string]string{"réseaux": "reseau", "sociaux": "social", "journaux": "journal", "villes": "ville"} {
		if got := emerging.Terms(in, nil); len(got) != 1 || got[0] != want {
			t.Errorf("Terms(%q) = %v, want [%s]", in, got, want)
		}
	}
}
