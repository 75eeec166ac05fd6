package controlplane

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// stackStore opens a store on the stack's Redis under a prefix of its own
// (skipped without MILVUS_CDC_STACK=1).
func stackStore(t *testing.T) *RedisStore {
	t.Helper()
	if os.Getenv("MILVUS_CDC_STACK") != "1" {
		t.Skip("needs the stack's Redis: run `make test`")
	}
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	s, err := NewStore("redis://"+addr, "storetest-"+time.Now().Format("150405.000000")+":", contract.Keyring{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		keys, _ := s.rdb.Keys(context.Background(), s.prefix+"*").Result()
		if len(keys) > 0 {
			s.rdb.Del(context.Background(), keys...)
		}
		_ = s.Close()
	})
	return s
}

// TestStoreUpdateLosesNoChange: concurrent updates of one task (requests
// and reconcile passes) each land; none overwrites another.
func TestStoreUpdateLosesNoChange(t *testing.T) {
	s := stackStore(t)
	ctx := context.Background()
	if err := s.Put(ctx, Task{ID: "t1", State: StateRunning}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Update(ctx, "t1", func(t *Task) error { t.Reason += "x"; return nil })
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
		}
	}
	got, err := s.Get(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	// An update may give up after repeated conflicts (it says so); every one
	// that reported success is in the stored task.
	if want := 40 - failed; len(got.Reason) != want || failed > 20 {
		t.Fatalf("%d updates succeeded, stored task shows %d (%d gave up)", want, len(got.Reason), failed)
	}
}

// TestStoreUpdateMissingTask: updating a deleted task does not bring it back.
func TestStoreUpdateMissingTask(t *testing.T) {
	s := stackStore(t)
	ctx := context.Background()
	err := s.Update(ctx, "gone", func(t *Task) error { t.Worker = "w"; return nil })
	if !errors.Is(err, errNoTask) {
		t.Fatalf("update of a missing task: %v, want errNoTask", err)
	}
	if _, err := s.Get(ctx, "gone"); !errors.Is(err, errNoTask) {
		t.Fatalf("the missing task exists after the update: %v", err)
	}
	if ids, _ := s.List(ctx); len(ids) != 0 {
		t.Fatalf("tasks listed: %v", ids)
	}
	// fn's error leaves the task as it was.
	if err := s.Put(ctx, Task{ID: "t2", State: StatePaused}); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	if err := s.Update(ctx, "t2", func(t *Task) error { t.State = StateRunning; return refused }); !errors.Is(err, refused) {
		t.Fatalf("fn's error not returned: %v", err)
	}
	if got, _ := s.Get(ctx, "t2"); got.State != StatePaused || strings.Contains(got.Reason, "x") {
		t.Fatalf("task changed by a refused update: %+v", got)
	}
}

// TestSecretsSealedAndResealed: credentials are stored sealed, never in
// plain text; after a key rotation ResealSecrets seals them with the new key
// (the old one can then go).
func TestSecretsSealedAndResealed(t *testing.T) {
	const oldKey = "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="
	const newKey = "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY="
	plain := stackStore(t)
	ctx := context.Background()
	oldRing, _ := contract.ParseKeyring(oldKey)
	s := &RedisStore{rdb: plain.rdb, prefix: plain.prefix, keyring: oldRing}
	if err := s.Put(ctx, Task{ID: "t1", State: StatePaused}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSecret(ctx, contract.SecretKey("t1"), "root:Milvus", "", ""); err != nil {
		t.Fatal(err)
	}
	raw, err := s.rdb.Get(ctx, s.key(contract.SecretKey("t1"))).Bytes()
	if err != nil || !contract.IsSealed(raw) || strings.Contains(string(raw), "Milvus") {
		t.Fatalf("stored: %q %v", raw, err)
	}
	rotated, _ := contract.ParseKeyring(newKey + "," + oldKey)
	s.keyring = rotated
	if n, err := s.ResealSecrets(ctx); err != nil || n != 1 {
		t.Fatalf("reseal: %d %v", n, err)
	}
	raw, _ = s.rdb.Get(ctx, s.key(contract.SecretKey("t1"))).Bytes()
	onlyNew, _ := contract.ParseKeyring(newKey)
	got, err := onlyNew.Open(raw, contract.SecretKey("t1"))
	if err != nil {
		t.Fatalf("after reseal the new key alone does not open it: %v", err)
	}
	if cr, _ := contract.ParseCredentials(got); cr.Username != "root" || cr.Password != "Milvus" {
		t.Fatalf("resealed credentials: %+v", cr)
	}
}
