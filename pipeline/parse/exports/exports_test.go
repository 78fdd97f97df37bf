package exports_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veille-project/veille/pipeline/parse/exports"
)

// wantMsg is a message as a test expects it. An empty id means a hash id
// (32 hex characters) is expected.
type wantMsg struct {
	line   int
	id     string
	chat   string
	author string
	date   string // RFC 3339, UTC
	text   string
	links  []string
	fwd    string
	views  int
}

// wantErr is a LineError as a test expects it: its line, and a fragment of
// its message or an error it wraps.
type wantErr struct {
	line int
	says string
	is   error
}

var hashID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// radioHeaderMap maps the generic CSV in testdata/csv/generic.csv.
var radioHeaderMap = map[string]string{
	"date": "Date de diffusion", "chat": "Station", "text": "Extrait",
	"url": "Lien", "author": "Auditeur", "views": "Audience",
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// parseTestdata parses testdata/<name> under its base name.
func parseTestdata(t *testing.T, name string, opts exports.Options) ([]exports.Message, []exports.LineError) {
	t.Helper()
	msgs, errs, err := exports.Parse(context.Background(), filepath.Base(name), bytes.NewReader(readTestdata(t, name)), opts)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return msgs, errs
}

func checkMessages(t *testing.T, got []exports.Message, format string, want []wantMsg) {
	t.Helper()
	if len(got) != len(want) {
		for _, m := range got {
			t.Logf("got line %d: %q", m.Line, m.Text)
		}
		t.Fatalf("%d messages, want %d", len(got), len(want))
	}
	for i, w := range want {
		m := got[i]
		if m.Format != format {
			t.Errorf("message %d: format %q, want %q", i, m.Format, format)
		}
		if m.Line != w.line {
			t.Errorf("message %d: line %d, want %d", i, m.Line, w.line)
		}
		if w.id == "" && !hashID.MatchString(m.ID) || w.id != "" && m.ID != w.id {
			t.Errorf("message %d (line %d): id %q, want %q", i, m.Line, m.ID, w.id)
		}
		if m.Chat != w.chat {
			t.Errorf("message %d (line %d): chat %q, want %q", i, m.Line, m.Chat, w.chat)
		}
		if m.Author != w.author {
			t.Errorf("message %d (line %d): author %q, want %q", i, m.Line, m.Author, w.author)
		}
		if d := m.Date.Format(time.RFC3339); d != w.date || m.Date.Location() != time.UTC {
			t.Errorf("message %d (line %d): date %s (%v), want %s UTC", i, m.Line, d, m.Date.Location(), w.date)
		}
		if m.Text != w.text {
			t.Errorf("message %d (line %d): text\n%q\nwant\n%q", i, m.Line, m.Text, w.text)
		}
		if !slices.Equal(m.Links, w.links) {
			t.Errorf("message %d (line %d): links %q, want %q", i, m.Line, m.Links, w.links)
		}
		if m.Forwarded != w.fwd {
			t.Errorf("message %d (line %d): forwarded %q, want %q", i, m.Line, m.Forwarded, w.fwd)
		}
		if m.Views != w.views {
			t.Errorf("message %d (line %d): views %d, want %d", i, m.Line, m.Views, w.views)
		}
	}
}

func checkLineErrors(t *testing.T, got []exports.LineError, file string, want []wantErr) {
	t.Helper()
	if len(got) != len(want) {
		for _, e := range got {
			t.Logf("got %v", e)
		}
		t.Fatalf("%d line errors, want %d", len(got), len(want))
	}
	for i, w := range want {
		e := got[i]
		if e.File != file || e.Line != w.line {
			t.Errorf("line error %d at %s:%d, want %s:%d (%v)", i, e.File, e.Line, file, w.line, e)
		}
		if w.says != "" && !strings.Contains(e.Error(), w.says) {
			t.Errorf("line error %d: %q does not say %q", i, e.Error(), w.says)
		}
		if w.is != nil && !errors.Is(e, w.is) {
			t.Errorf("line error %d: %v does not wrap %v", i, e, w.is)
		}
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		file, name string // file in testdata; name the file is given
		want       string
		ok         bool
	}{
		{"telegram/channel_result.json", "result.json", exports.FormatTelegramJSON, true},
		{"telegram/account_result.json", "result.json", exports.FormatTelegramJSON, true},
		{"telegram/truncated_result.json", "result.json", exports.FormatTelegramJSON, true},
		{"telegram/channel_result.json", "result.txt", "", false},
		{"whatsapp/WhatsApp Chat with Équipe Com MINUSCA.txt", "WhatsApp Chat with Équipe Com MINUSCA.txt", exports.FormatWhatsAppTxt, true},
		{"whatsapp/Discussion WhatsApp avec Cellule Com Bangui.txt", "Discussion WhatsApp avec Cellule Com Bangui.txt", exports.FormatWhatsAppTxt, true},
		{"whatsapp/ios_en_chat.txt", "_chat.txt", exports.FormatWhatsAppTxt, true},
		{"whatsapp/ios_fr_chat.txt", "notes/chat.TXT", exports.FormatWhatsAppTxt, true},
		{"whatsapp/ios_fr_chat.txt", "chat.csv", "", false},
		{"csv/crowdtangle.csv", "2021-03-10-08-00-00-EST-search-csv-export.csv", exports.FormatCrowdTangleCSV, true},
		{"csv/meta.csv", "mcl-facebook-posts.csv", exports.FormatMetaCSV, true},
		{"csv/generic.csv", "radios.csv", "", false}, // a generic CSV needs a HeaderMap
	} {
		t.Run(tc.name+"<"+tc.file, func(t *testing.T) {
			head := readTestdata(t, tc.file)
			got, ok := exports.Detect(tc.name, head)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("Detect(%q) = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
			}
		})
	}
	for _, tc := range []struct {
		name, head string
	}{
		{"discord.json", `{"guild": {"id": "1"}, "channel": {"id": "2"}, "messages": []}`},
		{"result.json", `[{"id": 1}]`},
		{"result.json", `not json at all`},
		{"notes.txt", "Compte rendu de la réunion du 12/01/2024\n12/01/2024 10:00 - A: x\n"},
		{"empty.txt", ""},
		{"posts.csv", "date,text\n2024-01-01,x\n"},
		{"archive.zip", "PK\x03\x04 not really"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			if got, ok := exports.Detect(tc.name, []byte(tc.head)); ok {
				t.Fatalf("Detect(%q, %q) = %q, want not recognised", tc.name, tc.head, got)
			}
		})
	}
}

