package controlplane

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/gorilla/mux"
)

// HandlerOptions configure NewHandler.
type HandlerOptions struct {
	// BearerToken, if set, is required on /cdc and /metrics as
	// "Authorization: Bearer <token>".
	BearerToken string
	// AllowedHosts are names (besides localhost, loopback addresses and the
	// address a request arrived on) that requests may carry as Host while
	// no BearerToken is set; any other is refused (DNS rebinding).
	AllowedHosts []string
	// Logger gets one line per request (method, path, request_type, task_id,
	// status, duration); never a body or a secret. Nil discards.
	Logger *slog.Logger
	// Metrics, if set, counts requests and is served on GET /metrics.
	Metrics *Metrics
}

// apiHandler serves the /cdc API on a Service.
type apiHandler struct {
	svc  Service
	auth bool
	// tokenSum is the SHA-256 of the bearer token: comparing fixed-size sums
	// in constant time does not reveal the token's length either.
	tokenSum [sha256.Size]byte
	log      *slog.Logger
	metrics  *Metrics
}

// NewHandler returns the control plane's HTTP API: POST /cdc (every request
// type of the /cdc API), GET /healthz and, with Metrics, GET /metrics.
// POST /cdc takes Content-Type: application/json only. Every error is
// answered as {"code": <status>, "message": "..."} with the same status.
func NewHandler(svc Service, opts HandlerOptions) http.Handler {
	h := &apiHandler{svc: svc, log: opts.Logger, metrics: opts.Metrics}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if opts.BearerToken != "" {
		h.auth, h.tokenSum = true, sha256.Sum256([]byte(opts.BearerToken))
	}
	// /cdc and /metrics refuse web pages of other origins (and, without a
	// token, foreign Host names) before anything else; /healthz is open.
	guard := newBrowserGuard(h.auth, opts.AllowedHosts)
	r := mux.NewRouter()
	// The catch-all routes after the method-bound ones answer 405 with an
	// Allow header of their own path (mux's shared handler cannot know it).
	r.Handle("/cdc", guard.wrap(h.requireAuth(requireJSON(http.HandlerFunc(h.serveCDC))))).Methods(http.MethodPost)
	r.Handle("/cdc", guard.wrap(h.requireAuth(methodNotAllowed(http.MethodPost))))
	r.HandleFunc("/healthz", serveHealth).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/healthz", methodNotAllowed(http.MethodGet, http.MethodHead))
	if opts.Metrics != nil {
		r.Handle("/metrics", guard.wrap(h.requireAuth(opts.Metrics.Handler()))).Methods(http.MethodGet)
	}
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeAPIJSON(w, http.StatusNotFound, apiErrorBody{Code: http.StatusNotFound,
			Message: "not found: the API is POST /cdc (and GET /healthz)"})
	})
	return h.observe(r)
}

// apiErrorBody is the one error shape of the API.
type apiErrorBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// apiSuccessBody wraps every successful answer.
type apiSuccessBody struct {
	Code int `json:"code"`
	Data any `json:"data"`
}

func serveHealth(w http.ResponseWriter, _ *http.Request) {
	writeAPIJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func methodNotAllowed(allowed ...string) http.Handler {
	allow := strings.Join(allowed, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeAPIJSON(w, http.StatusMethodNotAllowed, apiErrorBody{Code: http.StatusMethodNotAllowed,
			Message: fmt.Sprintf("method %.16s not allowed on %s: use %s", r.Method, r.URL.Path, allow)})
	})
}

