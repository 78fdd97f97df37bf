package learn

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// oofPoint is one (text, narrative) pair predicted by a model that did not
// see the text.
type oofPoint struct {
	z       float64
	rule    bool
	mission bool
	y       bool
	lang    string
}

// stancePoint is one gold label predicted out of fold.
type stancePoint struct {
	gold, model, rules string // rules: "" when the rules did not flag it
}

// CV holds the out-of-fold figures of a training run.
type CV struct {
	Folds       int                `json:"folds"`
	Threshold   float64            `json:"threshold"`
	Calibration Calibration        `json:"calibration"`
	Layers      map[string]Figures `json:"layers"` // rules, model, rules+model at the threshold
	Sweep       []SweepRow         `json:"sweep"`
	Reliability []ReliabilityRow   `json:"reliability"`
	points      []oofPoint
}

// Figures are micro precision, recall and F1 over (text, narrative) pairs,
// stance accuracy on the pairs found, and the share of unlabelled texts
// with a flag.
type Figures struct {
	P, R, F1, Stance, FPNeg float64
}

// SweepRow is precision and recall at one threshold.
type SweepRow struct {
	Threshold, P, R, F1, FPNeg float64
}

// ReliabilityRow compares predicted and observed probability in one bin.
type ReliabilityRow struct {
	Lo, Hi    float64
	N         int
	Predicted float64
	Observed  float64
}

// Train fits the shipped kind of model: out-of-fold predictions calibrate
// the scores and choose the threshold, then one model is trained on all
// examples. The same examples and config give the same bytes.
func (t *Trainer) Train(ctx context.Context, exs []Example) (*Model, *CV, error) {
	if len(exs) == 0 {
		return nil, nil, fmt.Errorf("learn: no training items")
	}
	ps, err := t.Prepare(ctx, exs)
	if err != nil {
		return nil, nil, err
	}
	all := make([]*prepared, len(ps))
	for i := range ps {
		all[i] = &ps[i]
	}
	cv := &CV{Folds: t.Config.Folds, Layers: map[string]Figures{}, Calibration: Calibration{A: 1}, Threshold: 0.5}
	var stances []stancePoint
	if t.Config.Folds > 1 {
		for f := 0; f < t.Config.Folds; f++ {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			var tr, te []*prepared
			for _, p := range all {
				if p.fold == f {
					te = append(te, p)
				} else {
					tr = append(tr, p)
				}
			}
			m, err := t.build(tr, Calibration{A: 1}, 0.5, len(tr), "")
			if err != nil {
				return nil, nil, err
			}
			for _, p := range te {
				sc := m.score(p.an, p.rules)
				for j, n := range t.Narratives {
					rs := ""
					for _, f := range p.rules.Flags {
						if f.Narrative == n {
							rs = f.Stance
						}
					}
					cv.points = append(cv.points, oofPoint{z: sc.z[j], rule: rs != "", mission: sc.mission, y: p.y[j] == 1, lang: p.ex.Lang})
					for _, l := range p.ex.Labels {
						if l.Narrative == n {
							stances = append(stances, stancePoint{gold: l.Stance, model: m.stance(&sc, n, rs), rules: rs})
						}
					}
				}
			}
		}
		cv.Calibration = fitCalibration(cv.points)
		cv.finish(stances, len(t.Narratives))
	}
	m, err := t.build(all, cv.Calibration, cv.Threshold, len(exs), Digest(exs))
	if err != nil {
		return nil, nil, err
	}
	return m, cv, nil
}

// fitCalibration fits p = σ(A·z + B·rule + D·mission + C) by Newton's
// method with a backtracking line search and a little ridge, so separable
// data cannot send it to infinity.
func fitCalibration(pts []oofPoint) Calibration {
	const ridge = 1e-2
	const n = 4
	xs := func(pt oofPoint) [n]float64 {
		x := [n]float64{pt.z, 0, 0, 1}
		if pt.rule {
			x[1] = 1
		}
		if pt.mission {
			x[2] = 1
		}
		return x
	}
	dot := func(th, x [n]float64) float64 { return th[0]*x[0] + th[1]*x[1] + th[2]*x[2] + th[3]*x[3] }
	loss := func(th [n]float64) float64 {
		l := 0.0
		for _, pt := range pts {
			u := dot(th, xs(pt))
			if pt.y {
				u = -u
			}
			l += softplus(u)
		}
		for _, t := range th {
			l += ridge / 2 * t * t
		}
		return l
	}
	th := [n]float64{1, 0, 0, 0}
	cur := loss(th)
	for it := 0; it < 100; it++ {
		var g [n]float64
		var h [n][n]float64
		for _, pt := range pts {
			x := xs(pt)
			p := sigmoid(dot(th, x))
			y := 0.0
			if pt.y {
				y = 1
			}
			for a := range n {
				g[a] += (p - y) * x[a]
				for b := range n {
					h[a][b] += p * (1 - p) * x[a] * x[b]
				}
			}
		}
		for a := range n {
			g[a] += ridge * th[a]
			h[a][a] += ridge
		}
		d, ok := solve(h, g)
		if !ok {
			break
		}
		step, improved := 1.0, false
		for range 30 {
			var next [n]float64
			for a := range n {
				next[a] = th[a] - step*d[a]
			}
			if l := loss(next); l < cur {
				th, cur, improved = next, l, true
				break
			}
			step /= 2
		}
		size := 0.0
		for a := range n {
			size += math.Abs(d[a])
		}
		if !improved || step*size < 1e-9 {
			break
		}
	}
	return Calibration{A: th[0], B: th[1], D: th[2], C: th[3]}
}

