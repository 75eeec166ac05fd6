package contract

import (
	"fmt"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
)

// StatusErr folds a gRPC error and a Milvus status into one error; nil on
// success.
func StatusErr(st *commonpb.Status, err error) error {
	if err != nil {
		return err
	}
	if !StatusOK(st) {
		return fmt.Errorf("milvus error %s (code %d): %s", st.GetErrorCode(), st.GetCode(), st.GetReason())
	}
	return nil
}

// StatusOK reports whether a status (nil included) says success.
func StatusOK(st *commonpb.Status) bool {
	return st == nil || (st.GetErrorCode() == commonpb.ErrorCode_Success && st.GetCode() == 0)
}

// NotFound reports whether a status says the named thing does not exist.
func NotFound(st *commonpb.Status) bool {
	if st.GetErrorCode() == commonpb.ErrorCode_CollectionNotExists {
		return true
	}
	return notFoundText(st.GetReason())
}

// NotFoundErr reports whether an error (e.g. from StatusErr) says the named
// thing does not exist.
func NotFoundErr(err error) bool {
	return err != nil && notFoundText(err.Error())
}

func notFoundText(reason string) bool {
	r := strings.ToLower(reason)
	return strings.Contains(r, "not found") || strings.Contains(r, "not exist") || strings.Contains(r, "can't find") ||
		strings.Contains(r, "doesn't exist") || strings.Contains(r, "does not exist")
}

// AlreadyExists reports whether a status says the thing exists already.
func AlreadyExists(st *commonpb.Status) bool {
	r := strings.ToLower(st.GetReason())
	return strings.Contains(r, "already exist") || strings.Contains(r, "duplicate")
}

// NotLoaded reports whether a status says a collection is not loaded
// (Milvus 2.3 code 101, "collection not loaded").
func NotLoaded(st *commonpb.Status) bool {
	return st.GetCode() == 101 || strings.Contains(strings.ToLower(st.GetReason()), "not loaded")
}
