package telegram

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// MaxPageSize is the largest page ParsePage reads. A preview page of twenty
// posts weighs 50-300 KiB; the margin covers long posts and heavy markup.
const MaxPageSize = 8 << 20

// ParsePage reads one preview page of channel (as served at PageURL) into its
// posts, title and cursor to older posts. channel is the username that was
// asked for: posts of another channel are not returned, and it names the page
// in errors; "" accepts any channel.
//
// A channel without posts — or Telegram's "No posts found" notice, which it
// also serves when rate limiting — is an empty Page and no error. Otherwise
// the error wraps ErrPageTooLarge, ErrNotTelegram, ErrNotChannel or
// ErrMarkupChanged, or reports an HTML the parser refused (over 512 nested
// elements).
func ParsePage(r io.Reader, channel string) (Page, error) {
	where := channel
	switch {
	case channel == "":
		where = "page"
	case !ValidChannel(channel):
		where = strconv.Quote(channel)
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxPageSize+1))
	if err != nil {
		return Page{}, fmt.Errorf("telegram: %s: read page: %w", where, err)
	}
	if len(data) > MaxPageSize {
		return Page{}, fmt.Errorf("telegram: %s: page over %d bytes: %w", where, MaxPageSize, ErrPageTooLarge)
	}
	doc, err := html.Parse(bytes.NewReader(data))
	if err != nil {
		return Page{}, fmt.Errorf("telegram: %s: parse HTML: %w", where, err)
	}

	s := scanPage(doc)
	page := Page{Title: s.title, Before: s.before}
	var (
		read, bad, foreign int
		whyBad, other      string
		ids                = make(map[int64]bool)
	)
	for _, m := range s.messages {
		post, v, detail := parseMessage(m, channel)
		switch v {
		case postKept:
			read++
			if !ids[post.ID] {
				ids[post.ID] = true
				page.Posts = append(page.Posts, post)
			}
		case postEmpty, postService:
			read++
		case postForeign:
			foreign++
			other = firstNonEmpty(other, detail)
		case postUnreadable:
			bad++
			whyBad = firstNonEmpty(whyBad, detail)
		}
	}
	if read > 0 {
		page.Skipped = bad + foreign + s.emptyWraps()
		return page, nil
	}

	switch {
	case foreign > 0:
		return Page{}, fmt.Errorf("telegram: %s: page shows posts of channel %q: %w", where, other, ErrNotChannel)
	case bad > 0:
		return Page{}, fmt.Errorf("telegram: %s: %d message block(s), none readable (first: %s): %w", where, bad, whyBad, ErrMarkupChanged)
	}
	if signs := s.postSigns(); signs != "" {
		return Page{}, fmt.Errorf("telegram: %s: no message block, but %s: %w", where, signs, ErrMarkupChanged)
	}
	switch {
	case s.history:
		return page, nil
	case s.channelInfo:
		return Page{}, fmt.Errorf("telegram: %s: channel header without a message history: %w", where, ErrMarkupChanged)
	case s.profile:
		return Page{}, fmt.Errorf("telegram: %s: profile page without web preview (private or missing channel, user, group, or preview turned off): %w", where, ErrNotChannel)
	case s.telegram:
		return Page{}, fmt.Errorf("telegram: %s: no channel header and no message history: %w", where, ErrNotChannel)
	}
	return Page{}, fmt.Errorf("telegram: %s: no Telegram markup: %w", where, ErrNotTelegram)
}

func firstNonEmpty(first, next string) string {
	if first != "" {
		return first
	}
	return next
}

// pageScan is what one pass over the document finds outside message blocks.
type pageScan struct {
	telegram    bool // tgme_/tme_ classes or og:site_name Telegram
	history     bool // .tgme_channel_history, present even when a channel is empty
	channelInfo bool // .tgme_channel_info, the channel header
	profile     bool // .tgme_page, the t.me/<name> card a preview redirects to
	title       string
	titled      bool // the first title element is read, even if empty
	before      int64

	messages []*html.Node
	wraps    []*html.Node
	filled   map[*html.Node]bool // wraps holding a message or the no-posts notice

	// Signs of posts outside any message block: what renamed classes leave.
	dataPosts, times, parts int
}

