package apply

import (
	"errors"
	"fmt"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// permanentError is an apply failure that retrying cannot fix (a schema
// conflict, a collection the target lacks): the output stops there.
type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

func permanentf(format string, args ...any) error {
	return &permanentError{fmt.Errorf(format, args...)}
}

func isPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// transientCodes are Milvus status codes that mean "not now".
var transientCodes = map[commonpb.ErrorCode]bool{
	commonpb.ErrorCode_RateLimit:               true,
	commonpb.ErrorCode_ForceDeny:               true,
	commonpb.ErrorCode_NotReadyServe:           true,
	commonpb.ErrorCode_NotReadyCoordActivating: true,
	commonpb.ErrorCode_DiskQuotaExhausted:      true,
	commonpb.ErrorCode_MemoryQuotaExhausted:    true,
	commonpb.ErrorCode_TimeTickLongDelay:       true,
	commonpb.ErrorCode_NodeIDNotMatch:          true,
}

// transientReasons are fragments of Milvus error texts seen while a target
// starts, stops, or is overloaded.
var transientReasons = []string{
	"not ready", "timeout", "deadline", "unavailable", "connection", "quota", "rate limit",
	"not healthy", "no available", "shard", "channel", "leader", "node", "stopping", "retry",
	"too many", "server is busy", "etcd", "session",
}

// statusError turns a gRPC error and a Milvus status into an error: nil on
// success, transient for transport failures and "not now" answers,
// permanent for everything else (invalid data or schema).
func statusError(what string, st *commonpb.Status, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err) // transport: transient
	}
	if contract.StatusOK(st) {
		return nil
	}
	e := fmt.Errorf("%s: milvus error %s (code %d): %s", what, st.GetErrorCode(), st.GetCode(), st.GetReason())
	if transientCodes[st.GetErrorCode()] {
		return e
	}
	reason := strings.ToLower(st.GetReason())
	for _, r := range transientReasons {
		if strings.Contains(reason, r) {
			return e
		}
	}
	return &permanentError{e}
}
