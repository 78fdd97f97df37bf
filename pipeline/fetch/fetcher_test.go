package fetch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/fetch/fetchtest"

	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/fetch"
)

func testFetch(allow ...string) config.Fetch { return fetchtest.Config(allow...) }

// hostOf is the host:port of a test server, for an exact allow-list entry.
func hostOf(srv *httptest.Server) string { return strings.TrimPrefix(srv.URL, "http://") }

func TestIsPublicAddress(t *testing.T) {
	tests := []struct {
		ip     string
		public bool
	}{
		{"93.184.215.14", true},
		{"2606:4700::1111", true},
		{"127.0.0.1", false},
		{"127.3.4.5", false},
		{"10.0.0.8", false},
		{"172.16.5.4", false},
		{"172.31.255.255", false},
		{"172.32.0.1", true},
		{"192.168.1.1", false},
		{"169.254.169.254", false},
		{"100.64.0.1", false},
		{"100.127.255.254", false},
		{"0.0.0.0", false},
		{"224.0.0.251", false},
		{"255.255.255.255", false},
		{"::", false},
		{"::1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"fe80::1", false},
		{"ff02::1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.1.2.3", false},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::a9fe:a9fe", false}, // NAT64 of 169.254.169.254
		{"2002:a9fe:a9fe::1", false},  // 6to4 of 169.254.169.254
	}
	for _, tc := range tests {
		if got := fetch.IsPublicAddress(netip.MustParseAddr(tc.ip)); got != tc.public {
			t.Errorf("IsPublicAddress(%s) = %v, want %v", tc.ip, got, tc.public)
		}
	}
}

func TestFetcherRefusesPrivateAddresses(t *testing.T) {
	f := fetch.NewFetcher(testFetch())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, target := range []string{
		"127.0.0.1", "127.0.0.2:8080", "localhost", "10.0.0.8", "172.16.0.1", "192.168.0.1",
		"169.254.169.254", "100.64.0.1", "0.0.0.0", "[::1]", "[fe80::1]", "[fc00::1]",
		"[::ffff:127.0.0.1]", "[::ffff:169.254.169.254]", "224.0.0.1",
	} {
		t.Run(target, func(t *testing.T) {
			_, err := f.Get(ctx, "http://"+target+"/feed.xml")
			if !errors.Is(err, fetch.ErrPrivateAddress) {
				t.Fatalf("Get(%s) = %v, want ErrPrivateAddress", target, err)
			}
		})
	}
}

func TestFetcherObfuscatedLoopbackNeverConnects(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	f := fetch.NewFetcher(testFetch())
	for _, host := range []string{"0x7f000001", "2130706433", "127.1", "017700000001", "[::ffff:7f00:1]", "[::ffff:127.0.0.1]", "localhost"} {
		if _, err := f.Get(context.Background(), "http://"+host+":"+port+"/"); err == nil {
			t.Errorf("Get via %s succeeded", host)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the loopback server was reached %d times", hits.Load())
	}
}

func TestFetcherRefusesOtherSchemes(t *testing.T) {
	f := fetch.NewFetcher(testFetch())
	for _, u := range []string{"file:///etc/passwd", "gopher://example.org/", "ftp://example.org/feed.xml", "javascript:alert(1)"} {
		if _, err := f.Get(context.Background(), u); !errors.Is(err, fetch.ErrUnsupportedScheme) {
			t.Errorf("Get(%s) = %v, want ErrUnsupportedScheme", u, err)
		}
	}
}

func TestFetcherAllowList(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	tests := []struct {
		allow []string
		ok    bool
	}{
		{nil, false},
		{[]string{"127.0.0.0/8"}, true},
		{[]string{"127.0.0.1"}, true},
		{[]string{hostOf(srv)}, true},
		{[]string{"127.0.0.1:1"}, false}, // another port of the same host
		{[]string{"10.0.0.0/8"}, false},
		{[]string{"localhost"}, false}, // the URL names 127.0.0.1, not localhost
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.allow), func(t *testing.T) {
			f := fetch.NewFetcher(testFetch(tc.allow...))
			resp, err := f.Get(context.Background(), "http://127.0.0.1:"+port+"/")
			if tc.ok && (err != nil || string(resp.Body) != "ok") {
				t.Fatalf("allowed fetch failed: %v", err)
			}
			if !tc.ok && !errors.Is(err, fetch.ErrPrivateAddress) {
				t.Fatalf("err = %v, want ErrPrivateAddress", err)
			}
		})
	}
	if err := fetch.CheckFetchConfig(config.Fetch{Allow: []string{"10.0.0.0/33"}}); err == nil {
		t.Error("CheckFetchConfig accepted a bad CIDR")
	}
}

