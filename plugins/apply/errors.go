package apply

import (
	"errors"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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

// Classification. A transient error is retried (with retry_backoff, for at
// most max_retry_duration, then the task turns Failed with it); a permanent
// one stops the output at once. Decided by the gRPC status of a transport
// error and by the Milvus status: its retriable flag, its error code (Milvus
// 2.3+ `code`, grouped by hundreds: 1xx collection, 5xx channel, 9xx node...)
// or, from servers that send none, the legacy error_code. Never by the text.

// permanentGRPC are gRPC codes that a retry of the same call cannot change.
var permanentGRPC = map[codes.Code]bool{
	codes.InvalidArgument: true, codes.NotFound: true, codes.AlreadyExists: true, codes.PermissionDenied: true,
	codes.Unauthenticated: true, codes.FailedPrecondition: true, codes.OutOfRange: true, codes.Unimplemented: true,
}

// milvusUndefined is the code Milvus gives errors it did not classify.
const milvusUndefined = 65535

// transientMilvusCodes are Milvus error codes that mean "not now": the
// service starting, overloaded or rate limited, data still loading, a
// replica, channel, segment or query node not (yet) there, storage I/O.
var transientMilvusCodes = map[int32]bool{
	1: true, 2: true, 3: true, 4: true, 5: true, 7: true, 8: true, 9: true, 11: true, // service
	101: true, 103: true, // collection not (fully) loaded
	201: true, 202: true, // partition not (fully) loaded
	milvusUndefined: true,
}

// transientMilvusRanges are code ranges (by hundreds) that are all "not now".
var transientMilvusRanges = map[int32]bool{
	4:  true, // replica
	5:  true, // channel
	6:  true, // segment
	9:  true, // node
	10: true, // storage I/O
	12: true, // metrics
	13: true, // topic
}

// transientLegacyCodes are legacy error_code values that mean "not now".
var transientLegacyCodes = map[commonpb.ErrorCode]bool{
	commonpb.ErrorCode_UnexpectedError:         true,
	commonpb.ErrorCode_RateLimit:               true,
	commonpb.ErrorCode_ForceDeny:               true,
	commonpb.ErrorCode_NotReadyServe:           true,
	commonpb.ErrorCode_NotReadyCoordActivating: true,
	commonpb.ErrorCode_DiskQuotaExhausted:      true,
	commonpb.ErrorCode_MemoryQuotaExhausted:    true,
	commonpb.ErrorCode_TimeTickLongDelay:       true,
	commonpb.ErrorCode_NodeIDNotMatch:          true,
}

// transientStatus reports whether a failed Milvus status means "not now".
func transientStatus(st *commonpb.Status) bool {
	if st.GetRetriable() {
		return true
	}
	if c := st.GetCode(); c != 0 {
		return transientMilvusCodes[c] || transientMilvusRanges[c/100]
	}
	return transientLegacyCodes[st.GetErrorCode()]
}

// statusError turns a gRPC error and a Milvus status into an error: nil on
// success, transient or permanent as classified above.
func statusError(what string, st *commonpb.Status, err error) error {
	if err != nil {
		e := fmt.Errorf("%s: %w", what, err)
		if s, ok := status.FromError(err); ok && permanentGRPC[s.Code()] {
			return &permanentError{e}
		}
		return e // transport: not now
	}
	if contract.StatusOK(st) {
		return nil
	}
	e := fmt.Errorf("%s: milvus error %s (code %d): %s", what, st.GetErrorCode(), st.GetCode(), st.GetReason())
	if transientStatus(st) {
		return e
	}
	return &permanentError{e}
}
