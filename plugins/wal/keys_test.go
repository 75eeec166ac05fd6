package wal

import (
	"strings"
	"testing"
)

// TestKeyExprsQuoteAndChunk: VarChar keys are quoted and escaped, and no
// expression holds more than MaxKeysPerExpr keys.
func TestKeyExprsQuoteAndChunk(t *testing.T) {
	got := KeyExprs("pk", nil, []string{`a"b`, `c\d`, "e\nf"})
	if len(got) != 1 || got[0] != `pk in ["a\"b","c\\d","e\nf"]` {
		t.Fatalf("expr %q", got)
	}
	if q := QuoteString("x\ty\rz"); q != `"x\ty\rz"` {
		t.Errorf("quoted %s", q)
	}
	ints := make([]int64, MaxKeysPerExpr+1)
	if exprs := KeyExprs("id", ints, nil); len(exprs) != 2 || !strings.HasPrefix(exprs[1], "id in [0]") {
		t.Fatalf("%d expressions for %d keys", len(exprs), len(ints))
	}
}
