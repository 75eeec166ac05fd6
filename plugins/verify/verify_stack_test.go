package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// Collections of the stack test, created identically on both sides.
const (
	collTypes  = "types"        // every field type, VarChar key, 2 partitions, loaded
	collVecs   = "vecs"         // 100,000 rows of 128-d float vectors, loaded
	collBin    = "bin"          // binary vectors, indexed but not loaded
	collNoIdx  = "noidx"        // no index: cannot be loaded, rows are skipped
	vecRows    = 100_000        // rows of collVecs
	vecBatch   = 5_000          // insert batch of collVecs
	oddPK      = "q\"uo\\te\tü" // a key that needs escaping in expressions
	typesCount = 200 + 1 + 50   // _default rows + oddPK + partition p1
)

// TestStackVerify fills a database of its own on both sides identically
// (the target's under another name, through the database mapping), checks
// that verify finds no difference, then makes changes on both sides and
// checks that verify reports exactly those.
func TestStackVerify(t *testing.T) {
	env := harness.RequireStack(t)
	srcAddr, tgtAddr := env.SourceAddr, env.TargetAddr
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	suffix := fmt.Sprintf("%d_%04d", time.Now().Unix()%1_000_000, rand.Intn(10_000))
	srcDB, tgtDB := "vfy_"+suffix, "vfy_"+suffix+"_t"
	// Alias names are unique names of their own: each run has its own.
	alias := "vfy_al_" + suffix

	t0 := time.Now()
	var sc, tc client.Client
	if err := both(func() (err error) {
		sc, err = setupSide(ctx, t, srcAddr, srcDB, alias)
		return err
	}, func() (err error) {
		tc, err = setupSide(ctx, t, tgtAddr, tgtDB, alias)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("setup of both sides: %s", time.Since(t0).Round(time.Millisecond))

	opts := Options{
		SourceAddr: srcAddr, TargetAddr: tgtAddr,
		Databases:       []string{srcDB},
		DatabaseMapping: map[string]string{srcDB: tgtDB},
		Logf:            t.Logf,
	}

	// The replicator's tags on the target's copy are no difference.
	mustDo(t, "tag types", func() error {
		return setProperty(ctx, tc, collTypes, "milvus_cdc.source_collection_id", "4711")
	})

	// 1. Identical (the same alias of types on both sides): no difference;
	// every row of the three loadable collections compared (bin loaded
	// temporarily), noidx skipped.
	rep := runVerify(ctx, t, opts)
	if !rep.OK() || rep.DatabasesCompared != 1 || rep.CollectionsCompared != 4 ||
		rep.RowsCompared != vecRows+typesCount+100 {
		t.Fatalf("identical sides: ok=%v dbs=%d colls=%d rows=%d diffs=%v", rep.OK(),
			rep.DatabasesCompared, rep.CollectionsCompared, rep.RowsCompared, rep.Diffs)
	}
	if !hasNote(rep, collNoIdx, `no index on vector field "vec"`) {
		t.Errorf("noidx: no skip note in %v", rep.Notes)
	}
	for _, c := range []client.Client{sc, tc} {
		if st, err := c.GetLoadState(ctx, collBin, nil); err != nil || st != entity.LoadStateNotLoad {
			t.Errorf("bin not released after the run: %v %v", stateName(st), err)
		}
	}

	// Key ranges split (int64 keys halved by value, VarChar keys at a
	// sample's median): same result.
	split := opts
	split.Collections, split.KeysPerQuery = []string{srcDB + "." + collVecs}, 30_000
	if rep := runVerify(ctx, t, split); !rep.OK() || rep.RowsCompared != vecRows {
		t.Fatalf("split int64 key ranges: ok=%v rows=%d diffs=%v", rep.OK(), rep.RowsCompared, rep.Diffs)
	}
	split.Collections, split.KeysPerQuery = []string{srcDB + "." + collTypes}, 40
	if rep := runVerify(ctx, t, split); !rep.OK() || rep.RowsCompared != typesCount {
		t.Fatalf("split VarChar key ranges: ok=%v rows=%d diffs=%v", rep.OK(), rep.RowsCompared, rep.Diffs)
	}

	// A database mapped to a database the target lacks.
	missing := opts
	missing.DatabaseMapping = map[string]string{srcDB: tgtDB + "_none"}
	if rep := runVerify(ctx, t, missing); rep.OK() || len(rep.Diffs) != 1 || rep.Diffs[0].Kind != KindDatabase ||
		rep.Diffs[0].Detail != fmt.Sprintf("database %q is missing on the target", tgtDB+"_none") {
		t.Fatalf("missing database: %v", rep.Diffs)
	}

	// 2. A JSON value rewritten with other key order and number spelling is
	// the same value: still no difference.
	row := workload.TypesRows(7, 1)
	row[9] = entity.NewColumnJSONBytes("f_json", [][]byte{[]byte(`{ "nested": {"ok": true}, "tags": ["t7"], "n": 7.0 }`)})
	mustDo(t, "upsert k7", func() error { _, err := tc.Upsert(ctx, collTypes, "", row...); return err })
	if rep := runVerify(ctx, t, opts); !rep.OK() {
		t.Fatalf("semantically equal JSON reported: %v", rep.Diffs)
	}

	// 3. Changes on both sides. On the source: k8 also in p1 (a query over
	// both partitions returns it once, so only p1's key set shows it), an
	// alias of bin. On the target: an alias of vecs, a TTL, another
	// replicator tag (no difference), and the changes below.
	mustDo(t, "insert k8 into p1 on the source", func() error {
		_, err := sc.Insert(ctx, collTypes, "p1", workload.TypesRows(8, 1)...)
		return err
	})
	mustDo(t, "source alias", func() error { return sc.CreateAlias(ctx, collBin, alias+"_s") })
	mustDo(t, "target alias", func() error { return tc.CreateAlias(ctx, collVecs, alias+"_t") })
	mustDo(t, "target ttl", func() error { return tc.AlterCollection(ctx, collTypes, entity.CollectionTTL(3600)) })
	mustDo(t, "tag types again", func() error {
		return setProperty(ctx, tc, collTypes, "milvus_cdc.replication", "r1")
	})
	vec := workload.Rows(777, 1, 128, rand.New(rand.NewSource(99)))
	mustDo(t, "upsert vecs 777", func() error { _, err := tc.Upsert(ctx, collVecs, "", vec...); return err })
	mustDo(t, "delete k5", func() error { return tc.Delete(ctx, collTypes, "", `pk in ["k5"]`) })
	mustDo(t, "scalar index", func() error {
		return tc.CreateIndex(ctx, collTypes, "f_int64", entity.NewScalarIndexWithType(entity.Sorted), false,
			client.WithIndexName("f_int64_sorted"))
	})
	mustDo(t, "extra partition", func() error { return tc.CreatePartition(ctx, collBin, "extra") })
	mustDo(t, "load bin", func() error { return tc.LoadCollection(ctx, collBin, false) })
	mustDo(t, "extra collection", func() error {
		return tc.CreateCollection(ctx, workload.BinarySchema("extra_coll"), 1)
	})

	t0 = time.Now()
	var out, errOut bytes.Buffer
	code := Main(ctx, []string{"--source", srcAddr, "--target", tgtAddr, "--databases", srcDB,
		"--database-mapping", srcDB + "=" + tgtDB, "--json", "--quiet"}, &out, &errOut)
	t.Logf("verify with differences: exit %d in %s", code, time.Since(t0).Round(time.Millisecond))
	if code != ExitDiffs {
		t.Fatalf("exit %d, stderr %s", code, errOut.String())
	}
	rep = &Report{}
	if err := json.Unmarshal(out.Bytes(), rep); err != nil {
		t.Fatalf("json report: %v\n%s", err, out.String())
	}
	var text bytes.Buffer
	_ = rep.WriteText(&text)
	t.Logf("report:\n%s", text.String())
	want := []string{
		`bin|alias|alias "` + alias + `_s" is missing on the target`,
		"bin|load_state|load state: source NotLoad, target Loaded",
		`bin|partition|partition "extra" exists only on the target`,
		`extra_coll|collection|collection exists only on the target (database "` + tgtDB + `")`,
		`types|index|index "f_int64_sorted" on field "f_int64" exists only on the target`,
		`types|missing_row|partition "_default": pk "k5" is missing on the target`,
		`types|missing_row|partition "p1": pk "k8" is missing on the target`,
		`types|row_count|partition "_default" row count: source 201, target 200`,
		`types|row_count|partition "p1" row count: source 51, target 50`,
		"types|row_count|row count: source 252, target 250",
		`types|schema|property collection.ttl.seconds: only on the target ("3600")`,
		`vecs|alias|alias "` + alias + `_t" exists only on the target`,
		`vecs|field_value|pk 777, field "vec": source [`,
	}
	var got []string
	for _, d := range rep.Diffs {
		got = append(got, d.Collection+"|"+d.Kind+"|"+d.Detail)
	}
	sort.Strings(got)
	if len(got) != len(want) || rep.DiffCount != len(want) {
		t.Fatalf("got %d differences (%d counted), want %d:\n%s", len(got), rep.DiffCount, len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("difference %d: got %q, want prefix %q", i, got[i], want[i])
		}
	}
	if st, err := sc.GetLoadState(ctx, collBin, nil); err != nil || st != entity.LoadStateNotLoad {
		t.Errorf("source bin not released after the run: %v %v", stateName(st), err)
	}
	if st, err := tc.GetLoadState(ctx, collBin, nil); err != nil || st != entity.LoadStateLoaded {
		t.Errorf("target bin load state changed by the run: %v %v", stateName(st), err)
	}
}

// runVerify runs Run, logs its text report and fails the test on an error.
func runVerify(ctx context.Context, t *testing.T, o Options) *Report {
	t.Helper()
	rep, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_ = rep.WriteText(&b)
	t.Logf("verify report:\n%s", b.String())
	return rep
}

func hasNote(rep *Report, coll, text string) bool {
	for _, n := range rep.Notes {
		if n.Collection == coll && strings.Contains(n.Detail, text) {
			return true
		}
	}
	return false
}

func mustDo(t *testing.T, what string, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// setProperty sets one collection property through the gRPC service (the
// SDK's AlterCollection knows only its own attributes).
func setProperty(ctx context.Context, c client.Client, coll, key, value string) error {
	gc, ok := c.(*client.GrpcClient)
	if !ok {
		return fmt.Errorf("client %T has no gRPC service", c)
	}
	st, err := gc.Service.AlterCollection(ctx, &milvuspb.AlterCollectionRequest{
		CollectionName: coll, Properties: []*commonpb.KeyValuePair{{Key: key, Value: value}},
	})
	return contract.StatusErr(st, err)
}

// setupSide creates database db at addr with the four collections (types
// with alias), and registers its removal (aliases, collections, then the
// database).
func setupSide(ctx context.Context, t *testing.T, addr, db, alias string) (client.Client, error) {
	admin, err := workload.Connect(ctx, addr)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = admin.Close() })
	if err := admin.CreateDatabase(ctx, db); err != nil {
		return nil, fmt.Errorf("create database %s at %s: %w", db, addr, err)
	}
	c, err := client.NewClient(ctx, client.Config{Address: addr, DBName: db})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, coll := range []string{collTypes, collVecs, collBin, collNoIdx, "extra_coll"} {
			if has, _ := c.HasCollection(cctx, coll); !has {
				continue
			}
			// Every alias of a collection of this database is the test's.
			aliases, err := describeAliases(cctx, c, coll)
			if err != nil {
				t.Logf("cleanup: aliases of %s.%s at %s: %v", db, coll, addr, err)
			}
			for _, a := range aliases {
				if err := c.DropAlias(cctx, a); err != nil {
					t.Logf("cleanup: drop alias %s of %s.%s at %s: %v", a, db, coll, addr, err)
				}
			}
			if err := c.DropCollection(cctx, coll); err != nil {
				t.Logf("cleanup: drop %s.%s at %s: %v", db, coll, addr, err)
			}
		}
		_ = c.Close()
		if err := admin.DropDatabase(cctx, db); err != nil {
			t.Logf("cleanup: drop database %s at %s: %v", db, addr, err)
		}
	})
	return c, fillSide(ctx, c, alias)
}