func scanPage(doc *html.Node) *pageScan {
	s := &pageScan{filled: make(map[*html.Node]bool)}
	walk(doc, func(n *html.Node) bool {
		if n.Type != html.ElementNode {
			return n.Type == html.DocumentNode
		}
		var msg, wrap, notice, part bool
		for c := range strings.FieldsSeq(attr(n, "class")) {
			switch c {
			case "tgme_widget_message":
				msg = true
			case "tgme_widget_message_wrap":
				wrap = true
			case "tme_no_messages_found":
				notice = true
			case "tgme_channel_history":
				s.history = true
			case "tgme_channel_info":
				s.channelInfo = true
			case "tgme_page", "tgme_page_title", "tgme_page_extra":
				s.profile = true
			case "tgme_channel_info_header_title":
				if !s.titled {
					s.title, s.titled = oneLine(n), true
				}
			case "tme_messages_more":
				if s.before == 0 {
					s.before = parseID(attr(n, "data-before"))
				}
			case "tgme_widget_message_text", "tgme_widget_message_date", "tgme_widget_message_bubble",
				"js-widget_message", "js-message_text":
				part = true
			}
			if strings.HasPrefix(c, "tgme_") || strings.HasPrefix(c, "tme_") {
				s.telegram = true
			}
		}
		switch {
		case msg:
			s.messages = append(s.messages, n)
			s.fill(n)
			return false
		case notice:
			s.fill(n)
		case wrap:
			s.wraps = append(s.wraps, n)
		case part:
			s.parts++
		}
		if _, ok := attrOK(n, "data-post"); ok {
			s.dataPosts++
		}
		switch n.DataAtom {
		case atom.Time:
			if _, ok := attrOK(n, "datetime"); ok {
				s.times++
			}
		case atom.Meta:
			if attr(n, "property") == "og:site_name" && strings.EqualFold(strings.TrimSpace(attr(n, "content")), "Telegram") {
				s.telegram = true
			}
		}
		return true
	})
	return s
}

// fill marks the message wrap around n as holding something.
func (s *pageScan) fill(n *html.Node) {
	for p := n.Parent; p != nil; p = p.Parent {
		if hasClass(p, "tgme_widget_message_wrap") {
			s.filled[p] = true
			return
		}
	}
}

func (s *pageScan) emptyWraps() int {
	n := 0
	for _, w := range s.wraps {
		if !s.filled[w] {
			n++
		}
	}
	return n
}

// postSigns describes what on the page looks like posts nobody could find.
func (s *pageScan) postSigns() string {
	var signs []string
	if n := s.emptyWraps(); n > 0 {
		signs = append(signs, fmt.Sprintf("%d message wrap(s) with no message inside", n))
	}
	if s.dataPosts > 0 {
		signs = append(signs, fmt.Sprintf("%d data-post attribute(s)", s.dataPosts))
	}
	if s.telegram && s.times > 0 {
		signs = append(signs, fmt.Sprintf("%d <time datetime> element(s)", s.times))
	}
	if s.parts > 0 {
		signs = append(signs, fmt.Sprintf("%d post part(s) (text, date or bubble)", s.parts))
	}
	return strings.Join(signs, ", ")
}

type verdict int

const (
	postKept       verdict = iota
	postEmpty              // read, but with neither text nor links
	postService            // "channel created", "photo updated"
	postForeign            // another channel's post
	postUnreadable         // no usable data-post or date
)

// msgParts are the first elements of each kind inside one message block,
// outside the quoted post of a reply.
type msgParts struct {
	text, date, views, author *html.Node
	forwarded, forwardedName  *html.Node
	previews                  []*html.Node
	service                   bool
}

func findParts(msg *html.Node) msgParts {
	var p msgParts
	walk(msg, func(n *html.Node) bool {
		if n.Type != html.ElementNode {
			return false
		}
		descend := true
		for c := range strings.FieldsSeq(attr(n, "class")) {
			switch c {
			case "tgme_widget_message_reply", "js-message_reply_text":
				// the quoted post's text, author and date are not this post's
				return false
			case "service_message":
				p.service = true
			case "tgme_widget_message_text":
				p.text, descend = first(p.text, n), false
			case "tgme_widget_message_date":
				p.date = first(p.date, n)
			case "tgme_widget_message_views":
				p.views, descend = first(p.views, n), false
			case "tgme_widget_message_from_author":
				p.author, descend = first(p.author, n), false
			case "tgme_widget_message_forwarded_from":
				p.forwarded = first(p.forwarded, n)
			case "tgme_widget_message_forwarded_from_name":
				p.forwardedName, descend = first(p.forwardedName, n), false
			case "tgme_widget_message_link_preview":
				p.previews, descend = append(p.previews, n), false
			}
		}
		return descend
	})
	return p
}

