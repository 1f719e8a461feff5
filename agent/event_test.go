package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stackagent/stackagent/lifecycle"
	"github.com/stackagent/stackagent/lifecycle/sqstest"
)

// eventTestServer returns the shared fauxqs server and points the AWS SDK
// at dummy credentials and no shared config, so the CLI's default chain
// never reaches the host's profile or IMDS. It sets environment variables:
// call it from a top-level test that is not parallel (its subtests may be).
func eventTestServer(t *testing.T) *sqstest.Server {
	t.Helper()
	srv := sqstest.Shared(t)
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "",
		"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_SQS": "", "AWS_ENDPOINT_URL_SNS": "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	return srv
}

var eventQueueSeq atomic.Int64

// eventQueueName is a queue or topic name of the test's own.
func eventQueueName(t *testing.T) string {
	n := regexp.MustCompile(`[^A-Za-z0-9_-]`).ReplaceAllString(t.Name(), "-")
	if len(n) > 60 {
		n = n[len(n)-60:]
	}
	return fmt.Sprintf("%s-%d", n, eventQueueSeq.Add(1))
}

// awsFlags are the region and endpoint flags for srv.
func awsFlags(srv *sqstest.Server) []string {
	return []string{"--region", srv.Region, "--endpoint", srv.Endpoint}
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// receiveEvent takes the one message off url and parses it as an agent
// would.
func receiveEvent(t *testing.T, srv *sqstest.Server, url string) (*lifecycle.Event, map[string]string) {
	t.Helper()
	m := srv.ReceiveOne(t, url, 2*time.Second)
	if m == nil {
		t.Fatal("no event on the queue")
	}
	e, err := lifecycle.Parse([]byte(*m.Body), time.Now())
	if err != nil {
		t.Fatalf("agent refuses the sent event: %v\n%s", err, *m.Body)
	}
	attrs := map[string]string{}
	for k, v := range m.MessageAttributes {
		attrs[k] = *v.StringValue
	}
	return e, attrs
}

func TestEventSendQueue(t *testing.T) {
	srv := eventTestServer(t)
	root := t.TempDir()
	writeTree(t, root, map[string]string{"stack.json": `{"deploy": {"wp": {"keep_releases": 5, "scm": {"revision": "v4.2"}}}}`})

	t.Run("deploy", func(t *testing.T) {
		t.Parallel()
		url := srv.CreateQueue(t, eventQueueName(t), nil)
		before := time.Now().UTC().Add(-time.Second)
		r := runCLI(t, append([]string{"event", "send", "--queue", url, "--type", "deploy",
			"--id", "d-42", "--stack", "prod", "--layer", "wordpress", "--layer", "php-app",
			"--instance", "i-0abc,i-0def", "--app", "wp", "--command", "rollback",
			"--attributes", filepath.Join(root, "stack.json")}, awsFlags(srv)...)...)
		if r.code != 0 || r.out != "d-42\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
		}
		e, attrs := receiveEvent(t, srv, url)
		want := &lifecycle.Event{Version: 1, ID: "d-42", Type: "deploy", Stack: "prod",
			Layers: []string{"wordpress", "php-app"}, Instances: []string{"i-0abc", "i-0def"},
			App: "wp", Command: "rollback", Envelope: "event",
			Attributes: map[string]any{"deploy": map[string]any{"wp": map[string]any{
				"keep_releases": int64(5), "scm": map[string]any{"revision": "v4.2"}}}}}
		issued := e.IssuedAt
		e.IssuedAt = time.Time{}
		if !reflect.DeepEqual(e, want) {
			t.Fatalf("event = %+v\nwant    %+v", e, want)
		}
		if issued.Location() != time.UTC || issued.Before(before) || issued.After(time.Now().Add(time.Second)) {
			t.Fatalf("issued_at %v is not now", issued)
		}
		if !reflect.DeepEqual(attrs, map[string]string{"type": "deploy", "stack": "prod",
			"layers": `["wordpress","php-app"]`, "instances": `["i-0abc","i-0def"]`}) {
			t.Fatalf("message attributes %v (layers and instances for SNS filter policies, docs/fleet.md)", attrs)
		}
	})

	t.Run("default id", func(t *testing.T) {
		t.Parallel()
		url := srv.CreateQueue(t, eventQueueName(t), nil)
		r := runCLI(t, append([]string{"event", "send", "--queue", url, "--type", "configure"}, awsFlags(srv)...)...)
		id := strings.TrimSpace(r.out)
		if r.code != 0 || !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
		}
		e, attrs := receiveEvent(t, srv, url)
		if e.ID != id || e.Type != "configure" || e.Stack != "" {
			t.Fatalf("event %+v", e)
		}
		if !reflect.DeepEqual(attrs, map[string]string{"type": "configure", "target": "all"}) {
			t.Fatalf("message attributes %v (no stack attribute without --stack; target all without layers or instances)", attrs)
		}
	})

	t.Run("fifo", func(t *testing.T) {
		t.Parallel()
		url := srv.CreateQueue(t, eventQueueName(t)+".fifo", map[string]string{"FifoQueue": "true"})
		r := runCLI(t, append([]string{"event", "send", "--queue", url, "--type", "setup", "--id", "s-1", "--stack", "prod"}, awsFlags(srv)...)...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.err)
		}
		if e, _ := receiveEvent(t, srv, url); e.ID != "s-1" {
			t.Fatalf("event %+v", e)
		}
	})
}

