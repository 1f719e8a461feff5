package lifecycle

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

const deployEvent = `{"version": 1, "id": "d-42", "type": "deploy",
 "stack": "prod", "layers": ["php-app"], "instances": ["i-0abc"],
 "app": "wordpress", "command": "rollback",
 "attributes": {"deploy": {"wordpress": {"keep_releases": 5, "ratio": 0.25,
   "big": 9007199254740993, "enabled": true}}},
 "issued_at": "2026-11-25T10:11:12Z", "unknown_field": {"ignored": true}}`

func TestParseV1Event(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want *Event
	}{
		{
			name: "deploy with every field",
			body: deployEvent,
			want: &Event{Version: 1, ID: "d-42", Type: TypeDeploy, Stack: "prod",
				Layers: []string{"php-app"}, Instances: []string{"i-0abc"},
				App: "wordpress", Command: CommandRollback,
				Attributes: map[string]any{"deploy": map[string]any{"wordpress": map[string]any{
					"keep_releases": int64(5), "ratio": 0.25,
					"big": int64(9007199254740993), "enabled": true}}},
				IssuedAt: time.Date(2026, 11, 25, 10, 11, 12, 0, time.UTC), Envelope: "event"},
		},
		{
			name: "deploy command defaults to deploy, issued_at to now",
			body: `{"version":1,"id":"d-1","type":"deploy","app":"wordpress"}`,
			want: &Event{Version: 1, ID: "d-1", Type: TypeDeploy, App: "wordpress",
				Command: CommandDeploy, IssuedAt: testNow, Envelope: "event"},
		},
		{
			name: "deploy without app means every app of the layer",
			body: `{"version":1,"id":"d-2","type":"deploy"}`,
			want: &Event{Version: 1, ID: "d-2", Type: TypeDeploy, Command: CommandDeploy,
				IssuedAt: testNow, Envelope: "event"},
		},
		{
			name: "undeploy without app or command",
			body: `{"version":1,"id":"u-1","type":"undeploy"}`,
			want: &Event{Version: 1, ID: "u-1", Type: TypeUndeploy, Command: CommandUndeploy,
				IssuedAt: testNow, Envelope: "event"},
		},
		{
			name: "undeploy with command undeploy",
			body: `{"version":1,"id":"u-2","type":"undeploy","app":"blog","command":"undeploy"}`,
			want: &Event{Version: 1, ID: "u-2", Type: TypeUndeploy, App: "blog", Command: CommandUndeploy,
				IssuedAt: testNow, Envelope: "event"},
		},
		{
			name: "execute_recipes keeps entries as given",
			body: `{"version":1,"id":"x-1","type":"execute_recipes","recipes":["recipe[apache2::restart]","php","role[web]","a::b, c"]}`,
			want: &Event{Version: 1, ID: "x-1", Type: TypeExecuteRecipes,
				Recipes:  []string{"recipe[apache2::restart]", "php", "role[web]", "a::b, c"},
				IssuedAt: testNow, Envelope: "event"},
		},
		{
			name: "configure with offset time and nulls as absent",
			body: `{"version":1,"id":"c-1","type":"configure","layers":null,"attributes":null,"issued_at":"2026-11-25T11:11:12.5+01:00"}`,
			want: &Event{Version: 1, ID: "c-1", Type: TypeConfigure,
				IssuedAt: time.Date(2026, 11, 25, 10, 11, 12, 5e8, time.UTC), Envelope: "event"},
		},
		{
			name: "setup, shutdown and update_custom_cookbooks need only id and type",
			body: "\n  {\"version\":1,\"id\":\"s-1\",\"type\":\"update_custom_cookbooks\"}\n",
			want: &Event{Version: 1, ID: "s-1", Type: TypeUpdateCustomCookbooks, IssuedAt: testNow, Envelope: "event"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(tt.body), testNow)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// refusal is an expected ErrRefused: the field named and words of the reason.
type refusal struct {
	name   string
	body   string
	field  string
	reason string
}

func checkRefusals(t *testing.T, tests []refusal) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := Parse([]byte(tt.body), testNow)
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("Parse = %+v, %v; want ErrRefused", e, err)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError", err)
			}
			if pe.Field != tt.field {
				t.Errorf("Field = %q, want %q (%v)", pe.Field, tt.field, err)
			}
			if !strings.Contains(err.Error(), tt.reason) || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %q and say %q", err, tt.field, tt.reason)
			}
		})
	}
}

