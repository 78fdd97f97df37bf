package web

import (
	"context"
	"errors"
	"github.com/veille-project/veille/domain"
	"net/http"
	"strings"
)

// SourceInput is a source an admin adds: the fields of a veille.yaml
// source entry, the interval as written there ("15m", "1h", "1d"; empty:
// the default).
type SourceInput struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	Kind     string `json:"kind"`
	Lang     string `json:"lang,omitempty"`
	Mission  string `json:"mission,omitempty"`
	Interval string `json:"interval,omitempty"`
}

// SourceAdmin changes the polled sources on an admin's behalf: the ingest
// processes pick the change up within seconds.
type SourceAdmin interface {
	// Add adds a source; ErrBadSource or ErrSourceExists say why not.
	Add(ctx context.Context, in SourceInput, by string) error
	// SetPaused pauses or resumes a source; ErrNoSuchSource when unknown.
	SetPaused(ctx context.Context, name string, paused bool) error
	// Delete removes an added source; ErrSourceConfigured for one from the
	// configuration file, ErrNoSuchSource when unknown.
	Delete(ctx context.Context, name string) error
}

// Errors a SourceAdmin returns, wrapped with the detail shown to the admin.
var (
	ErrBadSource        = domain.ErrBadSource
	ErrSourceExists     = domain.ErrSourceExists
	ErrNoSuchSource     = domain.ErrNoSuchSource
	ErrSourceConfigured = domain.ErrSourceConfigured
)

// sourcesView is the admin's sources page.
type sourcesView struct {
	Sources []SourceStatus
	Admin   bool // sources can be added and paused here
	Kinds   []string
	Form    SourceInput
	Error   string
	Added   string
}

var sourceKinds = []string{"rss", "podcast", "telegram", "transcripts-dir", "exports-dir"}

func (a *app) sourcesView(ctx context.Context) (sourcesView, error) {
	list, err := a.sourceList(ctx)
	return sourcesView{Sources: list, Admin: a.opt.SourceAdmin != nil, Kinds: sourceKinds, Form: SourceInput{Kind: "rss"}}, err
}

func (a *app) sourcesPage(w http.ResponseWriter, r *http.Request, u *session) {
	v, err := a.sourcesView(r.Context())
	if err != nil {
		a.log.Error("sources failed", "err", err)
		a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
		return
	}
	v.Added = r.URL.Query().Get("added")
	a.render(w, r, u, http.StatusOK, "sources", "sources_title", v)
}

func (a *app) sourceList(ctx context.Context) ([]SourceStatus, error) {
	if a.opt.Sources == nil {
		return nil, nil
	}
	return a.opt.Sources.List(ctx)
}

