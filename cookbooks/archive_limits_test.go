package cookbooks_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/internal/archive/archivetest"
)

// TestDeployArchiveLimitsFromStackJSON: deploy.<app>.scm.max_archive_size
// and max_archive_entries reach the deploy resource: an archive over the
// app's entry limit is refused, and the same archive deploys once the
// stack JSON raises it.
func TestDeployArchiveLimitsFromStackJSON(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	many, err := archivetest.TarGz(archivetest.Entry{Name: "index.php", Body: "1"}, archivetest.Entry{Name: "b.php", Body: "2"},
		archivetest.Entry{Name: "c.php", Body: "3"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "wp.tar.gz"), many, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"etc/apache2/sites-available", "etc/apache2/sites-enabled"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	stack := stackJSON(t)
	delete(stack["deploy"].(map[string]any), "api")
	stack["efs"] = map[string]any{"device_override": "/srv/fake-efs", "fstype_override": "none", "options_override": []any{"bind"}}
	scm := map[string]any{"scm_type": "archive", "repository": "/wp.tar.gz", "max_archive_entries": 2}
	stack["deploy"].(map[string]any)["wordpress"].(map[string]any)["scm"] = scm
	out, err := refused(t, root, platformNode(t, "debian", "debian", "12", stack, hostIdentity(t), initScripts(t)), &fakeRunner{}, "wordpress::deploy")
	if err == nil || !strings.Contains(out+err.Error(), "more than 2 entries") {
		t.Fatalf("deploy over the app's entry limit: %v\n%s", err, out)
	}
	scm["max_archive_entries"] = "3"
	converge(t, root, platformNode(t, "debian", "debian", "12", stack, hostIdentity(t), initScripts(t)), &fakeRunner{}, "wordpress::deploy")
	if b, err := os.ReadFile(filepath.Join(root, "srv/www/wordpress/current/c.php")); err != nil || string(b) != "3" {
		t.Fatalf("c.php: %q %v", b, err)
	}
}
