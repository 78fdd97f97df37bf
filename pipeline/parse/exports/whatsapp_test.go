package exports_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/parse/exports"
)

const (
	androidEN = "whatsapp/WhatsApp Chat with Équipe Com MINUSCA.txt"
	androidFR = "whatsapp/Discussion WhatsApp avec Cellule Com Bangui.txt"
	iosEN     = "whatsapp/ios_en_chat.txt"
	iosFR     = "whatsapp/ios_fr_chat.txt"
)

// Expected messages of the WhatsApp testdata, chat name left empty.
var (
	wantAndroidEN = []wantMsg{
		// Lines 1-3: encryption notice, group created, member added.
		{line: 4, author: "Grace Mbaye", date: "2023-12-28T08:15:00Z",
			text: "Good morning team. Radio Ndeke Luka is reporting that a patrol was attacked near Kaga-Bandoro. Can someone confirm with JOC?"},
		{line: 5, author: "Tom Okello", date: "2023-12-28T08:17:00Z", text: "Checking now."},
		{line: 6, author: "Tom Okello", date: "2023-12-28T08:31:00Z",
			text:  "Confirmed: one patrol came under fire, no casualties.\nStatement being drafted, draft here: https://docs.example.org/d/kaga-bandoro-statement\nWill share by 10.",
			links: []string{"https://docs.example.org/d/kaga-bandoro-statement"}},
		// Line 9 <Media omitted>, line 10 a deleted message.
		{line: 11, author: "Tom Okello", date: "2023-12-28T09:05:00Z",
			text: "Screenshot of the post circulating on Facebook, 1.2k shares already"},
		{line: 13, author: "Grace Mbaye", date: "2023-12-28T09:20:00Z",
			text:  `The post claims the peacekeepers "fled". That's false, see the UN News piece (https://news.example.org/story/2023/12/1145000).`,
			links: []string{"https://news.example.org/story/2023/12/1145000"}},
		{line: 14, author: "Tom Okello", date: "2023-12-28T12:47:00Z", text: "Statement published"},
		// Line 15: joined with the invite link.
		{line: 16, author: "Amina Yusuf", date: "2023-12-29T08:03:00Z",
			text: "Habari za asubuhi. Kuna uvumi Bria kwamba walinda amani wanaondoka. Ni uongo."},
		{line: 17, author: "Grace Mbaye", date: "2023-12-31T23:59:00Z", text: "Happy new year everyone 🎉"},
	}
	// Every date has day and month ≤ 12: the French system lines decide.
	wantAndroidFR = []wantMsg{
		{line: 4, author: "Awa Doumbia", date: "2024-01-03T08:20:00Z",
			text: "Bonjour à tous. Une vidéo circule sur TikTok affirmant que la MINUSCA distribue des armes à Bossangoa."},
		{line: 5, author: "Jean-Pierre Yakété", date: "2024-01-03T08:22:00Z",
			text:  "Je l'ai vue. C'est une vidéo de 2019 tournée au Mali.\nLe lien : https://www.tiktok.com/@exemple/video/7300000000000000000",
			links: []string{"https://www.tiktok.com/@exemple/video/7300000000000000000"}},
		// Line 7 <Médias omis>, line 8 "Ce message a été supprimé".
		{line: 9, author: "Awa Doumbia", date: "2024-01-03T09:47:00Z",
			text: "Réunion à 11h avec la radio communautaire.\nOrdre du jour :\n- démenti sur Bossangoa\n- émission spéciale de vendredi"},
		{line: 13, author: "Moussa Ahmat", date: "2024-01-04T14:05:00Z",
			text: "السلام عليكم، الإذاعة المحلية في بيراو تنقل شائعة عن انسحاب قوات حفظ السلام. يجب الرد سريعا."},
		{line: 14, author: "Awa Doumbia", date: "2024-01-04T14:06:00Z",
			text: "Merci Moussa, on prépare un communiqué en arabe et en sango."},
	}
	// Two-digit years and no French: month first.
	wantIOSEN = []wantMsg{
		{line: 4, author: "Grace Mbaye", date: "2024-01-05T09:30:11Z",
			text: "Morning! Listeners called in about a rumour that the Birao base is closing."},
		{line: 5, author: "Tom Okello", date: "2024-01-05T09:31:52Z",
			text:  "Same on Facebook. Link: https://facebook.example.com/groups/birao.info/posts/123456",
			links: []string{"https://facebook.example.com/groups/birao.info/posts/123456"}},
		// Lines 6-7: "image omitted" and an attachment, both marked with U+200E.
		{line: 8, author: "Grace Mbaye", date: "2024-01-05T10:02:45Z",
			text: "Talking points for the 11 o'clock show:\n1. The base is not closing.\n2. Patrols continue as planned.\n\n3. Call the hotline for questions."},
		// Line 13: deleted.
		{line: 14, author: "Tom Okello", date: "2024-01-05T13:15:27Z", text: "Aired. Thanks all"},
		{line: 15, author: "+236 72 00 11 22", date: "2024-01-06T00:03:09Z", text: "Who is paying you to lie?"},
	}
	wantIOSFR = []wantMsg{
		{line: 4, author: "Awa Doumbia", date: "2024-02-14T08:15:44Z",
			text: "Rumeur à Bambari : des « hommes en tenue de casques bleus » auraient été vus près du marché. Quelqu'un peut vérifier ?"},
		{line: 5, author: "Fiston Ndakala", date: "2024-02-14T08:20:03Z",
			text: "Vérifié avec le chef de quartier, il s'agit des FACA en patrouille conjointe."},
		{line: 8, author: "Awa Doumbia", date: "2024-02-14T09:00:00Z",
			text:  "Merci. Article de Radio Ndeke Luka : https://www.radiondekeluka.example/actualite/bambari-patrouille-conjointe.html",
			links: []string{"https://www.radiondekeluka.example/actualite/bambari-patrouille-conjointe.html"}},
		{line: 10, author: "Awa Doumbia", date: "2024-02-15T21:45:09Z", text: "Bonne soirée à tous"},
	}
)

