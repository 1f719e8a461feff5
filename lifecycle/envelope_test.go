package lifecycle

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// snsNotification wraps msg as SNS delivers it to SQS without raw message
// delivery (the shape of the HTTP/HTTPS notification JSON).
func snsNotification(msg string) string {
	b, err := json.Marshal(map[string]any{
		"Type":             "Notification",
		"MessageId":        "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
		"TopicArn":         "arn:aws:sns:us-west-2:123456789012:stackagent-prod",
		"Subject":          "stackagent",
		"Message":          msg,
		"Timestamp":        "2026-11-25T09:30:00.655Z",
		"SignatureVersion": "1",
		"Signature":        "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
		"SigningCertURL":   "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
		"UnsubscribeURL":   "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:stackagent-prod:c9135db0-26c4-47ec-8998-413945fb5a96",
	})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// asgHook is the message Auto Scaling sends to an SQS or SNS notification
// target when an instance enters a wait state.
func asgHook(transition, metadata string) string {
	m := map[string]any{
		"Origin":               "EC2",
		"LifecycleHookName":    "stackagent-hook",
		"Destination":          "AutoScalingGroup",
		"AccountId":            "123456789012",
		"RequestId":            "4b48da58-fbbd-4d5e-9e1a-ad7a5e5e5b1e",
		"LifecycleTransition":  transition,
		"AutoScalingGroupName": "prod-web",
		"Service":              "AWS Auto Scaling",
		"Time":                 "2026-11-25T09:31:26.533Z",
		"EC2InstanceId":        "i-0598c7d356eba48d7",
		"LifecycleActionToken": "71514b9d-6a40-4b26-8523-05e7eEXAMPLE",
	}
	if metadata != "" {
		m["NotificationMetadata"] = metadata
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// asgTest is the test message Auto Scaling sends when a hook's notification
// target is set.
const asgTest = `{
  "AccountId": "123456789012",
  "RequestId": "5b0c0ad5-5a6f-11ea-bc6e-8d9f1dd1e82b",
  "AutoScalingGroupARN": "arn:aws:autoscaling:us-west-2:123456789012:autoScalingGroup:042cba90-ad2f-431c-9b4d-6d9055bcc9fb:autoScalingGroupName/prod-web",
  "AutoScalingGroupName": "prod-web",
  "Service": "AWS Auto Scaling",
  "Event": "autoscaling:TEST_NOTIFICATION",
  "Time": "2026-11-25T09:00:00.000Z"
}`

// eventBridge wraps detail as an EventBridge event.
func eventBridge(source, detailType, detail string) string {
	return `{"version": "0", "id": "12345678-1234-1234-1234-123456789012",
  "detail-type": "` + detailType + `", "source": "` + source + `",
  "account": "123456789012", "time": "2026-11-25T09:32:00Z", "region": "us-west-2",
  "resources": ["arn:aws:autoscaling:us-west-2:123456789012:autoScalingGroup:042cba90:autoScalingGroupName/prod-web"],
  "detail": ` + detail + `}`
}

const ebHookDetail = `{
    "LifecycleActionToken": "87654321-4321-4321-4321-210987654321",
    "AutoScalingGroupName": "prod-web",
    "LifecycleHookName": "stackagent-hook",
    "EC2InstanceId": "i-1234567890abcdef0",
    "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
    "NotificationMetadata": "additional-info",
    "Origin": "AutoScalingGroup",
    "Destination": "EC2"
  }`

var (
	asgLaunchHook = &LifecycleHook{HookName: "stackagent-hook", AutoScalingGroupName: "prod-web",
		Token: "71514b9d-6a40-4b26-8523-05e7eEXAMPLE", InstanceID: "i-0598c7d356eba48d7",
		Transition: TransitionLaunching}
	asgTime = time.Date(2026, 11, 25, 9, 31, 26, 533e6, time.UTC)
	ebTime  = time.Date(2026, 11, 25, 9, 32, 0, 0, time.UTC)
	snsTime = time.Date(2026, 11, 25, 9, 30, 0, 655e6, time.UTC)
)

func TestParseEnvelopes(t *testing.T) {
	t.Parallel()
	v1 := `{"version":1,"id":"c-7","type":"configure","stack":"prod","attributes":{"n":1}}`
	wantV1 := func(env string, at time.Time) *Event {
		return &Event{Version: 1, ID: "c-7", Type: TypeConfigure, Stack: "prod",
			Attributes: map[string]any{"n": int64(1)}, IssuedAt: at, Envelope: env}
	}
	launch := func(env string) *Event {
		return &Event{Version: 1, ID: "asg-" + asgLaunchHook.Token, Type: TypeSetup,
			Instances: []string{"i-0598c7d356eba48d7"}, Hook: asgLaunchHook,
			IssuedAt: asgTime, Envelope: env}
	}
	ebTerminate := func(env string) *Event {
		return &Event{Version: 1, ID: "asg-87654321-4321-4321-4321-210987654321", Type: TypeShutdown,
			Instances: []string{"i-1234567890abcdef0"}, IssuedAt: ebTime, Envelope: env,
			Hook: &LifecycleHook{HookName: "stackagent-hook", AutoScalingGroupName: "prod-web",
				Token: "87654321-4321-4321-4321-210987654321", InstanceID: "i-1234567890abcdef0",
				Transition: TransitionTerminating}}
	}
	ebV1 := eventBridge("com.example.controller", DetailTypeEvent, v1)
	tests := []struct {
		name string
		body string
		want *Event
	}{
		{"SNS wrapped v1 event, issued_at from SNS Timestamp", snsNotification(v1), wantV1("sns", snsTime)},
		{"SNS wrapped v1 event keeps its own issued_at", snsNotification(deployEvent), func() *Event {
			e, _ := Parse([]byte(deployEvent), testNow)
			e.Envelope = "sns"
			return e
		}()},
		{"raw SNS delivery is the payload itself", v1, wantV1("event", testNow)},
		{"ASG launching hook to SQS", asgHook(TransitionLaunching, ""), launch("asg")},
		{"ASG hook with plain-text metadata", asgHook(TransitionLaunching, "additional-info"), launch("asg")},
		{"ASG hook through SNS", snsNotification(asgHook(TransitionLaunching, "")), launch("sns+asg")},
		{"ASG terminating hook", asgHook(TransitionTerminating, ""), func() *Event {
			e := launch("asg")
			e.Type = TypeShutdown
			h := *asgLaunchHook
			h.Transition = TransitionTerminating
			e.Hook = &h
			return e
		}()},
		{"ASG hook with JSON metadata", asgHook(TransitionLaunching,
			`{"stack":"prod","layers":["wordpress"],"attributes":{"wordpress":{"efs":{"id":"fs-0123"},"port":8080}}}`),
			func() *Event {
				e := launch("asg")
				e.Stack, e.Layers = "prod", []string{"wordpress"}
				e.Attributes = map[string]any{"wordpress": map[string]any{
					"efs": map[string]any{"id": "fs-0123"}, "port": int64(8080)}}
				return e
			}()},
		{"EventBridge terminate lifecycle action", eventBridge("aws.autoscaling", DetailTypeTerminate, ebHookDetail), ebTerminate("eventbridge+asg")},
		{"EventBridge lifecycle action through SNS", snsNotification(eventBridge("aws.autoscaling", DetailTypeTerminate, ebHookDetail)), ebTerminate("sns+eventbridge+asg")},
		{"EventBridge stackagent event", ebV1, wantV1("eventbridge", ebTime)},
		{"EventBridge stackagent event through SNS", snsNotification(ebV1), wantV1("sns+eventbridge", ebTime)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(tt.body), testNow)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%+v (hook %+v)\nwant\n%+v (hook %+v)", got, got.Hook, tt.want, tt.want.Hook)
			}
		})
	}
}

