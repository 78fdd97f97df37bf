package pseudonym_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/veille-project/veille/pipeline/pseudonym"
)

func TestHashIsKeyedStableAndHidesTheID(t *testing.T) {
	a, err := pseudonym.New([]byte("0123456789abcdef-one"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pseudonym.New([]byte("0123456789abcdef-two"))
	h := a.Hash("whatsapp", "+243 81 234 5678")
	if h == "" || len(h) != 32 || h != a.Hash("whatsapp", "+243 81 234 5678") {
		t.Fatalf("hash %q: want 32 hex characters, the same each time", h)
	}
	if h == b.Hash("whatsapp", "+243 81 234 5678") || h == a.Hash("telegram", "+243 81 234 5678") {
		t.Error("the hash does not depend on the key and the platform")
	}
	if a.Hash("csv", "  ") != "" {
		t.Error("an empty id is hashed")
	}
	if _, err := pseudonym.New([]byte("short")); err == nil {
		t.Error("a 5-byte key was accepted")
	}
}

func TestLoadMakesAndKeepsAKey(t *testing.T) {
	dir := t.TempDir()
	a, err := pseudonym.Load("", dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, pseudonym.KeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v, %v: want mode 0600", st, err)
	}
	b, err := pseudonym.Load("", dir)
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash("telegram", "42") != b.Hash("telegram", "42") {
		t.Error("a second load hashes differently")
	}
	c, err := pseudonym.Load("a configured key of some length", dir)
	if err != nil || c.Hash("telegram", "42") == a.Hash("telegram", "42") {
		t.Errorf("the configured key is not the one used (%v)", err)
	}
}