// inChat returns want with every message in chat.
func inChat(want []wantMsg, chat string) []wantMsg {
	out := make([]wantMsg, len(want))
	for i, w := range want {
		w.chat = chat
		out[i] = w
	}
	return out
}

func TestWhatsApp(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []wantMsg
		errs []wantErr
	}{
		{androidEN, inChat(wantAndroidEN, "Équipe Com MINUSCA"), nil},
		{androidFR, inChat(wantAndroidFR, "Cellule Com Bangui"), nil},
		{iosEN, wantIOSEN, nil},
		{iosFR, wantIOSFR, nil},
		{
			file: "whatsapp/malformed.txt",
			want: []wantMsg{
				{line: 1, author: "Awa Doumbia", date: "2024-03-25T10:00:00Z", text: "Premier message."},
				// Line 3 continues the refused line 2 and goes with it.
				{line: 5, author: "Jean-Pierre Yakété", date: "2024-03-26T10:15:00Z", text: "Message valide après les erreurs.\nAvec une deuxième ligne."},
				{line: 8, author: "Awa Doumbia", date: "2024-03-31T07:05:00Z", text: "Dernier message."},
			},
			errs: []wantErr{
				{line: 2, says: `"25/13/2024 10:01" is not a valid date`},
				{line: 4, says: "hour over 23"},
				{line: 7, says: `"30/02/2024 08:00" is not a valid date`},
			},
		},
	} {
		t.Run(baseName(tc.file), func(t *testing.T) {
			msgs, errs := parseTestdata(t, tc.file, exports.Options{})
			checkMessages(t, msgs, exports.FormatWhatsAppTxt, tc.want)
			checkLineErrors(t, errs, baseName(tc.file), tc.errs)
		})
	}
}

func TestWhatsAppLocation(t *testing.T) {
	msgs, _ := parseTestdata(t, iosFR, exports.Options{Location: time.FixedZone("WAT", 3600)})
	if got := msgs[0].Date.Format(time.RFC3339); got != "2024-02-14T07:15:44Z" {
		t.Fatalf("08:15:44 in UTC+1 = %s, want 2024-02-14T07:15:44Z", got)
	}
}

func TestWhatsAppDayMonthOrder(t *testing.T) {
	for _, tc := range []struct {
		name, chat string
		want       string // date of the first message
	}{
		{"en-US shape, all fields ≤ 12: month first",
			"01/02/24, 9:05 AM - Grace Mbaye: Briefing at 10.\n", "2024-01-02T09:05:00Z"},
		{"four-digit year, 24 h, no hint: day first",
			"01/02/2024, 09:05 - Grace Mbaye: Briefing at 10.\n", "2024-02-01T09:05:00Z"},
		{"a first field over 12 anywhere: day first",
			"01/02/24, 9:05 AM - Grace Mbaye: Briefing at 10.\n13/02/24, 9:05 AM - Grace Mbaye: Again.\n", "2024-02-01T09:05:00Z"},
		{"a second field over 12 anywhere: month first",
			"01/02/2024 09:05 - Awa Doumbia: Réunion à 10h.\n01/13/2024 09:05 - Awa Doumbia: Encore.\n", "2024-01-02T09:05:00Z"},
		{"French system line: day first",
			"01/02/24 09:05 - Awa Doumbia a ajouté Moussa Ahmat\n01/02/24 09:06 - Awa Doumbia: Bienvenue.\n", "2024-02-01T09:06:00Z"},
		{"French media line: day first",
			"01/02/24, 9:05 AM - Awa Doumbia: <Médias omis>\n01/02/24, 9:06 AM - Awa Doumbia: Photo du marché.\n", "2024-02-01T09:06:00Z"},
		{"French words people write do not count",
			"01/02/24, 9:05 AM - Tom Okello: Il est parti, le convoi a quitté Bria.\n", "2024-01-02T09:05:00Z"},
		{"à between date and time: day first",
			"[01/02/2024 à 09:05:00] Awa Doumbia: Réunion à 10h.\n", "2024-02-01T09:05:00Z"},
		{"four-digit first field: year first",
			"2024/02/01 09:05 - Grace Mbaye: Briefing at 10.\n", "2024-02-01T09:05:00Z"},
		{"lower-case pm with full stops, no-break space",
			"[1/2/24, 9:05:00\u00a0p.m.] Grace Mbaye: Briefing at 10.\n", "2024-01-02T21:05:00Z"},
		{"12 AM is midnight, 12 PM noon",
			"1/2/24, 12:05 AM - Grace Mbaye: Late.\n", "2024-01-02T00:05:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs, errs, err := exports.Parse(context.Background(), "chat.txt", strings.NewReader(tc.chat), exports.Options{})
			if err != nil || len(errs) > 0 || len(msgs) == 0 {
				t.Fatalf("Parse: %d messages, %v, %v", len(msgs), errs, err)
			}
			if got := msgs[0].Date.Format(time.RFC3339); got != tc.want {
				t.Fatalf("date %s, want %s", got, tc.want)
			}
		})
	}
}

