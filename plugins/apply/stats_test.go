package apply

import (
	"testing"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// TestApplyStats: rows count per op (one per DDL), retries and errors keep
// the last error.
func TestApplyStats(t *testing.T) {
	s := newApplyStats(service.MockResources().Metrics())
	s.applied(&applyStep{op: contract.OpInsert, rows: 100, bytes: 4000})
	s.applied(&applyStep{op: contract.OpDelete, rows: 3})
	s.applied(&applyStep{op: contract.OpCreateIndex, rows: 0})
	s.failed("target busy", false)
	s.failed("schema conflict", true)
	st := s.status().(contract.OutputStatus)
	if st.RowsApplied["insert"] != 100 || st.RowsApplied["delete"] != 3 || st.RowsApplied["create_index"] != 1 || st.BytesApplied != 4000 {
		t.Fatalf("counts %+v", st)
	}
	if st.Retries != 1 || st.Errors != 1 || st.LastError != "schema conflict" || st.UpdatedAt.IsZero() {
		t.Fatalf("errors %+v", st)
	}
}
