package e2e

import (
	"context"
	"slices"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// dbClient is a milvus-sdk-go client of database db.
func dbClient(t *testing.T, addr, db string) client.Client {
	t.Helper()
	c, err := client.NewClient(context.Background(), client.Config{Address: addr, DBName: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// rawMilvus is the raw gRPC service of a Milvus (for what the SDK lacks:
// a rename to another database, aliases by name).
func rawMilvus(t *testing.T, addr string) milvuspb.MilvusServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return milvuspb.NewMilvusServiceClient(conn)
}

func renameAcross(ctx context.Context, t *testing.T, addr, db, name, newDB, newName string) error {
	resp, err := rawMilvus(t, addr).RenameCollection(ctx, &milvuspb.RenameCollectionRequest{DbName: db, OldName: name, NewDBName: newDB, NewName: newName})
	return contract.StatusErr(resp, err)
}

func describeRaw(ctx context.Context, t *testing.T, addr, db, name string) *milvuspb.DescribeCollectionResponse {
	t.Helper()
	resp, err := rawMilvus(t, addr).DescribeCollection(ctx, &milvuspb.DescribeCollectionRequest{DbName: db, CollectionName: name})
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		t.Fatalf("describe %s.%s at %s: %v", db, name, addr, err)
	}
	return resp
}

func describeAliases(ctx context.Context, t *testing.T, addr, db, name string) []string {
	a := slices.Clone(describeRaw(ctx, t, addr, db, name).GetAliases())
	slices.Sort(a)
	return a
}

func propsOf(ctx context.Context, t *testing.T, addr, db, name string) map[string]string {
	out := map[string]string{}
	for _, kv := range describeRaw(ctx, t, addr, db, name).GetProperties() {
		out[kv.GetKey()] = kv.GetValue()
	}
	return out
}
