// Package catalog owns Veille's narrative catalog: one YAML file per known
// false narrative (titles, meaning, A4P+ priorities, detection rules and
// on-air response lines per language) plus a shared lexicon of concepts the
// rules combine. The default catalog is embedded in the binary; LoadDir
// layers a directory of YAML files over it so a team can add or amend a
// narrative without rebuilding.
package catalog

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed data/*.yaml
var embedded embed.FS

// ErrInvalid marks a catalog file that does not parse or does not validate.
var ErrInvalid = errors.New("catalog: invalid")

// Languages the catalog speaks. Titles, meanings and responses fall back to
// English, then French, when a language is missing.
var Languages = []string{"en", "fr", "ar", "sw", "ln", "sg"}

// Terms lists lexicon terms per language ("*" for terms shared by all).
// A term is one or more words; a word ending in "*" matches any word that
// starts with it.
type Terms map[string][]string

// All returns every term of every language, sorted by language.
func (t Terms) All() []string {
	langs := make([]string, 0, len(t))
	for l := range t {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	var out []string
	for _, l := range langs {
		out = append(out, t[l]...)
	}
	return out
}

// Rule fires a narrative when every slot of All is present in one unit of
// text (a clause, a sentence, two adjacent sentences or transcript cues, or
// the whole document). A slot names one concept or several joined by "|".
type Rule struct {
	ID string `yaml:"id"`
	// All are the slots that must all be present.
	All []string `yaml:"all"`
	// None are concepts that veto the rule when present in the unit.
	None []string `yaml:"none,omitempty"`
	// Never are vetoes that hold even when the unit refutes or reports the
	// claim (None vetoes then yield, since a refutation may name the real
	// event a veto stands for).
	Never []string `yaml:"never,omitempty"`
	// Ordered requires the slots' words in the order given.
	Ordered bool `yaml:"ordered,omitempty"`
	// Scope is clause, sentence (default), pair or doc.
	Scope string `yaml:"scope,omitempty"`
	// Window, when above zero, bounds the distance in words between the
	// first and the last word that fired.
	Window int `yaml:"window,omitempty"`
	// Mission is where a mention of the mission must be: doc (default),
	// unit, or none (the rule itself names the actor).
	Mission string `yaml:"mission,omitempty"`
	// NegatedClaim says the claim itself is a negation (stood by, did not
	// move), so a negation near its words does not make it a denial.
	NegatedClaim bool `yaml:"negated_claim,omitempty"`
	// AgentNot vetoes the rule when one of these concepts stands right
	// before the claim's verb, i.e. someone else is the doer ("the militia
	// burned", "ADF killed").
	AgentNot []string `yaml:"agent_not,omitempty"`
	// Weight adds to the flag score (default 0).
	Weight float64 `yaml:"weight,omitempty"`
}

// Entry is one narrative.
type Entry struct {
	ID         string              `yaml:"id"`
	Priorities []int               `yaml:"priorities"`
	Title      map[string]string   `yaml:"title"`
	Meaning    map[string]string   `yaml:"meaning"`
	Responses  map[string][]string `yaml:"responses"`
	// Concepts are lexicons local to this narrative; rules may use them and
	// the shared lexicon's concepts.
	Concepts map[string]Terms `yaml:"concepts"`
	Rules    []Rule           `yaml:"rules"`
	// Examples are texts the classifier must flag with this narrative and
	// stance; the catalog test runs them, so an analyst's edit that breaks
	// one is caught.
	Examples []Example `yaml:"examples"`

	file string
}

// Example is a text that carries a narrative, in a language, with the
// stance the classifier must find.
type Example struct {
	Text   string `yaml:"text"`
	Lang   string `yaml:"lang"`
	Stance string `yaml:"stance"`
}

// File names the file the entry was read from.
func (e *Entry) File() string { return e.file }

// Lexicon is the shared concept lexicon (file lexicon.yaml).
type Lexicon struct {
	Concepts map[string]Terms `yaml:"concepts"`
}

// Catalog is an immutable set of narratives and their shared lexicon. Use
// With to derive a catalog with one more entry.
type Catalog struct {
	entries []*Entry
	byID    map[string]*Entry
	lexicon map[string]Terms
	version string
}

var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

var (
	defaultOnce sync.Once
	defaultCat  *Catalog
	defaultErr  error
)

// Default returns the embedded catalog. It panics if the embedded files are
// broken, which the package tests rule out.
func Default() *Catalog {
	defaultOnce.Do(func() {
		sub, err := fs.Sub(embedded, "data")
		if err != nil {
			defaultErr = err
			return
		}
		defaultCat, defaultErr = load(sub, nil, "embedded")
	})
	if defaultErr != nil {
		panic(defaultErr)
	}
	return defaultCat
}

// LoadDir reads every *.yaml file of dir and layers it over the default
// catalog: a narrative with a new id is added, one with a known id replaces
// the embedded entry, and lexicon.yaml concepts extend the shared lexicon
// (terms are appended to concepts of the same name).
func LoadDir(dir string) (*Catalog, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return load(os.DirFS(dir), Default(), "dir:"+filepath.Base(dir))
}

// Parse reads one narrative entry from YAML; name is used in errors.
func Parse(name string, data []byte) (*Entry, error) {
	var e Entry
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, name, err)
	}
	e.file = name
	return &e, nil
}

func load(fsys fs.FS, base *Catalog, version string) (*Catalog, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("catalog: list files: %w", err)
	}
	c := &Catalog{byID: map[string]*Entry{}, lexicon: map[string]Terms{}, version: version}
	if base != nil {
		for _, e := range base.entries {
			c.entries = append(c.entries, e)
			c.byID[e.ID] = e
		}
		for k, v := range base.lexicon {
			c.lexicon[k] = v
		}
		c.version = base.version + "+" + version
	}
	if len(names) == 0 && base == nil {
		return nil, fmt.Errorf("%w: no *.yaml file", ErrInvalid)
	}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("catalog: read %s: %w", name, err)
		}
		if name == languageFile {
			continue // language knowledge, read by DefaultLanguage
		}
		if name == "lexicon.yaml" {
			var lx Lexicon
			dec := yaml.NewDecoder(strings.NewReader(string(data)))
			dec.KnownFields(true)
			if err := dec.Decode(&lx); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, name, err)
			}
			for k, v := range lx.Concepts {
				c.lexicon[k] = mergeTerms(c.lexicon[k], v)
			}
			continue
		}
		e, err := Parse(name, data)
		if err != nil {
			return nil, err
		}
		c.put(e)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func mergeTerms(a, b Terms) Terms {
	out := Terms{}
	for l, ts := range a {
		out[l] = append([]string(nil), ts...)
	}
	for l, ts := range b {
		out[l] = append(out[l], ts...)
	}
	return out
}

func (c *Catalog) put(e *Entry) {
	if old, ok := c.byID[e.ID]; ok {
		for i, x := range c.entries {
			if x == old {
				c.entries[i] = e
			}
		}
	} else {
		c.entries = append(c.entries, e)
	}
	c.byID[e.ID] = e
}

// With returns a new catalog holding c's entries plus e (replacing an entry
// with the same id). c is left unchanged.
func (c *Catalog) With(e Entry) (*Catalog, error) {
	n := &Catalog{byID: map[string]*Entry{}, lexicon: c.lexicon, version: c.version + "+" + e.ID}
	n.entries = append(n.entries, c.entries...)
	for k, v := range c.byID {
		n.byID[k] = v
	}
	if e.file == "" {
		e.file = e.ID + " (added)"
	}
	n.put(&e)
	if err := n.Validate(); err != nil {
		return nil, err
	}
	return n, nil
}

// Validate checks every entry: id, titles, meanings, rules and the concepts
// they use. Errors name the file and the field.
func (c *Catalog) Validate() error {
	var errs []error
	bad := func(e *Entry, field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s: %s", ErrInvalid, e.file, field, fmt.Sprintf(format, args...)))
	}
	for _, e := range c.entries {
		if !idPattern.MatchString(e.ID) {
			bad(e, "id", "%q is not a lower-case dashed id", e.ID)
		}
		for _, l := range []string{"en", "fr"} {
			if strings.TrimSpace(e.Title[l]) == "" {
				bad(e, "title."+l, "missing")
			}
			if strings.TrimSpace(e.Meaning[l]) == "" {
				bad(e, "meaning."+l, "missing")
			}
			if len(e.Responses[l]) == 0 {
				bad(e, "responses."+l, "missing")
			}
		}
		if len(e.Rules) == 0 {
			bad(e, "rules", "no rule")
		}
		for i, ex := range e.Examples {
			f := fmt.Sprintf("examples[%d]", i)
			switch {
			case strings.TrimSpace(ex.Text) == "":
				bad(e, f+".text", "missing")
			case !slices.Contains([]string{"en", "fr", "ar", "sw", "ln", "sg"}, ex.Lang):
				bad(e, f+".lang", "%q: want en, fr, ar, sw, ln or sg", ex.Lang)
			case !slices.Contains([]string{"assert", "report", "debunk"}, ex.Stance):
				bad(e, f+".stance", "%q: want assert, report or debunk", ex.Stance)
			}
		}
		for name, t := range e.Concepts {
			if strings.ToLower(name) != name {
				bad(e, "concepts."+name, "local concept names are lower case (upper case is the shared lexicon)")
			}
			if len(t.All()) == 0 {
				bad(e, "concepts."+name, "no term")
			}
		}
		seen := map[string]bool{}
		for i, r := range e.Rules {
			f := fmt.Sprintf("rules[%d]", i)
			if r.ID == "" {
				bad(e, f+".id", "missing")
			} else if seen[r.ID] {
				bad(e, f+".id", "duplicate %q", r.ID)
			}
			seen[r.ID] = true
			if len(r.All) == 0 {
				bad(e, f+".all", "empty")
			}
			switch r.Scope {
			case "", "clause", "sentence", "pair", "doc":
			default:
				bad(e, f+".scope", "%q is not clause, sentence, pair or doc", r.Scope)
			}
			switch r.Mission {
			case "", "doc", "unit", "none":
			default:
				bad(e, f+".mission", "%q is not doc, unit or none", r.Mission)
			}
			for j, slot := range append(append(append(append([]string(nil), r.All...), r.None...), r.AgentNot...), r.Never...) {
				for _, name := range strings.Split(slot, "|") {
					if _, ok := c.lookupConcept(e, name); !ok {
						bad(e, fmt.Sprintf("%s.all/none[%d]", f, j), "unknown concept %q", name)
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

func (c *Catalog) lookupConcept(e *Entry, name string) (Terms, bool) {
	if t, ok := e.Concepts[name]; ok {
		return t, true
	}
	t, ok := c.lexicon[name]
	return t, ok
}

// Entries returns the narratives in catalog order.
func (c *Catalog) Entries() []*Entry { return c.entries }

// IDs returns the narrative ids in catalog order.
func (c *Catalog) IDs() []string {
	out := make([]string, len(c.entries))
	for i, e := range c.entries {
		out[i] = e.ID
	}
	return out
}

// Get returns the entry with that id.
func (c *Catalog) Get(id string) (*Entry, bool) {
	e, ok := c.byID[id]
	return e, ok
}

// Lexicon returns the shared concepts.
func (c *Catalog) Lexicon() map[string]Terms { return c.lexicon }

// Concept resolves a concept name as a rule of e sees it.
func (c *Catalog) Concept(e *Entry, name string) (Terms, bool) { return c.lookupConcept(e, name) }

// Version names the catalog and its layers.
func (c *Catalog) Version() string { return c.version }

func pick[T any](m map[string]T, lang string, empty func(T) bool) (T, bool) {
	for _, l := range []string{lang, "en", "fr"} {
		if v, ok := m[l]; ok && !empty(v) {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// Title returns the narrative's title in lang, falling back to en then fr.
func (c *Catalog) Title(id, lang string) string {
	e, ok := c.byID[id]
	if !ok {
		return id
	}
	v, _ := pick(e.Title, lang, func(s string) bool { return strings.TrimSpace(s) == "" })
	return v
}

// Meaning returns what the narrative claims, in lang with fallback.
func (c *Catalog) Meaning(id, lang string) string {
	e, ok := c.byID[id]
	if !ok {
		return ""
	}
	v, _ := pick(e.Meaning, lang, func(s string) bool { return strings.TrimSpace(s) == "" })
	return strings.TrimSpace(v)
}

// Responses returns the facts and talking points to read on air against
// the narrative, in lang with fallback to en then fr.
func (c *Catalog) Responses(id, lang string) []string {
	e, ok := c.byID[id]
	if !ok {
		return nil
	}
	v, _ := pick(e.Responses, lang, func(s []string) bool { return len(s) == 0 })
	return v
}

// Priorities returns the A4P+ priorities a match feeds.
func (c *Catalog) Priorities(id string) []int {
	if e, ok := c.byID[id]; ok {
		return e.Priorities
	}
	return nil
}
