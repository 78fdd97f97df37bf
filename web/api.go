package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/veille-project/veille/storage"
)

const maxJSONBody = 64 << 10

func (a *app) decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("content type %q: want application/json", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad JSON body: %v", err)
	}
	return nil
}

func (a *app) apiOpenAPI(w http.ResponseWriter, r *http.Request, u *session) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(openAPI)
}

func (a *app) apiMe(w http.ResponseWriter, r *http.Request, u *session) {
	a.writeJSON(w, http.StatusOK, u.user)
}

func (a *app) apiFlags(w http.ResponseWriter, r *http.Request, u *session) {
	f, sf, err := a.readFilter(r.URL.Query(), 0)
	if err != nil {
		a.jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		limit, err = strconv.Atoi(v)
		if err != nil || limit < 1 || limit > 1000 {
			a.jsonError(w, http.StatusBadRequest, fmt.Sprintf("limit %q: want 1 to 1000", v))
			return
		}
	}
	rows, err := a.store.Queue(r.Context(), storage.QueueQuery{Filter: sf, Decision: f.Decision, Limit: limit, Offset: f.Offset})
	if err != nil {
		a.log.Error("queue failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "queue query failed")
		return
	}
	if rows == nil {
		rows = []storage.QueueRow{}
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"flags": rows, "offset": f.Offset, "limit": limit})
}

