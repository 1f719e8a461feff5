package lifecycle

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRefusesBadNames(t *testing.T) {
	t.Parallel()
	checkRefusals(t, []refusal{
		{"app dot-dot path", `{"version":1,"id":"a","type":"undeploy","app":"../../.."}`, "app", `invalid app name "../../.."`},
		{"app with slash", `{"version":1,"id":"a","type":"deploy","app":"wp/x"}`, "app", "invalid app name"},
		{"app with newline", `{"version":1,"id":"a","type":"deploy","app":"wp\nx"}`, "app", "invalid app name"},
		{"layer dot-dot", `{"version":1,"id":"a","type":"configure","layers":["php-app",".."]}`, "layers[1]", `invalid layer name ".."`},
		{"deploy key path", `{"version":1,"id":"a","type":"deploy","attributes":{"deploy":{"wp":{},"../x":{}}}}`, `attributes.deploy["../x"]`, "invalid app name"},
		{"deploy not an object", `{"version":1,"id":"a","type":"deploy","attributes":{"deploy":[1]}}`, `attributes.deploy`, "want an object of apps, got array"},
		{"rollback_to a path", `{"version":1,"id":"a","type":"deploy","app":"wp","command":"rollback","rollback_to":"../../etc"}`, "rollback_to", "invalid release"},
		{"role dot-dot", `{"version":1,"id":"a","type":"execute_recipes","recipes":["role[../../x]"]}`, "recipes[0]", "invalid role name"},
		{"recipe dot-dot", `{"version":1,"id":"a","type":"execute_recipes","recipes":["..::x"]}`, "recipes[0]", "run list entry"},
	})
}

func TestParseRefusesOverLimits(t *testing.T) {
	t.Parallel()
	deep := `{"version":1,"id":"a","type":"configure","attributes":{"x":` +
		strings.Repeat("[", 9990) + strings.Repeat("]", 9990) + `}}`
	big := `{"version":1,"id":"a","type":"configure","attributes":{"x":"` +
		strings.Repeat("y", MaxMessageBytes) + `"}}`
	brackets := `{"version":1,"id":"a","type":"configure","attributes":{"x":"` +
		strings.Repeat("[", 100) + `\"` + `"}}`
	checkRefusals(t, []refusal{
		{"number overflows float64", `{"version":1,"id":"a","type":"configure","attributes":{"n":[1,1e400]}}`, "attributes.n[1]", "number out of range"},
		{"negative overflow", `{"version":1,"id":"a","type":"configure","attributes":{"a b":-1e999}}`, `attributes["a b"]`, "number out of range"},
		{"nested 9990 deep", deep, "", "JSON nested more than 64 levels deep"},
		{"over 256 KiB", big, "", "more than 262144 bytes"},
		{"SNS payload too deep", snsNotification(deep), "Message", "nested more than 64"},
	})
	if _, err := Parse([]byte(brackets), testNow); err != nil {
		t.Errorf("brackets inside a string count as nesting: %v", err)
	}
}

func TestParseRefusesBadHookMetadata(t *testing.T) {
	t.Parallel()
	meta := `{\"layers\":[\"../x\"]}`
	body := `{"LifecycleTransition":"autoscaling:EC2_INSTANCE_LAUNCHING","LifecycleHookName":"h",` +
		`"AutoScalingGroupName":"g","LifecycleActionToken":"t","EC2InstanceId":"i-1","NotificationMetadata":"` + meta + `"}`
	_, err := Parse([]byte(body), testNow)
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, ErrRefused) || pe.Field != "NotificationMetadata.layers[0]" {
		t.Fatalf("Parse = %v; want refused at NotificationMetadata.layers[0]", err)
	}
}

func TestCheckAttributeNames(t *testing.T) {
	t.Parallel()
	err := CheckAttributeNames("/etc/stackagent/attributes.d/10.json", map[string]any{"deploy": map[string]any{"..": map[string]any{}}})
	if err == nil || !strings.Contains(err.Error(), `/etc/stackagent/attributes.d/10.json: deploy[".."]: invalid app name`) {
		t.Fatalf("error %v", err)
	}
	if err := CheckAttributeNames("f", map[string]any{"deploy": map[string]any{"wordpress": 1}}); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkParseRefusesDeep: the audit's 234 KiB message nested 9,990
// deep is refused by the depth scan before any decoding.
func BenchmarkParseRefusesDeep(b *testing.B) {
	body := []byte(`{"version":1,"id":"a","type":"configure","attributes":{"x":` +
		strings.Repeat("[", 9990) + strings.Repeat("]", 9990) + `}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(body, testNow); !errors.Is(err, ErrRefused) {
			b.Fatal(err)
		}
	}
}