// solve solves a·x = b by Gaussian elimination with partial pivoting.
func solve(a [4][4]float64, b [4]float64) ([4]float64, bool) {
	const n = 4
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		if math.Abs(a[p][c]) < 1e-12 {
			return b, false
		}
		a[c], a[p] = a[p], a[c]
		b[c], b[p] = b[p], b[c]
		for r := range n {
			if r == c {
				continue
			}
			f := a[r][c] / a[c][c]
			for k := c; k < n; k++ {
				a[r][k] -= f * a[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	var x [n]float64
	for i := range n {
		x[i] = b[i] / a[i][i]
	}
	return x, true
}

func softplus(u float64) float64 {
	if u > 30 {
		return u
	}
	return math.Log1p(math.Exp(u))
}

// F1Slack is how much out-of-fold F1 the default threshold may give up
// for fewer false alarms.
const F1Slack = 0.015

// finish computes the layer figures, the threshold sweep and the
// reliability table from the out-of-fold points.
func (cv *CV) finish(stances []stancePoint, nn int) {
	cal := cv.Calibration
	figures := func(pred func(oofPoint) bool) Figures {
		var tp, fp, fn, negTexts, negFlagged int
		for i := 0; i+nn <= len(cv.points); i += nn {
			anyGold, anyPred := false, false
			for _, pt := range cv.points[i : i+nn] {
				pr := pred(pt)
				anyGold = anyGold || pt.y
				anyPred = anyPred || pr
				switch {
				case pr && pt.y:
					tp++
				case pr:
					fp++
				case pt.y:
					fn++
				}
			}
			if !anyGold {
				negTexts++
				if anyPred {
					negFlagged++
				}
			}
		}
		f := Figures{P: ratio(tp, tp+fp), R: ratio(tp, tp+fn), FPNeg: ratio(negFlagged, negTexts)}
		if f.P+f.R > 0 {
			f.F1 = 2 * f.P * f.R / (f.P + f.R)
		}
		return f
	}
	best := -1.0
	for t := 0.20; t <= 0.901; t += 0.05 {
		t := math.Round(t*100) / 100
		f := figures(func(pt oofPoint) bool { return cal.P(pt.z, pt.rule, pt.mission) >= t })
		cv.Sweep = append(cv.Sweep, SweepRow{Threshold: t, P: f.P, R: f.R, F1: f.F1, FPNeg: f.FPNeg})
		best = max(best, f.F1)
	}
	// F1 is flat over a wide band of thresholds while false alarms on
	// clean texts keep falling: take the highest threshold whose F1 is
	// within F1Slack of the best.
	for _, r := range cv.Sweep {
		if r.F1 >= best-F1Slack {
			cv.Threshold = r.Threshold
		}
	}
	t := cv.Threshold
	model := fitCalibration(withoutRules(cv.points))
	var sm, sr, sn int
	for _, s := range stances {
		if s.model == s.gold {
			sm++
		}
		if s.rules != "" {
			sn++
			if s.rules == s.gold {
				sr++
			}
		}
	}
	rules := figures(func(pt oofPoint) bool { return pt.rule })
	rules.Stance = ratio(sr, sn)
	cv.Layers["rules"] = rules
	mo := figures(func(pt oofPoint) bool { return model.P(pt.z, false, pt.mission) >= t })
	mo.Stance = ratio(sm, len(stances))
	cv.Layers["model"] = mo
	both := figures(func(pt oofPoint) bool { return cal.P(pt.z, pt.rule, pt.mission) >= t })
	both.Stance = ratio(sm, len(stances))
	cv.Layers["rules+model"] = both
	or := figures(func(pt oofPoint) bool { return pt.rule || cal.P(pt.z, pt.rule, pt.mission) >= t })
	or.Stance = both.Stance
	cv.Layers["rules|model"] = or
	cv.Reliability = Reliability(func(yield func(p float64, ok bool)) {
		for _, pt := range cv.points {
			yield(cal.P(pt.z, pt.rule, pt.mission), pt.y)
		}
	})
}

func withoutRules(pts []oofPoint) []oofPoint {
	out := slices.Clone(pts)
	for i := range out {
		out[i].rule = false
	}
	return out
}

// Reliability bins predictions by probability and compares the mean
// predicted probability with the share observed right, in bins of 0.1
// (bins with nothing predicted are left out).
func Reliability(each func(yield func(p float64, ok bool))) []ReliabilityRow {
	var rows [10]ReliabilityRow
	var sum [10]float64
	var hits [10]int
	each(func(p float64, ok bool) {
		b := min(int(p*10), 9)
		rows[b].N++
		sum[b] += p
		if ok {
			hits[b]++
		}
	})
	var out []ReliabilityRow
	for b := range rows {
		if rows[b].N == 0 {
			continue
		}
		r := rows[b]
		r.Lo, r.Hi = float64(b)/10, float64(b+1)/10
		r.Predicted = sum[b] / float64(r.N)
		r.Observed = float64(hits[b]) / float64(r.N)
		out = append(out, r)
	}
	return out
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
