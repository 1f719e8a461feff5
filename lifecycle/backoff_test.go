package lifecycle

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBackoffDoublesToMaxWithJitter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		r    float64
		want []time.Duration
	}{
		// Rand 0: half of each ceiling (1, 2, 4, … 60 s).
		{"low", 0, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second,
			8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}},
		// Rand 0.5: three quarters of each ceiling.
		{"mid", 0.5, []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 6 * time.Second,
			12 * time.Second, 24 * time.Second, 45 * time.Second, 45 * time.Second}},
	} {
		b := NewBackoff()
		b.Rand = func() float64 { return tc.r }
		for i, want := range tc.want {
			if got := b.Next(); got != want {
				t.Errorf("%s: wait %d = %s, want %s", tc.name, i+1, got, want)
			}
		}
	}
}

func TestBackoffNeverExceedsMax(t *testing.T) {
	t.Parallel()
	b := NewBackoff()
	b.Rand = func() float64 { return 0.999999 }
	for i := 0; i < 100; i++ {
		if d := b.Next(); d > DefaultBackoffMax || d <= 0 {
			t.Fatalf("wait %d = %s", i, d)
		}
	}
	if b.Failures() != 100 {
		t.Fatalf("failures = %d", b.Failures())
	}
}

func TestBackoffReset(t *testing.T) {
	t.Parallel()
	b := &Backoff{Base: 100 * time.Millisecond, Max: time.Second, Rand: func() float64 { return 0 }}
	for range 5 {
		b.Next()
	}
	b.Reset()
	if got := b.Next(); got != 50*time.Millisecond {
		t.Fatalf("first wait after reset = %s, want 50ms", got)
	}
}

func TestBackoffWaitUsesClockAndContext(t *testing.T) {
	t.Parallel()
	var slept []time.Duration
	b := NewBackoff()
	b.Rand = func() float64 { return 0 }
	b.After = func(d time.Duration) <-chan time.Time {
		slept = append(slept, d)
		c := make(chan time.Time, 1)
		c <- time.Time{}
		return c
	}
	for range 3 {
		if err := b.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(slept) != 3 || slept[0] != 500*time.Millisecond || slept[2] != 2*time.Second {
		t.Fatalf("slept %v", slept)
	}
	b.After = func(time.Duration) <-chan time.Time { return nil } // never fires
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait on a cancelled context = %v", err)
	}
}
