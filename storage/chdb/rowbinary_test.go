package chdb

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestAppendRowBinary(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		v    any
		want []byte
	}{
		{"String", "ab", []byte{2, 'a', 'b'}},
		{"LowCardinality(String)", "", []byte{0}},
		{"String", strings.Repeat("x", 200), append([]byte{0xc8, 0x01}, strings.Repeat("x", 200)...)},
		{"Array(String)", []string{"a", ""}, []byte{2, 1, 'a', 0}},
		{"Array(String)", []string{}, []byte{0}},
		{"UInt8", uint8(7), []byte{7}},
		{"UInt32", uint32(0x01020304), []byte{4, 3, 2, 1}},
		{"UInt64", uint64(1), []byte{1, 0, 0, 0, 0, 0, 0, 0}},
		{"Int64", int64(-1), []byte{255, 255, 255, 255, 255, 255, 255, 255}},
		{"Float64", 1.0, []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}},
		{"Float64", math.NaN(), []byte{0, 0, 0, 0, 0, 0, 0, 0}},
		{"DateTime('UTC')", time.Unix(0x01020304, 0), []byte{4, 3, 2, 1}},
		{"DateTime", time.Time{}, []byte{0, 0, 0, 0}},
		{"DateTime('UTC')", time.Unix(1<<33, 0), []byte{255, 255, 255, 255}},
	} {
		got, err := appendRowBinary(nil, tc.typ, tc.v)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("%s %v: got % x, %v; want % x", tc.typ, tc.v, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		typ string
		v   any
	}{{"UInt64", "1"}, {"String", 1}, {"Decimal(9,2)", 1.0}, {"DateTime", int64(1)}} {
		if _, err := appendRowBinary(nil, tc.typ, tc.v); !errors.Is(err, errNoRowBinary) {
			t.Errorf("%s %T: err %v, want errNoRowBinary", tc.typ, tc.v, err)
		}
	}
	if rowBinaryTypes([]string{"String", "Nullable(String)"}) || !rowBinaryTypes([]string{"DateTime('UTC')", "Array(String)"}) {
		t.Error("rowBinaryTypes")
	}
}
