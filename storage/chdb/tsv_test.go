package chdb

import (
	"errors"
	"reflect"
	"testing"

	"github.com/veille-project/veille/storage"
)

func TestParseTSV(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want [][]string
	}{
		{"", nil},
		{"a\tb\n", [][]string{{"a", "b"}}},
		{"a\\tb\\nc\t\\\\\\'\n\\0\t\n", [][]string{{"a\tb\nc", `\'`}, {"\x00", ""}}},
		{"\\x41\\xff\n", [][]string{{"A\xff"}}},
	} {
		if got := ParseTSV([]byte(tc.in)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseTSV(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{`a"b\c`, `"a\"b\\c"`},
		{"l1\nl2\tx\r\x00\x1f\x7f", `"l1\nl2\tx\r\u0000\u001f\u007f"`},
		{"é\xff", "\"é\xff\""},
	} {
		if got := string(appendJSONString(nil, tc.in)); got != tc.want {
			t.Errorf("appendJSONString(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		msg       string
		transient bool
	}{
		{"Code: 252. DB::Exception: Too many parts (300). (TOO_MANY_PARTS)", true},
		{"Code: 241. DB::Exception: Memory limit exceeded", true},
		{"Code: 62. DB::Exception: Syntax error", false},
		{"something else", false},
	} {
		err := classify(errors.New(tc.msg))
		if got := errors.Is(err, storage.ErrTransient); got != tc.transient {
			t.Errorf("classify(%q) transient = %v, want %v", tc.msg, got, tc.transient)
		}
	}
}