func TestParseRefusesInvalidEvent(t *testing.T) {
	t.Parallel()
	checkRefusals(t, []refusal{
		{"version missing", `{"id":"a","type":"setup"}`, "version", "missing (want 1)"},
		{"version 2", `{"version":2,"id":"a","type":"setup"}`, "version", "unknown version 2 (want 1)"},
		{"version as string", `{"version":"1","id":"a","type":"setup"}`, "version", `unknown version "1"`},
		{"version fractional", `{"version":1.5,"id":"a","type":"setup"}`, "version", "unknown version 1.5"},
		{"id missing", `{"version":1,"type":"setup"}`, "id", "missing"},
		{"id empty", `{"version":1,"id":"  ","type":"setup"}`, "id", "missing (empty string)"},
		{"id a number", `{"version":1,"id":7,"type":"setup"}`, "id", "want a string, got number"},
		{"type missing", `{"version":1,"id":"a"}`, "type", "missing"},
		{"type unknown", `{"version":1,"id":"a","type":"reboot"}`, "type", `unknown type "reboot" (want setup|configure|deploy|undeploy|shutdown|execute_recipes|update_custom_cookbooks|upgrade_agent)`},
		{"command unknown", `{"version":1,"id":"a","type":"deploy","app":"wp","command":"redeploy"}`, "command", `unknown command "redeploy" (want deploy|rollback|undeploy|start|stop|restart)`},
		{"command on undeploy contradicts", `{"version":1,"id":"a","type":"undeploy","command":"start"}`, "command", `"start" contradicts type undeploy`},
		{"command on configure", `{"version":1,"id":"a","type":"configure","command":"deploy"}`, "command", "only deploy and undeploy events take a command, not configure"},
		{"execute_recipes without recipes", `{"version":1,"id":"a","type":"execute_recipes"}`, "recipes", "missing (execute_recipes needs a run list)"},
		{"execute_recipes with empty recipes", `{"version":1,"id":"a","type":"execute_recipes","recipes":[]}`, "recipes", "empty"},
		{"recipes not a list", `{"version":1,"id":"a","type":"execute_recipes","recipes":"apache2"}`, "recipes", "want a list of strings, got string"},
		{"recipes entry not a run-list item", `{"version":1,"id":"a","type":"execute_recipes","recipes":["apache2","rm -rf /"]}`, "recipes[1]", `run list entry "rm -rf /"`},
		{"recipes entry a number", `{"version":1,"id":"a","type":"execute_recipes","recipes":[3]}`, "recipes[0]", "want a non-empty string, got 3"},
		{"recipes on deploy", `{"version":1,"id":"a","type":"deploy","recipes":["x"]}`, "recipes", "only execute_recipes events take recipes, not deploy"},
		{"attributes an array", `{"version":1,"id":"a","type":"configure","attributes":[1,2]}`, "attributes", "want a JSON object, got array"},
		{"attributes a string", `{"version":1,"id":"a","type":"configure","attributes":"{}"}`, "attributes", "want a JSON object, got string"},
		{"layers a string", `{"version":1,"id":"a","type":"configure","layers":"php-app"}`, "layers", "want a list of strings, got string"},
		{"layers with a number", `{"version":1,"id":"a","type":"configure","layers":["php-app",1]}`, "layers[1]", "want a non-empty string, got 1"},
		{"instances with an object", `{"version":1,"id":"a","type":"configure","instances":[{}]}`, "instances[0]", "got object"},
		{"instances with empty string", `{"version":1,"id":"a","type":"configure","instances":[""]}`, "instances[0]", `got ""`},
		{"instances with a path", `{"version":1,"id":"a","type":"configure","instances":["i-0abc","../../etc"]}`, "instances[1]", `invalid instance id "../../etc": want an EC2 instance id`},
		{"instances with a newline", `{"version":1,"id":"a","type":"configure","instances":["i-0abc\nlevel=ERROR"]}`, "instances[0]", `invalid instance id "i-0abc\nlevel=ERROR"`},
		{"stack with a newline", `{"version":1,"id":"a","type":"configure","stack":"prod\nAlias /leak /etc"}`, "stack", `invalid stack name "prod\nAlias`},
		{"stack too long", `{"version":1,"id":"a","type":"configure","stack":"` + strings.Repeat("s", 129) + `"}`, "stack", `invalid stack name`},
		{"stack a list", `{"version":1,"id":"a","type":"configure","stack":["prod"]}`, "stack", "want a string, got array"},
		{"issued_at not RFC 3339", `{"version":1,"id":"a","type":"setup","issued_at":"25/11/2026 10:11"}`, "issued_at", "is not an RFC 3339 time"},
		{"issued_at without zone", `{"version":1,"id":"a","type":"setup","issued_at":"2026-11-25T10:11:12"}`, "issued_at", "is not an RFC 3339 time"},
		{"issued_at a number", `{"version":1,"id":"a","type":"setup","issued_at":1764065472}`, "issued_at", "want a string, got number"},
	})
}

