package heal

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/stackagent/stackagent/lifecycle"
)

// Drift schedules drift correction: every Interval plus a random splay in
// [0, Splay) (chef-client's interval mode), counted from the end of the
// last configure or setup run, it hands the daemon a configure event of
// envelope "drift" on C. The daemon runs it between receives, like any
// event: never while another converge runs.
type Drift struct {
	Interval, Splay time.Duration
	// Make builds the periodic event at now.
	Make func(now time.Time) *lifecycle.Event
	// Rand returns a number in [0, 1) (default math/rand/v2).
	Rand    func() float64
	Log     *slog.Logger
	Metrics *Metrics

	c     chan *lifecycle.Event
	reset chan struct{}
	once  sync.Once

	mu          sync.Mutex
	next, last  time.Time
	lastChanged bool
	runs        int
}

// DriftStatus is drift correction in the status.
type DriftStatus struct {
	IntervalSeconds float64    `json:"interval_seconds"`
	SplaySeconds    float64    `json:"splay_seconds"`
	NextRun         *time.Time `json:"next_run,omitempty"`
	LastRun         *time.Time `json:"last_run,omitempty"`
	// LastChanged: the last periodic run changed resources (drift).
	LastChanged bool `json:"last_changed"`
	Runs        int  `json:"runs"`
}

func (d *Drift) init() {
	d.once.Do(func() {
		d.c = make(chan *lifecycle.Event, 1)
		d.reset = make(chan struct{}, 1)
		if d.Rand == nil {
			d.Rand = rand.Float64
		}
		if d.Log == nil {
			d.Log = slog.New(slog.DiscardHandler)
		}
	})
}

// C is where the periodic events come (lifecycle.Daemon.Periodic).
func (d *Drift) C() <-chan *lifecycle.Event {
	d.init()
	return d.c
}

// Wait is the next wait: Interval plus a splay in [0, Splay).
func (d *Drift) Wait() time.Duration {
	d.init()
	return d.Interval + time.Duration(d.Rand()*float64(d.Splay))
}

// Run schedules until ctx is done.
func (d *Drift) Run(ctx context.Context) {
	d.init()
	for {
		wait := d.Wait()
		d.mu.Lock()
		d.next = time.Now().Add(wait)
		d.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-d.reset:
			t.Stop()
			continue
		case now := <-t.C:
			ev := d.Make(now)
			select {
			case d.c <- ev:
				d.Log.Info("drift correction: periodic configure run queued", "event", ev.ID)
			default: // one is waiting already
			}
		}
	}
}

// Observe takes each run's result: a periodic run is counted (changed or
// not), and any successful configure or setup starts the wait again.
func (d *Drift) Observe(r *lifecycle.Result) {
	d.init()
	if r.Periodic {
		d.Metrics.DriftRun(r.Drift)
		d.mu.Lock()
		d.last, d.lastChanged = r.End, r.Drift
		d.runs++
		d.mu.Unlock()
	}
	if r.Status == lifecycle.StatusSuccess && (r.EventType == lifecycle.TypeConfigure || r.EventType == lifecycle.TypeSetup) {
		select {
		case d.reset <- struct{}{}:
		default:
		}
	}
}

// Status reports the schedule.
func (d *Drift) Status() *DriftStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := &DriftStatus{IntervalSeconds: d.Interval.Seconds(), SplaySeconds: d.Splay.Seconds(), LastChanged: d.lastChanged, Runs: d.runs}
	if !d.next.IsZero() {
		t := d.next.UTC()
		st.NextRun = &t
	}
	if !d.last.IsZero() {
		t := d.last.UTC()
		st.LastRun = &t
	}
	return st
}
