package chdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// errNoRowBinary marks a column type or value the RowBinary encoder does not
// write; the batch then goes as JSON instead.
var errNoRowBinary = errors.New("no RowBinary encoding")

// rowBinaryTypes reports whether every one of types has a RowBinary encoding
// here.
func rowBinaryTypes(types []string) bool {
	for _, t := range types {
		switch t {
		case "String", "LowCardinality(String)", "Array(String)", "UInt8", "UInt32", "UInt64", "Int64", "Float64":
		default:
			if !isDateTime(t) {
				return false
			}
		}
	}
	return true
}

func isDateTime(t string) bool {
	return t == "DateTime" || (len(t) > 10 && t[:9] == "DateTime(" && t[len(t)-1] == ')')
}

// appendRowBinary writes v as ClickHouse's RowBinary form of a column of
// type typ: little-endian numbers, DateTime as UInt32 Unix seconds, strings
// as a length varint then the bytes, arrays as a count varint then items.
func appendRowBinary(buf []byte, typ string, v any) ([]byte, error) {
	switch typ {
	case "String", "LowCardinality(String)":
		s, ok := v.(string)
		if !ok {
			break
		}
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		return append(buf, s...), nil
	case "Array(String)":
		ss, ok := v.([]string)
		if !ok {
			break
		}
		buf = binary.AppendUvarint(buf, uint64(len(ss)))
		for _, s := range ss {
			buf = binary.AppendUvarint(buf, uint64(len(s)))
			buf = append(buf, s...)
		}
		return buf, nil
	case "UInt8":
		if x, ok := v.(uint8); ok {
			return append(buf, x), nil
		}
	case "UInt32":
		if x, ok := v.(uint32); ok {
			return binary.LittleEndian.AppendUint32(buf, x), nil
		}
	case "UInt64":
		if x, ok := v.(uint64); ok {
			return binary.LittleEndian.AppendUint64(buf, x), nil
		}
	case "Int64":
		switch x := v.(type) {
		case int64:
			return binary.LittleEndian.AppendUint64(buf, uint64(x)), nil
		case int:
			return binary.LittleEndian.AppendUint64(buf, uint64(int64(x))), nil
		}
	case "Float64":
		if x, ok := v.(float64); ok {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				x = 0
			}
			return binary.LittleEndian.AppendUint64(buf, math.Float64bits(x)), nil
		}
	default:
		if t, ok := v.(time.Time); ok && isDateTime(typ) {
			u := t.Unix()
			if t.IsZero() || u < 0 {
				u = 0
			}
			if u > math.MaxUint32 {
				u = math.MaxUint32
			}
			return binary.LittleEndian.AppendUint32(buf, uint32(u)), nil
		}
	}
	return buf, fmt.Errorf("%w: %T as %s", errNoRowBinary, v, typ)
}
