package telegram

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// DefaultBase is where PageURL points when given no base.
const DefaultBase = "https://t.me"

// ValidChannel reports whether name is a public channel username as t.me
// accepts it: 5 to 32 ASCII letters, digits or underscores, starting with a
// letter. Anything else — "@name", paths, queries, percent-escapes — is
// refused, so a valid name can go into a URL path as it is.
func ValidChannel(name string) bool {
	if len(name) < 5 || len(name) > 32 || !isLetter(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isLetter(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// PageURL is the address of a channel's preview page: the newest posts when
// before is 0, else the posts older than post before. base is the scheme and
// host (optionally a path prefix) to use, DefaultBase when empty; it may not
// carry credentials, a query or a fragment.
func PageURL(base, channel string, before int64) (string, error) {
	if !ValidChannel(channel) {
		return "", fmt.Errorf("telegram: channel %q: want 5-32 letters, digits or underscores starting with a letter: %w", channel, ErrInvalidChannel)
	}
	if before < 0 {
		return "", fmt.Errorf("telegram: %s: negative before cursor %d", channel, before)
	}
	if base == "" {
		base = DefaultBase
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("telegram: base URL: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.Opaque != "" ||
		u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("telegram: base URL %q: want http(s)://host[/path] without credentials, query or fragment", base)
	}
	page := url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimSuffix(u.Path, "/") + "/s/" + channel}
	if before > 0 {
		page.RawQuery = "before=" + strconv.FormatInt(before, 10)
	}
	return page.String(), nil
}

// ParsePreviewURL splits a channel's preview address, as a source names it
// ("https://t.me/s/<channel>", or the same path under another base), into
// the base PageURL takes and the channel.
func ParsePreviewURL(raw string) (base, channel string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("telegram: %q: %w", raw, err)
	}
	i := strings.LastIndex(u.Path, "/s/")
	if i < 0 {
		return "", "", fmt.Errorf("telegram: %q: want a channel preview address, https://t.me/s/<channel>", raw)
	}
	channel = strings.TrimSuffix(u.Path[i+len("/s/"):], "/")
	base = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path[:i]}).String()
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", "", fmt.Errorf("telegram: %q: no query, fragment or credentials in a channel address", raw)
	}
	if _, err := PageURL(base, channel, 0); err != nil {
		return "", "", err
	}
	return base, channel, nil
}
