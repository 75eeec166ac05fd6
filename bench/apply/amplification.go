package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
)

// receivedMetric is the Milvus proxy's count of request bytes it received
// from clients, by collection and request type (Milvus 2.3).
const receivedMetric = "milvus_proxy_receive_bytes_count"

// writeTypes are the request types that write rows.
var writeTypes = []string{"insert", "upsert", "delete"}

// receivedBytes sums what the Milvus whose metrics are at url received in
// write requests for collection coll, as Milvus itself counts it.
func receivedBytes(ctx context.Context, url, coll string) (float64, error) {
	samples, err := harness.Scrape(ctx, url, receivedMetric+"{")
	if err != nil {
		return 0, err
	}
	sum, found := 0.0, false
	for key, v := range samples {
		if !strings.Contains(key, `collection_name="`+coll+`"`) {
			continue
		}
		for _, t := range writeTypes {
			if strings.Contains(key, `msg_type="`+t+`"`) {
				sum, found = sum+v, true
				break
			}
		}
	}
	if !found {
		return 0, fmt.Errorf("%s shows no %s for %s", url, receivedMetric, coll)
	}
	return sum, nil
}

// amplification is the bytes the target received per byte the source
// received for one collection (the replication phase's).
type amplification struct {
	source, target float64
	err            error
}

func (a amplification) ratio() float64 {
	if a.source <= 0 {
		return 0
	}
	return a.target / a.source
}

func measureAmplification(ctx context.Context, o *options, coll string) amplification {
	var a amplification
	if a.source, a.err = receivedBytes(ctx, o.sourceMetrics, coll); a.err != nil {
		return a
	}
	a.target, a.err = receivedBytes(ctx, o.targetMetrics, coll)
	return a
}

func (a amplification) cell() string {
	if a.err != nil {
		return "n/a (" + a.err.Error() + ")"
	}
	return fmt.Sprintf("%.2f (%.1f MB / %.1f MB)", a.ratio(), a.target/1e6, a.source/1e6)
}
