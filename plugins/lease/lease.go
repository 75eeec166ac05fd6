// Package lease keeps one writer per task: a lease in Redis that a task's
// writer acquires before it applies anything, renews while it runs and
// releases when it stops. A writer that cannot renew stops applying before
// its lease can expire; a lease that was taken over (a new epoch) is lost for
// good, so a frozen-then-woken writer never applies again.
package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redpanda-data/benthos/v4/public/service"
)

// runCurrent is the run check the scripts share: true when no run fences
// this writer (ARGV run ""), when the run key names its run, or when the
// store lost its data (run key and store identity both gone: Redis flushed or
// evicted). The control plane then starts, moves and removes nothing until
// the store is restored, so the one writer already running goes on, as the
// control plane promises; a deleted task's run key is gone while the
// identity stays, and that run is fenced.
const runCurrent = `
local function runCurrent(runKey, idKey, run)
  if run == '' then return true end
  local cur = redis.call('get', runKey)
  if cur == run then return true end
  return cur == false and redis.call('exists', idKey) == 0
end
`

// Redis scripts: the lease key holds "<holder>:<epoch>" with a TTL; the
// epoch counter lives beside it and only grows. KEYS[3]/KEYS[4] (acquire) and
// KEYS[2]/KEYS[3] (renew) are the run key and the store identity key, ARGV[3]
// the writer's run (see runCurrent).
var (
	acquireScript = goredis.NewScript(runCurrent + `
if not runCurrent(KEYS[3], KEYS[4], ARGV[3]) then return -1 end
if redis.call('exists', KEYS[1]) == 1 then return 0 end
local e = redis.call('incr', KEYS[2])
redis.call('set', KEYS[1], ARGV[1] .. ':' .. e, 'PX', ARGV[2])
return e`)
	renewScript = goredis.NewScript(runCurrent + `
if not runCurrent(KEYS[2], KEYS[3], ARGV[3]) then return 0 end
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0`)
	releaseScript = goredis.NewScript(`
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`)
)

// Run is what fences a writer: the run it belongs to and where the task
// store keeps the task's run and its own identity.
type Run struct {
	ID         string // this writer's run; "" = no fence (a pipeline run on its own)
	StoreIDKey string // the store's identity key (prefix + contract.KeyStoreID)
}

// RunKey is the key naming the run allowed to hold lease key `key` (package
// contract's RunKey for a task's lease).
func RunKey(key string) string { return key + ":run" }

// ErrFenced: the run this writer belongs to is not the task's current run any
// more (the control plane paused, deleted or restarted the task): it never
// takes the lease or records anything again.
var ErrFenced = errors.New("this stream's run was ended by the control plane (the task was paused, deleted or started again): it applies and records nothing more")

// ErrLost: another writer holds the task now (or the control plane revoked
// the lease); this writer must not apply anything any more.
var ErrLost = errors.New("the task's lease was taken over: another writer runs this task now")

// Lease is a held lease.
type Lease struct {
	rdb   *goredis.Client
	key   string
	ttl   time.Duration
	run   Run // the run this lease is fenced by
	token string
	epoch int64
	log   *service.Logger

	mu         sync.Mutex
	validUntil time.Time // monotonic: a frozen process wakes up past it
	lost       bool
	stop       chan struct{}
	done       chan struct{}
	release    sync.Once
}

// Acquire waits until the lease key is free, takes it, and keeps renewing
// it every ttl/10 until Release. The Redis client is closed with the lease.
// With a run, the lease is taken and renewed only while RunKey(key) holds
// it: ErrFenced once it does not.
func Acquire(ctx context.Context, rdb *goredis.Client, key string, ttl time.Duration, run Run, log *service.Logger) (*Lease, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	holder := hex.EncodeToString(b)
	waited := false
	for {
		start := time.Now()
		e, err := acquireScript.Run(ctx, rdb, []string{key, key + ":epoch", RunKey(key), run.StoreIDKey}, holder, ttl.Milliseconds(), run.ID).Int64()
		if err != nil {
			return nil, fmt.Errorf("acquire lease %s: %w", key, err)
		}
		if e < 0 {
			return nil, fmt.Errorf("lease %s, run %s: %w", key, run.ID, ErrFenced)
		}
		if e > 0 {
			l := &Lease{rdb: rdb, key: key, ttl: ttl, run: run, token: holder + ":" + strconv.FormatInt(e, 10), epoch: e, log: log,
				validUntil: start.Add(ttl * 9 / 10), stop: make(chan struct{}), done: make(chan struct{})}
			go l.renewLoop()
			if waited {
				log.Infof("Lease %s acquired (epoch %d) after the previous writer's expired", key, e)
			}
			return l, nil
		}
		if !waited {
			log.Infof("Lease %s is held by another writer of this task: waiting until it is released or expires (at most %s)", key, ttl)
			waited = true
		}
		t := time.NewTimer(ttl / 10)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// Epoch is this lease's epoch (fencing token): later holders have higher ones.
func (l *Lease) Epoch() int64 { return l.epoch }

// CallDeadline is when a call to the target made now must have ended: a
// tenth of the TTL before the lease could expire, so a call never outlives
// this writer's lease. An error when the lease is not valid.
func (l *Lease) CallDeadline() (time.Time, error) {
	if err := l.Valid(); err != nil {
		return time.Time{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.validUntil.Add(-l.ttl / 10), nil
}

// Valid is nil while this writer may apply: the lease was renewed recently
// enough that it cannot have expired, and nobody took it over.
func (l *Lease) Valid() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.lost:
		return ErrLost
	case time.Now().After(l.validUntil):
		return fmt.Errorf("lease %s not renewed since %s ago: not applying until it is (or another writer takes over)", l.key, l.ttl*9/10)
	}
	return nil
}

// renewEvery: a call to the target may last until the lease could expire
// (CallDeadline), so the sooner after a renewal the more room a call has:
// renewing every ttl/10 gives each call at least 0.7·ttl (7 s by default)
// instead of 0.47·ttl, which an 8 MiB upsert into a busy target exceeded.
func (l *Lease) renewEvery() time.Duration { return l.ttl / 10 }

func (l *Lease) renewLoop() {
	defer close(l.done)
	t := time.NewTicker(l.renewEvery())
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
		n, err := renewScript.Run(ctx, l.rdb, []string{l.key, RunKey(l.key), l.run.StoreIDKey}, l.token, l.ttl.Milliseconds(), l.run.ID).Int64()
		cancel()
		l.mu.Lock()
		switch {
		case err != nil:
			l.log.Warnf("Cannot renew lease %s (applying stops in %s unless it is): %v", l.key, time.Until(l.validUntil).Round(time.Millisecond), err)
		case n == 0:
			if !l.lost {
				l.log.Warnf("Lease %s (epoch %d) was taken over or revoked: this writer applies nothing more", l.key, l.epoch)
			}
			l.lost = true
		default:
			l.validUntil = start.Add(l.ttl * 9 / 10)
		}
		lost := l.lost
		l.mu.Unlock()
		if lost {
			return
		}
	}
}

// Release stops renewing and frees the lease if this writer still holds it,
// so the task's next writer need not wait for it to expire.
func (l *Lease) Release(ctx context.Context) error {
	var err error
	l.release.Do(func() {
		close(l.stop)
		<-l.done
		defer l.rdb.Close()
		if rerr := releaseScript.Run(ctx, l.rdb, []string{l.key}, l.token).Err(); rerr != nil {
			err = fmt.Errorf("release lease %s: %w", l.key, rerr)
		}
	})
	return err
}