func TestParseTestNotification(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"SQS": asgTest,
		"SNS": snsNotification(asgTest),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, err := Parse([]byte(body), testNow)
			if !errors.Is(err, ErrTestNotification) || e != nil {
				t.Fatalf("Parse = %v, %v; want ErrTestNotification", e, err)
			}
			if errors.Is(err, ErrRefused) || errors.Is(err, ErrMalformed) {
				t.Errorf("test notification %v also refused or malformed", err)
			}
			if !strings.Contains(err.Error(), "prod-web") {
				t.Errorf("error %q does not name the group", err)
			}
		})
	}
}

func TestParseRefusesInvalidEnvelope(t *testing.T) {
	t.Parallel()
	hookWithout := func(field string) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(asgHook(TransitionLaunching, "")), &m)
		delete(m, field)
		b, _ := json.Marshal(m)
		return string(b)
	}
	checkRefusals(t, []refusal{
		{"hook without token", hookWithout("LifecycleActionToken"), "LifecycleActionToken", "missing"},
		{"hook without instance", hookWithout("EC2InstanceId"), "EC2InstanceId", "missing"},
		{"hook without hook name", hookWithout("LifecycleHookName"), "LifecycleHookName", "missing"},
		{"hook without group", hookWithout("AutoScalingGroupName"), "AutoScalingGroupName", "missing"},
		{"hook with unknown transition", asgHook("autoscaling:EC2_INSTANCE_WARMING", ""), "LifecycleTransition", `unknown transition "autoscaling:EC2_INSTANCE_WARMING"`},
		{"hook metadata layers not a list", asgHook(TransitionLaunching, `{"layers":"wordpress"}`), "NotificationMetadata.layers", "want a list of strings, got string"},
		{"hook metadata attributes not an object", asgHook(TransitionLaunching, `{"attributes":[]}`), "NotificationMetadata.attributes", "want a JSON object, got array"},
		{"hook metadata stack with a NUL", asgHook(TransitionLaunching, `{"stack":"x\u0000y"}`), "NotificationMetadata.stack", `invalid stack name`},
		{"hook instance not an id", strings.Replace(asgHook(TransitionLaunching, ""), `"i-`, `"i-/../`, 1), "EC2InstanceId", `invalid instance id "i-/../`},
		{"hook metadata broken JSON", asgHook(TransitionLaunching, `{"stack":"prod",}`), "NotificationMetadata", "looks like JSON but does not parse"},
		{"EventBridge detail-type and transition disagree", eventBridge("aws.autoscaling", DetailTypeLaunch, ebHookDetail), "detail.LifecycleTransition", "does not match detail-type"},
		{"EventBridge unknown detail-type", eventBridge("aws.autoscaling", "EC2 Instance Launch Successful", `{}`), "detail-type", `unknown detail-type "EC2 Instance Launch Successful"`},
		{"EventBridge stackagent event invalid", eventBridge("com.example", DetailTypeEvent, `{"version":1,"id":"x","type":"boot"}`), "type", `unknown type "boot"`},
		{"SNS subscription confirmation", strings.Replace(snsNotification(""), `"Type":"Notification"`, `"Type":"SubscriptionConfirmation"`, 1), "Type", "SubscriptionConfirmation message is not a notification"},
		{"SNS wrapping an invalid event", snsNotification(`{"version":3,"id":"a","type":"setup"}`), "version", "unknown version 3"},
	})
}

