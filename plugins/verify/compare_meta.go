package verify

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// defaultDB always exists; its client lists the databases.
const defaultDB = contract.DefaultDatabase

// compareDatabases reports selected source databases missing on the target
// (and, when nothing is filtered, target databases without a source), and
// returns the pairs present on both sides.
func (v *verifier) compareDatabases(ctx context.Context) ([]dbPair, error) {
	sc, err := v.src.client(ctx, defaultDB)
	if err != nil {
		return nil, err
	}
	tc, err := v.tgt.client(ctx, defaultDB)
	if err != nil {
		return nil, err
	}
	var sdbs, tdbs []entity.Database
	err = both(func() (err error) {
		if sdbs, err = sc.ListDatabases(ctx); err != nil {
			return v.src.errorf(err, "list databases")
		}
		return nil
	}, func() (err error) {
		if tdbs, err = tc.ListDatabases(ctx); err != nil {
			return v.tgt.errorf(err, "list databases")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	onTarget := map[string]bool{}
	for _, d := range tdbs {
		onTarget[d.Name] = true
	}
	var pairs []dbPair
	images := map[string]bool{}
	for _, name := range sortedDBNames(sdbs) {
		if !v.filter.database(name) {
			continue
		}
		p := dbPair{src: name, tgt: v.opts.targetDB(name)}
		images[p.tgt] = true
		if !onTarget[p.tgt] {
			v.rep.addDiff(p.src, "", KindDatabase, "database %q is missing on the target", p.tgt)
			continue
		}
		pairs = append(pairs, p)
	}
	if v.filter.selectsAll() {
		for _, name := range sortedDBNames(tdbs) {
			if !images[name] {
				v.rep.addDiff(name, "", KindDatabase, "database %q exists only on the target", name)
			}
		}
	}
	return pairs, nil
}

func sortedDBNames(dbs []entity.Database) []string {
	names := make([]string, 0, len(dbs))
	for _, d := range dbs {
		names = append(names, d.Name)
	}
	sort.Strings(names)
	return names
}

// compareCollectionSets reports selected collections present on one side
// only and returns the names present on both, sorted.
func (v *verifier) compareCollectionSets(ctx context.Context, p dbPair) ([]string, error) {
	list := func(s *side, db string, out *map[string]bool) func() error {
		return func() error {
			c, err := s.client(ctx, db)
			if err != nil {
				return err
			}
			colls, err := c.ListCollections(ctx)
			if err != nil {
				return s.errorf(err, "list collections of database %q", db)
			}
			*out = map[string]bool{}
			for _, coll := range colls {
				// The filter speaks source names, also for the target.
				if v.filter.collection(p.src, coll.Name) {
					(*out)[coll.Name] = true
				}
			}
			return nil
		}
	}
	var sNames, tNames map[string]bool
	if err := both(list(v.src, p.src, &sNames), list(v.tgt, p.tgt, &tNames)); err != nil {
		return nil, err
	}
	var common []string
	for _, name := range sortedKeys(sNames) {
		if tNames[name] {
			common = append(common, name)
		} else {
			v.rep.addDiff(p.src, name, KindCollection, "collection is missing on the target (database %q)", p.tgt)
		}
	}
	for _, name := range sortedKeys(tNames) {
		if !sNames[name] {
			v.rep.addDiff(p.src, name, KindCollection, "collection exists only on the target (database %q)", p.tgt)
		}
	}
	return common, nil
}

// comparePartitions compares the partition names (not IDs) and returns the
// names present on both sides, sorted.
func (v *verifier) comparePartitions(ctx context.Context, cd *collDiffs, p dbPair, name string) ([]string, error) {
	show := func(s *side, db string, out *map[string]bool) func() error {
		return func() error {
			c, err := s.client(ctx, db)
			if err != nil {
				return err
			}
			parts, err := c.ShowPartitions(ctx, name)
			if err != nil {
				return s.errorf(err, "show partitions of %s.%s", db, name)
			}
			*out = map[string]bool{}
			for _, part := range parts {
				(*out)[part.Name] = true
			}
			return nil
		}
	}
	var sParts, tParts map[string]bool
	if err := both(show(v.src, p.src, &sParts), show(v.tgt, p.tgt, &tParts)); err != nil {
		return nil, err
	}
	var common []string
	for _, part := range sortedKeys(sParts) {
		if tParts[part] {
			common = append(common, part)
		} else {
			cd.meta(KindPartition, "partition %q is missing on the target", part)
		}
	}
	for _, part := range sortedKeys(tParts) {
		if !sParts[part] {
			cd.meta(KindPartition, "partition %q exists only on the target", part)
		}
	}
	return common, nil
}

// compareIndexes compares the indexes by name: field, type, metric and
// parameters. Build progress is not compared (it is a moment, not a state).
func (v *verifier) compareIndexes(ctx context.Context, cd *collDiffs, p dbPair, name string) error {
	describe := func(s *side, db string, out *map[string]*milvuspb.IndexDescription) func() error {
		return func() error {
			c, err := s.client(ctx, db)
			if err != nil {
				return err
			}
			idx, err := describeIndexes(ctx, c, name)
			if err != nil {
				return s.errorf(err, "describe indexes of %s.%s", db, name)
			}
			*out = map[string]*milvuspb.IndexDescription{}
			for _, d := range idx {
				(*out)[d.GetIndexName()] = d
			}
			return nil
		}
	}
	var sIdx, tIdx map[string]*milvuspb.IndexDescription
	if err := both(describe(v.src, p.src, &sIdx), describe(v.tgt, p.tgt, &tIdx)); err != nil {
		return err
	}
	for _, n := range sortedKeys(sIdx) {
		s, t := sIdx[n], tIdx[n]
		if t == nil {
			cd.meta(KindIndex, "index %q on field %q is missing on the target", n, s.GetFieldName())
			continue
		}
		if s.GetFieldName() != t.GetFieldName() {
			cd.meta(KindIndex, "index %q: field: source %q, target %q", n, s.GetFieldName(), t.GetFieldName())
		}
		for _, d := range diffParams(entity.KvPairsMap(s.GetParams()), entity.KvPairsMap(t.GetParams())) {
			cd.meta(KindIndex, "index %q on field %q: %s", n, s.GetFieldName(), d)
		}
	}
	for _, n := range sortedKeys(tIdx) {
		if sIdx[n] == nil {
			cd.meta(KindIndex, "index %q on field %q exists only on the target", n, tIdx[n].GetFieldName())
		}
	}
	return nil
}

// describeIndexes returns every index of coll. It calls the gRPC service
// directly because the SDK's DescribeIndex drops the field name of each index.
func describeIndexes(ctx context.Context, c client.Client, coll string) ([]*milvuspb.IndexDescription, error) {
	gc, ok := c.(*client.GrpcClient)
	if !ok || gc.Service == nil {
		return nil, fmt.Errorf("client %T has no gRPC service", c)
	}
	resp, err := gc.Service.DescribeIndex(ctx, &milvuspb.DescribeIndexRequest{CollectionName: coll})
	if err != nil {
		return nil, err
	}
	st := resp.GetStatus()
	// Milvus 2.3 answers "index not found" (legacy code 25, code 700) for a
	// collection without an index.
	if st.GetErrorCode() == commonpb.ErrorCode_IndexNotExist || st.GetCode() == 700 {
		return nil, nil
	}
	if err := contract.StatusErr(st, nil); err != nil {
		return nil, err
	}
	return resp.GetIndexDescriptions(), nil
}

// diffParams lists the differences of two parameter maps; the value of
// "params" is JSON and compared semantically (`{"nlist":"16"}` and
// `{"nlist": "16"}` are the same).
func diffParams(s, t map[string]string) []string {
	keys := map[string]bool{}
	for k := range s {
		keys[k] = true
	}
	for k := range t {
		keys[k] = true
	}
	var out []string
	for _, k := range sortedKeys(keys) {
		sv, sok := s[k]
		tv, tok := t[k]
		switch {
		case !sok:
			out = append(out, fmt.Sprintf("%s: only on the target (%q)", k, tv))
		case !tok:
			out = append(out, fmt.Sprintf("%s: missing on the target (source %q)", k, sv))
		case sv == tv:
		case strings.HasPrefix(strings.TrimSpace(sv), "{") && jsonEqual([]byte(sv), []byte(tv)):
		default:
			out = append(out, fmt.Sprintf("%s: source %q, target %q", k, sv, tv))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
