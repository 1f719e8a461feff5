package resources

import (
	"os"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes"
)

// TestResourcesDoc keeps docs/resources.md equal to what the code
// declares; UPDATE_DOCS=1 rewrites it.
func TestResourcesDoc(t *testing.T) {
	reg := recipes.NewRegistry()
	Register(reg)
	want := Markdown(reg)
	const path = "../../docs/resources.md"
	if os.Getenv("UPDATE_DOCS") == "1" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("docs/resources.md is out of date: run UPDATE_DOCS=1 go test ./recipes/resources -run TestResourcesDoc")
	}
	for _, k := range reg.Names() {
		kind, _ := reg.Lookup(k)
		if kind.Doc == "" {
			t.Errorf("kind %s has no Doc", k)
		}
	}
}

// TestChefTableNamesEveryKind: each registered kind has its row in the
// table of Chef's core resources.
func TestChefTableNamesEveryKind(t *testing.T) {
	reg := recipes.NewRegistry()
	Register(reg)
	table := chefCoreMarkdown()
	for _, k := range reg.Names() {
		if !strings.Contains(table, "`"+k) && !strings.Contains(table, ", "+k) && !strings.Contains(table, " "+k+" ") {
			t.Errorf("kind %s has no row in chefCore (doc_chef.go)", k)
		}
	}
}
