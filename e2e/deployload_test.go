package e2e

// Load during deploys, as a load balancer sees it: clients that open a
// new connection per request and clients that keep their connections
// alive (a Go http.Client reusing them, as an ALB does), every request's
// latency recorded and filed under "deploying" when a deploy was in
// progress at its start or end, "steady" otherwise. The steady state is
// measured in the same run, interleaved with the deploys (the test
// holds quiet windows between them), so the two percentiles see the
// same machine under the same outside load.

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// clientKind is how a load worker connects.
type clientKind int

const (
	newConn clientKind = iota
	keepAlive
)

func (k clientKind) String() string {
	if k == keepAlive {
		return "keep-alive"
	}
	return "new connection"
}

// deployLoad is the load of the deploys under load.
type deployLoad struct {
	mu        sync.Mutex
	deploying bool
	recording bool
	steady    []time.Duration
	during    []time.Duration
	byPath    map[string]*[2][]time.Duration // path → steady, during
	failed    [2]int                         // status >= 400, per clientKind
	errs      [2]int                         // no answer or a broken body, per clientKind
	requests  [2]int
	samples   []string
	reused    atomic.Int64 // keep-alive requests that went on a reused connection
	retried   atomic.Int64 // requests the transport sent again on another connection
	stop      chan struct{}
	wg        sync.WaitGroup
}

// startDeployLoad starts workers of each kind that request paths in
// turn, loadPace apart; nothing is recorded until record(true).
func startDeployLoad(newConns, keepAlives int, paths []string) *deployLoad {
	l := &deployLoad{stop: make(chan struct{}), byPath: map[string]*[2][]time.Duration{}}
	start := func(kind clientKind, w int) {
		client := &http.Client{
			Transport:     siteTransport(kind == keepAlive),
			Timeout:       15 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := w; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				l.one(client, kind, paths[i%len(paths)])
				time.Sleep(loadPace)
			}
		}()
	}
	for w := 0; w < newConns; w++ {
		start(newConn, w)
	}
	for w := 0; w < keepAlives; w++ {
		start(keepAlive, w)
	}
	return l
}

func (l *deployLoad) one(client *http.Client, kind clientKind, path string) {
	req, _ := http.NewRequest("GET", "http://"+siteHost+path, nil)
	conns := 0
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) {
			// A second connection for one request is the transport
			// retrying after the server closed a reused one: a load
			// balancer would have answered 502.
			if conns++; conns == 2 {
				l.retried.Add(1)
			}
			if i.Reused {
				l.reused.Add(1)
			}
		},
	}))
	l.mu.Lock()
	deployingAtStart := l.deploying
	l.mu.Unlock()
	began := time.Now()
	resp, err := client.Do(req)
	problem := ""
	status := 0
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
	}
	took := time.Since(began)
	switch {
	case err != nil:
		problem = err.Error()
	case status >= 400:
		problem = resp.Status
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.recording {
		return
	}
	l.requests[kind]++
	p := l.byPath[path]
	if p == nil {
		p = &[2][]time.Duration{}
		l.byPath[path] = p
	}
	if deployingAtStart || l.deploying {
		l.during = append(l.during, took)
		p[1] = append(p[1], took)
	} else {
		l.steady = append(l.steady, took)
		p[0] = append(p[0], took)
	}
	if problem == "" {
		return
	}
	if err != nil {
		l.errs[kind]++
	} else {
		l.failed[kind]++
	}
	if len(l.samples) < 20 {
		l.samples = append(l.samples, fmt.Sprintf("%s %s %s: %s", began.Format("15:04:05.000"), kind, path, problem))
	}
}

// record starts (or stops) recording requests.
func (l *deployLoad) record(on bool) {
	l.mu.Lock()
	l.recording = on
	l.mu.Unlock()
}

// setDeploying marks a deploy in progress (or over).
func (l *deployLoad) setDeploying(on bool) {
	l.mu.Lock()
	l.deploying = on
	l.mu.Unlock()
}

func (l *deployLoad) finish() {
	close(l.stop)
	l.wg.Wait()
}

// percentile is the p-th percentile (nearest rank) of ds; 0 when empty.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p/100*float64(len(s))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

// stats is what the test checks and logs.
type loadStats struct {
	steadyN, duringN                           int
	steadyP50, steadyP99, duringP50, duringP99 time.Duration
	requests, failed, errs                     [2]int
	reused                                     int64
	retried                                    int64
	samples                                    []string
	paths                                      []string // per path: steady and deploying p50/p99
}

func (l *deployLoad) stats() loadStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	var paths []string
	for path, p := range l.byPath {
		paths = append(paths, fmt.Sprintf("%s %s/%s steady, %s/%s deploying", path,
			ms(percentile(p[0], 50)), ms(percentile(p[0], 99)), ms(percentile(p[1], 50)), ms(percentile(p[1], 99))))
	}
	sort.Strings(paths)
	return loadStats{paths: paths,
		steadyN: len(l.steady), duringN: len(l.during),
		steadyP50: percentile(l.steady, 50), steadyP99: percentile(l.steady, 99),
		duringP50: percentile(l.during, 50), duringP99: percentile(l.during, 99),
		requests: l.requests, failed: l.failed, errs: l.errs, reused: l.reused.Load(), retried: l.retried.Load(),
		samples: append([]string(nil), l.samples...),
	}
}

func (s loadStats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "steady: %d requests, p50 %s, p99 %s; during deploys: %d requests, p50 %s, p99 %s (p99 ratio %.2f)",
		s.steadyN, ms(s.steadyP50), ms(s.steadyP99), s.duringN, ms(s.duringP50), ms(s.duringP99), s.ratio())
	for _, k := range []clientKind{newConn, keepAlive} {
		fmt.Fprintf(&b, "; %s: %d requests, %d failed (status >= 400), %d errors", k, s.requests[k], s.failed[k], s.errs[k])
	}
	fmt.Fprintf(&b, "; keep-alive requests on a reused connection: %d, sent again on a new one: %d", s.reused, s.retried)
	fmt.Fprintf(&b, "; p50/p99 per path: %s", strings.Join(s.paths, ", "))
	if len(s.samples) > 0 {
		fmt.Fprintf(&b, "; first problems: %s", strings.Join(s.samples, "; "))
	}
	return b.String()
}

func (s loadStats) ratio() float64 {
	if s.steadyP99 == 0 {
		return 0
	}
	return float64(s.duringP99) / float64(s.steadyP99)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
