package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "github.com/veille-project/veille/storage/chdb/chdblib"

	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/match"
	"github.com/veille-project/veille/storage"
	"github.com/veille-project/veille/storage/backend"
	"github.com/veille-project/veille/web"
)

// chDB keeps one session per process, so the whole test binary shares one
// store; tests that write use ids of their own.
var (
	testStore storage.Store
	testNow   = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	fixture   []fixtureItem
	testCat   *catalog.Catalog
	matcher   *match.Matcher
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "veille-web-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	st, err := backend.OpenWith(ctx, "embedded", dir, storage.Options{Database: "web_test"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open store:", err)
		return 1
	}
	defer st.Close()
	testStore = st
	testCat = catalog.Default()
	if matcher, err = match.New(testCat); err != nil {
		fmt.Fprintln(os.Stderr, "matcher:", err)
		return 1
	}
	if fixture, err = loadFixture("testdata/items.json"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := seed(ctx, st, fixture, ""); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		return 1
	}
	return m.Run()
}

type fixtureItem struct {
	storage.Item
	DaysAgo int `json:"days_ago"`
	Flags   []struct {
		Narrative string   `json:"narrative"`
		Stance    string   `json:"stance"`
		Evidence  []string `json:"evidence"`
	} `json:"flags"`
}

func loadFixture(path string) ([]fixtureItem, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var items []fixtureItem
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return items, nil
}

// seed stores the fixture items, their ids suffixed, with flags whose
// evidence offsets are found in the text.
func seed(ctx context.Context, st storage.Store, items []fixtureItem, suffix string) error {
	var its []storage.Item
	var fls []storage.Flag
	for _, fi := range items {
		it := fi.Item
		it.ID += suffix
		it.ContentHash = it.ID
		it.Published = testNow.Add(-time.Duration(fi.DaysAgo)*24*time.Hour - time.Hour)
		it.Fetched = it.Published.Add(time.Minute)
		its = append(its, it)
		for _, f := range fi.Flags {
			fl := storage.Flag{ItemID: it.ID, Narrative: f.Narrative, Stance: f.Stance, Score: 1, ClassifierVersion: "fixture",
				Source: it.Source, Lang: it.Lang, Mission: it.Mission, Published: it.Published}
			for _, ev := range f.Evidence {
				i := strings.Index(it.IndexedText(), ev) // offsets index the title, a newline and the text
				if i < 0 {
					return fmt.Errorf("item %s: evidence %q not in text", it.ID, ev)
				}
				fl.Evidence = append(fl.Evidence, storage.Evidence{Start: i, End: i + len(ev), Text: ev})
			}
			fls = append(fls, fl)
		}
	}
	if err := st.InsertItems(ctx, its); err != nil {
		return err
	}
	return st.InsertFlags(ctx, fls)
}

func randomSuffix() string {
	b := make([]byte, 4)
	rand.Read(b)
	return "-" + hex.EncodeToString(b)
}

var roles = []string{storage.RoleAdmin, storage.RoleReviewer, storage.RoleRadio, storage.RoleAnalyst}

// env is a running web app with one user per role.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	names  map[string]string // role → user name
	tokens map[string]string // role → API token
}

type staticSources []web.SourceStatus

func (s staticSources) List(context.Context) ([]web.SourceStatus, error) { return s, nil }

func newEnv(t *testing.T, mod func(*web.Options)) *env {
	t.Helper()
	opt := web.Options{
		Store:      testStore,
		Classifier: matcher,
		Catalog:    testCat,
		Sources: staticSources{
			{Name: "radio-gao", URL: "https://radio.example/gao/feed.xml", Kind: "podcast", LastSuccess: testNow.Add(-time.Hour), ItemsLastDay: 12},
			{Name: "blog-bunia", URL: "https://blog.example/feed", Kind: "rss", LastError: "HTTP 503", LastErrorAt: testNow.Add(-time.Hour), Failures: 3},
		},
		SourceAdmin: &memSources{},
		Models:      newMemModels(),
		Briefs:      &memBriefs{st: testStore},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:         func() time.Time { return testNow },
	}
	if mod != nil {
		mod(&opt)
	}
	h, err := web.New(opt)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	e := &env{t: t, srv: httptest.NewServer(h), names: map[string]string{}, tokens: map[string]string{}}
	t.Cleanup(e.srv.Close)
	suffix := randomSuffix()
	for _, role := range roles {
		lang := "en"
		if role == storage.RoleRadio {
			lang = "fr"
		}
		name := role + suffix
		_, tok, err := web.CreateUser(context.Background(), testStore, name, role, lang, testNow)
		if err != nil {
			t.Fatalf("CreateUser %s: %v", name, err)
		}
		e.names[role], e.tokens[role] = name, tok
	}
	return e
}

// client is a browser-like HTTP client that does not follow redirects.
func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formToken returns the CSRF token of the first form on a page.
func formToken(t *testing.T, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field in page:\n%.500s", body)
	}
	return m[1]
}

func (e *env) get(c *http.Client, path string) (*http.Response, string) {
	e.t.Helper()
	resp, err := c.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (e *env) post(c *http.Client, path string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	resp, err := c.PostForm(e.srv.URL+path, form)
	if err != nil {
		e.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// login signs a role's user in through the form and returns the client
// and the CSRF token of its session.
func (e *env) login(role string) (*http.Client, string) {
	e.t.Helper()
	c := e.client()
	_, body := e.get(c, "/login")
	resp, body := e.post(c, "/login", url.Values{"csrf": {formToken(e.t, body)}, "name": {e.names[role]}, "token": {e.tokens[role]}})
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login %s: status %d\n%.500s", role, resp.StatusCode, body)
	}
	_, body = e.get(c, "/users") // any page with a form carries the session's token
	return c, formToken(e.t, body)
}

// api calls the JSON API with a bearer token ("" for none).
func (e *env) api(method, path, token string, body any) (*http.Response, []byte) {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}
