package apply

import (
	"context"
)

// locate returns this replication's copy of the step's source collection
// and points st.target at it: at the mapped name, or, after a rename the
// target has not seen yet, wherever the copy's ID tag is. nil when there is
// no copy; the notOurs error when the mapped name holds a collection
// replication did not create and no copy exists elsewhere. A copy adopted
// from an earlier replication is re-tagged as this one's first (claim).
func (a *applier) locate(ctx context.Context, st *applyStep) (*targetColl, error) {
	tc, err := a.find(ctx, st)
	if err != nil || tc == nil {
		return tc, err
	}
	return tc, a.claim(ctx, st.target, tc)
}

// find is locate without the claim.
func (a *applier) find(ctx context.Context, st *applyStep) (*targetColl, error) {
	tc, err := a.meta.collection(ctx, st.target)
	if err != nil {
		return nil, err
	}
	if tc.copies(a.conf.replicationID, st.collID) {
		return tc, nil
	}
	if st.collID != 0 {
		ref, found, err := a.meta.findCopy(ctx, a.conf.replicationID, st.collID)
		if err != nil {
			return nil, err
		}
		if found {
			if ref != st.target {
				a.log.Debugf("%s: the copy is %s.%s (renamed on the source, or a rename still to come)", st, ref.DB, ref.Name)
			}
			st.target = ref
			return a.meta.collection(ctx, ref)
		}
	}
	if tc.exists && !tc.ours(a.conf.replicationID) {
		return nil, notOurs(st, tc)
	}
	return nil, nil
}
