package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

type clients struct {
	sqs *sqs.Client
	sns *sns.Client
}

// agent is one daemon process of the fleet.
type agent struct {
	id, metrics, log string
	cmd              *exec.Cmd
	exited           chan struct{} // closed when the process has exited
	err              error         // its Wait error, once exited
}

// fleet is N agents on one topic, reporting to one results queue.
type fleet struct {
	c       *clients
	topic   string
	results string
	agents  []*agent
}

func startFleet(ctx context.Context, c *clients, proxyURL, dir string, n int) (*fleet, error) {
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	t, err := c.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("fleet-" + tag)})
	if err != nil {
		return nil, fmt.Errorf("create topic: %w", err)
	}
	f := &fleet{c: c, topic: aws.ToString(t.TopicArn)}
	if f.results, err = createQueue(ctx, c, "fleet-"+tag+"-results"); err != nil {
		return nil, err
	}
	cbs, err := filepath.Abs(*cookbooks)
	if err != nil {
		return nil, err
	}
	for i := range n {
		a, err := f.startAgent(ctx, proxyURL, cbs, filepath.Join(dir, strconv.Itoa(i)), fmt.Sprintf("i-%s-%03d", tag, i))
		if err != nil {
			f.stop()
			return nil, err
		}
		f.agents = append(f.agents, a)
	}
	return f, nil
}

func createQueue(ctx context.Context, c *clients, name string) (string, error) {
	q, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("create queue %s: %w", name, err)
	}
	return aws.ToString(q.QueueUrl), nil
}

// startAgent makes the agent's queue, subscribes it to the topic and
// starts its daemon in dir.
func (f *fleet) startAgent(ctx context.Context, proxyURL, cbs, dir, id string) (*agent, error) {
	queue, err := createQueue(ctx, f.c, id)
	if err != nil {
		return nil, err
	}
	qa, err := f.c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queue),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return nil, fmt.Errorf("queue arn: %w", err)
	}
	if _, err := f.c.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(f.topic), Protocol: aws.String("sqs"),
		Endpoint: aws.String(qa.Attributes["QueueArn"]), Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	for _, d := range []string{"state", "attrs", "roles", "data_bags", "plugins", "out/first", "out/last"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	attrs := map[string]any{
		"stackagent": map[string]any{"layers": map[string]any{"web": map[string]any{
			"recipes": map[string]any{"configure": []string{"daemonbench::configure"}}}}},
		"daemonbench": map[string]any{"dir": filepath.Join(dir, "out")},
	}
	if err := os.WriteFile(filepath.Join(dir, "attrs", "bench.json"), []byte(encode(attrs)), 0o644); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		return nil, err
	}
	metrics, err := freePort()
	if err != nil {
		return nil, err
	}
	a := &agent{id: id, metrics: metrics, log: filepath.Join(dir, "daemon.log"), exited: make(chan struct{})}
	logF, err := os.Create(a.log)
	if err != nil {
		return nil, err
	}
	defer logF.Close()
	a.cmd = exec.Command(*agentBin, "daemon", "--config", cfg, "--queue-url", queue, "--endpoint", proxyURL,
		"--region", region, "--state-dir", filepath.Join(dir, "state"), "--layers", "web", "--stack", "fleet",
		"--instance-id", id, "--cookbook-dirs", cbs, "--attributes-dir", filepath.Join(dir, "attrs"),
		"--roles-dir", filepath.Join(dir, "roles"), "--data-bags-dir", filepath.Join(dir, "data_bags"),
		"--plugin-dir", filepath.Join(dir, "plugins"), "--reply-to", f.results,
		"--boot-setup=false", "--metrics-address", metrics, "--log-format", "json")
	if *settle != "" {
		a.cmd.Args = append(a.cmd.Args, "--configure-settle", *settle)
	}
	a.cmd.Stdout, a.cmd.Stderr = logF, logF
	a.cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench", "AWS_EC2_METADATA_DISABLED=true")
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := a.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start agent %s: %w", id, err)
	}
	go func() { a.err = a.cmd.Wait(); close(a.exited) }()
	return a, nil
}

// nextPort is where freePort looks next: below the kernel's ephemeral
// range (32768–60999), so that the agents' own outgoing connections never
// take a port an agent is about to serve metrics on.
var nextPort = 20000 + rand.IntN(5000)

// freePort returns a loopback address nothing listens on.
func freePort() (string, error) {
	for range 1000 {
		nextPort++
		addr := "127.0.0.1:" + strconv.Itoa(nextPort)
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr, nil
		}
	}
	return "", fmt.Errorf("no free port from %d", nextPort-1000)
}

// stop ends every agent (SIGTERM, then SIGKILL after 10 s).
func (f *fleet) stop() {
	for _, a := range f.agents {
		a.cmd.Process.Signal(syscall.SIGTERM)
	}
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	late := false
	for _, a := range f.agents {
		if !late {
			select {
			case <-a.exited:
				continue
			case <-deadline.C:
				late = true
			}
		}
		a.cmd.Process.Kill()
		<-a.exited
	}
}

