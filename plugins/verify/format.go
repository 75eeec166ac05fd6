package verify

import (
	"fmt"
	"strings"
)

// maxShown bounds how much of a long value a difference shows.
const (
	maxShownElems = 8
	maxShownBytes = 200
)

// formatValue renders a value for a difference line, shortened.
func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", shorten(x))
	case jsonText:
		return shorten(string(x))
	case []float32:
		return formatSlice(x)
	case []float64:
		return formatSlice(x)
	case []byte:
		return fmt.Sprintf("%x", shortenBytes(x))
	case []string:
		return formatSlice(x)
	}
	return shorten(fmt.Sprint(v))
}

func formatSlice[T any](xs []T) string {
	if len(xs) <= maxShownElems {
		return fmt.Sprint(xs)
	}
	s := fmt.Sprint(xs[:maxShownElems])
	return fmt.Sprintf("%s ...] (%d elements)", strings.TrimSuffix(s, "]"), len(xs))
}

func shorten(s string) string {
	if len(s) <= maxShownBytes {
		return s
	}
	return s[:maxShownBytes] + "..."
}

func shortenBytes(b []byte) []byte {
	if len(b) <= maxShownBytes/2 {
		return b
	}
	return b[:maxShownBytes/2]
}

// describeDiff renders two differing values; for vectors it names the first
// differing element, which a shortened vector may not show.
func describeDiff(a, b any) string {
	s := fmt.Sprintf("source %s, target %s", formatValue(a), formatValue(b))
	switch x := a.(type) {
	case []float32:
		if y, ok := b.([]float32); ok {
			return s + elemDiff(x, y, firstFloatDiff(x, y, sameFloat32))
		}
	case []float64:
		if y, ok := b.([]float64); ok {
			return s + elemDiff(x, y, firstFloatDiff(x, y, sameFloat64))
		}
	}
	return s
}

func elemDiff[F float32 | float64](a, b []F, i int) string {
	if i < 0 || i >= len(a) || i >= len(b) {
		return fmt.Sprintf(" (lengths %d and %d)", len(a), len(b))
	}
	return fmt.Sprintf(" (first difference at element %d: %v vs %v)", i, a[i], b[i])
}
