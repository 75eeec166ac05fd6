package controlplane

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Request types of the /cdc API. Only these exact lowercase spellings are
// accepted, as by the established implementation.
const (
	requestCreate   = "create"
	requestList     = "list"
	requestGet      = "get"
	requestPause    = "pause"
	requestResume   = "resume"
	requestDelete   = "delete"
	requestPosition = "position"
)

const (
	maxRequestBytes       = 1 << 20 // a /cdc body is at most 1 MiB
	defaultConnectTimeout = 10      // seconds, when a create leaves connect_timeout 0
	// maxConnectTimeout keeps the stream's timeout a sane duration, so that a
	// typo fails here and not later, when a worker builds the stream.
	maxConnectTimeout = 3600
	maxNameLen        = 255 // Milvus's limit for database and collection names
	maxTaskIDLen      = 64  // task ids are also parts of Redis keys
	// maxCollectionNames bounds the names of one create (collection_infos,
	// or db_collections in all): what a task selects is compared with the
	// other tasks of its target on every create.
	maxCollectionNames = 1000
)

func knownRequestTypes() string {
	return strings.Join([]string{requestCreate, requestList, requestGet, requestPause, requestResume,
		requestDelete, requestPosition}, ", ")
}

// cdcRequest is a decoded, validated /cdc request.
type cdcRequest struct {
	Type   string        // a known request type, "" if the body named none
	TaskID string        // the task addressed; for create the chosen id, if any
	Create CreateRequest // create only; normalized (default timeout, https → TLS)
}

// secrets returns the credentials the request carries, for the HTTP layer to
// scrub from whatever it answers or logs.
func (r cdcRequest) secrets() []string {
	var out []string
	for _, s := range []string{r.Create.Target.Token, r.Create.Target.Password} {
		if s != "" {
			out = append(out, s)
		}
	}
	// A "user:password" token holds a password of its own.
	if pass := contract.ParseToken(r.Create.Target.Token).Password; pass != "" {
		out = append(out, pass)
	}
	return out
}

func badRequest(format string, args ...any) *APIError {
	return Errorf(http.StatusBadRequest, format, args...)
}

