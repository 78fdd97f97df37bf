package telegram_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/parse/telegram"
)

func parseFile(t testing.TB, name, channel string) (telegram.Page, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return telegram.ParsePage(f, channel)
}

func utc(s string) time.Time {
	d, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return d.UTC()
}

func post(id int64, date, text string, views int) telegram.Post {
	return telegram.Post{
		Channel: "banguiveilleinfo",
		ID:      id,
		URL:     "https://t.me/banguiveilleinfo/" + strconv.FormatInt(id, 10),
		Date:    utc(date),
		Text:    text,
		Views:   views,
	}
}

func comparePage(t *testing.T, got, want telegram.Page) {
	t.Helper()
	if got.Title != want.Title {
		t.Errorf("Title = %q, want %q", got.Title, want.Title)
	}
	if got.Before != want.Before {
		t.Errorf("Before = %d, want %d", got.Before, want.Before)
	}
	if got.Skipped != want.Skipped {
		t.Errorf("Skipped = %d, want %d", got.Skipped, want.Skipped)
	}
	ids := func(ps []telegram.Post) []int64 {
		var out []int64
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	if !slices.Equal(ids(got.Posts), ids(want.Posts)) {
		t.Fatalf("post ids = %v, want %v", ids(got.Posts), ids(want.Posts))
	}
	for i, g := range got.Posts {
		comparePost(t, g, want.Posts[i])
	}
}

func comparePost(t *testing.T, got, want telegram.Post) {
	t.Helper()
	if got.Channel != want.Channel || got.URL != want.URL {
		t.Errorf("post %d: channel %q url %q, want %q %q", want.ID, got.Channel, got.URL, want.Channel, want.URL)
	}
	if !got.Date.Equal(want.Date) || got.Date.Location() != time.UTC {
		t.Errorf("post %d: date %v, want %v in UTC", want.ID, got.Date, want.Date)
	}
	if got.Text != want.Text {
		t.Errorf("post %d: text\n%q\nwant\n%q", want.ID, got.Text, want.Text)
	}
	if !slices.Equal(got.Links, want.Links) {
		t.Errorf("post %d: links %q, want %q", want.ID, got.Links, want.Links)
	}
	if got.Views != want.Views {
		t.Errorf("post %d: views %d, want %d", want.ID, got.Views, want.Views)
	}
	if got.ForwardedFrom != want.ForwardedFrom {
		t.Errorf("post %d: forwarded from %q, want %q", want.ID, got.ForwardedFrom, want.ForwardedFrom)
	}
	if got.Author != want.Author {
		t.Errorf("post %d: author %q, want %q", want.ID, got.Author, want.Author)
	}
}

func with(p telegram.Post, f func(*telegram.Post)) telegram.Post {
	f(&p)
	return p
}

// The newest page: an album (ids 13-14 hidden under 12), a photo-only post
// (15) and a service message (19) left out, a reply whose quote is not the
// post's text (17), entities, emoji, a spoiler, a blockquote, no views (21).
var newestPage = telegram.Page{
	Title:  "Bangui Veille Info 🇨🇫",
	Before: 10,
	Posts: []telegram.Post{
		post(10, "2026-03-14T06:12:40Z", "Bangui, 14 mars – Patrouille conjointe de la MINUSCA et des FACA au PK5 ce matin. Situation calme selon les commerçants.\n\nSources : habitants du quartier, correspondants.", 845),
		with(post(11, "2026-03-14T07:30:05Z", "Lâsô, a-casques bleus ayeke sara patrouille na Bangui. Zo oko ayeke na kpale pëpe.\n(Aujourd'hui, les casques bleus patrouillent à Bangui. Personne n'est en danger.)", 3100), func(p *telegram.Post) {
			p.ForwardedFrom = "Radio Kodro Ti Sô"
		}),
		post(12, "2026-03-14T09:02:11Z", "Remise de kits médicaux au centre de santé de Boy-Rabe 🏥\nPhotos : service communication.", 1200),
		with(post(16, "2026-03-15T08:00:00Z", "Communiqué : la mission dément toute livraison d'armes à des groupes armés.\nLire le texte intégral : example.org/minusca/communique-2026-03-15\n#MINUSCA #Bangui via @RadioKodroTiSo", 5600), func(p *telegram.Post) {
			p.Links = []string{"https://example.org/minusca/communique-2026-03-15", "https://t.me/RadioKodroTiSo"}
		}),
		with(post(17, "2026-03-15T10:20:30Z", "توضيح: لا صحة للأنباء المتداولة عن انسحاب بعثة الأمم المتحدة من بانغي.\nPrécision : aucun retrait de la mission n'est prévu.", 12400), func(p *telegram.Post) {
			p.Author = "Amina K."
		}),
		with(post(18, "2026-03-16T18:47:02Z", "⚠️ BALUKA: Basoda ya ONU bakei kotika Bangui lelo! \"Batiki biso\", elobi moto moko.\n\nALERTE : les soldats de l'ONU quitteraient Bangui aujourd'hui <<source anonyme>> & vidéo virale.", 3_000_000), func(p *telegram.Post) {
			p.ForwardedFrom = "Mbote Kin Actu"
		}),
		with(post(20, "2026-03-17T09:15:00Z", "Fact-check 🔎\nThe video shared as \"UN troops leaving Bangui\" was filmed in 2019 during a rotation of contingents. Full analysis: factcheck.example.org/rca/video-convoi-2019\n\nWatch the original briefing. Rotation ≠ retrait.", 998), func(p *telegram.Post) {
			p.Links = []string{"https://factcheck.example.org/rca/video-convoi-2019", "https://video.example.com/watch?v=Xy12&t=42"}
		}),
		with(post(21, "2026-03-17T12:05:59Z", "Rappel du couvre-feu à Bambari :\nDe 22 h à 5 h, jusqu'à nouvel ordre.\nRestez prudents. Voir le communiqué", 0), func(p *telegram.Post) {
			p.Links = []string{"https://t.me/BanguiVeilleInfo/16"}
		}),
	},
}

// The page before post 10 reaches the channel's first post: no cursor, only
// the data-after link back to newer posts.
var olderPage = telegram.Page{
	Title: "Bangui Veille Info 🇨🇫",
	Posts: []telegram.Post{
		post(2, "2025-11-02T08:05:13Z", "Bienvenue sur Bangui Veille Info 🇨🇫\nActualités locales, communiqués de la MINUSCA et vérification des rumeurs.\nWelcome! Local news and fact-checks, in French, English, Sängö and Lingala.", 1500),
		post(3, "2025-11-03T14:40:00Z", "Mbi bara ala kue! Ndo ti gbanda ti Km5 ayeke zi lâsô.\n(Bonjour à tous ! Le marché du Km5 est ouvert aujourd'hui.)", 987),
		with(post(5, "2025-11-05T07:00:00Z", "Distribution d'eau potable à Bria : 3 000 familles servies cette semaine.", 2000), func(p *telegram.Post) {
			p.ForwardedFrom = "Casques bleus RCA – Info"
		}),
		with(post(6, "2025-11-06T19:22:10Z", "Fact-check: the photo of \"burning UN vehicles\" is from 2014, not from this week.\nFull analysis", 4400), func(p *telegram.Post) {
			p.Links = []string{"https://factcheck.example.org/rca/photo-2014"}
		}),
		with(post(8, "2025-11-08T16:30:45Z", "Lisolo ya mokolo: mai ya bopeto ekomi na Bria.\nMatondo na bato nyonso 🙏", 1100), func(p *telegram.Post) {
			p.Author = "Jean-Pierre M."
		}),
		with(post(9, "2025-11-09T10:00:00Z", "Notre site est en ligne : veille-bangui.example.cf", 2900), func(p *telegram.Post) {
			p.Links = []string{"https://veille-bangui.example.cf/?utm_source=telegram&utm_medium=post", "https://veille-bangui.example.cf/"}
		}),
	},
}

func TestParsePageReadsChannelPages(t *testing.T) {
	for _, tc := range []struct {
		file, channel string
		want          telegram.Page
	}{
		{"channel_newest.html", "BanguiVeilleInfo", newestPage},
		{"channel_newest.html", "banguiveilleinfo", newestPage}, // usernames are case-insensitive
		{"channel_newest.html", "", newestPage},
		{"channel_before_10.html", "BanguiVeilleInfo", olderPage},
		{"empty_channel.html", "VeilleMbaiki", telegram.Page{Title: "Veille Mbaïki"}},
	} {
		t.Run(tc.file+"/"+tc.channel, func(t *testing.T) {
			got, err := parseFile(t, tc.file, tc.channel)
			if err != nil {
				t.Fatalf("ParsePage: %v", err)
			}
			comparePage(t, got, tc.want)
		})
	}
}

// page wraps message blocks in a preview page's history section.
func page(messages ...string) string {
	return `<!DOCTYPE html><html><head><meta property="og:site_name" content="Telegram"></head><body class="tgme_webpreview">
<div class="tgme_channel_info"><div class="tgme_channel_info_header_title"><span dir="auto">Veille</span></div></div>
<section class="tgme_channel_history js-message_history">` + strings.Join(messages, "\n") + `</section></body></html>`
}

// message is one message block; body goes inside the bubble.
func message(dataPost, body, datetime string) string {
	return `<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="` + dataPost + `"><div class="tgme_widget_message_bubble">` +
		body + `<div class="tgme_widget_message_footer"><span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" href="https://t.me/` + dataPost + `"><time datetime="` + datetime + `" class="time">10:00</time></a></span></div></div></div></div>`
}

func text(html string) string {
	return `<div class="tgme_widget_message_text js-message_text" dir="auto">` + html + `</div>`
}

const when = "2026-03-14T10:00:00+00:00"

func TestParsePageDetails(t *testing.T) {
	for _, tc := range []struct {
		name   string
		doc    string
		want   []telegram.Post // only the fields set are compared, besides ID
		before int64
		skip   int
	}{
		{
			name: "no posts found notice is an empty page",
			doc:  page(`<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message_centered"><div class="tme_no_messages_found">No posts found</div></div></div>`),
		},
		{
			name: "a link preview alone makes a post",
			doc:  page(message("veille_rca/7", `<a class="tgme_widget_message_link_preview" href="https://example.org/a"><div class="link_preview_title">Titre</div></a>`, when)),
			want: []telegram.Post{{ID: 7, Links: []string{"https://example.org/a"}}},
		},
		{
			name: "a sticker alone is left out",
			doc:  page(message("veille_rca/7", `<div class="tgme_widget_message_sticker_wrap"><i class="tgme_widget_message_sticker" data-webp="https://cdn4.telesco.pe/file/s.webp"></i></div>`, when), message("veille_rca/8", text("Bonjour"), when)),
			want: []telegram.Post{{ID: 8, Text: "Bonjour"}},
		},
		{
			name: "an unreadable block among readable ones is counted, not fatal",
			doc:  page(message("veille_rca/7", text("Un"), "hier"), message("veille_rca/8", text("Deux"), when)),
			want: []telegram.Post{{ID: 8, Text: "Deux"}},
			skip: 1,
		},
		{
			name: "dates in another offset come back in UTC",
			doc:  page(message("veille_rca/7", text("Un"), "2026-03-14T11:00:00+01:00")),
			want: []telegram.Post{{ID: 7, Text: "Un", Date: utc("2026-03-14T10:00:00Z")}},
		},
		{
			name: "a post shown twice is returned once",
			doc:  page(message("veille_rca/7", text("Un"), when), message("veille_rca/7", text("Un"), when)),
			want: []telegram.Post{{ID: 7, Text: "Un"}},
		},
		{
			name: "pre keeps its line breaks, source line breaks elsewhere are spaces",
			doc:  page(message("veille_rca/7", text("Code :\n<pre>ligne 1\nligne 2</pre>fin\nde ligne"), when)),
			want: []telegram.Post{{ID: 7, Text: "Code :\nligne 1\nligne 2\nfin de ligne"}},
		},
		{
			name: "only absolute web links count",
			doc: page(message("veille_rca/7", text(`<a href="?q=%23RCA">#RCA</a> <a href="/s/veille_rca">ici</a> <a href="//cdn.example.org/x">cdn</a> `+
				`<a href="javascript:alert(1)">js</a> <a href="tg://resolve?domain=x">tg</a> <a href="mailto:a@example.org">mail</a> <a href=" HTTPS://Example.org/B ">ok</a>`), when)),
			want: []telegram.Post{{ID: 7, Text: "#RCA ici cdn js tg mail ok", Links: []string{"HTTPS://Example.org/B"}}},
		},
		{
			name: "forward without a name element",
			doc:  page(message("veille_rca/7", `<div class="tgme_widget_message_forwarded_from accent_color">Forwarded from&nbsp;Radio Ndeke</div>`+text("Un"), when)),
			want: []telegram.Post{{ID: 7, Text: "Un", ForwardedFrom: "Radio Ndeke"}},
		},
		{
			name: "invisible and control characters go, paragraphs stay single",
			doc:  page(message("veille_rca/7", text("\u200b<br/>Un\u0007<br/><br/><br/><br/>Deux\ufeff<br/><br/>"), when)),
			want: []telegram.Post{{ID: 7, Text: "Un\n\nDeux"}},
		},
		{
			name:   "cursor from the load-more link, not the newer-posts one",
			doc:    page(`<div class="tgme_widget_message_centered js-messages_more_wrap"><a href="/s/veille_rca?after=9" class="tme_messages_more js-messages_more" data-after="9"></a></div>`, message("veille_rca/7", text("Un"), when), `<a href="/s/veille_rca?before=7" class="tme_messages_more js-messages_more" data-before="7"></a>`),
			want:   []telegram.Post{{ID: 7, Text: "Un"}},
			before: 7,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := telegram.ParsePage(strings.NewReader(tc.doc), "veille_rca")
			if err != nil {
				t.Fatalf("ParsePage: %v", err)
			}
			if got.Before != tc.before || got.Skipped != tc.skip {
				t.Errorf("Before %d Skipped %d, want %d %d", got.Before, got.Skipped, tc.before, tc.skip)
			}
			if len(got.Posts) != len(tc.want) {
				t.Fatalf("%d posts, want %d: %+v", len(got.Posts), len(tc.want), got.Posts)
			}
			for i, w := range tc.want {
				g := got.Posts[i]
				if g.ID != w.ID || g.Channel != "veille_rca" || g.Text != w.Text || !slices.Equal(g.Links, w.Links) ||
					g.ForwardedFrom != w.ForwardedFrom || !w.Date.IsZero() && !g.Date.Equal(w.Date) {
					t.Errorf("post %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

func TestParsePageErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file, doc string
		channel         string
		want            error
		says            string // part of the message a monitoring source shows
	}{
		{name: "classes renamed", file: "markup_changed.html", want: telegram.ErrMarkupChanged, says: "10 data-post attribute(s)"},
		{
			name: "message blocks without data-post",
			doc:  page(strings.ReplaceAll(message("veille_rca/7", text("Un"), when), `data-post=`, `data-msg=`)),
			want: telegram.ErrMarkupChanged, says: "none readable (first: no data-post attribute)",
		},
		{
			name: "dates that do not parse",
			doc:  page(message("veille_rca/7", text("Un"), "14/03/2026 10:00"), message("veille_rca/8", text("Deux"), "")),
			want: telegram.ErrMarkupChanged, says: "2 message block(s), none readable (first: post 7 has no readable <time datetime>)",
		},
		{
			name: "no date link",
			doc:  page(strings.ReplaceAll(message("veille_rca/7", text("Un"), when), "tgme_widget_message_date", "tgme_widget_message_when")),
			want: telegram.ErrMarkupChanged, says: "post 7 has no .tgme_widget_message_date",
		},
		{
			name: "message class renamed and data-post gone",
			doc:  page(`<div class="tgme_widget_message_wrap js-widget_message_wrap"><article class="tgme_message"><p>Un</p></article></div>`),
			want: telegram.ErrMarkupChanged, says: "1 message wrap(s) with no message inside",
		},
		{
			name: "channel header but no history section",
			doc:  strings.ReplaceAll(page(), "tgme_channel_history", "tgme_channel_feed"),
			want: telegram.ErrMarkupChanged, says: "channel header without a message history",
		},
		{name: "profile page of a channel without preview", file: "not_channel.html", want: telegram.ErrNotChannel, says: "profile page"},
		{
			name: "another channel's posts", channel: "BanguiVeilleInfo",
			doc:  page(message("autre_chaine/7", text("Un"), when)),
			want: telegram.ErrNotChannel, says: `page shows posts of channel "autre_chaine"`,
		},
		{
			name: "Telegram page that is no channel",
			doc:  `<html><body><div class="tgme_landing"><div class="tl_page">Telegram – a new era of messaging</div></div></body></html>`,
			want: telegram.ErrNotChannel,
		},
		{name: "captive portal", doc: `<html><head><title>Wi-Fi</title></head><body><h1>Connexion requise</h1><p>Acceptez les conditions.</p></body></html>`, want: telegram.ErrNotTelegram},
		{name: "empty body", doc: "", want: telegram.ErrNotTelegram},
	} {
		t.Run(tc.name, func(t *testing.T) {
			channel := tc.channel
			if channel == "" {
				channel = "veille_rca"
			}
			var err error
			if tc.file != "" {
				_, err = parseFile(t, tc.file, "")
			} else {
				_, err = telegram.ParsePage(strings.NewReader(tc.doc), channel)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParsePage = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
		})
	}
}

// endless is an endless page body.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestParsePageRefusesOversizedPages(t *testing.T) {
	_, err := telegram.ParsePage(endless{}, "veille_rca")
	if !errors.Is(err, telegram.ErrPageTooLarge) {
		t.Fatalf("ParsePage = %v, want ErrPageTooLarge", err)
	}
	// exactly at the limit is still read
	_, err = telegram.ParsePage(io.LimitReader(endless{}, telegram.MaxPageSize), "veille_rca")
	if !errors.Is(err, telegram.ErrNotTelegram) {
		t.Fatalf("ParsePage of %d spaces = %v, want ErrNotTelegram", telegram.MaxPageSize, err)
	}
}

func TestParsePageReportsReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	_, err := telegram.ParsePage(io.MultiReader(strings.NewReader("<html>"), errReader{boom}), "veille_rca")
	if !errors.Is(err, boom) {
		t.Fatalf("ParsePage = %v, want the read error", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
