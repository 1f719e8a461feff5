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
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
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

// ---- the run ---------------------------------------------------------------

type sample struct{ first, last, send time.Duration }

func run() error {
	if *endpoint == "" {
		return errors.New("-endpoint is required")
	}
	target, err := url.Parse(*endpoint)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	tmp, err := os.MkdirTemp(*tmpParent, "daemonbench.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	atSignal(func() { os.RemoveAll(tmp) })

	// Proxy.
	cnt := newCounter()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.FlushInterval = -1
	// The daemon's last long poll is cut off by its SIGTERM: not news.
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) { w.WriteHeader(http.StatusBadGateway) }
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 5 * time.Minute}
	srv := &http.Server{Handler: cnt.ServeHTTPWith(rp)}
	go srv.Serve(ln)
	defer srv.Close()
	proxyURL := "http://" + ln.Addr().String()

	// Queue, straight at the server.
	client := sqs.New(sqs.Options{
		Region: region, BaseEndpoint: aws.String(*endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("bench", "bench", ""),
	})
	qname := fmt.Sprintf("daemonbench-%d", time.Now().UnixNano())
	cq, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(qname)})
	if err != nil {
		return fmt.Errorf("create queue: %w", err)
	}
	queueURL := aws.ToString(cq.QueueUrl)

	// Daemon's directories.
	out := filepath.Join(tmp, "out")
	dirs := []string{"out/first", "out/last", "state", "attrs", "roles", "data_bags", "plugins", "logs"}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			return err
		}
	}
	attrs := map[string]any{
		"stackagent": map[string]any{"layers": map[string]any{"bench": map[string]any{
			"name": "daemon benchmark", "recipes": map[string]any{"configure": []string{"daemonbench::configure"}},
		}}},
		"daemonbench": map[string]any{"dir": out},
	}
	b, _ := json.Marshal(attrs)
	if err := os.WriteFile(filepath.Join(tmp, "attrs", "bench.json"), b, 0o644); err != nil {
		return err
	}
	cfgFile := filepath.Join(tmp, "agent.yaml")
	// configure_settle 0: the storm policy's quiet wait (2 s by default,
	// measured by bench/fleet.sh) would add itself to every event here.
	if err := os.WriteFile(cfgFile, []byte("configure_settle: 0s\n"), 0o644); err != nil {
		return err
	}
	cbs, err := filepath.Abs(*cookbooks)
	if err != nil {
		return err
	}

	w, err := newWatcher()
	if err != nil {
		return err
	}
	firstCh, err := w.add(filepath.Join(out, "first"))
	if err != nil {
		return err
	}
	lastCh, err := w.add(filepath.Join(out, "last"))
	if err != nil {
		return err
	}
	go w.loop()

	// Daemon.
	logPath := filepath.Join(tmp, "logs", "daemon.log")
	docPath := filepath.Join(tmp, "logs", "daemon.out")
	logF, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logF.Close()
	docF, err := os.Create(docPath)
	if err != nil {
		return err
	}
	defer docF.Close()
	cmd := exec.Command(*agentBin, "daemon", "--config", cfgFile,
		"--queue-url", queueURL, "--endpoint", proxyURL, "--region", region,
		"--state-dir", filepath.Join(tmp, "state"), "--layers", "bench", "--instance-id", "i-daemonbench",
		"--cookbook-dirs", cbs, "--attributes-dir", filepath.Join(tmp, "attrs"),
		"--roles-dir", filepath.Join(tmp, "roles"), "--data-bags-dir", filepath.Join(tmp, "data_bags"),
		"--plugin-dir", filepath.Join(tmp, "plugins"),
		"--boot-setup=false", "--metrics-address", "off", "--log-format", "json")
	cmd.Stdout, cmd.Stderr = docF, logF
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench",
		"AWS_EC2_METADATA_DISABLED=true")
	if *gcTrace {
		cmd.Env = append(cmd.Env, "GODEBUG=gctrace=1")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start daemon: %w", err)
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	atSignal(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	})
	stopped := false
	defer func() {
		if !stopped {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		}
		if *keep != "" {
			os.MkdirAll(*keep, 0o755)
			for _, p := range []string{logPath, docPath} {
				if b, err := os.ReadFile(p); err == nil {
					os.WriteFile(filepath.Join(*keep, filepath.Base(p)), b, 0o644)
				}
			}
		}
	}()
	tail := func() string {
		b, _ := os.ReadFile(logPath)
		s := string(b)
		if len(s) > 3000 {
			s = "…" + s[len(s)-3000:]
		}
		return s
	}
	alive := func() error {
		select {
		case err := <-exited:
			stopped = true
			return fmt.Errorf("daemon exited (%v); its log:\n%s", err, tail())
		default:
			return nil
		}
	}

	// Started: the first long poll is in flight.
	waitPoll := func(d time.Duration) error {
		c, cc := context.WithTimeout(ctx, d)
		defer cc()
		errc := make(chan error, 1)
		go func() { errc <- cnt.waitFor(c, func() bool { return cnt.inflight > 0 }) }()
		select {
		case err := <-errc:
			if err != nil {
				if e := alive(); e != nil {
					return e
				}
				return fmt.Errorf("the daemon did not poll the queue within %s; its log:\n%s", d, tail())
			}
			return nil
		case err := <-exited:
			stopped = true
			return fmt.Errorf("daemon exited (%v); its log:\n%s", err, tail())
		}
	}
	if err := waitPoll(30 * time.Second); err != nil {
		return err
	}
	startup := time.Since(started)
	fmt.Fprintf(os.Stderr, "daemonbench: daemon pid %d polling after %s; settling %s\n", pid, startup.Round(time.Millisecond), *settle)
	time.Sleep(*settle)
	if err := alive(); err != nil {
		return err
	}
	idleMem, err := readMem(pid)
	if err != nil {
		return err
	}

	// One event: send, wait for first and last resource, the delete and
	// the next long poll.
	seq := 0
	sendOne := func(gap bool) (sample, error) {
		seq++
		if gap {
			time.Sleep(time.Duration(50+rand.IntN(100)) * time.Millisecond)
		}
		if err := waitPoll(*eventWait); err != nil {
			return sample{}, err
		}
		counts, _ := cnt.snapshot()
		deletes := counts["DeleteMessage"]
		drain(firstCh)
		drain(lastCh)
		id := fmt.Sprintf("bench-%d-%d", seq, time.Now().UnixNano())
		body := fmt.Sprintf(`{"version":1,"id":%q,"type":"configure","issued_at":%q}`, id, time.Now().UTC().Format(time.RFC3339Nano))
		t0 := time.Now()
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)}); err != nil {
			return sample{}, fmt.Errorf("send event %d: %w", seq, err)
		}
		t1 := time.Now()
		timeout := time.After(*eventWait)
		var s sample
		s.send = t1.Sub(t0)
		select {
		case t := <-firstCh:
			s.first = t.Sub(t0)
		case <-timeout:
			if e := alive(); e != nil {
				return s, e
			}
			return s, fmt.Errorf("event %d (%s): the first resource did not run within %s; log:\n%s", seq, id, *eventWait, tail())
		}
		select {
		case t := <-lastCh:
			s.last = t.Sub(t0)
		case <-timeout:
			return s, fmt.Errorf("event %d (%s): the last resource did not run within %s; log:\n%s", seq, id, *eventWait, tail())
		}
		c, cc := context.WithTimeout(ctx, *eventWait)
		defer cc()
		if err := cnt.waitFor(c, func() bool { return cnt.counts["DeleteMessage"] > deletes }); err != nil {
			return s, fmt.Errorf("event %d (%s): not deleted within %s; log:\n%s", seq, id, *eventWait, tail())
		}
		got, err := os.ReadFile(filepath.Join(out, "first", "stamp"))
		if err != nil || strings.TrimSpace(string(got)) != id {
			return s, fmt.Errorf("event %d: first/stamp holds %q, want %q (%v)", seq, got, id, err)
		}
		return s, nil
	}

	var lat, lat2 []sample
	for i := 0; i < *latN; i++ {
		s, err := sendOne(true)
		if err != nil {
			return err
		}
		lat = append(lat, s)
	}
	fmt.Fprintf(os.Stderr, "daemonbench: %d latency events done\n", len(lat))
	var steps []mem
	stepMem := func() error {
		if err := waitPoll(*eventWait); err != nil {
			return err
		}
		time.Sleep(2 * time.Second)
		m, err := readMem(pid)
		steps = append(steps, m)
		return err
	}
	for step := 1; step <= 2; step++ {
		for seq < step**rssN {
			s, err := sendOne(false)
			if err != nil {
				return err
			}
			lat2 = append(lat2, s)
		}
		if err := stepMem(); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "daemonbench: %d events done, VmRSS %.1f MB\n", seq, mb(steps[len(steps)-1].RSS))
	}

	// Idle window.
	if err := waitPoll(*eventWait); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "daemonbench: idle for %s, counting SQS requests\n", *idleWindow)
	w0 := time.Now()
	time.Sleep(*idleWindow)
	if err := alive(); err != nil {
		return err
	}
	w1 := time.Now()
	// The rate is taken over whole poll cycles: from the first long poll
	// that starts in the window to the last, counting every request in
	// between (the last poll belongs to the next cycle). With fewer than
	// two polls in the window, over the whole window.
	var polls []time.Time
	var inWin []req
	for _, r := range cnt.requests() {
		if r.at.Before(w0) || r.at.After(w1) {
			continue
		}
		inWin = append(inWin, r)
		if r.action == "ReceiveMessage" {
			polls = append(polls, r.at)
		}
	}
	ra, rb := w0, w1
	if len(polls) >= 2 {
		ra, rb = polls[0], polls[len(polls)-1]
	}
	idleReqs := 0
	byAction := map[string]int{}
	for _, r := range inWin {
		if !r.at.Before(ra) && (r.at.Before(rb) || rb.Equal(w1)) {
			idleReqs++
			byAction[r.action]++
		}
	}
	var idleDetail []string
	for k, v := range byAction {
		idleDetail = append(idleDetail, fmt.Sprintf("%s %d", k, v))
	}
	slices.Sort(idleDetail)
	var pollEvery time.Duration
	if len(polls) >= 2 {
		pollEvery = rb.Sub(ra) / time.Duration(len(polls)-1)
	}
	finalMem, _ := readMem(pid)

	// Stop.
	t := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	var stopErr error
	select {
	case stopErr = <-exited:
		stopped = true
	case <-time.After(10 * time.Second):
		return errors.New("the daemon did not stop within 10 s of SIGTERM")
	}
	stopTook := time.Since(t)

	// Report.
	firsts := func(ss []sample) []time.Duration { return collect(ss, func(s sample) time.Duration { return s.first }) }
	lasts := func(ss []sample) []time.Duration { return collect(ss, func(s sample) time.Duration { return s.last }) }
	sends := collect(lat, func(s sample) time.Duration { return s.send })
	p50, p90, pmax := pct(firsts(lat), 50), pct(firsts(lat), 90), pct(firsts(lat), 100)
	perHourWin := float64(idleReqs) * float64(time.Hour) / float64(rb.Sub(ra))
	perHourPoll := 0.0
	if pollEvery > 0 {
		perHourPoll = float64(time.Hour) / float64(pollEvery)
	}
	growth := steps[1].RSS - steps[0].RSS

	fmt.Printf("\nstackagent daemon benchmark (fauxqs %s, %d cores, %s)\n", *endpoint, numCPU(), time.Now().Format("2006-01-02 15:04"))
	fmt.Printf("no peer: the figures are compared with the issue's targets only\n\n")
	fmt.Printf("%-46s %14s %12s %s\n", "measure", "today", "target", "")
	row := func(name, today, target string, ok bool) {
		v := "PASS"
		if !ok {
			v = "MISS"
		}
		fmt.Printf("%-46s %14s %12s %s\n", name, today, target, v)
	}
	row(fmt.Sprintf("latency p50, send → first resource (n=%d)", len(lat)), ms(p50), "≤ 100 ms", p50 <= 100*time.Millisecond)
	fmt.Printf("%-46s %14s\n", "  p90 / max", ms(p90)+" / "+ms(pmax))
	row("idle RSS (VmRSS) after start-up", fmt.Sprintf("%.1f MB", mb(idleMem.RSS)), "≤ 20 MB", mb(idleMem.RSS) <= 20)
	row(fmt.Sprintf("RSS after %d events", *rssN), fmt.Sprintf("%.1f MB", mb(steps[0].RSS)), "≤ 25 MB", mb(steps[0].RSS) <= 25)
	row(fmt.Sprintf("RSS growth, %d → %d events", *rssN, 2**rssN), fmt.Sprintf("%+.1f MB", mb(growth)), "≤ +1 MB", mb(growth) <= 1)
	row(fmt.Sprintf("SQS requests per idle hour (%s measured)", rb.Sub(ra).Round(time.Second)), fmt.Sprintf("%.0f", perHourWin), "≤ 180", perHourWin <= 180.5)
	fmt.Println()
	fmt.Printf("details:\n")
	fmt.Printf("  daemon start → first long poll        %s\n", startup.Round(time.Millisecond))
	fmt.Printf("  SendMessage call itself               p50 %s\n", ms(pct(sends, 50)))
	fmt.Printf("  send → last resource (n=%d)            p50 %s, p90 %s\n", len(lat), ms(pct(lasts(lat), 50)), ms(pct(lasts(lat), 90)))
	fmt.Printf("  back-to-back events (n=%d)            first p50 %s p90 %s; last p50 %s\n", len(lat2), ms(pct(firsts(lat2), 50)), ms(pct(firsts(lat2), 90)), ms(pct(lasts(lat2), 50)))
	memLine := func(name string, m mem) {
		fmt.Printf("  %-36s VmRSS %.1f  VmHWM %.1f  RssAnon %.1f  RssFile %.1f MB, %d threads\n", name, mb(m.RSS), mb(m.HWM), mb(m.Anon), mb(m.File), m.Threads)
	}
	memLine("idle after start-up", idleMem)
	memLine(fmt.Sprintf("after %d events", *rssN), steps[0])
	memLine(fmt.Sprintf("after %d events", 2**rssN), steps[1])
	memLine("after the idle window", finalMem)
	fmt.Printf("  idle requests, %s of %s window     %s\n", rb.Sub(ra).Round(100*time.Millisecond), w1.Sub(w0).Round(time.Second), strings.Join(idleDetail, ", "))
	if pollEvery > 0 {
		fmt.Printf("  long poll every                       %s (%.0f per hour)\n", pollEvery.Round(time.Millisecond), perHourPoll)
	}
	fmt.Printf("  SIGTERM → exit                        %s (%v)\n", stopTook.Round(time.Millisecond), exitText(stopErr))
	total, _ := cnt.snapshot()
	var all []string
	for k, v := range total {
		all = append(all, fmt.Sprintf("%s %d", k, v))
	}
	slices.Sort(all)
	fmt.Printf("  all requests through the proxy        %s\n", strings.Join(all, ", "))
	if stopErr != nil {
		return fmt.Errorf("daemon exit after SIGTERM: %v; log:\n%s", stopErr, tail())
	}
	return nil
}

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