func TestFetcherHostileServers(t *testing.T) {
	secret := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the fetcher reached a loopback address it was not allowed: %s", r.URL)
	}))
	defer secret.Close()
	srv := fetchtest.Hostile(t, secret.URL)
	defer srv.Close()
	f := fetch.NewFetcher(testFetch(hostOf(srv)))

	status := func(err error, code int) (*fetch.StatusError, bool) {
		var se *fetch.StatusError
		return se, errors.As(err, &se) && se.Code == code
	}
	tests := []struct {
		path  string
		check func(error) bool
		want  string
	}{
		{"/trickle", func(err error) bool { return errors.Is(err, fetch.ErrTimeout) }, "ErrTimeout (total)"},
		{"/stall", func(err error) bool { return errors.Is(err, fetch.ErrTimeout) }, "ErrTimeout (read)"},
		{"/endless", func(err error) bool { return errors.Is(err, fetch.ErrBodyTooLarge) }, "ErrBodyTooLarge"},
		{"/huge-length", func(err error) bool {
			return errors.Is(err, fetch.ErrBodyTooLarge) && strings.Contains(err.Error(), "10737418240")
		}, "ErrBodyTooLarge naming the declared length"},
		{"/loop", func(err error) bool { return errors.Is(err, fetch.ErrTooManyRedirects) }, "ErrTooManyRedirects"},
		{"/to-metadata", func(err error) bool { return errors.Is(err, fetch.ErrPrivateAddress) }, "ErrPrivateAddress"},
		{"/to-loopback", func(err error) bool { return errors.Is(err, fetch.ErrPrivateAddress) }, "ErrPrivateAddress"},
		{"/to-file", func(err error) bool { return errors.Is(err, fetch.ErrUnsupportedScheme) }, "ErrUnsupportedScheme"},
		{"/gzip-bomb", func(err error) bool {
			return errors.Is(err, fetch.ErrBodyTooLarge) && strings.Contains(err.Error(), "decompressed")
		}, "ErrBodyTooLarge (decompressed)"},
		{"/image", func(err error) bool { return errors.Is(err, fetch.ErrContentType) }, "ErrContentType"},
		{"/busy", func(err error) bool {
			se, ok := status(err, 429)
			return ok && se.RetryAfter == 120*time.Second
		}, "StatusError 429 retry after 2m"},
		{"/down", func(err error) bool {
			se, ok := status(err, 503)
			return ok && se.RetryAfter > 59*time.Minute
		}, "StatusError 503 retry after ~1h"},
		{"/gone", func(err error) bool { _, ok := status(err, 404); return ok }, "StatusError 404"},
	}
	var wg sync.WaitGroup
	for _, tc := range tests {
		wg.Go(func() {
			start := time.Now()
			_, err := f.Get(context.Background(), srv.URL+tc.path)
			if !tc.check(err) {
				t.Errorf("GET %s: err = %v, want %s", tc.path, err, tc.want)
			}
			t.Logf("GET %s: %s: %v", tc.path, time.Since(start).Round(time.Millisecond), err)
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("GET %s took %s: the limits did not cut it off", tc.path, took)
			}
		})
	}
	wg.Wait()
}

func TestFetcherConditionalGzipAndUserAgent(t *testing.T) {
	const etag = `"v1"`
	const lastMod = "Thu, 12 Mar 2026 07:00:00 GMT"
	var hits, notModified atomic.Int32
	body := []byte("<rss version=\"2.0\"><channel><title>t</title></channel></rss>")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("User-Agent") != "VeilleTest/1.0" {
			t.Errorf("User-Agent %q", r.Header.Get("User-Agent"))
		}
		if r.Header.Get("If-None-Match") == etag && r.Header.Get("If-Modified-Since") == lastMod {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", lastMod)
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(fetchtest.GzipBytes(t, body))
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	f := fetch.NewFetcher(testFetch(hostOf(srv)))
	ctx := context.Background()
	first, err := f.Get(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Body, body) {
		t.Fatalf("gzip body not decoded: %q", first.Body)
	}
	if first.Validators.ETag != etag || first.Validators.LastModified != lastMod {
		t.Fatalf("validators %+v", first.Validators)
	}
	second, err := f.GetConditional(ctx, srv.URL, first.Validators)
	if err != nil {
		t.Fatal(err)
	}
	if !second.NotModified || second.Body != nil || notModified.Load() != 1 {
		t.Fatalf("conditional GET: NotModified=%v body=%q 304s=%d", second.NotModified, second.Body, notModified.Load())
	}
	if second.Validators != first.Validators {
		t.Errorf("304 lost the validators: %+v", second.Validators)
	}
}

func TestFetcherPerHostLimit(t *testing.T) {
	var cur, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
		cur.Add(-1)
		io.WriteString(w, "x")
	}))
	defer srv.Close()
	f := fetch.NewFetcher(testFetch(hostOf(srv)))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := f.Get(context.Background(), fmt.Sprintf("%s/%d", srv.URL, i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 2 || p < 1 {
		t.Errorf("peak concurrent requests to one host = %d, want 1..2 (PerHost 2)", p)
	}
}
