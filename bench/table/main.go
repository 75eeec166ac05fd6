// Command table prints the rows every bench of one `make bench` run appended
// to $BENCH_RESULTS (bench/result) as one markdown table: each figure, its
// goal and whether it was met. It only reports: a missed goal does not fail
// it. -failed names benches whose run failed (make bench passes them): each
// gets a row of its own, a missed goal, so the table shows what is missing.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/bench/result"
)

func main() {
	path := flag.String("f", os.Getenv(result.EnvFile), "rows file (default $"+result.EnvFile+")")
	failed := flag.String("failed", "", "benches whose run failed, separated by spaces or commas")
	flag.Parse()
	rows, err := read(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/table:", err)
		os.Exit(1)
	}
	rows = append(rows, failedRows(*failed)...)
	if err := result.Markdown(os.Stdout, rows); err != nil {
		fmt.Println("\n" + err.Error())
	}
}

// read returns the rows of path; no file is no rows (every bench failed
// before writing one, or none was run), said on stderr.
func read(path string) ([]result.Row, error) {
	if path == "" {
		return nil, fmt.Errorf("no rows file: -f or $%s", result.EnvFile)
	}
	rows, err := result.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "bench/table: %s does not exist: no bench recorded a row\n", path)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return rows, nil
}

// failedRows is one missed row per failed bench: its figures above (if any)
// are from before it failed, or missing.
func failedRows(names string) []result.Row {
	var rows []result.Row
	for _, name := range strings.FieldsFunc(names, func(r rune) bool { return r == ',' || r == ' ' }) {
		rows = append(rows, result.Goal(name, "bench run", "failed (see its output)", "completes", false))
	}
	return rows
}
