package recipes

import (
	"context"
	"fmt"
)

// deferredWork is what providers asked to run once, late in the run: a
// systemd daemon-reload after unit files changed, however many did.
type deferredWork struct {
	keys []string
	fns  map[string]func(context.Context) error
}

// Defer registers fn to run once at the end of the converge, after the
// delayed notifications, under key: a second Defer of the same key before
// it ran is the same work. Flush runs it earlier. Providers call it from a
// step's Apply, so why-run never defers anything.
func (rc *RunContext) Defer(key string, fn func(context.Context) error) {
	d := &rc.deferred
	if d.fns == nil {
		d.fns = map[string]func(context.Context) error{}
	}
	if _, ok := d.fns[key]; !ok {
		d.keys = append(d.keys, key)
	}
	d.fns[key] = fn
}

// Flush runs the deferred work of key now, if any is pending (a unit's
// start needs the daemon-reload first).
func (rc *RunContext) Flush(ctx context.Context, key string) error {
	fn, ok := rc.deferred.fns[key]
	if !ok {
		return nil
	}
	delete(rc.deferred.fns, key)
	return fn(ctx)
}

// runDeferred runs what is still pending, in the order it was deferred,
// and returns the first error.
func (rc *RunContext) runDeferred(ctx context.Context) error {
	var first error
	for _, k := range rc.deferred.keys {
		if err := rc.Flush(ctx, k); err != nil && first == nil {
			first = fmt.Errorf("deferred %s: %w", k, err)
		}
	}
	rc.deferred.keys = nil
	return first
}