// requireAuth checks the bearer token when one is configured.
func (h *apiHandler) requireAuth(next http.Handler) http.Handler {
	if !h.auth {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
		// The scheme name is case-insensitive (RFC 7235).
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(sum[:], h.tokenSum[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="milvus-cdc"`)
			writeAPIJSON(w, http.StatusUnauthorized, apiErrorBody{Code: http.StatusUnauthorized,
				Message: "missing or wrong bearer token: send Authorization: Bearer <token>"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// serveCDC answers POST /cdc.
func (h *apiHandler) serveCDC(w http.ResponseWriter, r *http.Request) {
	info := requestInfoFrom(r.Context())
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
		h.fail(w, info, Errorf(http.StatusRequestEntityTooLarge, "request body is larger than 1 MiB (%d bytes)", tooLarge.Limit), nil)
		return
	} else if err != nil {
		h.fail(w, info, Errorf(http.StatusBadRequest, "reading request body: %v", err), nil)
		return
	}
	req, err := decodeRequest(body)
	info.requestType, info.taskID = req.Type, req.TaskID
	if err != nil {
		h.fail(w, info, err, req.secrets())
		return
	}
	if h.svc == nil {
		h.fail(w, info, errors.New("no task service configured"), nil)
		return
	}
	data, err := h.dispatch(r.Context(), req, info)
	if err != nil {
		h.fail(w, info, err, req.secrets())
		return
	}
	writeAPIJSON(w, http.StatusOK, apiSuccessBody{Code: http.StatusOK, Data: data})
}

// dispatch runs a decoded request on the Service and returns the "data" of
// the answer, shaped as the /cdc API documents it.
func (h *apiHandler) dispatch(ctx context.Context, req cdcRequest, info *requestInfo) (any, error) {
	switch req.Type {
	case requestCreate:
		id, err := h.svc.Create(ctx, req.Create)
		if err != nil {
			return nil, err
		}
		info.taskID = id
		return map[string]string{"task_id": id}, nil
	case requestList:
		tasks, err := h.svc.List(ctx)
		if err != nil {
			return nil, err
		}
		views := make([]taskView, 0, len(tasks)) // [] rather than null when empty
		for _, t := range tasks {
			views = append(views, publicTask(t))
		}
		sort.SliceStable(views, func(i, j int) bool { return views[i].TaskID < views[j].TaskID })
		return map[string][]taskView{"tasks": views}, nil
	case requestGet:
		t, err := h.svc.Get(ctx, req.TaskID)
		if err != nil {
			return nil, err
		}
		v := publicTask(t)
		// The documentation shows "Task", the widely used implementation
		// answers "task", and that server's own API tests read the task's
		// fields at the top: clients of all three exist, so all are sent.
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, err
		}
		out["Task"], out["task"] = v, v
		return out, nil
	case requestPause:
		return struct{}{}, h.svc.Pause(ctx, req.TaskID)
	case requestResume:
		return struct{}{}, h.svc.Resume(ctx, req.TaskID)
	case requestDelete:
		return struct{}{}, h.svc.Delete(ctx, req.TaskID)
	case requestPosition:
		positions, err := h.svc.Position(ctx, req.TaskID)
		if err != nil {
			return nil, err
		}
		if positions == nil {
			positions = map[string]string{}
		}
		return map[string]any{"task_id": req.TaskID, "positions": positions}, nil
	default:
		// decodeRequest only returns known types; this guards a future one.
		return nil, Errorf(http.StatusBadRequest, "unknown request_type %s", quoteShort(req.Type))
	}
}

// taskView is a task as list and get show it: the documented fields and
// reason, no secrets, nothing internal (worker, created_at).
type taskView struct {
	TaskID          string                      `json:"task_id"`
	Target          ConnectParam                `json:"milvus_connect_param"`
	CollectionInfos []CollectionInfo            `json:"collection_infos,omitempty"`
	DBCollections   map[string][]CollectionInfo `json:"db_collections,omitempty"`
	State           string                      `json:"state"`
	Reason          string                      `json:"reason,omitempty"`
	Snapshot        *SnapshotView               `json:"snapshot,omitempty"`
	LagSeconds      *float64                    `json:"lag_seconds,omitempty"`
	AppliedUntil    string                      `json:"applied_until,omitempty"`
	RowsApplied     map[string]int64            `json:"rows_applied,omitempty"`
	LastError       string                      `json:"last_error,omitempty"`
	// Adopted: earlier tasks whose copies this task took over at create.
	Adopted []string `json:"adopted_replications,omitempty"`
}

func publicTask(t Task) taskView {
	// A reason may quote an error of the target; keep its credentials out.
	reason := scrubSecrets(t.Reason, cdcRequest{Create: CreateRequest{Target: t.Target}}.secrets())
	target := t.Target.Public()
	// Create refuses credentials in a uri; a task stored otherwise still
	// must not show them.
	if at := strings.LastIndex(target.URI, "@"); at >= 0 {
		scheme, _, hasScheme := strings.Cut(target.URI, "://")
		if hasScheme && len(scheme) < at {
			target.URI = scheme + "://" + target.URI[at+1:]
		} else {
			target.URI = target.URI[at+1:]
		}
	}
	return taskView{TaskID: t.ID, Target: target, CollectionInfos: t.CollectionInfos,
		DBCollections: t.DBCollections, State: t.State, Reason: reason, Snapshot: t.Snapshot, Adopted: t.Adopted,
		LagSeconds: t.LagSeconds, AppliedUntil: t.AppliedUntil, RowsApplied: t.RowsApplied,
		LastError: scrubSecrets(t.LastError, cdcRequest{Create: CreateRequest{Target: t.Target}}.secrets())}
}

// fail answers err: an *APIError with its own code (a 4xx or 5xx), anything
// else as a 500. The request's secrets are scrubbed from the message.
func (h *apiHandler) fail(w http.ResponseWriter, info *requestInfo, err error, secrets []string) {
	code, msg := http.StatusInternalServerError, "internal error: "+err.Error()
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Code >= 400 && apiErr.Code <= 599 {
		code, msg = apiErr.Code, apiErr.Message
	}
	msg = scrubSecrets(msg, secrets)
	info.errMsg = msg
	writeAPIJSON(w, code, apiErrorBody{Code: code, Message: msg})
}

// scrubSecrets replaces every occurrence of a secret in msg, longest first
// so that a secret containing another one is replaced whole.
func scrubSecrets(msg string, secrets []string) string {
	sorted := append([]string(nil), secrets...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	var pairs []string
	for _, s := range sorted {
		if s != "" {
			pairs = append(pairs, s, "[redacted]")
		}
	}
	if len(pairs) == 0 {
		return msg
	}
	return strings.NewReplacer(pairs...).Replace(msg)
}

// writeAPIJSON writes v as the JSON body with the given status.
func writeAPIJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own response types get here; they always marshal.
		status = http.StatusInternalServerError
		b = []byte(`{"code":500,"message":"internal error: encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n')) // a failed write means the client went away
}

// requestInfo collects what the request log line shows; serveCDC fills it.
type requestInfo struct {
	requestType, taskID, errMsg string
}

type requestInfoKey struct{}

// requestInfoFrom returns the request's log info, or a throwaway one.
func requestInfoFrom(ctx context.Context) *requestInfo {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return info
	}
	return &requestInfo{}
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// observe logs one line per request and turns a panic below it (a Service
// bug) into a 500 answer instead of a dropped connection.
func (h *apiHandler) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{}
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v) // net/http's own signal to abort the response
				}
				// The panic value may hold anything: log its type and stack only.
				h.log.Error("panic in request handler", "panic_type", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
				if rec.status == 0 {
					info.errMsg = "internal error: the request handler failed"
					writeAPIJSON(rec, http.StatusInternalServerError, apiErrorBody{Code: http.StatusInternalServerError,
						Message: info.errMsg + " (see the server log)"})
				}
			}
			h.logRequest(r, info, rec.status, time.Since(start))
			if r.URL.Path == "/cdc" {
				h.metrics.request(info.requestType, rec.status, time.Since(start))
			}
		}()
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)))
	})
}

func (h *apiHandler) logRequest(r *http.Request, info *requestInfo, status int, d time.Duration) {
	path := r.URL.Path
	if len(path) > 128 {
		path = path[:128] + "..."
	}
	method := r.Method
	if len(method) > 16 {
		method = method[:16] + "..."
	}
	attrs := []any{"method", method, "path", path, "request_type", info.requestType,
		"task_id", info.taskID, "status", status, "duration", d}
	level := slog.LevelInfo
	if info.errMsg != "" {
		attrs = append(attrs, "error", info.errMsg)
	}
	if status >= 500 {
		level = slog.LevelError
	}
	h.log.Log(r.Context(), level, "cdc api request", attrs...)
}
