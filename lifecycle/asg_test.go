package lifecycle

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/smithy-go"
)

// No Auto Scaling server runs here (fauxqs does SQS, SNS and S3 only), so
// these tests check the wire format: an httptest server on 127.0.0.1
// captures the request the real SDK client sends (AWS Query protocol, a
// signed form POST) and answers with the XML documents Auto Scaling
// returns, success and ValidationError alike.

const asgNS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"

// fakeASG records the form of each request and answers with status and
// body.
type fakeASG struct {
	mu     sync.Mutex
	forms  []url.Values
	auth   []string
	status int
	body   func(action string) string
}

func (f *fakeASG) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(b))
	if err != nil || r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		http.Error(w, "not a query-protocol request", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.forms = append(f.forms, form)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", "7c6e177f-f082-11e1-ac58-3714bEXAMPLE")
	w.WriteHeader(f.status)
	io.WriteString(w, f.body(form.Get("Action")))
}

// requests returns the forms and Authorization headers received so far.
func (f *fakeASG) requests() ([]url.Values, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.forms...), append([]string(nil), f.auth...)
}

func okResponse(action string) string {
	return fmt.Sprintf(`<%[1]sResponse xmlns="%[2]s">
  <%[1]sResult/>
  <ResponseMetadata>
    <RequestId>7c6e177f-f082-11e1-ac58-3714bEXAMPLE</RequestId>
  </ResponseMetadata>
</%[1]sResponse>`, action, asgNS)
}

func newFakeASG(t *testing.T, status int, body func(string) string) (*fakeASG, *LifecycleCompleter) {
	t.Helper()
	f := &fakeASG{status: status, body: body}
	srv := httptest.NewServer(f) // 127.0.0.1
	t.Cleanup(srv.Close)
	client := autoscaling.New(autoscaling.Options{
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
	})
	return f, NewLifecycleCompleter(client)
}

var testHook = &LifecycleHook{
	HookName: "stackagent-launch", AutoScalingGroupName: "prod-web", Token: "bcd2f1b8-9a78-44d3-8a7a-4dd07d7cf635",
	InstanceID: "i-0abc", Transition: "autoscaling:EC2_INSTANCE_LAUNCHING",
}

func TestCompleteLifecycleActionWireFormat(t *testing.T) {
	t.Parallel()
	for _, result := range []string{HookContinue, HookAbandon} {
		f, c := newFakeASG(t, http.StatusOK, okResponse)
		if err := c.Complete(testCtx(t, 5*time.Second), testHook, result); err != nil {
			t.Fatalf("complete %s: %v", result, err)
		}
		forms, auth := f.requests()
		if len(forms) != 1 {
			t.Fatalf("%d requests, want 1", len(forms))
		}
		want := url.Values{
			"Action": {"CompleteLifecycleAction"}, "Version": {"2011-01-01"},
			"LifecycleHookName": {"stackagent-launch"}, "AutoScalingGroupName": {"prod-web"},
			"LifecycleActionToken": {"bcd2f1b8-9a78-44d3-8a7a-4dd07d7cf635"}, "InstanceId": {"i-0abc"},
			"LifecycleActionResult": {result},
		}
		if got := forms[0]; got.Encode() != want.Encode() {
			t.Errorf("form = %v\nwant   %v", got, want)
		}
		if a := auth[0]; !strings.HasPrefix(a, "AWS4-HMAC-SHA256 ") || !strings.Contains(a, "/eu-west-1/autoscaling/aws4_request") {
			t.Errorf("request not signed for autoscaling in eu-west-1: %q", a)
		}
	}
}

func TestCompleteLifecycleActionByInstanceID(t *testing.T) {
	t.Parallel()
	f, c := newFakeASG(t, http.StatusOK, okResponse)
	hook := *testHook
	hook.Token = "" // the API takes the instance id instead of the token
	if err := c.Complete(testCtx(t, 5*time.Second), &hook, HookContinue); err != nil {
		t.Fatal(err)
	}
	forms, _ := f.requests()
	if _, ok := forms[0]["LifecycleActionToken"]; ok || forms[0].Get("InstanceId") != "i-0abc" {
		t.Fatalf("form = %v, want InstanceId and no token", forms[0])
	}
}

func TestRecordLifecycleActionHeartbeatWireFormat(t *testing.T) {
	t.Parallel()
	f, c := newFakeASG(t, http.StatusOK, okResponse)
	if err := c.Heartbeat(testCtx(t, 5*time.Second), testHook); err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"Action": {"RecordLifecycleActionHeartbeat"}, "Version": {"2011-01-01"},
		"LifecycleHookName": {"stackagent-launch"}, "AutoScalingGroupName": {"prod-web"},
		"LifecycleActionToken": {"bcd2f1b8-9a78-44d3-8a7a-4dd07d7cf635"}, "InstanceId": {"i-0abc"},
	}
	if forms, _ := f.requests(); forms[0].Encode() != want.Encode() {
		t.Errorf("form = %v\nwant   %v", forms[0], want)
	}
}

func TestCompleteLifecycleActionValidationError(t *testing.T) {
	t.Parallel()
	const msg = "No active Lifecycle Action found with token bcd2f1b8-9a78-44d3-8a7a-4dd07d7cf635"
	_, c := newFakeASG(t, http.StatusBadRequest, func(string) string {
		return `<ErrorResponse xmlns="` + asgNS + `">
  <Error>
    <Type>Sender</Type>
    <Code>ValidationError</Code>
    <Message>` + msg + `</Message>
  </Error>
  <RequestId>7c6e177f-f082-11e1-ac58-3714bEXAMPLE</RequestId>
</ErrorResponse>`
	})
	err := c.Complete(testCtx(t, 5*time.Second), testHook, HookContinue)
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationError" || apiErr.ErrorMessage() != msg {
		t.Fatalf("error = %v, want the ValidationError as a smithy.APIError", err)
	}
	for _, s := range []string{"complete lifecycle action", "stackagent-launch", "prod-web", "i-0abc", msg} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	if err := c.Heartbeat(testCtx(t, 5*time.Second), testHook); !errors.As(err, &apiErr) {
		t.Fatalf("heartbeat error = %v, want a smithy.APIError", err)
	}
}

func TestLifecycleCompleterRefusesBadInput(t *testing.T) {
	t.Parallel()
	f, c := newFakeASG(t, http.StatusOK, okResponse)
	ctx := testCtx(t, 5*time.Second)
	for name, err := range map[string]error{
		"nil hook":     c.Complete(ctx, nil, HookContinue),
		"bad result":   c.Complete(ctx, testHook, "continue"),
		"no group":     c.Complete(ctx, &LifecycleHook{HookName: "h", Token: "t"}, HookContinue),
		"no token/id":  c.Complete(ctx, &LifecycleHook{HookName: "h", AutoScalingGroupName: "g"}, HookContinue),
		"hb nil hook":  c.Heartbeat(ctx, nil),
		"hb no hook n": c.Heartbeat(ctx, &LifecycleHook{AutoScalingGroupName: "g", InstanceID: "i"}),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if forms, _ := f.requests(); len(forms) != 0 {
		t.Fatalf("%d requests sent for refused input", len(forms))
	}
}

func TestHookResult(t *testing.T) {
	t.Parallel()
	for status, want := range map[Status]string{
		StatusSuccess: HookContinue, StatusSkipped: HookContinue, StatusFailed: HookAbandon, StatusRefused: HookContinue,
	} {
		if got := HookResult(&Result{Status: status}); got != want {
			t.Errorf("HookResult(%s) = %s, want %s", status, got, want)
		}
	}
}
