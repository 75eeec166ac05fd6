package controlplane

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestQuietCatalogDial: the adoption check's second dial of the target
// answers the same fixed message as create's first one, not the dial error.
func TestQuietCatalogDial(t *testing.T) {
	m := &Manager{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	dial := m.quietCatalog(func(context.Context, ConnectParam) (TargetCatalog, func() error, error) {
		return nil, nil, errors.New("connect to Milvus at x: dial tcp 10.9.8.7:19530: connection refused")
	})
	_, _, err := dial(context.Background(), ConnectParam{URI: "x:19530", ConnectTimeout: 3})
	if err == nil || !strings.Contains(err.Error(), `cannot connect to the target Milvus at "x:19530" within 3s`) ||
		strings.Contains(err.Error(), "10.9.8.7") || strings.Contains(err.Error(), "refused") {
		t.Fatalf("catalog dial error: %v", err)
	}
}
