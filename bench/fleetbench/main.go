// Command fleetbench simulates a fleet on one machine: N `stackagent
// daemon` processes, each with its own state dir, queue, instance id and
// metrics port, every queue subscribed (raw delivery) to one SNS topic on
// fauxqs, every agent reporting to one results queue. bench/fleet.sh runs
// it; see docs/benchmarks.md, section "Fleet".
//
// Per N it measures:
//   - publish → all results: from just before Publish of a configure to
//     the moment the N-th result of that event is read off the results
//     queue (median of -runs runs), and its ratio to N = 1;
//   - CPU per converge: the fleet's CPU during those runs over N × runs;
//   - idle CPU per agent (utime+stime from /proc/PID/stat over -idle, as
//     ms per minute) and RSS per agent (median VmRSS);
//   - ReceiveMessage per agent per second over -idle, counted at a proxy
//     in front of fauxqs (every agent's requests go through it);
//   - storm: -storm configures published back to back; converge runs per
//     agent (results with status success; the others are superseded).
//
// The exit status is 1 only when the run is broken (an agent dies, a
// result does not come), never for a slow figure.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

var (
	agentBin  = flag.String("agent", "bin/stackagent", "the stackagent binary")
	cookbooks = flag.String("cookbooks", "bench/daemon-cookbooks", "cookbook directory holding daemonbench")
	endpoint  = flag.String("endpoint", "", "fauxqs, http://127.0.0.1:PORT")
	sizes     = flag.String("n", "1,10,50,100", "fleet sizes, comma-separated")
	runs      = flag.Int("runs", 5, "publish → all results runs per size (median)")
	idle      = flag.Duration("idle", 60*time.Second, "idle window for CPU and ReceiveMessage")
	storm     = flag.Int("storm", 50, "configures in the storm (0: no storm)")
	tmpParent = flag.String("tmp", "", "make the temporary directory in here")
	settle    = flag.String("settle", "", "the agents' configure_settle (empty: the agent's default, 2s)")
)

const region = "us-east-1"

func main() {
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench: BROKEN RUN:", err)
		os.Exit(1)
	}
}

// proxy counts ReceiveMessage requests on their way to fauxqs.
type proxy struct {
	url      string
	receives atomic.Int64
}

func startProxy(target string) (*proxy, func(), error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	p := &proxy{url: "http://" + ln.Addr().String()}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1
	rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 5 * time.Minute}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == "AmazonSQS.ReceiveMessage" {
			p.receives.Add(1)
		}
		rp.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	return p, func() { srv.Close() }, nil
}

// row is one fleet size's figures.
type row struct {
	n                     int
	median                time.Duration
	all                   []time.Duration
	cpuMsPerMin, rssMB    float64
	cpuMsPerConverge      float64
	receivesPerAgentSec   float64
	stormMean, stormMax   float64
	stormTook             time.Duration
	stormSuperseded, errs int
}

func run(ctx context.Context) error {
	if *endpoint == "" {
		return errors.New("-endpoint is required")
	}
	var ns []int
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-n %q: want sizes ≥ 1", *sizes)
		}
		ns = append(ns, n)
	}
	tmp, err := os.MkdirTemp(*tmpParent, "fleetbench.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	px, stopProxy, err := startProxy(*endpoint)
	if err != nil {
		return err
	}
	defer stopProxy()
	creds := credentials.NewStaticCredentialsProvider("bench", "bench", "")
	c := &clients{
		sqs: sqs.New(sqs.Options{Region: region, BaseEndpoint: endpoint, Credentials: creds, RetryMaxAttempts: 3}),
		sns: sns.New(sns.Options{Region: region, BaseEndpoint: endpoint, Credentials: creds, RetryMaxAttempts: 3}),
	}
	var rows []row
	for _, n := range ns {
		fmt.Fprintf(os.Stderr, "fleetbench: %d agent(s)\n", n)
		r, err := measure(ctx, c, px, filepath.Join(tmp, fmt.Sprintf("n%d", n)), n)
		if err != nil {
			return fmt.Errorf("with %d agents: %w", n, err)
		}
		rows = append(rows, r)
		printRows(rows)
	}
	return nil
}

func measure(ctx context.Context, c *clients, px *proxy, dir string, n int) (row, error) {
	r := row{n: n}
	f, err := startFleet(ctx, c, px.url, dir, n)
	if err != nil {
		return r, err
	}
	defer f.stop()
	if err := f.waitPolling(ctx, 2*time.Minute); err != nil {
		return r, err
	}
	// Idle: CPU, RSS and receives over the window.
	time.Sleep(5 * time.Second)
	cpu0, rcv0, t0 := f.cpuTicks(), px.receives.Load(), time.Now()
	select {
	case <-time.After(*idle):
	case <-ctx.Done():
		return r, ctx.Err()
	}
	secs := time.Since(t0).Seconds()
	r.cpuMsPerMin = float64(f.cpuTicks()-cpu0) * 10 / float64(n) / (secs / 60) // 100 ticks/s
	r.receivesPerAgentSec = float64(px.receives.Load()-rcv0) / float64(n) / secs
	r.rssMB = f.medianRSS()
	if err := f.alive(); err != nil {
		return r, err
	}
	cpuRT := f.cpuTicks()
	for i := range *runs {
		d, err := f.roundTrip(ctx, fmt.Sprintf("rt-%d-%d-%d", n, i, time.Now().UnixNano()))
		if err != nil {
			return r, err
		}
		r.all = append(r.all, d)
	}
	r.cpuMsPerConverge = float64(f.cpuTicks()-cpuRT) * 10 / float64(n**runs)
	sorted := slices.Clone(r.all)
	slices.Sort(sorted)
	r.median = sorted[len(sorted)/2]
	if *storm > 0 {
		if err := f.stormRuns(ctx, &r); err != nil {
			return r, err
		}
	}
	return r, f.alive()
}

func printRows(rows []row) {
	base := rows[0].median
	fmt.Printf("\n%5s  %12s  %7s  %13s  %18s  %10s  %13s  %22s\n", "N", "publish→all", "× N=1", "CPU ms/conv.", "idle CPU ms/min/ag", "RSS MB/ag", "Receive/ag/s", "storm runs/ag mean max")
	for _, r := range rows {
		ratio := float64(r.median) / float64(base)
		fmt.Printf("%5d  %12s  %7.2f  %13.1f  %18.1f  %10.1f  %13.3f  %15.2f %5.0f\n", r.n, r.median.Round(time.Millisecond), ratio,
			r.cpuMsPerConverge, r.cpuMsPerMin, r.rssMB, r.receivesPerAgentSec, r.stormMean, r.stormMax)
	}
	last := rows[len(rows)-1]
	var all []string
	for _, d := range last.all {
		all = append(all, d.Round(time.Millisecond).String())
	}
	fmt.Printf("N=%d runs: %s; storm of %d settled in %s (%d superseded answers)\n", last.n, strings.Join(all, " "), *storm,
		last.stormTook.Round(100*time.Millisecond), last.stormSuperseded)
}

// result is the part of an agent's result the bench reads.
type result struct {
	EventID    string `json:"event_id"`
	InstanceID string `json:"instance_id"`
	Status     string `json:"status"`
}

func encode(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
