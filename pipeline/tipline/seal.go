package tipline

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// sealer makes Tip.ChatID: the raw reply address encrypted with AES-256-GCM
// under a key derived from the hash key, bound to the channel, so a stored
// tip does not reveal a chat id or phone number.
type sealer struct{ aead cipher.AEAD }

func newSealer(hashKey []byte) (sealer, error) {
	m := hmac.New(sha256.New, hashKey)
	m.Write([]byte("veille tipline: chat id sealing key v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return sealer{}, fmt.Errorf("tipline: chat id key: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return sealer{}, fmt.Errorf("tipline: chat id key: %w", err)
	}
	return sealer{aead: aead}, nil
}

func (s sealer) seal(channel, raw string) string {
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nil, nil, []byte(raw), []byte(channel)))
}

func (s sealer) open(channel, sealed string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return "", ErrBadChatID
	}
	raw, err := s.aead.Open(nil, nil, b, []byte(channel))
	if err != nil {
		return "", ErrBadChatID
	}
	return string(raw), nil
}
