package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/veille-project/veille/pipeline/config"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrPrivateAddress: the URL, a redirect or a DNS answer points at a
	// loopback, private, link-local or otherwise non-public address that the
	// allow-list does not name.
	ErrPrivateAddress = errors.New("refused non-public address")
	// ErrBodyTooLarge: the declared or actual (decompressed) body is over
	// the size limit.
	ErrBodyTooLarge = errors.New("body too large")
	// ErrTimeout: the connect, read (idle) or total deadline passed.
	ErrTimeout = errors.New("timed out")
	// ErrTooManyRedirects: more redirects than Fetch.MaxRedirects.
	ErrTooManyRedirects = errors.New("too many redirects")
	// ErrUnsupportedScheme: only http and https are fetched.
	ErrUnsupportedScheme = errors.New("unsupported url scheme")
	// ErrContentType: the server declared a type that cannot be a feed or
	// a transcript (image, audio, video, archive...).
	ErrContentType = errors.New("unexpected content type")
)

// StatusError is a non-2xx, non-304 answer.
type StatusError struct {
	URL        string
	Code       int
	RetryAfter time.Duration // from Retry-After on 429/503, else 0
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("GET %s: HTTP %d %s", e.URL, e.Code, http.StatusText(e.Code))
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// Validators are the conditional-GET values remembered per URL.
type Validators struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

// Response is one fetched document.
type Response struct {
	URL         string // as asked
	FinalURL    string // after redirects
	StatusCode  int
	ContentType string
	Body        []byte // decompressed; nil when NotModified
	NotModified bool
	Validators  Validators
}

// Fetcher is an HTTP client for untrusted feeds: it refuses non-public
// addresses at connect time (so redirects and DNS rebinding are covered),
// bounds sizes and times, limits concurrency per host and speaks gzip and
// conditional GET. It is safe for concurrent use.
type Fetcher struct {
	cfg    config.Fetch
	allow  allowList
	client *http.Client

	mu    sync.Mutex
	hosts map[string]chan struct{}
}

// Fill in zero fields of a Fetch with the defaults.
func withFetchDefaults(c config.Fetch) config.Fetch {
	d := config.Default().Fetch
	if c.MaxBody <= 0 {
		c.MaxBody = d.MaxBody
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = d.ConnectTimeout
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = d.ReadTimeout
	}
	if c.TotalTimeout <= 0 {
		c.TotalTimeout = d.TotalTimeout
	}
	if c.MaxRedirects < 0 {
		c.MaxRedirects = 0
	} else if c.MaxRedirects == 0 {
		c.MaxRedirects = d.MaxRedirects
	}
	if c.PerHost <= 0 {
		c.PerHost = d.PerHost
	}
	if c.UserAgent == "" {
		c.UserAgent = d.UserAgent
	}
	return c
}

// NewFetcher returns a Fetcher with cfg's limits (zero fields take the
// defaults of config.Default). An unparseable allow-list entry is ignored
// here and reported by CheckFetchConfig.
func NewFetcher(cfg config.Fetch) *Fetcher {
	cfg = withFetchDefaults(cfg)
	allow, _ := parseAllowList(cfg.Allow)
	f := &Fetcher{cfg: cfg, allow: allow, hosts: map[string]chan struct{}{}}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would dial on our behalf, past the guard
		DialContext:            f.dial,
		TLSHandshakeTimeout:    time.Duration(cfg.ConnectTimeout),
		ResponseHeaderTimeout:  time.Duration(cfg.ReadTimeout),
		MaxResponseHeaderBytes: 64 << 10,
		DisableCompression:     true, // gzip is decoded here, under the size limit
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    cfg.PerHost,
		IdleConnTimeout:        90 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	f.client = &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > cfg.MaxRedirects {
				return fmt.Errorf("%w: more than %d", ErrTooManyRedirects, cfg.MaxRedirects)
			}
			if err := checkScheme(req.URL); err != nil {
				return err
			}
			return nil
		},
	}
	return f
}

// CheckFetchConfig reports a bad fetch.allow entry.
func CheckFetchConfig(cfg config.Fetch) error {
	_, err := parseAllowList(cfg.Allow)
	return err
}

// MaxBody is the body size limit in force.
func (f *Fetcher) MaxBody() int64 { return f.cfg.MaxBody }

func (f *Fetcher) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	g := Guard{allow: f.allow, timeout: time.Duration(f.cfg.ConnectTimeout)}
	return g.DialContext(ctx, network, addr)
}

func checkScheme(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return nil
	}
	return fmt.Errorf("%w %q in %s", ErrUnsupportedScheme, u.Scheme, u.Redacted())
}

