package storage

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestEvidenceJSONDecodesAsMarshal(t *testing.T) {
	for _, tc := range []struct {
		name string
		ev   []Evidence
		ents []string
	}{
		{"nil", nil, nil},
		{"plain", []Evidence{{Start: 3, End: 9, Text: "casques bleus"}}, []string{"MINUSCA"}},
		{"cues", []Evidence{{Start: 0, End: 1, Text: "a", CueStart: 1500, CueEnd: -1}, {Start: -2, End: 1 << 40, Text: ""}}, []string{"", "x"}},
		{"escapes", []Evidence{{Text: "\"q\" \\ \n\r\t\x00\x1f\x7f <b>&amp; é日 \u2028"}}, []string{"a\"b", "\x01"}},
		{"invalid utf-8", []Evidence{{Text: "a\xffb\xc3"}}, []string{"\xe6\x97", "ok\x80"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := nonNil(tc.ev)
			want, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			var a, b []Evidence
			if err := json.Unmarshal(want, &a); err != nil {
				t.Fatal(err)
			}
			got := appendEvidenceJSON(nil, tc.ev)
			if err := json.Unmarshal(got, &b); err != nil {
				t.Fatalf("%s: %v", got, err)
			}
			if !reflect.DeepEqual(a, b) {
				t.Errorf("evidence %s decodes to %+v, json.Marshal's to %+v", got, b, a)
			}
			wantE, _ := json.Marshal(nonNil(tc.ents))
			var ea, eb []string
			if err := json.Unmarshal(wantE, &ea); err != nil {
				t.Fatal(err)
			}
			gotE := appendStringsJSON(nil, tc.ents)
			if err := json.Unmarshal(gotE, &eb); err != nil {
				t.Fatalf("%s: %v", gotE, err)
			}
			if !reflect.DeepEqual(ea, eb) {
				t.Errorf("entities %s decode to %q, json.Marshal's to %q", gotE, eb, ea)
			}
		})
	}
}
