package exports_test

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/parse/exports"
)

func TestCSV(t *testing.T) {
	for _, tc := range []struct {
		file   string
		format string
		opts   exports.Options
		want   []wantMsg
		errs   []wantErr
	}{
		{
			file:   "csv/crowdtangle.csv",
			format: exports.FormatCrowdTangleCSV,
			want: []wantMsg{
				{line: 2, id: "https://www.facebook.com/radiondekeluka/posts/3890000000000001", chat: "Radio Ndeke Luka", author: "radiondekeluka",
					date: "2021-03-04T15:15:00Z", // 10:15 EST
					text: "La MINUSCA dément les rumeurs de retrait de ses troupes de Bangassou. Le communiqué complet : https://minusca.example.org/fr/communique-bangassou",
					links: []string{
						"https://www.radiondekeluka.example/actualite/bangassou",
						"https://www.radiondekeluka.example/actualite/bangassou?utm=fb",
						"https://minusca.example.org/fr/communique-bangassou",
					}},
				// Quoted over lines 3-5, with doubled quotes; no User Name, so the Facebook Id.
				{line: 3, id: "https://www.facebook.com/100064000000001/posts/2200000000000002", chat: "Centrafrique Debout", author: "100064000000001",
					date: "2021-03-05T13:30:00Z", // 14:30 CET
					text: "ALERTE !!!\nLes \"casques bleus\" auraient livré des armes aux rebelles à Bambari.\nPartagez massivement avant que Facebook ne supprime."},
				// Empty Message: Image Text, Link Text and Description instead.
				{line: 6, id: "https://www.facebook.com/banguimatin/photos/a.1/3300000000000003/", chat: "Bangui Matin", author: "banguimatin",
					date: "2021-03-06T08:00:00Z", // 09:00 +0100
					text: "STOP AUX FAKE NEWS\n\nVérifier avant de partager\n\nCampagne de sensibilisation avec les radios communautaires de la Ouaka."},
				// Line 7 is a photo without any text: dropped.
				{line: 12, id: "https://www.facebook.com/alwihda/posts/4400000000000005", chat: "Al-Wihda Tchad", author: "alwihda",
					date: "2021-03-08T21:45:00Z", // 17:45 EDT
					text: "مظاهرة في بيراو ضد بعثة الأمم المتحدة، والبعثة تدعو إلى الهدوء.", views: 15230},
				// No URL: a hash id.
				{line: 13, chat: "Radio Ndeke Luka", author: "radiondekeluka", date: "2021-03-09T06:00:00Z",
					text: "Journal du matin : la saison des pluies commence dans la Vakaga."},
			},
			errs: []wantErr{
				{line: 8, is: csv.ErrBareQuote},
				{line: 9, says: "row has 5 fields, header has 40"},
				{line: 10, says: `date "hier"`},
				{line: 11, says: `unknown zone abbreviation "XYZT"`},
			},
		},
		{
			// UTF-8 BOM, columns in another order than the documentation's.
			file:   "csv/meta.csv",
			format: exports.FormatMetaCSV,
			want: []wantMsg{
				{line: 2, id: "1000000000000001", chat: "MINUSCA", author: "MINUSCA", date: "2024-03-01T12:34:56Z", views: 4520,
					text:  "Les casques bleus népalais ont réhabilité le pont de Sibut. Reportage : https://minusca.example.org/fr/sibut-pont",
					links: []string{"https://minusca.example.org/fr/sibut-pont"}},
				// creation_time in unix seconds.
				{line: 3, id: "1000000000000002", chat: "UN Peacekeeping", author: "UN Peacekeeping", date: "2024-03-02T12:00:00Z",
					text: "Peacekeepers escorted 40 trucks of food aid to Ndélé this week.\nThe convoy met no incident."},
				// Line 5 has no text; line 6 has no zone, so Options.Location (UTC).
				{line: 6, id: "1000000000000004", chat: "Bangui Matin", author: "Bangui Matin", date: "2024-03-03T07:00:00Z",
					text: "Akwa ya Bangui : les taxis-motos en grève lundi."},
				// After the unclosed quote of line 8, reading starts again at line 9.
				{line: 9, id: "1000000000000007", chat: "MINUSCA", author: "MINUSCA", date: "2024-03-05T18:20:00Z", views: 812,
					text: "Le dernier post, après la ligne cassée."},
			},
			errs: []wantErr{
				{line: 7, says: `date "03/04/2024"`},
				{line: 8, is: csv.ErrQuote},
			},
		},
		{
			file:   "csv/generic.csv",
			format: exports.FormatCSV,
			opts:   exports.Options{HeaderMap: radioHeaderMap, Location: time.FixedZone("WAT", 3600)},
			want: []wantMsg{
				{line: 2, id: "https://veille.example.org/radio/zereda/20240410-0745", chat: "Radio Zereda", author: "Auditeur 114",
					date: "2024-04-10T06:45:00Z", views: 1200,
					text: "Un auditeur affirme que la MINUSCA va fermer la base de Kaga-Bandoro."},
				{line: 3, chat: "Radio Zereda", author: "Auditrice 27", date: "2024-04-10T07:10:00Z",
					text: "Appel d'une auditrice : « les casques bleus protègent le marché depuis lundi »."},
				{line: 4, id: "https://veille.example.org/radio/siriri/20240411-1800", chat: "Radio Siriri", date: "2024-04-11T17:00:00Z",
					text: "Tënë ti MINUSCA : patrouille na Bambari a yeke nzoni.\nFin de l'extrait."},
			},
			errs: []wantErr{{line: 6, says: `date "11 avril"`}},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			msgs, errs := parseTestdata(t, tc.file, tc.opts)
			checkMessages(t, msgs, tc.format, tc.want)
			checkLineErrors(t, errs, baseName(tc.file), tc.errs)
		})
	}
}

