package exports_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/veille-project/veille/pipeline/parse/exports"
)

type zipEntry struct {
	name string
	body []byte
}

// makeZip builds a zip the way a phone shares an export: the chat text and
// its media, deflated.
func makeZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var fakeJPEG = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9")

func TestWhatsAppZip(t *testing.T) {
	for _, tc := range []struct {
		name    string // the zip's name
		entries []zipEntry
		want    []wantMsg
		errFile string
		errs    []wantErr
	}{
		{
			name: "WhatsApp Chat - Radio Guira Veille.zip",
			entries: []zipEntry{
				{"_chat.txt", readTestdata(t, iosEN)},
				{"00000012-PHOTO-2024-01-05-09-33-00.jpg", fakeJPEG},
			},
			want: inChat(wantIOSEN, "Radio Guira Veille"),
		},
		{
			name: "WhatsApp Chat with Équipe Com MINUSCA.zip",
			entries: []zipEntry{
				{"IMG-20231228-WA0004.jpg", fakeJPEG},
				{"WhatsApp Chat with Équipe Com MINUSCA.txt", readTestdata(t, androidEN)},
			},
			want: inChat(wantAndroidEN, "Équipe Com MINUSCA"),
		},
		{
			name: "Discussion WhatsApp avec Veille Ouaka.zip",
			entries: []zipEntry{
				{"_chat.txt", readTestdata(t, iosFR)},
				{"__MACOSX/._chat.txt", []byte("\x00\x05\x16\x07")},
			},
			want: inChat(wantIOSFR, "Veille Ouaka"),
		},
		{
			// Renamed by hand: the chat name comes from the entry instead.
			name:    "export-cellule.zip",
			entries: []zipEntry{{"Discussion WhatsApp avec Cellule Com Bangui.txt", readTestdata(t, androidFR)}},
			want:    inChat(wantAndroidFR, "Cellule Com Bangui"),
		},
		{
			name:    "WhatsApp Chat - Erreurs.zip",
			entries: []zipEntry{{"_chat.txt", readTestdata(t, "whatsapp/malformed.txt")}},
			want: inChat([]wantMsg{
				{line: 1, author: "Awa Doumbia", date: "2024-03-25T10:00:00Z", text: "Premier message."},
				{line: 5, author: "Jean-Pierre Yakété", date: "2024-03-26T10:15:00Z", text: "Message valide après les erreurs.\nAvec une deuxième ligne."},
				{line: 8, author: "Awa Doumbia", date: "2024-03-31T07:05:00Z", text: "Dernier message."},
			}, "Erreurs"),
			errFile: "WhatsApp Chat - Erreurs.zip/_chat.txt",
			errs:    []wantErr{{line: 2}, {line: 4}, {line: 7}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := makeZip(t, tc.entries...)
			if f, ok := exports.Detect(tc.name, data); !ok || f != exports.FormatWhatsAppTxt {
				t.Errorf("Detect = %q, %v; want %q", f, ok, exports.FormatWhatsAppTxt)
			}
			msgs, errs, err := exports.Parse(context.Background(), tc.name, bytes.NewReader(data), exports.Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkMessages(t, msgs, exports.FormatWhatsAppTxt, tc.want)
			checkLineErrors(t, errs, tc.errFile, tc.errs)
		})
	}
}

// A chat gets the same ids whether its .txt or the .zip is imported.
func TestWhatsAppZipAndTxtShareIDs(t *testing.T) {
	txt, _ := parseTestdata(t, iosEN, exports.Options{})
	data := makeZip(t, zipEntry{"_chat.txt", readTestdata(t, iosEN)})
	zipped, _, err := exports.Parse(context.Background(), "WhatsApp Chat - Radio Guira Veille.zip", bytes.NewReader(data), exports.Options{})
	if err != nil || len(zipped) != len(txt) {
		t.Fatalf("Parse(zip): %d messages, %v", len(zipped), err)
	}
	for i := range txt {
		if txt[i].ID != zipped[i].ID {
			t.Errorf("line %d: id %q from the txt, %q from the zip", txt[i].Line, txt[i].ID, zipped[i].ID)
		}
	}
}

func TestTelegramExportZipped(t *testing.T) {
	data := makeZip(t,
		zipEntry{"ChatExport_2024-05-04/", nil},
		zipEntry{"ChatExport_2024-05-04/result.json", readTestdata(t, "telegram/channel_result.json")},
		zipEntry{"ChatExport_2024-05-04/photos/photo_1@02-05-2024_18-45-00.jpg", fakeJPEG},
	)
	if f, ok := exports.Detect("ChatExport_2024-05-04.zip", data); !ok || f != exports.FormatTelegramJSON {
		t.Errorf("Detect = %q, %v; want %q", f, ok, exports.FormatTelegramJSON)
	}
	msgs, _, err := exports.Parse(context.Background(), "ChatExport_2024-05-04.zip", bytes.NewReader(data), exports.Options{})
	if err != nil || len(msgs) != 6 || msgs[0].Chat != icd {
		t.Fatalf("Parse: %d messages, %v", len(msgs), err)
	}
}

func TestZipRefused(t *testing.T) {
	chat := readTestdata(t, iosEN)
	bomb := bytes.Repeat([]byte("0"), 2<<20)
	many := []zipEntry{{"_chat.txt", chat}}
	for i := range 5 {
		many = append(many, zipEntry{strings.Repeat("x", i+1) + ".jpg", fakeJPEG})
	}
	for _, tc := range []struct {
		name string
		zip  []byte
		opts exports.Options
		want error
	}{
		{"empty", makeZip(t), exports.Options{}, exports.ErrNoExport},
		{"media only", makeZip(t, zipEntry{"IMG-20231228-WA0004.jpg", fakeJPEG}), exports.Options{}, exports.ErrNoExport},
		{"not a chat", makeZip(t, zipEntry{"notes.txt", []byte("Liste de courses\n")}), exports.Options{}, exports.ErrNoExport},
		{"too many entries", makeZip(t, many...), exports.Options{MaxZipEntries: 5}, exports.ErrTooManyEntries},
		{"bomb", makeZip(t, zipEntry{"_chat.txt", bomb}), exports.Options{MaxBytes: 1 << 20}, exports.ErrTooLarge},
		{"bomb with a false size", lyingZip(t, "_chat.txt", bomb, 100), exports.Options{MaxBytes: 1 << 20}, exports.ErrTooLarge},
		{"false size under the limit", lyingZip(t, "_chat.txt", chat, 100), exports.Options{}, exports.ErrTooLarge},
		{"cut short", makeZip(t, zipEntry{"_chat.txt", chat})[:200], exports.Options{}, exports.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "WhatsApp Chat - Radio Guira Veille.zip"
			msgs, _, err := exports.Parse(context.Background(), name, bytes.NewReader(tc.zip), tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error %q does not name the zip", err)
			}
			if len(msgs) > 0 {
				t.Errorf("%d messages from a refused zip", len(msgs))
			}
		})
	}
}

// lyingZip stores body deflated under a header that declares size bytes.
func lyingZip(t *testing.T, name string, body []byte, size uint64) []byte {
	t.Helper()
	var deflated bytes.Buffer
	fw, _ := flate.NewWriter(&deflated, flate.BestCompression)
	fw.Write(body)
	fw.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name:               name,
		Method:             zip.Deflate,
		CRC32:              crc32.ChecksumIEEE(body),
		CompressedSize64:   uint64(deflated.Len()),
		UncompressedSize64: size,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(deflated.Bytes())
	zw.Close()
	return buf.Bytes()
}
