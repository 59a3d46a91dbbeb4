package storage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/fsnotify/fsnotify"
)

var _ interface {
	Watch(context.Context) (<-chan string, error)
} = (*Store)(nil)

// watchQueueMax bounds the names waiting to be delivered; past it they are
// replaced by one "" (list again), so a burst costs one listing, not a
// growing queue.
const watchQueueMax = 4096

// Watch reports the names of sessions whose record any process wrote or
// removed, through inotify (fsnotify) on the records directory, until ctx
// is done; then the channel is closed. A name is delivered once however
// often it changed before it was read; "" means changes were lost (the
// kernel's queue overflowed): list again. A pure memory Store has nothing
// to watch (errors.ErrUnsupported): poll Stamp instead.
func (s *Store) Watch(ctx context.Context) (<-chan string, error) {
	if ch, ok, err := s.watchEtcd(ctx); ok {
		return ch, err
	}
	fr, ok := s.meta.(*fileRecords)
	if !ok {
		return nil, fmt.Errorf("watch sessions: %w", errors.ErrUnsupported)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch sessions: %w", err)
	}
	if err := w.Add(fr.dir); err != nil {
		w.Close()
		return nil, fmt.Errorf("watch sessions in %s: %w", fr.dir, err)
	}
	out := make(chan string, 64)
	go func() {
		defer close(out)
		defer w.Close()
		var queue []string
		queued := map[string]bool{}
		add := func(name string) {
			if queued[name] || queued[""] {
				return
			}
			if len(queue) >= watchQueueMax {
				queue, queued = []string{""}, map[string]bool{"": true}
				return
			}
			queue = append(queue, name)
			queued[name] = true
		}
		for {
			var send chan<- string
			var next string
			if len(queue) > 0 {
				send, next = out, queue[0]
			}
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if name, ok := recordName(ev.Name); ok {
					add(name)
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				if errors.Is(err, fsnotify.ErrEventOverflow) {
					add("")
				}
			case send <- next:
				queue = queue[1:]
				delete(queued, next)
			}
		}
	}()
	return out, nil
}

// recordName is the session a path in the records directory belongs to,
// if it is a record (not a temp file, lock or damaged copy).
func recordName(path string) (string, bool) {
	name, ok := strings.CutSuffix(filepath.Base(path), recordSuffix)
	if !ok || ValidateName(name) != nil {
		return "", false
	}
	return name, true
}
