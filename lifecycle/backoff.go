package lifecycle

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// Back-off defaults: the first wait is about 1 s, waits never exceed 60 s.
const (
	DefaultBackoffBase = time.Second
	DefaultBackoffMax  = 60 * time.Second
)

// Backoff is a jittered exponential back-off for the daemon's poll loop:
// after the n-th consecutive failure (or fast empty poll) it waits between
// half and all of min(Max, Base·2ⁿ⁻¹) ("equal jitter": never near zero, so
// a broken queue is not hammered, yet spread so a fleet does not retry in
// step). Reset after a success starts again from Base. Safe for concurrent
// use.
type Backoff struct {
	// Base is the first ceiling (default 1 s), Max the largest (default 60 s).
	Base, Max time.Duration
	// Rand returns a number in [0, 1) (default math/rand/v2's Float64).
	Rand func() float64
	// After is the clock Wait sleeps on (default time.After).
	After func(time.Duration) <-chan time.Time

	mu       sync.Mutex
	failures int
}

// NewBackoff returns a Backoff with the defaults.
func NewBackoff() *Backoff {
	return &Backoff{Base: DefaultBackoffBase, Max: DefaultBackoffMax}
}

// Next counts one more failure and returns how long to wait before the
// next try.
func (b *Backoff) Next() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	base, maxD := b.Base, b.Max
	if base <= 0 {
		base = DefaultBackoffBase
	}
	if maxD <= 0 {
		maxD = DefaultBackoffMax
	}
	ceiling := base
	for i := 0; i < b.failures && ceiling < maxD; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, maxD)
	b.failures++
	r := rand.Float64
	if b.Rand != nil {
		r = b.Rand
	}
	half := ceiling / 2
	return half + time.Duration(r()*float64(ceiling-half))
}

// Reset forgets the failures: the next wait is about Base again.
func (b *Backoff) Reset() {
	b.mu.Lock()
	b.failures = 0
	b.mu.Unlock()
}

// Failures is the number of failures since the last Reset.
func (b *Backoff) Failures() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failures
}

// Wait sleeps for Next(), or until ctx is done (returning ctx's error).
func (b *Backoff) Wait(ctx context.Context) error {
	d := b.Next()
	after := time.After
	if b.After != nil {
		after = b.After
	}
	select {
	case <-after(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