// sourceStatus maps a SourceAdmin error to an HTTP status.
func sourceStatus(err error) int {
	switch {
	case errors.Is(err, ErrBadSource):
		return http.StatusBadRequest
	case errors.Is(err, ErrSourceExists), errors.Is(err, ErrSourceConfigured):
		return http.StatusConflict
	case errors.Is(err, ErrNoSuchSource):
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

func (a *app) sourcesAdd(w http.ResponseWriter, r *http.Request, u *session) {
	if a.opt.SourceAdmin == nil {
		a.pageError(w, r, u, http.StatusServiceUnavailable, "err_sources_readonly")
		return
	}
	in := SourceInput{
		Name: strings.TrimSpace(r.PostFormValue("name")), URL: strings.TrimSpace(r.PostFormValue("url")),
		Kind: r.PostFormValue("kind"), Lang: strings.TrimSpace(r.PostFormValue("lang")),
		Mission: strings.TrimSpace(r.PostFormValue("mission")), Interval: strings.TrimSpace(r.PostFormValue("interval")),
	}
	err := a.opt.SourceAdmin.Add(r.Context(), in, u.user.Name)
	if err == nil {
		a.log.Info("source added", "source", in.Name, "kind", in.Kind, "by", u.user.Name)
		http.Redirect(w, r, "/sources?added="+urlQueryEscape(in.Name), http.StatusSeeOther)
		return
	}
	status := sourceStatus(err)
	v, verr := a.sourcesView(r.Context())
	if verr != nil {
		a.log.Error("sources failed", "err", verr)
	}
	v.Form = in
	if status == http.StatusInternalServerError {
		a.log.Error("source add failed", "source", in.Name, "err", err)
		v.Error = tr(u.lang, "err_internal")
	} else {
		v.Error = err.Error()
	}
	a.render(w, r, u, status, "sources", "sources_title", v)
}

func (a *app) sourcesPause(w http.ResponseWriter, r *http.Request, u *session) {
	a.sourcesSetPaused(w, r, u, true)
}

func (a *app) sourcesResume(w http.ResponseWriter, r *http.Request, u *session) {
	a.sourcesSetPaused(w, r, u, false)
}

func (a *app) sourcesSetPaused(w http.ResponseWriter, r *http.Request, u *session, paused bool) {
	if a.opt.SourceAdmin == nil {
		a.pageError(w, r, u, http.StatusServiceUnavailable, "err_sources_readonly")
		return
	}
	name := r.PathValue("name")
	err := a.opt.SourceAdmin.SetPaused(r.Context(), name, paused)
	switch status := sourceStatus(err); {
	case err == nil:
		a.log.Info("source paused", "source", name, "paused", paused, "by", u.user.Name)
		http.Redirect(w, r, "/sources", http.StatusSeeOther)
	case status == http.StatusNotFound:
		a.pageError(w, r, u, status, "err_not_found")
	default:
		a.log.Error("source pause failed", "source", name, "err", err)
		a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
	}
}

func (a *app) apiSources(w http.ResponseWriter, r *http.Request, u *session) {
	list, err := a.sourceList(r.Context())
	if err != nil {
		a.log.Error("sources failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "listing sources failed")
		return
	}
	if list == nil {
		list = []SourceStatus{}
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"sources": list})
}

// apiSourceError answers a SourceAdmin error.
func (a *app) apiSourceError(w http.ResponseWriter, what, name string, err error) {
	status := sourceStatus(err)
	if status == http.StatusInternalServerError {
		a.log.Error("source "+what+" failed", "source", name, "err", err)
		a.jsonError(w, status, what+" failed")
		return
	}
	a.jsonError(w, status, err.Error())
}

func (a *app) apiSourceAdd(w http.ResponseWriter, r *http.Request, u *session) {
	if a.opt.SourceAdmin == nil {
		a.jsonError(w, http.StatusServiceUnavailable, "sources cannot be changed on this server")
		return
	}
	var in SourceInput
	if err := a.decode(w, r, &in); err != nil {
		a.jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := a.opt.SourceAdmin.Add(r.Context(), in, u.user.Name); err != nil {
		a.apiSourceError(w, "adding the source", in.Name, err)
		return
	}
	a.log.Info("source added", "source", in.Name, "kind", in.Kind, "by", u.user.Name)
	a.writeJSON(w, http.StatusCreated, map[string]any{"source": in})
}

func (a *app) apiSourcePause(w http.ResponseWriter, r *http.Request, u *session) {
	a.apiSourceSetPaused(w, r, u, true)
}

func (a *app) apiSourceResume(w http.ResponseWriter, r *http.Request, u *session) {
	a.apiSourceSetPaused(w, r, u, false)
}

func (a *app) apiSourceSetPaused(w http.ResponseWriter, r *http.Request, u *session, paused bool) {
	if a.opt.SourceAdmin == nil {
		a.jsonError(w, http.StatusServiceUnavailable, "sources cannot be changed on this server")
		return
	}
	name := r.PathValue("name")
	if err := a.opt.SourceAdmin.SetPaused(r.Context(), name, paused); err != nil {
		a.apiSourceError(w, "pausing the source", name, err)
		return
	}
	a.log.Info("source paused", "source", name, "paused", paused, "by", u.user.Name)
	a.writeJSON(w, http.StatusOK, map[string]any{"name": name, "paused": paused})
}

func (a *app) apiSourceDelete(w http.ResponseWriter, r *http.Request, u *session) {
	if a.opt.SourceAdmin == nil {
		a.jsonError(w, http.StatusServiceUnavailable, "sources cannot be changed on this server")
		return
	}
	name := r.PathValue("name")
	if err := a.opt.SourceAdmin.Delete(r.Context(), name); err != nil {
		a.apiSourceError(w, "deleting the source", name, err)
		return
	}
	a.log.Info("source deleted", "source", name, "by", u.user.Name)
	w.WriteHeader(http.StatusNoContent)
}
