// Command daemonbench measures `stackagent daemon` against a real
// SQS-compatible server (fauxqs); bench/daemon.sh runs it. See
// docs/benchmarks.md, section "Daemon".
//
// It puts a counting reverse proxy (127.0.0.1) in front of the server and
// points the daemon's --endpoint at it, so every SQS request the daemon
// makes is counted at the server side, not taken from the agent. It then
// starts the daemon with the bench cookbook (daemonbench::configure) and
// measures:
//
//   - latency: from just before SendMessage (taken here) to the first
//     write of the run's first resource, seen here through inotify on the
//     directory that resource writes to; both instants are this process's
//     monotonic clock, so no clocks are compared across processes. Events
//     are sent one at a time, each while the daemon's long poll is in
//     flight (its steady state), after a random 50–150 ms pause;
//   - RSS (VmRSS, VmHWM, RssAnon from /proc/PID/status) when idle after
//     start-up, and after the 200th and 400th event;
//   - SQS requests per idle hour: every request through the proxy during
//     an idle window, and the mean interval between long polls.
//
// It prints a table with the targets and PASS/MISS. The exit status is 1
// only when the run itself is broken (the daemon dies, an event does not
// run, a timeout), never for a missed target.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

var (
	agentBin   = flag.String("agent", "bin/stackagent", "the stackagent binary")
	cookbooks  = flag.String("cookbooks", "bench/daemon-cookbooks", "cookbook directory holding daemonbench")
	endpoint   = flag.String("endpoint", "", "the SQS server (fauxqs), http://127.0.0.1:PORT")
	latN       = flag.Int("latency-events", 50, "events for the latency figure")
	rssN       = flag.Int("rss-events", 200, "events per RSS step (two steps)")
	idleWindow = flag.Duration("idle", 65*time.Second, "idle window for counting SQS requests")
	settle     = flag.Duration("settle", 5*time.Second, "wait after start-up before reading idle RSS")
	eventWait  = flag.Duration("event-timeout", 20*time.Second, "longest wait for one event's run")
	keep       = flag.String("keep", "", "copy the daemon's logs into this directory")
	gcTrace    = flag.Bool("gctrace", false, "run the daemon with GODEBUG=gctrace=1 (in its log)")
	tmpParent  = flag.String("tmp", "", "make the temporary directory in here (default: $TMPDIR)")
)

// onSignal holds what SIGINT/SIGTERM/SIGHUP must undo before exiting:
// stop the daemon, remove the temporary directory.
var (
	onSignalMu sync.Mutex
	onSignal   []func()
)

func atSignal(f func()) {
	onSignalMu.Lock()
	onSignal = append(onSignal, f)
	onSignalMu.Unlock()
}

func handleSignals() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-c
		fmt.Fprintf(os.Stderr, "daemonbench: %s: stopping\n", s)
		onSignalMu.Lock()
		for i := len(onSignal) - 1; i >= 0; i-- {
			onSignal[i]()
		}
		os.Exit(1)
	}()
}

const region = "us-east-1"

func main() {
	flag.Parse()
	handleSignals()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "daemonbench: BROKEN RUN:", err)
		os.Exit(1)
	}
}

// ---- counting proxy --------------------------------------------------------

type req struct {
	action string
	at     time.Time
}

type counter struct {
	mu       sync.Mutex
	counts   map[string]int
	polls    []time.Time // ReceiveMessage starts
	reqs     []req       // every request
	inflight int         // ReceiveMessage requests in flight
	changed  chan struct{}
}

func newCounter() *counter {
	return &counter{counts: map[string]int{}, changed: make(chan struct{})}
}

// notify wakes waiters; call with mu held.
func (c *counter) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *counter) ServeHTTPWith(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
		if action == "" {
			action = "other " + r.Method + " " + r.URL.Path
		}
		c.mu.Lock()
		c.counts[action]++
		now := time.Now()
		c.reqs = append(c.reqs, req{action, now})
		if action == "ReceiveMessage" {
			c.polls = append(c.polls, now)
			c.inflight++
		}
		c.notify()
		c.mu.Unlock()
		next.ServeHTTP(w, r)
		c.mu.Lock()
		if action == "ReceiveMessage" {
			c.inflight--
		}
		c.notify()
		c.mu.Unlock()
	})
}

func (c *counter) snapshot() (map[string]int, []time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[string]int, len(c.counts))
	for k, v := range c.counts {
		m[k] = v
	}
	return m, slices.Clone(c.polls)
}

func (c *counter) requests() []req {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.reqs)
}

// waitFor waits until cond (called with mu held) holds.
func (c *counter) waitFor(ctx context.Context, cond func() bool) error {
	for {
		c.mu.Lock()
		ok, ch := cond(), c.changed
		c.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ---- inotify ---------------------------------------------------------------

// watcher reports, per watched directory, the instant (this process's
// clock) each inotify event was read.
type watcher struct {
	fd  int
	wds map[int32]chan time.Time
}

func newWatcher() (*watcher, error) {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	return &watcher{fd: fd, wds: map[int32]chan time.Time{}}, nil
}

func (w *watcher) add(dir string) (chan time.Time, error) {
	wd, err := syscall.InotifyAddWatch(w.fd, dir, syscall.IN_CREATE|syscall.IN_MODIFY|syscall.IN_MOVED_TO|syscall.IN_CLOSE_WRITE|syscall.IN_ATTRIB)
	if err != nil {
		return nil, fmt.Errorf("inotify watch %s: %w", dir, err)
	}
	ch := make(chan time.Time, 4096)
	w.wds[int32(wd)] = ch
	return ch, nil
}

func (w *watcher) loop() {
	buf := make([]byte, 64*1024)
	for {
		n, err := syscall.Read(w.fd, buf)
		now := time.Now()
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			return
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			if ch, ok := w.wds[ev.Wd]; ok {
				select {
				case ch <- now:
				default:
				}
			}
			off += syscall.SizeofInotifyEvent + int(ev.Len)
		}
	}
}

func drain(ch chan time.Time) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// ---- /proc -----------------------------------------------------------------

type mem struct{ RSS, HWM, Anon, File, Threads int } // kB, threads

func readMem(pid int) (mem, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return mem{}, err
	}
	defer f.Close()
	var m mem
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		switch k {
		case "VmRSS":
			m.RSS = n
		case "VmHWM":
			m.HWM = n
		case "RssAnon":
			m.Anon = n
		case "RssFile":
			m.File = n
		case "Threads":
			m.Threads = n
		}
	}
	return m, sc.Err()
}

func mb(kb int) float64 { return float64(kb) / 1024 }

func exitText(err error) string {
	if err == nil {
		return "exit 0"
	}
	return err.Error()
}

func collect(ss []sample, f func(sample) time.Duration) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = f(s)
	}
	return out
}

// pct is the nearest-rank percentile.
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s) + 99) / 100
	if i < 1 {
		i = 1
	}
	return s[i-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}