// TestEventSendRegionFromEnvironment: AWS_REGION and AWS_ENDPOINT_URL stand
// in for --region and --endpoint.
func TestEventSendRegionFromEnvironment(t *testing.T) {
	srv := eventTestServer(t)
	url := srv.CreateQueue(t, eventQueueName(t), nil)
	t.Setenv("AWS_REGION", srv.Region)
	t.Setenv("AWS_ENDPOINT_URL", srv.Endpoint)
	r := runCLI(t, "event", "send", "--queue", url, "--type", "shutdown", "--id", "x-1")
	if r.code != 0 || r.out != "x-1\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
	}
	if e, _ := receiveEvent(t, srv, url); e.ID != "x-1" || e.Type != "shutdown" {
		t.Fatalf("event %+v", e)
	}
}

func TestEventSendTopic(t *testing.T) {
	srv := eventTestServer(t)
	topic := srv.CreateTopic(t, eventQueueName(t))
	url := srv.CreateQueue(t, eventQueueName(t), nil)
	srv.Subscribe(t, topic, url, false)
	r := runCLI(t, append([]string{"event", "send", "--topic", topic, "--type", "execute_recipes",
		"--id", "r-7", "--stack", "prod", "--recipe", "site::warm_cache", "--recipe", "recipe[apache2],php"}, awsFlags(srv)...)...)
	if r.code != 0 || r.out != "r-7\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
	}
	e, _ := receiveEvent(t, srv, url)
	if e.ID != "r-7" || e.Type != "execute_recipes" || e.Envelope != "sns" ||
		!reflect.DeepEqual(e.Recipes, []string{"site::warm_cache", "recipe[apache2],php"}) {
		t.Fatalf("event %+v", e)
	}
}

func TestEventSendPrint(t *testing.T) {
	r := runCLI(t, "event", "send", "--print", "--type", "undeploy", "--id", "u-1", "--app", "wp")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	e, err := lifecycle.Parse([]byte(r.out), time.Now())
	if err != nil || e.ID != "u-1" || e.Type != "undeploy" || e.App != "wp" || !strings.Contains(r.out, "\n  \"issued_at\": \"") {
		t.Fatalf("printed %q: %v", r.out, err)
	}
	// --sequence is carried, and an agent orders by it (lifecycle.Newer).
	r = runCLI(t, "event", "send", "--print", "--type", "configure", "--id", "c-7", "--sequence", "7")
	e, err = lifecycle.Parse([]byte(r.out), time.Now())
	if r.code != 0 || err != nil || e.Sequence != 7 {
		t.Fatalf("--sequence 7: exit %d, %+v, %v\n%s", r.code, e, err, r.err)
	}
}

