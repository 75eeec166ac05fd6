package verify

import (
	"math"
	"strings"
	"testing"
)

func TestValuesEqualFloats(t *testing.T) {
	nan32 := float32(math.NaN())
	otherNaN32 := math.Float32frombits(0x7fc00001)
	negZero32 := float32(math.Copysign(0, -1))
	cases := []struct {
		name string
		a, b any
		want bool
	}{
		{"same float32", float32(1.5), float32(1.5), true},
		{"float32 last bit", float32(0.1), math.Nextafter32(0.1, 1), false},
		{"NaN equals NaN", nan32, nan32, true},
		{"any NaN equals any NaN", nan32, otherNaN32, true},
		{"NaN vs number", nan32, float32(0), false},
		{"-0 vs +0 differ (bits)", negZero32, float32(0), false},
		{"float64", 0.25, 0.25, true},
		{"float64 last bit", 0.1, math.Nextafter(0.1, 1), false},
		{"float64 NaN", math.NaN(), math.NaN(), true},
		{"float32 vs float64", float32(1), float64(1), false},
		{"vector equal", []float32{1, 2, 3}, []float32{1, 2, 3}, true},
		{"vector one element", []float32{1, 2, 3}, []float32{1, 2, math.Nextafter32(3, 4)}, false},
		{"vector -0", []float32{negZero32}, []float32{0}, false},
		{"vector NaN", []float32{nan32, 1}, []float32{nan32, 1}, true},
		{"vector length", []float32{1, 2}, []float32{1, 2, 3}, false},
		{"binary vector", []byte{1, 255}, []byte{1, 255}, true},
		{"binary vector bit", []byte{1, 255}, []byte{1, 254}, false},
		{"double array", []float64{1, math.NaN()}, []float64{1, math.NaN()}, true},
	}
	for _, c := range cases {
		if got := valuesEqual(c.a, c.b); got != c.want {
			t.Errorf("%s: valuesEqual(%v, %v) = %v, want %v", c.name, c.a, c.b, got, c.want)
		}
	}
}

func TestValuesEqualScalarsAndArrays(t *testing.T) {
	cases := []struct {
		name string
		a, b any
		want bool
	}{
		{"int64", int64(7), int64(7), true},
		{"int64 differs", int64(7), int64(8), false},
		{"string", "ünï", "ünï", true},
		{"string differs", "a", "a ", false},
		{"bool", true, false, false},
		{"int array", []int64{1, 2}, []int64{1, 2}, true},
		{"int array order", []int64{1, 2}, []int64{2, 1}, false},
		{"int array length", []int64{1}, []int64{1, 0}, false},
		{"string array", []string{"a", "b"}, []string{"a", "b"}, true},
		{"string array differs", []string{"a", "b"}, []string{"a", "c"}, false},
		{"bool array", []bool{true}, []bool{true}, true},
		{"float array", []float32{1.5}, []float32{1.5}, true},
		{"json vs string", jsonText(`"a"`), "a", false},
	}
	for _, c := range cases {
		if got := valuesEqual(c.a, c.b); got != c.want {
			t.Errorf("%s: valuesEqual(%v, %v) = %v, want %v", c.name, c.a, c.b, got, c.want)
		}
	}
}

func TestJSONEqual(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{`{"a":1,"b":[1,2]}`, `{ "b": [1, 2], "a": 1 }`, true},
		{`{"n":7}`, `{"n":7.0}`, true},
		{`{"n":7}`, `{"n":7e0}`, true},
		{`{"n":1e2}`, `{"n":100}`, true},
		{`{"n":7}`, `{"n":7.000001}`, false},
		{`{"n":9007199254740993}`, `{"n":9007199254740992}`, false}, // beyond 2^53: float64 would merge them
		{`{"n":"7"}`, `{"n":7}`, false},
		{`[1,2]`, `[2,1]`, false},
		{`{"a":{"b":null}}`, `{"a":{}}`, false},
		{`{"a":true}`, `{"a":true,"b":1}`, false},
		{``, `null`, true},
		{`{}`, ``, false},
		{`not json`, `not json`, true},
		{`not json`, `not  json`, false},
		{`{"a":1} x`, `{"a":1}`, false},
		{`"ü"`, `"\u00fc"`, true},
	}
	for _, c := range cases {
		if got := jsonEqual([]byte(c.a), []byte(c.b)); got != c.want {
			t.Errorf("jsonEqual(%s, %s) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := valuesEqual(jsonText(c.a), jsonText(c.b)); got != c.want {
			t.Errorf("valuesEqual(json %s, json %s) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestDescribeDiffNamesTheElement(t *testing.T) {
	a := make([]float32, 128)
	b := make([]float32, 128)
	b[100] = 0.5
	got := describeDiff(a, b)
	if !strings.Contains(got, "first difference at element 100: 0 vs 0.5") || !strings.Contains(got, "(128 elements)") {
		t.Errorf("describeDiff = %q", got)
	}
	if got := formatValue(strings.Repeat("x", 500)); len(got) > maxShownBytes+10 {
		t.Errorf("long string not shortened: %d bytes", len(got))
	}
}

func TestLiteralAndRangeExpr(t *testing.T) {
	if got := literal(`q"uo\te` + "\tü"); got != `"q\"uo\\te\tü"` {
		t.Errorf("literal = %s", got)
	}
	lo, hi := int64(-5), int64(10)
	cases := []struct{ got, want string }{
		{keyRange[int64]{}.expr("id"), "id >= -9223372036854775807 || id < -9223372036854775807"},
		{keyRange[int64]{lo: &lo}.expr("id"), "id >= -5"},
		{keyRange[int64]{lo: &lo, hi: &hi}.expr("id"), "id >= -5 && id < 10"},
		{keyRange[string]{}.expr("pk"), `pk >= ""`},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("expr = %q, want %q", c.got, c.want)
		}
	}
}

func TestMidpoint(t *testing.T) {
	p := func(v int64) *int64 { return &v }
	cases := []struct {
		r    keyRange[int64]
		want int64
		ok   bool
	}{
		{keyRange[int64]{}, -1, true},
		{keyRange[int64]{lo: p(0), hi: p(100)}, 50, true},
		{keyRange[int64]{lo: p(-9223372036854775807), hi: p(9223372036854775807)}, 0, true},
		{keyRange[int64]{lo: p(5), hi: p(6)}, 0, false},
		{keyRange[int64]{lo: p(5), hi: p(7)}, 6, true},
		{keyRange[int64]{lo: p(9223372036854775806)}, 0, false},
	}
	for _, c := range cases {
		got, ok := midpoint(c.r)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("midpoint(%v) = %d %v, want %d %v", c.r.expr("id"), got, ok, c.want, c.ok)
		}
	}
}