// acquire takes one of the host's PerHost slots.
func (f *Fetcher) acquire(ctx context.Context, host string) (func(), error) {
	host = strings.ToLower(host)
	f.mu.Lock()
	sem, ok := f.hosts[host]
	if !ok {
		sem = make(chan struct{}, f.cfg.PerHost)
		f.hosts[host] = sem
	}
	f.mu.Unlock()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Get fetches rawURL unconditionally.
func (f *Fetcher) Get(ctx context.Context, rawURL string) (*Response, error) {
	return f.GetConditional(ctx, rawURL, Validators{})
}

var (
	errTotalTimeout = fmt.Errorf("%w: total deadline passed", ErrTimeout)
	errIdleTimeout  = fmt.Errorf("%w: no data within the read timeout", ErrTimeout)
)

// GetConditional fetches rawURL sending v as If-None-Match/If-Modified-Since;
// a 304 answer comes back as NotModified with no body.
func (f *Fetcher) GetConditional(ctx context.Context, rawURL string, v Validators) (*Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("ingest: bad url %q: %w", rawURL, err)
	}
	if err := checkScheme(u); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("ingest: url %q has no host", rawURL)
	}
	where := u.Redacted()

	release, err := f.acquire(ctx, u.Host)
	if err != nil {
		return nil, fmt.Errorf("ingest: GET %s: waiting for a connection slot: %w", where, err)
	}
	defer release()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	total := time.AfterFunc(time.Duration(f.cfg.TotalTimeout), func() { cancel(errTotalTimeout) })
	defer total.Stop()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("ingest: GET %s: %w", where, err)
	}
	req.Header.Set("User-Agent", f.cfg.UserAgent)
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, text/vtt, application/x-subrip, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
	req.Header.Set("Accept-Encoding", "gzip")
	if v.ETag != "" {
		req.Header.Set("If-None-Match", v.ETag)
	}
	if v.LastModified != "" {
		req.Header.Set("If-Modified-Since", v.LastModified)
	}

	resp, err := f.client.Do(req)
	if err != nil {
		return nil, f.explain(ctx, where, err)
	}
	defer resp.Body.Close()

	out := &Response{
		URL:         rawURL,
		FinalURL:    resp.Request.URL.String(),
		StatusCode:  resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"),
		Validators: Validators{
			ETag:         resp.Header.Get("ETag"),
			LastModified: resp.Header.Get("Last-Modified"),
		},
	}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		out.NotModified = true
		if out.Validators == (Validators{}) {
			out.Validators = v
		}
		return out, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		se := &StatusError{URL: where, Code: resp.StatusCode}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			se.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		return nil, fmt.Errorf("ingest: %w", se)
	}
	if err := checkContentType(out.ContentType); err != nil {
		return nil, fmt.Errorf("ingest: GET %s: %w", where, err)
	}
	if resp.ContentLength > f.cfg.MaxBody {
		return nil, fmt.Errorf("ingest: GET %s: declared Content-Length %d is over the %d-byte limit: %w",
			where, resp.ContentLength, f.cfg.MaxBody, ErrBodyTooLarge)
	}

	// The idle timer is pushed back on every read that returns data; the
	// total timer above still cuts off a server that trickles.
	idle := time.Duration(f.cfg.ReadTimeout)
	idleTimer := time.AfterFunc(idle, func() { cancel(errIdleTimeout) })
	defer idleTimer.Stop()
	var body io.Reader = &idleReader{r: resp.Body, t: idleTimer, d: idle}
	body = io.LimitReader(body, f.cfg.MaxBody+1)

	enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, fmt.Errorf("ingest: GET %s: bad gzip body: %w", where, f.cause(ctx, err))
		}
		defer zr.Close()
		body = zr
	default:
		return nil, fmt.Errorf("ingest: GET %s: unsupported Content-Encoding %q", where, enc)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(body, f.cfg.MaxBody+1))
	if n > f.cfg.MaxBody {
		what := "body"
		if enc != "" && enc != "identity" {
			what = "decompressed body"
		}
		return nil, fmt.Errorf("ingest: GET %s: %s over the %d-byte limit: %w", where, what, f.cfg.MaxBody, ErrBodyTooLarge)
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: GET %s: reading body: %w", where, f.cause(ctx, err))
	}
	out.Body = buf.Bytes()
	return out, nil
}

// cause turns a context cancellation into the deadline that caused it.
func (f *Fetcher) cause(ctx context.Context, err error) error {
	if c := context.Cause(ctx); c != nil && (errors.Is(c, ErrTimeout)) {
		return c
	}
	return err
}

// explain makes a client.Do error say what failed.
func (f *Fetcher) explain(ctx context.Context, where string, err error) error {
	for _, sentinel := range []error{ErrPrivateAddress, ErrTooManyRedirects, ErrUnsupportedScheme} {
		if errors.Is(err, sentinel) {
			var ue *url.Error
			if errors.As(err, &ue) {
				return fmt.Errorf("ingest: GET %s: %w", where, ue.Err)
			}
			return fmt.Errorf("ingest: GET %s: %w", where, err)
		}
	}
	if c := f.cause(ctx, err); c != err {
		return fmt.Errorf("ingest: GET %s: %w", where, c)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("ingest: GET %s: %w: %v", where, ErrTimeout, err)
	}
	return fmt.Errorf("ingest: %w", err)
}

type idleReader struct {
	r io.Reader
	t *time.Timer
	d time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.t.Reset(r.d)
	}
	return n, err
}

// checkContentType refuses types that are never a feed or a transcript.
// Missing, text/*, XML, JSON and octet-stream (common for .srt) pass: the
// parser decides.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil
	}
	switch {
	case strings.HasPrefix(mt, "image/"), strings.HasPrefix(mt, "audio/"),
		strings.HasPrefix(mt, "video/"), strings.HasPrefix(mt, "font/"),
		mt == "application/pdf", mt == "application/zip", mt == "application/gzip",
		mt == "application/x-gzip", mt == "application/x-tar", mt == "application/vnd.rar",
		mt == "application/x-7z-compressed", mt == "application/x-msdownload":
		return fmt.Errorf("%w %s", ErrContentType, mt)
	}
	return nil
}

// parseRetryAfter reads delta-seconds or an HTTP date; 0 when absent/bad.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