// TestEventSendInvalid: an event an agent would refuse, or bad flags,
// exit 1 with the reason and send nothing.
func TestEventSendInvalid(t *testing.T) {
	srv := eventTestServer(t)
	url := srv.CreateQueue(t, eventQueueName(t), nil)
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"bad.json":   "{\n  \"deploy\": {\n    \"wp\": ,\n  }\n}\n",
		"array.json": "[1, 2]\n",
	})
	send := []string{"event", "send", "--queue", url, "--region", srv.Region, "--endpoint", srv.Endpoint, "--id", "bad-1"}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown type", []string{"--type", "reboot"}, `event refused (event) bad-1: type: unknown type "reboot" (want setup|configure|`},
		{"no type", nil, "type: missing"},
		{"execute_recipes without recipe", []string{"--type", "execute_recipes"}, "recipes: missing (execute_recipes needs a run list)"},
		{"bad recipe", []string{"--type", "execute_recipes", "--recipe", "rm -rf /"}, `recipes[0]: run list entry "rm -rf /"`},
		{"recipe on deploy", []string{"--type", "deploy", "--recipe", "a"}, "only execute_recipes events take recipes, not deploy"},
		{"command on configure", []string{"--type", "configure", "--command", "restart"}, "only deploy and undeploy events take a command"},
		{"unknown command", []string{"--type", "deploy", "--command", "nuke"}, `command: unknown command "nuke"`},
		{"bad attributes json", []string{"--type", "configure", "--attributes", filepath.Join(root, "bad.json")}, "bad.json: line 3"},
		{"attributes not an object", []string{"--type", "configure", "--attributes", filepath.Join(root, "array.json")}, "array.json"},
		{"missing attributes file", []string{"--type", "configure", "--attributes", filepath.Join(root, "nope.json")}, "nope.json"},
		{"empty layer", []string{"--type", "configure", "--layer", "a,,b"}, "layers[1]: want a non-empty string"},
		{"wait without reply queue", []string{"--type", "configure", "--wait"}, "--wait needs --reply-queue"},
		{"reply queue is a topic", []string{"--type", "configure", "--wait", "--reply-queue", "arn:aws:sns:us-east-1:000000000000:r"}, "--reply-queue"},
		{"bad expect", []string{"--type", "configure", "--wait", "--reply-queue", url, "--expect", "-1"}, "--expect -1"},
		{"both destinations", []string{"--type", "configure", "--topic", "arn:aws:sns:us-east-1:000000000000:t"}, "not both"},
		{"bad endpoint", []string{"--type", "configure", "--endpoint", "ftp://x"}, `aws endpoint "ftp://x"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, append(append([]string{}, send...), c.args...)...)
			if r.code != 1 || r.out != "" || !strings.Contains(r.err, c.want) {
				t.Fatalf("exit %d, want 1 and %q in stderr\nstdout: %s\nstderr: %s", r.code, c.want, r.out, r.err)
			}
		})
	}
	t.Run("no destination", func(t *testing.T) {
		r := runCLI(t, "event", "send", "--type", "configure")
		if r.code != 1 || !strings.Contains(r.err, "--queue URL or --topic ARN") {
			t.Fatalf("exit %d: %s", r.code, r.err)
		}
	})
	if m := srv.ReceiveOne(t, url, time.Second); m != nil {
		t.Fatalf("an invalid event was sent: %s", *m.Body)
	}
}

// postResult reports r on the reply queue as an agent's SQSReporter would.
func postResult(t *testing.T, srv *sqstest.Server, replyURL string, r *lifecycle.Result) {
	t.Helper()
	if err := lifecycle.NewSQSReporter(srv.SQS, replyURL).Report(ctxFor(t, 5*time.Second), r); err != nil {
		t.Fatal(err)
	}
}

func result(eventID, instance string, status lifecycle.Status, exit int) *lifecycle.Result {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	return &lifecycle.Result{EventID: eventID, EventType: "deploy", InstanceID: instance, Status: status,
		ExitCode: exit, Start: start, End: start.Add(12300 * time.Millisecond), Updated: 3, Total: 12}
}

func TestEventWait(t *testing.T) {
	srv := eventTestServer(t)
	// sendWait sends a deploy with --wait and the given flags; results are
	// filed in book.
	sendWait := func(t *testing.T, id, replyURL, book string, args ...string) cli {
		t.Helper()
		url := srv.CreateQueue(t, eventQueueName(t), nil)
		return runCLI(t, append(append([]string{"event", "send", "--queue", url, "--type", "deploy", "--id", id,
			"--wait", "--reply-queue", replyURL, "--results-dir", book}, awsFlags(srv)...), args...)...)
	}

	t.Run("success and failure", func(t *testing.T) {
		t.Parallel()
		reply := srv.CreateQueue(t, eventQueueName(t), nil)
		postResult(t, srv, reply, result("w-1", "i-0abc", lifecycle.StatusSuccess, 0))
		failed := result("w-1", "i-0def", lifecycle.StatusFailed, 1)
		failed.Output = "  * template[/etc/app.conf] action create\n    Error: permission denied \x1b[2J\n"
		postResult(t, srv, reply, failed)
		r := sendWait(t, "w-1", reply, t.TempDir(), "--expect", "2", "--timeout", "20s")
		if r.code != 1 {
			t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.out, r.err)
		}
		for _, want := range []string{
			"w-1\n",
			"i-0abc  success  exit 0  3/12 resources updated  12.3s\n",
			"i-0def  failed  exit 1  3/12 resources updated  12.3s\n",
			"FAILED HOST  STATUS  EXIT  REASON\ni-0def       failed  1",
			"    |     Error: permission denied \ufffd[2J\n",
			"event w-1: 1 succeeded, 1 failed, 0 superseded, 0 skipped, 0 missing (2 expected)\n",
		} {
			if !strings.Contains(r.out, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r.out)
			}
		}
		if m := srv.ReceiveOne(t, reply, time.Second); m != nil {
			t.Errorf("a result was left on the reply queue: %s", *m.Body)
		}
	})

	t.Run("two instances", func(t *testing.T) {
		t.Parallel()
		reply := srv.CreateQueue(t, eventQueueName(t), nil)
		book := t.TempDir()
		postResult(t, srv, reply, result("other-event", "i-0abc", lifecycle.StatusFailed, 1))
		srv.Send(t, reply, "not a result")
		postResult(t, srv, reply, result("w-2", "i-0abc", lifecycle.StatusSuccess, 0))
		postResult(t, srv, reply, result("w-2", "i-0abc", lifecycle.StatusSuccess, 0)) // redelivered
		postResult(t, srv, reply, result("w-2", "i-0zzz", lifecycle.StatusFailed, 1))  // not a target
		go func() {
			time.Sleep(1500 * time.Millisecond) // arrives during the long poll
			skipped := result("w-2", "i-0def", lifecycle.StatusSkipped, 0)
			skipped.Reason = `for stack "prod", this instance is in stack "staging"`
			if err := lifecycle.NewSQSReporter(srv.SQS, reply).Report(context.Background(), skipped); err != nil {
				t.Error(err)
			}
		}()
		r := sendWait(t, "w-2", reply, book, "--instance", "i-0abc", "--instance", "i-0def", "--timeout", "20s")
		if r.code != 0 {
			t.Fatalf("exit %d, want 0\n%s\n%s", r.code, r.out, r.err)
		}
		if n := strings.Count(r.out, "i-0abc  success"); n != 1 {
			t.Errorf("i-0abc reported %d times:\n%s", n, r.out)
		}
		for _, want := range []string{
			`i-0def  skipped  exit 0  3/12 resources updated  12.3s  for stack "prod"`,
			"event w-2: 1 succeeded, 0 failed, 0 superseded, 1 skipped, 0 missing (2 expected); 1 answer(s) from hosts not targeted, not counted\n",
		} {
			if !strings.Contains(r.out, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r.out)
			}
		}
		if !strings.Contains(r.err, "waiting up to 20s for 2 host(s) (i-0abc, i-0def) of w-2") {
			t.Errorf("stderr: %s", r.err)
		}
		// The other event's result was filed, not left for the next wait
		// to read again: event status shows it.
		st := runCLI(t, "event", "status", "other-event", "--results-dir", book)
		if st.code != 1 || !strings.Contains(st.out, "i-0abc  failed  exit 1") ||
			!strings.Contains(st.out, "event other-event: 0 succeeded, 1 failed, 0 superseded, 0 skipped, 0 missing (1 expected)") {
			t.Fatalf("event status other-event: exit %d\n%s\n%s", st.code, st.out, st.err)
		}
		if m := srv.ReceiveOne(t, reply, time.Second); m != nil {
			t.Fatalf("left visible on the reply queue: %s (the non-result stays hidden)", *m.Body)
		}
	})

	t.Run("through sns, json", func(t *testing.T) {
		t.Parallel()
		reply := srv.CreateQueue(t, eventQueueName(t), nil)
		topic := srv.CreateTopic(t, eventQueueName(t))
		srv.Subscribe(t, topic, reply, false)
		refused := result("w-3", "i-0abc", lifecycle.StatusRefused, 1)
		refused.Reason = `event refused (event) w-3: app: unknown app "nope"`
		if err := lifecycle.NewSNSReporter(srv.SNS, topic).Report(ctxFor(t, 5*time.Second), refused); err != nil {
			t.Fatal(err)
		}
		r := sendWait(t, "w-3", reply, t.TempDir(), "--timeout", "20s", "--json")
		var rep struct {
			EventID string `json:"event_id"`
			Counts  map[string]int
			Hosts   []map[string]any
		}
		if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
			t.Fatalf("stdout is not one JSON document: %v\n%s", err, r.out)
		}
		if r.code != 1 || rep.EventID != "w-3" || rep.Counts["failed"] != 1 || len(rep.Hosts) != 1 ||
			rep.Hosts[0]["instance"] != "i-0abc" || rep.Hosts[0]["status"] != "refused" || rep.Hosts[0]["exit_code"] != 1.0 {
			t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.out, r.err)
		}
	})

	t.Run("timeout names the missing hosts", func(t *testing.T) {
		t.Parallel()
		reply := srv.CreateQueue(t, eventQueueName(t), nil)
		postResult(t, srv, reply, result("w-4", "i-1", lifecycle.StatusSuccess, 0))
		r := sendWait(t, "w-4", reply, t.TempDir(), "--timeout", "2s", "--instance", "i-1,i-2,i-3")
		if r.code != 1 || !strings.Contains(r.err, "event w-4: timed out after 2s: 1 of 3 host(s) answered; missing: i-2, i-3") ||
			!strings.Contains(r.out, "1 succeeded, 0 failed, 0 superseded, 0 skipped, 2 missing (3 expected)") {
			t.Fatalf("exit %d, want 1 and the timeout\n%s\n%s", r.code, r.out, r.err)
		}
	})

	t.Run("default waits for one and says so", func(t *testing.T) {
		t.Parallel()
		reply := srv.CreateQueue(t, eventQueueName(t), nil)
		postResult(t, srv, reply, result("w-5", "i-1", lifecycle.StatusSuccess, 0))
		r := sendWait(t, "w-5", reply, t.TempDir(), "--timeout", "20s")
		if r.code != 0 || !strings.Contains(r.err, "for one host's result (targets unknown") ||
			!strings.HasSuffix(r.out, "event w-5: 1 succeeded, 0 failed, 0 superseded, 0 skipped, 0 missing (1 expected)\n") {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
		}
	})
}

// countingQueue counts ReceiveMessage calls.
type countingQueue struct {
	*sqs.Client
	receives atomic.Int64
}

func (c *countingQueue) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, o ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	c.receives.Add(1)
	return c.Client.ReceiveMessage(ctx, in, o...)
}

// TestWaitReadsStaleResultsOnce: with 200 results of other events on the
// reply queue, waiting reads each of them once (20 receives of 10, not a
// re-read per poll), files them, and a second wait starts from an empty
// queue.
func TestWaitReadsStaleResultsOnce(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	reply := srv.CreateQueue(t, eventQueueName(t), nil)
	const stale = 200
	for i := range stale {
		postResult(t, srv, reply, result(fmt.Sprintf("old-%d", i), "i-1", lifecycle.StatusSuccess, 0))
	}
	postResult(t, srv, reply, result("new", "i-1", lifecycle.StatusSuccess, 0))
	book, err := openBook(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	q := &countingQueue{Client: srv.SQS}
	rd := &replyReader{client: q, queueURL: reply, book: book, log: io.Discard}
	rep, err := rd.waitFor(ctxFor(t, time.Minute), eventTargets{eventID: "new", expect: 1}, time.Now().Add(time.Minute), func(*lifecycle.Result) {})
	if err != nil || !rep.ok() {
		t.Fatalf("wait: %v %+v", err, rep)
	}
	if n := q.receives.Load(); n > stale/10+3 {
		t.Errorf("%d receives for %d stale results: stale results are read more than once", n, stale)
	}
	if err := rd.drain(ctxFor(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	for i := range stale {
		if len(book.results(fmt.Sprintf("old-%d", i))) != 1 {
			t.Fatalf("old-%d was not filed", i)
		}
	}
	if m := srv.ReceiveOne(t, reply, time.Second); m != nil {
		t.Fatalf("left on the reply queue: %s", *m.Body)
	}
}

func TestEventStatus(t *testing.T) {
	srv := eventTestServer(t)
	reply := srv.CreateQueue(t, eventQueueName(t), nil)
	book := t.TempDir()
	postResult(t, srv, reply, result("st-1", "i-1", lifecycle.StatusSuccess, 0))
	postResult(t, srv, reply, result("st-2", "i-1", lifecycle.StatusSuccess, 0))
	status := func(args ...string) cli {
		return runCLI(t, append(append([]string{"event", "status"}, args...), "--results-dir", book)...)
	}
	r := status(append([]string{"st-1", "--reply-queue", reply, "--instance", "i-1,i-2"}, awsFlags(srv)...)...)
	if r.code != 1 || !strings.Contains(r.out, "i-1  success  exit 0") || !strings.Contains(r.out, "\nmissing: i-2\n") ||
		!strings.Contains(r.err, "event st-1: 1 of 2 host(s) have not answered: i-2") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	// st-2 was read into the book with st-1: no queue needed now.
	if r := status("st-2", "--json"); r.code != 0 || !strings.Contains(r.out, `"succeeded": 1`) {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	if r := status("never-sent"); r.code != 1 || !strings.Contains(r.err, "event never-sent: no result has arrived") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
}
