// Package pseudonym turns the identifiers of people — a post's signature,
// a chat message's sender, a tipline user — into keyed hashes, so that
// Veille can count distinct voices without storing who they are. It owns
// the key: configured (privacy.hash_key, VEILLE_HASH_KEY), or made once and
// kept beside the data.
package pseudonym

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// MinKeyLen is the shortest key accepted, in bytes.
const MinKeyLen = 16

// Hasher hashes identifiers under one key.
type Hasher struct{ key []byte }

// New returns a Hasher for key; a key shorter than MinKeyLen is refused.
func New(key []byte) (*Hasher, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("pseudonym: key of %d bytes, want at least %d", len(key), MinKeyLen)
	}
	return &Hasher{key: append([]byte(nil), key...)}, nil
}

// Key returns the key, for components that hash on their own (the
// tipline).
func (h *Hasher) Key() []byte { return append([]byte(nil), h.key...) }

// Hash is the keyed hash of a person's id on a platform ("telegram",
// "whatsapp", "csv", …): HMAC-SHA256 of "platform:id", 16 bytes in hex.
// An empty id stays empty: no one is named.
func (h *Hasher) Hash(platform, id string) string {
	id = strings.TrimSpace(id)
	if id == "" {
		return ""
	}
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(platform + ":" + id))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// KeyFile is where a key made by Load is kept, under the data folder.
const KeyFile = "hash.key"

// Load returns the Hasher of the configured key, or of the key kept in
// dataDir/hash.key, made (random, 32 bytes, mode 0600) when missing.
func Load(configured, dataDir string) (*Hasher, error) {
	if configured != "" {
		return New([]byte(configured))
	}
	path := filepath.Join(dataDir, KeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		key, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil {
			return nil, fmt.Errorf("pseudonym: %s: %w", path, derr)
		}
		return New(key)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("pseudonym: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("pseudonym: new key: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("pseudonym: %w", err)
	}
	// O_EXCL: two processes starting at once keep the key written first.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return Load("", dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("pseudonym: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("pseudonym: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("pseudonym: write %s: %w", path, err)
	}
	return New(key)
}