func TestWhatsAppDropsSystemAndMediaLines(t *testing.T) {
	for _, line := range []string{
		"12/01/24, 9:05 AM - Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.",
		"12/01/2024 09:05 - Les messages et les appels sont chiffrés de bout en bout. Aucun tiers, pas même WhatsApp, ne peut les lire ou les écouter. Appuyez pour en savoir plus.",
		"12/01/24, 9:05 AM - Grace Mbaye added Tom Okello",
		"12/01/2024 09:05 - Awa Doumbia a ajouté Moussa Ahmat",
		`12/01/24, 9:05 AM - Grace Mbaye changed the subject from "Veille" to "Veille: Birao"`,
		"12/01/24, 9:05 AM - Grace Mbaye: <Media omitted>",
		"12/01/2024 09:05 - Awa Doumbia: <Médias omis>",
		"12/01/24, 9:05 AM - Grace Mbaye: This message was deleted",
		"12/01/2024 09:05 - Awa Doumbia: Ce message a été supprimé",
		"12/01/2024 09:05 - Awa Doumbia: Vous avez supprimé ce message",
		"12/01/24, 9:05 AM - Grace Mbaye: null",
		"12/01/24, 9:05 AM - Grace Mbaye: IMG-20240112-WA0001.jpg (file attached)",
		"12/01/2024 09:05 - Awa Doumbia: PTT-20240112-WA0002.opus (fichier joint)",
		"[12/01/24, 9:05:33\u202fAM] Grace Mbaye: \u200eimage omitted",
		"[12/01/2024 09:05:33] Awa Doumbia: \u200eimage absente",
		"\u200e[12/01/24, 9:05:33\u202fAM] Grace Mbaye: \u200e<attached: 00000012-PHOTO-2024-01-12-09-05-33.jpg>",
		"[12/01/24, 9:05:33\u202fAM] Grace Mbaye: \u200eThis message was deleted.",
		"[12/01/24, 9:05:33\u202fAM] Grace Mbaye: \u200eMissed voice call",
		"[12/01/2024 09:05:33] Veille Ouaka: \u200eAwa Doumbia a ajouté Moussa Ahmat",
	} {
		t.Run(line, func(t *testing.T) {
			msgs, errs, err := exports.Parse(context.Background(), "chat.txt", strings.NewReader(line+"\n"), exports.Options{})
			if err != nil || len(errs) > 0 || len(msgs) > 0 {
				t.Fatalf("Parse = %d messages (%+v), %v, %v; want the line dropped", len(msgs), msgs, errs, err)
			}
		})
	}
}

func TestWhatsAppTextBeforeTheFirstMessage(t *testing.T) {
	chat := "Export de la discussion\n\n12/01/2024 09:05 - Awa Doumbia: Bonjour.\n"
	msgs, errs, err := exports.Parse(context.Background(), "chat.txt", strings.NewReader(chat), exports.Options{Format: exports.FormatWhatsAppTxt})
	if err != nil {
		t.Fatal(err)
	}
	checkMessages(t, msgs, exports.FormatWhatsAppTxt, []wantMsg{{line: 3, author: "Awa Doumbia", date: "2024-01-12T09:05:00Z", text: "Bonjour."}})
	checkLineErrors(t, errs, "chat.txt", []wantErr{{line: 1, says: "not a WhatsApp message line"}})
}

func TestWhatsAppChatNameFromFileName(t *testing.T) {
	chat := readTestdata(t, iosFR)
	for name, want := range map[string]string{
		"WhatsApp Chat with Veille Ouaka.txt":           "Veille Ouaka",
		"exports/Discussion WhatsApp avec Ouaka.txt":    "Ouaka",
		`C:\Users\awa\WhatsApp Chat - Veille Ouaka.txt`: "Veille Ouaka",
		"_chat.txt": "",
		"ouaka.txt": "",
	} {
		msgs, _, err := exports.Parse(context.Background(), name, strings.NewReader(string(chat)), exports.Options{})
		if err != nil || len(msgs) == 0 {
			t.Fatalf("Parse(%q): %v", name, err)
		}
		if msgs[0].Chat != want {
			t.Errorf("Parse(%q): chat %q, want %q", name, msgs[0].Chat, want)
		}
	}
}
