package packaging

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestCloudInitUserData: the example is #cloud-config YAML whose
// agent.yaml sets only keys the packaged agent.yaml documents, and sets
// the queue, stack and layers.
func TestCloudInitUserData(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("cloud-init/user-data.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "#cloud-config\n") {
		t.Fatal("user data must start with #cloud-config")
	}
	var ud struct {
		WriteFiles []struct {
			Path, Owner, Permissions, Content string
		} `yaml:"write_files"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&ud); err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile("agent.yaml")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# ([a-z_]+):`).FindAllStringSubmatch(string(sample), -1) {
		documented[m[1]] = true
	}
	found := false
	for _, f := range ud.WriteFiles {
		if f.Path != "/etc/stackagent/agent.yaml" {
			continue
		}
		found = true
		var cfg map[string]any
		if err := yaml.Unmarshal([]byte(f.Content), &cfg); err != nil {
			t.Fatalf("agent.yaml in user data: %v", err)
		}
		for k := range cfg {
			if !documented[k] {
				t.Errorf("agent.yaml in user data sets %s, which packaging/agent.yaml does not document", k)
			}
		}
		for _, k := range []string{"queue_url", "stack", "layers"} {
			if cfg[k] == nil {
				t.Errorf("agent.yaml in user data does not set %s", k)
			}
		}
		if f.Permissions != "0640" || f.Owner != "root:root" {
			t.Errorf("agent.yaml written %s %s, want root:root 0640 as packaged", f.Owner, f.Permissions)
		}
	}
	if !found {
		t.Fatal("the user data does not write /etc/stackagent/agent.yaml")
	}
}