func TestDetectWithHeaderMap(t *testing.T) {
	head := readTestdata(t, "csv/generic.csv")
	got, ok := exports.DetectWith("radios.csv", head, exports.Options{HeaderMap: radioHeaderMap})
	if !ok || got != exports.FormatCSV {
		t.Fatalf("DetectWith = %q, %v; want %q", got, ok, exports.FormatCSV)
	}
	got, ok = exports.DetectWith("radios.csv", head, exports.Options{HeaderMap: map[string]string{"text": "Transcription"}})
	if ok {
		t.Fatalf("DetectWith with a HeaderMap naming an absent column = %q, want not recognised", got)
	}
	// A known export keeps its own format whatever the map says.
	got, _ = exports.DetectWith("ct.csv", readTestdata(t, "csv/crowdtangle.csv"), exports.Options{HeaderMap: map[string]string{"text": "Message"}})
	if got != exports.FormatCrowdTangleCSV {
		t.Fatalf("DetectWith(CrowdTangle, HeaderMap) = %q, want %q", got, exports.FormatCrowdTangleCSV)
	}
}

// allTestdata lists every export in testdata with the options it needs.
var allTestdata = []struct {
	file string
	opts exports.Options
}{
	{"telegram/channel_result.json", exports.Options{}},
	{"telegram/account_result.json", exports.Options{}},
	{"telegram/malformed_result.json", exports.Options{}},
	{"telegram/truncated_result.json", exports.Options{}},
	{"whatsapp/WhatsApp Chat with Équipe Com MINUSCA.txt", exports.Options{}},
	{"whatsapp/Discussion WhatsApp avec Cellule Com Bangui.txt", exports.Options{}},
	{"whatsapp/ios_en_chat.txt", exports.Options{}},
	{"whatsapp/ios_fr_chat.txt", exports.Options{}},
	{"whatsapp/malformed.txt", exports.Options{}},
	{"csv/crowdtangle.csv", exports.Options{}},
	{"csv/meta.csv", exports.Options{}},
	{"csv/generic.csv", exports.Options{HeaderMap: radioHeaderMap}},
}

func TestIDsAreDeterministic(t *testing.T) {
	for _, tc := range allTestdata {
		t.Run(tc.file, func(t *testing.T) {
			first, _ := parseTestdata(t, tc.file, tc.opts)
			again, _ := parseTestdata(t, tc.file, tc.opts)
			if len(first) == 0 || len(first) != len(again) {
				t.Fatalf("%d then %d messages", len(first), len(again))
			}
			// A different zone changes dates, never ids.
			shifted, _ := parseTestdata(t, tc.file, exports.Options{HeaderMap: tc.opts.HeaderMap, Location: time.FixedZone("WAT", 3600)})
			seen := map[string]int{}
			for i, m := range first {
				if m.ID == "" || m.ID != again[i].ID || m.ID != shifted[i].ID {
					t.Errorf("line %d: ids %q, %q, %q", m.Line, m.ID, again[i].ID, shifted[i].ID)
				}
				if l, dup := seen[m.ID]; dup {
					t.Errorf("lines %d and %d share id %q", l, m.Line, m.ID)
				}
				seen[m.ID] = m.Line
			}
		})
	}
}

func TestIdenticalMessagesGetDistinctIDs(t *testing.T) {
	chat := "12/01/24, 9:05 AM - Grace Mbaye: ok\n12/01/24, 9:05 AM - Grace Mbaye: ok\n12/01/24, 9:05 AM - Grace Mbaye: ok\n"
	msgs, _, err := exports.Parse(context.Background(), "chat.txt", strings.NewReader(chat), exports.Options{})
	if err != nil || len(msgs) != 3 {
		t.Fatalf("Parse: %d messages, %v", len(msgs), err)
	}
	if msgs[0].ID == msgs[1].ID || msgs[1].ID == msgs[2].ID || msgs[0].ID == msgs[2].ID {
		t.Fatalf("ids %q, %q, %q: want three different", msgs[0].ID, msgs[1].ID, msgs[2].ID)
	}
}

