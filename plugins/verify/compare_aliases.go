package verify

import (
	"context"
	"fmt"
	"sort"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-sdk-go/v2/client"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// compareAliases compares the aliases of a collection: the same names must
// point at it on both sides.
func (v *verifier) compareAliases(ctx context.Context, cd *collDiffs, p dbPair, name string) error {
	describe := func(s *side, db string, out *[]string) func() error {
		return func() error {
			c, err := s.client(ctx, db)
			if err != nil {
				return err
			}
			if *out, err = describeAliases(ctx, c, name); err != nil {
				return s.errorf(err, "describe aliases of %s.%s", db, name)
			}
			return nil
		}
	}
	var sAl, tAl []string
	if err := both(describe(v.src, p.src, &sAl), describe(v.tgt, p.tgt, &tAl)); err != nil {
		return err
	}
	for _, d := range diffAliases(sAl, tAl) {
		cd.meta(KindAlias, "%s", d)
	}
	return nil
}

// describeAliases returns the aliases of coll. The SDK's DescribeCollection
// drops them; Milvus 2.3.5 fills them in the response, also when the
// collection is described by name.
func describeAliases(ctx context.Context, c client.Client, coll string) ([]string, error) {
	gc, ok := c.(*client.GrpcClient)
	if !ok || gc.Service == nil {
		return nil, fmt.Errorf("client %T has no gRPC service", c)
	}
	resp, err := gc.Service.DescribeCollection(ctx, &milvuspb.DescribeCollectionRequest{CollectionName: coll})
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		return nil, err
	}
	return resp.GetAliases(), nil
}

// diffAliases lists the aliases missing on the target and those only on
// the target, each sorted.
func diffAliases(s, t []string) []string {
	set := func(names []string) map[string]bool {
		m := make(map[string]bool, len(names))
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	sSet, tSet := set(s), set(t)
	var missing, extra []string
	for n := range sSet {
		if !tSet[n] {
			missing = append(missing, n)
		}
	}
	for n := range tSet {
		if !sSet[n] {
			extra = append(extra, n)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	var out []string
	for _, n := range missing {
		out = append(out, fmt.Sprintf("alias %q is missing on the target", n))
	}
	for _, n := range extra {
		out = append(out, fmt.Sprintf("alias %q exists only on the target", n))
	}
	return out
}
