package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLeavesDoNotImportEngine keeps the rule of the house: the lifecycle,
// the watchdog and the secrets resolver do not depend on the Lua engine.
func TestLeavesDoNotImportEngine(t *testing.T) {
	t.Parallel()
	const engine = "github.com/stackagent/stackagent/recipes"
	for _, pkg := range []string{"lifecycle", "internal/heal", "internal/secrets"} {
		out, err := exec.Command("go", "list", "-deps", "github.com/stackagent/stackagent/"+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == engine || strings.HasPrefix(dep, engine+"/") {
				t.Errorf("%s imports %s", pkg, dep)
			}
		}
	}
}

// TestAWSOptionsCarryEveryRegionSource: the daemon, deploy, heal and the
// custom-cookbook fetcher build their AWS config from one set of sources,
// the instance's region (IMDS) included.
func TestAWSOptionsCarryEveryRegionSource(t *testing.T) {
	t.Parallel()
	cfg := &Config{Region: "eu-west-3", Endpoint: "http://127.0.0.1:4566", QueueURL: "https://sqs.us-east-2.amazonaws.com/1/q"}
	o := cfg.awsOptions(map[string]any{"ec2": map[string]any{"region": "ap-south-1"}})
	if o.Region != "eu-west-3" || o.Endpoint != cfg.Endpoint || len(o.URLs) != 1 || o.URLs[0] != cfg.QueueURL || o.Instance != "ap-south-1" {
		t.Fatalf("awsOptions = %+v", o)
	}
	if o := (&Config{}).awsOptions(nil); o.Instance != "" {
		t.Fatalf("off EC2: instance region %q", o.Instance)
	}
}
