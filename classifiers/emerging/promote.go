package emerging

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/veille-project/veille/classifiers/catalog"
)

// ErrExists is returned when a promoted narrative's id is already taken.
var ErrExists = errors.New("emerging: narrative id already in the catalog")

// Swapper is what Promote needs of the live matcher.
type Swapper interface {
	Swap(cat *catalog.Catalog) error
}

// Draft returns a catalog entry pre-filled from a group: an id and titles
// made of its terms, one local concept per core term holding the words the
// texts used in each language, and one rule that fires when the core terms
// and a mention of the mission occur in one text. Titles, meanings and
// responses are placeholders an admin rewrites before saving.
func Draft(g Group) catalog.Entry {
	core := g.Core
	if len(core) == 0 {
		core = g.Terms[:min(3, len(g.Terms))]
	}
	var slug []string
	for _, t := range core {
		if s := slugify(t); s != "" {
			slug = append(slug, s)
		}
	}
	id := "emerging-" + strings.Join(slug, "-")
	if len(slug) == 0 {
		id = "emerging-" + strings.TrimPrefix(g.ID, "g-")
	}
	list := strings.Join(g.Terms, ", ")
	e := catalog.Entry{
		ID: id,
		Title: map[string]string{
			"en": "Draft: " + strings.Join(core, ", "),
			"fr": "Brouillon : " + strings.Join(core, ", "),
		},
		Meaning: map[string]string{
			"en": fmt.Sprintf("A new claim about the mission seen in %d texts (%s) from %s to %s. Terms: %s. Rewrite this meaning before saving.",
				len(g.Items), strings.Join(g.Langs, ", "), g.FirstSeen.Format("2006-01-02 15:04"), g.LastSeen.Format("2006-01-02 15:04"), list),
			"fr": fmt.Sprintf("Une nouvelle affirmation sur la mission vue dans %d textes (%s) du %s au %s. Termes : %s. Réécrire ce sens avant d'enregistrer.",
				len(g.Items), strings.Join(g.Langs, ", "), g.FirstSeen.Format("2006-01-02 15:04"), g.LastSeen.Format("2006-01-02 15:04"), list),
		},
		Responses: map[string][]string{
			"en": {"Response to be written by the communications team."},
			"fr": {"Réponse à rédiger par l'équipe de communication."},
		},
		Concepts: map[string]catalog.Terms{},
	}
	var names []string
	for _, t := range core {
		name := slugify(t)
		if name == "" {
			continue
		}
		terms := catalog.Terms{}
		langs := make([]string, 0, len(g.Surface[t]))
		for l := range g.Surface[t] {
			langs = append(langs, l)
		}
		sort.Strings(langs)
		for _, l := range langs {
			for _, w := range g.Surface[t][l] {
				if !contains(terms[l], w) {
					terms[l] = append(terms[l], w)
				}
			}
		}
		// The shared English form is a word too, in English texts.
		if !contains(terms["en"], t) && isLatinWord(t) {
			terms["en"] = append(terms["en"], t)
		}
		e.Concepts[name] = terms
		names = append(names, name)
	}
	e.Rules = RulesFor("draft", names)
	return e
}

// RulesFor combines a new narrative's concepts into rules over one text
// (with a mention of the mission): all of them when there are one or two,
// else any two, since a group's texts seldom all share every core term.
func RulesFor(id string, concepts []string) []catalog.Rule {
	if len(concepts) <= 2 {
		return []catalog.Rule{{ID: id, Scope: "doc", All: concepts}}
	}
	var out []catalog.Rule
	for i := range concepts {
		for j := i + 1; j < len(concepts); j++ {
			out = append(out, catalog.Rule{ID: fmt.Sprintf("%s-%d", id, len(out)+1), Scope: "doc", All: []string{concepts[i], concepts[j]}})
		}
	}
	return out
}

func slugify(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '-' || r == ' ' || r == '_':
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

func isLatinWord(s string) bool {
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return s != ""
}

// MarshalEntry returns the entry as the YAML an admin edits.
func MarshalEntry(e catalog.Entry) ([]byte, error) {
	b, err := yaml.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("emerging: encode entry %s: %w", e.ID, err)
	}
	return b, nil
}

// PromoteYAML parses an edited entry and promotes it (see Promote).
func PromoteYAML(ctx context.Context, dir string, data []byte, m Swapper) (*catalog.Catalog, error) {
	e, err := catalog.Parse("promoted entry", data)
	if err != nil {
		return nil, err
	}
	return Promote(ctx, dir, *e, m)
}

// Promote saves e as dir/<id>.yaml, reloads the catalog from dir (over the
// built-in one) and swaps it into the matcher, so that texts classified
// from then on are matched against the new narrative. The entry is checked
// against the catalog before anything is written, and the file is removed
// again when the reload or the swap fails.
func Promote(ctx context.Context, dir string, e catalog.Entry, m Swapper) (*catalog.Catalog, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if dir == "" {
		return nil, fmt.Errorf("emerging: promote %s: no catalog directory configured (key catalog)", e.ID)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("emerging: promote %s: %w", e.ID, err)
	}
	cur, err := catalog.LoadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("emerging: promote %s: load %s: %w", e.ID, dir, err)
	}
	if _, ok := cur.Get(e.ID); ok {
		return nil, fmt.Errorf("%w: %s", ErrExists, e.ID)
	}
	if _, err := cur.With(e); err != nil {
		return nil, fmt.Errorf("emerging: promote %s: %w", e.ID, err)
	}
	data, err := MarshalEntry(e)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, e.ID+".yaml")
	tmp, err := os.CreateTemp(dir, ".promote-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("emerging: promote %s: %w", e.ID, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("emerging: promote %s: write %s: %w", e.ID, path, errors.Join(werr, cerr))
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("emerging: promote %s: %w", e.ID, err)
	}
	cat, err := catalog.LoadDir(dir)
	if err == nil && m != nil {
		err = m.Swap(cat)
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("emerging: promote %s: reload: %w", e.ID, err)
	}
	return cat, nil
}
