package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// ---- the run ---------------------------------------------------------------

type sample struct{ first, last, send time.Duration }

// bench is the state of one run: the proxy's counter, the queue, the
// watched output directories and the daemon.
type bench struct {
	ctx              context.Context
	tmp, out         string
	cnt              *counter
	proxyURL         string
	client           *sqs.Client
	queueURL         string
	firstCh, lastCh  chan time.Time
	logPath, docPath string
	cmd              *exec.Cmd
	pid              int
	exited           chan error
	stopped          bool
	seq              int // events sent
}

// results is what the run measured, for the report.
type results struct {
	startup           time.Duration
	idleMem, finalMem mem
	lat, lat2         []sample
	steps             []mem // after rssN and 2*rssN events
	idle              idleStats
	stopTook          time.Duration
	stopErr           error
}

// idleStats is the idle window [w0, w1] and its whole poll cycles [ra, rb].
type idleStats struct {
	w0, w1, ra, rb time.Time
	reqs           int
	detail         []string
	pollEvery      time.Duration
}

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

	b := &bench{ctx: ctx, tmp: tmp, out: filepath.Join(tmp, "out"), cnt: newCounter()}
	srv, err := b.startProxy(target)
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := b.createQueue(); err != nil {
		return err
	}
	cfgFile, cbs, err := b.prepare()
	if err != nil {
		return err
	}
	if err := b.watch(); err != nil {
		return err
	}
	return b.runDaemon(cfgFile, cbs)
}

// startProxy starts the counting reverse proxy in front of target.
func (b *bench) startProxy(target *url.URL) (*http.Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.FlushInterval = -1
	// The daemon's last long poll is cut off by its SIGTERM: not news.
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) { w.WriteHeader(http.StatusBadGateway) }
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 5 * time.Minute}
	srv := &http.Server{Handler: b.cnt.ServeHTTPWith(rp)}
	go srv.Serve(ln)
	b.proxyURL = "http://" + ln.Addr().String()
	return srv, nil
}

// createQueue makes a fresh queue, straight at the server.
func (b *bench) createQueue() error {
	b.client = sqs.New(sqs.Options{
		Region: region, BaseEndpoint: aws.String(*endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("bench", "bench", ""),
	})
	qname := fmt.Sprintf("daemonbench-%d", time.Now().UnixNano())
	cq, err := b.client.CreateQueue(b.ctx, &sqs.CreateQueueInput{QueueName: aws.String(qname)})
	if err != nil {
		return fmt.Errorf("create queue: %w", err)
	}
	b.queueURL = aws.ToString(cq.QueueUrl)
	return nil
}

// prepare makes the daemon's directories, attributes and config file; it
// returns the config file and the cookbook directory.
func (b *bench) prepare() (cfgFile, cbs string, err error) {
	dirs := []string{"out/first", "out/last", "state", "attrs", "roles", "data_bags", "plugins", "logs"}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(b.tmp, d), 0o755); err != nil {
			return "", "", err
		}
	}
	attrs := map[string]any{
		"stackagent": map[string]any{"layers": map[string]any{"bench": map[string]any{
			"name": "daemon benchmark", "recipes": map[string]any{"configure": []string{"daemonbench::configure"}},
		}}},
		"daemonbench": map[string]any{"dir": b.out},
	}
	js, _ := json.Marshal(attrs)
	if err := os.WriteFile(filepath.Join(b.tmp, "attrs", "bench.json"), js, 0o644); err != nil {
		return "", "", err
	}
	cfgFile = filepath.Join(b.tmp, "agent.yaml")
	// configure_settle 0: the storm policy's quiet wait (2 s by default,
	// measured by bench/fleet.sh) would add itself to every event here.
	if err := os.WriteFile(cfgFile, []byte("configure_settle: 0s\n"), 0o644); err != nil {
		return "", "", err
	}
	cbs, err = filepath.Abs(*cookbooks)
	return cfgFile, cbs, err
}

// watch watches the directories the first and the last resource write to.
func (b *bench) watch() error {
	w, err := newWatcher()
	if err != nil {
		return err
	}
	if b.firstCh, err = w.add(filepath.Join(b.out, "first")); err != nil {
		return err
	}
	if b.lastCh, err = w.add(filepath.Join(b.out, "last")); err != nil {
		return err
	}
	go w.loop()
	return nil
}

// runDaemon starts the daemon, measures it, stops it and prints the report.
func (b *bench) runDaemon(cfgFile, cbs string) error {
	b.logPath = filepath.Join(b.tmp, "logs", "daemon.log")
	b.docPath = filepath.Join(b.tmp, "logs", "daemon.out")
	logF, err := os.Create(b.logPath)
	if err != nil {
		return err
	}
	defer logF.Close()
	docF, err := os.Create(b.docPath)
	if err != nil {
		return err
	}
	defer docF.Close()
	started := time.Now()
	if err := b.startDaemon(cfgFile, cbs, docF, logF); err != nil {
		return err
	}
	defer b.cleanup()
	r, err := b.measure(started)
	if err != nil {
		return err
	}
	b.report(r)
	if r.stopErr != nil {
		return fmt.Errorf("daemon exit after SIGTERM: %v; log:\n%s", r.stopErr, b.tail())
	}
	return nil
}
