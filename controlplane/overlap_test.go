package controlplane

import (
	"fmt"
	"math/rand/v2"
	"path"
	"strings"
	"testing"
	"time"
)

// pairwiseOverlaps is the former quadratic check, kept as the reference the
// set-based one must agree with.
func pairwiseOverlaps(a, b []string) bool {
	meet := func(x, y string) bool {
		if x == "*" || y == "*" || x == y {
			return true
		}
		mx, _ := path.Match(x, y)
		my, _ := path.Match(y, x)
		return mx || my
	}
	for _, x := range a {
		for _, y := range b {
			xd, xc, _ := strings.Cut(x, ".")
			yd, yc, _ := strings.Cut(y, ".")
			if meet(xd, yd) && meet(xc, yc) {
				return true
			}
		}
	}
	return false
}

// TestOverlapsAgreesWithPairwise: on random pattern sets of the shapes a
// create can produce (db.c, db.*, *.c, *.*), the set-based check answers as
// the pairwise one, both ways round.
func TestOverlapsAgreesWithPairwise(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(n int) string {
		if r.IntN(6) == 0 {
			return "*"
		}
		return fmt.Sprintf("n%d", r.IntN(n))
	}
	gen := func() []string {
		out := make([]string, r.IntN(4))
		for i := range out {
			out[i] = pick(3) + "." + pick(4)
		}
		return out
	}
	for i := 0; i < 20000; i++ {
		a, b := gen(), gen()
		if got, want := overlaps(a, b), pairwiseOverlaps(a, b); got != want {
			t.Fatalf("overlaps(%q, %q) = %v, want %v", a, b, got, want)
		}
		if got, want := overlaps(b, a), pairwiseOverlaps(b, a); got != want {
			t.Fatalf("overlaps(%q, %q) = %v, want %v", b, a, got, want)
		}
	}
}

// TestOverlapsIsLinear: two tasks of 58,000 names each that share nothing
// (what a 1 MiB create can hold) are compared in well under a second; the
// pairwise loop took minutes.
func TestOverlapsIsLinear(t *testing.T) {
	a, b := make([]string, 58000), make([]string, 58000)
	for i := range a {
		a[i], b[i] = fmt.Sprintf("default.a%d", i), fmt.Sprintf("default.b%d", i)
	}
	done := make(chan bool, 1)
	start := time.Now()
	go func() { done <- overlaps(a, b) }()
	select {
	case got := <-done:
		if got {
			t.Fatal("disjoint names overlap")
		}
		t.Logf("58k x 58k names compared in %s", time.Since(start))
	case <-time.After(3 * time.Second):
		t.Fatal("comparing 58k x 58k names takes over 3 s")
	}
	if !overlaps(append(a, "default.b17"), b) || !overlaps(a, []string{"*.a5"}) || !overlaps([]string{"default.*"}, b) {
		t.Fatal("a shared name or a wildcard does not overlap")
	}
}
