package exports_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/parse/exports"
)

const icd = "Info Centrafrique Direct"

func TestTelegram(t *testing.T) {
	for _, tc := range []struct {
		file string
		opts exports.Options
		want []wantMsg
		errs []wantErr
	}{
		{
			file: "telegram/channel_result.json",
			want: []wantMsg{
				{line: 2, id: "2", chat: icd, author: icd, date: "2024-05-01T10:11:12Z",
					text: "Bonjour à tous. Ce canal relaie les informations locales de Bangui et des préfectures."},
				// "text" as an array: entities joined, links from "link" and "text_link".
				{line: 3, id: "3", chat: icd, author: icd, date: "2024-05-02T16:42:05Z",
					text:  "URGENT Bambari : des habitants affirment que les casques bleus auraient quitté la ville cette nuit. Source : https://example.org/bambari-depart\nDémenti de la mission ici #Bambari",
					links: []string{"https://example.org/bambari-depart", "https://minusca.example.org/communique/2024-05-02"}},
				// Message 4 is a photo without caption: dropped.
				{line: 5, id: "5", chat: icd, author: icd, date: "2024-05-03T06:05:40Z", fwd: "Énergie Bangui Infos",
					text:  "Coupure d'électricité prévue demain dans les 3e et 5e arrondissements. Plus d'infos : www.example.net/energie",
					links: []string{"http://www.example.net/energie"}},
				// No date_unixtime: the local "date" is read in Options.Location, UTC here.
				{line: 6, id: "6", chat: icd, author: icd, date: "2024-05-03T07:30:00Z",
					text: "Rappel : la MINUSCA tient un point de presse ce mercredi à 10h."},
				{line: 7, id: "7", chat: icd, author: icd, date: "2024-05-03T12:00:09Z",
					text: "عاجل: إشاعة في بيراو عن انسحاب قوات حفظ السلام. البعثة تنفي ذلك."},
				// "from": null (deleted account): the author is from_id.
				{line: 8, id: "8", chat: icd, author: "user6011223344", date: "2024-05-03T15:20:00Z",
					text: "@veille_bangui Wananchi wa Bria wanaombwa kuwa watulivu, habari za kuondoka kwa walinda amani si za kweli."},
				// 9 is only white space and 10 a sticker: dropped.
			},
		},
		{
			file: "telegram/channel_result.json",
			opts: exports.Options{Location: time.FixedZone("WAT", 3600)},
			want: []wantMsg{
				{line: 2, id: "2", chat: icd, author: icd, date: "2024-05-01T10:11:12Z",
					text: "Bonjour à tous. Ce canal relaie les informations locales de Bangui et des préfectures."},
				{line: 3, id: "3", chat: icd, author: icd, date: "2024-05-02T16:42:05Z",
					text:  "URGENT Bambari : des habitants affirment que les casques bleus auraient quitté la ville cette nuit. Source : https://example.org/bambari-depart\nDémenti de la mission ici #Bambari",
					links: []string{"https://example.org/bambari-depart", "https://minusca.example.org/communique/2024-05-02"}},
				{line: 5, id: "5", chat: icd, author: icd, date: "2024-05-03T06:05:40Z", fwd: "Énergie Bangui Infos",
					text:  "Coupure d'électricité prévue demain dans les 3e et 5e arrondissements. Plus d'infos : www.example.net/energie",
					links: []string{"http://www.example.net/energie"}},
				// Only the zone-less date moves with the location.
				{line: 6, id: "6", chat: icd, author: icd, date: "2024-05-03T06:30:00Z",
					text: "Rappel : la MINUSCA tient un point de presse ce mercredi à 10h."},
				{line: 7, id: "7", chat: icd, author: icd, date: "2024-05-03T12:00:09Z",
					text: "عاجل: إشاعة في بيراو عن انسحاب قوات حفظ السلام. البعثة تنفي ذلك."},
				{line: 8, id: "8", chat: icd, author: "user6011223344", date: "2024-05-03T15:20:00Z",
					text: "@veille_bangui Wananchi wa Bria wanaombwa kuwa watulivu, habari za kuondoka kwa walinda amani si za kweli."},
			},
		},
		{
			// Whole-account export: ids repeat across chats, so they carry the chat id.
			file: "telegram/account_result.json",
			want: []wantMsg{
				{line: 2, id: "4400123:2", chat: "Cellule Veille Bangui", author: "Awa Doumbia", date: "2024-02-01T07:05:00Z",
					text: "Point du matin : la rumeur sur l'enlèvement d'enfants par des casques bleus à Bouar revient sur Facebook."},
				{line: 3, id: "4400123:3", chat: "Cellule Veille Bangui", author: "Jean-Pierre Yakété", date: "2024-02-01T07:09:30Z",
					text:  "Même texte qu'en 2022, déjà vérifié : notre fiche.",
					links: []string{"https://veille.example.org/fiches/bouar-2022"}},
				{line: 1, id: "5550002:2", chat: "Jean-Pierre Yakété", author: "Jean-Pierre Yakété", date: "2024-02-02T18:40:00Z",
					text: "Je serai à la radio communautaire de Bouar demain matin pour l'émission."},
				// Saved messages have no chat name.
				{line: 1, id: "5550001:7", chat: "", author: "Awa Doumbia", date: "2024-02-03T09:00:00Z", fwd: "UN News Français",
					text:  "Le Conseil de sécurité renouvelle le mandat de la mission https://news.example.org/fr/story/2024/02/1140000",
					links: []string{"https://news.example.org/fr/story/2024/02/1140000"}},
				{line: 1, id: "1790000555:2", chat: "Rumeurs Bangui 24", author: "Bangui Vérité", date: "2024-01-15T20:12:00Z",
					text: "Les étrangers de la MINUSCA volent notre or à Ndassima !!! Partagez avant suppression"},
			},
		},
		{
			file: "telegram/malformed_result.json",
			want: []wantMsg{
				{line: 1, id: "10", chat: "Veille Bossangoa", author: "Prisca Yangoué", date: "2024-03-10T08:00:00Z",
					text: "Premier message lisible."},
				{line: 7, id: "16", chat: "Veille Bossangoa", author: "Fiston Ndakala", date: "2024-03-10T08:06:00Z",
					text: "Dernier message lisible, après les erreurs."},
			},
			errs: []wantErr{
				{line: 2, says: "text is neither a string nor an array"},
				{line: 3, says: `date_unixtime "hier soir" is not a number`},
				{line: 4, says: "no id"},
				{line: 5, says: "text[1] is neither a string nor an entity"},
				{line: 6, says: "not a JSON object"},
			},
		},
		{
			// Cut inside message 3: what came before is kept.
			file: "telegram/truncated_result.json",
			want: []wantMsg{
				{line: 2, id: "2", chat: icd, author: icd, date: "2024-05-01T10:11:12Z",
					text: "Bonjour à tous. Ce canal relaie les informations locales de Bangui et des préfectures."},
			},
			errs: []wantErr{{line: 3, says: "broken JSON"}},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			msgs, errs := parseTestdata(t, tc.file, tc.opts)
			checkMessages(t, msgs, exports.FormatTelegramJSON, tc.want)
			checkLineErrors(t, errs, baseName(tc.file), tc.errs)
		})
	}
}

