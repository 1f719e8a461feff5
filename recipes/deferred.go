package recipes

import (
	"context"
	"fmt"
)

// deferredWork is what providers asked to run once, late: a systemd
// daemon-reload after unit files changed, however many did.
type deferredWork struct {
	keys []string
	fns  map[string]func(context.Context) error
	kind map[string]string // the kind of the resource that deferred it
	cur  string            // the kind of the resource converging now
}

// Defer registers fn to run once under key: before the next resource of
// another kind converges (so a service sees the reloaded units), or at
// the end of the run, after the delayed notifications. A second Defer of
// the same key before it ran is the same work; Flush runs it earlier.
// Providers call it from a step's Apply, so why-run never defers anything.
func (rc *RunContext) Defer(key string, fn func(context.Context) error) {
	d := &rc.deferred
	if d.fns == nil {
		d.fns, d.kind = map[string]func(context.Context) error{}, map[string]string{}
	}
	if _, ok := d.fns[key]; !ok {
		d.keys = append(d.keys, key)
	}
	d.fns[key], d.kind[key] = fn, d.cur
}

// Flush runs the deferred work of key now, if any is pending.
func (rc *RunContext) Flush(ctx context.Context, key string) error {
	fn, ok := rc.deferred.fns[key]
	if !ok {
		return nil
	}
	delete(rc.deferred.fns, key)
	if err := fn(ctx); err != nil {
		return fmt.Errorf("deferred %s: %w", key, err)
	}
	return nil
}

// beforeResource notes the kind about to converge and runs the work
// other kinds deferred.
func (rc *RunContext) beforeResource(ctx context.Context, kind string) error {
	rc.deferred.cur = kind
	for _, k := range rc.deferred.keys {
		if _, pending := rc.deferred.fns[k]; pending && rc.deferred.kind[k] != kind {
			if err := rc.Flush(ctx, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// runDeferred runs what is still pending, in the order it was deferred,
// and returns the first error.
func (rc *RunContext) runDeferred(ctx context.Context) error {
	var first error
	for _, k := range rc.deferred.keys {
		if err := rc.Flush(ctx, k); err != nil && first == nil {
			first = err
		}
	}
	rc.deferred.keys = nil
	return first
}
