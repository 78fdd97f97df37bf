// Package telegram reads the public web preview of Telegram channels
// (https://t.me/s/<channel>, older posts at ?before=<post id>) into posts. It
// owns that preview's markup — where a post's id, date, text, links, views,
// forward source and signature live, where the cursor to older posts is — and
// the verdict on a page: a channel's posts, an empty channel, a Telegram page
// that is no channel preview, or markup this package no longer recognises.
// Fetching (politeness, redirects, HTTP status) is the caller's job; Collect
// only walks a channel's pages through the fetch function it is given.
package telegram

import (
	"errors"
	"time"
)

// Errors callers branch on; the errors returned wrap them with the channel
// and what was seen on the page.
var (
	// ErrMarkupChanged: the page is Telegram's and shows signs of posts (message
	// blocks, data-post attributes, post dates) or a channel header, but no post
	// could be read. The preview's markup has most likely changed; the wrapping
	// error says what was missing.
	ErrMarkupChanged = errors.New("page markup changed")

	// ErrNotChannel: the page is Telegram's but not a public channel's preview —
	// typically t.me/<name> after the preview redirected because the channel is
	// private, missing, a user or group, or has its web preview turned off.
	ErrNotChannel = errors.New("not a public channel preview")

	// ErrNotTelegram: the page carries no Telegram markup at all (an empty body,
	// a proxy's or captive portal's page).
	ErrNotTelegram = errors.New("not a Telegram page")

	// ErrPageTooLarge: the page is over MaxPageSize bytes.
	ErrPageTooLarge = errors.New("page too large")

	// ErrInvalidChannel: a channel name that is not a public username.
	ErrInvalidChannel = errors.New("invalid channel name")
)

// Post is one channel post as the web preview shows it.
type Post struct {
	Channel string    // channel username from data-post, lower-cased
	ID      int64     // post id from data-post, > 0
	URL     string    // https://t.me/<channel>/<id>
	Date    time.Time // publication time, UTC

	// Text is the post's text as a reader sees it: entities decoded, <br> and
	// block ends as line breaks, runs of spaces collapsed, at most one blank
	// line in a row, emoji as characters. Quoted replies, forward headers and
	// link preview cards are not part of it.
	Text string

	// Links are the absolute http(s) links of the text and of the link
	// preview, in order of appearance, without duplicates. Relative links
	// (hashtag searches) and other schemes are left out.
	Links []string

	Views         int    // view count ("12.4K" is 12400), 0 when not shown
	ForwardedFrom string // name of the channel or user a forwarded post comes from

	// Author is the post's signature in channels that sign posts: a person's
	// name. Hash it before storing it and never log it.
	Author string
}

// Page is one page of a channel's preview.
type Page struct {
	Title string // channel title from the preview's header, "" if absent

	// Posts in page order, oldest first. Service messages ("channel photo
	// updated") and posts with neither text nor links (photos, stickers,
	// voice notes without caption) are left out.
	Posts []Post

	// Before is the cursor to the next older page (fetch ?before=Before), 0
	// when the page reaches the channel's first post.
	Before int64

	// Skipped counts message blocks that could not be read (no or bad
	// data-post, no or bad date) or that belong to another channel, on a page
	// where other posts were read. Non-zero means the markup may be drifting.
	Skipped int
}
