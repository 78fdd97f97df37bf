package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/veille-project/veille/classifiers/gate"
	"github.com/veille-project/veille/storage"
)

// ModelEntry is one version of the learned model, as the models page
// lists it.
type ModelEntry struct {
	Version string       `json:"version"`
	Active  bool         `json:"active"`
	BuiltIn bool         `json:"built_in"`
	Stored  time.Time    `json:"stored,omitzero"`
	Items   int          `json:"items"`
	Report  *gate.Report `json:"report,omitempty"`
	// Blind are the version's own figures on the blind split (for the
	// active model; a candidate's are in its report).
	Blind *gate.Figures `json:"blind,omitempty"`
	// Changes are the promotions and rollbacks that made it active,
	// newest first.
	Changes []ModelChange `json:"changes,omitempty"`
}

// ModelChange is one promotion or rollback.
type ModelChange struct {
	Action string    `json:"action"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// ModelAdmin lists the model versions, promotes a candidate the gate
// passed and rolls back; every classify worker follows within seconds.
type ModelAdmin interface {
	List(ctx context.Context) ([]ModelEntry, error)
	// Promote fails with ErrGateRefused for a candidate the gate refused.
	Promote(ctx context.Context, version, by string) error
	// Rollback returns the version active again; ErrNoPrevious when there
	// is none.
	Rollback(ctx context.Context, by string) (string, error)
	// Train starts training a candidate from the reviews in the
	// background; ErrTraining while one is being trained.
	Train(ctx context.Context, by string) error
	// Training says whether a candidate is being trained and how the last
	// training ended.
	Training() TrainingStatus
}

// TrainingStatus is the state of training from the web app.
type TrainingStatus struct {
	Running  bool      `json:"running"`
	By       string    `json:"by,omitempty"`
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	// Candidate is the version the last training produced; Error why it
	// failed.
	Candidate string `json:"candidate,omitempty"`
	Passed    bool   `json:"passed"`
	Error     string `json:"error,omitempty"`
}

// Errors a ModelAdmin returns, wrapped with the detail shown to the admin.
var (
	ErrGateRefused = errors.New("the gate refused this candidate")
	ErrNoPrevious  = errors.New("no earlier model to roll back to")
	ErrNoSuchModel = errors.New("no such model version")
	ErrTraining    = errors.New("a candidate is being trained already")
)

// precisionWeeks is how far back the models page reads production
// precision.
const precisionWeeks = 12

// PrecisionSummary is production precision for one narrative and
// language over a span, with its weeks.
type PrecisionSummary struct {
	Narrative   string                 `json:"narrative"`
	Lang        string                 `json:"lang"`
	Reviewed    int                    `json:"reviewed"`
	Confirmed   int                    `json:"confirmed"`
	Precision   float64                `json:"precision"`
	Items       int                    `json:"items"`
	MissedItems int                    `json:"missed_items"`
	MissedShare float64                `json:"missed_share"`
	Weeks       []storage.PrecisionRow `json:"weeks"`
}

func summarise(rows []storage.PrecisionRow) []PrecisionSummary {
	idx := map[[2]string]int{}
	var out []PrecisionSummary
	for _, r := range rows {
		k := [2]string{r.Narrative, r.Lang}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, PrecisionSummary{Narrative: r.Narrative, Lang: r.Lang})
		}
		s := &out[i]
		s.Reviewed += r.Reviewed
		s.Confirmed += r.Confirmed
		s.Items += r.Items
		s.MissedItems += r.MissedItems
		s.Weeks = append(s.Weeks, r)
	}
	for i := range out {
		s := &out[i]
		if s.Reviewed > 0 {
			s.Precision = float64(s.Confirmed) / float64(s.Reviewed)
		}
		if s.Items > 0 {
			s.MissedShare = float64(s.MissedItems) / float64(s.Items)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Reviewed != out[j].Reviewed {
			return out[i].Reviewed > out[j].Reviewed
		}
		return out[i].Narrative+out[i].Lang < out[j].Narrative+out[j].Lang
	})
	return out
}

// modelsView is the admin's models page.
type modelsView struct {
	Training  TrainingStatus
	Models    []ModelEntry
	Active    *ModelEntry
	Precision []PrecisionSummary
	Since     time.Time
	Error     string
	Done      string
}

func (a *app) modelsView(ctx context.Context) (modelsView, error) {
	v := modelsView{Since: a.now().UTC().AddDate(0, 0, -7*precisionWeeks)}
	rows, err := a.store.Precision(ctx, v.Since, time.Time{})
	if err != nil {
		return v, err
	}
	v.Precision = summarise(rows)
	if a.opt.Models == nil {
		return v, nil
	}
	v.Training = a.opt.Models.Training()
	if v.Models, err = a.opt.Models.List(ctx); err != nil {
		return v, err
	}
	for i := range v.Models {
		if v.Models[i].Active {
			v.Active = &v.Models[i]
		}
	}
	return v, nil
}

func (a *app) modelsPage(w http.ResponseWriter, r *http.Request, u *session) {
	v, err := a.modelsView(r.Context())
	if err != nil {
		a.log.Error("models page failed", "err", err)
		a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
		return
	}
	v.Done = r.URL.Query().Get("done")
	v.Error = r.URL.Query().Get("error")
	a.render(w, r, u, http.StatusOK, "models", "models_title", v)
}

// modelStatus maps a ModelAdmin error to an HTTP status.
func modelStatus(err error) int {
	switch {
	case errors.Is(err, ErrGateRefused), errors.Is(err, ErrNoPrevious), errors.Is(err, ErrTraining):
		return http.StatusConflict
	case errors.Is(err, ErrNoSuchModel):
		return http.StatusNotFound
	case err != nil:
		return http.StatusInternalServerError
	}
	return http.StatusOK
}

func (a *app) promoteDo(r *http.Request, u *session) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		v := r.PathValue("version")
		return v, a.opt.Models.Promote(ctx, v, u.user.Name)
	}
}

func (a *app) rollbackDo(u *session) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) { return a.opt.Models.Rollback(ctx, u.user.Name) }
}

func (a *app) modelsPromote(w http.ResponseWriter, r *http.Request, u *session) {
	a.modelChange(w, r, u, a.promoteDo(r, u), "promote", false)
}

func (a *app) modelsRollback(w http.ResponseWriter, r *http.Request, u *session) {
	a.modelChange(w, r, u, a.rollbackDo(u), "rollback", false)
}

func (a *app) trainDo(u *session) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) { return "", a.opt.Models.Train(ctx, u.user.Name) }
}

func (a *app) modelsTrain(w http.ResponseWriter, r *http.Request, u *session) {
	a.modelChange(w, r, u, a.trainDo(u), "train", false)
}

func (a *app) apiModelTrain(w http.ResponseWriter, r *http.Request, u *session) {
	a.modelChange(w, r, u, a.trainDo(u), "train", true)
}

func (a *app) apiModelPromote(w http.ResponseWriter, r *http.Request, u *session) {
	a.modelChange(w, r, u, a.promoteDo(r, u), "promote", true)
}

func (a *app) apiModelRollback(w http.ResponseWriter, r *http.Request, u *session) {
	a.modelChange(w, r, u, a.rollbackDo(u), "rollback", true)
}

// modelChange runs a promotion or rollback for the page (redirect with
// the outcome) or the API (JSON), and writes the audit line.
func (a *app) modelChange(w http.ResponseWriter, r *http.Request, u *session, do func(context.Context) (string, error), action string, api bool) {
	if a.opt.Models == nil {
		if api {
			a.jsonError(w, http.StatusServiceUnavailable, "models are not configured")
		} else {
			a.pageError(w, r, u, http.StatusServiceUnavailable, "err_internal")
		}
		return
	}
	version, err := do(r.Context())
	status := modelStatus(err)
	switch {
	case err == nil:
		a.log.Info("model "+action, "model", version, "by", u.user.Name)
	case status == http.StatusInternalServerError:
		a.log.Error("model "+action+" failed", "model", version, "by", u.user.Name, "err", err)
	default:
		a.log.Warn("model "+action+" refused", "model", version, "by", u.user.Name, "err", err)
	}
	if api {
		if err != nil {
			msg := err.Error()
			if status == http.StatusInternalServerError {
				msg = "the model change failed"
			}
			a.jsonError(w, status, msg)
			return
		}
		if action == "train" {
			a.writeJSON(w, http.StatusAccepted, map[string]string{"action": action})
			return
		}
		a.writeJSON(w, http.StatusOK, map[string]string{"active": version, "action": action})
		return
	}
	q := "done=" + url.QueryEscape(action+": "+version)
	if action == "train" {
		q = "done=" + url.QueryEscape("training started")
	}
	if err != nil {
		q = "error=" + url.QueryEscape(err.Error())
		if status == http.StatusInternalServerError {
			q = "error=" + url.QueryEscape("the model change failed")
		}
	}
	http.Redirect(w, r, "/models?"+q, http.StatusSeeOther)
}

func (a *app) apiModels(w http.ResponseWriter, r *http.Request, u *session) {
	if a.opt.Models == nil {
		a.writeJSON(w, http.StatusOK, map[string]any{"models": []ModelEntry{}})
		return
	}
	list, err := a.opt.Models.List(r.Context())
	if err != nil {
		a.log.Error("models failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "listing models failed")
		return
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"models": list, "training": a.opt.Models.Training()})
}

// apiPrecision: GET /api/v1/precision?weeks=N (default 12).
func (a *app) apiPrecision(w http.ResponseWriter, r *http.Request, u *session) {
	weeks := precisionWeeks
	if s := r.URL.Query().Get("weeks"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 520 {
			a.jsonError(w, http.StatusBadRequest, "weeks: a whole number from 1 to 520")
			return
		}
		weeks = n
	}
	since := a.now().UTC().AddDate(0, 0, -7*weeks)
	rows, err := a.store.Precision(r.Context(), since, time.Time{})
	if err != nil {
		a.log.Error("precision failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "production precision failed")
		return
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"since": since, "precision": summarise(rows)})
}