func baseName(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

func TestTelegramTextShapes(t *testing.T) {
	doc := `{"name": "Test", "type": "private_group", "id": 9, "messages": [
 {"id": 1, "type": "message", "date_unixtime": "1714558272", "from": "A", "text": "Voir https://example.org/a."},
 {"id": 2, "type": "message", "date_unixtime": "1714558272", "from": "A", "text": ["Voir ", {"type": "link", "text": "example.org/b"}, " et ", {"type": "text_link", "text": "ça", "href": "https://example.org/c"}]},
 {"id": 3, "type": "message", "date_unixtime": "1714558272", "from": "A", "text_entities": [{"type": "plain", "text": "Seulement "}, {"type": "bold", "text": "text_entities"}]},
 {"id": 4, "type": "message", "date_unixtime": 1714558272, "from_id": 5550001, "text": "Nombres au lieu de chaînes"}
]}`
	msgs, errs, err := exports.Parse(context.Background(), "result.json", strings.NewReader(doc), exports.Options{})
	if err != nil || len(errs) != 0 {
		t.Fatalf("Parse: %v %v", err, errs)
	}
	checkMessages(t, msgs, exports.FormatTelegramJSON, []wantMsg{
		{line: 1, id: "1", chat: "Test", author: "A", date: "2024-05-01T10:11:12Z", text: "Voir https://example.org/a.", links: []string{"https://example.org/a"}},
		{line: 2, id: "2", chat: "Test", author: "A", date: "2024-05-01T10:11:12Z", text: "Voir example.org/b et ça", links: []string{"http://example.org/b", "https://example.org/c"}},
		{line: 3, id: "3", chat: "Test", author: "A", date: "2024-05-01T10:11:12Z", text: "Seulement text_entities"},
		{line: 4, id: "4", chat: "Test", author: "5550001", date: "2024-05-01T10:11:12Z", text: "Nombres au lieu de chaînes"},
	})
}
