package contract

import (
	"bytes"
	"encoding/base64"
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
	sealed, err := old.Seal(plain, "secret:t1")
	if err != nil || !IsSealed(sealed) || bytes.Contains(sealed, []byte("Milvus")) {
		t.Fatalf("seal: %s %v", sealed, err)
	}
	rotated, _ := ParseKeyring(newKey + "," + oldKey)
	if got, err := rotated.Open(sealed, "secret:t1"); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open after rotation: %s %v", got, err)
	}
	resealed, _ := rotated.Seal(plain, "secret:t1")
	onlyNew, _ := ParseKeyring(newKey)
	if got, err := onlyNew.Open(resealed, "secret:t1"); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open with the new key: %s %v", got, err)
	}
	if _, err := onlyNew.Open(sealed, "secret:t1"); err == nil || !strings.Contains(err.Error(), "lacks") {
		t.Fatalf("a keyring without the sealing key: %v", err)
	}
	if got, err := (Keyring{}).Open(plain, "secret:t1"); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("plain credentials: %s %v", got, err)
	}
	tampered := append([]byte{}, sealed...)
	tampered[len(tampered)-3] ^= 1
	if _, err := old.Open(tampered, "secret:t1"); err == nil {
		t.Fatal("tampered credentials opened")
	}
	if _, err := old.Open(sealed, "secret:t2"); err == nil {
		t.Fatal("credentials sealed for one task's key opened under another's")
	}
	if _, err := ParseKeyring("c2hvcnQ="); err == nil {
		t.Fatal("a short key was accepted")
	}
}

// TestV1OpensOnlyForReseal: a value sealed before the binding (v1, bound to
// its key id only) is refused by Open, which a stream uses, and opened by
// OpenForReseal, which the control plane's re-seal at start uses.
func TestV1OpensOnlyForReseal(t *testing.T) {
	ring, _ := ParseKeyring("MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=")
	gcm, err := newGCM(ring.keys[0])
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, gcm.NonceSize())
	v1 := []byte(sealedV1 + ring.ids[0] + ":" + base64.StdEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte("root:Milvus"), []byte(ring.ids[0]))))
	if _, err := ring.Open(v1, "secret:t1"); err == nil || !strings.Contains(err.Error(), "re-seal") {
		t.Fatalf("a stream opened a v1 value: %v", err)
	}
	if got, err := ring.OpenForReseal(v1, "secret:t1"); err != nil || string(got) != "root:Milvus" {
		t.Fatalf("re-seal of a v1 value: %q %v", got, err)
	}
}
