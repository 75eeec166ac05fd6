package milvus

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"
)

func TestZZLatency(t *testing.T) {
	if os.Getenv("DBG_LAT") == "" {
		t.Skip()
	}
	ctx := context.Background()
	c, err := client.NewClient(ctx, client.Config{Address: "127.0.0.1:19530"})
	if err != nil {
		t.Fatal(err)
	}
	g := c.(*client.GrpcClient)
	name := "lat_" + time.Now().Format("150405")
	s := entity.NewSchema().WithName(name).WithField(entity.NewField().WithName("pk").WithDataType(entity.FieldTypeInt64).WithIsPrimaryKey(true)).
		WithField(entity.NewField().WithName("v").WithDataType(entity.FieldTypeFloatVector).WithDim(4))
	if err := c.CreateCollection(ctx, s, 2); err != nil {
		t.Fatal(err)
	}
	defer c.DropCollection(ctx, name)
	idx, _ := entity.NewIndexFlat(entity.L2)
	c.CreateIndex(ctx, name, "v", idx, false)
	c.LoadCollection(ctx, name, false)
	pks := make([]int64, 1000)
	vs := make([][]float32, 1000)
	for i := range pks {
		pks[i] = int64(i)
		vs[i] = []float32{1, 2, 3, 4}
	}
	if _, err := c.Insert(ctx, name, "", entity.NewColumnInt64("pk", pks), entity.NewColumnFloatVector("v", 4, vs)); err != nil {
		t.Fatal(err)
	}
	for _, lvl := range []commonpb.ConsistencyLevel{commonpb.ConsistencyLevel_Strong, commonpb.ConsistencyLevel_Customized} {
		start := time.Now()
		n := 20
		for i := 0; i < n; i++ {
			req := &milvuspb.QueryRequest{CollectionName: name, PartitionNames: []string{"_default"}, Expr: "pk in [1,2,3,500]",
				OutputFields: []string{"pk", "v"}, ConsistencyLevel: lvl}
			if lvl == commonpb.ConsistencyLevel_Customized {
				req.GuaranteeTimestamp = uint64(time.Now().Add(-2*time.Second).UnixMilli()) << 18
			}
			resp, err := g.Service.Query(ctx, req)
			if err := statusErr(resp.GetStatus(), err); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				t.Log(lvl, len(resp.GetFieldsData()), resp.GetFieldsData()[0].GetScalars().GetLongData().GetData())
			}
		}
		t.Logf("%s: %v per query", lvl, time.Since(start)/time.Duration(n))
	}
}
