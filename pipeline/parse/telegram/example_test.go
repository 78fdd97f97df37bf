package telegram_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/veille-project/veille/pipeline/parse/telegram"
)

// A poller's round: fetch the channel's pages newer than the last post seen.
// Politeness (a delay between pages, backing off on 429) belongs in fetch.
func Example() {
	const channel = "BanguiVeilleInfo"
	var lastSeen int64 = 16 // stored from the previous round

	fetch := func(ctx context.Context, before int64) (telegram.Page, error) {
		u, err := telegram.PageURL("", channel, before)
		if err != nil {
			return telegram.Page{}, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return telegram.Page{}, err
		}
		// A channel without preview redirects to its profile page, which
		// ParsePage reports as ErrNotChannel.
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return telegram.Page{}, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return telegram.Page{}, fmt.Errorf("%s: %s", u, resp.Status)
		}
		return telegram.ParsePage(resp.Body, channel)
	}

	posts, err := telegram.Collect(context.Background(), fetch, lastSeen, 5)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range posts {
		fmt.Println(p.ID, p.Date, p.URL)
		lastSeen = max(lastSeen, p.ID)
	}
}
