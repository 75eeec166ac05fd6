package contract

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Credentials at rest: the control plane seals the credentials it stores
// (SecretKey, KeySourceCredentials) with AES-256-GCM as
// "enc:v2:<key id>:<base64(nonce|ciphertext)>", bound to the store key they
// are stored under (the key is authenticated data: a sealed value copied to
// another task's key does not open); the streams open them. The keys come from
// SecretKeysEnv, or else from a key file (package sealing) the control plane
// generates on its first start: a comma-separated list of base64 32-byte
// keys, the first sealing, every one opening (to rotate: put the new key
// first, keep the old one until the control plane restarted once, which
// re-seals every secret). "enc:v1:" values (sealed before the binding) open
// only for that re-seal.
const (
	SecretKeysEnv = "MILVUS_CDC_SECRET_KEYS"
	sealedPrefix  = "enc:v2:"
	sealedV1      = "enc:v1:"
)

// Keyring holds the keys credentials are sealed with; empty: stored plain.
type Keyring struct {
	keys [][]byte
	ids  []string
}

// ParseKeyring reads a comma-separated list of base64 32-byte keys.
func ParseKeyring(s string) (Keyring, error) {
	var k Keyring
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, err := base64.StdEncoding.DecodeString(part)
		if err != nil || len(key) != 32 {
			return Keyring{}, fmt.Errorf("%s: every key must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)", SecretKeysEnv)
		}
		sum := sha256.Sum256(key)
		k.keys, k.ids = append(k.keys, key), append(k.ids, hex.EncodeToString(sum[:4]))
	}
	return k, nil
}

// Empty reports whether the keyring has no key (credentials stay plain).
func (k Keyring) Empty() bool { return len(k.keys) == 0 }

// Seal encrypts plain with the first key, bound to bind (the store key it
// is stored under); without keys it returns plain.
func (k Keyring) Seal(plain []byte, bind string) ([]byte, error) {
	if k.Empty() {
		return plain, nil
	}
	gcm, err := newGCM(k.keys[0])
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := gcm.Seal(nonce, nonce, plain, boundData(k.ids[0], bind))
	return []byte(sealedPrefix + k.ids[0] + ":" + base64.StdEncoding.EncodeToString(out)), nil
}

// boundData is a sealed value's authenticated data: the key id and the store
// key it belongs to.
func boundData(id, bind string) []byte {
	return []byte("milvus-cdc credentials\x00" + id + "\x00" + bind)
}

// Open decrypts what Seal made for bind (with whichever key sealed it);
// anything not sealed is returned as it is. A value sealed for another store
// key, or in the unbound v1 format, does not open.
func (k Keyring) Open(raw []byte, bind string) ([]byte, error) {
	if strings.HasPrefix(string(raw), sealedV1) {
		return nil, errors.New("credentials are sealed in the old v1 format (not bound to their key): start the control plane once to re-seal them")
	}
	return k.open(raw, sealedPrefix, boundData, bind)
}

// OpenForReseal opens a value for the control plane's re-seal at start: v2
// values bound to bind, and v1 values (bound to their key id only).
func (k Keyring) OpenForReseal(raw []byte, bind string) ([]byte, error) {
	if strings.HasPrefix(string(raw), sealedV1) {
		return k.open(raw, sealedV1, func(id, _ string) []byte { return []byte(id) }, "")
	}
	return k.Open(raw, bind)
}

func (k Keyring) open(raw []byte, prefix string, aad func(id, bind string) []byte, bind string) ([]byte, error) {
	s := string(raw)
	if !strings.HasPrefix(s, prefix) {
		return raw, nil
	}
	id, body, ok := strings.Cut(strings.TrimPrefix(s, prefix), ":")
	if !ok {
		return nil, errors.New("sealed credentials are malformed")
	}
	for i, kid := range k.ids {
		if kid != id {
			continue
		}
		data, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return nil, fmt.Errorf("sealed credentials are malformed: %w", err)
		}
		gcm, err := newGCM(k.keys[i])
		if err != nil {
			return nil, err
		}
		if len(data) < gcm.NonceSize() {
			return nil, errors.New("sealed credentials are malformed")
		}
		plain, err := gcm.Open(nil, data[:gcm.NonceSize()], data[gcm.NonceSize():], aad(id, bind))
		if err != nil {
			return nil, fmt.Errorf("sealed credentials do not open with key %s for %q (tampered, or sealed for another key): %w", id, bind, err)
		}
		return plain, nil
	}
	return nil, fmt.Errorf("credentials are sealed with key %s, which this process lacks (%s, or the key file)", id, SecretKeysEnv)
}

// IsSealed reports whether raw was made by Seal.
func IsSealed(raw []byte) bool {
	return strings.HasPrefix(string(raw), sealedPrefix) || strings.HasPrefix(string(raw), sealedV1)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