// decodeRequest decodes and validates a /cdc body; every error is a 400
// *APIError naming the problem. Unknown fields are ignored: older clients
// send extras (buffer_config, ...). On a validation error the request still
// holds what was decoded, so that its secrets can be scrubbed.
func decodeRequest(body []byte) (cdcRequest, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return cdcRequest{}, badRequest(`request body is empty: want {"request_type": "...", "request_data": {...}}`)
	}
	var env struct {
		RequestType string          `json:"request_type"`
		RequestData json.RawMessage `json:"request_data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return cdcRequest{}, jsonProblem(err, "")
	}
	hasData := len(env.RequestData) > 0 && string(env.RequestData) != "null"
	req := cdcRequest{Type: env.RequestType}
	switch env.RequestType {
	case "":
		return req, badRequest("request_type is required: one of %s", knownRequestTypes())
	case requestList: // takes no parameters: request_data is ignored
		return req, nil
	case requestCreate:
		if !hasData {
			return req, badRequest("request_data is required for create")
		}
		if err := json.Unmarshal(env.RequestData, &req.Create); err != nil {
			return req, jsonProblem(err, "request_data")
		}
		create, err := validateCreate(req.Create)
		if err != nil {
			return req, err
		}
		req.Create, req.TaskID = create, create.TaskID
		return req, nil
	case requestGet, requestPause, requestResume, requestDelete, requestPosition:
		var data struct {
			TaskID string `json:"task_id"`
		}
		if hasData {
			if err := json.Unmarshal(env.RequestData, &data); err != nil {
				return req, jsonProblem(err, "request_data")
			}
		}
		if data.TaskID == "" {
			return req, badRequest("task_id is required")
		}
		if err := validateTaskID(data.TaskID); err != nil {
			return req, err
		}
		req.TaskID = data.TaskID
		return req, nil
	default:
		return cdcRequest{}, badRequest("unknown request_type %s: want one of %s (exact lowercase names)",
			quoteShort(env.RequestType), knownRequestTypes())
	}
}

// jsonProblem turns an encoding/json error into a 400 naming the byte offset
// (malformed JSON) or the field (wrong type). Values are never echoed, only
// their JSON kind: a mistyped field may hold a secret.
func jsonProblem(err error, prefix string) *APIError {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		return badRequest("malformed JSON at byte %d: %s", syntaxErr.Offset, strings.TrimPrefix(syntaxErr.Error(), "json: "))
	case errors.As(err, &typeErr):
		// Fields are named as in the docs, relative to request_data, which
		// is only named when it is itself of the wrong type.
		field := typeErr.Field
		if field == "" {
			field = prefix
		}
		got, _, _ := strings.Cut(typeErr.Value, " ") // "number 1e99" → "number"
		want := jsonKind(typeErr.Type)
		switch {
		case field == "":
			return badRequest("request body must be a JSON object, got %s", got)
		case got == "number" && want == "integer": // a fraction, or out of range
			return badRequest("%s: want an integer in range, got a number that is not", field)
		}
		return badRequest("%s: wrong JSON type: want %s, got %s", field, want, got)
	default:
		return badRequest("invalid JSON: %v", err)
	}
}

// jsonKind names the JSON kind of a Go type of the request structs.
func jsonKind(t reflect.Type) string {
	switch {
	case t == nil:
		return "a value"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uintptr:
		return "integer"
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		return "array"
	case t.Kind() == reflect.Map || t.Kind() == reflect.Struct:
		return "object"
	case t.Kind() == reflect.Bool:
		return "boolean"
	}
	return t.Kind().String() // string, float64
}

// validateCreate checks a create and returns it normalized: connect_timeout
// 0 becomes the default, an https uri turns TLS on.
func validateCreate(c CreateRequest) (CreateRequest, error) {
	if c.TaskID != "" {
		if err := validateTaskID(c.TaskID); err != nil {
			return c, err
		}
	}
	target, err := validateTarget(c.Target)
	if err != nil {
		return c, err
	}
	if err := validateCollections(c.CollectionInfos, c.DBCollections); err != nil {
		return c, err
	}
	switch c.Snapshot {
	case "":
		c.Snapshot = SnapshotInitial
	case SnapshotInitial, SnapshotNever:
	default:
		return c, Errorf(http.StatusBadRequest, "snapshot %q: want %q (copy what the source holds, then stream) or %q (only changes from now on)",
			c.Snapshot, SnapshotInitial, SnapshotNever)
	}
	c.Target = target
	return c, nil
}

// validateTarget checks milvus_connect_param. uri wins over host/port when
// both are given, as in the established implementation.
func validateTarget(p ConnectParam) (ConnectParam, error) {
	bad := func(format string, args ...any) (ConnectParam, error) {
		return p, badRequest("milvus_connect_param."+format, args...)
	}
	if p.Port < 0 || p.Port > 65535 {
		return bad("port: must be 1..65535, got %d", p.Port)
	}
	switch {
	case p.URI != "":
		tls, err := checkTargetURI(p.URI)
		if err != nil {
			return bad("uri: %v", err)
		}
		p.EnableTLS = p.EnableTLS || tls
	case p.Host != "":
		if strings.Contains(p.Host, "://") {
			return bad("host: %s is a URL: put it in uri", quoteShort(p.Host))
		}
		if strings.IndexFunc(p.Host, unicode.IsSpace) >= 0 || strings.ContainsAny(p.Host, "/?#@") {
			return bad("host: %s is not a host name or IP address", quoteShort(p.Host))
		}
		if p.Port == 0 {
			return bad("port: required (1..65535) when host is used")
		}
	default:
		return bad(`uri: required (e.g. "http://localhost:19530"), or host and port`)
	}
	if (p.Username == "") != (p.Password == "") {
		return bad("username, password: give both or neither")
	}
	switch {
	case p.ConnectTimeout < 0 || p.ConnectTimeout > maxConnectTimeout:
		return bad("connect_timeout: must be 0..%d seconds, got %d", maxConnectTimeout, p.ConnectTimeout)
	case p.ConnectTimeout == 0:
		p.ConnectTimeout = defaultConnectTimeout
	}
	return p, nil
}

// checkTargetURI accepts http://host:port, https://host:port (TLS) or
// host:port, with at most a trailing slash. Credentials in the uri are
// refused: list and get show the uri, never a token.
func checkTargetURI(uri string) (tls bool, err error) {
	const want = "want http://host:port, https://host:port or host:port"
	rest := uri
	if scheme, after, ok := strings.Cut(uri, "://"); ok {
		switch strings.ToLower(scheme) {
		case "http":
		case "https":
			tls = true
		default:
			return false, fmt.Errorf("scheme must be http or https, got %s", quoteShort(scheme))
		}
		rest = after
	}
	rest = strings.TrimSuffix(rest, "/")
	if strings.Contains(rest, "@") {
		return false, errors.New("must not carry credentials: use token (or username and password)")
	}
	if strings.IndexFunc(rest, unicode.IsSpace) >= 0 || strings.ContainsAny(rest, "/?#") {
		return false, fmt.Errorf("%s: %s, without a path", quoteShort(uri), want)
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil || host == "" {
		return false, fmt.Errorf("%s: %s", quoteShort(uri), want)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return false, fmt.Errorf("%s: port must be 1..65535", quoteShort(uri))
	}
	return tls, nil
}

// validateCollections checks that exactly one of collection_infos and
// db_collections is given and that every name in it is valid.
func validateCollections(infos []CollectionInfo, dbs map[string][]CollectionInfo) error {
	switch {
	case len(infos) == 0 && len(dbs) == 0:
		return badRequest(`collection_infos or db_collections is required, e.g. "collection_infos": [{"name": "*"}]`)
	case len(infos) > 0 && len(dbs) > 0:
		return badRequest("give collection_infos or db_collections, not both")
	case len(infos) > maxCollectionNames:
		return badRequest(`collection_infos: at most %d collections per task, got %d: use "*" for every collection, or split the task`,
			maxCollectionNames, len(infos))
	case len(infos) > 0:
		return validateNameList("collection_infos", infos)
	}
	dbNames := make([]string, 0, len(dbs))
	total := 0
	for db, cs := range dbs {
		dbNames = append(dbNames, db)
		total += max(len(cs), 1)
	}
	if total > maxCollectionNames {
		return badRequest(`db_collections: at most %d collections per task in all databases, got %d: use "*" for every collection, or split the task`,
			maxCollectionNames, total)
	}
	sort.Strings(dbNames) // the same problem is reported first on every call
	for _, db := range dbNames {
		if problem := nameProblem(db); problem != "" {
			return badRequest("db_collections: database name %s", problem)
		}
		field := "db_collections[" + quoteShort(db) + "]"
		if len(dbs[db]) == 0 {
			return badRequest(`%s: at least one collection is required ("*" for all)`, field)
		}
		if err := validateNameList(field, dbs[db]); err != nil {
			return err
		}
	}
	return nil
}

// validateNameList checks the collections of one list: valid names, no
// repeats, and "*" only alone (it already means every collection).
func validateNameList(field string, infos []CollectionInfo) error {
	seen := make(map[string]int, len(infos))
	for i, c := range infos {
		if problem := nameProblem(c.Name); problem != "" {
			return badRequest("%s[%d].name: collection name %s", field, i, problem)
		}
		if c.Name == "*" && len(infos) > 1 {
			return badRequest(`%s[%d].name: "*" means every collection: give it alone`, field, i)
		}
		if j, dup := seen[c.Name]; dup {
			return badRequest("%s[%d].name: %s repeats %s[%d]", field, i, quoteShort(c.Name), field, j)
		}
		seen[c.Name] = i
	}
	return nil
}

// nameProblem says why name is neither "*" nor a valid Milvus database or
// collection name (ASCII letters, digits, underscores, not starting with a
// digit, at most 255 characters); "" if it is fine.
func nameProblem(name string) string {
	switch {
	case name == "*":
		return ""
	case name == "":
		return "is empty"
	case strings.TrimSpace(name) == "":
		return "is blank"
	case len(name) > maxNameLen:
		return fmt.Sprintf("is longer than %d characters", maxNameLen)
	}
	for i, r := range name {
		if !isASCIIWordChar(r) || (i == 0 && r >= '0' && r <= '9') {
			return quoteShort(name) + ` is not valid: use letters, digits and underscores, not starting with a digit (or "*")`
		}
	}
	return ""
}

// validateTaskID checks a task id: 1..64 of [A-Za-z0-9_-]. The id is not
// echoed: it may be anything up to the body limit.
func validateTaskID(id string) error {
	ok := id != "" && len(id) <= maxTaskIDLen
	for _, r := range id {
		ok = ok && (r == '-' || isASCIIWordChar(r))
	}
	if !ok {
		return badRequest("task_id: must be 1..%d characters of A-Z, a-z, 0-9, '_' and '-'", maxTaskIDLen)
	}
	return nil
}

func isASCIIWordChar(r rune) bool {
	return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}

// quoteShort quotes a client's value for a message, cut to 64 bytes so that
// a message stays short whatever the body held.
func quoteShort(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "..."
	}
	return strconv.Quote(s)
}
