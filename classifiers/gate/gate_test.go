package gate

import (
	"strings"
	"testing"
)

func TestJudge(t *testing.T) {
	set := func(name string, a, c float64, narr ...Delta) SetReport {
		return SetReport{Name: name, Active: Figures{F1: a}, Candidate: Figures{F1: c}, Narratives: narr}
	}
	tests := []struct {
		name   string
		sets   []SetReport
		passed bool
		says   string
	}{
		{"better on one, same on the other", []SetReport{set("blind", 0.90, 0.90), set("held", 0.70, 0.75)}, true, ""},
		{"within tolerance on one, better on the other", []SetReport{set("blind", 0.90, 0.895), set("held", 0.70, 0.75)}, true, ""},
		{"worse beyond tolerance", []SetReport{set("blind", 0.90, 0.85), set("held", 0.70, 0.80)}, false, "blind: micro-F1 0.900 → 0.850"},
		{"better nowhere", []SetReport{set("blind", 0.90, 0.90), set("held", 0.70, 0.70)}, false, "better on no set"},
		{"one narrative collapses", []SetReport{set("blind", 0.90, 0.91, Delta{Key: "x", Support: 18, Active: 0.8, Candidate: 0.5})}, false, "narrative x F1 0.800 → 0.500"},
		{"a small narrative may move", []SetReport{set("blind", 0.90, 0.91, Delta{Key: "y", Support: 5, Active: 0.8, Candidate: 0.2})}, true, ""},
		{"nothing to measure on", nil, false, "no labelled set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{Tolerance: DefaultTolerance, Sets: tc.sets}
			r.judge()
			if r.Passed != tc.passed || !strings.Contains(strings.Join(r.Reasons, "\n"), tc.says) {
				t.Errorf("passed %v, reasons %q; want passed %v saying %q", r.Passed, r.Reasons, tc.passed, tc.says)
			}
		})
	}
}
