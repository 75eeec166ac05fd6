package controlplane

import (
	"context"
	"fmt"
	"net/http"
	"sync"
)

// httpFakeService is an in-memory Service. It keeps targets WITH their
// secrets, so that tests prove the HTTP layer strips them itself.
type httpFakeService struct {
	mu        sync.Mutex
	tasks     map[string]Task
	next      int
	lastReq   CreateRequest
	createErr error // returned by Create when set
	listErr   error
	panicOn   string // request type whose call panics
}

func newHTTPFakeService() *httpFakeService { return &httpFakeService{tasks: map[string]Task{}} }

func (f *httpFakeService) Create(_ context.Context, req CreateRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicOn == requestCreate {
		panic("boom " + req.Target.Token)
	}
	f.lastReq = req
	if f.createErr != nil {
		return "", f.createErr
	}
	id := req.TaskID
	if id == "" {
		f.next++
		id = fmt.Sprintf("task%02d", f.next)
	}
	state := StateRunning
	if req.DisableAutoStart {
		state = StatePaused
	}
	f.tasks[id] = Task{ID: id, Target: req.Target, CollectionInfos: req.CollectionInfos,
		DBCollections: req.DBCollections, State: state, Worker: "worker-1"}
	return id, nil
}

func (f *httpFakeService) List(context.Context) ([]Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Task
	for _, t := range f.tasks {
		out = append(out, t)
	}
	return out, f.listErr
}

func (f *httpFakeService) task(id string) (Task, error) {
	t, ok := f.tasks[id]
	if !ok {
		return Task{}, Errorf(http.StatusNotFound, "task %s not found", id)
	}
	return t, nil
}

func (f *httpFakeService) Get(_ context.Context, id string) (Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.task(id)
}

func (f *httpFakeService) setState(id, from, to string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.task(id)
	if err != nil {
		return err
	}
	if t.State != from {
		return Errorf(http.StatusConflict, "task %s is %s, not %s", id, t.State, from)
	}
	t.State = to
	f.tasks[id] = t
	return nil
}

func (f *httpFakeService) Pause(_ context.Context, id string) error {
	return f.setState(id, StateRunning, StatePaused)
}

func (f *httpFakeService) Resume(_ context.Context, id string) error {
	return f.setState(id, StatePaused, StateRunning)
}

func (f *httpFakeService) Delete(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.task(id); err != nil {
		return err
	}
	delete(f.tasks, id)
	return nil
}

func (f *httpFakeService) Position(_ context.Context, id string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.task(id); err != nil {
		return nil, err
	}
	return map[string]string{"by-dev-rootcoord-dml_0": "CAEQAxgAIAA="}, nil
}
