package expr

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Kind is the type of an evaluated Value.
type Kind uint8

const (
	KindNull Kind = iota
	KindString
	KindBool
	KindNumber
	KindList
)

func (k Kind) String() string {
	switch k {
	case KindNull:
		return "null"
	case KindString:
		return "string"
	case KindBool:
		return "boolean"
	case KindNumber:
		return "number"
	case KindList:
		return "array"
	}
	return "unknown"
}

// Value is the result of an evaluation. Its dynamic content is always one of:
// nil, string, bool, int64, float64, or []any whose elements are themselves
// nil, string, bool, int64 or float64 (arrays are flat).
type Value struct {
	v any
}

// Kind reports the type of the value.
func (v Value) Kind() Kind { return kindOf(v.v) }

// Any returns the normalized Go value (see Value).
func (v Value) Any() any { return v.v }

// IsNull reports whether the value is null (a missing attribute, or null).
func (v Value) IsNull() bool { return v.v == nil }

// String renders the value as text: null is "", numbers in decimal without
// exponent, booleans as true/false, arrays as their elements rendered and
// joined with "," (like Arrays.toCsvString), null elements skipped.
func (v Value) String() string { return render(v.v) }

// Strings renders the value as a list of attribute values: null is no value,
// an array gives one string per non-null element, anything else one string.
func (v Value) Strings() []string {
	switch x := v.v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if e != nil {
				out = append(out, render(e))
			}
		}
		return out
	default:
		return []string{render(x)}
	}
}

// Bool is true only for the boolean true.
func (v Value) Bool() bool { b, _ := v.v.(bool); return b }

// Float returns the number as float64 and whether the value is a number.
func (v Value) Float() (float64, bool) {
	switch x := v.v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func kindOf(x any) Kind {
	switch x.(type) {
	case nil:
		return KindNull
	case string:
		return KindString
	case bool:
		return KindBool
	case int64, float64:
		return KindNumber
	case []any:
		return KindList
	}
	return KindNull
}

const maxNormalizeDepth = 8

// normalize maps whatever expr or the caller's Env produced onto the small
// set of types a Value may hold. Unknown types (say time.Time in a profile
// map) are rendered with fmt so they never leak into callers.
func normalize(x any, depth int) any {
	if depth > maxNormalizeDepth {
		return nil // pathological nesting (or a cycle) in caller data
	}
	switch v := x.(type) {
	case nil, string, bool, int64, float64:
		return v
	case int:
		return int64(v)
	case int8:
		return int64(v)
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case uint8:
		return int64(v)
	case uint16:
		return int64(v)
	case uint32:
		return int64(v)
	case uint:
		if uint64(v) <= math.MaxInt64 {
			return int64(v)
		}
		return float64(v)
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v)
		}
		return float64(v)
	case float32:
		return float64(v)
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		if f, err := v.Float64(); err == nil {
			return f
		}
		return v.String()
	case []any:
		return normalizeList(v, depth)
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	}
	rv := reflect.ValueOf(x)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return normalizeList(out, depth)
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
	}
	return fmt.Sprint(x)
}

// normalizeList flattens nested lists (an attribute value is a flat list).
// A list that is already flat and normalized is returned as is (never
// modified afterwards: every function builds a new list).
func normalizeList(in []any, depth int) []any {
	flat := true
	for _, e := range in {
		switch e.(type) {
		case nil, string, bool, int64, float64:
			continue
		}
		flat = false
		break
	}
	if flat {
		return in
	}
	out := make([]any, 0, len(in))
	for _, e := range in {
		n := normalize(e, depth+1)
		if l, ok := n.([]any); ok {
			out = append(out, l...)
			continue
		}
		out = append(out, n)
	}
	return out
}

// render is the text form used by String(), templates and concatenation.
func render(x any) string {
	switch v := x.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		if v {
			return "true"
		}
		return "false"
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case float64:
		return formatFloat(v)
	case []any:
		var b strings.Builder
		first := true
		for _, e := range v {
			if e == nil {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			b.WriteString(render(e))
		}
		return b.String()
	}
	return render(normalize(x, 0))
}

func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
