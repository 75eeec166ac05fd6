package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// plan is what the parent hands to its children in a temp file: the bench
// collection and, per topic (short name), the position before the fill and
// the last message after it. Positions are the Pulsar MessageID's
// Serialize(), or contract.EarliestPosition for a topic that was empty.
type plan struct {
	Collection string            `json:"collection"`
	Rows       int               `json:"rows"`
	Start      map[string][]byte `json:"start"`
	End        map[string][]byte `json:"end"`
}

func writePlan(p *plan) (string, error) {
	f, err := os.CreateTemp("", "milvus-cdc-bench-*.json")
	if err != nil {
		return "", fmt.Errorf("create positions file: %w", err)
	}
	if err := json.NewEncoder(f).Encode(p); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("write positions file %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("write positions file %s: %w", f.Name(), err)
	}
	return f.Name(), nil
}

func readPlan(path string) (*plan, error) {
	if path == "" {
		return nil, fmt.Errorf("-plan is required with -role")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read positions file: %w", err)
	}
	p := &plan{}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("positions file %s: %w", path, err)
	}
	return p, nil
}

// checkpointJSON is the milvus_binlog checkpoint (contract.Checkpoint) that
// makes the input resume right after the start positions.
func (p *plan) checkpointJSON() (string, error) {
	b, err := contract.EncodeCheckpoint(contract.CheckpointState{Positions: p.Start})
	if err != nil {
		return "", fmt.Errorf("encode checkpoint: %w", err)
	}
	return string(b), nil
}
