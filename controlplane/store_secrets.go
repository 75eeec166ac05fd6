package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// PutSecret stores credentials under key (contract.SecretKey or
// contract.KeySourceCredentials) for a stream to read, as
// contract.StoredCredentials; empty credentials remove the key.
func (s *RedisStore) PutSecret(ctx context.Context, key string, token, user, pass string) error {
	if token == "" && user == "" {
		return s.rdb.Del(ctx, s.key(key)).Err()
	}
	b, err := json.Marshal(contract.StoredCredentials{Token: token, Username: user, Password: pass})
	if err != nil {
		return err
	}
	if b, err = s.keyring.Seal(b, key); err != nil {
		return fmt.Errorf("seal credentials: %w", err)
	}
	if err := s.rdb.Set(ctx, s.key(key), b, 0).Err(); err != nil {
		return fmt.Errorf("store credentials: %w", err)
	}
	return nil
}

// ResealSecrets seals every task's stored credentials with the keyring's
// first key (plain ones too): after a key rotation, or once keys are set.
// Credentials no key opens are left as they are and reported.
func (s *RedisStore) ResealSecrets(ctx context.Context) (resealed int, err error) {
	if s.keyring.Empty() {
		return 0, nil
	}
	ids, err := s.rdb.SMembers(ctx, s.key(contract.KeyTasks)).Result()
	if err != nil {
		return 0, fmt.Errorf("list tasks: %w", err)
	}
	var errs []error
	for _, id := range ids {
		bind := contract.SecretKey(id)
		key := s.key(bind)
		raw, err := s.rdb.Get(ctx, key).Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return resealed, fmt.Errorf("read credentials of %s: %w", id, err)
		}
		plain, err := s.keyring.OpenForReseal(raw, bind)
		if err != nil {
			errs = append(errs, fmt.Errorf("task %s: %w", id, err))
			continue
		}
		b, err := s.keyring.Seal(plain, bind)
		if err != nil {
			return resealed, err
		}
		if err := s.rdb.Set(ctx, key, b, 0).Err(); err != nil {
			return resealed, fmt.Errorf("store credentials of %s: %w", id, err)
		}
		resealed++
	}
	return resealed, errors.Join(errs...)
}
