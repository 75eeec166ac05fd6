package controlplane

import (
	"context"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/snapshot"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// withSnapshot asks for a snapshot in a first checkpoint; the input's
// phase machine (package snapshot) plans it and owns its state from then on.
func withSnapshot(ckpt []byte) ([]byte, error) {
	st, err := contract.DecodeCheckpoint(ckpt)
	if err != nil {
		return nil, err
	}
	st.Snapshot = snapshot.Request()
	return contract.EncodeCheckpoint(st)
}

// withProgress fills in the snapshot progress of t from its checkpoint.
func (m *Manager) withProgress(ctx context.Context, t *Task) error {
	switch t.SnapshotMode {
	case "":
		return nil
	case SnapshotNever:
		t.Snapshot = &SnapshotView{State: contract.SnapshotNever}
		return nil
	}
	st, err := m.store.SnapshotProgress(ctx, t.ID)
	if err != nil || st == nil {
		return err
	}
	total, done, rows := st.Progress()
	t.Snapshot = &SnapshotView{State: st.State, CollectionsTotal: total, CollectionsDone: done, RowsCopied: rows, Waiting: st.Waiting()}
	return nil
}

func snapshotCopying(state string) bool {
	return state == contract.SnapshotPending || state == contract.SnapshotCopying
}
