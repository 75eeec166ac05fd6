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
// "enc:v1:<key id>:<base64(nonce|ciphertext)>"; the streams open them. The
// keys come from the environment (SecretKeysEnv) of the control plane and of
// every worker: a comma-separated list of base64 32-byte keys, the first
// sealing, every one opening (to rotate: put the new key first, keep the old
// one until the control plane restarted once, which re-seals every secret).
const (
	SecretKeysEnv = "MILVUS_CDC_SECRET_KEYS"
	sealedPrefix  = "enc:v1:"
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

// Seal encrypts plain with the first key; without keys it returns plain.
func (k Keyring) Seal(plain []byte) ([]byte, error) {
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
	out := gcm.Seal(nonce, nonce, plain, []byte(k.ids[0]))
	return []byte(sealedPrefix + k.ids[0] + ":" + base64.StdEncoding.EncodeToString(out)), nil
}

// Open decrypts what Seal made (with whichever key sealed it); anything
// not sealed is returned as it is.
func (k Keyring) Open(raw []byte) ([]byte, error) {
	s := string(raw)
	if !strings.HasPrefix(s, sealedPrefix) {
		return raw, nil
	}
	id, body, ok := strings.Cut(strings.TrimPrefix(s, sealedPrefix), ":")
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
		plain, err := gcm.Open(nil, data[:gcm.NonceSize()], data[gcm.NonceSize():], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("sealed credentials do not open with key %s: %w", id, err)
		}
		return plain, nil
	}
	return nil, fmt.Errorf("credentials are sealed with key %s, which %s of this process lacks", id, SecretKeysEnv)
}

// IsSealed reports whether raw was made by Seal.
func IsSealed(raw []byte) bool { return strings.HasPrefix(string(raw), sealedPrefix) }

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
