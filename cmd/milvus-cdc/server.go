package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/controlplane"
)

// runServer is `milvus-cdc server`: the /cdc API and the reconciler.
func runServer(args []string) int {
	conf, err := controlplane.LoadServerConfig(args, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := controlplane.RunServer(ctx, conf, log); err != nil {
		log.Error("milvus-cdc server stopped", "error", err)
		return 1
	}
	return 0
}
