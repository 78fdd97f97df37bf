package telegram_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/veille-project/veille/pipeline/parse/telegram"
)

// site serves pages by cursor and records the cursors asked for.
type site struct {
	pages map[int64]telegram.Page
	asked []int64
	fail  map[int64]error
}

func (s *site) fetch(_ context.Context, before int64) (telegram.Page, error) {
	s.asked = append(s.asked, before)
	if err := s.fail[before]; err != nil {
		return telegram.Page{}, err
	}
	p, ok := s.pages[before]
	if !ok {
		return telegram.Page{}, fmt.Errorf("no page before %d", before)
	}
	return p, nil
}

func posts(ids ...int64) []telegram.Post {
	var ps []telegram.Post
	for _, id := range ids {
		ps = append(ps, telegram.Post{Channel: "veille_rca", ID: id, Text: fmt.Sprint("post ", id)})
	}
	return ps
}

// three pages of a channel: 21-30 newest, 11-20, 1-10 first.
func threePages() *site {
	return &site{pages: map[int64]telegram.Page{
		0:  {Posts: posts(21, 22, 24, 25, 27, 28, 30), Before: 21},
		21: {Posts: posts(11, 12, 13, 15, 16, 18, 20), Before: 11},
		11: {Posts: posts(1, 2, 3, 5, 8, 9, 10)},
	}}
}

func ids(ps []telegram.Post) []int64 {
	out := []int64{}
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func TestCollect(t *testing.T) {
	for _, tc := range []struct {
		name      string
		lastSeen  int64
		maxPages  int
		wantIDs   []int64
		wantAsked []int64
	}{
		{"first run walks to the channel's start", 0, 10, []int64{1, 2, 3, 5, 8, 9, 10, 11, 12, 13, 15, 16, 18, 20, 21, 22, 24, 25, 27, 28, 30}, []int64{0, 21, 11}},
		{"stops at the page holding the last seen post", 25, 10, []int64{27, 28, 30}, []int64{0}},
		{"follows the cursor back to the last seen post", 16, 10, []int64{18, 20, 21, 22, 24, 25, 27, 28, 30}, []int64{0, 21}},
		{"no older page when the cursor is just past the last seen post", 20, 10, []int64{21, 22, 24, 25, 27, 28, 30}, []int64{0}},
		{"nothing new", 30, 10, []int64{}, []int64{0}},
		{"last seen beyond the newest post (deleted posts)", 31, 10, []int64{}, []int64{0}},
		{"page limit", 0, 2, []int64{11, 12, 13, 15, 16, 18, 20, 21, 22, 24, 25, 27, 28, 30}, []int64{0, 21}},
		{"page limit below one fetches one page", 0, 0, []int64{21, 22, 24, 25, 27, 28, 30}, []int64{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := threePages()
			got, err := telegram.Collect(t.Context(), s.fetch, tc.lastSeen, tc.maxPages)
			if err != nil {
				t.Fatalf("Collect: %v", err)
			}
			if !slices.Equal(ids(got), tc.wantIDs) {
				t.Errorf("ids %v, want %v", ids(got), tc.wantIDs)
			}
			if !slices.Equal(s.asked, tc.wantAsked) {
				t.Errorf("fetched before=%v, want %v", s.asked, tc.wantAsked)
			}
		})
	}
}

func TestCollectDeduplicatesShiftedPages(t *testing.T) {
	// a post published between two fetches pushes 21 onto the older page too
	s := threePages()
	s.pages[21] = telegram.Page{Posts: posts(15, 16, 18, 20, 21), Before: 15}
	s.pages[15] = telegram.Page{Posts: posts(13, 13, 14)}
	got, err := telegram.Collect(t.Context(), s.fetch, 12, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{13, 14, 15, 16, 18, 20, 21, 22, 24, 25, 27, 28, 30}; !slices.Equal(ids(got), want) {
		t.Errorf("ids %v, want %v", ids(got), want)
	}
}

func TestCollectStopsOnACursorThatDoesNotMoveBack(t *testing.T) {
	for _, before := range []int64{21, 40} {
		s := threePages()
		s.pages[21] = telegram.Page{Posts: posts(20), Before: before}
		got, err := telegram.Collect(t.Context(), s.fetch, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if want := []int64{0, 21}; !slices.Equal(s.asked, want) {
			t.Errorf("cursor %d: fetched before=%v, want %v", before, s.asked, want)
		}
		if len(got) != 8 {
			t.Errorf("cursor %d: %d posts, want 8", before, len(got))
		}
	}
}

func TestCollectKeepsGoingPastPagesWithoutText(t *testing.T) {
	// a page of photos only parses to no posts but still has its cursor
	s := threePages()
	s.pages[21] = telegram.Page{Before: 11}
	got, err := telegram.Collect(t.Context(), s.fetch, 9, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{10, 21, 22, 24, 25, 27, 28, 30}; !slices.Equal(ids(got), want) {
		t.Errorf("ids %v, want %v", ids(got), want)
	}
}

func TestCollectReturnsNothingOnAFetchError(t *testing.T) {
	s := threePages()
	s.fail = map[int64]error{21: telegram.ErrMarkupChanged}
	got, err := telegram.Collect(t.Context(), s.fetch, 0, 10)
	if !errors.Is(err, telegram.ErrMarkupChanged) || got != nil {
		t.Fatalf("Collect = %d posts, %v; want none and the fetch error", len(got), err)
	}
}

func TestCollectStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s := threePages()
	_, err := telegram.Collect(ctx, s.fetch, 0, 10)
	if !errors.Is(err, context.Canceled) || len(s.asked) != 0 {
		t.Fatalf("Collect = %v after %d fetches; want context.Canceled and none", err, len(s.asked))
	}
}

// The saved pages, served as a poller would fetch them.
func TestCollectOverSavedPages(t *testing.T) {
	files := map[int64]string{0: "channel_newest.html", 10: "channel_before_10.html"}
	var asked []int64
	fetch := func(_ context.Context, before int64) (telegram.Page, error) {
		asked = append(asked, before)
		f, err := os.Open(filepath.Join("testdata", files[before]))
		if err != nil {
			return telegram.Page{}, err
		}
		defer f.Close()
		return telegram.ParsePage(f, "BanguiVeilleInfo")
	}
	got, err := telegram.Collect(t.Context(), fetch, 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{5, 6, 8, 9, 10, 11, 12, 16, 17, 18, 20, 21}; !slices.Equal(ids(got), want) {
		t.Errorf("ids %v, want %v", ids(got), want)
	}
	if want := []int64{0, 10}; !slices.Equal(asked, want) {
		t.Errorf("fetched before=%v, want %v", asked, want)
	}
}
