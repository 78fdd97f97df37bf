package catalog

import (
	"fmt"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Language is the language knowledge the matcher reads grammar from, and
// the missions Veille knows (file language.yaml of the catalog data).
type Language struct {
	Stopwords         map[string][]string `yaml:"stopwords"`
	NegationAfterVerb []string            `yaml:"negation_after_verb"`
	PostNegations     []string            `yaml:"post_negations"`
	Clitics           []string            `yaml:"clitics"`
	Determiners       []string            `yaml:"determiners"`
	AnswerWords       []string            `yaml:"answer_words"`
	VerdictWords      []string            `yaml:"verdict_words"`
	CallerRoles       []string            `yaml:"caller_roles"`
	Conjunctions      []string            `yaml:"conjunctions"`
	ByWords           []string            `yaml:"by_words"`
	JointArticles     []string            `yaml:"joint_articles"`
	OfWords           []string            `yaml:"of_words"`
	SMSAliases        map[string]string   `yaml:"sms_aliases"`
	GluedPrefixes     []string            `yaml:"glued_prefixes"`
	Missions          []Mission           `yaml:"missions"`
}

// Mission is a mission by its acronym, with the names people write for it.
type Mission struct {
	Acronym string   `yaml:"acronym"`
	Names   []string `yaml:"names"`
}

// languageFile is the catalog data file holding the language knowledge; it
// is not a narrative entry.
const languageFile = "language.yaml"

var (
	languageOnce sync.Once
	languageData Language
	languageErr  error
)

// DefaultLanguage returns the embedded language knowledge. It panics if
// the embedded file is broken, which the package tests rule out.
func DefaultLanguage() Language {
	languageOnce.Do(func() {
		b, err := embedded.ReadFile("data/" + languageFile)
		if err == nil {
			languageData, err = ParseLanguage(b)
		}
		languageErr = err
	})
	if languageErr != nil {
		panic(languageErr)
	}
	return languageData
}

// ParseLanguage reads a language file; every list must be there.
func ParseLanguage(b []byte) (Language, error) {
	var l Language
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&l); err != nil {
		return l, fmt.Errorf("%w: %s: %v", ErrInvalid, languageFile, err)
	}
	for name, empty := range map[string]bool{
		"stopwords": len(l.Stopwords) == 0, "post_negations": len(l.PostNegations) == 0, "clitics": len(l.Clitics) == 0,
		"answer_words": len(l.AnswerWords) == 0, "verdict_words": len(l.VerdictWords) == 0, "caller_roles": len(l.CallerRoles) == 0,
		"conjunctions": len(l.Conjunctions) == 0, "by_words": len(l.ByWords) == 0, "missions": len(l.Missions) == 0,
	} {
		if empty {
			return l, fmt.Errorf("%w: %s: %s: empty", ErrInvalid, languageFile, name)
		}
	}
	for i, m := range l.Missions {
		if m.Acronym == "" || len(m.Names) == 0 {
			return l, fmt.Errorf("%w: %s: missions[%d]: an acronym and names", ErrInvalid, languageFile, i)
		}
	}
	return l, nil
}

// Set turns a word list into a set.
func Set(words []string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
