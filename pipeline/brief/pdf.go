package brief

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"
)

// ErrNoChromium: PDF needs headless Chromium, which is not installed.
var ErrNoChromium = errors.New("brief: PDF needs Chromium (install the chromium package, or set VEILLE_CHROMIUM to its path); the HTML brief prints to A4 from any browser")

// ChromiumPath finds Chromium: VEILLE_CHROMIUM, then the usual places.
func ChromiumPath() (string, error) {
	for _, p := range []string{os.Getenv("VEILLE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// PDF prints a rendered brief to A4 with headless Chromium. The HTML is
// loaded from a private temporary file, with the network off: a brief is
// self-contained.
func PDF(ctx context.Context, html []byte) ([]byte, error) {
	path, err := ChromiumPath()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "veille-brief-")
	if err != nil {
		return nil, fmt.Errorf("brief: pdf: %w", err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "brief.html")
	if err := os.WriteFile(file, html, 0o600); err != nil {
		return nil, fmt.Errorf("brief: pdf: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.ProxyServer("http://127.0.0.1:9"), // nothing outside the file is fetched
	)
	defer cancelAlloc()
	bctx, cancelB := chromedp.NewContext(alloc)
	defer cancelB()
	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+file)); err != nil {
		return nil, fmt.Errorf("brief: pdf: %w", err)
	}
	pdf, err := chromedp.Run(bctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPrintBackground(), chromedp.PDFPreferCSSPageSize()))
	if err != nil {
		return nil, fmt.Errorf("brief: pdf: %w", err)
	}
	return pdf, nil
}
