package contract

import (
	"strings"
	"testing"
)

const (
	grantKeyA = "dGVzdC1rZXktMDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI="
	grantKeyB = "b3RoZXIta2V5LTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="
)

// TestStreamGrant: a grant opens for its stream id and body only, with any
// key of the keyring (rotation), and never with another key or none.
func TestStreamGrant(t *testing.T) {
	a, err := ParseKeyring(grantKeyA)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := ParseKeyring(grantKeyB + "," + grantKeyA)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ParseKeyring(grantKeyB)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("input: {}\n")
	g, err := a.GrantStream("t1", body)
	if err != nil || !strings.HasPrefix(g, "g1:") {
		t.Fatalf("grant %q: %v", g, err)
	}
	if err := a.VerifyStreamGrant("t1", body, g); err != nil {
		t.Fatalf("own grant refused: %v", err)
	}
	if err := rotated.VerifyStreamGrant("t1", body, g); err != nil {
		t.Fatalf("grant of the old key refused after rotation: %v", err)
	}
	g2, _ := rotated.GrantStream("t1", body)
	if err := a.VerifyStreamGrant("t1", body, g2); err == nil || !strings.Contains(err.Error(), "lacks") {
		t.Fatalf("grant of a key the worker lacks: %v", err)
	}
	for name, c := range map[string]struct {
		id, body, grant string
		ring            Keyring
	}{
		"other id":   {"t2", string(body), g, a},
		"other body": {"t1", "input: { x: 1 }\n", g, a},
		"missing":    {"t1", string(body), "", a},
		"garbage":    {"t1", string(body), "g1:zz", a},
		"bad base64": {"t1", string(body), "g1:" + strings.Split(g, ":")[1] + ":!!", a},
		"other key":  {"t1", string(body), g, other},
		"empty ring": {"t1", string(body), g, Keyring{}},
		"v0":         {"t1", string(body), strings.Replace(g, "g1:", "g0:", 1), a},
	} {
		if err := c.ring.VerifyStreamGrant(c.id, []byte(c.body), c.grant); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := (Keyring{}).GrantStream("t1", body); err == nil {
		t.Error("an empty keyring signed")
	}
}
