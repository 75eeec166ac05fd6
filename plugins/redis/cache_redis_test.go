package redis

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"
)

func TestRedisCacheConfig(t *testing.T) {
	if _, err := redisCacheSpec().ParseYAML(`prefix: x`, nil); err == nil {
		t.Fatal("a config without url must be rejected")
	}
	conf, err := redisCacheSpec().ParseYAML(`url: "not a redis url"`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := redisCacheFromParsed(conf); err == nil {
		t.Fatal("a non-redis URL must be rejected")
	}
}

// TestRedisCacheOnStack uses the stack's real Redis.
func TestRedisCacheOnStack(t *testing.T) {
	if os.Getenv("MILVUS_CDC_STACK") != "1" {
		t.Skip("needs the local stack: run `make test`")
	}
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	conf, err := redisCacheSpec().ParseYAML("url: redis://"+addr+"\nprefix: \"test-"+time.Now().Format("150405.000")+":\"", nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := redisCacheFromParsed(conf)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	ctx := context.Background()
	if _, err := c.Get(ctx, "k"); !errors.Is(err, service.ErrKeyNotFound) {
		t.Fatalf("get of a missing key: %v", err)
	}
	if err := c.Set(ctx, "k", []byte("v1"), nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(ctx, "k", []byte("v2"), nil); !errors.Is(err, service.ErrKeyAlreadyExists) {
		t.Fatalf("add over an existing key: %v", err)
	}
	if v, err := c.Get(ctx, "k"); err != nil || string(v) != "v1" {
		t.Fatalf("get: %q %v", v, err)
	}
	ttl := 200 * time.Millisecond
	if err := c.Set(ctx, "short", []byte("x"), &ttl); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	if _, err := c.Get(ctx, "short"); !errors.Is(err, service.ErrKeyNotFound) {
		t.Fatalf("a key past its TTL: %v", err)
	}
	if err := c.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "k"); !errors.Is(err, service.ErrKeyNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
}
