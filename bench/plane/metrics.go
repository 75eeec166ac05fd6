package plane

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// WorkerMetric reads one gauge from the worker's Prometheus text at
// /metrics: the value of the first sample named name (any labels; the bench
// runs one task per worker). found is false while the stream has not set it.
func (p *Plane) WorkerMetric(ctx context.Context, name string) (value float64, found bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.WorkerURL+"/metrics", nil)
	if err != nil {
		return 0, false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false, fmt.Errorf("worker /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, false, fmt.Errorf("worker /metrics: HTTP %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if !strings.HasPrefix(rest, "{") && !strings.HasPrefix(rest, " ") {
			continue // a longer name with this prefix
		}
		fields := strings.Fields(rest[strings.LastIndex(rest, "}")+1:])
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0, false, fmt.Errorf("worker /metrics: %s: %w", name, err)
		}
		return v, true, nil
	}
	return 0, false, sc.Err()
}
