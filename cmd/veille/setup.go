//go:build !nochdb

package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/veille-project/veille/storage/chdb/chdblib"
)

func init() {
	register(&command{
		name:    "setup",
		summary: "install libchdb.so (the embedded ClickHouse) into the user's cache, for an install outside a checkout",
		run:     runSetup,
	})
}

// chdbPackage is the npm package that ships libchdb.so.
const chdbPackage = "@chdb/lib-linux-x64-gnu@" + chdblib.Version

// runSetup fetches the library with npm pack, checks the tarball against
// the integrity the registry states, and installs libchdb.so where Find
// looks outside a checkout; it does nothing when one is already found.
func runSetup(ctx context.Context, args []string) error {
	fs := newFlags("setup")
	force := fs.Bool("force", false, "install even when a libchdb.so is already found")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if p := chdblib.Find(); p != "" && !*force {
		fmt.Printf("libchdb.so already installed: %s\n", p)
		return nil
	}
	dest := chdblib.UserCache()
	if dest == "" {
		return errors.New("setup: no user cache directory (set XDG_CACHE_HOME or HOME)")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return errors.New("setup: npm is not installed: install Node.js and npm, or set CHDB_LIB_PATH to an existing libchdb.so")
	}
	tmp, err := os.MkdirTemp("", "veille-setup-")
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(os.Stderr, "setup: downloading %s (about 170 MB, once)\n", chdbPackage)
	cmd := exec.CommandContext(ctx, "npm", "pack", chdbPackage, "--json", "--silent")
	cmd.Dir = tmp
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("setup: npm pack %s: %w", chdbPackage, err)
	}
	var packed []struct {
		Filename  string `json:"filename"`
		Integrity string `json:"integrity"`
	}
	if err := json.Unmarshal(out, &packed); err != nil || len(packed) != 1 || !strings.HasPrefix(packed[0].Integrity, "sha512-") {
		return fmt.Errorf("setup: npm pack said %q, not a package with a sha512 integrity", strings.TrimSpace(string(out)))
	}
	tgz := filepath.Join(tmp, filepath.Base(packed[0].Filename))
	b, err := os.ReadFile(tgz)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	sum := sha512.Sum512(b)
	if got := "sha512-" + base64.StdEncoding.EncodeToString(sum[:]); got != packed[0].Integrity {
		return fmt.Errorf("setup: integrity check failed for %s: got %s, want %s", tgz, got, packed[0].Integrity)
	}
	if err := extractLib(tgz, dest); err != nil {
		return err
	}
	fmt.Printf("installed %s\n", dest)
	return nil
}

// extractLib writes package/libchdb.so of the tarball to dest, atomically.
func extractLib(tgz, dest string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("setup: %s: %w", tgz, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return fmt.Errorf("setup: %s holds no package/libchdb.so", tgz)
		}
		if err != nil {
			return fmt.Errorf("setup: %s: %w", tgz, err)
		}
		if h.Name != "package/libchdb.so" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		part := dest + ".partial"
		out, err := os.OpenFile(part, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
		if err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		if _, err := io.Copy(out, io.LimitReader(tr, 2<<30)); err != nil {
			out.Close()
			return fmt.Errorf("setup: write %s: %w", part, err)
		}
		if err := out.Close(); err != nil {
			return fmt.Errorf("setup: write %s: %w", part, err)
		}
		return os.Rename(part, dest)
	}
}
