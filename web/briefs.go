package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/veille-project/veille/storage"
)

// BriefRequest is a brief an analyst or admin asks for.
type BriefRequest struct {
	From, To time.Time
	Mission  string
	Lang     string // en | fr
	Audience string // internal | partner
	By       string
}

// Briefs makes briefs; kept ones are read from the store.
type Briefs interface {
	// Make computes, renders and keeps a brief, and returns its id;
	// ErrBadBrief says what was wrong with the request.
	Make(ctx context.Context, req BriefRequest) (string, error)
	// PDF prints a kept brief's HTML; ErrNoPDF when Chromium is missing.
	PDF(ctx context.Context, html []byte) ([]byte, error)
}

// Errors a Briefs returns.
var (
	ErrBadBrief = errors.New("bad brief request")
	ErrNoPDF    = errors.New("PDF needs Chromium on the server; print the HTML brief from the browser instead")
)

var rolesBriefs = []string{storage.RoleAnalyst}

type briefsView struct {
	Briefs  []storage.BriefRecord
	Enabled bool
	Error   string
	Days    int
	Lang    string
}

func (a *app) briefsPage(w http.ResponseWriter, r *http.Request, u *session) {
	list, err := a.store.Briefs(r.Context(), 100)
	if err != nil {
		a.log.Error("briefs failed", "err", err)
		a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
		return
	}
	a.render(w, r, u, http.StatusOK, "briefs", "briefs_title", briefsView{Briefs: list, Enabled: a.opt.Briefs != nil,
		Error: r.URL.Query().Get("error"), Days: 7, Lang: u.lang})
}

// briefForm reads a brief request from a form or JSON body fields.
func briefRequestOf(days, mission, lang, audience string, now time.Time, by string) (BriefRequest, error) {
	n, err := strconv.Atoi(strings.TrimSpace(days))
	if err != nil || n < 1 || n > 366 {
		return BriefRequest{}, errors.New("days: a whole number from 1 to 366")
	}
	if lang != "en" && lang != "fr" {
		return BriefRequest{}, errors.New("lang: en or fr")
	}
	if audience != "internal" && audience != "partner" {
		return BriefRequest{}, errors.New("audience: internal or partner")
	}
	if len(mission) > 32 {
		return BriefRequest{}, errors.New("mission: at most 32 characters")
	}
	to := now.UTC().Truncate(time.Hour).Add(time.Hour)
	return BriefRequest{From: to.AddDate(0, 0, -n), To: to, Mission: strings.TrimSpace(mission), Lang: lang, Audience: audience, By: by}, nil
}

func (a *app) briefsMake(w http.ResponseWriter, r *http.Request, u *session) {
	if a.opt.Briefs == nil {
		a.pageError(w, r, u, http.StatusServiceUnavailable, "err_internal")
		return
	}
	req, err := briefRequestOf(r.PostFormValue("days"), r.PostFormValue("mission"), r.PostFormValue("lang"), r.PostFormValue("audience"), a.now(), u.user.Name)
	if err != nil {
		http.Redirect(w, r, "/briefs?error="+url.QueryEscape(err.Error()), http.StatusSeeOther)
		return
	}
	id, err := a.opt.Briefs.Make(r.Context(), req)
	if err != nil {
		if errors.Is(err, ErrBadBrief) {
			http.Redirect(w, r, "/briefs?error="+url.QueryEscape(err.Error()), http.StatusSeeOther)
			return
		}
		a.log.Error("brief failed", "err", err)
		a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
		return
	}
	a.log.Info("brief made", "brief", id, "by", u.user.Name, "audience", req.Audience)
	http.Redirect(w, r, "/briefs/"+url.PathEscape(id), http.StatusSeeOther)
}

// briefShow serves a kept brief as it was made: a self-contained page
// that runs no script.
func (a *app) briefShow(w http.ResponseWriter, r *http.Request, u *session) {
	b, err := a.store.Brief(r.Context(), r.PathValue("id"))
	if errors.Is(err, storage.ErrNotFound) {
		a.pageError(w, r, u, http.StatusNotFound, "err_not_found")
		return
	}
	if err != nil {
		a.log.Error("brief failed", "err", err)
		a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
		return
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(b.HTML))
}

func (a *app) briefPDF(w http.ResponseWriter, r *http.Request, u *session) {
	b, err := a.store.Brief(r.Context(), r.PathValue("id"))
	if errors.Is(err, storage.ErrNotFound) {
		a.pageError(w, r, u, http.StatusNotFound, "err_not_found")
		return
	}
	if err != nil || a.opt.Briefs == nil {
		a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
		return
	}
	pdf, err := a.opt.Briefs.PDF(r.Context(), []byte(b.HTML))
	if errors.Is(err, ErrNoPDF) {
		http.Error(w, ErrNoPDF.Error(), http.StatusServiceUnavailable)
		return
	}
	if err != nil {
		a.log.Error("brief pdf failed", "brief", b.ID, "err", err)
		a.pageError(w, r, u, http.StatusInternalServerError, "err_internal")
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="`+b.ID+`.pdf"`)
	_, _ = w.Write(pdf)
}

func (a *app) apiBriefs(w http.ResponseWriter, r *http.Request, u *session) {
	list, err := a.store.Briefs(r.Context(), 100)
	if err != nil {
		a.log.Error("briefs failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "listing briefs failed")
		return
	}
	if list == nil {
		list = []storage.BriefRecord{}
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"briefs": list})
}

type briefAPIRequest struct {
	Days     int    `json:"days"`
	Mission  string `json:"mission"`
	Lang     string `json:"lang"`
	Audience string `json:"audience"`
}

func (a *app) apiBriefMake(w http.ResponseWriter, r *http.Request, u *session) {
	if a.opt.Briefs == nil {
		a.jsonError(w, http.StatusServiceUnavailable, "briefs are not configured")
		return
	}
	var in briefAPIRequest
	if err := a.decode(w, r, &in); err != nil {
		a.jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	req, err := briefRequestOf(strconv.Itoa(in.Days), in.Mission, in.Lang, in.Audience, a.now(), u.user.Name)
	if err != nil {
		a.jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	id, err := a.opt.Briefs.Make(r.Context(), req)
	if errors.Is(err, ErrBadBrief) {
		a.jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		a.log.Error("brief failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "making the brief failed")
		return
	}
	a.log.Info("brief made", "brief", id, "by", u.user.Name, "audience", req.Audience)
	a.writeJSON(w, http.StatusCreated, map[string]string{"id": id, "url": "/briefs/" + url.PathEscape(id)})
}
