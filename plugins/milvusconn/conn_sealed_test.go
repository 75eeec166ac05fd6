package milvusconn

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/sealing"
)

// TestSealedCredentials: credentials sealed at rest open with the keys named
// by credentials_keys_env; without the key the connection says which key is
// missing instead of sending garbage.
func TestSealedCredentials(t *testing.T) {
	const key = "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="
	ring, err := contract.ParseKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := ring.Seal([]byte(`{"token":"root:Milvus"}`), "secret:t")
	if err != nil {
		t.Fatal(err)
	}
	res := service.MockResources(service.MockResourcesOptAddCache("store"))
	ctx := context.Background()
	_ = res.AccessCache(ctx, "store", func(c service.Cache) { _ = c.Set(ctx, "secret:t", sealed, nil) })
	spec := service.NewConfigSpec().Fields(Fields("127.0.0.1:19530")...)
	parsed, err := spec.ParseYAML("credentials_cache: store\ncredentials_key: secret:t\n", nil)
	if err != nil {
		t.Fatal(err)
	}

	t.Setenv(contract.SecretKeysEnv, key)
	c, err := FromParsed(parsed, res)
	if err != nil {
		t.Fatal(err)
	}
	if cr, err := c.credentials(ctx); err != nil || cr.Username != "root" || cr.Password != "Milvus" {
		t.Fatalf("with the key: %+v %v", cr, err)
	}

	// Another task's key holding this task's sealed value does not open.
	_ = res.AccessCache(ctx, "store", func(c service.Cache) { _ = c.Set(ctx, "secret:other", sealed, nil) })
	other, _ := spec.ParseYAML("credentials_cache: store\ncredentials_key: secret:other\n", nil)
	co, err := FromParsed(other, res)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := co.credentials(ctx); err == nil {
		t.Fatal("credentials sealed for secret:t opened under secret:other")
	}

	t.Setenv(contract.SecretKeysEnv, "")
	keyFile := filepath.Join(t.TempDir(), "secret-keys")
	t.Setenv(sealing.KeyFileEnv, keyFile)
	c, err = FromParsed(parsed, res)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.credentials(ctx); err == nil || !strings.Contains(err.Error(), contract.SecretKeysEnv) {
		t.Fatalf("without the key: %v", err)
	}
	// No keys in the environment: the key file (the control plane's) opens them.
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cr, err := c.credentials(ctx); err != nil || cr.Username != "root" {
		t.Fatalf("with the key file: %+v %v", cr, err)
	}
}
