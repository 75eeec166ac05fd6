package contract

import (
	"bytes"
	"strings"
	"testing"
)

// TestKeyringSealOpenRotate: sealed credentials open with the key that
// sealed them, also after a new key was put first; a keyring without that
// key refuses them naming the key; plain credentials pass as they are.
func TestKeyringSealOpenRotate(t *testing.T) {
	const oldKey = "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="
	const newKey = "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY="
	old, err := ParseKeyring(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"token":"root:Milvus"}`)
	sealed, err := old.Seal(plain)
	if err != nil || !IsSealed(sealed) || bytes.Contains(sealed, []byte("Milvus")) {
		t.Fatalf("seal: %s %v", sealed, err)
	}
	rotated, _ := ParseKeyring(newKey + "," + oldKey)
	if got, err := rotated.Open(sealed); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open after rotation: %s %v", got, err)
	}
	resealed, _ := rotated.Seal(plain)
	onlyNew, _ := ParseKeyring(newKey)
	if got, err := onlyNew.Open(resealed); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open with the new key: %s %v", got, err)
	}
	if _, err := onlyNew.Open(sealed); err == nil || !strings.Contains(err.Error(), "lacks") {
		t.Fatalf("a keyring without the sealing key: %v", err)
	}
	if got, err := (Keyring{}).Open(plain); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("plain credentials: %s %v", got, err)
	}
	tampered := append([]byte{}, sealed...)
	tampered[len(tampered)-3] ^= 1
	if _, err := old.Open(tampered); err == nil {
		t.Fatal("tampered credentials opened")
	}
	if _, err := ParseKeyring("c2hvcnQ="); err == nil {
		t.Fatal("a short key was accepted")
	}
}