func TestParseRefusalNamesEnvelope(t *testing.T) {
	t.Parallel()
	_, err := Parse([]byte(snsNotification(asgHook("autoscaling:EC2_INSTANCE_WARMING", ""))), testNow)
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a *ParseError", err)
	}
	if pe.Envelope != "sns+asg" || pe.ID != "asg-71514b9d-6a40-4b26-8523-05e7eEXAMPLE" {
		t.Errorf("Envelope, ID = %q, %q; want sns+asg and the token's id", pe.Envelope, pe.ID)
	}
}

// FuzzParse checks Parse never panics and fails only with a sentinel.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		deployEvent, asgTest, asgHook(TransitionLaunching, `{"layers":["a"]}`),
		snsNotification(asgHook(TransitionTerminating, "x")),
		eventBridge("aws.autoscaling", DetailTypeTerminate, ebHookDetail),
		snsNotification(eventBridge("c", DetailTypeEvent, deployEvent)),
		`{"version":1,"id":"x","type":"execute_recipes","recipes":["a","role[b]"]}`,
		`{}`, `[]`, `nul`, `{"Type":"Notification","MessageId":1,"TopicArn":"a","Message":"{}"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := Parse(body, testNow)
		switch {
		case err == nil:
			if e == nil || e.ID == "" || e.Version != 1 || e.Envelope == "" {
				t.Fatalf("Parse(%q) = %+v without error", body, e)
			}
		case e != nil:
			t.Fatalf("Parse(%q) returned an event and %v", body, err)
		case !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrRefused) && !errors.Is(err, ErrTestNotification):
			t.Fatalf("Parse(%q) error %v is no sentinel", body, err)
		}
	})
}
