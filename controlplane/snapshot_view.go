package controlplane

import (
	"context"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// withSnapshot adds a pending snapshot to a first checkpoint.
func withSnapshot(ckpt []byte) ([]byte, error) {
	st, err := contract.DecodeCheckpoint(ckpt)
	if err != nil {
		return nil, err
	}
	st.Snapshot = &contract.SnapshotState{State: contract.SnapshotPending}
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