func TestParseRefusalCarriesID(t *testing.T) {
	t.Parallel()
	_, err := Parse([]byte(`{"version":1,"id":"d-9","type":"deploy","command":"nuke"}`), testNow)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.ID != "d-9" {
		t.Fatalf("error %v: want a *ParseError with ID d-9", err)
	}
	want := `event refused (event) d-9: command: unknown command "nuke" (want deploy|rollback|undeploy|start|stop|restart)`
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, reason string
	}{
		{"empty", ``, "message body"},
		{"not JSON", `deploy wordpress please`, "invalid character"},
		{"truncated", `{"version":1,"id":"a"`, "unexpected EOF"},
		{"array", `[{"version":1}]`, "message body"},
		{"string", `"hello"`, "message body"},
		{"null", `null`, "want a JSON object"},
		{"two values", `{"version":1} {"version":1}`, "more than one JSON value"},
		{"no recognised shape", `{"hello":"world"}`, "no recognised shape"},
		{"SNS message not JSON", snsNotification(`Hello world!`), "SNS Message"},
		{"SNS message not a string", `{"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":{"version":1}}`, "want a string"},
		{"SNS message without shape", snsNotification(`{"foo":1}`), "no recognised shape"},
		{"EventBridge detail not an object", `{"version":"0","id":"x","detail-type":"stackagent event","source":"s","detail":"{}"}`, "detail"},
		{"nested too deep", snsNotification(snsNotification(snsNotification(snsNotification(snsNotification(deployEvent))))), "nested too deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := Parse([]byte(tt.body), testNow)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse = %+v, %v; want ErrMalformed", e, err)
			}
			if errors.Is(err, ErrRefused) {
				t.Errorf("error %v is both malformed and refused", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
		})
	}
}

// TestStackNameIsALabel: OpsWorks stack names were free text ("My Stack");
// a stack name is compared and shown, never a path, so spaces pass.
func TestStackNameIsALabel(t *testing.T) {
	t.Parallel()
	ev, err := Parse([]byte(`{"version":1,"id":"a","type":"configure","stack":"My Stack (prod)"}`), time.Now())
	if err != nil || ev.Stack != "My Stack (prod)" {
		t.Fatalf("%+v %v", ev, err)
	}
}
