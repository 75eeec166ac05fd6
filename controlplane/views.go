package controlplane

import (
	"context"
	"errors"
	"net/http"
)

// The views: list, get and position show the stored tasks with what their
// streams reported (snapshot progress, health), never storing it.

func (m *Manager) List(ctx context.Context) ([]Task, error) {
	if err := m.intact(ctx); err != nil {
		return nil, err
	}
	tasks, err := m.store.List(ctx)
	if err != nil {
		return nil, err
	}
	for i := range tasks {
		if err := m.withProgress(ctx, &tasks[i]); err != nil {
			return nil, err
		}
		if err := m.withHealth(ctx, &tasks[i]); err != nil {
			return nil, err
		}
	}
	return tasks, nil
}

func (m *Manager) Get(ctx context.Context, id string) (Task, error) {
	if err := m.intact(ctx); err != nil {
		return Task{}, err
	}
	t, err := m.store.Get(ctx, id)
	if errors.Is(err, errNoTask) {
		return Task{}, Errorf(http.StatusNotFound, "task %s not found", id)
	}
	if err != nil {
		return Task{}, err
	}
	if err := m.withProgress(ctx, &t); err != nil {
		return Task{}, err
	}
	return t, m.withHealth(ctx, &t)
}

func (m *Manager) Position(ctx context.Context, id string) (map[string]string, error) {
	if _, err := m.Get(ctx, id); err != nil {
		return nil, err
	}
	pos, err := m.store.Checkpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	if pos == nil {
		pos = map[string]string{}
	}
	return pos, nil
}
