package controlplane

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// SameCredentials reports whether the credentials stored under key (as
// PutSecret stored them) are token, user and pass. The values are compared
// as SHA-256 digests in constant time, and never returned or logged.
func (s *RedisStore) SameCredentials(ctx context.Context, key, token, user, pass string) (bool, error) {
	raw, err := s.rdb.Get(ctx, s.key(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return token == "" && user == "", nil // PutSecret stores none for none
	}
	if err != nil {
		return false, fmt.Errorf("read the stored credentials: %w", err)
	}
	plain, err := s.keyring.Open(raw, key)
	if err != nil {
		return false, fmt.Errorf("open the stored credentials: %w", err)
	}
	var stored contract.StoredCredentials
	if err := json.Unmarshal(plain, &stored); err != nil {
		return false, errors.New("the stored credentials are not valid JSON")
	}
	digest := func(c contract.StoredCredentials) []byte {
		b, _ := json.Marshal([]string{c.Token, c.Username, c.Password})
		sum := sha256.Sum256(b)
		return sum[:]
	}
	want := contract.StoredCredentials{Token: token, Username: user, Password: pass}
	return subtle.ConstantTimeCompare(digest(stored), digest(want)) == 1, nil
}
