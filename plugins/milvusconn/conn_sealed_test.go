package milvusconn

import (
	"context"
	"strings"
	"testing"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
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
	sealed, err := ring.Seal([]byte(`{"token":"root:Milvus"}`))
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

	t.Setenv(contract.SecretKeysEnv, "")
	c, err = FromParsed(parsed, res)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.credentials(ctx); err == nil || !strings.Contains(err.Error(), contract.SecretKeysEnv) {
		t.Fatalf("without the key: %v", err)
	}
}