func TestCSVDates(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2021-03-04 10:15:00 EST", "2021-03-04T15:15:00Z"},
		{"2021-07-04 10:15:00 EDT", "2021-07-04T14:15:00Z"},
		{"2021-03-04 10:15:00 -0500", "2021-03-04T15:15:00Z"},
		{"2021-03-04 10:15:00 +01:00", "2021-03-04T09:15:00Z"},
		{"2021-03-04 10:15:00 UTC", "2021-03-04T10:15:00Z"},
		{"2021-03-04T10:15:00Z", "2021-03-04T10:15:00Z"},
		{"2021-03-04T10:15:00.250+0000", "2021-03-04T10:15:00Z"},
		{"2021-03-04T10:15:00", "2021-03-04T10:15:00Z"},
		{"2021-03-04 10:15", "2021-03-04T10:15:00Z"},
		{"2021-03-04", "2021-03-04T00:00:00Z"},
		{"1614852900", "2021-03-04T10:15:00Z"},
		{"1614852900000", "2021-03-04T10:15:00Z"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			doc := "text,creation_time,post_owner.name\nUn post.," + tc.in + ",Page\n"
			msgs, errs, err := exports.Parse(context.Background(), "posts.csv", strings.NewReader(doc), exports.Options{})
			if err != nil || len(errs) > 0 || len(msgs) != 1 {
				t.Fatalf("Parse: %d messages, %v, %v", len(msgs), errs, err)
			}
			if got := msgs[0].Date.Format(time.RFC3339); got != tc.want {
				t.Fatalf("%q read as %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestCSVCrowdTangleSplitDate(t *testing.T) {
	doc := "Page Name,User Name,Post Created,Post Created Date,Post Created Time,URL,Message\n" +
		"Radio Ndeke Luka,radiondekeluka,,2021-03-04,10:15:00,https://www.facebook.com/radiondekeluka/posts/1,Bulletin.\n"
	msgs, errs, err := exports.Parse(context.Background(), "ct.csv", strings.NewReader(doc), exports.Options{Location: time.FixedZone("EST", -5*3600)})
	if err != nil || len(errs) > 0 || len(msgs) != 1 {
		t.Fatalf("Parse: %d messages, %v, %v", len(msgs), errs, err)
	}
	if got := msgs[0].Date.Format(time.RFC3339); got != "2021-03-04T15:15:00Z" {
		t.Fatalf("date %s, want 2021-03-04T15:15:00Z", got)
	}
}

// A French spreadsheet saves CSV with semicolons, in Windows-1252.
func TestCSVFromFrenchSpreadsheet(t *testing.T) {
	hm := map[string]string{"date": "Date", "chat": "Média", "text": "Résumé", "url": "Lien", "author": "Source"}
	data := readTestdata(t, "csv/excel_fr_cp1252.csv")
	if f, ok := exports.DetectWith("veille.csv", data, exports.Options{HeaderMap: hm}); !ok || f != exports.FormatCSV {
		t.Fatalf("DetectWith = %q, %v; want %q", f, ok, exports.FormatCSV)
	}
	msgs, errs := parseTestdata(t, "csv/excel_fr_cp1252.csv", exports.Options{HeaderMap: hm})
	checkLineErrors(t, errs, "excel_fr_cp1252.csv", nil)
	checkMessages(t, msgs, exports.FormatCSV, []wantMsg{
		{line: 2, id: "https://veille.example.org/linga/20240415", chat: "Radio Linga FM", author: "Animateur", date: "2024-04-15T08:30:00Z",
			text: "Débat sur le rôle des casques bleus à Bangassou : plusieurs auditeurs réclament leur départ."},
		{line: 3, chat: "Ndeke Luka", author: "Porte-parole", date: "2024-04-15T12:00:00Z",
			text: "Le porte-parole rappelle que la mission « protège les civils ; elle ne prend pas parti »."},
	})
}

func TestCSVEncodings(t *testing.T) {
	const doc = "text\tcreation_time\tpost_owner.name\nLa MINUSCA réhabilite l'école de Kaga-Bandoro.\t2024-03-01T12:00:00Z\tMINUSCA\n"
	utf16 := []byte{0xff, 0xfe}
	for _, r := range doc {
		utf16 = append(utf16, byte(r), byte(r>>8))
	}
	for name, data := range map[string][]byte{
		"utf-8 tsv":     []byte(doc),
		"utf-8 bom tsv": append([]byte("\ufeff"), doc...),
		"utf-16 le tsv": utf16,
		"one bad byte":  []byte(strings.Replace(doc, "l'école", "l'\xe9cole réhabilitée", 1)),
	} {
		t.Run(name, func(t *testing.T) {
			msgs, errs, err := exports.Parse(context.Background(), "posts.tsv", strings.NewReader(string(data)), exports.Options{})
			if err != nil || len(errs) > 0 || len(msgs) != 1 {
				t.Fatalf("Parse: %d messages, %v, %v", len(msgs), errs, err)
			}
			if !strings.HasPrefix(msgs[0].Text, "La MINUSCA réhabilite l") {
				t.Fatalf("text %q", msgs[0].Text)
			}
		})
	}
}