func (a *app) apiItem(w http.ResponseWriter, r *http.Request, u *session) {
	d, err := a.loadItem(r.Context(), r.PathValue("id"))
	if errors.Is(err, storage.ErrNotFound) {
		a.jsonError(w, http.StatusNotFound, "no item with id "+strconv.Quote(r.PathValue("id")))
		return
	}
	if err != nil {
		a.log.Error("item failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "item query failed")
		return
	}
	if d.Item.HTML != "" {
		d.Item.HTML = a.policy.Sanitize(d.Item.HTML)
	}
	// Evidence offsets index indexed_text (the title, a newline and the
	// text for a titled article), served beside the item.
	a.writeJSON(w, http.StatusOK, struct {
		storage.ItemDetail
		IndexedText string `json:"indexed_text"`
	}{d, d.Item.IndexedText()})
}

type reviewRequest struct {
	ItemID    string `json:"item_id"`
	Narrative string `json:"narrative"`
	Stance    string `json:"stance"` // needed when the item has flags of several stances for the narrative
	Decision  string `json:"decision"`
	Note      string `json:"note"`
}

func (a *app) apiReview(w http.ResponseWriter, r *http.Request, u *session) {
	var req reviewRequest
	if err := a.decode(w, r, &req); err != nil {
		a.jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	rv, err := a.review(r.Context(), u, req.ItemID, req.Narrative, req.Stance, req.Decision, strings.TrimSpace(req.Note))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		a.jsonError(w, http.StatusNotFound, fmt.Sprintf("no flag for narrative %q on item %q", req.Narrative, req.ItemID))
	case errors.Is(err, errInvalidReview):
		a.jsonError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		a.log.Error("review failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "storing the review failed")
	default:
		a.writeJSON(w, http.StatusCreated, rv)
	}
}

func (a *app) apiLabels(w http.ResponseWriter, r *http.Request, u *session) {
	_, sf, err := a.readFilter(r.URL.Query(), 0)
	if err != nil {
		a.jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
	if err := a.writeLabels(r.Context(), sf, w); err != nil {
		a.log.Error("labels export failed", "err", err)
	}
}

type checkRequest struct {
	Text    string `json:"text"`
	Lang    string `json:"lang"`
	Mission string `json:"mission"` // default: named in the text, else the station's
}

func (a *app) apiCheck(w http.ResponseWriter, r *http.Request, u *session) {
	var req checkRequest
	if err := a.decode(w, r, &req); err != nil {
		a.jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := a.check(r.Context(), u, req.Text, req.Lang, req.Mission)
	switch {
	case errors.Is(err, errRateCheck):
		w.Header().Set("Retry-After", "60")
		a.jsonError(w, http.StatusTooManyRequests, err.Error())
	case errors.Is(err, errEmptyText), errors.Is(err, errLongText):
		a.jsonError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		a.log.Error("check failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "classification failed")
	default:
		a.writeJSON(w, http.StatusOK, res)
	}
}

func (a *app) apiTrends(w http.ResponseWriter, r *http.Request, u *session) {
	_, tq, err := a.trendQuery(r)
	if err != nil {
		a.jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	tbl, err := a.store.Trends(r.Context(), tq)
	if err != nil {
		a.log.Error("trends failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "trend query failed")
		return
	}
	a.writeJSON(w, http.StatusOK, tbl)
}

func (a *app) apiRising(w http.ResponseWriter, r *http.Request, u *session) {
	_, sf, err := a.readFilter(r.URL.Query(), 0)
	if err != nil {
		a.jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	q := storage.RisingQuery{Filter: sf, Now: a.now(), Window: 24 * time.Hour, Baseline: 7 * 24 * time.Hour, Limit: 20}
	for name, dst := range map[string]*time.Duration{"window": &q.Window, "baseline": &q.Baseline} {
		if v := r.URL.Query().Get(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 || d > 366*24*time.Hour {
				a.jsonError(w, http.StatusBadRequest, fmt.Sprintf("%s %q: want a positive duration such as 24h", name, v))
				return
			}
			*dst = d
		}
	}
	rows, err := a.store.Rising(r.Context(), q)
	if err != nil {
		a.log.Error("rising failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "rising query failed")
		return
	}
	if rows == nil {
		rows = []storage.RisingRow{}
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"rising": rows})
}

func (a *app) apiSpread(w http.ResponseWriter, r *http.Request, u *session) {
	n := r.PathValue("narrative")
	if !contains(a.opt.Catalog.IDs(), n) {
		a.jsonError(w, http.StatusNotFound, "no narrative "+strconv.Quote(n)+" in the catalog")
		return
	}
	_, sf, err := a.readFilter(r.URL.Query(), 0)
	if err != nil {
		a.jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	sp, err := a.store.Spread(r.Context(), n, sf.Since)
	if errors.Is(err, storage.ErrNotFound) {
		sp, err = storage.SpreadReport{Narrative: n}, nil
	}
	if err != nil {
		a.log.Error("spread failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "spread query failed")
		return
	}
	a.writeJSON(w, http.StatusOK, sp)
}

func (a *app) apiExport(w http.ResponseWriter, r *http.Request, u *session) {
	_, tq, err := a.trendQuery(r)
	if err != nil {
		a.jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "csv"
	}
	if exportTypes[format] == "" {
		a.jsonError(w, http.StatusBadRequest, fmt.Sprintf("format %q: want csv, jsonl or parquet", format))
		return
	}
	a.export(w, r, tq, format)
}

func (a *app) apiNarratives(w http.ResponseWriter, r *http.Request, u *session) {
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		lang = u.user.Lang
	}
	type narrative struct {
		ID        string   `json:"id"`
		Title     string   `json:"title"`
		Meaning   string   `json:"meaning"`
		Responses []string `json:"responses"`
	}
	out := []narrative{}
	for _, e := range a.catalog(lang) {
		if e.Responses == nil {
			e.Responses = []string{}
		}
		out = append(out, narrative{e.ID, e.Title, e.Meaning, e.Responses})
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"narratives": out})
}

func (a *app) apiUsers(w http.ResponseWriter, r *http.Request, u *session) {
	users, err := a.store.Users(r.Context())
	if err != nil {
		a.log.Error("users failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "listing users failed")
		return
	}
	if users == nil {
		users = []storage.User{}
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"users": users})
}

type userRequest struct {
	Name         string `json:"name"`
	Role         string `json:"role"`
	Lang         string `json:"lang"`          // the user's language, any of the six
	UILang       string `json:"ui_lang"`       // en or fr (default: lang if it is one, else fr)
	ResponseLang string `json:"response_lang"` // default: lang
	Mission      string `json:"mission"`
}

func (a *app) apiUserAdd(w http.ResponseWriter, r *http.Request, u *session) {
	var req userRequest
	if err := a.decode(w, r, &req); err != nil {
		a.jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	nu, secret, err := CreateUserWith(r.Context(), a.store, NewUser{Name: req.Name, Role: req.Role, Lang: req.Lang, UILang: req.UILang, ResponseLang: req.ResponseLang, Mission: req.Mission}, a.now())
	switch {
	case errors.Is(err, ErrUserExists):
		a.jsonError(w, http.StatusConflict, err.Error())
	case errors.Is(err, ErrBadName), errors.Is(err, ErrBadRole), errors.Is(err, ErrBadLang), errors.Is(err, ErrBadMission):
		a.jsonError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		a.log.Error("user add failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "creating the user failed")
	default:
		a.log.Info("user added", "user", nu.Name, "role", nu.Role, "by", u.user.Name)
		a.writeJSON(w, http.StatusCreated, map[string]any{"user": nu, "token": secret})
	}
}

func (a *app) apiUserRevoke(w http.ResponseWriter, r *http.Request, u *session) {
	if r.PathValue("name") == u.user.Name {
		a.jsonError(w, http.StatusBadRequest, "an admin cannot revoke themselves; ask another admin or use veille user revoke")
		return
	}
	err := RevokeUser(r.Context(), a.store, r.PathValue("name"))
	switch {
	case errors.Is(err, ErrNoSuchUser):
		a.jsonError(w, http.StatusNotFound, err.Error())
	case err != nil:
		a.log.Error("user revoke failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "revoking the user failed")
	default:
		a.log.Info("user revoked", "user", r.PathValue("name"), "by", u.user.Name)
		w.WriteHeader(http.StatusNoContent)
	}
}

type missedRequest struct {
	Narrative string `json:"narrative"`
	Stance    string `json:"stance"`
	Evidence  string `json:"evidence"` // an exact excerpt of the item's indexed_text
	Note      string `json:"note"`
}

// apiMissed adds a flag the classifier missed (POST /api/v1/items/{id}/flags).
func (a *app) apiMissed(w http.ResponseWriter, r *http.Request, u *session) {
	var req missedRequest
	if err := a.decode(w, r, &req); err != nil {
		a.jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	fl, err := a.addMissed(r.Context(), u, r.PathValue("id"), req.Narrative, req.Stance, req.Evidence, strings.TrimSpace(req.Note))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		a.jsonError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, errFlagExists):
		a.jsonError(w, http.StatusConflict, err.Error())
	case errors.Is(err, errInvalidReview):
		a.jsonError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		a.log.Error("missed flag failed", "err", err)
		a.jsonError(w, http.StatusInternalServerError, "storing the flag failed")
	default:
		a.writeJSON(w, http.StatusCreated, fl)
	}
}
