package telegram

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// Collect gathers one channel's posts newer than lastSeen (a post id; 0 for
// none). It fetches the newest page (before 0), keeps the posts with an id
// above lastSeen, and follows each page's Before cursor to older pages until
// a page reaches lastSeen, the channel's first post, or maxPages pages were
// fetched (below 1 counts as 1). The posts come back oldest first, each id
// once; no new post is a nil slice.
//
// A poller stores the highest id returned and passes it as lastSeen next
// time. When a channel published more than maxPages pages since then, the
// posts between lastSeen and the oldest page fetched are not collected: the
// page limit bounds a poll's work, it does not archive a channel.
//
// Any fetch error ends the walk and nothing is returned, so a poller that
// keeps its lastSeen retries the whole range next time. fetch must serve a
// single channel; before is the cursor from the previous page.
func Collect(ctx context.Context, fetch func(ctx context.Context, before int64) (Page, error), lastSeen int64, maxPages int) ([]Post, error) {
	maxPages = max(maxPages, 1)
	var (
		posts  []Post
		seen   = make(map[int64]bool)
		before int64
	)
	for n := 1; n <= maxPages; n++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("telegram: collect: %w", err)
		}
		page, err := fetch(ctx, before)
		if err != nil {
			return nil, fmt.Errorf("telegram: collect: page %d (before %d): %w", n, before, err)
		}
		reached := false
		for _, p := range page.Posts {
			if p.ID <= lastSeen {
				reached = true
				continue
			}
			if !seen[p.ID] {
				seen[p.ID] = true
				posts = append(posts, p)
			}
		}
		next := page.Before
		// The next page would hold only ids below next: stop when those are all
		// seen, and when the cursor does not move back, so a page that keeps
		// pointing at itself cannot loop.
		if reached || next <= 0 || next-1 <= lastSeen || before > 0 && next >= before {
			break
		}
		before = next
	}
	slices.SortFunc(posts, func(a, b Post) int { return cmp.Compare(a.ID, b.ID) })
	return posts, nil
}