func first(have, n *html.Node) *html.Node {
	if have != nil {
		return have
	}
	return n
}

// parseMessage reads one .tgme_widget_message block. The string is the
// foreign channel for postForeign and what was wrong for postUnreadable.
func parseMessage(msg *html.Node, want string) (Post, verdict, string) {
	if hasClass(msg, "service_message") {
		return Post{}, postService, ""
	}
	dataPost, ok := attrOK(msg, "data-post")
	if !ok {
		return Post{}, postUnreadable, "no data-post attribute"
	}
	channel, id, ok := splitDataPost(dataPost)
	if !ok {
		return Post{}, postUnreadable, fmt.Sprintf("data-post %q is not channel/id", clip(dataPost, 80))
	}
	if want != "" && !strings.EqualFold(channel, want) {
		return Post{}, postForeign, channel
	}
	p := findParts(msg)
	if p.service {
		return Post{}, postService, ""
	}
	if p.date == nil {
		return Post{}, postUnreadable, fmt.Sprintf("post %d has no .tgme_widget_message_date", id)
	}
	date, ok := parseDate(p.date)
	if !ok {
		return Post{}, postUnreadable, fmt.Sprintf("post %d has no readable <time datetime>", id)
	}

	channel = strings.ToLower(channel)
	post := Post{
		Channel: channel,
		ID:      id,
		URL:     "https://t.me/" + channel + "/" + strconv.FormatInt(id, 10),
		Date:    date,
	}
	var w textWriter
	if p.text != nil {
		w.children(p.text, false)
		post.Text = tidy(w.b.String())
	}
	for _, a := range p.previews {
		w.addLink(attr(a, "href"))
	}
	post.Links = w.links
	if p.views != nil {
		post.Views = parseViews(oneLine(p.views))
	}
	switch {
	case p.forwardedName != nil:
		post.ForwardedFrom = oneLine(p.forwardedName)
	case p.forwarded != nil:
		post.ForwardedFrom = strings.TrimSpace(strings.TrimPrefix(oneLine(p.forwarded), "Forwarded from"))
	}
	if p.author != nil {
		post.Author = oneLine(p.author)
	}
	if post.Text == "" && len(post.Links) == 0 {
		return Post{}, postEmpty, ""
	}
	return post, postKept, ""
}

// splitDataPost splits data-post="channel/123".
func splitDataPost(s string) (channel string, id int64, ok bool) {
	i := strings.LastIndexByte(s, '/')
	if i < 1 || i > 64 {
		return "", 0, false
	}
	channel = s[:i]
	for j := 0; j < len(channel); j++ {
		if c := channel[j]; !isLetter(c) && !isDigit(c) && c != '_' {
			return "", 0, false
		}
	}
	id = parseID(s[i+1:])
	return channel, id, id > 0
}

// parseID reads a positive decimal id, 0 when s is anything else.
func parseID(s string) int64 {
	if s == "" || len(s) > 18 {
		return 0
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0
		}
	}
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// parseDate reads the datetime attribute inside the post's date link.
func parseDate(date *html.Node) (t time.Time, ok bool) {
	walk(date, func(n *html.Node) bool {
		if ok || n.Type != html.ElementNode {
			return false
		}
		if v, has := attrOK(n, "datetime"); has {
			d, err := time.Parse(time.RFC3339, strings.TrimSpace(v))
			if err == nil && !d.IsZero() {
				t, ok = d.UTC(), true
			}
			return false
		}
		return true
	})
	return t, ok
}

// parseViews reads a view counter as the preview abbreviates it: "845",
// "1.2K", "12.4K", "3M". Anything else is 0.
func parseViews(s string) int {
	mult := int64(1)
	if s != "" {
		switch s[len(s)-1] {
		case 'K', 'k':
			mult = 1_000
		case 'M', 'm':
			mult = 1_000_000
		case 'B', 'b':
			mult = 1_000_000_000
		}
		if mult > 1 {
			s = strings.TrimSpace(s[:len(s)-1])
		}
	}
	whole, frac, dot := strings.Cut(strings.Replace(s, ",", ".", 1), ".")
	if whole == "" || len(whole) > 9 || !digits(whole) || dot && (mult == 1 || frac == "" || !digits(frac)) {
		return 0
	}
	n, _ := strconv.ParseInt(whole, 10, 64)
	n *= mult
	for i, scale := 0, mult/10; i < len(frac) && scale > 0; i, scale = i+1, scale/10 {
		n += int64(frac[i]-'0') * scale
	}
	return int(min(n, math.MaxInt))
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