func TestParseRefusesUnusableFiles(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		opts       exports.Options
		want       error
	}{
		{"notes.txt", "Compte rendu de réunion\n", exports.Options{}, exports.ErrUnknownFormat},
		{"photo.jpg", "\xff\xd8\xff\xe0", exports.Options{}, exports.ErrUnknownFormat},
		{"posts.csv", "date,text\n2024-01-01,x\n", exports.Options{}, exports.ErrUnknownFormat},
		{"result.json", "<html>", exports.Options{Format: exports.FormatTelegramJSON}, exports.ErrMalformed},
		{"result.json", `["a"]`, exports.Options{Format: exports.FormatTelegramJSON}, exports.ErrMalformed},
		{"result.json", `{"about": "x", "personal_information": {}}`, exports.Options{}, exports.ErrMalformed},
		{"result.json", `{"name": "x", "type": "private_group", "id": 1, "messages": [`, exports.Options{}, exports.ErrMalformed},
		{"posts.csv", "", exports.Options{Format: exports.FormatMetaCSV}, exports.ErrMalformed},
		{"posts.csv", "date,text\n", exports.Options{Format: exports.FormatCSV}, exports.ErrUnknownFormat},
		{"posts.csv", "date,text\n", exports.Options{HeaderMap: map[string]string{"text": "text", "date": "Date de publication"}}, exports.ErrMalformed},
		{"chat.txt", "x", exports.Options{Format: "signal-json"}, exports.ErrUnknownFormat},
	} {
		t.Run(tc.name+" "+tc.data, func(t *testing.T) {
			msgs, _, err := exports.Parse(context.Background(), tc.name, strings.NewReader(tc.data), tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.name) {
				t.Errorf("error %q does not name the file", err)
			}
			if len(msgs) != 0 {
				t.Errorf("%d messages from an unusable file", len(msgs))
			}
		})
	}
}

func TestParseRefusesBadHeaderMap(t *testing.T) {
	for _, hm := range []map[string]string{
		{"texte": "Extrait"},
		{"date": "Date de diffusion"},
	} {
		_, _, err := exports.Parse(context.Background(), "radios.csv", bytes.NewReader(readTestdata(t, "csv/generic.csv")), exports.Options{HeaderMap: hm})
		if err == nil || !strings.Contains(err.Error(), "HeaderMap") {
			t.Errorf("HeaderMap %v: err %v, want one about the HeaderMap", hm, err)
		}
	}
}

func TestLimits(t *testing.T) {
	ctx := context.Background()
	android := readTestdata(t, "whatsapp/WhatsApp Chat with Équipe Com MINUSCA.txt")

	t.Run("MaxBytes", func(t *testing.T) {
		_, _, err := exports.Parse(ctx, "chat.txt", bytes.NewReader(android), exports.Options{MaxBytes: 1000})
		if !errors.Is(err, exports.ErrTooLarge) {
			t.Fatalf("Parse(%d bytes, MaxBytes 1000) = %v, want ErrTooLarge", len(android), err)
		}
	})
	t.Run("MaxMessages", func(t *testing.T) {
		msgs, _, err := exports.Parse(ctx, "chat.txt", bytes.NewReader(android), exports.Options{MaxMessages: 3})
		if !errors.Is(err, exports.ErrTooManyMessages) {
			t.Fatalf("Parse = %v, want ErrTooManyMessages", err)
		}
		if len(msgs) != 3 || msgs[2].Line != 6 {
			t.Fatalf("%d messages returned with the error, want the first 3", len(msgs))
		}
	})
	t.Run("MaxErrors", func(t *testing.T) {
		msgs, errs, err := exports.Parse(ctx, "malformed.txt", bytes.NewReader(readTestdata(t, "whatsapp/malformed.txt")), exports.Options{MaxErrors: 2})
		if !errors.Is(err, exports.ErrTooManyErrors) {
			t.Fatalf("Parse = %v, want ErrTooManyErrors", err)
		}
		if len(errs) != 2 || len(msgs) != 2 {
			t.Fatalf("%d messages, %d line errors; want 2 and 2", len(msgs), len(errs))
		}
	})
	t.Run("context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, _, err := exports.Parse(cctx, "chat.txt", bytes.NewReader(android), exports.Options{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Parse with a cancelled context = %v", err)
		}
	})
}

func TestLineErrorReadsLikeACompilerError(t *testing.T) {
	cause := errors.New("date \"25/13/2024 10:01\" is not a valid date")
	e := exports.LineError{File: "malformed.txt", Line: 2, Err: cause}
	if got, want := e.Error(), `malformed.txt:2: date "25/13/2024 10:01" is not a valid date`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, cause) {
		t.Error("LineError does not unwrap to its cause")
	}
}