func fillSide(ctx context.Context, c client.Client, alias string) error {
	ivf, err := entity.NewIndexIvfFlat(entity.L2, 16)
	if err != nil {
		return err
	}
	binIdx, err := entity.NewIndexBinIvfFlat(entity.HAMMING, 16)
	if err != nil {
		return err
	}
	odd := workload.TypesRows(200, 1)
	odd[0] = entity.NewColumnVarChar("pk", []string{oddPK})
	steps := []func() error{
		func() error { return c.CreateCollection(ctx, workload.TypesSchema(collTypes), 1) },
		func() error { _, err := c.Insert(ctx, collTypes, "", workload.TypesRows(0, 200)...); return err },
		func() error { _, err := c.Insert(ctx, collTypes, "", odd...); return err },
		func() error { return c.CreatePartition(ctx, collTypes, "p1") },
		func() error { _, err := c.Insert(ctx, collTypes, "p1", workload.TypesRows(1000, 50)...); return err },
		func() error { return c.CreateIndex(ctx, collTypes, "vec", ivf, false, client.WithIndexName("vec_ivf")) },
		func() error { return c.LoadCollection(ctx, collTypes, false) },
		func() error { return c.CreateAlias(ctx, collTypes, alias) },

		func() error { return c.CreateCollection(ctx, workload.BinarySchema(collBin), 1) },
		func() error { _, err := c.Insert(ctx, collBin, "", workload.BinaryRows(0, 100)...); return err },
		func() error { return c.CreateIndex(ctx, collBin, "bvec", binIdx, false) },

		func() error { return c.CreateCollection(ctx, workload.VectorSchema(collNoIdx, 8), 1) },
		func() error { return workload.InsertRows(ctx, c, collNoIdx, 0, 10, 10, 8, rand.New(rand.NewSource(7))) },

		func() error { return c.CreateCollection(ctx, workload.VectorSchema(collVecs, 128), 2) },
		func() error {
			return workload.InsertRows(ctx, c, collVecs, 0, vecRows, vecBatch, 128, rand.New(rand.NewSource(42)))
		},
		func() error { return workload.IndexAndLoad(ctx, c, collVecs) },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("setup step %d: %w", i, err)
		}
	}
	return nil
}
