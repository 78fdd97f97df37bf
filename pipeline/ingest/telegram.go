package ingest

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/veille-project/veille/domain"
	"github.com/veille-project/veille/pipeline/config"
	"github.com/veille-project/veille/pipeline/parse"
	"github.com/veille-project/veille/pipeline/parse/telegram"
)

// telegramPages bounds the pages one poll of a channel walks back: a
// channel that posted more since the last poll loses the posts in between
// rather than holding the poll for long.
const telegramPages = 5

// pollTelegram reads a public channel's web preview: the newest page, and
// older pages back to the last post seen (one page on the first poll).
// Each post becomes an item of kind post; its signature, if any, is kept
// only as a keyed hash. A page whose markup is no longer understood fails
// the poll with telegram.ErrMarkupChanged, which the source's health shows.
func (p *Poller) pollTelegram(ctx context.Context, src config.Source, publish PublishFunc) (PollResult, int, error) {
	res := PollResult{Format: "telegram"}
	base, channel, err := telegram.ParsePreviewURL(src.URL)
	if err != nil {
		return res, 0, err
	}
	p.mu.Lock()
	last := p.tgLast[src.Name]
	p.mu.Unlock()
	pages := telegramPages
	if last == 0 {
		pages = 1
	}
	status := 0
	posts, err := telegram.Collect(ctx, func(ctx context.Context, before int64) (telegram.Page, error) {
		u, err := telegram.PageURL(base, channel, before)
		if err != nil {
			return telegram.Page{}, err
		}
		resp, err := p.f.Get(ctx, u)
		if err != nil {
			return telegram.Page{}, err
		}
		status = resp.StatusCode
		return telegram.ParsePage(bytes.NewReader(resp.Body), channel)
	}, last, pages)
	if err != nil {
		return res, status, err
	}
	now := p.opts.Now()
	res.Entries = len(posts)
	newest := last
	for _, post := range posts {
		it := p.postItem(src, post, now)
		if err := p.offer(ctx, it, publish, &res); err != nil {
			return res, status, err
		}
		newest = max(newest, post.ID)
	}
	if res.Deferred == 0 {
		p.mu.Lock()
		p.tgLast[src.Name] = newest
		p.mu.Unlock()
	}
	return res, status, nil
}

// postItem turns a channel post into an item.
func (p *Poller) postItem(src config.Source, post telegram.Post, now time.Time) domain.Item {
	it := domain.Item{
		ID: parse.ItemID(src.Name, post.URL), Source: src.Name, Kind: domain.KindPost, URL: post.URL,
		Text: post.Text, Lang: parse.NormLang(src.Lang), Mission: src.Mission, Station: src.Station,
		Published: post.Date, Fetched: now, Meta: map[string]string{"channel": post.Channel},
	}
	if it.Published.IsZero() {
		it.Published = now
	}
	if p.opts.Authors != nil {
		it.Author = p.opts.Authors.Hash("telegram", post.Author)
	}
	if len(post.Links) > 0 {
		it.Meta["links"] = strings.Join(post.Links, " ")
	}
	if post.Views > 0 {
		it.Meta["views"] = strconv.Itoa(post.Views)
	}
	if post.ForwardedFrom != "" {
		it.Meta["forwarded_from"] = post.ForwardedFrom
	}
	if len(it.Text) > parse.MaxItemText {
		it.Text = parse.Clip(it.Text, parse.MaxItemText)
	}
	it.ContentHash = parse.ContentHash(it.Text)
	return it
}
