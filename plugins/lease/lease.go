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

// Redis scripts: the lease key holds "<holder>:<epoch>" with a TTL; the
// epoch counter lives beside it and only grows.
var (
	acquireScript = goredis.NewScript(`
if redis.call('exists', KEYS[1]) == 1 then return 0 end
local e = redis.call('incr', KEYS[2])
redis.call('set', KEYS[1], ARGV[1] .. ':' .. e, 'PX', ARGV[2])
return e`)
	renewScript = goredis.NewScript(`
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0`)
	releaseScript = goredis.NewScript(`
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`)
)

// ErrLost: another writer holds the task now (or the control plane revoked
// the lease); this writer must not apply anything any more.
var ErrLost = errors.New("the task's lease was taken over: another writer runs this task now")

// Lease is a held lease.
type Lease struct {
	rdb   *goredis.Client
	key   string
	ttl   time.Duration
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
// it every ttl/3 until Release. The Redis client is closed with the lease.
func Acquire(ctx context.Context, rdb *goredis.Client, key string, ttl time.Duration, log *service.Logger) (*Lease, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	holder := hex.EncodeToString(b)
	waited := false
	for {
		start := time.Now()
		e, err := acquireScript.Run(ctx, rdb, []string{key, key + ":epoch"}, holder, ttl.Milliseconds()).Int64()
		if err != nil {
			return nil, fmt.Errorf("acquire lease %s: %w", key, err)
		}
		if e > 0 {
			l := &Lease{rdb: rdb, key: key, ttl: ttl, token: holder + ":" + strconv.FormatInt(e, 10), epoch: e, log: log,
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

func (l *Lease) renewLoop() {
	defer close(l.done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
		n, err := renewScript.Run(ctx, l.rdb, []string{l.key}, l.token, l.ttl.Milliseconds()).Int64()
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

// Revoke takes a lease from whoever holds it (the control plane, for a task
// paused or deleted while a worker is unreachable): the holder's next
// renewal fails, and nobody can acquire it for ttl, by when any holder has
// stopped applying.
func Revoke(ctx context.Context, rdb goredis.Cmdable, key string, ttl time.Duration) error {
	if err := rdb.Set(ctx, key, "revoked", ttl).Err(); err != nil {
		return fmt.Errorf("revoke lease %s: %w", key, err)
	}
	return nil
}