// alive fails when an agent has exited.
func (f *fleet) alive() error {
	for _, a := range f.agents {
		select {
		case <-a.exited:
			b, _ := os.ReadFile(a.log)
			return fmt.Errorf("agent %s exited (%v); its log ends:\n%s", a.id, a.err, tail(string(b), 2000))
		default:
		}
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// waitPolling waits until every agent's /healthz reports a completed poll.
func (f *fleet) waitPolling(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for _, a := range f.agents {
		for !polled(a.metrics) {
			if err := f.alive(); err != nil {
				return err
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("agent %s did not poll within %s", a.id, limit)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

var healthClient = &http.Client{Timeout: 3 * time.Second}

func polled(addr string) bool {
	resp, err := healthClient.Get("http://" + addr + "/healthz")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var h struct {
		LastPoll *time.Time `json:"last_poll"`
		State    string     `json:"state"`
	}
	return json.NewDecoder(resp.Body).Decode(&h) == nil && (h.LastPoll != nil || h.State == "polling")
}

// cpuTicks is the fleet's utime+stime, clock ticks (1/100 s).
func (f *fleet) cpuTicks() int64 {
	var sum int64
	for _, a := range f.agents {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", a.cmd.Process.Pid))
		if err != nil {
			continue
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(fields) > 12 {
			u, _ := strconv.ParseInt(fields[11], 10, 64)
			st, _ := strconv.ParseInt(fields[12], 10, 64)
			sum += u + st
		}
	}
	return sum
}

// medianRSS is the median VmRSS of the agents, MB.
func (f *fleet) medianRSS() float64 {
	var rss []float64
	for _, a := range f.agents {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", a.cmd.Process.Pid))
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
				rss = append(rss, float64(kb)/1024)
			}
		}
	}
	if len(rss) == 0 {
		return 0
	}
	slices.Sort(rss)
	return rss[len(rss)/2]
}

// publish sends a configure to the topic.
func (f *fleet) publish(ctx context.Context, id string, issued time.Time) error {
	body := encode(map[string]any{"version": 1, "id": id, "type": "configure", "stack": "fleet",
		"issued_at": issued.UTC().Format(time.RFC3339Nano)})
	_, err := f.c.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(f.topic), Message: aws.String(body)})
	return err
}

// roundTrip publishes one configure and waits for every agent's result.
func (f *fleet) roundTrip(ctx context.Context, id string) (time.Duration, error) {
	start := time.Now()
	if err := f.publish(ctx, id, start); err != nil {
		return 0, err
	}
	seen := map[string]bool{}
	err := f.collect(ctx, 5*time.Minute, func(r result) bool {
		if r.EventID == id {
			seen[r.InstanceID] = true
		}
		return len(seen) == len(f.agents)
	})
	return time.Since(start), err
}

// stormRuns publishes *storm configures back to back and counts, per
// agent, the runs (success results) until every agent answered them all.
func (f *fleet) stormRuns(ctx context.Context, r *row) error {
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	start := time.Now()
	for i := range *storm {
		if err := f.publish(ctx, fmt.Sprintf("storm-%s-%03d", tag, i), start.Add(time.Duration(i)*time.Millisecond)); err != nil {
			return err
		}
	}
	answered, ran := map[string]int{}, map[string]int{}
	total := 0
	err := f.collect(ctx, 10*time.Minute, func(res result) bool {
		if !strings.HasPrefix(res.EventID, "storm-"+tag) {
			return false
		}
		answered[res.InstanceID]++
		total++
		switch res.Status {
		case "success":
			ran[res.InstanceID]++
		case "superseded":
			r.stormSuperseded++
		default:
			r.errs++
		}
		return total >= *storm*len(f.agents)
	})
	r.stormTook = time.Since(start)
	var sum, most int
	for _, a := range f.agents {
		sum += ran[a.id]
		most = max(most, ran[a.id])
	}
	r.stormMean, r.stormMax = float64(sum)/float64(len(f.agents)), float64(most)
	if err != nil {
		return fmt.Errorf("storm: %d of %d answers: %w", total, *storm*len(f.agents), err)
	}
	return nil
}

// collect reads and deletes results until done says so.
func (f *fleet) collect(ctx context.Context, limit time.Duration, done func(result) bool) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if err := f.alive(); err != nil {
			return err
		}
		out, err := f.c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.results),
			MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60})
		if err != nil {
			return err
		}
		var del []sqstypes.DeleteMessageBatchRequestEntry
		finished := false
		for i, m := range out.Messages {
			var r result
			if json.Unmarshal([]byte(aws.ToString(m.Body)), &r) == nil && done(r) {
				finished = true
			}
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
		if len(del) > 0 {
			if _, err := f.c.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(f.results), Entries: del}); err != nil {
				return err
			}
		}
		if finished {
			return nil
		}
	}
	return fmt.Errorf("results did not all come within %s", limit)
}
