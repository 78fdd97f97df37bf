package telegram_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/veille-project/veille/pipeline/parse/telegram"
)

func TestValidChannel(t *testing.T) {
	for _, name := range []string{"BanguiVeilleInfo", "veille_rca", "abcde", "a1234", "x" + strings.Repeat("_", 31)} {
		if !telegram.ValidChannel(name) {
			t.Errorf("ValidChannel(%q) = false, want true", name)
		}
	}
	for _, name := range []string{
		"", "abcd", "a" + strings.Repeat("b", 32), "1abcde", "_abcde",
		"bangui-veille", "bangui.veille", "bangui veille", "@BanguiVeilleInfo", "ÉcoleInfo",
		"../../admin", "s/abcde", "abcde/12", "abcde?before=1", "abcde#top", "abcde%2F..",
		"abcde\n", "abcde\x00", "abcdé",
	} {
		if telegram.ValidChannel(name) {
			t.Errorf("ValidChannel(%q) = true, want false", name)
		}
	}
}

func TestPageURL(t *testing.T) {
	for _, tc := range []struct {
		base, channel string
		before        int64
		want          string
	}{
		{"", "BanguiVeilleInfo", 0, "https://t.me/s/BanguiVeilleInfo"},
		{"", "BanguiVeilleInfo", 10, "https://t.me/s/BanguiVeilleInfo?before=10"},
		{"https://t.me/", "veille_rca", 0, "https://t.me/s/veille_rca"},
		{"http://127.0.0.1:8080", "veille_rca", 9223372036854775807, "http://127.0.0.1:8080/s/veille_rca?before=9223372036854775807"},
		{"https://mirror.example.org/tg/", "veille_rca", 3, "https://mirror.example.org/tg/s/veille_rca?before=3"},
	} {
		got, err := telegram.PageURL(tc.base, tc.channel, tc.before)
		if err != nil || got != tc.want {
			t.Errorf("PageURL(%q, %q, %d) = %q, %v; want %q", tc.base, tc.channel, tc.before, got, err, tc.want)
		}
	}
}

func TestPageURLRefusesBadChannels(t *testing.T) {
	for _, channel := range []string{
		"", "abc", "../../../etc/passwd", "veille_rca/../admin", "..%2F..%2Fadmin",
		"veille_rca?before=1&q=x", "veille_rca#x", "veille_rca/12", "@veille_rca",
		"veille rca", "veille_rca\r\nHost: evil.example", "https://evil.example/",
	} {
		got, err := telegram.PageURL("", channel, 0)
		if !errors.Is(err, telegram.ErrInvalidChannel) {
			t.Errorf("PageURL(%q) = %q, %v; want ErrInvalidChannel", channel, got, err)
		}
	}
}

func TestPageURLRefusesBadBases(t *testing.T) {
	for _, base := range []string{
		"t.me", "ftp://t.me", "javascript:alert(1)", "https://user:secret@t.me",
		"https://t.me/?x=1", "https://t.me/?", "https://t.me/#frag", "https://", "https://t.me/%zz", "mailto:x@t.me",
	} {
		if got, err := telegram.PageURL(base, "veille_rca", 0); err == nil {
			t.Errorf("PageURL(base %q) = %q, want an error", base, got)
		}
	}
	if _, err := telegram.PageURL("", "veille_rca", -1); err == nil {
		t.Error("PageURL with before -1: want an error")
	}
}
func TestParsePreviewURL(t *testing.T) {
	tests := []struct {
		raw, base, channel string
		ok                 bool
	}{
		{"https://t.me/s/radio_bangui_info", "https://t.me", "radio_bangui_info", true},
		{"http://127.0.0.1:8081/tg/s/veille_demo/", "http://127.0.0.1:8081/tg", "veille_demo", true},
		{"https://t.me/radio_bangui_info", "", "", false},
		{"https://t.me/s/ab", "", "", false},
		{"https://t.me/s/good_name?before=3", "", "", false},
		{"https://t.me/s/../admin", "", "", false},
		{"ftp://t.me/s/good_name", "", "", false},
	}
	for _, tc := range tests {
		base, ch, err := telegram.ParsePreviewURL(tc.raw)
		if (err == nil) != tc.ok || base != tc.base || ch != tc.channel {
			t.Errorf("ParsePreviewURL(%q) = %q, %q, %v; want %q, %q, ok %v", tc.raw, base, ch, err, tc.base, tc.channel, tc.ok)
		}
	}
}
