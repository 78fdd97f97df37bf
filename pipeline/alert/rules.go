package alert

import (
	"fmt"
	"math"
	"time"

	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/storage"
)

// Rule defaults.
const (
	DefaultWindow       = time.Hour
	DefaultBaseline     = 7 * 24 * time.Hour // or seven windows when longer
	DefaultCooldown     = 6 * time.Hour
	DefaultFactor       = 3.0
	DefaultMinCount     = 3
	DefaultUpdateMargin = 1.0
	DefaultMaxUpdates   = 1
	// Precision rules.
	DefaultPrecisionWindow = 7 * 24 * time.Hour
	DefaultMinPrecision    = 0.6
	DefaultMinReviewed     = 10
)

// Rule kinds.
const (
	RuleSurge     = "surge"
	RulePrecision = "precision"
)

// rule is a config rule with its defaults applied.
type rule struct {
	config.AlertRule
	window, baseline, cooldown time.Duration
	minCount                   int
	margin                     float64
	maxUpdates                 int
}

// compileRules applies defaults and checks each rule.
func compileRules(in []config.AlertRule) ([]rule, error) {
	seen := map[string]bool{}
	out := make([]rule, 0, len(in))
	for i, r := range in {
		if r.Name == "" {
			return nil, fmt.Errorf("%w: alerts.rules[%d]: no name", ErrRule, i)
		}
		if seen[r.Name] {
			return nil, fmt.Errorf("%w: alerts.rules[%d]: duplicate name %q", ErrRule, i, r.Name)
		}
		seen[r.Name] = true
		c := rule{AlertRule: r,
			window: time.Duration(r.Window), baseline: time.Duration(r.Baseline), cooldown: time.Duration(r.Cooldown),
			minCount: r.MinCount, margin: r.UpdateMargin, maxUpdates: r.MaxUpdates}
		switch c.Kind {
		case "", RuleSurge:
			c.Kind = RuleSurge
		case RulePrecision:
			if c.MinPrecision < 0 || c.MinPrecision > 1 || c.MinReviewed < 0 {
				return nil, fmt.Errorf("%w: rule %q: min_precision must be within 0 and 1, min_reviewed not negative", ErrRule, r.Name)
			}
			if c.MinPrecision == 0 {
				c.MinPrecision = DefaultMinPrecision
			}
			if c.MinReviewed == 0 {
				c.MinReviewed = DefaultMinReviewed
			}
			if c.window <= 0 {
				c.window = DefaultPrecisionWindow
			}
		default:
			return nil, fmt.Errorf("%w: rule %q: kind %q: want surge or precision", ErrRule, r.Name, c.Kind)
		}
		if c.window <= 0 {
			c.window = DefaultWindow
		}
		if c.baseline <= 0 {
			// At least seven windows, so that a long window has a baseline.
			c.baseline = max(DefaultBaseline, 7*c.window)
		}
		if c.cooldown <= 0 {
			c.cooldown = DefaultCooldown
		}
		if c.Threshold < 0 || c.Factor < 0 || c.minCount < 0 || c.margin < 0 || c.maxUpdates < 0 {
			return nil, fmt.Errorf("%w: rule %q: negative threshold, factor, min_count, update_margin or max_updates", ErrRule, r.Name)
		}
		if c.Threshold == 0 && c.Factor == 0 {
			c.Factor = DefaultFactor
		}
		if c.minCount == 0 {
			c.minCount = DefaultMinCount
		}
		if c.margin == 0 {
			c.margin = DefaultUpdateMargin
		}
		if r.MaxUpdates == 0 {
			c.maxUpdates = DefaultMaxUpdates
		}
		switch c.Lang {
		case "":
			c.Lang = "en"
		case "en", "fr":
		default:
			return nil, fmt.Errorf("%w: rule %q: lang %q: want en or fr", ErrRule, r.Name, c.Lang)
		}
		out = append(out, c)
	}
	return out, nil
}

func (r *rule) filter() storage.Filter {
	return storage.Filter{Narratives: r.Narratives, Missions: r.Missions, Langs: r.Langs, Sources: r.Sources, Stances: r.Stances}
}

// fires reports whether a narrative's counts meet the rule: the count over
// the threshold when one is set, the rise over the baseline when a factor
// is set (and then at least min_count flags, so one flag against none is
// no surge), both when both are set.
func (r *rule) fires(row storage.RisingRow) bool {
	if r.Threshold > 0 && row.Recent < int64(r.Threshold) {
		return false
	}
	if r.Factor > 0 && (row.Factor < r.Factor || row.Recent < int64(r.minCount)) {
		return false
	}
	return row.Recent > 0
}

// grew reports whether recent is enough above the last count to update.
func (r *rule) grew(recent, last int64) bool {
	return float64(recent) >= math.Ceil(float64(last)*(1+r.margin)) && recent > last
}
